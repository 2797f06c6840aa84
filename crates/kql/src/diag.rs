//! Diagnostics: errors and warnings as data. Rendering (carets, colours) is
//! the caller's business; [`Diagnostic::render_plain`] gives a simple,
//! deterministic text form used by tests and logs.

use crate::span::{LineIndex, Span};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem found in a query, with a stable code (`KQL0xx` syntax,
/// `KQL1xx` semantic, `KQL2xx` runtime/limits).
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Primary span first.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label {
                span,
                message: String::new(),
            }],
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// The primary span (the first label), if any.
    pub fn span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// Shifts every span by `offset` bytes.
    pub fn shifted(mut self, offset: usize) -> Diagnostic {
        for l in &mut self.labels {
            l.span = l.span.shifted(offset);
        }
        self
    }

    /// `origin:line:col: error[CODE]: message` followed by the source line and
    /// a caret line under the primary span, and `help:` if present.
    pub fn render_plain(&self, origin: &str, text: &str) -> String {
        let idx = LineIndex::new(text);
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let Some(span) = self.span() else {
            return format!("{origin}: {sev}[{}]: {}\n", self.code, self.message);
        };
        let (line, col) = idx.line_col(text, span.start as usize);
        let mut out = format!(
            "{origin}:{line}:{col}: {sev}[{}]: {}\n",
            self.code, self.message
        );
        let src = idx.line_text(text, line);
        out.push_str("  | ");
        out.push_str(&src.replace('\t', " "));
        out.push('\n');
        let (end_line, end_col) = idx.line_col(text, span.end as usize);
        let width = if end_line == line && end_col > col {
            end_col - col
        } else {
            1
        };
        out.push_str("  | ");
        out.push_str(&" ".repeat(col - 1));
        out.push_str(&"^".repeat(width));
        if let Some(l) = self.labels.first() {
            if !l.message.is_empty() {
                out.push(' ');
                out.push_str(&l.message);
            }
        }
        out.push('\n');
        if let Some(h) = &self.help {
            out.push_str("  = help: ");
            out.push_str(h);
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// A non-empty list of diagnostics, returned as an error by the stages.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn render_plain(&self, origin: &str, text: &str) -> String {
        self.0
            .iter()
            .map(|d| d.render_plain(origin, text))
            .collect()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_plain_points_at_the_span() {
        let text = "print x = 1\n| project y";
        let d = Diagnostic::error("KQL101", "unknown column 'y'", Span::new(22, 23));
        assert_eq!(
            d.render_plain("q.kql", text),
            "q.kql:2:11: error[KQL101]: unknown column 'y'\n  | | project y\n  |           ^\n"
        );
    }
}
