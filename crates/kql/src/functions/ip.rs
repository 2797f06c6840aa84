//! IP builtins: IPv4 parsing, private-range and CIDR tests, comparison,
//! finding addresses inside text; IPv6 comparison and ranges (IPv4 input
//! accepted as `::ffff:a.b.c.d`). Unparseable input gives null.

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

pub fn format_ipv4_mask(a: &[Value]) -> R {
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
    let p = p.min(ip.prefix);
    Ok(Value::string(format!("{}/{p}", dotted(ip.addr & mask(p)))))
}

pub fn ipv4_netmask_suffix(a: &[Value]) -> R {
    Ok(match ip_arg(a, 0) {
        Some(ip) => Value::Long(i64::from(ip.prefix)),
        None => Value::Null,
    })
}

// ------------------------------------------------------------------ IPv6

/// An IPv6 address (IPv4 mapped into `::ffff:0:0/96`) and its prefix.
fn parse6(text: &str) -> Option<(u128, u8)> {
    let t = text.trim();
    let (ip, prefix) = match t.split_once('/') {
        Some((ip, p)) => (ip.trim(), Some(p.trim().parse::<u8>().ok()?)),
        None => (t, None),
    };
    if let Ok(v6) = ip.parse::<std::net::Ipv6Addr>() {
        let p = prefix.unwrap_or(128);
        return (p <= 128).then_some((u128::from(v6), p));
    }
    let v4 = parse_addr(ip)?;
    let p = prefix.unwrap_or(32);
    (p <= 32).then_some(((0xffff_u128 << 32) | u128::from(v4), p + 96))
}

fn mask6(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    }
}

fn ip6_arg(a: &[Value], i: usize) -> Option<(u128, u8)> {
    match arg(a, i) {
        Value::Null => None,
        v => parse6(&str_of(v)),
    }
}

fn prefix6_arg(a: &[Value]) -> Option<u8> {
    if a.len() > 2 {
        arg_i64(a, 2)
            .and_then(|p| u8::try_from(p).ok())
            .filter(|p| *p <= 128)
    } else {
        Some(128)
    }
}

pub fn ipv6_compare(a: &[Value]) -> R {
    let (Some(x), Some(y), Some(p)) = (ip6_arg(a, 0), ip6_arg(a, 1), prefix6_arg(a)) else {
        return Ok(Value::Null);
    };
    let m = mask6(p.min(x.1).min(y.1));
    Ok(Value::Long(match (x.0 & m).cmp(&(y.0 & m)) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

pub fn ipv6_is_match(a: &[Value]) -> R {
    Ok(match ipv6_compare(a)? {
        Value::Long(c) => Value::Bool(c == 0),
        _ => Value::Null,
    })
}

fn in_range6(ip: (u128, u8), range: (u128, u8)) -> bool {
    let m = mask6(ip.1.min(range.1));
    ip.0 & m == range.0 & m
}

pub fn ipv6_is_in_range(a: &[Value]) -> R {
    Ok(match (ip6_arg(a, 0), ip6_arg(a, 1)) {
        (Some(ip), Some(r)) => Value::Bool(in_range6(ip, r)),
        _ => Value::Null,
    })
}

pub fn ipv6_is_in_any_range(a: &[Value]) -> R {
    let Some(ip) = ip6_arg(a, 0) else {
        return Ok(Value::Null);
    };
    let found = items(a, 1)
        .iter()
        .filter_map(|r| parse6(r))
        .any(|r| in_range6(ip, r));
    Ok(Value::Bool(found))
}

/// The full form `0000:0000:...:0001` (as `parse_ipv6` prints).
fn full6(v: u128) -> String {
    let parts: Vec<String> = (0..8)
        .rev()
        .map(|i| format!("{:04x}", (v >> (16 * i)) & 0xffff))
        .collect();
    parts.join(":")
}

pub fn parse_ipv6(a: &[Value]) -> R {
    Ok(match ip6_arg(a, 0) {
        Some((v, p)) => Value::string(full6(v & mask6(p))),
        None => Value::empty_string(),
    })
}

pub fn parse_ipv6_mask(a: &[Value]) -> R {
    let (Some((v, p)), Some(m)) = (ip6_arg(a, 0), arg_i64(a, 1)) else {
        return Ok(Value::empty_string());
    };
    let Some(m) = u8::try_from(m).ok().filter(|m| *m <= 128) else {
        return Ok(Value::empty_string());
    };
    Ok(Value::string(full6(v & mask6(p.min(m)))))
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
            (
                "has_ipv4_prefix",
                vec![s("x 127.0.0 y"), s("127.0.")],
                f.clone(),
            ),
            (
                "format_ipv4_mask",
                vec![s("192.168.1.255"), Value::Long(24)],
                s("192.168.1.0/24"),
            ),
            (
                "ipv4_netmask_suffix",
                vec![s("192.168.1.1/24")],
                Value::Long(24),
            ),
            (
                "ipv4_netmask_suffix",
                vec![s("192.168.1.1")],
                Value::Long(32),
            ),
            (
                "ipv6_compare",
                vec![s("::ffff:7f00:1"), s("127.0.0.1")],
                Value::Long(0),
            ),
            (
                "ipv6_compare",
                vec![s("fe80::85d:e82c:9446:7994"), s("fe80::85d:e82c:9446:7995")],
                Value::Long(-1),
            ),
            (
                "ipv6_compare",
                vec![
                    s("fe80::85d:e82c:9446:7994/127"),
                    s("fe80::85d:e82c:9446:7995/127"),
                ],
                Value::Long(0),
            ),
            (
                "ipv6_is_match",
                vec![
                    s("fe80::85d:e82c:9446:7994"),
                    s("fe80::85d:e82c:9446:7995"),
                    Value::Long(127),
                ],
                t.clone(),
            ),
            (
                "ipv6_is_in_range",
                vec![s("fe80::85d:e82c:9446:7994"), s("fe80::/10")],
                t.clone(),
            ),
            (
                "ipv6_is_in_range",
                vec![s("2001:db8::1"), s("fe80::/10")],
                f.clone(),
            ),
            (
                "ipv6_is_in_range",
                vec![s("10.1.2.3"), s("10.0.0.0/8")],
                t.clone(),
            ),
            (
                "ipv6_is_in_range",
                vec![s("garbage"), s("fe80::/10")],
                n.clone(),
            ),
            (
                "ipv6_is_in_any_range",
                vec![s("fe80::1"), j(json!(["2001:db8::/32", "fe80::/10"]))],
                t.clone(),
            ),
            (
                "parse_ipv6",
                vec![s("127.0.0.1")],
                s("0000:0000:0000:0000:0000:ffff:7f00:0001"),
            ),
            (
                "parse_ipv6",
                vec![s("fe80::85d:e82c:9446:7994/120")],
                s("fe80:0000:0000:0000:085d:e82c:9446:7900"),
            ),
            (
                "parse_ipv6_mask",
                vec![s("fe80::85d:e82c:9446:7994"), Value::Long(120)],
                s("fe80:0000:0000:0000:085d:e82c:9446:7900"),
            ),
            ("parse_ipv6", vec![s("nope")], s("")),
        ]);
    }
}
