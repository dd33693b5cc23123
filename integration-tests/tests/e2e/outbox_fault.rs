use std::time::Duration;

use myaccount_integration_tests::TestSystem;
use platform::testing::{NatsServer, TestNats, eventually};
use sqlx::Connection;

async fn audit_rows(system: &TestSystem) -> i64 {
    let mut conn = sqlx::PgConnection::connect(&system.audit_db.settings.url)
        .await
        .expect("audit db");
    sqlx::query_scalar("SELECT count(*) FROM sign_ins")
        .fetch_one(&mut conn)
        .await
        .expect("count")
}

async fn unsent(system: &TestSystem) -> i64 {
    let mut conn = sqlx::PgConnection::connect(&system.identity_db.settings.url)
        .await
        .expect("identity db");
    sqlx::query_scalar("SELECT count(*) FROM platform.outbox WHERE published_at IS NULL")
        .fetch_one(&mut conn)
        .await
        .expect("count")
}

/// NATS down: sign-ins still succeed and nothing is lost; back up: each event lands once.
#[tokio::test]
async fn sign_ins_survive_a_nats_outage_and_arrive_exactly_once() {
    let mut nats = NatsServer::start().await;
    let system = TestSystem::spawn_with_nats(TestNats::at(&nats.url())).await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    // The admin's two sign-ins (the first registers its authenticator app, the second uses it)
    // and the user's: ingested while NATS is up.
    eventually(Duration::from_secs(20), || async { audit_rows(&system).await == 3 }).await;

    nats.stop();
    for _ in 0..5 {
        system.sign_in_ok(&user).await;
    }
    let wrong = system.sign_in(&user.upn, "definitely not it").await;
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(unsent(&system).await, 6, "events wait in the outbox while NATS is down");

    nats.resume().await;
    eventually(Duration::from_secs(30), || async { unsent(&system).await == 0 }).await;
    eventually(Duration::from_secs(30), || async { audit_rows(&system).await == 9 }).await;
    // Give any duplicate a chance to show up before the final count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(audit_rows(&system).await, 9, "each event exactly once");
    let mine = system.all_sign_ins(&session.access_token, 100).await;
    assert_eq!(mine.len(), 7);
}
