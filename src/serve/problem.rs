//! Every error answer of the server: RFC 9457 problem details
//! (`application/problem+json`), `type` = `urn:rmmhunt:problem:<slug>`.
//!
//! Handlers return a [`Problem`] (status, slug, title, detail, extension
//! members); its response carries the problem as an extension and no body
//! yet. [`finish`] (the outermost middleware) renders the body with
//! `instance` (the path, never the query: the host's `code=` key lives
//! there) and `request_id`, and turns any other error answer — axum's own
//! rejections, 404/405 of routing, tower-http's 413/408, a caught panic —
//! into a problem too, so no error leaves without one. It also sets
//! `x-request-id` on every response ([`RequestId`]).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value as Json};

/// `x-request-id`.
pub const REQUEST_ID: &str = "x-request-id";
/// The Functions host's invocation id header.
pub const INVOCATION_ID: &str = "x-azure-functions-invocationid";
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem answer (see the module docs).
#[derive(Clone, Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// `bad-request`, `not-found`, ... (the URN's last part).
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Extension members (`errors`, `report`, ...).
    pub extra: Box<Map<String, Json>>,
    /// Extra response headers (`WWW-Authenticate`).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            slug,
            title: title_of(status),
            detail: detail.into(),
            extra: Box::default(),
            headers: Vec::new(),
        }
    }

    /// The problem for a bare error status (the slug of the contract).
    pub fn from_status(status: StatusCode) -> Problem {
        let detail = match status {
            StatusCode::NOT_FOUND => "no such path".to_string(),
            StatusCode::METHOD_NOT_ALLOWED => "this path does not take this method".into(),
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large".into(),
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => {
                "the request took too long".into()
            }
            s if s.is_server_error() => "internal error; the request id is in the logs".into(),
            s => s.canonical_reason().unwrap_or("error").to_string(),
        };
        Problem::new(status, slug_of(status), detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 422 with one `errors` entry per bad field.
    pub fn invalid(errors: Vec<(String, String)>) -> Problem {
        let detail = errors
            .iter()
            .map(|(p, d)| format!("{p}: {d}"))
            .collect::<Vec<_>>()
            .join("; ");
        let list: Vec<Json> = errors
            .into_iter()
            .map(|(pointer, detail)| json!({"pointer": pointer, "detail": detail}))
            .collect();
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-request", detail)
            .with("errors", Json::Array(list))
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    pub fn unavailable() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is shutting down",
        )
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: Json) -> Problem {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Problem {
        self.headers.push((name, value));
        self
    }

    /// The JSON body.
    pub fn body(&self, instance: &str, request_id: &str) -> Json {
        let mut obj = Map::new();
        obj.insert(
            "type".into(),
            json!(format!("urn:rmmhunt:problem:{}", self.slug)),
        );
        obj.insert("title".into(), json!(self.title));
        obj.insert("status".into(), json!(self.status.as_u16()));
        obj.insert("detail".into(), json!(self.detail));
        obj.insert("instance".into(), json!(instance));
        obj.insert("request_id".into(), json!(request_id));
        for (k, v) in self.extra.iter() {
            obj.insert(k.clone(), v.clone());
        }
        Json::Object(obj)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        for (name, value) in &self.headers {
            resp.headers_mut().insert(name.clone(), value.clone());
        }
        resp.extensions_mut().insert(self);
        resp
    }
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Problem {
        let detail = r.body_text();
        match r {
            // wrong types and unknown fields: the caller's mistake, 400
            JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => {
                Problem::bad_request(detail)
            }
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the body as JSON with Content-Type: application/json",
            ),
            other => {
                let status = other.status();
                let mut p = Problem::from_status(status);
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    p.detail = "the request body is too large".into();
                } else if status.is_client_error() {
                    p.detail = detail;
                }
                p
            }
        }
    }
}

/// `Json<T>` whose rejections are problems.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(Problem::from(r)),
        }
    }
}

/// The request's id (an extension set by [`finish`]).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The caller's `x-request-id` if it is 1–128 of `[A-Za-z0-9._-]`, else
/// the host's invocation id (same rule), else a new UUID v4.
pub fn request_id(headers: &HeaderMap) -> String {
    let valid = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|s| {
                (1..=128).contains(&s.len())
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            })
            .map(String::from)
    };
    valid(REQUEST_ID)
        .or_else(|| valid(INVOCATION_ID))
        .unwrap_or_else(new_uuid)
}

fn new_uuid() -> String {
    let mut bytes = [0u8; 16];
    for b in &mut bytes {
        *b = fastrand::u8(..);
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The outermost middleware: request id in, problem bodies and
/// `x-request-id` out (see the module docs).
pub async fn finish(mut req: Request, next: Next) -> Response {
    let id = request_id(req.headers());
    let instance = req.uri().path().to_string();
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    req.extensions_mut().insert(RequestId(id.clone()));
    let resp = next.run(req).await;
    let mut resp = render(resp, &instance, &id);
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

fn render(resp: Response, instance: &str, id: &str) -> Response {
    let problem = resp.extensions().get::<Problem>().cloned();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    let problem = match problem {
        Some(p) => p,
        None if resp.status().as_u16() >= 400 && !is_problem => Problem::from_status(resp.status()),
        None => return resp,
    };
    let (mut parts, _) = resp.into_parts();
    parts.extensions.remove::<Problem>();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.status = problem.status;
    let body = problem.body(instance, id).to_string();
    // keep the extension for the log line of the trace layer
    parts.extensions.insert(problem);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// The catch-panic layer's answer: a 500 problem, the panic text kept out.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    Problem::internal("internal error; the request id is in the logs").into_response()
}

fn slug_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad-request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        408 => "request-timeout",
        409 => "already-running",
        413 => "payload-too-large",
        415 => "unsupported-media-type",
        422 => "invalid-request",
        502 => "source-failed",
        503 => "unavailable",
        504 => "deadline",
        s if s >= 500 => "internal",
        _ => "bad-request",
    }
}

fn title_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        408 => "Request timeout",
        409 => "Already running",
        413 => "Payload too large",
        415 => "Unsupported media type",
        422 => "Invalid request",
        502 => "Upstream failure",
        503 => "Unavailable",
        504 => "Deadline exceeded",
        _ if status.is_server_error() => "Internal error",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        let mut h = HeaderMap::new();
        h.insert(REQUEST_ID, HeaderValue::from_static("abc-1.2_3"));
        h.insert(INVOCATION_ID, HeaderValue::from_static("inv-1"));
        assert_eq!(request_id(&h), "abc-1.2_3");
        h.insert(REQUEST_ID, HeaderValue::from_static("bad id with spaces"));
        assert_eq!(request_id(&h), "inv-1");
        h.remove(INVOCATION_ID);
        let id = request_id(&h);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_eq!(
            uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()).ok(),
            Some(4)
        );
        h.insert(
            REQUEST_ID,
            HeaderValue::from_str(&"x".repeat(129)).unwrap_or_else(|e| panic!("{e}")),
        );
        assert_ne!(request_id(&h), "x".repeat(129));
    }

    /// A panicking handler answers a 500 problem (no panic text) with the
    /// same layers as the server.
    #[tokio::test]
    async fn a_panic_is_a_500_problem() {
        use tower::ServiceExt;
        async fn boom() -> &'static str {
            panic!("secret detail of the panic")
        }
        let app = axum::Router::new()
            .route("/boom", axum::routing::get(boom))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                panic_response,
            ))
            .layer(axum::middleware::from_fn(finish));
        let req = Request::builder()
            .uri("/boom")
            .body(axum::body::Body::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        let resp = app.oneshot(req).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            resp.headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON)
        );
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let body: Json = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body["type"], "urn:rmmhunt:problem:internal");
        assert_eq!(body["instance"], "/boom");
        assert!(!body.to_string().contains("secret detail"), "{body}");
    }

    #[test]
    fn slugs_follow_the_contract() {
        for (status, slug) in [
            (400, "bad-request"),
            (404, "not-found"),
            (405, "method-not-allowed"),
            (413, "payload-too-large"),
            (415, "unsupported-media-type"),
            (500, "internal"),
            (504, "deadline"),
        ] {
            let s = StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT);
            let body = Problem::from_status(s).body("/x", "id");
            assert_eq!(body["type"], format!("urn:rmmhunt:problem:{slug}"));
            assert_eq!(body["status"], status);
        }
    }
}
