//! The shared HTTP client for every Azure API: retries on 429 (honouring
//! `Retry-After` in seconds or as an HTTP date), on 5xx, on timeouts and
//! connection errors, with exponential backoff and full jitter, all inside
//! one overall deadline; and the mapping of error answers to [`HttpError`]
//! with the API's code (the deepest `innererror` code), message and request
//! id.
//!
//! Bearer tokens are added per attempt from a [`TokenProvider`] and never
//! logged: [`redacted_headers`] is what any request log must print. A 401
//! (a token revoked or signed with rotated keys before it expired) makes the
//! provider forget that token and the request is sent once more with a new
//! one; a second 401 is final.
//! Nothing here knows a particular API's URLs or body shapes.

use super::auth::{AuthError, TokenProvider};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long and how often to retry.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Everything (all attempts and waits) ends within this.
    pub deadline: Duration,
    /// One attempt may take at most this (bounded by what is left).
    pub attempt_timeout: Duration,
    /// First backoff; doubles per attempt, with full jitter.
    pub base_delay: Duration,
    /// Largest backoff (a `Retry-After` may ask for more, within the deadline).
    pub max_delay: Duration,
    /// Attempts in all, first included.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// The default policy with the configured overall deadline.
    pub fn with_deadline(deadline: Duration) -> RetryPolicy {
        RetryPolicy {
            deadline,
            attempt_timeout: deadline,
            ..RetryPolicy::default()
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            deadline: Duration::from_secs(crate::config::defaults::REQUEST_DEADLINE_SECS),
            attempt_timeout: Duration::from_secs(190),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_attempts: 8,
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The API answered an error that is not retried (or retries ran out).
    #[error("{api} answered {status} {code} (request id {request_id}): {message}")]
    Status {
        api: String,
        status: u16,
        /// Deepest `innererror` code, else `error.code`, else empty.
        code: String,
        /// The outermost `error.message` (plus the inner one if different).
        message: String,
        request_id: String,
    },
    /// Could not reach the API (connection refused, reset, TLS...).
    #[error("{api}: {message}")]
    Transport { api: String, message: String },
    /// The overall deadline passed before an answer came.
    #[error("{api}: no answer within the {deadline:?} deadline after {attempts} attempt(s); last: {last}")]
    Deadline {
        api: String,
        deadline: Duration,
        attempts: u32,
        last: String,
    },
    /// The answer could not be understood.
    #[error("{api}: bad response (request id {request_id}): {message}")]
    Decode {
        api: String,
        request_id: String,
        message: String,
    },
    #[error("{api}: {source}")]
    Auth {
        api: String,
        #[source]
        source: AuthError,
    },
}

impl HttpError {
    /// The API that failed (`log-analytics`, `defender`, `arm`).
    pub fn api(&self) -> &str {
        match self {
            HttpError::Status { api, .. }
            | HttpError::Transport { api, .. }
            | HttpError::Deadline { api, .. }
            | HttpError::Decode { api, .. }
            | HttpError::Auth { api, .. } => api,
        }
    }

    pub fn request_id(&self) -> &str {
        match self {
            HttpError::Status { request_id, .. } | HttpError::Decode { request_id, .. } => {
                request_id
            }
            _ => "",
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub request_id: String,
    pub body: Vec<u8>,
}

/// One request to send (rebuilt for every attempt).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// For errors: `log-analytics`, `defender`, `arm`.
    pub api: &'a str,
    pub method: Method,
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// JSON body (sent with `Content-Type: application/json`).
    pub json: Option<&'a serde_json::Value>,
    /// Token scope; `None` sends no `Authorization`.
    pub scope: Option<&'a str>,
}

/// reqwest (rustls) + a retry policy.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: RetryPolicy,
}

impl HttpClient {
    pub fn new(policy: RetryPolicy) -> Result<HttpClient, HttpError> {
        // No idle-connection pool: a pooled connection is driven by the tokio
        // runtime that opened it, and our sources each own a runtime (the
        // `Source` trait is synchronous) while sharing this client and the
        // token provider; reusing a connection across runtimes hangs.
        // Queries are few and long, so a fresh connection each is cheap.
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .pool_max_idle_per_host(0)
            .user_agent(concat!("rmmhunt/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Transport {
                api: "http".into(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(HttpClient { client, policy })
    }

    /// The underlying reqwest client (token providers share it).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends `req`, retrying what can be retried, until success, a
    /// non-retryable error, or the deadline.
    pub async fn send(
        &self,
        req: &Request<'_>,
        tokens: Option<&dyn TokenProvider>,
    ) -> Result<Response, HttpError> {
        let start = Instant::now();
        let deadline = start + self.policy.deadline;
        let mut attempt: u32 = 0;
        // one fresh token after a 401 (a revoked or rotated token)
        let mut refreshed_after_401 = false;
        loop {
            attempt += 1;
            let now = Instant::now();
            let left = deadline.saturating_duration_since(now);
            if left.is_zero() {
                return Err(self.deadline_error(req, attempt - 1, "deadline reached".into()));
            }
            let mut b = self
                .client
                .request(req.method.clone(), &req.url)
                .timeout(left.min(self.policy.attempt_timeout));
            for (k, v) in &req.headers {
                b = b.header(k.clone(), v.clone());
            }
            if let Some(body) = req.json {
                b = b.json(body);
            }
            let mut token_failure = None;
            let mut sent_token = None;
            if let (Some(scope), Some(tp)) = (req.scope, tokens) {
                match tokio::time::timeout(left, tp.token(scope)).await {
                    Ok(Ok(t)) => {
                        b = b.bearer_auth(t.token.expose());
                        sent_token = Some(t.token);
                    }
                    // A throttled or failing token endpoint (managed identity
                    // endpoints answer 429/5xx while they warm up) is retried
                    // like the API call itself; anything else is final.
                    Ok(Err(source)) if source.is_transient() => {
                        token_failure = Some(source.to_string());
                    }
                    Ok(Err(source)) => {
                        return Err(HttpError::Auth {
                            api: req.api.into(),
                            source,
                        })
                    }
                    Err(_) => {
                        return Err(self.deadline_error(req, attempt, "waiting for a token".into()))
                    }
                }
            }
            let outcome = if let Some(msg) = token_failure {
                Err(msg)
            } else {
                match tokio::time::timeout(left, b.send()).await {
                    Err(_) => Err("timed out".to_string()),
                    Ok(Err(e)) => {
                        if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() {
                            Err(describe(&e))
                        } else {
                            return Err(HttpError::Transport {
                                api: req.api.into(),
                                message: describe(&e),
                            });
                        }
                    }
                    Ok(Ok(resp)) => Ok(resp),
                }
            };
            let (last, retry_after) = match outcome {
                Err(msg) => (msg, None),
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let request_id = request_id(&headers);
                    let left = deadline.saturating_duration_since(Instant::now());
                    let body = match tokio::time::timeout(left, resp.bytes()).await {
                        Ok(Ok(b)) => Ok(b.to_vec()),
                        Ok(Err(e)) => Err(describe(&e)),
                        Err(_) => Err("timed out reading the body".to_string()),
                    };
                    match body {
                        Err(msg) => (msg, None),
                        Ok(body) => {
                            if status.is_success() {
                                return Ok(Response {
                                    status: status.as_u16(),
                                    headers,
                                    request_id,
                                    body,
                                });
                            }
                            let err = status_error(req.api, status, &headers, &body);
                            if let (
                                StatusCode::UNAUTHORIZED,
                                false,
                                Some(scope),
                                Some(tp),
                                Some(sent),
                            ) = (status, refreshed_after_401, req.scope, tokens, &sent_token)
                            {
                                // The token was refused before it expired
                                // (revoked, rotated keys): drop it from the
                                // cache and try once more with a new one.
                                refreshed_after_401 = true;
                                tp.invalidate(scope, sent).await;
                                continue;
                            }
                            if !retryable(status) {
                                return Err(err);
                            }
                            if attempt >= self.policy.max_attempts {
                                return Err(err);
                            }
                            (err.to_string(), retry_after(&headers))
                        }
                    }
                }
            };
            if attempt >= self.policy.max_attempts {
                return Err(self.deadline_error(req, attempt, last));
            }
            let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
            if Instant::now() + delay >= deadline {
                return Err(self.deadline_error(req, attempt, last));
            }
            tokio::time::sleep(delay).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .policy
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.policy.max_delay);
        // Full jitter in [exp/2, exp].
        let ms = exp.as_millis() as u64;
        Duration::from_millis(ms / 2 + fastrand::u64(0..=ms / 2))
    }

    fn deadline_error(&self, req: &Request<'_>, attempts: u32, last: String) -> HttpError {
        HttpError::Deadline {
            api: req.api.into(),
            deadline: self.policy.deadline,
            attempts,
            last,
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {e}")
}

/// 408, 429 and 5xx except 501/505 are worth another attempt.
pub fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || (status.is_server_error()
            && status != StatusCode::NOT_IMPLEMENTED
            && status != StatusCode::HTTP_VERSION_NOT_SUPPORTED)
}

/// `Retry-After` (or `x-ms-retry-after-ms`) as a wait: delta-seconds or an
/// HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("x-ms-retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_millis(ms));
    }
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs));
        }
    }
    let ticks = kql::time::parse_datetime(v)?;
    let unix_secs = (ticks - kql::time::UNIX_EPOCH) / kql::time::SECOND;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(unix_secs).ok()?);
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The request id of an answer: `x-ms-request-id`, `request-id`, then
/// `client-request-id`.
pub fn request_id(headers: &HeaderMap) -> String {
    ["x-ms-request-id", "request-id", "client-request-id"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .unwrap_or("")
        .to_string()
}

/// Maps an error answer: `{"error": {code, message, innererror|innerError}}`.
pub fn status_error(api: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> HttpError {
    let mut request_id = request_id(headers);
    let v: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let err = v.as_ref().and_then(|v| v.get("error"));
    let (code, message) = match err {
        Some(e) => {
            let info = ErrorInfo::from_json(e);
            if request_id.is_empty() {
                request_id = info.request_id.clone();
            }
            (info.deepest_code().to_string(), info.describe())
        }
        None if body.is_empty() => (String::new(), "empty body".into()),
        None => (
            String::new(),
            String::from_utf8_lossy(body)
                .chars()
                .take(300)
                .collect::<String>(),
        ),
    };
    HttpError::Status {
        api: api.into(),
        status: status.as_u16(),
        code,
        message,
        request_id,
    }
}

/// An Azure / Graph error object, with its inner chain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
    /// `innererror`/`innerError` chain, outermost first.
    pub inner: Vec<(String, String)>,
    /// `details[].code` / `details[].message`.
    pub details: Vec<(String, String)>,
    /// Graph puts `request-id` in `innerError`.
    pub request_id: String,
}

impl ErrorInfo {
    pub fn from_json(e: &serde_json::Value) -> ErrorInfo {
        let s = |v: &serde_json::Value, k: &str| {
            v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string()
        };
        let mut info = ErrorInfo {
            code: s(e, "code"),
            message: s(e, "message"),
            ..ErrorInfo::default()
        };
        if let Some(d) = e.get("details").and_then(|d| d.as_array()) {
            info.details = d.iter().map(|x| (s(x, "code"), s(x, "message"))).collect();
        }
        let mut cur = e;
        for _ in 0..32 {
            let Some(next) = cur.get("innererror").or_else(|| cur.get("innerError")) else {
                break;
            };
            if info.request_id.is_empty() {
                info.request_id = s(next, "request-id");
            }
            let (c, m) = (s(next, "code"), s(next, "message"));
            if !c.is_empty() || !m.is_empty() {
                info.inner.push((c, m));
            }
            cur = next;
        }
        info
    }

    /// The most precise code: the deepest non-empty inner code.
    pub fn deepest_code(&self) -> &str {
        self.inner
            .iter()
            .rev()
            .map(|(c, _)| c.as_str())
            .find(|c| !c.is_empty())
            .unwrap_or(&self.code)
    }

    /// `code: message` plus the deepest inner message when it differs.
    pub fn describe(&self) -> String {
        let mut out = if self.code.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.code, self.message)
        };
        if let Some((c, m)) = self.inner.iter().rev().find(|(_, m)| !m.is_empty()) {
            if *m != self.message {
                out.push_str(&format!(" ({c}: {m})"));
            }
        }
        for (c, m) in &self.details {
            if !m.is_empty() && *m != self.message {
                out.push_str(&format!(" [{c}: {m}]"));
            }
        }
        out
    }
}

/// Headers as they may be logged: credentials replaced by `***`.
pub fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let name = k.as_str().to_ascii_lowercase();
            let sensitive = matches!(
                name.as_str(),
                "authorization"
                    | "x-identity-header"
                    | "proxy-authorization"
                    | "cookie"
                    | "set-cookie"
                    | "secret"
            ) || v.is_sensitive();
            let value = if sensitive {
                "***".to_string()
            } else {
                v.to_str().unwrap_or("<binary>").to_string()
            };
            (name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("5"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(5)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Mon, 01 Jan 2001 00:00:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "past date");
        let future = SystemTime::now() + Duration::from_secs(120);
        let secs = future
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let text = kql::time::format_datetime(kql::time::UNIX_EPOCH + secs * kql::time::SECOND);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("x")),
        );
        let d = retry_after(&h);
        assert!(
            matches!(d, Some(d) if d > Duration::from_secs(100) && d <= Duration::from_secs(120)),
            "{text}: {d:?}"
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn deepest_code_and_request_id() {
        let body = br#"{"error":{"code":"BadArgumentError","message":"The request had some invalid properties","innererror":{"code":"SyntaxError","message":"Syntax Error","innererror":{"code":"SYN0002","message":"Query could not be parsed at 'x'"}}}}"#;
        let mut h = HeaderMap::new();
        h.insert("x-ms-request-id", HeaderValue::from_static("rid-1"));
        let e = status_error("log-analytics", StatusCode::BAD_REQUEST, &h, body);
        match e {
            HttpError::Status {
                status,
                code,
                message,
                request_id,
                ..
            } => {
                assert_eq!(
                    (status, code.as_str(), request_id.as_str()),
                    (400, "SYN0002", "rid-1")
                );
                assert!(
                    message.contains("BadArgumentError") && message.contains("could not be parsed"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let graph = br#"{"error":{"code":"BadRequest","message":"bad","innerError":{"date":"2024-03-26T09:40:01","request-id":"g-rid","client-request-id":"c"}}}"#;
        let e = status_error(
            "defender",
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            graph,
        );
        assert_eq!(e.request_id(), "g-rid", "{e:?}");
    }

    #[test]
    fn auth_headers_are_redacted() {
        let mut h = HeaderMap::new();
        h.insert(
            "Authorization",
            HeaderValue::from_static("Bearer eyJsecret"),
        );
        h.insert("X-IDENTITY-HEADER", HeaderValue::from_static("idsecret"));
        h.insert("Prefer", HeaderValue::from_static("wait=180"));
        let r = format!("{:?}", redacted_headers(&h));
        assert!(!r.contains("eyJsecret") && !r.contains("idsecret"), "{r}");
        assert!(r.contains("wait=180"), "{r}");
    }

    #[test]
    fn what_is_retried() {
        for (s, want) in [
            (429, true),
            (500, true),
            (503, true),
            (504, true),
            (408, true),
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (409, false),
            (501, false),
        ] {
            let code = StatusCode::from_u16(s).unwrap_or(StatusCode::OK);
            assert_eq!(retryable(code), want, "{s}");
        }
    }
}
