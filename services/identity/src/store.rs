//! Every SQL statement of the identity service.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::domain::{NewUser, Profile, ProfileChanges, RESERVATION_STALE_SECS, ThrottlePolicy, ThrottleState};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a user named {0} already exists")]
    DuplicateUser(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// In a consumer: a database failure is the infrastructure's (retried for as long as it takes),
/// anything else a failure of the event's own.
impl From<StoreError> for platform::consumer::HandlerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Database(e) => e.into(),
            other => Self::Transient(other.to_string()),
        }
    }
}

const PROFILE_COLUMNS: &str = "id, user_principal_name, display_name, given_name, surname, job_title, department, \
     office_location, mobile_phone, business_phone, mail, preferred_language, regional_format, time_zone, \
     home_organization_id, created_at, updated_at";

#[derive(FromRow)]
struct ProfileRow {
    id: Uuid,
    user_principal_name: String,
    display_name: String,
    given_name: String,
    surname: String,
    job_title: String,
    department: String,
    office_location: String,
    mobile_phone: String,
    business_phone: String,
    mail: String,
    preferred_language: String,
    regional_format: String,
    time_zone: String,
    home_organization_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ProfileRow> for Profile {
    fn from(r: ProfileRow) -> Self {
        Profile {
            id: r.id,
            user_principal_name: r.user_principal_name,
            display_name: r.display_name,
            given_name: r.given_name,
            surname: r.surname,
            job_title: r.job_title,
            department: r.department,
            office_location: r.office_location,
            mobile_phone: r.mobile_phone,
            business_phone: r.business_phone,
            mail: r.mail,
            preferred_language: r.preferred_language,
            regional_format: r.regional_format,
            time_zone: r.time_zone,
            home_organization_id: r.home_organization_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What sign-in needs to know about an account.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
    pub enabled: bool,
    pub roles: Vec<String>,
    pub home_organization_id: Option<Uuid>,
    /// A new password is due before the next session opens.
    pub password_change_required: bool,
    /// Whether the home organization requires multi-factor authentication, read with the
    /// account so that a sign-in need not ask again ([`HOME_ORGANIZATION_REQUIRES_MFA`]).
    pub home_organization_requires_mfa: bool,
}

/// The column [`Credentials::home_organization_requires_mfa`] of a user row `u`.
const HOME_ORGANIZATION_REQUIRES_MFA: &str = "COALESCE((SELECT p.mfa_required FROM organization_policies p \
     WHERE p.organization_id = u.home_organization_id), false) AS home_organization_requires_mfa";

#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it ended (a `RevocationReason` code), when it has.
    pub revoked_reason: Option<String>,
    /// The organization the session acts in (home or guest).
    pub organization_id: Option<Uuid>,
}

pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub now: DateTime<Utc>,
    pub ip_address: &'a str,
    pub user_agent: &'a str,
    pub device_id: &'a str,
    pub amr: &'a [String],
    pub organization_id: Option<Uuid>,
}

/// A refresh token looked up for rotation, with its session and user.
#[derive(Debug, Clone, FromRow)]
pub struct RefreshTokenRecord {
    pub session_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// What the token was exchanged for, sealed (see `tokens::seal_successor`).
    pub successor: Option<Vec<u8>>,
    /// When the session began: its absolute lifetime counts from here.
    pub session_created_at: DateTime<Utc>,
    pub user_id: Uuid,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub session_revoked_at: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub roles: Vec<String>,
    /// The organization the session acts in.
    pub organization_id: Option<Uuid>,
}

pub async fn insert_user(
    conn: &mut PgConnection,
    id: Uuid,
    user: &NewUser,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Profile, StoreError> {
    let sql = format!(
        "INSERT INTO users (id, user_principal_name, display_name, given_name, surname, job_title, department, \
         office_location, mobile_phone, business_phone, mail, preferred_language, home_organization_id, roles, \
         password_hash, password_changed_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $16) \
         ON CONFLICT (user_principal_name) DO NOTHING RETURNING {PROFILE_COLUMNS}"
    );
    let row: Option<ProfileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(user.user_principal_name.as_str())
        .bind(&user.display_name)
        .bind(&user.given_name)
        .bind(&user.surname)
        .bind(&user.job_title)
        .bind(&user.department)
        .bind(&user.office_location)
        .bind(&user.mobile_phone)
        .bind(&user.business_phone)
        .bind(&user.mail)
        .bind(&user.preferred_language)
        .bind(user.home_organization_id)
        .bind(&user.roles)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Profile::from)
        .ok_or_else(|| StoreError::DuplicateUser(user.user_principal_name.as_str().to_owned()))
}

pub async fn profile(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Profile>, StoreError> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM users WHERE id = $1");
    let row: Option<ProfileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Profile::from))
}

pub async fn password_changed_at(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT password_changed_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Applies the changes and returns the new profile; `None` if the user does not exist.
pub async fn update_profile(
    conn: &mut PgConnection,
    user_id: Uuid,
    changes: &ProfileChanges,
    now: DateTime<Utc>,
) -> Result<Option<Profile>, StoreError> {
    // Column names come from the closed EditableField enum, values are bound.
    let assignments: Vec<String> = changes
        .0
        .iter()
        .enumerate()
        .map(|(i, (field, _))| format!("{} = ${}", field.name(), i + 3))
        .collect();
    let sql = format!(
        "UPDATE users SET updated_at = $2, {} WHERE id = $1 RETURNING {PROFILE_COLUMNS}",
        assignments.join(", ")
    );
    let mut query = sqlx::query_as::<_, ProfileRow>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(now);
    for (_, value) in &changes.0 {
        query = query.bind(value);
    }
    Ok(query.fetch_optional(&mut *conn).await?.map(Profile::from))
}

pub async fn credentials_by_upn(conn: &mut PgConnection, upn: &str) -> Result<Option<Credentials>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT u.id, u.password_hash, u.enabled, u.roles, u.home_organization_id, u.password_change_required, \
         {HOME_ORGANIZATION_REQUIRES_MFA} FROM users u WHERE u.user_principal_name = $1"
    )))
    .bind(upn)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Sets the account's `enabled` flag: `None` for no such account, otherwise whether it changed.
pub async fn set_enabled(
    conn: &mut PgConnection,
    user_id: Uuid,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<Option<bool>, StoreError> {
    // Locks the row, so two changes at once publish one event each only if each changed it.
    let before: Option<bool> = sqlx::query_scalar("SELECT enabled FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(before) = before else {
        return Ok(None);
    };
    if before == enabled {
        return Ok(Some(false));
    }
    sqlx::query("UPDATE users SET enabled = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(enabled)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(Some(true))
}

/// A person's sign-in identifiers: the user principal name and the email address (`mail`).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Identifiers {
    pub user_principal_name: String,
    pub mail: String,
}

/// The account's identifiers, its row locked for the change that follows (so two changes at
/// once each see what the other left).
pub async fn identifiers_for_update(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Identifiers>, StoreError> {
    Ok(
        sqlx::query_as("SELECT user_principal_name, mail FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Sets the account's identifiers. [`StoreError::DuplicateUser`] when another account has that
/// user principal name (the unique index decides, so two changes at once cannot both take it).
pub async fn set_identifiers(
    conn: &mut PgConnection,
    user_id: Uuid,
    identifiers: &Identifiers,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let updated = sqlx::query("UPDATE users SET user_principal_name = $2, mail = $3, updated_at = $4 WHERE id = $1")
        .bind(user_id)
        .bind(&identifiers.user_principal_name)
        .bind(&identifiers.mail)
        .bind(now)
        .execute(&mut *conn)
        .await;
    match updated {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(StoreError::DuplicateUser(identifiers.user_principal_name.clone()))
        }
        other => other.map(|_| ()).map_err(StoreError::from),
    }
}

pub async fn insert_session(conn: &mut PgConnection, s: &NewSession<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, ip_address, user_agent, device_id, auth_time, amr, \
         organization_id) VALUES ($1, $2, $3, $3, $4, $5, $6, $3, $7, $8)",
    )
    .bind(s.id)
    .bind(s.user_id)
    .bind(s.now)
    .bind(s.ip_address)
    .bind(s.user_agent)
    .bind(s.device_id)
    .bind(s.amr)
    .bind(s.organization_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn session(conn: &mut PgConnection, id: Uuid) -> Result<Option<Session>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, auth_time, amr, revoked_at, revoked_reason, organization_id FROM sessions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn insert_refresh_token(
    conn: &mut PgConnection,
    hash: &[u8],
    session_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash)
        .bind(session_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Locks the token row for the rotation that follows.
pub async fn refresh_token_for_update(
    conn: &mut PgConnection,
    hash: &[u8],
) -> Result<Option<RefreshTokenRecord>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT t.session_id, t.expires_at, t.used_at, t.successor, s.created_at AS session_created_at, \
                s.user_id, s.auth_time, s.amr, \
                s.revoked_at AS session_revoked_at, u.enabled, u.roles, \
                COALESCE(s.organization_id, u.home_organization_id) AS organization_id \
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id \
         WHERE t.token_hash = $1 FOR UPDATE OF t",
    )
    .bind(hash)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Marks a refresh token spent, keeping its sealed successor for a repeat within the grace.
pub async fn mark_refresh_token_used(
    conn: &mut PgConnection,
    hash: &[u8],
    successor: &[u8],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE refresh_tokens SET used_at = $2, successor = $3 WHERE token_hash = $1")
        .bind(hash)
        .bind(now)
        .bind(successor)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// When a session began, for its absolute lifetime.
pub async fn session_created_at(conn: &mut PgConnection, id: Uuid) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(sqlx::query_scalar("SELECT created_at FROM sessions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

pub async fn touch_session(
    conn: &mut PgConnection,
    session_id: Uuid,
    ip: &str,
    user_agent: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = $2, \
         ip_address = CASE WHEN $3 = '' THEN ip_address ELSE $3 END, \
         user_agent = CASE WHEN $4 = '' THEN user_agent ELSE $4 END WHERE id = $1",
    )
    .bind(session_id)
    .bind(now)
    .bind(ip)
    .bind(user_agent)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- signing keys

#[derive(Debug, Clone, FromRow)]
pub struct StoredSigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
    pub activates_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// The keys to publish: those not retired before `retired_since`, newest activation first.
pub async fn published_signing_keys(
    conn: &mut PgConnection,
    retired_since: DateTime<Utc>,
) -> Result<Vec<StoredSigningKey>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT kid, secret, activates_at, retired_at FROM signing_keys \
         WHERE retired_at IS NULL OR retired_at > $1 ORDER BY activates_at DESC, kid DESC",
    )
    .bind(retired_since)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn insert_signing_key(
    conn: &mut PgConnection,
    kid: &str,
    secret: &[u8],
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO signing_keys (kid, secret, created_at, activates_at) VALUES ($1, $2, $3, $4)")
        .bind(kid)
        .bind(secret)
        .bind(now)
        .bind(activates_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Schedules every key not yet retired to stop signing at `at`. Serialised with other
/// rotations by a lock on the table, so two at once leave one key to take over.
pub async fn retire_signing_keys(conn: &mut PgConnection, at: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL OR retired_at > $1")
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --- throttling

/// Locks the counters `keys` until the end of the transaction, creating those that do not exist
/// yet, and reads them: concurrent attempts on one counter take turns here, so each judges what
/// the previous ones reserved. Locked in the order given (callers sort), so two attempts never
/// wait for each other's locks.
pub async fn lock_throttle(
    conn: &mut PgConnection,
    keys: &[String],
) -> Result<Vec<(String, ThrottleState)>, StoreError> {
    let rows: Vec<ThrottleRow> = sqlx::query_as(
        "INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) \
         SELECT k, 0, 'epoch' FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n \
         ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key \
         RETURNING t.key, t.failures, t.last_failure_at, t.blocked_until, t.in_flight, t.reserved_at",
    )
    .bind(keys)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let state = ThrottleState {
                failures: r.failures,
                last_failure_at: r.last_failure_at,
                blocked_until: r.blocked_until,
                in_flight: r.in_flight,
                reserved_at: r.reserved_at,
            };
            (r.key, state)
        })
        .collect())
}

#[derive(FromRow)]
struct ThrottleRow {
    key: String,
    failures: i32,
    last_failure_at: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
    in_flight: i32,
    reserved_at: Option<DateTime<Utc>>,
}

/// Takes a place on each of the counters `keys` (locked by [`lock_throttle`]); a stale count of
/// attempts in flight starts again.
pub async fn reserve_attempt(conn: &mut PgConnection, keys: &[String], now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sign_in_throttle SET \
           in_flight = CASE WHEN reserved_at IS NULL OR reserved_at < $2 - make_interval(secs => $3) THEN 1 \
                            ELSE in_flight + 1 END, \
           reserved_at = $2 \
         WHERE key = ANY($1)",
    )
    .bind(keys)
    .bind(now)
    .bind(RESERVATION_STALE_SECS as f64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Gives back a place on each of the counters `keys` without a failure; a counter left holding
/// nothing is removed.
pub async fn release_attempt(conn: &mut PgConnection, keys: &[String]) -> Result<(), StoreError> {
    // One statement (every sign-in runs it): the counters removed are left out of the update.
    sqlx::query(
        "WITH removed AS (\
           DELETE FROM sign_in_throttle \
           WHERE key = ANY($1) AND failures = 0 AND in_flight <= 1 AND blocked_until IS NULL \
           RETURNING key) \
         UPDATE sign_in_throttle SET in_flight = greatest(in_flight - 1, 0) \
         WHERE key = ANY($1) AND key NOT IN (SELECT key FROM removed)",
    )
    .bind(keys)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts a failure for `key` (restarting the count once the window has passed) and sets the
/// backoff the policy asks for; a `reserved` attempt gives its place back at the same time.
pub async fn record_failure(
    conn: &mut PgConnection,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
    reserved: bool,
) -> Result<(), StoreError> {
    let failures: i32 = sqlx::query_scalar(
        "INSERT INTO sign_in_throttle (key, failures, last_failure_at) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN sign_in_throttle.last_failure_at < $2 - make_interval(secs => $3) THEN 1 \
                           ELSE sign_in_throttle.failures + 1 END, \
           last_failure_at = $2, \
           in_flight = greatest(sign_in_throttle.in_flight - $4, 0) \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(policy.window_secs as f64)
    .bind(i32::from(reserved))
    .fetch_one(&mut *conn)
    .await?;
    let delay = policy.delay_ms(failures);
    if delay > 0 {
        // The lock-out runs from when the failure is recorded, not from when the attempt began
        // (password hashing in between can take a while on a busy machine).
        sqlx::query("UPDATE sign_in_throttle SET blocked_until = $2 WHERE key = $1")
            .bind(key)
            .bind(Utc::now().max(now) + chrono::Duration::milliseconds(delay))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Forgets the failures of `keys`; a `reserved` attempt gives its place back at the same time,
/// and others still in flight keep theirs. A counter left holding nothing is removed.
pub async fn clear_failures(conn: &mut PgConnection, keys: &[String], reserved: bool) -> Result<(), StoreError> {
    // One statement (every successful sign-in runs it): the counters removed are left out of
    // the update.
    sqlx::query(
        "WITH removed AS (\
           DELETE FROM sign_in_throttle WHERE key = ANY($1) AND in_flight <= $2 RETURNING key) \
         UPDATE sign_in_throttle SET failures = 0, blocked_until = NULL, in_flight = greatest(in_flight - $2, 0) \
         WHERE key = ANY($1) AND key NOT IN (SELECT key FROM removed)",
    )
    .bind(keys)
    .bind(i32::from(reserved))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether a sign-in of `user_id` from `ip_address` or `device_id` comes from a familiar
/// place: an address the person signed in from successfully since `since`, or their own
/// registered device that is not disabled.
pub async fn is_familiar_place(
    conn: &mut PgConnection,
    user_id: Uuid,
    ip_address: &str,
    device_id: Option<Uuid>,
    since: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {}", familiar_place("$1"))))
            .bind(user_id)
            .bind(ip_address)
            .bind(device_id)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// The familiar-place test of [`is_familiar_place`] for the user `user` (an expression), over
/// `$2` (the address), `$3` (the device) and `$4` (the horizon).
fn familiar_place(user: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM familiar_addresses f \
           WHERE f.user_id = {user} AND f.ip_address = $2 AND f.last_signed_in_at > $4) \
         OR EXISTS (SELECT 1 FROM registered_devices d \
           WHERE d.device_id = $3 AND d.owner_id = {user} AND NOT d.disabled AND NOT d.deleted))"
    )
}

/// Who a first step is for, if the account exists, and whether it comes from one of the
/// person's familiar places (see [`is_familiar_place`]): one query whether or not it exists.
pub async fn sign_in_subject(
    conn: &mut PgConnection,
    upn: &str,
    ip_address: &str,
    device_id: Option<Uuid>,
    since: DateTime<Utc>,
) -> Result<Option<(Credentials, bool)>, StoreError> {
    // Built from constants only.
    let found: Option<SignInSubject> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT u.id, u.password_hash, u.enabled, u.roles, u.home_organization_id, u.password_change_required, \
           {HOME_ORGANIZATION_REQUIRES_MFA}, {} AS familiar \
         FROM users u WHERE u.user_principal_name = $1",
        familiar_place("u.id")
    )))
    .bind(upn)
    .bind(ip_address)
    .bind(device_id)
    .bind(since)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.map(|s| (s.credentials, s.familiar)))
}

#[derive(sqlx::FromRow)]
struct SignInSubject {
    #[sqlx(flatten)]
    credentials: Credentials,
    familiar: bool,
}

/// Remembers that `user_id` signed in from `ip_address` at `now`.
pub async fn remember_address(
    conn: &mut PgConnection,
    user_id: Uuid,
    ip_address: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO familiar_addresses (user_id, ip_address, last_signed_in_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, ip_address) DO UPDATE SET last_signed_in_at = greatest(familiar_addresses.last_signed_in_at, $3)",
    )
    .bind(user_id)
    .bind(ip_address)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- sessions page: list, revoke, password change

/// A session that can still be used (not revoked, with a refresh token not yet spent or expired).
#[derive(Debug, Clone, FromRow)]
pub struct ActiveSession {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub amr: Vec<String>,
}

/// Sessions on one page when the caller does not say, and the most one page holds: a person
/// can have thousands of sessions (each password sign-in opens one).
pub const DEFAULT_SESSIONS_PAGE_SIZE: i64 = 50;
pub const MAX_SESSIONS_PAGE_SIZE: i64 = 100;

/// Position after the last session of a page in "most recently used first" order: the
/// sessions used less recently come next (keyset paging, so a page costs the same however deep
/// it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    pub last_seen_at: DateTime<Utc>,
    pub id: Uuid,
}

impl SessionCursor {
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "s1:{}:{}",
            self.last_seen_at.timestamp_micros(),
            self.id
        ))
    }

    /// `None` for anything that is not a token of [`SessionCursor::encode`].
    pub fn decode(token: &str) -> Option<Self> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, ':');
        if parts.next()? != "s1" {
            return None;
        }
        let micros: i64 = parts.next()?.parse().ok()?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        Some(Self {
            last_seen_at: DateTime::from_timestamp_micros(micros)?,
            id,
        })
    }
}

/// One page of the sessions list: at most `size` sessions after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPage {
    pub size: i64,
    pub after: Option<SessionCursor>,
}

/// The user's usable sessions on `page`, most recently used first, and the cursor of the next
/// page when there are more.
pub async fn active_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
    page: SessionPage,
) -> Result<(Vec<ActiveSession>, Option<SessionCursor>), StoreError> {
    // Two statements rather than `$3 IS NULL OR ...`, so that both walk the
    // sessions_active_by_last_use index from their starting point and stop after one page.
    const COLUMNS_AND_FILTER: &str = "SELECT s.id, s.created_at, s.last_seen_at, s.ip_address, s.user_agent, s.device_id, s.amr \
         FROM sessions s \
         WHERE s.user_id = $1 AND s.revoked_at IS NULL \
           AND EXISTS (SELECT 1 FROM refresh_tokens t \
                       WHERE t.session_id = s.id AND t.used_at IS NULL AND t.expires_at > $2)";
    let size = page.size.clamp(1, MAX_SESSIONS_PAGE_SIZE);
    let mut sessions: Vec<ActiveSession> = match page.after {
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COLUMNS_AND_FILTER} ORDER BY s.last_seen_at DESC, s.id DESC LIMIT $3"
            )))
            .bind(user_id)
            .bind(now)
            .bind(size + 1)
            .fetch_all(&mut *conn)
            .await?
        }
        Some(after) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COLUMNS_AND_FILTER} AND (s.last_seen_at, s.id) < ($4, $5) \
                 ORDER BY s.last_seen_at DESC, s.id DESC LIMIT $3"
            )))
            .bind(user_id)
            .bind(now)
            .bind(size + 1)
            .bind(after.last_seen_at)
            .bind(after.id)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    // One row more than the page was asked for: it says whether a next page exists.
    let more = sessions.len() as i64 > size;
    sessions.truncate(usize::try_from(size).unwrap_or(0));
    let next = if more {
        sessions.last().map(|s| SessionCursor {
            last_seen_at: s.last_seen_at,
            id: s.id,
        })
    } else {
        None
    };
    Ok((sessions, next))
}

/// Which of a user's active sessions to revoke; every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub only: Option<Uuid>,
    pub except: Option<Uuid>,
    pub device_id: Option<String>,
    pub organization_id: Option<Uuid>,
    /// Only sessions proven with this `amr` value (an app password's).
    pub amr: Option<String>,
}

/// A session just revoked.
#[derive(Debug, Clone, FromRow)]
pub struct RevokedSession {
    pub id: Uuid,
    pub device_id: String,
}

/// Revokes the user's active sessions that match `filter` (their refresh tokens stop working,
/// since rotation checks the session) and returns them; already revoked ones are left alone.
pub async fn revoke_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
    filter: &SessionFilter,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<RevokedSession>, StoreError> {
    Ok(sqlx::query_as(
        "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 \
         WHERE user_id = $1 AND revoked_at IS NULL \
           AND ($4::uuid IS NULL OR id = $4) \
           AND ($5::uuid IS NULL OR id <> $5) \
           AND ($6::text IS NULL OR device_id = $6) \
           AND ($7::uuid IS NULL OR organization_id = $7) \
           AND ($8::text IS NULL OR $8 = ANY (amr)) \
         RETURNING id, device_id",
    )
    .bind(user_id)
    .bind(now)
    .bind(reason)
    .bind(filter.only)
    .bind(filter.except)
    .bind(filter.device_id.as_deref())
    .bind(filter.organization_id)
    .bind(filter.amr.as_deref())
    .fetch_all(&mut *conn)
    .await?)
}

/// What a password change checks against.
#[derive(Debug, Clone, FromRow)]
pub struct PasswordRecord {
    pub user_principal_name: String,
    pub display_name: String,
    pub mail: String,
    pub password_hash: String,
}

pub async fn password_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<PasswordRecord>, StoreError> {
    Ok(
        sqlx::query_as("SELECT user_principal_name, display_name, mail, password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

pub async fn set_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3, \
         password_change_required = false WHERE id = $1",
    )
    .bind(user_id)
    .bind(password_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- accounts by id

pub async fn account(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Credentials>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT u.id, u.password_hash, u.enabled, u.roles, u.home_organization_id, u.password_change_required, \
         {HOME_ORGANIZATION_REQUIRES_MFA} FROM users u WHERE u.id = $1"
    )))
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn user_principal_name(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT user_principal_name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// A step-up: the session was proven again just now, with these methods.
/// Renews a live session's `auth_time` and `amr` (a step-up); false when it has ended, so a
/// step-up on a revoked session issues nothing.
pub async fn renew_session(
    conn: &mut PgConnection,
    session_id: Uuid,
    amr: &[String],
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let renewed = sqlx::query(
        "UPDATE sessions SET auth_time = $2, amr = $3, last_seen_at = $2 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .bind(now)
    .bind(amr)
    .execute(&mut *conn)
    .await?;
    Ok(renewed.rows_affected() == 1)
}

// --- multi-factor challenges

pub struct NewChallenge<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub typed_user_principal_name: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip_address: &'a str,
    pub user_agent: &'a str,
    pub device_id: &'a str,
    pub app_id: &'a str,
    pub correlation_id: &'a str,
    pub organization_id: Option<Uuid>,
}

pub async fn insert_challenge(conn: &mut PgConnection, c: &NewChallenge<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO mfa_challenges (id, user_id, session_id, typed_user_principal_name, created_at, expires_at, \
         ip_address, user_agent, device_id, app_id, correlation_id, organization_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(c.id)
    .bind(c.user_id)
    .bind(c.session_id)
    .bind(c.typed_user_principal_name)
    .bind(c.now)
    .bind(c.expires_at)
    .bind(c.ip_address)
    .bind(c.user_agent)
    .bind(c.device_id)
    .bind(c.app_id)
    .bind(c.correlation_id)
    .bind(c.organization_id)
    .execute(&mut *conn)
    .await?;
    // Old challenges are of no use to anyone.
    sqlx::query("DELETE FROM mfa_challenges WHERE expires_at < $1 - interval '1 day'")
        .bind(c.now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct Challenge {
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub typed_user_principal_name: String,
    pub expires_at: DateTime<Utc>,
    pub attempts: i32,
    pub completed_at: Option<DateTime<Utc>>,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub app_id: String,
    pub correlation_id: String,
    /// The organization the sign-in is for (a new session's); none for a step-up.
    pub organization_id: Option<Uuid>,
}

const CHALLENGE_COLUMNS: &str = "id, user_id, session_id, typed_user_principal_name, expires_at, attempts, completed_at, \
     ip_address, user_agent, device_id, app_id, correlation_id, organization_id";

pub async fn challenge(conn: &mut PgConnection, id: Uuid) -> Result<Option<Challenge>, StoreError> {
    let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM mfa_challenges WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

pub async fn challenge_for_update(conn: &mut PgConnection, id: Uuid) -> Result<Option<Challenge>, StoreError> {
    let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM mfa_challenges WHERE id = $1 FOR UPDATE");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

pub async fn count_challenge_attempt(conn: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("UPDATE mfa_challenges SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Marks the challenge answered; false when it already was (a race lost).
pub async fn complete_challenge(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE mfa_challenges SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

// --- what identity learns from organizations

/// Whether the user is (still) a guest member of the organization.
pub async fn is_guest_member(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM guest_memberships \
                        WHERE user_id = $1 AND organization_id = $2 AND left_at IS NULL)",
    )
    .bind(user_id)
    .bind(organization_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// A guest membership began at `time`; a leave recorded after that time wins (events of one
/// stream may be handled out of order by different consumers).
pub async fn guest_joined(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO guest_memberships (user_id, organization_id, joined_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, organization_id) DO UPDATE SET joined_at = EXCLUDED.joined_at, left_at = NULL \
         WHERE guest_memberships.left_at IS NOT NULL AND guest_memberships.left_at < EXCLUDED.joined_at",
    )
    .bind(user_id)
    .bind(organization_id)
    .bind(time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The guest membership ended at `time` (left or removed).
pub async fn guest_left(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO guest_memberships (user_id, organization_id, joined_at, left_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (user_id, organization_id) DO UPDATE SET left_at = EXCLUDED.left_at \
         WHERE guest_memberships.joined_at <= EXCLUDED.left_at \
           AND (guest_memberships.left_at IS NULL OR guest_memberships.left_at < EXCLUDED.left_at)",
    )
    .bind(user_id)
    .bind(organization_id)
    .bind(time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records an organization's settings as of `time`; an older update delivered late is ignored.
pub async fn set_organization_policy(
    conn: &mut PgConnection,
    organization_id: Uuid,
    allow_self_deletion: bool,
    mfa_required: bool,
    time: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO organization_policies (organization_id, allow_self_deletion, mfa_required, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (organization_id) DO UPDATE \
         SET allow_self_deletion = EXCLUDED.allow_self_deletion, mfa_required = EXCLUDED.mfa_required, \
             updated_at = EXCLUDED.updated_at \
         WHERE organization_policies.updated_at <= EXCLUDED.updated_at",
    )
    .bind(organization_id)
    .bind(allow_self_deletion)
    .bind(mfa_required)
    .bind(time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether members of this home organization may delete their own account; `None` while the
/// organization's settings are unknown here.
pub async fn allows_self_deletion(conn: &mut PgConnection, organization_id: Uuid) -> Result<Option<bool>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT allow_self_deletion FROM organization_policies WHERE organization_id = $1")
            .bind(organization_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Whether the organization requires multi-factor authentication; unknown ones do not.
pub async fn organization_requires_mfa(conn: &mut PgConnection, organization_id: Uuid) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT mfa_required FROM organization_policies WHERE organization_id = $1")
            .bind(organization_id)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(false),
    )
}

// --- sign-ins interrupted for a second factor to register

pub struct NewMfaRegistration<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub typed_user_principal_name: &'a str,
    pub ip_address: &'a str,
    pub user_agent: &'a str,
    pub device_id: &'a str,
    pub app_id: &'a str,
    pub correlation_id: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_mfa_registration(conn: &mut PgConnection, r: &NewMfaRegistration<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO mfa_registrations (id, user_id, organization_id, typed_user_principal_name, ip_address, \
         user_agent, device_id, app_id, correlation_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.id)
    .bind(r.user_id)
    .bind(r.organization_id)
    .bind(r.typed_user_principal_name)
    .bind(r.ip_address)
    .bind(r.user_agent)
    .bind(r.device_id)
    .bind(r.app_id)
    .bind(r.correlation_id)
    .bind(r.now)
    .bind(r.expires_at)
    .execute(&mut *conn)
    .await?;
    // Finished and expired registrations are of no use to anyone.
    sqlx::query("DELETE FROM mfa_registrations WHERE expires_at < $1 - interval '1 day'")
        .bind(r.now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct MfaRegistration {
    pub id: Uuid,
    pub user_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub typed_user_principal_name: String,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub app_id: String,
    pub correlation_id: String,
    pub expires_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The registration, locked for the sign-in it finishes.
pub async fn mfa_registration_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<MfaRegistration>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, organization_id, typed_user_principal_name, ip_address, user_agent, device_id, \
                app_id, correlation_id, expires_at, completed_at \
         FROM mfa_registrations WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn complete_mfa_registration(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE mfa_registrations SET completed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --- export and erasure

/// Every session of the user, ended ones included, newest first.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRecord {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub organization_id: Option<Uuid>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

pub async fn all_sessions(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, created_at, last_seen_at, ip_address, user_agent, device_id, auth_time, amr, organization_id, \
                revoked_at, revoked_reason \
         FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The addresses the user signed in from successfully, with the last time from each, most
/// recent first.
pub async fn familiar_addresses(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT ip_address, last_signed_in_at FROM familiar_addresses WHERE user_id = $1 \
         ORDER BY last_signed_in_at DESC, ip_address",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The user's current guest memberships, oldest first.
pub async fn guest_organizations(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT organization_id FROM guest_memberships WHERE user_id = $1 AND left_at IS NULL \
         ORDER BY joined_at, organization_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Removes the account and everything identity keeps about it (sessions, refresh tokens and
/// challenges go with the user row), leaving only the id in `deleted_users`. Returns the user
/// principal name, or `None` when there was no such account.
pub async fn delete_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    deleted_by: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let upn: Option<String> = sqlx::query_scalar("DELETE FROM users WHERE id = $1 RETURNING user_principal_name")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(upn) = upn else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM guest_memberships WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM registered_devices WHERE owner_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    // The account's counters from every place (`account:<upn>` and `account:<upn>:...`).
    sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1 OR left(key, length($1) + 1) = $1 || ':'")
        .bind(format!("account:{upn}"))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO deleted_users (user_id, deleted_at, deleted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(now)
    .bind(deleted_by)
    .execute(&mut *conn)
    .await?;
    Ok(Some(upn))
}

pub async fn is_deleted(conn: &mut PgConnection, user_id: Uuid) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deleted_users WHERE user_id = $1)")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?,
    )
}

// --- password change required ("this wasn't me")

/// The next sign-in must choose a new password first.
pub async fn require_password_change(conn: &mut PgConnection, user_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_change_required = true WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub struct NewPasswordChangeTicket<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub amr: &'a [String],
    pub typed_user_principal_name: &'a str,
    pub ip_address: &'a str,
    pub user_agent: &'a str,
    pub device_id: &'a str,
    pub app_id: &'a str,
    pub correlation_id: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_password_change_ticket(
    conn: &mut PgConnection,
    t: &NewPasswordChangeTicket<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO password_change_tickets (id, user_id, organization_id, amr, typed_user_principal_name, \
         ip_address, user_agent, device_id, app_id, correlation_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.organization_id)
    .bind(t.amr)
    .bind(t.typed_user_principal_name)
    .bind(t.ip_address)
    .bind(t.user_agent)
    .bind(t.device_id)
    .bind(t.app_id)
    .bind(t.correlation_id)
    .bind(t.now)
    .bind(t.expires_at)
    .execute(&mut *conn)
    .await?;
    // Spent and expired tickets are of no use to anyone.
    sqlx::query("DELETE FROM password_change_tickets WHERE expires_at < $1 - interval '1 day'")
        .bind(t.now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct PasswordChangeTicket {
    pub id: Uuid,
    pub user_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub amr: Vec<String>,
    pub typed_user_principal_name: String,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub app_id: String,
    pub correlation_id: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// The ticket, locked for the password change that follows.
pub async fn password_change_ticket_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<PasswordChangeTicket>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, organization_id, amr, typed_user_principal_name, ip_address, user_agent, device_id, \
                app_id, correlation_id, expires_at, used_at \
         FROM password_change_tickets WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn spend_password_change_ticket(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE password_change_tickets SET used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --- registered devices (projection of devices' events)

/// What a sign-in may do with the device id its client named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStanding {
    /// The person's own registered device: the session is bound to it.
    Registered,
    /// The person's own device, disabled (reported lost): the sign-in is refused.
    Disabled,
    /// No device, another person's, an unknown or deleted one, or not an id: ignored.
    NotTheirs,
}

pub async fn device_standing(
    conn: &mut PgConnection,
    user_id: Uuid,
    raw_device_id: &str,
) -> Result<DeviceStanding, StoreError> {
    let Ok(device_id) = Uuid::parse_str(raw_device_id.trim()) else {
        return Ok(DeviceStanding::NotTheirs);
    };
    let disabled: Option<bool> = sqlx::query_scalar(
        "SELECT disabled FROM registered_devices WHERE device_id = $1 AND owner_id = $2 AND NOT deleted",
    )
    .bind(device_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match disabled {
        Some(false) => DeviceStanding::Registered,
        Some(true) => DeviceStanding::Disabled,
        None => DeviceStanding::NotTheirs,
    })
}

/// A device's state as of `at`, unless a later event already said otherwise.
pub async fn project_device(
    conn: &mut PgConnection,
    device_id: Uuid,
    owner_id: Uuid,
    disabled: Option<bool>,
    deleted: bool,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registered_devices (device_id, owner_id, disabled, changed_at, deleted) \
         VALUES ($1, $2, coalesce($3, false), $4, $5) \
         ON CONFLICT (device_id) DO UPDATE SET \
             disabled = coalesce($3, registered_devices.disabled), changed_at = $4, deleted = $5 \
         WHERE registered_devices.changed_at <= $4",
    )
    .bind(device_id)
    .bind(owner_id)
    .bind(disabled)
    .bind(at)
    .bind(deleted)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The ids of the person's sessions that have not ended.
pub async fn live_session_ids(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?,
    )
}

// --- self-service password reset

/// A password reset flow to store, with the methods it offers.
pub struct NewPasswordReset<'a> {
    pub id: Uuid,
    /// None for a name without an account (or an account that cannot reset).
    pub user_id: Option<Uuid>,
    pub typed_user_principal_name: &'a str,
    pub organization_id: Option<Uuid>,
    pub methods_required: i32,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip_address: &'a str,
    pub user_agent: &'a str,
    pub device_id: &'a str,
    pub app_id: &'a str,
    pub correlation_id: &'a str,
    pub methods: &'a [NewResetMethod],
}

/// A method a flow offers: its id in the flow and security-info's id (empty for a stand-in).
pub struct NewResetMethod {
    pub id: Uuid,
    pub kind: String,
    pub label: String,
    pub factor_id: String,
}

pub async fn insert_password_reset(conn: &mut PgConnection, r: &NewPasswordReset<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO password_resets (id, user_id, typed_user_principal_name, methods_required, created_at, \
         expires_at, ip_address, user_agent, device_id, app_id, correlation_id, organization_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(r.id)
    .bind(r.user_id)
    .bind(r.typed_user_principal_name)
    .bind(r.methods_required)
    .bind(r.now)
    .bind(r.expires_at)
    .bind(r.ip_address)
    .bind(r.user_agent)
    .bind(r.device_id)
    .bind(r.app_id)
    .bind(r.correlation_id)
    .bind(r.organization_id)
    .execute(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = r.methods.iter().map(|m| m.id).collect();
    let positions: Vec<i32> = (0..).take(r.methods.len()).collect();
    let kinds: Vec<&str> = r.methods.iter().map(|m| m.kind.as_str()).collect();
    let labels: Vec<&str> = r.methods.iter().map(|m| m.label.as_str()).collect();
    let factors: Vec<&str> = r.methods.iter().map(|m| m.factor_id.as_str()).collect();
    sqlx::query(
        "INSERT INTO password_reset_methods (reset_id, id, position, kind, label, factor_id) \
         SELECT $1, * FROM UNNEST($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[])",
    )
    .bind(r.id)
    .bind(&ids)
    .bind(&positions)
    .bind(&kinds)
    .bind(&labels)
    .bind(&factors)
    .execute(&mut *conn)
    .await?;
    // Flows a day past their end are of no use to anyone.
    sqlx::query("DELETE FROM password_resets WHERE expires_at < $1 - interval '1 day'")
        .bind(r.now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct PasswordReset {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub typed_user_principal_name: String,
    pub methods_required: i32,
    pub expires_at: DateTime<Utc>,
    pub attempts: i32,
    pub completed_at: Option<DateTime<Utc>>,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub app_id: String,
    pub correlation_id: String,
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Clone, FromRow)]
pub struct ResetMethod {
    pub id: Uuid,
    pub kind: String,
    pub label: String,
    pub factor_id: String,
    pub proven_at: Option<DateTime<Utc>>,
    pub proven_method: String,
    pub proven_amr: Vec<String>,
}

/// The flow, locked for the rest of the transaction when `for_update`.
pub async fn password_reset(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> Result<Option<PasswordReset>, StoreError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT id, user_id, typed_user_principal_name, methods_required, expires_at, attempts, completed_at, \
         ip_address, user_agent, device_id, app_id, correlation_id, organization_id \
         FROM password_resets WHERE id = $1{lock}"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The flow's methods, in the order they were offered.
pub async fn password_reset_methods(conn: &mut PgConnection, reset_id: Uuid) -> Result<Vec<ResetMethod>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, label, factor_id, proven_at, proven_method, proven_amr FROM password_reset_methods \
         WHERE reset_id = $1 ORDER BY position",
    )
    .bind(reset_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn count_password_reset_attempt(conn: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("UPDATE password_resets SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn prove_password_reset_method(
    conn: &mut PgConnection,
    reset_id: Uuid,
    method_id: Uuid,
    method: &str,
    amr: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE password_reset_methods SET proven_at = $3, proven_method = $4, proven_amr = $5 \
         WHERE reset_id = $1 AND id = $2 AND proven_at IS NULL",
    )
    .bind(reset_id)
    .bind(method_id)
    .bind(now)
    .bind(method)
    .bind(amr)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks the flow finished; false when it already was (a race lost).
pub async fn complete_password_reset(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE password_resets SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
