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

/// Follows a JSONPath of the forms `$.a.b`, `$['a']["b"]`, `$.a[0]`.
fn json_path<'a>(root: &'a J, path: &str) -> Option<&'a J> {
    let p = path.trim();
    let mut rest = p.strip_prefix('$').unwrap_or(p);
    let mut cur = root;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let (key, tail) = r.split_at(end);
            if !key.is_empty() {
                cur = cur.as_object()?.get(key)?;
            }
            rest = tail;
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let (inner, tail) = (r[..end].trim(), &r[end + 1..]);
            cur = if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|x| x.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
            {
                cur.as_object()?.get(q)?
            } else {
                let i: i64 = inner.parse().ok()?;
                let arr = cur.as_array()?;
                let idx = if i < 0 { i + arr.len() as i64 } else { i };
                arr.get(usize::try_from(idx).ok()?)?
            };
            rest = tail;
        } else {
            return None;
        }
    }
    Some(cur)
}

pub fn extract_json_ret(a: &[super::ArgInfo]) -> Result<crate::value::Type, String> {
    Ok(a.get(2)
        .and_then(|t| t.type_of)
        .unwrap_or(crate::value::Type::String))
}

/// `extract_json(path, json [, typeof(T)])`: the element at a JSONPath, as
/// a string (or cast to T); `""`/null when absent.
pub fn extract_json(a: &[Value]) -> R {
    let typed = if a.len() > 2 {
        crate::value::Type::from_name(&arg_str(a, 2))
    } else {
        None
    };
    let doc = match arg(a, 1) {
        Value::Dynamic(j) => Some((**j).clone()),
        Value::Null => None,
        other => serde_json::from_str::<J>(&str_of(other)).ok(),
    };
    let found = doc.as_ref().and_then(|d| json_path(d, &arg_str(a, 0)));
    let v = match found {
        None | Some(J::Null) => Value::Null,
        Some(j) => json_to_value(j),
    };
    Ok(match typed {
        None | Some(crate::value::Type::String) => Value::string(super::ops::to_string(&v)),
        Some(t) => super::ops::cast(&v, t),
    })
}

pub fn dynamic_to_json(a: &[Value]) -> R {
    Ok(Value::string(match arg(a, 0) {
        Value::Null => "null".to_string(),
        v => value_to_json(v).to_string(),
    }))
}

/// Longest array `range`/`repeat` build.
const MAX_ARRAY: usize = 1_048_576;

/// Fails when a range would have more than [`MAX_ARRAY`] elements (`steps`
/// is (stop - start) / step).
fn too_many(steps: i128) -> Result<(), String> {
    if steps >= MAX_ARRAY as i128 {
        Err(format!("range(): more than {MAX_ARRAY} elements"))
    } else {
        Ok(())
    }
}

/// `range(start, stop [, step])` as an array (numbers, or datetimes and
/// timespans with a timespan step).
pub fn range(a: &[Value]) -> R {
    let (start, stop) = (
        super::ops::normalize(arg(a, 0)),
        super::ops::normalize(arg(a, 1)),
    );
    let step = if a.len() > 2 {
        arg(a, 2).clone()
    } else {
        Value::Long(1)
    };
    let mut out = Vec::new();
    match (&*start, &*stop) {
        (Value::DateTime(s), Value::DateTime(e)) | (Value::TimeSpan(s), Value::TimeSpan(e)) => {
            let Some(d) = super::arg_ts(std::slice::from_ref(&step), 0).filter(|d| *d != 0) else {
                return Ok(Value::Null);
            };
            let is_dt = matches!(&*start, Value::DateTime(_));
            too_many((i128::from(*e) - i128::from(*s)) / i128::from(d))?;
            let mut t = *s;
            while (d > 0 && t <= *e) || (d < 0 && t >= *e) {
                if out.len() >= MAX_ARRAY {
                    return Err(format!("range(): more than {MAX_ARRAY} elements"));
                }
                let v = if is_dt {
                    Value::DateTime(t)
                } else {
                    Value::TimeSpan(t)
                };
                out.push(value_to_json(&v));
                match t.checked_add(d) {
                    Some(n) => t = n,
                    None => break,
                }
            }
        }
        (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_))
            if matches!(
                super::ops::normalize(&step).as_ref(),
                Value::Int(_) | Value::Long(_)
            ) =>
        {
            let (Some(s), Some(e), Some(d)) = (
                arg_i64(a, 0),
                arg_i64(a, 1),
                arg_i64(std::slice::from_ref(&step), 0),
            ) else {
                return Ok(Value::Null);
            };
            if d == 0 {
                return Ok(Value::Null);
            }
            too_many((i128::from(e) - i128::from(s)) / i128::from(d))?;
            let mut x = s;
            while (d > 0 && x <= e) || (d < 0 && x >= e) {
                if out.len() >= MAX_ARRAY {
                    return Err(format!("range(): more than {MAX_ARRAY} elements"));
                }
                out.push(J::from(x));
                match x.checked_add(d) {
                    Some(n) => x = n,
                    None => break,
                }
            }
        }
        _ => {
            let (Some(s), Some(e), Some(d)) = (
                super::arg_f64(a, 0),
                super::arg_f64(a, 1),
                super::arg_f64(std::slice::from_ref(&step), 0),
            ) else {
                return Ok(Value::Null);
            };
            if d == 0.0 || !d.is_finite() || !s.is_finite() || !e.is_finite() {
                return Ok(Value::Null);
            }
            let n = ((e - s) / d).floor();
            if n > MAX_ARRAY as f64 {
                return Err(format!("range(): more than {MAX_ARRAY} elements"));
            }
            let mut i = 0.0;
            loop {
                let x = s + i * d;
                if (d > 0.0 && x > e) || (d < 0.0 && x < e) {
                    break;
                }
                if out.len() >= MAX_ARRAY {
                    return Err(format!("range(): more than {MAX_ARRAY} elements"));
                }
                out.push(value_to_json(&Value::Real(x)));
                i += 1.0;
            }
        }
    }
    arr(out)
}

/// `repeat(value, count)`: an array of `count` copies.
pub fn repeat(a: &[Value]) -> R {
    let Some(n) = arg_i64(a, 1) else {
        return Ok(Value::Null);
    };
    let n = usize::try_from(n.max(0)).unwrap_or(0);
    if n > MAX_ARRAY {
        return Err(format!("repeat(): more than {MAX_ARRAY} elements"));
    }
    let j = value_to_json(arg(a, 0));
    arr(vec![j; n])
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
