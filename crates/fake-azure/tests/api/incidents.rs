//! Sentinel incidents over ARM: create/replace/get/list/delete, etags,
//! comments, spec validation, auth and api-version errors, faults.

use crate::common::*;
use fake_azure::{Api, Fault, ARM_AUDIENCE};
use serde_json::json;

const ID: &str = "7b0ffc37-2e4c-5a0f-9a53-2d0c1b7e8f11";

fn body() -> serde_json::Value {
    json!({"properties": {
        "title": "Zoho Assist connection on pc01",
        "severity": "Medium",
        "status": "New",
        "description": "evidence",
        "labels": [{"labelName": "T1219"}],
        "firstActivityTimeUtc": "2024-03-26T08:00:00Z",
        "lastActivityTimeUtc": "2024-03-26T11:00:00Z"
    }})
}

fn put(f: &fake_azure::FakeAzure, tok: &str, id: &str, b: &serde_json::Value) -> Resp {
    send(client().put(incident_url(f, id)).bearer_auth(tok).json(b))
}

#[test]
fn create_get_replace_list_delete() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    let r = put(&f, &tok, ID, &body());
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json();
    assert_eq!(created["name"], ID);
    assert_eq!(created["type"], "Microsoft.SecurityInsights/incidents");
    assert_eq!(created["id"], format!("{WS_PATH}/{ID}"));
    let etag1 = created["etag"].as_str().unwrap_or("").to_string();
    assert!(
        etag1.starts_with('"') && etag1.ends_with('"'),
        "quoted etag {etag1}"
    );
    let p = &created["properties"];
    assert_eq!(p["incidentNumber"], 1);
    assert_eq!(p["providerName"], "Azure Sentinel");
    assert_eq!(p["providerIncidentId"], "1");
    assert_eq!(
        p["labels"],
        json!([{"labelName": "T1219", "labelType": "User"}])
    );
    assert!(p["createdTimeUtc"].is_string() && p["incidentUrl"].is_string());

    let r = send(client().get(incident_url(&f, ID)).bearer_auth(&tok));
    assert_eq!((r.status, r.json()), (200, created.clone()));

    // Replace with the current etag: 200, new etag, read-only fields kept,
    // omitted properties gone (PUT is a replace).
    let mut b = body();
    b["etag"] = json!(etag1);
    b["properties"]["status"] = json!("Active");
    b["properties"]
        .as_object_mut()
        .map(|o| o.remove("description"));
    let r = put(&f, &tok, ID, &b);
    assert_eq!(r.status, 200, "{}", r.text);
    let updated = r.json();
    assert_ne!(updated["etag"], created["etag"]);
    assert_eq!(updated["properties"]["incidentNumber"], 1);
    assert_eq!(updated["properties"]["status"], "Active");
    assert!(updated["properties"].get("description").is_none());

    let incs = f.incidents();
    assert_eq!(incs.len(), 1);
    assert_eq!(incs[0].prop_str("status"), Some("Active"));

    let r = put(&f, &tok, "second", &body());
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["properties"]["incidentNumber"], 2);
    let list_url = format!("{}{WS_PATH}?api-version=2025-09-01&$top=1", f.base_url());
    let r = send(client().get(&list_url).bearer_auth(&tok));
    let v = r.json();
    assert_eq!(v["value"].as_array().map(Vec::len), Some(1), "{v}");
    let next = v["nextLink"].as_str().unwrap_or("").to_string();
    assert!(next.contains("$skipToken=1"), "{v}");
    let r = send(client().get(&next).bearer_auth(&tok));
    assert_eq!(r.json()["value"][0]["name"], "second");
    assert!(r.json().get("nextLink").is_none());

    let filtered = format!(
        "{}{WS_PATH}?api-version=2025-09-01&$filter=properties/status eq 'New'",
        f.base_url()
    );
    let r = send(client().get(&filtered).bearer_auth(&tok));
    assert_eq!(
        r.status, 400,
        "unimplemented $filter fails loudly: {}",
        r.text
    );
    let r = send(
        client()
            .delete(incident_url(&f, "second"))
            .bearer_auth(&tok),
    );
    assert_eq!(r.status, 200);
    let r = send(
        client()
            .delete(incident_url(&f, "second"))
            .bearer_auth(&tok),
    );
    assert_eq!(r.status, 204);
    let r = send(client().get(incident_url(&f, "second")).bearer_auth(&tok));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "NotFound");
}

#[test]
fn stale_etag_is_a_409_conflict() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    let etag = put(&f, &tok, ID, &body()).json()["etag"].clone();
    // An analyst edits the incident in the portal: the etag changes.
    assert!(f.edit_incident(ID, |p| {
        p.insert(
            "owner".into(),
            json!({"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70"}),
        );
    }));
    let mut b = body();
    b["etag"] = etag.clone();
    let r = put(&f, &tok, ID, &b);
    assert_eq!(r.status, 409, "{}", r.text);
    let v = r.json();
    assert_eq!(v["error"]["code"], "Conflict");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Newer version of resource"),
        "{v}"
    );
    // Same through If-Match.
    let r = send(
        client()
            .put(incident_url(&f, ID))
            .bearer_auth(&tok)
            .header("If-Match", etag.as_str().unwrap_or(""))
            .json(&body()),
    );
    assert_eq!(r.status, 409);
    // Re-read and retry with the fresh etag: saved.
    let fresh = send(client().get(incident_url(&f, ID)).bearer_auth(&tok)).json();
    let mut b = body();
    b["etag"] = fresh["etag"].clone();
    b["properties"]["owner"] = fresh["properties"]["owner"].clone();
    assert_eq!(put(&f, &tok, ID, &b).status, 200);
    // Without an etag: last writer wins, unless etags are required.
    assert_eq!(put(&f, &tok, ID, &body()).status, 200);
    f.set_require_etag(true);
    assert_eq!(put(&f, &tok, ID, &body()).status, 409);
}

#[test]
fn conflict_fault_hits_only_puts() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    f.push_fault(Api::Arm, Fault::Conflict);
    assert_eq!(
        send(client().get(incident_url(&f, ID)).bearer_auth(&tok)).status,
        404
    );
    assert_eq!(put(&f, &tok, ID, &body()).status, 409);
    assert_eq!(put(&f, &tok, ID, &body()).status, 201);
    assert_eq!(f.incidents().len(), 1);
    f.push_fault(
        Api::Arm,
        Fault::Throttle {
            retry_after_secs: 3,
        },
    );
    let r = put(&f, &tok, ID, &body());
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3".into())));
    assert!(r.json()["error"]["code"].is_string());
}

#[test]
fn bodies_are_validated_against_the_spec() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    let cases = [
        (
            json!({"properties": {"title": "t", "severity": "Critical", "status": "New"}}),
            "properties.severity",
        ),
        (
            json!({"properties": {"title": "t", "status": "New"}}),
            "properties.severity",
        ),
        (
            json!({"properties": {"title": "t", "severity": "Low", "status": "New", "incidentNumber": 4}}),
            "properties.incidentNumber",
        ),
        (
            json!({"properties": {"title": "t", "severity": "Low", "status": "Closed", "classification": "Maybe"}}),
            "properties.classification",
        ),
        (
            json!({"properties": {"title": "t", "severity": "Low", "status": "New", "labels": [{"labelName": "x", "labelType": "System"}]}}),
            "properties.labels[0].labelType",
        ),
    ];
    for (b, path) in cases {
        let r = put(&f, &tok, ID, &b);
        assert_eq!(r.status, 400, "body {b}: {}", r.text);
        let v = r.json();
        assert_eq!(v["error"]["code"], "BadRequest", "body {b}");
        assert!(
            v["error"]["message"].as_str().unwrap_or("").contains(path),
            "body {b}: {v}"
        );
    }
    assert!(f.incidents().is_empty());
    let r = send(
        client()
            .put(incident_url(&f, ID))
            .bearer_auth(&tok)
            .header("content-type", "application/json")
            .body("{"),
    );
    assert_eq!(r.status, 400);
    // With read-only rejection off, a GET echoed back is accepted.
    f.set_reject_read_only(false);
    let created = put(&f, &tok, ID, &body()).json();
    assert_eq!(put(&f, &tok, ID, &created).status, 200);
}

#[test]
fn comments() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    let curl = |cid: &str| {
        format!(
            "{}{WS_PATH}/{ID}/comments/{cid}?api-version=2025-09-01",
            f.base_url()
        )
    };
    let r = send(
        client()
            .put(curl("c1"))
            .bearer_auth(&tok)
            .json(&json!({"properties": {"message": "x"}})),
    );
    assert_eq!(r.status, 404, "comment on a missing incident");
    put(&f, &tok, ID, &body());
    let r = send(
        client()
            .put(curl("c1"))
            .bearer_auth(&tok)
            .json(&json!({"properties": {"message": "new evidence"}})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert_eq!(v["type"], "Microsoft.SecurityInsights/incidents/comments");
    assert_eq!(v["properties"]["message"], "new evidence");
    assert!(v["properties"]["author"].is_object() && v["etag"].is_string());
    let r = send(
        client()
            .put(curl("c1"))
            .bearer_auth(&tok)
            .json(&json!({"properties": {"message": "edited"}})),
    );
    assert_eq!(r.status, 200);
    let r = send(
        client()
            .put(curl("c2"))
            .bearer_auth(&tok)
            .json(&json!({"properties": {}})),
    );
    assert_eq!(r.status, 400, "message is required");
    let list = format!(
        "{}{WS_PATH}/{ID}/comments?api-version=2025-09-01",
        f.base_url()
    );
    let v = send(client().get(&list).bearer_auth(&tok)).json();
    assert_eq!(v["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["value"][0]["properties"]["message"], "edited");
    assert_eq!(f.incidents()[0].comments.len(), 1);
    let inc = send(client().get(incident_url(&f, ID)).bearer_auth(&tok)).json();
    assert_eq!(inc["properties"]["additionalData"]["commentsCount"], 1);
}

#[test]
fn arm_auth_and_api_version_errors() {
    let f = fake();
    let la = token(&f, fake_azure::LOG_ANALYTICS_AUDIENCE);
    let arm = token(&f, ARM_AUDIENCE);
    let r = send(client().get(incident_url(&f, ID)));
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (401, json!("AuthenticationFailed"))
    );
    let r = send(client().get(incident_url(&f, ID)).bearer_auth(&la));
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (401, json!("InvalidAuthenticationTokenAudience"))
    );
    let no_version = format!("{}{WS_PATH}/{ID}", f.base_url());
    let r = send(client().get(no_version).bearer_auth(&arm));
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (400, json!("MissingApiVersionParameter"))
    );
    let bad_version = format!("{}{WS_PATH}/{ID}?api-version=1999-01-01", f.base_url());
    let r = send(client().get(bad_version).bearer_auth(&arm));
    assert_eq!(r.status, 400);
    let r = send(
        client()
            .put(format!("{}{WS_PATH}?api-version=2025-09-01", f.base_url()))
            .bearer_auth(&arm)
            .json(&body()),
    );
    assert_eq!(r.status, 405);
}

const EXAMPLE: &str = include_str!("../../specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/examples/incidents/CreateIncident.json");
const COMMENT_EXAMPLE: &str = include_str!("../../specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/examples/incidents/comments/CreateIncidentComment.json");

#[test]
fn official_examples_are_accepted_and_answered_in_the_same_shape() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    let ex: serde_json::Value = serde_json::from_str(EXAMPLE).expect("example parses");
    let r = put(
        &f,
        &tok,
        "73e01a99-5cd7-4139-a149-9f2736ff2ab5",
        &ex["parameters"]["incident"],
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let got = r.json();
    let want = &ex["responses"]["201"]["body"];
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(&got), keys(want), "envelope members");
    let missing: Vec<String> = keys(&want["properties"])
        .into_iter()
        .filter(|k| got["properties"].get(k).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "properties the example has and the fake lacks: {missing:?}"
    );
    assert_eq!(
        keys(&got["properties"]["additionalData"]),
        keys(&want["properties"]["additionalData"])
    );
    let cex: serde_json::Value = serde_json::from_str(COMMENT_EXAMPLE).expect("example parses");
    let url = format!(
        "{}{WS_PATH}/73e01a99-5cd7-4139-a149-9f2736ff2ab5/comments/4bb36b7b-26ff-4d1c-9cbe-0d8ab3da0014?api-version=2025-12-01",
        f.base_url()
    );
    let r = send(
        client()
            .put(url)
            .bearer_auth(&tok)
            .json(&cex["parameters"]["incidentComment"]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let want = &cex["responses"]["201"]["body"];
    assert_eq!(keys(&r.json()), keys(want));
    assert_eq!(keys(&r.json()["properties"]), keys(&want["properties"]));
}

#[test]
fn dropping_the_fake_does_not_wait_for_delayed_requests() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    f.push_fault(Api::Arm, Fault::Delay(std::time::Duration::from_secs(60)));
    let url = incident_url(&f, ID);
    let t = std::thread::spawn(move || {
        client()
            .get(url)
            .bearer_auth(tok)
            .send()
            .map(|r| r.status().as_u16())
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let start = std::time::Instant::now();
    drop(f);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "drop took {:?}",
        start.elapsed()
    );
    let res = t.join().expect("client thread");
    assert!(
        res.is_err(),
        "the delayed request is cut, not answered: {res:?}"
    );
}

#[test]
fn faults_limited_to_a_method() {
    let f = fake();
    let tok = token(&f, ARM_AUDIENCE);
    f.push_fault_on(
        Api::Arm,
        "PUT",
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
    );
    assert_eq!(
        send(client().get(incident_url(&f, ID)).bearer_auth(&tok)).status,
        404
    );
    let r = put(&f, &tok, ID, &body());
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "InternalServerError");
    assert!(f.incidents().is_empty(), "a failed PUT stores nothing");
    assert_eq!(put(&f, &tok, ID, &body()).status, 201);
}
