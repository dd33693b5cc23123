//! Sign-in records, risk rules, reviews, account activity and the paging rules of the log.
//! No prost, sqlx or tonic here.

use platform::personal_data::{DataCategory, HeldFor};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use platform::error::{FieldViolation, Violations, violation_reason};
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;
pub const DEFAULT_RETENTION_DAYS: i32 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Status::Success),
            "failure" => Some(Status::Failure),
            _ => None,
        }
    }
}

/// Why a sign-in failed: the shared vocabulary's reasons (stable codes, one table of words).
pub use myaccount_proto::events::v1::SignInFailureReason as FailureReason;

/// How the client signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientApp {
    Browser,
    MobileDesktop,
    AppPassword,
    Other,
}

impl ClientApp {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientApp::Browser => "browser",
            ClientApp::MobileDesktop => "mobile_desktop",
            ClientApp::AppPassword => "app_password",
            ClientApp::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "browser" => ClientApp::Browser,
            "mobile_desktop" => ClientApp::MobileDesktop,
            "app_password" => ClientApp::AppPassword,
            _ => ClientApp::Other,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    pub city: String,
    pub region: String,
    /// ISO 3166-1 alpha-2, upper case; empty when unknown.
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<platform::geoip::Place> for Location {
    fn from(place: platform::geoip::Place) -> Self {
        Self {
            city: place.city,
            region: place.region,
            country: place.country,
            latitude: place.latitude,
            longitude: place.longitude,
        }
    }
}

impl Location {
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthenticationStep {
    pub method: String,
    pub succeeded: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskLevel {
    None,
    Low,
    Medium,
    High,
}

impl RiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::None => "none",
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "low" => RiskLevel::Low,
            "medium" => RiskLevel::Medium,
            "high" => RiskLevel::High,
            _ => RiskLevel::None,
        }
    }
}

pub use myaccount_proto::RiskReason;

/// How much each reason weighs: the level of a sign-in is its heaviest reason's.
fn level_of(reason: RiskReason) -> RiskLevel {
    match reason {
        RiskReason::NewDevice => RiskLevel::Low,
        RiskReason::NewCountry | RiskReason::IpFailuresAcrossAccounts => RiskLevel::Medium,
        RiskReason::ImpossibleTravel => RiskLevel::High,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Risk {
    pub reasons: Vec<RiskReason>,
}

impl Risk {
    pub fn level(&self) -> RiskLevel {
        self.reasons
            .iter()
            .map(|r| level_of(*r))
            .max()
            .unwrap_or(RiskLevel::None)
    }

    pub fn is_risky(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// What the risk rules know about a user's history when a sign-in arrives.
#[derive(Debug, Clone, Default)]
pub struct RiskFacts {
    /// The user has signed in successfully before (nothing is "new" on the very first sign-in).
    pub has_history: bool,
    pub country_seen: bool,
    pub device_seen: bool,
    /// Failed attempts from this IP in the last hour, and how many accounts they targeted.
    pub ip_failures: i64,
    pub ip_failure_accounts: i64,
    /// The previous successful sign-in that had coordinates.
    pub previous: Option<(DateTime<Utc>, f64, f64)>,
}

/// Thresholds of the "many failures from one address across accounts" rule, and how far back
/// it counts.
pub const IP_FAILURES_THRESHOLD: i64 = 10;
pub const IP_FAILURE_WINDOW: chrono::Duration = chrono::Duration::hours(1);
pub const IP_FAILURE_ACCOUNTS_THRESHOLD: i64 = 3;
/// Faster than a airliner: the two sign-ins cannot both be the same person.
pub const IMPOSSIBLE_SPEED_KMH: f64 = 1000.0;
/// Nearby sign-ins (the same metro area, a VPN hop) never count as travel.
const TRAVEL_MIN_KM: f64 = 300.0;

/// Applies the risk rules to a sign-in of a known user.
pub fn assess(sign_in: &SignIn, facts: &RiskFacts) -> Risk {
    let mut reasons = Vec::new();
    if facts.has_history && !sign_in.location.country.is_empty() && !facts.country_seen {
        reasons.push(RiskReason::NewCountry);
    }
    if facts.has_history && !sign_in.device_fingerprint().is_empty() && !facts.device_seen {
        reasons.push(RiskReason::NewDevice);
    }
    if facts.ip_failures >= IP_FAILURES_THRESHOLD && facts.ip_failure_accounts >= IP_FAILURE_ACCOUNTS_THRESHOLD {
        reasons.push(RiskReason::IpFailuresAcrossAccounts);
    }
    if let (Some((then, lat, lon)), Some((lat2, lon2))) = (facts.previous, sign_in.location.coordinates()) {
        let km = distance_km(lat, lon, lat2, lon2);
        let hours = (sign_in.occurred_at - then).num_seconds().max(1) as f64 / 3600.0;
        if km > TRAVEL_MIN_KM && km / hours > IMPOSSIBLE_SPEED_KMH {
            reasons.push(RiskReason::ImpossibleTravel);
        }
    }
    Risk { reasons }
}

/// How far back the travel rule looks for the previous located sign-in.
pub const TRAVEL_LOOKBACK: chrono::Duration = chrono::Duration::days(30);

/// The risk rules over a batch of sign-ins taken in order: each is assessed as if the ones
/// before it had been stored one at a time. The facts handed in are the database's (for the
/// address rule they already count the batch's earlier failures, see `store::risk_facts`); this
/// adds what the user's own earlier successful sign-ins in the batch teach: that they have a
/// history, their countries and devices, and their last location.
#[derive(Debug, Default)]
pub struct BatchAssessor {
    learnt: HashMap<Uuid, Learnt>,
}

#[derive(Debug, Default)]
struct Learnt {
    countries: HashSet<String>,
    devices: HashSet<String>,
    located: Vec<(DateTime<Utc>, f64, f64)>,
}

impl BatchAssessor {
    pub fn assess(&self, sign_in: &SignIn, mut facts: RiskFacts) -> Risk {
        if let Some(learnt) = sign_in.user_id.and_then(|u| self.learnt.get(&u)) {
            facts.has_history = true;
            facts.country_seen |= learnt.countries.contains(&sign_in.location.country);
            facts.device_seen |= learnt.devices.contains(&sign_in.device_fingerprint());
            let since = sign_in.occurred_at - TRAVEL_LOOKBACK;
            for &(at, lat, lon) in &learnt.located {
                if at < sign_in.occurred_at && at > since && facts.previous.is_none_or(|(p, _, _)| at > p) {
                    facts.previous = Some((at, lat, lon));
                }
            }
        }
        assess(sign_in, &facts)
    }

    /// Learns from a sign-in about to be stored; only successes teach what is normal.
    pub fn learn(&mut self, sign_in: &SignIn) {
        let (Some(user), Status::Success) = (sign_in.user_id, sign_in.status) else {
            return;
        };
        let learnt = self.learnt.entry(user).or_default();
        if !sign_in.location.country.is_empty() {
            learnt.countries.insert(sign_in.location.country.clone());
        }
        let device = sign_in.device_fingerprint();
        if !device.is_empty() {
            learnt.devices.insert(device);
        }
        if let Some((lat, lon)) = sign_in.location.coordinates() {
            learnt.located.push((sign_in.occurred_at, lat, lon));
        }
    }
}

/// Great-circle distance (haversine), in kilometres.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    Unreviewed,
    ConfirmedMe,
    ReportedNotMe,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Unreviewed => "unreviewed",
            ReviewState::ConfirmedMe => "confirmed_me",
            ReviewState::ReportedNotMe => "reported_not_me",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "confirmed_me" => ReviewState::ConfirmedMe,
            "reported_not_me" => ReviewState::ReportedNotMe,
            _ => ReviewState::Unreviewed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Me,
    NotMe,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignIn {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub user_principal_name: String,
    pub organization_id: String,
    pub app_id: String,
    pub client_app: ClientApp,
    pub interactive: bool,
    pub ip_address: String,
    pub location: Location,
    pub user_agent: String,
    pub browser: String,
    pub operating_system: String,
    pub device_id: String,
    pub status: Status,
    pub failure_reason: Option<FailureReason>,
    pub authentication_methods: Vec<String>,
    pub authentication_steps: Vec<AuthenticationStep>,
    pub session_id: String,
    pub correlation_id: String,
    pub risk: Risk,
    pub review_state: ReviewState,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl SignIn {
    /// Multi-factor when two or more methods succeeded.
    pub fn authentication_requirement(&self) -> &'static str {
        if self.authentication_methods.iter().any(|m| m == "mfa") || self.authentication_methods.len() >= 2 {
            "multi_factor"
        } else {
            "single_factor"
        }
    }

    /// What identifies "a device" for the never-seen rule: the registered device id, else the
    /// browser and operating system.
    pub fn device_fingerprint(&self) -> String {
        if !self.device_id.is_empty() {
            format!("id:{}", self.device_id)
        } else if !self.browser.is_empty() || !self.operating_system.is_empty() {
            format!("ua:{}/{}", self.browser, self.operating_system)
        } else {
            String::new()
        }
    }
}

// --- privacy

/// What a client can tell the person is kept once the account is deleted.
pub const KEPT_AFTER_ERASURE: &str = "sign-ins within retention, pseudonymised: no user id, name, full IP address, \
     user agent, device, session or precise location; account activity is deleted";
/// How long account activity entries are kept.
pub const ACTIVITY_RETENTION: &str = "while the account exists; deleted with it";

/// The activity that records an export, so the person sees every copy made of their data.
pub const DATA_EXPORTED: &str = "data_exported";
pub const PRIVACY_CATEGORY: &str = "privacy";

/// The network of an address, as kept after erasure: IPv4 to /24, IPv6 to /48 (an IPv4-mapped
/// IPv6 address counts as IPv4). Enough to tell networks apart in an investigation, not enough
/// to single out a subscriber. Anything that is not an address is dropped, never kept whole.
pub fn truncated_ip(raw: &str) -> String {
    let raw = raw.trim();
    let ip = match raw.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => match raw.parse::<SocketAddr>() {
            Ok(socket) => socket.ip(),
            Err(_) => return String::new(),
        },
    };
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{}/24", Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/48", Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

impl SignIn {
    /// The sign-in as kept after its user's account was erased: the user is `pseudonym` (random,
    /// never stored with the real id), and whatever could lead back to them is gone. What an
    /// investigation needs stays: time, organization, app, outcome, methods, risk, verdict,
    /// network, city and browser/OS family. Reviews carry no free text, only the verdict.
    /// `store::erase_user` applies the same rules to stored rows.
    pub fn pseudonymise(&mut self, pseudonym: Uuid) {
        self.user_id = Some(pseudonym);
        self.user_principal_name.clear();
        self.ip_address = truncated_ip(&self.ip_address);
        self.user_agent.clear();
        // Coordinates can be finer than the city, and served only the user's travel rule.
        self.location.latitude = None;
        self.location.longitude = None;
        // Identifiers other systems (devices, sessions, request logs) map back to the person.
        self.device_id.clear();
        self.session_id.clear();
        self.correlation_id.clear();
    }
}

/// What audit keeps about one person (ExportMyData).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalData {
    pub user_id: Uuid,
    pub sign_ins: Vec<SignIn>,
    pub activities: Vec<Activity>,
    pub exported_at: DateTime<Utc>,
}

/// The retention that applies to a person (GetMyDataRetention).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRetention {
    pub sign_in_retention_days: i32,
    /// The organization whose setting applies; `None` when the default does.
    pub organization_id: Option<String>,
}

/// One account event, as the activity log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub user_id: Uuid,
    pub category: String,
    pub activity: String,
    pub summary: String,
    pub details: BTreeMap<String, String>,
    pub organization_id: String,
}

impl Activity {
    /// The record of an export of `user_id`'s data, with what it held.
    pub fn data_exported(user_id: Uuid, at: DateTime<Utc>, sign_ins: usize, activities: usize) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at: at,
            user_id,
            category: PRIVACY_CATEGORY.into(),
            activity: DATA_EXPORTED.into(),
            summary: "Exported a copy of your sign-ins and account activity".into(),
            details: BTreeMap::from([
                ("service".to_owned(), "audit".to_owned()),
                ("sign_ins".to_owned(), sign_ins.to_string()),
                ("activities".to_owned(), activities.to_string()),
            ]),
            organization_id: String::new(),
        }
    }
}

/// The current time as Postgres keeps it (microseconds), so what a call answers equals what a
/// later read returns.
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Position after the last row of a page: rows strictly older than it come next. Keyset
/// pagination keeps pages free of gaps and repeats while new rows arrive at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}:{}", self.occurred_at.timestamp_micros(), self.id))
    }

    pub fn decode(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, ':');
        if parts.next()? != "v1" {
            return None;
        }
        let micros: i64 = parts.next()?.parse().ok()?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        Some(Self {
            occurred_at: DateTime::from_timestamp_micros(micros)?,
            id,
        })
    }
}

/// Page size and position, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page_size: i64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub fn parse(page_size: i32, page_token: &str, v: &mut Violations) -> Self {
        let page_size = match i64::from(page_size) {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                v.add_with_reason("page_size", violation_reason::OUT_OF_RANGE, "must not be negative");
                DEFAULT_PAGE_SIZE
            }
            n => n.min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            let cursor = Cursor::decode(page_token);
            if cursor.is_none() {
                v.add_with_reason(
                    "page_token",
                    violation_reason::INVALID_PAGE_TOKEN,
                    "is not a token from a previous page",
                );
            }
            cursor
        };
        Self { page_size, after }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInFilter {
    pub status: Option<Status>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub app_id: Option<String>,
    pub risky_only: bool,
}

impl SignInFilter {
    pub fn validate(&self, v: &mut Violations) {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            v.add_with_reason(
                "filter.from_time",
                violation_reason::START_AFTER_END,
                "must be before filter.to_time",
            );
        }
        if let Some(app) = &self.app_id {
            v.text("filter.app_id", app, 128);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInQuery {
    pub page: PageRequest,
    pub filter: SignInFilter,
}

impl SignInQuery {
    pub fn parse(page_size: i32, page_token: &str, filter: SignInFilter) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Violations::new();
        let page = PageRequest::parse(page_size, page_token, &mut v);
        filter.validate(&mut v);
        v.into_result().map(|()| Self { page, filter })
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// What audit keeps about a person, for the Privacy page, with the sign-in retention that
/// applies to them.
pub fn personal_data_held(sign_in_retention_days: i32) -> Vec<DataCategory> {
    use HeldFor::{GuestOrganization, HomeOrganization};
    let sign_ins = format!("{sign_in_retention_days} days; pseudonymised after your account is deleted");
    vec![
        DataCategory::new("sign-ins", sign_ins, HomeOrganization),
        DataCategory::new(
            "your reviews of sign-ins",
            "as long as the sign-in they review",
            HomeOrganization,
        ),
        DataCategory::new("account activity", ACTIVITY_RETENTION, HomeOrganization),
        DataCategory::new(
            "sign-ins to this organization",
            "as long as this organization keeps sign-ins; pseudonymised after your account is deleted",
            GuestOrganization,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in() -> SignIn {
        SignIn {
            id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            user_id: Some(Uuid::now_v7()),
            user_principal_name: "a@b.example".into(),
            organization_id: String::new(),
            app_id: String::new(),
            client_app: ClientApp::Browser,
            interactive: true,
            ip_address: "198.51.100.7".into(),
            location: Location {
                city: "Paris".into(),
                region: String::new(),
                country: "FR".into(),
                latitude: Some(48.8566),
                longitude: Some(2.3522),
            },
            user_agent: String::new(),
            browser: "Firefox".into(),
            operating_system: "Linux".into(),
            device_id: String::new(),
            status: Status::Success,
            failure_reason: None,
            authentication_methods: vec!["pwd".into()],
            authentication_steps: vec![],
            session_id: String::new(),
            correlation_id: String::new(),
            risk: Risk::default(),
            review_state: ReviewState::Unreviewed,
            reviewed_at: None,
        }
    }

    #[test]
    fn addresses_are_cut_to_their_network() {
        assert_eq!(truncated_ip("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(truncated_ip("2001:db8:1234:5678::9"), "2001:db8:1234::/48");
        assert_eq!(truncated_ip("::ffff:198.51.100.20"), "198.51.100.0/24");
        assert_eq!(truncated_ip("[2001:db8:1:2::1]:443"), "2001:db8:1::/48");
        assert_eq!(truncated_ip("not an address"), "");
        assert_eq!(truncated_ip(""), "");
    }

    #[test]
    fn a_pseudonymised_sign_in_keeps_the_evidence_and_nothing_that_names_the_user() {
        let mut s = sign_in();
        s.user_agent = "Mozilla/5.0 (X11; Linux x86_64)".into();
        s.device_id = "device-1".into();
        s.session_id = "session-1".into();
        s.correlation_id = "request-1".into();
        let before = s.clone();
        let pseudonym = Uuid::new_v4();
        s.pseudonymise(pseudonym);
        assert_eq!(s.user_id, Some(pseudonym));
        assert_eq!(s.ip_address, "198.51.100.0/24");
        for cleared in [
            &s.user_principal_name,
            &s.user_agent,
            &s.device_id,
            &s.session_id,
            &s.correlation_id,
        ] {
            assert_eq!(cleared, "");
        }
        assert_eq!(s.location.coordinates(), None);
        assert_eq!((s.location.city.as_str(), s.location.country.as_str()), ("Paris", "FR"));
        assert_eq!((s.browser.as_str(), s.operating_system.as_str()), ("Firefox", "Linux"));
        assert_eq!(
            (s.id, s.occurred_at, s.status),
            (before.id, before.occurred_at, before.status)
        );
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            occurred_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("bm9wZQ"), None);
        assert_eq!(Cursor::decode("%%%"), None);
    }

    #[test]
    fn page_size_defaults_and_caps() {
        let q = |size, token: &str| SignInQuery::parse(size, token, SignInFilter::default());
        assert_eq!(q(0, "").unwrap().page.page_size, 20);
        assert_eq!(q(1000, "").unwrap().page.page_size, 100);
        let err = q(-1, "junk").unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["page_size", "page_token"]);
    }

    #[test]
    fn first_sign_in_is_never_new_anything() {
        let risk = assess(&sign_in(), &RiskFacts::default());
        assert!(!risk.is_risky());
    }

    #[test]
    fn new_country_and_device_are_flagged_for_a_known_user() {
        let facts = RiskFacts {
            has_history: true,
            ..Default::default()
        };
        let risk = assess(&sign_in(), &facts);
        assert_eq!(risk.reasons, vec![RiskReason::NewCountry, RiskReason::NewDevice]);
        assert_eq!(risk.level(), RiskLevel::Medium);
    }

    #[test]
    fn seattle_then_paris_an_hour_later_is_impossible_travel() {
        let mut s = sign_in();
        s.occurred_at = Utc::now();
        let facts = RiskFacts {
            has_history: true,
            country_seen: true,
            device_seen: true,
            previous: Some((s.occurred_at - chrono::Duration::hours(1), 47.6062, -122.3321)),
            ..Default::default()
        };
        let risk = assess(&s, &facts);
        assert_eq!(risk.reasons, vec![RiskReason::ImpossibleTravel]);
        assert_eq!(risk.level(), RiskLevel::High);
        // Two days later it is a plausible trip.
        let facts = RiskFacts {
            previous: Some((s.occurred_at - chrono::Duration::days(2), 47.6062, -122.3321)),
            ..facts
        };
        assert!(!assess(&s, &facts).is_risky());
    }

    #[test]
    fn many_failures_from_one_address_across_accounts() {
        let facts = RiskFacts {
            ip_failures: 12,
            ip_failure_accounts: 4,
            ..Default::default()
        };
        assert_eq!(
            assess(&sign_in(), &facts).reasons,
            vec![RiskReason::IpFailuresAcrossAccounts]
        );
        let one_account = RiskFacts {
            ip_failures: 50,
            ip_failure_accounts: 1,
            ..Default::default()
        };
        assert!(!assess(&sign_in(), &one_account).is_risky());
    }

    #[test]
    fn a_batch_is_assessed_as_if_stored_one_by_one() {
        let user = Uuid::now_v7();
        let t0 = Utc::now() - chrono::Duration::hours(3);
        let at = |minutes: i64, country: &str, lat: f64, lon: f64| SignIn {
            user_id: Some(user),
            occurred_at: t0 + chrono::Duration::minutes(minutes),
            location: Location {
                city: String::new(),
                region: String::new(),
                country: country.into(),
                latitude: Some(lat),
                longitude: Some(lon),
            },
            ..sign_in()
        };
        // Known in the US before the batch; the batch brings Seattle, then Paris 30 min later.
        let seattle = at(0, "US", 47.6062, -122.3321);
        let paris = at(30, "FR", 48.8566, 2.3522);
        let from_database = RiskFacts {
            has_history: true,
            country_seen: true,
            device_seen: true,
            ..Default::default()
        };
        let mut batch = BatchAssessor::default();
        assert!(!batch.assess(&seattle, from_database.clone()).is_risky());
        batch.learn(&seattle);
        let paris_facts = RiskFacts {
            country_seen: false,
            ..from_database.clone()
        };
        assert_eq!(
            batch.assess(&paris, paris_facts).reasons,
            vec![RiskReason::NewCountry, RiskReason::ImpossibleTravel]
        );
    }

    #[test]
    fn a_first_success_in_a_batch_gives_the_user_a_history() {
        let first = sign_in();
        let mut batch = BatchAssessor::default();
        assert!(!batch.assess(&first, RiskFacts::default()).is_risky());
        batch.learn(&first);
        let elsewhere = SignIn {
            id: Uuid::now_v7(),
            location: Location {
                country: "AU".into(),
                ..Location::default()
            },
            browser: "Safari".into(),
            ..first.clone()
        };
        assert_eq!(
            batch.assess(&elsewhere, RiskFacts::default()).reasons,
            vec![RiskReason::NewCountry, RiskReason::NewDevice]
        );
        // Failures teach nothing.
        let mut only_failures = BatchAssessor::default();
        only_failures.learn(&SignIn {
            status: Status::Failure,
            ..first
        });
        assert!(!only_failures.assess(&elsewhere, RiskFacts::default()).is_risky());
    }

    #[test]
    fn haversine_distance() {
        let km = distance_km(47.6062, -122.3321, 48.8566, 2.3522);
        assert!((km - 8_000.0).abs() < 100.0, "{km}");
    }
}
