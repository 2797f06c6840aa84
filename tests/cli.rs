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
