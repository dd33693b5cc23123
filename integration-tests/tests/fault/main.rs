//! The fault suite: the shipped binaries (two replicas of every service, two gateways) on a
//! three-node JetStream cluster and a Postgres of the test's own, under a burst of sign-ins and
//! account changes, while it kills and restarts a NATS server, a replica of each service, stops
//! Postgres for 45 s and sends SIGTERM to a gateway. Then: every committed sign-in is in audit
//! exactly once, every account change took effect everywhere, no dead letter and no stuck
//! outbox row, processing resumed within 10 s of each return, and no 5xx but 503 while Postgres
//! was down.
//!
//! `FAULT_PROFILE=long` repeats every fault for more rounds (`FAULT_ROUNDS`, default 4) under a
//! longer burst; `FAULT_SEED` replays the random moments of an earlier run (each run prints its
//! seed).

mod fleet;
mod system;
mod workload;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fleet::{AUDIT, Fleet, IDENTITY, SERVICES};
use myaccount_proto::privacy::v1::DescribeMyPersonalDataRequest;
use reqwest::StatusCode;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use workload::{Admin, Change, ChangeKit, Client, MfaPerson, People, Session};

/// How the suite runs: the short profile by default (under 5 minutes on a 2-core machine).
struct Profile {
    name: &'static str,
    rounds: usize,
    postgres_outage: Duration,
    burst_workers: usize,
}

impl Profile {
    fn from_env() -> Self {
        let long = std::env::var("FAULT_PROFILE").is_ok_and(|p| p == "long");
        let rounds = std::env::var("FAULT_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(if long { 4 } else { 1 });
        Self {
            name: if long { "long" } else { "short" },
            rounds,
            // Longer than any retry budget the consumers and the relay had before they learned
            // to wait out an outage.
            postgres_outage: Duration::from_secs(45),
            burst_workers: 6,
        }
    }
}

/// How soon processing must resume after a dependency returns.
const RESUME_WITHIN: Duration = Duration::from_secs(10);
/// A 503 is acceptable while Postgres is down, and until the pools have reconnected. Nowhere
/// else: a call in flight on a replica that is killed is sent again by the gateway, a write
/// with its idempotency key, and answered once.
const OUTAGE_GRACE: Duration = Duration::from_secs(10);

/// Random moments from a seed the run prints (xorshift: reproducible with `FAULT_SEED`).
struct Moments(u64);

impl Moments {
    fn from_env() -> Self {
        let seed = std::env::var("FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| (uuid::Uuid::new_v4().as_u128() as u64) | 1);
        eprintln!("fault suite: FAULT_SEED={seed}");
        Self(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn within(&mut self, span: Duration) -> Duration {
        Duration::from_millis(self.below(span.as_millis() as u64 + 1))
    }
}

/// One fault and how long processing took to resume after its cause went away.
struct Recovery {
    fault: String,
    resumed_after: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_system_keeps_every_promise_through_crashes_restarts_and_outages() {
    let profile = Profile::from_env();
    let mut moments = Moments::from_env();
    let started = Instant::now();
    let mut fleet = Fleet::start().await;
    eprintln!(
        "fault suite ({} profile): fleet up in {:?}",
        profile.name,
        started.elapsed()
    );

    let client = Client::new(fleet.gateway_balancer.url());
    let probe_client = client.at("198.51.100.250".into());
    // One admin sign-in with a second factor for the whole run: every admin action needs one.
    let admin = Arc::new(
        Admin::sign_in(
            &client,
            fleet.service_balancers[IDENTITY].url(),
            fleet.gateway_key.clone(),
        )
        .await,
    );
    let identity_db = pool(&fleet.database_url(IDENTITY)).await;
    let audit_db = pool(&fleet.database_url(AUDIT)).await;

    // The people, before anything fails.
    let mut good = Vec::new();
    for _ in 0..12 {
        good.push(admin.create_person("good").await);
    }
    let mut victims = Vec::new();
    for _ in 0..4 {
        victims.push(admin.create_person("victim").await);
    }
    let mut mfa = Vec::new();
    for _ in 0..4 {
        mfa.push(MfaPerson::enrol(&client, admin.create_person("mfa").await).await);
    }
    let mut kits = Vec::new();
    for _ in 0..profile.rounds * 3 {
        kits.push(ChangeKit {
            device_owner: admin.create_person("device").await,
            everywhere: admin.create_person("everywhere").await,
            not_me: admin.create_person("notme").await,
            deleted: admin.create_person("deleted").await,
        });
    }
    let probe = admin.create_person("probe").await;
    let people = Arc::new(People { good, victims, mfa });

    // The load: a burst of sign-ins, and account changes one after another.
    let stop = CancellationToken::new();
    let burst = tokio::spawn(workload::sign_in_burst(
        client.clone(),
        people.clone(),
        profile.burst_workers,
        stop.clone(),
    ));
    let changes = {
        let client = client.clone();
        let identity_db = identity_db.clone();
        let admin = admin.clone();
        tokio::spawn(async move {
            let mut changes = Vec::new();
            for kit in &kits {
                changes.extend(workload::make_changes(&client, &admin, &identity_db, kit).await);
            }
            changes
        })
    };

    let mut recoveries = Vec::new();
    let mut postgres_down: Vec<(Instant, Instant)> = Vec::new();
    for round in 0..profile.rounds {
        eprintln!("fault suite: round {} at {:?}", round + 1, started.elapsed());

        // A NATS server, killed and started again.
        let node = moments.below(3) as usize;
        fleet.nats.kill(node).await;
        tokio::time::sleep(Duration::from_secs(3) + moments.within(Duration::from_secs(4))).await;
        fleet.nats.restart(node).await;
        let back = Instant::now();
        recoveries.push(Recovery {
            fault: format!("round {}: nats-server {node} kill -9", round + 1),
            resumed_after: probe_sign_in(&probe_client, &audit_db, &probe, back).await,
        });

        // One replica of every service, each killed at its own random moment, then restarted.
        let mut killed = Vec::new();
        let window = Duration::from_secs(8);
        let mut schedule: Vec<(Duration, usize, usize)> = (0..SERVICES.len())
            .map(|service| (moments.within(window), service, moments.below(2) as usize))
            .collect();
        schedule.sort();
        let window_started = Instant::now();
        for (at, service, replica) in schedule {
            tokio::time::sleep_until((window_started + at).into()).await;
            fleet.services[service][replica].kill().await;
            killed.push((service, replica));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        for (service, replica) in &killed {
            fleet.services[*service][*replica].spawn();
        }
        for (service, replica) in &killed {
            fleet.services[*service][*replica].wait_until_ready().await;
        }
        let back = Instant::now();
        recoveries.push(Recovery {
            fault: format!("round {}: a replica of each service kill -9", round + 1),
            resumed_after: probe_sign_in(&probe_client, &audit_db, &probe, back).await,
        });

        // A gateway told to stop while it serves: as its pod starts terminating, the Service
        // sends it no new connection; the requests it has in hand must still be answered.
        let gateway = moments.below(2) as usize;
        fleet.gateway_balancer.take_out(fleet.gateway_ports[gateway]);
        assert!(
            fleet.gateways[gateway].terminate().await,
            "gateway-{gateway} did not exit cleanly after SIGTERM"
        );
        fleet.gateways[gateway].spawn();
        fleet.gateways[gateway].wait_until_ready().await;
        fleet.gateway_balancer.put_back(fleet.gateway_ports[gateway]);

        // Postgres away for longer than any retry budget.
        let down = Instant::now();
        fleet.postgres.stop();
        tokio::time::sleep(profile.postgres_outage).await;
        fleet.postgres.resume().await;
        let back = Instant::now();
        postgres_down.push((down, back));
        recoveries.push(Recovery {
            fault: format!(
                "round {}: Postgres stopped for {:?}",
                round + 1,
                profile.postgres_outage
            ),
            resumed_after: probe_sign_in(&probe_client, &audit_db, &probe, back).await,
        });
    }

    // A few more seconds of load on the recovered system, then the checks.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.cancel();
    let sent = burst.await.expect("the burst");
    let changes = changes.await.expect("the account changes");
    eprintln!("fault suite: load stopped at {:?}: {sent:?}", started.elapsed());

    let committed = every_committed_sign_in_is_in_audit_exactly_once(&identity_db, &audit_db).await;
    every_change_took_effect_everywhere(&fleet, &client, &changes).await;
    no_dead_letters_and_no_stuck_outbox_rows(&fleet).await;
    let answers = client.ledger.answers();
    let unavailable = no_5xx_but_503_while_postgres_was_down(started, &answers, &postgres_down);
    let outages: Vec<_> = postgres_down
        .iter()
        .map(|(down, back)| (down.duration_since(started), back.duration_since(started)))
        .collect();
    eprintln!("  Postgres down (from, to): {outages:?}");

    eprintln!(
        "fault suite ({} profile, {} rounds) passed in {:?}",
        profile.name,
        profile.rounds,
        started.elapsed()
    );
    eprintln!(
        "  sign-ins sent: {} good, {} bad, {} with a second factor; committed (in audit exactly once): {committed}",
        sent.good, sent.bad, sent.mfa
    );
    eprintln!(
        "  answers: {}, of which 503 while Postgres was down: {unavailable}; account changes: {}",
        answers.len(),
        changes.len()
    );
    for recovery in &recoveries {
        eprintln!(
            "  {}: processing resumed after {:?}",
            recovery.fault, recovery.resumed_after
        );
    }
    for recovery in &recoveries {
        assert!(
            recovery.resumed_after <= RESUME_WITHIN,
            "{}: processing resumed only after {:?}",
            recovery.fault,
            recovery.resumed_after
        );
    }
}

async fn pool(url: &str) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .expect("a database of the fleet")
}

/// Time from `back` (a dependency's return) until a new sign-in of `probe` succeeded and is in
/// the audit log: requests served and events flowing again.
async fn probe_sign_in(client: &Client, audit_db: &PgPool, probe: &workload::Person, back: Instant) -> Duration {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        - 1.0;
    let user_id = uuid::Uuid::parse_str(&probe.id).expect("an id");
    let before: i64 = count_probe_sign_ins(audit_db, user_id, since).await.unwrap_or(0);
    client.sign_in(probe, None).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if count_probe_sign_ins(audit_db, user_id, since)
            .await
            .is_ok_and(|n| n > before)
        {
            return back.elapsed();
        }
        assert!(Instant::now() < deadline, "the probe's sign-in never reached audit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count_probe_sign_ins(audit_db: &PgPool, user_id: uuid::Uuid, since: f64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM sign_ins WHERE user_id = $1 AND status = 'success' AND occurred_at >= to_timestamp($2)",
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(audit_db)
    .await
}

/// Identity's outbox keeps every `signin.v1.recorded` it committed (sent rows are kept for the
/// replay horizon), and each one's id is the sign-in's id in audit.
async fn every_committed_sign_in_is_in_audit_exactly_once(identity_db: &PgPool, audit_db: &PgPool) -> usize {
    let committed: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM platform.outbox WHERE ce_type = 'myaccount.signin.v1.recorded' ORDER BY id")
            .fetch_all(identity_db)
            .await
            .expect("identity's outbox");
    assert!(
        committed.len() > 100,
        "too few sign-ins to tell anything: {}",
        committed.len()
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let logged: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM sign_ins ORDER BY id")
            .fetch_all(audit_db)
            .await
            .expect("audit's sign-ins");
        let mut unique = logged.clone();
        unique.dedup();
        assert_eq!(unique.len(), logged.len(), "a sign-in is in audit more than once");
        let missing = committed.iter().filter(|id| unique.binary_search(id).is_err()).count();
        if missing == 0 {
            let invented: Vec<_> = unique
                .iter()
                .filter(|id| committed.binary_search(id).is_err())
                .collect();
            assert!(
                invented.is_empty(),
                "audit holds sign-ins identity never committed: {invented:?}"
            );
            return committed.len();
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} committed sign-ins never reached audit",
            committed.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn every_change_took_effect_everywhere(fleet: &Fleet, client: &Client, changes: &[Change]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for change in changes {
        match change {
            Change::DeviceDisabled { on_device } => {
                session_ends(client, on_device, deadline, "the disabled device's session").await;
            }
            Change::SignedOutEverywhere { sessions } => {
                for session in sessions {
                    session_ends(client, session, deadline, "a session signed out everywhere").await;
                }
                every_replica_refuses(fleet, &sessions[0].access_token, deadline).await;
            }
            Change::NotMe { session } => {
                session_ends(client, session, deadline, "a session reported as not me").await;
            }
            Change::Deleted { person } => {
                erased_everywhere(fleet, &person.id, deadline).await;
            }
        }
    }
}

async fn session_ends(client: &Client, session: &Session, deadline: Instant, what: &str) {
    loop {
        let status = client.refresh(session).await;
        if status == StatusCode::UNAUTHORIZED {
            return;
        }
        assert!(Instant::now() < deadline, "{what} still refreshes: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every replica of every service refuses the access token (each follows the revocation feed).
async fn every_replica_refuses(fleet: &Fleet, token: &str, deadline: Instant) {
    use myaccount_proto::{audit, devices, identity, organizations, securityinfo};
    for (service, ports) in fleet.grpc_ports.iter().enumerate() {
        for port in ports {
            loop {
                // As the gateway: a call without its workload token is refused whatever the
                // person's token, which would prove nothing about revocation.
                let channel = platform::workload::SignedAsWorkload::new(
                    tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                        .expect("an endpoint")
                        .connect_lazy(),
                    fleet.gateway_key.clone(),
                    SERVICES[service].name,
                );
                let mut request = tonic::Request::new(DescribeMyPersonalDataRequest {});
                request
                    .metadata_mut()
                    .insert("authorization", format!("Bearer {token}").parse().expect("header"));
                let answer = match service {
                    0 => identity::v1::identity_service_client::IdentityServiceClient::new(channel)
                        .describe_my_personal_data(request)
                        .await
                        .map(drop),
                    1 => securityinfo::v1::security_info_service_client::SecurityInfoServiceClient::new(channel)
                        .describe_my_personal_data(request)
                        .await
                        .map(drop),
                    2 => devices::v1::devices_service_client::DevicesServiceClient::new(channel)
                        .describe_my_personal_data(request)
                        .await
                        .map(drop),
                    3 => organizations::v1::organizations_service_client::OrganizationsServiceClient::new(channel)
                        .describe_my_personal_data(request)
                        .await
                        .map(drop),
                    _ => audit::v1::audit_service_client::AuditServiceClient::new(channel)
                        .describe_my_personal_data(request)
                        .await
                        .map(drop),
                };
                match answer {
                    Err(status) if status.code() == tonic::Code::Unauthenticated => break,
                    other => assert!(
                        Instant::now() < deadline,
                        "{} on port {port} still accepts a token signed out everywhere: {other:?}",
                        SERVICES[service].name
                    ),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Every service that consumes `identity.v1.user_deleted` keeps its tombstone, and audit no
/// longer links any sign-in to the person.
async fn erased_everywhere(fleet: &Fleet, user_id: &str, deadline: Instant) {
    let user_id = uuid::Uuid::parse_str(user_id).expect("an id");
    // Every service but identity (which deleted the person itself).
    for (service, def) in SERVICES.iter().enumerate().skip(1) {
        let db = pool(&fleet.database_url(service)).await;
        loop {
            let erased: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.erased_users WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&db)
                .await
                .expect("erased users");
            if erased == 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} never erased deleted person {user_id}",
                def.name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        db.close().await;
    }
    let audit = pool(&fleet.database_url(AUDIT)).await;
    let linked: i64 = sqlx::query_scalar("SELECT count(*) FROM sign_ins WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&audit)
        .await
        .expect("sign-ins");
    assert_eq!(linked, 0, "audit still links sign-ins to deleted person {user_id}");
    audit.close().await;
}

async fn no_dead_letters_and_no_stuck_outbox_rows(fleet: &Fleet) {
    let servers = platform::events::server_addrs(&fleet.nats.url()).expect("the cluster's servers");
    let nats = async_nats::connect(servers).await.expect("the cluster");
    let jetstream = async_nats::jetstream::new(nats);
    for stream in platform::events::Stream::ALL {
        let mut info = jetstream.get_stream(stream.name()).await.expect("every stream exists");
        let info = info.info().await.expect("stream info");
        assert_eq!(
            info.config.num_replicas,
            3,
            "{} is not replicated three times",
            stream.name()
        );
        if stream == platform::events::Stream::DeadLetter {
            assert_eq!(info.state.messages, 0, "dead letters were written");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for (i, service) in SERVICES.iter().enumerate() {
        let db = pool(&fleet.database_url(i)).await;
        loop {
            let (quarantined, unsent): (i64, i64) = sqlx::query_as(
                "SELECT count(*) FILTER (WHERE quarantined_at IS NOT NULL), \
                        count(*) FILTER (WHERE published_at IS NULL) FROM platform.outbox",
            )
            .fetch_one(&db)
            .await
            .expect("the outbox");
            assert_eq!(quarantined, 0, "{}: outbox rows quarantined", service.name);
            if unsent == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {unsent} outbox rows never sent",
                service.name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        db.close().await;
    }
}

/// Every answer was a success, a refusal of the client's own doing (4xx), or a 503 while
/// Postgres was down (and the pools reconnecting); no request went unanswered, and none in
/// flight on a killed replica failed. Returns the number of 503s.
fn no_5xx_but_503_while_postgres_was_down(
    started: Instant,
    answers: &[workload::Answer],
    postgres_down: &[(Instant, Instant)],
) -> usize {
    let mut unavailable = 0;
    let mut wrong = Vec::new();
    for answer in answers {
        let during_outage = postgres_down
            .iter()
            .any(|(down, back)| answer.at >= *down && answer.at <= *back + OUTAGE_GRACE);
        match &answer.outcome {
            Ok(503) if during_outage => unavailable += 1,
            Ok(status) if *status < 500 => {}
            outcome => wrong.push(format!(
                "{} at {:?}: {outcome:?}",
                answer.what,
                answer.at.duration_since(started)
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers were 5xx outside a Postgres outage or never came, e.g. {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    unavailable
}
