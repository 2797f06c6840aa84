//! The managed identity token endpoint, in two forms:
//! - App Service (`GET /msi/token?api-version=2019-08-01&resource=...` with
//!   `X-IDENTITY-HEADER`) answering `{access_token, expires_on (a string),
//!   resource, token_type, client_id}`;
//! - IMDS (`GET /metadata/identity/oauth2/token?api-version=...&resource=...`
//!   with `Metadata: true`) answering every value as a string.
//!
//! Tokens are opaque (`fake.<uuid>`), remembered with their audience and
//! expiry; the APIs check them through `server::check_bearer`.

use crate::server::{envelope, App, Reply, Req};
use crate::{Api, Fault};
use serde_json::json;

pub(crate) fn handle(app: &App, req: &Req, fault: Option<Fault>) -> Reply {
    let imds = req
        .path
        .eq_ignore_ascii_case("/metadata/identity/oauth2/token");
    if req.method != "GET" {
        return bad(imds, 405, "invalid_request", "Only GET is supported.", req);
    }
    if imds {
        if !req
            .header("metadata")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return bad(
                imds,
                400,
                "invalid_request",
                "Required metadata header not specified",
                req,
            );
        }
    } else {
        let expected = app.st().identity_header.clone();
        match req.header("x-identity-header") {
            Some(v) if v == expected => {}
            Some(_) => {
                return bad(
                    imds,
                    401,
                    "unauthorized",
                    "The X-IDENTITY-HEADER value is not valid.",
                    req,
                )
            }
            None => {
                return bad(
                    imds,
                    400,
                    "invalid_request",
                    "The X-IDENTITY-HEADER header is required.",
                    req,
                )
            }
        }
    }
    if req.param("api-version").is_none() {
        return bad(
            imds,
            400,
            "invalid_request",
            "The api-version parameter is required.",
            req,
        );
    }
    let Some(resource) = req.param("resource").filter(|r| !r.trim().is_empty()) else {
        return bad(
            imds,
            400,
            "invalid_request",
            "The resource parameter is required.",
            req,
        );
    };
    let client = req
        .param("client_id")
        .or_else(|| req.param("clientid"))
        .filter(|c| !c.is_empty());
    let mut st = app.st();
    if let Some(c) = &client {
        if !st.client_ids.is_empty() && !st.client_ids.iter().any(|k| k.eq_ignore_ascii_case(c)) {
            drop(st);
            return bad(
                imds,
                400,
                "invalid_request",
                &format!("Identity not found: no user-assigned identity with client_id {c}"),
                req,
            );
        }
    }
    if fault == Some(Fault::IdentityUnavailable) {
        drop(st);
        return bad(
            imds,
            400,
            "invalid_request",
            "Identity not found: the managed identity is not assigned to this resource.",
            req,
        );
    }
    let client_id = client.unwrap_or_else(|| crate::DEFAULT_CLIENT_ID.to_string());
    let (token, expires_on) = st.issue_token(&resource, Some(&client_id));
    let lifetime = st.token_lifetime.as_secs();
    drop(st);
    if imds {
        let now = expires_on.saturating_sub(lifetime);
        Reply::json(
            200,
            &json!({
                "access_token": token,
                "client_id": client_id,
                "expires_in": lifetime.to_string(),
                "expires_on": expires_on.to_string(),
                "ext_expires_in": lifetime.to_string(),
                "not_before": now.to_string(),
                "resource": resource,
                "token_type": "Bearer",
            }),
        )
    } else {
        Reply::json(
            200,
            &json!({
                "access_token": token,
                "expires_on": expires_on.to_string(),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": client_id,
            }),
        )
    }
}

fn bad(imds: bool, status: u16, code: &str, message: &str, req: &Req) -> Reply {
    if imds {
        Reply::json(
            status,
            &json!({"error": code, "error_description": message}),
        )
    } else {
        envelope(Api::Token, status, Some(code), message, req)
    }
}
