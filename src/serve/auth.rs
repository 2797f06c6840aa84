//! Who may call `/api/*` (`RMMHUNT_API_AUTH`): the axum middleware
//! [`require`] and the [`Authorizer`] it asks.
//!
//! - `host`, `none`: every request passes (the Functions host has checked the
//!   function key already, or the operator chose an open test rig).
//! - `key`: the `x-api-key` header must equal `RMMHUNT_API_KEY`. Only the
//!   SHA-256 digest of the key is kept; the digests are compared in constant
//!   time, so neither the content nor the length of the key leaks by timing.
//! - `entra`: `Authorization: Bearer <JWT>`, RS256 only, the key picked by
//!   the token's `kid` from the tenant's JWKS (fetched over HTTP, cached,
//!   refetched when a `kid` is unknown or the keys are older than a day, never
//!   more than once per [`JWKS_REFETCH_INTERVAL`]); `aud` = the audience; `iss`
//!   one of `{authority}/{tenant}/v2.0` (v2 tokens) and
//!   `https://sts.windows.net/{tenant}/` (v1 tokens); `exp`/`nbf` with five
//!   minutes of leeway; `roles` must hold the required role when one is set.
//!
//! Answers: 401 `unauthorized` (with `WWW-Authenticate`) for missing or
//! invalid credentials, 403 `forbidden` for a valid token without the role,
//! 503 `unavailable` (with `Retry-After`) when the signing keys cannot be
//! fetched — the caller's token may be fine, so this is not a 401, and it is
//! not our bug, so not a 500. Keys and tokens never reach a log line or an
//! answer body: the detail names the check that failed, nothing more.
//!
//! The router applies this middleware to `/api/*` only; `/` and `/HuntTimer`
//! are not behind it.

use super::problem::Problem;
use crate::config::ApiAuth;
use axum::extract::{Request, State};
use axum::http::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The header of `RMMHUNT_API_AUTH=key`.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Clock skew allowed on `exp` and `nbf`.
pub const TOKEN_LEEWAY_SECS: u64 = 300;
/// At most one JWKS fetch per this interval (unknown `kid`s included).
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Cached signing keys older than this are refetched on the next request
/// (and kept when that fetch fails).
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const JWKS_MAX_BYTES: usize = 512 * 1024;
/// Longer `Authorization` values are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Checks the credentials of an API request, per `RMMHUNT_API_AUTH`.
pub struct Authorizer {
    mode: Mode,
}

enum Mode {
    /// `host` or `none`.
    Open(&'static str),
    /// SHA-256 of `RMMHUNT_API_KEY`.
    Key([u8; 32]),
    Entra(Box<Entra>),
}

struct Entra {
    client: reqwest::Client,
    jwks_url: reqwest::Url,
    validation: Validation,
    required_role: Option<String>,
    refetch_interval: Duration,
    cache: tokio::sync::Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    /// When the keys above were fetched.
    fetched: Option<Instant>,
    /// When the last fetch was tried, and whether it failed.
    attempted: Option<Instant>,
    last_failed: bool,
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorizer")
            .field("mode", &self.kind())
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// The authorizer of a validated `api_auth` setting; `client` fetches the
    /// JWKS (`entra` only). Fails only on a JWKS URL that is not a URL.
    pub fn from_config(auth: &ApiAuth, client: reqwest::Client) -> Result<Authorizer, String> {
        let mode = match auth {
            ApiAuth::Host => Mode::Open("host"),
            ApiAuth::None => Mode::Open("none"),
            ApiAuth::Key(key) => Mode::Key(Sha256::digest(key.expose().as_bytes()).into()),
            ApiAuth::Entra(e) => {
                let jwks_url = reqwest::Url::parse(&e.jwks_url)
                    .map_err(|err| format!("RMMHUNT_API_JWKS_URL `{}`: {err}", e.jwks_url))?;
                let authority = e.authority.trim_end_matches('/');
                let mut validation = Validation::new(Algorithm::RS256);
                validation.leeway = TOKEN_LEEWAY_SECS;
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.validate_aud = true;
                validation.set_required_spec_claims(&["exp", "aud", "iss"]);
                validation.set_audience(&[e.audience.as_str()]);
                validation.set_issuer(&[
                    format!("{authority}/{}/v2.0", e.tenant_id),
                    format!("https://sts.windows.net/{}/", e.tenant_id),
                ]);
                Mode::Entra(Box::new(Entra {
                    client,
                    jwks_url,
                    validation,
                    required_role: e.required_role.clone(),
                    refetch_interval: JWKS_REFETCH_INTERVAL,
                    cache: tokio::sync::Mutex::new(KeyCache::default()),
                }))
            }
        };
        Ok(Authorizer { mode })
    }

    /// Sets the minimum time between two JWKS fetches (default
    /// [`JWKS_REFETCH_INTERVAL`]); tests shorten it to see key rotation.
    pub fn with_jwks_refetch_interval(mut self, interval: Duration) -> Authorizer {
        if let Mode::Entra(e) = &mut self.mode {
            e.refetch_interval = interval;
        }
        self
    }

    /// `host`, `none`, `key` or `entra` (as `GET /api/health` reports it).
    pub fn kind(&self) -> &'static str {
        match &self.mode {
            Mode::Open(kind) => kind,
            Mode::Key(_) => "key",
            Mode::Entra(_) => "entra",
        }
    }

    /// Checks the credentials in `headers`.
    pub async fn check(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        match &self.mode {
            Mode::Open(_) => Ok(()),
            Mode::Key(digest) => check_key(digest, headers),
            Mode::Entra(entra) => entra.check(headers).await,
        }
    }
}

/// Why a request was refused. The [`fmt::Display`] text is the problem's
/// `detail`: it names the failed check and never holds a key or a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the request has no `x-api-key` header")]
    MissingKey,
    #[error("the `x-api-key` header does not hold the API key")]
    WrongKey,
    #[error("the request has no `Authorization: Bearer` token")]
    MissingToken,
    #[error("the `Authorization` header is not `Bearer <token>`")]
    MalformedHeader,
    #[error("the bearer token is not a well-formed RS256 JWT with a key id")]
    MalformedToken,
    #[error("the bearer token is signed by a key that is not among the issuer's signing keys")]
    UnknownKey,
    #[error("the bearer token's signature is not valid")]
    BadSignature,
    #[error("the bearer token has expired")]
    Expired,
    #[error("the bearer token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the bearer token is for another audience")]
    WrongAudience,
    #[error("the bearer token is from another issuer or tenant")]
    WrongIssuer,
    #[error("the bearer token lacks a required claim or has a malformed one")]
    BadClaims,
    #[error("the bearer token does not hold the role this API requires")]
    MissingRole,
    #[error("the issuer's signing keys could not be fetched; try again later")]
    KeysUnavailable,
}

impl Rejection {
    pub fn status(self) -> StatusCode {
        match self {
            Rejection::MissingRole => StatusCode::FORBIDDEN,
            Rejection::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The problem type's last part (`urn:rmmhunt:problem:<slug>`).
    pub fn slug(self) -> &'static str {
        match self.status() {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "unauthorized",
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 for bearer tokens).
    fn challenge(self) -> Option<&'static str> {
        Some(match self {
            Rejection::MissingKey | Rejection::WrongKey => "ApiKey realm=\"rmmhunt\"",
            Rejection::MissingToken => "Bearer realm=\"rmmhunt\"",
            Rejection::MalformedHeader => "Bearer realm=\"rmmhunt\", error=\"invalid_request\"",
            Rejection::MissingRole => "Bearer realm=\"rmmhunt\", error=\"insufficient_scope\"",
            Rejection::KeysUnavailable => return None,
            _ => "Bearer realm=\"rmmhunt\", error=\"invalid_token\"",
        })
    }
}

/// The axum middleware: passes the request on, or answers the rejection as
/// `application/problem+json`. Use with
/// `axum::middleware::from_fn_with_state(Arc<Authorizer>, require)`.
pub async fn require(
    State(auth): State<Arc<Authorizer>>,
    request: Request,
    next: Next,
) -> Response {
    match auth.check(request.headers()).await {
        Ok(()) => next.run(request).await,
        Err(rejection) => {
            tracing::info!(
                auth = auth.kind(),
                status = rejection.status().as_u16(),
                reason = ?rejection,
                path = request.uri().path(),
                "request refused"
            );
            problem(rejection)
        }
    }
}

/// The rejection as a [`Problem`]; the outermost `problem::finish`
/// renders its body (with `instance` and `request_id`) like every other
/// error of the server.
fn problem(rejection: Rejection) -> Response {
    let mut p = Problem::new(rejection.status(), rejection.slug(), rejection.to_string())
        .with_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(challenge) = rejection.challenge() {
        p = p.with_header(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    if rejection == Rejection::KeysUnavailable {
        p = p.with_header(
            RETRY_AFTER,
            HeaderValue::from(JWKS_REFETCH_INTERVAL.as_secs()),
        );
    }
    p.into_response()
}

/// How often a header occurs.
enum Occurs<'h> {
    Never,
    Once(&'h HeaderValue),
    /// Several values count as malformed, never as "one of them is right".
    Repeated,
}

fn occurs(headers: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Occurs<'_> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Occurs::Never,
        (Some(v), None) => Occurs::Once(v),
        (Some(_), Some(_)) => Occurs::Repeated,
    }
}

fn check_key(digest: &[u8; 32], headers: &HeaderMap) -> Result<(), Rejection> {
    let value = match occurs(headers, API_KEY_HEADER) {
        Occurs::Never => return Err(Rejection::MissingKey),
        Occurs::Repeated => return Err(Rejection::WrongKey),
        Occurs::Once(v) => v,
    };
    let presented: [u8; 32] = Sha256::digest(value.as_bytes()).into();
    if bool::from(presented.ct_eq(digest)) {
        Ok(())
    } else {
        Err(Rejection::WrongKey)
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Result<&str, Rejection> {
    let value = match occurs(headers, AUTHORIZATION) {
        Occurs::Never => return Err(Rejection::MissingToken),
        Occurs::Repeated => return Err(Rejection::MalformedHeader),
        Occurs::Once(v) => v,
    };
    if value.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::MalformedHeader);
    }
    let value = value.to_str().map_err(|_| Rejection::MalformedHeader)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(Rejection::MalformedHeader)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Rejection::MalformedHeader);
    }
    Ok(token)
}

#[derive(serde::Deserialize)]
struct Claims {
    #[serde(default)]
    roles: Vec<String>,
}

impl Entra {
    async fn check(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        let token = bearer(headers)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::MalformedToken)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejection::MalformedToken);
        }
        let kid = header.kid.ok_or(Rejection::MalformedToken)?;
        let key = self.key(&kid).await?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| rejection_of(e.kind()))?;
        match &self.required_role {
            Some(role) if !data.claims.roles.iter().any(|r| r == role) => {
                Err(Rejection::MissingRole)
            }
            _ => Ok(()),
        }
    }

    /// The signing key `kid`, from the cache or (rate-limited) a new fetch.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Rejection> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        let stale = cache
            .fetched
            .is_none_or(|at| now.duration_since(at) >= JWKS_MAX_AGE);
        let known = cache.keys.contains_key(kid);
        let may_fetch = cache
            .attempted
            .is_none_or(|at| now.duration_since(at) >= self.refetch_interval);
        if (stale || !known) && may_fetch {
            cache.attempted = Some(now);
            match self.fetch().await {
                Ok(keys) => {
                    tracing::info!(url = %self.jwks_url, keys = keys.len(), "fetched the API token signing keys");
                    cache.keys = keys;
                    cache.fetched = Some(Instant::now());
                    cache.last_failed = false;
                }
                Err(e) => {
                    tracing::warn!(url = %self.jwks_url, error = %e, "could not fetch the API token signing keys");
                    cache.last_failed = true;
                }
            }
        }
        match cache.keys.get(kid) {
            Some(key) => Ok(key.clone()),
            None if cache.last_failed => Err(Rejection::KeysUnavailable),
            None => Err(Rejection::UnknownKey),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, JwksError> {
        let mut response = self
            .client
            .get(self.jwks_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(JWKS_FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| JwksError::Request(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| JwksError::Request(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > JWKS_MAX_BYTES {
                return Err(JwksError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwks(&body)
    }
}

/// The RS256 signing keys of a JWKS document, by `kid`. Keys of other
/// types, uses or algorithms are skipped (Entra publishes only RSA keys).
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, DecodingKey>, JwksError> {
    #[derive(serde::Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(body).map_err(|e| JwksError::Json(e.to_string()))?;
    let mut keys = HashMap::new();
    for value in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let usable = matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
            && matches!(
                jwk.common.public_key_use,
                None | Some(PublicKeyUse::Signature)
            )
            && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256));
        let (true, Some(kid)) = (usable, jwk.common.key_id.clone()) else {
            continue;
        };
        if let Ok(key) = DecodingKey::from_jwk(&jwk) {
            keys.insert(kid, key);
        }
    }
    if keys.is_empty() {
        return Err(JwksError::NoKeys);
    }
    Ok(keys)
}

#[derive(Debug, thiserror::Error)]
enum JwksError {
    #[error("request failed: {0}")]
    Request(String),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("the key set is larger than {JWKS_MAX_BYTES} bytes")]
    TooLarge,
    #[error("the key set is not JSON of a JWKS: {0}")]
    Json(String),
    #[error("the key set holds no RS256 signing key with a kid")]
    NoKeys,
}

fn rejection_of(kind: &jsonwebtoken::errors::ErrorKind) -> Rejection {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::InvalidSignature => Rejection::BadSignature,
        K::ExpiredSignature => Rejection::Expired,
        K::ImmatureSignature => Rejection::NotYetValid,
        K::InvalidAudience => Rejection::WrongAudience,
        K::InvalidIssuer => Rejection::WrongIssuer,
        K::MissingRequiredClaim(_) | K::InvalidClaimFormat(_) | K::Json(_) | K::Utf8(_) => {
            Rejection::BadClaims
        }
        _ => Rejection::MalformedToken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            h.append(name, HeaderValue::from_bytes(value).unwrap());
        }
        h
    }

    #[test]
    fn bearer_header_forms() {
        for (values, want) in [
            (vec![&b"Bearer abc.def.ghi"[..]], Ok("abc.def.ghi")),
            (vec![b"bearer   abc.def.ghi  "], Ok("abc.def.ghi")),
            (vec![b"BEARER x"], Ok("x")),
            (vec![], Err(Rejection::MissingToken)),
            (vec![b"Bearer"], Err(Rejection::MalformedHeader)),
            (vec![b"Bearer "], Err(Rejection::MalformedHeader)),
            (vec![b"Basic dXNlcjpwYXNz"], Err(Rejection::MalformedHeader)),
            (vec![b"Bearer \xff\xfe"], Err(Rejection::MalformedHeader)),
            (
                vec![b"Bearer a", b"Bearer b"],
                Err(Rejection::MalformedHeader),
            ),
        ] {
            let pairs: Vec<(&str, &[u8])> = values.iter().map(|v| ("authorization", *v)).collect();
            assert_eq!(bearer(&headers(&pairs)), want, "{values:?}");
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES));
        assert_eq!(
            bearer(&headers(&[("authorization", huge.as_bytes())])),
            Err(Rejection::MalformedHeader)
        );
    }

    #[test]
    fn api_key_compare() {
        let digest: [u8; 32] = Sha256::digest(b"0123456789abcdef-secret").into();
        for (values, want) in [
            (vec![&b"0123456789abcdef-secret"[..]], Ok(())),
            (vec![b"0123456789abcdef-secreT"], Err(Rejection::WrongKey)),
            (vec![b"0123456789abcdef-secret "], Err(Rejection::WrongKey)),
            (vec![b"0123"], Err(Rejection::WrongKey)),
            (vec![b""], Err(Rejection::WrongKey)),
            (vec![b"\xff"], Err(Rejection::WrongKey)),
            (
                vec![b"0123456789abcdef-secret", b"0123456789abcdef-secret"],
                Err(Rejection::WrongKey),
            ),
            (vec![], Err(Rejection::MissingKey)),
        ] {
            let pairs: Vec<(&str, &[u8])> = values.iter().map(|v| ("x-api-key", *v)).collect();
            assert_eq!(check_key(&digest, &headers(&pairs)), want, "{values:?}");
        }
    }

    #[test]
    fn jwks_parsing_keeps_rs256_signing_keys_only() {
        let fixture = include_bytes!("../../tests/fixtures/jwt/jwks-rotated.json");
        let keys = parse_jwks(fixture).unwrap();
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort();
        assert_eq!(kids, ["test-key-1", "test-key-2"]);

        let mixed = serde_json::json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kty": "what"},
            {"kty": "RSA", "kid": "ok", "use": "sig", "x5t": "x", "n": "AQAB", "e": "AQAB"}
        ]});
        let keys = parse_jwks(mixed.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["ok"]);

        for bad in [
            &b"{}"[..],
            b"[]",
            b"not json",
            br#"{"keys":[]}"#,
            br#"{"keys":[{"kty":"oct","kid":"a","k":"AA"}]}"#,
        ] {
            assert!(parse_jwks(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn rejections_map_to_the_contract() {
        assert_eq!(Rejection::MissingRole.status(), StatusCode::FORBIDDEN);
        assert_eq!(Rejection::MissingRole.slug(), "forbidden");
        assert_eq!(Rejection::KeysUnavailable.slug(), "unavailable");
        assert_eq!(Rejection::KeysUnavailable.challenge(), None);
        for r in [
            Rejection::MissingKey,
            Rejection::Expired,
            Rejection::UnknownKey,
        ] {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(r.slug(), "unauthorized");
            assert!(r.challenge().is_some());
        }
    }

    #[test]
    fn debug_never_prints_the_key() {
        let a = Authorizer::from_config(
            &ApiAuth::Key(crate::config::Secret::new("0123456789abcdef-secret")),
            reqwest::Client::new(),
        )
        .unwrap();
        let text = format!("{a:?}");
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(a.kind(), "key");
    }
}
