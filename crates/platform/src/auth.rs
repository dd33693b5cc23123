//! Access tokens: the claims, Ed25519 signing keys (identity signs, everyone verifies), a JWKS
//! cache that refreshes on an unknown `kid`, and the tower layer that verifies the bearer token
//! on every gRPC call and hands the [`Caller`] to the handler. The subject always comes from the
//! token, never from the request body.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use futures::future::BoxFuture;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use tonic::Status;
use uuid::Uuid;

use crate::config::{ConfigError, Env};
use crate::revocation::RevocationSet;
use crate::tls::ClientTls;
use crate::verified_tokens::VerifiedTokens;
use crate::workload::{WORKLOAD_TOKEN_METADATA, WorkloadError, WorkloadVerifier};

/// Scope carried by tokens of users with the admin role.
pub const ADMIN_SCOPE: &str = "myaccount.admin";

/// Scope of the token a sign-in answers when the organization requires multi-factor
/// authentication and the person has no second factor yet ("more information required"). Its
/// only powers are registering a first method and finishing that sign-in: the auth layer
/// refuses it (`UNAUTHENTICATED`) on every method not listed with
/// [`AuthLayer::allow_mfa_registration`].
pub const MFA_REGISTRATION_SCOPE: &str = "myaccount.mfa_registration";

/// The `amr` value that says two or more factors were used (RFC 8176).
pub const MFA_AMR: &str = "mfa";

/// The `amr` of a session opened with an app password. RFC 8176 registers no value for it (its
/// "pwd" is the account password), so this one is MyAccount's own, in the registry's style.
pub const APP_PASSWORD_AMR: &str = "app_pwd";

/// The narrow scope of an app password's tokens: read what the account holds, change nothing.
pub const READ_ONLY_SCOPE: &str = "myaccount.read";

/// The claims of a MyAccount access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Home organization id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub auth_time: i64,
    /// RFC 8176 authentication method references ("pwd", "otp", "mfa", ...).
    #[serde(default)]
    pub amr: Vec<String>,
    /// Space-separated scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Who is calling, as proven by a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub organization_id: Option<String>,
    pub auth_time: DateTime<Utc>,
    /// When the token was issued (`iat`): a revocation of all of a person's sessions refuses
    /// the tokens issued up to it.
    pub issued_at: DateTime<Utc>,
    pub amr: Vec<String>,
    pub scopes: Vec<String>,
    /// Whether this process knew every revocation up to a moment ago when it let the call in.
    pub revocations_current: bool,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.scopes.iter().any(|s| s == ADMIN_SCOPE)
    }

    pub fn require_admin(&self) -> Result<(), Status> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "this operation needs the {ADMIN_SCOPE} scope"
            )))
        }
    }

    /// Whether this admin may act on what belongs to `organization_id` (its settings, people,
    /// devices, sign-ins): an admin of that organization, the token's (identity gives the admin
    /// scope to home-organization sessions only), or the installation's operator, an admin
    /// token naming no organization (the bootstrap admin, who creates organizations and their
    /// first people). Another organization's things are to be answered NOT_FOUND, so their
    /// existence does not leak.
    pub fn may_administer(&self, organization_id: &str) -> bool {
        self.is_admin()
            && match self.organization_id.as_deref().filter(|o| !o.is_empty()) {
                Some(own) => own.eq_ignore_ascii_case(organization_id.trim()),
                None => true,
            }
    }

    /// The rule of every admin action: the admin scope (`PERMISSION_DENIED` otherwise) and a
    /// multi-factor sign-in no older than `max_age` (`REAUTHENTICATION_REQUIRED` otherwise).
    /// Check [`Caller::may_administer`] between the two, so nobody is sent to sign in again for
    /// something they may not do anyway.
    pub fn require_admin_step_up(&self, max_age: Duration) -> Result<(), Status> {
        self.require_admin()?;
        self.require_recent_mfa(max_age)
    }

    /// A token of an interrupted sign-in that may only register a first method.
    pub fn is_mfa_registration(&self) -> bool {
        self.scopes.iter().any(|s| s == MFA_REGISTRATION_SCOPE)
    }

    /// Whether the token says a second factor was used (`amr` contains "mfa").
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().any(|m| m == MFA_AMR)
    }

    /// Whether the token may only read: an app password's session (its `amr` or its scope
    /// says so). Such a caller changes nothing and never satisfies a step-up.
    pub fn is_read_only(&self) -> bool {
        self.amr.iter().any(|m| m == APP_PASSWORD_AMR) || self.scopes.iter().any(|s| s == READ_ONLY_SCOPE)
    }

    /// Refuses a read-only caller (see [`Caller::is_read_only`]): `PERMISSION_DENIED` with
    /// reason `INTERACTIVE_SIGN_IN_REQUIRED`.
    pub fn require_interactive(&self) -> Result<(), Status> {
        if self.is_read_only() {
            Err(read_only_refusal())
        } else {
            Ok(())
        }
    }

    /// The step-up rule for sensitive changes: a multi-factor sign-in no older than `max_age`.
    /// Otherwise `PERMISSION_DENIED` with reason `REAUTHENTICATION_REQUIRED`.
    pub fn require_recent_mfa(&self, max_age: Duration) -> Result<(), Status> {
        self.require_interactive()?;
        if self.has_mfa() && self.signed_in_within(max_age) {
            Ok(())
        } else {
            Err(crate::error::reauthentication_required(format!(
                "this change needs a recent sign-in with a second factor (within {} minutes); sign in again with your password and a second factor",
                max_age.as_secs().div_ceil(60)
            )))
        }
    }

    /// As [`Caller::require_recent_mfa`] for a person who has no second factor yet: any sign-in
    /// no older than `max_age`.
    pub fn require_recent_sign_in(&self, max_age: Duration) -> Result<(), Status> {
        // An app password is no sign-in: its `auth_time` is fresh whenever an app connects.
        self.require_interactive()?;
        if self.signed_in_within(max_age) {
            Ok(())
        } else {
            Err(crate::error::reauthentication_required(format!(
                "this change needs a recent sign-in (within {} minutes); sign in again",
                max_age.as_secs().div_ceil(60)
            )))
        }
    }

    fn signed_in_within(&self, max_age: Duration) -> bool {
        let age = Utc::now().signed_duration_since(self.auth_time);
        chrono::Duration::from_std(max_age).is_ok_and(|max| age <= max)
    }

    /// For the sensitive operations (reveal a recovery key, change security info or the
    /// password, export, delete the account, leave an organization): `UNAVAILABLE` with reason
    /// `REVOCATION_STATUS_UNKNOWN` while this process cannot know that the token is not revoked.
    pub fn require_current_revocations(&self) -> Result<(), Status> {
        if self.revocations_current {
            Ok(())
        } else {
            Err(crate::error::revocation_status_unknown())
        }
    }

    /// Why `revocations` refuses this caller's token, if it does.
    pub fn refused_by(&self, revocations: &RevocationSet) -> Option<crate::revocation::RevocationReason> {
        revocations.refusal(self.user_id, self.session_id, self.issued_at)
    }

    /// The caller the auth layer attached to a request; `UNAUTHENTICATED` when there is none.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Caller, Status> {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("an access token is required"))
    }

    /// As [`Caller::of`], for a sensitive operation: also refused while this process cannot
    /// know that the token was not revoked (see [`Caller::require_current_revocations`]).
    pub fn of_sensitive<T>(request: &tonic::Request<T>) -> Result<Caller, Status> {
        let caller = Self::of(request)?;
        caller.require_current_revocations()?;
        Ok(caller)
    }

    fn from_claims(claims: Claims) -> Result<Self, AuthError> {
        let user_id = Uuid::parse_str(&claims.sub).map_err(|_| AuthError::Invalid("sub is not a user id".into()))?;
        let session_id = claims
            .sid
            .as_deref()
            .map(Uuid::parse_str)
            .transpose()
            .map_err(|_| AuthError::Invalid("sid is not a session id".into()))?;
        let auth_time = DateTime::from_timestamp(claims.auth_time, 0)
            .ok_or_else(|| AuthError::Invalid("auth_time out of range".into()))?;
        let issued_at =
            DateTime::from_timestamp(claims.iat, 0).ok_or_else(|| AuthError::Invalid("iat out of range".into()))?;
        Ok(Caller {
            user_id,
            session_id,
            organization_id: claims.org,
            auth_time,
            issued_at,
            amr: claims.amr,
            scopes: claims
                .scope
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            // The auth layer says otherwise when it has a revocation feed that is behind.
            revocations_current: true,
        })
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("an access token is required")]
    Missing,
    #[error("the authorization header must be \"Bearer <token>\"")]
    MalformedHeader,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token was signed by an unknown key")]
    UnknownKey,
    #[error("the access token is invalid: {0}")]
    Invalid(String),
    #[error("token signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

impl From<AuthError> for Status {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::KeysUnavailable(_) => Status::unavailable(e.to_string()),
            _ => Status::unauthenticated(e.to_string()),
        }
    }
}

/// An Ed25519 token-signing key with its key id.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key: ed25519_dalek::SigningKey,
    encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn generate() -> Self {
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let kid = Uuid::now_v7().simple().to_string();
        Self::from_key(kid, key)
    }

    pub fn from_secret(kid: impl Into<String>, secret: &[u8]) -> Result<Self, AuthError> {
        let secret: [u8; 32] = secret
            .try_into()
            .map_err(|_| AuthError::Invalid("an Ed25519 secret is 32 bytes".into()))?;
        Ok(Self::from_key(
            kid.into(),
            ed25519_dalek::SigningKey::from_bytes(&secret),
        ))
    }

    fn from_key(kid: String, key: ed25519_dalek::SigningKey) -> Self {
        // PKCS#8 encoding of an in-memory Ed25519 key cannot fail.
        let der = key.to_pkcs8_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
        Self {
            kid,
            encoding: EncodingKey::from_ed_der(&der),
            key,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes()),
            }),
        }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| AuthError::Invalid(e.to_string()))
    }
}

/// Where the verifier gets the public keys from.
pub trait JwksSource: Send + Sync + 'static {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, String>>;
}

/// JWKS fetched over HTTP (identity's `/.well-known/jwks.json`, or an external OIDC issuer's).
pub struct HttpJwks {
    url: String,
    client: reqwest::Client,
}

impl HttpJwks {
    /// Fetches with `client` (one that trusts the CA of an `https://` URL).
    pub fn with_client(url: impl Into<String>, client: reqwest::Client) -> Self {
        Self {
            url: url.into(),
            client,
        }
    }

    pub fn new(url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            url: url.into(),
            client,
        }
    }
}

impl JwksSource for HttpJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, String>> {
        Box::pin(async move {
            let response = self
                .client
                .get(&self.url)
                .send()
                .await
                .map_err(|e| format!("GET {}: {e}", self.url))?;
            if !response.status().is_success() {
                return Err(format!("GET {}: status {}", self.url, response.status()));
            }
            response
                .json::<JwkSet>()
                .await
                .map_err(|e| format!("GET {}: not a JWK set: {e}", self.url))
        })
    }
}

/// A fixed key set (tests, or a process that holds the keys itself).
pub struct StaticJwks(pub JwkSet);

impl JwksSource for StaticJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, String>> {
        let keys = self.0.clone();
        Box::pin(async move { Ok(keys) })
    }
}

/// The clock skew a verifier allows on `exp` by default.
pub const VERIFIER_LEEWAY: Duration = Duration::from_secs(30);
/// The shortest time between two JWKS fetches of a verifier (an unknown `kid` fetches at once
/// unless the last fetch was this recent). The issuer publishes a new key at least this long
/// before it signs with it.
pub const VERIFIER_MIN_REFETCH: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct VerifierSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    pub leeway: Duration,
    /// Cached keys are refetched after this long even when every `kid` is known.
    pub cache_ttl: Duration,
    /// An unknown `kid` refetches at most this often (a flood of forged tokens cannot hammer
    /// the issuer).
    pub min_refresh_interval: Duration,
    /// What an `https://` JWKS_URL is verified with (`GRPC_TLS_CA_FILE`).
    pub tls: ClientTls,
}

impl VerifierSettings {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: jwks_url.into(),
            leeway: VERIFIER_LEEWAY,
            cache_ttl: Duration::from_secs(600),
            min_refresh_interval: VERIFIER_MIN_REFETCH,
            tls: ClientTls::default(),
        }
    }

    /// `TOKEN_ISSUER`, `TOKEN_AUDIENCE`, `JWKS_URL`, `GRPC_TLS_CA_FILE`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let jwks_url: String = env.or("JWKS_URL", "http://127.0.0.1:51051/.well-known/jwks.json".to_owned())?;
        if !(jwks_url.starts_with("http://") || jwks_url.starts_with("https://")) {
            return Err(ConfigError::new("JWKS_URL", "must be an http(s) URL"));
        }
        let tls = ClientTls::from_env(env)?;
        // Builds the HTTPS client once now, so a CA it cannot use stops the start.
        tls.http_client(JWKS_FETCH_TIMEOUT)?;
        Ok(Self {
            tls,
            ..Self::new(
                env.or("TOKEN_ISSUER", DEFAULT_ISSUER.to_owned())?,
                env.or("TOKEN_AUDIENCE", DEFAULT_AUDIENCE.to_owned())?,
                jwks_url,
            )
        })
    }
}

/// How long one JWKS fetch may take.
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub const DEFAULT_ISSUER: &str = "myaccount";
pub const DEFAULT_AUDIENCE: &str = "myaccount";

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies access tokens against a cached JWKS.
pub struct TokenVerifier {
    source: Box<dyn JwksSource>,
    settings: VerifierSettings,
    cache: RwLock<KeyCache>,
    /// Tokens already verified, so the next call with the same token skips the signature.
    verified: VerifiedTokens<Caller>,
}

impl TokenVerifier {
    pub fn new(settings: VerifierSettings, source: impl JwksSource) -> Self {
        Self {
            source: Box::new(source),
            settings,
            cache: RwLock::new(KeyCache {
                keys: HashMap::new(),
                fetched_at: None,
            }),
            verified: VerifiedTokens::default(),
        }
    }

    /// A verifier that fetches keys from `settings.jwks_url`.
    pub fn from_settings(settings: VerifierSettings) -> Self {
        let source = match settings.tls.http_client(JWKS_FETCH_TIMEOUT) {
            Ok(client) => HttpJwks::with_client(settings.jwks_url.clone(), client),
            // `from_env` built this client once already; settings made in code may not have.
            Err(e) => {
                tracing::error!(error = %e, "JWKS client without the configured CA");
                HttpJwks::new(settings.jwks_url.clone())
            }
        };
        Self::new(settings, source)
    }

    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid("not a JWT".into()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("the token has no kid".into()))?;
        // Asked first even for a token verified before: a remembered verification counts only
        // while the key that signed it is still published (and the keys are refreshed on time).
        let key = self.key(&kid).await?;
        if let Some(caller) = self.verified.get(token) {
            return Ok(caller);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.settings.leeway.as_secs();
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
            jsonwebtoken::errors::ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
            jsonwebtoken::errors::ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
            _ => AuthError::Invalid("malformed claims".into()),
        })?;
        let expires_at = data.claims.exp;
        let caller = Caller::from_claims(data.claims)?;
        self.verified.remember(token, expires_at, caller.clone());
        Ok(caller)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched_at.is_some_and(|t| t.elapsed() < self.settings.cache_ttl);
            if fresh && let Some(key) = cache.keys.get(kid) {
                return Ok(key.clone());
            }
        }
        let mut cache = self.cache.write().await;
        let may_refresh = cache
            .fetched_at
            .is_none_or(|t| t.elapsed() >= self.settings.min_refresh_interval);
        if may_refresh {
            match self.source.fetch().await {
                Ok(set) => {
                    let keys = decoding_keys(&set);
                    if !same_key_ids(&keys, &cache.keys) {
                        // A key withdrawn from the JWKS takes its tokens' verifications along.
                        self.verified.forget_all();
                    }
                    cache.keys = keys;
                    cache.fetched_at = Some(Instant::now());
                }
                // Keep serving with the keys we have; fail only if we have none.
                Err(e) if cache.keys.is_empty() => return Err(AuthError::KeysUnavailable(e)),
                Err(e) => tracing::warn!(error = %e, "JWKS refresh failed; using cached keys"),
            }
        }
        cache.keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
    }
}

fn same_key_ids(a: &HashMap<String, DecodingKey>, b: &HashMap<String, DecodingKey>) -> bool {
    a.len() == b.len() && a.keys().all(|kid| b.contains_key(kid))
}

fn decoding_keys(set: &JwkSet) -> HashMap<String, DecodingKey> {
    set.keys
        .iter()
        .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::OctetKeyPair(_)))
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            DecodingKey::from_jwk(jwk).ok().map(|k| (kid, k))
        })
        .collect()
}

/// `message` as a gRPC request carrying `authorization: Bearer <token>`: how every caller
/// (gateway, identity's calls to security-info, the CLI, tests) presents a token.
pub fn bearer_request<T>(message: T, token: &str) -> Result<tonic::Request<T>, AuthError> {
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| AuthError::Invalid("the token contains characters a header cannot carry".into()))?;
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

/// Extracts the token from an `authorization: Bearer <token>` header value.
pub fn bearer_token(value: Option<&http::HeaderValue>) -> Result<&str, AuthError> {
    let value = value.ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::MalformedHeader);
    }
    Ok(token.trim())
}

/// Tower layer that authenticates every gRPC call except the public methods and the health and
/// reflection services. Deny by default: a method is public only if it is listed.
#[derive(Clone)]
pub struct AuthLayer {
    verifier: Arc<TokenVerifier>,
    public_methods: Arc<HashSet<String>>,
    revocations: Option<Arc<RevocationSet>>,
    /// Methods a revoked session's token may still call (signing out again is harmless).
    revoked_allowed: Arc<HashSet<String>>,
    /// The only methods an MFA registration token may call.
    registration_allowed: Arc<HashSet<String>>,
    /// Verifies the calling workload's token, when this service trusts any workload.
    workloads: Option<Arc<WorkloadVerifier>>,
    /// Methods only the named workloads may call, by path.
    required_callers: Arc<HashMap<String, Arc<[String]>>>,
    /// The workloads every other method (but health and reflection) accepts calls from, if
    /// only some.
    default_callers: Option<Arc<[String]>>,
}

impl AuthLayer {
    pub fn new(verifier: Arc<TokenVerifier>) -> Self {
        Self {
            verifier,
            public_methods: Arc::default(),
            revocations: None,
            revoked_allowed: Arc::default(),
            registration_allowed: Arc::default(),
            workloads: None,
            required_callers: Arc::default(),
            default_callers: None,
        }
    }

    /// Verifies workload tokens ([`crate::workload`]) with `workloads`: a call that presents
    /// one it does not accept is refused (`UNAUTHENTICATED`), whatever the method.
    pub fn with_workloads(mut self, workloads: Arc<WorkloadVerifier>) -> Self {
        self.workloads = Some(workloads);
        self
    }

    /// `paths` accept calls only from one of `callers`, proven by a workload token, in addition
    /// to whatever person's token they need: `UNAUTHENTICATED` without one, `PERMISSION_DENIED`
    /// from another workload. Deny by default: without [`AuthLayer::with_workloads`] nobody
    /// may call them.
    pub fn require_caller(mut self, paths: &[&str], callers: &[&str]) -> Self {
        let required = Arc::make_mut(&mut self.required_callers);
        for path in paths {
            required.insert((*path).to_owned(), callers.iter().map(|c| (*c).to_owned()).collect());
        }
        self
    }

    /// Every method not given its own callers ([`AuthLayer::require_caller`]) accepts calls
    /// only from one of `callers`, proven by a workload token, in addition to whatever person's
    /// token it needs; health and reflection stay open to probes. A person's token alone, taken
    /// straight to a service, is refused, so nobody goes around the gateway's limits.
    pub fn require_caller_everywhere(mut self, callers: &[&str]) -> Self {
        self.default_callers = Some(callers.iter().map(|c| (*c).to_owned()).collect());
        self
    }

    /// Internal methods: `paths` are called by one of `callers` alone, on no person's token
    /// (identity asking security-info about a person's second factors during a sign-in).
    pub fn internal(mut self, paths: &[&str], callers: &[&str]) -> Self {
        Arc::make_mut(&mut self.public_methods).extend(paths.iter().map(|p| (*p).to_owned()));
        self.require_caller(paths, callers)
    }

    /// Methods an MFA registration token ([`MFA_REGISTRATION_SCOPE`]) may call; it is refused
    /// everywhere else. Deny by default: a service that lists none accepts no such token.
    pub fn allow_mfa_registration(mut self, paths: &[&str]) -> Self {
        self.registration_allowed = Arc::new(paths.iter().map(|p| (*p).to_owned()).collect());
        self
    }

    /// Methods whose callers are let in even when their session was revoked (a verified token
    /// still): ending one's own ended session again is harmless and must not fail.
    pub fn allow_revoked(mut self, paths: &[&str]) -> Self {
        self.revoked_allowed = Arc::new(paths.iter().map(|p| (*p).to_owned()).collect());
        self
    }

    /// Refuses tokens that `revocations` names, and tells handlers whether it is current.
    pub fn with_revocations(mut self, revocations: Arc<RevocationSet>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Methods callable without a person's token, as gRPC paths:
    /// `/myaccount.identity.v1.IdentityService/SignIn`.
    pub fn allow_anonymous(mut self, paths: &[&str]) -> Self {
        Arc::make_mut(&mut self.public_methods).extend(paths.iter().map(|p| (*p).to_owned()));
        self
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
            public_methods: self.public_methods.clone(),
            revocations: self.revocations.clone(),
            revoked_allowed: self.revoked_allowed.clone(),
            registration_allowed: self.registration_allowed.clone(),
            workloads: self.workloads.clone(),
            required_callers: self.required_callers.clone(),
            default_callers: self.default_callers.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: Arc<TokenVerifier>,
    public_methods: Arc<HashSet<String>>,
    revocations: Option<Arc<RevocationSet>>,
    revoked_allowed: Arc<HashSet<String>>,
    registration_allowed: Arc<HashSet<String>>,
    workloads: Option<Arc<WorkloadVerifier>>,
    required_callers: Arc<HashMap<String, Arc<[String]>>>,
    default_callers: Option<Arc<[String]>>,
}

/// Which workload calls, when the call carries a workload token and this service verifies
/// them; a token that does not verify is the refusal. A service that trusts no workload ignores
/// the entry: nothing there depends on it.
fn calling_workload(
    workloads: Option<&WorkloadVerifier>,
    value: Option<&http::HeaderValue>,
) -> Result<Option<crate::workload::CallingWorkload>, WorkloadError> {
    let (Some(workloads), Some(value)) = (workloads, value) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .map_err(|_| WorkloadError::Invalid("the metadata entry is not text".into()))?;
    workloads.verify(token).map(Some)
}

/// The refusal of a call to a method reserved for `allowed` workloads, if it is one.
fn caller_refusal(
    path: &str,
    allowed: Option<&[String]>,
    workload: Option<&crate::workload::CallingWorkload>,
) -> Option<Status> {
    let allowed = allowed?;
    let method = path.rsplit('/').next().unwrap_or(path);
    let names = allowed.join(" or ");
    match workload {
        None => Some(Status::unauthenticated(format!(
            "{method} accepts calls only from the {names} workload: present its workload token in the {WORKLOAD_TOKEN_METADATA} metadata"
        ))),
        Some(w) if !allowed.contains(&w.name) => Some(Status::permission_denied(format!(
            "{method} accepts calls only from the {names} workload, not from {}",
            w.name
        ))),
        Some(_) => None,
    }
}

fn read_only_refusal() -> Status {
    crate::error::interactive_sign_in_required(
        "a session opened with an app password can only read; sign in with your password to make this change",
    )
}

/// What a read-only token (an app password's) may call: reads only, by the verb every RPC name
/// starts with (`GetMyProfile`, `ListMySignIns`, `DescribeMyPersonalData`), and ending its own
/// session (`own_session_end`: the methods a revoked token may still call). Deny by default: a
/// new RPC with any other verb is refused to it without anyone having to remember.
fn read_only_may_call(path: &str, own_session_end: bool) -> bool {
    let method = path.rsplit('/').next().unwrap_or_default();
    own_session_end || ["Get", "List", "Describe"].iter().any(|verb| method.starts_with(verb))
}

const INFRASTRUCTURE_SERVICES: [&str; 3] = ["/grpc.health.v1.", "/grpc.reflection.v1.", "/grpc.reflection.v1alpha."];

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready serves this call; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let revocations = self.revocations.clone();
        let path = request.uri().path().to_owned();
        let revoked_allowed = self.revoked_allowed.contains(&path);
        let registration_allowed = self.registration_allowed.contains(&path);
        let infrastructure = INFRASTRUCTURE_SERVICES.iter().any(|p| path.starts_with(p));
        let public = infrastructure || self.public_methods.contains(&path);
        let workload = calling_workload(
            self.workloads.as_deref(),
            request.headers().get(WORKLOAD_TOKEN_METADATA),
        );
        // Health and reflection answer probes, which carry no token.
        let allowed_callers = match self.required_callers.get(&path) {
            Some(callers) => Some(callers.clone()),
            None if !infrastructure => self.default_callers.clone(),
            None => None,
        };
        Box::pin(async move {
            // Which workload calls is settled before the person: it is cheaper, and a method
            // reserved for another workload is refused whoever the person is.
            let workload = match workload {
                Ok(workload) => workload,
                Err(e) => return Ok(Status::from(e).into_http()),
            };
            if let Some(refusal) = caller_refusal(&path, allowed_callers.as_deref(), workload.as_ref()) {
                return Ok(refusal.into_http());
            }
            if let Some(workload) = workload {
                request.extensions_mut().insert(workload);
            }
            if !public {
                let verified = match bearer_token(request.headers().get(http::header::AUTHORIZATION)) {
                    Ok(token) => verifier.verify(token).await,
                    Err(e) => Err(e),
                };
                match verified {
                    Ok(mut caller) => {
                        if caller.is_read_only() && !read_only_may_call(&path, revoked_allowed) {
                            return Ok(read_only_refusal().into_http());
                        }
                        if caller.is_mfa_registration() && !registration_allowed {
                            return Ok(Status::unauthenticated(
                                "this token only registers a first sign-in method and finishes that sign-in; finish signing in first",
                            )
                            .into_http());
                        }
                        if let Some(revocations) = &revocations {
                            if let Some(reason) = revocations
                                .refusal(caller.user_id, caller.session_id, caller.issued_at)
                                .filter(|_| !revoked_allowed)
                            {
                                metrics::counter!("auth_revoked_tokens_refused_total").increment(1);
                                return Ok(crate::error::revoked_status(reason).into_http());
                            }
                            caller.revocations_current = revocations.is_current();
                        }
                        request.extensions_mut().insert(caller);
                    }
                    Err(e) => return Ok(Status::from(e).into_http()),
                }
            }
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(key_ttl: i64) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            iss: DEFAULT_ISSUER.into(),
            aud: DEFAULT_AUDIENCE.into(),
            sub: Uuid::new_v4().to_string(),
            exp: now + key_ttl,
            iat: now,
            jti: Uuid::new_v4().to_string(),
            sid: Some(Uuid::new_v4().to_string()),
            org: None,
            auth_time: now,
            amr: vec!["pwd".into()],
            scope: None,
        }
    }

    fn verifier_for(keys: &[&SigningKey]) -> TokenVerifier {
        let set = JwkSet {
            keys: keys.iter().map(|k| k.public_jwk()).collect(),
        };
        TokenVerifier::new(
            VerifierSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE, "http://unused"),
            StaticJwks(set),
        )
    }

    #[tokio::test]
    async fn accepts_a_token_signed_by_a_published_key() {
        let key = SigningKey::generate();
        let c = claims(300);
        let token = key.sign(&c).unwrap();
        let caller = verifier_for(&[&key]).verify(&token).await.unwrap();
        assert_eq!(caller.user_id.to_string(), c.sub);
        assert_eq!(caller.amr, vec!["pwd".to_string()]);
        assert!(!caller.is_admin());
    }

    #[tokio::test]
    async fn rejects_expired_forged_and_unknown_key_tokens() {
        let key = SigningKey::generate();
        let other = SigningKey::generate();
        let verifier = verifier_for(&[&key]);
        assert_eq!(
            verifier.verify(&key.sign(&claims(-120)).unwrap()).await,
            Err(AuthError::Expired)
        );
        assert_eq!(
            verifier.verify(&other.sign(&claims(300)).unwrap()).await,
            Err(AuthError::UnknownKey)
        );
        // Same kid, different key: a forgery.
        let forger = SigningKey::from_key(
            key.kid().to_owned(),
            ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
        );
        assert!(matches!(
            verifier.verify(&forger.sign(&claims(300)).unwrap()).await,
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(verifier.verify("not.a.jwt").await, Err(AuthError::Invalid(_))));
    }

    /// A JWKS whose keys the test changes, as an issuer rotating its keys would.
    #[derive(Clone, Default)]
    struct RotatingJwks(Arc<std::sync::Mutex<JwkSet>>);

    impl JwksSource for RotatingJwks {
        fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, String>> {
            let set = self.0.lock().map(|s| s.clone()).map_err(|e| e.to_string());
            Box::pin(async move { set })
        }
    }

    #[tokio::test]
    async fn a_verified_token_is_remembered_only_while_its_key_is_published() {
        let key = SigningKey::generate();
        let successor = SigningKey::generate();
        let jwks = RotatingJwks::default();
        *jwks.0.lock().unwrap() = JwkSet {
            keys: vec![key.public_jwk()],
        };
        let settings = VerifierSettings {
            // Every verification asks the JWKS again, so the test sees a rotation at once.
            cache_ttl: Duration::ZERO,
            min_refresh_interval: Duration::ZERO,
            ..VerifierSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE, "http://unused")
        };
        let verifier = TokenVerifier::new(settings, jwks.clone());
        let token = key.sign(&claims(300)).unwrap();

        let first = verifier.verify(&token).await.unwrap();
        assert_eq!(verifier.verified.len(), 1);
        assert_eq!(verifier.verify(&token).await.unwrap(), first, "answered from memory");

        // The same token with its signature altered is a different text: checked, and refused.
        let signature_at = token.rfind('.').unwrap() + 10;
        let mut tampered = token.clone().into_bytes();
        tampered[signature_at] = if tampered[signature_at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(matches!(verifier.verify(&tampered).await, Err(AuthError::Invalid(_))));

        // The issuer withdraws the key: what it signed is refused, remembered or not.
        *jwks.0.lock().unwrap() = JwkSet {
            keys: vec![successor.public_jwk()],
        };
        assert_eq!(verifier.verify(&token).await, Err(AuthError::UnknownKey));
        assert!(verifier.verified.is_empty(), "a new key set forgets every verification");
    }

    #[tokio::test]
    async fn rejects_wrong_audience() {
        let key = SigningKey::generate();
        let mut c = claims(300);
        c.aud = "someone-else".into();
        let err = verifier_for(&[&key]).verify(&key.sign(&c).unwrap()).await.unwrap_err();
        assert_eq!(err, AuthError::Invalid("wrong audience".into()));
    }

    #[test]
    fn step_up_needs_mfa_and_a_recent_sign_in() {
        let fresh_mfa = Caller {
            user_id: Uuid::new_v4(),
            session_id: None,
            organization_id: None,
            auth_time: Utc::now(),
            issued_at: Utc::now(),
            amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
            scopes: vec![],
            revocations_current: true,
        };
        let ten_minutes = Duration::from_secs(600);
        assert!(fresh_mfa.require_recent_mfa(ten_minutes).is_ok());
        let password_only = Caller {
            amr: vec!["pwd".into()],
            ..fresh_mfa.clone()
        };
        let stale = Caller {
            auth_time: Utc::now() - chrono::Duration::minutes(11),
            ..fresh_mfa.clone()
        };
        for caller in [password_only.clone(), stale.clone()] {
            let status = caller.require_recent_mfa(ten_minutes).unwrap_err();
            assert_eq!(status.code(), tonic::Code::PermissionDenied);
            assert!(crate::error::is_reauthentication_required(&status), "{status:?}");
        }
        assert!(password_only.require_recent_sign_in(ten_minutes).is_ok());
        assert!(stale.require_recent_sign_in(ten_minutes).is_err());
    }

    #[test]
    fn an_app_password_session_reads_only_and_never_steps_up() {
        let app_password = Caller {
            user_id: Uuid::new_v4(),
            session_id: None,
            organization_id: None,
            auth_time: Utc::now(),
            issued_at: Utc::now(),
            amr: vec![APP_PASSWORD_AMR.into()],
            scopes: vec![READ_ONLY_SCOPE.into()],
            revocations_current: true,
        };
        assert!(app_password.is_read_only());
        let ten_minutes = Duration::from_secs(600);
        for refusal in [
            app_password.require_recent_sign_in(ten_minutes),
            app_password.require_recent_mfa(ten_minutes),
            app_password.require_interactive(),
        ] {
            let status = refusal.unwrap_err();
            assert!(crate::error::is_interactive_sign_in_required(&status), "{status:?}");
        }
        // The scope alone is enough, whatever the amr says.
        let scoped = Caller {
            amr: vec!["pwd".into()],
            ..app_password.clone()
        };
        assert!(scoped.is_read_only());

        for read in [
            "/myaccount.identity.v1.IdentityService/GetMyProfile",
            "/myaccount.audit.v1.AuditService/ListMySignIns",
            "/myaccount.devices.v1.DevicesService/DescribeMyPersonalData",
        ] {
            assert!(read_only_may_call(read, false), "{read}");
        }
        for change in [
            "/myaccount.securityinfo.v1.SecurityInfoService/CreateAppPassword",
            "/myaccount.devices.v1.DevicesService/RevealRecoveryKey",
            "/myaccount.identity.v1.IdentityService/Reauthenticate",
            "/myaccount.identity.v1.IdentityService/ExportMyData",
            "/myaccount.identity.v1.IdentityService/SignOutEverywhere",
        ] {
            assert!(!read_only_may_call(change, false), "{change}");
        }
        assert!(
            read_only_may_call("/myaccount.identity.v1.IdentityService/SignOut", true),
            "ending its own session"
        );
    }

    #[test]
    fn an_admin_administers_their_own_organization_only() {
        let own = Uuid::new_v4().to_string();
        let admin = Caller {
            user_id: Uuid::new_v4(),
            session_id: None,
            organization_id: Some(own.clone()),
            auth_time: Utc::now(),
            issued_at: Utc::now(),
            amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
            scopes: vec![ADMIN_SCOPE.into()],
            revocations_current: true,
        };
        assert!(admin.may_administer(&own));
        assert!(admin.may_administer(&own.to_uppercase()));
        assert!(!admin.may_administer(&Uuid::new_v4().to_string()));
        let operator = Caller {
            organization_id: None,
            ..admin.clone()
        };
        assert!(operator.may_administer(&Uuid::new_v4().to_string()));
        let member = Caller {
            scopes: vec![],
            ..admin.clone()
        };
        assert!(!member.may_administer(&own));
        let ten_minutes = Duration::from_secs(600);
        assert!(admin.require_admin_step_up(ten_minutes).is_ok());
        let password_only = Caller {
            amr: vec!["pwd".into()],
            ..admin.clone()
        };
        let refusal = password_only.require_admin_step_up(ten_minutes).unwrap_err();
        assert!(crate::error::is_reauthentication_required(&refusal), "{refusal:?}");
        let refusal = member.require_admin_step_up(ten_minutes).unwrap_err();
        assert_eq!(refusal.code(), tonic::Code::PermissionDenied);
        assert!(!crate::error::is_reauthentication_required(&refusal));
    }

    #[test]
    fn an_access_token_is_no_workload_token() {
        let key = SigningKey::generate();
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: crate::workload::GATEWAY.into(),
            aud: crate::workload::IDENTITY.into(),
            sub: crate::workload::GATEWAY.into(),
            exp: now + 60,
            iat: now,
            jti: Uuid::new_v4().to_string(),
            sid: None,
            org: None,
            auth_time: now,
            amr: vec![],
            scope: None,
        };
        let token = key.sign(&claims).unwrap();
        let gateway = crate::workload::WorkloadKey::generate(crate::workload::GATEWAY);
        let verifier = WorkloadVerifier::new(
            crate::workload::IDENTITY,
            crate::workload::TrustedCallers::new().with_key(&gateway),
        );
        assert!(matches!(verifier.verify(&token), Err(WorkloadError::Invalid(_))));
    }

    #[test]
    fn bearer_header_parsing() {
        let ok = http::HeaderValue::from_static("Bearer abc");
        assert_eq!(bearer_token(Some(&ok)), Ok("abc"));
        let basic = http::HeaderValue::from_static("Basic abc");
        assert_eq!(bearer_token(Some(&basic)), Err(AuthError::MalformedHeader));
        assert_eq!(bearer_token(None), Err(AuthError::Missing));
    }
}
