//! `myaccount bench signins`: how fast sign-in events travel from the outbox through JetStream
//! into the audit log, and how fast "my sign-ins" answers over a large log, each beside a
//! baseline measured in the same run on the same machine (raw JetStream publish, raw batched
//! Postgres insert, audit's own log write alone, a trivial gRPC call). Everything it creates (databases, streams) is named
//! per run and removed at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use futures::StreamExt;
use myaccount_proto::audit::v1 as audit_pb;
use myaccount_proto::events::v1::{SignInFailureReason, SignInRecorded, SignInStatus};
use platform::auth::{
    Claims, DEFAULT_AUDIENCE, DEFAULT_ISSUER, SigningKey, StaticJwks, TokenVerifier, VerifierSettings,
};
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings, Stream};
use platform::outbox::{OutboxRelay, OutgoingEvent, publish_in_tx};
use platform::ports::unused_port;
use platform::service::ServiceSettings;
use platform::workload::{AUDIT, GATEWAY, SignedAsWorkload, TrustedCallers, WorkloadKey};
use prost::Message;
use sqlx::{Connection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub mod enumeration;
pub mod passwords;
pub mod revocation;
pub mod signals;

#[derive(Debug, Clone, clap::Args)]
pub struct SigninsArgs {
    /// Events for the throughput runs.
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Events for the latency run, written at --rate per second.
    #[arg(long, default_value_t = 5_000)]
    pub latency_events: usize,
    #[arg(long, default_value_t = 1_000)]
    pub rate: u64,
    /// Rows in the log for the "my sign-ins" query run.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: i64,
    /// Queries in the "my sign-ins" run.
    #[arg(long, default_value_t = 2_000)]
    pub queries: usize,
    /// Messages audit's consumer pulls and applies at once (the service's default: 256).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Audit's sign-in ingest loops (the service's default: AUDIT_INGEST_WORKERS=2).
    #[arg(long, default_value_t = myaccount_audit::DEFAULT_INGEST_WORKERS)]
    pub ingest_workers: usize,
    /// Stop after the backlog ingest and its baselines (skips end to end, latency and queries).
    #[arg(long)]
    pub ingest_only: bool,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub postgres: String,
    /// NATS: one server, or the comma-separated servers of a JetStream cluster.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// Replicas of the run's streams (3 on a three-node cluster).
    #[arg(long, default_value_t = 1)]
    pub stream_replicas: usize,
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub(crate) fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn event(user_id: Uuid, i: usize) -> SignInRecorded {
    let now = Utc::now();
    SignInRecorded {
        sign_in_id: Uuid::now_v7().to_string(),
        time: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        user_id: user_id.to_string(),
        user_principal_name: format!("bench.user.{}@contoso.example", i % 1000),
        app_id: "myaccount-portal".into(),
        ip_address: format!("192.0.2.{}", i % 250 + 1),
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36".into(),
        device_id: String::new(),
        status: if i.is_multiple_of(10) { SignInStatus::Failure } else { SignInStatus::Success }.into(),
        failure_reason: if i.is_multiple_of(10) { SignInFailureReason::InvalidPassword } else { SignInFailureReason::Unspecified }.into(),
        authentication_methods: vec!["pwd".into()],
        session_id: Uuid::now_v7().to_string(),
        organization_id: String::new(),
        correlation_id: Uuid::new_v4().to_string(),
        method: "pwd".into(),
        reported_location: None,
    }
}

pub(crate) struct Run {
    id: String,
    postgres: String,
    databases: Vec<String>,
    nats: NatsSettings,
}

impl Run {
    /// A run named at random, its databases on `postgres` and its streams in a namespace of
    /// its own on `nats`.
    pub(crate) fn new(postgres: &str, nats: &str) -> Self {
        let id = Uuid::new_v4().simple().to_string()[..8].to_owned();
        let mut settings = NatsSettings::new(nats);
        settings.namespace = Some(format!("bench{id}"));
        Self {
            id,
            postgres: postgres.to_owned(),
            databases: vec![],
            nats: settings,
        }
    }

    fn database(&mut self, purpose: &str) -> DatabaseSettings {
        let name = format!("myaccount_bench_{}_{purpose}", self.id);
        self.databases.push(name.clone());
        DatabaseSettings::new(format!("{}/{name}", self.postgres))
    }

    pub(crate) async fn clean_up(&self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{}/postgres", self.postgres)).await {
            for db in &self.databases {
                let statement = format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    platform::db::quote_identifier(db)
                );
                let _ = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await;
            }
        }
        if let Ok(client) = connect_nats(&self.nats.url).await {
            let js = async_nats::jetstream::new(client);
            let naming = self.nats.naming();
            for s in Stream::ALL {
                let _ = js.delete_stream(naming.stream(s)).await;
            }
            let _ = js.delete_stream(format!("BENCH_RAW_{}", self.id.to_uppercase())).await;
        }
    }
}

pub async fn signins(args: SigninsArgs) -> anyhow::Result<()> {
    let mut run = Run::new(&args.postgres, &args.nats);
    run.nats.stream_replicas = args.stream_replicas;
    let result = measure(&args, &mut run).await;
    run.clean_up().await;
    result
}

async fn measure(args: &SigninsArgs, run: &mut Run) -> anyhow::Result<()> {
    println!(
        "myaccount bench signins: {} events, latency run {} at {}/s, {} rows for queries",
        args.events, args.latency_events, args.rate, args.rows
    );
    let payload_size = event(Uuid::new_v4(), 1).encoded_len();

    // Baseline 1: raw JetStream publish with async acks, the ceiling of any event path.
    let raw_publish = raw_jetstream_publish(run, args.events).await?;
    println!("raw JetStream async publish: {raw_publish:.0} msg/s ({payload_size}-byte payloads)");

    // Baseline 2: raw batched Postgres insert of rows shaped like the sign-in log.
    let baseline_db = run.database("baseline");
    platform::db::create_database_if_missing(&baseline_db).await?;
    let baseline_pool = PgPool::connect(&baseline_db.url).await?;
    let raw_insert = raw_batched_insert(&baseline_pool, args.events).await?;
    println!("raw batched Postgres insert: {raw_insert:.0} rows/s (batches of 500)");
    baseline_pool.close().await;

    // Reference 3: draining those messages again with a bare pull consumer that acks each one
    // and does nothing else, on as many loops as audit has: the NATS half of any ingest.
    let raw_consume = raw_jetstream_consume(run, args).await?;
    println!(
        "raw JetStream pull consume: {raw_consume:.0} msg/s (batches of {}, {} loops, explicit ack)",
        args.batch_size, args.ingest_workers
    );

    // Reference 4: audit's own write of the same sign-ins into its log (every index), on
    // as many connections as it has ingest loops, and nothing else: what ingest cannot beat.
    let write_db = run.database("log_write");
    let log_write = log_write_alone(&write_db, args).await?;
    println!(
        "audit's log write alone: {log_write:.0} rows/s (its batch INSERT, batches of {}, {} connections)",
        args.batch_size, args.ingest_workers
    );

    // The real path: identity-style outbox -> relay -> JetStream -> audit consumer.
    let outbox_db = run.database("outbox");
    let outbox_pool = platform::db::connect(&outbox_db, &sqlx::migrate::Migrator::DEFAULT).await?;
    let audit_db = run.database("audit");

    // Audit's ingest alone: a backlog of events already in JetStream (written to the outbox in
    // bulk and relayed), then audit starts and drains it. This is the consumer's rate, the one
    // to hold against the raw publish rate.
    let bus = EventBus::connect(&run.nats, "bench").await?;
    let relay_stop = CancellationToken::new();
    let relay = OutboxRelay::new(outbox_pool.clone(), bus, "myaccount/bench", vec![Stream::SignIn]);
    let relay_task = tokio::spawn(relay.run(relay_stop.clone()));
    write_backlog(&outbox_pool, 0, args.events).await?;
    wait_for_relay(&outbox_pool, Duration::from_secs(300)).await?;

    let key = SigningKey::generate();
    // audit takes a person's calls from the gateway alone: "my sign-ins" is asked as it would.
    let gateway_key = WorkloadKey::generate(GATEWAY);
    let (_, first_stop, first_task) = start_audit(args, run, &audit_db, &key, &gateway_key).await?;
    let audit_pool = PgPool::connect(&audit_db.url).await?;
    let drain_started = Instant::now();
    // Watched through JetStream, not by counting rows: a count(*) every few milliseconds would
    // take a share of the CPU that audit is being measured on. A message is acked only after
    // its batch committed, so nothing pending and nothing unacked means everything is stored.
    wait_for_consumer(run, "audit_recorded", Duration::from_secs(600)).await?;
    let ingest_rate = args.events as f64 / drain_started.elapsed().as_secs_f64();
    let stored = count(&audit_pool).await?;
    anyhow::ensure!(
        stored == args.events as i64,
        "audit acked the backlog but stored {stored} of {} sign-ins",
        args.events
    );
    println!(
        "audit ingest of a {}-event backlog, one replica: {ingest_rate:.0} events/s",
        args.events
    );
    first_stop.cancel();
    let _ = first_task.await;

    // The same backlog again, drained by two replicas sharing the durable consumer, as two
    // pods of audit would (each with its --ingest-workers loops).
    write_backlog(&outbox_pool, args.events, args.events).await?;
    wait_for_relay(&outbox_pool, Duration::from_secs(300)).await?;
    let (audit_port, audit_stop, audit_task) = start_audit(args, run, &audit_db, &key, &gateway_key).await?;
    let (_, second_stop, second_task) = start_audit(args, run, &audit_db, &key, &gateway_key).await?;
    let drain_started = Instant::now();
    wait_for_consumer(run, "audit_recorded", Duration::from_secs(600)).await?;
    let two_replicas_rate = args.events as f64 / drain_started.elapsed().as_secs_f64();
    let stored = count(&audit_pool).await?;
    anyhow::ensure!(
        stored == 2 * args.events as i64,
        "two replicas acked the backlog but audit stored {stored} of {} sign-ins",
        2 * args.events
    );
    println!(
        "audit ingest of a {}-event backlog, two replicas: {two_replicas_rate:.0} events/s",
        args.events
    );
    second_stop.cancel();
    let _ = second_task.await;
    if args.ingest_only {
        println!("\n| measure | value | reference | ratio |\n| --- | --- | --- | --- |");
        print_ingest_rows(ingest_rate, raw_publish, raw_insert, raw_consume, log_write);
        print_replica_row(ingest_rate, two_replicas_rate);
        relay_stop.cancel();
        let _ = relay_task.await;
        audit_stop.cancel();
        let _ = audit_task.await;
        audit_pool.close().await;
        outbox_pool.close().await;
        return Ok(());
    }

    // Throughput: writers as fast as they go, one event per transaction as a sign-in does, for
    // a thousand users.
    let users: Arc<Vec<Uuid>> = Arc::new((0..1000).map(|_| Uuid::new_v4()).collect());
    let started = Instant::now();
    let writers = 4;
    write_one_per_transaction(&outbox_pool, writers, args.events / writers, None, move |n| {
        users[n % users.len()]
    })
    .await?;
    let written = started.elapsed();
    let total = (args.events / writers * writers) as i64;
    wait_for_rows(&audit_pool, 2 * args.events as i64 + total, Duration::from_secs(600)).await?;
    let end_to_end = started.elapsed();
    let e2e_rate = total as f64 / end_to_end.as_secs_f64();
    println!(
        "end to end (outbox write -> relay -> JetStream -> audit commit): {e2e_rate:.0} events/s; writing alone {:.0} events/s",
        total as f64 / written.as_secs_f64()
    );

    // Latency at a steady rate: from the sign-in's commit to its row being committed in audit.
    // Writers paced together at --rate: one commit takes about a millisecond, so one writer
    // alone could not reach 1,000/s.
    let before = count(&audit_pool).await?;
    let latency_user = Uuid::new_v4();
    let paced_start = Instant::now();
    let pace = Duration::from_secs_f64(writers as f64 / args.rate as f64);
    write_one_per_transaction(
        &outbox_pool,
        writers,
        args.latency_events / writers,
        Some(pace),
        move |_| latency_user,
    )
    .await?;
    let latency_events = args.latency_events / writers * writers;
    let achieved_rate = latency_events as f64 / paced_start.elapsed().as_secs_f64();
    wait_for_rows(&audit_pool, before + latency_events as i64, Duration::from_secs(300)).await?;
    let latencies: Vec<f64> = sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM (ingested_at - occurred_at))::float8 * 1000 FROM sign_ins WHERE user_id = $1",
    )
    .bind(latency_user)
    .fetch_all(&audit_pool)
    .await?;
    let latencies = sorted(latencies);
    println!(
        "sign-in to visible at {achieved_rate:.0}/s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    relay_stop.cancel();
    let _ = relay_task.await;

    // "My sign-ins" over a big log, next to a trivial gRPC call on the same server.
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{audit_port}"))?
        .connect()
        .await?;
    let health = trivial_grpc(channel.clone(), args.queries).await?;
    println!(
        "trivial gRPC call (health check): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&health, 50.0),
        percentile(&health, 99.0)
    );
    let fill_started = Instant::now();
    let users = fill_log(&audit_pool, args.rows).await?;
    println!(
        "filled the log with {} rows in {:.1} s",
        count(&audit_pool).await?,
        fill_started.elapsed().as_secs_f64()
    );
    let as_gateway = SignedAsWorkload::new(channel, Arc::new(gateway_key), AUDIT);
    let first_page = my_sign_ins(as_gateway, &key, &users, args.queries).await?;
    println!(
        "my sign-ins, first page of 20 over {} rows: p50 {:.2} ms, p99 {:.2} ms",
        args.rows,
        percentile(&first_page, 50.0),
        percentile(&first_page, 99.0)
    );

    println!("\n| measure | value | reference | ratio |\n| --- | --- | --- | --- |");
    print_ingest_rows(ingest_rate, raw_publish, raw_insert, raw_consume, log_write);
    print_replica_row(ingest_rate, two_replicas_rate);
    println!(
        "| end-to-end ingest | {e2e_rate:.0} events/s | raw JetStream publish {raw_publish:.0} msg/s | {:.2} |",
        e2e_rate / raw_publish
    );
    println!(
        "| end-to-end ingest | {e2e_rate:.0} events/s | raw batched insert {raw_insert:.0} rows/s | {:.2} |",
        e2e_rate / raw_insert
    );
    println!(
        "| visibility p99 at {achieved_rate:.0}/s | {:.1} ms | target 1000 ms | {:.2} |",
        percentile(&latencies, 99.0),
        percentile(&latencies, 99.0) / 1000.0
    );
    println!(
        "| my sign-ins p99 ({} rows) | {:.2} ms | trivial gRPC p99 {:.2} ms | {:.2} |",
        args.rows,
        percentile(&first_page, 99.0),
        percentile(&health, 99.0),
        percentile(&first_page, 99.0) / percentile(&health, 99.0)
    );

    audit_stop.cancel();
    let _ = audit_task.await;
    audit_pool.close().await;
    outbox_pool.close().await;
    Ok(())
}

/// Sign-in events `first..first + n` (a thousand users) written to the outbox in bulk.
async fn write_backlog(outbox_pool: &PgPool, first: usize, n: usize) -> anyhow::Result<()> {
    let backlog_users: Vec<Uuid> = (0..1000).map(|_| Uuid::new_v4()).collect();
    for chunk in (first..first + n).collect::<Vec<_>>().chunks(500) {
        let events: Vec<OutgoingEvent> = chunk
            .iter()
            .map(|&n| {
                let e = event(backlog_users[n % backlog_users.len()], n);
                Ok(OutgoingEvent::new(Uuid::parse_str(&e.sign_in_id)?, &e))
            })
            .collect::<anyhow::Result<_>>()?;
        let mut tx = outbox_pool.begin().await?;
        platform::outbox::publish_all_in_tx(&mut tx, &events).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// One audit replica on `audit_db`, sharing the run's durable consumer with any other: its gRPC
/// port, its stop and its task.
async fn start_audit(
    args: &SigninsArgs,
    run: &Run,
    audit_db: &DatabaseSettings,
    key: &SigningKey,
    gateway_key: &WorkloadKey,
) -> anyhow::Result<(
    u16,
    CancellationToken,
    tokio::task::JoinHandle<Result<(), platform::grpc::ServeError>>,
)> {
    let verifier = TokenVerifier::new(
        VerifierSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE, "http://unused.invalid"),
        StaticJwks(jsonwebtoken_set(key)),
    );
    let mut service = ServiceSettings::for_tests(
        &myaccount_audit::SPEC,
        audit_db.clone(),
        run.nats.clone(),
        "http://unused.invalid",
    );
    service.grpc.request_timeout = Duration::from_secs(30);
    service.trusted_callers = TrustedCallers::new().with_key(gateway_key);
    service.consumer = platform::consumer::ConsumerSettings {
        batch_size: args.batch_size,
        ..platform::consumer::ConsumerSettings::new("audit")
    };
    let audit_app = myaccount_audit::Application::build_with_verifier(
        myaccount_audit::Settings {
            service,
            ingest_workers: args.ingest_workers,
            geoip_databases: Vec::new(),
            retention: myaccount_audit::retention::RetentionSettings::default(),
        },
        verifier,
    )
    .await?;
    let port = audit_app.port();
    let stop = audit_app.shutdown_token();
    Ok((port, stop, tokio::spawn(audit_app.run_until_stopped())))
}

fn print_replica_row(one: f64, two: f64) {
    println!(
        "| audit ingest (backlog), two replicas | {two:.0} events/s | one replica {one:.0} events/s | {:.2} |",
        two / one
    );
}

pub(crate) fn jsonwebtoken_set(key: &SigningKey) -> jsonwebtoken::jwk::JwkSet {
    jsonwebtoken::jwk::JwkSet {
        keys: vec![key.public_jwk()],
    }
}

/// `writers` tasks each commit `count` sign-in events to the outbox, one per transaction, as
/// identity does; each at most one per `pace` when given. `user_of(n)` is the user of event `n`.
async fn write_one_per_transaction(
    pool: &PgPool,
    writers: usize,
    count: usize,
    pace: Option<Duration>,
    user_of: impl Fn(usize) -> Uuid + Clone + Send + 'static,
) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for w in 0..writers {
        let pool = pool.clone();
        let user_of = user_of.clone();
        tasks.push(tokio::spawn(async move {
            let mut ticker = pace.map(tokio::time::interval);
            if let Some(ticker) = ticker.as_mut() {
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            }
            for i in 0..count {
                if let Some(ticker) = ticker.as_mut() {
                    ticker.tick().await;
                }
                let n = w * count + i;
                let e = event(user_of(n), n);
                let mut tx = pool.begin().await?;
                publish_in_tx(&mut tx, &OutgoingEvent::new(Uuid::parse_str(&e.sign_in_id)?, &e)).await?;
                tx.commit().await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// A plain client of `url` (one server or a cluster's list).
pub(crate) async fn connect_nats(url: &str) -> anyhow::Result<async_nats::Client> {
    let servers = platform::events::server_addrs(url).map_err(|e| anyhow::anyhow!("--nats: {e}"))?;
    Ok(async_nats::connect(servers).await?)
}

fn print_ingest_rows(ingest_rate: f64, raw_publish: f64, raw_insert: f64, raw_consume: f64, log_write: f64) {
    // Consuming and writing share the same cores: done back to back with nothing else, each
    // event costs the time of both, so their rates combine harmonically.
    let consume_and_write = 1.0 / (1.0 / raw_consume + 1.0 / log_write);
    for (reference, rate, unit) in [
        ("raw JetStream publish", raw_publish, "msg/s"),
        ("raw batched insert", raw_insert, "rows/s"),
        ("raw pull consume", raw_consume, "msg/s"),
        ("audit's log write alone", log_write, "rows/s"),
        ("raw consume + log write, nothing else", consume_and_write, "events/s"),
    ] {
        println!(
            "| audit ingest (backlog) | {ingest_rate:.0} events/s | {reference} {rate:.0} {unit} | {:.2} |",
            ingest_rate / rate
        );
    }
}

/// Waits until the durable consumer `durable` on the sign-in stream exists and has nothing
/// pending or unacknowledged.
async fn wait_for_consumer(run: &Run, durable: &str, deadline: Duration) -> anyhow::Result<()> {
    let client = connect_nats(&run.nats.url).await?;
    let js = async_nats::jetstream::new(client);
    let stream_name = run.nats.naming().stream(Stream::SignIn);
    let started = Instant::now();
    loop {
        anyhow::ensure!(
            started.elapsed() < deadline,
            "consumer {durable} still busy after {deadline:?}"
        );
        let info = match js.get_stream(&stream_name).await {
            Ok(stream) => match stream
                .get_consumer::<async_nats::jetstream::consumer::pull::Config>(durable)
                .await
            {
                Ok(consumer) => consumer.get_info().await.ok(),
                Err(_) => None,
            },
            Err(_) => None,
        };
        if info.is_some_and(|i| i.num_pending == 0 && i.num_ack_pending == 0 && i.delivered.stream_sequence > 0) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Audit's log write on its own: the bench's sign-ins, enriched as audit would, appended to a
/// fresh copy of audit's schema in batches of `--batch-size` (one transaction each) over
/// `--ingest-workers` connections. Rows/s.
async fn log_write_alone(database: &DatabaseSettings, args: &SigninsArgs) -> anyhow::Result<f64> {
    let pool = platform::db::connect(database, &myaccount_audit::MIGRATIONS).await?;
    myaccount_audit::retention::maintain(
        &pool,
        &myaccount_audit::retention::RetentionSettings::default(),
        Utc::now().date_naive(),
    )
    .await?;
    let users: Vec<Uuid> = (0..1000).map(|_| Uuid::new_v4()).collect();
    let sign_ins = (0..args.events)
        .map(|n| myaccount_audit::events::sign_in_from_event(&event(users[n % users.len()], n)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    let sign_ins = Arc::new(sign_ins);
    let workers = args.ingest_workers.max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let pool = pool.clone();
        let sign_ins = sign_ins.clone();
        let batch_size = args.batch_size.max(1);
        tasks.push(tokio::spawn(async move {
            let mine: Vec<&myaccount_audit::domain::SignIn> = sign_ins.iter().skip(w).step_by(workers).collect();
            for batch in mine.chunks(batch_size) {
                let mut tx = pool.begin().await?;
                myaccount_audit::store::insert_sign_ins(&mut tx, batch, myaccount_audit::store::Existing::Fail).await?;
                tx.commit().await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let rate = args.events as f64 / started.elapsed().as_secs_f64();
    pool.close().await;
    Ok(rate)
}

async fn count(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM sign_ins")
        .fetch_one(pool)
        .await?)
}

async fn wait_for_rows(pool: &PgPool, rows: i64, deadline: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while count(pool).await? < rows {
        anyhow::ensure!(
            start.elapsed() < deadline,
            "audit did not ingest {rows} rows within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Waits until the relay has published every outbox row.
async fn wait_for_relay(pool: &PgPool, deadline: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.outbox WHERE published_at IS NULL")
            .fetch_one(pool)
            .await?;
        if unsent == 0 {
            return Ok(());
        }
        if started.elapsed() > deadline {
            anyhow::bail!("{unsent} outbox rows still unpublished after {deadline:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn raw_jetstream_publish(run: &Run, n: usize) -> anyhow::Result<f64> {
    let client = connect_nats(&run.nats.url).await.context("connecting to NATS")?;
    let js = async_nats::jetstream::new(client);
    let name = format!("BENCH_RAW_{}", run.id.to_uppercase());
    let subject = format!("bench.{}.raw", run.id);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![subject.clone()],
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    let payload: bytes::Bytes = event(Uuid::new_v4(), 1).encode_to_vec().into();
    let started = Instant::now();
    let mut pending = Vec::with_capacity(1000);
    for i in 0..n {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("{}-{i}", run.id).as_str());
        pending.push(
            js.publish_with_headers(subject.clone(), headers, payload.clone())
                .await?,
        );
        if pending.len() == 1000 {
            for ack in pending.drain(..) {
                ack.await?;
            }
        }
    }
    for ack in pending {
        ack.await?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Drains the raw-publish stream with a durable pull consumer: batches of `--batch-size`, every
/// message acked, `--ingest-workers` loops. Messages/s.
async fn raw_jetstream_consume(run: &Run, args: &SigninsArgs) -> anyhow::Result<f64> {
    use async_nats::jetstream::consumer::{AckPolicy, pull};
    let client = connect_nats(&run.nats.url).await?;
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream(format!("BENCH_RAW_{}", run.id.to_uppercase())).await?;
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("raw_consume".into()),
            ack_policy: AckPolicy::Explicit,
            // As audit's consumer: room for both loops' batches (platform::consumer).
            max_ack_pending: i64::try_from(args.batch_size * 2).unwrap_or(i64::MAX).max(1000),
            ..Default::default()
        })
        .await?;
    let remaining = Arc::new(std::sync::atomic::AtomicI64::new(args.events as i64));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.ingest_workers.max(1) {
        let consumer = consumer.clone();
        let remaining = remaining.clone();
        let batch_size = args.batch_size;
        tasks.push(tokio::spawn(async move {
            while remaining.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                let mut batch = consumer
                    .fetch()
                    .max_messages(batch_size)
                    .expires(Duration::from_millis(200))
                    .messages()
                    .await
                    .map_err(|e| anyhow::anyhow!("fetch: {e}"))?;
                while let Some(message) = batch.next().await {
                    let message = message.map_err(|e| anyhow::anyhow!("message: {e}"))?;
                    message.ack().await.map_err(|e| anyhow::anyhow!("ack: {e}"))?;
                    remaining.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(args.events as f64 / started.elapsed().as_secs_f64())
}

async fn raw_batched_insert(pool: &PgPool, n: usize) -> anyhow::Result<f64> {
    sqlx::query(
        "CREATE TABLE raw_sign_ins (id uuid PRIMARY KEY, occurred_at timestamptz NOT NULL, user_id uuid, \
         user_principal_name text NOT NULL, ip_address text NOT NULL, user_agent text NOT NULL, status text NOT NULL)",
    )
    .execute(pool)
    .await?;
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let events: Vec<SignInRecorded> = chunk.iter().map(|i| event(Uuid::new_v4(), *i)).collect();
        let ids: Vec<Uuid> = events
            .iter()
            .filter_map(|e| Uuid::parse_str(&e.sign_in_id).ok())
            .collect();
        let users: Vec<Uuid> = events.iter().filter_map(|e| Uuid::parse_str(&e.user_id).ok()).collect();
        let names: Vec<String> = events.iter().map(|e| e.user_principal_name.clone()).collect();
        let ips: Vec<String> = events.iter().map(|e| e.ip_address.clone()).collect();
        let agents: Vec<String> = events.iter().map(|e| e.user_agent.clone()).collect();
        sqlx::query(
            "INSERT INTO raw_sign_ins SELECT id, now(), u, n, ip, ua, 'success' \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS t(id, u, n, ip, ua)",
        )
        .bind(&ids)
        .bind(&users)
        .bind(&names)
        .bind(&ips)
        .bind(&agents)
        .execute(pool)
        .await?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn trivial_grpc(channel: tonic::transport::Channel, n: usize) -> anyhow::Result<Vec<f64>> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let mut client = HealthClient::new(channel);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        client.check(HealthCheckRequest { service: String::new() }).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(sorted(times))
}

/// Fills the log with `rows` sign-ins of 10,000 users over the last 20 days; returns some users.
async fn fill_log(pool: &PgPool, rows: i64) -> anyhow::Result<Vec<Uuid>> {
    // The daily partitions a running system would have made over those days.
    let today = Utc::now().date_naive();
    let mut conn = pool.acquire().await?;
    for days_ago in 0..=21 {
        myaccount_audit::store::create_partition(&mut conn, today - chrono::Duration::days(days_ago)).await?;
    }
    drop(conn);
    let users: Vec<Uuid> = (0..10_000).map(|_| Uuid::new_v4()).collect();
    sqlx::query(
        "INSERT INTO sign_ins (id, occurred_at, user_id, user_principal_name, ip_address, user_agent, browser, \
         operating_system, status, authentication_methods, session_id) \
         SELECT gen_random_uuid(), now() - (random() * interval '20 days'), ($1::uuid[])[1 + (g % 10000)], \
                'bench.user.' || (g % 10000) || '@contoso.example', '192.0.2.' || (g % 250 + 1), 'Mozilla/5.0', \
                'Chrome', 'Windows 10', CASE WHEN g % 10 = 0 THEN 'failure' ELSE 'success' END, '{pwd}', '' \
         FROM generate_series(1, $2) AS g",
    )
    .bind(&users)
    .bind(rows)
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE sign_ins").execute(pool).await?;
    Ok(users)
}

async fn my_sign_ins(
    channel: SignedAsWorkload<tonic::transport::Channel>,
    key: &SigningKey,
    users: &[Uuid],
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    use audit_pb::audit_service_client::AuditServiceClient;
    let mut client = AuditServiceClient::new(channel);
    let now = Utc::now().timestamp();
    let tokens: Vec<String> = users
        .iter()
        .take(200)
        .map(|u| {
            key.sign(&Claims {
                iss: DEFAULT_ISSUER.into(),
                aud: DEFAULT_AUDIENCE.into(),
                sub: u.to_string(),
                exp: now + 3600,
                iat: now,
                jti: Uuid::new_v4().to_string(),
                sid: None,
                org: None,
                auth_time: now,
                amr: vec!["pwd".into()],
                scope: None,
            })
        })
        .collect::<Result<_, _>>()?;
    let tokens = Arc::new(tokens);
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let mut request = tonic::Request::new(audit_pb::ListMySignInsRequest {
            page_size: 20,
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {}", tokens[i % tokens.len()]).parse()?);
        let t = Instant::now();
        let page = client.list_my_sign_ins(request).await?.into_inner();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(!page.sign_ins.is_empty(), "a bench user has sign-ins");
    }
    Ok(sorted(times))
}

// --- `myaccount bench pages` ---

#[derive(Debug, Clone, clap::Args)]
pub struct PagesArgs {
    /// Requests in flight on each path at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds of load on each path (after a short warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// A running gateway to measure, e.g. http://127.0.0.1:8080 (with its rate limits off and
    /// the demo seeded); without it the bench starts a system of its own as `myaccount up
    /// --demo` does, with rate limits off, on databases and streams named for the run.
    #[arg(long)]
    pub gateway: Option<String>,
    /// Sessions the bench person has on its own system (each password sign-in opens one, so a
    /// person can collect thousands); written directly into identity's database.
    #[arg(long, default_value_t = 10_000)]
    pub sessions: i32,
    #[arg(long, default_value = crate::demo::PAGES_BENCH_USER.0)]
    pub username: String,
    #[arg(long, default_value = crate::demo::PAGES_BENCH_USER.1)]
    pub password: String,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub postgres: String,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
}

/// The read paths of the gateway, each measured on its own. The trivial handler and the
/// profile read come first: the goals are ratios to them.
const TRIVIAL_PATH: &str = "/healthz";
const PROFILE_PATH: &str = "/api/v1/me/profile";
const OVERVIEW_PATH: &str = "/api/v1/me";
const READ_PATHS: [&str; 10] = [
    TRIVIAL_PATH,
    PROFILE_PATH,
    OVERVIEW_PATH,
    "/api/v1/me/security-info",
    "/api/v1/me/devices",
    "/api/v1/me/sessions",
    "/api/v1/me/organizations",
    "/api/v1/me/sign-ins",
    "/api/v1/me/activity",
    "/api/v1/me/privacy",
];

/// Goals of issue 21, as ratios of one run: every read path at least half the profile read's
/// requests/s (the overview, five calls, at least 0.3), and sign-ins at least 0.8 of what the
/// cores verify with argon2id alone.
const READ_GOAL: f64 = 0.5;
/// The overview's p99 at most this times the slowest of its sections' own pages.
const OVERVIEW_P99_GOAL: f64 = 1.5;
/// The pages that read what the overview's sections read.
const OVERVIEW_SECTIONS: [&str; 5] = [
    PROFILE_PATH,
    "/api/v1/me/security-info",
    "/api/v1/me/devices",
    "/api/v1/me/organizations",
    "/api/v1/me/sign-ins",
];
const OVERVIEW_GOAL: f64 = 0.3;
const SIGN_IN_GOAL: f64 = 0.8;

/// What one path answered under load.
struct Load {
    requests: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: usize,
    /// 200s that say a part is missing: an overview with a section marked unavailable.
    incomplete: usize,
}

/// How the overview marks a section whose service did not answer in time.
const UNAVAILABLE_SECTION: &[u8] = br#"{"status":"unavailable"}"#;

pub async fn pages(args: PagesArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    match args.gateway.clone() {
        // On a running system the bench cannot add people: every sign-in loop is the one
        // person, so the throttle's race guard verifies a few of them at a time.
        Some(gateway) => {
            measure_pages(
                &args,
                gateway.trim_end_matches('/'),
                std::slice::from_ref(&args.username),
            )
            .await
        }
        None => {
            let mut run = Run::new(&args.postgres, &args.nats);
            let result = pages_on_own_system(&args, &mut run).await;
            run.clean_up().await;
            result
        }
    }
}

/// Starts every service and the gateway on free ports, databases and streams of this run,
/// rate limits off; seeds the demo, gives the bench person `--sessions` sessions, measures.
async fn pages_on_own_system(args: &PagesArgs, run: &mut Run) -> anyhow::Result<()> {
    let own = OwnSystem::start(run).await?;
    let prepared = async {
        add_sessions(&own.identity_database, &args.username, args.sessions).await?;
        add_sign_in_people(&own.identity_database, &args.username, args.concurrency).await
    };
    let result = match prepared.await {
        Ok(people) => measure_pages(args, &own.gateway, &people).await,
        Err(e) => Err(e),
    };
    own.system.stop().await?;
    result
}

/// Every service and the gateway of one bench run, with the demo seeded.
pub(crate) struct OwnSystem {
    pub system: crate::up::System,
    /// `http://127.0.0.1:<port>`
    pub gateway: String,
    pub identity_database: DatabaseSettings,
    pub signals_database: DatabaseSettings,
}

impl OwnSystem {
    /// Starts every service and the gateway on free ports, on databases and streams of `run`,
    /// with rate limits off, and seeds the demo.
    pub(crate) async fn start(run: &mut Run) -> anyhow::Result<Self> {
        let mut vars: Vec<(String, String)> = vec![
            ("GATEWAY_AUTH_RATE_LIMIT_PER_IP".into(), "0".into()),
            ("GATEWAY_AUTH_RATE_LIMIT_PER_ACCOUNT".into(), "0".into()),
            ("NATS_URL".into(), run.nats.url.clone()),
            ("NATS_NAMESPACE".into(), run.nats.namespace.clone().unwrap_or_default()),
        ];
        let (mut identity, mut signals) = (None, None);
        for (prefix, name) in [
            ("IDENTITY", "identity"),
            ("SECURITYINFO", "securityinfo"),
            ("DEVICES", "devices"),
            ("ORGANIZATIONS", "organizations"),
            ("AUDIT", "audit"),
            ("SIGNALS", "signals"),
        ] {
            let (grpc_port, admin_port) = (unused_port()?, unused_port()?);
            let database = run.database(name);
            vars.push((format!("{prefix}_GRPC_PORT"), grpc_port.to_string()));
            vars.push((format!("{prefix}_ADMIN_PORT"), admin_port.to_string()));
            vars.push((format!("{prefix}_URL"), format!("http://127.0.0.1:{grpc_port}")));
            vars.push((format!("{prefix}_DATABASE_URL"), database.url.clone()));
            match prefix {
                "IDENTITY" => identity = Some((database, admin_port)),
                "SIGNALS" => signals = Some(database),
                _ => {}
            }
        }
        let (identity_database, identity_admin_port) = identity.context("identity is one of the services")?;
        let signals_database = signals.context("signals is one of the services")?;
        vars.push((
            "JWKS_URL".into(),
            format!("http://127.0.0.1:{identity_admin_port}/.well-known/jwks.json"),
        ));
        vars.push(("GATEWAY_PORT".into(), unused_port()?.to_string()));
        let env = crate::up::local_env(platform::config::Env::from_process().overlay(vars));
        let system = crate::up::start(&env).await?;
        let gateway = format!("http://127.0.0.1:{}", system.gateway_port);
        let mut demo = crate::demo::DemoTarget::from_env(&env)?;
        // The demo calls the services as the gateway does, with its key.
        demo.gateway_key.get_or_insert_with(|| system.gateway_key.clone());
        if let Err(e) = crate::demo::seed(&demo).await {
            system.stop().await?;
            return Err(e);
        }
        Ok(Self {
            system,
            gateway,
            identity_database,
            signals_database,
        })
    }
}

/// `count` people like `username` (same organization, same password, no second factor), one
/// per sign-in loop: sign-ins of many people at once, as a morning rush is. One person signing
/// in 64 times at once would measure the throttle's race guard instead, which lets only as
/// many of one account's verifications run at once as failures may still be recorded.
async fn add_sign_in_people(database: &DatabaseSettings, username: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let mut conn = sqlx::PgConnection::connect(&database.url).await?;
    let count = i32::try_from(count).context("--concurrency is too large")?;
    let people: Vec<String> = sqlx::query_scalar(
        "INSERT INTO users (id, user_principal_name, display_name, home_organization_id, password_hash, \
                            password_changed_at, created_at, updated_at) \
         SELECT gen_random_uuid(), 'bench-' || g || '-' || u.user_principal_name, 'Bench ' || g, \
                u.home_organization_id, u.password_hash, now(), now(), now() \
         FROM users u, generate_series(1, $2) AS g WHERE u.user_principal_name = lower($1) \
         RETURNING user_principal_name",
    )
    .bind(username)
    .bind(count)
    .fetch_all(&mut conn)
    .await?;
    anyhow::ensure!(!people.is_empty(), "{username} is not a user of the demo");
    Ok(people)
}

/// Gives `username` `count` usable sessions, used over the last weeks from a few browsers: what
/// months of password sign-ins leave behind.
pub(crate) async fn add_sessions(database: &DatabaseSettings, username: &str, count: i32) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(&database.url).await?;
    let user_id: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE user_principal_name = lower($1)")
        .bind(username)
        .fetch_optional(&mut conn)
        .await?
        .with_context(|| format!("{username} is not a user of the demo"))?;
    sqlx::query(
        "WITH made AS ( \
           INSERT INTO sessions (id, user_id, created_at, last_seen_at, ip_address, user_agent, auth_time, amr) \
           SELECT gen_random_uuid(), $1, now() - interval '30 days', now() - make_interval(secs => 60 + g * 120), \
                  '192.0.2.' || (g % 250 + 1), \
                  (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0', \
                         'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1', \
                         'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'])[1 + g % 3], \
                  now() - interval '30 days', '{pwd}' \
           FROM generate_series(0, $2 - 1) AS g RETURNING id) \
         INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
         SELECT sha256(id::text::bytea), id, now(), now() + interval '14 days' FROM made",
    )
    .bind(user_id)
    .bind(count)
    .execute(&mut conn)
    .await?;
    sqlx::query("ANALYZE sessions").execute(&mut conn).await?;
    sqlx::query("ANALYZE refresh_tokens").execute(&mut conn).await?;
    Ok(())
}

async fn measure_pages(args: &PagesArgs, gateway: &str, sign_in_people: &[String]) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let token = sign_in_token(&client, gateway, args).await?;
    let duration = Duration::from_secs(args.seconds.max(1));
    println!(
        "myaccount bench pages: {gateway}, {} in flight, {} s per path, as {}",
        args.concurrency,
        duration.as_secs(),
        args.username
    );

    let mut reads = Vec::new();
    for path in READ_PATHS {
        let load = load_path(&client, gateway, path, &token, args.concurrency, duration).await;
        println!(
            "{path}: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, {} non-2xx and {} with a section unavailable of {}",
            load.per_second, load.p50_ms, load.p99_ms, load.non_2xx, load.incomplete, load.requests
        );
        reads.push((path, load));
    }

    // Password sign-ins, then raw argon2id on every core right after: the same window of the
    // same machine, so the ratio says what sign-in costs beyond its hash.
    let sign_ins = load_sign_ins(&client, gateway, args, sign_in_people, duration).await?;
    println!(
        "POST /api/v1/auth/sign-in: {:.1} sign-ins/s, p50 {:.1} ms, p99 {:.1} ms, {} non-2xx of {}",
        sign_ins.per_second, sign_ins.p50_ms, sign_ins.p99_ms, sign_ins.non_2xx, sign_ins.requests
    );
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let argon2 = raw_argon2id(&args.password, cores, duration).await?;
    println!("raw argon2id verification on {cores} cores: {argon2:.1}/s");

    let per_second = |path: &str| {
        reads
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(f64::NAN, |(_, l)| l.per_second)
    };
    let trivial = per_second(TRIVIAL_PATH);
    let profile = per_second(PROFILE_PATH);
    println!(
        "\n| path | requests/s | p50 | p99 | non-2xx (sections unavailable) | vs {TRIVIAL_PATH} | vs profile | goal |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let mut missed = Vec::new();
    for (path, load) in &reads {
        let goal = match *path {
            TRIVIAL_PATH | PROFILE_PATH => None,
            OVERVIEW_PATH => Some(OVERVIEW_GOAL),
            _ => Some(READ_GOAL),
        };
        let ratio = load.per_second / profile;
        let verdict = match goal {
            None => "reference".to_owned(),
            Some(goal) if ratio >= goal && load.non_2xx == 0 && load.incomplete == 0 => format!(">= {goal}: met"),
            Some(goal) => {
                missed.push(*path);
                format!(">= {goal}, all complete 2xx: MISSED")
            }
        };
        println!(
            "| `{path}` | {:.0} | {:.1} ms | {:.1} ms | {} ({}) | {:.3} | {ratio:.2} | {verdict} |",
            load.per_second,
            load.p50_ms,
            load.p99_ms,
            load.non_2xx,
            load.incomplete,
            load.per_second / trivial
        );
    }
    // The overview waits for its slowest section: held against the slowest of the pages that
    // read the same services alone.
    let p99 = |path: &str| {
        reads
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(f64::NAN, |(_, l)| l.p99_ms)
    };
    let (slowest, slowest_p99) = OVERVIEW_SECTIONS
        .iter()
        .map(|path| (*path, p99(path)))
        .fold((PROFILE_PATH, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    let overview_ratio = p99(OVERVIEW_PATH) / slowest_p99;
    let overview_met = overview_ratio <= OVERVIEW_P99_GOAL;
    if !overview_met {
        missed.push("overview p99");
    }
    println!(
        "| `{OVERVIEW_PATH}` p99 | {:.1} ms | | | | slowest section `{slowest}` p99 {slowest_p99:.1} ms | {overview_ratio:.2} of it | <= {OVERVIEW_P99_GOAL}: {} |",
        p99(OVERVIEW_PATH),
        if overview_met { "met" } else { "MISSED" }
    );
    let sign_in_ratio = sign_ins.per_second / argon2;
    let sign_in_met = sign_in_ratio >= SIGN_IN_GOAL && sign_ins.non_2xx == 0;
    if !sign_in_met {
        missed.push("sign-in");
    }
    println!(
        "| `POST /api/v1/auth/sign-in` | {:.1} | {:.1} ms | {:.1} ms | {} | raw argon2id {argon2:.1}/s | {sign_in_ratio:.2} of argon2id | >= {SIGN_IN_GOAL}: {} |",
        sign_ins.per_second,
        sign_ins.p50_ms,
        sign_ins.p99_ms,
        sign_ins.non_2xx,
        if sign_in_met { "met" } else { "MISSED" }
    );
    if missed.is_empty() {
        println!("\nevery goal met");
    } else {
        println!("\ngoals missed: {}", missed.join(", "));
    }
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedIn {
    access_token: Option<String>,
}

fn sign_in_body(args: &PagesArgs) -> serde_json::Value {
    serde_json::json!({"username": args.username, "password": args.password})
}

async fn sign_in_token(client: &reqwest::Client, gateway: &str, args: &PagesArgs) -> anyhow::Result<String> {
    let response = client
        .post(format!("{gateway}/api/v1/auth/sign-in"))
        .json(&sign_in_body(args))
        .send()
        .await
        .with_context(|| format!("signing in at {gateway}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "signing in as {} answered {status}", args.username);
    response
        .json::<SignedIn>()
        .await?
        .access_token
        .with_context(|| format!("{} needs a second factor; choose a person without one", args.username))
}

/// `concurrency` loops, each sending the next request when the last one has been read in
/// full, for `duration` after a warm-up of one request per loop.
async fn load_path(
    client: &reqwest::Client,
    gateway: &str,
    path: &str,
    token: &str,
    concurrency: usize,
    duration: Duration,
) -> Load {
    let url = format!("{gateway}{path}");
    let send = {
        let client = client.clone();
        let token = token.to_owned();
        move || client.get(url.clone()).bearer_auth(&token).send()
    };
    run_load(concurrency, duration, send).await
}

/// Password sign-ins, each loop as its own person of `people` (round robin).
async fn load_sign_ins(
    client: &reqwest::Client,
    gateway: &str,
    args: &PagesArgs,
    people: &[String],
    duration: Duration,
) -> anyhow::Result<Load> {
    let url = format!("{gateway}/api/v1/auth/sign-in");
    let bodies: Arc<Vec<serde_json::Value>> = Arc::new(
        people
            .iter()
            .map(|person| serde_json::json!({"username": person, "password": args.password}))
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = client.clone();
    Ok(run_load(args.concurrency, duration, move || {
        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        client.post(url.clone()).json(&bodies[n % bodies.len()]).send()
    })
    .await)
}

async fn run_load<F, Fut>(concurrency: usize, duration: Duration, send: F) -> Load
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send,
{
    enum Answer {
        Complete,
        Incomplete,
        Failed,
    }
    async fn one<Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>>(request: Fut) -> Answer {
        let Ok(response) = request.await else {
            return Answer::Failed;
        };
        let ok = response.status().is_success();
        // The whole body: a page is served when it has been read, not when it started.
        match response.bytes().await {
            Ok(body)
                if ok
                    && body
                        .windows(UNAVAILABLE_SECTION.len())
                        .any(|w| w == UNAVAILABLE_SECTION) =>
            {
                Answer::Incomplete
            }
            Ok(_) if ok => Answer::Complete,
            _ => Answer::Failed,
        }
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(concurrency));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let send = send.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            one(send()).await;
            barrier.wait().await;
            let until = Instant::now() + duration;
            let mut times = Vec::new();
            let (mut failed, mut incomplete) = (0, 0);
            while Instant::now() < until {
                let started = Instant::now();
                match one(send()).await {
                    Answer::Complete => {}
                    Answer::Incomplete => incomplete += 1,
                    Answer::Failed => failed += 1,
                }
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            (times, failed, incomplete)
        }));
    }
    let started = Instant::now();
    let mut times = Vec::new();
    let (mut non_2xx, mut incomplete) = (0, 0);
    for task in tasks {
        if let Ok((mine, failed, partial)) = task.await {
            times.extend(mine);
            non_2xx += failed;
            incomplete += partial;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let times = sorted(times);
    Load {
        requests: times.len(),
        per_second: times.len() as f64 / elapsed,
        p50_ms: percentile(&times, 50.0),
        p99_ms: percentile(&times, 99.0),
        non_2xx,
        incomplete,
    }
}

/// argon2id verifications of `password` per second on `threads` threads, hashed with
/// identity's own parameters and verified as identity verifies (its `Verifier`, memory kept
/// between runs), for `duration`: the ratio to it is the share of the machine the hash gets.
async fn raw_argon2id(password: &str, threads: usize, duration: Duration) -> anyhow::Result<f64> {
    use argon2::PasswordHash;
    let hash = myaccount_identity::passwords::hash_password(password.to_owned()).await?;
    let until = Instant::now() + duration;
    let started = Instant::now();
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let hash = hash.clone();
        let password = password.to_owned();
        workers.push(tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut verifier = myaccount_identity::passwords::Verifier::default();
            let mut verified = 0;
            while Instant::now() < until {
                anyhow::ensure!(
                    verifier.verify(password.as_bytes(), &parsed),
                    "the password does not verify against its own hash"
                );
                verified += 1;
            }
            Ok(verified)
        }));
    }
    let mut verified = 0;
    for worker in workers {
        verified += worker.await??;
    }
    Ok(verified as f64 / started.elapsed().as_secs_f64())
}
