//! `platform::db`: the database is created when missing, migrations are idempotent (also when
//! replicas start together), and the platform's tables live in schema `platform`.

use std::collections::BTreeSet;

use anyhow::Result;
use platform::db::connect;
use platform::testing::{POSTGRES_SERVER, TestDatabase};
use sqlx::{Connection, PgPool};

use crate::helpers::{TEST_MIGRATOR, empty_migrator};

async fn database_exists(name: &str) -> Result<bool> {
    let mut conn = sqlx::PgConnection::connect(&format!("{POSTGRES_SERVER}/postgres")).await?;
    let exists = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(exists)
}

async fn tables_in(pool: &PgPool, schema: &str) -> Result<BTreeSet<String>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1")
            .bind(schema)
            .fetch_all(pool)
            .await?;
    Ok(names.into_iter().collect())
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[tokio::test]
async fn connect_creates_the_database_when_missing() -> Result<()> {
    let db = TestDatabase::new("platform");
    assert!(!database_exists(db.name()).await?);

    let pool = connect(&db.settings, &empty_migrator()).await?;

    assert!(database_exists(db.name()).await?);
    let current: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&pool)
        .await?;
    assert_eq!(current, db.name());
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn connecting_twice_is_harmless() -> Result<()> {
    let db = TestDatabase::new("platform");
    let first = connect(&db.settings, &TEST_MIGRATOR).await?;
    sqlx::query(
        "INSERT INTO applied_sign_ins (event_id, sign_in_id, user_principal_name, delivered)
         VALUES ('e', 's', 'u', 1)",
    )
    .execute(&first)
    .await?;

    // A restart (or a second replica) runs the same migrations again.
    let second = connect(&db.settings, &TEST_MIGRATOR).await?;

    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM applied_sign_ins")
        .fetch_one(&second)
        .await?;
    assert_eq!(
        rows, 1,
        "a second connect must not recreate or empty the service's tables"
    );
    let platform_applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM platform._sqlx_migrations ORDER BY version")
            .fetch_all(&second)
            .await?;
    assert_eq!(
        platform_applied,
        vec![(1, true), (2, true), (3, true), (4, true), (5, true)]
    );
    let service_applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM public._sqlx_migrations ORDER BY version")
            .fetch_all(&second)
            .await?;
    assert_eq!(service_applied, vec![(1, true)]);
    first.close().await;
    second.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_all_succeed() -> Result<()> {
    let db = TestDatabase::new("platform");
    // Four replicas race to create the database and migrate it.
    let attempts = (0..4).map(|_| {
        let settings = db.settings.clone();
        tokio::spawn(async move { connect(&settings, &TEST_MIGRATOR).await })
    });
    let mut pools = Vec::new();
    for attempt in futures::future::join_all(attempts).await {
        pools.push(attempt??);
    }
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM platform._sqlx_migrations")
        .fetch_one(&pools[0])
        .await?;
    assert_eq!(applied, 5);
    for pool in pools {
        pool.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn platform_tables_live_in_schema_platform() -> Result<()> {
    let db = TestDatabase::new("platform");
    let pool = connect(&db.settings, &TEST_MIGRATOR).await?;

    assert_eq!(
        tables_in(&pool, "platform").await?,
        set(&[
            "_sqlx_migrations",
            "consumer_failures",
            "erased_users",
            "idempotent_calls",
            "outbox",
            "processed_events"
        ])
    );
    // The service's own migrations and their bookkeeping stay in the default schema.
    assert_eq!(
        tables_in(&pool, "public").await?,
        set(&["_sqlx_migrations", "applied_sign_ins"])
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn migrations_can_be_turned_off() -> Result<()> {
    let mut db = TestDatabase::new("platform");
    db.settings.run_migrations = false;
    let pool = connect(&db.settings, &TEST_MIGRATOR).await?;

    assert!(database_exists(db.name()).await?, "the database is still created");
    assert!(tables_in(&pool, "platform").await?.is_empty());
    assert!(tables_in(&pool, "public").await?.is_empty());
    pool.close().await;
    Ok(())
}

/// A pool of one connection: every statement of the test meets the same session.
async fn one_connection_pool(db: &TestDatabase, generic_plans: bool) -> Result<PgPool> {
    let mut settings = db.settings.clone().with_generic_plans(generic_plans);
    settings.max_connections = 1;
    Ok(connect(&settings, &empty_migrator()).await?)
}

/// How often Postgres planned the statement containing `marker` on this connection: (generic
/// plans, custom plans).
async fn plans_of(conn: &mut sqlx::PgConnection, marker: &str) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%' || $1 || '%'",
    )
    .bind(marker)
    .fetch_one(&mut *conn)
    .await?)
}

#[tokio::test]
async fn a_service_with_generic_plans_never_plans_a_statement_again_for_its_values() -> Result<()> {
    let db = TestDatabase::new("platform");
    for generic_plans in [false, true] {
        let pool = one_connection_pool(&db, generic_plans).await?;
        let mut conn = pool.acquire().await?;
        let mode: String = sqlx::query_scalar("SHOW plan_cache_mode").fetch_one(&mut *conn).await?;
        assert_eq!(mode, if generic_plans { "force_generic_plan" } else { "auto" });
        // One person with thousands of rows among a few with one: what made identity's
        // sessions page planned anew on every call.
        sqlx::raw_sql(
            "DROP TABLE IF EXISTS visits;
             CREATE TABLE visits (person int NOT NULL, seen int NOT NULL);
             INSERT INTO visits SELECT 1, g FROM generate_series(1, 5000) AS g;
             INSERT INTO visits SELECT g, 0 FROM generate_series(2, 6) AS g;
             CREATE INDEX visits_by_person ON visits (person, seen DESC);
             ANALYZE visits;",
        )
        .execute(&mut *conn)
        .await?;
        for _ in 0..8 {
            let page: Vec<i32> =
                sqlx::query_scalar("SELECT seen FROM visits WHERE person = $1 ORDER BY seen DESC LIMIT $2")
                    .bind(1)
                    .bind(25_i64)
                    .fetch_all(&mut *conn)
                    .await?;
            assert_eq!(page.len(), 25);
        }
        let (generic, custom) = plans_of(&mut conn, "FROM visits WHERE person").await?;
        if generic_plans {
            assert_eq!((generic, custom), (8, 0));
        } else {
            // Postgres's own choice: custom plans first, and here always.
            assert!(custom >= 5, "custom plans {custom}");
        }
        drop(conn);
        pool.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_transaction_begun_for_generic_plans_runs_them_and_leaves_the_connection_as_it_was() -> Result<()> {
    let db = TestDatabase::new("platform");
    let pool = one_connection_pool(&db, false).await?;
    let mut tx = platform::db::begin_with_generic_plans(&pool).await?;
    let inside: String = sqlx::query_scalar("SHOW plan_cache_mode").fetch_one(&mut *tx).await?;
    assert_eq!(inside, "force_generic_plan");
    tx.commit().await?;
    // The one connection of the pool, after the transaction.
    let after: String = sqlx::query_scalar("SHOW plan_cache_mode").fetch_one(&pool).await?;
    assert_eq!(after, "auto");
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_connection_that_died_while_idle_in_the_pool_is_replaced_before_it_is_handed_out() -> Result<()> {
    let db = TestDatabase::new("platform");
    let pool = one_connection_pool(&db, false).await?;
    let first: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&pool).await?;
    // Postgres ends the pool's one connection (as a restart or a failover would) while it sits idle.
    let mut admin = sqlx::PgConnection::connect(&format!("{POSTGRES_SERVER}/postgres")).await?;
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&mut admin)
        .await?;
    assert!(ended);
    admin.close().await?;
    // Idle past the moment after which the pool asks before handing a connection out.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let second: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&pool).await?;
    assert_ne!(second, first, "a new connection, not the dead one");
    pool.close().await;
    Ok(())
}
