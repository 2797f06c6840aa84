//! Placeholder of the API's caller check (the auth work replaces this file;
//! same interface): `host` and `none` let every request through, `key` and
//! `entra` are refused with 401 until the real check is merged, so the API
//! is never open by accident.

use super::problem::Problem;
use crate::config::ApiAuth;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Checks callers of `/api/*`.
pub struct Authorizer {
    open: bool,
}

impl Authorizer {
    pub fn from_config(auth: &ApiAuth, _http: reqwest::Client) -> Result<Authorizer, String> {
        Ok(Authorizer {
            open: matches!(auth, ApiAuth::Host | ApiAuth::None),
        })
    }
}

/// The middleware in front of `/api/*`.
pub async fn require(State(auth): State<Arc<Authorizer>>, req: Request, next: Next) -> Response {
    if auth.open {
        return next.run(req).await;
    }
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or invalid credentials",
    )
    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    .into_response()
}
