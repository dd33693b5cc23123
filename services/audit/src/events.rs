//! What audit consumes and publishes: the sign-in log (enriched, risk-assessed) from
//! `myaccount.signin.v1.recorded`, organization retention from `organizations.v1.changed`,
//! the account activity log from every account event, and erasure from
//! `identity.v1.user_deleted`; it publishes
//! `signin.v1.risk_detected`, `signin.v1.flagged` and notifications through its outbox.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use myaccount_proto::events::v1::{
    NotificationChannel, NotificationRequested, OrganizationChanged, SignInFailureReason, SignInFlagged,
    SignInRecorded, SignInRiskDetected, SignInStatus,
};
use platform::consumer::{BatchHandler, BatchOutcome, Delivery, Handler, HandlerError, RawDelivery, RawHandler};
use platform::outbox::{OutgoingEvent, publish_all_in_tx, publish_in_tx};
use platform::user_agent::ClientDescription;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{
    Activity, AuthenticationStep, BatchAssessor, FailureReason, Location, ReviewState, Risk, SignIn, Status,
};
use crate::enrich::client_app;
use crate::store::{self, Existing};
use platform::geoip::GeoLocator;

use myaccount_proto::timestamp;

/// Ingests sign-ins: enrich, assess risk, store, and raise the alarm when risky. A batch takes
/// a handful of statements whatever its size; one message is a batch of one, so the fallback
/// path (one message at a time) and the batch path are the same code.
pub struct SignInRecordedHandler {
    pub geo: Option<Arc<GeoLocator>>,
}

impl Handler<SignInRecorded> for SignInRecordedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInRecorded>) -> Result<(), HandlerError> {
        let outcome = self
            .ingest(conn, std::slice::from_ref(delivery), Existing::Skip)
            .await?;
        match outcome.rejected().first() {
            Some((_, reason)) => Err(HandlerError::Rejected(reason.clone())),
            None => Ok(()),
        }
    }
}

impl BatchHandler<SignInRecorded> for SignInRecordedHandler {
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        deliveries: &[Delivery<SignInRecorded>],
    ) -> Result<BatchOutcome, HandlerError> {
        // The consumer has skipped events already applied; a sign-in sent again under a new
        // event id fails the batch, which is then applied message by message (Existing::Skip).
        self.ingest(conn, deliveries, Existing::Fail).await
    }
}

impl SignInRecordedHandler {
    /// Stores `deliveries` in order, each assessed as if those before it were already stored.
    async fn ingest(
        &self,
        conn: &mut PgConnection,
        deliveries: &[Delivery<SignInRecorded>],
        existing: Existing,
    ) -> Result<BatchOutcome, HandlerError> {
        let mut outcome = BatchOutcome::new();
        let mut sign_ins = Vec::with_capacity(deliveries.len());
        let mut keys = HashSet::with_capacity(deliveries.len());
        for (i, delivery) in deliveries.iter().enumerate() {
            let mut sign_in = match sign_in_from_event(&delivery.event) {
                Ok(s) => s,
                Err(reason) => {
                    outcome.reject(i, reason);
                    continue;
                }
            };
            // The same sign-in twice in one batch (under two event ids) is stored once.
            if !keys.insert((sign_in.occurred_at, sign_in.id)) {
                continue;
            }
            // The GeoIP database when it knows the address, else what the gateway's trusted
            // proxy reported, else unknown.
            let located = self
                .geo
                .as_ref()
                .and_then(|geo| geo.locate(&sign_in.ip_address))
                .map(Location::from);
            if let Some(location) = located.or_else(|| reported_location(&delivery.event)) {
                sign_in.location = location;
            }
            sign_ins.push(sign_in);
        }
        if sign_ins.is_empty() {
            return Ok(outcome);
        }

        let users: Vec<Uuid> = sign_ins.iter().filter_map(|s| s.user_id).collect();
        let erased = platform::erasure::erased_among(conn, &users).await?;
        let mut assessed = Vec::with_capacity(sign_ins.len());
        for sign_in in &mut sign_ins {
            let of_erased = sign_in.user_id.is_some_and(|u| erased.contains(&u));
            if of_erased {
                // A sign-in of an account erased since (delivered late): kept pseudonymised, as
                // erasure kept the user's other sign-ins, so the organization's security log
                // does not depend on delivery timing. Its pseudonym is fresh: the erased user's
                // is not kept. No risk rules, traits or alerts: there is no one left to protect.
                sign_in.pseudonymise(Uuid::new_v4());
                tracing::info!("sign-in of an erased account stored pseudonymised");
            }
            assessed.push(sign_in.user_id.is_some() && !of_erased);
        }

        let batch: Vec<&SignIn> = sign_ins.iter().collect();
        let store::BatchFacts { facts, known_traits } = store::risk_facts(conn, &batch, &assessed).await?;
        let mut assessor = BatchAssessor::default();
        for (sign_in, facts) in sign_ins.iter_mut().zip(facts) {
            if let Some(facts) = facts {
                sign_in.risk = assessor.assess(sign_in, facts);
                assessor.learn(sign_in);
            }
        }

        let batch: Vec<&SignIn> = sign_ins.iter().collect();
        let inserted = store::insert_sign_ins(conn, &batch, existing).await?;
        // A sign-in stored by an earlier delivery already taught its traits and raised its alarm.
        let fresh: Vec<(&SignIn, bool)> = sign_ins
            .iter()
            .zip(assessed)
            .filter(|(s, _)| inserted.contains(&(s.occurred_at, s.id)))
            .collect();
        let successes: Vec<&SignIn> = fresh
            .iter()
            .filter(|(s, assessed)| *assessed && s.status == Status::Success)
            .map(|(s, _)| *s)
            .collect();
        store::remember_traits(conn, &successes, &known_traits).await?;
        let alarms: Vec<OutgoingEvent> = fresh
            .iter()
            .filter(|(s, _)| s.risk.is_risky())
            .flat_map(|(s, _)| risk_events(s))
            .collect();
        publish_all_in_tx(conn, &alarms).await?;
        Ok(outcome)
    }
}

/// The location a proxy trusted by the gateway reported, checked again: it crossed two services.
fn reported_location(e: &SignInRecorded) -> Option<Location> {
    let reported = e.reported_location.as_ref()?;
    let coordinates = reported
        .latitude
        .zip(reported.longitude)
        .filter(|(lat, lon)| lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0);
    let country = reported.country.to_ascii_uppercase();
    let location = Location {
        city: truncate(&reported.city, 128),
        region: truncate(&reported.region, 128),
        country: if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) {
            country
        } else {
            String::new()
        },
        latitude: coordinates.map(|(lat, _)| lat),
        longitude: coordinates.map(|(_, lon)| lon),
    };
    let known = !(location.city.is_empty() && location.region.is_empty() && location.country.is_empty())
        || location.latitude.is_some();
    known.then_some(location)
}

/// `signin.v1.risk_detected`, and the notification that tells the person at once.
fn risk_events(s: &SignIn) -> [OutgoingEvent; 2] {
    let user_id = s.user_id.map(|u| u.to_string()).unwrap_or_default();
    let reasons: Vec<String> = s.risk.reasons.iter().map(|r| r.code().to_owned()).collect();
    let detected = SignInRiskDetected {
        sign_in_id: s.id.to_string(),
        user_id: user_id.clone(),
        time: Some(timestamp(Utc::now())),
        risk_level: s.risk.level().as_str().into(),
        risk_reasons: reasons.clone(),
        ip_address: s.ip_address.clone(),
        country: s.location.country.clone(),
    };
    // The user principal name is the person's sign-in address.
    let place = [s.location.city.as_str(), s.location.country.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let notification = NotificationRequested {
        notification_id: Uuid::now_v7().to_string(),
        user_id,
        recipient: s.user_principal_name.clone(),
        channel: NotificationChannel::Email.into(),
        template: "unusual_sign_in".into(),
        parameters: [
            ("sign_in_id".to_owned(), s.id.to_string()),
            ("time".to_owned(), s.occurred_at.to_rfc3339()),
            ("ip_address".to_owned(), s.ip_address.clone()),
            (
                "location".to_owned(),
                if place.is_empty() { "unknown".into() } else { place },
            ),
            ("reasons".to_owned(), reasons.join(",")),
        ]
        .into_iter()
        .collect(),
        secret_parameters: vec![],
        time: Some(timestamp(Utc::now())),
    };
    [
        OutgoingEvent::new(Uuid::now_v7(), &detected),
        OutgoingEvent::new(Uuid::now_v7(), &notification),
    ]
}

/// The person said "this wasn't me": identity ends every session of theirs.
pub async fn publish_flagged(
    conn: &mut PgConnection,
    s: &SignIn,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let flagged = SignInFlagged {
        sign_in_id: s.id.to_string(),
        user_id: user_id.to_string(),
        time: Some(timestamp(now)),
        sign_in_time: Some(timestamp(s.occurred_at)),
        session_id: s.session_id.clone(),
        ip_address: s.ip_address.clone(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &flagged)).await
}

/// Checks and converts the event; an event that breaks the contract is rejected (dead-lettered).
pub fn sign_in_from_event(e: &SignInRecorded) -> Result<SignIn, String> {
    let id = Uuid::parse_str(&e.sign_in_id).map_err(|_| format!("sign_in_id {:?} is not a UUID", e.sign_in_id))?;
    let time = e.time.as_ref().ok_or("time is missing")?;
    // Microseconds, as Postgres keeps it: the stored row and the one in hand have the same key.
    let occurred_at = myaccount_proto::datetime(time)
        .ok_or("time is out of range")?
        .trunc_subsecs(6);
    let user_id = match e.user_id.as_str() {
        "" => None,
        raw => Some(Uuid::parse_str(raw).map_err(|_| format!("user_id {raw:?} is not a UUID"))?),
    };
    let status = match SignInStatus::try_from(e.status) {
        Ok(SignInStatus::Success) => Status::Success,
        Ok(SignInStatus::Failure) => Status::Failure,
        _ => return Err(format!("unknown status {}", e.status)),
    };
    let failure_reason = match SignInFailureReason::try_from(e.failure_reason) {
        Ok(SignInFailureReason::Unspecified) => None,
        Ok(reason) => Some(reason),
        Err(_) => return Err(format!("unknown failure reason {}", e.failure_reason)),
    };
    let user_agent = truncate(&e.user_agent, 1024);
    let ClientDescription {
        browser,
        operating_system,
        ..
    } = ClientDescription::from_user_agent(&user_agent);
    let authentication_methods: Vec<String> = e
        .authentication_methods
        .iter()
        .take(16)
        .map(|m| truncate(m, 32))
        .collect();
    let client_app = client_app(&authentication_methods, &e.method, &browser);
    let steps = authentication_steps(&authentication_methods, &e.method, status, failure_reason);
    Ok(SignIn {
        id,
        occurred_at,
        user_id,
        user_principal_name: truncate(&e.user_principal_name, 256),
        organization_id: truncate(&e.organization_id, 64),
        app_id: truncate(&e.app_id, 128),
        interactive: client_app != crate::domain::ClientApp::AppPassword,
        client_app,
        ip_address: truncate(&e.ip_address, 64),
        location: Location::default(),
        user_agent,
        browser,
        operating_system,
        device_id: truncate(&e.device_id, 128),
        status,
        failure_reason,
        authentication_methods,
        authentication_steps: steps,
        session_id: truncate(&e.session_id, 64),
        correlation_id: truncate(&e.correlation_id, 128),
        risk: Risk::default(),
        review_state: ReviewState::Unreviewed,
        reviewed_at: None,
    })
}

/// The steps of the attempt: each method that succeeded, then the one that failed, if any.
fn authentication_steps(
    succeeded: &[String],
    method: &str,
    status: Status,
    failure: Option<FailureReason>,
) -> Vec<AuthenticationStep> {
    let mut steps: Vec<AuthenticationStep> = succeeded
        .iter()
        .filter(|m| m.as_str() != "mfa")
        .map(|m| AuthenticationStep {
            method: m.clone(),
            succeeded: true,
            detail: String::new(),
        })
        .collect();
    if status == Status::Failure {
        let failed_method = match failure {
            Some(FailureReason::UnknownUser | FailureReason::InvalidPassword) => "pwd".to_owned(),
            _ if !method.is_empty() => method.to_owned(),
            _ => String::new(),
        };
        if !failed_method.is_empty() {
            steps.push(AuthenticationStep {
                method: failed_method,
                succeeded: false,
                detail: failure.map(|f| f.code().to_owned()).unwrap_or_default(),
            });
        }
    }
    steps
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Keeps each organization's sign-in retention.
pub struct OrganizationChangedHandler;

impl Handler<OrganizationChanged> for OrganizationChangedHandler {
    async fn handle(&self, conn: &mut PgConnection, d: &Delivery<OrganizationChanged>) -> Result<(), HandlerError> {
        let days = d.event.sign_in_retention_days;
        if d.event.organization_id.is_empty() || days <= 0 {
            return Err(HandlerError::Rejected(
                "organization id and a positive retention are required".into(),
            ));
        }
        let changed_at = myaccount_proto::optional_datetime(d.event.time.as_ref())
            .or(d.time)
            .unwrap_or_else(Utc::now);
        store::set_retention(conn, &d.event.organization_id, days, changed_at).await?;
        Ok(())
    }
}

/// The account activity log: every event about a person in the account streams, with a
/// readable summary. Unknown event types are still recorded, under their own name.
pub struct ActivityRecorder;

impl RawHandler for ActivityRecorder {
    async fn handle(&self, conn: &mut PgConnection, d: &RawDelivery) -> Result<(), HandlerError> {
        let Some(activity) = activity_of(d)? else {
            return Ok(());
        };
        if platform::erasure::is_erased(conn, activity.user_id).await? {
            return Ok(());
        }
        store::insert_activity(conn, &activity).await?;
        Ok(())
    }
}

/// Subjects that are not account activity. `user_deleted` ends the account: there is no one
/// left to show it to, and recording it would name the erased user again.
const NOT_ACTIVITY: [&str; 4] = [
    "myaccount.signin.v1.recorded",
    "myaccount.signin.v1.risk_detected",
    "myaccount.notifications.v1.requested",
    "myaccount.identity.v1.user_deleted",
];

fn activity_of(d: &RawDelivery) -> Result<Option<Activity>, HandlerError> {
    if NOT_ACTIVITY.contains(&d.ce_type.as_str()) {
        return Ok(None);
    }
    let Some(user_id) = d.ce_subject.as_deref().and_then(|s| Uuid::parse_str(s).ok()) else {
        return Ok(None);
    };
    // myaccount.<domain>.v1.<event>
    let mut parts = d.ce_type.split('.');
    let (Some("myaccount"), Some(domain), Some(_), Some(event)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HandlerError::Rejected(format!(
            "ce-type {:?} is not a MyAccount event",
            d.ce_type
        )));
    };
    let category = match (domain, event) {
        ("identity", "profile_updated") => "profile",
        ("identity", e) if e.contains("password") => "password",
        ("identity", e) if e.contains("session") => "sessions",
        ("identity", "data_exported" | "export_requested") => "privacy",
        ("identity", _) => "account",
        ("securityinfo", _) => "security_info",
        ("devices", _) => "devices",
        ("organizations", _) => "organizations",
        ("signin", _) => "sign_in",
        _ => "account",
    };
    let mut details = BTreeMap::new();
    let mut summary = humanize(event);
    if let Some(update) = d.decode::<myaccount_proto::events::v1::ProfileUpdated>() {
        let update = update?;
        // In words, not field names: "Profile updated: first name, time zone". (The gateway
        // and the portal write it in the person's language from `changed_fields`; this is the
        // English, and the words of any language they do not have.)
        let fields: Vec<String> = update
            .changed_fields
            .iter()
            .map(|f| profile_field_in_words(f))
            .collect();
        summary = format!("Profile updated: {}", fields.join(", "));
        details.insert("changed_fields".into(), update.changed_fields.join(","));
    } else if let Some(changed) = d.decode::<myaccount_proto::events::v1::PasswordChanged>() {
        let changed = changed?;
        if changed.reset {
            let proven = changed.methods_proven.join(", ");
            summary = format!(
                "Password reset with \"Forgot my password?\" ({}); every session was signed out",
                proven.replace('_', " ")
            );
            details.insert("reset".into(), "true".into());
            details.insert("methods_proven".into(), changed.methods_proven.join(","));
        }
    } else if let Some(accepted) = d.decode::<myaccount_proto::events::v1::TermsAccepted>() {
        let accepted = accepted?;
        // The organization's name as it was when the terms were accepted: audit keeps no
        // organization names of its own.
        summary = format!(
            "Accepted the terms of use of {} (version {})",
            accepted.organization_display_name, accepted.version
        );
        details.insert("organization_id".into(), accepted.organization_id);
        details.insert("organization_name".into(), accepted.organization_display_name);
        details.insert("version".into(), accepted.version);
    } else if let Some(flagged) = d.decode::<SignInFlagged>() {
        let flagged = flagged?;
        summary = "Reported a sign-in as not me; every session was signed out".into();
        details.insert("sign_in_id".into(), flagged.sign_in_id);
        details.insert("ip_address".into(), flagged.ip_address);
    }
    let id = Uuid::parse_str(&d.id).unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_OID, d.id.as_bytes()));
    Ok(Some(Activity {
        id,
        occurred_at: d.time.unwrap_or_else(Utc::now),
        user_id,
        category: category.into(),
        activity: event.into(),
        summary,
        details,
        organization_id: String::new(),
    }))
}

/// A profile field as the profile page names it (`given_name` -> "first name"); a field this
/// list does not know yet in its own words, underscores as spaces.
fn profile_field_in_words(field: &str) -> String {
    let words = match field {
        "display_name" => "name",
        "given_name" => "first name",
        "surname" => "last name",
        "user_principal_name" => "user name",
        "mail" => "email",
        "job_title" => "job title",
        "department" => "department",
        "office_location" => "office",
        "mobile_phone" => "mobile phone",
        "business_phone" => "business phone",
        "preferred_language" => "display language",
        "regional_format" => "regional format",
        "time_zone" => "time zone",
        other => return other.replace('_', " "),
    };
    words.to_owned()
}

/// `recovery_key_viewed` -> "Recovery key viewed".
fn humanize(event: &str) -> String {
    let words = event.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_read_as_sentences() {
        assert_eq!(humanize("recovery_key_viewed"), "Recovery key viewed");
    }

    #[test]
    fn profile_fields_read_as_the_profile_page_names_them() {
        let words: Vec<String> = [
            "display_name",
            "given_name",
            "surname",
            "preferred_language",
            "time_zone",
            "pronouns_of_choice",
        ]
        .into_iter()
        .map(profile_field_in_words)
        .collect();
        assert_eq!(
            words,
            [
                "name",
                "first name",
                "last name",
                "display language",
                "time zone",
                "pronouns of choice"
            ]
        );
    }

    #[test]
    fn failed_second_factor_is_a_failed_step_after_the_password() {
        let steps = authentication_steps(
            &["pwd".into()],
            "otp",
            Status::Failure,
            Some(FailureReason::SecondFactorFailed),
        );
        assert_eq!(steps.len(), 2);
        assert!(steps[0].succeeded && steps[0].method == "pwd");
        assert!(!steps[1].succeeded && steps[1].method == "otp");
    }
}
