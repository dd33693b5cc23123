//! A Postgres server of one test's own (initdb into a directory of the test, a free port): a
//! test can stop and start it again, or configure it (TLS, `pg_hba.conf`) without touching the
//! machine's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::{eventually, free_port};

pub struct PostgresServer {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    /// initdb and the server refuse to run as root: then they run as the `postgres` user.
    as_postgres_user: bool,
}

impl PostgresServer {
    /// initdb into `dir/cluster` (trust authentication, user `postgres`) and start.
    pub async fn start(dir: &Path) -> Self {
        Self::start_configured(dir, |_| {}).await
    }

    /// As [`PostgresServer::start`], with `configure` run on the cluster's directory before the
    /// first start: it may append to `postgresql.conf`, replace `pg_hba.conf` and put
    /// certificates there.
    pub async fn start_configured(dir: &Path, configure: impl FnOnce(&Path)) -> Self {
        let data = dir.to_owned();
        std::fs::create_dir_all(&data).expect("postgres directory");
        let postgres = Self {
            bin: installed_postgres_bin(),
            data,
            port: free_port(),
            as_postgres_user: is_root(),
        };
        postgres.give_to_server_user();
        run_ok(
            postgres
                .command("initdb")
                .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
                .arg(postgres.cluster()),
        );
        configure(&postgres.cluster());
        postgres.give_to_server_user();
        postgres.resume().await;
        postgres
    }

    /// The cluster's directory (`postgresql.conf`, `pg_hba.conf`).
    pub fn cluster(&self) -> PathBuf {
        self.data.join("cluster")
    }

    fn give_to_server_user(&self) {
        if self.as_postgres_user {
            run_ok(
                std::process::Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&self.data),
            );
        }
    }

    fn command(&self, tool: &str) -> std::process::Command {
        let path = self.bin.join(tool);
        if self.as_postgres_user {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            std::process::Command::new(path)
        }
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("postgres.log")).unwrap_or_default()
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub async fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off \
             -c shared_buffers=64MB",
            self.port,
            self.data.display()
        );
        run_ok(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.cluster())
                .args(["-o", &options, "-l"])
                .arg(self.data.join("postgres.log"))
                .args(["-w", "start"]),
        );
        let port = self.port;
        eventually(Duration::from_secs(30), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await;
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`): every
    /// connection breaks, nothing is flushed politely.
    pub fn stop(&self) {
        run_ok(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.cluster())
                .args(["-m", "immediate", "-w", "stop"]),
        );
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.cluster())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The newest installed server: `/usr/lib/postgresql/<version>/bin`.
fn installed_postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql (deploy/scripts/ensure-services.sh)")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().expect("an installed PostgreSQL server with initdb").1
}

fn run_ok(command: &mut std::process::Command) {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
