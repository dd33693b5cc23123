//! Postgres: the service's own database, created when missing, with the platform's and the
//! service's embedded migrations applied at start (unless disabled).

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::config::{ConfigError, Env};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database url has no database name")]
    NoDatabaseName,
    #[error("cannot reach postgres: {0}")]
    Connect(#[source] sqlx::Error),
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
}

impl DatabaseSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            run_migrations: true,
        }
    }

    /// `<PREFIX>_DATABASE_URL` (default: the local server, database `default_database`),
    /// `<PREFIX>_DATABASE_MAX_CONNECTIONS`, `<PREFIX>_RUN_MIGRATIONS`.
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
        })
    }

    pub fn connect_options(&self) -> Result<PgConnectOptions, DbError> {
        self.url.parse().map_err(DbError::Connect)
    }

    pub fn database_name(&self) -> Result<String, DbError> {
        self.connect_options()?
            .get_database()
            .map(str::to_owned)
            .ok_or(DbError::NoDatabaseName)
    }
}

/// Connects the pool, creating the database first if needed, and runs migrations when enabled.
pub async fn connect(settings: &DatabaseSettings, migrations: &Migrator) -> Result<PgPool, DbError> {
    create_database_if_missing(settings).await?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(settings.connect_options()?)
        .await
        .map_err(DbError::Connect)?;
    if settings.run_migrations {
        migrate(&pool, migrations).await?;
    }
    Ok(pool)
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
        Err(e) => return Err(DbError::Connect(e)),
    }
    let maintenance = settings.connect_options()?.database("postgres");
    let mut conn = sqlx::PgConnection::connect_with(&maintenance)
        .await
        .map_err(DbError::Connect)?;
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
}
