//! `serve::auth::require` in front of a tiny router, driven with `oneshot`:
//! API keys, and Entra bearer tokens signed here with the test-only keys of
//! `tests/fixtures/jwt/` and checked against a JWKS served on 127.0.0.1.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rmmhunt::config::{ApiAuth, EntraAuth, Secret};
use rmmhunt::serve::auth::{require, Authorizer};
use rmmhunt::serve::problem::finish;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AUDIENCE: &str = "api://rmmhunt-test";
const AUTHORITY: &str = "https://login.microsoftonline.com";
const API_KEY: &str = "0123456789abcdef-test-only-key";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A JWKS endpoint on 127.0.0.1 whose answer tests change, counting hits.
struct Jwks {
    url: String,
    hits: Arc<AtomicUsize>,
    answer: Arc<Mutex<(StatusCode, Vec<u8>)>>,
}

impl Jwks {
    async fn start(body: Vec<u8>) -> Jwks {
        let hits = Arc::new(AtomicUsize::new(0));
        let answer = Arc::new(Mutex::new((StatusCode::OK, body)));
        let (h, a) = (hits.clone(), answer.clone());
        let app = Router::new().route(
            "/tenant/discovery/v2.0/keys",
            get(move || {
                let (h, a) = (h.clone(), a.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = a.lock().unwrap().clone();
                    (status, [(header::CONTENT_TYPE, "application/json")], body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Jwks {
            url: format!("http://{addr}/tenant/discovery/v2.0/keys"),
            hits,
            answer,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn set(&self, status: StatusCode, body: Vec<u8>) {
        *self.answer.lock().unwrap() = (status, body);
    }
}

fn entra(jwks_url: &str, role: Option<&str>) -> ApiAuth {
    ApiAuth::Entra(EntraAuth {
        tenant_id: TENANT.into(),
        audience: AUDIENCE.into(),
        jwks_url: jwks_url.into(),
        authority: AUTHORITY.into(),
        required_role: role.map(String::from),
    })
}

fn guarded(auth: Authorizer) -> Router {
    Router::new()
        .route("/api/rules", get(|| async { "rules" }))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(auth),
            require,
        ))
        // outermost, as in the server: renders the problem bodies
        .layer(axum::middleware::from_fn(finish))
}

fn claims() -> Value {
    let t = now();
    json!({
        "aud": AUDIENCE,
        "iss": format!("{AUTHORITY}/{TENANT}/v2.0"),
        "iat": t - 60,
        "nbf": t - 60,
        "exp": t + 3600,
        "tid": TENANT,
        "roles": ["Hunt.Run"],
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn sign_with(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, key).unwrap_or_else(|e| panic!("{e}"))
}

/// RS256 with the private key of `name` (`signing`, `rotated`, `other`).
fn sign(name: &str, kid: &str, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_der(&fixture(&format!("{name}.key.der")));
    sign_with(Algorithm::RS256, Some(kid), &key, claims)
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn call(app: &Router, headers: &[(&str, &[u8])]) -> Answer {
    let mut request = Request::builder().uri("/api/rules");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn bearer(app: &Router, token: &str) -> Answer {
    let value = format!("Bearer {token}");
    call(app, &[("authorization", value.as_bytes())]).await
}

/// The answer is the contract's problem+json with this slug and status.
fn assert_problem(a: &Answer, status: StatusCode, slug: &str, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.body);
    assert_eq!(
        a.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}"
    );
    let body: Value = serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(
        body["type"],
        format!("urn:rmmhunt:problem:{slug}"),
        "{what}"
    );
    assert_eq!(body["status"], status.as_u16(), "{what}");
    assert_eq!(body["instance"], "/api/rules", "{what}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{what}"
    );
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        assert!(
            a.headers.contains_key(header::WWW_AUTHENTICATE),
            "{what}: no WWW-Authenticate"
        );
    }
}

/// The problem's detail names the check that failed.
fn assert_detail(a: &Answer, needle: &str, what: &str) {
    let body: Value = serde_json::from_str(&a.body).unwrap();
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(needle),
        "{what}: detail `{detail}` lacks `{needle}`"
    );
}

#[tokio::test]
async fn host_and_none_let_everything_pass() {
    for auth in [ApiAuth::Host, ApiAuth::None] {
        let app = guarded(Authorizer::from_config(&auth, reqwest::Client::new()).unwrap());
        assert_eq!(call(&app, &[]).await.status, StatusCode::OK);
        let a = call(&app, &[("authorization", b"Bearer junk")]).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body, "rules");
    }
}

#[tokio::test]
async fn api_key_right_wrong_missing_and_other_lengths() {
    let auth = ApiAuth::Key(Secret::new(API_KEY));
    let app = guarded(Authorizer::from_config(&auth, reqwest::Client::new()).unwrap());
    let a = call(&app, &[("x-api-key", API_KEY.as_bytes())]).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "rules"));

    let wrong_last = format!("{}X", &API_KEY[..API_KEY.len() - 1]);
    let longer = format!("{API_KEY}0");
    for (what, headers) in [
        ("missing", vec![]),
        ("wrong", vec![("x-api-key", wrong_last.as_bytes())]),
        ("shorter", vec![("x-api-key", &API_KEY.as_bytes()[..8])]),
        ("longer", vec![("x-api-key", longer.as_bytes())]),
        ("empty", vec![("x-api-key", &b""[..])]),
        ("not utf-8", vec![("x-api-key", &b"\xff\xfe"[..])]),
        (
            "twice",
            vec![
                ("x-api-key", API_KEY.as_bytes()),
                ("x-api-key", API_KEY.as_bytes()),
            ],
        ),
        (
            "as a bearer",
            vec![("authorization", b"Bearer 0123456789abcdef-test-only-key")],
        ),
    ] {
        let a = call(&app, &headers).await;
        assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthorized", what);
        assert!(!a.body.contains(API_KEY), "{what}: the key is in the body");
    }
}

#[tokio::test]
async fn problem_carries_a_valid_caller_request_id_only() {
    let auth = ApiAuth::Key(Secret::new(API_KEY));
    let app = guarded(Authorizer::from_config(&auth, reqwest::Client::new()).unwrap());
    let a = call(&app, &[("x-request-id", b"abc-123.X_y")]).await;
    let body: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(body["request_id"], "abc-123.X_y");
    // an invalid caller id is not echoed: a new UUID v4 stands in (the
    // contract's rule, as for every other problem)
    let a = call(&app, &[("x-request-id", b"has space")]).await;
    let body: Value = serde_json::from_str(&a.body).unwrap();
    let id = body["request_id"].as_str().unwrap_or_default();
    assert_eq!(
        uuid::Uuid::parse_str(id).map(|u| u.get_version_num()).ok(),
        Some(4),
        "{body}"
    );
}

#[tokio::test]
async fn entra_accepts_v1_and_v2_tokens_and_checks_each_claim() {
    let jwks = Jwks::start(fixture("jwks.json")).await;
    let app =
        guarded(Authorizer::from_config(&entra(&jwks.url, None), reqwest::Client::new()).unwrap());
    let t = now();

    let ok = [
        ("v2 issuer", claims()),
        (
            "v1 issuer",
            with(
                claims(),
                "iss",
                json!(format!("https://sts.windows.net/{TENANT}/")),
            ),
        ),
        (
            "aud as a list",
            with(claims(), "aud", json!(["other", AUDIENCE])),
        ),
        (
            "expired within the leeway",
            with(claims(), "exp", json!(t - 200)),
        ),
        (
            "nbf within the leeway",
            with(claims(), "nbf", json!(t + 200)),
        ),
        (
            "no roles, none required",
            with(claims(), "roles", json!(null)),
        ),
    ];
    for (what, c) in ok {
        let c = if c["roles"].is_null() {
            let mut c = c;
            c.as_object_mut().unwrap().remove("roles");
            c
        } else {
            c
        };
        let a = bearer(&app, &sign("signing", "test-key-1", &c)).await;
        assert_eq!(a.status, StatusCode::OK, "{what}: {}", a.body);
    }
    assert_eq!(jwks.hits(), 1, "the keys are cached");

    let other_tenant = "00000000-0000-0000-0000-000000000001";
    let bad = [
        ("wrong aud", with(claims(), "aud", json!("api://other"))),
        ("no aud", with(claims(), "aud", json!(null))),
        (
            "wrong iss",
            with(
                claims(),
                "iss",
                json!(format!("{AUTHORITY}/{other_tenant}/v2.0")),
            ),
        ),
        (
            "v1 iss of another tenant",
            with(
                claims(),
                "iss",
                json!(format!("https://sts.windows.net/{other_tenant}/")),
            ),
        ),
        ("expired", with(claims(), "exp", json!(t - 400))),
        ("no exp", with(claims(), "exp", json!(null))),
        ("nbf in the future", with(claims(), "nbf", json!(t + 400))),
        ("exp not a number", with(claims(), "exp", json!("tomorrow"))),
    ];
    for (what, c) in bad {
        let mut c = c;
        let obj = c.as_object_mut().unwrap();
        obj.retain(|_, v| !v.is_null());
        let token = sign("signing", "test-key-1", &c);
        let a = bearer(&app, &token).await;
        assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthorized", what);
        assert!(!a.body.contains(&token), "{what}: the token is in the body");
        let check = match what {
            "wrong aud" => "audience",
            "wrong iss" | "v1 iss of another tenant" => "issuer",
            "expired" => "expired",
            "nbf in the future" => "not valid yet",
            _ => "claim",
        };
        assert_detail(&a, check, what);
    }
}

#[tokio::test]
async fn entra_rejects_forged_and_malformed_tokens() {
    let jwks = Jwks::start(fixture("jwks.json")).await;
    let app =
        guarded(Authorizer::from_config(&entra(&jwks.url, None), reqwest::Client::new()).unwrap());
    let c = claims();
    let good = sign("signing", "test-key-1", &c);
    assert_eq!(bearer(&app, &good).await.status, StatusCode::OK);

    // The other key under the published kid: the signature does not verify.
    let forged = sign("other", "test-key-1", &c);
    // HS256 keyed with the public key (the classic algorithm confusion).
    let hs = sign_with(
        Algorithm::HS256,
        Some("test-key-1"),
        &EncodingKey::from_secret(&fixture("signing.pub.pem")),
        &c,
    );
    // alg none: the header says none and there is no signature.
    let b64 = |v: &Value| base64url(v.to_string().as_bytes());
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "test-key-1"})),
        b64(&c)
    );
    let none_rs = format!(
        "{}.{}.",
        b64(&json!({"alg": "RS256", "typ": "JWT", "kid": "test-key-1"})),
        b64(&c)
    );
    // A good signature over other claims spliced onto these claims.
    let parts: Vec<&str> = good.split('.').collect();
    let spliced = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with(claims(), "aud", json!("api://other"))),
        parts[2]
    );
    let no_kid = sign_with(
        Algorithm::RS256,
        None,
        &EncodingKey::from_rsa_der(&fixture("signing.key.der")),
        &c,
    );
    let ps256 = sign_with(
        Algorithm::PS256,
        Some("test-key-1"),
        &EncodingKey::from_rsa_der(&fixture("signing.key.der")),
        &c,
    );
    for (what, token) in [
        ("signed by another key", forged.as_str()),
        ("HS256 with the public key", &hs),
        ("alg none", &none),
        ("RS256 without a signature", &none_rs),
        ("spliced claims", &spliced),
        ("no kid", &no_kid),
        ("PS256", &ps256),
        ("not a jwt", "abc"),
        ("two parts", "abc.def"),
        ("garbage parts", "a.b.c"),
    ] {
        let a = bearer(&app, token).await;
        assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthorized", what);
        let check = match what {
            "signed by another key" | "spliced claims" | "RS256 without a signature" => "signature",
            _ => "well-formed",
        };
        assert_detail(&a, check, what);
    }

    let long = format!("Bearer {}", "a".repeat(20_000));
    for (what, value) in [
        ("basic", &b"Basic dXNlcjpwYXNz"[..]),
        ("no token", b"Bearer"),
        ("bearer and spaces", b"Bearer    "),
        ("not utf-8", b"Bearer \xff\xfe\xfd"),
        ("token without scheme", good.as_bytes()),
        ("huge", long.as_bytes()),
    ] {
        let a = call(&app, &[("authorization", value)]).await;
        assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthorized", what);
    }
    let a = call(&app, &[]).await;
    assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthorized", "no header");
    assert_eq!(
        a.headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer realm=\"rmmhunt\""
    );
    let twice = format!("Bearer {good}");
    let a = call(
        &app,
        &[
            ("authorization", twice.as_bytes()),
            ("authorization", twice.as_bytes()),
        ],
    )
    .await;
    assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthorized", "two headers");
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[tokio::test]
async fn entra_requires_the_role_when_set() {
    let jwks = Jwks::start(fixture("jwks.json")).await;
    let app = guarded(
        Authorizer::from_config(&entra(&jwks.url, Some("Hunt.Run")), reqwest::Client::new())
            .unwrap(),
    );
    let a = bearer(&app, &sign("signing", "test-key-1", &claims())).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    for (what, roles) in [
        ("other role", json!(["Hunt.Read"])),
        ("empty", json!([])),
        ("case differs", json!(["hunt.run"])),
    ] {
        let c = with(claims(), "roles", roles);
        let a = bearer(&app, &sign("signing", "test-key-1", &c)).await;
        assert_problem(&a, StatusCode::FORBIDDEN, "forbidden", what);
        assert!(a.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("insufficient_scope"));
    }
    let mut c = claims();
    c.as_object_mut().unwrap().remove("roles");
    let a = bearer(&app, &sign("signing", "test-key-1", &c)).await;
    assert_problem(&a, StatusCode::FORBIDDEN, "forbidden", "no roles claim");
    // A malformed roles claim is a bad token, not a missing role.
    let c = with(claims(), "roles", json!("Hunt.Run"));
    let a = bearer(&app, &sign("signing", "test-key-1", &c)).await;
    assert_problem(
        &a,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "roles not a list",
    );
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval_and_finds_rotated_keys() {
    let c = claims();
    // Signed up front: RSA signing in a debug build takes a while.
    let rotated = sign("rotated", "test-key-2", &c);
    let nobody = sign("other", "nobody", &c);
    let old = sign("signing", "test-key-1", &c);
    let jwks = Jwks::start(fixture("jwks.json")).await;
    let interval = Duration::from_secs(1);
    let app = guarded(
        Authorizer::from_config(&entra(&jwks.url, None), reqwest::Client::new())
            .unwrap()
            .with_jwks_refetch_interval(interval),
    );
    assert_eq!(bearer(&app, &old).await.status, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);

    // Within the interval an unknown kid costs no fetch.
    let a = bearer(&app, &rotated).await;
    assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthorized", "unknown kid");
    assert_eq!(jwks.hits(), 1);

    // After it, one refetch; the kid is still unknown: 401, and the next
    // unknown kid right after costs nothing.
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    let a = bearer(&app, &rotated).await;
    assert_problem(
        &a,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "unknown kid after refetch",
    );
    assert_eq!(jwks.hits(), 2);
    for _ in 0..5 {
        let a = bearer(&app, &nobody).await;
        assert_problem(
            &a,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "another unknown kid",
        );
    }
    assert_eq!(jwks.hits(), 2, "unknown kids are rate-limited");

    // The issuer rotates: the new kid is found by the next allowed refetch,
    // and the old key keeps working.
    jwks.set(StatusCode::OK, fixture("jwks-rotated.json"));
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    assert_eq!(bearer(&app, &rotated).await.status, StatusCode::OK);
    assert_eq!(jwks.hits(), 3);
    assert_eq!(bearer(&app, &old).await.status, StatusCode::OK);
    assert_eq!(jwks.hits(), 3);
}

#[tokio::test]
async fn unreachable_or_broken_jwks_is_503_not_401_or_500() {
    let jwks = Jwks::start(b"{}".to_vec()).await;
    jwks.set(StatusCode::INTERNAL_SERVER_ERROR, b"oops".to_vec());
    let interval = Duration::from_secs(1);
    let app = guarded(
        Authorizer::from_config(&entra(&jwks.url, None), reqwest::Client::new())
            .unwrap()
            .with_jwks_refetch_interval(interval),
    );
    let token = sign("signing", "test-key-1", &claims());
    for _ in 0..3 {
        let a = bearer(&app, &token).await;
        assert_problem(
            &a,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "jwks 500",
        );
        assert_eq!(a.headers[header::RETRY_AFTER], "60");
        assert!(!a.body.contains("oops"));
    }
    assert_eq!(jwks.hits(), 1, "failed fetches are rate-limited too");

    for body in [
        &b"not json"[..],
        br#"{"keys":[{"kty":"oct","kid":"x","k":"AA"}]}"#,
    ] {
        jwks.set(StatusCode::OK, body.to_vec());
        tokio::time::sleep(interval + Duration::from_millis(50)).await;
        let a = bearer(&app, &token).await;
        assert_problem(
            &a,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "bad jwks",
        );
    }

    jwks.set(StatusCode::OK, fixture("jwks.json"));
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    assert_eq!(bearer(&app, &token).await.status, StatusCode::OK);

    // Nothing listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/keys");
    let app = guarded(Authorizer::from_config(&entra(&url, None), reqwest::Client::new()).unwrap());
    let a = bearer(&app, &token).await;
    assert_problem(
        &a,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "nothing listening",
    );
}

#[test]
fn from_config_refuses_a_bad_jwks_url() {
    let err = Authorizer::from_config(&entra("not a url", None), reqwest::Client::new());
    assert!(err.is_err());
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_or_key_reaches_the_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let key_app = guarded(
        Authorizer::from_config(&ApiAuth::Key(Secret::new(API_KEY)), reqwest::Client::new())
            .unwrap(),
    );
    let near_miss = format!("{API_KEY}x");
    call(&key_app, &[("x-api-key", near_miss.as_bytes())]).await;
    call(&key_app, &[("x-api-key", API_KEY.as_bytes())]).await;

    let jwks = Jwks::start(fixture("jwks.json")).await;
    let app = guarded(
        Authorizer::from_config(&entra(&jwks.url, Some("Hunt.Run")), reqwest::Client::new())
            .unwrap(),
    );
    let expired = sign(
        "signing",
        "test-key-1",
        &with(claims(), "exp", json!(now() - 1000)),
    );
    let forged = sign("other", "test-key-1", &claims());
    let no_role = sign("signing", "test-key-1", &with(claims(), "roles", json!([])));
    let good = sign("signing", "test-key-1", &claims());
    for token in [&expired, &forged, &no_role, &good] {
        bearer(&app, token).await;
    }

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("request refused"), "{text}");
    assert!(!text.contains(API_KEY), "the API key is logged: {text}");
    for token in [&expired, &forged, &no_role, &good] {
        // The signature part is what makes a token usable.
        let signature = token.rsplit('.').next().unwrap();
        assert!(!text.contains(signature), "a token is logged: {text}");
    }
}
