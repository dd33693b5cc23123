//! Sign-in log retention: daily partitions created ahead of time, and old ones dropped per the
//! organizations' retention. No full-table deletes: whole partitions go, and where organizations
//! differ, deletes stay inside one partition.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::domain::DEFAULT_RETENTION_DAYS;
use crate::store;

#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// Daily partitions are created this many days ahead.
    pub days_ahead: u32,
    /// Retention of organizations that did not set one, and of sign-ins without an organization.
    pub default_days: i32,
    pub interval: Duration,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            days_ahead: 7,
            default_days: DEFAULT_RETENTION_DAYS,
            interval: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Maintenance {
    pub created: usize,
    pub dropped: Vec<String>,
    pub rows_deleted: u64,
}

/// One round of maintenance as of `today`.
pub async fn maintain(
    pool: &PgPool,
    settings: &RetentionSettings,
    today: NaiveDate,
) -> Result<Maintenance, sqlx::Error> {
    // One connection for the whole round: maintenance never holds one while asking for another.
    let mut conn = pool.acquire().await?;
    let mut report = Maintenance::default();
    let existing: Vec<NaiveDate> = store::daily_partitions(&mut conn)
        .await?
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    for offset in -1..=i64::from(settings.days_ahead) {
        let day = today + chrono::Duration::days(offset);
        if !existing.contains(&day) {
            store::create_partition(&mut conn, day).await?;
            report.created += 1;
        }
    }

    let retentions = store::retentions(&mut conn).await?;
    let longest = retentions
        .iter()
        .map(|(_, d)| *d)
        .max()
        .unwrap_or(0)
        .max(settings.default_days);
    for (name, day) in store::daily_partitions(&mut conn).await? {
        // Every row of the partition is older than `age` days.
        let age = i32::try_from((today - day).num_days() - 1).unwrap_or(i32::MAX);
        if age < 1 {
            continue;
        }
        if age > longest {
            store::drop_partition(&mut conn, &name).await?;
            report.dropped.push(name);
            continue;
        }
        let keep: Vec<String> = if age > settings.default_days {
            // Only organizations that keep sign-ins this long.
            retentions
                .iter()
                .filter(|(_, d)| *d >= age)
                .map(|(o, _)| o.clone())
                .collect()
        } else {
            // Everyone but the organizations with a shorter retention.
            let shorter: Vec<&String> = retentions.iter().filter(|(_, d)| *d < age).map(|(o, _)| o).collect();
            if shorter.is_empty() {
                continue;
            }
            report.rows_deleted += store::delete_in_partition_of(&mut conn, &name, &shorter).await?;
            continue;
        };
        report.rows_deleted += store::delete_in_partition_except(&mut conn, &name, &keep).await?;
    }
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(longest));
    report.rows_deleted += store::delete_old_from_default(&mut conn, cutoff).await?;
    Ok(report)
}

/// Runs maintenance at start and then every `interval` until shutdown.
pub async fn run(pool: PgPool, settings: RetentionSettings, shutdown: CancellationToken) {
    loop {
        match maintain(&pool, &settings, Utc::now().date_naive()).await {
            Ok(r) if r.created > 0 || !r.dropped.is_empty() || r.rows_deleted > 0 => {
                tracing::info!(created = r.created, dropped = ?r.dropped, rows_deleted = r.rows_deleted, "sign-in retention applied");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sign-in partition maintenance failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(settings.interval) => {}
        }
    }
}
