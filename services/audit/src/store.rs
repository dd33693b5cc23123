//! Every SQL statement of the audit service.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::{Connection, FromRow, PgConnection};
use uuid::Uuid;

use crate::array_literal::text_array_literal;
use crate::domain::{
    Activity, AuthenticationStep, ClientApp, Cursor, FailureReason, IP_FAILURE_WINDOW, Location, Page, PageRequest,
    ReviewState, Risk, RiskFacts, RiskReason, SignIn, SignInQuery, Status, TRAVEL_LOOKBACK, truncated_ip,
};

const SIGN_IN_COLUMNS: &str = "id, occurred_at, user_id, user_principal_name, organization_id, app_id, client_app, \
    interactive, ip_address, city, region, country, latitude, longitude, user_agent, browser, operating_system, \
    device_id, status, failure_reason, authentication_methods, authentication_steps, session_id, correlation_id, \
    risk_reasons, review_state, reviewed_at";

#[derive(FromRow)]
struct SignInRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    user_id: Option<Uuid>,
    user_principal_name: String,
    organization_id: String,
    app_id: String,
    client_app: String,
    interactive: bool,
    ip_address: String,
    city: String,
    region: String,
    country: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    user_agent: String,
    browser: String,
    operating_system: String,
    device_id: String,
    status: String,
    failure_reason: String,
    authentication_methods: Vec<String>,
    authentication_steps: sqlx::types::Json<Vec<AuthenticationStep>>,
    session_id: String,
    correlation_id: String,
    risk_reasons: Vec<String>,
    review_state: String,
    reviewed_at: Option<DateTime<Utc>>,
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
            client_app: ClientApp::parse(&self.client_app),
            interactive: self.interactive,
            ip_address: self.ip_address,
            location: Location {
                city: self.city,
                region: self.region,
                country: self.country,
                latitude: self.latitude,
                longitude: self.longitude,
            },
            user_agent: self.user_agent,
            browser: self.browser,
            operating_system: self.operating_system,
            device_id: self.device_id,
            status: Status::parse(&self.status).unwrap_or(Status::Failure),
            failure_reason: FailureReason::from_code(&self.failure_reason),
            authentication_methods: self.authentication_methods,
            authentication_steps: self.authentication_steps.0,
            session_id: self.session_id,
            correlation_id: self.correlation_id,
            risk: Risk {
                reasons: self
                    .risk_reasons
                    .iter()
                    .filter_map(|r| RiskReason::from_code(r))
                    .collect(),
            },
            review_state: ReviewState::parse(&self.review_state),
            reviewed_at: self.reviewed_at,
        }
    }
}

/// The columns a new sign-in is written with; the rest take their defaults.
const INSERT_COLUMNS: &str = "id, occurred_at, user_id, user_principal_name, organization_id, app_id, client_app, \
    interactive, ip_address, city, region, country, latitude, longitude, user_agent, browser, operating_system, \
    device_id, status, failure_reason, authentication_requirement, authentication_methods, authentication_steps, \
    session_id, correlation_id, risk_level, risk_reasons";

/// What to do about a sign-in that is already in the log (same time and id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Skip it: `ON CONFLICT DO NOTHING`, which probes the key of every row before writing it.
    Skip,
    /// Fail the whole statement with a unique violation. Cheaper per row; for the batch path,
    /// whose events the consumer has already checked by id (a sign-in comes again only under a
    /// new event id, and the consumer then applies the batch message by message).
    Fail,
}

/// Inserts sign-ins with one statement and returns the keys `(occurred_at, id)` of those
/// inserted. `sign_ins` must not repeat a key.
pub async fn insert_sign_ins(
    conn: &mut PgConnection,
    sign_ins: &[&SignIn],
    existing: Existing,
) -> Result<HashSet<(DateTime<Utc>, Uuid)>, sqlx::Error> {
    if sign_ins.is_empty() {
        return Ok(HashSet::new());
    }
    let column = |f: fn(&SignIn) -> &str| sign_ins.iter().map(|s| f(s)).collect::<Vec<&str>>();
    // Postgres has no arrays of arrays of differing lengths: each row's text array travels as
    // its literal (`{"pwd","otp"}`) and is cast in the statement.
    let methods: Vec<String> = sign_ins
        .iter()
        .map(|s| text_array_literal(s.authentication_methods.iter().map(String::as_str)))
        .collect();
    let reasons: Vec<String> = sign_ins
        .iter()
        .map(|s| text_array_literal(s.risk.reasons.iter().map(|r| r.code())))
        .collect();
    let steps: Vec<Json<&Vec<AuthenticationStep>>> = sign_ins.iter().map(|s| Json(&s.authentication_steps)).collect();
    let on_conflict = match existing {
        Existing::Skip => "ON CONFLICT DO NOTHING",
        Existing::Fail => "",
    };
    let inserted: Vec<(DateTime<Utc>, Uuid)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sign_ins ({INSERT_COLUMNS}) \
         SELECT id, occurred_at, user_id, upn, organization_id, app_id, client_app, interactive, ip_address, city, \
                region, country, latitude, longitude, user_agent, browser, operating_system, device_id, status, \
                failure_reason, requirement, methods::text[], steps, session_id, correlation_id, risk_level, \
                reasons::text[] \
         FROM UNNEST($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
                     $8::bool[], $9::text[], $10::text[], $11::text[], $12::text[], $13::float8[], $14::float8[], \
                     $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], \
                     $22::text[], $23::jsonb[], $24::text[], $25::text[], $26::text[], $27::text[]) \
              AS t(id, occurred_at, user_id, upn, organization_id, app_id, client_app, interactive, ip_address, city, \
                   region, country, latitude, longitude, user_agent, browser, operating_system, device_id, status, \
                   failure_reason, requirement, methods, steps, session_id, correlation_id, risk_level, reasons) \
         {on_conflict} RETURNING occurred_at, id"
    )))
    .bind(sign_ins.iter().map(|s| s.id).collect::<Vec<_>>())
    .bind(sign_ins.iter().map(|s| s.occurred_at).collect::<Vec<_>>())
    .bind(sign_ins.iter().map(|s| s.user_id).collect::<Vec<_>>())
    .bind(column(|s| &s.user_principal_name))
    .bind(column(|s| &s.organization_id))
    .bind(column(|s| &s.app_id))
    .bind(column(|s| s.client_app.as_str()))
    .bind(sign_ins.iter().map(|s| s.interactive).collect::<Vec<_>>())
    .bind(column(|s| &s.ip_address))
    .bind(column(|s| &s.location.city))
    .bind(column(|s| &s.location.region))
    .bind(column(|s| &s.location.country))
    .bind(sign_ins.iter().map(|s| s.location.latitude).collect::<Vec<_>>())
    .bind(sign_ins.iter().map(|s| s.location.longitude).collect::<Vec<_>>())
    .bind(column(|s| &s.user_agent))
    .bind(column(|s| &s.browser))
    .bind(column(|s| &s.operating_system))
    .bind(column(|s| &s.device_id))
    .bind(column(|s| s.status.as_str()))
    .bind(column(|s| s.failure_reason.map(FailureReason::code).unwrap_or("")))
    .bind(column(|s| s.authentication_requirement()))
    .bind(methods)
    .bind(steps)
    .bind(column(|s| &s.session_id))
    .bind(column(|s| &s.correlation_id))
    .bind(column(|s| s.risk.level().as_str()))
    .bind(reasons)
    .fetch_all(&mut *conn)
    .await?;
    Ok(inserted.into_iter().collect())
}

/// What the risk rules need from the database for each sign-in of `batch` whose `assessed` is
/// set (index-aligned; the others get `None`), as if the sign-ins before it in the batch were
/// already stored: for the address rule they are counted here (distinct accounts cannot be
/// added up afterwards); the user's own earlier sign-ins of the batch (known traits, the
/// previous location) are `domain::BatchAssessor`'s part. Three statements for the batch.
///
/// `batch` must hold exactly the sign-ins about to be inserted, in order, without repeats.
pub async fn risk_facts(
    conn: &mut PgConnection,
    batch: &[&SignIn],
    assessed: &[bool],
) -> Result<BatchFacts, sqlx::Error> {
    let facts: Vec<Option<RiskFacts>> = assessed.iter().map(|&a| a.then(RiskFacts::default)).collect();
    let mut batch_facts = BatchFacts {
        facts,
        known_traits: HashSet::new(),
    };
    let wanted: Vec<usize> = (0..batch.len()).filter(|&i| assessed.get(i) == Some(&true)).collect();
    if wanted.is_empty() {
        return Ok(batch_facts);
    }

    // What each user has been seen with before.
    let keys: HashSet<TraitKey> = wanted.iter().flat_map(|&i| trait_keys(batch[i])).collect();
    let (users, kinds, values): (Vec<Uuid>, Vec<&str>, Vec<&str>) = keys.iter().fold(
        (Vec::new(), Vec::new(), Vec::new()),
        |(mut u, mut k, mut v), (user, kind, value)| {
            u.push(*user);
            k.push(*kind);
            v.push(value.as_str());
            (u, k, v)
        },
    );
    let known: HashSet<(Uuid, String, String)> = sqlx::query_as(
        "SELECT user_id, kind, value FROM known_sign_in_traits \
         WHERE (user_id, kind, value) IN (SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[]))",
    )
    .bind(&users)
    .bind(&kinds)
    .bind(&values)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    batch_facts.known_traits = keys
        .into_iter()
        .filter(|(user, kind, value)| known.contains(&(*user, (*kind).to_owned(), value.clone())))
        .collect();
    let known = &batch_facts.known_traits;
    let facts = &mut batch_facts.facts;
    for &i in &wanted {
        let (s, Some(f)) = (batch[i], facts[i].as_mut()) else {
            continue;
        };
        let Some(user) = s.user_id else { continue };
        let has = |kind: &'static str, value: String| known.contains(&(user, kind, value));
        f.has_history = has(TRAIT_SEEN, String::new());
        f.country_seen = has(TRAIT_COUNTRY, s.location.country.clone());
        f.device_seen = has(TRAIT_DEVICE, s.device_fingerprint());
    }

    // Failed attempts from the same address in the hour before: stored ones, and the batch's
    // earlier ones (unless an earlier delivery already stored them, and they count above).
    let rows: Vec<usize> = (0..batch.len())
        .filter(|&i| !batch[i].ip_address.is_empty())
        .filter(|&i| assessed.get(i) == Some(&true) || batch[i].status == Status::Failure)
        .collect();
    if rows.iter().any(|&i| assessed.get(i) == Some(&true)) {
        let counts: Vec<(i32, i64, i64)> = sqlx::query_as(
            "WITH batch AS ( \
                 SELECT * FROM UNNEST($1::int4[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::bool[], \
                                      $7::bool[]) AS b(i, id, t, ip, upn, failed, assessed) \
             ), earlier AS MATERIALIZED ( \
                 SELECT p.i, p.t, p.ip, p.upn FROM batch p WHERE p.failed \
                 AND NOT EXISTS (SELECT 1 FROM sign_ins d WHERE d.occurred_at = p.t AND d.id = p.id) \
             ) \
             SELECT b.i, count(*), count(DISTINCT f.upn) FROM batch b \
             CROSS JOIN LATERAL ( \
                 SELECT s.user_principal_name AS upn FROM sign_ins s \
                 WHERE s.ip_address = b.ip AND s.status = 'failure' \
                   AND s.occurred_at > b.t - $8::float8 * interval '1 second' AND s.occurred_at <= b.t \
                 UNION ALL \
                 SELECT e.upn FROM earlier e \
                 WHERE e.i < b.i AND e.ip = b.ip AND e.t > b.t - $8::float8 * interval '1 second' AND e.t <= b.t \
             ) f \
             WHERE b.assessed GROUP BY b.i",
        )
        .bind(
            rows.iter()
                .map(|&i| i32::try_from(i).unwrap_or(i32::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|&i| batch[i].id).collect::<Vec<_>>())
        .bind(rows.iter().map(|&i| batch[i].occurred_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|&i| batch[i].ip_address.as_str()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|&i| batch[i].user_principal_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|&i| batch[i].status == Status::Failure)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|&i| assessed.get(i) == Some(&true)).collect::<Vec<_>>())
        .bind(IP_FAILURE_WINDOW.num_seconds() as f64)
        .fetch_all(&mut *conn)
        .await?;
        for (i, failures, accounts) in counts {
            if let Some(Some(f)) = usize::try_from(i).ok().and_then(|i| facts.get_mut(i)) {
                f.ip_failures = failures;
                f.ip_failure_accounts = accounts;
            }
        }
    }

    // The user's previous located successful sign-in (travel needs coordinates on both sides).
    let located: Vec<usize> = wanted
        .iter()
        .copied()
        .filter(|&i| batch[i].user_id.is_some() && batch[i].location.coordinates().is_some())
        .collect();
    if !located.is_empty() {
        let previous: Vec<(i32, DateTime<Utc>, f64, f64)> = sqlx::query_as(
            "SELECT q.i, p.occurred_at, p.latitude, p.longitude \
             FROM UNNEST($1::int4[], $2::uuid[], $3::timestamptz[]) AS q(i, user_id, t) \
             CROSS JOIN LATERAL ( \
                 SELECT occurred_at, latitude, longitude FROM sign_ins \
                 WHERE user_id = q.user_id AND status = 'success' AND latitude IS NOT NULL \
                   AND occurred_at < q.t AND occurred_at > q.t - $4::float8 * interval '1 second' \
                 ORDER BY occurred_at DESC LIMIT 1 \
             ) p",
        )
        .bind(
            located
                .iter()
                .map(|&i| i32::try_from(i).unwrap_or(i32::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(located.iter().map(|&i| batch[i].user_id).collect::<Vec<_>>())
        .bind(located.iter().map(|&i| batch[i].occurred_at).collect::<Vec<_>>())
        .bind(TRAVEL_LOOKBACK.num_seconds() as f64)
        .fetch_all(&mut *conn)
        .await?;
        for (i, at, lat, lon) in previous {
            if let Some(Some(f)) = usize::try_from(i).ok().and_then(|i| facts.get_mut(i)) {
                f.previous = Some((at, lat, lon));
            }
        }
    }
    Ok(batch_facts)
}

/// What the risk rules know of a user: (user, kind, value).
pub type TraitKey = (Uuid, &'static str, String);

const TRAIT_SEEN: &str = "seen";
const TRAIT_COUNTRY: &str = "country";
const TRAIT_DEVICE: &str = "device";

/// The traits a sign-in shows: that the user was seen at all, its country and its device.
fn trait_keys(s: &SignIn) -> Vec<TraitKey> {
    let Some(user) = s.user_id else {
        return Vec::new();
    };
    let mut keys = vec![(user, TRAIT_SEEN, String::new())];
    if !s.location.country.is_empty() {
        keys.push((user, TRAIT_COUNTRY, s.location.country.clone()));
    }
    let device = s.device_fingerprint();
    if !device.is_empty() {
        keys.push((user, TRAIT_DEVICE, device));
    }
    keys
}

/// What `risk_facts` found for a batch: the facts per sign-in, and which of the batch's traits
/// were already known (so `remember_traits` need not write them again).
pub struct BatchFacts {
    pub facts: Vec<Option<RiskFacts>>,
    pub known_traits: HashSet<TraitKey>,
}

/// Remembers the country and device of successful sign-ins as known for their users; the
/// first sign-in (in order) that shows a trait sets when it was first seen. Traits in `known`
/// (read in the same transaction) are not written again; a concurrent batch may still have
/// added one since, which the conflict clause absorbs.
pub async fn remember_traits(
    conn: &mut PgConnection,
    successes: &[&SignIn],
    known: &HashSet<TraitKey>,
) -> Result<(), sqlx::Error> {
    // Keyed and sorted: the first sign-in (in order) that shows a trait gives its time, and
    // concurrent batches (ingest workers, replicas) insert overlapping keys in one order, so
    // they never wait for each other crosswise.
    let mut traits: BTreeMap<TraitKey, DateTime<Utc>> = BTreeMap::new();
    for s in successes {
        for key in trait_keys(s) {
            if !known.contains(&key) {
                traits.entry(key).or_insert(s.occurred_at);
            }
        }
    }
    if traits.is_empty() {
        return Ok(());
    }
    let mut users = Vec::with_capacity(traits.len());
    let mut kinds = Vec::with_capacity(traits.len());
    let mut values = Vec::with_capacity(traits.len());
    let mut times = Vec::with_capacity(traits.len());
    for ((user, kind, value), first_seen) in traits {
        users.push(user);
        kinds.push(kind);
        values.push(value);
        times.push(first_seen);
    }
    sqlx::query(
        "INSERT INTO known_sign_in_traits (user_id, kind, value, first_seen) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) ON CONFLICT DO NOTHING",
    )
    .bind(&users)
    .bind(&kinds)
    .bind(&values)
    .bind(&times)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whose sign-ins a query reads.
pub enum Scope {
    User(Uuid),
    Organization { id: String, user: Option<Uuid> },
}

/// One page of sign-ins, newest first.
///
/// The WHERE clause names only the conditions in use: with catch-all `$n IS NULL OR ...`
/// predicates Postgres's generic plan walks the whole log in time order instead of the
/// `(user_id, occurred_at, id)` index (measured: 45 ms instead of under 1 ms over a million rows).
pub async fn sign_ins(conn: &mut PgConnection, scope: &Scope, q: &SignInQuery) -> Result<Page<SignIn>, sqlx::Error> {
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!("SELECT {SIGN_IN_COLUMNS} FROM sign_ins WHERE "));
    match scope {
        Scope::User(user) => {
            sql.push("user_id = ").push_bind(*user);
        }
        Scope::Organization { id, user } => {
            sql.push("organization_id = ").push_bind(id.clone());
            if let Some(user) = user {
                sql.push(" AND user_id = ").push_bind(*user);
            }
        }
    }
    if let Some(after) = q.page.after {
        sql.push(" AND (occurred_at, id) < (")
            .push_bind(after.occurred_at)
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    if let Some(status) = q.filter.status {
        sql.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(from) = q.filter.from {
        sql.push(" AND occurred_at >= ").push_bind(from);
    }
    if let Some(to) = q.filter.to {
        sql.push(" AND occurred_at < ").push_bind(to);
    }
    if let Some(app) = &q.filter.app_id {
        sql.push(" AND app_id = ").push_bind(app.clone());
    }
    if q.filter.risky_only {
        sql.push(" AND risk_level <> 'none'");
    }
    // One extra row tells whether another page follows.
    sql.push(" ORDER BY occurred_at DESC, id DESC LIMIT ")
        .push_bind(q.page.page_size + 1);
    let rows: Vec<SignInRow> = sql.build_query_as().fetch_all(&mut *conn).await?;
    Ok(paginate(
        rows.into_iter().map(SignInRow::into_domain).collect(),
        q.page,
        |s| Cursor {
            occurred_at: s.occurred_at,
            id: s.id,
        },
    ))
}

fn paginate<T>(mut items: Vec<T>, page: PageRequest, cursor: impl Fn(&T) -> Cursor) -> Page<T> {
    let more = items.len() as i64 > page.page_size;
    items.truncate(usize::try_from(page.page_size).unwrap_or(0));
    let next = if more { items.last().map(cursor) } else { None };
    Page { items, next }
}

pub async fn sign_in_of(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<Option<SignIn>, sqlx::Error> {
    let sql = format!("SELECT {SIGN_IN_COLUMNS} FROM sign_ins WHERE id = $1 AND user_id = $2");
    let row: Option<SignInRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(SignInRow::into_domain))
}

/// Records the person's verdict; `None` when the sign-in is not theirs.
pub async fn set_review(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    state: ReviewState,
    now: DateTime<Utc>,
) -> Result<Option<SignIn>, sqlx::Error> {
    let sql = format!(
        "UPDATE sign_ins SET review_state = $3, reviewed_at = $4 WHERE id = $1 AND user_id = $2 \
         RETURNING {SIGN_IN_COLUMNS}"
    );
    let row: Option<SignInRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(user_id)
        .bind(state.as_str())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(SignInRow::into_domain))
}

// --- account activity

#[derive(FromRow)]
struct ActivityRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    user_id: Uuid,
    category: String,
    activity: String,
    summary: String,
    details: sqlx::types::Json<BTreeMap<String, String>>,
    organization_id: String,
}

impl ActivityRow {
    fn into_domain(self) -> Activity {
        Activity {
            id: self.id,
            occurred_at: self.occurred_at,
            user_id: self.user_id,
            category: self.category,
            activity: self.activity,
            summary: self.summary,
            details: self.details.0,
            organization_id: self.organization_id,
        }
    }
}

pub async fn insert_activity(conn: &mut PgConnection, a: &Activity) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO activities (id, occurred_at, user_id, category, activity, summary, details, organization_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(a.id)
    .bind(a.occurred_at)
    .bind(a.user_id)
    .bind(&a.category)
    .bind(&a.activity)
    .bind(&a.summary)
    .bind(sqlx::types::Json(&a.details))
    .bind(&a.organization_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn activities_of(
    conn: &mut PgConnection,
    user_id: Uuid,
    page: PageRequest,
    category: Option<&str>,
) -> Result<Page<Activity>, sqlx::Error> {
    let rows: Vec<ActivityRow> = sqlx::query_as(
        "SELECT id, occurred_at, user_id, category, activity, summary, details, organization_id FROM activities \
         WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (occurred_at, id) < ($2, $3)) \
           AND ($4::text IS NULL OR category = $4) \
         ORDER BY occurred_at DESC, id DESC LIMIT $5",
    )
    .bind(user_id)
    .bind(page.after.map(|c| c.occurred_at))
    .bind(page.after.map(|c| c.id))
    .bind(category)
    .bind(page.page_size + 1)
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.into_iter().map(ActivityRow::into_domain).collect();
    Ok(paginate(items, page, |a| Cursor {
        occurred_at: a.occurred_at,
        id: a.id,
    }))
}

// --- privacy

/// Every sign-in of the user still held, newest first (ExportMyData: retention bounds it).
pub async fn all_sign_ins_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<SignIn>, sqlx::Error> {
    let sql = format!("SELECT {SIGN_IN_COLUMNS} FROM sign_ins WHERE user_id = $1 ORDER BY occurred_at DESC, id DESC");
    let rows: Vec<SignInRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(SignInRow::into_domain).collect())
}

/// Every activity entry of the user, newest first (ExportMyData).
pub async fn all_activities_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Activity>, sqlx::Error> {
    let rows: Vec<ActivityRow> = sqlx::query_as(
        "SELECT id, occurred_at, user_id, category, activity, summary, details, organization_id FROM activities \
         WHERE user_id = $1 ORDER BY occurred_at DESC, id DESC",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(ActivityRow::into_domain).collect())
}

/// Erases a deleted account: its activity log and known traits go, its sign-ins are kept for
/// retention but pseudonymised as `SignIn::pseudonymise` describes, all under a fresh pseudonym
/// per erasure that is stored nowhere else (nothing can map it back). The platform's tombstone
/// makes every consumer ignore later events about the person. Running it again changes nothing
/// more. Counts the sign-ins pseudonymised.
pub struct Erasure;

impl platform::erasure::Erasure for Erasure {
    async fn erase_user(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        _now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        pseudonymise_user(conn, user_id, Uuid::new_v4()).await
    }
}

async fn pseudonymise_user(conn: &mut PgConnection, user_id: Uuid, pseudonymous_id: Uuid) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM activities WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM known_sign_in_traits WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    // A person uses few addresses: each is cut to its network once, by the same rule as a
    // single sign-in, and anything unmatched is dropped rather than kept whole.
    let addresses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT ip_address FROM sign_ins WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    let networks: Vec<String> = addresses.iter().map(|a| truncated_ip(a)).collect();
    let done = sqlx::query(
        "UPDATE sign_ins s SET user_id = $2, user_principal_name = '', \
         ip_address = coalesce((SELECT n.network FROM unnest($3::text[], $4::text[]) AS n(address, network) \
                                WHERE n.address = s.ip_address), ''), \
         user_agent = '', latitude = NULL, longitude = NULL, device_id = '', session_id = '', correlation_id = '' \
         WHERE s.user_id = $1",
    )
    .bind(user_id)
    .bind(pseudonymous_id)
    .bind(&addresses)
    .bind(&networks)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

// --- retention and partitions

/// Records an organization's retention as of `changed_at`; an older change delivered late is
/// ignored.
pub async fn set_retention(
    conn: &mut PgConnection,
    organization_id: &str,
    days: i32,
    changed_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO organization_retention (organization_id, sign_in_retention_days, changed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (organization_id) DO UPDATE \
         SET sign_in_retention_days = EXCLUDED.sign_in_retention_days, changed_at = EXCLUDED.changed_at \
         WHERE organization_retention.changed_at <= EXCLUDED.changed_at",
    )
    .bind(organization_id)
    .bind(days)
    .bind(changed_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The organization's sign-in retention, when it has set one.
pub async fn retention_of(conn: &mut PgConnection, organization_id: &str) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar("SELECT sign_in_retention_days FROM organization_retention WHERE organization_id = $1")
        .bind(organization_id)
        .fetch_optional(&mut *conn)
        .await
}

pub async fn retentions(conn: &mut PgConnection) -> Result<Vec<(String, i32)>, sqlx::Error> {
    sqlx::query_as("SELECT organization_id, sign_in_retention_days FROM organization_retention")
        .fetch_all(&mut *conn)
        .await
}

pub fn partition_name(day: NaiveDate) -> String {
    format!("sign_ins_p{}", day.format("%Y%m%d"))
}

/// Names of the daily partitions, with their day.
pub async fn daily_partitions(conn: &mut PgConnection) -> Result<Vec<(String, NaiveDate)>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'sign_ins'",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(names
        .into_iter()
        .filter_map(|n| {
            let day = NaiveDate::parse_from_str(n.strip_prefix("sign_ins_p")?, "%Y%m%d").ok()?;
            Some((n, day))
        })
        .collect())
}

/// Creates the partition of `day` if it is missing, moving any rows of that day out of the
/// default partition first (Postgres refuses the partition otherwise).
pub async fn create_partition(conn: &mut PgConnection, day: NaiveDate) -> Result<(), sqlx::Error> {
    let name = partition_name(day);
    let from = day.format("%Y-%m-%d").to_string();
    let to = day.succ_opt().unwrap_or(day).format("%Y-%m-%d").to_string();
    let mut tx = conn.begin().await?;
    // Serialise partition maintenance across replicas.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('audit.sign_ins.partitions'))")
        .execute(&mut *tx)
        .await?;
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&name)
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        // Names and bounds come from a date, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TEMP TABLE moved_sign_ins ON COMMIT DROP AS WITH moved AS (DELETE FROM sign_ins_default \
             WHERE occurred_at >= '{from}' AND occurred_at < '{to}' RETURNING *) SELECT * FROM moved"
        )))
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {name} PARTITION OF sign_ins FOR VALUES FROM ('{from}') TO ('{to}')"
        )))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO sign_ins SELECT * FROM moved_sign_ins")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn drop_partition(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    if !name.starts_with("sign_ins_p") || !name[10..].chars().all(|c| c.is_ascii_digit()) {
        return Ok(());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {name}")))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes, inside one partition, the rows of every organization except `keep` (those whose
/// retention still covers the partition). Bounded to that partition: never a full-table delete.
pub async fn delete_in_partition_except(
    conn: &mut PgConnection,
    name: &str,
    keep: &[String],
) -> Result<u64, sqlx::Error> {
    if !name.starts_with("sign_ins_p") || !name[10..].chars().all(|c| c.is_ascii_digit()) {
        return Ok(0);
    }
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {name} WHERE NOT (organization_id = ANY($1))"
    )))
    .bind(keep)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes, inside one partition, the rows of the given organizations.
pub async fn delete_in_partition_of(
    conn: &mut PgConnection,
    name: &str,
    organizations: &[&String],
) -> Result<u64, sqlx::Error> {
    if !name.starts_with("sign_ins_p") || !name[10..].chars().all(|c| c.is_ascii_digit()) {
        return Ok(0);
    }
    let organizations: Vec<String> = organizations.iter().map(|o| (*o).clone()).collect();
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {name} WHERE organization_id = ANY($1)"
    )))
    .bind(organizations)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes rows older than `before` from the default partition (clock-skewed stragglers).
pub async fn delete_old_from_default(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sign_ins_default WHERE occurred_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn count_sign_ins(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM sign_ins")
        .fetch_one(&mut *conn)
        .await
}
