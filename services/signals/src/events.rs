//! What signals consumes and what each event becomes: identity's `session_revoked` (every end of
//! a session) is CAEP session-revoked; security-info's `method_added` / `method_removed` and
//! identity's `password_changed` are CAEP credential-change, and also RISC
//! recovery-information-changed (an email address or phone, the ways to recover an account) and
//! recovery-activated (a password reset); identity's `user_deleted` is RISC account-purged and
//! audit's `signin.v1.flagged` ("this wasn't me") RISC credential-compromise; identity's
//! `identifiers_changed` is RISC identifier-changed. Each cause's SETs are queued in the
//! consumer's transaction, so a cause is turned into SETs exactly once and none is lost.

use std::sync::Arc;

use chrono::Utc;
use myaccount_proto::events::v1::{
    PasswordChanged, SecurityMethodAdded, SecurityMethodRemoved, SessionRevoked, SignInFlagged, UserDeleted,
    UserDisabled, UserEnabled, UserIdentifiersChanged,
};
use myaccount_proto::{optional_datetime, parse_id};
use platform::consumer::{Delivery, Handler, HandlerError};
use platform::revocation_reason::RevocationReason;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{EventType, InitiatingEntity, SecurityEvent, Subject, in_english};
use crate::service::{SignalsError, Transmitter};

async fn emit(transmitter: &Transmitter, conn: &mut PgConnection, event: SecurityEvent) -> Result<(), HandlerError> {
    match transmitter.emit(conn, &event).await {
        Ok(queued) => {
            if queued > 0 {
                metrics::counter!("signals_sets_queued_total", "event_type" => event.event_type.uri())
                    .increment(queued as u64);
            }
            Ok(())
        }
        Err(SignalsError::Database(e)) => Err(e.into()),
        Err(e) => Err(HandlerError::Transient(e.to_string())),
    }
}

/// The `txn` of an event that names the act it is part of; an event from before that (or from
/// an act of one event) is its own act.
fn act(cause_id: &str, source: &str) -> String {
    match cause_id.trim() {
        "" => source.to_owned(),
        cause_id => cause_id.to_owned(),
    }
}

fn optional_id(field: &str, raw: &str) -> Result<Option<Uuid>, HandlerError> {
    match raw.trim() {
        "" => Ok(None),
        raw => Ok(Some(parse_id(field, raw)?)),
    }
}

/// CAEP session-revoked for every end of a session.
pub struct SessionRevokedHandler(pub Arc<Transmitter>);

impl Handler<SessionRevoked> for SessionRevokedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SessionRevoked>) -> Result<(), HandlerError> {
        let event = session_revoked(&delivery.id, &delivery.event)?;
        emit(&self.0, conn, event).await
    }
}

/// The security event of an ended session.
pub fn session_revoked(event_id: &str, e: &SessionRevoked) -> Result<SecurityEvent, HandlerError> {
    let user_id = parse_id("user_id", &e.user_id)?;
    let session_id = optional_id("session_id", &e.session_id)?;
    let (entity, why) = revocation_story(RevocationReason::from_code(&e.reason));
    Ok(SecurityEvent {
        event_type: EventType::SessionRevoked,
        subject: Subject {
            session_id,
            ..Subject::user(user_id)
        },
        source: event_id.to_owned(),
        txn: act(&e.cause_id, event_id),
        occurred_at: optional_datetime(e.time.as_ref()).unwrap_or_else(Utc::now),
        initiating_entity: Some(entity),
        reason_admin: in_english(&format!("{why} ({})", e.reason)),
        reason_user: in_english(why),
        claims: Map::new(),
    })
}

/// Who ended a session and why, in words a person understands.
fn revocation_story(reason: Option<RevocationReason>) -> (InitiatingEntity, &'static str) {
    match reason {
        Some(RevocationReason::SignedOut) => (InitiatingEntity::User, "You signed out"),
        Some(RevocationReason::RevokedByUser) => (InitiatingEntity::User, "You ended this session"),
        Some(RevocationReason::OtherSessionsRevoked) => {
            (InitiatingEntity::User, "You signed out of your other sessions")
        }
        Some(RevocationReason::SignedOutEverywhere) => (InitiatingEntity::User, "You signed out everywhere"),
        Some(RevocationReason::PasswordChanged) => (InitiatingEntity::User, "Your password was changed"),
        Some(RevocationReason::PasswordReset) => (
            InitiatingEntity::User,
            "Your password was reset with \"Forgot my password?\"",
        ),
        Some(RevocationReason::DeviceDisabled) => (InitiatingEntity::Policy, "The device was disabled"),
        Some(RevocationReason::ReportedNotMe) => (InitiatingEntity::Policy, "You reported a sign-in that was not you"),
        Some(RevocationReason::RefreshTokenReuse) => (
            InitiatingEntity::Policy,
            "A copy of this session's refresh token was used",
        ),
        Some(RevocationReason::LeftOrganization) => (InitiatingEntity::User, "You left the organization"),
        Some(RevocationReason::RemovedFromOrganization) => (
            InitiatingEntity::Admin,
            "An administrator removed you from the organization",
        ),
        Some(RevocationReason::AccountDeleted) => (InitiatingEntity::User, "The account was deleted"),
        Some(RevocationReason::AccountDisabled) => (InitiatingEntity::Admin, "The account was disabled"),
        None => (InitiatingEntity::System, "The session was ended"),
    }
}

/// CAEP credential-change `create` for a new sign-in method.
pub struct MethodAddedHandler(pub Arc<Transmitter>);

impl Handler<SecurityMethodAdded> for MethodAddedHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<SecurityMethodAdded>,
    ) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let event = method_changed(
            &delivery.id,
            &e.user_id,
            &e.session_id,
            &e.method_type,
            &e.label,
            e.fido2_aaguid.as_deref(),
            "create",
            e.time.as_ref(),
        )?;
        emit_method_change(&self.0, conn, event, &e.method_type).await
    }
}

/// CAEP credential-change `delete` for a removed sign-in method.
pub struct MethodRemovedHandler(pub Arc<Transmitter>);

impl Handler<SecurityMethodRemoved> for MethodRemovedHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<SecurityMethodRemoved>,
    ) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let event = method_changed(
            &delivery.id,
            &e.user_id,
            &e.session_id,
            &e.method_type,
            &e.label,
            e.fido2_aaguid.as_deref(),
            "delete",
            e.time.as_ref(),
        )?;
        emit_method_change(&self.0, conn, event, &e.method_type).await
    }
}

/// The credential-change, and the recovery-information-changed that goes with it when the method
/// can recover the account.
async fn emit_method_change(
    transmitter: &Transmitter,
    conn: &mut PgConnection,
    event: SecurityEvent,
    method_type: &str,
) -> Result<(), HandlerError> {
    let recovery = recovery_information_changed(&event, method_type);
    emit(transmitter, conn, event).await?;
    match recovery {
        Some(recovery) => emit(transmitter, conn, recovery).await,
        None => Ok(()),
    }
}

/// RISC recovery-information-changed when the changed method can recover the account: a
/// password reset proves an email address or a phone.
pub fn recovery_information_changed(credential_change: &SecurityEvent, method_type: &str) -> Option<SecurityEvent> {
    if !matches!(method_type, "email" | "phone") {
        return None;
    }
    Some(SecurityEvent {
        event_type: EventType::RecoveryInformationChanged,
        reason_admin: in_english(&format!("A way to recover the account changed ({method_type})")),
        reason_user: in_english("A way to recover your account changed"),
        claims: Map::new(),
        ..credential_change.clone()
    })
}

/// CAEP `credential_type` of a security-info method type. CAEP lets transmitter and receiver
/// agree on values beyond its list; email codes, recovery codes and app passwords have none
/// there, so they get MyAccount's own (documented in docs/SHARED-SIGNALS.md).
pub fn credential_type(method_type: &str) -> &'static str {
    match method_type {
        "authenticator_app" => "app",
        "phone" => "phone-sms",
        "security_key" => "fido2-roaming",
        "email" => "email",
        "app_password" => "app-password",
        "recovery_codes" => "recovery-codes",
        _ => "unknown",
    }
}

#[allow(clippy::too_many_arguments)]
fn method_changed(
    cause_id: &str,
    user_id: &str,
    session_id: &str,
    method_type: &str,
    label: &str,
    fido2_aaguid: Option<&str>,
    change_type: &str,
    time: Option<&prost_types::Timestamp>,
) -> Result<SecurityEvent, HandlerError> {
    let user_id = parse_id("user_id", user_id)?;
    let session_id = optional_id("session_id", session_id)?;
    let mut claims = Map::new();
    claims.insert("credential_type".into(), json!(credential_type(method_type)));
    claims.insert("change_type".into(), json!(change_type));
    if !label.trim().is_empty() {
        claims.insert("friendly_name".into(), Value::String(label.trim().to_owned()));
    }
    // CAEP's claim for FIDO2 credentials: which authenticator model (or passkey provider).
    if let Some(aaguid) = fido2_aaguid.map(str::trim).filter(|a| !a.is_empty()) {
        claims.insert("fido2_aaguid".into(), Value::String(aaguid.to_owned()));
    }
    let what = match change_type {
        "create" => "A sign-in method was added",
        _ => "A sign-in method was removed",
    };
    Ok(SecurityEvent {
        event_type: EventType::CredentialChange,
        subject: Subject {
            session_id,
            ..Subject::user(user_id)
        },
        source: cause_id.to_owned(),
        txn: cause_id.to_owned(),
        occurred_at: optional_datetime(time).unwrap_or_else(Utc::now),
        initiating_entity: Some(InitiatingEntity::User),
        reason_admin: in_english(&format!("{what} ({method_type})")),
        reason_user: in_english(what),
        claims,
    })
}

/// CAEP credential-change `update` of the password.
pub struct PasswordChangedHandler(pub Arc<Transmitter>);

impl Handler<PasswordChanged> for PasswordChangedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<PasswordChanged>) -> Result<(), HandlerError> {
        let event = password_changed(&delivery.id, &delivery.event)?;
        let recovery = delivery.event.reset.then(|| recovery_activated(&event));
        emit(&self.0, conn, event).await?;
        match recovery {
            Some(recovery) => emit(&self.0, conn, recovery).await,
            None => Ok(()),
        }
    }
}

/// RISC recovery-activated: the person reset their password with "Forgot my password?".
pub fn recovery_activated(credential_change: &SecurityEvent) -> SecurityEvent {
    SecurityEvent {
        event_type: EventType::RecoveryActivated,
        reason_admin: in_english("The password was reset through self-service account recovery"),
        reason_user: in_english("You reset your password with \"Forgot my password?\""),
        claims: Map::new(),
        ..credential_change.clone()
    }
}

/// RISC account-purged when identity deletes an account.
pub struct UserDeletedHandler(pub Arc<Transmitter>);

impl Handler<UserDeleted> for UserDeletedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<UserDeleted>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let event = SecurityEvent {
            event_type: EventType::AccountPurged,
            subject: Subject::user(parse_id("user_id", &e.user_id)?),
            source: delivery.id.clone(),
            txn: delivery.id.clone(),
            occurred_at: optional_datetime(e.time.as_ref()).unwrap_or_else(Utc::now),
            initiating_entity: None,
            reason_admin: in_english("The account was deleted"),
            reason_user: in_english("Your account was deleted"),
            claims: Map::new(),
        };
        emit(&self.0, conn, event).await
    }
}

/// RISC account-disabled when an administrator or the operator disables an account.
pub struct UserDisabledHandler(pub Arc<Transmitter>);

impl Handler<UserDisabled> for UserDisabledHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<UserDisabled>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let event = account_status_changed(
            &delivery.id,
            EventType::AccountDisabled,
            &e.user_id,
            &e.changed_by,
            &e.cause_id,
            e.time.as_ref(),
        )?;
        emit(&self.0, conn, event).await
    }
}

/// RISC account-enabled when a disabled account is enabled again.
pub struct UserEnabledHandler(pub Arc<Transmitter>);

impl Handler<UserEnabled> for UserEnabledHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<UserEnabled>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let event = account_status_changed(
            &delivery.id,
            EventType::AccountEnabled,
            &e.user_id,
            &e.changed_by,
            &e.cause_id,
            e.time.as_ref(),
        )?;
        emit(&self.0, conn, event).await
    }
}

/// RISC account-disabled or account-enabled. RISC's optional `reason` of a disabled account
/// (`hijacking`, `bulk-account`) is left out: identity is not told why.
pub fn account_status_changed(
    event_id: &str,
    event_type: EventType,
    user_id: &str,
    changed_by: &str,
    cause_id: &str,
    time: Option<&prost_types::Timestamp>,
) -> Result<SecurityEvent, HandlerError> {
    let (admin, user) = match event_type {
        EventType::AccountDisabled => ("The account was disabled", "Your account was disabled"),
        _ => ("The account was enabled again", "Your account was enabled again"),
    };
    Ok(SecurityEvent {
        event_type,
        subject: Subject::user(parse_id("user_id", user_id)?),
        source: event_id.to_owned(),
        txn: act(cause_id, event_id),
        occurred_at: optional_datetime(time).unwrap_or_else(Utc::now),
        // An administrator through the API, or the installation's operator: either way, not
        // the person and not a policy.
        initiating_entity: Some(InitiatingEntity::Admin),
        reason_admin: in_english(&format!("{admin} (by the {})", changed_by_name(changed_by))),
        reason_user: in_english(user),
        claims: Map::new(),
    })
}

/// RISC identifier-changed when an administrator or the operator changes the person's user
/// principal name or email address.
pub struct IdentifiersChangedHandler(pub Arc<Transmitter>);

impl Handler<UserIdentifiersChanged> for IdentifiersChangedHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<UserIdentifiersChanged>,
    ) -> Result<(), HandlerError> {
        for event in identifier_changes(&delivery.id, &delivery.event)? {
            emit(&self.0, conn, event).await?;
        }
        Ok(())
    }
}

/// One RISC identifier-changed per identifier that changed, all in the act's `txn`: the subject
/// is the old value as an `email` subject (RISC 1.0 section 2.6 allows only `email` or `phone`;
/// a user principal name is `name@domain`, and MyAccount is the authority over it) and
/// `new-value` the new one. An identifier the person did not have (no email before) names no
/// one to tell about, so it sends nothing; when the name and the email were one address and
/// became one new address, one SET says so.
pub fn identifier_changes(event_id: &str, e: &UserIdentifiersChanged) -> Result<Vec<SecurityEvent>, HandlerError> {
    let user_id = parse_id("user_id", &e.user_id)?;
    let occurred_at = optional_datetime(e.time.as_ref()).unwrap_or_else(Utc::now);
    let by = changed_by_name(&e.changed_by);
    let identifiers = [
        (
            "user_principal_name",
            e.old_user_principal_name.trim(),
            e.new_user_principal_name.trim(),
            "user name",
        ),
        ("email", e.old_email.trim(), e.new_email.trim(), "email address"),
    ];
    let mut changes: Vec<SecurityEvent> = Vec::new();
    for (identifier, old, new, what) in identifiers {
        if old.is_empty() || old.eq_ignore_ascii_case(new) {
            continue;
        }
        let already_told = changes.iter().any(|told| {
            told.subject.email.as_deref() == Some(old) && told.claims.get("new-value") == Some(&json!(new))
        });
        if already_told {
            continue;
        }
        let mut claims = Map::new();
        if !new.is_empty() {
            claims.insert("new-value".into(), json!(new));
        }
        changes.push(SecurityEvent {
            event_type: EventType::IdentifierChanged,
            subject: Subject {
                email: Some(old.to_owned()),
                ..Subject::user(user_id)
            },
            // Two SETs of one type from one event: each its own source, so each its own jti.
            source: format!("{event_id}/{identifier}"),
            txn: act(&e.cause_id, event_id),
            occurred_at,
            initiating_entity: Some(InitiatingEntity::Admin),
            reason_admin: in_english(&format!("The {what} changed (by the {by})")),
            reason_user: in_english(&format!("Your {what} changed")),
            claims,
        });
    }
    Ok(changes)
}

fn changed_by_name(changed_by: &str) -> &'static str {
    match changed_by {
        "operator" => "operator",
        _ => "administrator",
    }
}

/// RISC credential-compromise when the person says a sign-in was not them: whoever signed in
/// knew their password, which identity now makes them change.
pub struct SignInFlaggedHandler(pub Arc<Transmitter>);

impl Handler<SignInFlagged> for SignInFlaggedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInFlagged>) -> Result<(), HandlerError> {
        let event = credential_compromise(&delivery.id, &delivery.event)?;
        emit(&self.0, conn, event).await
    }
}

pub fn credential_compromise(cause_id: &str, e: &SignInFlagged) -> Result<SecurityEvent, HandlerError> {
    let mut claims = Map::new();
    claims.insert("credential_type".into(), json!("password"));
    Ok(SecurityEvent {
        event_type: EventType::CredentialCompromise,
        subject: Subject {
            session_id: optional_id("session_id", &e.session_id)?,
            ..Subject::user(parse_id("user_id", &e.user_id)?)
        },
        source: cause_id.to_owned(),
        txn: cause_id.to_owned(),
        occurred_at: optional_datetime(e.time.as_ref()).unwrap_or_else(Utc::now),
        initiating_entity: Some(InitiatingEntity::User),
        reason_admin: in_english(&format!(
            "The person reported sign-in {} as not theirs; the password must be changed",
            e.sign_in_id
        )),
        reason_user: in_english("You reported a sign-in that was not you"),
        claims,
    })
}

pub fn password_changed(event_id: &str, e: &PasswordChanged) -> Result<SecurityEvent, HandlerError> {
    let user_id = parse_id("user_id", &e.user_id)?;
    let session_id = optional_id("session_id", &e.session_id)?;
    let mut claims = Map::new();
    claims.insert("credential_type".into(), json!("password"));
    claims.insert("change_type".into(), json!("update"));
    Ok(SecurityEvent {
        event_type: EventType::CredentialChange,
        subject: Subject {
            session_id,
            ..Subject::user(user_id)
        },
        source: event_id.to_owned(),
        txn: act(&e.cause_id, event_id),
        occurred_at: optional_datetime(e.time.as_ref()).unwrap_or_else(Utc::now),
        initiating_entity: Some(InitiatingEntity::User),
        reason_admin: in_english("The password was changed"),
        reason_user: in_english("Your password was changed"),
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_of_one_act_share_its_txn_and_keep_their_own_source() {
        let act_id = Uuid::now_v7().to_string();
        let user_id = Uuid::new_v4().to_string();
        let ended = |session: Uuid| SessionRevoked {
            user_id: user_id.clone(),
            session_id: session.to_string(),
            reason: "password_reset".into(),
            cause_id: act_id.clone(),
            ..Default::default()
        };
        let first = session_revoked("event-1", &ended(Uuid::new_v4())).expect("valid");
        let second = session_revoked("event-2", &ended(Uuid::new_v4())).expect("valid");
        let reset = PasswordChanged {
            user_id: user_id.clone(),
            reset: true,
            cause_id: act_id.clone(),
            ..Default::default()
        };
        let changed = password_changed("event-3", &reset).expect("valid");
        let recovered = recovery_activated(&changed);
        for event in [&first, &second, &changed, &recovered] {
            assert_eq!(event.txn, act_id);
        }
        assert_eq!((first.source.as_str(), second.source.as_str()), ("event-1", "event-2"));
        assert_eq!(recovered.source, "event-3");
        // An event from before acts were named is its own act.
        let alone = SessionRevoked {
            cause_id: String::new(),
            ..ended(Uuid::new_v4())
        };
        assert_eq!(session_revoked("event-4", &alone).expect("valid").txn, "event-4");
    }

    #[test]
    fn a_disabled_account_is_risc_account_disabled_by_an_admin_in_its_act() {
        let user_id = Uuid::new_v4();
        let event = account_status_changed(
            "event-1",
            EventType::AccountDisabled,
            &user_id.to_string(),
            "operator",
            "act-1",
            None,
        )
        .expect("valid");
        assert_eq!(
            event.event_type.uri(),
            "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
        );
        assert_eq!(event.initiating_entity, Some(InitiatingEntity::Admin));
        assert_eq!((event.source.as_str(), event.txn.as_str()), ("event-1", "act-1"));
        assert_eq!(event.subject, Subject::user(user_id));
        assert!(event.reason_admin["en"].contains("operator"));
        assert!(matches!(
            account_status_changed("e", EventType::AccountEnabled, "nobody", "admin", "", None),
            Err(HandlerError::Rejected(_))
        ));
    }

    #[test]
    fn a_changed_name_and_email_are_two_risc_identifier_changed_about_the_old_values_in_one_txn() {
        let user_id = Uuid::new_v4();
        let changed = UserIdentifiersChanged {
            user_id: user_id.to_string(),
            old_user_principal_name: "adele@contoso.example".into(),
            new_user_principal_name: "adele.vance@contoso.example".into(),
            old_email: "adele.mail@contoso.example".into(),
            new_email: "adele.vance@mail.contoso.example".into(),
            changed_by: "admin".into(),
            cause_id: "act-1".into(),
            ..Default::default()
        };
        let events = identifier_changes("event-1", &changed).expect("valid");
        assert_eq!(events.len(), 2, "{events:?}");
        let issuer = "https://idp.example.com";
        let claims: Vec<Value> = events
            .iter()
            .map(|e| e.set_claims(issuer, "https://rp.example.com", "j", Utc::now()))
            .collect();
        let uri = "https://schemas.openid.net/secevent/risc/event-type/identifier-changed";
        assert_eq!(
            claims[0]["sub_id"],
            json!({"format": "email", "email": "adele@contoso.example"})
        );
        assert_eq!(
            claims[0]["events"][uri]["new-value"],
            json!("adele.vance@contoso.example")
        );
        assert_eq!(
            claims[1]["sub_id"],
            json!({"format": "email", "email": "adele.mail@contoso.example"})
        );
        assert_eq!(
            claims[1]["events"][uri]["new-value"],
            json!("adele.vance@mail.contoso.example")
        );
        for (event, claims) in events.iter().zip(&claims) {
            assert_eq!(claims["txn"], json!("act-1"));
            assert_eq!(claims["events"][uri]["initiating_entity"], json!("admin"));
            assert_eq!(event.subject.user_id, user_id, "streams are chosen by the person");
        }
        assert_ne!(events[0].source, events[1].source, "each its own jti");
        assert!(events[0].reason_user["en"].contains("user name"));
        assert!(events[1].reason_user["en"].contains("email address"));
    }

    #[test]
    fn only_identifiers_that_changed_from_a_value_are_told_and_one_address_once() {
        let user_id = Uuid::new_v4().to_string();
        let email_only = UserIdentifiersChanged {
            user_id: user_id.clone(),
            old_user_principal_name: "same@contoso.example".into(),
            new_user_principal_name: "same@contoso.example".into(),
            old_email: "old@contoso.example".into(),
            new_email: "new@contoso.example".into(),
            changed_by: "operator".into(),
            ..Default::default()
        };
        let events = identifier_changes("event-2", &email_only).expect("valid");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].subject.email.as_deref(), Some("old@contoso.example"));
        assert_eq!(events[0].txn, "event-2", "an act of one event");
        assert!(events[0].reason_admin["en"].contains("operator"));

        let first_email = UserIdentifiersChanged {
            old_email: String::new(),
            ..email_only.clone()
        };
        assert!(identifier_changes("event-3", &first_email).expect("valid").is_empty());

        let one_address = UserIdentifiersChanged {
            old_user_principal_name: "a@contoso.example".into(),
            new_user_principal_name: "b@contoso.example".into(),
            old_email: "a@contoso.example".into(),
            new_email: "b@contoso.example".into(),
            ..email_only.clone()
        };
        assert_eq!(identifier_changes("event-4", &one_address).expect("valid").len(), 1);

        let nobody = UserIdentifiersChanged {
            user_id: "nobody".into(),
            ..email_only
        };
        assert!(matches!(
            identifier_changes("e", &nobody),
            Err(HandlerError::Rejected(_))
        ));
    }

    #[test]
    fn every_revocation_reason_has_a_story() {
        let ended = SessionRevoked {
            user_id: Uuid::new_v4().to_string(),
            session_id: Uuid::new_v4().to_string(),
            reason: "device_disabled".into(),
            ..Default::default()
        };
        let event = session_revoked("cause", &ended).expect("valid");
        assert_eq!(event.initiating_entity, Some(InitiatingEntity::Policy));
        assert!(event.subject.session_id.is_some());
        let unknown = SessionRevoked {
            reason: "something_new".into(),
            ..ended.clone()
        };
        assert_eq!(
            session_revoked("cause", &unknown).expect("valid").initiating_entity,
            Some(InitiatingEntity::System)
        );
        let bad = SessionRevoked {
            user_id: "nobody".into(),
            ..ended
        };
        assert!(matches!(session_revoked("cause", &bad), Err(HandlerError::Rejected(_))));
    }

    #[test]
    fn only_methods_that_recover_an_account_change_recovery_information() {
        let change = |method_type: &str| {
            method_changed(
                "cause",
                &Uuid::new_v4().to_string(),
                "",
                method_type,
                "",
                None,
                "create",
                None,
            )
            .expect("valid")
        };
        for recovery in ["email", "phone"] {
            let event = recovery_information_changed(&change(recovery), recovery).expect("a recovery method");
            assert_eq!(event.event_type, EventType::RecoveryInformationChanged);
            assert!(event.claims.is_empty(), "no credential-change claims carried over");
        }
        for other in ["security_key", "authenticator_app", "app_password", "recovery_codes"] {
            assert_eq!(recovery_information_changed(&change(other), other), None, "{other}");
        }
    }

    #[test]
    fn a_new_passkey_is_a_fido2_credential_created() {
        let event = method_changed(
            "cause",
            &Uuid::new_v4().to_string(),
            "",
            "security_key",
            "YubiKey 5",
            Some("cb69481e-8ff7-4039-93ec-0a2729a154a8"),
            "create",
            None,
        )
        .expect("valid");
        assert_eq!(event.claims["credential_type"], json!("fido2-roaming"));
        assert_eq!(event.claims["change_type"], json!("create"));
        assert_eq!(event.claims["friendly_name"], json!("YubiKey 5"));
        assert_eq!(
            event.claims["fido2_aaguid"],
            json!("cb69481e-8ff7-4039-93ec-0a2729a154a8")
        );
        assert_eq!(event.subject.session_id, None);
    }

    #[test]
    fn a_key_that_names_no_model_has_no_aaguid_claim() {
        for aaguid in [None, Some(""), Some("  ")] {
            let event = method_changed(
                "cause",
                &Uuid::new_v4().to_string(),
                "",
                "security_key",
                "Key",
                aaguid,
                "delete",
                None,
            )
            .expect("valid");
            assert!(!event.claims.contains_key("fido2_aaguid"), "{aaguid:?}");
        }
    }
}
