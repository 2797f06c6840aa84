//! Operator semantics on values: arithmetic, comparison, string predicates
//! (`has` family with Kusto's term rules), list membership, casts and
//! ordering. The evaluator calls these; the planner calls the `*_type`
//! functions. (Owned by the values work; signatures are the contract.)
//! No planning or row iteration lives here: only value-level semantics.

use crate::ast::{BinaryOp, ListOp};
use crate::functions::ArgInfo;
use crate::time;
use crate::value::{Decimal, Type, Value};
use memchr::memmem;
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

// ---------------------------------------------------------------- helpers

/// A dynamic scalar as the matching plain value (`5` -> long, `"x"` ->
/// string, `true` -> bool); arrays/bags and non-dynamic values unchanged.
pub fn normalize(v: &Value) -> Cow<'_, Value> {
    match v {
        Value::Dynamic(j) => match &**j {
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => Cow::Borrowed(v),
            other => Cow::Owned(json_to_value(other)),
        },
        _ => Cow::Borrowed(v),
    }
}

/// A JSON value as a `Value`: scalars become plain values, arrays/bags stay
/// dynamic, JSON null is `Null`.
pub fn json_to_value(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Long(i)
            } else {
                n.as_f64().map(Value::Real).unwrap_or(Value::Null)
            }
        }
        serde_json::Value::String(s) => Value::string(s.as_str()),
        other => Value::Dynamic(Arc::new(other.clone())),
    }
}

/// A value as JSON (what `pack_array`, `make_set`, `bag_pack` store).
pub fn value_to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Long(i) => J::from(*i),
        Value::Real(r) => serde_json::Number::from_f64(*r)
            .map(J::Number)
            .unwrap_or_else(|| J::String(real_to_string(*r))),
        Value::Decimal(d) => serde_json::Number::from_f64(f64::try_from(*d).unwrap_or(f64::NAN))
            .map(J::Number)
            .unwrap_or_else(|| J::String(d.to_string())),
        Value::String(s) => J::String(s.to_string()),
        Value::DateTime(t) => J::String(time::format_datetime(*t)),
        Value::TimeSpan(t) => J::String(time::format_timespan(*t)),
        Value::Guid(g) => J::String(g.hyphenated().to_string()),
        Value::Dynamic(j) => (**j).clone(),
    }
}

/// A value wrapped as `dynamic` (`Null` stays `Null`).
pub fn to_dynamic(v: &Value) -> Value {
    match v {
        Value::Dynamic(_) | Value::Null => v.clone(),
        other => Value::dynamic(value_to_json(other)),
    }
}

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// Compiles a regex once per thread (Kusto regexes are RE2-like; the Rust
/// `regex` crate is the same dialect).
pub fn cached_regex(pattern: &str) -> Result<regex::Regex, String> {
    REGEX_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(r) = c.get(pattern) {
            return Ok(r.clone());
        }
        let r =
            regex::Regex::new(pattern).map_err(|e| format!("invalid regex {pattern:?}: {e}"))?;
        if c.len() > 256 {
            c.clear();
        }
        c.insert(pattern.to_string(), r.clone());
        Ok(r)
    })
}

/// The text a string operator sees: strings as they are, others via
/// `tostring`.
pub fn str_of(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(to_string(other)),
    }
}

fn real_to_string(r: f64) -> String {
    if r.is_nan() {
        "NaN".into()
    } else if r.is_infinite() {
        if r > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if r != 0.0 && (r.abs() >= 1e15 || r.abs() < 1e-4) {
        // .NET's shortest round-trip text switches to `E` notation here
        // (`1E+15`, `1.5E-05`).
        let e = format!("{r:e}");
        match e.split_once('e') {
            Some((mant, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                format!("{mant}E{sign}{digits:0>2}")
            }
            None => e,
        }
    } else {
        format!("{r}")
    }
}

// ------------------------------------------------------------ arithmetic

fn num_rank(t: Type) -> u8 {
    match t {
        Type::Int => 1,
        Type::Long => 2,
        Type::Real => 3,
        Type::Decimal => 4,
        _ => 0,
    }
}

fn promote(a: Type, b: Type) -> Type {
    if num_rank(a) >= num_rank(b) {
        a
    } else {
        b
    }
}

/// Comparison class of a type: values of one class can be ordered.
fn class(t: Type) -> u8 {
    match t {
        Type::Int | Type::Long | Type::Real | Type::Decimal => 1,
        Type::String => 2,
        Type::DateTime => 3,
        Type::TimeSpan => 4,
        Type::Bool => 5,
        Type::Guid => 6,
        Type::Dynamic => 0,
    }
}

fn arith_type(op: BinaryOp, l: Type, r: Type) -> Option<Type> {
    use Type::*;
    let int_promote = |t: Type| if t == Int { Long } else { t };
    if l == Dynamic && r == Dynamic {
        return Some(Dynamic);
    }
    if l == Dynamic || r == Dynamic {
        // Kusto.Language types a dynamic operand as whatever makes the
        // operation valid: `d + 1` is long, `dt - d` is a timespan...
        let other = if l == Dynamic { r } else { l };
        return match (op, other) {
            (_, n) if n.is_numeric() => Some(int_promote(n)),
            (BinaryOp::Add, DateTime) => Some(DateTime),
            (BinaryOp::Sub, DateTime) => Some(TimeSpan),
            (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mod, TimeSpan) => Some(TimeSpan),
            _ => None,
        };
    }
    if l.is_numeric() && r.is_numeric() {
        return Some(int_promote(promote(l, r)));
    }
    match (op, l, r) {
        (BinaryOp::Add, DateTime, TimeSpan) | (BinaryOp::Add, TimeSpan, DateTime) => Some(DateTime),
        (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mod, TimeSpan, TimeSpan) => Some(TimeSpan),
        (BinaryOp::Sub, DateTime, DateTime) => Some(TimeSpan),
        (BinaryOp::Sub, DateTime, TimeSpan) => Some(DateTime),
        (BinaryOp::Mul, TimeSpan, n) | (BinaryOp::Mul, n, TimeSpan) if n.is_numeric() => {
            Some(TimeSpan)
        }
        (BinaryOp::Div, TimeSpan, n) if n.is_numeric() => Some(TimeSpan),
        (BinaryOp::Div, TimeSpan, TimeSpan) => Some(Real),
        _ => None,
    }
}

/// Result type of `l op r`, or why the operand types are not allowed.
pub fn binary_type(op: BinaryOp, l: &ArgInfo, r: &ArgInfo) -> Result<Type, String> {
    let (lt, rt) = (l.ty, r.ty);
    let bad = || {
        Err(format!(
            "operator '{}' cannot be applied to {} and {}",
            op.text(),
            lt,
            rt
        ))
    };
    match op {
        BinaryOp::Or | BinaryOp::And => {
            let ok = |t: Type| matches!(t, Type::Bool | Type::Dynamic);
            if ok(lt) && ok(rt) {
                Ok(Type::Bool)
            } else {
                bad()
            }
        }
        // Kusto.Language accepts `==`/`!=` between any types (different
        // types are simply unequal) but orders only comparable ones.
        BinaryOp::Eq | BinaryOp::Ne => Ok(Type::Bool),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let (a, b) = (class(lt), class(rt));
            if a == 0 || b == 0 || a == b {
                Ok(Type::Bool)
            } else {
                bad()
            }
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            match arith_type(op, lt, rt) {
                Some(t) => Ok(t),
                None => bad(),
            }
        }
        _ => Ok(Type::Bool),
    }
}

/// Evaluates `l op r` with Kusto's null rules (and/or three-valued, `==`
/// with one null operand is false, `!=` true, other comparisons null...).
pub fn binary(op: BinaryOp, l: &Value, r: &Value) -> Result<Value, String> {
    match op {
        BinaryOp::And => {
            let (a, b) = (truthy(l), truthy(r));
            Ok(match (a, b) {
                (Some(false), _) | (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            })
        }
        BinaryOp::Or => {
            let (a, b) = (truthy(l), truthy(r));
            Ok(match (a, b) {
                (Some(true), _) | (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            })
        }
        BinaryOp::Eq | BinaryOp::Ne => {
            let ne = op == BinaryOp::Ne;
            Ok(match (l.is_null(), r.is_null()) {
                (true, true) => Value::Null,
                (true, false) | (false, true) => Value::Bool(ne),
                _ => Value::Bool(values_equal(l, r) != ne),
            })
        }
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            if l.is_null() || r.is_null() {
                return Ok(Value::Null);
            }
            Ok(match compare(l, r) {
                None => Value::Null,
                Some(o) => Value::Bool(match op {
                    BinaryOp::Lt => o == Ordering::Less,
                    BinaryOp::Le => o != Ordering::Greater,
                    BinaryOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }),
            })
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            if l.is_null() || r.is_null() {
                return Ok(Value::Null);
            }
            let both = matches!(l, Value::Dynamic(_)) && matches!(r, Value::Dynamic(_));
            let (a, b) = (normalize(l), normalize(r));
            let (a, b) = (dyn_operand(op, &a, &b), dyn_operand(op, &b, &a));
            let v = arith(op, &a, &b);
            Ok(if both { to_dynamic(&v) } else { v })
        }
        // String operators on a null (non-string) operand are null, as the
        // executor's precompiled matchers do.
        _ if l.is_null() || r.is_null() => Ok(Value::Null),
        BinaryOp::MatchesRegex => {
            let re = cached_regex(&str_of(r))?;
            Ok(Value::Bool(re.is_match(&str_of(l))))
        }
        _ => match StringMatcher::new(op, &str_of(r)) {
            Some(m) => Ok(Value::Bool(m.matches(&str_of(l)))),
            None => Err(format!("operator '{}' is not supported here", op.text())),
        },
    }
}

/// A dynamic string operand next to a datetime/timespan is read as the
/// type that makes the operation valid (`dt - d`: datetime, `dt + d` and
/// `ts + d`: timespan).
fn dyn_operand<'a>(op: BinaryOp, v: &'a Value, other: &Value) -> Cow<'a, Value> {
    let Value::String(s) = v else {
        return Cow::Borrowed(v);
    };
    let as_dt = || time::parse_datetime(s).map(Value::DateTime);
    let as_ts = || time::parse_timespan(s).map(Value::TimeSpan);
    let parsed = match (op, other) {
        (BinaryOp::Sub, Value::DateTime(_)) => as_dt(),
        (BinaryOp::Add, Value::DateTime(_)) => as_ts(),
        (_, Value::TimeSpan(_)) => as_ts(),
        _ => None,
    };
    match parsed {
        Some(p) => Cow::Owned(p),
        None => Cow::Borrowed(v),
    }
}

/// Kusto `==` on two non-null values (numbers across types, dynamic
/// scalars as their plain values).
pub fn values_equal(a: &Value, b: &Value) -> bool {
    let (a, b) = (normalize(a), normalize(b));
    match (&*a, &*b) {
        (Value::Dynamic(x), Value::Dynamic(y)) => x == y,
        (Value::Guid(x), Value::Guid(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        // a string compared with a guid/datetime/timespan is read as one
        (Value::String(s), other @ (Value::Guid(_) | Value::DateTime(_) | Value::TimeSpan(_)))
        | (other @ (Value::Guid(_) | Value::DateTime(_) | Value::TimeSpan(_)), Value::String(s)) => {
            let parsed = other.ty().map(|t| cast(&Value::String(s.clone()), t));
            parsed.is_some_and(|p| !p.is_null() && values_equal(&p, other))
        }
        (x, y) => compare(x, y) == Some(Ordering::Equal),
    }
}

fn arith(op: BinaryOp, l: &Value, r: &Value) -> Value {
    use Value::*;
    match (l, r) {
        (DateTime(a), TimeSpan(b)) => match op {
            BinaryOp::Add => opt(a.checked_add(*b).and_then(time::in_range), DateTime),
            BinaryOp::Sub => opt(a.checked_sub(*b).and_then(time::in_range), DateTime),
            _ => Null,
        },
        (TimeSpan(a), DateTime(b)) if op == BinaryOp::Add => {
            opt(b.checked_add(*a).and_then(time::in_range), DateTime)
        }
        (DateTime(a), DateTime(b)) if op == BinaryOp::Sub => opt(a.checked_sub(*b), TimeSpan),
        (TimeSpan(a), TimeSpan(b)) => match op {
            BinaryOp::Add => opt(a.checked_add(*b), TimeSpan),
            BinaryOp::Sub => opt(a.checked_sub(*b), TimeSpan),
            BinaryOp::Div => {
                if *b == 0 {
                    Null
                } else {
                    Real(*a as f64 / *b as f64)
                }
            }
            BinaryOp::Mod => {
                if *b == 0 {
                    Null
                } else {
                    opt(a.checked_rem_euclid(*b), TimeSpan)
                }
            }
            _ => Null,
        },
        (TimeSpan(t), n) | (n, TimeSpan(t)) if op == BinaryOp::Mul => match num_f64(n) {
            Some(f) => match n {
                Int(_) | Long(_) => opt(t.checked_mul(int_of(n).unwrap_or(0)), TimeSpan),
                _ => real_ticks(*t as f64 * f),
            },
            None => Null,
        },
        (TimeSpan(t), n) if op == BinaryOp::Div => match n {
            Int(_) | Long(_) => {
                let d = int_of(n).unwrap_or(0);
                if d == 0 {
                    Null
                } else {
                    opt(t.checked_div(d), TimeSpan)
                }
            }
            _ => match num_f64(n) {
                Some(f) if f != 0.0 => real_ticks(*t as f64 / f),
                _ => Null,
            },
        },
        _ => numeric_arith(op, l, r),
    }
}

fn real_ticks(f: f64) -> Value {
    if f.is_finite() && f.abs() < 9.2e18 {
        Value::TimeSpan(f.round() as i64)
    } else {
        Value::Null
    }
}

fn opt(v: Option<i64>, f: fn(i64) -> Value) -> Value {
    v.map(f).unwrap_or(Value::Null)
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(i) => Some(*i),
        _ => None,
    }
}

fn num_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        Value::Decimal(d) => f64::try_from(*d).ok(),
        _ => None,
    }
}

fn num_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::Long(i) => Some(Decimal::from(*i)),
        Value::Real(r) => Decimal::try_from(*r).ok(),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

fn numeric_arith(op: BinaryOp, l: &Value, r: &Value) -> Value {
    let (Some(lt), Some(rt)) = (l.ty(), r.ty()) else {
        return Value::Null;
    };
    if !lt.is_numeric() || !rt.is_numeric() {
        return Value::Null;
    }
    match promote(lt, rt) {
        Type::Int | Type::Long => {
            let (Some(a), Some(b)) = (int_of(l), int_of(r)) else {
                return Value::Null;
            };
            let v = match op {
                BinaryOp::Add => a.checked_add(b),
                BinaryOp::Sub => a.checked_sub(b),
                BinaryOp::Mul => a.checked_mul(b),
                BinaryOp::Div => a.checked_div(b),
                BinaryOp::Mod => a.checked_rem_euclid(b),
                _ => None,
            };
            match (v, promote(lt, rt)) {
                (Some(v), _) => Value::Long(v),
                (None, _) => Value::Null,
            }
        }
        Type::Real => {
            let (Some(a), Some(b)) = (num_f64(l), num_f64(r)) else {
                return Value::Null;
            };
            Value::Real(match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                BinaryOp::Div => a / b,
                BinaryOp::Mod => a.rem_euclid(b),
                _ => return Value::Null,
            })
        }
        _ => {
            let (Some(a), Some(b)) = (num_decimal(l), num_decimal(r)) else {
                return Value::Null;
            };
            let v = match op {
                BinaryOp::Add => a.checked_add(b),
                BinaryOp::Sub => a.checked_sub(b),
                BinaryOp::Mul => a.checked_mul(b),
                BinaryOp::Div => a.checked_div(b),
                BinaryOp::Mod => {
                    a.checked_rem(b)
                        .map(|m| if m.is_sign_negative() { m + b.abs() } else { m })
                }
                _ => None,
            };
            v.map(Value::Decimal).unwrap_or(Value::Null)
        }
    }
}

/// Result type of unary minus.
pub fn neg_type(t: &ArgInfo) -> Result<Type, String> {
    if t.ty.is_numeric() || matches!(t.ty, Type::TimeSpan | Type::Dynamic) {
        Ok(t.ty)
    } else {
        Err(format!("unary '-' cannot be applied to {}", t.ty))
    }
}

pub fn neg(v: &Value) -> Result<Value, String> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int(i) => Value::Int(i.wrapping_neg()),
        Value::Long(i) => Value::Long(i.wrapping_neg()),
        Value::Real(r) => Value::Real(-r),
        Value::Decimal(d) => Value::Decimal(-*d),
        Value::TimeSpan(t) => Value::TimeSpan(t.wrapping_neg()),
        Value::Dynamic(_) => match normalize(v).as_ref() {
            Value::Dynamic(_) => Value::Null,
            plain => to_dynamic(&neg(plain)?),
        },
        other => return Err(format!("unary '-' cannot be applied to {:?}", other.ty())),
    })
}

// ------------------------------------------------------ string predicates

#[inline]
fn is_term(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

thread_local! {
    static FOLD_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the ASCII-lowercased bytes of `h`, folded into a reused
/// per-thread buffer (no allocation once the buffer has grown).
#[inline]
fn with_folded<R>(h: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    FOLD_BUF.with(|b| match b.try_borrow_mut() {
        Ok(mut buf) => {
            buf.resize(h.len(), 0);
            for (d, s) in buf.iter_mut().zip(h) {
                *d = s.to_ascii_lowercase();
            }
            f(&buf)
        }
        Err(_) => f(&h.to_ascii_lowercase()),
    })
}

/// Whether the occurrence `h[i..i + n]` sits on the term boundaries the
/// `has` family needs (SEMANTICS.md §4.2).
#[inline]
fn boundary_ok(h: &[u8], i: usize, n: usize, need_left: bool, need_right: bool) -> bool {
    let left_ok = !need_left || i == 0 || h.get(i - 1).is_none_or(|b| !is_term(*b));
    let right_ok = !need_right || h.get(i + n).is_none_or(|b| !is_term(*b));
    left_ok && right_ok
}

/// A case-insensitive (ASCII) substring finder: scans for the rarest needle
/// byte in both cases with `memchr2`, then verifies. No allocation per call.
#[derive(Clone, Debug)]
struct CiFinder {
    /// ASCII-lowercased needle.
    needle: Box<[u8]>,
    /// Offset of the scan byte in the needle, and its two cases.
    at: usize,
    lo: u8,
    up: u8,
}

fn byte_rank(b: u8) -> u8 {
    // Lower is rarer. Rough frequencies of text/URL/command-line bytes.
    match b.to_ascii_lowercase() {
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b' ' => 200,
        b'h' | b'l' | b'd' | b'c' | b'u' | b'm' | b'.' | b'/' | b'0' | b'1' => 150,
        b'p' | b'g' | b'f' | b'w' | b'y' | b'b' | b'2' | b'-' | b'\\' | b':' => 100,
        b'v' | b'k' | b'_' | b'3'..=b'9' => 60,
        _ => 20,
    }
}

impl CiFinder {
    fn new(needle: &[u8]) -> CiFinder {
        let needle: Box<[u8]> = needle.to_ascii_lowercase().into();
        let mut at = 0;
        for (i, b) in needle.iter().enumerate() {
            if byte_rank(*b) < byte_rank(needle.get(at).copied().unwrap_or(0)) {
                at = i;
            }
        }
        let b = needle.get(at).copied().unwrap_or(0);
        CiFinder {
            lo: b.to_ascii_lowercase(),
            up: b.to_ascii_uppercase(),
            needle,
            at,
        }
    }

    /// First occurrence at or after `from`.
    #[inline]
    fn find_from(&self, h: &[u8], from: usize) -> Option<usize> {
        let n = self.needle.len();
        if n == 0 {
            return (from <= h.len()).then_some(from);
        }
        let mut scan = from + self.at;
        let last = h.len().checked_sub(n)? + self.at;
        while scan <= last {
            let window = h.get(scan..=last)?;
            let off = if self.lo == self.up {
                memchr::memchr(self.lo, window)?
            } else {
                memchr::memchr2(self.lo, self.up, window)?
            };
            let start = scan + off - self.at;
            if h.get(start..start + n)
                .is_some_and(|w| w.eq_ignore_ascii_case(&self.needle))
            {
                return Some(start);
            }
            scan += off + 1;
        }
        None
    }
}

#[derive(Clone, Debug)]
enum Searcher {
    Cs(Box<memmem::Finder<'static>>),
    Ci(CiFinder),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MatchKind {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
    Equals,
    Regex,
}

/// A string predicate with a constant needle, compiled once (case folding
/// done up front). `op` is one of the string operators (`has`,
/// `!contains_cs`, `startswith`, `=~`, `matches regex`...); `None` for other
/// operators (or an invalid regex).
#[derive(Clone, Debug)]
pub struct StringMatcher {
    kind: MatchKind,
    negate: bool,
    cs: bool,
    /// Needle (lowercased when case-insensitive).
    needle: Box<[u8]>,
    searcher: Searcher,
    /// First/last needle bytes are term characters (need a boundary).
    left_term: bool,
    right_term: bool,
    regex: Option<regex::Regex>,
}

fn op_kind(op: BinaryOp) -> Option<(MatchKind, bool, bool)> {
    use BinaryOp::*;
    use MatchKind as K;
    // (kind, negate, case-sensitive)
    Some(match op {
        Has => (K::Has, false, false),
        NotHas => (K::Has, true, false),
        HasCs => (K::Has, false, true),
        NotHasCs => (K::Has, true, true),
        HasPrefix => (K::HasPrefix, false, false),
        NotHasPrefix => (K::HasPrefix, true, false),
        HasPrefixCs => (K::HasPrefix, false, true),
        NotHasPrefixCs => (K::HasPrefix, true, true),
        HasSuffix => (K::HasSuffix, false, false),
        NotHasSuffix => (K::HasSuffix, true, false),
        HasSuffixCs => (K::HasSuffix, false, true),
        NotHasSuffixCs => (K::HasSuffix, true, true),
        Contains => (K::Contains, false, false),
        NotContains => (K::Contains, true, false),
        ContainsCs => (K::Contains, false, true),
        NotContainsCs => (K::Contains, true, true),
        StartsWith => (K::StartsWith, false, false),
        NotStartsWith => (K::StartsWith, true, false),
        StartsWithCs => (K::StartsWith, false, true),
        NotStartsWithCs => (K::StartsWith, true, true),
        EndsWith => (K::EndsWith, false, false),
        NotEndsWith => (K::EndsWith, true, false),
        EndsWithCs => (K::EndsWith, false, true),
        NotEndsWithCs => (K::EndsWith, true, true),
        EqCi => (K::Equals, false, false),
        NeCi => (K::Equals, true, false),
        MatchesRegex => (K::Regex, false, true),
        _ => return None,
    })
}

impl StringMatcher {
    pub fn new(op: BinaryOp, needle: &str) -> Option<StringMatcher> {
        let (kind, negate, cs) = op_kind(op)?;
        let regex = if kind == MatchKind::Regex {
            Some(cached_regex(needle).ok()?)
        } else {
            None
        };
        let nb = needle.as_bytes();
        // A needle without ASCII letters is the same in both cases: use the
        // (faster) exact searcher.
        let cs = cs || !nb.iter().any(|b| b.is_ascii_alphabetic());
        let stored: Box<[u8]> = if cs {
            nb.into()
        } else {
            nb.to_ascii_lowercase().into()
        };
        let searcher = if cs {
            Searcher::Cs(Box::new(memmem::Finder::new(nb).into_owned()))
        } else {
            Searcher::Ci(CiFinder::new(nb))
        };
        Some(StringMatcher {
            kind,
            negate,
            cs,
            left_term: nb.first().is_some_and(|b| is_term(*b)),
            right_term: nb.last().is_some_and(|b| is_term(*b)),
            needle: stored,
            searcher,
            regex,
        })
    }

    #[inline]
    fn eq_at(&self, w: &[u8]) -> bool {
        if self.cs {
            w == &*self.needle
        } else {
            w.eq_ignore_ascii_case(&self.needle)
        }
    }

    #[inline]
    fn find_from(&self, h: &[u8], from: usize) -> Option<usize> {
        match &self.searcher {
            Searcher::Cs(f) => f.find(h.get(from..)?).map(|i| i + from),
            Searcher::Ci(f) => f.find_from(h, from),
        }
    }

    /// Some occurrence of the needle in `h` satisfies the boundary rule.
    fn search(&self, h: &[u8], need_left: bool, need_right: bool) -> bool {
        let n = self.needle.len();
        let need_left = need_left && self.left_term;
        let need_right = need_right && self.right_term;
        let mut from = 0;
        while let Some(i) = self.find_from(h, from) {
            if boundary_ok(h, i, n, need_left, need_right) {
                return true;
            }
            from = i + 1;
        }
        false
    }

    /// Whether `hay` satisfies the predicate (negations included).
    pub fn matches(&self, hay: &str) -> bool {
        let h = hay.as_bytes();
        let n = self.needle.len();
        let hit = match self.kind {
            MatchKind::Has => self.search(h, true, true),
            MatchKind::HasPrefix => self.search(h, true, false),
            MatchKind::HasSuffix => self.search(h, false, true),
            MatchKind::Contains => self.search(h, false, false),
            MatchKind::StartsWith => h.get(..n).is_some_and(|w| self.eq_at(w)),
            MatchKind::EndsWith => h.len() >= n && self.eq_at(&h[h.len() - n..]),
            MatchKind::Equals => h.len() == n && self.eq_at(h),
            MatchKind::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(hay)),
        };
        hit != self.negate
    }
}

// ------------------------------------------------------ list membership

/// A fast non-cryptographic hasher for the `in` sets (the sets are built
/// from the query, so collision attacks through data do not apply).
#[derive(Clone, Copy, Debug, Default)]
struct FxBuild;

struct FxHasher(u64);

impl std::hash::BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Debug)]
enum ListKind {
    In { ci: bool },
    HasAny,
    HasAll,
}

/// The `has_any`/`has_all` needles: one Aho-Corasick automaton over all of
/// them (ASCII case-insensitive unless `_cs`), scanned once per haystack.
#[derive(Clone, Debug)]
struct Terms {
    ac: aho_corasick::AhoCorasick,
    /// Per pattern: needs a left / right term boundary.
    bounds: Vec<(bool, bool)>,
}

impl Terms {
    fn new(needles: &[String], ci: bool) -> Result<Terms, String> {
        let pats: Vec<&[u8]> = needles.iter().map(|n| n.as_bytes()).collect();
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(ci)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&pats)
            .map_err(|e| e.to_string())?;
        let bounds = pats
            .iter()
            .map(|p| {
                (
                    p.first().is_some_and(|b| is_term(*b)),
                    p.last().is_some_and(|b| is_term(*b)),
                )
            })
            .collect();
        Ok(Terms { ac, bounds })
    }

    /// Calls `hit(pattern)` for every occurrence on term boundaries until it
    /// returns true; returns whether it did.
    fn scan(&self, h: &[u8], mut hit: impl FnMut(usize) -> bool) -> bool {
        for m in self.ac.find_overlapping_iter(h) {
            let p = m.pattern().as_usize();
            let (l, r) = self.bounds.get(p).copied().unwrap_or((true, true));
            if boundary_ok(h, m.start(), m.end() - m.start(), l, r) && hit(p) {
                return true;
            }
        }
        false
    }
}

/// `in`/`!in`/`in~`/`!in~`/`has_any`/`has_all` against a flattened item
/// list (dynamic arrays already expanded to their elements, tabular operands
/// to their first column).
#[derive(Clone, Debug)]
pub struct ListMatcher {
    kind: ListKind,
    negate: bool,
    /// String items (lowercased for `in~`).
    strings: HashSet<Box<[u8]>, FxBuild>,
    /// Integer items (also integral reals).
    ints: HashSet<i64, FxBuild>,
    /// Everything else (reals, datetimes, guids, arrays...).
    others: Vec<Value>,
    /// `has_any`/`has_all` needles (`None` when the list is empty).
    terms: Option<Terms>,
    /// Number of distinct `has_any`/`has_all` needles.
    n_terms: usize,
}

impl ListMatcher {
    pub fn new(op: ListOp, items: &[Value]) -> Result<ListMatcher, String> {
        let (kind, negate, cs) = match op {
            ListOp::In => (ListKind::In { ci: false }, false, true),
            ListOp::NotIn => (ListKind::In { ci: false }, true, true),
            ListOp::InCi => (ListKind::In { ci: true }, false, false),
            ListOp::NotInCi => (ListKind::In { ci: true }, true, false),
            ListOp::HasAny => (ListKind::HasAny, false, false),
            ListOp::HasAll => (ListKind::HasAll, false, false),
            ListOp::HasAnyCs => (ListKind::HasAny, false, true),
        };
        let mut m = ListMatcher {
            kind,
            negate,
            strings: HashSet::default(),
            ints: HashSet::default(),
            others: Vec::new(),
            terms: None,
            n_terms: 0,
        };
        let mut flat = Vec::with_capacity(items.len());
        for it in items {
            flatten_into(it, &mut flat);
        }
        match m.kind {
            ListKind::In { ci } => {
                for it in flat {
                    match &it {
                        Value::Null => {}
                        Value::String(s) => {
                            let b: Box<[u8]> = if ci {
                                s.as_bytes().to_ascii_lowercase().into()
                            } else {
                                s.as_bytes().into()
                            };
                            m.strings.insert(b);
                        }
                        _ if ci => {
                            m.strings
                                .insert(to_string(&it).to_ascii_lowercase().into_bytes().into());
                        }
                        Value::Int(_) | Value::Long(_) => {
                            m.ints.insert(int_of(&it).unwrap_or(0));
                        }
                        _ => m.others.push(it),
                    }
                }
            }
            ListKind::HasAny | ListKind::HasAll => {
                let mut seen = HashSet::new();
                let mut needles = Vec::new();
                for it in flat {
                    if it.is_null() {
                        continue;
                    }
                    let s = to_string(&it);
                    let key = if cs {
                        s.clone()
                    } else {
                        s.to_ascii_lowercase()
                    };
                    if seen.insert(key) {
                        needles.push(s);
                    }
                }
                m.n_terms = needles.len();
                if !needles.is_empty() {
                    m.terms = Some(Terms::new(&needles, !cs)?);
                }
            }
        }
        Ok(m)
    }

    fn contains_str(&self, s: &[u8], ci: bool) -> bool {
        if ci && s.iter().any(u8::is_ascii_uppercase) {
            with_folded(s, |f| self.strings.contains(f))
        } else {
            self.strings.contains(s)
        }
    }

    /// `Bool` or `Null` (a null operand of `has_any`/`has_all`).
    pub fn eval(&self, v: &Value) -> Value {
        match &self.kind {
            ListKind::In { ci } => {
                let v = normalize(v);
                let found = match &*v {
                    Value::Null => false,
                    Value::String(s) => self.contains_str(s.as_bytes(), *ci),
                    other if *ci => self.contains_str(to_string(other).as_bytes(), true),
                    other => {
                        let by_int = match other {
                            Value::Int(_) | Value::Long(_) => {
                                self.ints.contains(&int_of(other).unwrap_or(0))
                            }
                            Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.2e18 => {
                                self.ints.contains(&(*r as i64))
                            }
                            _ => false,
                        };
                        by_int || self.others.iter().any(|o| values_equal(other, o))
                    }
                };
                Value::Bool(found != self.negate)
            }
            ListKind::HasAny => {
                if v.is_null() {
                    return Value::Null;
                }
                let s = str_of(v);
                Value::Bool(
                    self.terms
                        .as_ref()
                        .is_some_and(|t| t.scan(s.as_bytes(), |_| true)),
                )
            }
            ListKind::HasAll => {
                if v.is_null() {
                    return Value::Null;
                }
                let Some(t) = &self.terms else {
                    return Value::Bool(true);
                };
                let s = str_of(v);
                let all = if self.n_terms <= 64 {
                    // bitmask of the needles still missing: no allocation
                    let mut missing: u64 = if self.n_terms == 64 {
                        u64::MAX
                    } else {
                        (1u64 << self.n_terms) - 1
                    };
                    t.scan(s.as_bytes(), |p| {
                        missing &= !(1u64 << p.min(63));
                        missing == 0
                    })
                } else {
                    let mut found = vec![false; self.n_terms];
                    let mut left = self.n_terms;
                    t.scan(s.as_bytes(), |p| {
                        if let Some(f) = found.get_mut(p) {
                            if !*f {
                                *f = true;
                                left -= 1;
                            }
                        }
                        left == 0
                    })
                };
                Value::Bool(all)
            }
        }
    }
}

/// Dynamic arrays contribute their elements (recursively), dynamic scalars
/// their plain value.
fn flatten_into(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Dynamic(j) => match &**j {
            serde_json::Value::Array(a) => {
                for e in a {
                    match e {
                        serde_json::Value::Array(_) => {
                            flatten_into(&Value::dynamic(e.clone()), out)
                        }
                        other => out.push(json_to_value(other)),
                    }
                }
            }
            other => out.push(json_to_value(other)),
        },
        other => out.push(other.clone()),
    }
}

// ------------------------------------------------------------ conversion

fn parse_long_text(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    let f = parse_real_text(t)?;
    real_to_long(f)
}

fn parse_real_text(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" | "nan" => return Some(f64::NAN),
        "Infinity" | "+Infinity" | "inf" => return Some(f64::INFINITY),
        "-Infinity" | "-inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    t.parse::<f64>().ok()
}

fn real_to_long(f: f64) -> Option<i64> {
    let t = f.trunc();
    (-9.223_372_036_854_776e18..9.223_372_036_854_776e18)
        .contains(&t)
        .then_some(t as i64)
}

/// Kusto's conversion of a value to a type, as `tostring`/`toint`/... and
/// column coercion do (non-convertible -> null; to string never null).
pub fn cast(v: &Value, to: Type) -> Value {
    if to == Type::String {
        return Value::string(to_string(v));
    }
    if to == Type::Dynamic {
        return to_dynamic(v);
    }
    let v = normalize(v);
    let v = &*v;
    if v.ty() == Some(to) {
        return v.clone();
    }
    match to {
        Type::Bool => match v {
            Value::Int(_) | Value::Long(_) => Value::Bool(int_of(v) != Some(0)),
            Value::Real(r) if !r.is_nan() => Value::Bool(*r != 0.0),
            Value::Decimal(d) => Value::Bool(!d.is_zero()),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Value::Bool(true),
                "false" | "0" => Value::Bool(false),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        Type::Int | Type::Long => {
            let l = match v {
                Value::Bool(b) => Some(i64::from(*b)),
                Value::Int(_) | Value::Long(_) => int_of(v),
                Value::Real(r) => real_to_long(*r),
                Value::Decimal(d) => i64::try_from(d.trunc()).ok(),
                Value::String(s) => parse_long_text(s),
                Value::DateTime(t) | Value::TimeSpan(t) => Some(*t),
                _ => None,
            };
            match (to, l) {
                (Type::Int, Some(l)) => i32::try_from(l).map(Value::Int).unwrap_or(Value::Null),
                (_, Some(l)) => Value::Long(l),
                _ => Value::Null,
            }
        }
        Type::Real => match v {
            Value::Bool(b) => Value::Real(f64::from(u8::from(*b))),
            Value::String(s) => parse_real_text(s).map(Value::Real).unwrap_or(Value::Null),
            Value::DateTime(t) | Value::TimeSpan(t) => Value::Real(*t as f64),
            other => num_f64(other).map(Value::Real).unwrap_or(Value::Null),
        },
        Type::Decimal => match v {
            Value::Bool(b) => Value::Decimal(Decimal::from(u8::from(*b))),
            Value::String(s) => {
                let t = s.trim();
                t.parse::<Decimal>()
                    .ok()
                    .or_else(|| Decimal::from_scientific(t).ok())
                    .map(Value::Decimal)
                    .unwrap_or(Value::Null)
            }
            other => num_decimal(other)
                .map(Value::Decimal)
                .unwrap_or(Value::Null),
        },
        Type::DateTime => match v {
            Value::String(s) => time::parse_datetime(s)
                .map(Value::DateTime)
                .unwrap_or(Value::Null),
            Value::Long(_) | Value::Int(_) => int_of(v)
                .and_then(time::in_range)
                .map(Value::DateTime)
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Type::TimeSpan => match v {
            Value::String(s) => time::parse_timespan(s)
                .map(Value::TimeSpan)
                .unwrap_or(Value::Null),
            Value::Int(_) | Value::Long(_) => int_of(v).map(Value::TimeSpan).unwrap_or(Value::Null),
            Value::Real(r) => real_ticks(*r),
            _ => Value::Null,
        },
        Type::Guid => match v {
            Value::String(s) => uuid::Uuid::parse_str(s.trim())
                .map(Value::Guid)
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Type::String | Type::Dynamic => Value::Null,
    }
}

/// `tostring(v)`.
pub fn to_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Long(i) => i.to_string(),
        Value::Real(r) => real_to_string(*r),
        Value::Decimal(d) => d.normalize().to_string(),
        Value::String(s) => s.to_string(),
        Value::DateTime(t) => time::format_datetime(*t),
        Value::TimeSpan(t) => time::format_timespan(*t),
        Value::Guid(g) => g.hyphenated().to_string(),
        Value::Dynamic(j) => match &**j {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    }
}

/// Ordering of two non-null values of comparable types (numbers across
/// int/long/real/decimal, strings ordinal, datetimes, timespans, bools,
/// guids); `None` if either is null or they are not comparable.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let (a, b) = (normalize(a), normalize(b));
    use Value::*;
    match (&*a, &*b) {
        (Null, _) | (_, Null) => None,
        (Int(_) | Long(_), Int(_) | Long(_)) => Some(int_of(&a)?.cmp(&int_of(&b)?)),
        (Decimal(_), x) | (x, Decimal(_)) if x.ty().is_some_and(Type::is_numeric) => {
            Some(num_decimal(&a)?.cmp(&num_decimal(&b)?))
        }
        (x, y) if x.ty().is_some_and(Type::is_numeric) && y.ty().is_some_and(Type::is_numeric) => {
            num_f64(x)?.partial_cmp(&num_f64(y)?)
        }
        (String(x), String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (DateTime(x), DateTime(y)) | (TimeSpan(x), TimeSpan(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Guid(x), Guid(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The boolean value of a predicate result (`None` for null).
pub fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Dynamic(j) => j.as_bool(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    fn has(h: &str, n: &str) -> bool {
        StringMatcher::new(BinaryOp::Has, n).is_some_and(|m| m.matches(h))
    }

    /// SEMANTICS.md §4.2, every row of the table plus the corpus cases.
    #[test]
    fn has_family_table() {
        let cases: &[(&str, BinaryOp, &str, bool)] = &[
            ("assist.zoho.com", BinaryOp::Has, "assist.zoho.com", true),
            ("x.assist.zoho.com", BinaryOp::Has, "assist.zoho.com", true),
            ("https://assist.zoho.com/api/v2", BinaryOp::Has, "assist.zoho.com", true),
            ("assist.zoho.com:443", BinaryOp::Has, "assist.zoho.com", true),
            ("assist.zoho.community", BinaryOp::Has, "assist.zoho.com", false),
            ("myassist.zoho.com", BinaryOp::Has, "assist.zoho.com", false),
            ("static.zohocdn.com.evil.net", BinaryOp::Has, "static.zohocdn.com", true),
            ("ASSIST.ZOHO.COM", BinaryOp::Has, "assist.zoho.com", true),
            ("assist.zoho.co", BinaryOp::Has, "assist.zoho.com", false),
            ("zoho.com", BinaryOp::Has, "assist.zoho.com", false),
            ("ZohoAssist", BinaryOp::Has, "Zoho Assist", false),
            ("Zoho Assistant", BinaryOp::Has, "Zoho Assist", false),
            ("ZOHO ASSIST Agent", BinaryOp::Has, "Zoho Assist", true),
            ("My Zoho Assist", BinaryOp::Has, "Zoho Assist", true),
            ("powershell -encodedcommand x", BinaryOp::Has, "-enc", false),
            ("powershell -enc x", BinaryOp::Has, "-enc", true),
            ("powershell -EnC AAAA", BinaryOp::Has, "-enc", true),
            ("powershell.exe-enc", BinaryOp::Has, "-enc", true),
            ("powershell enc", BinaryOp::Has, "-enc", false),
            ("110.1.2.3", BinaryOp::Has, "10.1.2.3", false),
            ("10.1.2.3", BinaryOp::Has, "1.2.3", true),
            ("10.1.2.3", BinaryOp::Has, "10.1.2", true),
            ("src=10.1.2.3:445", BinaryOp::Has, "10.1.2.3", true),
            ("KustoExplorerQueryRun", BinaryOp::Has, "Explorer", false),
            ("KustoExplorerQueryRun", BinaryOp::Contains, "Explorer", true),
            ("Kusto: ad67d136-c1db-4f9f;KustoExplorerQueryRun", BinaryOp::Has, "c1db", true),
            ("Kusto: ad67d136-c1db-4f9f;KustoExplorerQueryRun", BinaryOp::Has, "kusto", true),
            ("Kusto: ad67d136-c1db-4f9f;KustoExplorerQueryRun", BinaryOp::Has, "kustoexplorerqueryrun", true),
            ("", BinaryOp::Has, "x", false),
            ("", BinaryOp::NotHas, "x", true),
            ("a b c", BinaryOp::Has, "b", true),
            ("North America", BinaryOp::Has, "america", true),
            ("Americas", BinaryOp::Has, "america", false),
            ("NorthAmerica", BinaryOp::Has, "america", false),
            ("america!", BinaryOp::Has, "america", true),
            ("North America", BinaryOp::Has, "North America", true),
            ("North America", BinaryOp::HasSuffix, "ica", true),
            ("NORTH CAROLINA", BinaryOp::HasSuffix, "th", true),
            ("North America", BinaryOp::HasPrefixCs, "Ame", true),
            ("North America", BinaryOp::HasPrefixCs, "ame", false),
            ("North America", BinaryOp::HasSuffixCs, "ica", true),
            ("North America", BinaryOp::HasSuffixCs, "icA", false),
            ("North America", BinaryOp::NotHasPrefixCs, "CA", true),
            ("North America", BinaryOp::HasPrefix, "nor", true),
            ("North America", BinaryOp::HasPrefix, "orth", false),
            ("North America", BinaryOp::NotHasSuffix, "ica", false),
            ("North America", BinaryOp::HasCs, "north", false),
            ("North America", BinaryOp::HasCs, "North", true),
            ("North America", BinaryOp::NotHasCs, "north", true),
            ("cmd /c whoami /all", BinaryOp::Has, "/all", true),
            ("cmd /c whoami /allx", BinaryOp::Has, "/all", false),
            ("net user /add", BinaryOp::Has, "/add", true),
            ("https://management.azure.com/subscriptions/0/resourcegroups/test.rg000001?api-version=2021", BinaryOp::Has, "resourcegroups/test.rg000001", true),
            ("https://management.azure.com/subscriptions/0/resourcegroups/test.rg000001?api-version=2021", BinaryOp::Has, "/resourcegroups/test.rg000001?", true),
            ("https://management.azure.com/subscriptions/0/resourcegroups/test.rg000001?api-version=2021", BinaryOp::Has, "resourcegroups/test.rg00000", false),
            // repeated candidate: first occurrence fails the boundary, second passes
            ("myzoho zoho", BinaryOp::Has, "zoho", true),
            ("aaa", BinaryOp::Has, "aa", false),
        ];
        for (h, op, n, want) in cases {
            let m = StringMatcher::new(*op, n);
            assert!(m.is_some(), "{op:?} {n:?}");
            let got = m.map(|m| m.matches(h));
            assert_eq!(got, Some(*want), "{h:?} {} {n:?}", op.text());
            // binary() agrees with the matcher
            assert_eq!(
                binary(*op, &s(h), &s(n)),
                Ok(Value::Bool(*want)),
                "binary {h:?} {} {n:?}",
                op.text()
            );
        }
    }

    /// SEMANTICS.md §4.3: contains/startswith/endswith/=~/regex.
    #[test]
    fn other_string_ops_table() {
        use BinaryOp::*;
        let cases: &[(&str, BinaryOp, &str, bool)] = &[
            ("FabriKam", Contains, "BRik", true),
            ("FabriKam", ContainsCs, "Kam", true),
            ("FabriKam", ContainsCs, "kam", false),
            ("Fabrikam", NotContains, "xyz", true),
            ("Fabrikam", NotContainsCs, "Kam", true),
            ("Fabrikam", StartsWith, "fab", true),
            ("Fabrikam", StartsWithCs, "fab", false),
            ("Fabrikam", EndsWith, "KAM", true),
            ("Fabrikam", EndsWithCs, "kam", true),
            ("Fabrikam", NotStartsWith, "kam", true),
            ("Fabrikam", NotEndsWith, "brik", true),
            ("Fabrikam", NotStartsWithCs, "fab", true),
            ("ab", StartsWith, "abc", false),
            ("ab", EndsWith, "abc", false),
            ("abc", EqCi, "ABC", true),
            ("aBc", NeCi, "ABC", false),
            ("aBc", NeCi, "xyz", true),
            ("KANSAS", MatchesRegex, "K.*S", true),
            ("LAKE SUPERIOR", MatchesRegex, "K.*S", true),
            ("kansas", MatchesRegex, "K.*S", false),
            ("Kansas City", MatchesRegex, "(?i)^kansas$", false),
            ("kansas", MatchesRegex, "(?i)^kansas$", true),
            ("xAbCx", Contains, "abc", true),
            ("xAbx", Contains, "abc", false),
            ("a", Contains, "", true),
        ];
        for (h, op, n, want) in cases {
            assert_eq!(
                binary(*op, &s(h), &s(n)),
                Ok(Value::Bool(*want)),
                "{h:?} {} {n:?}",
                op.text()
            );
        }
    }

    #[test]
    fn string_ops_on_other_types() {
        let d = Value::dynamic(serde_json::json!({"Command": "whoami /all"}));
        assert_eq!(
            binary(BinaryOp::Has, &d, &s("whoami")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            binary(BinaryOp::Has, &d, &s("command")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            binary(BinaryOp::Has, &Value::Long(443), &s("443")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            binary(BinaryOp::Has, &Value::Null, &s("x")),
            Ok(Value::Null)
        );
        assert_eq!(
            binary(BinaryOp::NotHas, &Value::Null, &s("x")),
            Ok(Value::Null)
        );
    }

    #[test]
    fn equality_family() {
        use BinaryOp::*;
        let cases = [
            (Eq, s("aBc"), s("aBc"), Value::Bool(true)),
            (Eq, s("abc"), s("ABC"), Value::Bool(false)),
            (Ne, s("abc"), s("ABC"), Value::Bool(true)),
            (Eq, Value::Null, Value::Null, Value::Null),
            (Ne, Value::Null, Value::Null, Value::Null),
            (Eq, Value::Null, Value::Long(1), Value::Bool(false)),
            (Ne, Value::Null, Value::Long(1), Value::Bool(true)),
            (Ne, Value::Int(5), Value::Long(5), Value::Bool(false)),
            (
                Eq,
                Value::Real(123.4),
                Value::Real(123.4),
                Value::Bool(true),
            ),
            (Eq, Value::Int(2), Value::Real(2.0), Value::Bool(true)),
            (Lt, Value::Null, Value::Long(1), Value::Null),
            (Lt, Value::Long(1), Value::Real(1.5), Value::Bool(true)),
            (
                Ge,
                Value::DateTime(5),
                Value::DateTime(5),
                Value::Bool(true),
            ),
            (
                Gt,
                Value::TimeSpan(5),
                Value::TimeSpan(6),
                Value::Bool(false),
            ),
            (Lt, s("B"), s("a"), Value::Bool(true)),
            (
                Gt,
                Value::dynamic(serde_json::json!(5)),
                Value::Long(3),
                Value::Bool(true),
            ),
            (
                Eq,
                Value::dynamic(serde_json::json!("x")),
                s("x"),
                Value::Bool(true),
            ),
            (Eq, Value::Bool(true), Value::Bool(true), Value::Bool(true)),
            (Eq, s("5"), Value::Long(5), Value::Bool(false)),
            (
                Eq,
                Value::Guid(uuid::Uuid::nil()),
                s("00000000-0000-0000-0000-000000000000"),
                Value::Bool(true),
            ),
            (
                Eq,
                Value::DateTime(time::UNIX_EPOCH),
                s("1970-01-01"),
                Value::Bool(true),
            ),
            (
                Ne,
                Value::DateTime(time::UNIX_EPOCH),
                s("garbage"),
                Value::Bool(true),
            ),
        ];
        for (op, l, r, want) in cases {
            assert_eq!(
                binary(op, &l, &r),
                Ok(want.clone()),
                "{l:?} {} {r:?}",
                op.text()
            );
        }
    }

    /// SEMANTICS.md §3 rule 6: three-valued logic.
    #[test]
    fn three_valued_logic() {
        let (t, f, n) = (Value::Bool(true), Value::Bool(false), Value::Null);
        let cases = [
            (BinaryOp::And, &n, &f, &f),
            (BinaryOp::And, &f, &n, &f),
            (BinaryOp::And, &n, &t, &n),
            (BinaryOp::And, &t, &t, &t),
            (BinaryOp::Or, &n, &t, &t),
            (BinaryOp::Or, &n, &f, &n),
            (BinaryOp::Or, &f, &f, &f),
        ];
        for (op, l, r, want) in cases {
            assert_eq!(
                binary(op, l, r).as_ref(),
                Ok(want),
                "{l:?} {} {r:?}",
                op.text()
            );
        }
    }

    /// SEMANTICS.md §5: `x between (a .. b)` is `x >= a and x <= b` (the
    /// executor composes it from these operators).
    #[test]
    fn between_table() {
        use crate::time::{HOUR, MINUTE};
        let between = |x: Value, lo: Value, hi: Value| {
            let ge = binary(BinaryOp::Ge, &x, &lo).unwrap_or(Value::Null);
            let le = binary(BinaryOp::Le, &x, &hi).unwrap_or(Value::Null);
            binary(BinaryOp::And, &ge, &le).unwrap_or(Value::Null)
        };
        let dt = |x: &str| Value::DateTime(time::parse_datetime(x).unwrap_or(0));
        let cases = [
            (
                Value::Long(50),
                Value::Long(50),
                Value::Long(55),
                Value::Bool(true),
            ),
            (
                Value::Long(55),
                Value::Long(50),
                Value::Long(55),
                Value::Bool(true),
            ),
            (
                Value::Long(56),
                Value::Long(50),
                Value::Long(55),
                Value::Bool(false),
            ),
            (
                Value::Real(1.5),
                Value::Real(1.0),
                Value::Real(1.5),
                Value::Bool(true),
            ),
            (
                Value::Real(1.5000001),
                Value::Real(1.0),
                Value::Real(1.5),
                Value::Bool(false),
            ),
            (
                Value::Long(2),
                Value::Real(1.5),
                Value::Real(2.5),
                Value::Bool(true),
            ),
            (
                Value::Long(5),
                Value::Long(10),
                Value::Long(1),
                Value::Bool(false),
            ),
            (
                Value::TimeSpan(90 * MINUTE),
                Value::TimeSpan(HOUR),
                Value::TimeSpan(2 * HOUR),
                Value::Bool(true),
            ),
            (Value::Null, Value::Long(0), Value::Long(5), Value::Null),
            (
                Value::Long(7),
                Value::Long(0),
                Value::Long(5),
                Value::Bool(false),
            ),
            (
                dt("2024-01-03"),
                dt("2024-01-01"),
                dt("2024-01-03"),
                Value::Bool(true),
            ),
            (
                dt("2024-01-03 00:00:00.0000001"),
                dt("2024-01-01"),
                dt("2024-01-03"),
                Value::Bool(false),
            ),
        ];
        for (x, lo, hi, want) in cases {
            assert_eq!(
                between(x.clone(), lo.clone(), hi.clone()),
                want,
                "{x:?} between ({lo:?} .. {hi:?})"
            );
        }
    }

    /// SEMANTICS.md §6-7: arithmetic and promotion.
    #[test]
    fn arithmetic_table() {
        use crate::time::{DAY, HOUR, MINUTE};
        use BinaryOp::*;
        let dt = |x: &str| Value::DateTime(time::parse_datetime(x).unwrap_or(0));
        let cases = [
            (Div, Value::Long(7), Value::Long(2), Value::Long(3)),
            (Div, Value::Real(7.0), Value::Long(2), Value::Real(3.5)),
            (Mod, Value::Long(14), Value::Long(12), Value::Long(2)),
            (Mod, Value::Long(-14), Value::Long(12), Value::Long(10)),
            (Mod, Value::Long(14), Value::Long(-12), Value::Long(2)),
            (Mod, Value::Long(-14), Value::Long(-12), Value::Long(10)),
            (Div, Value::Long(1), Value::Long(0), Value::Null),
            (Add, Value::Int(5), Value::Long(10), Value::Long(15)),
            (Add, Value::Int(5), Value::Int(10), Value::Long(15)),
            (
                Add,
                Value::dynamic(serde_json::json!(5)),
                Value::Long(1),
                Value::Long(6),
            ),
            (
                Add,
                Value::dynamic(serde_json::json!(5)),
                Value::dynamic(serde_json::json!(1)),
                Value::dynamic(serde_json::json!(6)),
            ),
            (
                Sub,
                dt("2024-01-02"),
                Value::dynamic(serde_json::json!("2024-01-01T00:00:00Z")),
                Value::TimeSpan(DAY),
            ),
            (
                Add,
                Value::dynamic(serde_json::json!("01:00:00")),
                Value::TimeSpan(HOUR),
                Value::TimeSpan(2 * HOUR),
            ),
            (Mul, Value::Null, Value::Long(10), Value::Null),
            (
                Add,
                dt("2024-01-01"),
                Value::TimeSpan(DAY),
                dt("2024-01-02"),
            ),
            (
                Sub,
                dt("2024-03-01"),
                dt("2024-02-01"),
                Value::TimeSpan(29 * DAY),
            ),
            (
                Div,
                Value::TimeSpan(DAY),
                Value::TimeSpan(HOUR),
                Value::Real(24.0),
            ),
            (
                Mul,
                Value::Long(2),
                Value::TimeSpan(HOUR),
                Value::TimeSpan(2 * HOUR),
            ),
            (
                Sub,
                dt("2024-01-01"),
                Value::TimeSpan(HOUR),
                dt("2023-12-31T23:00:00"),
            ),
            (
                Sub,
                dt("2024-01-01"),
                dt("2024-01-02"),
                Value::TimeSpan(-DAY),
            ),
            (
                Mul,
                Value::TimeSpan(HOUR),
                Value::Real(1.5),
                Value::TimeSpan(90 * MINUTE),
            ),
            (
                Div,
                Value::TimeSpan(HOUR),
                Value::Long(2),
                Value::TimeSpan(30 * MINUTE),
            ),
        ];
        for (op, l, r, want) in cases {
            assert_eq!(
                binary(op, &l, &r),
                Ok(want.clone()),
                "{l:?} {} {r:?}",
                op.text()
            );
        }
    }

    #[test]
    fn binary_types() {
        use BinaryOp::*;
        let a = |t| ArgInfo {
            ty: t,
            constant: None,
            type_of: None,
        };
        let cases = [
            (Add, Type::Int, Type::Long, Ok(Type::Long)),
            (Add, Type::Int, Type::Int, Ok(Type::Long)),
            (Div, Type::Int, Type::Int, Ok(Type::Long)),
            (Add, Type::Dynamic, Type::Long, Ok(Type::Long)),
            (Add, Type::Dynamic, Type::Int, Ok(Type::Long)),
            (Mul, Type::Dynamic, Type::Real, Ok(Type::Real)),
            (Add, Type::Dynamic, Type::Dynamic, Ok(Type::Dynamic)),
            (Add, Type::DateTime, Type::Dynamic, Ok(Type::DateTime)),
            (Sub, Type::DateTime, Type::Dynamic, Ok(Type::TimeSpan)),
            (Sub, Type::Dynamic, Type::DateTime, Ok(Type::TimeSpan)),
            (Add, Type::Dynamic, Type::TimeSpan, Ok(Type::TimeSpan)),
            (Eq, Type::String, Type::Long, Ok(Type::Bool)),
            (Eq, Type::Bool, Type::Long, Ok(Type::Bool)),
            (Add, Type::Long, Type::Real, Ok(Type::Real)),
            (Div, Type::Long, Type::Long, Ok(Type::Long)),
            (Sub, Type::DateTime, Type::DateTime, Ok(Type::TimeSpan)),
            (Add, Type::DateTime, Type::TimeSpan, Ok(Type::DateTime)),
            (Div, Type::TimeSpan, Type::TimeSpan, Ok(Type::Real)),
            (Mul, Type::Long, Type::TimeSpan, Ok(Type::TimeSpan)),
            (Eq, Type::Int, Type::Long, Ok(Type::Bool)),
            (Has, Type::Long, Type::String, Ok(Type::Bool)),
        ];
        for (op, l, r, want) in cases {
            assert_eq!(binary_type(op, &a(l), &a(r)), want, "{l} {} {r}", op.text());
        }
        assert!(binary_type(Add, &a(Type::String), &a(Type::Long)).is_err());
        assert!(binary_type(Lt, &a(Type::String), &a(Type::Long)).is_err());
        assert!(binary_type(Gt, &a(Type::TimeSpan), &a(Type::Long)).is_err());
        assert!(binary_type(Gt, &a(Type::DateTime), &a(Type::TimeSpan)).is_err());
        assert!(binary_type(Mul, &a(Type::Dynamic), &a(Type::TimeSpan)).is_err());
    }

    /// SEMANTICS.md §3 rule 5 and §4.2/4.3 list operators.
    #[test]
    fn list_matcher_table() {
        let strs = |xs: &[&str]| xs.iter().map(|x| s(x)).collect::<Vec<_>>();
        let ports = vec![Value::dynamic(serde_json::json!([22, 3389, 5985]))];
        let iocs = vec![Value::dynamic(serde_json::json!([
            "44d88612fea8a8f36de82e1278abb02f"
        ]))];
        let cases: Vec<(ListOp, Vec<Value>, Value, Value)> = vec![
            (
                ListOp::In,
                vec![Value::Long(1), Value::Long(2)],
                Value::Null,
                Value::Bool(false),
            ),
            (
                ListOp::NotIn,
                vec![Value::Long(1), Value::Long(2)],
                Value::Null,
                Value::Bool(true),
            ),
            (ListOp::In, ports.clone(), Value::Int(22), Value::Bool(true)),
            (ListOp::In, ports, Value::Int(80), Value::Bool(false)),
            (
                ListOp::In,
                strs(&["powershell.exe", "pwsh.exe"]),
                s("PowerShell.EXE"),
                Value::Bool(false),
            ),
            (
                ListOp::InCi,
                strs(&["powershell.exe", "pwsh.exe"]),
                s("PowerShell.EXE"),
                Value::Bool(true),
            ),
            (
                ListOp::NotInCi,
                strs(&["powershell.exe"]),
                s("PowerShell.EXE"),
                Value::Bool(false),
            ),
            (
                ListOp::In,
                iocs.clone(),
                s("44D88612FEA8A8F36DE82E1278ABB02F"),
                Value::Bool(false),
            ),
            (
                ListOp::InCi,
                iocs,
                s("44D88612FEA8A8F36DE82E1278ABB02F"),
                Value::Bool(true),
            ),
            (
                ListOp::In,
                strs(&["assist.zoho.com"]),
                s("x.assist.zoho.com"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAll,
                strs(&["south", "north"]),
                s("North and South America"),
                Value::Bool(true),
            ),
            (
                ListOp::HasAll,
                strs(&["south", "north"]),
                s("North America"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAny,
                strs(&["south", "north"]),
                s("North America"),
                Value::Bool(true),
            ),
            (
                ListOp::HasAny,
                strs(&["sout", "nort"]),
                s("North America"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAny,
                vec![Value::dynamic(serde_json::json!([]))],
                s("x"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAny,
                strs(&["evil.com"]),
                s("evil.com.au"),
                Value::Bool(true),
            ),
            (
                ListOp::HasAny,
                strs(&["evil.com"]),
                s("notevil.com"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAnyCs,
                strs(&["evil.com"]),
                s("EVIL.COM"),
                Value::Bool(false),
            ),
            (ListOp::HasAny, strs(&["x"]), Value::Null, Value::Null),
            (
                ListOp::In,
                vec![Value::Real(1.5)],
                Value::Real(1.5),
                Value::Bool(true),
            ),
        ];
        for (op, items, v, want) in cases {
            let m = ListMatcher::new(op, &items);
            assert!(m.is_ok(), "{op:?}");
            let got = m.map(|m| m.eval(&v)).unwrap_or(Value::Null);
            assert_eq!(got, want, "{v:?} {} {items:?}", op.text());
        }
    }

    /// SEMANTICS.md §7 and §11 conversions.
    #[test]
    fn cast_table() {
        let cases = [
            (s("123"), Type::Int, Value::Int(123)),
            (s("abc"), Type::Int, Value::Null),
            (Value::Real(2.7), Type::Int, Value::Int(2)),
            (s("9999999999"), Type::Long, Value::Long(9_999_999_999)),
            (s("1.5"), Type::Real, Value::Real(1.5)),
            (Value::Real(-2.9), Type::Long, Value::Long(-2)),
            (Value::Long(123), Type::String, s("123")),
            (Value::Null, Type::String, s("")),
            (Value::Null, Type::Long, Value::Null),
            (s("true"), Type::Bool, Value::Bool(true)),
            (s("yes"), Type::Bool, Value::Null),
            (s("not a date"), Type::DateTime, Value::Null),
            (
                s("2024-01-01"),
                Type::DateTime,
                Value::DateTime(time::parse_datetime("2024-01-01").unwrap_or(0)),
            ),
            (s("01:00:00"), Type::TimeSpan, Value::TimeSpan(time::HOUR)),
            (
                Value::dynamic(serde_json::json!(3)),
                Type::Int,
                Value::Int(3),
            ),
            (
                Value::dynamic(serde_json::json!("7")),
                Type::Long,
                Value::Long(7),
            ),
            (Value::Real(f64::NAN), Type::Long, Value::Null),
            (
                s("74be27de-1e4e-49d9-b579-fe0b331d3642"),
                Type::Guid,
                Value::Guid(
                    uuid::Uuid::parse_str("74be27de-1e4e-49d9-b579-fe0b331d3642")
                        .unwrap_or_default(),
                ),
            ),
        ];
        for (v, to, want) in cases {
            assert_eq!(cast(&v, to), want, "cast({v:?}, {to})");
        }
    }

    #[test]
    fn to_string_table() {
        let cases = [
            (Value::Null, ""),
            (Value::Bool(true), "true"),
            (Value::Long(-5), "-5"),
            (Value::Real(1.5), "1.5"),
            (Value::Real(2.0), "2"),
            (Value::Real(1e15), "1E+15"),
            (Value::Real(1.5e-5), "1.5E-05"),
            (Value::Real(123456.75), "123456.75"),
            (Value::Real(0.0001), "0.0001"),
            (Value::Real(f64::NAN), "NaN"),
            (Value::TimeSpan(time::HOUR), "01:00:00"),
            (Value::TimeSpan(time::SECOND), "00:00:01"),
            (Value::DateTime(time::UNIX_EPOCH), "1970-01-01T00:00:00Z"),
            (Value::dynamic(serde_json::json!("str")), "str"),
            (Value::dynamic(serde_json::json!([1, 2])), "[1,2]"),
            (
                Value::dynamic(serde_json::json!({"a": 1, "b": "x"})),
                "{\"a\":1,\"b\":\"x\"}",
            ),
            (Value::dynamic(serde_json::json!(5)), "5"),
        ];
        for (v, want) in cases {
            assert_eq!(to_string(&v), want, "to_string({v:?})");
        }
    }

    #[test]
    fn compare_and_neg() {
        assert_eq!(
            compare(&Value::Long(1), &Value::Real(0.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&s("a"), &s("B")), Some(Ordering::Greater));
        assert_eq!(compare(&Value::Null, &Value::Long(1)), None);
        assert_eq!(compare(&s("a"), &Value::Long(1)), None);
        assert_eq!(neg(&Value::TimeSpan(5)), Ok(Value::TimeSpan(-5)));
        assert_eq!(neg(&Value::Null), Ok(Value::Null));
        assert!(neg(&s("x")).is_err());
    }

    /// `has_any`/`has_all` through the automaton agree with one `has` per
    /// needle, also past 64 needles (the bitmask limit of `has_all`).
    #[test]
    fn list_terms_agree_with_single_has() {
        let hays = [
            "cmd /c whoami /all",
            "net user /add",
            "https://assist.zoho.com/x",
            "ASSIST.ZOHO.COM:443",
            "myassist.zoho.community",
            "t12 t13 t5",
            "",
        ];
        let mut needles: Vec<String> = (0..70).map(|i| format!("t{i}")).collect();
        needles.extend(["whoami", "/add", "assist.zoho.com", "/all", "-x"].map(String::from));
        let items: Vec<Value> = needles.iter().map(|n| s(n)).collect();
        for h in hays {
            let per: Vec<bool> = needles.iter().map(|n| has(h, n)).collect();
            let any = ListMatcher::new(ListOp::HasAny, &items).map(|m| m.eval(&s(h)));
            assert_eq!(
                any,
                Ok(Value::Bool(per.iter().any(|x| *x))),
                "{h:?} has_any"
            );
            let all = ListMatcher::new(ListOp::HasAll, &items).map(|m| m.eval(&s(h)));
            assert_eq!(
                all,
                Ok(Value::Bool(per.iter().all(|x| *x))),
                "{h:?} has_all"
            );
            let few = &items[..3];
            let per_few = per[..3].iter().all(|x| *x);
            let all_few = ListMatcher::new(ListOp::HasAll, few).map(|m| m.eval(&s(h)));
            assert_eq!(all_few, Ok(Value::Bool(per_few)), "{h:?} has_all (3)");
        }
        let all = ListMatcher::new(ListOp::HasAll, &[s("t12"), s("T13"), s("t5")])
            .map(|m| m.eval(&s("t12 t13 t5")));
        assert_eq!(all, Ok(Value::Bool(true)));
    }

    #[test]
    fn has_helper_agrees_with_contains_for_non_term_needles() {
        assert!(has("a.b", "."));
        assert!(!has("ab", "."));
    }
}
