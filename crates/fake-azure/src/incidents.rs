//! The Sentinel incidents API over ARM (reference section C.2):
//! `.../providers/Microsoft.SecurityInsights/incidents[/{id}[/comments[/{cid}]]]`
//! with `api-version`, GET/PUT/DELETE/list, comments PUT/GET/list/DELETE,
//! and the read-only listings (alerts, bookmarks, entities) answered empty.
//!
//! PUT bodies are validated against the copied spec (`Incident`,
//! `IncidentComment`); read-only properties are rejected unless
//! [`crate::FakeAzure::set_reject_read_only`] turns that off. PUT is a
//! replace: properties not sent are gone (read-only ones are kept). Etags:
//! each write gives a new quoted etag; a PUT whose `etag` (body) or
//! `If-Match` differs from the stored one fails with 409 Conflict "Newer
//! version of resource ... exists", as observed on the real service (no 412
//! is documented). Errors are ARM `CloudError`s.

use crate::server::{check_bearer, envelope, App, AuthFailure, Reply, Req};
use crate::spec::validate_incidents_definition;
use crate::state::{new_etag, StoredComment, StoredIncident};
use crate::{Api, Fault};
use serde_json::{json, Map, Value as J};

/// api-versions the fake accepts (stable and the previews in the reference).
pub const API_VERSIONS: &[&str] = &[
    "2025-12-01",
    "2025-10-01-preview",
    "2025-09-01",
    "2025-07-01-preview",
    "2025-06-01",
    "2025-03-01",
    "2024-09-01",
    "2024-03-01",
    "2023-11-01",
    "2023-02-01",
    "2022-11-01",
    "2022-08-01",
];

const AUDIENCES: &[&str] = &[crate::ARM_AUDIENCE, "https://management.core.windows.net"];

/// Top-level read-only members ARM ignores in PUT bodies (a GET echoed back).
const ENVELOPE_READ_ONLY: &[&str] = &["id", "name", "type", "systemData"];

fn err(status: u16, code: &str, message: &str, req: &Req) -> Reply {
    envelope(Api::Arm, status, Some(code), message, req)
}

fn auth_error(f: AuthFailure, req: &Req) -> Reply {
    match f {
        AuthFailure::Missing => err(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            req,
        ),
        AuthFailure::Invalid => err(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            req,
        ),
        AuthFailure::Expired => err(
            401,
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
            req,
        ),
        AuthFailure::WrongAudience(a) => err(
            401,
            "InvalidAuthenticationTokenAudience",
            &format!("The access token has been obtained for wrong audience or resource '{a}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."),
            req,
        ),
    }
}

/// What a path addresses.
enum Target {
    Collection,
    Incident(String),
    Comments(String),
    Comment(String, String),
    /// `POST .../incidents/{id}/alerts|bookmarks|entities`.
    Listing(String, String),
}

/// Splits an incidents path into the workspace key (lower-cased prefix up
/// to `.../incidents`), the path prefix as sent, and the target.
fn parse_path(path: &str) -> Option<(String, String, Target)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let fixed = [
        (0, "subscriptions"),
        (2, "resourceGroups"),
        (4, "providers"),
        (5, "Microsoft.OperationalInsights"),
        (6, "workspaces"),
        (8, "providers"),
        (9, "Microsoft.SecurityInsights"),
        (10, "incidents"),
    ];
    for (i, want) in fixed {
        if !segs.get(i)?.eq_ignore_ascii_case(want) {
            return None;
        }
    }
    if segs.iter().take(11).any(|s| s.is_empty()) {
        return None;
    }
    let prefix = format!("/{}", segs.get(..11)?.join("/"));
    let key = prefix.to_ascii_lowercase();
    let target = match segs.get(11..)? {
        [] => Target::Collection,
        [id] => Target::Incident(id.to_string()),
        [id, c] if c.eq_ignore_ascii_case("comments") => Target::Comments(id.to_string()),
        [id, c, cid] if c.eq_ignore_ascii_case("comments") => {
            Target::Comment(id.to_string(), cid.to_string())
        }
        [id, l] => Target::Listing(id.to_string(), l.to_ascii_lowercase()),
        _ => return None,
    };
    Some((key, prefix, target))
}

fn key_of(inc: &StoredIncident) -> String {
    inc.id.to_ascii_lowercase()
}

pub(crate) fn handle(app: &App, req: &Req, fault: Option<Fault>) -> Reply {
    let Some((ws_key, prefix, target)) = parse_path(&req.path) else {
        return err(
            404,
            "InvalidResourceType",
            &format!(
                "The resource type could not be found for path '{}'.",
                req.path
            ),
            req,
        );
    };
    if let Err(f) = check_bearer(app, req, AUDIENCES) {
        return auth_error(f, req);
    }
    match req.param("api-version") {
        None => {
            return err(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
                req,
            )
        }
        Some(v) if !API_VERSIONS.contains(&v.as_str()) => {
            return err(
                400,
                "NoRegisteredProviderFound",
                &format!("No registered resource provider found for API version '{v}' and type 'incidents'. The supported api-versions are '{}'.", API_VERSIONS.join(", ")),
                req,
            )
        }
        Some(_) => {}
    }
    let m = req.method.as_str();
    match (m, target) {
        ("GET", Target::Collection) => list(app, req, &ws_key),
        ("GET", Target::Incident(id)) => match find(app, &ws_key, &id) {
            Some(inc) => Reply::json(200, &inc.to_json()),
            None => not_found(&id, req),
        },
        ("PUT", Target::Incident(id)) => put_incident(app, req, &prefix, &id, fault),
        ("DELETE", Target::Incident(id)) => {
            let mut st = app.st();
            let key = format!("{ws_key}/{}", id.to_ascii_lowercase());
            let before = st.incidents.len();
            st.incidents.retain(|i| key_of(i) != key);
            Reply::empty(if st.incidents.len() < before {
                200
            } else {
                204
            })
        }
        ("GET", Target::Comments(id)) => match find(app, &ws_key, &id) {
            Some(inc) => Reply::json(
                200,
                &json!({"value": inc.comments.iter().map(StoredComment::to_json).collect::<Vec<_>>()}),
            ),
            None => not_found(&id, req),
        },
        ("GET", Target::Comment(id, cid)) => match find(app, &ws_key, &id) {
            Some(inc) => match inc
                .comments
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(&cid))
            {
                Some(c) => Reply::json(200, &c.to_json()),
                None => not_found(&cid, req),
            },
            None => not_found(&id, req),
        },
        ("PUT", Target::Comment(id, cid)) => put_comment(app, req, &ws_key, &id, &cid),
        ("DELETE", Target::Comment(id, cid)) => {
            let mut st = app.st();
            let key = format!("{ws_key}/{}", id.to_ascii_lowercase());
            let Some(inc) = st.incidents.iter_mut().find(|i| key_of(i) == key) else {
                drop(st);
                return not_found(&id, req);
            };
            let before = inc.comments.len();
            inc.comments.retain(|c| !c.name.eq_ignore_ascii_case(&cid));
            let removed = inc.comments.len() < before;
            set_comment_count(inc);
            Reply::empty(if removed { 200 } else { 204 })
        }
        ("POST", Target::Listing(id, what)) => {
            if find(app, &ws_key, &id).is_none() {
                return not_found(&id, req);
            }
            match what.as_str() {
                "alerts" | "bookmarks" => Reply::json(200, &json!({"value": []})),
                "entities" => Reply::json(200, &json!({"entities": [], "metaData": []})),
                _ => err(
                    404,
                    "InvalidResourceType",
                    "The resource type could not be found.",
                    req,
                ),
            }
        }
        _ => err(
            405,
            "UnsupportedApiVersion",
            &format!("The HTTP method '{m}' is not supported at '{}'.", req.path),
            req,
        ),
    }
}

fn not_found(id: &str, req: &Req) -> Reply {
    err(
        404,
        "NotFound",
        &format!("Resource '{id}' does not exist"),
        req,
    )
}

fn find(app: &App, ws_key: &str, id: &str) -> Option<StoredIncident> {
    let key = format!("{ws_key}/{}", id.to_ascii_lowercase());
    app.st()
        .incidents
        .iter()
        .find(|i| key_of(i) == key)
        .cloned()
}

fn list(app: &App, req: &Req, ws_key: &str) -> Reply {
    for unsupported in ["$filter", "$orderby"] {
        if req.param(unsupported).is_some() {
            // Better a loud failure than an unfiltered list the client
            // would take for a filtered one.
            return err(
                400,
                "BadRequest",
                &format!("fake-azure does not implement {unsupported} on the incidents list"),
                req,
            );
        }
    }
    let all: Vec<J> = app
        .st()
        .incidents
        .iter()
        .filter(|i| key_of(i).starts_with(&format!("{ws_key}/")))
        .map(StoredIncident::to_json)
        .collect();
    let top = req
        .param("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let skip = req
        .param("$skipToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<J> = all.iter().skip(skip).take(top).cloned().collect();
    let mut body = json!({"value": page});
    if skip + top < all.len() {
        let host = req.header("host").unwrap_or("127.0.0.1");
        let version = req.param("api-version").unwrap_or_default();
        body["nextLink"] = J::String(format!(
            "http://{host}{}?api-version={version}&$top={top}&$skipToken={}",
            req.path,
            skip + top
        ));
    }
    Reply::json(200, &body)
}

/// Parses and validates a PUT body; `Err` is the reply to send.
fn checked_body(app: &App, req: &Req, definition: &str) -> Result<J, Reply> {
    let body: J = serde_json::from_slice(&req.body).map_err(|e| {
        err(
            400,
            "InvalidRequestContent",
            &format!("The request content was invalid and could not be deserialized: {e}"),
            req,
        )
    })?;
    let reject_ro = app.st().reject_read_only;
    let problems: Vec<String> = validate_incidents_definition(definition, &body)
        .into_iter()
        .filter(|v| !(v.read_only && ENVELOPE_READ_ONLY.contains(&v.path.as_str())))
        .filter(|v| reject_ro || !v.read_only)
        .map(|v| v.to_string())
        .collect();
    if !problems.is_empty() {
        return Err(err(
            400,
            "BadRequest",
            &format!("Invalid {definition}: {}", problems.join("; ")),
            req,
        ));
    }
    Ok(body)
}

/// Properties the service owns; kept across PUTs, never taken from a body.
const SERVICE_OWNED: &[&str] = &[
    "incidentNumber",
    "incidentUrl",
    "providerName",
    "providerIncidentId",
    "createdTimeUtc",
    "lastModifiedTimeUtc",
    "additionalData",
    "relatedAnalyticRuleIds",
];

fn set_comment_count(inc: &mut StoredIncident) {
    let n = inc.comments.len();
    if let Some(J::Object(ad)) = inc.properties.get_mut("additionalData") {
        ad.insert("commentsCount".into(), json!(n));
    }
}

fn put_incident(app: &App, req: &Req, prefix: &str, id: &str, fault: Option<Fault>) -> Reply {
    let body = match checked_body(app, req, "Incident") {
        Ok(b) => b,
        Err(r) => return r,
    };
    let sent_etag = body
        .get("etag")
        .and_then(J::as_str)
        .map(str::to_string)
        .or_else(|| req.header("if-match").map(str::to_string));
    let mut props: Map<String, J> = body
        .get("properties")
        .and_then(J::as_object)
        .cloned()
        .unwrap_or_default();
    for k in SERVICE_OWNED {
        props.remove(*k);
    }
    if let Some(J::Array(labels)) = props.get_mut("labels") {
        for l in labels.iter_mut() {
            if let Some(o) = l.as_object_mut() {
                o.entry("labelType").or_insert_with(|| json!("User"));
            }
        }
    }
    let conflict = |req: &Req| {
        err(
            409,
            "Conflict",
            &format!("Newer version of resource '{id}' exists. Data was not saved"),
            req,
        )
    };
    let mut st = app.st();
    let now = kql::time::format_datetime(st.now);
    let key = format!(
        "{}/{}",
        prefix.to_ascii_lowercase(),
        id.to_ascii_lowercase()
    );
    let require_etag = st.require_etag;
    if let Some(inc) = st.incidents.iter_mut().find(|i| key_of(i) == key) {
        if fault == Some(Fault::Conflict) {
            drop(st);
            return conflict(req);
        }
        match &sent_etag {
            Some(e) if e.trim() == "*" || e.trim() == inc.etag => {}
            Some(_) => {
                drop(st);
                return conflict(req);
            }
            None if require_etag => {
                drop(st);
                return conflict(req);
            }
            None => {}
        }
        for k in SERVICE_OWNED {
            if let Some(v) = inc.properties.get(*k) {
                props.insert(k.to_string(), v.clone());
            }
        }
        props.insert("lastModifiedTimeUtc".into(), json!(now));
        inc.properties = props;
        inc.etag = new_etag();
        return Reply::json(200, &inc.to_json());
    }
    if fault == Some(Fault::Conflict) {
        drop(st);
        return conflict(req);
    }
    let number = st.next_incident_number;
    st.next_incident_number += 1;
    let full_id = format!("{prefix}/{id}");
    props.insert("incidentNumber".into(), json!(number));
    props.insert(
        "incidentUrl".into(),
        json!(format!(
            "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident{full_id}"
        )),
    );
    props.insert("providerName".into(), json!("Azure Sentinel"));
    props.insert("providerIncidentId".into(), json!(number.to_string()));
    props.insert("createdTimeUtc".into(), json!(now));
    props.insert("lastModifiedTimeUtc".into(), json!(now));
    props.insert(
        "additionalData".into(),
        json!({"alertsCount": 0, "bookmarksCount": 0, "commentsCount": 0,
               "alertProductNames": [], "tactics": []}),
    );
    props.insert("relatedAnalyticRuleIds".into(), json!([]));
    props.entry("labels").or_insert_with(|| json!([]));
    let inc = StoredIncident {
        id: full_id,
        name: id.to_string(),
        etag: new_etag(),
        properties: props,
        comments: Vec::new(),
    };
    let out = inc.to_json();
    st.incidents.push(inc);
    Reply::json(201, &out)
}

fn put_comment(app: &App, req: &Req, ws_key: &str, id: &str, cid: &str) -> Reply {
    let body = match checked_body(app, req, "IncidentComment") {
        Ok(b) => b,
        Err(r) => return r,
    };
    let message = body
        .pointer("/properties/message")
        .cloned()
        .unwrap_or(J::Null);
    let mut st = app.st();
    let now = kql::time::format_datetime(st.now);
    let key = format!("{ws_key}/{}", id.to_ascii_lowercase());
    let Some(inc) = st.incidents.iter_mut().find(|i| key_of(i) == key) else {
        drop(st);
        return not_found(id, req);
    };
    if let Some(c) = inc
        .comments
        .iter_mut()
        .find(|c| c.name.eq_ignore_ascii_case(cid))
    {
        c.properties.insert("message".into(), message);
        c.properties
            .insert("lastModifiedTimeUtc".into(), json!(now));
        c.etag = new_etag();
        return Reply::json(200, &c.to_json());
    }
    let mut props = Map::new();
    props.insert("message".into(), message);
    props.insert("createdTimeUtc".into(), json!(now));
    props.insert("lastModifiedTimeUtc".into(), json!(now));
    props.insert(
        "author".into(),
        json!({"objectId": crate::DEFAULT_CLIENT_ID, "name": "fake-azure managed identity",
               "email": null, "userPrincipalName": null}),
    );
    let c = StoredComment {
        id: format!("{}/comments/{cid}", inc.id),
        name: cid.to_string(),
        etag: new_etag(),
        properties: props,
    };
    let out = c.to_json();
    inc.comments.push(c);
    set_comment_count(inc);
    Reply::json(201, &out)
}
