//! Access tokens: the [`TokenProvider`] trait, its implementations
//! (managed identity, service principal, Azure CLI, static) and the
//! per-scope cache ([`CachedTokens`]).
//!
//! Why not `azure_identity`: the Azure SDK for Rust crate reads
//! `IDENTITY_ENDPOINT`/`IDENTITY_HEADER` straight from the process
//! environment (our rule: `config.rs` is the only env reader, and tests pass
//! settings as a map), hard-codes the IMDS address (reference D.9, F.13), and
//! brings `azure_core`/`typespec` with their own HTTP stack into a build that
//! already has reqwest, on a 2-core machine shared by six developers. The
//! protocols we need are three small HTTP/process calls, implemented here
//! over the same reqwest client, with the cache and single-flight refresh we
//! need anyway.
//!
//! Tokens are [`Secret`]s: they never appear in Debug output, errors or logs.
//! Nothing here knows about Log Analytics, Graph or ARM.

use crate::config::Secret;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// IMDS token endpoint (VMs; not used inside App Service / Functions).
pub const IMDS_TOKEN_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// Tokens are refreshed this long before they expire.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A bearer token and when it expires.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_on: SystemTime,
}

/// Why no token could be had. Never holds the token or a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint answered with an error status.
    #[error("{credential}: token endpoint answered {status}: {message}")]
    Http {
        credential: &'static str,
        status: u16,
        message: String,
    },
    /// The token endpoint could not be reached.
    #[error("{credential}: token endpoint unreachable: {message}")]
    Transport {
        credential: &'static str,
        message: String,
    },
    /// The answer had no usable token.
    #[error("{credential}: unusable token response: {message}")]
    BadResponse {
        credential: &'static str,
        message: String,
    },
    /// `az` failed or is not installed.
    #[error("azure-cli: {message}")]
    Cli { message: String },
}

impl AuthError {
    /// Whether another attempt may succeed: the endpoint was unreachable, or
    /// answered 408, 429 or a retryable 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            AuthError::Transport { .. } => true,
            AuthError::Http { status, .. } => reqwest::StatusCode::from_u16(*status)
                .map(crate::azure::http::retryable)
                .unwrap_or(false),
            AuthError::BadResponse { .. } | AuthError::Cli { .. } => false,
        }
    }
}

/// A boxed token future (keeps [`TokenProvider`] object-safe).
pub type TokenFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + 'a>>;

/// Gives bearer tokens for a scope (`https://api.loganalytics.io/.default`).
pub trait TokenProvider: Send + Sync {
    fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a>;

    /// The API refused `rejected` (401): forget it if it is still the one
    /// cached for `scope`, so the next [`TokenProvider::token`] fetches a
    /// new one (a revoked or rotated token). Providers without a cache
    /// have nothing to forget.
    fn invalidate<'a>(
        &'a self,
        scope: &'a str,
        rejected: &'a Secret,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let _ = (scope, rejected);
        Box::pin(async {})
    }
}

/// `https://x/.default` → `https://x` (managed identity and the CLI take a
/// resource, not a scope).
pub fn scope_to_resource(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

/// `https://x` → `https://x/.default`.
pub fn audience_to_scope(audience: &str) -> String {
    if audience.ends_with("/.default") {
        audience.to_string()
    } else {
        format!("{}/.default", audience.trim_end_matches('/'))
    }
}

/// A fixed token (tests, or a token handed in by the caller).
pub struct StaticToken {
    token: Secret,
    expires_on: SystemTime,
}

impl StaticToken {
    pub fn new(token: impl Into<String>) -> StaticToken {
        StaticToken {
            token: Secret::new(token),
            expires_on: SystemTime::now() + Duration::from_secs(24 * 3600),
        }
    }
}

impl TokenProvider for StaticToken {
    fn token<'a>(&'a self, _scope: &'a str) -> TokenFuture<'a> {
        let t = AccessToken {
            token: self.token.clone(),
            expires_on: self.expires_on,
        };
        Box::pin(async move { Ok(t) })
    }
}

/// Caches one token per scope in front of another provider and refreshes
/// it [`REFRESH_MARGIN`] before expiry. Concurrent callers for one scope
/// wait on the same refresh (one request to the token endpoint).
pub struct CachedTokens<P> {
    inner: P,
    margin: Duration,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<AccessToken>>>>>,
}

impl<P: TokenProvider> CachedTokens<P> {
    pub fn new(inner: P) -> CachedTokens<P> {
        CachedTokens {
            inner,
            margin: REFRESH_MARGIN,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Refresh this long before expiry instead of [`REFRESH_MARGIN`].
    pub fn with_margin(mut self, margin: Duration) -> CachedTokens<P> {
        self.margin = margin;
        self
    }

    fn slot(&self, scope: &str) -> Arc<tokio::sync::Mutex<Option<AccessToken>>> {
        let mut slots = match self.slots.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        slots.entry(scope.to_string()).or_default().clone()
    }
}

impl<P: TokenProvider> TokenProvider for CachedTokens<P> {
    fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a> {
        Box::pin(async move {
            let slot = self.slot(scope);
            let mut cached = slot.lock().await;
            if let Some(t) = cached.as_ref() {
                if t.expires_on > SystemTime::now() + self.margin {
                    return Ok(t.clone());
                }
            }
            match self.inner.token(scope).await {
                Ok(fresh) => {
                    *cached = Some(fresh.clone());
                    Ok(fresh)
                }
                // An early refresh failed but the cached token is still
                // valid for a while: use it (the next call tries again).
                Err(e) => match cached.as_ref() {
                    Some(t) if t.expires_on > SystemTime::now() + Duration::from_secs(30) => {
                        Ok(t.clone())
                    }
                    _ => Err(e),
                },
            }
        })
    }

    fn invalidate<'a>(
        &'a self,
        scope: &'a str,
        rejected: &'a Secret,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let slot = self.slot(scope);
            let mut cached = slot.lock().await;
            // another caller may have replaced it already: keep that one
            if cached.as_ref().is_some_and(|t| t.token == *rejected) {
                *cached = None;
            }
        })
    }
}

/// Managed identity: the App Service / Functions protocol
/// (`GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…` with
/// `X-IDENTITY-HEADER`) when `app_service` is set, IMDS
/// (`api-version=2018-02-01`, `Metadata: true`) otherwise. `client_id`
/// selects a user-assigned identity.
pub struct ManagedIdentity {
    http: reqwest::Client,
    app_service: Option<(String, Secret)>,
    imds_endpoint: String,
    client_id: Option<String>,
}

impl ManagedIdentity {
    pub fn new(
        http: reqwest::Client,
        app_service: Option<(String, Secret)>,
        imds_endpoint: impl Into<String>,
        client_id: Option<String>,
    ) -> ManagedIdentity {
        ManagedIdentity {
            http,
            app_service,
            imds_endpoint: imds_endpoint.into(),
            client_id,
        }
    }
}

const MI: &str = "managed-identity";

impl TokenProvider for ManagedIdentity {
    fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a> {
        Box::pin(async move {
            let resource = scope_to_resource(scope);
            let mut query: Vec<(&str, &str)> = Vec::new();
            let req = match &self.app_service {
                Some((endpoint, header)) => {
                    query.push(("api-version", "2019-08-01"));
                    query.push(("resource", resource));
                    if let Some(c) = &self.client_id {
                        query.push(("client_id", c));
                    }
                    self.http
                        .get(endpoint)
                        .query(&query)
                        .header("X-IDENTITY-HEADER", header.expose())
                }
                None => {
                    query.push(("api-version", "2018-02-01"));
                    query.push(("resource", resource));
                    if let Some(c) = &self.client_id {
                        query.push(("client_id", c));
                    }
                    self.http
                        .get(&self.imds_endpoint)
                        .query(&query)
                        .header("Metadata", "true")
                }
            };
            let body = send(MI, req.timeout(Duration::from_secs(30))).await?;
            parse_token_response(MI, &body)
        })
    }
}

/// Service principal with a client secret (OAuth2 client credentials on
/// `{authority}/{tenant}/oauth2/v2.0/token`).
pub struct ClientSecret {
    http: reqwest::Client,
    authority: String,
    tenant_id: String,
    client_id: String,
    secret: Secret,
}

impl ClientSecret {
    pub fn new(
        http: reqwest::Client,
        authority: impl Into<String>,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: Secret,
    ) -> ClientSecret {
        ClientSecret {
            http,
            authority: authority.into(),
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            secret,
        }
    }
}

const SP: &str = "service-principal";

impl TokenProvider for ClientSecret {
    fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a> {
        Box::pin(async move {
            let url = format!(
                "{}/{}/oauth2/v2.0/token",
                self.authority.trim_end_matches('/'),
                self.tenant_id
            );
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.expose()),
                ("scope", scope),
            ];
            let req = self
                .http
                .post(url)
                .form(&form)
                .timeout(Duration::from_secs(30));
            let body = send(SP, req).await?;
            parse_token_response(SP, &body)
        })
    }
}

/// The developer's `az login` (`az account get-access-token`), for local runs.
pub struct AzureCli {
    program: String,
}

impl AzureCli {
    pub fn new() -> AzureCli {
        AzureCli {
            program: "az".into(),
        }
    }

    /// Runs `program` instead of `az` (tests).
    pub fn with_program(program: impl Into<String>) -> AzureCli {
        AzureCli {
            program: program.into(),
        }
    }
}

impl Default for AzureCli {
    fn default() -> Self {
        AzureCli::new()
    }
}

impl TokenProvider for AzureCli {
    fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a> {
        Box::pin(async move {
            let out = tokio::process::Command::new(&self.program)
                .args([
                    "account",
                    "get-access-token",
                    "--output",
                    "json",
                    "--resource",
                    scope_to_resource(scope),
                ])
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| AuthError::Cli {
                    message: format!("cannot run `{}`: {e}", self.program),
                })?;
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                return Err(AuthError::Cli {
                    message: format!(
                        "`{} account get-access-token` failed ({}): {}",
                        self.program,
                        out.status,
                        stderr.lines().next().unwrap_or("").trim()
                    ),
                });
            }
            let v: serde_json::Value =
                serde_json::from_slice(&out.stdout).map_err(|e| AuthError::Cli {
                    message: format!("output is not JSON: {e}"),
                })?;
            let token = v
                .get("accessToken")
                .and_then(|t| t.as_str())
                .ok_or_else(|| AuthError::Cli {
                    message: "output has no accessToken".into(),
                })?;
            // Newer CLIs give `expires_on` (epoch seconds); older ones only
            // `expiresOn` as local time text: then assume the usual hour
            // minus the refresh margin is safe and re-ask often.
            let expires_on = match v.get("expires_on").and_then(epoch_secs) {
                Some(s) => UNIX_EPOCH + Duration::from_secs(s),
                None => SystemTime::now() + REFRESH_MARGIN + Duration::from_secs(10 * 60),
            };
            Ok(AccessToken {
                token: Secret::new(token),
                expires_on,
            })
        })
    }
}

fn epoch_secs(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

async fn send(
    credential: &'static str,
    req: reqwest::RequestBuilder,
) -> Result<Vec<u8>, AuthError> {
    let resp = req.send().await.map_err(|e| AuthError::Transport {
        credential,
        message: transport_message(&e),
    })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| AuthError::Transport {
        credential,
        message: transport_message(&e),
    })?;
    if !status.is_success() {
        return Err(AuthError::Http {
            credential,
            status: status.as_u16(),
            message: error_text(&body),
        });
    }
    Ok(body.to_vec())
}

/// The error description of a token endpoint's answer, never the whole body
/// (a misbehaving endpoint could echo secrets).
fn error_text(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return format!("non-JSON body of {} bytes", body.len());
    };
    let pick = |k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
    let code = pick("error").or_else(|| {
        v.get("error")
            .and_then(|e| e.get("code"))
            .and_then(|c| c.as_str())
            .map(String::from)
    });
    let msg = pick("error_description")
        .or_else(|| pick("message"))
        .or_else(|| {
            v.get("error")
                .and_then(|e| e.get("message"))
                .and_then(|c| c.as_str())
                .map(String::from)
        });
    match (code, msg) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        (None, None) => "no error description".into(),
    }
}

fn transport_message(e: &reqwest::Error) -> String {
    // reqwest's Display includes the URL (no secrets: tokens travel in
    // headers and bodies, never in our URLs).
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {e}")
}

/// `{access_token, expires_on | expires_in}` (managed identity: strings;
/// Entra ID v2: `expires_in` a number).
fn parse_token_response(credential: &'static str, body: &[u8]) -> Result<AccessToken, AuthError> {
    let bad = |message: &str| AuthError::BadResponse {
        credential,
        message: message.into(),
    };
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad("not JSON"))?;
    let token = v
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("no access_token"))?;
    let expires_on = if let Some(s) = v.get("expires_on").and_then(epoch_secs) {
        UNIX_EPOCH + Duration::from_secs(s)
    } else if let Some(s) = v.get("expires_in").and_then(epoch_secs) {
        SystemTime::now() + Duration::from_secs(s)
    } else {
        return Err(bad("no expires_on or expires_in"));
    };
    Ok(AccessToken {
        token: Secret::new(token),
        expires_on,
    })
}

/// The cached provider for the configured credential (one per process:
/// every client shares it, so each scope is fetched once).
pub fn from_config(
    credential: &crate::config::Credential,
    http: &reqwest::Client,
) -> Arc<dyn TokenProvider> {
    use crate::config::Credential as C;
    match credential {
        C::ManagedIdentity {
            app_service,
            imds_endpoint,
            client_id,
        } => Arc::new(CachedTokens::new(ManagedIdentity::new(
            http.clone(),
            app_service.clone(),
            imds_endpoint.clone(),
            client_id.clone(),
        ))),
        C::ServicePrincipal {
            authority,
            tenant_id,
            client_id,
            secret,
        } => Arc::new(CachedTokens::new(ClientSecret::new(
            http.clone(),
            authority.clone(),
            tenant_id.clone(),
            client_id.clone(),
            secret.clone(),
        ))),
        C::AzureCli => Arc::new(CachedTokens::new(AzureCli::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_forms() {
        let cases: &[(&str, bool)] = &[
            (
                r#"{"access_token":"a","expires_on":"1711446000","token_type":"Bearer"}"#,
                true,
            ),
            (r#"{"access_token":"a","expires_on":1711446000}"#, true),
            (r#"{"access_token":"a","expires_in":3599}"#, true),
            (r#"{"access_token":"a"}"#, false),
            (r#"{"expires_in":3599}"#, false),
            ("not json", false),
        ];
        for (body, ok) in cases {
            let r = parse_token_response("t", body.as_bytes());
            assert_eq!(r.is_ok(), *ok, "{body}: {r:?}");
            if let Ok(t) = r {
                assert!(!format!("{t:?}").contains("\"a\""), "{body}");
            }
        }
    }

    #[test]
    fn scopes_and_resources() {
        assert_eq!(
            scope_to_resource("https://api.loganalytics.io/.default"),
            "https://api.loganalytics.io"
        );
        assert_eq!(
            audience_to_scope("https://graph.microsoft.com/"),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            audience_to_scope("https://x/.default"),
            "https://x/.default"
        );
    }

    /// Hands out `t1`, `t2`, ... and counts calls.
    struct Counter(std::sync::atomic::AtomicUsize);

    impl TokenProvider for Counter {
        fn token<'a>(&'a self, _scope: &'a str) -> TokenFuture<'a> {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            Box::pin(async move {
                Ok(AccessToken {
                    token: Secret::new(format!("t{n}")),
                    expires_on: SystemTime::now() + Duration::from_secs(3600),
                })
            })
        }
    }

    #[test]
    fn invalidate_drops_only_the_rejected_token() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async {
            let c = CachedTokens::new(Counter(Default::default()));
            let s = "https://x/.default";
            let first = c.token(s).await.map(|t| t.token).ok();
            assert_eq!(first, Some(Secret::new("t1")));
            // a stale rejection (not the cached token) changes nothing
            c.invalidate(s, &Secret::new("t0")).await;
            assert_eq!(
                c.token(s).await.map(|t| t.token).ok(),
                Some(Secret::new("t1"))
            );
            // the cached token rejected: the next call fetches a new one
            c.invalidate(s, &Secret::new("t1")).await;
            assert_eq!(
                c.token(s).await.map(|t| t.token).ok(),
                Some(Secret::new("t2"))
            );
            assert_eq!(c.inner.0.load(std::sync::atomic::Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn error_text_never_echoes_unknown_fields() {
        let body =
            br#"{"error":"invalid_client","error_description":"bad secret","secret":"s3cr3t"}"#;
        let t = error_text(body);
        assert_eq!(t, "invalid_client: bad secret");
    }
}
