//! Managed identity token endpoint: App Service protocol and IMDS form.

use crate::common::*;
use fake_azure::{Api, Fault, LOG_ANALYTICS_AUDIENCE};

#[test]
fn app_service_protocol_issues_tokens_per_audience() {
    let f = fake();
    let r = send(
        client()
            .get(f.identity_endpoint())
            .query(&[
                ("api-version", "2019-08-01"),
                ("resource", LOG_ANALYTICS_AUDIENCE),
            ])
            .header("X-IDENTITY-HEADER", f.identity_header()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    for key in [
        "access_token",
        "expires_on",
        "resource",
        "token_type",
        "client_id",
    ] {
        assert!(v[key].is_string(), "{key} must be a JSON string: {v}");
    }
    assert_eq!(v["resource"], LOG_ANALYTICS_AUDIENCE);
    assert_eq!(v["token_type"], "Bearer");
    let exp: u64 = v["expires_on"].as_str().unwrap_or("").parse().unwrap_or(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    assert!(
        exp > now + 3000 && exp <= now + 3700,
        "expires_on {exp} vs now {now}"
    );
    assert_eq!(f.tokens_issued(), 1);
    // The secret header is never logged.
    let logged = f.requests_to(Api::Token);
    assert_eq!(logged[0].header("x-identity-header"), Some("<redacted>"));
}

#[test]
fn app_service_errors() {
    let f = fake();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, u16);
    let cases: Vec<Case> = vec![
        (
            "no header",
            vec![("api-version", "2019-08-01"), ("resource", "https://x")],
            None,
            400,
        ),
        (
            "wrong header",
            vec![("api-version", "2019-08-01"), ("resource", "https://x")],
            Some("nope"),
            401,
        ),
        (
            "no resource",
            vec![("api-version", "2019-08-01")],
            Some(fake_azure::DEFAULT_IDENTITY_HEADER),
            400,
        ),
        (
            "no api-version",
            vec![("resource", "https://x")],
            Some(fake_azure::DEFAULT_IDENTITY_HEADER),
            400,
        ),
    ];
    for (name, params, header, want) in cases {
        let mut rb = client().get(f.identity_endpoint()).query(&params);
        if let Some(h) = header {
            rb = rb.header("X-IDENTITY-HEADER", h);
        }
        let r = send(rb);
        assert_eq!(r.status, want, "{name}: {}", r.text);
        assert!(r.json()["message"].is_string(), "{name}: {}", r.text);
    }
    // Unknown user-assigned identity.
    f.set_client_ids(&["aaaaaaaa-0000-0000-0000-000000000001"]);
    let r = send(
        client()
            .get(f.identity_endpoint())
            .query(&[
                ("api-version", "2019-08-01"),
                ("resource", "https://x"),
                ("client_id", "bbbbbbbb-0000-0000-0000-000000000002"),
            ])
            .header("X-IDENTITY-HEADER", f.identity_header()),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    let r = send(
        client()
            .get(f.identity_endpoint())
            .query(&[
                ("api-version", "2019-08-01"),
                ("resource", "https://x"),
                ("client_id", "aaaaaaaa-0000-0000-0000-000000000001"),
            ])
            .header("X-IDENTITY-HEADER", f.identity_header()),
    );
    assert_eq!(
        r.json()["client_id"],
        "aaaaaaaa-0000-0000-0000-000000000001"
    );
}

#[test]
fn token_faults() {
    let f = fake();
    f.push_fault(
        Api::Token,
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
    );
    f.push_fault(
        Api::Token,
        Fault::Throttle {
            retry_after_secs: 2,
        },
    );
    f.push_fault(Api::Token, Fault::IdentityUnavailable);
    let get = || {
        send(
            client()
                .get(f.identity_endpoint())
                .query(&[
                    ("api-version", "2019-08-01"),
                    ("resource", LOG_ANALYTICS_AUDIENCE),
                ])
                .header("X-IDENTITY-HEADER", f.identity_header()),
        )
    };
    assert_eq!(get().status, 500);
    let r = get();
    assert_eq!((r.status, r.header("retry-after")), (429, Some("2".into())));
    assert_eq!(get().status, 400);
    assert_eq!(get().status, 200);
}

#[test]
fn imds_form() {
    let f = fake();
    let r = send(
        client()
            .get(f.imds_endpoint())
            .query(&[
                ("api-version", "2018-02-01"),
                ("resource", "https://management.azure.com/"),
            ])
            .header("Metadata", "true"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    for key in [
        "access_token",
        "client_id",
        "expires_in",
        "expires_on",
        "ext_expires_in",
        "not_before",
        "resource",
        "token_type",
    ] {
        assert!(v[key].is_string(), "{key}: {v}");
    }
    let r = send(client().get(f.imds_endpoint()).query(&[
        ("api-version", "2018-02-01"),
        ("resource", "https://management.azure.com/"),
    ]));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[test]
fn expired_and_revoked_tokens_are_refused() {
    let f = fake();
    f.set_token_lifetime(std::time::Duration::from_secs(0));
    let tok = token(&f, LOG_ANALYTICS_AUDIENCE);
    let r = send(
        client()
            .post(la_url(&f))
            .bearer_auth(tok)
            .json(&serde_json::json!({"query": "print 1"})),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    f.set_token_lifetime(std::time::Duration::from_secs(3600));
    let tok = token(&f, LOG_ANALYTICS_AUDIENCE);
    f.revoke_tokens();
    let r = send(
        client()
            .post(la_url(&f))
            .bearer_auth(tok)
            .json(&serde_json::json!({"query": "print 1"})),
    );
    assert_eq!(r.status, 403, "{}", r.text);
}

#[test]
fn env_points_every_setting_at_the_fake() {
    let f = fake();
    let env: std::collections::HashMap<String, String> = f.env().into_iter().collect();
    let cases = [
        ("IDENTITY_ENDPOINT", f.identity_endpoint()),
        ("IDENTITY_HEADER", f.identity_header()),
        ("RMMHUNT_LOGANALYTICS_ENDPOINT", f.base_url()),
        ("RMMHUNT_GRAPH_ENDPOINT", f.base_url()),
        ("RMMHUNT_ARM_ENDPOINT", f.base_url()),
        ("RMMHUNT_WORKSPACE_ID", f.workspace_id()),
        (
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
            fake_azure::DEFAULT_SUBSCRIPTION_ID.to_string(),
        ),
        (
            "RMMHUNT_SENTINEL_RESOURCE_GROUP",
            fake_azure::DEFAULT_RESOURCE_GROUP.to_string(),
        ),
        (
            "RMMHUNT_SENTINEL_WORKSPACE",
            fake_azure::DEFAULT_SENTINEL_WORKSPACE.to_string(),
        ),
    ];
    for (k, want) in cases {
        assert_eq!(env.get(k), Some(&want), "{k}");
    }
    assert!(
        f.base_url().starts_with("http://127.0.0.1:"),
        "{}",
        f.base_url()
    );
}
