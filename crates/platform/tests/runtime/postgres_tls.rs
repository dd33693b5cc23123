//! TLS to Postgres: a server of the test's own that accepts only TLS connections (`hostssl`),
//! with a certificate for `localhost` from a CA made up by the test.

use std::path::{Path, PathBuf};

use platform::config::{ConfigError, Env};
use platform::db::{DatabaseSettings, DbError};
use platform::testing::{PostgresServer, TestCa};
use sqlx::Row;
use uuid::Uuid;

use crate::helpers::empty_migrator;

struct TlsPostgres {
    server: PostgresServer,
    /// The CA that issued the server's certificate.
    ca: PathBuf,
    dir: PathBuf,
}

impl TlsPostgres {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("myaccount-pg-tls-{}", Uuid::new_v4().simple()));
        let ca = TestCa::new("myaccount test postgres CA");
        let ca_file = ca.write_cert(&dir, "ca.crt");
        let server = PostgresServer::start_configured(&dir.join("postgres"), |cluster| {
            ca.write_server_files(cluster, "server", &["localhost"]);
            require_tls(cluster);
        })
        .await;
        Self {
            server,
            ca: ca_file,
            dir,
        }
    }

    /// Settings as a service reads them, for database `name` at `host`.
    fn settings(&self, host: &str, name: &str, vars: &[(&str, &str)]) -> Result<DatabaseSettings, ConfigError> {
        let url = format!("postgres://postgres@{host}:{}/{name}", self.server.port);
        let mut pairs = vec![("DEVICES_DATABASE_URL".to_owned(), url)];
        pairs.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        DatabaseSettings::from_env(&Env::from_pairs(pairs), "DEVICES", "myaccount_devices")
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `ssl = on` with the certificate in the cluster directory, and TCP connections only over TLS.
fn require_tls(cluster: &Path) {
    use std::io::Write;
    let mut conf = std::fs::OpenOptions::new()
        .append(true)
        .open(cluster.join("postgresql.conf"))
        .expect("postgresql.conf");
    writeln!(
        conf,
        "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'server-ca.crt'"
    )
    .expect("appending to postgresql.conf");
    std::fs::write(
        cluster.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    )
    .expect("pg_hba.conf");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[tokio::test]
async fn verify_full_connects_only_to_the_server_its_ca_and_host_name_vouch_for() {
    let postgres = TlsPostgres::start().await;
    let ca = path(&postgres.ca);
    let verify_full = [
        ("DEVICES_DATABASE_SSL_MODE", "verify-full"),
        ("DEVICES_DATABASE_SSL_ROOT_CERT", ca),
    ];

    // The right CA and the name on the certificate: the database is created, migrated and
    // every connection is encrypted.
    let settings = postgres
        .settings("localhost", "myaccount_devices", &verify_full)
        .expect("settings");
    let pool = platform::db::connect(&settings, &empty_migrator())
        .await
        .expect("verify-full with the server's CA and host name connects");
    let encrypted: bool = sqlx::query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("pg_stat_ssl")
        .get("ssl");
    assert!(encrypted, "the connection is not encrypted");
    pool.close().await;

    // The same server by an address its certificate does not name.
    let wrong_host = postgres
        .settings("127.0.0.1", "myaccount_devices", &verify_full)
        .expect("settings");
    let err = platform::db::connect(&wrong_host, &empty_migrator())
        .await
        .expect_err("a host name the certificate does not name is refused");
    assert!(matches!(err, DbError::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("host name"), "{err}");

    // A CA that did not issue the server's certificate.
    let other_ca = TestCa::new("another CA").write_cert(&postgres.dir, "other-ca.crt");
    let wrong_ca = postgres
        .settings(
            "localhost",
            "myaccount_devices",
            &[
                ("DEVICES_DATABASE_SSL_MODE", "verify-full"),
                ("DEVICES_DATABASE_SSL_ROOT_CERT", path(&other_ca)),
            ],
        )
        .expect("settings");
    let err = platform::db::connect(&wrong_ca, &empty_migrator())
        .await
        .expect_err("a certificate of another CA is refused");
    assert!(matches!(err, DbError::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("CA file"), "{err}");

    // verify-ca checks the issuer but not the name: the address is accepted.
    let verify_ca = postgres
        .settings(
            "127.0.0.1",
            "myaccount_devices",
            &[
                ("DEVICES_DATABASE_SSL_MODE", "verify-ca"),
                ("DEVICES_DATABASE_SSL_ROOT_CERT", ca),
            ],
        )
        .expect("settings");
    platform::db::connect(&verify_ca, &empty_migrator())
        .await
        .expect("verify-ca with the server's CA connects by address")
        .close()
        .await;
}

#[tokio::test]
async fn without_tls_a_server_that_requires_it_refuses_the_connection() {
    let postgres = TlsPostgres::start().await;
    let disabled = postgres
        .settings(
            "localhost",
            "myaccount_devices",
            &[("DEVICES_DATABASE_SSL_MODE", "disable")],
        )
        .expect("settings");
    let err = platform::db::connect(&disabled, &empty_migrator())
        .await
        .expect_err("sslmode=disable is refused by hostssl");
    let sqlx_error = match &err {
        DbError::Connect(sqlx::Error::Database(e)) => e,
        other => panic!("expected the server's refusal, got {other:?}"),
    };
    // invalid_authorization_specification: no pg_hba.conf line for an unencrypted connection.
    assert_eq!(sqlx_error.code().as_deref(), Some("28000"), "{err}");
    assert!(err.to_string().contains("no encryption"), "{err}");
    assert!(postgres.server.log().contains("no encryption"));
}
