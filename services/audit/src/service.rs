//! Audit's use cases: query the logs, review a sign-in, export my data and state its retention.

use chrono::Utc;
use platform::error::{ErrorKind, FieldViolation, ServiceError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{
    self, Activity, DataRetention, Page, PageRequest, PersonalData, ReviewState, SignIn, SignInQuery, Verdict,
};
use crate::events;
use crate::store::{self, Scope};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("sign-in {0} not found")]
    SignInNotFound(String),
    /// Another organization's sign-ins, to an admin: not found, so existence does not leak.
    #[error("organization {0} not found")]
    OrganizationNotFound(String),
    #[error("database failed")]
    Database(#[from] sqlx::Error),
}

/// Mapped to a gRPC status in one place (platform's `ServiceError`).
impl ServiceError for AuditError {
    fn kind(&self) -> ErrorKind {
        match self {
            AuditError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            AuditError::SignInNotFound(_) => ErrorKind::NotFound(self.to_string()),
            AuditError::OrganizationNotFound(_) => ErrorKind::NotFound(self.to_string()),
            AuditError::Database(_) => ErrorKind::Internal,
        }
    }
}

#[derive(Clone)]
pub struct Audit {
    pool: PgPool,
    /// Retention of sign-ins whose organization set none (as retention.rs applies it).
    default_retention_days: i32,
}

impl Audit {
    pub fn new(pool: PgPool, default_retention_days: i32) -> Self {
        Self {
            pool,
            default_retention_days,
        }
    }

    pub async fn sign_ins(&self, scope: &Scope, q: &SignInQuery) -> Result<Page<SignIn>, AuditError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::sign_ins(&mut conn, scope, q).await?)
    }

    /// One of the caller's sign-ins; another person's is "not found", never "forbidden".
    pub async fn sign_in_of(&self, user_id: Uuid, id: Uuid) -> Result<SignIn, AuditError> {
        let mut conn = self.pool.acquire().await?;
        store::sign_in_of(&mut conn, user_id, id)
            .await?
            .ok_or_else(|| AuditError::SignInNotFound(id.to_string()))
    }

    pub async fn activities(
        &self,
        user_id: Uuid,
        page: PageRequest,
        category: Option<&str>,
    ) -> Result<Page<Activity>, AuditError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::activities_of(&mut conn, user_id, page, category).await?)
    }

    /// Records the verdict and answers the sign-in as reviewed. "Not me" publishes
    /// `signin.v1.flagged` in the same transaction; identity reacts by ending every session and
    /// requiring a new password. What to tell the person is the gateway's, in their language.
    pub async fn review(&self, user_id: Uuid, id: Uuid, verdict: Verdict) -> Result<SignIn, AuditError> {
        let now = Utc::now();
        let state = match verdict {
            Verdict::Me => ReviewState::ConfirmedMe,
            Verdict::NotMe => ReviewState::ReportedNotMe,
        };
        let mut tx = self.pool.begin().await?;
        let before = store::sign_in_of(&mut tx, user_id, id)
            .await?
            .ok_or_else(|| AuditError::SignInNotFound(id.to_string()))?;
        let sign_in = store::set_review(&mut tx, user_id, id, state, now)
            .await?
            .ok_or_else(|| AuditError::SignInNotFound(id.to_string()))?;
        let newly_reported = verdict == Verdict::NotMe && before.review_state != ReviewState::ReportedNotMe;
        if newly_reported {
            events::publish_flagged(&mut tx, &sign_in, user_id, now).await?;
        }
        tx.commit().await?;
        Ok(sign_in)
    }

    /// Everything kept about me, newest first. The export is recorded in my activity log in the
    /// same transaction, after the reads: the record says what this export held, and the next
    /// export shows it. An erased account (its token may outlive it) gets nothing and leaves no
    /// record, which would name it again.
    pub async fn export(&self, user_id: Uuid) -> Result<PersonalData, AuditError> {
        let now = domain::now();
        let mut tx = self.pool.begin().await?;
        if platform::erasure::is_erased(&mut tx, user_id).await? {
            tx.commit().await?;
            return Ok(PersonalData {
                user_id,
                sign_ins: Vec::new(),
                activities: Vec::new(),
                exported_at: now,
            });
        }
        let sign_ins = store::all_sign_ins_of(&mut tx, user_id).await?;
        let activities = store::all_activities_of(&mut tx, user_id).await?;
        let record = Activity::data_exported(user_id, now, sign_ins.len(), activities.len());
        store::insert_activity(&mut tx, &record).await?;
        tx.commit().await?;
        tracing::info!(%user_id, sign_ins = sign_ins.len(), activities = activities.len(), "data exported");
        Ok(PersonalData {
            user_id,
            sign_ins,
            activities,
            exported_at: now,
        })
    }

    /// The sign-in retention of my organization when it set one, else the default.
    pub async fn retention(&self, organization_id: Option<&str>) -> Result<DataRetention, AuditError> {
        let mut conn = self.pool.acquire().await?;
        if let Some(organization_id) = organization_id.filter(|o| !o.is_empty())
            && let Some(days) = store::retention_of(&mut conn, organization_id).await?
        {
            return Ok(DataRetention {
                sign_in_retention_days: days,
                organization_id: Some(organization_id.to_owned()),
            });
        }
        Ok(DataRetention {
            sign_in_retention_days: self.default_retention_days,
            organization_id: None,
        })
    }
}
