//! Retention drops whole daily partitions that every organization has stopped keeping, deletes
//! inside a partition only the rows of organizations with a shorter retention, and keeps the rest.

use chrono::{Duration, NaiveTime, Utc};
use myaccount_audit::retention::{RetentionSettings, maintain};
use myaccount_audit::store;
use platform::testing::TestDatabase;
use uuid::Uuid;

async fn insert(pool: &sqlx::PgPool, days_ago: i64, organization: &str) -> Uuid {
    let id = Uuid::now_v7();
    let day = Utc::now().date_naive() - Duration::days(days_ago);
    let at = day.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon")).and_utc();
    sqlx::query(
        "INSERT INTO sign_ins (id, occurred_at, user_id, user_principal_name, organization_id, status) \
         VALUES ($1, $2, $3, 'someone@contoso.example', $4, 'success')",
    )
    .bind(id)
    .bind(at)
    .bind(Uuid::new_v4())
    .bind(organization)
    .execute(pool)
    .await
    .expect("inserted");
    id
}

async fn exists(pool: &sqlx::PgPool, id: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sign_ins WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("query")
}

#[tokio::test]
async fn old_partitions_are_dropped_and_the_rest_kept() {
    let db = TestDatabase::new("audit");
    let pool = platform::db::connect(&db.settings, &myaccount_audit::MIGRATIONS)
        .await
        .expect("db");
    let today = Utc::now().date_naive();
    let settings = RetentionSettings::default();

    // Partitions for days long past, as a running system would have made them then.
    let mut conn = pool.acquire().await.expect("conn");
    for days_ago in [40, 20, 3] {
        store::create_partition(&mut conn, today - Duration::days(days_ago))
            .await
            .expect("partition");
    }
    // Contoso keeps 90 days, Fabrikam 7; others the default 30.
    store::set_retention(&mut conn, "contoso", 90, Utc::now())
        .await
        .expect("retention");
    store::set_retention(&mut conn, "fabrikam", 7, Utc::now())
        .await
        .expect("retention");
    drop(conn);

    let old_default = insert(&pool, 40, "").await;
    let old_contoso = insert(&pool, 40, "contoso").await;
    let mid_default = insert(&pool, 20, "").await;
    let mid_fabrikam = insert(&pool, 20, "fabrikam").await;
    let recent_fabrikam = insert(&pool, 3, "fabrikam").await;
    let today_row = insert(&pool, 0, "").await;

    let report = maintain(&pool, &settings, today).await.expect("maintenance");
    assert!(
        report.dropped.is_empty(),
        "contoso still keeps 40-day-old sign-ins: {report:?}"
    );
    assert!(exists(&pool, old_contoso).await);
    assert!(!exists(&pool, old_default).await, "past the default 30 days");
    assert!(exists(&pool, mid_default).await);
    assert!(!exists(&pool, mid_fabrikam).await, "past fabrikam's 7 days");
    assert!(exists(&pool, recent_fabrikam).await);
    assert!(exists(&pool, today_row).await);

    // Once contoso shortens its retention, the 40-day partition goes as a whole.
    let mut conn = pool.acquire().await.expect("conn");
    store::set_retention(&mut conn, "contoso", 30, Utc::now())
        .await
        .expect("retention");
    drop(conn);
    let report = maintain(&pool, &settings, today).await.expect("maintenance");
    assert_eq!(report.dropped, vec![store::partition_name(today - Duration::days(40))]);
    assert!(!exists(&pool, old_contoso).await);
    assert!(exists(&pool, mid_default).await && exists(&pool, recent_fabrikam).await && exists(&pool, today_row).await);

    // Partitions exist ahead of time; running again changes nothing.
    let mut conn = pool.acquire().await.expect("conn");
    let names: Vec<String> = store::daily_partitions(&mut conn)
        .await
        .expect("list")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&store::partition_name(today + Duration::days(7))));
    drop(conn);
    assert_eq!(
        maintain(&pool, &settings, today).await.expect("again"),
        Default::default()
    );
}

#[tokio::test]
async fn a_partition_made_late_takes_its_rows_from_the_default_partition() {
    let db = TestDatabase::new("audit");
    let pool = platform::db::connect(&db.settings, &myaccount_audit::MIGRATIONS)
        .await
        .expect("db");
    let day = Utc::now().date_naive() - Duration::days(12);
    // No partition for that day yet: the row lands in the default partition.
    let straggler = insert(&pool, 12, "").await;
    let mut conn = pool.acquire().await.expect("conn");
    store::create_partition(&mut conn, day).await.expect("partition");
    drop(conn);
    let in_partition: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE id = $1)",
        store::partition_name(day)
    )))
    .bind(straggler)
    .fetch_one(&pool)
    .await
    .expect("query");
    assert!(in_partition, "moved out of the default partition, not lost");
}
