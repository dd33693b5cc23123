//! `myaccount`: run every service and the gateway in one process, migrate the databases, seed a
//! demo tenant, and deal with dead letters and stuck outbox events.

mod bench;
mod dead_letters;
mod demo;
mod demo_phone;
mod healthcheck;
mod operate;
mod outbox;
mod ssf;
mod up;
mod user;

use clap::{Parser, Subcommand};
use myaccount::{nats_config, workload_keys};
use platform::config::Env;

#[derive(Parser)]
#[command(name = "myaccount", version, about = "MyAccount: the self-service account portal")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service and the gateway in this process, each on its own port.
    Up {
        /// Seed the demo tenant once everything is serving.
        #[arg(long)]
        demo: bool,
    },
    /// Create the databases if needed and apply every service's migrations, then exit.
    Migrate,
    /// Seed a demo tenant into a running system (idempotent) and print its users.
    Demo,
    /// Benchmarks, each reported beside a baseline measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Probe a server for a container health check: exit 0 when healthy, 1 when not.
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Events a service's consumers gave up on: list, show, replay, discard.
    DeadLetters(dead_letters::DeadLettersArgs),
    /// A service's outbox: events stuck in it, and sending sent events again.
    Outbox(outbox::OutboxArgs),
    /// OpenID Shared Signals: register a receiver (relying party) of security event tokens.
    #[command(subcommand)]
    Ssf(ssf::SsfCommand),
    /// Accounts: disable one (sign-ins refused, sessions ended) or enable it again.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Write a NATS server configuration with one nkey user per service (and the permissions
    /// of each), a seed file per service and values for the official NATS chart.
    NatsConfig {
        /// Directory to write nats-server.conf, nats-helm-values.yaml and <service>/<service>.nk into.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Client listener of the server (host:port).
        #[arg(long, default_value = "127.0.0.1:4222")]
        listen: String,
        /// JetStream storage directory; <out>/jetstream when not given.
        #[arg(long)]
        store_dir: Option<std::path::PathBuf>,
        /// NATS_NAMESPACE of the installation, when it has one.
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Write the key of each workload that calls another (the gateway, identity): a private key
    /// file per workload, its public key, and the variables of callers and callees.
    WorkloadKeys {
        /// Directory to write <workload>.pem and <workload>.pub into (existing keys are kept).
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Sign-in events from the outbox to "my sign-ins": throughput, visibility latency, query time.
    Signins(bench::SigninsArgs),
    /// Every gateway read path under concurrent load, beside a trivial handler and the profile
    /// read; password sign-ins beside raw argon2id verifications.
    Pages(bench::PagesArgs),
    /// How long after a session ends its token is refused by every service, beside a bare
    /// JetStream message's trip; what the check costs per call.
    Revocation(bench::revocation::RevocationArgs),
    /// Whether a refused sign-in's time tells which accounts exist: the medians of wrong
    /// passwords for an existing, an unknown, a disabled account and one with an app password.
    Enumeration(bench::enumeration::EnumerationArgs),
    /// How long after a cause commits (a session ended) its security event token reaches a
    /// push receiver, beside a bare JetStream publish -> consume round trip.
    Signals(bench::signals::SignalsArgs),
    /// What identity's password verification costs beside the argon2 crate's own, timed in
    /// pairs on every core.
    Passwords(bench::passwords::PasswordsArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("info,sqlx=warn,tower_http=warn");
    let cli = Cli::parse();
    match cli.command {
        Command::Up { demo } => up::run(up::local_env(Env::from_process()), demo).await,
        Command::Migrate => up::migrate(&up::local_env(Env::from_process())).await,
        Command::Demo => {
            let env = up::local_env(Env::from_process());
            demo::seed(&demo::DemoTarget::from_env(&env)?).await
        }
        Command::Bench(BenchCommand::Signins(args)) => bench::signins(args).await,
        Command::Bench(BenchCommand::Pages(args)) => bench::pages(args).await,
        Command::Bench(BenchCommand::Revocation(args)) => bench::revocation::revocation(args).await,
        Command::Bench(BenchCommand::Enumeration(args)) => bench::enumeration::enumeration(args).await,
        Command::Bench(BenchCommand::Signals(args)) => bench::signals::signals(args).await,
        Command::Bench(BenchCommand::Passwords(args)) => bench::passwords::passwords(args).await,
        Command::Healthcheck(args) => std::process::exit(healthcheck::run(args).await),
        Command::DeadLetters(args) => dead_letters::run(&Env::from_process(), args).await,
        Command::Outbox(args) => outbox::run(&Env::from_process(), args).await,
        Command::Ssf(command) => ssf::run(&Env::from_process(), command).await,
        Command::User(command) => user::run(&Env::from_process(), command).await,
        Command::NatsConfig {
            out,
            listen,
            store_dir,
            namespace,
        } => {
            let options = nats_config::PlaneOptions {
                store_dir: store_dir.unwrap_or_else(|| out.join("jetstream")),
                listen,
                namespace,
            };
            let written = nats_config::write(&out, &options)?;
            print!(
                "{}",
                nats_config::instructions(&written, &format!("nats://{}", options.listen))
            );
            Ok(())
        }
        Command::WorkloadKeys { out } => {
            let written = workload_keys::write(&out)?;
            print!("{}", workload_keys::instructions(&written));
            Ok(())
        }
    }
}
