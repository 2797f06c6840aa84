//! Runs the built `rmmhunt` binary as a user would: stdin, flags, files in a
//! temporary folder; asserts stdout, stderr and exit codes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rmmhunt");

/// Runs `rmmhunt args...` with `stdin` as its input, in `dir`.
fn rmmhunt(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {BIN}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        // A command may exit before reading its input (usage errors): ignore EPIPE.
        let _ = input.write_all(stdin.as_bytes());
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {BIN}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

#[test]
fn help_documents_exit_codes() {
    let dir = tempdir();
    for args in [&["--help"][..], &["query", "--help"][..]] {
        let out = rmmhunt(dir.path(), args, "");
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}");
        assert!(
            stdout.contains("Exit codes:"),
            "{args:?} help must list exit codes:\n{stdout}"
        );
        for code in ["0 ", "1 ", "2 "] {
            assert!(
                stdout.contains(&format!("  {code}")),
                "{args:?} help lacks exit code {code}:\n{stdout}"
            );
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempdir();
    for args in [
        &["query", "--now", "yesterday"][..],
        &["query", "--format", "xml"][..],
        &["query", "--data", "missing.jsonl"][..],
        &["query", "--data", "T="][..],
        &["no-such-command"][..],
    ] {
        let out = rmmhunt(dir.path(), args, "print x = 1");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} must be a usage error; stderr: {}",
            text(&out.stderr)
        );
        assert!(
            !out.stderr.is_empty(),
            "{args:?} must explain itself on stderr"
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} must print no result: {}",
            text(&out.stdout)
        );
    }
}

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap_or_else(|e| panic!("writing {name}: {e}"));
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

const EVENTS_JSONL: &str = r#"{"Timestamp":"2024-04-30T10:00:00Z","DeviceName":"pc-1","RemoteUrl":"assist.zoho.com","RemotePort":443}
{"Timestamp":"2024-04-30T11:00:00Z","DeviceName":"pc-2","RemoteUrl":"myassist.zoho.com","RemotePort":80}
{"Timestamp":"2024-04-20T12:00:00Z","DeviceName":"pc-1","RemoteUrl":"gateway.zohoassist.com","RemotePort":443}
"#;

const EVENTS_CSV: &str = "Timestamp,DeviceName,RemoteUrl,RemotePort
2024-04-30T10:00:00Z,pc-1,assist.zoho.com,443
2024-04-30T11:00:00Z,pc-2,\"my,assist\",80
";

#[test]
fn query_json_over_a_jsonl_file() {
    let dir = tempdir();
    write(dir.path(), "Events.jsonl", EVENTS_JSONL);
    let q = "Events\n| where RemoteUrl has \"assist.zoho.com\"\n| project DeviceName, RemotePort, Timestamp";
    let out = rmmhunt(dir.path(), &["query", "--data", "Events.jsonl"], q);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{q}\nstderr: {}",
        text(&out.stderr)
    );
    assert_eq!(
        json(&out),
        serde_json::json!({
            "columns": [
                {"name": "DeviceName", "type": "string"},
                {"name": "RemotePort", "type": "long"},
                {"name": "Timestamp", "type": "datetime"}
            ],
            "rows": [["pc-1", 443, "2024-04-30T10:00:00Z"]]
        }),
        "{q}"
    );
}

#[test]
fn query_data_name_equals_file_and_csv_output() {
    let dir = tempdir();
    write(dir.path(), "export.csv", EVENTS_CSV);
    let q = "Net | project DeviceName, RemoteUrl, RemotePort | sort by RemotePort asc";
    let out = rmmhunt(
        dir.path(),
        &["query", "--data", "Net=export.csv", "--format", "csv"],
        q,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{q}\nstderr: {}",
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        "DeviceName,RemoteUrl,RemotePort\r\npc-2,\"my,assist\",80\r\npc-1,assist.zoho.com,443\r\n",
        "{q}"
    );
}

#[test]
fn query_table_output_for_people() {
    let dir = tempdir();
    let q = "print name = \"pc-1\", n = 42";
    let out = rmmhunt(dir.path(), &["query", "--format", "table"], q);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{q}\nstderr: {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.len() >= 3,
        "{q}: header, rule, row expected:\n{stdout}"
    );
    assert!(
        lines[0].contains("name") && lines[0].contains('n'),
        "{q}:\n{stdout}"
    );
    assert!(
        stdout.contains("pc-1") && stdout.contains("42"),
        "{q}:\n{stdout}"
    );
}

#[test]
fn query_now_pins_now_and_ago() {
    let dir = tempdir();
    write(dir.path(), "Events.jsonl", EVENTS_JSONL);
    for (q, want) in [
        (
            "print t = now()",
            serde_json::json!([["2024-05-01T00:00:00Z"]]),
        ),
        (
            "print t = ago(1d)",
            serde_json::json!([["2024-04-30T00:00:00Z"]]),
        ),
        (
            "Events | where Timestamp > ago(5d) | summarize n = count()",
            serde_json::json!([[2]]),
        ),
    ] {
        let out = rmmhunt(
            dir.path(),
            &[
                "query",
                "--data",
                "Events.jsonl",
                "--now",
                "2024-05-01T00:00:00Z",
            ],
            q,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{q}\nstderr: {}",
            text(&out.stderr)
        );
        assert_eq!(json(&out)["rows"], want, "{q}");
    }
}

#[test]
fn query_errors_exit_1_with_line_col_and_caret() {
    let dir = tempdir();
    write(dir.path(), "Events.jsonl", EVENTS_JSONL);
    for (q, place) in [
        ("print x = 1\n| project y", "<stdin>:2:11:"),
        ("Events\n| where NoSuchColumn == 1", "<stdin>:2:9:"),
        ("NoSuchTable | take 1", "<stdin>:1:1:"),
        ("print x = (1 +", "<stdin>:1:"),
    ] {
        let out = rmmhunt(dir.path(), &["query", "--data", "Events.jsonl"], q);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{q}\nstderr: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{q}: no result on failure: {}",
            text(&out.stdout)
        );
        assert!(stderr.contains(place), "{q}: want {place} in:\n{stderr}");
        assert!(
            stderr.contains("error["),
            "{q}: want a coded error in:\n{stderr}"
        );
        assert!(
            stderr
                .lines()
                .any(|l| l.trim_start_matches("  | ").trim_start().starts_with('^')),
            "{q}: want a caret line in:\n{stderr}"
        );
    }
}

#[test]
fn query_unreadable_data_names_the_file() {
    let dir = tempdir();
    write(dir.path(), "Bad.jsonl", "{\"a\": 1}\n{not json\n");
    for (args, want) in [
        (&["query", "--data", "missing.jsonl"][..], "missing.jsonl"),
        (&["query", "--data", "Bad.jsonl"][..], "Bad"),
    ] {
        let out = rmmhunt(dir.path(), args, "Bad | take 10");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}\nstderr: {stderr}");
        assert!(stderr.contains(want), "{args:?}: want {want} in:\n{stderr}");
    }
}

const SEED_RULE: &str = "b915897c-1fe7-47f4-9e06-2ae74da8203e";
const GOLDEN_HUNT: &str = "tests/it/hunt_sample.golden.json";

/// The seed rule's folder, copied into `dir/rules`.
fn copy_seed_rule(dir: &Path) -> std::path::PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rmm_ZohoAssist_netconn.yaml");
    std::fs::copy(&src, rules.join("seed.yaml"))
        .unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    rules
}

/// The hunt JSON with each rule's finding rows sorted: summarize output has
/// no defined order in Kusto, so the golden comparison must not depend on it.
fn sorted_rows(hunt: &serde_json::Value) -> serde_json::Value {
    let mut hunt = hunt.clone();
    if let Some(rules) = hunt["rules"].as_array_mut() {
        for rule in rules {
            if let Some(rows) = rule["findings"]["rows"].as_array_mut() {
                rows.sort_by_key(|r| r.to_string());
            }
        }
    }
    hunt
}

#[test]
fn hunt_json_over_the_sample_matches_the_golden_file() {
    let dir = tempdir();
    let out = rmmhunt(dir.path(), &["hunt", "--format", "json"], "");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let got = json(&out);
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN_HUNT);
    if std::env::var_os("RMMHUNT_UPDATE_GOLDEN").is_some() {
        let pretty = serde_json::to_string_pretty(&got).unwrap_or_default() + "\n";
        std::fs::write(&golden_path, pretty)
            .unwrap_or_else(|e| panic!("writing {GOLDEN_HUNT}: {e}"));
    }
    let golden: serde_json::Value = std::fs::read_to_string(&golden_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| {
            panic!(
                "{GOLDEN_HUNT} missing or not JSON; run with RMMHUNT_UPDATE_GOLDEN=1 and review it"
            )
        });
    assert!(
        sorted_rows(&got) == sorted_rows(&golden),
        "`rmmhunt hunt --format json` differs from {GOLDEN_HUNT}; if the change is intended, rerun with RMMHUNT_UPDATE_GOLDEN=1 and review the diff\ngot: {got}"
    );

    // What the golden file must show, whatever its exact rows.
    let rule = &got["rules"][0];
    assert_eq!(rule["id"], SEED_RULE, "{rule}");
    let findings = rule["findings"]["rows"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(findings > 0, "the demo must show findings: {rule}");
    let excluded = rule["excluded"].as_object().cloned().unwrap_or_default();
    for name in [
        "scheduled-maintenance",
        "it-support-team",
        "patching-off-peak",
        "inventory-collection",
        "siem-forwarding",
    ] {
        let hits = excluded.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
        assert!(
            hits > 0,
            "exclusion {name} must hit sample rows: {excluded:?}"
        );
    }
}

#[test]
fn hunt_table_for_people_shows_findings_then_exclusions() {
    let dir = tempdir();
    let out = rmmhunt(dir.path(), &["hunt", "--format", "table"], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let findings_at = stdout.find(" findings").unwrap_or(usize::MAX);
    let excluded_at = stdout.find("excluded ").unwrap_or(0);
    assert!(
        findings_at < excluded_at,
        "findings first, then exclusions:\n{stdout}"
    );
    for want in [
        SEED_RULE,
        "DeviceName",
        "siem-forwarding",
        "Log forwarding to the SIEM collector",
    ] {
        assert!(stdout.contains(want), "missing {want:?}:\n{stdout}");
    }
    assert!(
        text(&out.stderr).contains("sample data"),
        "the demo says what it runs over: {}",
        text(&out.stderr)
    );
}

#[test]
fn hunt_over_generated_data_in_every_format() {
    let dir = tempdir();
    let gen = rmmhunt(
        dir.path(),
        &[
            "generate",
            "--rows",
            "300",
            "--seed",
            "5",
            "--now",
            "2026-11-25T12:00:00Z",
            "--out",
            "DeviceNetworkEvents.jsonl",
        ],
        "",
    );
    assert_eq!(gen.status.code(), Some(0), "stderr: {}", text(&gen.stderr));
    let base = [
        "hunt",
        "--data",
        "DeviceNetworkEvents.jsonl",
        "--now",
        "2026-11-25T12:00:00Z",
    ];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let out = rmmhunt(dir.path(), &args, "");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}\nstderr: {}",
            text(&out.stderr)
        );
        out
    };

    // --data without --exclusions: nothing is excluded.
    let plain = json(&run(&["--format", "json"]));
    assert_eq!(
        plain["rules"][0]["excluded"],
        serde_json::json!({}),
        "{plain}"
    );
    let all = plain["rules"][0]["findings"]["rows"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);

    let excl = json(&run(&[
        "--format",
        "json",
        "--exclusions",
        &format!("{}/examples/exclusions.yaml", env!("CARGO_MANIFEST_DIR")),
    ]));
    let kept = excl["rules"][0]["findings"]["rows"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let removed: u64 = excl["rules"][0]["excluded"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0);
    assert!(
        kept > 0 && removed > 0 && kept < all,
        "all {all}, kept {kept}, removed {removed}"
    );

    let jsonl = text(&run(&["--format", "jsonl"]).stdout);
    assert_eq!(jsonl.lines().count(), all, "one line per finding:\n{jsonl}");
    for line in jsonl.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["rule_id"], SEED_RULE, "{line}");
        assert!(v["DeviceId"].is_string(), "{line}");
    }

    let csv = text(&run(&["--format", "csv"]).stdout);
    assert_eq!(
        csv.lines().count(),
        all + 1,
        "header + one row per finding:\n{csv}"
    );
    assert!(
        csv.starts_with("RuleId,RuleName,DeviceId,DeviceName,RemoteUrl,"),
        "{csv}"
    );
}

/// DESIGN.md: with no `--exclusions`, `RMMHUNT_EXCLUSIONS` applies (and
/// `RMMHUNT_DATA` stands for `--data`); flags win over settings.
#[test]
fn hunt_takes_data_and_exclusions_from_settings_when_flags_are_absent() {
    let dir = tempdir();
    let gen = rmmhunt(
        dir.path(),
        &[
            "generate",
            "--rows",
            "300",
            "--seed",
            "5",
            "--now",
            "2026-11-25T12:00:00Z",
            "--out",
            "DeviceNetworkEvents.jsonl",
        ],
        "",
    );
    assert_eq!(gen.status.code(), Some(0), "stderr: {}", text(&gen.stderr));
    let exclusions = format!("{}/examples/exclusions.yaml", env!("CARGO_MANIFEST_DIR"));
    let hunt = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("spawning {BIN}: {e}"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} {env:?}\nstderr: {}",
            text(&out.stderr)
        );
        json(&out)
    };
    let now = ["hunt", "--format", "json", "--now", "2026-11-25T12:00:00Z"];
    let by_flags = hunt(
        &[
            &now[..],
            &[
                "--data",
                "DeviceNetworkEvents.jsonl",
                "--exclusions",
                &exclusions,
            ],
        ]
        .concat(),
        &[],
    );
    let by_settings = hunt(
        &now,
        &[
            (
                "RMMHUNT_DATA",
                "DeviceNetworkEvents=DeviceNetworkEvents.jsonl",
            ),
            ("RMMHUNT_EXCLUSIONS", &exclusions),
        ],
    );
    assert_ne!(
        by_flags["rules"][0]["excluded"],
        serde_json::json!({}),
        "{by_flags}"
    );
    assert_eq!(by_flags["rules"], by_settings["rules"]);
    // A flag wins over the setting: --data with RMMHUNT_EXCLUSIONS pointing
    // nowhere useful is not consulted for data, and exclusions still apply.
    let mixed = hunt(
        &[&now[..], &["--data", "DeviceNetworkEvents.jsonl"]].concat(),
        &[
            ("RMMHUNT_DATA", "missing.jsonl"),
            ("RMMHUNT_EXCLUSIONS", &exclusions),
        ],
    );
    assert_eq!(by_flags["rules"], mixed["rules"]);
}

#[test]
fn hunt_exit_codes() {
    let dir = tempdir();
    write(dir.path(), "Other.jsonl", "{\"x\": 1}\n");
    write(
        dir.path(),
        "bad-exclusions.yaml",
        "exclusions:\n  - name: a\n    reason: r\n    when:\n      RemoteIP: { cidr: [10.0.0.0/99] }\n",
    );
    let rules = copy_seed_rule(dir.path());
    write(&rules, "broken.yaml", "id: 11111111-2222-3333-4444-555555555555\nname: broken\ndescription: d\nquery: |\n  DeviceNetworkEvents\n  | where NoSuchColumn == 1\n");
    let rules = rules.display().to_string();
    for (args, code, stderr_has) in [
        (
            &["hunt", "--fail-on-findings", "--format", "json"][..],
            1,
            "",
        ),
        (
            &["hunt", "--exclusions", "bad-exclusions.yaml"][..],
            2,
            "bad-exclusions.yaml:5:",
        ),
        (
            &["hunt", "--exclusions", "missing.yaml"][..],
            2,
            "missing.yaml",
        ),
        (&["hunt", "--rule", "no-such-rule"][..], 2, "no-such-rule"),
        (&["hunt", "--rules", &rules][..], 2, "broken.yaml:6:11"),
        (
            &["hunt", "--rules", "no-such-folder"][..],
            2,
            "no-such-folder",
        ),
        (
            &["hunt", "--source", "log-analytics"][..],
            2,
            "RMMHUNT_WORKSPACE_ID",
        ),
        (
            &["hunt", "--incidents"][..],
            2,
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
        ),
        (&["hunt", "--lookback", "soon"][..], 2, "timespan"),
        (&["hunt", "--now", "tomorrow"][..], 2, "RFC 3339"),
        (&["hunt", "--data", "missing.jsonl"][..], 2, "missing.jsonl"),
        // the seed rule needs DeviceNetworkEvents, which this data lacks: a run-time failure
        (
            &["hunt", "--data", "Other.jsonl", "--format", "json"][..],
            3,
            SEED_RULE,
        ),
    ] {
        let out = rmmhunt(dir.path(), args, "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}\nstderr: {stderr}");
        assert!(
            stderr.contains(stderr_has),
            "{args:?}: want {stderr_has:?} in:\n{stderr}"
        );
        if code == 2 {
            assert!(
                out.stdout.is_empty(),
                "{args:?}: nothing runs on a usage error: {}",
                text(&out.stdout)
            );
        }
    }
}

#[test]
fn hunt_reports_a_failed_rule_and_still_prints_the_others() {
    let dir = tempdir();
    write(dir.path(), "Other.jsonl", "{\"x\": 1}\n");
    let out = rmmhunt(
        dir.path(),
        &["hunt", "--data", "Other.jsonl", "--format", "json"],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "stderr: {}", text(&out.stderr));
    let j = json(&out);
    assert!(
        j["rules"][0]["error"].is_string(),
        "the failure is in the report: {j}"
    );
}

#[test]
fn rules_validate_exit_codes_and_places() {
    let dir = tempdir();
    let rules = copy_seed_rule(dir.path());
    let good = rmmhunt(dir.path(), &["rules", "validate", "rules"], "");
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stdout));
    assert!(
        text(&good.stdout).contains("1 loaded"),
        "{}",
        text(&good.stdout)
    );

    let builtin = rmmhunt(dir.path(), &["rules", "validate"], "");
    assert_eq!(builtin.status.code(), Some(0), "{}", text(&builtin.stdout));

    write(&rules, "broken.yaml", "id: 11111111-2222-3333-4444-555555555555\nname: broken\ndescription: d\nquery: |\n  DeviceNetworkEvents\n  | where NoSuchColumn == 1\n");
    let bad = rmmhunt(dir.path(), &["rules", "validate", "rules"], "");
    let stdout = text(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("broken.yaml:6:11: error[KQL101]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("^^^^^^^^^^^^"),
        "a caret under the column: {stdout}"
    );
    assert!(stdout.contains("1 failed"), "{stdout}");

    let missing = rmmhunt(dir.path(), &["rules", "validate", "nowhere"], "");
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
}

#[test]
fn generate_is_deterministic() {
    let dir = tempdir();
    let args = [
        "generate",
        "--rows",
        "50",
        "--seed",
        "9",
        "--now",
        "2024-05-01T00:00:00Z",
        "--format",
        "csv",
    ];
    let a = rmmhunt(dir.path(), &args, "");
    let b = rmmhunt(dir.path(), &args, "");
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    let csv = text(&a.stdout);
    assert!(
        csv.starts_with("Timestamp,DeviceId,DeviceName,"),
        "{}",
        &csv[..csv.len().min(200)]
    );
    assert_eq!(csv.lines().count(), 51, "header + 50 rows");
}
