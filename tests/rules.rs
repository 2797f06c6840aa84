//! Rule loading over the upstream RMM family (tests/fixtures/rules/upstream-rmm,
//! byte-identical copies, defects included) and the shipped seed rule:
//! every defect reported at its exact file:line:col, one bad file never
//! stops the others.

use rmmhunt::rule::{self, LineEndings, LoadReport, Outcome};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/upstream-rmm")
}

fn rel(p: &Path) -> String {
    p.strip_prefix(fixtures())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// `(file, line, col, code)` of every error.
fn errors(report: &LoadReport) -> Vec<(String, usize, usize, &'static str)> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (rel(&d.path), d.line, d.column, d.diagnostic.code))
        .collect()
}

/// 1-based line/col of the first occurrence of `needle` after line `from`.
fn find(path: &Path, needle: &str, from: usize) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for (i, line) in text.lines().enumerate().skip(from) {
        if let Some(b) = line.find(needle) {
            return (i + 1, line[..b].chars().count() + 1);
        }
    }
    (0, 0)
}

/// The 171 files of jischell-msft/RemoteManagementMonitoringTools.
fn jischell() -> LoadReport {
    let mut report = LoadReport::default();
    for dir in ["Network Indicators", "RMM", "_Templates"] {
        let r = rule::load_path(&fixtures().join(dir));
        report.rules.extend(r.rules);
        report.diagnostics.extend(r.diagnostics);
        report.files.extend(r.files);
    }
    report
}

#[test]
fn the_seed_rule_is_built_in_and_loads_cleanly() {
    let report = rule::builtin_rules();
    let diags: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| d.render_plain())
        .collect();
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(report.counts(), (1, 0, 0));
    let seed = &report.rules[0];
    assert_eq!(seed.id, "b915897c-1fe7-47f4-9e06-2ae74da8203e");
    assert_eq!(
        seed.name,
        "Remote Management and Monitoring tool - ZohoAssist - Network Connection"
    );
    assert_eq!(seed.tactics, vec!["CommandAndControl"]);
    assert_eq!(seed.techniques, vec!["T1219"]);
    assert!(seed
        .description
        .starts_with("Remote Monitoring and Management (RMM) programs"));
    assert_eq!(seed.data_types, vec!["DeviceNetworkEvents"]);
    assert_eq!(seed.connectors, vec!["MicrosoftThreatProtection"]);
    assert!(
        seed.query.starts_with("let Time_start = now(-5d);\n"),
        "{:?}",
        seed.query
    );
    assert_eq!(report.files[0].line_endings, LineEndings::Crlf);
    assert_eq!(report.files[0].query_tab_lines, 18);
    // the query maps back into the file: `summarize` is on line 40, column 5
    let at = seed.query.find("summarize").unwrap_or(0);
    assert_eq!(seed.origin.line_col(at), (40, 5));
    // byte-for-byte the published file
    let shipped = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rmm_ZohoAssist_netconn.yaml"),
    )
    .unwrap_or_default();
    let published = std::fs::read(fixtures().join(
        "azure-sentinel/Hunting Queries/Microsoft 365 Defender/RemoteManagementMonitoring/rmm_ZohoAssist_netconn.yaml",
    ))
    .unwrap_or_default();
    assert!(!shipped.is_empty() && shipped == published);
    assert_eq!(
        &*seed.origin.text,
        std::str::from_utf8(&shipped).unwrap_or_default()
    );
}

#[test]
fn the_upstream_family_is_validated_file_by_file() {
    let report = jischell();
    assert_eq!(report.files.len(), 171);
    // every file: CRLF, and the dataTypes slip repaired with a warning at line 8, column 5
    for f in &report.files {
        assert_eq!(f.line_endings, LineEndings::Crlf, "{}", rel(&f.path));
    }
    let slips: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.diagnostic.code == "RULE002")
        .map(|d| format!("{}:{}:{}", rel(&d.path), d.line, d.column))
        .collect();
    assert_eq!(slips.len(), 171);
    assert!(slips.iter().all(|s| s.ends_with(":8:5")), "{slips:?}");
    // tabs inside the KQL (valid whitespace): exactly these files
    let mut tabs: Vec<String> = report
        .files
        .iter()
        .filter(|f| f.query_tab_lines > 0)
        .map(|f| rel(&f.path))
        .collect();
    tabs.sort();
    assert_eq!(
        tabs,
        vec![
            "RMM/Kaseya/rmm_Kaseya_netconn.yaml",
            "RMM/MSP360_CloudBerry/rmm_MSP360_CloudBerry_netconn.yaml",
            "RMM/ZohoAssist/rmm_ZohoAssist_netconn.yaml",
        ]
    );

    // the errors other than AccountUpn, exactly
    let mut other: Vec<_> = errors(&report)
        .into_iter()
        .filter(|(f, ..)| {
            !report
                .diagnostics
                .iter()
                .any(|d| rel(&d.path) == *f && d.diagnostic.message.contains("'AccountUpn'"))
        })
        .collect();
    other.sort();
    assert_eq!(
        other,
        vec![
            (
                "RMM/DWService/rmm_DWService_createproc.yaml".into(),
                25,
                5,
                "KQL011"
            ), // `| Sha1 in (...)`: no `where`
            // RMM/DWService/rmm_DWService_netconn.yaml (`Sha1`: the column is
            // SHA1) also reports AccountUpn now that the planner keeps going
            // after a failing `where`, so the filter above leaves it out.
            (
                "RMM/Level/rmm_Level_createproc.yaml".into(),
                19,
                30,
                "KQL010"
            ), // `has_all has_any (`
            (
                "RMM/MSP360_CloudBerry/rmm_MSP360_CloudBerry_netconn.yaml".into(),
                24,
                7,
                "KQL010"
            ), // trailing comma
            (
                "RMM/ZohoAssist/rmm_ZohoAssist_netconn.yaml".into(),
                37,
                7,
                "KQL010"
            ), // trailing comma
            (
                "_Templates/sentinel_rmm_template_createproc.yaml".into(),
                1,
                5,
                "RULE001"
            ), // id: %%GUID%%
            (
                "_Templates/sentinel_rmm_template_filesig.yaml".into(),
                1,
                5,
                "RULE001"
            ),
            (
                "_Templates/sentinel_rmm_template_netconn.yaml".into(),
                1,
                5,
                "RULE001"
            ),
        ]
    );
    let zoho = report
        .diagnostics
        .iter()
        .find(|d| rel(&d.path) == "RMM/ZohoAssist/rmm_ZohoAssist_netconn.yaml" && d.is_error())
        .map(|d| d.render_plain())
        .unwrap_or_default();
    assert!(
        zoho.ends_with(
            ":37:7: error[KQL010]: expected an expression, found ')'\n  |       )\n  |       ^\n"
        ),
        "{zoho}"
    );

    // AccountUpn: one error per net-connection rule that gets as far as
    // planning, exactly where the file says `AccountUpn`
    let upn: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.diagnostic.message.contains("'AccountUpn'"))
        .collect();
    assert_eq!(upn.len(), 58); // DWService's too: errors after a failing `where` are collected
    for d in &upn {
        assert!(rel(&d.path).ends_with("_netconn.yaml"), "{d}");
        assert_eq!((d.line, d.column), find(&d.path, "AccountUpn", 12), "{d}");
        assert_eq!(d.diagnostic.code, "KQL101", "{d}");
    }

    // outcomes: 171 = 106 loaded with the dataTypes warning + 65 failed
    // (57 AccountUpn, 3 templates, 2 trailing commas, DWService x2, Level)
    assert_eq!(
        report.counts(),
        (0, 106, 65),
        "loaded, with warnings, failed"
    );
    let failed: Vec<&rmmhunt::rule::FileSummary> = report
        .files
        .iter()
        .filter(|f| f.outcome == Outcome::Failed)
        .collect();
    // every one of the 60 net-connection rules fails (and the netconn template)
    assert_eq!(
        failed
            .iter()
            .filter(|f| rel(&f.path).ends_with("_netconn.yaml"))
            .count(),
        60 + 1
    );
    assert_eq!(report.rules.len(), 106);
    // what loaded: every create-process and file-signature rule but DWService's and Level's
    let kinds = |suffix: &str| {
        report
            .rules
            .iter()
            .filter(|r| r.origin.path.to_string_lossy().ends_with(suffix))
            .count()
    };
    assert_eq!(
        (
            kinds("_createproc.yaml"),
            kinds("_filesig.yaml"),
            kinds("_netconn.yaml")
        ),
        (54, 52, 0)
    );
}

#[test]
fn the_azure_sentinel_copies() {
    let report = rule::load_path(&fixtures().join("azure-sentinel"));
    let dir = "azure-sentinel/Hunting Queries/Microsoft 365 Defender/RemoteManagementMonitoring/";
    let mut got = errors(&report);
    got.sort();
    let e = |f: &str, l, c, code| (format!("{dir}{f}"), l, c, code);
    let datto = fixtures().join(format!("{dir}rmm_DattoRMM_netconn.yaml"));
    let (ul, uc) = find(&datto, "AccountUpn", 12);
    assert_eq!(
        got,
        vec![
            e("rmm_DWService_netconn.yaml", 22, 14, "KQL101"),
            e("rmm_DattoRMM_netconn.yaml", ul, uc, "KQL101"),
        ]
    );
    assert_eq!(report.counts(), (5, 0, 2));
    let ids: Vec<&str> = report.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
}

#[test]
fn one_bad_file_does_not_stop_the_others_and_ids_are_unique() {
    let report = rule::load_path(&fixtures());
    assert_eq!(report.files.len(), 178);
    // the Azure-Sentinel copies of ZohoAssist createproc/filesig share ids with the jischell originals
    let dups: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.diagnostic.code == "RULE009")
        .map(|d| rel(&d.path))
        .collect();
    assert_eq!(dups.len(), 2, "{dups:?}");
    let mut ids: Vec<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert_eq!(n, 106 + 3);
}

fn load(text: &str) -> LoadReport {
    rule::load_text(PathBuf::from("t.yaml"), text)
}

fn places(report: &LoadReport) -> Vec<(usize, usize, &'static str)> {
    report
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.diagnostic.code))
        .collect()
}

const HEAD: &str = "id: 11111111-2222-3333-4444-555555555555\nname: t\ndescription: d\ntactics: [CommandAndControl]\nrelevantTechniques: [T1219, T1105]\n";

#[test]
fn kql_positions_map_into_the_file_for_every_scalar_style() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        // block scalar: indentation added back
        (
            "block",
            "query: |\n  DeviceNetworkEvents\n  | where Nope == 1\n",
            (8, 11),
        ),
        // block scalar with CRLF
        (
            "crlf",
            "query: |\r\n    DeviceNetworkEvents\r\n    | where Nope == 1\r\n",
            (8, 13),
        ),
        // tabs before the error on the same line count as one column each
        (
            "tabs",
            "query: |\n  DeviceNetworkEvents\n  | where\t\tNope == 1\n",
            (8, 12),
        ),
        // explicit indentation indicator, keep chomping
        (
            "indicator",
            "query: |2+\n  DeviceNetworkEvents | where Nope == 1\n",
            (7, 31),
        ),
        // a fenced query
        (
            "fence",
            "query: |\n  ```kusto\n  DeviceNetworkEvents\n  | where Nope == 1\n  ```\n",
            (9, 11),
        ),
        // double- and single-quoted, and plain, on one line
        (
            "double",
            "query: \"DeviceNetworkEvents | where Nope == 1\"\n",
            (6, 37),
        ),
        (
            "single",
            "query: 'DeviceNetworkEvents | where Nope == 1'\n",
            (6, 37),
        ),
        (
            "plain",
            "query: DeviceNetworkEvents | where Nope == 1\n",
            (6, 36),
        ),
        // escapes before the error: the column is the file's, not the query's
        (
            "escaped",
            r#"query: "DeviceNetworkEvents | where \"a\" == \u0022a\u0022 and Nope == 1"
"#,
            (6, 64),
        ),
        (
            "doubled",
            r#"query: 'DeviceNetworkEvents | where ''a'' == "a" and Nope == 1'
"#,
            (6, 54),
        ),
    ];
    for (what, query, want) in cases {
        let text = format!("{HEAD}{query}");
        let text = if *what == "crlf" {
            text.replace('\n', "\r\n").replace("\r\r\n", "\r\n")
        } else {
            text
        };
        let report = load(&text);
        assert_eq!(
            places(&report),
            vec![(want.0, want.1, "KQL101")],
            "{what}:\n{text}\n{:#?}",
            report
                .diagnostics
                .iter()
                .map(|d| d.render_plain())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn lists_strings_and_unknown_keys() {
    let text = format!("{HEAD}requiredDataConnectors:\n  - connectorId: MicrosoftThreatProtection\n    dataTypes: DeviceNetworkEvents\nentityMappings:\n  - entityType: Host\nversion: 1.0.0\nseverity: Medium\nfrobnicate: yes\nquery: |\n  DeviceNetworkEvents | take 1\n");
    let report = load(&text);
    assert_eq!(places(&report), vec![(13, 1, "RULE005")]);
    assert_eq!(report.counts(), (0, 1, 0));
    let r = &report.rules[0];
    assert_eq!(r.tactics, vec!["CommandAndControl"]);
    assert_eq!(r.techniques, vec!["T1219", "T1105"]);
    assert_eq!(r.data_types, vec!["DeviceNetworkEvents"]);
}

#[test]
fn malformed_rules_fail_with_their_place() {
    type Place<'a> = (usize, usize, &'a str);
    let cases: &[(&str, Vec<Place>)] = &[
        ("name: x\nquery: T\n", vec![(1, 1, "RULE003"), (1, 1, "RULE003")]),
        ("id: not-a-guid\nname: x\ndescription: d\nquery: DeviceNetworkEvents\n", vec![(1, 5, "RULE006")]),
        ("id: 11111111-2222-3333-4444-555555555555\nname: x\ndescription: d\nquery: |\n\n", vec![(4, 8, "RULE007")]),
        ("id: 11111111-2222-3333-4444-555555555555\nname: x\nname: y\ndescription: d\nquery: DeviceNetworkEvents\n", vec![(3, 1, "RULE008")]),
        ("id: 11111111-2222-3333-4444-555555555555\nname: [x]\ndescription: d\nquery: DeviceNetworkEvents\n", vec![(2, 7, "RULE004")]),
        ("- just\n- a list\n", vec![(1, 1, "RULE004")]),
        ("id: [unclosed\n", vec![(2, 1, "RULE001")]),
        ("id: 11111111-2222-3333-4444-555555555555\nname: x\ndescription: d\nquery: NoSuchTable | take 1\n", vec![(4, 8, "KQL106")]),
    ];
    for (text, want) in cases {
        let report = load(text);
        let got: Vec<(usize, usize, &str)> = places(&report);
        assert_eq!(&got, want, "{text}");
        assert_eq!(report.counts(), (0, 0, 1), "{text}");
        assert!(report.rules.is_empty());
    }
}

#[test]
fn create_process_and_file_signature_tables_are_known() {
    for (table, column) in [
        ("DeviceProcessEvents", "ProcessVersionInfoCompanyName"),
        ("DeviceProcessEvents", "AccountUpn"),
        ("DeviceFileCertificateInfo", "Signer"),
    ] {
        let text = format!(
            "{HEAD}query: {table} | where {column} has 'x' | summarize count() by DeviceId\n"
        );
        let report = load(&text);
        assert!(
            report.diagnostics.is_empty(),
            "{text}: {:?}",
            places(&report)
        );
        assert_eq!(report.rules.len(), 1);
    }
}

#[test]
fn truncated_and_mangled_rule_files_never_panic() {
    let files = [
        "RMM/ZohoAssist/rmm_ZohoAssist_netconn.yaml",
        "RMM/DWService/rmm_DWService_netconn.yaml",
        "Network Indicators/rmm__all_netconn.yaml",
        "_Templates/sentinel_rmm_template_netconn.yaml",
    ];
    for f in files {
        let text = std::fs::read_to_string(fixtures().join(f)).unwrap_or_default();
        assert!(!text.is_empty(), "{f}");
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                for variant in [
                    text[..cut].to_string(),
                    format!("{}\t{}", &text[..cut], &text[cut..]),
                    format!("{}```kusto\n{}", &text[..cut], &text[cut..]),
                ] {
                    let report = load(&variant);
                    assert_eq!(report.files.len(), 1);
                    for d in &report.diagnostics {
                        let _ = d.render_plain();
                    }
                }
            }
            cut += 37;
        }
    }
}
