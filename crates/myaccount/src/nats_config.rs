//! `myaccount nats-config`: one NATS identity per service (a user nkey) and what each may do,
//! written as a complete `nats-server.conf` plus one seed file per service.
//!
//! A service may publish only its own domain's subjects (its `ServiceSpec::publishes`), the
//! dead letters of its own consumers, and the JetStream API calls of its own streams and
//! durable consumers; it reads the streams it consumes only through those consumers, and its
//! replies arrive under an inbox prefix of its own (`platform::events::inbox_prefix`), which is
//! all it may subscribe to. The consumers listed here must match what each service's `lib.rs`
//! registers: the plane test starts every service on a server with this configuration and fails
//! on any permission violation the server reports.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use myaccount_proto::events::v1::{
    DeviceDeleted, DeviceDisabled, DeviceEnabled, DeviceRegistered, MemberJoined, MemberLeft, MemberRemoved,
    NotificationRequested, OrganizationChanged, PasswordChanged, ProfileUpdated, SecurityMethodAdded,
    SecurityMethodRemoved, SessionRevoked, SignInFlagged, SignInRecorded, SignInRiskDetected, UserCreated, UserDeleted,
    UserDisabled, UserEnabled, UserIdentifiersChanged,
};
use platform::consumer::{durable_name, stream_durable_name};
use platform::events::{Event, Naming, Stream, inbox_prefix};
use platform::service::ServiceSpec;

#[derive(Debug, thiserror::Error)]
pub enum NatsConfigError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An existing seed file that does not hold a user seed (its content is never quoted).
    #[error("{path} does not hold a nats user seed (SU...)")]
    NotASeed { path: PathBuf },
    #[error("cannot generate an nkey: {0}")]
    Generate(String),
}

/// A durable consumer a service owns: which stream it reads and under which name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedConsumer {
    pub stream: Stream,
    pub durable: String,
}

impl OwnedConsumer {
    /// The consumer `ServiceKit::consume::<E>` creates for a service named `prefix`.
    fn of<E: Event>(prefix: &str) -> Self {
        Self {
            stream: E::STREAM,
            durable: durable_name::<E>(prefix),
        }
    }

    /// A stream-wide consumer (`StreamConsumer`), such as audit's activity log.
    fn of_stream(stream: Stream, prefix: &str, purpose: &str) -> Self {
        Self {
            stream,
            durable: stream_durable_name(prefix, purpose),
        }
    }
}

/// One service's NATS identity: who it is and what it publishes and consumes.
#[derive(Debug, Clone)]
pub struct ServiceIdentity {
    /// The client name (`ServiceSpec::name`), also the seed file's name.
    pub name: &'static str,
    pub env_prefix: &'static str,
    pub publishes: &'static [Stream],
    pub consumers: Vec<OwnedConsumer>,
}

/// What a user may publish and subscribe to (wire subjects, namespace applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

impl ServiceIdentity {
    fn new(spec: &'static ServiceSpec, consumers: Vec<OwnedConsumer>) -> Self {
        Self {
            name: spec.name,
            env_prefix: spec.env_prefix,
            publishes: spec.publishes,
            consumers,
        }
    }

    pub fn permissions(&self, naming: &Naming) -> Permissions {
        let api = |call: String| format!("$JS.API.{call}");
        let mut publish = Vec::new();
        for stream in self.publishes {
            publish.push(naming.subject(&format!("{}.>", stream.subject_root())));
        }
        // Streams it may create and update (every publisher sets its streams up; consumers
        // dead-letter into theirs), and the ones it only reads about.
        let mut owned: Vec<Stream> = self.publishes.to_vec();
        if !self.consumers.is_empty() {
            owned.push(Stream::DeadLetter);
        }
        for stream in &owned {
            let name = naming.stream(*stream);
            for call in ["CREATE", "UPDATE", "INFO"] {
                publish.push(api(format!("STREAM.{call}.{name}")));
            }
        }
        let read: BTreeSet<&str> = self
            .consumers
            .iter()
            .map(|c| c.stream.name())
            .chain([Stream::Revocations.name()])
            .collect();
        // A consumer that starts before the publisher creates the stream with the settings every
        // service agrees on (creating an existing stream with other settings fails); only the
        // publishers may update it, and theirs put any other settings right.
        for stream in Stream::ALL {
            if read.contains(stream.name()) && !owned.contains(&stream) {
                let name = naming.stream(stream);
                publish.push(api(format!("STREAM.CREATE.{name}")));
                publish.push(api(format!("STREAM.INFO.{name}")));
            }
        }
        for consumer in &self.consumers {
            let (stream, durable) = (naming.stream(consumer.stream), &consumer.durable);
            publish.push(api(format!("CONSUMER.CREATE.{stream}.{durable}")));
            // The filtered form: CONSUMER.CREATE.<stream>.<durable>.<filter subject>.
            publish.push(api(format!("CONSUMER.CREATE.{stream}.{durable}.>")));
            publish.push(api(format!("CONSUMER.DURABLE.CREATE.{stream}.{durable}")));
            publish.push(api(format!("CONSUMER.INFO.{stream}.{durable}")));
            publish.push(api(format!("CONSUMER.MSG.NEXT.{stream}.{durable}")));
            publish.push(format!("$JS.ACK.{stream}.{durable}.>"));
            publish.push(naming.subject(&format!("{}.{durable}", Stream::DeadLetter.subject_root())));
        }
        // Every process follows the revocations with an ordered consumer: ephemeral, named by
        // the server, never acknowledged.
        let revocations = naming.stream(Stream::Revocations);
        publish.push(api(format!("CONSUMER.CREATE.{revocations}")));
        publish.push(api(format!("CONSUMER.MSG.NEXT.{revocations}.*")));
        publish.push(api(format!("CONSUMER.INFO.{revocations}.*")));
        publish.push(api(format!("CONSUMER.DELETE.{revocations}.*")));
        Permissions {
            publish,
            subscribe: vec![format!("{}.>", inbox_prefix(self.name))],
        }
    }
}

/// Every service and the consumers it registers in its `lib.rs`.
pub fn service_identities() -> Vec<ServiceIdentity> {
    let identity = myaccount_identity::SPEC.consumer_name;
    let security_info = myaccount_security_info::SPEC.consumer_name;
    let devices = myaccount_devices::SPEC.consumer_name;
    let organizations = myaccount_organizations::SPEC.consumer_name;
    let audit = myaccount_audit::SPEC.consumer_name;
    let signals = myaccount_signals::SPEC.consumer_name;
    vec![
        ServiceIdentity::new(
            &myaccount_identity::SPEC,
            vec![
                OwnedConsumer::of::<SignInFlagged>(identity),
                OwnedConsumer::of::<DeviceDisabled>(identity),
                OwnedConsumer::of::<DeviceRegistered>(identity),
                OwnedConsumer::of::<DeviceEnabled>(identity),
                OwnedConsumer::of::<DeviceDeleted>(identity),
                OwnedConsumer::of::<MemberJoined>(identity),
                OwnedConsumer::of::<MemberLeft>(identity),
                OwnedConsumer::of::<MemberRemoved>(identity),
                OwnedConsumer::of::<OrganizationChanged>(identity),
            ],
        ),
        ServiceIdentity::new(
            &myaccount_security_info::SPEC,
            vec![
                OwnedConsumer::of::<OrganizationChanged>(security_info),
                OwnedConsumer::of::<PasswordChanged>(security_info),
                OwnedConsumer::of::<SignInFlagged>(security_info),
                OwnedConsumer::of::<MemberJoined>(security_info),
                OwnedConsumer::of::<MemberLeft>(security_info),
                OwnedConsumer::of::<MemberRemoved>(security_info),
                OwnedConsumer::of::<UserCreated>(security_info),
                OwnedConsumer::of::<ProfileUpdated>(security_info),
                OwnedConsumer::of::<UserDeleted>(security_info),
                // The notification sender, a consumer of its own inside security-info.
                OwnedConsumer::of::<NotificationRequested>("notifications"),
            ],
        ),
        ServiceIdentity::new(
            &myaccount_devices::SPEC,
            vec![
                OwnedConsumer::of::<SignInRecorded>(devices),
                OwnedConsumer::of::<UserCreated>(devices),
                OwnedConsumer::of::<UserDeleted>(devices),
            ],
        ),
        ServiceIdentity::new(
            &myaccount_organizations::SPEC,
            vec![
                OwnedConsumer::of::<UserCreated>(organizations),
                OwnedConsumer::of::<UserIdentifiersChanged>(organizations),
                OwnedConsumer::of::<UserDeleted>(organizations),
            ],
        ),
        ServiceIdentity::new(
            &myaccount_audit::SPEC,
            vec![
                OwnedConsumer::of::<SignInRecorded>(audit),
                OwnedConsumer::of::<OrganizationChanged>(audit),
                OwnedConsumer::of::<UserDeleted>(audit),
                // The activity log follows every account stream.
                OwnedConsumer::of_stream(Stream::Identity, audit, "activity_identity"),
                OwnedConsumer::of_stream(Stream::SecurityInfo, audit, "activity_securityinfo"),
                OwnedConsumer::of_stream(Stream::Devices, audit, "activity_devices"),
                OwnedConsumer::of_stream(Stream::Organizations, audit, "activity_organizations"),
                OwnedConsumer::of_stream(Stream::SignIn, audit, "activity_signin"),
            ],
        ),
        ServiceIdentity::new(
            &myaccount_signals::SPEC,
            vec![
                // The moments it turns into security event tokens.
                OwnedConsumer::of::<SessionRevoked>(signals),
                OwnedConsumer::of::<PasswordChanged>(signals),
                OwnedConsumer::of::<SecurityMethodAdded>(signals),
                OwnedConsumer::of::<SecurityMethodRemoved>(signals),
                OwnedConsumer::of::<UserDeleted>(signals),
                OwnedConsumer::of::<SignInFlagged>(signals),
                OwnedConsumer::of::<UserDisabled>(signals),
                OwnedConsumer::of::<UserEnabled>(signals),
                OwnedConsumer::of::<UserIdentifiersChanged>(signals),
                OwnedConsumer::of::<DeviceDisabled>(signals),
                OwnedConsumer::of::<DeviceEnabled>(signals),
                OwnedConsumer::of::<SignInRiskDetected>(signals),
            ],
        ),
    ]
}

/// Where the server listens and keeps its streams, and the installation's namespace.
#[derive(Debug, Clone)]
pub struct PlaneOptions {
    /// `host:port` of the client listener.
    pub listen: String,
    pub store_dir: PathBuf,
    /// `NATS_NAMESPACE` of the installation, if any.
    pub namespace: Option<String>,
}

/// What `write` produced.
#[derive(Debug, Clone)]
pub struct WrittenPlane {
    pub server_config: PathBuf,
    pub helm_values: PathBuf,
    /// Per service: its name, variable prefix and seed file.
    pub seed_files: Vec<(&'static str, &'static str, PathBuf)>,
}

impl WrittenPlane {
    pub fn seed_file(&self, service: &str) -> Option<&Path> {
        self.seed_files
            .iter()
            .find(|(name, _, _)| *name == service)
            .map(|(_, _, path)| path.as_path())
    }
}

/// Writes `dir/nats-server.conf`, `dir/nats-helm-values.yaml` and `dir/<service>/<service>.nk`
/// (mode 0600, in a directory of its own that a deployment mounts into that service alone). Seed files already in `dir` are kept, so running it again changes permissions
/// without rotating anyone's key; delete a seed file to rotate that service's key.
pub fn write(dir: &Path, options: &PlaneOptions) -> Result<WrittenPlane, NatsConfigError> {
    std::fs::create_dir_all(dir).map_err(|source| NatsConfigError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let naming = naming(options.namespace.as_deref());
    let mut users = Vec::new();
    let mut seed_files = Vec::new();
    for identity in service_identities() {
        let path =
            crate::files::private_file(dir, identity.name, &format!("{}.nk", identity.name)).map_err(|source| {
                NatsConfigError::Write {
                    path: dir.join(identity.name),
                    source,
                }
            })?;
        let public_key = ensure_seed(&path)?;
        users.push((identity.name, public_key, identity.permissions(&naming)));
        seed_files.push((identity.name, identity.env_prefix, path));
    }
    let server_config = dir.join("nats-server.conf");
    write_file(&server_config, render_server_config(options, &users).as_bytes(), 0o644)?;
    let helm_values = dir.join("nats-helm-values.yaml");
    write_file(&helm_values, render_helm_values(&users).as_bytes(), 0o644)?;
    Ok(WrittenPlane {
        server_config,
        helm_values,
        seed_files,
    })
}

fn naming(namespace: Option<&str>) -> Naming {
    let mut settings = platform::events::NatsSettings::new("nats://unused");
    settings.namespace = namespace.map(str::to_owned);
    settings.naming()
}

/// The public key of the seed in `path`, generating a fresh user seed when there is none.
fn ensure_seed(path: &Path) -> Result<String, NatsConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let not_a_seed = || NatsConfigError::NotASeed { path: path.to_owned() };
            let pair = nkeys::KeyPair::from_seed(text.trim()).map_err(|_| not_a_seed())?;
            let public_key = pair.public_key();
            if !public_key.starts_with('U') {
                return Err(not_a_seed());
            }
            Ok(public_key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pair = nkeys::KeyPair::new_user();
            let seed = pair.seed().map_err(|e| NatsConfigError::Generate(e.to_string()))?;
            write_file(path, format!("{seed}\n").as_bytes(), 0o600)?;
            Ok(pair.public_key())
        }
        Err(source) => Err(NatsConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_file(path: &Path, content: &[u8], mode: u32) -> Result<(), NatsConfigError> {
    crate::files::write_with_mode(path, content, mode).map_err(|source| NatsConfigError::Write {
        path: path.to_owned(),
        source,
    })
}

/// A double-quoted string, valid in both the NATS configuration format and YAML.
fn quoted(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

fn list(values: &[String]) -> String {
    values.iter().map(|v| quoted(v)).collect::<Vec<_>>().join(", ")
}

fn render_server_config(options: &PlaneOptions, users: &[(&str, String, Permissions)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `myaccount nats-config`. One nkey user per MyAccount service; nobody else\n\
         # may connect (no anonymous user). Start with: nats-server -c nats-server.conf\n"
    );
    let _ = writeln!(out, "listen: {}", quoted(&options.listen));
    let _ = writeln!(
        out,
        // Acknowledged means on disk: without `sync_interval: always` a node that crashes, or a
        // cluster that loses power, can lose messages it had acknowledged (nats-server 2.10+).
        "\njetstream {{\n  store_dir: {}\n  sync_interval: always\n}}",
        quoted(&options.store_dir.to_string_lossy())
    );
    let _ = writeln!(out, "\nauthorization {{\n  users: [");
    for (name, public_key, permissions) in users {
        let _ = writeln!(out, "    # {name}");
        let _ = writeln!(out, "    {{");
        let _ = writeln!(out, "      nkey: {}", quoted(public_key));
        let _ = writeln!(out, "      permissions: {{");
        let _ = writeln!(out, "        publish: {{ allow: [{}] }}", list(&permissions.publish));
        let _ = writeln!(
            out,
            "        subscribe: {{ allow: [{}] }}",
            list(&permissions.subscribe)
        );
        let _ = writeln!(out, "      }}");
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "  ]\n}}");
    out
}

/// Values for the official NATS chart (nats-io/k8s `nats`, 1.x): JetStream on, and the same
/// authorization block merged into its configuration. Public keys only; the seeds go into one
/// Secret per service.
fn render_helm_values(users: &[(&str, String, Permissions)]) -> String {
    let mut out = String::from(
        "# Written by `myaccount nats-config`: values for the official NATS chart\n\
         # (helm install nats nats/nats -f nats-helm-values.yaml). Public keys only.\n\
         config:\n  jetstream:\n    enabled: true\n    fileStore:\n      enabled: true\n    merge:\n      sync_interval: always\n  merge:\n    authorization:\n      users:\n",
    );
    for (name, public_key, permissions) in users {
        let _ = writeln!(out, "        # {name}");
        let _ = writeln!(out, "        - nkey: {}", quoted(public_key));
        let _ = writeln!(out, "          permissions:");
        let _ = writeln!(
            out,
            "            publish:\n              allow: [{}]",
            list(&permissions.publish)
        );
        let _ = writeln!(
            out,
            "            subscribe:\n              allow: [{}]",
            list(&permissions.subscribe)
        );
    }
    out
}

/// The lines `myaccount nats-config` prints: the variables per deployed service, the ones for
/// `myaccount up`, and how to put the seeds into the chart's Secrets.
pub fn instructions(written: &WrittenPlane, url: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "wrote {}", written.server_config.display());
    let _ = writeln!(out, "wrote {}", written.helm_values.display());
    let _ = writeln!(out, "\n# Each service, run on its own, needs:");
    for (name, _, path) in &written.seed_files {
        let _ = writeln!(out, "{name}: NATS_URL={url} NATS_NKEY_SEED_FILE={}", path.display());
    }
    let _ = writeln!(out, "\n# myaccount up (every service in one process):");
    let _ = writeln!(out, "NATS_URL={url}");
    for (_, prefix, path) in &written.seed_files {
        let _ = writeln!(out, "{prefix}_NATS_NKEY_SEED_FILE={}", path.display());
    }
    let _ = writeln!(
        out,
        "\n# The Helm chart reads each seed from the Secret <release fullname>-nats-<service>, key nkey-seed:"
    );
    for (name, _, path) in &written.seed_files {
        let _ = writeln!(
            out,
            "kubectl create secret generic myaccount-nats-{name} --from-file=nkey-seed={}",
            path.display()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str) -> ServiceIdentity {
        service_identities()
            .into_iter()
            .find(|i| i.name == name)
            .expect("a known service")
    }

    #[test]
    fn a_service_publishes_only_its_own_domains() {
        let devices = identity("devices").permissions(&naming(None));
        assert!(devices.publish.contains(&"myaccount.devices.v1.>".to_owned()));
        assert!(!devices.publish.iter().any(|s| s.starts_with("myaccount.identity.")));
        assert!(
            !devices
                .publish
                .iter()
                .any(|s| s.contains("STREAM.UPDATE.MYACCOUNT_SIGNIN"))
        );
        assert!(
            !devices
                .publish
                .iter()
                .any(|s| s.contains("STREAM.UPDATE.MYACCOUNT_IDENTITY"))
        );
        // On identity's stream: its own consumers of user_created and user_deleted, nobody else's.
        let on_identity: Vec<&String> = devices
            .publish
            .iter()
            .filter(|s| s.contains("CONSUMER") && s.contains(".MYACCOUNT_IDENTITY."))
            .collect();
        for own in ["devices_user_created", "devices_user_deleted"] {
            assert!(on_identity.iter().any(|s| s.contains(own)), "{own}: {on_identity:?}");
        }
        assert!(
            on_identity
                .iter()
                .all(|s| s.contains("devices_user_deleted") || s.contains("devices_user_created")),
            "{on_identity:?}"
        );
        assert_eq!(devices.subscribe, vec!["_INBOX_devices.>".to_owned()]);
        let identity = identity("identity").permissions(&naming(None));
        assert!(identity.publish.contains(&"myaccount.revocations.v1.>".to_owned()));
    }

    #[test]
    fn namespaced_installations_get_namespaced_permissions() {
        let audit = identity("audit").permissions(&naming(Some("blue")));
        assert!(audit.publish.contains(&"blue.myaccount.signin.v1.>".to_owned()));
        assert!(
            audit
                .publish
                .contains(&"$JS.API.CONSUMER.MSG.NEXT.BLUE_MYACCOUNT_DEVICES.audit_activity_devices".to_owned())
        );
        assert!(
            audit
                .publish
                .contains(&"blue.myaccount.deadletter.v1.audit_recorded".to_owned())
        );
    }

    #[test]
    fn seeds_are_private_and_kept_across_runs() {
        let dir = std::env::temp_dir().join(format!("myaccount-plane-{}", uuid::Uuid::new_v4().simple()));
        let options = PlaneOptions {
            listen: "127.0.0.1:4222".into(),
            store_dir: dir.join("jetstream"),
            namespace: None,
        };
        let first = write(&dir, &options).expect("written");
        let seed = first.seed_file("devices").expect("a seed for devices");
        // In a directory of its own, which a deployment mounts into devices alone.
        assert_eq!(seed, dir.join("devices").join("devices.nk"));
        let beside: Vec<_> = std::fs::read_dir(dir.join("devices")).expect("own dir").collect();
        assert_eq!(beside.len(), 1, "the seed's directory holds nothing else");
        let mode = std::fs::metadata(seed).expect("seed file").permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);
        let before = std::fs::read_to_string(seed).expect("seed");
        let config = std::fs::read_to_string(&first.server_config).expect("config");
        assert!(
            !config.contains(before.trim()),
            "the server configuration holds public keys only"
        );
        write(&dir, &options).expect("written again");
        assert_eq!(std::fs::read_to_string(seed).expect("seed"), before);
        std::fs::write(seed, "not a seed").expect("overwrite");
        assert!(matches!(write(&dir, &options), Err(NatsConfigError::NotASeed { .. })));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
