//! Azure clients: the only code that knows Azure URLs and JSON shapes.
//! `arm` (Sentinel incidents: wire types and a small client), `auth`
//! (tokens), `http` (shared client, retries, error mapping), `log_analytics` and `defender` (query APIs: wire types and one small
//! client each). Nothing here knows about rules, findings or the pipeline.

pub mod arm;
pub mod auth;
pub mod defender;
pub mod http;
pub mod log_analytics;

use kql::value::Decimal;
use kql::{Type, Value};

/// The KQL type of a column type name from either API: Log Analytics
/// (`bool`, `datetime`, `dynamic`, `int`, `long`, `real`, `string`, `guid`,
/// `decimal`, `timespan`) or Graph / Defender (.NET names: `Boolean`,
/// `DateTime`, `Object`, `Int32`, `Int64`, `Double`, `String`, `Guid`,
/// `Decimal`, `TimeSpan`). Case-insensitive; unknown names become `dynamic`
/// (the value is kept as JSON, nothing is lost).
pub fn column_type(name: &str) -> Type {
    match name.to_ascii_lowercase().as_str() {
        "bool" | "boolean" => Type::Bool,
        "datetime" | "date" => Type::DateTime,
        "int" | "int32" | "int16" | "sbyte" | "byte" => Type::Int,
        "long" | "int64" | "uint32" => Type::Long,
        "real" | "double" | "single" | "float" => Type::Real,
        "string" => Type::String,
        "guid" | "uniqueid" => Type::Guid,
        "decimal" => Type::Decimal,
        "timespan" | "time" => Type::TimeSpan,
        _ => Type::Dynamic,
    }
}

/// One cell as the APIs encode it (reference A.4): datetimes as ISO strings
/// (7 fractional digits), timespans as `[-][d.]hh:mm:ss[.fffffff]`,
/// decimals and dynamics as JSON strings (Defender may embed dynamics as
/// JSON), longs and ints as numbers, JSON `null` as null.
pub fn decode_value(ty: Type, v: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    if v.is_null() {
        return Ok(Value::Null);
    }
    let bad = || format!("{v} is not a valid {ty}");
    Ok(match ty {
        Type::Bool => match v {
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Bool(n.as_i64().ok_or_else(bad)? != 0),
            J::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        },
        Type::Int => {
            let n = match v {
                J::Number(n) => n.as_i64(),
                J::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(bad)?;
            Value::Int(i32::try_from(n).map_err(|_| bad())?)
        }
        Type::Long => match v {
            J::Number(n) => Value::Long(n.as_i64().ok_or_else(bad)?),
            J::String(s) => Value::Long(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        Type::Real => match v {
            J::Number(n) => Value::Real(n.as_f64().ok_or_else(bad)?),
            J::String(s) => Value::Real(match s.trim() {
                "NaN" => f64::NAN,
                "Infinity" | "+Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                t => t.parse().map_err(|_| bad())?,
            }),
            _ => return Err(bad()),
        },
        Type::Decimal => {
            let text = match v {
                J::String(s) => s.trim().to_string(),
                J::Number(n) => n.to_string(),
                _ => return Err(bad()),
            };
            let d = text
                .parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| bad())?;
            Value::Decimal(d)
        }
        Type::String => match v {
            J::String(s) => Value::string(s.as_str()),
            other => Value::string(other.to_string()),
        },
        Type::DateTime => match v {
            J::String(s) => Value::DateTime(kql::time::parse_datetime(s).ok_or_else(bad)?),
            _ => return Err(bad()),
        },
        Type::TimeSpan => match v {
            J::String(s) => Value::TimeSpan(kql::time::parse_timespan(s).ok_or_else(bad)?),
            J::Number(n) => Value::TimeSpan(n.as_i64().ok_or_else(bad)?),
            _ => return Err(bad()),
        },
        Type::Guid => match v {
            J::String(s) => Value::Guid(uuid::Uuid::parse_str(s.trim()).map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        Type::Dynamic => match v {
            // Serialized JSON; a string that is not JSON is a string value.
            J::String(s) => match serde_json::from_str::<J>(s) {
                Ok(parsed) => Value::dynamic(parsed),
                Err(_) => Value::dynamic(v.clone()),
            },
            other => Value::dynamic(other.clone()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_every_type() {
        let dt = kql::time::parse_datetime("2024-03-26T09:39:50.7688641Z");
        let cases: Vec<(&str, serde_json::Value, Option<Value>)> = vec![
            ("bool", json!(true), Some(Value::Bool(true))),
            ("Boolean", json!("False"), Some(Value::Bool(false))),
            ("int", json!(443), Some(Value::Int(443))),
            ("Int32", json!(5_000_000_000i64), None),
            ("long", json!(12), Some(Value::Long(12))),
            ("Int64", json!("12"), Some(Value::Long(12))),
            ("real", json!(1.5), Some(Value::Real(1.5))),
            (
                "Double",
                json!("Infinity"),
                Some(Value::Real(f64::INFINITY)),
            ),
            (
                "decimal",
                json!("1.10"),
                "1.10".parse().ok().map(Value::Decimal),
            ),
            ("string", json!(""), Some(Value::string(""))),
            ("String", json!("pc01"), Some(Value::string("pc01"))),
            (
                "datetime",
                json!("2024-03-26T09:39:50.7688641Z"),
                dt.map(Value::DateTime),
            ),
            ("DateTime", json!("nope"), None),
            (
                "timespan",
                json!("1.02:03:04.5000000"),
                kql::time::parse_timespan("1.02:03:04.5").map(Value::TimeSpan),
            ),
            (
                "guid",
                json!("74be27de-1e4e-49d9-b579-fe0b331d3642"),
                uuid::Uuid::parse_str("74be27de-1e4e-49d9-b579-fe0b331d3642")
                    .ok()
                    .map(Value::Guid),
            ),
            (
                "dynamic",
                json!("{\"Tls\":\"1.2\"}"),
                Some(Value::dynamic(json!({"Tls":"1.2"}))),
            ),
            (
                "Object",
                json!({"a":[1]}),
                Some(Value::dynamic(json!({"a":[1]}))),
            ),
            (
                "dynamic",
                json!("plain"),
                Some(Value::dynamic(json!("plain"))),
            ),
            ("long", json!(null), Some(Value::Null)),
            ("SomethingNew", json!(3), Some(Value::dynamic(json!(3)))),
        ];
        for (ty, cell, want) in cases {
            let got = decode_value(column_type(ty), &cell).ok();
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{ty} {cell}");
        }
    }
}
