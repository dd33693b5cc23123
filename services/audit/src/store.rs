//! Every SQL statement of the audit service.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Cursor, FailureReason, Page, SignIn, SignInQuery, Status};

#[derive(FromRow)]
struct SignInRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    user_id: Option<Uuid>,
    user_principal_name: String,
    organization_id: String,
    app_id: String,
    ip_address: String,
    user_agent: String,
    device_id: String,
    status: String,
    failure_reason: String,
    authentication_methods: Vec<String>,
    session_id: String,
    correlation_id: String,
}

impl SignInRow {
    fn into_domain(self) -> SignIn {
        SignIn {
            id: self.id,
            occurred_at: self.occurred_at,
            user_id: self.user_id,
            user_principal_name: self.user_principal_name,
            organization_id: self.organization_id,
            app_id: self.app_id,
            ip_address: self.ip_address,
            user_agent: self.user_agent,
            device_id: self.device_id,
            status: Status::parse(&self.status).unwrap_or(Status::Failure),
            failure_reason: FailureReason::parse(&self.failure_reason),
            authentication_methods: self.authentication_methods,
            session_id: self.session_id,
            correlation_id: self.correlation_id,
        }
    }
}

/// Inserts a sign-in; a second insert of the same id changes nothing.
pub async fn insert_sign_in(conn: &mut PgConnection, s: &SignIn) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sign_ins (id, occurred_at, user_id, user_principal_name, organization_id, app_id, ip_address, \
         user_agent, device_id, status, failure_reason, authentication_methods, session_id, correlation_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING",
    )
    .bind(s.id)
    .bind(s.occurred_at)
    .bind(s.user_id)
    .bind(&s.user_principal_name)
    .bind(&s.organization_id)
    .bind(&s.app_id)
    .bind(&s.ip_address)
    .bind(&s.user_agent)
    .bind(&s.device_id)
    .bind(s.status.as_str())
    .bind(s.failure_reason.map(FailureReason::as_str).unwrap_or(""))
    .bind(&s.authentication_methods)
    .bind(&s.session_id)
    .bind(&s.correlation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One page of a user's sign-ins, newest first.
pub async fn sign_ins_of(pool: &PgPool, user_id: Uuid, q: &SignInQuery) -> Result<Page, sqlx::Error> {
    // Fetch one extra row to learn whether another page follows.
    let rows: Vec<SignInRow> = sqlx::query_as(
        "SELECT id, occurred_at, user_id, user_principal_name, organization_id, app_id, ip_address, user_agent, \
                device_id, status, failure_reason, authentication_methods, session_id, correlation_id \
         FROM sign_ins \
         WHERE user_id = $1 \
           AND ($2::timestamptz IS NULL OR (occurred_at, id) < ($2, $3)) \
           AND ($4::text IS NULL OR status = $4) \
         ORDER BY occurred_at DESC, id DESC LIMIT $5",
    )
    .bind(user_id)
    .bind(q.after.map(|c| c.occurred_at))
    .bind(q.after.map(|c| c.id))
    .bind(q.status.map(Status::as_str))
    .bind(q.page_size + 1)
    .fetch_all(pool)
    .await?;
    let mut items: Vec<SignIn> = rows.into_iter().map(SignInRow::into_domain).collect();
    let more = items.len() as i64 > q.page_size;
    items.truncate(usize::try_from(q.page_size).unwrap_or(0));
    let next = if more {
        items.last().map(|s| Cursor {
            occurred_at: s.occurred_at,
            id: s.id,
        })
    } else {
        None
    };
    Ok(Page { items, next })
}

pub async fn count_sign_ins(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM sign_ins").fetch_one(pool).await
}
