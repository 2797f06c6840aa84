//! Builtins on dynamic arrays and property bags: `array_length`,
//! `pack_array`, `bag_pack`, set operations, slicing, `zip`...

use super::ops::{compare, json_to_value, str_of, value_to_json};
use super::{arg, arg_array, arg_i64, arg_str};
use crate::value::Value;
use serde_json::{Map, Value as J};
use std::cmp::Ordering;

type R = Result<Value, String>;

fn arr(v: Vec<J>) -> R {
    Ok(Value::Dynamic(std::sync::Arc::new(J::Array(v))))
}

pub fn array_length(a: &[Value]) -> R {
    Ok(match arg_array(a, 0) {
        Some(x) => Value::Long(x.len() as i64),
        None => Value::Null,
    })
}

pub fn pack_array(a: &[Value]) -> R {
    arr(a.iter().map(value_to_json).collect())
}

pub fn bag_pack_ret(a: &[super::ArgInfo]) -> Result<crate::value::Type, String> {
    if a.len() % 2 != 0 {
        return Err("bag_pack() needs key, value pairs (an even number of arguments)".into());
    }
    Ok(crate::value::Type::Dynamic)
}

pub fn bag_pack(a: &[Value]) -> R {
    if a.len() % 2 != 0 {
        return Err("bag_pack() needs key, value pairs".into());
    }
    let mut m = Map::new();
    for pair in a.chunks(2) {
        if let [k, v] = pair {
            m.insert(str_of(k).into_owned(), value_to_json(v));
        }
    }
    Ok(Value::dynamic(J::Object(m)))
}

/// Distinct elements in first-seen order.
fn push_distinct(out: &mut Vec<J>, seen: &mut std::collections::HashSet<String>, v: &J) {
    if seen.insert(v.to_string()) {
        out.push(v.clone());
    }
}

fn arrays(a: &[Value]) -> Option<Vec<&Vec<J>>> {
    (0..a.len()).map(|i| arg_array(a, i)).collect()
}

pub fn set_union(a: &[Value]) -> R {
    let Some(all) = arrays(a) else {
        return Ok(Value::Null);
    };
    let mut out = Vec::new();
    let mut seen = Default::default();
    for x in all.iter().flat_map(|v| v.iter()) {
        push_distinct(&mut out, &mut seen, x);
    }
    arr(out)
}

pub fn set_intersect(a: &[Value]) -> R {
    let Some(all) = arrays(a) else {
        return Ok(Value::Null);
    };
    let Some((first, rest)) = all.split_first() else {
        return arr(vec![]);
    };
    let mut out = Vec::new();
    let mut seen = Default::default();
    for x in first.iter() {
        if rest.iter().all(|r| r.contains(x)) {
            push_distinct(&mut out, &mut seen, x);
        }
    }
    arr(out)
}

pub fn set_difference(a: &[Value]) -> R {
    let Some(all) = arrays(a) else {
        return Ok(Value::Null);
    };
    let Some((first, rest)) = all.split_first() else {
        return arr(vec![]);
    };
    let mut out = Vec::new();
    let mut seen = Default::default();
    for x in first.iter() {
        if !rest.iter().any(|r| r.contains(x)) {
            push_distinct(&mut out, &mut seen, x);
        }
    }
    arr(out)
}

fn json_eq_value(j: &J, v: &Value) -> bool {
    let jv = json_to_value(j);
    match (&jv, v) {
        (Value::Null, _) | (_, Value::Null) => false,
        _ => super::ops::values_equal(&jv, v),
    }
}

pub fn set_has_element(a: &[Value]) -> R {
    Ok(match arg_array(a, 0) {
        Some(x) => Value::Bool(x.iter().any(|j| json_eq_value(j, arg(a, 1)))),
        None => Value::Null,
    })
}

pub fn array_index_of(a: &[Value]) -> R {
    Ok(match arg_array(a, 0) {
        Some(x) => Value::Long(
            x.iter()
                .position(|j| json_eq_value(j, arg(a, 1)))
                .map(|i| i as i64)
                .unwrap_or(-1),
        ),
        None => Value::Null,
    })
}

pub fn array_concat(a: &[Value]) -> R {
    let Some(all) = arrays(a) else {
        return Ok(Value::Null);
    };
    arr(all.into_iter().flat_map(|v| v.iter().cloned()).collect())
}

pub fn array_slice(a: &[Value]) -> R {
    let Some(x) = arg_array(a, 0) else {
        return Ok(Value::Null);
    };
    let n = x.len() as i64;
    let (Some(mut s), Some(mut e)) = (arg_i64(a, 1), arg_i64(a, 2)) else {
        return Ok(Value::Null);
    };
    if s < 0 {
        s += n;
    }
    if e < 0 {
        e += n;
    }
    let s = s.max(0);
    let e = e.min(n - 1);
    if s > e || s >= n {
        return arr(vec![]);
    }
    arr(x[s as usize..=e as usize].to_vec())
}

pub fn array_reverse(a: &[Value]) -> R {
    match arg_array(a, 0) {
        Some(x) => arr(x.iter().rev().cloned().collect()),
        None => Ok(Value::Null),
    }
}

fn sorted(a: &[Value], desc: bool) -> R {
    let Some(x) = arg_array(a, 0) else {
        return Ok(Value::Null);
    };
    let mut v: Vec<J> = x.clone();
    v.sort_by(|p, q| {
        let (pv, qv) = (json_to_value(p), json_to_value(q));
        match (pv.is_null(), qv.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                let o = compare(&pv, &qv).unwrap_or(Ordering::Equal);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            }
        }
    });
    arr(v)
}

pub fn array_sort_asc(a: &[Value]) -> R {
    sorted(a, false)
}
pub fn array_sort_desc(a: &[Value]) -> R {
    sorted(a, true)
}

pub fn array_sum(a: &[Value]) -> R {
    let Some(x) = arg_array(a, 0) else {
        return Ok(Value::Null);
    };
    Ok(Value::Real(x.iter().filter_map(J::as_f64).sum()))
}

pub fn bag_keys(a: &[Value]) -> R {
    match arg(a, 0) {
        Value::Dynamic(j) => match &**j {
            J::Object(m) => arr(m.keys().map(|k| J::String(k.clone())).collect()),
            _ => Ok(Value::Null),
        },
        _ => Ok(Value::Null),
    }
}

pub fn bag_has_key(a: &[Value]) -> R {
    match arg(a, 0) {
        Value::Dynamic(j) => match &**j {
            J::Object(m) => Ok(Value::Bool(m.contains_key(&*arg_str(a, 1)))),
            _ => Ok(Value::Null),
        },
        _ => Ok(Value::Null),
    }
}

pub fn bag_merge(a: &[Value]) -> R {
    let mut m = Map::new();
    for v in a {
        if let Value::Dynamic(j) = v {
            if let J::Object(o) = &**j {
                for (k, x) in o {
                    m.entry(k.clone()).or_insert_with(|| x.clone());
                }
            }
        }
    }
    Ok(Value::dynamic(J::Object(m)))
}

pub fn bag_remove_keys(a: &[Value]) -> R {
    let Value::Dynamic(j) = arg(a, 0) else {
        return Ok(Value::Null);
    };
    let J::Object(o) = &**j else {
        return Ok(Value::Null);
    };
    let keys: Vec<String> = arg_array(a, 1)
        .map(|k| {
            k.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut o = o.clone();
    for k in keys {
        o.remove(&k);
    }
    Ok(Value::dynamic(J::Object(o)))
}

pub fn zip(a: &[Value]) -> R {
    let Some(all) = arrays(a) else {
        return Ok(Value::Null);
    };
    let n = all.iter().map(|v| v.len()).max().unwrap_or(0);
    arr((0..n)
        .map(|i| {
            J::Array(
                all.iter()
                    .map(|v| v.get(i).cloned().unwrap_or(J::Null))
                    .collect(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::{check, j, s};
    use crate::value::Value;
    use serde_json::json;

    #[test]
    fn dynamic_table() {
        check(&[
            ("array_length", vec![j(json!([1, 2, 3]))], Value::Long(3)),
            ("array_length", vec![j(json!({"a": 1}))], Value::Null),
            ("array_length", vec![Value::Null], Value::Null),
            (
                "pack_array",
                vec![Value::Long(1), s("a"), Value::Null],
                j(json!([1, "a", null])),
            ),
            (
                "bag_pack",
                vec![s("k"), Value::Long(2), s("s"), s("x")],
                j(json!({"k": 2, "s": "x"})),
            ),
            ("pack", vec![s("k"), Value::Long(2)], j(json!({"k": 2}))),
            (
                "set_union",
                vec![j(json!([1, 2, 1])), j(json!([2, 4]))],
                j(json!([1, 2, 4])),
            ),
            (
                "set_intersect",
                vec![j(json!([1, 2, 3])), j(json!([4, 5]))],
                j(json!([])),
            ),
            (
                "set_intersect",
                vec![j(json!([1, 2, 3])), j(json!([3, 2]))],
                j(json!([2, 3])),
            ),
            (
                "set_difference",
                vec![j(json!([1, 2, 3])), j(json!([1, 2, 3]))],
                j(json!([])),
            ),
            (
                "set_difference",
                vec![j(json!([1, 2, 3])), j(json!([2]))],
                j(json!([1, 3])),
            ),
            (
                "set_has_element",
                vec![j(json!(["this", "is", "an", "example"])), s("example")],
                Value::Bool(true),
            ),
            (
                "set_has_element",
                vec![j(json!([1, 2])), Value::Int(2)],
                Value::Bool(true),
            ),
            (
                "array_concat",
                vec![j(json!([1, 2])), j(json!([3]))],
                j(json!([1, 2, 3])),
            ),
            (
                "array_slice",
                vec![j(json!([1, 2, 3])), Value::Long(1), Value::Long(2)],
                j(json!([2, 3])),
            ),
            (
                "array_slice",
                vec![j(json!([1, 2, 3, 4, 5])), Value::Long(2), Value::Long(-1)],
                j(json!([3, 4, 5])),
            ),
            (
                "array_slice",
                vec![j(json!([1, 2, 3, 4, 5])), Value::Long(-3), Value::Long(-2)],
                j(json!([3, 4])),
            ),
            (
                "array_slice",
                vec![j(json!([1, 2, 3])), Value::Long(5), Value::Long(9)],
                j(json!([])),
            ),
            (
                "array_index_of",
                vec![j(json!(["a", "b"])), s("b")],
                Value::Long(1),
            ),
            ("array_reverse", vec![j(json!([1, 2]))], j(json!([2, 1]))),
            (
                "array_sort_asc",
                vec![j(json!([3, null, 1]))],
                j(json!([1, 3, null])),
            ),
            (
                "array_sort_desc",
                vec![j(json!([3, null, 1]))],
                j(json!([3, 1, null])),
            ),
            (
                "bag_keys",
                vec![j(json!({"a": 1, "b": 2}))],
                j(json!(["a", "b"])),
            ),
            (
                "bag_has_key",
                vec![j(json!({"a": 1})), s("a")],
                Value::Bool(true),
            ),
            (
                "bag_merge",
                vec![j(json!({"a": 1})), j(json!({"a": 2, "b": 3}))],
                j(json!({"a": 1, "b": 3})),
            ),
            (
                "bag_remove_keys",
                vec![j(json!({"a": 1, "b": 2})), j(json!(["a"]))],
                j(json!({"b": 2})),
            ),
            (
                "zip",
                vec![j(json!([1, 2, 3])), j(json!(["a", "b"]))],
                j(json!([[1, "a"], [2, "b"], [3, null]])),
            ),
        ]);
    }
}
