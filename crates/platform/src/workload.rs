//! Which workload is calling: service-to-service calls carry a short-lived token that the
//! calling workload (the gateway, identity) signs with an Ed25519 key only it holds, bound to
//! the one callee it is meant for. The callee verifies it with the caller's public key, which it
//! is configured with, and the auth layer ([`crate::auth::AuthLayer::require_caller`]) lets a
//! method through only when the workload it names is the one calling.
//!
//! The token travels in its own metadata entry ([`WORKLOAD_TOKEN_METADATA`]) next to the
//! person's `authorization`, so a call can say both who the person is and which workload
//! speaks for them. It is a JWT (`typ` [`WORKLOAD_TOKEN_TYPE`], `alg` EdDSA, `kid`, `iss` and
//! `sub` the caller's name, `aud` the callee's name), lives [`WORKLOAD_TOKEN_TTL`], and a
//! callee refuses one that claims to live longer than [`MAX_WORKLOAD_TOKEN_LIFETIME`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::Status;
use uuid::Uuid;

use crate::config::{ConfigError, Env};
use crate::verified_tokens::VerifiedTokens;

/// The gRPC metadata entry that carries the calling workload's token.
pub const WORKLOAD_TOKEN_METADATA: &str = "myaccount-workload-token";

/// The JWT `typ` of a workload token: never taken for a person's access token (`at+jwt`).
pub const WORKLOAD_TOKEN_TYPE: &str = "myaccount-workload+jwt";

/// How long a workload token is valid after it is signed. A caller sends the same one for half
/// of it ([`REUSE_WORKLOAD_TOKEN_FOR`]).
pub const WORKLOAD_TOKEN_TTL: Duration = Duration::from_secs(60);

/// The longest life a callee accepts from a token's `iat` to its `exp`: a token minted for
/// longer (by whoever stole a key, or a misconfigured caller) is refused.
pub const MAX_WORKLOAD_TOKEN_LIFETIME: Duration = Duration::from_secs(120);

/// Clock skew allowed between caller and callee.
const LEEWAY_SECS: u64 = 10;

/// The gateway's workload name: the only caller of every service's public methods, so a
/// person's stolen bearer token cannot reach a service around the gateway's rate limits.
pub const GATEWAY: &str = "gateway";
/// identity's workload name (and audience): the only caller of security-info's second-factor
/// checks.
pub const IDENTITY: &str = "identity";
/// security-info's workload name: the audience of the tokens its callers sign.
pub const SECURITY_INFO: &str = "security-info";
/// devices' workload name.
pub const DEVICES: &str = "devices";
/// organizations' workload name.
pub const ORGANIZATIONS: &str = "organizations";
/// audit's workload name.
pub const AUDIT: &str = "audit";
/// The Shared Signals transmitter's workload name.
pub const SIGNALS: &str = "signals";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WorkloadError {
    #[error("the workload token is not valid: {0}")]
    Invalid(String),
    #[error("the workload token has expired")]
    Expired,
    #[error("the workload token is from {0:?}, a workload this service does not trust")]
    UnknownCaller(String),
    #[error("the workload token is meant for {0:?}, not this service")]
    WrongAudience(String),
    #[error("this service trusts no calling workload")]
    NoneTrusted,
}

impl From<WorkloadError> for Status {
    fn from(e: WorkloadError) -> Self {
        Status::unauthenticated(e.to_string())
    }
}

/// The claims of a workload token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct WorkloadClaims {
    iss: String,
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// A workload's own signing key and its name. Its `Debug` shows the name and public key only.
#[derive(Clone)]
pub struct WorkloadKey {
    name: String,
    key: ed25519_dalek::SigningKey,
    encoding: EncodingKey,
}

impl std::fmt::Debug for WorkloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadKey")
            .field("name", &self.name)
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl WorkloadKey {
    /// A new random key for the workload `name`.
    pub fn generate(name: impl Into<String>) -> Self {
        Self::from_key(name.into(), ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// The key of a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey -algorithm
    /// ed25519` and `myaccount workload-keys` write it).
    pub fn from_pem(name: impl Into<String>, pem: &str) -> Result<Self, String> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != "-----BEGIN PRIVATE KEY-----")
            .skip(1)
            .take_while(|l| *l != "-----END PRIVATE KEY-----")
            .collect();
        if body.is_empty() {
            return Err("not a PEM private key (-----BEGIN PRIVATE KEY-----)".into());
        }
        let der = STANDARD
            .decode(body)
            .map_err(|_| "the PEM body is not base64".to_owned())?;
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(&der)
            .map_err(|_| "not an Ed25519 private key in PKCS#8".to_owned())?;
        Ok(Self::from_key(name.into(), key))
    }

    fn from_key(name: String, key: ed25519_dalek::SigningKey) -> Self {
        // PKCS#8 encoding of an in-memory Ed25519 key cannot fail.
        let der = key.to_pkcs8_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
        Self {
            name,
            encoding: EncodingKey::from_ed_der(&der),
            key,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key as a callee is configured with it: base64url of its 32 bytes.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }

    /// The private key as PKCS#8 PEM, for a key file.
    pub fn to_pem(&self) -> String {
        let der = self
            .key
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        let body = STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        pem
    }

    /// A token saying this workload calls `audience`, valid [`WORKLOAD_TOKEN_TTL`] from now.
    pub fn token_for(&self, audience: &str) -> Result<String, WorkloadError> {
        self.token_with(audience, Utc::now().timestamp(), WORKLOAD_TOKEN_TTL)
    }

    /// A token issued at `issued_at` (Unix seconds) that lives `ttl`: tests make expired and
    /// overlong ones with it.
    pub fn token_with(&self, audience: &str, issued_at: i64, ttl: Duration) -> Result<String, WorkloadError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.name.clone());
        header.typ = Some(WORKLOAD_TOKEN_TYPE.into());
        let claims = WorkloadClaims {
            iss: self.name.clone(),
            sub: self.name.clone(),
            aud: audience.to_owned(),
            iat: issued_at,
            exp: issued_at.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            jti: Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| WorkloadError::Invalid(e.to_string()))
    }

    /// The key file `path` of the workload `name`; a config error names `variable`.
    pub fn from_file(name: &str, path: &Path, variable: &str) -> Result<Self, ConfigError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(variable, format!("cannot read {}: {e}", path.display())))?;
        Self::from_pem(name, &pem).map_err(|reason| ConfigError::new(variable, format!("{}: {reason}", path.display())))
    }

    /// `<PREFIX>_WORKLOAD_KEY_FILE`, else `WORKLOAD_KEY_FILE`: the key of the workload `name`;
    /// `None` when neither is set.
    pub fn from_env(env: &Env, prefix: &str, name: &str) -> Result<Option<Self>, ConfigError> {
        let own = format!("{prefix}_WORKLOAD_KEY_FILE");
        let variable = if env.raw(&own).is_some() {
            own
        } else {
            "WORKLOAD_KEY_FILE".to_owned()
        };
        match env.raw(&variable) {
            Some(path) => Self::from_file(name, Path::new(path), &variable).map(Some),
            None => Ok(None),
        }
    }
}

/// The public keys of the workloads a service accepts calls from, by workload name.
#[derive(Clone, Default)]
pub struct TrustedCallers {
    keys: HashMap<String, (String, DecodingKey)>,
}

impl std::fmt::Debug for TrustedCallers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.keys.keys().collect();
        names.sort();
        f.debug_struct("TrustedCallers").field("workloads", &names).finish()
    }
}

impl TrustedCallers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `name` holding the key whose public half is `public_key` (base64url, 32 bytes).
    pub fn with(mut self, name: &str, public_key: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(public_key.trim().trim_end_matches('='))
            .map_err(|_| format!("the public key of {name:?} is not base64url"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("the public key of {name:?} is not 32 bytes (an Ed25519 public key)"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| format!("the public key of {name:?} is not an Ed25519 point"))?;
        let encoded = URL_SAFE_NO_PAD.encode(bytes);
        let decoding = DecodingKey::from_ed_components(&encoded)
            .map_err(|_| format!("the public key of {name:?} is not usable"))?;
        self.keys.insert(name.to_owned(), (encoded, decoding));
        Ok(self)
    }

    /// Trusts the holder of `key` under its name (tests and `myaccount up`).
    pub fn with_key(self, key: &WorkloadKey) -> Self {
        // A key's own public half always parses.
        let public = key.public_key();
        let name = key.name().to_owned();
        self.clone().with(&name, &public).unwrap_or(self)
    }

    /// `gateway=<public key>,identity=<public key>`: each public key base64url, or the path
    /// (starting with `/`) of a file holding it, as `myaccount workload-keys` writes them.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut trusted = Self::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, key) = entry
                .split_once('=')
                .ok_or_else(|| format!("{entry:?} is not name=<public key or /path>"))?;
            let name = name.trim();
            if name.is_empty() {
                return Err(format!("{entry:?} names no workload"));
            }
            let key = key.trim();
            let key = if key.starts_with('/') {
                std::fs::read_to_string(key).map_err(|e| format!("cannot read {key}: {e}"))?
            } else {
                key.to_owned()
            };
            trusted = trusted.with(name, &key)?;
        }
        Ok(trusted)
    }

    /// `<PREFIX>_TRUSTED_CALLERS`, else `TRUSTED_CALLERS` (see [`TrustedCallers::parse`]);
    /// empty when neither is set.
    pub fn from_env(env: &Env, prefix: &str) -> Result<Self, ConfigError> {
        let own = format!("{prefix}_TRUSTED_CALLERS");
        let variable = if env.raw(&own).is_some() {
            own
        } else {
            "TRUSTED_CALLERS".to_owned()
        };
        match env.raw(&variable) {
            Some(value) => Self::parse(value).map_err(|reason| ConfigError::new(variable, reason)),
            None => Ok(Self::new()),
        }
    }

    pub fn trusts(&self, name: &str) -> bool {
        self.keys.contains_key(name)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The workload that signed a call's valid workload token; the auth layer attaches it to the
/// request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallingWorkload {
    pub name: String,
}

impl CallingWorkload {
    /// The workload the auth layer verified for `request`, if any.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<&CallingWorkload> {
        request.extensions().get::<CallingWorkload>()
    }

    /// Whether `request` was verified as coming from `name`.
    pub fn is<T>(request: &tonic::Request<T>, name: &str) -> bool {
        Self::of(request).is_some_and(|w| w.name == name)
    }

    /// `PERMISSION_DENIED` unless `request` comes from `name` (the auth layer already refused
    /// others; handlers of internal methods say it again so no configuration can forget it).
    pub fn require<T>(request: &tonic::Request<T>, name: &str) -> Result<(), Status> {
        if Self::is(request, name) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "only the {name} workload may call this method"
            )))
        }
    }
}

/// Verifies workload tokens meant for one callee.
#[derive(Debug, Clone)]
pub struct WorkloadVerifier {
    /// This service's workload name: the audience tokens must name.
    audience: String,
    trusted: TrustedCallers,
    /// A caller reuses its token for a while ([`REUSE_WORKLOAD_TOKEN_FOR`]): checked once.
    verified: Arc<VerifiedTokens<CallingWorkload>>,
}

impl WorkloadVerifier {
    pub fn new(audience: impl Into<String>, trusted: TrustedCallers) -> Self {
        Self {
            audience: audience.into(),
            trusted,
            verified: Arc::default(),
        }
    }

    pub fn trusts(&self, name: &str) -> bool {
        self.trusted.trusts(name)
    }

    pub fn verify(&self, token: &str) -> Result<CallingWorkload, WorkloadError> {
        if self.trusted.is_empty() {
            return Err(WorkloadError::NoneTrusted);
        }
        // Every claim checked below is the token's own, fixed when it was signed; only its
        // expiry moves, and the memory forgets it then.
        if let Some(calling) = self.verified.get(token) {
            return Ok(calling);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| WorkloadError::Invalid("not a JWT".into()))?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(WORKLOAD_TOKEN_TYPE) {
            return Err(WorkloadError::Invalid(format!(
                "expected an EdDSA token of type {WORKLOAD_TOKEN_TYPE}"
            )));
        }
        let caller = header
            .kid
            .ok_or_else(|| WorkloadError::Invalid("the token names no workload (kid)".into()))?;
        let (_, key) = self
            .trusted
            .keys
            .get(&caller)
            .ok_or_else(|| WorkloadError::UnknownCaller(caller.clone()))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&caller]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<WorkloadClaims>(token, key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => WorkloadError::Expired,
            jsonwebtoken::errors::ErrorKind::InvalidSignature => WorkloadError::Invalid("bad signature".into()),
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                WorkloadError::Invalid("the issuer is not the workload that signed it".into())
            }
            jsonwebtoken::errors::ErrorKind::InvalidAudience => WorkloadError::WrongAudience(audience_of(token)),
            _ => WorkloadError::Invalid("malformed claims".into()),
        })?;
        let claims = data.claims;
        let lifetime = claims.exp.saturating_sub(claims.iat);
        let longest = i64::try_from(MAX_WORKLOAD_TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        if lifetime > longest {
            return Err(WorkloadError::Invalid(format!(
                "a workload token may live at most {longest} s"
            )));
        }
        if claims.iat > Utc::now().timestamp() + i64::try_from(LEEWAY_SECS).unwrap_or(0) {
            return Err(WorkloadError::Invalid("issued in the future".into()));
        }
        if claims.sub != caller {
            return Err(WorkloadError::Invalid(
                "the subject is not the workload that signed it".into(),
            ));
        }
        let calling = CallingWorkload { name: caller };
        self.verified.remember(token, claims.exp, calling.clone());
        Ok(calling)
    }
}

/// The audience a (signature-checked) token names, for the refusal's message.
fn audience_of(token: &str) -> String {
    token
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|claims| claims.get("aud").and_then(|a| a.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// How long a caller sends the same token: half its life, so a callee never sees one that is
/// about to expire. Signing (and the callee's check) once per this instead of once per call.
pub const REUSE_WORKLOAD_TOKEN_FOR: Duration = Duration::from_secs(WORKLOAD_TOKEN_TTL.as_secs() / 2);

/// Wraps a gRPC channel so every call carries a token of `key` for `audience`, signed afresh
/// every [`REUSE_WORKLOAD_TOKEN_FOR`].
#[derive(Clone)]
pub struct SignedAsWorkload<S> {
    inner: S,
    key: Arc<WorkloadKey>,
    audience: Arc<str>,
    /// The token being sent and until when (Unix seconds), shared by every clone.
    current: Arc<std::sync::Mutex<Option<(http::HeaderValue, i64)>>>,
}

impl<S> SignedAsWorkload<S> {
    pub fn new(inner: S, key: Arc<WorkloadKey>, audience: &str) -> Self {
        Self {
            inner,
            key,
            audience: audience.into(),
            current: Arc::default(),
        }
    }

    /// The token to send now: the current one while it is young enough, else a new one.
    fn token(&self) -> Result<http::HeaderValue, String> {
        let now = Utc::now().timestamp();
        if let Ok(current) = self.current.lock()
            && let Some((token, until)) = current.as_ref()
            && now < *until
        {
            return Ok(token.clone());
        }
        let token = self
            .key
            .token_for(&self.audience)
            .map_err(|e| e.to_string())
            .and_then(|t| http::HeaderValue::from_str(&t).map_err(|e| e.to_string()))?;
        let reuse = i64::try_from(REUSE_WORKLOAD_TOKEN_FOR.as_secs()).unwrap_or(0);
        if let Ok(mut current) = self.current.lock() {
            *current = Some((token.clone(), now + reuse));
        }
        Ok(token)
    }
}

impl<S, B> tower::Service<http::Request<B>> for SignedAsWorkload<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // Signing with an in-memory Ed25519 key does not fail in practice; should it, the call
        // goes without a token and the callee's refusal says what is missing.
        match self.token() {
            Ok(value) => {
                request.headers_mut().insert(WORKLOAD_TOKEN_METADATA, value);
            }
            Err(error) => tracing::error!(%error, "cannot sign a workload token"),
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier_trusting(keys: &[&WorkloadKey], audience: &str) -> WorkloadVerifier {
        let trusted = keys.iter().fold(TrustedCallers::new(), |t, k| t.with_key(k));
        WorkloadVerifier::new(audience, trusted)
    }

    #[test]
    fn a_trusted_callers_token_for_this_service_is_accepted() {
        let gateway = WorkloadKey::generate(GATEWAY);
        let verifier = verifier_trusting(&[&gateway], IDENTITY);
        let token = gateway.token_for(IDENTITY).unwrap();
        assert_eq!(verifier.verify(&token).unwrap().name, GATEWAY);
    }

    #[test]
    fn a_token_is_checked_once_and_its_altered_copies_every_time() {
        let gateway = WorkloadKey::generate(GATEWAY);
        let verifier = verifier_trusting(&[&gateway], IDENTITY);
        let token = gateway.token_for(IDENTITY).unwrap();
        assert_eq!(verifier.verify(&token).unwrap().name, GATEWAY);
        assert_eq!(verifier.verified.len(), 1);
        assert_eq!(verifier.verify(&token).unwrap().name, GATEWAY, "from memory");
        let signature_at = token.rfind('.').unwrap() + 10;
        let mut altered = token.clone().into_bytes();
        altered[signature_at] = if altered[signature_at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            verifier.verify(&altered),
            Err(WorkloadError::Invalid("bad signature".into()))
        );
        // Remembered by this verifier only: another callee is still refused it.
        let elsewhere = verifier_trusting(&[&gateway], "security-info");
        assert_eq!(
            elsewhere.verify(&token),
            Err(WorkloadError::WrongAudience(IDENTITY.into()))
        );
    }

    #[test]
    fn a_signed_channel_sends_one_token_until_it_is_half_spent() {
        let key = Arc::new(WorkloadKey::generate(GATEWAY));
        let channel = SignedAsWorkload::new((), key, IDENTITY);
        let first = channel.token().unwrap();
        assert_eq!(channel.clone().token().unwrap(), first, "shared by clones");
        if let Ok(mut current) = channel.current.lock()
            && let Some((_, until)) = current.as_mut()
        {
            *until = Utc::now().timestamp();
        }
        assert_ne!(channel.token().unwrap(), first, "a new one once half spent");
    }

    #[test]
    fn forged_expired_overlong_and_misdirected_tokens_are_refused() {
        let gateway = WorkloadKey::generate(GATEWAY);
        let verifier = verifier_trusting(&[&gateway], IDENTITY);
        let now = Utc::now().timestamp();

        let forger = WorkloadKey::generate(GATEWAY);
        assert_eq!(
            verifier.verify(&forger.token_for(IDENTITY).unwrap()),
            Err(WorkloadError::Invalid("bad signature".into()))
        );
        let expired = gateway.token_with(IDENTITY, now - 300, WORKLOAD_TOKEN_TTL).unwrap();
        assert_eq!(verifier.verify(&expired), Err(WorkloadError::Expired));
        let overlong = gateway.token_with(IDENTITY, now, Duration::from_secs(3600)).unwrap();
        assert!(matches!(verifier.verify(&overlong), Err(WorkloadError::Invalid(_))));
        let elsewhere = gateway.token_for("security-info").unwrap();
        assert_eq!(
            verifier.verify(&elsewhere),
            Err(WorkloadError::WrongAudience("security-info".into()))
        );
        let stranger = WorkloadKey::generate("demo");
        assert_eq!(
            verifier.verify(&stranger.token_for(IDENTITY).unwrap()),
            Err(WorkloadError::UnknownCaller("demo".into()))
        );
        assert!(matches!(verifier.verify("not.a.jwt"), Err(WorkloadError::Invalid(_))));
        let nobody = WorkloadVerifier::new(IDENTITY, TrustedCallers::new());
        assert_eq!(
            nobody.verify(&gateway.token_for(IDENTITY).unwrap()),
            Err(WorkloadError::NoneTrusted)
        );
    }

    #[test]
    fn keys_round_trip_through_pem_and_configuration() {
        let gateway = WorkloadKey::generate(GATEWAY);
        let again = WorkloadKey::from_pem(GATEWAY, &gateway.to_pem()).unwrap();
        assert_eq!(again.public_key(), gateway.public_key());
        assert!(
            WorkloadKey::from_pem(GATEWAY, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err()
        );
        assert!(WorkloadKey::from_pem(GATEWAY, "hello").is_err());

        let trusted = TrustedCallers::parse(&format!("gateway={}", gateway.public_key())).unwrap();
        assert!(trusted.trusts(GATEWAY) && !trusted.trusts(IDENTITY));
        for bad in ["gateway", "=abc", "gateway=abc", "gateway=/nonexistent/gateway.pub"] {
            assert!(TrustedCallers::parse(bad).is_err(), "{bad}");
        }
        let env = Env::from_pairs([("IDENTITY_TRUSTED_CALLERS", "gateway=short")]);
        assert_eq!(
            TrustedCallers::from_env(&env, "IDENTITY").unwrap_err().variable,
            "IDENTITY_TRUSTED_CALLERS"
        );
        let env = Env::from_pairs([("GATEWAY_WORKLOAD_KEY_FILE", "/nonexistent/gateway.pem")]);
        assert_eq!(
            WorkloadKey::from_env(&env, "GATEWAY", GATEWAY).unwrap_err().variable,
            "GATEWAY_WORKLOAD_KEY_FILE"
        );
        assert!(
            WorkloadKey::from_env(&Env::default(), "GATEWAY", GATEWAY)
                .unwrap()
                .is_none()
        );
    }
}
