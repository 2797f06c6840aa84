//! Rendering of [`kql::Diagnostic`]s at the edge: the one place that knows how
//! a diagnostic looks to a person (text with a caret under the span) or to a
//! program (JSON with line and column).
//!
//! What lives here: text rendering in two modes ([`Mode::Plain`] for logs,
//! tests and pipes; [`Mode::Color`] adds ANSI colour for terminals) and a JSON
//! form for the HTTP API. What must not: deciding exit codes, printing, or any
//! I/O — callers write the returned strings wherever they need them.

use kql::diag::{Diagnostic, Diagnostics, Severity};
use kql::span::LineIndex;

/// How diagnostics are rendered as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No colour, no box art: stable for logs and snapshot tests.
    Plain,
    /// The plain layout with ANSI colours on the header and the caret.
    Color,
}

impl Mode {
    /// Colour when the stream is a terminal and `NO_COLOR` is not asked for
    /// by the caller (the caller decides; this module reads no environment).
    pub fn for_terminal(is_terminal: bool) -> Mode {
        if is_terminal {
            Mode::Color
        } else {
            Mode::Plain
        }
    }
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BOLD: &str = "\x1b[1m";
const BLUE: &str = "\x1b[1;34m";
const RESET: &str = "\x1b[0m";

/// Renders one diagnostic of `text` (named `origin`, e.g. `<stdin>` or a
/// rule file) as `origin:line:col: error[CODE]: message`, the source line,
/// a caret line under the primary span and a `help:` line.
pub fn render(diag: &Diagnostic, origin: &str, text: &str, mode: Mode) -> String {
    let plain = diag.render_plain(origin, text);
    match mode {
        Mode::Plain => plain,
        Mode::Color => colorize(&plain, diag.severity),
    }
}

/// Renders every diagnostic, in order. A failure that carries no diagnostic
/// at all still says so, so a user never sees a silent non-zero exit.
pub fn render_all(diags: &Diagnostics, origin: &str, text: &str, mode: Mode) -> String {
    if diags.0.is_empty() {
        return format!("{origin}: error: the query failed without a diagnostic\n");
    }
    diags
        .0
        .iter()
        .map(|d| render(d, origin, text, mode))
        .collect()
}

fn colorize(plain: &str, severity: Severity) -> String {
    let sev_color = match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
    };
    let mut out = String::with_capacity(plain.len() + 32);
    for (i, line) in plain.lines().enumerate() {
        if i == 0 {
            // `origin:l:c: error[CODE]: message` -> bold location, coloured severity.
            match line.find(": error[").or_else(|| line.find(": warning[")) {
                Some(at) => {
                    let (loc, rest) = line.split_at(at);
                    let rest = rest.trim_start_matches(": ");
                    let (sev, msg) = rest.split_once(": ").unwrap_or((rest, ""));
                    out.push_str(&format!(
                        "{BOLD}{loc}{RESET}: {sev_color}{sev}{RESET}: {BOLD}{msg}{RESET}"
                    ));
                }
                None => out.push_str(line),
            }
        } else if let Some(rest) = line.strip_prefix("  | ") {
            if !rest.is_empty() && rest.trim_start().starts_with('^') {
                out.push_str(&format!("{BLUE}  |{RESET} {sev_color}{rest}{RESET}"));
            } else {
                out.push_str(&format!("{BLUE}  |{RESET} {rest}"));
            }
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The JSON form of one diagnostic (used by the HTTP API and `--format json`
/// error output): code, severity, message, 1-based line/column of the
/// primary span (`null` when there is none), labels and help.
pub fn to_json(diag: &Diagnostic, origin: &str, text: &str) -> serde_json::Value {
    let idx = LineIndex::new(text);
    let pos = |offset: u32| {
        let (line, col) = idx.line_col(text, offset as usize);
        serde_json::json!({ "line": line, "column": col })
    };
    let labels: Vec<serde_json::Value> = diag
        .labels
        .iter()
        .map(|l| {
            serde_json::json!({
                "start": pos(l.span.start),
                "end": pos(l.span.end),
                "message": l.message,
            })
        })
        .collect();
    let (line, column) = match diag.span() {
        Some(s) => {
            let (l, c) = idx.line_col(text, s.start as usize);
            (serde_json::json!(l), serde_json::json!(c))
        }
        None => (serde_json::Value::Null, serde_json::Value::Null),
    };
    serde_json::json!({
        "code": diag.code,
        "severity": match diag.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": diag.message,
        "origin": origin,
        "line": line,
        "column": column,
        "labels": labels,
        "help": diag.help,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql::Span;

    #[test]
    fn plain_and_color_render_the_same_text() {
        let text = "print x = 1\n| project y";
        let d = Diagnostic::error("KQL101", "unknown column 'y'", Span::new(22, 23))
            .with_help("did you mean 'x'?");
        let plain = render(&d, "<stdin>", text, Mode::Plain);
        assert_eq!(
            plain,
            "<stdin>:2:11: error[KQL101]: unknown column 'y'\n  | | project y\n  |           ^\n  = help: did you mean 'x'?\n"
        );
        let color = render(&d, "<stdin>", text, Mode::Color);
        let stripped = strip_ansi(&color);
        assert_eq!(
            stripped, plain,
            "colour mode must only add escapes:\n{color}"
        );
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn empty_diagnostics_still_say_something() {
        let out = render_all(&Diagnostics::default(), "<stdin>", "x", Mode::Plain);
        assert!(out.contains("error"), "{out}");
    }

    #[test]
    fn json_names_line_and_column() {
        let text = "print x = 1\n| project y";
        let d = Diagnostic::error("KQL101", "unknown column 'y'", Span::new(22, 23));
        let j = to_json(&d, "<stdin>", text);
        assert_eq!(j["line"], 2, "{j}");
        assert_eq!(j["column"], 11, "{j}");
        assert_eq!(j["code"], "KQL101", "{j}");
        assert_eq!(j["labels"][0]["end"]["column"], 12, "{j}");
    }
}
