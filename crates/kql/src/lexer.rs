//! Lexer: `&str` -> `Vec<Token>`. It never stops at a bad character: it
//! emits a [`TokenKind::Error`] token plus a diagnostic and goes on, so the
//! parser can report several problems at once. The last token is always
//! [`TokenKind::Eof`].
//!
//! Lives here: whitespace/comments, words, numbers and timespan suffixes,
//! every string literal form, punctuation, and capturing the raw text of
//! `datetime(...)`, `timespan(...)`/`time(...)`, `guid(...)`.
//! Must not live here: any grammar decision (keywords are contextual, the
//! parser decides), conversion of datetime text (that is `crate::time`).

use crate::diag::Diagnostic;
use crate::span::Span;
use crate::token::{timespan_unit, RawKind, Token, TokenKind};

/// Tokenizes `text`. Diagnostics for unreadable input are returned beside
/// the tokens (which then contain [`TokenKind::Error`] tokens).
pub(crate) fn lex(text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lx = Lexer {
        src: text,
        bytes: text.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
        diags: Vec::new(),
    };
    lx.run();
    (lx.tokens, lx.diags)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    diags: Vec<Diagnostic>,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'a> Lexer<'a> {
    fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|s| s.chars().next())
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn error(&mut self, code: &'static str, message: String, start: usize) {
        self.diags.push(Diagnostic::error(
            code,
            message,
            Span::new(start, self.pos.max(start + 1)),
        ));
        self.push(TokenKind::Error, start);
    }

    fn run(&mut self) {
        while self.pos < self.bytes.len() {
            self.skip_trivia();
            if self.pos >= self.bytes.len() {
                break;
            }
            self.token();
        }
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(self.src.len(), self.src.len()),
        });
    }

    fn skip_trivia(&mut self) {
        loop {
            match self.peek_char() {
                // U+FEFF: a byte-order mark pasted from a file.
                Some(c) if c.is_whitespace() || c == '\u{feff}' => self.pos += c.len_utf8(),
                Some('/') if self.peek_byte(1) == Some(b'/') => {
                    while let Some(b) = self.peek_byte(0) {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    fn token(&mut self) {
        let start = self.pos;
        let Some(c) = self.peek_char() else { return };
        match c {
            '0'..='9' => self.number(),
            '\'' | '"' => {
                let kind = self.string_body(c);
                self.push(kind, start);
            }
            '@' if matches!(self.peek_byte(1), Some(b'\'' | b'"')) => {
                self.pos += 1;
                let kind = self.verbatim_body();
                self.push(kind, start);
            }
            '`' if self
                .src
                .get(self.pos..)
                .is_some_and(|s| s.starts_with("```")) =>
            {
                self.multiline()
            }
            '$' if self.char_at(self.pos + 1).is_some_and(is_ident_start) => {
                self.pos += 1;
                self.word(start);
            }
            c if is_ident_start(c) => self.word(start),
            _ => self.punct(c, start),
        }
    }

    fn punct(&mut self, c: char, start: usize) {
        let next = self.peek_byte(1);
        let (kind, len) = match (c, next) {
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            ('[', _) => (TokenKind::LBracket, 1),
            (']', _) => (TokenKind::RBracket, 1),
            ('{', _) => (TokenKind::LBrace, 1),
            ('}', _) => (TokenKind::RBrace, 1),
            (',', _) => (TokenKind::Comma, 1),
            (';', _) => (TokenKind::Semi, 1),
            ('|', _) => (TokenKind::Pipe, 1),
            ('.', Some(b'.')) => (TokenKind::DotDot, 2),
            ('.', _) => (TokenKind::Dot, 1),
            (':', _) => (TokenKind::Colon, 1),
            ('=', Some(b'=')) => (TokenKind::EqEq, 2),
            ('=', Some(b'~')) => (TokenKind::EqTilde, 2),
            ('=', Some(b'>')) => (TokenKind::Arrow, 2),
            ('=', _) => (TokenKind::Assign, 1),
            ('!', Some(b'=')) => (TokenKind::Ne, 2),
            ('!', Some(b'~')) => (TokenKind::BangTilde, 2),
            ('!', _) => (TokenKind::Bang, 1),
            ('<', Some(b'=')) => (TokenKind::Le, 2),
            ('<', Some(b'>')) => (TokenKind::Ne, 2),
            ('<', _) => (TokenKind::Lt, 1),
            ('>', Some(b'=')) => (TokenKind::Ge, 2),
            ('>', _) => (TokenKind::Gt, 1),
            ('~', _) => (TokenKind::Tilde, 1),
            ('+', _) => (TokenKind::Plus, 1),
            ('-', _) => (TokenKind::Minus, 1),
            ('*', _) => (TokenKind::Star, 1),
            ('/', _) => (TokenKind::Slash, 1),
            ('%', _) => (TokenKind::Percent, 1),
            _ => {
                self.pos += c.len_utf8();
                let shown = if c.is_control() {
                    format!("\\u{{{:04x}}}", c as u32)
                } else {
                    c.to_string()
                };
                self.error("KQL001", format!("unexpected character '{shown}'"), start);
                return;
            }
        };
        self.pos += len;
        self.push(kind, start);
    }

    fn word(&mut self, start: usize) {
        while let Some(c) = self.peek_char() {
            if !is_ident_continue(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        let word = self.src.get(start..self.pos).unwrap_or("");
        // h"..." / h'...' / h@"..." : hidden strings.
        if word == "h" || word == "H" {
            match self.peek_byte(0) {
                Some(q @ (b'\'' | b'"')) => {
                    let kind = self.string_body(q as char);
                    self.push(kind, start);
                    return;
                }
                Some(b'@') if matches!(self.peek_byte(1), Some(b'\'' | b'"')) => {
                    self.pos += 1;
                    let kind = self.verbatim_body();
                    self.push(kind, start);
                    return;
                }
                _ => {}
            }
        }
        let raw = match word {
            "datetime" | "date" => Some(RawKind::DateTime),
            "timespan" | "time" => Some(RawKind::TimeSpan),
            "guid" => Some(RawKind::Guid),
            _ => None,
        };
        if let Some(kind) = raw {
            let mut p = self.pos;
            while let Some(c) = self.char_at(p) {
                if c == ' ' || c == '\t' {
                    p += 1;
                } else {
                    break;
                }
            }
            if self.bytes.get(p) == Some(&b'(') {
                self.pos = p + 1;
                self.raw_literal(kind, start);
                return;
            }
        }
        self.push(TokenKind::Ident, start);
    }

    /// After `datetime(`: captures the text up to `)`.
    fn raw_literal(&mut self, kind: RawKind, start: usize) {
        while matches!(self.peek_byte(0), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        let text_start = self.pos;
        let text = match self.peek_byte(0) {
            Some(q @ (b'\'' | b'"')) => match self.string_body(q as char) {
                TokenKind::String(s) => s,
                _ => {
                    self.push(TokenKind::Error, start);
                    return;
                }
            },
            _ => {
                while let Some(b) = self.peek_byte(0) {
                    if matches!(b, b')' | b'\n' | b'\r' | b'|' | b';') {
                        break;
                    }
                    self.pos += 1;
                }
                self.src
                    .get(text_start..self.pos)
                    .unwrap_or("")
                    .trim_end()
                    .to_string()
            }
        };
        let text_end = self.pos;
        while matches!(self.peek_byte(0), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        if self.peek_byte(0) == Some(b')') {
            self.pos += 1;
            self.push(
                TokenKind::Raw {
                    kind,
                    text,
                    text_span: Span::new(text_start, text_end),
                },
                start,
            );
        } else {
            let name = self
                .src
                .get(start..text_start)
                .unwrap_or("")
                .trim_end_matches(['(', ' ', '\t']);
            let name = name.to_string();
            self.error(
                "KQL004",
                format!("unterminated {name}(...) literal: expected ')'"),
                start,
            );
        }
    }

    /// A `'...'` or `"..."` literal with escapes; `self.pos` is on the quote.
    fn string_body(&mut self, quote: char) -> TokenKind {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                self.diags.push(Diagnostic::error(
                    "KQL002",
                    "unterminated string literal",
                    Span::new(start, self.pos),
                ));
                return TokenKind::Error;
            };
            if c == '\n' || c == '\r' {
                self.diags.push(Diagnostic::error(
                    "KQL002",
                    "unterminated string literal (a line ends inside it)",
                    Span::new(start, self.pos),
                ));
                return TokenKind::Error;
            }
            self.pos += c.len_utf8();
            if c == quote {
                return TokenKind::String(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let esc_start = self.pos - 1;
            let Some(e) = self.peek_char() else { continue };
            self.pos += e.len_utf8();
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                'u' | 'x' | 'U' => {
                    let n = match e {
                        'u' => 4,
                        'U' => 8,
                        _ => 2,
                    };
                    let hex = self.src.get(self.pos..self.pos + n).unwrap_or("");
                    match u32::from_str_radix(hex, 16)
                        .ok()
                        .filter(|_| hex.len() == n)
                        .and_then(char::from_u32)
                    {
                        Some(ch) => {
                            out.push(ch);
                            self.pos += n;
                        }
                        None => {
                            self.diags.push(Diagnostic::error(
                                "KQL003",
                                format!("invalid escape sequence '\\{e}' in string literal: expected {n} hex digits"),
                                Span::new(esc_start, self.pos),
                            ));
                        }
                    }
                }
                other => {
                    self.diags.push(Diagnostic::error(
                        "KQL003",
                        format!("invalid escape sequence '\\{other}' in string literal"),
                        Span::new(esc_start, self.pos),
                    ));
                }
            }
        }
    }

    /// `@'...'` / `@"..."`: `self.pos` is on the quote (after `@`).
    fn verbatim_body(&mut self) -> TokenKind {
        let start = self.pos.saturating_sub(1);
        let Some(quote) = self.peek_char() else {
            return TokenKind::Error;
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                self.diags.push(Diagnostic::error(
                    "KQL002",
                    "unterminated verbatim string literal",
                    Span::new(start, self.pos),
                ));
                return TokenKind::Error;
            };
            if c == '\n' || c == '\r' {
                self.diags.push(Diagnostic::error(
                    "KQL002",
                    "unterminated verbatim string literal (a line ends inside it)",
                    Span::new(start, self.pos),
                ));
                return TokenKind::Error;
            }
            self.pos += c.len_utf8();
            if c == quote {
                if self.peek_char() == Some(quote) {
                    self.pos += 1;
                    out.push(quote);
                    continue;
                }
                return TokenKind::String(out);
            }
            out.push(c);
        }
    }

    /// ```` ```...``` ```` (may span lines, no escapes).
    fn multiline(&mut self) {
        let start = self.pos;
        self.pos += 3;
        let rest = self.src.get(self.pos..).unwrap_or("");
        match rest.find("```") {
            Some(end) => {
                let body = rest.get(..end).unwrap_or("").to_string();
                self.pos += end + 3;
                self.push(TokenKind::String(body), start);
            }
            None => {
                self.pos = self.src.len();
                self.error(
                    "KQL002",
                    "unterminated multi-line string literal: expected closing ```".into(),
                    start,
                );
            }
        }
    }

    fn digits(&mut self, radix: u32) {
        while let Some(b) = self.peek_byte(0) {
            if (b as char).is_digit(radix) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn number(&mut self) {
        let start = self.pos;
        if self.peek_byte(0) == Some(b'0') && matches!(self.peek_byte(1), Some(b'x' | b'X')) {
            self.pos += 2;
            let hex_start = self.pos;
            self.digits(16);
            let hex = self.src.get(hex_start..self.pos).unwrap_or("");
            match u64::from_str_radix(hex, 16) {
                Ok(v) if !self.peek_char().is_some_and(is_ident_continue) => {
                    self.push(TokenKind::Long(v), start)
                }
                _ => {
                    self.skip_word();
                    let t = self.src.get(start..self.pos).unwrap_or("").to_string();
                    self.error(
                        "KQL003",
                        format!("invalid hexadecimal literal '{t}'"),
                        start,
                    );
                }
            }
            return;
        }
        self.digits(10);
        let int_end = self.pos;
        let mut is_real = false;
        if self.peek_byte(0) == Some(b'.') && self.peek_byte(1).is_some_and(|b| b.is_ascii_digit())
        {
            is_real = true;
            self.pos += 1;
            self.digits(10);
        }
        let frac_end = self.pos;
        if matches!(self.peek_byte(0), Some(b'e' | b'E')) {
            let sign = matches!(self.peek_byte(1), Some(b'+' | b'-'));
            let d = if sign {
                self.peek_byte(2)
            } else {
                self.peek_byte(1)
            };
            if d.is_some_and(|b| b.is_ascii_digit()) {
                is_real = true;
                self.pos += if sign { 2 } else { 1 };
                self.digits(10);
            }
        }
        let num_end = self.pos;
        let num_text = self.src.get(start..num_end).unwrap_or("");
        // A unit suffix makes it a timespan literal.
        if self.peek_char().is_some_and(is_ident_continue) {
            let suffix_start = self.pos;
            self.skip_word();
            let suffix = self.src.get(suffix_start..self.pos).unwrap_or("");
            let unit = timespan_unit(suffix);
            match (unit, num_end == frac_end) {
                (Some(unit), true) => {
                    let int_text = self.src.get(start..int_end).unwrap_or("");
                    let frac_text = self
                        .src
                        .get((int_end + 1).min(frac_end)..frac_end)
                        .unwrap_or("");
                    match timespan_ticks(int_text, frac_text, unit) {
                        Some(t) => self.push(TokenKind::TimeSpan(t), start),
                        None => {
                            let t = self.src.get(start..self.pos).unwrap_or("").to_string();
                            self.error(
                                "KQL003",
                                format!("timespan literal '{t}' is out of range"),
                                start,
                            );
                        }
                    }
                }
                _ => {
                    let t = self.src.get(start..self.pos).unwrap_or("").to_string();
                    self.error(
                        "KQL003",
                        format!("invalid numeric literal '{t}': '{suffix}' is not a timespan unit (d, h, m, s, ms, microsecond, tick...)"),
                        start,
                    );
                }
            }
            return;
        }
        if is_real {
            match num_text.parse::<f64>() {
                Ok(v) => self.push(TokenKind::Real(v), start),
                Err(_) => self.error(
                    "KQL003",
                    format!("invalid real literal '{num_text}'"),
                    start,
                ),
            }
        } else {
            match num_text.parse::<u64>() {
                Ok(v) => self.push(TokenKind::Long(v), start),
                Err(_) => self.error(
                    "KQL003",
                    format!("integer literal '{num_text}' is out of range for long"),
                    start,
                ),
            }
        }
    }

    fn skip_word(&mut self) {
        while let Some(c) = self.peek_char() {
            if !is_ident_continue(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }
}

/// `int.frac` units in ticks, exactly (rounded to the nearest tick).
fn timespan_ticks(int_text: &str, frac_text: &str, unit: i64) -> Option<i64> {
    let int: i128 = if int_text.is_empty() {
        0
    } else {
        int_text.parse().ok()?
    };
    let mut ticks = int.checked_mul(unit as i128)?;
    if !frac_text.is_empty() {
        let digits = frac_text.get(..frac_text.len().min(20)).unwrap_or("");
        let frac: i128 = digits.parse().ok()?;
        let scale = 10i128.checked_pow(digits.len() as u32)?;
        let num = frac.checked_mul(unit as i128)?;
        ticks = ticks.checked_add((num + scale / 2) / scale)?;
    }
    i64::try_from(ticks).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        let (toks, diags) = lex(text);
        assert!(diags.is_empty(), "{text:?}: {diags:?}");
        toks.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn strings_all_forms() {
        let cases: &[(&str, &str)] = &[
            (r#""a\"b""#, "a\"b"),
            (r"'a\'b'", "a'b"),
            (r#"'\n\t\\\u0041'"#, "\n\t\\A"),
            (r#"@"C:\x""#, "C:\\x"),
            (r#"@"a""b""#, "a\"b"),
            ("@'it''s'", "it's"),
            ("```multi\nline```", "multi\nline"),
            ("h'secret'", "secret"),
            ("h@'se\\cret'", "se\\cret"),
        ];
        for (text, want) in cases {
            assert_eq!(
                kinds(text),
                vec![TokenKind::String(want.to_string()), TokenKind::Eof],
                "{text}"
            );
        }
    }

    #[test]
    fn numbers_and_timespans() {
        use crate::time::*;
        let cases: &[(&str, TokenKind)] = &[
            ("42", TokenKind::Long(42)),
            ("0x1F", TokenKind::Long(31)),
            ("1.5", TokenKind::Real(1.5)),
            ("1e3", TokenKind::Real(1000.0)),
            ("2.5E-1", TokenKind::Real(0.25)),
            ("5d", TokenKind::TimeSpan(5 * DAY)),
            ("1.5h", TokenKind::TimeSpan(90 * MINUTE)),
            ("2min", TokenKind::TimeSpan(2 * MINUTE)),
            ("3sec", TokenKind::TimeSpan(3 * SECOND)),
            ("100ms", TokenKind::TimeSpan(100 * MILLISECOND)),
            ("10microsecond", TokenKind::TimeSpan(100)),
            ("1tick", TokenKind::TimeSpan(1)),
            ("2hrs", TokenKind::TimeSpan(2 * HOUR)),
            ("3days", TokenKind::TimeSpan(3 * DAY)),
        ];
        for (text, want) in cases {
            assert_eq!(kinds(text), vec![want.clone(), TokenKind::Eof], "{text}");
        }
    }

    #[test]
    fn range_dots_are_not_decimals() {
        assert_eq!(
            kinds("1..5"),
            vec![
                TokenKind::Long(1),
                TokenKind::DotDot,
                TokenKind::Long(5),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn raw_typed_literals_capture_text() {
        let (toks, diags) = lex("datetime(2024-01-01 10:30) time (1d) guid(\"ab\")");
        assert!(diags.is_empty());
        let raws: Vec<_> = toks
            .iter()
            .filter_map(|t| match &t.kind {
                TokenKind::Raw { kind, text, .. } => Some((*kind, text.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            raws,
            vec![
                (RawKind::DateTime, "2024-01-01 10:30"),
                (RawKind::TimeSpan, "1d"),
                (RawKind::Guid, "ab")
            ]
        );
    }

    #[test]
    fn errors_do_not_stop_lexing() {
        let (toks, diags) = lex("a # b 'open\nc 5xyz");
        let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["KQL001", "KQL002", "KQL003"]);
        assert!(matches!(toks.last().map(|t| &t.kind), Some(TokenKind::Eof)));
        assert!(toks
            .iter()
            .any(|t| t.kind == TokenKind::Ident && t.span.start == 12));
    }

    #[test]
    fn byte_order_mark_is_trivia() {
        assert_eq!(kinds("\u{feff}T"), vec![TokenKind::Ident, TokenKind::Eof]);
    }

    #[test]
    fn comments_crlf_and_tabs_are_trivia() {
        assert_eq!(
            kinds("a\t// c\r\n| b"),
            vec![
                TokenKind::Ident,
                TokenKind::Pipe,
                TokenKind::Ident,
                TokenKind::Eof
            ]
        );
    }
}
