//! Exclusion file semantics: each operator, weekly windows (DST included),
//! expiry, first-match counting, and error reporting with line and entry.

use kql::{Column, Schema, Type, Value};
use rmmhunt::pipeline::exclude::{BoundExclusions, ExclusionSet};

fn ticks(s: &str) -> i64 {
    kql::time::parse_datetime(s).unwrap_or_else(|| panic!("bad datetime {s}"))
}

/// One entry `t` with `when: { <column>: <cond> }`.
fn one(column: &str, cond: &str) -> ExclusionSet {
    let text =
        format!("exclusions:\n  - name: t\n    reason: r\n    when:\n      {column}: {cond}\n");
    ExclusionSet::parse("t.yaml", &text).unwrap_or_else(|e| panic!("{text}\n{e}"))
}

fn matches(set: &ExclusionSet, column: &str, ty: Type, v: Value) -> bool {
    let schema = Schema::new(vec![Column::new(column, ty)]);
    let active = set.active_for("any", 0);
    let (bound, warnings) = BoundExclusions::bind(&active, &schema);
    assert!(warnings.is_empty(), "{warnings:?}");
    bound.first_match(&[v]).is_some()
}

#[test]
fn string_operators_match_like_kql() {
    let s = |x: &str| Value::string(x);
    let cases: &[(&str, &str, &str, bool)] = &[
        // (column, condition, value, excluded?)
        (
            "InitiatingProcessAccountName",
            "{ ==: svc_patch }",
            "svc_patch",
            true,
        ),
        (
            "InitiatingProcessAccountName",
            "{ ==: svc_patch }",
            "SVC_PATCH",
            false,
        ),
        (
            "InitiatingProcessAccountName",
            "{ in: [a, svc_patch] }",
            "svc_patch",
            true,
        ),
        (
            "InitiatingProcessAccountName",
            "{ in: [a, svc_patch] }",
            "Svc_Patch",
            false,
        ),
        (
            "InitiatingProcessAccountName",
            "{ in~: [it_support_1, it_support_2] }",
            "IT_Support_2",
            true,
        ),
        (
            "InitiatingProcessAccountName",
            "{ in~: [it_support_1, it_support_2] }",
            "it_support_3",
            false,
        ),
        // has: whole terms, case-insensitive (reference/field README §0.6)
        (
            "RemoteUrl",
            "{ has: zohoassist.com }",
            "x.zohoassist.com.cn",
            true,
        ),
        (
            "RemoteUrl",
            "{ has: assist.zoho.com }",
            "join.zoho.com",
            false,
        ),
        (
            "RemoteUrl",
            "{ has: assist.zoho.com }",
            "myassist.zoho.com",
            false,
        ),
        ("RemoteUrl", "{ has: ZOHO }", "assist.zoho.com", true),
        (
            "RemoteUrl",
            "{ has_any: [meeting.zoho.com, assist.zoho.eu] }",
            "https://assist.zoho.eu/x",
            true,
        ),
        (
            "RemoteUrl",
            "{ has_any: [meeting.zoho.com, assist.zoho.eu] }",
            "assist.zoho.com",
            false,
        ),
        (
            "RemoteUrl",
            "{ contains: SSIST.zo }",
            "myassist.zoho.com",
            true,
        ),
        (
            "RemoteUrl",
            "{ startswith: https:// }",
            "HTTPS://assist.zoho.com",
            true,
        ),
        (
            "RemoteUrl",
            "{ startswith: https:// }",
            "http://assist.zoho.com",
            false,
        ),
        (
            "RemoteUrl",
            "{ endswith: .zoho.com }",
            "assist.ZOHO.com",
            true,
        ),
        ("RemoteUrl", "{ endswith: .zoho.com }", "zoho.com", false),
        (
            "RemoteUrl",
            "{ matches: '^assist\\.zoho\\.(com|eu)$' }",
            "assist.zoho.eu",
            true,
        ),
        (
            "RemoteUrl",
            "{ matches: '^assist\\.zoho\\.(com|eu)$' }",
            "ASSIST.zoho.eu",
            false,
        ),
        (
            "DeviceName",
            "{ wildcard: srv-*.contoso.local }",
            "SRV-db01.contoso.local",
            true,
        ),
        (
            "DeviceName",
            "{ wildcard: srv-*.contoso.local }",
            "wks-01.contoso.local",
            false,
        ),
        (
            "DeviceName",
            "{ wildcard: [wks-??, srv-*] }",
            "wks-07",
            true,
        ),
        (
            "DeviceName",
            "{ wildcard: [wks-??, srv-*] }",
            "wks-007",
            false,
        ),
        ("RemoteIP", "{ cidr: [10.20.0.15/32] }", "10.20.0.15", true),
        ("RemoteIP", "{ cidr: [10.20.0.15/32] }", "10.20.0.16", false),
        (
            "RemoteIP",
            "{ cidr: [10.0.0.0/8, 'fd00::/8'] }",
            "fd12:3456::1",
            true,
        ),
        (
            "RemoteIP",
            "{ cidr: [10.0.0.0/8, 'fd00::/8'] }",
            "fe80::1",
            false,
        ),
        (
            "RemoteIP",
            "{ cidr: [10.0.0.0/8, 'fd00::/8'] }",
            "not an ip",
            false,
        ),
        ("RemoteIP", "{ cidr: '2001:db8::1' }", "2001:db8::1", true),
        // several operators under one column: all must hold
        (
            "RemoteUrl",
            "{ has: zoho, endswith: .eu }",
            "assist.zoho.eu",
            true,
        ),
        (
            "RemoteUrl",
            "{ has: zoho, endswith: .eu }",
            "assist.zoho.com",
            false,
        ),
    ];
    for (column, cond, value, want) in cases {
        let set = one(column, cond);
        assert_eq!(
            matches(&set, column, Type::String, s(value)),
            *want,
            "{column}: {cond} against {value:?}"
        );
    }
}

#[test]
fn numeric_equality_uses_the_column_type() {
    let set = one("RemotePort", "{ ==: 443 }");
    assert!(matches(&set, "RemotePort", Type::Int, Value::Int(443)));
    assert!(!matches(&set, "RemotePort", Type::Int, Value::Int(80)));
    assert!(!matches(&set, "RemotePort", Type::Int, Value::Null));
    let set = one("RemotePort", "{ in: [80, 443] }");
    assert!(matches(&set, "RemotePort", Type::Int, Value::Int(80)));
}

#[test]
fn weekly_windows_follow_the_wall_clock_across_dst() {
    let sun_london = "{ weekly: { days: [Sun], start: '01:00', end: '05:00', tz: Europe/London } }";
    let nightly_utc = "{ weekly: { start: '22:00', end: '04:00', tz: UTC } }";
    let cases: &[(&str, &str, bool)] = &[
        // winter (GMT = UTC): 2026-01-04 is a Sunday
        (sun_london, "2026-01-04T01:00:00Z", true),
        (sun_london, "2026-01-04T04:59:59Z", true),
        (sun_london, "2026-01-04T05:00:00Z", false),
        (sun_london, "2026-01-04T00:59:59Z", false),
        (sun_london, "2026-01-05T02:00:00Z", false), // Monday
        // summer (BST = UTC+1): 2026-07-05 is a Sunday
        (sun_london, "2026-07-05T00:30:00Z", true), // 01:30 BST
        (sun_london, "2026-07-05T04:30:00Z", false), // 05:30 BST
        (sun_london, "2026-07-04T23:59:00Z", false), // Sat 23:59 UTC = Sun 00:59 BST
        // the spring-forward night, 2026-03-29: 01:00-02:00 local does not exist
        (sun_london, "2026-03-29T00:30:00Z", false), // 00:30 GMT
        (sun_london, "2026-03-29T01:30:00Z", true),  // 02:30 BST
        (sun_london, "2026-03-29T03:59:00Z", true),  // 04:59 BST
        (sun_london, "2026-03-29T04:00:00Z", false), // 05:00 BST
        // the fall-back night, 2026-10-25: 01:00-02:00 local happens twice
        (sun_london, "2026-10-25T00:30:00Z", true), // 01:30 BST
        (sun_london, "2026-10-25T01:30:00Z", true), // 01:30 GMT
        (sun_london, "2026-10-25T04:30:00Z", true), // 04:30 GMT
        (sun_london, "2026-10-25T05:00:00Z", false),
        // crossing midnight, every day
        (nightly_utc, "2026-05-01T22:00:00Z", true),
        (nightly_utc, "2026-05-01T23:59:59Z", true),
        (nightly_utc, "2026-05-02T00:00:00Z", true),
        (nightly_utc, "2026-05-02T03:59:59Z", true),
        (nightly_utc, "2026-05-02T04:00:00Z", false),
        (nightly_utc, "2026-05-02T21:59:59Z", false),
        (nightly_utc, "2026-05-02T12:00:00Z", false),
    ];
    for (cond, at, want) in cases {
        let set = one("Timestamp", cond);
        assert_eq!(
            matches(
                &set,
                "Timestamp",
                Type::DateTime,
                Value::DateTime(ticks(at))
            ),
            *want,
            "{cond} at {at}"
        );
    }
}

#[test]
fn a_window_crossing_midnight_belongs_to_its_start_day() {
    let set = one(
        "Timestamp",
        "{ weekly: { days: [Sat], start: '23:00', end: '02:00' } }",
    );
    for (at, want) in [
        ("2026-01-03T23:30:00Z", true),  // Saturday
        ("2026-01-04T01:30:00Z", true),  // Sunday morning, window started Saturday
        ("2026-01-04T23:30:00Z", false), // Sunday night
        ("2026-01-03T01:30:00Z", false), // Saturday morning (Friday's window)
    ] {
        assert_eq!(
            matches(
                &set,
                "Timestamp",
                Type::DateTime,
                Value::DateTime(ticks(at))
            ),
            want,
            "{at}"
        );
    }
}

const TWO: &str = "exclusions:
  - name: first
    reason: r
    expires: 2026-06-30
    when:
      RemoteUrl: { has: zoho }
  - name: second
    reason: r
    rules: [B915897C-1FE7-47F4-9E06-2AE74DA8203E]
    when:
      RemoteUrl: { endswith: .eu }
";

#[test]
fn expired_entries_stop_applying_and_are_reported() {
    let set = ExclusionSet::parse("two.yaml", TWO).unwrap_or_else(|e| panic!("{e}"));
    let rule = "b915897c-1fe7-47f4-9e06-2ae74da8203e";
    let names = |v: Vec<&rmmhunt::pipeline::exclude::Exclusion>| {
        v.iter().map(|e| e.name.clone()).collect::<Vec<_>>()
    };
    // the expiry day itself still applies (through 23:59:59 UTC)
    for (now, active, expired) in [
        ("2026-06-30T23:59:59Z", vec!["first", "second"], vec![]),
        ("2026-07-01T00:00:00Z", vec!["second"], vec!["first"]),
    ] {
        assert_eq!(names(set.active_for(rule, ticks(now))), active, "{now}");
        assert_eq!(names(set.expired(ticks(now))), expired, "{now}");
    }
    // rule scope
    assert_eq!(
        names(set.active_for("other", ticks("2026-01-01"))),
        vec!["first"]
    );
}

#[test]
fn a_row_matching_several_entries_counts_under_the_first() {
    let set = ExclusionSet::parse("two.yaml", TWO).unwrap_or_else(|e| panic!("{e}"));
    let schema = Schema::new(vec![Column::new("RemoteUrl", Type::String)]);
    let active = set.active_for("b915897c-1fe7-47f4-9e06-2ae74da8203e", ticks("2026-01-01"));
    let (bound, _) = BoundExclusions::bind(&active, &schema);
    assert_eq!(bound.names(), vec!["first", "second"]);
    for (url, want) in [
        ("assist.zoho.eu", Some(0)),
        ("example.eu", Some(1)),
        ("example.com", None),
    ] {
        assert_eq!(bound.first_match(&[Value::string(url)]), want, "{url}");
    }
}

#[test]
fn entries_whose_columns_the_rows_lack_are_skipped_with_a_warning() {
    let set = ExclusionSet::parse("two.yaml", TWO).unwrap_or_else(|e| panic!("{e}"));
    let schema = Schema::new(vec![Column::new("DeviceName", Type::String)]);
    let active = set.active_for("x", ticks("2026-01-01"));
    let (bound, warnings) = BoundExclusions::bind(&active, &schema);
    assert!(bound.names().is_empty());
    assert_eq!(
        warnings,
        vec!["exclusion 'first' not applied: the rule's rows have no column RemoteUrl".to_string()]
    );
}

#[test]
fn every_error_is_reported_with_line_and_entry() {
    let text = "exclusions:
  - name: ok
    reason: fine
    when:
      RemoteUrl: { has: zoho }
  - name: bad-one
    reason: r
    colour: blue
    expires: 30/06/2027
    when:
      NoSuchColumn: { ==: x }
      RemoteUrl: { matches: '(' }
      RemoteIP: { cidr: [10.0.0.0/33, 10.1.0.0/16] }
      DeviceName: { glob: x }
      Timestamp: { weekly: { days: [Sun, Funday], start: '25:00', end: '05:00', tz: Mars/Olympus } }
  - reason: no name
    when:
      RemoteUrl: { has: zoho }
  - name: ok
    reason: again
    when:
      RemoteUrl: { has: x }
  - name: no-reason
    when:
      RemotePort: { ==: not-a-number }
  - name: no-when
    reason: r
";
    let errs = match ExclusionSet::parse("bad.yaml", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    };
    let got: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
    let want = vec![
        "bad.yaml:8:5: exclusion 'bad-one': unknown key `colour` (expected one of: name, reason, owner, expires, rules, when)",
        "bad.yaml:9:14: exclusion 'bad-one': `expires` must be a date YYYY-MM-DD, found \"30/06/2027\"",
        "bad.yaml:11:7: exclusion 'bad-one': unknown column `NoSuchColumn` (not in any known table schema)",
        "bad.yaml:12:29: exclusion 'bad-one': bad regex \"(\": regex parse error: ( ^ error: unclosed group",
        "bad.yaml:13:26: exclusion 'bad-one': bad CIDR \"10.0.0.0/33\" (expected e.g. 10.0.0.0/8, fd00::/8 or an address)",
        "bad.yaml:14:21: exclusion 'bad-one': unknown operator `glob` (expected one of: ==, in, in~, has, has_any, contains, startswith, endswith, matches, wildcard, cidr, weekly)",
        "bad.yaml:15:42: exclusion 'bad-one': bad day \"Funday\" (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
        "bad.yaml:15:58: exclusion 'bad-one': `start` must be a time HH:MM or HH:MM:SS, found \"25:00\"",
        "bad.yaml:15:85: exclusion 'bad-one': unknown time zone \"Mars/Olympus\" (an IANA name such as Europe/London or UTC)",
        "bad.yaml:16:5: exclusion '#3': missing required key `name`",
        "bad.yaml:19:5: exclusion 'ok': duplicate name (first used on line 2)",
        "bad.yaml:23:5: exclusion 'no-reason': missing required key `reason`",
        "bad.yaml:25:25: exclusion 'no-reason': `not-a-number` is not a int value (column `RemotePort` is int)",
        "bad.yaml:26:5: exclusion 'no-when': missing required key `when` (an entry without conditions would exclude everything)",
    ];
    assert_eq!(got, want, "{text}");
}

#[test]
fn top_level_problems_are_errors() {
    for (text, want) in [
        (
            "",
            "x.yaml:1:1: empty file: expected `exclusions:` with a list of entries",
        ),
        (
            "exclusion: []\n",
            "x.yaml:1:1: unknown key `exclusion` (expected `exclusions`)",
        ),
        (
            "exclusions: {a: 1}\n",
            "x.yaml:1:13: `exclusions` must be a list, found a mapping",
        ),
        (
            "exclusions:\n  - name: [x\n",
            "x.yaml:3:1: invalid YAML: while parsing a flow sequence, expected ',' or ']'",
        ),
    ] {
        let got = ExclusionSet::parse("x.yaml", text)
            .err()
            .map(|e| e.0.first().map(|x| x.to_string()));
        assert_eq!(got, Some(Some(want.to_string())), "{text:?}");
    }
    assert_eq!(
        ExclusionSet::parse("x.yaml", "exclusions: []\n").map(|s| s.entries.len()),
        Ok(0)
    );
}

#[test]
fn every_example_file_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.starts_with("exclusions") && name.ends_with(".yaml") {
            let set = ExclusionSet::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!set.entries.is_empty(), "{name}");
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn the_example_covers_the_five_scenarios() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exclusions.yaml");
    let set = ExclusionSet::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let seed = "b915897c-1fe7-47f4-9e06-2ae74da8203e";
    let schema = rmmhunt::rule::schema::table_schema("DeviceNetworkEvents")
        .cloned()
        .unwrap_or_default();
    let col = |n: &str| schema.index_of(n).unwrap_or(usize::MAX);
    let now = ticks("2026-11-28T12:00:00Z");
    let active = set.active_for(seed, now);
    assert!(set.expired(now).is_empty());
    let (bound, warnings) = BoundExclusions::bind(&active, &schema);
    assert!(warnings.is_empty(), "{warnings:?}");
    let names = bound.names();
    let row = |fields: &[(&str, Value)]| {
        let mut r: Vec<Value> = schema
            .columns
            .iter()
            .map(|c| Value::null_of(c.ty))
            .collect();
        for (n, v) in fields {
            if let Some(slot) = r.get_mut(col(n)) {
                *slot = v.clone();
            }
        }
        r
    };
    let s = |x: &str| Value::string(x);
    let t = |x: &str| Value::DateTime(ticks(x));
    type Case<'a> = (Vec<(&'a str, Value)>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("DeviceName", s("srv-app01.contoso.local")),
                ("Timestamp", t("2026-11-22T02:00:00Z")),
            ],
            Some("scheduled-maintenance"),
        ),
        (
            vec![
                ("DeviceName", s("srv-app01.contoso.local")),
                ("Timestamp", t("2026-11-23T02:00:00Z")),
            ],
            None,
        ),
        (
            vec![
                ("DeviceName", s("wks-01.contoso.local")),
                ("Timestamp", t("2026-11-22T02:00:00Z")),
            ],
            None,
        ),
        (
            vec![("InitiatingProcessAccountName", s("IT_SUPPORT_1"))],
            Some("it-support-team"),
        ),
        (
            vec![
                ("InitiatingProcessAccountName", s("svc_patch")),
                ("Timestamp", t("2026-11-24T23:00:00Z")),
            ],
            Some("patching-off-peak"),
        ),
        (
            vec![
                ("InitiatingProcessAccountName", s("svc_patch")),
                ("Timestamp", t("2026-11-24T12:00:00Z")),
            ],
            None,
        ),
        (
            vec![
                ("InitiatingProcessAccountName", s("svc_inventory")),
                ("InitiatingProcessAccountDomain", s("CONTOSO")),
            ],
            Some("inventory-collection"),
        ),
        (
            vec![
                ("InitiatingProcessAccountName", s("svc_inventory")),
                ("InitiatingProcessAccountDomain", s("FABRIKAM")),
            ],
            None,
        ),
        (vec![("RemoteIP", s("10.20.0.15"))], Some("siem-forwarding")),
        (vec![("RemoteIP", s("10.20.0.16"))], None),
    ];
    for (fields, want) in cases {
        let got = bound
            .first_match(&row(&fields))
            .and_then(|i| names.get(i).copied());
        assert_eq!(got, want, "{fields:?}");
    }
}

#[test]
fn scoped_entries_are_checked_against_their_rules_tables() {
    let seed = rmmhunt::rule::builtin_rules().rules;
    let text = "exclusions:
  - name: fine
    reason: r
    rules: [b915897c-1fe7-47f4-9e06-2ae74da8203e]
    when:
      RemoteIP: { cidr: 10.0.0.0/8 }
  - name: wrong-table
    reason: r
    rules: [b915897c-1fe7-47f4-9e06-2ae74da8203e]
    when:
      Signer: { has: zoho }
  - name: unscoped
    reason: r
    when:
      Signer: { has: zoho }
";
    let set = ExclusionSet::parse("s.yaml", text).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<String> = set
        .check_against(&seed)
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        got,
        vec!["s.yaml:11:7: exclusion 'wrong-table': unknown column `Signer` for rule b915897c-1fe7-47f4-9e06-2ae74da8203e (tables: DeviceNetworkEvents)".to_string()]
    );
}

#[test]
fn truncated_exclusion_files_never_panic() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exclusions.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for cut in (0..text.len()).filter(|c| text.is_char_boundary(*c)) {
        let r = ExclusionSet::parse("t.yaml", &text[..cut]);
        if let Err(e) = r {
            assert!(!e.0.is_empty(), "cut {cut}");
        }
    }
    // extreme datetimes do not overflow the window arithmetic
    let set = one("Timestamp", "{ weekly: { start: '22:00', end: '04:00' } }");
    for t in [i64::MIN, i64::MAX, 0] {
        let _ = matches(&set, "Timestamp", Type::DateTime, Value::DateTime(t));
    }
}
