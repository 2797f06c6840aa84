//! Byte-offset spans and line/column lookup.
//!
//! Every AST node carries a [`Span`]. Spans are deliberately left out of AST
//! equality (`PartialEq` on `Span` is always true, as sqlparser's
//! `AttachedToken` does), so `parse(print(parse(q))) == parse(q)` can be
//! asserted with `==` even though the printed text has other offsets.
//! Compare `(span.start, span.end)` explicitly when a test cares about spans.

use std::hash::{Hash, Hasher};

/// A half-open byte range `start..end` into the query text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start.min(u32::MAX as usize) as u32,
            end: end.min(u32::MAX as usize) as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Shifts the span by `offset` bytes (used when a query is embedded in a
    /// larger file, e.g. a YAML block scalar).
    pub fn shifted(self, offset: usize) -> Span {
        Span::new(self.start as usize + offset, self.end as usize + offset)
    }
}

impl PartialEq for Span {
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl Hash for Span {
    fn hash<H: Hasher>(&self, _state: &mut H) {}
}

/// A value with the span it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

/// Maps byte offsets to 1-based line and column numbers (columns count
/// characters, not bytes; a tab counts as one column).
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        LineIndex { line_starts }
    }

    /// 1-based (line, column) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// Byte range of the 1-based line `line`, without its line terminator.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(text.len());
        let s = text.get(start..end).unwrap_or("");
        s.strip_suffix('\r').unwrap_or(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_and_lines() {
        let text = "ab\r\ncd\n\tÜx";
        let idx = LineIndex::new(text);
        for (offset, want) in [
            (0, (1, 1)),
            (1, (1, 2)),
            (4, (2, 1)),
            (7, (3, 1)),
            (8, (3, 2)),
            (10, (3, 3)),
        ] {
            assert_eq!(idx.line_col(text, offset), want, "offset {offset}");
        }
        assert_eq!(idx.line_text(text, 1), "ab");
        assert_eq!(idx.line_text(text, 3), "\tÜx");
    }
}
