//! Operator semantics on values: arithmetic, comparison, string predicates
//! (`has` family with Kusto's term rules), list membership, casts and
//! ordering. The evaluator calls these; the planner calls the `*_type`
//! functions. (Owned by the values work; signatures are the contract.)
//! No planning or row iteration lives here: only value-level semantics.

use crate::ast::BinaryOp;
use crate::functions::ArgInfo;
use crate::time;
use crate::value::{Decimal, Type, Value};
use std::borrow::Cow;
use std::cell::RefCell;

pub use super::matching::{ListMatcher, StringMatcher};
use std::cmp::Ordering;
use std::collections::HashMap;
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

pub(crate) fn int_of(v: &Value) -> Option<i64> {
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
}
