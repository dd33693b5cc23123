//! Postgres: the service's own database, created when missing, with the platform's and the
//! service's embedded migrations applied at start (unless disabled).

use std::path::PathBuf;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{Connection, PgPool};

use crate::config::{ConfigError, Env};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database url has no database name")]
    NoDatabaseName,
    #[error("cannot reach postgres: {0}")]
    Connect(#[source] sqlx::Error),
    /// The TLS handshake failed: most often a CA file that is not the server's, or a host name
    /// in the URL that its certificate does not name (`verify-full`).
    #[error("cannot reach postgres over TLS (check the CA file, sslmode and the host name in the URL): {0}")]
    Tls(#[source] sqlx::Error),
    #[error("cannot create database {name}: {source}")]
    Create { name: String, source: sqlx::Error },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub run_migrations: bool,
    /// TLS to the server, over what the URL says (`?sslmode=...&sslrootcert=...`).
    pub tls: DatabaseTls,
    /// Every prepared statement runs its generic plan (`plan_cache_mode = force_generic_plan`
    /// on each connection) instead of Postgres planning it again for each call's values
    /// whenever it guesses that a custom plan is cheaper. For a service whose statements are
    /// all keyed lookups and index walks, where a custom plan is the same plan made again:
    /// identity's sessions page was planned on every call, a sixth of all the CPU the page
    /// used, because the planner knew that one person had thousands of sessions.
    pub generic_plans: bool,
}

/// How the connection to Postgres is secured. Each setting left unset keeps the URL's (and
/// libpq's `PGSSLMODE`/`PGSSLROOTCERT`/...); sqlx's default mode is `prefer`, TLS when the
/// server offers it, without checking who the server is.
#[derive(Debug, Clone, Default)]
pub struct DatabaseTls {
    pub ssl_mode: Option<PgSslMode>,
    /// PEM file of the certificate authorities the server's certificate must chain to (with
    /// `verify-ca`/`verify-full`); unset, the system's roots.
    pub root_cert: Option<PathBuf>,
    /// PEM files of a client certificate and its key, for servers that authenticate clients
    /// by certificate (`hostssl ... cert`). Both or neither.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl DatabaseTls {
    /// `<PREFIX>_DATABASE_SSL_MODE`, `<PREFIX>_DATABASE_SSL_ROOT_CERT`,
    /// `<PREFIX>_DATABASE_SSL_CERT`, `<PREFIX>_DATABASE_SSL_KEY`: files are checked now, so a
    /// wrong path fails start-up naming the variable rather than every connection later.
    pub fn from_env(env: &Env, prefix: &str, url_mode: PgSslMode) -> Result<Self, ConfigError> {
        let mode_var = format!("{prefix}_DATABASE_SSL_MODE");
        let ssl_mode = env
            .raw(&mode_var)
            .map(|mode| {
                mode.trim().parse::<PgSslMode>().map_err(|_| {
                    ConfigError::new(
                        &mode_var,
                        format!("expected disable, allow, prefer, require, verify-ca or verify-full, got {mode:?}"),
                    )
                })
            })
            .transpose()?;
        let root_var = format!("{prefix}_DATABASE_SSL_ROOT_CERT");
        let cert_var = format!("{prefix}_DATABASE_SSL_CERT");
        let key_var = format!("{prefix}_DATABASE_SSL_KEY");
        let root_cert = env.pem_file(&root_var, "CERTIFICATE")?;
        let client_cert = env.pem_file(&cert_var, "CERTIFICATE")?;
        let client_key = env.pem_file(&key_var, "PRIVATE KEY")?;
        if client_cert.is_some() != client_key.is_some() {
            let missing = if client_cert.is_some() { &key_var } else { &cert_var };
            return Err(ConfigError::new(
                missing,
                format!("a client certificate needs its key: set both {cert_var} and {key_var}, or neither"),
            ));
        }
        let verifies = matches!(
            ssl_mode.unwrap_or(url_mode),
            PgSslMode::VerifyCa | PgSslMode::VerifyFull
        );
        if root_cert.is_some() && !verifies {
            // With any other mode the CA file would silently check nothing.
            return Err(ConfigError::new(
                &mode_var,
                format!("{root_var} is only used with verify-ca or verify-full: set {mode_var}=verify-full"),
            ));
        }
        Ok(Self {
            ssl_mode,
            root_cert,
            client_cert,
            client_key,
        })
    }

    fn apply(&self, mut options: PgConnectOptions) -> PgConnectOptions {
        if let Some(mode) = self.ssl_mode {
            options = options.ssl_mode(mode);
        }
        if let Some(root) = &self.root_cert {
            options = options.ssl_root_cert(root);
        }
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            options = options.ssl_client_cert(cert).ssl_client_key(key);
        }
        options
    }
}

impl DatabaseSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            run_migrations: true,
            tls: DatabaseTls::default(),
            generic_plans: false,
        }
    }

    /// `<PREFIX>_DATABASE_URL` (default: the local server, database `default_database`),
    /// `<PREFIX>_DATABASE_MAX_CONNECTIONS`, `<PREFIX>_RUN_MIGRATIONS`, and TLS
    /// ([`DatabaseTls::from_env`]).
    pub fn from_env(env: &Env, prefix: &str, default_database: &str) -> Result<Self, ConfigError> {
        let url_var = format!("{prefix}_DATABASE_URL");
        let url = env.or(
            &url_var,
            format!("postgres://postgres@127.0.0.1:5432/{default_database}"),
        )?;
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| ConfigError::new(&url_var, format!("not a postgres url: {e}")))?;
        if options.get_database().is_none() {
            return Err(ConfigError::new(
                &url_var,
                "must name a database, e.g. postgres://host/myaccount_identity",
            ));
        }
        Ok(Self {
            url,
            max_connections: env.or(&format!("{prefix}_DATABASE_MAX_CONNECTIONS"), 10)?,
            acquire_timeout: env.duration(&format!("{prefix}_DATABASE_ACQUIRE_TIMEOUT"), Duration::from_secs(5))?,
            run_migrations: env.flag(&format!("{prefix}_RUN_MIGRATIONS"), true)?,
            tls: DatabaseTls::from_env(env, prefix, options.get_ssl_mode())?,
            generic_plans: false,
        })
    }

    /// See [`DatabaseSettings::generic_plans`].
    pub fn with_generic_plans(mut self, generic_plans: bool) -> Self {
        self.generic_plans = generic_plans;
        self
    }

    pub fn connect_options(&self) -> Result<PgConnectOptions, DbError> {
        let options = self.url.parse().map_err(DbError::Connect)?;
        Ok(self.tls.apply(options))
    }

    pub fn database_name(&self) -> Result<String, DbError> {
        self.connect_options()?
            .get_database()
            .map(str::to_owned)
            .ok_or(DbError::NoDatabaseName)
    }
}

/// Begins a transaction whose statements all run their generic plans, as a service with
/// [`DatabaseSettings::generic_plans`] always does, in the same round trip as its `BEGIN`.
/// For write paths whose statements take arrays of varying length (a consumer's batch):
/// Postgres plans those anew for each length it sees, and audit's ingest spent half of its
/// Postgres time planning.
pub async fn begin_with_generic_plans(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan")
        .await
}

/// A pooled connection idle for longer than this is pinged before it is handed out. sqlx
/// pings every connection as it comes back to the pool, so one idle for less was answering a
/// moment ago; pinging it again on the way out (sqlx's `test_before_acquire`) cost a round trip
/// per statement, as many as the statements themselves on the read paths. A connection that
/// dies within this moment (a restart of Postgres) fails the one call that takes it next, and
/// its release then closes it.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Connects the pool, creating the database first if needed, and runs migrations when enabled.
pub async fn connect(settings: &DatabaseSettings, migrations: &Migrator) -> Result<PgPool, DbError> {
    create_database_if_missing(settings).await?;
    let mut pool_options = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    // An error closes this connection and the pool hands out another.
                    conn.ping().await?;
                }
                Ok(true)
            })
        });
    if settings.generic_plans {
        // A SET on each new connection rather than a startup option, which connection
        // poolers such as PgBouncer refuse.
        pool_options = pool_options.after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, "SET plan_cache_mode = force_generic_plan")
                    .await
                    .map(drop)
            })
        });
    }
    let pool = pool_options
        .connect_with(settings.connect_options()?)
        .await
        .map_err(connect_error)?;
    if settings.run_migrations {
        migrate(&pool, migrations).await?;
    }
    Ok(pool)
}

fn connect_error(e: sqlx::Error) -> DbError {
    // sqlx reports a refused certificate as an I/O error wrapping rustls's.
    let refused_certificate = matches!(&e, sqlx::Error::Io(io)
        if io.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()));
    if refused_certificate || matches!(e, sqlx::Error::Tls(_)) {
        DbError::Tls(e)
    } else {
        DbError::Connect(e)
    }
}

/// Applies the platform's tables (outbox, processed events; in schema `platform`, tracked
/// separately) and then the service's own migrations.
pub async fn migrate(pool: &PgPool, migrations: &Migrator) -> Result<(), DbError> {
    let mut platform = sqlx::migrate!("./migrations");
    platform.create_schema("platform");
    platform.dangerous_set_table_name("platform._sqlx_migrations");
    platform.run(pool).await?;
    migrations.run(pool).await?;
    Ok(())
}

pub async fn create_database_if_missing(settings: &DatabaseSettings) -> Result<(), DbError> {
    let name = settings.database_name()?;
    // Usually the database exists: connect to it and be done, without needing access to the
    // maintenance database (a hardened role may not have it).
    match sqlx::PgConnection::connect_with(&settings.connect_options()?).await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(());
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {}
        Err(e) => return Err(connect_error(e)),
    }
    let maintenance = settings.connect_options()?.database("postgres");
    let mut conn = sqlx::PgConnection::connect_with(&maintenance)
        .await
        .map_err(connect_error)?;
    // The name is quoted by quote_identifier; identifiers cannot be bound as parameters.
    let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
    match sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await {
        Ok(_) => tracing::info!(database = %name, "created database"),
        // Another replica created it between our attempt and our CREATE.
        Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
        Err(source) => return Err(DbError::Create { name, source }),
    }
    let _ = conn.close().await;
    Ok(())
}

/// Whether `e` is a failure of the database or of the way to it (unreachable, restarting, failing
/// over, out of connections, a serialization failure or deadlock to retry) rather than of the
/// statement itself: the same statement succeeds later, so the caller retries for as long as it
/// takes instead of giving up on what it was doing.
pub fn is_infrastructure_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_infrastructure_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATEs of the server's condition rather than the statement's: connection exceptions (08),
/// insufficient resources (53: too many connections, disk full), operator intervention (57P01-03:
/// shutdown, crash recovery, not yet accepting connections), serialization failure and deadlock
/// (40001, 40P01), lock timeout (55P03), and a write reaching a read-only standby after a
/// failover (25006).
fn is_infrastructure_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || matches!(code, "40001" | "40P01" | "55P03" | "25006")
}

/// Quotes a Postgres identifier (database names cannot be bound as parameters).
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_condition_is_infrastructure_and_the_statements_fault_is_not() {
        for code in ["08006", "53300", "57P01", "57P03", "40001", "40P01", "55P03", "25006"] {
            assert!(is_infrastructure_sqlstate(code), "{code}");
        }
        for code in ["23505", "23503", "22P02", "42P01", "P0001"] {
            assert!(!is_infrastructure_sqlstate(code), "{code}");
        }
        assert!(is_infrastructure_error(&sqlx::Error::PoolTimedOut));
        assert!(is_infrastructure_error(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!is_infrastructure_error(&sqlx::Error::RowNotFound));
    }

    /// A file of the test's own in the temporary directory, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn with(content: &str) -> Self {
            let path = std::env::temp_dir().join(format!("myaccount-db-tls-{}.pem", uuid::Uuid::new_v4().simple()));
            std::fs::write(&path, content).expect("a temporary file");
            Self(path)
        }

        fn path(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

    fn settings(vars: &[(&str, &str)]) -> Result<DatabaseSettings, ConfigError> {
        DatabaseSettings::from_env(&Env::from_pairs(vars.iter().copied()), "DEVICES", "myaccount_devices")
    }

    #[test]
    fn ssl_settings_reach_the_connect_options() {
        let ca = TempFile::with(CERT);
        let (cert, key) = (TempFile::with(CERT), TempFile::with(KEY));
        let settings = settings(&[
            ("DEVICES_DATABASE_URL", "postgres://db.internal/myaccount_devices"),
            ("DEVICES_DATABASE_SSL_MODE", "verify-full"),
            ("DEVICES_DATABASE_SSL_ROOT_CERT", &ca.path()),
            ("DEVICES_DATABASE_SSL_CERT", &cert.path()),
            ("DEVICES_DATABASE_SSL_KEY", &key.path()),
        ])
        .expect("valid settings");
        assert!(matches!(settings.tls.ssl_mode, Some(PgSslMode::VerifyFull)));
        assert_eq!(settings.tls.root_cert.as_deref(), Some(ca.0.as_path()));
        let options = settings.connect_options().expect("options");
        assert!(matches!(options.get_ssl_mode(), PgSslMode::VerifyFull));

        // Unset, the URL's own mode stands.
        let from_url = self::settings(&[(
            "DEVICES_DATABASE_URL",
            "postgres://db.internal/myaccount_devices?sslmode=require",
        )])
        .expect("valid settings");
        assert!(from_url.tls.ssl_mode.is_none() && from_url.tls.root_cert.is_none());
        assert!(matches!(
            from_url.connect_options().expect("options").get_ssl_mode(),
            PgSslMode::Require
        ));
        // ... and a CA file goes with the URL's verify-full.
        let url_verifies = self::settings(&[
            (
                "DEVICES_DATABASE_URL",
                "postgres://db.internal/myaccount_devices?sslmode=verify-full",
            ),
            ("DEVICES_DATABASE_SSL_ROOT_CERT", &ca.path()),
        ]);
        assert!(url_verifies.is_ok(), "{url_verifies:?}");
    }

    #[test]
    fn bad_ssl_settings_name_their_variable() {
        let ca = TempFile::with(CERT);
        let key = TempFile::with(KEY);
        let not_pem = TempFile::with("hello");
        let missing = std::env::temp_dir()
            .join("myaccount-no-such-file.pem")
            .display()
            .to_string();
        // (variables, the variable named in the error, a part of its reason)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: [Case; 6] = [
            (
                &[("DEVICES_DATABASE_SSL_MODE", "verify")],
                "DEVICES_DATABASE_SSL_MODE",
                "expected disable",
            ),
            (
                &[("DEVICES_DATABASE_SSL_ROOT_CERT", &ca.path())],
                "DEVICES_DATABASE_SSL_MODE",
                "verify-full",
            ),
            (
                &[
                    ("DEVICES_DATABASE_SSL_MODE", "require"),
                    ("DEVICES_DATABASE_SSL_ROOT_CERT", &ca.path()),
                ],
                "DEVICES_DATABASE_SSL_MODE",
                "only used with verify-ca or verify-full",
            ),
            (
                &[
                    ("DEVICES_DATABASE_SSL_MODE", "verify-full"),
                    ("DEVICES_DATABASE_SSL_ROOT_CERT", &missing),
                ],
                "DEVICES_DATABASE_SSL_ROOT_CERT",
                "cannot read",
            ),
            (
                &[
                    ("DEVICES_DATABASE_SSL_MODE", "verify-full"),
                    ("DEVICES_DATABASE_SSL_ROOT_CERT", &not_pem.path()),
                ],
                "DEVICES_DATABASE_SSL_ROOT_CERT",
                "holds no PEM CERTIFICATE",
            ),
            (
                &[("DEVICES_DATABASE_SSL_KEY", &key.path())],
                "DEVICES_DATABASE_SSL_CERT",
                "needs its key",
            ),
        ];
        for (vars, variable, reason) in cases {
            let err = settings(vars).expect_err(variable);
            assert_eq!(err.variable, variable, "{vars:?}");
            assert!(err.reason.contains(reason), "{vars:?}: {}", err.reason);
        }
    }
}
