//! Hunting rules: the domain [`Rule`], where its query sits in its file
//! ([`RuleOrigin`]), and the problems found while loading ([`RuleDiagnostic`]).
//!
//! Entry points for the CLI and server:
//! - [`builtin_rules`]: the rules shipped in `rules/` (built into the binary).
//! - [`load_path`]: a rule file or a folder of them (recursively, `*.yaml` /
//!   `*.yml`), e.g. for `rmmhunt rules validate PATH` and `--rules PATH`.
//!
//! Both return a [`LoadReport`]: the rules that loaded (errors-free; warnings
//! allowed), every diagnostic with `file:line:col`, and one [`FileSummary`]
//! per file. One bad file never stops the others. A rule in the report has
//! a query that parsed and planned against the known table schemas
//! ([`schema::known_tables`]).
//!
//! Nothing here runs queries or reads the environment.

mod load;
pub mod schema;
mod sentinel;
pub(crate) mod yaml;

pub use load::{load_path, load_text};

use kql::{Diagnostic, Severity, Span};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Rules shipped in `rules/`: `(path shown in diagnostics, file text)`.
/// Keep in step with the folder (a test checks every `.yaml` is here).
const BUILTIN: &[(&str, &str)] = &[(
    "rules/rmm_ZohoAssist_netconn.yaml",
    include_str!("../../rules/rmm_ZohoAssist_netconn.yaml"),
)];

/// The rules built into the binary (the seed rule and any other file of
/// `rules/`). Paths in the report are `rules/<file>`.
pub fn builtin_rules() -> LoadReport {
    let mut report = LoadReport::default();
    for (path, text) in BUILTIN {
        report.merge(load_text(PathBuf::from(path), text));
    }
    report.check_duplicate_ids();
    report
}

/// A hunting rule, ready to run.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The rule's GUID as written (`b915897c-1fe7-47f4-9e06-2ae74da8203e`).
    pub id: String,
    pub name: String,
    pub description: String,
    /// MITRE ATT&CK tactics (`CommandAndControl`).
    pub tactics: Vec<String>,
    /// MITRE ATT&CK techniques (`T1219`).
    pub techniques: Vec<String>,
    /// The KQL text (a ```` ```kusto ```` fence removed, if there was one).
    pub query: String,
    /// Tables the rule declares in `requiredDataConnectors[].dataTypes`.
    pub data_types: Vec<String>,
    /// Connector ids of `requiredDataConnectors` (`MicrosoftThreatProtection`).
    pub connectors: Vec<String>,
    /// Where the rule and its query came from.
    pub origin: RuleOrigin,
}

/// Where a rule came from: its file, the file's text, and how byte offsets
/// of [`Rule::query`] map into that text.
#[derive(Clone, Debug)]
pub struct RuleOrigin {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub query_map: QueryMap,
}

impl RuleOrigin {
    /// 1-based `(line, column)` in the rule file of a byte offset of the query.
    pub fn line_col(&self, query_offset: usize) -> (usize, usize) {
        line_col(&self.text, self.query_map.to_file(query_offset))
    }

    /// A query diagnostic with its spans moved into the rule file.
    pub fn map_diagnostic(&self, d: &Diagnostic) -> RuleDiagnostic {
        let mut mapped = d.clone();
        for l in &mut mapped.labels {
            l.span = self.query_map.span_to_file(l.span);
        }
        RuleDiagnostic::new(self.path.clone(), self.text.clone(), mapped)
    }
}

/// Maps byte offsets of a query to byte offsets of the file it sits in.
/// A block scalar's lines are mapped one by one (indentation added back,
/// `\r\n` handled); other scalars map as one piece.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryMap {
    /// `(query offset, file offset, length)`, ascending.
    segments: Vec<(usize, usize, usize)>,
}

impl QueryMap {
    pub(crate) fn new(segments: Vec<(usize, usize, usize)>) -> QueryMap {
        QueryMap { segments }
    }

    /// File offset of a query offset. Offsets between two segments (a line
    /// break of the query) map to the end of the earlier line.
    pub fn to_file(&self, query_offset: usize) -> usize {
        let mut best = None;
        for &(q, f, len) in &self.segments {
            if q > query_offset {
                break;
            }
            best = Some(f + (query_offset - q).min(len));
        }
        best.or_else(|| self.segments.first().map(|&(_, f, _)| f))
            .unwrap_or(0)
    }

    pub fn span_to_file(&self, span: Span) -> Span {
        let start = self.to_file(span.start as usize);
        let end = self.to_file(span.end as usize).max(start);
        Span::new(start, end)
    }
}

/// One problem in one file, with its place. `diagnostic`'s spans are byte
/// offsets into the file's text, so [`RuleDiagnostic::render_plain`] shows
/// the line and a caret.
#[derive(Clone, Debug)]
pub struct RuleDiagnostic {
    pub path: PathBuf,
    /// 1-based; 0 when the problem has no place (e.g. the file is unreadable).
    pub line: usize,
    pub column: usize,
    pub diagnostic: Diagnostic,
    text: Arc<str>,
}

impl RuleDiagnostic {
    pub(crate) fn new(path: PathBuf, text: Arc<str>, diagnostic: Diagnostic) -> RuleDiagnostic {
        let (line, column) = match diagnostic.span() {
            Some(s) => line_col(&text, s.start as usize),
            None => (0, 0),
        };
        RuleDiagnostic {
            path,
            line,
            column,
            diagnostic,
            text,
        }
    }

    pub fn is_error(&self) -> bool {
        self.diagnostic.severity == Severity::Error
    }

    /// `path:line:col: error[CODE]: message`, the file line and a caret.
    pub fn render_plain(&self) -> String {
        self.diagnostic
            .render_plain(&self.path.display().to_string(), &self.text)
    }
}

impl fmt::Display for RuleDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line == 0 {
            write!(
                f,
                "{}: {sev}[{}]: {}",
                self.path.display(),
                self.diagnostic.code,
                self.diagnostic.message
            )
        } else {
            write!(
                f,
                "{}:{}:{}: {sev}[{}]: {}",
                self.path.display(),
                self.line,
                self.column,
                self.diagnostic.code,
                self.diagnostic.message
            )
        }
    }
}

/// How a file fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Loaded,
    LoadedWithWarnings,
    Failed,
}

/// Line endings of a file (CRLF is valid YAML and handled; reported as a fact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEndings {
    Lf,
    Crlf,
    Mixed,
}

/// Per-file facts for `rules validate` summaries.
#[derive(Clone, Debug)]
pub struct FileSummary {
    pub path: PathBuf,
    /// The rule id, when the file got far enough to have one.
    pub rule_id: Option<String>,
    pub outcome: Outcome,
    pub line_endings: LineEndings,
    /// Lines of the query that contain a tab character (valid KQL whitespace).
    pub query_tab_lines: usize,
}

/// What loading rules produced. See the module docs.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub rules: Vec<Rule>,
    pub diagnostics: Vec<RuleDiagnostic>,
    pub files: Vec<FileSummary>,
}

impl LoadReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(RuleDiagnostic::is_error)
    }

    /// Count of files per outcome: `(loaded, loaded with warnings, failed)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |o| self.files.iter().filter(|f| f.outcome == o).count();
        (
            n(Outcome::Loaded),
            n(Outcome::LoadedWithWarnings),
            n(Outcome::Failed),
        )
    }

    fn merge(&mut self, other: LoadReport) {
        self.rules.extend(other.rules);
        self.diagnostics.extend(other.diagnostics);
        self.files.extend(other.files);
    }

    /// A second rule with an id already loaded fails (the first one wins).
    fn check_duplicate_ids(&mut self) {
        let mut seen: Vec<(String, PathBuf)> = Vec::new();
        let mut keep = Vec::new();
        for rule in std::mem::take(&mut self.rules) {
            let key = rule.id.to_ascii_lowercase();
            if let Some((_, first)) = seen.iter().find(|(id, _)| *id == key) {
                let d = Diagnostic::error(
                    "RULE009",
                    format!(
                        "duplicate rule id {} (already loaded from {})",
                        rule.id,
                        first.display()
                    ),
                    id_span(&rule),
                );
                self.diagnostics.push(RuleDiagnostic::new(
                    rule.origin.path.clone(),
                    rule.origin.text.clone(),
                    d,
                ));
                if let Some(f) = self.files.iter_mut().find(|f| f.path == rule.origin.path) {
                    f.outcome = Outcome::Failed;
                }
            } else {
                seen.push((key, rule.origin.path.clone()));
                keep.push(rule);
            }
        }
        self.rules = keep;
    }
}

fn id_span(rule: &Rule) -> Span {
    let start = rule.origin.text.find(&rule.id).unwrap_or(0);
    Span::new(start, start + rule.id.len())
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    kql::span::LineIndex::new(text).line_col(text, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_rules_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
                    .map(|n| format!("rules/{n}"))
                    .collect()
            })
            .unwrap_or_default();
        on_disk.sort();
        let mut built: Vec<String> = BUILTIN.iter().map(|(p, _)| p.to_string()).collect();
        built.sort();
        assert_eq!(on_disk, built);
    }

    #[test]
    fn query_map_maps_lines() {
        // query "ab\ncd" at file offsets 10..12 and 20..22
        let m = QueryMap::new(vec![(0, 10, 2), (3, 20, 2)]);
        for (q, want) in [
            (0, 10),
            (1, 11),
            (2, 12),
            (3, 20),
            (4, 21),
            (5, 22),
            (9, 22),
        ] {
            assert_eq!(m.to_file(q), want, "query offset {q}");
        }
    }
}
