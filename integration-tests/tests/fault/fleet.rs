//! The whole system as separate processes: two replicas of every service and two gateways, each
//! configured only by environment variables, behind balancers, on the test's own Postgres and
//! NATS cluster.

use crate::system::{Balancer, NatsCluster, Postgres, Replica, RunDir, shipped_binaries};
use platform::testing::free_port;

pub const ADMIN_UPN: &str = "admin@fault.example";
pub const ADMIN_PASSWORD: &str = "fault suite admin lantern 77";
/// A keyring for the run (32 bytes); the same in every replica, as one Secret would be.
const DATA_ENCRYPTION_KEYS: &str = "fault:ZmF1bHQgc3VpdGUga2V5cmluZywgMzIgYnl0ZXMhISE=";
const COOKIE_KEYS: &str = "fault-cookies:ZmF1bHQgc3VpdGUgY29va2llIGtleXMgMzIgYnl0ZXM=";

/// A MyAccount service as the fleet runs it.
pub struct ServiceDef {
    pub name: &'static str,
    binary: &'static str,
    pub prefix: &'static str,
    pub database: &'static str,
}

pub const SERVICES: [ServiceDef; 5] = [
    ServiceDef {
        name: "identity",
        binary: "myaccount-identity",
        prefix: "IDENTITY",
        database: "myaccount_identity",
    },
    ServiceDef {
        name: "security-info",
        binary: "myaccount-security-info",
        prefix: "SECURITYINFO",
        database: "myaccount_securityinfo",
    },
    ServiceDef {
        name: "devices",
        binary: "myaccount-devices",
        prefix: "DEVICES",
        database: "myaccount_devices",
    },
    ServiceDef {
        name: "organizations",
        binary: "myaccount-organizations",
        prefix: "ORGANIZATIONS",
        database: "myaccount_organizations",
    },
    ServiceDef {
        name: "audit",
        binary: "myaccount-audit",
        prefix: "AUDIT",
        database: "myaccount_audit",
    },
];
pub const IDENTITY: usize = 0;
pub const AUDIT: usize = 4;

/// Everything running. Fields drop in order: processes first, then the balancers, NATS, Postgres
/// and the run directory.
pub struct Fleet {
    /// `services[i]`: the two replicas of `SERVICES[i]`.
    pub services: Vec<Vec<Replica>>,
    /// `services_grpc_ports[i][r]`: where replica `r` of `SERVICES[i]` serves gRPC.
    pub grpc_ports: Vec<Vec<u16>>,
    pub gateways: Vec<Replica>,
    pub service_balancers: Vec<Balancer>,
    pub gateway_balancer: Balancer,
    /// Each gateway's port, as the balancer knows it.
    pub gateway_ports: Vec<u16>,
    _jwks_balancer: Balancer,
    pub nats: NatsCluster,
    pub postgres: Postgres,
    /// The gateway's workload key: the suite calls a service directly only as the gateway, the
    /// one workload every service takes a person's calls from.
    pub gateway_key: std::sync::Arc<platform::workload::WorkloadKey>,
    /// Kept (with every log) when the test fails.
    _run: RunDir,
}

impl Fleet {
    pub async fn start() -> Self {
        let binaries = tokio::task::spawn_blocking(shipped_binaries)
            .await
            .expect("the build finishes");
        let run = RunDir::new();
        let postgres = Postgres::start(&run.path.join("postgres")).await;
        let nats = NatsCluster::start(&run).await;
        migrate(&binaries, &postgres).await;

        let ports: Vec<Vec<(u16, u16)>> = SERVICES
            .iter()
            .map(|_| (0..2).map(|_| (free_port(), free_port())).collect())
            .collect();
        let mut service_balancers = Vec::new();
        for replicas in &ports {
            service_balancers.push(Balancer::start(replicas.iter().map(|(grpc, _)| *grpc).collect()).await);
        }
        let jwks_balancer = Balancer::start(ports[IDENTITY].iter().map(|(_, admin)| *admin).collect()).await;
        let jwks_url = format!("{}/.well-known/jwks.json", jwks_balancer.url());
        // Who calls whom, as `myaccount workload-keys` writes it: each process is given the
        // variables of its own prefix only (its key file, the callers it trusts).
        let workload_keys =
            myaccount::workload_keys::write(&run.path.join("workloads")).expect("workload keys written");
        let workload_variables = myaccount::workload_keys::variables(&workload_keys);
        let gateway_key = workload_keys
            .iter()
            .find(|k| k.workload == platform::workload::GATEWAY)
            .map(|k| {
                platform::workload::WorkloadKey::from_file(
                    platform::workload::GATEWAY,
                    &k.private_key,
                    "GATEWAY_WORKLOAD_KEY_FILE",
                )
                .expect("the gateway's key reads back")
            })
            .expect("a key for the gateway");
        let own_workload_variables = |prefix: &str| {
            workload_variables
                .iter()
                .filter(|(name, _)| name.starts_with(&format!("{prefix}_")))
                .cloned()
                .collect::<Vec<_>>()
        };

        let mut services: Vec<Vec<Replica>> = Vec::new();
        for (i, service) in SERVICES.iter().enumerate() {
            let mut replicas = Vec::new();
            for (r, (grpc, admin)) in ports[i].iter().copied().enumerate() {
                let p = service.prefix;
                let mut env = vec![
                    ("RUST_LOG".to_owned(), "info,sqlx=warn".to_owned()),
                    (format!("{p}_HOST"), "127.0.0.1".to_owned()),
                    (format!("{p}_GRPC_PORT"), grpc.to_string()),
                    (format!("{p}_ADMIN_PORT"), admin.to_string()),
                    (format!("{p}_DATABASE_URL"), postgres.url(service.database)),
                    // Migrated once before, as the chart's Job does.
                    (format!("{p}_RUN_MIGRATIONS"), "false".to_owned()),
                    ("NATS_URL".to_owned(), nats.url()),
                    ("NATS_STREAM_REPLICAS".to_owned(), "3".to_owned()),
                    ("JWKS_URL".to_owned(), jwks_url.clone()),
                    ("DATA_ENCRYPTION_KEYS".to_owned(), DATA_ENCRYPTION_KEYS.to_owned()),
                ];
                env.extend(own_workload_variables(p));
                if i == IDENTITY {
                    env.push(("SECURITYINFO_URL".to_owned(), service_balancers[1].url()));
                    env.push(("IDENTITY_BOOTSTRAP_ADMIN_UPN".to_owned(), ADMIN_UPN.to_owned()));
                    env.push((
                        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD".to_owned(),
                        ADMIN_PASSWORD.to_owned(),
                    ));
                }
                replicas.push(Replica::new(
                    format!("{}-{r}", service.name),
                    binaries.join(service.binary),
                    env,
                    &run.path,
                    format!("http://127.0.0.1:{admin}/readyz"),
                ));
            }
            services.push(replicas);
        }
        // Identity's first replica alone (it creates the signing keys and the admin), then the
        // other first replicas together, then every second replica.
        services[IDENTITY][0].spawn();
        services[IDENTITY][0].wait_until_ready().await;
        for replicas in services.iter_mut().skip(1) {
            replicas[0].spawn();
        }
        futures::future::join_all(services.iter_mut().skip(1).map(|r| r[0].wait_until_ready())).await;
        for replicas in &mut services {
            replicas[1].spawn();
        }
        futures::future::join_all(services.iter_mut().map(|r| r[1].wait_until_ready())).await;

        let gateway_ports = [free_port(), free_port()];
        let mut gateways = Vec::new();
        for (r, port) in gateway_ports.iter().enumerate() {
            let mut env = vec![
                ("RUST_LOG".to_owned(), "info".to_owned()),
                ("GATEWAY_HOST".to_owned(), "127.0.0.1".to_owned()),
                ("GATEWAY_PORT".to_owned(), port.to_string()),
                ("IDENTITY_URL".to_owned(), service_balancers[0].url()),
                ("SECURITYINFO_URL".to_owned(), service_balancers[1].url()),
                ("DEVICES_URL".to_owned(), service_balancers[2].url()),
                ("ORGANIZATIONS_URL".to_owned(), service_balancers[3].url()),
                ("AUDIT_URL".to_owned(), service_balancers[4].url()),
                ("JWKS_URL".to_owned(), jwks_url.clone()),
                ("GATEWAY_COOKIE_KEYS".to_owned(), COOKIE_KEYS.to_owned()),
                // The load comes from one address: the per-IP and per-account limits would
                // measure themselves, not the system.
                ("GATEWAY_AUTH_RATE_LIMIT_PER_IP".to_owned(), "0".to_owned()),
                ("GATEWAY_AUTH_RATE_LIMIT_PER_ACCOUNT".to_owned(), "0".to_owned()),
                // Behind the balancer, as behind a load balancer: people's addresses come in
                // X-Forwarded-For.
                ("GATEWAY_TRUST_FORWARDED_FOR".to_owned(), "true".to_owned()),
            ];
            env.extend(own_workload_variables("GATEWAY"));
            let mut gateway = Replica::new(
                format!("gateway-{r}"),
                binaries.join("myaccount-gateway"),
                env,
                &run.path,
                format!("http://127.0.0.1:{port}/readyz"),
            );
            gateway.spawn();
            gateways.push(gateway);
        }
        futures::future::join_all(gateways.iter_mut().map(Replica::wait_until_ready)).await;
        let gateway_balancer = Balancer::start(gateway_ports.to_vec()).await;
        Self {
            services,
            grpc_ports: ports
                .iter()
                .map(|replicas| replicas.iter().map(|(grpc, _)| *grpc).collect())
                .collect(),
            gateways,
            service_balancers,
            gateway_balancer,
            gateway_ports: gateway_ports.to_vec(),
            _jwks_balancer: jwks_balancer,
            nats,
            postgres,
            gateway_key: std::sync::Arc::new(gateway_key),
            _run: run,
        }
    }

    pub fn database_url(&self, service: usize) -> String {
        self.postgres.url(SERVICES[service].database)
    }
}

/// `myaccount migrate` against the fleet's Postgres (it creates the databases too).
async fn migrate(binaries: &std::path::Path, postgres: &Postgres) {
    let mut command = tokio::process::Command::new(binaries.join("myaccount"));
    command
        .arg("migrate")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for service in &SERVICES {
        command.env(
            format!("{}_DATABASE_URL", service.prefix),
            postgres.url(service.database),
        );
    }
    let output = command.output().await.expect("myaccount migrate runs");
    assert!(
        output.status.success(),
        "myaccount migrate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
