//! Never a 5xx for bad input: generated requests against every operation of the published
//! OpenAPI document, from its own schemas (valid, boundary and invalid values: wrong types,
//! missing and extra fields, huge and control-character strings, unicode, negative and huge
//! numbers, malformed ids, bodies that are not JSON), with a signed-in person's token, with none
//! and with a forged one. Every answer must be below 500 and one the document declares for the
//! operation (status and body, checked by the contract test's `check_answer`), and a refused
//! request must leave the person's account as it was.
//!
//! The generator is seeded (`SWEEP_SEED`, default below) so a failure reproduces; each failure
//! names its request.

use std::time::Instant;

use myaccount_integration_tests::{AuthenticatorApp, TestSystem};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode, header};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::contract::check_answer;
use myaccount_gateway::cookies::{CSRF_COOKIE, CSRF_HEADER, MODE_HEADER, SESSION_COOKIE};

const DEFAULT_SEED: u64 = 17;
/// How many failures the report lists in full.
const REPORTED: usize = 40;

/// A request body as sent.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    /// Bytes under a content type of the case's choosing (not JSON, not UTF-8, the wrong type).
    Raw {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Credentials {
    /// The signed-in person's multi-factor token.
    Person,
    /// No `Authorization` header.
    Anonymous,
    /// A token that is not one.
    Garbage,
    /// The person's token with its signature changed.
    Forged,
    /// Another person's browser session cookie, with the CSRF header or without it.
    StrangersCookie { csrf: bool },
    /// A session cookie that is not one, with a matching CSRF cookie and header.
    GarbageCookie,
}

#[derive(Clone)]
struct Case {
    method: Method,
    template: String,
    /// One value for each `{…}` of the template, in order.
    path: Vec<String>,
    query: Vec<(String, String)>,
    /// Path values and query sent as written, already percent-encoded (for bytes that are not
    /// UTF-8 once decoded, which no `&str` can hold).
    raw: bool,
    raw_query: Option<String>,
    headers: Vec<(String, String)>,
    body: Body,
    credentials: Credentials,
}

impl Case {
    fn new(method: &Method, template: &str, path: Vec<String>) -> Self {
        Self {
            method: method.clone(),
            template: template.to_owned(),
            path,
            query: Vec::new(),
            raw: false,
            raw_query: None,
            headers: Vec::new(),
            body: Body::None,
            credentials: Credentials::Person,
        }
    }

    fn url(&self, base: &str) -> url::Url {
        let mut url = url::Url::parse(base).expect("the gateway's address");
        if self.raw {
            let mut values = self.path.iter();
            let path: Vec<&str> = self
                .template
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        values.next().map_or("", String::as_str)
                    } else {
                        segment
                    }
                })
                .collect();
            url.set_path(&path.join("/"));
            url.set_query(self.raw_query.as_deref());
            return url;
        }
        {
            let mut values = self.path.iter();
            let mut segments = url.path_segments_mut().expect("a base URL");
            for segment in self.template.trim_start_matches('/').split('/') {
                if segment.starts_with('{') {
                    segments.push(values.next().expect("a value for every path parameter"));
                } else {
                    segments.push(segment);
                }
            }
        }
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &self.query {
                pairs.append_pair(name, value);
            }
        }
        url
    }

    /// The request, for a failure report (long values cut).
    fn describe(&self, base: &str) -> String {
        let body = match &self.body {
            Body::None => String::new(),
            Body::Json(value) => format!(" body {}", cut(&value.to_string())),
            Body::Raw { content_type, bytes } => {
                format!(" body ({content_type}) {}", cut(&String::from_utf8_lossy(bytes)))
            }
        };
        let credentials = match self.credentials {
            Credentials::Person => "the person's token",
            Credentials::Anonymous => "no token",
            Credentials::Garbage => "a garbage token",
            Credentials::Forged => "a forged token",
            Credentials::StrangersCookie { csrf: true } => "another person's session cookie and CSRF header",
            Credentials::StrangersCookie { csrf: false } => "another person's session cookie without the CSRF header",
            Credentials::GarbageCookie => "a garbage session cookie",
        };
        format!(
            "{} {} [{}] with {credentials}{}{body}",
            self.method,
            cut(self.url(base).as_str()),
            self.template,
            if self.headers.is_empty() {
                String::new()
            } else {
                format!(" headers {:?}", self.headers)
            }
        )
    }
}

fn cut(text: &str) -> String {
    const MAX: usize = 240;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!(
            "{}… ({} chars)",
            text.chars().take(MAX).collect::<String>(),
            text.chars().count()
        )
    }
}

/// Strings a careless edge mishandles: empty, blank, control characters (NUL, which Postgres
/// refuses in text), escape sequences, right-to-left override, combining marks, emoji, noncharacters,
/// markup and query syntax, and lengths past every limit.
fn nasty_strings() -> Vec<String> {
    vec![
        String::new(),
        "   ".into(),
        "\u{0}".into(),
        "a\u{0}b".into(),
        "\u{7}\u{1b}[31mred\u{1b}[0m".into(),
        "line\nbreak\r\ttab".into(),
        "\u{202e}gnp.exe".into(),
        "e\u{301}\u{301}\u{301}".into(),
        "👩‍👩‍👧‍👦🦀".into(),
        "\u{fffe}\u{ffff}".into(),
        "<script>alert(1)</script>".into(),
        "' OR 1=1; DROP TABLE users; --".into(),
        "%00%2e%2e%2f".into(),
        "x".repeat(1_000),
        "é".repeat(70_000),
    ]
}

/// Sends generated cases and records what is wrong with their answers.
struct Sweep<'a> {
    system: &'a TestSystem,
    document: Value,
    rng: StdRng,
    seed: u64,
    token: String,
    forged: String,
    /// Another person's browser session: the session and CSRF cookies' values.
    strangers_cookies: (String, String),
    /// The person's account as last seen: a refused request must leave it so.
    baseline: Value,
    /// Ids of things that exist (the person's device and method, another person's device), so
    /// that not every generated id is unknown.
    known_ids: Vec<String>,
    failures: Vec<String>,
    sent: usize,
    /// How each operation answered: (operation, status) -> count, printed as a coverage summary.
    answers: std::collections::BTreeMap<(String, u16), usize>,
}

impl Sweep<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                &self.document["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    /// The JSON types a schema allows (`["string", "null"]` -> both).
    fn types(schema: &Value) -> Vec<String> {
        match &schema["type"] {
            Value::String(t) => vec![t.clone()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    }

    /// A value the schema allows.
    fn example(&mut self, schema: &Value, depth: usize) -> Value {
        let schema = self.resolve(schema).clone();
        if let Some(branches) = schema.get("oneOf").or(schema.get("anyOf")).and_then(Value::as_array) {
            let branch = branches.choose(&mut self.rng).cloned().unwrap_or(Value::Null);
            return self.example(&branch, depth + 1);
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return values.choose(&mut self.rng).cloned().unwrap_or(Value::Null);
        }
        let types = Self::types(&schema);
        let kind = types.iter().find(|t| *t != "null").cloned().unwrap_or_else(|| {
            if schema.get("properties").is_some() {
                "object".into()
            } else {
                String::new()
            }
        });
        match kind.as_str() {
            "object" if depth < 4 => {
                let mut object = Map::new();
                let required = Self::required(&schema);
                if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                    for (name, property) in properties {
                        if required.contains(name) || self.rng.gen_bool(0.5) {
                            let value = self.example(property, depth + 1);
                            object.insert(name.clone(), value);
                        }
                    }
                }
                Value::Object(object)
            }
            "string" => {
                let plausible = [
                    "Ada Lovelace".to_owned(),
                    Uuid::new_v4().to_string(),
                    "operating_system".to_owned(),
                    "laptop".to_owned(),
                    "me".to_owned(),
                    "123456".to_owned(),
                    "ada@contoso.example".to_owned(),
                    "+1 425 555 0100".to_owned(),
                    "2026-01-01T00:00:00Z".to_owned(),
                ];
                Value::String(plausible.choose(&mut self.rng).cloned().unwrap_or_default())
            }
            "integer" => json!(self.rng.gen_range(0..100)),
            "number" => json!(self.rng.gen_range(0.0..100.0)),
            "boolean" => json!(self.rng.gen_bool(0.5)),
            "array" => Value::Array(Vec::new()),
            _ => json!({}),
        }
    }

    fn required(schema: &Value) -> Vec<String> {
        schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Values of the wrong JSON type for `schema`.
    fn wrong_types(schema: &Value) -> Vec<Value> {
        let types = Self::types(schema);
        let mut wrong = Vec::new();
        if !types.iter().any(|t| t == "string") {
            wrong.push(json!("not the right type"));
        }
        if !types.iter().any(|t| t == "integer" || t == "number") {
            wrong.extend([json!(-1), json!(1e308), json!(u64::MAX)]);
        }
        if !types.iter().any(|t| t == "boolean") {
            wrong.push(json!(true));
        }
        if !types.iter().any(|t| t == "null") {
            wrong.push(Value::Null);
        }
        wrong.extend([json!([1, "two"]), json!({ "nested": { "deeper": [] } })]);
        wrong
    }

    /// Every body case for a request schema.
    fn body_cases(&mut self, schema: &Value) -> Vec<Body> {
        let mut bodies = Vec::new();
        for _ in 0..2 {
            bodies.push(Body::Json(self.example(schema, 0)));
        }
        let resolved = self.resolve(schema).clone();
        // A oneOf body: each branch's shape with its fields varied.
        let shapes: Vec<Value> = match resolved.get("oneOf").and_then(Value::as_array) {
            Some(branches) => branches.clone(),
            None => vec![resolved.clone()],
        };
        let nasty = nasty_strings();
        for shape in shapes {
            let valid = self.example(&shape, 0);
            let Value::Object(valid) = valid else { continue };
            for name in Self::required(&shape) {
                let mut missing = valid.clone();
                missing.remove(&name);
                bodies.push(Body::Json(Value::Object(missing)));
            }
            let properties = shape["properties"].as_object().cloned().unwrap_or_default();
            for (name, property) in properties {
                let property = self.resolve(&property).clone();
                for wrong in Self::wrong_types(&property) {
                    let mut changed = valid.clone();
                    changed.insert(name.clone(), wrong);
                    bodies.push(Body::Json(Value::Object(changed)));
                }
                if Self::types(&property).iter().any(|t| t == "string") && property.get("enum").is_none() {
                    for text in &nasty {
                        let mut changed = valid.clone();
                        changed.insert(name.clone(), Value::String(text.clone()));
                        bodies.push(Body::Json(Value::Object(changed)));
                    }
                }
            }
            let mut extra = valid.clone();
            extra.insert("unexpectedField".into(), json!(1));
            bodies.push(Body::Json(Value::Object(extra)));
        }
        bodies.extend(
            [json!({}), json!([]), json!("a string"), json!(42), Value::Null]
                .into_iter()
                .map(Body::Json),
        );
        bodies.extend(Self::raw_bodies());
        bodies
    }

    /// Bodies that are not JSON, not UTF-8, nested past any parser's depth, or of another type.
    fn raw_bodies() -> Vec<Body> {
        let json = |bytes: Vec<u8>| Body::Raw {
            content_type: "application/json",
            bytes,
        };
        vec![
            json(Vec::new()),
            json(b"{".to_vec()),
            json(vec![0xff, 0xfe, 0x00]),
            json(br#"{"username": "\ud800", "password": "\u0000"}"#.to_vec()),
            json("[".repeat(5_000).into_bytes()),
            Body::Raw {
                content_type: "text/plain",
                bytes: b"{}".to_vec(),
            },
        ]
    }

    fn path_values(&mut self) -> Vec<String> {
        let mut values = vec![
            "not-a-uuid".to_owned(),
            Uuid::new_v4().to_string(),
            Uuid::nil().to_string(),
            Uuid::new_v4().to_string().to_uppercase(),
            format!("{{{}}}", Uuid::new_v4()),
            "x".repeat(5_000),
            "é😀".to_owned(),
            "\u{0}".to_owned(),
            // ("..", which the client would resolve away before sending.)
            "...".to_owned(),
            "-1".to_owned(),
        ];
        values.extend(self.known_ids.clone());
        values
    }

    fn query_values(&mut self, schema: &Value) -> Vec<String> {
        let schema = self.resolve(schema).clone();
        let mut values = match Self::types(&schema).first().map(String::as_str) {
            Some("integer") => vec![
                "abc",
                "-1",
                "0",
                "1",
                "100",
                "101",
                "2147483648",
                "-2147483649",
                "99999999999999999999",
                "1.5",
                "",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            Some("boolean") => vec!["maybe".to_owned(), "1".to_owned(), "true".to_owned(), String::new()],
            _ => vec![
                "2026-13-45".to_owned(),
                "2026-01-01T00:00:00Z".to_owned(),
                "9999-12-31T23:59:59Z".to_owned(),
                Uuid::new_v4().to_string(),
                "not+a+token".to_owned(),
            ],
        };
        // Past a URL's length limit the client refuses to send it: huge values go in bodies.
        let fits_a_url: Vec<String> = nasty_strings().into_iter().filter(|s| s.len() <= 2_000).collect();
        values.extend(fits_a_url);
        values
    }

    /// Every case for one operation.
    fn cases(&mut self, method: &Method, template: &str, operation: &Value) -> Vec<Case> {
        let path_count = template.matches('{').count();
        let secured = operation.get("security").is_some();
        let mut cases = Vec::new();
        let plausible_path = |sweep: &mut Self| -> Vec<String> {
            (0..path_count)
                .map(|_| {
                    sweep
                        .known_ids
                        .choose(&mut sweep.rng)
                        .cloned()
                        .unwrap_or_else(|| Uuid::new_v4().to_string())
                })
                .collect()
        };
        // Ending the person's own session would end the sweep; only strangers try these.
        let ends_the_session = matches!(template, "/api/v1/auth/sign-out" | "/api/v1/me/sessions/revoke-all");

        let body_schema = operation["requestBody"]["content"]["application/json"]["schema"].clone();
        let bodies = if body_schema.is_object() {
            self.body_cases(&body_schema)
        } else {
            vec![Body::None, Body::Json(json!({ "unexpectedField": 1 }))]
        };
        let first_body = bodies.first().cloned().unwrap_or(Body::None);
        if !ends_the_session {
            for body in bodies {
                let mut case = Case::new(method, template, plausible_path(self));
                case.body = body;
                cases.push(case);
            }
            for index in 0..path_count {
                for value in self.path_values() {
                    let mut path = plausible_path(self);
                    path[index] = value;
                    let mut case = Case::new(method, template, path);
                    case.body = first_body.clone();
                    cases.push(case);
                }
            }
        }
        // Percent-encoded bytes that decode to no UTF-8 (or to NUL), in the path and the query.
        for raw in ["%FF", "%00", "%C0%AF", "%E2%82"] {
            if path_count > 0 && !ends_the_session {
                let mut case = Case::new(method, template, vec![raw.to_owned(); path_count]);
                case.raw = true;
                case.body = first_body.clone();
                cases.push(case);
            }
            let mut case = Case::new(method, template, plausible_path(self));
            case.raw = true;
            let names: Vec<String> = operation["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let name = names.first().cloned().unwrap_or_else(|| "q".to_owned());
            case.raw_query = Some(format!("{name}={raw}&{raw}={raw}"));
            case.body = first_body.clone();
            if !ends_the_session {
                cases.push(case);
            }
        }
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        for parameter in &parameters {
            let name = parameter["name"].as_str().unwrap_or_default().to_owned();
            match parameter["in"].as_str() {
                Some("query") => {
                    for value in self.query_values(&parameter["schema"]) {
                        let mut case = Case::new(method, template, plausible_path(self));
                        case.query = vec![(name.clone(), value)];
                        cases.push(case);
                    }
                }
                Some("header") if !ends_the_session => {
                    for value in [
                        "cookie".to_owned(),
                        "bearer".to_owned(),
                        String::new(),
                        "c".repeat(4_000),
                    ] {
                        let mut case = Case::new(method, template, plausible_path(self));
                        case.headers = vec![(name.clone(), value)];
                        case.body = first_body.clone();
                        cases.push(case);
                    }
                }
                _ => {}
            }
        }
        // Every query parameter at once, each a random pick.
        let query: Vec<(String, String)> = parameters
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                let values = self.query_values(&p["schema"]);
                let value = values.choose(&mut self.rng).cloned().unwrap_or_default();
                (p["name"].as_str().unwrap_or_default().to_owned(), value)
            })
            .collect();
        if !query.is_empty() {
            let mut case = Case::new(method, template, plausible_path(self));
            case.query = query;
            cases.push(case);
        }
        let strangers = if secured || ends_the_session {
            let mut strangers = vec![
                Credentials::Anonymous,
                Credentials::Garbage,
                Credentials::Forged,
                Credentials::GarbageCookie,
                Credentials::StrangersCookie { csrf: false },
            ];
            // Ending the other person's browser session would leave the rest with a dead cookie.
            if !ends_the_session {
                strangers.push(Credentials::StrangersCookie { csrf: true });
            }
            strangers
        } else {
            vec![Credentials::Garbage, Credentials::GarbageCookie]
        };
        for credentials in strangers {
            let mut case = Case::new(method, template, plausible_path(self));
            case.body = first_body.clone();
            case.credentials = credentials;
            cases.push(case);
        }
        // A body past every limit, whether or not the operation reads one.
        if !ends_the_session {
            let mut case = Case::new(method, template, plausible_path(self));
            case.body = Body::Raw {
                content_type: "application/json",
                bytes: serde_json::to_vec(&json!({ "padding": "x".repeat(3 << 20) })).expect("json"),
            };
            cases.push(case);
        }
        cases
    }

    async fn send(&self, case: &Case) -> (StatusCode, Option<String>, String) {
        let mut request = self
            .system
            .http
            .request(case.method.clone(), case.url(&self.system.url("")));
        request = match case.credentials {
            Credentials::Person => request.bearer_auth(&self.token),
            Credentials::Anonymous => request,
            Credentials::Garbage => request.bearer_auth("not.a.token"),
            Credentials::Forged => request.bearer_auth(&self.forged),
            Credentials::StrangersCookie { csrf } => {
                let (session, token) = &self.strangers_cookies;
                let request = request.header(
                    header::COOKIE,
                    format!("{SESSION_COOKIE}={session}; {CSRF_COOKIE}={token}"),
                );
                if csrf {
                    request.header(CSRF_HEADER, token)
                } else {
                    request
                }
            }
            Credentials::GarbageCookie => request
                .header(
                    header::COOKIE,
                    format!("{SESSION_COOKIE}=garbage; {CSRF_COOKIE}=garbage"),
                )
                .header(CSRF_HEADER, "garbage"),
        };
        for (name, value) in &case.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request = match &case.body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Raw { content_type, bytes } => {
                request.header(header::CONTENT_TYPE, *content_type).body(bytes.clone())
            }
        };
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
        let text = response.text().await.expect("a body");
        (status, content_type, text)
    }

    /// The person's account as the reads show it, without what moves by itself.
    async fn account(&self) -> Value {
        let reads = [
            "/api/v1/me/profile",
            "/api/v1/me/security-info",
            "/api/v1/me/devices",
            "/api/v1/me/sessions",
            "/api/v1/me/organizations",
            "/api/v1/me/invitations",
        ];
        let answers = futures::future::join_all(reads.iter().map(|path| self.system.get(path, &self.token))).await;
        let mut account = Map::new();
        for (path, response) in reads.iter().zip(answers) {
            assert_eq!(response.status(), StatusCode::OK, "the person can still read {path}");
            let mut body: Value = response.json().await.expect("json");
            forget_moving_parts(&mut body);
            account.insert((*path).to_owned(), body);
        }
        Value::Object(account)
    }

    /// The account once what a change set off by event (another service's projection) has
    /// arrived: two reads in a row that agree.
    async fn settled_account(&self) -> Value {
        let mut last = self.account().await;
        for _ in 0..20 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let now = self.account().await;
            if now == last {
                return now;
            }
            last = now;
        }
        last
    }

    async fn run(&mut self, case: Case) {
        self.sent += 1;
        let (status, content_type, text) = self.send(&case).await;
        *self
            .answers
            .entry((format!("{} {}", case.method, case.template), status.as_u16()))
            .or_default() += 1;
        let base = self.system.url("");
        let mut wrong = Vec::new();
        if status.is_server_error() {
            wrong.push(format!("a server error {status}: {}", cut(&text)));
        } else if let Err(mismatch) = check_answer(
            &self.document,
            &case.method,
            &case.template,
            status,
            content_type.as_deref(),
            &text,
        ) {
            wrong.push(cut(&mismatch));
        }
        let changes = case.method != Method::GET;
        if changes && case.credentials == Credentials::Person && status.is_success() {
            self.baseline = self.settled_account().await;
        } else if changes && !status.is_success() {
            let now = self.account().await;
            if now != self.baseline {
                wrong.push(format!(
                    "refused with {status}, yet the account changed:\nbefore {}\nafter  {}",
                    cut(&self.baseline.to_string()),
                    cut(&now.to_string())
                ));
                self.baseline = now;
            }
        }
        for w in wrong {
            self.failures.push(format!("{}\n  -> {w}", case.describe(&base)));
        }
    }
}

/// A browser sign-in: the session and CSRF cookies' values.
async fn cookie_session(system: &TestSystem, upn: &str, password: &str) -> (String, String) {
    let response = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header(MODE_HEADER, "cookie")
        .json(&json!({ "username": upn, "password": password }))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::OK, "a browser sign-in");
    let cookie = |name: &str| {
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()?
                    .strip_prefix(&format!("{name}="))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("the sign-in sets {name}"))
    };
    (cookie(SESSION_COOKIE), cookie(CSRF_COOKIE))
}

/// Times of last use and the like change without any request of the sweep.
fn forget_moving_parts(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.retain(|key, _| {
                !matches!(
                    key.as_str(),
                    "lastActivity" | "lastActivityAt" | "lastUsedAt" | "expiresAt"
                )
            });
            object.values_mut().for_each(forget_moving_parts);
        }
        Value::Array(items) => items.iter_mut().for_each(forget_moving_parts),
        _ => {}
    }
}

#[tokio::test]
async fn generated_input_never_gets_a_server_error_or_an_undocumented_answer_and_a_refusal_changes_nothing() {
    let seed = std::env::var("SWEEP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let started = Instant::now();
    let system = TestSystem::spawn().await;
    let document = system.published_document().await;

    // A person signed in with a second factor (so step-up operations reach their validation),
    // with a device; another person with a device of their own.
    let person = system.create_user().await;
    let first = system.sign_in_ok(&person).await;
    let (app, step, method_id): (AuthenticatorApp, u64, String) =
        system.add_authenticator_app(&first.access_token).await;
    let signed_in = system.sign_in_with_code(&person, &app.code(step + 1)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let signed_in: Value = signed_in.json().await.expect("json");
    let token = signed_in["accessToken"].as_str().expect("accessToken").to_owned();
    let device = system.register_device(&token, "Laptop", "laptop").await;
    let stranger = system.create_user().await;
    let strangers = system.sign_in_ok(&stranger).await;
    let strangers_device = system
        .register_device(&strangers.access_token, "Their phone", "phone")
        .await;
    let strangers_cookies = cookie_session(&system, &stranger.upn, &stranger.password).await;
    let mut forged = token.clone();
    let last = forged.pop().map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    forged.push(last);

    let mut sweep = Sweep {
        system: &system,
        document: document.clone(),
        rng: StdRng::seed_from_u64(seed),
        seed,
        token,
        forged,
        strangers_cookies,
        baseline: Value::Null,
        known_ids: vec![device, method_id, strangers_device],
        failures: Vec::new(),
        sent: 0,
        answers: std::collections::BTreeMap::new(),
    };
    sweep.baseline = sweep.account().await;

    let mut operations = 0;
    for (template, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            operations += 1;
            for case in sweep.cases(&method, template, operation) {
                sweep.run(case).await;
            }
        }
    }

    println!(
        "sweep: seed {}, {} operations, {} requests, {} failures, {:.1?}",
        sweep.seed,
        operations,
        sweep.sent,
        sweep.failures.len(),
        started.elapsed()
    );
    let mut summary: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    for ((operation, status), count) in &sweep.answers {
        summary.entry(operation).or_default().push(format!("{status}×{count}"));
    }
    for (operation, answers) in summary {
        println!("  {operation}: {}", answers.join(" "));
    }
    assert!(operations >= 40, "the document lists every operation ({operations})");
    let failures = &sweep.failures;
    assert!(
        failures.is_empty(),
        "{} of {} generated requests were answered wrongly (seed {}; SWEEP_SEED={} reproduces):\n\n{}",
        failures.len(),
        sweep.sent,
        sweep.seed,
        sweep.seed,
        failures.iter().take(REPORTED).cloned().collect::<Vec<_>>().join("\n\n")
    );
}
