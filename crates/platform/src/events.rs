//! NATS JetStream: connection, stream naming and idempotent stream set-up, and the catalogue of
//! events (which message travels on which subject). Only `platform` talks to NATS directly.

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::config::{ConfigError, Env};
use crate::health::ConsumerStalls;

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("cannot connect to nats at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("cannot create or update stream {stream}: {message}")]
    Stream { stream: String, message: String },
    /// The seed file could not be read or holds no user seed; the message never quotes it.
    #[error("cannot use the nats nkey seed in {path}: {reason}")]
    Credentials { path: PathBuf, reason: &'static str },
}

#[derive(Debug, Clone)]
pub struct NatsSettings {
    pub url: String,
    /// Prefix for every stream and subject, so that tests (or several installations sharing one
    /// NATS cluster) never see each other's messages. Empty in a normal installation.
    pub namespace: Option<String>,
    pub stream_replicas: usize,
    pub stream_max_age: Duration,
    pub duplicate_window: Duration,
    /// How long outboxes keep sent events so they can be sent again (`myaccount outbox replay`),
    /// and so how long every consumer remembers the ids it applied (a replay must change
    /// nothing): at least the duplicate window, within which JetStream drops a resend itself.
    pub replay_horizon: Duration,
    /// A file holding this process's NATS user nkey seed (`SU...`, as `myaccount nats-config`
    /// writes it). `None` connects without credentials (a local, open NATS).
    pub nkey_seed_file: Option<PathBuf>,
    /// TLS to the servers (unset: plain text unless a server requires TLS).
    pub tls: NatsTls,
}

/// TLS to NATS. The server's certificate is checked against the system's roots plus `ca_file`;
/// a `tls://` URL requires TLS as `required` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsTls {
    /// PEM file of the CA(s) the servers' certificates chain to (a private CA).
    pub ca_file: Option<PathBuf>,
    /// Refuse a server that does not offer TLS, rather than talk to it in the clear.
    pub required: bool,
    /// A client certificate and its key (PEM), for servers that verify clients (`verify: true`).
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl NatsTls {
    /// `NATS_TLS_CA_FILE`, `NATS_TLS_REQUIRED` (default: true when a CA file or client
    /// certificate is set), `NATS_TLS_CERT_FILE` with `NATS_TLS_KEY_FILE`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let ca_file = env.pem_file("NATS_TLS_CA_FILE", "CERTIFICATE")?;
        let cert = env.pem_file("NATS_TLS_CERT_FILE", "CERTIFICATE")?;
        let key = env.pem_file("NATS_TLS_KEY_FILE", "PRIVATE KEY")?;
        let client_cert = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (cert, _) => {
                let missing = if cert.is_some() {
                    "NATS_TLS_KEY_FILE"
                } else {
                    "NATS_TLS_CERT_FILE"
                };
                return Err(ConfigError::new(
                    missing,
                    "a client certificate needs its key: set both NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE, or neither",
                ));
            }
        };
        let configured = ca_file.is_some() || client_cert.is_some();
        Ok(Self {
            required: env.flag("NATS_TLS_REQUIRED", configured)?,
            ca_file,
            client_cert,
        })
    }

    fn apply(&self, mut options: async_nats::ConnectOptions) -> async_nats::ConnectOptions {
        if let Some(ca) = &self.ca_file {
            options = options.add_root_certificates(ca.clone());
        }
        if let Some((cert, key)) = &self.client_cert {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        options.require_tls(self.required)
    }
}

/// A day of sent events: room to notice that a JetStream cluster lost recent writes and send
/// them again, for a day's events in each service's outbox table.
pub const DEFAULT_REPLAY_HORIZON: Duration = Duration::from_secs(24 * 3600);

impl NatsSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            namespace: None,
            stream_replicas: 1,
            stream_max_age: Duration::from_secs(7 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
            replay_horizon: DEFAULT_REPLAY_HORIZON,
            nkey_seed_file: None,
            tls: NatsTls::default(),
        }
    }

    /// As [`NatsSettings::from_env`], for the service whose variables start with `prefix`:
    /// `<PREFIX>_NATS_NKEY_SEED_FILE` wins over `NATS_NKEY_SEED_FILE`, so `myaccount up` can give
    /// every service of the process its own identity.
    pub fn from_env_for(env: &Env, prefix: &str) -> Result<Self, ConfigError> {
        let mut settings = Self::from_env(env)?;
        if let Some(own) = env.optional(&format!("{prefix}_{NKEY_SEED_FILE}"))? {
            settings.nkey_seed_file = Some(own);
        }
        Ok(settings)
    }

    /// `NATS_URL`, `NATS_NAMESPACE`, `NATS_STREAM_REPLICAS`, `NATS_STREAM_MAX_AGE`,
    /// `NATS_DUPLICATE_WINDOW`, `OUTBOX_REPLAY_HORIZON`, `NATS_NKEY_SEED_FILE`, `NATS_TLS_*`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::new("nats://127.0.0.1:4222");
        let namespace: Option<String> = env.optional("NATS_NAMESPACE")?;
        if let Some(ns) = &namespace
            && !is_valid_namespace(ns)
        {
            return Err(ConfigError::new("NATS_NAMESPACE", "letters, digits and _ only"));
        }
        let stream_replicas = env.or("NATS_STREAM_REPLICAS", defaults.stream_replicas)?;
        if !(1..=5).contains(&stream_replicas) {
            return Err(ConfigError::new("NATS_STREAM_REPLICAS", "must be between 1 and 5"));
        }
        let duplicate_window = env.duration("NATS_DUPLICATE_WINDOW", defaults.duplicate_window)?;
        let replay_horizon = env.duration("OUTBOX_REPLAY_HORIZON", defaults.replay_horizon)?;
        if replay_horizon < duplicate_window {
            return Err(ConfigError::new(
                "OUTBOX_REPLAY_HORIZON",
                "must be at least NATS_DUPLICATE_WINDOW",
            ));
        }
        let url: String = env.or("NATS_URL", defaults.url)?;
        if let Err(reason) = server_addrs(&url) {
            return Err(ConfigError::new("NATS_URL", reason));
        }
        Ok(Self {
            url,
            namespace,
            stream_replicas,
            stream_max_age: env.duration("NATS_STREAM_MAX_AGE", defaults.stream_max_age)?,
            duplicate_window,
            replay_horizon,
            nkey_seed_file: env.optional(NKEY_SEED_FILE)?,
            tls: NatsTls::from_env(env)?,
        })
    }

    pub fn naming(&self) -> Naming {
        Naming {
            namespace: self.namespace.clone(),
        }
    }
}

/// The variable naming a process's nkey seed file (also read as `<PREFIX>_NATS_NKEY_SEED_FILE`).
pub const NKEY_SEED_FILE: &str = "NATS_NKEY_SEED_FILE";

/// The prefix of the reply subjects of a client named `client_name`. Each identity gets its own,
/// so the server can let it read its own replies (and pulled messages) and nobody else's.
pub fn inbox_prefix(client_name: &str) -> String {
    format!("_INBOX_{client_name}")
}

/// Reads a user seed from `path`: one line starting with `SU` (surrounding whitespace ignored).
fn read_user_seed(path: &std::path::Path) -> Result<String, EventsError> {
    let failed = |reason| EventsError::Credentials {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|_| failed("cannot read the file"))?;
    let seed = text.trim();
    if !seed.starts_with("SU") || seed.contains(char::is_whitespace) {
        return Err(failed("expected one user seed (SU...)"));
    }
    Ok(seed.to_owned())
}

/// `nats://user:secret@host:4222` -> `nats://***@host:4222`: URLs in errors and logs never carry
/// credentials. A list of servers (`NATS_URL` of a cluster) is redacted server by server.
pub fn redact_credentials(url: &str) -> String {
    url.split(',')
        .map(|one| match (one.find("://"), one.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &one[..scheme + 3], &one[at..]),
            _ => one.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The servers of `NATS_URL`: one URL, or a comma-separated list of a cluster's servers (the
/// client connects to any of them and fails over between them). The message never quotes a URL.
pub fn server_addrs(url: &str) -> Result<Vec<async_nats::ServerAddr>, String> {
    let servers = url
        .split(',')
        .map(str::trim)
        .filter(|one| !one.is_empty())
        .enumerate()
        .map(|(i, one)| {
            one.parse::<async_nats::ServerAddr>()
                .map_err(|e| format!("server {} of the list: {e}", i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if servers.is_empty() {
        return Err("names no server".into());
    }
    Ok(servers)
}

fn is_valid_namespace(ns: &str) -> bool {
    !ns.is_empty() && ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The JetStream streams, one per subject domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Identity,
    SignIn,
    SecurityInfo,
    Devices,
    Organizations,
    Notifications,
    /// Ends of access, kept only as long as an access token can live (see `revocation`).
    Revocations,
    /// Messages a consumer gave up on (undecodable, or failing after bounded retries).
    DeadLetter,
}

impl Stream {
    pub const ALL: [Stream; 8] = [
        Stream::Identity,
        Stream::SignIn,
        Stream::SecurityInfo,
        Stream::Devices,
        Stream::Organizations,
        Stream::Notifications,
        Stream::Revocations,
        Stream::DeadLetter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Identity => "MYACCOUNT_IDENTITY",
            Stream::SignIn => "MYACCOUNT_SIGNIN",
            Stream::SecurityInfo => "MYACCOUNT_SECURITYINFO",
            Stream::Devices => "MYACCOUNT_DEVICES",
            Stream::Organizations => "MYACCOUNT_ORGANIZATIONS",
            Stream::Notifications => "MYACCOUNT_NOTIFICATIONS",
            Stream::Revocations => "MYACCOUNT_REVOCATIONS",
            Stream::DeadLetter => "MYACCOUNT_DEADLETTER",
        }
    }

    /// Subject prefix of the domain, without the trailing event name.
    pub fn subject_root(self) -> &'static str {
        match self {
            Stream::Identity => "myaccount.identity.v1",
            Stream::SignIn => "myaccount.signin.v1",
            Stream::SecurityInfo => "myaccount.securityinfo.v1",
            Stream::Devices => "myaccount.devices.v1",
            Stream::Organizations => "myaccount.organizations.v1",
            Stream::Notifications => "myaccount.notifications.v1",
            Stream::Revocations => "myaccount.revocations.v1",
            Stream::DeadLetter => "myaccount.deadletter.v1",
        }
    }
}

/// Turns logical stream and subject names into the ones used on the wire (namespace applied).
#[derive(Debug, Clone, Default)]
pub struct Naming {
    namespace: Option<String>,
}

impl Naming {
    pub fn stream(&self, stream: Stream) -> String {
        match &self.namespace {
            Some(ns) => format!("{}_{}", ns.to_ascii_uppercase(), stream.name()),
            None => stream.name().to_owned(),
        }
    }

    pub fn subject(&self, logical: &str) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{logical}"),
            None => logical.to_owned(),
        }
    }

    /// The logical subject of a wire subject (namespace removed).
    pub fn logical_subject<'a>(&self, wire: &'a str) -> &'a str {
        match &self.namespace {
            Some(ns) => wire
                .strip_prefix(ns.as_str())
                .and_then(|s| s.strip_prefix('.'))
                .unwrap_or(wire),
            None => wire,
        }
    }
}

/// A message published on a subject of the catalogue. The payload is the protobuf encoding.
pub trait Event: prost::Message + Default + Send + Sync + 'static {
    const STREAM: Stream;
    /// Past tense event name, the last subject token: `recorded`, `disabled`.
    const NAME: &'static str;

    /// Logical subject, also the CloudEvents type: `myaccount.signin.v1.recorded`.
    fn subject() -> String {
        format!("{}.{}", Self::STREAM.subject_root(), Self::NAME)
    }

    /// The CloudEvents `subject`: the id of the user the event is about (may be empty).
    fn ce_subject(&self) -> String;
}

/// One entry of the catalogue, for documentation and its tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventInfo {
    pub stream: Stream,
    /// The event name, the last subject token.
    pub name: &'static str,
    /// The protobuf message, in package `myaccount.events.v1`.
    pub message: &'static str,
}

impl EventInfo {
    pub fn subject(&self) -> String {
        format!("{}.{}", self.stream.subject_root(), self.name)
    }
}

/// The catalogue: every event message and its subject, in one place.
macro_rules! catalogue {
    ($($message:ident => ($stream:ident, $name:literal),)*) => {
        $(
            impl Event for myaccount_proto::events::v1::$message {
                const STREAM: Stream = Stream::$stream;
                const NAME: &'static str = $name;
                fn ce_subject(&self) -> String {
                    self.user_id.clone()
                }
            }
        )*

        /// Every event MyAccount publishes.
        pub const CATALOGUE: &[EventInfo] = &[
            $(EventInfo { stream: Stream::$stream, name: $name, message: stringify!($message) },)*
        ];
    };
}

catalogue! {
    SignInRecorded => (SignIn, "recorded"),
    SignInFlagged => (SignIn, "flagged"),
    SignInRiskDetected => (SignIn, "risk_detected"),
    UserCreated => (Identity, "user_created"),
    ProfileUpdated => (Identity, "profile_updated"),
    OrganizationChanged => (Organizations, "changed"),
    SecurityMethodAdded => (SecurityInfo, "method_added"),
    SecurityMethodRemoved => (SecurityInfo, "method_removed"),
    DefaultMethodChanged => (SecurityInfo, "default_changed"),
    NotificationRequested => (Notifications, "requested"),
    DeviceRegistered => (Devices, "registered"),
    DeviceRenamed => (Devices, "renamed"),
    DeviceDeleted => (Devices, "deleted"),
    DeviceDisabled => (Devices, "disabled"),
    DeviceEnabled => (Devices, "enabled"),
    RecoveryKeyAdded => (Devices, "recovery_key_added"),
    RecoveryKeyViewed => (Devices, "recovery_key_viewed"),
    RecoveryKeyViewDenied => (Devices, "recovery_key_view_denied"),
    SessionRevoked => (Identity, "session_revoked"),
    PasswordChanged => (Identity, "password_changed"),
    UserDeleted => (Identity, "user_deleted"),
    UserDisabled => (Identity, "user_disabled"),
    UserEnabled => (Identity, "user_enabled"),
    UserIdentifiersChanged => (Identity, "identifiers_changed"),
    AccessRevoked => (Revocations, "access_revoked"),
    MemberJoined => (Organizations, "member_joined"),
    MemberLeft => (Organizations, "member_left"),
    MemberRemoved => (Organizations, "member_removed"),
    InvitationCreated => (Organizations, "invitation_created"),
    InvitationDeclined => (Organizations, "invitation_declined"),
    TermsAccepted => (Organizations, "terms_accepted"),
}

/// A connection to NATS with JetStream and the installation's naming.
#[derive(Clone)]
pub struct EventBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    settings: NatsSettings,
    stalls: ConsumerStalls,
}

impl EventBus {
    /// Connects in the background: a service starts (and keeps taking requests) while NATS is
    /// unreachable; the outbox holds its events until NATS is back.
    pub async fn connect(settings: &NatsSettings, client_name: &str) -> Result<Self, EventsError> {
        let options = match &settings.nkey_seed_file {
            Some(path) => async_nats::ConnectOptions::with_nkey(read_user_seed(path)?),
            None => async_nats::ConnectOptions::new(),
        };
        let client = settings
            .tls
            .apply(options)
            .name(client_name)
            .custom_inbox_prefix(inbox_prefix(client_name))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .connect(server_addrs(&settings.url).map_err(|message| EventsError::Connect {
                url: redact_credentials(&settings.url),
                message,
            })?)
            .await
            .map_err(|e| EventsError::Connect {
                url: redact_credentials(&settings.url),
                message: e.to_string(),
            })?;
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(Duration::from_secs(5));
        Ok(Self {
            client,
            jetstream,
            settings: settings.clone(),
            stalls: ConsumerStalls::default(),
        })
    }

    pub fn naming(&self) -> Naming {
        self.settings.naming()
    }

    /// How long the streams keep events: an event older than this can no longer be delivered.
    pub fn stream_max_age(&self) -> Duration {
        self.settings.stream_max_age
    }

    /// How long sent events stay replayable, and so how long consumers remember applied ids.
    pub fn replay_horizon(&self) -> Duration {
        self.settings.replay_horizon
    }

    /// The stalled consumers of this connection's service, for its readiness.
    pub fn consumer_stalls(&self) -> &ConsumerStalls {
        &self.stalls
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The configuration every publisher and consumer of `stream` agrees on.
    pub fn stream_config(&self, stream: Stream) -> stream::Config {
        let naming = self.naming();
        stream::Config {
            name: naming.stream(stream),
            subjects: vec![naming.subject(&format!("{}.>", stream.subject_root()))],
            storage: stream::StorageType::File,
            num_replicas: self.settings.stream_replicas,
            // A revocation matters only while a token it refuses can still be presented.
            max_age: match stream {
                Stream::Revocations => crate::revocation_reason::HORIZON,
                _ => self.settings.stream_max_age,
            },
            duplicate_window: self.settings.duplicate_window,
            ..Default::default()
        }
    }

    /// Creates the streams, or updates them to the configured settings. Idempotent.
    ///
    /// A stream that already has the wanted settings is left alone: every relay and consumer
    /// calls this at start, and a storm of concurrent no-op updates of one stream is both
    /// wasteful and known to crash older nats-server releases.
    pub async fn ensure_streams(&self, streams: &[Stream]) -> Result<(), EventsError> {
        use async_nats::jetstream::ErrorCode;
        use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
        for &s in streams {
            let config = self.stream_config(s);
            let name = config.name.clone();
            let failed = |message: String| EventsError::Stream {
                stream: name.clone(),
                message,
            };
            // Update only a stream whose settings differ, and never blindly: stream updates
            // racing other updates or a deletion crash some nats-server releases (2.9).
            match self.jetstream.get_stream(&config.name).await {
                Ok(existing) if settings_match(&existing.cached_info().config, &config) => {}
                Ok(_) => {
                    self.jetstream
                        .update_stream(config)
                        .await
                        .map_err(|e| failed(e.to_string()))?;
                }
                Err(e) if matches!(e.kind(), GetStreamErrorKind::JetStream(j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND) =>
                {
                    match self.jetstream.create_stream(config).await {
                        Ok(_) => {}
                        // Another service of the installation created it first.
                        Err(e) if matches!(e.kind(), CreateStreamErrorKind::JetStream(j) if j.error_code() == ErrorCode::STREAM_NAME_EXIST) =>
                            {}
                        Err(e) => return Err(failed(e.to_string())),
                    }
                }
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_url_names_one_server_or_a_cluster_and_a_bad_one_is_refused_at_start() {
        let cluster = "nats://n1:4222, nats://n2:4222,nats://n3:4222";
        let settings = NatsSettings::from_env(&Env::from_pairs([("NATS_URL", cluster)])).expect("a list of servers");
        assert_eq!(server_addrs(&settings.url).expect("servers").len(), 3);
        assert_eq!(server_addrs("nats://nats:4222").expect("one server").len(), 1);
        for bad in ["nats://n1:4222,nats://n2:port", " , "] {
            let error = NatsSettings::from_env(&Env::from_pairs([("NATS_URL", bad)])).expect_err(bad);
            assert!(error.to_string().contains("NATS_URL"), "{error}");
        }
    }

    #[test]
    fn credentials_never_reach_error_messages() {
        assert_eq!(
            redact_credentials("nats://svc:s3cret@nats:4222"),
            "nats://***@nats:4222"
        );
        assert_eq!(redact_credentials("nats://nats:4222"), "nats://nats:4222");
        assert_eq!(
            redact_credentials("nats://a:x@n1:4222,nats://n2:4222"),
            "nats://***@n1:4222,nats://n2:4222"
        );
    }

    #[test]
    fn the_replay_horizon_covers_at_least_the_duplicate_window() {
        let settings = NatsSettings::from_env(&Env::default()).expect("defaults");
        assert_eq!(settings.replay_horizon, DEFAULT_REPLAY_HORIZON);
        let short = Env::from_pairs([("NATS_DUPLICATE_WINDOW", "5m"), ("OUTBOX_REPLAY_HORIZON", "1m")]);
        let err = NatsSettings::from_env(&short).expect_err("shorter than the window");
        assert_eq!(err.variable, "OUTBOX_REPLAY_HORIZON");
        let week = Env::from_pairs([("OUTBOX_REPLAY_HORIZON", "7d")]);
        assert_eq!(
            NatsSettings::from_env(&week).map(|s| s.replay_horizon),
            Ok(Duration::from_secs(7 * 24 * 3600))
        );
    }

    #[test]
    fn a_service_reads_its_own_seed_file_first() {
        let env = Env::from_pairs([
            ("NATS_NKEY_SEED_FILE", "/run/nats/shared.nk"),
            ("DEVICES_NATS_NKEY_SEED_FILE", "/run/nats/devices.nk"),
        ]);
        let devices = NatsSettings::from_env_for(&env, "DEVICES").unwrap();
        assert_eq!(devices.nkey_seed_file, Some(PathBuf::from("/run/nats/devices.nk")));
        let audit = NatsSettings::from_env_for(&env, "AUDIT").unwrap();
        assert_eq!(audit.nkey_seed_file, Some(PathBuf::from("/run/nats/shared.nk")));
        assert_eq!(NatsSettings::from_env(&Env::default()).unwrap().nkey_seed_file, None);
    }

    #[test]
    fn a_bad_seed_file_is_named_without_its_content() {
        let dir = std::env::temp_dir().join(format!("myaccount-seed-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.nk");
        std::fs::write(&path, "SAnotauserseed secret-looking words\n").unwrap();
        let err = read_user_seed(&path).unwrap_err().to_string();
        assert!(err.contains("bad.nk") && !err.contains("secret-looking"), "{err}");
        std::fs::write(&path, "  SUAMSEED\n").unwrap();
        assert_eq!(read_user_seed(&path).unwrap(), "SUAMSEED");
        assert!(read_user_seed(&dir.join("missing.nk")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tls_settings_require_tls_once_a_ca_is_given_and_name_a_bad_file() {
        let dir = std::env::temp_dir().join(format!("myaccount-nats-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.crt");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
        let key = dir.join("client.key");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n").unwrap();
        let (ca, key) = (ca.display().to_string(), key.display().to_string());

        assert_eq!(NatsTls::from_env(&Env::default()), Ok(NatsTls::default()));
        let with_ca = NatsTls::from_env(&Env::from_pairs([("NATS_TLS_CA_FILE", ca.as_str())])).unwrap();
        assert!(with_ca.required && with_ca.ca_file.is_some());
        let not_required = NatsTls::from_env(&Env::from_pairs([
            ("NATS_TLS_CA_FILE", ca.as_str()),
            ("NATS_TLS_REQUIRED", "false"),
        ]))
        .unwrap();
        assert!(!not_required.required);

        let half = NatsTls::from_env(&Env::from_pairs([("NATS_TLS_KEY_FILE", key.as_str())])).unwrap_err();
        assert_eq!(half.variable, "NATS_TLS_CERT_FILE");
        // A key where the CA belongs is not a certificate.
        let not_a_ca = NatsTls::from_env(&Env::from_pairs([("NATS_TLS_CA_FILE", key.as_str())])).unwrap_err();
        assert_eq!(not_a_ca.variable, "NATS_TLS_CA_FILE");
        assert!(not_a_ca.reason.contains("no PEM CERTIFICATE"), "{not_a_ca}");
        let missing = dir.join("missing.crt").display().to_string();
        let unreadable = NatsTls::from_env(&Env::from_pairs([("NATS_TLS_CA_FILE", missing.as_str())])).unwrap_err();
        assert!(unreadable.reason.contains("cannot read"), "{unreadable}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn namespaces_prefix_streams_and_subjects() {
        let mut settings = NatsSettings::new("nats://x");
        settings.namespace = Some("t1".into());
        let naming = settings.naming();
        assert_eq!(naming.stream(Stream::SignIn), "T1_MYACCOUNT_SIGNIN");
        assert_eq!(
            naming.subject("myaccount.signin.v1.recorded"),
            "t1.myaccount.signin.v1.recorded"
        );
        assert_eq!(
            naming.logical_subject("t1.myaccount.signin.v1.recorded"),
            "myaccount.signin.v1.recorded"
        );
    }
}

/// Whether a stream already has every setting we manage.
fn settings_match(current: &stream::Config, wanted: &stream::Config) -> bool {
    current.subjects == wanted.subjects
        && current.storage == wanted.storage
        && current.num_replicas == wanted.num_replicas
        && current.max_age == wanted.max_age
        && current.duplicate_window == wanted.duplicate_window
}

/// CloudEvents binary-mode attributes as NATS headers, plus `Nats-Msg-Id` for deduplication.
pub mod headers {
    use async_nats::HeaderMap;
    use chrono::{DateTime, SecondsFormat, Utc};

    /// The headers an event travels with: `Nats-Msg-Id` (JetStream's duplicate window) and the
    /// CloudEvents attributes. The outbox relay sets `msg_id` to the event id; a test that must
    /// get a second copy past the duplicate window passes another.
    pub fn cloud_event(
        msg_id: &str,
        id: &str,
        ce_type: &str,
        source: &str,
        time: DateTime<Utc>,
        subject: &str,
    ) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("Nats-Msg-Id", msg_id);
        h.insert(SPEC_VERSION, "1.0");
        h.insert(ID, id);
        h.insert(TYPE, ce_type);
        h.insert(SOURCE, source);
        h.insert(TIME, time.to_rfc3339_opts(SecondsFormat::Micros, true).as_str());
        if !subject.is_empty() {
            h.insert(SUBJECT, subject);
        }
        h.insert(CONTENT_TYPE, PROTOBUF);
        h
    }

    pub const SPEC_VERSION: &str = "ce-specversion";
    pub const ID: &str = "ce-id";
    pub const TYPE: &str = "ce-type";
    pub const SOURCE: &str = "ce-source";
    pub const TIME: &str = "ce-time";
    pub const SUBJECT: &str = "ce-subject";
    pub const CONTENT_TYPE: &str = "content-type";
    pub const PROTOBUF: &str = "application/protobuf";
    pub const TRACEPARENT: &str = "traceparent";
    pub const TRACESTATE: &str = "tracestate";
}
