//! `myaccount ssf add-receiver`, the built binary, against a real signals database: the client
//! credentials it prints on lines of their own, the secret stored only as a hash, and a bad
//! audience refused with nothing stored.

use std::process::Output;

use platform::testing::{TestDatabase, row_count};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

async fn signals_database() -> (TestDatabase, PgPool) {
    let database = TestDatabase::new("signals_cli");
    let pool = platform::db::connect(&database.settings, &myaccount_signals::MIGRATIONS)
        .await
        .expect("the signals database, migrated");
    (database, pool)
}

async fn add_receiver(database: &TestDatabase, name: &str, audience: &str) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_myaccount"))
        .args(["ssf", "add-receiver", "--name", name, "--audience", audience])
        .env("SIGNALS_DATABASE_URL", &database.settings.url)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("myaccount runs")
}

fn line_value(stdout: &str, key: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= line in {stdout:?}"))
        .to_owned()
}

#[tokio::test]
async fn add_receiver_prints_the_client_credentials_and_keeps_only_a_hash_of_the_secret() {
    let (database, pool) = signals_database().await;
    let output = add_receiver(&database, "Payroll", "https://payroll.example.com").await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let client_id = line_value(&stdout, "client_id");
    let client_secret = line_value(&stdout, "client_secret");
    assert!(client_secret.len() >= 43, "256 bits, base64url");

    let (audience, stored): (String, Vec<u8>) =
        sqlx::query_as("SELECT audience, client_secret_sha256 FROM receivers WHERE client_id = $1")
            .bind(&client_id)
            .fetch_one(&pool)
            .await
            .expect("the receiver");
    assert_eq!(audience, "https://payroll.example.com");
    assert_eq!(stored, Sha256::digest(client_secret.as_bytes()).to_vec());
}

#[tokio::test]
async fn a_bad_audience_is_refused_with_the_reason_and_nothing_is_stored() {
    let (database, pool) = signals_database().await;
    let output = add_receiver(&database, "Payroll", "payroll").await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--audience: must be an absolute URI"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(row_count(&pool, "receivers").await, 0);
}
