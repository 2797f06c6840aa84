//! String builtins: concatenation, slicing, splitting, regex extraction and
//! replacement, encodings (base64, URL), URL/path/command-line parsing.
//! Operators (`has`, `contains`...) live in `matching`, hashes in `hash`.

use super::ops::{cached_regex, cast, str_of};
use super::{arg_array, arg_i64, arg_str, ArgInfo};
use crate::value::{Type, Value};
use serde_json::{json, Map, Value as J};

type R = Result<Value, String>;

fn st(s: impl Into<std::sync::Arc<str>>) -> R {
    Ok(Value::String(s.into()))
}

pub fn strcat(a: &[Value]) -> R {
    let mut out = String::new();
    for v in a {
        out.push_str(&str_of(v));
    }
    st(out)
}

pub fn strcat_delim(a: &[Value]) -> R {
    let delim = arg_str(a, 0);
    let parts: Vec<_> = a.iter().skip(1).map(str_of).collect();
    st(parts.join(&delim))
}

pub fn strcat_array(a: &[Value]) -> R {
    let delim = arg_str(a, 1);
    let Some(items) = arg_array(a, 0) else {
        return st("");
    };
    let parts: Vec<String> = items
        .iter()
        .map(|j| match j {
            J::String(s) => s.clone(),
            J::Null => String::new(),
            other => other.to_string(),
        })
        .collect();
    st(parts.join(&delim))
}

pub fn strlen(a: &[Value]) -> R {
    Ok(Value::Long(arg_str(a, 0).chars().count() as i64))
}

pub fn string_size(a: &[Value]) -> R {
    Ok(Value::Long(arg_str(a, 0).len() as i64))
}

pub fn substring(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let Some(mut start) = arg_i64(a, 1) else {
        return st("");
    };
    let mut len = if a.len() > 2 {
        match arg_i64(a, 2) {
            Some(l) => l,
            None => return st(""),
        }
    } else {
        i64::MAX
    };
    if start < 0 {
        len = len.saturating_add(start);
        start = 0;
    }
    if len <= 0 {
        return st("");
    }
    st(s.chars()
        .skip(start as usize)
        .take(usize::try_from(len).unwrap_or(usize::MAX))
        .collect::<String>())
}

pub fn split(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let d = arg_str(a, 1);
    let parts: Vec<J> = if d.is_empty() {
        vec![J::String(s.to_string())]
    } else {
        s.split(&*d).map(|p| J::String(p.to_string())).collect()
    };
    if a.len() > 2 {
        let Some(i) = arg_i64(a, 2) else {
            return Ok(Value::Null);
        };
        return Ok(Value::dynamic(J::Array(
            usize::try_from(i)
                .ok()
                .and_then(|i| parts.get(i).cloned())
                .into_iter()
                .collect(),
        )));
    }
    Ok(Value::dynamic(J::Array(parts)))
}

pub fn indexof(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let look = arg_str(a, 1);
    let start = if a.len() > 2 { arg_i64(a, 2) } else { Some(0) };
    let length = if a.len() > 3 { arg_i64(a, 3) } else { Some(-1) };
    let occurrence = if a.len() > 4 { arg_i64(a, 4) } else { Some(1) };
    let (Some(start), Some(length), Some(occ)) = (start, length, occurrence) else {
        return Ok(Value::Null);
    };
    if start < 0 || occ <= 0 {
        return Ok(Value::Null);
    }
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let nchars = chars.len() as i64;
    if start > nchars {
        return Ok(Value::Long(-1));
    }
    let byte_at = |ci: i64| -> usize { chars.get(ci as usize).map(|(b, _)| *b).unwrap_or(s.len()) };
    let from = byte_at(start);
    let to = if length < 0 {
        s.len()
    } else {
        byte_at(start.saturating_add(length).min(nchars))
    };
    let window = s.get(from..to).unwrap_or("");
    let mut pos = 0;
    let mut seen = 0;
    while let Some(i) = window.get(pos..).and_then(|w| w.find(&*look)) {
        seen += 1;
        let at = pos + i;
        if seen == occ {
            let ci = s[..from + at].chars().count() as i64;
            return Ok(Value::Long(ci));
        }
        pos = at + look.len().max(1);
        if pos > window.len() {
            break;
        }
    }
    Ok(Value::Long(-1))
}

pub fn replace_string(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let look = arg_str(a, 1);
    if look.is_empty() {
        return st(s.into_owned());
    }
    st(s.replace(&*look, &arg_str(a, 2)))
}

/// Kusto rewrite text (`\1`, `$1`) to the `regex` crate's syntax.
fn rewrite_syntax(r: &str) -> String {
    let mut out = String::with_capacity(r.len() + 4);
    let mut it = r.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.peek() {
                Some(d) if d.is_ascii_digit() => {
                    out.push_str(&format!("${{{d}}}"));
                    it.next();
                }
                _ => out.push('\\'),
            },
            '$' => match it.peek() {
                Some(d) if d.is_ascii_digit() || *d == '{' => out.push('$'),
                _ => out.push_str("$$"),
            },
            other => out.push(other),
        }
    }
    out
}

fn regex_replace(text: &str, re: &str, rewrite: &str) -> R {
    let re = cached_regex(re)?;
    st(re
        .replace_all(text, rewrite_syntax(rewrite).as_str())
        .into_owned())
}

pub fn replace_regex(a: &[Value]) -> R {
    regex_replace(&arg_str(a, 0), &arg_str(a, 1), &arg_str(a, 2))
}

pub fn replace_legacy(a: &[Value]) -> R {
    regex_replace(&arg_str(a, 2), &arg_str(a, 0), &arg_str(a, 1))
}

pub fn tolower(a: &[Value]) -> R {
    st(arg_str(a, 0).to_lowercase())
}

pub fn toupper(a: &[Value]) -> R {
    st(arg_str(a, 0).to_uppercase())
}

pub fn reverse(a: &[Value]) -> R {
    st(arg_str(a, 0).chars().rev().collect::<String>())
}

fn trim_with(a: &[Value], start: bool, end: bool) -> R {
    let re = arg_str(a, 0);
    let s = arg_str(a, 1);
    let mut out: &str = &s;
    if start {
        let r = cached_regex(&format!("^(?:{re})+"))?;
        if let Some(m) = r.find(out) {
            out = &out[m.end()..];
        }
    }
    if end {
        let r = cached_regex(&format!("(?:{re})+$"))?;
        if let Some(m) = r.find(out) {
            out = &out[..m.start()];
        }
    }
    st(out)
}

pub fn trim(a: &[Value]) -> R {
    trim_with(a, true, true)
}
pub fn trim_start(a: &[Value]) -> R {
    trim_with(a, true, false)
}
pub fn trim_end(a: &[Value]) -> R {
    trim_with(a, false, true)
}

pub fn extract_ret(a: &[ArgInfo]) -> Result<Type, String> {
    Ok(a.get(3).and_then(|t| t.type_of).unwrap_or(Type::String))
}

pub fn extract(a: &[Value]) -> R {
    let re = cached_regex(&arg_str(a, 0))?;
    let group = arg_i64(a, 1).unwrap_or(-1);
    let s = arg_str(a, 2);
    let typed = if a.len() > 3 {
        Type::from_name(&arg_str(a, 3))
    } else {
        None
    };
    let found = usize::try_from(group).ok().and_then(|g| {
        re.captures(&s)
            .and_then(|c| c.get(g))
            .map(|m| m.as_str().to_string())
    });
    Ok(match (found, typed) {
        (Some(t), None | Some(Type::String)) => Value::string(t),
        (None, None | Some(Type::String)) => Value::empty_string(),
        (Some(t), Some(ty)) => cast(&Value::string(t), ty),
        (None, Some(_)) => Value::Null,
    })
}

pub fn extract_all(a: &[Value]) -> R {
    let re = cached_regex(&arg_str(a, 0))?;
    let (groups, s) = if a.len() > 2 {
        let g: Option<Vec<usize>> = arg_array(a, 1).map(|arr| {
            arr.iter()
                .filter_map(|x| x.as_u64().map(|n| n as usize))
                .collect()
        });
        (g, arg_str(a, 2))
    } else {
        (None, arg_str(a, 1))
    };
    let ncap = re.captures_len() - 1;
    let mut out = Vec::new();
    for c in re.captures_iter(&s) {
        let text = |g: usize| J::String(c.get(g).map(|m| m.as_str()).unwrap_or("").to_string());
        let item = match &groups {
            Some(gs) if gs.len() == 1 => text(gs[0]),
            Some(gs) => J::Array(gs.iter().map(|g| text(*g)).collect()),
            None if ncap == 0 => text(0),
            None if ncap == 1 => text(1),
            None => J::Array((1..=ncap).map(text).collect()),
        };
        out.push(item);
    }
    Ok(if out.is_empty() {
        Value::Null
    } else {
        Value::dynamic(J::Array(out))
    })
}

pub fn countof(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let look = arg_str(a, 1);
    let regex = a.len() > 2 && arg_str(a, 2).eq_ignore_ascii_case("regex");
    if look.is_empty() {
        return Ok(Value::Long(0));
    }
    if regex {
        let re = cached_regex(&look)?;
        return Ok(Value::Long(re.find_iter(&s).count() as i64));
    }
    let f = memchr::memmem::Finder::new(look.as_bytes());
    let h = s.as_bytes();
    let mut n = 0;
    let mut pos = 0;
    while let Some(i) = h.get(pos..).and_then(|w| f.find(w)) {
        n += 1;
        pos += i + 1;
    }
    Ok(Value::Long(n))
}

// ------------------------------------------------------------- encodings

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buf = 0u32;
    let mut bits = 0;
    let mut pad = false;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                pad = true;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if pad {
            return None;
        }
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub fn base64_encode_tostring(a: &[Value]) -> R {
    st(base64_encode(arg_str(a, 0).as_bytes()))
}

pub fn base64_decode_tostring(a: &[Value]) -> R {
    let text = arg_str(a, 0);
    st(base64_decode(&text)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default())
}

fn percent_decode(s: &str, plus_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn url_decode(a: &[Value]) -> R {
    st(percent_decode(&arg_str(a, 0), true))
}

pub fn url_encode(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    st(out)
}

// --------------------------------------------------------------- parsing

pub fn parse_url(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let Some((scheme, rest)) = s.split_once("://") else {
        return Ok(Value::dynamic(json!({})));
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Ok(Value::dynamic(json!({})));
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (&authority[..i], &authority[i + 1..]),
        None => ("", authority),
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(i) => (
                &hostport[..=i],
                hostport[i + 1..].strip_prefix(':').unwrap_or(""),
            ),
            None => (hostport, ""),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p),
            _ => (hostport, ""),
        }
    };
    let mut params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(percent_decode(k, true), J::String(percent_decode(v, true)));
    }
    Ok(Value::dynamic(json!({
        "Scheme": scheme,
        "Host": host,
        "Port": port,
        "Path": path,
        "Username": user,
        "Password": password,
        "Query Parameters": J::Object(params),
        "Fragment": fragment,
    })))
}

pub fn parse_path(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let mut scheme = "";
    let mut body: &str = &s;
    if let Some((sch, rest)) = s.split_once("://") {
        if !sch.is_empty() && sch.chars().all(|c| c.is_ascii_alphanumeric()) {
            scheme = sch;
            body = rest;
        }
    }
    let sep = |c: char| c == '\\' || c == '/';
    // root: `C:`, `\\server\share`, or a leading separator
    let root = if body.len() >= 2
        && body.as_bytes()[1] == b':'
        && body.as_bytes()[0].is_ascii_alphabetic()
    {
        &body[..2]
    } else if let Some(rest) = body.strip_prefix("\\\\") {
        let mut parts = rest.splitn(3, '\\');
        let server = parts.next().unwrap_or("");
        let share = parts.next().unwrap_or("");
        let n = 2 + server.len() + if share.is_empty() { 0 } else { 1 + share.len() };
        &body[..n.min(body.len())]
    } else {
        ""
    };
    let (dir, file) = match body.rfind(sep) {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => ("", body),
    };
    let (file, ads) = match file.find(':') {
        Some(i) if !file.is_empty() => (&file[..i], &file[i + 1..]),
        _ => (file, ""),
    };
    let ext = match file.rfind('.') {
        Some(i) => &file[i + 1..],
        None => "",
    };
    let dir_name = dir.rsplit(sep).next().unwrap_or("");
    Ok(Value::dynamic(json!({
        "Scheme": scheme,
        "RootPath": root,
        "DirectoryPath": dir,
        "DirectoryName": dir_name,
        "Filename": file,
        "Extension": ext,
        "AlternateDataStreamName": ads,
    })))
}

/// Windows `CommandLineToArgvW` rules.
pub fn parse_command_line(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_arg = false;
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut n = 1;
                while chars.peek() == Some(&'\\') {
                    chars.next();
                    n += 1;
                }
                in_arg = true;
                if chars.peek() == Some(&'"') {
                    cur.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        chars.next();
                        cur.push('"');
                    }
                } else {
                    cur.extend(std::iter::repeat_n('\\', n));
                }
            }
            '"' => {
                in_arg = true;
                if quoted && chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = !quoted;
                }
            }
            ' ' | '\t' if !quoted => {
                if in_arg {
                    args.push(J::String(std::mem::take(&mut cur)));
                    in_arg = false;
                }
            }
            other => {
                in_arg = true;
                cur.push(other);
            }
        }
    }
    if in_arg {
        args.push(J::String(cur));
    }
    Ok(Value::dynamic(J::Array(args)))
}

pub fn strrep(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    // Kusto caps the multiplier at 1024
    let n = arg_i64(a, 1).unwrap_or(0).clamp(0, 1024) as usize;
    let d = if a.len() > 2 {
        arg_str(a, 2).into_owned()
    } else {
        String::new()
    };
    st(vec![s.as_ref(); n].join(&d))
}

pub fn strcmp(a: &[Value]) -> R {
    let (x, y) = (arg_str(a, 0), arg_str(a, 1));
    Ok(Value::Long(match x.as_bytes().cmp(y.as_bytes()) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

pub fn isascii(a: &[Value]) -> R {
    Ok(Value::Bool(arg_str(a, 0).is_ascii()))
}

/// Our strings are always valid UTF-8.
pub fn isutf8(_: &[Value]) -> R {
    Ok(Value::Bool(true))
}

pub fn indexof_regex(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let re = cached_regex(&arg_str(a, 1))?;
    let start = if a.len() > 2 { arg_i64(a, 2) } else { Some(0) };
    let Some(start) = start.filter(|s| *s >= 0) else {
        return Ok(Value::Null);
    };
    let from = s
        .char_indices()
        .nth(start as usize)
        .map(|(b, _)| b)
        .unwrap_or(s.len());
    Ok(Value::Long(match re.find_at(&s, from) {
        Some(m) => s[..m.start()].chars().count() as i64,
        None => -1,
    }))
}

/// `translate(searchList, replacementList, text)`: per-character mapping;
/// characters past the end of the replacement list map to its last one
/// (or are removed when it is empty).
pub fn translate(a: &[Value]) -> R {
    let from: Vec<char> = arg_str(a, 0).chars().collect();
    let to: Vec<char> = arg_str(a, 1).chars().collect();
    let text = arg_str(a, 2);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match from.iter().position(|f| *f == c) {
            Some(i) => {
                if let Some(r) = to.get(i).or(to.last()) {
                    out.push(*r);
                }
            }
            None => out.push(c),
        }
    }
    st(out)
}

/// `parse_csv(line)`: one CSV record (RFC 4180 quoting) as a string array.
pub fn parse_csv(a: &[Value]) -> R {
    let s = arg_str(a, 0);
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(J::String(std::mem::take(&mut cur))),
            '\n' | '\r' if !quoted => break,
            other => cur.push(other),
        }
    }
    fields.push(J::String(cur));
    Ok(Value::dynamic(J::Array(fields)))
}

pub fn base64_decode_toarray(a: &[Value]) -> R {
    Ok(match base64_decode(&arg_str(a, 0)) {
        Some(b) => Value::dynamic(J::Array(b.into_iter().map(J::from).collect())),
        None => Value::Null,
    })
}

pub fn base64_encode_fromarray(a: &[Value]) -> R {
    let Some(items) = arg_array(a, 0) else {
        return st("");
    };
    let bytes: Option<Vec<u8>> = items
        .iter()
        .map(|j| j.as_u64().and_then(|n| u8::try_from(n).ok()))
        .collect();
    st(bytes.map(|b| base64_encode(&b)).unwrap_or_default())
}

pub fn unicode_codepoints_from_string(a: &[Value]) -> R {
    Ok(Value::dynamic(J::Array(
        arg_str(a, 0)
            .chars()
            .map(|c| J::from(u32::from(c)))
            .collect(),
    )))
}

/// Characters from code points given as arguments or arrays of them
/// (`make_string`, `unicode_codepoints_to_string`); invalid ones are skipped.
pub fn make_string(a: &[Value]) -> R {
    let mut out = String::new();
    let mut push = |n: Option<i64>| {
        if let Some(c) = n
            .and_then(|n| u32::try_from(n).ok())
            .and_then(char::from_u32)
        {
            out.push(c);
        }
    };
    for (i, v) in a.iter().enumerate() {
        match v {
            Value::Dynamic(j) => match &**j {
                J::Array(xs) => xs.iter().for_each(|x| push(x.as_i64())),
                other => push(other.as_i64()),
            },
            _ => push(arg_i64(a, i)),
        }
    }
    st(out)
}

/// `format_bytes(n [, precision [, unit]])`: `564 Bytes`, `11 KB`,
/// `19.08 MB` (powers of 1024).
pub fn format_bytes(a: &[Value]) -> R {
    const UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
    let Some(n) = super::arg_f64(a, 0).filter(|n| n.is_finite()) else {
        return st("");
    };
    let precision = if a.len() > 1 {
        arg_i64(a, 1).unwrap_or(0)
    } else {
        0
    }
    .clamp(0, 15) as usize;
    let wanted = if a.len() > 2 {
        arg_str(a, 2).into_owned()
    } else {
        String::new()
    };
    let idx = match UNITS.iter().position(|u| u.eq_ignore_ascii_case(&wanted)) {
        Some(i) => i,
        None => {
            let mut i = 0;
            let mut v = n.abs();
            while v >= 1024.0 && i + 1 < UNITS.len() {
                v /= 1024.0;
                i += 1;
            }
            i
        }
    };
    let v = n / 1024f64.powi(idx as i32);
    st(format!("{v:.precision$} {}", UNITS[idx]))
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::{check, j, s};
    use crate::value::{Type, Value};
    use serde_json::json;

    #[test]
    fn string_table() {
        check(&[
            (
                "strcat",
                vec![s("hello"), s(" "), s("world")],
                s("hello world"),
            ),
            ("strcat", vec![s("a"), Value::Null, s("b")], s("ab")),
            (
                "strcat",
                vec![
                    s("n="),
                    Value::Long(5),
                    s(", t="),
                    Value::TimeSpan(crate::time::HOUR),
                ],
                s("n=5, t=01:00:00"),
            ),
            (
                "strcat_delim",
                vec![
                    s("-"),
                    Value::Long(1),
                    s("2"),
                    s("A"),
                    Value::TimeSpan(crate::time::SECOND),
                ],
                s("1-2-A-00:00:01"),
            ),
            (
                "strcat_array",
                vec![j(json!([1, 2, 3])), s("->")],
                s("1->2->3"),
            ),
            ("strlen", vec![s("")], Value::Long(0)),
            ("strlen", vec![s("héllo")], Value::Long(5)),
            (
                "substring",
                vec![s("123456"), Value::Long(1), Value::Long(2)],
                s("23"),
            ),
            ("substring", vec![s("123456"), Value::Long(2)], s("3456")),
            (
                "substring",
                vec![s("ABCD"), Value::Long(-1), Value::Long(2)],
                s("A"),
            ),
            (
                "substring",
                vec![s("ABCD"), Value::Long(10), Value::Long(2)],
                s(""),
            ),
            ("split", vec![s("aa_bb"), s("_")], j(json!(["aa", "bb"]))),
            (
                "split",
                vec![s("aaa_bbb_ccc"), s("_"), Value::Long(1)],
                j(json!(["bbb"])),
            ),
            ("split", vec![s(""), s("_")], j(json!([""]))),
            ("split", vec![s("a__b"), s("_")], j(json!(["a", "", "b"]))),
            ("split", vec![s("aabbcc"), s("bb")], j(json!(["aa", "cc"]))),
            ("indexof", vec![s("abcdefg"), s("cde")], Value::Long(2)),
            (
                "indexof",
                vec![s("abcdefg"), s("cde"), Value::Long(1), Value::Long(4)],
                Value::Long(2),
            ),
            (
                "indexof",
                vec![s("abcdefg"), s("cde"), Value::Long(1), Value::Long(2)],
                Value::Long(-1),
            ),
            (
                "indexof",
                vec![
                    s("abcdefgabc"),
                    s("abc"),
                    Value::Long(0),
                    Value::Long(-1),
                    Value::Long(2),
                ],
                Value::Long(7),
            ),
            ("indexof", vec![s("abc"), s("x")], Value::Long(-1)),
            (
                "replace_string",
                vec![s("A magic trick"), s("magic"), s("cool")],
                s("A cool trick"),
            ),
            (
                "replace_regex",
                vec![s("abc123def456"), s(r"(\d+)"), s(r"<\1>")],
                s("abc<123>def<456>"),
            ),
            ("replace", vec![s(r"\d"), s("#"), s("a1b2")], s("a#b#")),
            ("tolower", vec![s("ÀBC")], s("àbc")),
            ("toupper", vec![s("abc")], s("ABC")),
            (
                "reverse",
                vec![s("ABCDEFGHIJKLMNOPQRSTUVWXYZ")],
                s("ZYXWVUTSRQPONMLKJIHGFEDCBA"),
            ),
            (
                "trim",
                vec![s("--"), s("--https://bing.com--")],
                s("https://bing.com"),
            ),
            ("trim_start", vec![s("-+"), s("--x--")], s("x--")),
            ("trim_end", vec![s("-+"), s("--x--")], s("--x")),
            (
                "trim",
                vec![s(r"\s+"), s("   Hello, world!   ")],
                s("Hello, world!"),
            ),
            ("countof", vec![s("aaaa"), s("aa")], Value::Long(3)),
            (
                "countof",
                vec![s("aaaa"), s("aa"), s("regex")],
                Value::Long(2),
            ),
            ("countof", vec![s("abcab"), s("ab")], Value::Long(2)),
            ("base64_decode_tostring", vec![s("S3VzdG8=")], s("Kusto")),
            ("base64_encode_tostring", vec![s("Kusto")], s("S3VzdG8=")),
            ("base64_encode_tostring", vec![s("ab")], s("YWI=")),
            ("base64_decode_tostring", vec![s("!!")], s("")),
            (
                "url_decode",
                vec![s("https%3a%2f%2fwww.bing.com%2f")],
                s("https://www.bing.com/"),
            ),
            (
                "url_encode",
                vec![s("https://www.bing.com/")],
                s("https%3A%2F%2Fwww.bing.com%2F"),
            ),
            (
                "strrep",
                vec![s("ab"), Value::Long(3), s(",")],
                s("ab,ab,ab"),
            ),
        ]);
    }

    #[test]
    fn more_string_functions() {
        check(&[
            ("format_bytes", vec![Value::Long(564)], s("564 Bytes")),
            ("format_bytes", vec![Value::Long(10832)], s("11 KB")),
            ("format_bytes", vec![Value::Long(20010332)], s("19 MB")),
            (
                "format_bytes",
                vec![Value::Long(20010332), Value::Long(2)],
                s("19.08 MB"),
            ),
            (
                "format_bytes",
                vec![Value::Long(20010332), Value::Long(0), s("KB")],
                s("19541 KB"),
            ),
            (
                "unicode_codepoints_from_string",
                vec![s("aé")],
                j(json!([97, 233])),
            ),
            (
                "unicode_codepoints_to_string",
                vec![j(json!([97, 233]))],
                s("aé"),
            ),
            (
                "make_string",
                vec![Value::Long(75), j(json!([117, 115])), Value::Long(-1)],
                s("Kus"),
            ),
            ("strcmp", vec![s("a"), s("b")], Value::Long(-1)),
            ("strcmp", vec![s("b"), s("b")], Value::Long(0)),
            ("isascii", vec![s("abc")], Value::Bool(true)),
            ("isascii", vec![s("é")], Value::Bool(false)),
            ("indexof_regex", vec![s("abcabc"), s("b.")], Value::Long(1)),
            (
                "indexof_regex",
                vec![s("abcabc"), s("b."), Value::Long(2)],
                Value::Long(4),
            ),
            ("indexof_regex", vec![s("abc"), s("x")], Value::Long(-1)),
            ("translate", vec![s("abc"), s("x"), s("abcd")], s("xxxd")),
            ("translate", vec![s("ab"), s("xy"), s("abba")], s("xyyx")),
            ("translate", vec![s("ab"), s(""), s("abcab")], s("c")),
            (
                "parse_csv",
                vec![s(r#"a,"b,c",,"d""e""#)],
                j(json!(["a", "b,c", "", "d\"e"])),
            ),
            (
                "base64_decode_toarray",
                vec![s("S3VzdG8=")],
                j(json!([75, 117, 115, 116, 111])),
            ),
            (
                "base64_encode_fromarray",
                vec![j(json!([75, 117, 115, 116, 111]))],
                s("S3VzdG8="),
            ),
        ]);
    }

    #[test]
    fn extract_table() {
        let text = "User: James, Email: James@example.com, Age: 29";
        check(&[
            (
                "extract",
                vec![s("User: ([^,]+)"), Value::Long(1), s(text)],
                s("James"),
            ),
            (
                "extract",
                vec![
                    s(r"Email: (\S+),"),
                    Value::Long(1),
                    s("User: David, Age: 35"),
                ],
                s(""),
            ),
            ("extract", vec![s(r"\d+"), Value::Long(0), s(text)], s("29")),
            (
                "extract",
                vec![s(r"x(\d+)"), Value::Long(1), s("abc"), s("long")],
                Value::Null,
            ),
            (
                "extract",
                vec![s(r"x(\d+)"), Value::Long(1), s("ax42b"), s("long")],
                Value::Long(42),
            ),
            (
                "extract",
                vec![s(r"-(\d{2})-"), Value::Long(1), s("21-07-2023"), s("int")],
                Value::Int(7),
            ),
            (
                "extract_all",
                vec![s(r"(\d+)"), s("a1b22")],
                j(json!(["1", "22"])),
            ),
            (
                "extract_all",
                vec![s(r"(\w)(\d)"), s("a1b2")],
                j(json!([["a", "1"], ["b", "2"]])),
            ),
            ("extract_all", vec![s(r"\d"), s("abc")], Value::Null),
        ]);
        let a = crate::functions::ArgInfo::of(Type::String);
        let t = crate::functions::ArgInfo {
            type_of: Some(Type::Long),
            ..a.clone()
        };
        assert_eq!(
            super::extract_ret(&[a.clone(), a.clone(), a.clone(), t]),
            Ok(Type::Long)
        );
        assert_eq!(
            super::extract_ret(&[a.clone(), a.clone(), a]),
            Ok(Type::String)
        );
        assert!(crate::functions::call("extract", &[s("("), Value::Long(0), s("x")]).is_err());
    }

    #[test]
    fn parse_functions() {
        check(&[
            (
                "parse_url",
                vec![s(
                    "scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment",
                )],
                j(
                    json!({"Scheme":"scheme","Host":"host","Port":"1234","Path":"/this/is/a/path","Username":"username","Password":"password","Query Parameters":{"k1":"v1","k2":"v2"},"Fragment":"fragment"}),
                ),
            ),
            (
                "parse_path",
                vec![s(r"C:\temp\file.txt")],
                j(
                    json!({"Scheme":"","RootPath":"C:","DirectoryPath":"C:\\temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}),
                ),
            ),
            (
                "parse_command_line",
                vec![s(r#""C:\Program Files\a.exe" -x "b c" d\"e"#), s("windows")],
                j(json!(["C:\\Program Files\\a.exe", "-x", "b c", "d\"e"])),
            ),
        ]);
    }
}
