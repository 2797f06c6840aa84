//! host.json and every function.json against the contract the server is
//! built to (BRIEF: "Functions layout"; reference D.2, D.3, D.6), and the
//! `func start` settings example.

use std::collections::BTreeMap;
use std::fs;

use serde_json::{json, Value};

fn read(rel: &str) -> Value {
    let path = xtask::repo_root().join(rel);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Function folder → (method, path the host sends to the handler).
fn contract() -> BTreeMap<&'static str, (&'static str, &'static str)> {
    BTreeMap::from([
        ("HuntTimer", ("post", "/HuntTimer")),
        ("Hunts", ("post", "/api/hunts")),
        ("Rules", ("get", "/api/rules")),
        ("Health", ("get", "/api/health")),
        ("OpenApi", ("get", "/api/openapi.json")),
    ])
}

#[test]
fn host_json_starts_rmmhunt_serve_and_forwards_http() {
    let host = read("host.json");
    assert_eq!(host["version"], "2.0");
    assert_eq!(
        host["extensionBundle"]["id"],
        "Microsoft.Azure.Functions.ExtensionBundle"
    );
    assert_eq!(host["extensionBundle"]["version"], "[4.*, 5.0.0)");
    let handler = &host["customHandler"];
    assert_eq!(handler["description"]["defaultExecutablePath"], "rmmhunt");
    assert_eq!(handler["description"]["arguments"], json!(["serve"]));
    assert_eq!(handler["enableForwardingHttpRequest"], true);
    assert_eq!(host["functionTimeout"], "00:10:00");
    assert!(host["logging"]["logLevel"]["default"].is_string());
    // Routes are public under /api/ — the paths the server answers.
    let prefix = host.pointer("/extensions/http/routePrefix");
    assert!(
        prefix.is_none() || prefix == Some(&json!("api")),
        "{prefix:?}"
    );
}

#[test]
fn function_folders_are_exactly_the_contract() {
    let mut found: Vec<String> = fs::read_dir(xtask::repo_root().join("function"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let want: Vec<&str> = contract().keys().copied().collect();
    assert_eq!(found, want);
}

#[test]
fn timer_reads_its_schedule_from_the_app_setting() {
    let f = read("function/HuntTimer/function.json");
    let bindings = f["bindings"].as_array().unwrap();
    assert_eq!(bindings.len(), 1, "{bindings:?}");
    let t = &bindings[0];
    assert_eq!(t["type"], "timerTrigger");
    assert_eq!(t["direction"], "in");
    // The envelope carries it as Data.timer; serve reads that key.
    assert_eq!(t["name"], "timer");
    assert_eq!(t["schedule"], "%RMMHUNT_SCHEDULE%");
    assert_eq!(t["useMonitor"], true);
    assert_eq!(t["runOnStartup"], false);
    // The host POSTs a non-HTTP invocation to /<folder name>.
    assert_eq!(contract()["HuntTimer"], ("post", "/HuntTimer"));
}

#[test]
fn http_functions_are_forwarded_to_the_api_paths() {
    for (name, (method, path)) in contract() {
        if name == "HuntTimer" {
            continue;
        }
        let f = read(&format!("function/{name}/function.json"));
        let bindings = f["bindings"].as_array().unwrap();
        // Forwarding needs exactly one httpTrigger in and one http out (D.6).
        assert_eq!(bindings.len(), 2, "{name}: {bindings:?}");
        let triggers: Vec<&Value> = bindings
            .iter()
            .filter(|b| b["type"] == "httpTrigger")
            .collect();
        let outputs: Vec<&Value> = bindings.iter().filter(|b| b["type"] == "http").collect();
        assert_eq!((triggers.len(), outputs.len()), (1, 1), "{name}");
        let (t, o) = (triggers[0], outputs[0]);
        assert_eq!(t["direction"], "in", "{name}");
        assert_eq!(t["authLevel"], "function", "{name}");
        assert_eq!(t["methods"], json!([method]), "{name}");
        let route = t["route"].as_str().unwrap();
        assert_eq!(format!("/api/{route}"), path, "{name}");
        assert!(
            !route.contains('{'),
            "{name}: no route parameters in the contract"
        );
        assert_eq!(o["direction"], "out", "{name}");
        assert_eq!(o["name"], "res", "{name}");
    }
}

/// Once the OpenAPI document is in the tree, every HTTP function's path and
/// method must be in it (and nothing the host cannot reach).
#[test]
fn http_functions_match_the_openapi_document_when_present() {
    let path = xtask::repo_root().join("src/serve/openapi.json");
    let Ok(text) = fs::read_to_string(&path) else {
        eprintln!(
            "{} not in this tree yet; checked the contract table only",
            path.display()
        );
        return;
    };
    let doc: Value = serde_json::from_str(&text).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (name, (method, path)) in contract() {
        if name == "HuntTimer" {
            continue;
        }
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    let reachable: Vec<&str> = contract().values().map(|(_, p)| *p).collect();
    for p in paths.keys() {
        assert!(
            p == "/" || reachable.contains(&p.as_str()),
            "{p} is documented but no function forwards it"
        );
    }
}

#[test]
fn local_settings_example_runs_under_func_start() {
    let s = read("local.settings.json.example");
    assert_eq!(s["IsEncrypted"], false);
    let v = &s["Values"];
    assert_eq!(v["FUNCTIONS_WORKER_RUNTIME"], "custom");
    assert_eq!(v["AzureWebJobsStorage"], "UseDevelopmentStorage=true");
    assert_eq!(v["RMMHUNT_SOURCE"], "local");
    let schedule = v["RMMHUNT_SCHEDULE"].as_str().unwrap();
    assert_eq!(
        schedule.split_whitespace().count(),
        6,
        "NCRONTAB has six fields"
    );
    // Every value is a string (the host reads them as environment variables).
    assert!(v.as_object().unwrap().values().all(Value::is_string));

    let ignore = fs::read_to_string(xtask::repo_root().join(".gitignore")).unwrap();
    let lines: Vec<&str> = ignore.lines().map(str::trim).collect();
    assert!(lines.contains(&"local.settings.json"));
    assert!(lines.contains(&"/dist/"));
}
