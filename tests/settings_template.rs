//! The Bicep template and the code agree on settings.
//!
//! - Every app setting `infra/modules/functionapp.bicep` sets is read by the
//!   code (`config::VARIABLES`) or is a host setting listed here with a reason.
//! - Every setting the code reads is set by the template or listed here with
//!   the reason a deployed app does not set it.
//! - The parameter files set only parameters `main.bicep` declares, every
//!   required one, and their values pass `config` validation.
//! - `function/HuntTimer/function.json` takes its schedule from the
//!   `RMMHUNT_SCHEDULE` setting.
//!
//! The app settings are read from the Bicep text: every `var <x>Settings`
//! array in the module (objects `{ name: '<literal>', value: ... }`), and the
//! site's `appSettings:` must concatenate exactly those arrays.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rmmhunt::config;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Host (not rmmhunt) settings the template may set, with why.
const HOST_SETTINGS: &[(&str, &str)] = &[
    (
        "AzureWebJobsStorage__accountName",
        "host storage, identity-based",
    ),
    (
        "AzureWebJobsStorage__credential",
        "host storage: managedidentity",
    ),
    (
        "AzureWebJobsStorage__clientId",
        "host storage: the user-assigned identity",
    ),
    (
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "host telemetry target",
    ),
    (
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "host telemetry with Entra auth (local auth disabled)",
    ),
    (
        "FUNCTIONS_WORKER_RUNTIME",
        "Y1/EP1: custom handler runtime (Flex uses functionAppConfig.runtime)",
    ),
    (
        "FUNCTIONS_EXTENSION_VERSION",
        "Y1/EP1: host version ~4 (Flex manages it)",
    ),
    (
        "WEBSITE_RUN_FROM_PACKAGE",
        "Y1/EP1: the package blob in the deployment container",
    ),
    (
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID",
        "Y1/EP1: read that blob with the user-assigned identity",
    ),
];

/// Settings the code reads that a deployed app does not set, with why.
const NOT_DEPLOYED: &[(&str, &str)] = &[
    (
        "RMMHUNT_RULES",
        "the built-in rules (compiled in, same as rules/ in the package) are used",
    ),
    (
        "RMMHUNT_DATA",
        "files of the local source; a deployed app queries log-analytics or defender",
    ),
    (
        "RMMHUNT_LOGANALYTICS_ENDPOINT",
        "public-cloud default; set only for sovereign clouds or fakes",
    ),
    (
        "RMMHUNT_GRAPH_ENDPOINT",
        "public-cloud default; set only for sovereign clouds or fakes",
    ),
    (
        "RMMHUNT_ARM_ENDPOINT",
        "public-cloud default; set only for sovereign clouds or fakes",
    ),
    (
        "RMMHUNT_AUTHORITY_ENDPOINT",
        "public-cloud default; used by service principals and entra API auth",
    ),
    ("RMMHUNT_LOGANALYTICS_AUDIENCE", "public-cloud default"),
    ("RMMHUNT_GRAPH_AUDIENCE", "public-cloud default"),
    ("RMMHUNT_ARM_AUDIENCE", "public-cloud default"),
    (
        "RMMHUNT_MONITOR_AUDIENCE",
        "public-cloud default (Logs Ingestion)",
    ),
    (
        "RMMHUNT_IMDS_ENDPOINT",
        "VM IMDS; under Functions the App Service endpoint is used",
    ),
    ("RMMHUNT_INCIDENTS_API_VERSION", "default 2025-09-01"),
    (
        "RMMHUNT_REQUEST_DEADLINE_SECS",
        "default 200 s, below the 230 s front-end cut",
    ),
    ("RMMHUNT_QUERY_WAIT_SECS", "default 180 s"),
    ("RMMHUNT_LOGANALYTICS_MAX_ROWS", "default (service maximum)"),
    ("RMMHUNT_DEFENDER_MAX_ROWS", "default (service maximum)"),
    ("RMMHUNT_HTTP_DEADLINE_SECS", "default 200 s"),
    (
        "IDENTITY_ENDPOINT",
        "set by the platform (App Service managed identity)",
    ),
    ("IDENTITY_HEADER", "set by the platform (a secret)"),
    (
        "AZURE_TENANT_ID",
        "service principal only; the app uses its managed identity",
    ),
    (
        "AZURE_CLIENT_SECRET",
        "service principal only; no secrets in the template",
    ),
    (
        "FUNCTIONS_CUSTOMHANDLER_PORT",
        "set by the Functions host for the handler",
    ),
    (
        "RMMHUNT_API_KEY",
        "RMMHUNT_API_AUTH=key only; the deployed app uses host (function keys)",
    ),
    ("RMMHUNT_API_TENANT_ID", "RMMHUNT_API_AUTH=entra only"),
    ("RMMHUNT_API_AUDIENCE", "RMMHUNT_API_AUTH=entra only"),
    ("RMMHUNT_API_JWKS_URL", "RMMHUNT_API_AUTH=entra only"),
    ("RMMHUNT_API_REQUIRED_ROLE", "RMMHUNT_API_AUTH=entra only"),
];

/// Bicep text with comments blanked out (kept: strings, newlines).
fn strip_comments(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    // Depth of `${` interpolations inside strings; strings nest inside them.
    let mut in_string = false;
    let mut interp: Vec<usize> = Vec::new(); // brace depth per open interpolation
    let mut braces = 0usize;
    while i < b.len() {
        let c = b[i];
        if in_string {
            out.push(c);
            if c == '\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            if c == '\'' {
                in_string = false;
            } else if c == '$' && b.get(i + 1) == Some(&'{') {
                out.push('{');
                i += 2;
                braces += 1;
                interp.push(braces);
                in_string = false;
                continue;
            }
            i += 1;
            continue;
        }
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                if b[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == '\'' && b.get(i + 1) == Some(&'\'') && b.get(i + 2) == Some(&'\'') {
            // Multi-line string: no escapes, no interpolation.
            out.push_str("'''");
            i += 3;
            while i < b.len()
                && !(b[i] == '\'' && b.get(i + 1) == Some(&'\'') && b.get(i + 2) == Some(&'\''))
            {
                out.push(b[i]);
                i += 1;
            }
            out.push_str("'''");
            i += 3;
            continue;
        }
        match c {
            '\'' => in_string = true,
            '{' => braces += 1,
            '}' => {
                if interp.last() == Some(&braces) {
                    interp.pop();
                    in_string = true;
                }
                braces = braces.saturating_sub(1);
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The expression from byte `start` up to the first newline outside brackets
/// and strings (text must be comment-free).
fn expression_after(text: &str, start: usize) -> &str {
    let mut depth = 0i32;
    let mut in_string = false;
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'\'' {
                in_string = false;
            }
        } else {
            match c {
                b'\'' => in_string = true,
                b'[' | b'(' | b'{' => depth += 1,
                b']' | b')' | b'}' => depth -= 1,
                b'\n' if depth <= 0 => return &text[start..i],
                _ => {}
            }
        }
        i += 1;
    }
    &text[start..]
}

/// `name: '<literal>'` entries of an expression, with the value expression
/// of the sibling `value:` key (trimmed), in order.
fn settings_in(expr: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(p) = rest.find("name:") {
        let after = rest[p + 5..].trim_start();
        rest = &rest[p + 5..];
        let Some(lit) = after.strip_prefix('\'') else {
            panic!(
                "app setting name is not a literal: {}",
                &after[..after.len().min(40)]
            );
        };
        let end = lit.find('\'').expect("unterminated setting name");
        let name = &lit[..end];
        assert!(
            !name.contains("${"),
            "app setting name with interpolation: {name}"
        );
        let value = rest
            .find("value:")
            .map(|v| {
                let line = &rest[v + 6..];
                line[..line.find('\n').unwrap_or(line.len())]
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        out.push((name.to_string(), value));
    }
    out
}

/// The app settings of the Function App module: name → value expression.
fn template_settings() -> BTreeMap<String, String> {
    let text = strip_comments(&read("infra/modules/functionapp.bicep"));
    let mut vars: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (pos, _) in text.match_indices("\nvar ") {
        let decl = &text[pos + 5..];
        let ident: String = decl
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !ident.ends_with("Settings") {
            continue;
        }
        let eq = decl.find('=').expect("var without =");
        let expr = expression_after(&text, pos + 5 + eq + 1);
        let list = settings_in(expr);
        assert!(!list.is_empty(), "var {ident} sets no settings");
        vars.insert(ident, list);
    }
    assert!(
        !vars.is_empty(),
        "no `var *Settings` arrays in functionapp.bicep"
    );

    let at = text
        .find("appSettings:")
        .expect("the site sets no appSettings");
    let expr = expression_after(&text, at + "appSettings:".len());
    let used: BTreeSet<String> = expr
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && *w != "concat")
        .map(String::from)
        .collect();
    let declared: BTreeSet<String> = vars.keys().cloned().collect();
    assert_eq!(
        used, declared,
        "appSettings ({expr}) must concatenate exactly the *Settings arrays"
    );

    let mut all = BTreeMap::new();
    for (name, value) in vars.into_values().flatten() {
        assert!(
            all.insert(name.clone(), value).is_none(),
            "{name} is set twice"
        );
    }
    all
}

#[test]
fn every_template_setting_is_read_by_the_code_or_is_a_listed_host_setting() {
    let set = template_settings();
    let host: BTreeSet<&str> = HOST_SETTINGS.iter().map(|(n, _)| *n).collect();
    for name in set.keys() {
        assert!(
            config::VARIABLES.contains(&name.as_str()) || host.contains(name.as_str()),
            "the template sets {name}, which the code does not read and is not a listed host setting"
        );
    }
    for name in &host {
        assert!(
            set.contains_key(*name),
            "HOST_SETTINGS lists {name}, which the template no longer sets"
        );
        assert!(
            !config::VARIABLES.contains(name),
            "{name} is read by the code: not a host setting"
        );
    }
}

#[test]
fn every_setting_the_code_reads_is_set_by_the_template_or_listed_as_not_deployed() {
    let set = template_settings();
    let not_deployed: BTreeMap<&str, &str> = NOT_DEPLOYED.iter().copied().collect();
    for name in config::VARIABLES {
        assert!(
            set.contains_key(*name) || not_deployed.contains_key(name),
            "the code reads {name}; the template does not set it and NOT_DEPLOYED gives no reason"
        );
    }
    for (name, reason) in NOT_DEPLOYED {
        assert!(!reason.is_empty());
        assert!(
            config::VARIABLES.contains(name),
            "NOT_DEPLOYED lists {name}, which the code does not read"
        );
        assert!(
            !set.contains_key(*name),
            "NOT_DEPLOYED lists {name}, but the template sets it"
        );
    }
}

#[test]
fn fixed_values_are_the_deployed_ones() {
    let set = template_settings();
    let expect = [
        ("RMMHUNT_CREDENTIAL", "'managed-identity'"),
        ("RMMHUNT_API_AUTH", "'host'"),
        ("AzureWebJobsStorage__credential", "'managedidentity'"),
        ("FUNCTIONS_WORKER_RUNTIME", "'custom'"),
        ("FUNCTIONS_EXTENSION_VERSION", "'~4'"),
        ("AZURE_CLIENT_ID", "identityClientId"),
        ("AzureWebJobsStorage__clientId", "identityClientId"),
        ("RMMHUNT_SCHEDULE", "schedule"),
    ];
    for (name, value) in expect {
        assert_eq!(set.get(name).map(String::as_str), Some(value), "{name}");
    }
    // Flex rejects the worker-runtime setting: it is only in the Y1/EP1 list.
    let text = read("infra/modules/functionapp.bicep");
    let legacy = text
        .find("var legacyPlanSettings = isFlex ? [] : [")
        .expect("legacyPlanSettings is Y1/EP1-only");
    assert!(text[legacy..].contains("'FUNCTIONS_WORKER_RUNTIME'"));
    assert!(
        text.contains("name: 'custom'\n        version: '1.0'"),
        "Flex runtime custom 1.0"
    );
}

/// `param <name> = <value>` lines of a .bicepparam (single-line values).
fn bicepparam(rel: &str) -> (String, BTreeMap<String, String>) {
    let text = strip_comments(&read(rel));
    let using = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("using "))
        .unwrap_or_else(|| panic!("{rel}: no `using`"))
        .trim()
        .to_string();
    let mut params = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("param ") {
            let (name, value) = rest
                .split_once('=')
                .unwrap_or_else(|| panic!("{rel}: {line}"));
            params.insert(name.trim().to_string(), value.trim().to_string());
        }
    }
    (using, params)
}

/// `param` declarations of main.bicep: name → has a default.
fn main_params() -> BTreeMap<String, bool> {
    let text = strip_comments(&read("infra/main.bicep"));
    text.lines()
        .filter_map(|l| l.strip_prefix("param "))
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (name, rest.contains('='))
        })
        .collect()
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(v)
}

#[test]
fn parameter_files_set_declared_parameters_with_values_the_code_accepts() {
    let declared = main_params();
    assert!(declared.len() > 10, "main.bicep params: {declared:?}");
    for rel in ["infra/dev.bicepparam", "infra/prod.bicepparam"] {
        let (using, params) = bicepparam(rel);
        assert_eq!(using, "'main.bicep'", "{rel}");
        for name in params.keys() {
            assert!(
                declared.contains_key(name),
                "{rel} sets {name}, which main.bicep does not declare"
            );
        }
        for (name, has_default) in &declared {
            assert!(
                *has_default || params.contains_key(name),
                "{rel} does not set the required {name}"
            );
        }
        // The settings the app gets from these parameters, as the template
        // maps them, plus the template's fixed values.
        let mut env: HashMap<String, String> = HashMap::new();
        for (setting, param) in [
            ("RMMHUNT_SOURCE", "source"),
            ("RMMHUNT_SCHEDULE", "schedule"),
            ("RMMHUNT_WORKSPACE_ID", "sentinelWorkspaceId"),
            ("RMMHUNT_SENTINEL_SUBSCRIPTION_ID", "sentinelSubscriptionId"),
            ("RMMHUNT_SENTINEL_RESOURCE_GROUP", "sentinelResourceGroup"),
            ("RMMHUNT_SENTINEL_WORKSPACE", "sentinelWorkspaceName"),
            ("RMMHUNT_EXCLUSIONS", "exclusionsPath"),
            ("RMMHUNT_INCIDENT_SEVERITY", "incidentSeverity"),
        ] {
            let v = params
                .get(param)
                .unwrap_or_else(|| panic!("{rel} does not set {param}"));
            env.insert(setting.into(), unquote(v).into());
        }
        env.insert("RMMHUNT_CREDENTIAL".into(), "managed-identity".into());
        env.insert("RMMHUNT_API_AUTH".into(), "host".into());
        env.insert(
            "AZURE_CLIENT_ID".into(),
            "11111111-1111-1111-1111-111111111111".into(),
        );
        env.insert("FUNCTIONS_CUSTOMHANDLER_PORT".into(), "40000".into());
        let v = config::from_env_map(&env)
            .validate()
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(v.schedule.is_some(), "{rel}");
        // The exclusion file named is in the repo (and so in the package).
        assert!(
            root().join(unquote(&params["exclusionsPath"])).is_file(),
            "{rel}: exclusionsPath"
        );
    }
}

#[test]
fn timer_schedule_comes_from_the_setting() {
    // function/ and host.json are written by the packaging work; once
    // host.json is in the tree the timer function must be there too.
    let path = root().join("function/HuntTimer/function.json");
    if !Path::new(&path).exists() {
        assert!(
            !root().join("host.json").exists(),
            "host.json exists but function/HuntTimer/function.json does not"
        );
        eprintln!("function/HuntTimer/function.json not in this tree yet (packaging work)");
        return;
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read function.json"))
            .expect("function.json is JSON");
    let bindings = doc["bindings"].as_array().expect("bindings");
    let timer = bindings
        .iter()
        .find(|b| b["type"] == "timerTrigger")
        .expect("a timerTrigger binding");
    assert_eq!(timer["schedule"], "%RMMHUNT_SCHEDULE%");
    assert!(template_settings().contains_key("RMMHUNT_SCHEDULE"));
}

#[test]
fn comment_stripping_keeps_strings_and_interpolations() {
    let src =
        "var a = 'x // not a comment' // comment\nvar b = '${c}/d' /* c */\nvar e = '${f('//')}'\n";
    let s = strip_comments(src);
    assert_eq!(
        s,
        "var a = 'x // not a comment' \nvar b = '${c}/d' \nvar e = '${f('//')}'\n"
    );
    let expr = expression_after("x = [\n  1\n]\nnext", 3);
    assert_eq!(expr, " [\n  1\n]");
    assert_eq!(
        settings_in("[\n {\n name: 'A'\n value: b\n }\n {\n name: 'C'\n value: 'd'\n }\n]"),
        vec![
            ("A".to_string(), "b".to_string()),
            ("C".to_string(), "'d'".to_string())
        ]
    );
}

#[test]
fn findings_table_has_the_contract_columns_and_the_default_stream() {
    // BRIEF "Findings table for the Logs Ingestion sink": one record per
    // finding row; the table and the DCR stream declare the same columns.
    let expected = [
        ("TimeGenerated", "datetime"),
        ("RunId", "string"),
        ("RuleId", "string"),
        ("RuleName", "string"),
        ("Tactics", "string"),
        ("Techniques", "string"),
        ("DeviceId", "string"),
        ("DeviceName", "string"),
        ("RemoteUrl", "string"),
        ("RemoteIP", "string"),
        ("AccountName", "string"),
        ("FirstSeen", "datetime"),
        ("LastSeen", "datetime"),
        ("EventCount", "long"),
        ("Finding", "dynamic"),
    ];
    let text = strip_comments(&read("infra/modules/findings.bicep"));
    let at = text.find("\nvar columns =").expect("var columns");
    let expr = expression_after(&text, at + "\nvar columns =".len());
    let mut found = Vec::new();
    let mut rest = expr;
    while let Some(p) = rest.find("name: '") {
        rest = &rest[p + 7..];
        let name = &rest[..rest.find('\'').expect("closing quote")];
        let t = rest.find("type: '").expect("type after name");
        let ty = &rest[t + 7..];
        let ty = &ty[..ty.find('\'').expect("closing quote")];
        found.push((name.to_string(), ty.to_string()));
    }
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    assert_eq!(found, expected);
    // The table, the stream and the analytics rule use those columns.
    assert_eq!(
        text.matches("columns: columns").count(),
        2,
        "table and stream share `columns`"
    );
    let stream = format!(
        "var streamName = '{}'",
        config::defaults::LOGS_INGESTION_STREAM
    );
    assert!(text.contains(&stream), "stream name is the code's default");
    assert!(text.contains(&format!(
        "'{}': {{",
        config::defaults::LOGS_INGESTION_STREAM
    )));
    for (entity, identifier, column) in [
        ("Host", "HostName", "DeviceName"),
        ("URL", "Url", "RemoteUrl"),
        ("Account", "Name", "AccountName"),
        ("IP", "Address", "RemoteIP"),
    ] {
        let mapping = format!(
            "entityType: '{entity}'\n        fieldMappings: [\n          {{\n            identifier: '{identifier}'\n            columnName: '{column}'"
        );
        assert!(
            text.contains(&mapping),
            "entity mapping {entity}.{identifier} <- {column}"
        );
    }
}
