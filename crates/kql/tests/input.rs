//! Input readers: formats, quoting, types, projection, prefilter soundness,
//! partitions and errors, all over in-memory byte sources.

use kql::input::{Format, InputOptions, InputTable, MemorySource};
use kql::table::{Prefilter, ScanError, ScanRequest};
use kql::{Column, Row, Schema, Type, Value};
use std::sync::Arc;

fn open(text: &str, format: Format, known: Option<Schema>) -> Result<InputTable, ScanError> {
    open_with(text, format, known, InputOptions::default())
}

fn open_with(
    text: &str,
    format: Format,
    known: Option<Schema>,
    opts: InputOptions,
) -> Result<InputTable, ScanError> {
    InputTable::open(
        "T",
        "t.file",
        Arc::new(MemorySource::new(text.as_bytes().to_vec())),
        format,
        known,
        opts,
    )
}

fn all_columns(t: &InputTable) -> Vec<usize> {
    (0..t.schema().len()).collect()
}

fn read(t: &InputTable, req: &ScanRequest) -> Result<Vec<Row>, ScanError> {
    let mut rows = Vec::new();
    for mut p in t.scan(req)? {
        while let Some(r) = p.next_row() {
            rows.push(r?);
        }
    }
    Ok(rows)
}

fn read_all(t: &InputTable) -> Result<Vec<Row>, ScanError> {
    read(
        t,
        &ScanRequest {
            columns: all_columns(t),
            prefilter: None,
            partitions: 1,
        },
    )
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn names_types(t: &InputTable) -> Vec<(String, Type)> {
    t.schema()
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty))
        .collect()
}

#[test]
fn formats_give_the_same_table() {
    let jsonl = "{\"a\":\"x\",\"n\":1}\n{\"a\":\"y,z\",\"n\":2}\n";
    let json_array = "[\n {\"a\":\"x\",\"n\":1},\n {\"a\":\"y,z\",\n  \"n\":2}\n]\n";
    let json_lines_in_json = "\u{feff}{\"a\":\"x\",\"n\":1}\r\n\r\n{\"a\":\"y,z\",\"n\":2}";
    let csv = "a,n\r\nx,1\r\n\"y,z\",2\r\n";
    let want = vec![vec![s("x"), Value::Long(1)], vec![s("y,z"), Value::Long(2)]];
    for (text, fmt) in [
        (jsonl, Format::JsonLines),
        (json_array, Format::Json),
        (json_lines_in_json, Format::Json),
        (csv, Format::Csv),
    ] {
        let t = open(text, fmt, None).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(
            names_types(&t),
            vec![("a".into(), Type::String), ("n".into(), Type::Long)],
            "input {text:?}"
        );
        assert_eq!(read_all(&t), Ok(want.clone()), "input {text:?}");
    }
}

#[test]
fn csv_quoting_and_newlines() {
    let text = "id,msg,note\n1,\"he said \"\"hi\"\"\",x\n2,\"two\r\nlines\",\"a,b\"\n3,,\"\"\n";
    let t = open(text, Format::Csv, None).unwrap_or_else(|e| panic!("{e}"));
    let rows = read_all(&t);
    assert_eq!(
        rows,
        Ok(vec![
            vec![Value::Long(1), s("he said \"hi\""), s("x")],
            vec![Value::Long(2), s("two\r\nlines"), s("a,b")],
            vec![Value::Long(3), s(""), s("")],
        ]),
        "input {text:?}"
    );
}

#[test]
fn json_escapes_and_nested_values() {
    let text = r#"{"p":"C:\\Windows\\x.exe","u":"http:\/\/a\u002fb","d":{"k":[1,{"z":"]"}]},"e":"\ud83d\ude00"}"#;
    let t = open(text, Format::JsonLines, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names_types(&t),
        vec![
            ("p".into(), Type::String),
            ("u".into(), Type::String),
            ("d".into(), Type::Dynamic),
            ("e".into(), Type::String)
        ]
    );
    assert_eq!(
        read_all(&t),
        Ok(vec![vec![
            s("C:\\Windows\\x.exe"),
            s("http://a/b"),
            Value::dynamic(serde_json::json!({"k":[1,{"z":"]"}]})),
            s("😀"),
        ]]),
        "input {text}"
    );
}

#[test]
fn missing_columns_are_null() {
    let text = "{\"a\":\"x\",\"n\":1,\"t\":\"2024-05-01T10:01:00.1234567Z\"}\n{\"b\":true}\n";
    let t = open(text, Format::JsonLines, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names_types(&t),
        vec![
            ("a".into(), Type::String),
            ("n".into(), Type::Long),
            ("t".into(), Type::DateTime),
            ("b".into(), Type::Bool)
        ]
    );
    let rows = read_all(&t).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rows.get(1),
        Some(&vec![s(""), Value::Null, Value::Null, Value::Bool(true)])
    );
    // 2024-05-01T10:01:00.1234567Z in ticks
    let day =
        (2024 - 1) * 365 + (2024 - 1) / 4 - (2024 - 1) / 100 + (2024 - 1) / 400 + 31 + 29 + 31 + 30;
    let ticks = day * kql::time::DAY + 10 * kql::time::HOUR + kql::time::MINUTE + 1_234_567;
    assert_eq!(
        rows.first().and_then(|r| r.get(2)),
        Some(&Value::DateTime(ticks))
    );
}

#[test]
fn type_inference_widens() {
    let cases: &[(&str, Format, Vec<Type>)] = &[
        (
            "{\"x\":1}\n{\"x\":2.5}\n",
            Format::JsonLines,
            vec![Type::Real],
        ),
        (
            "{\"x\":1}\n{\"x\":\"a\"}\n",
            Format::JsonLines,
            vec![Type::String],
        ),
        ("{\"x\":null}\n", Format::JsonLines, vec![Type::String]),
        (
            "{\"x\":[1]}\n{\"x\":{}}\n",
            Format::JsonLines,
            vec![Type::Dynamic],
        ),
        ("{\"x\":\"12\"}\n", Format::JsonLines, vec![Type::String]),
        ("x\n1\n\n2\n", Format::Csv, vec![Type::Long]),
        ("x\n1\n2.5\n", Format::Csv, vec![Type::Real]),
        ("x\ntrue\nFALSE\n", Format::Csv, vec![Type::Bool]),
        (
            "x\n2024-01-01\n2024-01-02T00:00:00Z\n",
            Format::Csv,
            vec![Type::DateTime],
        ),
        ("x\n\"{\"\"a\"\":1}\"\n", Format::Csv, vec![Type::Dynamic]),
        ("x\n1\nabc\n", Format::Csv, vec![Type::String]),
        (
            "x\n7fb6c51c-35b9-4e1b-9b9e-1a2b3c4d5e6f\n",
            Format::Csv,
            vec![Type::String],
        ),
    ];
    for (text, fmt, want) in cases {
        let t = open(text, *fmt, None).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let got: Vec<Type> = t.schema().columns.iter().map(|c| c.ty).collect();
        assert_eq!(&got, want, "input {text:?}");
    }
}

#[test]
fn known_schema_converts_and_nulls_bad_values() {
    let schema = Schema::new(vec![
        Column::new("n", Type::Long),
        Column::new("p", Type::Int),
        Column::new("t", Type::DateTime),
        Column::new("s", Type::String),
        Column::new("b", Type::Bool),
    ]);
    let text = "{\"n\":\"abc\",\"p\":\"443\",\"t\":\"yesterday\",\"s\":{\"a\":1},\"b\":\"true\",\"extra\":1}\n";
    let t = open(text, Format::JsonLines, Some(schema.clone())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.schema(), &schema);
    assert_eq!(
        read_all(&t),
        Ok(vec![vec![
            Value::Null,
            Value::Int(443),
            Value::Null,
            s("{\"a\":1}"),
            Value::Bool(true)
        ]]),
        "input {text}"
    );
    let csv = "s,n,zz\nhello,12,q\n";
    let t = open(csv, Format::Csv, Some(schema)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        read_all(&t),
        Ok(vec![vec![
            Value::Long(12),
            Value::Null,
            Value::Null,
            s("hello"),
            Value::Null
        ]]),
        "input {csv:?}"
    );
}

#[test]
fn projection_keeps_requested_order() {
    let text = "{\"a\":1,\"b\":\"x\",\"c\":true}\n{\"c\":false,\"a\":2}\n";
    let csv = "a,b,c\n1,x,true\n2,,false\n";
    for (text, fmt) in [(text, Format::JsonLines), (csv, Format::Csv)] {
        let t = open(text, fmt, None).unwrap_or_else(|e| panic!("{e}"));
        let rows = read(
            &t,
            &ScanRequest {
                columns: vec![2, 0],
                prefilter: None,
                partitions: 1,
            },
        );
        assert_eq!(
            rows,
            Ok(vec![
                vec![Value::Bool(true), Value::Long(1)],
                vec![Value::Bool(false), Value::Long(2)]
            ]),
            "input {text:?}"
        );
    }
}

/// Rows as (url, company) strings, with a reference predicate: url has a
/// needle of set 1 (substring, case-insensitive) and company has "zoho".
fn satisfies(row: &Row) -> bool {
    let get = |i: usize| {
        row.get(i)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_lowercase()
    };
    (get(0).contains("assist.zoho.com") || get(0).contains("zohoassist.com"))
        && get(1).contains("zoho")
}

#[test]
fn prefilter_is_sound() {
    let jsonl = [
        r#"{"u":"assist.zoho.com","c":"Zoho Corporation"}"#,
        r#"{"u":"ASSIST.ZOHO.COM:443","c":"ZOHO"}"#,
        r#"{"u":"example.com","c":"Zoho"}"#,
        r#"{"u":"assist.zoho.com","c":"Contoso"}"#,
        // escapes that hide needle letters: must be decoded, and match
        r#"{"u":"assist.\u007aoho.com","c":"Zoho"}"#,
        r#"{"u":"https:\/\/gw.zohoassist.com\/x","c":"Zoho"}"#,
        // harmless escapes: the raw text still shows the needles
        r#"{"u":"zohoassist.com","c":"\"Zoho\" Corp","x":"a\\b"}"#,
        // non-ASCII: Kusto's case folding could match; decoded
        r#"{"u":"zohoassiſt.com","c":"Zoho"}"#,
    ]
    .join("\n");
    let csv = "u,c\nassist.zoho.com,Zoho Corporation\nexample.com,Zoho\n\"gw.zohoassist.com\",\"Zoho \"\"Corp\"\"\"\n\"multi\nline zohoassist.com\",zoho\nassist.zoho.com,Contoso\n";
    let pf = Prefilter {
        required: vec![
            vec!["assist.zoho.com".into(), "zohoassist.com".into()],
            vec!["zoho".into()],
        ],
    };
    for (text, fmt) in [(jsonl.as_str(), Format::JsonLines), (csv, Format::Csv)] {
        let t = open(text, fmt, None).unwrap_or_else(|e| panic!("{e}"));
        let two = ScanRequest {
            columns: vec![0, 1],
            prefilter: None,
            partitions: 1,
        };
        let full = read(&t, &two).unwrap_or_else(|e| panic!("{e}"));
        let filtered = read(
            &t,
            &ScanRequest {
                columns: vec![0, 1],
                prefilter: Some(pf.clone()),
                partitions: 1,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // Every row the predicate keeps survives the prefilter...
        let want: Vec<&Row> = full.iter().filter(|r| satisfies(r)).collect();
        let got: Vec<&Row> = filtered.iter().filter(|r| satisfies(r)).collect();
        assert_eq!(got, want, "input {text:?}");
        // ...and the prefilter actually dropped something.
        assert!(
            filtered.len() < full.len(),
            "input {text:?}: nothing skipped"
        );
    }
    // The escaped and non-ASCII JSON rows were decoded, not skipped.
    let t = open(&jsonl, Format::JsonLines, None).unwrap_or_else(|e| panic!("{e}"));
    let filtered = read(
        &t,
        &ScanRequest {
            columns: vec![0],
            prefilter: Some(pf),
            partitions: 1,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for u in [
        "assist.zoho.com",
        "https://gw.zohoassist.com/x",
        "zohoassiſt.com",
    ] {
        assert!(
            filtered.contains(&vec![s(u)]),
            "{u} missing from {filtered:?}"
        );
    }
}

fn big_inputs() -> Vec<(String, Format)> {
    let mut jsonl = String::new();
    let mut csv = String::from("i,name,note\r\n");
    for i in 0..5000 {
        jsonl.push_str(&format!(
            "{{\"i\":{i},\"name\":\"row {i}\",\"note\":\"n\\\"{i}\"}}\n"
        ));
        if i % 7 == 0 {
            // quoted newlines in some records, including right at the split
            csv.push_str(&format!("{i},\"row\n{i}\",\"q \"\"x\"\"\"\r\n"));
        } else {
            csv.push_str(&format!("{i},row {i},plain\r\n"));
        }
    }
    // a record with many lines, to land a quoted newline on any boundary
    csv.push_str(&format!("5000,\"{}\",end\r\n", "x\n".repeat(3000)));
    vec![(jsonl, Format::JsonLines), (csv, Format::Csv)]
}

#[test]
fn partitions_give_the_same_rows() {
    for (text, fmt) in big_inputs() {
        for min in [1u64, 97, 4096] {
            let opts = InputOptions {
                min_partition_bytes: min,
                buffer_size: 256,
                ..InputOptions::default()
            };
            let t = open_with(&text, fmt, None, opts).unwrap_or_else(|e| panic!("{e}"));
            let one = read_all(&t).unwrap_or_else(|e| panic!("{e}"));
            for parts in [2usize, 3, 8, 64] {
                let req = ScanRequest {
                    columns: all_columns(&t),
                    prefilter: None,
                    partitions: parts,
                };
                let streams = t.scan(&req).unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    streams.len() > 1,
                    "{fmt:?}: expected several partitions for {parts}"
                );
                let many = read(&t, &req).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(many.len(), one.len(), "{fmt:?} parts={parts} min={min}");
                assert!(many == one, "{fmt:?} parts={parts} min={min}: rows differ");
            }
        }
    }
}

#[test]
fn malformed_rows_name_the_line() {
    let cases: &[(&str, Format, &str)] = &[
        (
            "{\"a\":1}\n{\"a\":2}\n{\"a\":\n",
            Format::JsonLines,
            "t.file, line 3, column 6",
        ),
        (
            "{\"a\":1}\n\n{\"a\" 2}\n",
            Format::JsonLines,
            "t.file, line 3, column 6",
        ),
        (
            "[{\"a\":1},\n{\"a\":2}\n{\"a\":3}]",
            Format::Json,
            "t.file, line 3",
        ),
        (
            "[{\"a\":1},\n{\"a\":\n tru}]",
            Format::Json,
            "t.file, line 3, column 2",
        ),
        ("a,b\n1,2\n3\n", Format::Csv, "t.file, line 3"),
        ("a,b\n1,\"2\n3,4\n", Format::Csv, "t.file, line 2"),
    ];
    for (text, fmt, want) in cases {
        // Sample 1 row so the error comes from the scan, not the inference.
        let opts = InputOptions {
            sample_rows: 1,
            ..InputOptions::default()
        };
        match open_with(text, *fmt, None, opts).and_then(|t| read_all(&t)) {
            Ok(rows) => panic!("input {text:?}: expected an error, got {rows:?}"),
            Err(e) => {
                assert_eq!(e.location, *want, "input {text:?}: {e}");
                assert_eq!(e.table, "T");
            }
        }
    }
}

#[test]
fn errors_in_later_partitions_have_absolute_lines() {
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!("{{\"a\":{i}}}\n"));
    }
    text.push_str("{\"a\":oops}\n");
    let opts = InputOptions {
        min_partition_bytes: 100,
        ..InputOptions::default()
    };
    let t = open_with(&text, Format::JsonLines, None, opts).unwrap_or_else(|e| panic!("{e}"));
    let req = ScanRequest {
        columns: vec![0],
        prefilter: None,
        partitions: 4,
    };
    match read(&t, &req) {
        Ok(_) => panic!("expected an error"),
        Err(e) => assert_eq!(e.location, "t.file, line 1001, column 6"),
    }
}

#[test]
fn empty_inputs() {
    for (text, fmt) in [
        ("", Format::JsonLines),
        ("\n\n", Format::JsonLines),
        ("", Format::Json),
        ("[]", Format::Json),
        (" [ ] \n", Format::Json),
        ("", Format::Csv),
        ("a,b\r\n", Format::Csv),
    ] {
        let t = open(text, fmt, None).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let rows = read(
            &t,
            &ScanRequest {
                columns: all_columns(&t),
                prefilter: None,
                partitions: 4,
            },
        );
        assert_eq!(rows, Ok(vec![]), "input {text:?}");
    }
    let t = open("a,b\r\n", Format::Csv, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names_types(&t),
        vec![("a".into(), Type::String), ("b".into(), Type::String)]
    );
}

#[test]
fn bad_headers_and_arrays_fail_at_open() {
    let cases: &[(&str, Format)] = &[
        ("a,a\n1,2\n", Format::Csv),
        ("a,,b\n", Format::Csv),
        ("[1,2]", Format::Json),
        ("[{\"a\":1}", Format::Json),
        ("{\"a\":1}\nnot json\n", Format::JsonLines),
    ];
    for (text, fmt) in cases {
        assert!(
            open(text, *fmt, None).is_err(),
            "input {text:?} should fail"
        );
    }
}

#[test]
fn column_index_out_of_range_is_an_error() {
    let t = open("{\"a\":1}\n", Format::JsonLines, None).unwrap_or_else(|e| panic!("{e}"));
    let req = ScanRequest {
        columns: vec![5],
        prefilter: None,
        partitions: 1,
    };
    assert!(t.scan(&req).is_err());
}

/// Mutated inputs (flipped, inserted and dropped bytes, truncation) give
/// rows or errors, never a panic, in every format and partitioning.
#[test]
fn mutated_inputs_never_panic() {
    let seeds = [
        "{\"a\":\"x\\\"y\",\"n\":1,\"d\":{\"k\":[1,2,{\"z\":null}]},\"t\":\"2024-05-01T10:01:00Z\"}\n{\"a\":\"\\u00e9\",\"n\":2.5}\n",
        "[{\"a\":1},\n{\"b\":\"two\\nlines\"}, {\"c\":[true,false]}]",
        "a,b,c\r\n1,\"x,y\",\"q \"\"z\"\"\"\r\n2,\"multi\nline\",3\r\n",
    ];
    let formats = [Format::JsonLines, Format::Json, Format::Csv];
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let specials = b"{}[]\",:\\\n\r u0";
    for round in 0..3000 {
        let base = seeds[round % seeds.len()].as_bytes();
        let mut bytes = base.to_vec();
        for _ in 0..(1 + next() % 4) {
            if bytes.is_empty() {
                break;
            }
            let i = (next() % bytes.len() as u64) as usize;
            let c = specials[(next() % specials.len() as u64) as usize];
            match next() % 4 {
                0 => bytes[i] = c,
                1 => bytes.insert(i, c),
                2 => {
                    bytes.remove(i);
                }
                _ => bytes.truncate(i),
            }
        }
        if next() % 5 == 0 {
            bytes.push(0xC3); // a dangling UTF-8 lead byte
        }
        let fmt = formats[(next() % 3) as usize];
        let opts = InputOptions {
            min_partition_bytes: 8,
            buffer_size: 64,
            ..InputOptions::default()
        };
        let t = InputTable::open(
            "T",
            "m",
            Arc::new(MemorySource::new(bytes.clone())),
            fmt,
            None,
            opts,
        );
        if let Ok(t) = t {
            let pf = Prefilter {
                required: vec![vec!["x".into(), "two".into()]],
            };
            for parts in [1, 3] {
                let req = ScanRequest {
                    columns: all_columns(&t),
                    prefilter: Some(pf.clone()),
                    partitions: parts,
                };
                let _ = read(&t, &req);
            }
        }
    }
}

/// The prefilter skips whole buffers of lines at a time: with tiny
/// buffers, many partitions and rows that hide needles behind escapes
/// scattered between plain misses, it keeps every row the filter keeps.
#[test]
fn block_prefilter_keeps_every_match_across_buffers() {
    let rows = [
        r#"{"u":"example.com","c":"Contoso"}"#,
        r#"{"u":"assist.zoho.com","c":"Zoho Corporation"}"#,
        r#"{"u":"example.org","c":"x\\u"}"#,
        r#"{"u":"assist.\u007aoho.com","c":"Zoho"}"#,
        r#"{"u":"https:\/\/gw.zohoassist.com\/x","c":"Zoho"}"#,
        r#"{"u":"zohoassist.com","c":"Contoso"}"#,
        r#"{"u":"zohoassiſt.com","c":"Zoho"}"#,
    ];
    let mut jsonl = String::new();
    let mut csv = String::from("u,c\n");
    for i in 0..3000usize {
        let k = (i * 7919) % 23;
        let r = rows.get(k).copied().unwrap_or(rows[0]);
        jsonl.push_str(r);
        jsonl.push('\n');
        csv.push_str(match k {
            1 => "assist.zoho.com,Zoho Corporation\n",
            5 => "zohoassist.com,Contoso\n",
            6 => "\"x \"\"zohoassist.com\"\"\",zoho\n",
            _ => "example.com,Contoso\n",
        });
    }
    let pf = Prefilter {
        required: vec![
            vec!["assist.zoho.com".into(), "zohoassist.com".into()],
            vec!["zoho".into()],
        ],
    };
    for (text, fmt) in [
        (jsonl.as_str(), Format::JsonLines),
        (csv.as_str(), Format::Csv),
    ] {
        for (buffer, partitions) in [(64usize, 1usize), (200, 3), (4096, 2)] {
            let opts = InputOptions {
                buffer_size: buffer,
                min_partition_bytes: 1,
                ..InputOptions::default()
            };
            let t = open_with(text, fmt, None, opts).unwrap_or_else(|e| panic!("{e}"));
            let req = |prefilter| ScanRequest {
                columns: vec![0, 1],
                prefilter,
                partitions,
            };
            let full = read(&t, &req(None)).unwrap_or_else(|e| panic!("{e}"));
            let filtered = read(&t, &req(Some(pf.clone()))).unwrap_or_else(|e| panic!("{e}"));
            let want: Vec<&Row> = full.iter().filter(|r| satisfies(r)).collect();
            let got: Vec<&Row> = filtered.iter().filter(|r| satisfies(r)).collect();
            assert!(!want.is_empty());
            assert_eq!(
                got, want,
                "{fmt:?}, buffer {buffer}, {partitions} partitions"
            );
            assert!(filtered.len() < full.len(), "{fmt:?}: nothing skipped");
        }
    }
}
