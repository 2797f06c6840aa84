//! End to end against `crates/fake-azure` (written by another developer, on
//! 127.0.0.1): `rmmhunt hunt` with `--source local`, `log-analytics` and
//! `defender` over the same seeded sample data gives the same findings;
//! `--incidents` creates exactly one incident per affected (rule, device),
//! none for excluded activity, none twice on rerun; injected throttling,
//! 5xx, 409 and token failures end in complete results, and persistent
//! failures in a run that says so (non-zero exit), never in fewer incidents
//! without an error.

use fake_azure::{Api, FakeAzure, Fault};
use rmmhunt::sample::{self, GenerateOptions, SampleFormat};
use rmmhunt::sink::sentinel::incident_id;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rmmhunt");
const NOW: &str = "2026-11-25T12:00:00Z";

struct World {
    fake: FakeAzure,
    _dir: tempfile::TempDir,
    data: PathBuf,
    exclusions: PathBuf,
}

fn world() -> World {
    let fake = FakeAzure::start().unwrap_or_else(|e| panic!("{e}"));
    let now = kql::time::parse_datetime(NOW).unwrap_or_else(|| panic!("bad NOW"));
    let mut bytes = Vec::new();
    sample::generate(
        &GenerateOptions {
            rows: 500,
            seed: 7,
            format: SampleFormat::Jsonl,
            now,
        },
        &mut bytes,
    )
    .unwrap_or_else(|e| panic!("generating: {e}"));
    let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"));
    fake.add_jsonl("DeviceNetworkEvents", &text)
        .unwrap_or_else(|e| panic!("fixture: {e}"));
    assert!(fake.set_now_str(NOW));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("DeviceNetworkEvents.jsonl");
    std::fs::write(&data, &text).unwrap_or_else(|e| panic!("{e}"));
    let exclusions = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exclusions.yaml");
    World {
        fake,
        _dir: dir,
        data,
        exclusions,
    }
}

impl World {
    fn hunt(&self, source: &str, extra: &[&str]) -> Output {
        let base = self.fake.base_url();
        let mut cmd = Command::new(BIN);
        cmd.args(["hunt", "--format", "json", "--now", NOW, "--source", source]);
        if source == "local" {
            cmd.arg("--data").arg(&self.data);
        }
        cmd.args(extra)
            .env("RMMHUNT_CREDENTIAL", "managed-identity")
            .env("IDENTITY_ENDPOINT", self.fake.identity_endpoint())
            .env("IDENTITY_HEADER", self.fake.identity_header())
            .env("RMMHUNT_LOGANALYTICS_ENDPOINT", &base)
            .env("RMMHUNT_GRAPH_ENDPOINT", &base)
            .env("RMMHUNT_ARM_ENDPOINT", &base)
            .env("RMMHUNT_WORKSPACE_ID", self.fake.workspace_id())
            .env(
                "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
                "00000000-0000-0000-0000-000000000001",
            )
            .env("RMMHUNT_SENTINEL_RESOURCE_GROUP", "rg-sec")
            .env("RMMHUNT_SENTINEL_WORKSPACE", "ws-sentinel")
            .env("RMMHUNT_REQUEST_DEADLINE_SECS", "60");
        for k in [
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_CLIENT_ID",
            "RMMHUNT_INCIDENTS_API_VERSION",
            "RMMHUNT_LOGANALYTICS_AUDIENCE",
            "RMMHUNT_GRAPH_AUDIENCE",
            "RMMHUNT_ARM_AUDIENCE",
        ] {
            cmd.env_remove(k);
        }
        cmd.output()
            .unwrap_or_else(|e| panic!("running {BIN}: {e}"))
    }

    fn hunt_ok(&self, source: &str, extra: &[&str]) -> serde_json::Value {
        let out = self.hunt(source, extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{source} {extra:?}\nstderr: {stderr}"
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{source}: stdout is not JSON ({e})\nstderr: {stderr}"))
    }

    fn incident_ids(&self) -> BTreeSet<String> {
        self.fake.incidents().into_iter().map(|i| i.name).collect()
    }

    fn arm_puts(&self) -> usize {
        self.fake
            .requests_to(Api::Arm)
            .iter()
            .filter(|r| r.method == "PUT" && r.status < 300)
            .count()
    }

    fn comments(&self) -> usize {
        self.fake.incidents().iter().map(|i| i.comments.len()).sum()
    }
}

/// Findings with rows sorted (a remote source may return groups in any order).
fn findings(report: &serde_json::Value) -> Vec<(String, Vec<String>, serde_json::Value)> {
    report["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut rows: Vec<String> = r["findings"]["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|row| row.to_string())
                .collect();
            rows.sort();
            (
                r["id"].as_str().unwrap_or_default().to_string(),
                rows,
                r["excluded"].clone(),
            )
        })
        .collect()
}

/// The incident ids the findings call for: one per (rule, DeviceId).
fn expected_incidents(report: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in report["rules"].as_array().into_iter().flatten() {
        let id = r["id"].as_str().unwrap_or_default();
        let cols = r["findings"]["columns"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let di = cols
            .iter()
            .position(|c| c["name"] == "DeviceId")
            .unwrap_or_else(|| panic!("rule {id} has no DeviceId column"));
        for row in r["findings"]["rows"].as_array().into_iter().flatten() {
            let device = row.get(di).and_then(|d| d.as_str()).unwrap_or_default();
            out.insert(incident_id(id, device).to_string());
        }
    }
    out
}

#[test]
fn the_same_rule_gives_the_same_findings_through_every_source() {
    let w = world();
    let excl = w.exclusions.to_string_lossy().to_string();
    for extra in [vec![], vec!["--exclusions", excl.as_str()]] {
        let local = findings(&w.hunt_ok("local", &extra));
        assert!(
            local.iter().any(|(_, rows, _)| !rows.is_empty()),
            "the sample must have findings: {local:?}"
        );
        for source in ["log-analytics", "defender"] {
            let remote = findings(&w.hunt_ok(source, &extra));
            assert_eq!(remote, local, "{source} {extra:?} differs from local");
        }
    }
}

#[test]
fn incidents_one_per_device_none_excluded_none_twice() {
    for source in ["log-analytics", "defender"] {
        let w = world();
        let excl = w.exclusions.to_string_lossy().to_string();
        let all = expected_incidents(&w.hunt_ok("local", &[]));
        let report = w.hunt_ok(source, &["--exclusions", &excl, "--incidents"]);
        let want = expected_incidents(&report);
        assert!(!want.is_empty());
        let excluded_only: BTreeSet<&String> = all.difference(&want).collect();
        assert!(
            !excluded_only.is_empty(),
            "the sample has devices whose activity is all excluded"
        );
        assert_eq!(
            w.incident_ids(),
            want,
            "{source}: one incident per affected device"
        );
        for inc in w.fake.incidents() {
            let p = &inc.properties;
            assert_eq!(p["status"], "New", "{source} {}", inc.name);
            assert_eq!(p["severity"], "Medium");
            assert!(
                p["title"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Zoho Assist connection on "),
                "{p:?}"
            );
            assert!(p["labels"].to_string().contains("T1219"), "{p:?}");
        }
        // Rerun: nothing written.
        let puts = w.arm_puts();
        w.hunt_ok(source, &["--exclusions", &excl, "--incidents"]);
        assert_eq!(w.arm_puts(), puts, "{source}: the rerun wrote");
        assert_eq!(w.incident_ids(), want);
        assert_eq!(w.comments(), 0);
    }
}

#[test]
fn transient_faults_end_in_complete_results() {
    for source in ["log-analytics", "defender"] {
        let w = world();
        let query_api = if source == "defender" {
            Api::Graph
        } else {
            Api::LogAnalytics
        };
        let want = expected_incidents(&w.hunt_ok("local", &[]));
        w.fake.push_fault(
            query_api,
            Fault::Throttle {
                retry_after_secs: 1,
            },
        );
        w.fake.push_fault(
            query_api,
            Fault::Status {
                status: 503,
                retry_after_secs: Some(0),
            },
        );
        w.fake.push_fault(
            Api::Arm,
            Fault::Throttle {
                retry_after_secs: 0,
            },
        );
        w.fake.push_fault(
            Api::Arm,
            Fault::Status {
                status: 500,
                retry_after_secs: None,
            },
        );
        w.fake.push_fault(Api::Arm, Fault::Conflict);
        w.fake.fault_every(
            Api::Arm,
            7,
            Fault::Status {
                status: 503,
                retry_after_secs: Some(0),
            },
        );
        let out = w.hunt(source, &["--incidents"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Every fault either ends in complete results or in a failed run.
        if out.status.code() == Some(0) {
            assert_eq!(
                w.incident_ids(),
                want,
                "{source}: exit 0 but incidents missing\n{stderr}"
            );
        } else {
            panic!("{source}: transient faults should be retried to success\n{stderr}");
        }
        assert_eq!(w.comments(), 0);
    }
}

#[test]
fn token_endpoint_failures_end_in_complete_results_or_a_failed_run() {
    for fault in [
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
        Fault::IdentityUnavailable,
    ] {
        let w = world();
        let want = expected_incidents(&w.hunt_ok("local", &[]));
        w.fake.push_fault(Api::Token, fault.clone());
        let out = w.hunt("defender", &["--incidents"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(0) {
            assert_eq!(
                w.incident_ids(),
                want,
                "{fault:?}: exit 0 but incidents missing\n{stderr}"
            );
        } else {
            assert!(
                stderr.contains("token"),
                "{fault:?}: the failure names the token: {stderr}"
            );
            assert!(
                !stderr.contains("fake-identity-header"),
                "secret leaked: {stderr}"
            );
        }
    }
}

#[test]
fn persistent_failures_fail_the_run_and_a_rerun_completes() {
    let w = world();
    let want = expected_incidents(&w.hunt_ok("local", &[]));
    w.fake.fault_every(
        Api::Arm,
        3,
        Fault::Status {
            status: 500,
            retry_after_secs: Some(0),
        },
    );
    w.fake.push_faults(
        Api::Arm,
        Fault::Status {
            status: 500,
            retry_after_secs: Some(0),
        },
        40,
    );
    let out = w.hunt("log-analytics", &["--incidents"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let got = w.incident_ids();
    assert_ne!(got, want, "40 failures in a row must cost some incident");
    assert_eq!(
        out.status.code(),
        Some(4),
        "fewer incidents must fail the run\n{stderr}"
    );
    assert!(stderr.contains("incident write(s) failed"), "{stderr}");
    assert!(got.is_subset(&want), "no stray incidents");
    w.fake.clear_faults();
    w.hunt_ok("log-analytics", &["--incidents"]);
    assert_eq!(w.incident_ids(), want, "the rerun finishes the job");

    // A query API that never answers well: the run fails, no incidents.
    let w = world();
    w.fake.fault_every(
        Api::LogAnalytics,
        1,
        Fault::Status {
            status: 500,
            retry_after_secs: Some(0),
        },
    );
    let out = w.hunt("log-analytics", &["--incidents"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(w.incident_ids().is_empty());
}
