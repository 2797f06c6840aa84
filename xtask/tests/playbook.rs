//! infra/playbooks/hunt-device.json: a Logic App (Consumption) workflow whose
//! references all resolve and whose HTTP call speaks the /api/hunts contract.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::Value;

const PLAYBOOK: &str = "infra/playbooks/hunt-device.json";
/// Fields of the POST /api/hunts body (BRIEF "HTTP API").
const HUNT_REQUEST_FIELDS: &[&str] = &["rule", "lookback", "start", "end", "incidents", "device"];
const RUN_AFTER_STATUSES: &[&str] = &["Succeeded", "Failed", "Skipped", "TimedOut"];
/// Keys of an action that hold nested actions (not the action's own expressions).
const NESTED: &[&str] = &["actions", "else", "cases", "default"];

fn playbook() -> Value {
    let path = xtask::repo_root().join(PLAYBOOK);
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Every action of the workflow, with its scope chain.
struct Action<'a> {
    name: String,
    body: &'a Value,
    /// Names of the enclosing Foreach/Scope/If actions, outermost first.
    ancestors: Vec<String>,
    /// Names of the actions in the same `actions` object.
    siblings: BTreeSet<String>,
}

fn collect<'a>(actions: &'a Value, ancestors: &[String], out: &mut Vec<Action<'a>>) {
    let Some(map) = actions.as_object() else {
        panic!("`actions` must be an object: {actions}");
    };
    let siblings: BTreeSet<String> = map.keys().cloned().collect();
    for (name, body) in map {
        out.push(Action {
            name: name.clone(),
            body,
            ancestors: ancestors.to_vec(),
            siblings: siblings.clone(),
        });
        let mut inner = ancestors.to_vec();
        inner.push(name.clone());
        for key in NESTED {
            match body.get(*key) {
                Some(v) if *key == "actions" => collect(v, &inner, out),
                Some(v) if v.get("actions").is_some() => collect(&v["actions"], &inner, out),
                _ => {}
            }
        }
    }
}

/// The strings of an action's own definition (nested actions left out).
fn own_strings<'a>(v: &'a Value, top: bool, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| own_strings(x, false, out)),
        Value::Object(m) => {
            for (k, x) in m {
                if top && NESTED.contains(&k.as_str()) {
                    continue;
                }
                own_strings(x, false, out);
            }
        }
        _ => {}
    }
}

/// `fname('arg')` calls in a workflow expression string.
fn calls<'a>(text: &'a str, fname: &str) -> Vec<&'a str> {
    let pat = format!("{fname}('");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(&pat) {
        let start = from + at;
        let before = text[..start].chars().next_back();
        let after = start + pat.len();
        from = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. triggerBody(' is not body('
        }
        if let Some(end) = text[after..].find('\'') {
            out.push(&text[after..after + end]);
        }
    }
    out
}

/// `body('X')?['key']` keys read from one action's answer.
fn body_keys(text: &str, action: &str) -> Vec<String> {
    let pat = format!("body('{action}')?['");
    text.match_indices(&pat)
        .filter_map(|(i, _)| {
            let rest = &text[i + pat.len()..];
            rest.find('\'').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// Transitive runAfter predecessors of `name` among `scope`'s actions.
fn predecessors(scope: &BTreeMap<&str, &Value>, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        let Some(run_after) = scope
            .get(n.as_str())
            .and_then(|a| a["runAfter"].as_object())
        else {
            continue;
        };
        for p in run_after.keys() {
            assert_ne!(p, name, "runAfter cycle through {name}");
            if seen.insert(p.clone()) {
                todo.push(p.clone());
            }
        }
    }
    seen
}

#[test]
fn every_reference_names_an_action_that_ran_before() {
    let doc = playbook();
    let def = &doc["definition"];
    let mut actions = Vec::new();
    collect(&def["actions"], &[], &mut actions);
    assert!(actions.len() >= 6, "{} actions", actions.len());

    // Names are unique across the whole workflow (Logic Apps requires it).
    let by_name: BTreeMap<&str, &Action> = actions.iter().map(|a| (a.name.as_str(), a)).collect();
    assert_eq!(by_name.len(), actions.len(), "duplicate action names");

    fn scope_of<'a>(
        a: &'a Action,
        by_name: &BTreeMap<&str, &'a Action>,
    ) -> BTreeMap<&'a str, &'a Value> {
        a.siblings
            .iter()
            .map(|s| (s.as_str(), by_name[s.as_str()].body))
            .collect()
    }
    let params: BTreeSet<&str> = def["parameters"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();

    for a in &actions {
        // runAfter: siblings only, known statuses.
        let run_after = a.body["runAfter"].as_object().unwrap_or_else(|| {
            panic!("{}: runAfter must be an object", a.name);
        });
        for (pred, statuses) in run_after {
            assert!(
                a.siblings.contains(pred),
                "{}: runAfter `{pred}` is not in its scope",
                a.name
            );
            let statuses = statuses.as_array().unwrap();
            assert!(!statuses.is_empty(), "{}", a.name);
            for s in statuses {
                assert!(
                    RUN_AFTER_STATUSES.contains(&s.as_str().unwrap()),
                    "{}: {s}",
                    a.name
                );
            }
        }

        // What may be referenced: the predecessors of this action and of
        // every enclosing action, in their own scopes.
        let mut ran_before = predecessors(&scope_of(a, &by_name), &a.name);
        for anc in &a.ancestors {
            let anc = by_name[anc.as_str()];
            ran_before.extend(predecessors(&scope_of(anc, &by_name), &anc.name));
        }

        let mut strings = Vec::new();
        own_strings(a.body, true, &mut strings);
        for s in strings {
            for fname in ["body", "outputs", "actions", "result"] {
                for target in calls(s, fname) {
                    assert!(
                        by_name.contains_key(target),
                        "{}: {fname}('{target}') names no action",
                        a.name
                    );
                    assert!(
                        ran_before.contains(target),
                        "{}: {fname}('{target}') has not run before it (not a runAfter predecessor)",
                        a.name
                    );
                }
            }
            for target in calls(s, "items") {
                assert!(
                    a.ancestors.iter().any(|x| x == target),
                    "{}: items('{target}') outside that loop",
                    a.name
                );
                assert_eq!(by_name[target].body["type"], "Foreach", "{target}");
            }
            for p in calls(s, "parameters") {
                assert!(
                    params.contains(p),
                    "{}: parameters('{p}') is not declared",
                    a.name
                );
            }
        }
    }
}

#[test]
fn the_reference_checker_catches_broken_references() {
    // The checks above must be able to fail: a dangling name, a call that
    // is not a reference, an out-of-scope item.
    assert_eq!(
        calls("@body('A')?['x'] and @{body('B')}", "body"),
        ["A", "B"]
    );
    assert!(calls("@triggerBody()?['object']", "body").is_empty());
    assert_eq!(calls("@items('Loop')?['HostName']", "items"), ["Loop"]);
    assert_eq!(
        body_keys("@{body('H')?['start']} @body('H')?['rules']", "H"),
        ["start", "rules"]
    );

    let scope: BTreeMap<&str, &Value> = BTreeMap::new();
    assert!(predecessors(&scope, "missing").is_empty());
    let a = serde_json::json!({"runAfter": {"B": ["Succeeded"]}});
    let b = serde_json::json!({"runAfter": {"C": ["Succeeded"]}});
    let c = serde_json::json!({"runAfter": {}});
    let scope: BTreeMap<&str, &Value> = BTreeMap::from([("A", &a), ("B", &b), ("C", &c)]);
    assert_eq!(
        predecessors(&scope, "A").into_iter().collect::<Vec<_>>(),
        ["B", "C"]
    );
}

#[test]
fn triggered_by_a_sentinel_incident_and_loops_over_its_hosts() {
    let def = &playbook()["definition"];
    assert_eq!(
        def["$schema"],
        "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#"
    );
    let triggers = def["triggers"].as_object().unwrap();
    assert_eq!(triggers.len(), 1);
    let t = triggers.values().next().unwrap();
    assert_eq!(t["type"], "ApiConnectionWebhook");
    assert_eq!(t["inputs"]["path"], "/incident-creation");
    let sentinel = "@parameters('$connections')['azuresentinel']['connectionId']";
    assert_eq!(t["inputs"]["host"]["connection"]["name"], sentinel);

    let hosts = &def["actions"]["Entities_-_Get_Hosts"];
    assert_eq!(hosts["inputs"]["path"], "/entities/host");
    assert_eq!(hosts["inputs"]["host"]["connection"]["name"], sentinel);
    let each = &def["actions"]["For_each_host"];
    assert_eq!(each["type"], "Foreach");
    assert!(each["foreach"]
        .as_str()
        .unwrap()
        .contains("body('Entities_-_Get_Hosts')?['Hosts']"));

    let comment = &each["actions"]["Add_comment_to_incident_(V3)"];
    assert_eq!(comment["inputs"]["path"], "/Incidents/Comment");
    assert_eq!(comment["inputs"]["host"]["connection"]["name"], sentinel);
    assert_eq!(
        comment["inputs"]["body"]["incidentArmId"],
        "@triggerBody()?['object']?['id']"
    );
    assert!(comment["inputs"]["body"]["message"]
        .as_str()
        .unwrap()
        .contains("body('Join_summaries')"));
}

fn hunt_request_fields_from_openapi() -> Option<BTreeSet<String>> {
    let text = fs::read_to_string(xtask::repo_root().join("src/serve/openapi.json")).ok()?;
    let doc: Value = serde_json::from_str(&text).ok()?;
    let mut schema =
        doc.pointer("/paths/~1api~1hunts/post/requestBody/content/application~1json/schema")?;
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        schema = doc.pointer(r.strip_prefix('#')?)?;
    }
    Some(schema["properties"].as_object()?.keys().cloned().collect())
}

#[test]
fn the_http_call_speaks_the_hunts_contract() {
    let doc = playbook();
    let def = &doc["definition"];
    let mut actions = Vec::new();
    collect(&def["actions"], &[], &mut actions);
    let http: Vec<&Action> = actions
        .iter()
        .filter(|a| a.body["type"] == "Http")
        .collect();
    assert_eq!(http.len(), 1);
    let (name, inputs) = (&http[0].name, &http[0].body["inputs"]);
    assert_eq!(http[0].ancestors, ["For_each_host"]);

    assert_eq!(inputs["method"], "POST");
    assert_eq!(
        inputs["uri"],
        "https://@{parameters('functionApp')}.azurewebsites.net/api/hunts"
    );
    assert_eq!(
        inputs["headers"]["x-functions-key"],
        "@parameters('functionKey')"
    );
    assert_eq!(inputs["headers"]["Content-Type"], "application/json");
    assert_eq!(def["parameters"]["functionKey"]["type"], "SecureString");
    assert_eq!(def["parameters"]["lookback"]["defaultValue"], "7d");
    // The key stays out of the run history.
    assert_eq!(
        http[0].body["runtimeConfiguration"]["secureData"]["properties"],
        serde_json::json!(["inputs"])
    );
    assert_eq!(inputs["retryPolicy"]["type"], "exponential");

    let body = inputs["body"].as_object().unwrap();
    for field in body.keys() {
        assert!(
            HUNT_REQUEST_FIELDS.contains(&field.as_str()),
            "`{field}` is not a /api/hunts field"
        );
    }
    assert!(body["device"]
        .as_str()
        .unwrap()
        .contains("outputs('Device_name')"));
    assert_eq!(body["lookback"], "@parameters('lookback')");
    assert_eq!(body["incidents"], false);
    match hunt_request_fields_from_openapi() {
        Some(documented) => {
            for field in body.keys() {
                assert!(
                    documented.contains(field),
                    "`{field}` not in the OpenAPI HuntRequest"
                );
            }
        }
        None => {
            eprintln!("src/serve/openapi.json not in this tree; checked the contract list only")
        }
    }

    // What the comments read from the answer exists in the hunt JSON
    // (the golden `hunt --format json` the API answers with).
    let golden: Value = serde_json::from_str(
        &fs::read_to_string(xtask::repo_root().join("tests/it/hunt_sample.golden.json")).unwrap(),
    )
    .unwrap();
    let mut strings = Vec::new();
    for a in &actions {
        own_strings(a.body, true, &mut strings);
    }
    let mut read = BTreeSet::new();
    for s in &strings {
        read.extend(body_keys(s, name));
    }
    assert!(read.contains("rules"), "{read:?}");
    for key in &read {
        assert!(
            golden.get(key).is_some(),
            "the playbook reads `{key}`, which the hunt JSON lacks"
        );
    }
    let rule = &golden["rules"][0];
    for key in ["id", "name"] {
        assert!(rule[key].is_string());
    }
    assert!(rule["findings"]["rows"].is_array());
}

#[test]
fn parameters_are_documented_and_hold_no_secret() {
    let doc = playbook();
    let declared = doc["definition"]["parameters"].as_object().unwrap();
    for (name, p) in declared {
        if name != "$connections" {
            let d = p["metadata"]["description"].as_str().unwrap_or_default();
            assert!(d.len() > 20, "{name} is not described");
        }
    }
    let values = doc["parameters"].as_object().unwrap();
    for name in values.keys() {
        assert!(
            declared.contains_key(name),
            "value for undeclared parameter {name}"
        );
    }
    // Placeholders only: no key, subscription or app name is committed.
    assert!(values["functionKey"]["value"]
        .as_str()
        .unwrap()
        .starts_with('<'));
    assert!(values["functionApp"]["value"]
        .as_str()
        .unwrap()
        .starts_with('<'));
    let conn = &values["$connections"]["value"]["azuresentinel"];
    assert!(conn["connectionId"]
        .as_str()
        .unwrap()
        .contains("<subscription-id>"));
    assert_eq!(
        conn["connectionProperties"]["authentication"]["type"],
        "ManagedServiceIdentity"
    );
}
