//! Every SQL statement of the security-info service.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{
    Method, MethodKind, MethodStatus, Phone, PhoneDelivery, PhoneType, VerificationKind, VerificationPurpose,
    VerificationRecord,
};

const METHOD_COLUMNS: &str = "m.id, m.user_id, m.kind, m.status, m.name, m.phone_type, m.phone_number, m.phone_delivery, \
     m.email, m.transports, m.created_at, m.expires_at, m.last_used_at, m.registration_id, m.aaguid, m.discoverable, \
     (SELECT count(*) FROM recovery_codes r WHERE r.method_id = m.id AND r.used_at IS NULL) AS remaining_codes";

#[derive(FromRow)]
struct MethodRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    status: String,
    name: String,
    phone_type: Option<String>,
    phone_number: Option<String>,
    phone_delivery: Option<String>,
    email: Option<String>,
    transports: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    registration_id: Option<Uuid>,
    aaguid: Option<Uuid>,
    discoverable: bool,
    remaining_codes: i64,
}

impl MethodRow {
    fn into_domain(self) -> Option<Method> {
        let phone = match (self.phone_type, self.phone_number, self.phone_delivery) {
            (Some(t), Some(number), Some(d)) => Some(Phone {
                phone_type: PhoneType::parse(&t)?,
                number,
                delivery: PhoneDelivery::parse(&d)?,
            }),
            _ => None,
        };
        Some(Method {
            id: self.id,
            user_id: self.user_id,
            kind: MethodKind::parse(&self.kind)?,
            status: MethodStatus::parse(&self.status)?,
            name: self.name,
            phone,
            email: self.email,
            transports: self.transports,
            remaining_codes: i32::try_from(self.remaining_codes).unwrap_or(i32::MAX),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            registration_id: self.registration_id,
            aaguid: self.aaguid,
            discoverable: self.discoverable,
        })
    }
}

fn methods(rows: Vec<MethodRow>) -> Vec<Method> {
    rows.into_iter().filter_map(MethodRow::into_domain).collect()
}

/// A new method row; secrets are set by the kind-specific statements below.
pub struct NewMethod<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: MethodKind,
    pub status: MethodStatus,
    pub name: &'a str,
    pub phone: Option<&'a Phone>,
    pub email: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub registration_id: Option<Uuid>,
}

pub async fn insert_method(conn: &mut PgConnection, m: &NewMethod<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO methods (id, user_id, kind, status, name, phone_type, phone_number, phone_delivery, email, \
         created_at, activated_at, expires_at, registration_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $4 = 'active' THEN $10 END, $11, $12)",
    )
    .bind(m.id)
    .bind(m.user_id)
    .bind(m.kind.as_str())
    .bind(m.status.as_str())
    .bind(m.name)
    .bind(m.phone.map(|p| p.phone_type.as_str()))
    .bind(m.phone.map(|p| p.number.as_str()))
    .bind(m.phone.map(|p| p.delivery.as_str()))
    .bind(m.email)
    .bind(m.now)
    .bind(m.expires_at)
    .bind(m.registration_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every active method of a user, oldest first.
pub async fn active_methods(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Method>, sqlx::Error> {
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM methods m WHERE m.user_id = $1 AND m.status = 'active' ORDER BY m.created_at, m.id"
    );
    let rows: Vec<MethodRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(methods(rows))
}

/// Every active method of a user, oldest first, and the default the person chose (`None` when
/// they chose none or have no method: with no method there is nothing to default to). One round
/// trip, for the second step of every sign-in.
pub async fn active_methods_and_chosen_default(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(Vec<Method>, Option<Uuid>), sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        method: MethodRow,
        chosen_default: Option<Uuid>,
    }
    let sql = format!(
        "SELECT {METHOD_COLUMNS}, (SELECT method_id FROM default_methods WHERE user_id = $1) AS chosen_default \
         FROM methods m WHERE m.user_id = $1 AND m.status = 'active' ORDER BY m.created_at, m.id"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    let chosen_default = rows.first().and_then(|r| r.chosen_default);
    Ok((methods(rows.into_iter().map(|r| r.method).collect()), chosen_default))
}

/// Serialises the changes to one user's data until the transaction ends: two concurrent changes
/// (removing two factors at once).
pub async fn lock_user(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes every app password of a user made up to `made_until` (active or still pending),
/// under [`lock_user`], and returns the active ones (those were announced, so their removal is
/// too). One made after that moment (the event arrived late) was made under the new password.
pub async fn delete_app_passwords(
    conn: &mut PgConnection,
    user_id: Uuid,
    made_until: DateTime<Utc>,
) -> Result<Vec<Method>, sqlx::Error> {
    let removed: Vec<Method> = lock_active_methods(conn, user_id)
        .await?
        .into_iter()
        .filter(|m| m.kind == MethodKind::AppPassword && m.created_at <= made_until)
        .collect();
    sqlx::query("DELETE FROM methods WHERE user_id = $1 AND kind = 'app_password' AND created_at <= $2")
        .bind(user_id)
        .bind(made_until)
        .execute(&mut *conn)
        .await?;
    Ok(removed)
}

/// As [`active_methods`], under [`lock_user`].
pub async fn lock_active_methods(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Method>, sqlx::Error> {
    lock_user(conn, user_id).await?;
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM methods m WHERE m.user_id = $1 AND m.status = 'active' ORDER BY m.created_at, m.id"
    );
    let rows: Vec<MethodRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(methods(rows))
}

/// Every method of a user, active or pending, oldest first.
pub async fn methods_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Method>, sqlx::Error> {
    let sql = format!("SELECT {METHOD_COLUMNS} FROM methods m WHERE m.user_id = $1 ORDER BY m.created_at, m.id");
    let rows: Vec<MethodRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(methods(rows))
}

/// One method of one user (any status); `None` for another person's method.
pub async fn method_of(conn: &mut PgConnection, user_id: Uuid, method_id: Uuid) -> Result<Option<Method>, sqlx::Error> {
    let sql = format!("SELECT {METHOD_COLUMNS} FROM methods m WHERE m.user_id = $1 AND m.id = $2");
    let row: Option<MethodRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(method_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.and_then(MethodRow::into_domain))
}

/// Active methods of a kind, including pending registrations that have not expired.
pub async fn count_methods(
    conn: &mut PgConnection,
    user_id: Uuid,
    kind: MethodKind,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM methods WHERE user_id = $1 AND kind = $2 AND (status = 'active' OR expires_at > $3)",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
}

/// Forgets registrations that were started and never finished.
pub async fn delete_expired_pending(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM methods WHERE user_id = $1 AND status = 'pending' AND expires_at <= $2")
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn activate_method(conn: &mut PgConnection, method_id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE methods SET status = 'active', activated_at = $2, expires_at = NULL WHERE id = $1")
        .bind(method_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes a method of this user; false when there is none.
pub async fn delete_method(conn: &mut PgConnection, user_id: Uuid, method_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM methods WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(method_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn touch_method(conn: &mut PgConnection, method_id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE methods SET last_used_at = $2 WHERE id = $1")
        .bind(method_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --- authenticator apps

pub async fn set_totp_secret(
    conn: &mut PgConnection,
    method_id: Uuid,
    sealed: &[u8],
    key_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE methods SET totp_secret = $2, totp_key_id = $3 WHERE id = $1")
        .bind(method_id)
        .bind(sealed)
        .bind(key_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, FromRow)]
pub struct TotpState {
    pub totp_secret: Vec<u8>,
    pub totp_last_step: Option<i64>,
}

/// The sealed secret and last used step, locking the row until the transaction ends.
pub async fn totp_state_for_update(conn: &mut PgConnection, method_id: Uuid) -> Result<Option<TotpState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT totp_secret, totp_last_step FROM methods WHERE id = $1 AND totp_secret IS NOT NULL FOR UPDATE",
    )
    .bind(method_id)
    .fetch_optional(&mut *conn)
    .await
}

pub async fn set_totp_last_step(conn: &mut PgConnection, method_id: Uuid, step: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE methods SET totp_last_step = $2 WHERE id = $1")
        .bind(method_id)
        .bind(step)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --- one-time codes

pub async fn insert_code(
    conn: &mut PgConnection,
    code_id: Uuid,
    method_id: Uuid,
    purpose: &str,
    code_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // A new code replaces any earlier one for the same purpose.
    sqlx::query(
        "UPDATE one_time_codes SET consumed_at = $3 WHERE method_id = $1 AND purpose = $2 AND consumed_at IS NULL",
    )
    .bind(method_id)
    .bind(purpose)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO one_time_codes (id, method_id, purpose, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(code_id)
    .bind(method_id)
    .bind(purpose)
    .bind(code_hash)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, FromRow)]
pub struct CodeRow {
    pub id: Uuid,
    pub code_hash: Vec<u8>,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
}

/// The open code of a method for a purpose, locked.
pub async fn open_code_for_update(
    conn: &mut PgConnection,
    method_id: Uuid,
    purpose: &str,
) -> Result<Option<CodeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code_hash, attempts, expires_at FROM one_time_codes \
         WHERE method_id = $1 AND purpose = $2 AND consumed_at IS NULL ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
    )
    .bind(method_id)
    .bind(purpose)
    .fetch_optional(&mut *conn)
    .await
}

pub async fn count_code_attempt(conn: &mut PgConnection, code_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1")
        .bind(code_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn consume_code(conn: &mut PgConnection, code_id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE one_time_codes SET consumed_at = $2, attempts = attempts + 1 WHERE id = $1")
        .bind(code_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(FromRow)]
struct VerificationRow {
    method_id: Uuid,
    kind: String,
    purpose: String,
    created_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    consumed_at: Option<DateTime<Utc>>,
    attempts: i32,
}

/// The codes sent and security key challenges issued for a user's methods, oldest first. Reads
/// neither the code hashes nor the ceremony state.
pub async fn verifications_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<VerificationRecord>, sqlx::Error> {
    let rows: Vec<VerificationRow> = sqlx::query_as(
        "SELECT c.method_id, 'one_time_code' AS kind, c.purpose, c.created_at, c.expires_at, c.consumed_at, c.attempts \
         FROM one_time_codes c JOIN methods m ON m.id = c.method_id WHERE m.user_id = $1 \
         UNION ALL \
         SELECT w.method_id, 'security_key_challenge', w.purpose, NULL::timestamptz, w.expires_at, NULL::timestamptz, 0 \
         FROM webauthn_ceremonies w JOIN methods m ON m.id = w.method_id WHERE m.user_id = $1 \
         ORDER BY created_at NULLS LAST, expires_at, method_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(VerificationRecord {
                method_id: r.method_id,
                kind: match r.kind.as_str() {
                    "one_time_code" => VerificationKind::OneTimeCode,
                    _ => VerificationKind::SecurityKeyChallenge,
                },
                purpose: VerificationPurpose::parse(&r.purpose)?,
                created_at: r.created_at,
                expires_at: r.expires_at,
                consumed_at: r.consumed_at,
                attempts: r.attempts,
            })
        })
        .collect())
}

// --- security keys

pub async fn save_ceremony(
    conn: &mut PgConnection,
    method_id: Uuid,
    purpose: &str,
    state: &serde_json::Value,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (method_id, purpose, state, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (method_id, purpose) DO UPDATE SET state = EXCLUDED.state, expires_at = EXCLUDED.expires_at",
    )
    .bind(method_id)
    .bind(purpose)
    .bind(state)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes (deletes and returns) a ceremony's state: each challenge is answered once.
pub async fn take_ceremony(
    conn: &mut PgConnection,
    method_id: Uuid,
    purpose: &str,
) -> Result<Option<(serde_json::Value, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as("DELETE FROM webauthn_ceremonies WHERE method_id = $1 AND purpose = $2 RETURNING state, expires_at")
        .bind(method_id)
        .bind(purpose)
        .fetch_optional(&mut *conn)
        .await
}

pub async fn save_passkey(
    conn: &mut PgConnection,
    method_id: Uuid,
    credential_id: &[u8],
    passkey: &serde_json::Value,
    sign_count: i64,
    transports: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE methods SET credential_id = $2, passkey = $3, sign_count = $4, transports = $5 WHERE id = $1")
        .bind(method_id)
        .bind(credential_id)
        .bind(passkey)
        .bind(sign_count)
        .bind(transports)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What a registration learnt about a security key beyond webauthn-rs's passkey: its AAGUID
/// and whether it is discoverable.
pub async fn set_key_properties(
    conn: &mut PgConnection,
    method_id: Uuid,
    aaguid: Option<Uuid>,
    discoverable: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE methods SET aaguid = $2, discoverable = $3 WHERE id = $1")
        .bind(method_id)
        .bind(aaguid)
        .bind(discoverable)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The active security key of `user_id` with this credential id, locked (a passwordless
/// sign-in's assertion names both).
pub async fn active_key_by_credential_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
    credential_id: &[u8],
) -> Result<Option<Method>, sqlx::Error> {
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM methods m WHERE m.credential_id = $2 AND m.user_id = $1 \
         AND m.status = 'active' AND m.kind = 'security_key' FOR UPDATE OF m"
    );
    let row: Option<MethodRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(credential_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.and_then(MethodRow::into_domain))
}

/// Renames an active method; false when there is none of this person with this id.
pub async fn rename_method(
    conn: &mut PgConnection,
    user_id: Uuid,
    method_id: Uuid,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let renamed = sqlx::query("UPDATE methods SET name = $3 WHERE id = $2 AND user_id = $1 AND status = 'active'")
        .bind(user_id)
        .bind(method_id)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(renamed.rows_affected() == 1)
}

// --- passwordless sign-in

pub async fn insert_passkey_sign_in(
    conn: &mut PgConnection,
    id: Uuid,
    state: &serde_json::Value,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO passkey_sign_ins (id, state, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(state)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Forgets ceremonies that expired before `before`.
pub async fn forget_passkey_sign_ins(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM passkey_sign_ins WHERE expires_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

#[derive(FromRow)]
pub struct PasskeySignInCeremony {
    pub state: serde_json::Value,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A ceremony, locked: its answers are checked one at a time.
pub async fn passkey_sign_in_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<PasskeySignInCeremony>, sqlx::Error> {
    sqlx::query_as("SELECT state, expires_at, used_at FROM passkey_sign_ins WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
}

/// Spends a ceremony: its challenge is answered once, right or wrong.
pub async fn use_passkey_sign_in(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE passkey_sign_ins SET used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The stored passkey of an active security key, locked.
pub async fn passkey_for_update(
    conn: &mut PgConnection,
    method_id: Uuid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar("SELECT passkey FROM methods WHERE id = $1 AND passkey IS NOT NULL FOR UPDATE")
        .bind(method_id)
        .fetch_optional(&mut *conn)
        .await
}

/// Credential ids of a user's active keys (excluded from a new registration).
pub async fn credential_ids(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT credential_id FROM methods WHERE user_id = $1 AND status = 'active' AND credential_id IS NOT NULL",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await
}

// --- app passwords and recovery codes

pub async fn set_secret_hash(conn: &mut PgConnection, method_id: Uuid, hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE methods SET secret_hash = $2 WHERE id = $1")
        .bind(method_id)
        .bind(hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn app_password_by_hash(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &[u8],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM methods WHERE user_id = $1 AND kind = 'app_password' AND status = 'active' AND secret_hash = $2",
    )
    .bind(user_id)
    .bind(hash)
    .fetch_optional(&mut *conn)
    .await
}

/// Removes the user's recovery code set (and its codes); returns its id if there was one.
pub async fn delete_recovery_codes(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM methods WHERE user_id = $1 AND kind = 'recovery_codes' RETURNING id")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
}

/// Stores a set's codes as their keyed hashes under the keyring key `key_id`.
pub async fn insert_recovery_codes(
    conn: &mut PgConnection,
    method_id: Uuid,
    key_id: &str,
    hashes: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO recovery_codes (method_id, code_hash, key_id) SELECT $1, h, $2 FROM unnest($3::bytea[]) AS h",
    )
    .bind(method_id)
    .bind(key_id)
    .bind(hashes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The keyring keys the unused codes of a set are hashed under; `None` for codes of a set
/// generated before keyed hashes (SHA-256 of the user id and the code).
pub async fn recovery_code_keys(conn: &mut PgConnection, method_id: Uuid) -> Result<Vec<Option<String>>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT key_id FROM recovery_codes WHERE method_id = $1 AND used_at IS NULL")
        .bind(method_id)
        .fetch_all(&mut *conn)
        .await
}

/// Spends the recovery code of this set whose hash is one of `hashes` (the typed code under
/// each scheme its unused codes are stored with); false when none is an unused code of it.
pub async fn use_recovery_code(
    conn: &mut PgConnection,
    method_id: Uuid,
    hashes: &[Vec<u8>],
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE method_id = $1 AND code_hash = ANY($2) AND used_at IS NULL",
    )
    .bind(method_id)
    .bind(hashes)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// --- the default method

pub async fn chosen_default(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT method_id FROM default_methods WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
}

/// The default the person chose, and when.
pub async fn chosen_default_since(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as("SELECT method_id, changed_at FROM default_methods WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
}

pub async fn set_default(
    conn: &mut PgConnection,
    user_id: Uuid,
    method_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO default_methods (user_id, method_id, changed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET method_id = EXCLUDED.method_id, changed_at = EXCLUDED.changed_at",
    )
    .bind(user_id)
    .bind(method_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- organizations (projection)

/// Applies an organization's settings unless a newer change was already applied.
pub async fn upsert_organization_policy(
    conn: &mut PgConnection,
    organization_id: &str,
    mfa_required: bool,
    changed_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO organization_policies (organization_id, mfa_required, changed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (organization_id) DO UPDATE SET mfa_required = EXCLUDED.mfa_required, changed_at = EXCLUDED.changed_at \
         WHERE organization_policies.changed_at <= EXCLUDED.changed_at",
    )
    .bind(organization_id.trim().to_lowercase())
    .bind(mfa_required)
    .bind(changed_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How a person reads their notifications, as identity last told it: the language (a BCP 47
/// tag), the time zone (an IANA name) and the regional format (a BCP 47 tag); each empty when
/// none was chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct ReadingPreferences {
    pub language: String,
    pub time_zone: String,
    pub regional_format: String,
}

/// Records the person's reading preferences as of `changed_at`, unless later ones are known.
pub async fn set_reading_preferences(
    conn: &mut PgConnection,
    user_id: Uuid,
    preferences: &ReadingPreferences,
    changed_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO preferred_languages (user_id, language, time_zone, regional_format, changed_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language, time_zone = EXCLUDED.time_zone, \
         regional_format = EXCLUDED.regional_format, changed_at = EXCLUDED.changed_at \
         WHERE preferred_languages.changed_at <= EXCLUDED.changed_at",
    )
    .bind(user_id)
    .bind(preferences.language.trim())
    .bind(preferences.time_zone.trim())
    .bind(preferences.regional_format.trim())
    .bind(changed_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The person's reading preferences as identity last told them; `None` when it never did.
pub async fn reading_preferences(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<ReadingPreferences>, sqlx::Error> {
    sqlx::query_as("SELECT language, time_zone, regional_format FROM preferred_languages WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
}

/// Whether `$2` (the session's organization) or any organization `$1` belongs to requires
/// multi-factor authentication. Unknown organizations do not.
const MFA_REQUIRED: &str = "EXISTS (SELECT 1 FROM organization_policies p WHERE p.mfa_required AND \
     (p.organization_id = $2 OR p.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = $1 AND left_at IS NULL)))";

/// What the security info page shows: every active method, oldest first, the default the
/// person chose (`None` with no method: nothing to default to) and whether MFA is required of
/// them (as [`mfa_required_for`] says). One round trip for anyone with a method.
pub async fn security_info_of(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Option<&str>,
) -> Result<(Vec<Method>, Option<Uuid>, bool), sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        method: MethodRow,
        chosen_default: Option<Uuid>,
        mfa_required: bool,
    }
    let organization_id = organization_id.map(|o| o.trim().to_lowercase());
    let sql = format!(
        "SELECT {METHOD_COLUMNS}, (SELECT method_id FROM default_methods WHERE user_id = $1) AS chosen_default, \
         {MFA_REQUIRED} AS mfa_required \
         FROM methods m WHERE m.user_id = $1 AND m.status = 'active' ORDER BY m.created_at, m.id"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(&organization_id)
        .fetch_all(&mut *conn)
        .await?;
    let Some(first) = rows.first() else {
        return Ok((
            Vec::new(),
            None,
            mfa_required_for(conn, user_id, organization_id.as_deref()).await?,
        ));
    };
    let (chosen_default, mfa_required) = (first.chosen_default, first.mfa_required);
    Ok((
        methods(rows.into_iter().map(|r| r.method).collect()),
        chosen_default,
        mfa_required,
    ))
}

/// Whether `organization_id` (the session's) or any organization the person belongs to
/// requires multi-factor authentication. Unknown organizations do not.
pub async fn mfa_required_for(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {MFA_REQUIRED}")))
        .bind(user_id)
        .bind(organization_id.map(|o| o.trim().to_lowercase()))
        .fetch_one(&mut *conn)
        .await
}

// --- memberships (projection)

/// `user_id` joined at `time`; an end recorded after that time wins (a person's events may be
/// handled out of order by different consumers).
pub async fn membership_joined(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: &str,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (user_id, organization_id, joined_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, organization_id) DO UPDATE SET joined_at = EXCLUDED.joined_at, left_at = NULL \
         WHERE memberships.left_at IS NOT NULL AND memberships.left_at < EXCLUDED.joined_at",
    )
    .bind(user_id)
    .bind(organization_id.trim().to_lowercase())
    .bind(time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The membership ended at `time` (left or removed); a join after that time wins.
pub async fn membership_ended(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: &str,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (user_id, organization_id, joined_at, left_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (user_id, organization_id) DO UPDATE SET left_at = EXCLUDED.left_at \
         WHERE memberships.joined_at <= EXCLUDED.left_at \
           AND (memberships.left_at IS NULL OR memberships.left_at < EXCLUDED.left_at)",
    )
    .bind(user_id)
    .bind(organization_id.trim().to_lowercase())
    .bind(time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- phone deliveries

/// What the phone provider answered for one notification on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneDeliveryRecord<'a> {
    pub notification_id: &'a str,
    pub channel: &'a str,
    /// `delivered` or `refused`.
    pub outcome: &'a str,
    pub provider_status: u16,
    pub provider_message_id: Option<&'a str>,
    pub provider_error_code: Option<&'a str>,
    pub attempts: u32,
}

/// The recorded outcome of a notification on a channel, if the provider already answered it.
pub async fn phone_delivery_outcome(
    pool: &PgPool,
    notification_id: &str,
    channel: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT outcome FROM phone_deliveries WHERE notification_id = $1 AND channel = $2")
        .bind(notification_id)
        .bind(channel)
        .fetch_optional(pool)
        .await
}

/// Records the provider's answer at once (its own statement, not the consumer's transaction),
/// and forgets answers older than 30 days: by then no stream or outbox delivers them again.
pub async fn record_phone_delivery(pool: &PgPool, d: &PhoneDeliveryRecord<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO phone_deliveries \
            (notification_id, channel, outcome, provider_status, provider_message_id, provider_error_code, attempts) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (notification_id, channel) DO NOTHING",
    )
    .bind(d.notification_id)
    .bind(d.channel)
    .bind(d.outcome)
    .bind(i32::from(d.provider_status))
    .bind(d.provider_message_id)
    .bind(d.provider_error_code)
    .bind(i32::try_from(d.attempts).unwrap_or(i32::MAX))
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM phone_deliveries WHERE recorded_at < now() - interval '30 days'")
        .execute(pool)
        .await?;
    Ok(())
}

// --- erasure

/// Erases what is kept about a person: every method with its secrets, recovery codes, one-time
/// codes and security key ceremonies (they go with their method: ON DELETE CASCADE), and the
/// chosen default. A change in flight checks the platform's tombstone under the erasure's lock,
/// so it either lands first (and is erased here) or refuses. Running it twice changes nothing
/// more.
pub struct Erasure;

impl platform::erasure::Erasure for Erasure {
    async fn erase_user(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        _now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        let defaults = sqlx::query("DELETE FROM default_methods WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let methods = sqlx::query("DELETE FROM methods WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let memberships = sqlx::query("DELETE FROM memberships WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let languages = sqlx::query("DELETE FROM preferred_languages WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(
            defaults.rows_affected()
                + methods.rows_affected()
                + memberships.rows_affected()
                + languages.rows_affected(),
        )
    }
}
