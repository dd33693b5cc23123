//! `myaccount user rename`, the built binary, against a real identity database: it prints what
//! changed, stores the new identifiers and writes `identifiers_changed` to the outbox; a name
//! another account has, or a malformed one, is refused naming the option, and changes nothing.

use std::process::Output;

use myaccount_proto::events::v1::UserIdentifiersChanged;
use platform::testing::TestDatabase;
use prost::Message;
use sqlx::PgPool;
use uuid::Uuid;

const IDENTIFIERS_CHANGED: &str = "myaccount.identity.v1.identifiers_changed";

async fn identity_database() -> (TestDatabase, PgPool) {
    let database = TestDatabase::new("identity_cli");
    let pool = platform::db::connect(&database.settings, &myaccount_identity::MIGRATIONS)
        .await
        .expect("the identity database, migrated");
    (database, pool)
}

/// An account as CreateUser leaves it (the password hash does not matter here).
async fn account(pool: &PgPool, upn: &str, mail: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, user_principal_name, display_name, mail, password_hash, password_changed_at, \
         created_at, updated_at) VALUES ($1, $2, 'Someone', $3, 'not a hash', now(), now(), now())",
    )
    .bind(id)
    .bind(upn)
    .bind(mail)
    .execute(pool)
    .await
    .expect("an account");
    id
}

async fn user_command(database: &TestDatabase, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_myaccount"))
        .arg("user")
        .args(args)
        .env("IDENTITY_DATABASE_URL", &database.settings.url)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("myaccount runs")
}

async fn identifiers(pool: &PgPool, id: Uuid) -> (String, String) {
    sqlx::query_as("SELECT user_principal_name, mail FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("the account")
}

async fn published(pool: &PgPool) -> Vec<UserIdentifiersChanged> {
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM platform.outbox WHERE subject = $1 ORDER BY created_at, id")
            .bind(IDENTIFIERS_CHANGED)
            .fetch_all(pool)
            .await
            .expect("the outbox");
    payloads
        .iter()
        .map(|p| UserIdentifiersChanged::decode(p.as_slice()).expect("an identifiers_changed payload"))
        .collect()
}

#[tokio::test]
async fn rename_prints_what_changed_and_publishes_it() {
    let (database, pool) = identity_database().await;
    let id = account(&pool, "old.name@contoso.example", "old.mail@contoso.example").await;

    let output = user_command(
        &database,
        &[
            "rename",
            "--username",
            "Old.Name@Contoso.Example",
            "--new-username",
            "New.Name@Contoso.Example",
            "--new-email",
            "new.mail@contoso.example",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("user name: old.name@contoso.example -> new.name@contoso.example"),
        "{stdout}"
    );
    assert!(
        stdout.contains("email: old.mail@contoso.example -> new.mail@contoso.example"),
        "{stdout}"
    );
    assert_eq!(
        identifiers(&pool, id).await,
        ("new.name@contoso.example".into(), "new.mail@contoso.example".into())
    );
    let events = published(&pool).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].user_id, id.to_string());
    assert_eq!(events[0].old_user_principal_name, "old.name@contoso.example");
    assert_eq!(events[0].new_email, "new.mail@contoso.example");
    assert_eq!(events[0].changed_by, "operator");

    // The email alone; the name stays.
    let output = user_command(
        &database,
        &[
            "rename",
            "--username",
            "new.name@contoso.example",
            "--new-email",
            "third@contoso.example",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("user name:"), "{stdout}");
    assert!(
        stdout.contains("email: new.mail@contoso.example -> third@contoso.example"),
        "{stdout}"
    );
    assert_eq!(published(&pool).await.len(), 2);
}

#[tokio::test]
async fn a_taken_or_malformed_name_is_refused_and_nothing_changes() {
    let (database, pool) = identity_database().await;
    let id = account(&pool, "keeps.name@contoso.example", "").await;
    account(&pool, "taken@contoso.example", "").await;

    let taken = user_command(
        &database,
        &[
            "rename",
            "--username",
            "keeps.name@contoso.example",
            "--new-username",
            "taken@contoso.example",
        ],
    )
    .await;
    assert!(!taken.status.success());
    let stderr = String::from_utf8_lossy(&taken.stderr);
    assert!(stderr.contains("taken@contoso.example already exists"), "{stderr}");

    let malformed = user_command(
        &database,
        &[
            "rename",
            "--username",
            "keeps.name@contoso.example",
            "--new-email",
            "not an address",
        ],
    )
    .await;
    assert!(!malformed.status.success());
    let stderr = String::from_utf8_lossy(&malformed.stderr);
    assert!(
        stderr.contains("--new-email: must look like name@domain.example"),
        "{stderr}"
    );

    let unknown = user_command(
        &database,
        &[
            "rename",
            "--username",
            "nobody@contoso.example",
            "--new-email",
            "a@contoso.example",
        ],
    )
    .await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("--username: no account is named"));

    let neither = user_command(&database, &["rename", "--username", "keeps.name@contoso.example"]).await;
    assert!(!neither.status.success(), "clap asks for --new-username or --new-email");

    assert_eq!(
        identifiers(&pool, id).await,
        ("keeps.name@contoso.example".into(), String::new())
    );
    assert!(published(&pool).await.is_empty());
}
