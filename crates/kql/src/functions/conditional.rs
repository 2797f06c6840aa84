//! Conditionals and null tests: `iff`, `case`, `coalesce`, `max_of`,
//! `min_of`, `isempty`/`isnull` and friends, `not`.

use super::ops::{cast, compare, truthy};
use super::{arg, unify, unify_lenient, ArgInfo};
use crate::value::{Type, Value};
use std::cmp::Ordering;

type R = Result<Value, String>;

pub fn iff_ret(a: &[ArgInfo]) -> Result<Type, String> {
    unify_lenient(a.iter().skip(1))
}

/// Promotes a numeric result to the type of its sibling branch (the planner
/// typed the call with the unified type; `int` vs `long` branches).
fn promote_like(v: &Value, other: &Value) -> Value {
    match (v, other) {
        (Value::Int(_), Value::Long(_)) => cast(v, Type::Long),
        (Value::Int(_) | Value::Long(_), Value::Real(_)) => cast(v, Type::Real),
        _ => v.clone(),
    }
}

pub fn iff(a: &[Value]) -> R {
    let (yes, no) = (arg(a, 1), arg(a, 2));
    Ok(if truthy(arg(a, 0)) == Some(true) {
        promote_like(yes, no)
    } else {
        promote_like(no, yes)
    })
}

pub fn case_ret(a: &[ArgInfo]) -> Result<Type, String> {
    if a.len() % 2 == 0 {
        return Err("case() needs predicate/value pairs and a final else value".into());
    }
    let values = a
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1 || *i == a.len() - 1)
        .map(|(_, x)| x);
    unify_lenient(values)
}

pub fn case(a: &[Value]) -> R {
    let n = a.len();
    let mut i = 0;
    while i + 1 < n {
        if truthy(arg(a, i)) == Some(true) {
            return Ok(arg(a, i + 1).clone());
        }
        i += 2;
    }
    Ok(arg(a, n.saturating_sub(1)).clone())
}

pub fn coalesce_ret(a: &[ArgInfo]) -> Result<Type, String> {
    unify(a)
}

pub fn coalesce(a: &[Value]) -> R {
    for v in a {
        if !v.is_empty() {
            return Ok(v.clone());
        }
    }
    Ok(a.last()
        .map(|v| Value::null_of(v.ty().unwrap_or(Type::Long)))
        .unwrap_or(Value::Null))
}

fn extreme(a: &[Value], want: Ordering) -> R {
    let mut best: Option<&Value> = None;
    let any_real = a.iter().any(|v| matches!(v, Value::Real(_)));
    let any_long = a.iter().any(|v| matches!(v, Value::Long(_)));
    for v in a.iter().filter(|v| !v.is_null()) {
        best = Some(match best {
            None => v,
            Some(b) if compare(v, b) == Some(want) => v,
            Some(b) => b,
        });
    }
    Ok(match best {
        None => Value::Null,
        Some(v) if any_real && matches!(v, Value::Int(_) | Value::Long(_)) => cast(v, Type::Real),
        Some(v) if any_long && matches!(v, Value::Int(_)) => cast(v, Type::Long),
        Some(v) => v.clone(),
    })
}

pub fn max_of(a: &[Value]) -> R {
    extreme(a, Ordering::Greater)
}

pub fn min_of(a: &[Value]) -> R {
    extreme(a, Ordering::Less)
}

pub fn isempty(a: &[Value]) -> R {
    Ok(Value::Bool(arg(a, 0).is_empty()))
}
pub fn isnotempty(a: &[Value]) -> R {
    Ok(Value::Bool(!arg(a, 0).is_empty()))
}
pub fn isnull(a: &[Value]) -> R {
    Ok(Value::Bool(arg(a, 0).is_null()))
}
pub fn isnotnull(a: &[Value]) -> R {
    Ok(Value::Bool(!arg(a, 0).is_null()))
}
pub fn not(a: &[Value]) -> R {
    Ok(match truthy(arg(a, 0)) {
        Some(b) => Value::Bool(!b),
        None => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::{check, j, s};
    use crate::functions::ArgInfo;
    use crate::value::{Type, Value};
    use serde_json::json;

    /// SEMANTICS.md §3 rules 2, 6, 8, 12, 13.
    #[test]
    fn conditional_table() {
        let (t, f, n) = (Value::Bool(true), Value::Bool(false), Value::Null);
        check(&[
            ("iff", vec![t.clone(), s("even"), s("odd")], s("even")),
            (
                "iff",
                vec![n.clone(), Value::Long(1), Value::Long(2)],
                Value::Long(2),
            ),
            (
                "iff",
                vec![f.clone(), Value::Int(1), Value::Long(2)],
                Value::Long(2),
            ),
            (
                "iff",
                vec![t.clone(), Value::Int(1), Value::Long(2)],
                Value::Long(1),
            ),
            (
                "iif",
                vec![f.clone(), Value::Long(1), Value::Long(-1)],
                Value::Long(-1),
            ),
            (
                "case",
                vec![f.clone(), s("Small"), t.clone(), s("Medium"), s("Large")],
                s("Medium"),
            ),
            (
                "case",
                vec![f.clone(), s("Small"), n.clone(), s("Medium"), s("Large")],
                s("Large"),
            ),
            ("coalesce", vec![s(""), s("x")], s("x")),
            (
                "coalesce",
                vec![Value::Null, Value::Long(7)],
                Value::Long(7),
            ),
            ("coalesce", vec![s(""), s("")], s("")),
            (
                "max_of",
                vec![Value::Long(1), Value::Null, Value::Long(3)],
                Value::Long(3),
            ),
            (
                "min_of",
                vec![Value::Long(1), Value::Null, Value::Long(3)],
                Value::Long(1),
            ),
            ("max_of", vec![Value::Null, Value::Null], Value::Null),
            (
                "max_of",
                vec![Value::Long(1), Value::Real(0.5)],
                Value::Real(1.0),
            ),
            ("isempty", vec![s("")], t.clone()),
            ("isempty", vec![n.clone()], t.clone()),
            ("isempty", vec![j(json!([]))], f.clone()),
            ("isnotempty", vec![Value::Long(0)], t.clone()),
            ("isnull", vec![s("")], f.clone()),
            ("isnull", vec![n.clone()], t.clone()),
            ("isnotnull", vec![Value::Long(0)], t.clone()),
            ("not", vec![n.clone()], n.clone()),
            ("not", vec![t.clone()], f.clone()),
        ]);
    }

    #[test]
    fn conditional_types() {
        let a = ArgInfo::of;
        assert_eq!(
            super::iff_ret(&[a(Type::Bool), a(Type::Long), a(Type::Long)]),
            Ok(Type::Long)
        );
        assert_eq!(
            super::iff_ret(&[a(Type::Bool), a(Type::Int), a(Type::Long)]),
            Ok(Type::Long)
        );
        assert_eq!(
            super::iff_ret(&[a(Type::Bool), a(Type::String), a(Type::Long)]),
            Ok(Type::Dynamic)
        );
        assert_eq!(
            super::iff_ret(&[a(Type::Bool), a(Type::Dynamic), a(Type::Long)]),
            Ok(Type::Long)
        );
        assert_eq!(
            super::iff_ret(&[a(Type::Bool), a(Type::Long), a(Type::Real)]),
            Ok(Type::Real)
        );
        assert!(super::coalesce_ret(&[a(Type::String), a(Type::Long)]).is_err());
        assert_eq!(
            super::coalesce_ret(&[a(Type::Long), a(Type::Real)]),
            Ok(Type::Real)
        );
        assert_eq!(
            super::case_ret(&[
                a(Type::Bool),
                a(Type::String),
                a(Type::Bool),
                a(Type::String),
                a(Type::String)
            ]),
            Ok(Type::String)
        );
        assert!(super::case_ret(&[a(Type::Bool), a(Type::String)]).is_err());
    }
}
