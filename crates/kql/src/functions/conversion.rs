//! Conversion builtins: `tostring`, `toint`..., `parse_json`, `tohex`,
//! `gettype`. The conversion rules themselves live in [`super::ops::cast`].

use super::ops::{cast, to_dynamic};
use super::{arg, arg_i64};
use crate::value::{Type, Value};

type R = Result<Value, String>;

pub fn tostring(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::String))
}
pub fn toint(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::Int))
}
pub fn tolong(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::Long))
}
pub fn toreal(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::Real))
}
pub fn todecimal(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::Decimal))
}
pub fn todatetime(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::DateTime))
}
pub fn totimespan(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::TimeSpan))
}
pub fn tobool(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::Bool))
}
pub fn toguid(a: &[Value]) -> R {
    Ok(cast(arg(a, 0), Type::Guid))
}

/// Parses JSON text; `""` is null, invalid JSON is a dynamic string.
pub fn parse_json_text(s: &str) -> Value {
    if s.is_empty() {
        return Value::Null;
    }
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) => Value::dynamic(v),
        Err(_) => Value::dynamic(serde_json::Value::String(s.to_string())),
    }
}

pub fn parse_json(a: &[Value]) -> R {
    Ok(match arg(a, 0) {
        Value::String(s) => parse_json_text(s),
        other => to_dynamic(other),
    })
}

pub fn tohex(a: &[Value]) -> R {
    let v = arg(a, 0);
    let text = match v {
        Value::Int(i) => format!("{:x}", *i as u32),
        Value::Null => return Ok(Value::empty_string()),
        _ => match arg_i64(a, 0) {
            Some(l) => format!("{:x}", l as u64),
            None => return Ok(Value::empty_string()),
        },
    };
    let width = arg_i64(a, 1).unwrap_or(0).clamp(0, 64) as usize;
    Ok(Value::string(format!("{text:0>width$}")))
}

pub fn gettype(a: &[Value]) -> R {
    let v = arg(a, 0);
    let name = match v {
        Value::Null => "null",
        Value::Dynamic(j) => match &**j {
            serde_json::Value::Array(_) => "array",
            serde_json::Value::Object(_) => "dictionary",
            serde_json::Value::String(_) => "string",
            serde_json::Value::Bool(_) => "bool",
            serde_json::Value::Number(n) if n.is_f64() => "real",
            serde_json::Value::Number(_) => "long",
            serde_json::Value::Null => "null",
        },
        Value::Int(_) => "int",
        other => other.ty().map(Type::name).unwrap_or("null"),
    };
    Ok(Value::string(name))
}

/// `parse_version("1.2.3.4")`: up to four dot-separated parts of up to 8
/// digits each, as one comparable decimal (each part padded to 8 digits).
pub fn parse_version(a: &[Value]) -> R {
    let s = super::arg_str(a, 0);
    let parts: Vec<&str> = s.trim().split('.').collect();
    if parts.is_empty()
        || parts.len() > 4
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 8 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(Value::Null);
    }
    let mut digits = String::new();
    for i in 0..4 {
        let p = parts.get(i).copied().unwrap_or("0");
        digits.push_str(&format!("{p:0>8}"));
    }
    Ok(digits
        .trim_start_matches('0')
        .parse::<crate::value::Decimal>()
        .or_else(|_| "0".parse())
        .map(Value::Decimal)
        .unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::{check, j, s};
    use crate::value::Value;
    use serde_json::json;

    #[test]
    fn conversion_table() {
        check(&[
            ("toint", vec![s("123")], Value::Int(123)),
            ("toint", vec![s("abc")], Value::Null),
            ("toint", vec![Value::Real(2.7)], Value::Int(2)),
            ("tolong", vec![s("9999999999")], Value::Long(9_999_999_999)),
            ("todouble", vec![s("1.5")], Value::Real(1.5)),
            ("tostring", vec![Value::Long(123)], s("123")),
            ("tostring", vec![Value::Null], s("")),
            ("tolong", vec![Value::Real(-2.9)], Value::Long(-2)),
            ("toint", vec![j(json!(3))], Value::Int(3)),
            (
                "tostring",
                vec![j(json!({"a": 1, "b": "x"}))],
                s("{\"a\":1,\"b\":\"x\"}"),
            ),
            ("tostring", vec![j(json!([1, 2]))], s("[1,2]")),
            ("tostring", vec![j(json!("str"))], s("str")),
            ("tostring", vec![j(json!(5))], s("5")),
            ("parse_json", vec![s("{\"a\":1}")], j(json!({"a": 1}))),
            ("parse_json", vec![s("")], Value::Null),
            ("parse_json", vec![s("not json")], j(json!("not json"))),
            ("parse_json", vec![s("null")], Value::Null),
            ("todynamic", vec![s("[1,2]")], j(json!([1, 2]))),
            ("tohex", vec![Value::Long(256)], s("100")),
            ("tohex", vec![Value::Long(-256)], s("ffffffffffffff00")),
            (
                "tohex",
                vec![Value::Int(-256), Value::Long(8)],
                s("ffffff00"),
            ),
            (
                "tohex",
                vec![Value::Long(256), Value::Long(8)],
                s("00000100"),
            ),
            ("tohex", vec![Value::Long(256), Value::Long(2)], s("100")),
            ("gettype", vec![j(json!([1]))], s("array")),
            (
                "parse_version",
                vec![s("1.2.3.4")],
                Value::Decimal("1000000020000000300000004".parse().unwrap_or_default()),
            ),
            (
                "parse_version",
                vec![s("0.0.0.1")],
                Value::Decimal(1.into()),
            ),
            (
                "parse_version",
                vec![s("1.2")],
                Value::Decimal("1000000020000000000000000".parse().unwrap_or_default()),
            ),
            ("parse_version", vec![s("1.2.3.4.5")], Value::Null),
            ("parse_version", vec![s("1.x")], Value::Null),
            ("gettype", vec![Value::Long(1)], s("long")),
            ("tobool", vec![s("TRUE")], Value::Bool(true)),
            (
                "totimespan",
                vec![s("1.00:00:00")],
                Value::TimeSpan(crate::time::DAY),
            ),
        ]);
    }
}
