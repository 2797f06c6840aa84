//! The `fake-azure` binary: loads `--data`, prints the settings to export,
//! serves the APIs.

use crate::common::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serves_the_data_file_and_prints_the_settings() {
    let dir = std::env::temp_dir().join(format!("fake-azure-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = dir.join("DeviceNetworkEvents.jsonl");
    let mut file = std::fs::File::create(&data).expect("data file");
    writeln!(file, r#"{{"Timestamp":"2024-03-26T08:00:00Z","DeviceId":"d1","DeviceName":"pc01","RemoteUrl":"assist.zoho.com","RemotePort":443}}"#).expect("write");
    writeln!(file, r#"{{"Timestamp":"2024-03-26T09:00:00Z","DeviceId":"d2","DeviceName":"pc02","RemoteUrl":"www.bing.com","RemotePort":443}}"#).expect("write");
    drop(file);
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_fake-azure"))
            .args(["--port", "0", "--now", "2024-03-26T12:00:00Z", "--data"])
            .arg(&data)
            .stdout(Stdio::piped())
            .spawn()
            .expect("binary starts"),
    );
    let out = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let mut env = std::collections::HashMap::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(kv) = line.strip_prefix("export ") {
            if let Some((k, v)) = kv.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            }
        }
        if line.starts_with("export RMMHUNT_SENTINEL_WORKSPACE=") {
            break;
        }
    }
    for k in [
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "RMMHUNT_LOGANALYTICS_ENDPOINT",
        "RMMHUNT_GRAPH_ENDPOINT",
        "RMMHUNT_ARM_ENDPOINT",
        "RMMHUNT_WORKSPACE_ID",
    ] {
        assert!(env.contains_key(k), "{k} printed: {env:?}");
    }
    let tok = send(
        client()
            .get(&env["IDENTITY_ENDPOINT"])
            .query(&[
                ("api-version", "2019-08-01"),
                ("resource", "https://graph.microsoft.com"),
            ])
            .header("X-IDENTITY-HEADER", &env["IDENTITY_HEADER"]),
    )
    .json()["access_token"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let r = send(
        client()
            .post(format!("{}/v1.0/security/runHuntingQuery", env["RMMHUNT_GRAPH_ENDPOINT"]))
            .bearer_auth(tok)
            .json(&json!({"Query": "DeviceNetworkEvents | where RemoteUrl has 'zoho' | project DeviceName", "Timespan": "P1D"})),
    );
    assert_eq!(
        r.json()["results"],
        json!([{"DeviceName": "pc01"}]),
        "{}",
        r.text
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_fail() {
    for args in [
        vec!["--bogus"],
        vec!["--port"],
        vec!["--data", "/nonexistent/x.jsonl"],
        vec!["--now", "not a date"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_fake-azure"))
            .args(&args)
            .stdout(Stdio::null())
            .output()
            .expect("runs");
        assert!(!out.status.success(), "args {args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("fake-azure:"),
            "args {args:?}"
        );
    }
}
