//! Rule files -> [`Rule`]s + diagnostics, KQL positions shifted into the
//! YAML file.
//!
//! Steps per file: a tolerant pre-pass that repairs exactly one known
//! defect of the upstream RMM family (`dataTypes:` indented to the
//! `- connectorId:` dash; reported as a warning at its original line), YAML
//! parsing with positions, the hunting-query wire struct, then the query:
//! a ```` ```kusto ```` fence is stripped, and it is parsed and planned
//! against [`super::schema::SchemaCatalog`]. Every diagnostic points into the
//! original file text. One bad file never stops the others.

use super::sentinel;
use super::yaml::{self, Node, NodeKind, ScalarStyle};
use super::{
    FileSummary, LineEndings, LoadReport, Outcome, QueryMap, Rule, RuleDiagnostic, RuleOrigin,
};
use kql::{Diagnostic, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Loads a rule file, or every `*.yaml`/`*.yml` file under a folder
/// (recursively, in path order). Unreadable paths become diagnostics.
pub fn load_path(path: &Path) -> LoadReport {
    let mut files = Vec::new();
    let mut report = LoadReport::default();
    if path.is_dir() {
        collect(path, &mut files, &mut report);
    } else {
        files.push(path.to_path_buf());
    }
    files.sort();
    for f in files {
        match std::fs::read(&f) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => report.merge(load_text(f, &text)),
                Err(e) => report_unreadable(&mut report, f, format!("not UTF-8 text: {e}")),
            },
            Err(e) => report_unreadable(&mut report, f, format!("cannot read: {e}")),
        }
    }
    report.check_duplicate_ids();
    report
}

fn report_unreadable(report: &mut LoadReport, path: PathBuf, message: String) {
    let mut d = Diagnostic::error("RULE010", message, Span::default());
    d.labels.clear();
    report
        .diagnostics
        .push(RuleDiagnostic::new(path.clone(), Arc::from(""), d));
    report.files.push(FileSummary {
        path,
        rule_id: None,
        outcome: Outcome::Failed,
        line_endings: LineEndings::Lf,
        query_tab_lines: 0,
    });
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, report: &mut LoadReport) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            report_unreadable(
                report,
                dir.to_path_buf(),
                format!("cannot read folder: {e}"),
            );
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, out, report);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        {
            out.push(p);
        }
    }
}

/// Loads one rule from text; `path` is used in diagnostics only.
pub fn load_text(path: PathBuf, text: &str) -> LoadReport {
    let shared: Arc<str> = Arc::from(text);
    let mut diags: Vec<Diagnostic> = Vec::new();
    let line_endings = line_endings(text);
    if line_endings == LineEndings::Mixed {
        diags.push(Diagnostic::warning(
            "RULE011",
            "mixed line endings (CRLF and LF)",
            Span::new(0, 0),
        ));
    }
    let (fixed, prepass) = repair_data_types_indent(text);
    for &at in &prepass.insertions {
        let end = text
            .get(at..)
            .and_then(|s| s.find([':', '\r', '\n']))
            .map_or(at, |e| at + e);
        diags.push(
            Diagnostic::warning(
                "RULE002",
                "`dataTypes:` is indented to the `- connectorId:` dash above it (invalid YAML); read as a key of that connector",
                Span::new(at, end),
            )
            .with_help("indent `dataTypes:` two more spaces, under `connectorId:`"),
        );
    }
    let mut rule = None;
    let mut query_tab_lines = 0;
    match yaml::parse(&fixed) {
        Err(e) => {
            let at = prepass.to_original(e.mark.offset);
            diags.push(Diagnostic::error(
                "RULE001",
                format!("invalid YAML: {}", e.message),
                Span::new(at, at + 1),
            ));
        }
        Ok(None) => diags.push(Diagnostic::error(
            "RULE001",
            "empty YAML document",
            Span::new(0, 0),
        )),
        Ok(Some(root)) => {
            let mut wire_diags = Vec::new();
            let hq = sentinel::read(&root, &mut wire_diags);
            diags.extend(wire_diags.into_iter().map(|d| prepass.map_diagnostic(d)));
            if let Some(hq) = hq {
                let (query, map) = query_text(&fixed, &hq.query);
                let map = QueryMap::new(
                    map.segments
                        .iter()
                        .map(|&(q, f, len)| (q, prepass.to_original(f), len))
                        .collect(),
                );
                query_tab_lines = query.lines().filter(|l| l.contains('\t')).count();
                let origin = RuleOrigin {
                    path: path.clone(),
                    text: shared.clone(),
                    query_map: map,
                };
                let kql_diags = check_query(&query);
                let ok = !kql_diags.iter().any(|d| d.severity == kql::Severity::Error);
                diags.extend(
                    kql_diags
                        .into_iter()
                        .map(|d| origin.map_diagnostic(&d).diagnostic),
                );
                let _ = &hq.id_node;
                if ok {
                    rule = Some(Rule {
                        id: hq.id,
                        name: hq.name,
                        description: hq.description,
                        tactics: hq.tactics,
                        techniques: hq.relevant_techniques,
                        query,
                        data_types: hq
                            .required_data_connectors
                            .iter()
                            .flat_map(|c| c.data_types.iter().cloned())
                            .collect(),
                        connectors: hq
                            .required_data_connectors
                            .iter()
                            .map(|c| c.connector_id.clone())
                            .collect(),
                        origin,
                    });
                }
            }
        }
    }
    let has_error = diags.iter().any(|d| d.severity == kql::Severity::Error);
    let outcome = if has_error || rule.is_none() {
        Outcome::Failed
    } else if diags.is_empty() {
        Outcome::Loaded
    } else {
        Outcome::LoadedWithWarnings
    };
    let rule_id = rule
        .as_ref()
        .map(|r: &Rule| r.id.clone())
        .or_else(|| first_id(text));
    LoadReport {
        rules: if has_error {
            Vec::new()
        } else {
            rule.into_iter().collect()
        },
        diagnostics: diags
            .into_iter()
            .map(|d| RuleDiagnostic::new(path.clone(), shared.clone(), d))
            .collect(),
        files: vec![FileSummary {
            path,
            rule_id,
            outcome,
            line_endings,
            query_tab_lines,
        }],
    }
}

/// The `id:` of a file that did not load, for summaries.
fn first_id(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("id:"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Parses and plans a query against the known schemas. Query coordinates.
fn check_query(query: &str) -> Vec<Diagnostic> {
    let ast = match kql::parse(query) {
        Ok(ast) => ast,
        Err(d) if d.0.is_empty() => {
            return vec![Diagnostic::error(
                "KQL000",
                "the query does not parse",
                Span::new(0, 0),
            )]
        }
        Err(d) => return d.0,
    };
    match kql::plan(&ast, &super::schema::SchemaCatalog) {
        Ok(_) => Vec::new(),
        Err(d) if d.0.is_empty() => vec![Diagnostic::error(
            "KQL100",
            "the query does not plan",
            Span::new(0, 0),
        )],
        Err(d) => d.0,
    }
}

fn line_endings(text: &str) -> LineEndings {
    let lf = text.matches('\n').count();
    let crlf = text.matches("\r\n").count();
    match (crlf, lf) {
        (0, _) => LineEndings::Lf,
        (c, l) if c == l => LineEndings::Crlf,
        _ => LineEndings::Mixed,
    }
}

/// The repairs the pre-pass made: byte offsets in the *original* text where
/// two spaces were inserted.
#[derive(Debug, Default)]
struct Prepass {
    insertions: Vec<usize>,
}

const INSERT: usize = 2;

impl Prepass {
    /// Offset in the repaired text -> offset in the original text.
    fn to_original(&self, fixed: usize) -> usize {
        let mut shift = 0;
        for &p in &self.insertions {
            if fixed >= p + shift + INSERT {
                shift += INSERT;
            } else if fixed >= p + shift {
                return p;
            } else {
                break;
            }
        }
        fixed - shift
    }

    fn map_diagnostic(&self, mut d: Diagnostic) -> Diagnostic {
        for l in &mut d.labels {
            l.span = Span::new(
                self.to_original(l.span.start as usize),
                self.to_original(l.span.end as usize),
            );
        }
        d
    }
}

/// Re-indents `dataTypes:` when it sits at the column of the `- ` dash of
/// the `- connectorId:` line right above it (the upstream RMM family's
/// slip), so it reads as a key of that connector.
fn repair_data_types_indent(text: &str) -> (String, Prepass) {
    let mut out = String::with_capacity(text.len() + 16);
    let mut prepass = Prepass::default();
    let mut dash_indent: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        if dash_indent == Some(indent) && body.starts_with("dataTypes:") {
            prepass.insertions.push(offset + indent);
            out.push_str(&line[..indent]);
            out.push_str("  ");
            out.push_str(body);
        } else {
            out.push_str(line);
        }
        if body.trim_end().is_empty() {
            // blank lines do not break the pattern
        } else if body.starts_with("- connectorId:") {
            dash_indent = Some(indent);
        } else {
            dash_indent = None;
        }
        offset += line.len();
    }
    (out, prepass)
}

/// The query text and its map into `text` (the repaired text). A fence
/// (```` ```kusto ```` ... ```` ``` ````) around the query is removed.
fn query_text(text: &str, node: &Node) -> (String, QueryMap) {
    let NodeKind::Scalar(value, style) = &node.kind else {
        return (String::new(), QueryMap::default());
    };
    let segments = match style {
        ScalarStyle::Literal | ScalarStyle::Folded => {
            block_segments(text, node.mark.offset, value, *style)
        }
        _ => inline_segments(text, node.mark.offset, value, *style),
    }
    .unwrap_or_else(|| vec![(0, node.mark.offset, 0)]);
    let (start, end) = fence(value);
    let query = value.get(start..end).unwrap_or(value).to_string();
    let segments = segments
        .into_iter()
        .filter_map(|(q, f, len)| {
            // keep the part of each segment inside [start, end)
            let s = q.max(start);
            let e = (q + len).min(end);
            (s <= e).then(|| (s - start, f + (s - q), e - s))
        })
        .collect();
    (query, QueryMap::new(segments))
}

/// `(start, end)` of the query inside a fenced value, or the whole value.
fn fence(value: &str) -> (usize, usize) {
    let lead = value.len() - value.trim_start().len();
    let rest = &value[lead..];
    if !rest.starts_with("```") {
        return (0, value.len());
    }
    let Some(nl) = rest.find('\n') else {
        return (0, value.len());
    };
    let start = lead + nl + 1;
    let trimmed_end = value.trim_end().len();
    let end = if value[..trimmed_end].ends_with("```") && trimmed_end - 3 >= start {
        value[..trimmed_end - 3]
            .rfind('\n')
            .map_or(trimmed_end - 3, |i| i + 1)
            .max(start)
    } else {
        value.len()
    };
    (start, end)
}

/// One segment per content line of a `|`/`>` block scalar whose header
/// (the indicator) is at `header`. `None` if the lines do not rebuild the
/// parsed value (then positions fall back to the scalar's start).
fn block_segments(
    text: &str,
    mark: usize,
    value: &str,
    style: ScalarStyle,
) -> Option<Vec<(usize, usize, usize)>> {
    let header = block_header(text, mark)?;
    let header_line_end = header + text.get(header..)?.find('\n')? + 1;
    let header_text = text.get(header..header_line_end)?;
    let explicit = header_text
        .chars()
        .skip(1)
        .take_while(|c| !c.is_whitespace())
        .find_map(|c| c.to_digit(10))
        .map(|d| d as usize);
    let line_start = text.get(..header)?.rfind('\n').map_or(0, |i| i + 1);
    let parent_indent =
        text.get(line_start..)?.len() - text.get(line_start..)?.trim_start_matches(' ').len();
    let mut indent = explicit.map(|d| parent_indent + d);
    let mut segments = Vec::new();
    let mut rebuilt = String::new();
    let mut pos = header_line_end;
    for raw in text.get(header_line_end..)?.split_inclusive('\n') {
        let line = raw.trim_end_matches('\n').trim_end_matches('\r');
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty();
        if !blank {
            let ind = *indent.get_or_insert(spaces);
            if spaces < ind {
                break;
            }
        }
        let ind = indent.unwrap_or(spaces);
        let content = line.get(ind.min(line.len())..).unwrap_or("");
        segments.push((rebuilt.len(), pos + ind.min(line.len()), content.len()));
        rebuilt.push_str(content);
        rebuilt.push('\n');
        pos += raw.len();
    }
    let same = match style {
        ScalarStyle::Literal => rebuilt.trim_end_matches('\n') == value.trim_end_matches('\n'),
        _ => {
            let a = rebuilt.trim_end_matches('\n');
            let b = value.trim_end_matches('\n');
            a.len() == b.len()
                && a.bytes()
                    .zip(b.bytes())
                    .all(|(x, y)| x == y || (x == b'\n' && y == b' '))
        }
    };
    same.then_some(segments)
}

/// Offset of the `|`/`>` indicator of the block scalar whose parser mark
/// is `mark` (yaml-rust2 marks the first content line; be lenient and also
/// accept a mark on the header line itself).
fn block_header(text: &str, mark: usize) -> Option<usize> {
    let mut line_start = text.get(..mark)?.rfind('\n').map_or(0, |i| i + 1);
    if text.get(line_start..mark)?.trim().is_empty() {
        // walk back over the content's first line and blank lines
        loop {
            let prev_end = line_start.checked_sub(1)?;
            let prev_start = text.get(..prev_end)?.rfind('\n').map_or(0, |i| i + 1);
            line_start = prev_start;
            if !text.get(prev_start..prev_end)?.trim().is_empty() {
                break;
            }
        }
    }
    let line_end = text
        .get(line_start..)?
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = text.get(line_start..line_end)?;
    let line = line.find(" #").map_or(line, |i| &line[..i]);
    line.rfind(['|', '>']).map(|i| line_start + i)
}

/// A flow scalar on one line: plain, or quoted with escapes (`''` in
/// single quotes; `\\x`, `\\uXXXX`... in double quotes). One segment per
/// run of characters that sit verbatim in the file.
fn inline_segments(
    text: &str,
    at: usize,
    value: &str,
    style: ScalarStyle,
) -> Option<Vec<(usize, usize, usize)>> {
    let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
    let mut raw = at + usize::from(quoted);
    let src = text.get(raw..)?;
    if !quoted {
        return src.starts_with(value).then(|| vec![(0, raw, value.len())]);
    }
    let mut segments: Vec<(usize, usize, usize)> = Vec::new();
    let mut chars = src.chars().peekable();
    for (v_off, vc) in value.char_indices() {
        let c = chars.next()?;
        let mut width = c.len_utf8();
        let verbatim = match (style, c) {
            (_, '\r' | '\n') => return None, // a folded multi-line scalar: no exact map
            (ScalarStyle::SingleQuoted, '\'') => {
                // `''` stands for one quote
                chars.next().filter(|n| *n == '\'')?;
                width += 1;
                false
            }
            (ScalarStyle::DoubleQuoted, '\\') => {
                let e = chars.next()?;
                width += e.len_utf8();
                let hex = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                for _ in 0..hex {
                    width += chars.next()?.len_utf8();
                }
                false
            }
            _ => {
                if c != vc {
                    return None;
                }
                true
            }
        };
        match segments.last_mut() {
            Some((q, f, len)) if verbatim && *q + *len == v_off && *f + *len == raw => {
                *len += vc.len_utf8()
            }
            _ => segments.push((v_off, raw, vc.len_utf8())),
        }
        raw += width;
    }
    Some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepass_repairs_and_maps_back() {
        let text =
            "a: 1\r\nr:\r\n    - connectorId: X\r\n    dataTypes:\r\n        - T\r\nq: 1\r\n";
        let (fixed, p) = repair_data_types_indent(text);
        assert_eq!(p.insertions, vec![text.find("dataTypes").unwrap_or(0)]);
        assert!(fixed.contains("\r\n      dataTypes:"), "{fixed:?}");
        let q_fixed = fixed.find("q: 1").unwrap_or(0);
        assert_eq!(p.to_original(q_fixed), text.find("q: 1").unwrap_or(1));
    }

    #[test]
    fn fences_are_stripped() {
        for (value, want) in [
            ("T | take 1\n", "T | take 1\n"),
            ("```kusto\nT | take 1\n```\n", "T | take 1\n"),
            ("```\nT\n| take 1\n```", "T\n| take 1\n"),
        ] {
            let (s, e) = fence(value);
            assert_eq!(&value[s..e], want, "{value:?}");
        }
    }

    #[test]
    fn block_scalar_lines_map_with_indentation() {
        let text = "id: x\r\nquery: |\r\n  T\r\n  | where a == 1\r\nnext: 2\r\n";
        let root = yaml::parse(text).ok().flatten();
        let Some(Node {
            kind: NodeKind::Map(entries),
            ..
        }) = root
        else {
            panic!("no map in {text:?}");
        };
        let q = &entries[1].1;
        let (query, map) = query_text(text, q);
        assert_eq!(query, "T\n| where a == 1\n");
        let a = query.find('a').unwrap_or(0);
        assert_eq!(
            super::super::line_col(text, map.to_file(a)),
            (4, 11),
            "{query:?}"
        );
    }
}
