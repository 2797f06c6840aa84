//! JSON row decoding: one JSON object -> the projected columns of a row,
//! skipping the values of other keys without building them; JSON-array
//! framing (one element at a time, bounded memory); type inference over
//! sampled objects. Pure byte-slice code: no I/O.

use super::convert::{self, Guess};
use crate::value::{Type, Value};
use std::borrow::Cow;
use std::io::{self, Read};

/// A syntax error at a byte offset within the decoded text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        offset,
        message: message.into(),
    })
}

fn skip_ws(b: &[u8], mut p: usize) -> usize {
    while let Some(c) = b.get(p) {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            p += 1;
        } else {
            break;
        }
    }
    p
}

fn expect(b: &[u8], p: usize, c: u8, what: &str) -> Result<usize, SyntaxError> {
    match b.get(p) {
        Some(&x) if x == c => Ok(p + 1),
        Some(&x) => err(p, format!("expected {what}, found '{}'", x.escape_ascii())),
        None => err(p, format!("expected {what}, found end of row")),
    }
}

/// `p` at the opening quote. Returns (content start, content end, has
/// escapes, position after the closing quote).
fn scan_string(b: &[u8], p: usize) -> Result<(usize, usize, bool, usize), SyntaxError> {
    let start = p + 1;
    let mut i = start;
    let mut escaped = false;
    loop {
        let rest = b.get(i..).unwrap_or_default();
        match memchr::memchr2(b'"', b'\\', rest) {
            None => return err(p, "unterminated string"),
            Some(k) => {
                let at = i + k;
                if b.get(at) == Some(&b'"') {
                    return Ok((start, at, escaped, at + 1));
                }
                escaped = true;
                i = at + 2;
            }
        }
    }
}

fn hex4(b: &[u8], p: usize) -> Result<u32, SyntaxError> {
    let s = b.get(p..p + 4).ok_or(SyntaxError {
        offset: p,
        message: "truncated \\u escape".into(),
    })?;
    let mut v = 0u32;
    for &c in s {
        let d = (c as char).to_digit(16).ok_or(SyntaxError {
            offset: p,
            message: "bad \\u escape".into(),
        })?;
        v = v * 16 + d;
    }
    Ok(v)
}

/// Decodes string content `b[start..end]` (escapes included).
fn unescape(b: &[u8], start: usize, end: usize) -> Result<String, SyntaxError> {
    let mut out: Vec<u8> = Vec::with_capacity(end - start);
    let mut i = start;
    while i < end {
        let rest = b.get(i..end).unwrap_or_default();
        let Some(k) = memchr::memchr(b'\\', rest) else {
            out.extend_from_slice(rest);
            break;
        };
        out.extend_from_slice(rest.get(..k).unwrap_or_default());
        let at = i + k;
        let c = b.get(at + 1).copied().unwrap_or(0);
        i = at + 2;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(b, at + 2)?;
                i = at + 6;
                if (0xD800..0xDC00).contains(&hi) {
                    if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
                        let lo = hex4(b, i + 2)?;
                        if (0xDC00..0xE000).contains(&lo) {
                            i += 6;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                .unwrap_or('\u{FFFD}')
                        } else {
                            '\u{FFFD}'
                        }
                    } else {
                        '\u{FFFD}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            _ => return err(at, format!("bad escape '\\{}'", c.escape_ascii())),
        };
        let mut tmp = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
    }
    Ok(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn utf8(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `p` at a value. Returns the position after it.
fn skip_value(b: &[u8], p: usize) -> Result<usize, SyntaxError> {
    match b.get(p) {
        Some(b'"') => Ok(scan_string(b, p)?.3),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut i = p;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        i = scan_string(b, i)?.3;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            err(p, "unterminated object or array")
        }
        Some(_) => {
            let mut i = p;
            while let Some(c) = b.get(i) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            let tok = b.get(p..i).unwrap_or_default();
            let ok = tok == b"true"
                || tok == b"false"
                || tok == b"null"
                || matches!(tok.first(), Some(b'-' | b'0'..=b'9'));
            if ok {
                Ok(i)
            } else {
                err(p, format!("unexpected '{}'", utf8(tok)))
            }
        }
        None => err(p, "expected a value, found end of row"),
    }
}

/// One JSON value, borrowed from the row text.
enum Raw<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(Cow<'a, str>),
    /// Object or array text.
    Composite(&'a [u8]),
}

fn parse_value(b: &[u8], p: usize) -> Result<(Raw<'_>, usize), SyntaxError> {
    match b.get(p) {
        Some(b'"') => {
            let (s, e, escaped, next) = scan_string(b, p)?;
            let text = if escaped {
                Cow::Owned(unescape(b, s, e)?)
            } else {
                utf8(b.get(s..e).unwrap_or_default())
            };
            Ok((Raw::String(text), next))
        }
        Some(b'{') | Some(b'[') => {
            let next = skip_value(b, p)?;
            Ok((Raw::Composite(b.get(p..next).unwrap_or_default()), next))
        }
        _ => {
            let next = skip_value(b, p)?;
            let tok = b.get(p..next).unwrap_or_default();
            let raw = match tok {
                b"true" => Raw::Bool(true),
                b"false" => Raw::Bool(false),
                b"null" => Raw::Null,
                _ => {
                    let s = std::str::from_utf8(tok).unwrap_or("");
                    if s.parse::<f64>().is_err() {
                        return err(p, format!("bad number '{}'", utf8(tok)));
                    }
                    Raw::Number(s)
                }
            };
            Ok((raw, next))
        }
    }
}

fn to_value(raw: Raw<'_>, ty: Type, at: usize) -> Result<Value, SyntaxError> {
    Ok(match raw {
        Raw::Null => Value::null_of(ty),
        Raw::Bool(v) => convert::from_json_bool(ty, v),
        Raw::Number(n) => convert::from_json_number(ty, n),
        Raw::String(s) => convert::from_json_string(ty, &s),
        Raw::Composite(text) => match ty {
            Type::String => Value::string(utf8(text)),
            Type::Dynamic => match serde_json::from_slice::<serde_json::Value>(text) {
                Ok(v) => Value::dynamic(v),
                Err(e) => return err(at, format!("bad JSON value: {e}")),
            },
            _ => Value::Null,
        },
    })
}

/// Decodes the projected columns of JSON objects. Keys are matched
/// case-sensitively; unknown or unprojected keys are skipped; a key seen
/// twice keeps its last value.
pub(crate) struct ObjectDecoder {
    /// (key, output slot, type) of each projected column.
    wanted: Vec<(Box<[u8]>, usize, Type)>,
    /// Key at each position of the previous object and what it mapped to
    /// (exports repeat the same key order, so this avoids searching).
    hints: Vec<(Vec<u8>, Option<usize>)>,
}

impl ObjectDecoder {
    /// `columns`: (name, type) of each output slot, in output order.
    pub(crate) fn new(columns: &[(String, Type)]) -> ObjectDecoder {
        ObjectDecoder {
            wanted: columns
                .iter()
                .enumerate()
                .map(|(slot, (n, t))| (n.as_bytes().into(), slot, *t))
                .collect(),
            hints: Vec::new(),
        }
    }

    fn lookup(&mut self, pos: usize, key: &[u8]) -> Option<usize> {
        if let Some((k, w)) = self.hints.get(pos) {
            if k.as_slice() == key {
                return *w;
            }
        }
        let w = self.wanted.iter().position(|(k, _, _)| &k[..] == key);
        if pos < self.hints.len() {
            if let Some(h) = self.hints.get_mut(pos) {
                *h = (key.to_vec(), w);
            }
        } else if pos == self.hints.len() && pos < 4096 {
            self.hints.push((key.to_vec(), w));
        }
        w
    }

    /// Fills `row` (pre-filled with nulls) from the object text `b`.
    pub(crate) fn decode(
        &mut self,
        b: &[u8],
        row: &mut [crate::value::Value],
    ) -> Result<(), SyntaxError> {
        let mut p = skip_ws(b, 0);
        if b.get(p) != Some(&b'{') {
            return err(p, "expected a JSON object");
        }
        p = skip_ws(b, p + 1);
        if b.get(p) == Some(&b'}') {
            return finish(b, p + 1);
        }
        let mut pos = 0usize;
        loop {
            if b.get(p) != Some(&b'"') {
                return err(p, "expected a key string");
            }
            let (ks, ke, escaped, next) = scan_string(b, p)?;
            let key_owned;
            let key: &[u8] = if escaped {
                key_owned = unescape(b, ks, ke)?;
                key_owned.as_bytes()
            } else {
                b.get(ks..ke).unwrap_or_default()
            };
            let slot = self.lookup(pos, key);
            pos += 1;
            p = expect(b, skip_ws(b, next), b':', "':'")?;
            p = skip_ws(b, p);
            match slot.and_then(|s| self.wanted.get(s).map(|w| (s, w.2))) {
                Some((s, ty)) => {
                    let (raw, next) = parse_value(b, p)?;
                    let v = to_value(raw, ty, p)?;
                    if let Some(cell) = row.get_mut(s) {
                        *cell = v;
                    }
                    p = next;
                }
                None => p = skip_value(b, p)?,
            }
            p = skip_ws(b, p);
            match b.get(p) {
                Some(b',') => p = skip_ws(b, p + 1),
                Some(b'}') => return finish(b, p + 1),
                Some(&c) => {
                    return err(
                        p,
                        format!("expected ',' or '}}', found '{}'", c.escape_ascii()),
                    )
                }
                None => return err(p, "unterminated object"),
            }
        }
    }
}

fn finish(b: &[u8], p: usize) -> Result<(), SyntaxError> {
    let q = skip_ws(b, p);
    if q < b.len() {
        return err(q, "unexpected text after the object");
    }
    Ok(())
}

/// Collects column names (in order of first appearance) and type guesses
/// from sampled objects.
#[derive(Default)]
pub(crate) struct Inference {
    pub columns: Vec<(String, Guess)>,
}

impl Inference {
    pub(crate) fn observe(&mut self, b: &[u8]) -> Result<(), SyntaxError> {
        let mut p = skip_ws(b, 0);
        if b.get(p) != Some(&b'{') {
            return err(p, "expected a JSON object");
        }
        p = skip_ws(b, p + 1);
        if b.get(p) == Some(&b'}') {
            return finish(b, p + 1);
        }
        loop {
            if b.get(p) != Some(&b'"') {
                return err(p, "expected a key string");
            }
            let (ks, ke, escaped, next) = scan_string(b, p)?;
            let key = if escaped {
                unescape(b, ks, ke)?
            } else {
                utf8(b.get(ks..ke).unwrap_or_default()).into_owned()
            };
            p = expect(b, skip_ws(b, next), b':', "':'")?;
            p = skip_ws(b, p);
            let (raw, next) = parse_value(b, p)?;
            if let Raw::Composite(text) = &raw {
                if let Err(e) = serde_json::from_slice::<serde_json::Value>(text) {
                    return err(p, format!("bad JSON value: {e}"));
                }
            }
            let t = match &raw {
                Raw::Null => None,
                Raw::Bool(_) => Some(Type::Bool),
                Raw::Number(n) => Some(convert::guess_json_number(n)),
                Raw::String(s) => convert::guess_text(s, true),
                Raw::Composite(_) => Some(Type::Dynamic),
            };
            let idx = match self.columns.iter().position(|(n, _)| *n == key) {
                Some(i) => i,
                None => {
                    self.columns.push((key, Guess::Unknown));
                    self.columns.len() - 1
                }
            };
            if let (Some(t), Some(col)) = (t, self.columns.get_mut(idx)) {
                col.1 = col.1.add(t);
            }
            p = skip_ws(b, next);
            match b.get(p) {
                Some(b',') => p = skip_ws(b, p + 1),
                Some(b'}') => return finish(b, p + 1),
                Some(&c) => {
                    return err(
                        p,
                        format!("expected ',' or '}}', found '{}'", c.escape_ascii()),
                    )
                }
                None => return err(p, "unterminated object"),
            }
        }
    }
}

/// Frames the elements of a top-level JSON array, streaming: the whole
/// array is never in memory, only the current element (at most `max`
/// bytes).
pub(crate) struct ArrayFramer {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    eof: bool,
    max: usize,
    /// 1-based line of `buf[pos]`.
    line: u64,
    state: ArrayState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// Before the opening `[`.
    Start,
    /// After `[` or `,`: an element (or `]` right after `[`) comes next.
    Element {
        first: bool,
    },
    /// After an element: `,` or `]`.
    AfterElement,
    Done,
}

/// An array framing failure with the 1-based line where it happened.
#[derive(Debug)]
pub(crate) enum FrameError {
    Io(io::Error),
    Syntax { line: u64, message: String },
}

impl ArrayFramer {
    pub(crate) fn new(src: Box<dyn Read + Send>, buffer: usize, max: usize) -> ArrayFramer {
        ArrayFramer {
            src,
            buf: vec![0; buffer.max(64)],
            pos: 0,
            filled: 0,
            eof: false,
            max: max.max(buffer),
            line: 1,
            state: ArrayState::Start,
        }
    }

    fn fill(&mut self) -> Result<bool, FrameError> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            if self.buf.len() >= self.max {
                return Err(FrameError::Syntax {
                    line: self.line,
                    message: format!("array element longer than {} bytes", self.max),
                });
            }
            let n = (self.buf.len() * 2).min(self.max);
            self.buf.resize(n, 0);
        }
        let n = loop {
            match self
                .src
                .read(self.buf.get_mut(self.filled..).unwrap_or_default())
            {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(FrameError::Io(e)),
            }
        };
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.filled += n;
        Ok(true)
    }

    /// Skips whitespace (and a UTF-8 BOM at the very start); returns the
    /// next significant byte without consuming it.
    fn peek_significant(&mut self) -> Result<Option<u8>, FrameError> {
        loop {
            while let Some(&c) = self.buf.get(self.pos..self.filled).and_then(|s| s.first()) {
                match c {
                    b'\n' => {
                        self.line += 1;
                        self.pos += 1;
                    }
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    _ => return Ok(Some(c)),
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn syntax<T>(&self, message: impl Into<String>) -> Result<T, FrameError> {
        Err(FrameError::Syntax {
            line: self.line,
            message: message.into(),
        })
    }

    /// The next element's text and its starting line, or `None` at `]`.
    pub(crate) fn next_element(&mut self) -> Result<Option<(u64, &[u8])>, FrameError> {
        loop {
            match self.state {
                ArrayState::Done => return Ok(None),
                ArrayState::Start => {
                    // UTF-8 BOM
                    while self.filled - self.pos < 3 && self.fill()? {}
                    if self.buf.get(self.pos..self.pos + 3) == Some(&[0xEF, 0xBB, 0xBF][..]) {
                        self.pos += 3;
                    }
                    match self.peek_significant()? {
                        Some(b'[') => {
                            self.pos += 1;
                            self.state = ArrayState::Element { first: true };
                        }
                        Some(c) => {
                            return self
                                .syntax(format!("expected '[', found '{}'", c.escape_ascii()))
                        }
                        None => {
                            self.state = ArrayState::Done;
                            return Ok(None);
                        }
                    }
                }
                ArrayState::AfterElement => match self.peek_significant()? {
                    Some(b',') => {
                        self.pos += 1;
                        self.state = ArrayState::Element { first: false };
                    }
                    Some(b']') => {
                        self.pos += 1;
                        if let Some(c) = self.peek_significant()? {
                            return self.syntax(format!(
                                "unexpected '{}' after the array",
                                c.escape_ascii()
                            ));
                        }
                        self.state = ArrayState::Done;
                        return Ok(None);
                    }
                    Some(c) => {
                        return self
                            .syntax(format!("expected ',' or ']', found '{}'", c.escape_ascii()))
                    }
                    None => return self.syntax("unterminated array"),
                },
                ArrayState::Element { first } => match self.peek_significant()? {
                    Some(b']') if first => {
                        self.state = ArrayState::AfterElement;
                    }
                    Some(b'{') => {
                        let line = self.line;
                        let len = self.frame_object()?;
                        let start = self.pos;
                        self.pos += len;
                        self.state = ArrayState::AfterElement;
                        let text = self.buf.get(start..start + len).unwrap_or_default();
                        return Ok(Some((line, text)));
                    }
                    Some(c) => {
                        return self
                            .syntax(format!("expected an object, found '{}'", c.escape_ascii()))
                    }
                    None => return self.syntax("unterminated array"),
                },
            }
        }
    }

    /// With `buf[pos] == '{'`, makes the whole object available in the
    /// buffer and returns its length; counts the newlines inside it.
    fn frame_object(&mut self) -> Result<usize, FrameError> {
        let mut i = 0usize;
        let mut depth = 0usize;
        let mut in_str = false;
        let mut esc = false;
        let mut newlines = 0u64;
        loop {
            let avail = self.filled - self.pos;
            while i < avail {
                let c = self.buf.get(self.pos + i).copied().unwrap_or(0);
                i += 1;
                if c == b'\n' {
                    newlines += 1;
                }
                if in_str {
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' {
                        in_str = false;
                    }
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            self.line += newlines;
                            return Ok(i);
                        }
                    }
                    _ => {}
                }
            }
            if !self.fill()? {
                return self.syntax("unterminated object at end of file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(cols: &[(&str, Type)], text: &str) -> Result<Vec<Value>, SyntaxError> {
        let cols: Vec<(String, Type)> = cols.iter().map(|(n, t)| (n.to_string(), *t)).collect();
        let mut d = ObjectDecoder::new(&cols);
        let mut row: Vec<Value> = cols.iter().map(|(_, t)| Value::null_of(*t)).collect();
        d.decode(text.as_bytes(), &mut row)?;
        Ok(row)
    }

    #[test]
    fn decodes_projected_keys_only() {
        let cols = [("b", Type::String), ("n", Type::Long), ("d", Type::Dynamic)];
        let cases: &[(&str, Vec<Value>)] = &[
            (
                r#"{"a":{"x":[1,"]}"]},"b":"h\u00e9\"q\\","n":12,"d":{"k":[true]}}"#,
                vec![
                    Value::string("hé\"q\\"),
                    Value::Long(12),
                    Value::dynamic(serde_json::json!({"k":[true]})),
                ],
            ),
            (r#"{}"#, vec![Value::string(""), Value::Null, Value::Null]),
            (
                r#"{"n":"7","b":5,"d":"s"}"#,
                vec![
                    Value::string("5"),
                    Value::Long(7),
                    Value::dynamic(serde_json::json!("s")),
                ],
            ),
            (
                r#"{"n":1.5,"b":null,"d":null}"#,
                vec![Value::string(""), Value::Null, Value::Null],
            ),
            (
                r#"{"b":{"raw": 1}}"#,
                vec![Value::string(r#"{"raw": 1}"#), Value::Null, Value::Null],
            ),
            (
                r#"{"b":"\ud83d\ude00"}"#,
                vec![Value::string("😀"), Value::Null, Value::Null],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(decode(&cols, text).as_ref(), Ok(want), "input {text}");
        }
    }

    #[test]
    fn syntax_errors() {
        let cols = [("b", Type::String)];
        for text in [
            r#"{"b":"x""#,
            r#"{"b" "x"}"#,
            r#"{"b":"x",}"#,
            r#"{"a":tru}"#,
            r#"[1]"#,
            r#"{"b":"x"} extra"#,
            r#"{"a":[1,2}"#,
            r#"{"b":"\q"}"#,
            r#"{"a":{"x":1}"#,
        ] {
            assert!(decode(&cols, text).is_err(), "input {text} should fail");
        }
    }
}
