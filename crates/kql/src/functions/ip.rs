//! IPv4 builtins: parsing, private-range and CIDR tests, comparison, and
//! finding addresses inside text. Unparseable input gives null.

use super::ops::{json_to_value, str_of};
use super::{arg, arg_i64, arg_str};
use crate::value::Value;

type R = Result<Value, String>;

/// An address and its prefix length (32 when none was given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4 {
    pub addr: u32,
    pub prefix: u8,
}

/// Parses `a.b.c.d` or `a.b.c.d/n` (strict dotted decimal).
pub fn parse(text: &str) -> Option<Ipv4> {
    let t = text.trim();
    let (ip, prefix) = match t.split_once('/') {
        Some((ip, p)) => {
            let p: u8 = p.trim().parse().ok()?;
            if p > 32 {
                return None;
            }
            (ip.trim(), p)
        }
        None => (t, 32),
    };
    Some(Ipv4 {
        addr: parse_addr(ip)?,
        prefix,
    })
}

fn parse_addr(ip: &str) -> Option<u32> {
    let mut parts = ip.split('.');
    let mut addr: u32 = 0;
    for _ in 0..4 {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u32 = p.parse().ok()?;
        if v > 255 {
            return None;
        }
        addr = (addr << 8) | v;
    }
    parts.next().is_none().then_some(addr)
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// An address argument: text, or a long (`parse_ipv4` output).
fn ip_arg(a: &[Value], i: usize) -> Option<Ipv4> {
    match arg(a, i) {
        Value::Long(l) => u32::try_from(*l).ok().map(|addr| Ipv4 { addr, prefix: 32 }),
        Value::Int(l) => u32::try_from(*l).ok().map(|addr| Ipv4 { addr, prefix: 32 }),
        Value::Null => None,
        v => parse(&str_of(v)),
    }
}

pub fn parse_ipv4(a: &[Value]) -> R {
    Ok(match ip_arg(a, 0) {
        Some(ip) => Value::Long(i64::from(ip.addr & mask(ip.prefix))),
        None => Value::Null,
    })
}

pub fn parse_ipv4_mask(a: &[Value]) -> R {
    let (Some(ip), Some(p)) = (ip_arg(a, 0), arg_i64(a, 1)) else {
        return Ok(Value::Null);
    };
    let Ok(p) = u8::try_from(p) else {
        return Ok(Value::Null);
    };
    if p > 32 {
        return Ok(Value::Null);
    }
    Ok(Value::Long(i64::from(ip.addr & mask(p.min(ip.prefix)))))
}

fn dotted(addr: u32) -> String {
    let b = addr.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

pub fn format_ipv4(a: &[Value]) -> R {
    let Some(ip) = ip_arg(a, 0) else {
        return Ok(Value::empty_string());
    };
    let p = if a.len() > 1 {
        match arg_i64(a, 1).and_then(|p| u8::try_from(p).ok()) {
            Some(p) if p <= 32 => p,
            _ => return Ok(Value::empty_string()),
        }
    } else {
        32
    };
    Ok(Value::string(dotted(ip.addr & mask(p.min(ip.prefix)))))
}

pub fn ipv4_is_private(a: &[Value]) -> R {
    let Some(ip) = ip_arg(a, 0) else {
        return Ok(Value::Null);
    };
    let ranges: [(u32, u8); 3] = [(0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16)];
    let private = ranges
        .iter()
        .any(|(net, p)| ip.prefix >= *p && ip.addr & mask(*p) == *net);
    Ok(Value::Bool(private))
}

fn in_range(ip: Ipv4, range: Ipv4) -> bool {
    let m = mask(ip.prefix.min(range.prefix));
    ip.addr & m == range.addr & m
}

pub fn ipv4_is_in_range(a: &[Value]) -> R {
    Ok(match (ip_arg(a, 0), ip_arg(a, 1)) {
        (Some(ip), Some(r)) => Value::Bool(in_range(ip, r)),
        _ => Value::Null,
    })
}

/// Text items of arguments `from..`, arrays flattened.
fn items(a: &[Value], from: usize) -> Vec<String> {
    let mut out = Vec::new();
    for v in a.iter().skip(from) {
        match v {
            Value::Dynamic(j) => match &**j {
                serde_json::Value::Array(xs) => {
                    out.extend(xs.iter().map(|x| str_of(&json_to_value(x)).into_owned()))
                }
                other => out.push(str_of(&json_to_value(other)).into_owned()),
            },
            Value::Null => {}
            other => out.push(str_of(other).into_owned()),
        }
    }
    out
}

pub fn ipv4_is_in_any_range(a: &[Value]) -> R {
    let Some(ip) = ip_arg(a, 0) else {
        return Ok(Value::Null);
    };
    let found = items(a, 1)
        .iter()
        .filter_map(|r| parse(r))
        .any(|r| in_range(ip, r));
    Ok(Value::Bool(found))
}

fn prefix_arg(a: &[Value]) -> Option<u8> {
    if a.len() > 2 {
        arg_i64(a, 2)
            .and_then(|p| u8::try_from(p).ok())
            .filter(|p| *p <= 32)
    } else {
        Some(32)
    }
}

pub fn ipv4_compare(a: &[Value]) -> R {
    let (Some(x), Some(y), Some(p)) = (ip_arg(a, 0), ip_arg(a, 1), prefix_arg(a)) else {
        return Ok(Value::Null);
    };
    let m = mask(p.min(x.prefix).min(y.prefix));
    Ok(Value::Long(match (x.addr & m).cmp(&(y.addr & m)) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

pub fn ipv4_is_match(a: &[Value]) -> R {
    Ok(match ipv4_compare(a)? {
        Value::Long(c) => Value::Bool(c == 0),
        _ => Value::Null,
    })
}

/// Whether `text` holds `ip` as a delimited token (not part of a longer
/// number or dotted sequence). `prefix_only` accepts any address starting
/// with `ip` (for `has_ipv4_prefix`).
fn text_has(text: &str, ip: &str, prefix_only: bool) -> bool {
    let h = text.as_bytes();
    let n = ip.len();
    if n == 0 {
        return false;
    }
    let finder = memchr::memmem::Finder::new(ip.as_bytes());
    for i in finder.find_iter(h) {
        let before_ok = i == 0 || {
            let b = h[i - 1];
            !(b.is_ascii_alphanumeric() || b == b'.')
        };
        if !before_ok {
            continue;
        }
        if prefix_only {
            // the whole surrounding token must be a valid address
            let end = h[i..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b'.'))
                .map(|p| i + p)
                .unwrap_or(h.len());
            let tok = text.get(i..end).unwrap_or("").trim_end_matches('.');
            if parse_addr(tok).is_some() {
                return true;
            }
            continue;
        }
        let after_ok = match h.get(i + n) {
            None => true,
            Some(b) if b.is_ascii_alphanumeric() => false,
            Some(b'.') => !h.get(i + n + 1).is_some_and(|c| c.is_ascii_digit()),
            Some(_) => true,
        };
        if after_ok {
            return true;
        }
    }
    false
}

pub fn has_ipv4(a: &[Value]) -> R {
    let ip = arg_str(a, 1);
    if parse_addr(ip.trim()).is_none() {
        return Ok(Value::Bool(false));
    }
    Ok(Value::Bool(text_has(&arg_str(a, 0), ip.trim(), false)))
}

pub fn has_any_ipv4(a: &[Value]) -> R {
    let text = arg_str(a, 0);
    let found = items(a, 1)
        .iter()
        .map(|s| s.trim())
        .filter(|s| parse_addr(s).is_some())
        .any(|ip| text_has(&text, ip, false));
    Ok(Value::Bool(found))
}

pub fn has_ipv4_prefix(a: &[Value]) -> R {
    let p = arg_str(a, 1);
    Ok(Value::Bool(text_has(&arg_str(a, 0), p.trim(), true)))
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::{check, j, s};
    use crate::value::Value;
    use serde_json::json;

    /// SEMANTICS.md §11 IPv4 rows and the corpus's IPv4 cases.
    #[test]
    fn ipv4_table() {
        let (t, f, n) = (Value::Bool(true), Value::Bool(false), Value::Null);
        check(&[
            ("ipv4_is_private", vec![s("10.0.0.1")], t.clone()),
            ("ipv4_is_private", vec![s("172.16.5.5")], t.clone()),
            ("ipv4_is_private", vec![s("172.32.0.1")], f.clone()),
            ("ipv4_is_private", vec![s("192.168.5.5")], t.clone()),
            ("ipv4_is_private", vec![s("127.0.0.1")], f.clone()),
            ("ipv4_is_private", vec![s("8.8.8.8")], f.clone()),
            ("ipv4_is_private", vec![s("fe80::1")], n.clone()),
            ("ipv4_is_private", vec![s("")], n.clone()),
            ("ipv4_is_private", vec![s("192.168.1.1/24")], t.clone()),
            (
                "ipv4_is_in_range",
                vec![s("192.168.1.1"), s("192.168.1.1")],
                t.clone(),
            ),
            (
                "ipv4_is_in_range",
                vec![s("192.168.1.1"), s("192.168.1.255/24")],
                t.clone(),
            ),
            (
                "ipv4_is_in_range",
                vec![s("10.0.0.5"), s("10.0.0.0/8")],
                t.clone(),
            ),
            (
                "ipv4_is_in_range",
                vec![s("11.0.0.1"), s("10.0.0.0/8")],
                f.clone(),
            ),
            ("ipv4_is_in_range", vec![s("1.2.3.4"), s("bad")], n.clone()),
            (
                "ipv4_is_in_any_range",
                vec![
                    s("10.1.2.3"),
                    j(json!(["192.168.1.1/16", "127.0.0.1/8", "10.0.0.1/8"])),
                ],
                t.clone(),
            ),
            (
                "ipv4_is_in_any_range",
                vec![
                    s("123.1.11.21"),
                    j(json!(["192.168.1.1/16", "127.0.0.1/8", "10.0.0.1/8"])),
                ],
                f.clone(),
            ),
            (
                "ipv4_is_in_any_range",
                vec![
                    s("192.168.1.6"),
                    s("192.168.1.1/24"),
                    s("10.0.0.1/8"),
                    s("127.1.0.1/16"),
                ],
                t.clone(),
            ),
            (
                "ipv4_is_in_any_range",
                vec![s("127.0.0.1"), j(json!(["127.0.0.1", "192.168.1.1"]))],
                t.clone(),
            ),
            (
                "ipv4_is_in_any_range",
                vec![s("x"), s("10.0.0.0/8")],
                n.clone(),
            ),
            (
                "ipv4_is_match",
                vec![s("192.168.1.1"), s("192.168.1.255"), Value::Long(24)],
                t.clone(),
            ),
            (
                "ipv4_is_match",
                vec![s("192.168.1.1/24"), s("192.168.1.255")],
                t.clone(),
            ),
            (
                "ipv4_is_match",
                vec![s("192.168.1.1"), s("192.168.1.255")],
                f.clone(),
            ),
            (
                "ipv4_compare",
                vec![s("127.0.0.1"), s("127.0.0.2")],
                Value::Long(-1),
            ),
            (
                "ipv4_compare",
                vec![s("192.168.1.1"), s("192.168.1.255"), Value::Long(24)],
                Value::Long(0),
            ),
            (
                "parse_ipv4",
                vec![s("127.0.0.1")],
                Value::Long(2_130_706_433),
            ),
            (
                "parse_ipv4",
                vec![s("192.1.168.1/24")],
                Value::Long(3_221_334_016),
            ),
            ("parse_ipv4", vec![s("1.2.3")], n.clone()),
            (
                "parse_ipv4_mask",
                vec![s("192.1.168.2"), Value::Long(24)],
                Value::Long(3_221_334_016),
            ),
            (
                "format_ipv4",
                vec![Value::Long(2_130_706_433)],
                s("127.0.0.1"),
            ),
            (
                "format_ipv4",
                vec![s("192.168.1.255"), Value::Long(24)],
                s("192.168.1.0"),
            ),
            (
                "has_ipv4",
                vec![s("05:04:54 127.0.0.1 GET /favicon.ico 404"), s("127.0.0.1")],
                t.clone(),
            ),
            (
                "has_ipv4",
                vec![
                    s("05:04:54 127.0.0.256 GET /favicon.ico 404"),
                    s("127.0.0.256"),
                ],
                f.clone(),
            ),
            (
                "has_ipv4",
                vec![s("05:04:54127.0.0.1 GET /favicon.ico 404"), s("127.0.0.1")],
                f.clone(),
            ),
            (
                "has_ipv4",
                vec![s("from 127.0.0.1."), s("127.0.0.1")],
                t.clone(),
            ),
            ("has_ipv4", vec![s("127.0.0.12"), s("127.0.0.1")], f.clone()),
            (
                "has_any_ipv4",
                vec![
                    s("05:04:54 127.0.0.1 GET /favicon.ico 404"),
                    j(json!(["127.0.0.1", "127.0.0.2"])),
                ],
                t.clone(),
            ),
            (
                "has_any_ipv4",
                vec![s("nothing here"), s("127.0.0.1"), s("10.0.0.1")],
                f.clone(),
            ),
            (
                "has_ipv4_prefix",
                vec![s("x 127.0.0.1 y"), s("127.0.")],
                t.clone(),
            ),
            ("has_ipv4_prefix", vec![s("x 127.0.0 y"), s("127.0.")], f),
        ]);
    }
}
