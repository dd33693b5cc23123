//! The system as it ships, on this machine, with every part in the test's hands: a three-node
//! JetStream cluster (the pinned nats-server, R3 streams, `sync_interval: always`), a Postgres
//! instance of its own, two replicas of every service and two gateways as separate processes of
//! the real binaries, configured only by environment variables, as in Kubernetes. A small TCP
//! balancer in front of each service and of the gateways plays kube-proxy: each new connection
//! goes to the next replica that accepts it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use platform::testing::{eventually, free_port, pinned_nats_server};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// The workspace root (this crate's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("integration-tests lives in the workspace")
        .to_owned()
}

/// The binaries the suite runs: every service's, the gateway's and the CLI's.
const SHIPPED_BINARIES: [&str; 7] = [
    "myaccount-identity",
    "myaccount-security-info",
    "myaccount-devices",
    "myaccount-organizations",
    "myaccount-audit",
    "myaccount-gateway",
    "myaccount",
];

/// Builds the shipped binaries (a no-op when they are fresh) and returns the directory holding
/// them: the profile directory of this test binary (`target/debug`), so the suite always runs
/// what the sources say, never a stale build.
///
/// The build is the README's test command's own (`cargo test --workspace --all-features`,
/// without running anything), which builds every service's binary for its package's tests.
/// Under that command this is a no-op; a build of the binaries alone would resolve features
/// differently (dev-dependencies take part only when tests are built) and compile the services
/// and everything under them a second time, about four minutes on a clean checkout. What it
/// adds to the Dockerfile's build is for tests: `platform`'s `testing` module, which no binary
/// calls, and the features the tests' dev-dependencies turn on in crates they share.
pub fn shipped_binaries() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/fault-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_owned();
    let target_dir = profile_dir.parent().expect("target/<profile>").to_owned();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    // Without the variables cargo set for this test (CARGO_PKG_*, CARGO_MANIFEST_DIR, the
    // library path, ...): crates that track them would look changed and be built again, by this
    // build and by the next `cargo test`, every time.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo = (name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR")
            || name == "LD_LIBRARY_PATH"
            || name == "OUT_DIR";
        if set_by_cargo {
            build.env_remove(name.as_ref());
        }
    }
    build
        .current_dir(workspace_root())
        .args(["test", "--workspace", "--all-features", "--no-run"])
        .arg("--target-dir")
        .arg(&target_dir);
    if profile_dir.file_name().is_some_and(|name| name == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building the shipped binaries failed");
    for binary in SHIPPED_BINARIES {
        assert!(
            profile_dir.join(binary).is_file(),
            "{binary} was not built: every shipped package needs a test of its own under tests/, \
             which makes `cargo test` build its binary"
        );
    }
    profile_dir
}

/// A directory of the run: configuration, stores, logs. Kept when the test fails (its path is
/// printed), removed when it passes.
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("myaccount-fault-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("a run directory");
        eprintln!("fault suite: run directory {}", path.display());
        Self { path }
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

// --- Postgres -----------------------------------------------------------------------------------

/// The test's own Postgres (initdb into the run directory, a free port): stopped and started
/// again by the test without touching the machine's.
pub use platform::testing::PostgresServer as Postgres;

// --- NATS ---------------------------------------------------------------------------------------

struct NatsNode {
    client_port: u16,
    monitor_port: u16,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// Three nats-servers in one cluster on loopback, JetStream on each, writes synced to disk
/// before they are acknowledged.
pub struct NatsCluster {
    binary: PathBuf,
    nodes: Vec<NatsNode>,
}

impl NatsCluster {
    pub async fn start(run: &RunDir) -> Self {
        let binary = pinned_nats_server();
        let ports: Vec<(u16, u16, u16)> = (0..3).map(|_| (free_port(), free_port(), free_port())).collect();
        let mut nodes = Vec::new();
        for (i, (client_port, cluster_port, monitor_port)) in ports.iter().copied().enumerate() {
            let dir = run.path.join(format!("nats-{i}"));
            std::fs::create_dir_all(&dir).expect("nats directory");
            let routes: Vec<String> = ports
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (_, cluster, _))| format!("\"nats-route://127.0.0.1:{cluster}\""))
                .collect();
            let config = dir.join("nats-server.conf");
            std::fs::write(
                &config,
                format!(
                    "server_name: fault_{i}\n\
                     listen: 127.0.0.1:{client_port}\n\
                     http: 127.0.0.1:{monitor_port}\n\
                     jetstream {{\n  store_dir: \"{store}\"\n  sync_interval: always\n}}\n\
                     cluster {{\n  name: fault\n  listen: 127.0.0.1:{cluster_port}\n  routes: [{routes}]\n}}\n",
                    store = dir.join("jetstream").display(),
                    routes = routes.join(", ")
                ),
            )
            .expect("nats configuration");
            nodes.push(NatsNode {
                client_port,
                monitor_port,
                config,
                log: dir.join("nats-server.log"),
                child: None,
            });
        }
        let mut cluster = Self { binary, nodes };
        for i in 0..3 {
            cluster.spawn(i);
        }
        for i in 0..3 {
            cluster.wait_until_current(i).await;
        }
        cluster
    }

    /// Every node, for clients: they fail over between them.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("nats://127.0.0.1:{}", node.client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&node.config)
            .arg("-l")
            .arg(&node.log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        node.child = Some(child);
    }

    /// `kill -9` of node `i`.
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts node `i` again (same configuration and store) and waits until its JetStream is
    /// current with the cluster.
    pub async fn restart(&mut self, i: usize) {
        self.spawn(i);
        self.wait_until_current(i).await;
    }

    /// `/healthz` answers 200 once the server's JetStream is up and its streams current.
    async fn wait_until_current(&self, i: usize) {
        let url = format!("http://127.0.0.1:{}/healthz", self.nodes[i].monitor_port);
        let client = reqwest::Client::new();
        eventually(Duration::from_secs(60), || {
            let request = client.get(&url).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
    }
}

// --- Balancer -----------------------------------------------------------------------------------

/// kube-proxy in miniature: a loopback port whose every new connection goes to the next backend
/// that accepts one; a replica that is down is skipped, and so is one taken out of rotation
/// ([`Balancer::take_out`]: its pod is terminating, so its endpoint has left the Service).
pub struct Balancer {
    pub port: u16,
    stop: CancellationToken,
    out_of_rotation: Arc<std::sync::Mutex<HashSet<u16>>>,
}

impl Balancer {
    pub async fn start(backends: Vec<u16>) -> Self {
        let port = free_port();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the balancer's port");
        let stop = CancellationToken::new();
        let token = stop.clone();
        let next = Arc::new(AtomicUsize::new(0));
        let out_of_rotation: Arc<std::sync::Mutex<HashSet<u16>>> = Arc::default();
        let out = out_of_rotation.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else { continue };
                let _ = client.set_nodelay(true);
                let first = next.fetch_add(1, Ordering::Relaxed);
                // The backends in rotation (all of them if none is: better a refused connection
                // than none tried).
                let backends: Vec<u16> = match out.lock() {
                    Ok(out) if backends.iter().any(|b| !out.contains(b)) => {
                        backends.iter().copied().filter(|b| !out.contains(b)).collect()
                    }
                    _ => backends.clone(),
                };
                let token = token.clone();
                tokio::spawn(async move {
                    for k in 0..backends.len() {
                        let port = backends[(first + k) % backends.len()];
                        let address = SocketAddr::from(([127, 0, 0, 1], port));
                        let Ok(Ok(mut server)) =
                            tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(address)).await
                        else {
                            continue;
                        };
                        let _ = server.set_nodelay(true);
                        tokio::select! {
                            _ = token.cancelled() => {}
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        }
                        return;
                    }
                });
            }
        });
        Self {
            port,
            stop,
            out_of_rotation,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// New connections no longer go to `backend`, as when Kubernetes starts terminating its pod
    /// (the endpoint leaves the Service; connections already made stay). Without it, a
    /// connection made just as the stopping process closes its listener is reset unanswered.
    pub fn take_out(&self, backend: u16) {
        if let Ok(mut out) = self.out_of_rotation.lock() {
            out.insert(backend);
        }
    }

    /// `backend` takes new connections again (its new pod is ready).
    pub fn put_back(&self, backend: u16) {
        if let Ok(mut out) = self.out_of_rotation.lock() {
            out.remove(&backend);
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

// --- Processes ----------------------------------------------------------------------------------

/// One replica: a shipped binary started with its environment only (nothing inherited but
/// `PATH`), its log in the run directory.
pub struct Replica {
    pub name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    /// Where readiness is asked: the admin port's `/readyz` (the gateway's own port).
    ready_url: String,
    child: Option<Child>,
    starts: usize,
}

impl Replica {
    pub fn new(name: String, binary: PathBuf, env: Vec<(String, String)>, log_dir: &Path, ready_url: String) -> Self {
        Self {
            log: log_dir.join(format!("{name}.log")),
            name,
            binary,
            env,
            ready_url,
            child: None,
            starts: 0,
        }
    }

    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("a log file");
        let child = Command::new(&self.binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", self.name));
        self.child = Some(child);
        self.starts += 1;
    }

    /// Waits until `/readyz` answers 200, as Kubernetes does before routing to a pod.
    pub async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let url = self.ready_url.clone();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                panic!("{} exited ({status}) before it was ready: {tail:#?}", self.name);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} not ready within 90 s; its log: {}",
                self.name,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `kill -9`.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// SIGTERM, then waits for the process to exit; returns whether it exited cleanly.
    pub async fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let pid = child.id().expect("a running replica has a pid");
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        match tokio::time::timeout(Duration::from_secs(40), child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                let _ = child.kill().await;
                false
            }
        }
    }
}
