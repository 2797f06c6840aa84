//! Scalar evaluation of planned expressions over one row.

use super::EvalError;
use crate::ast::BinaryOp;
use crate::functions::ops::{self, ListMatcher};
use crate::plan::{ListItem, PExpr};
use crate::value::{Row, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A subquery's result.
#[derive(Debug, Clone)]
pub(crate) enum SubValue {
    Scalar(Value),
    Column(Vec<Value>),
}

/// What expressions see besides the row.
#[derive(Clone, Copy)]
pub(crate) struct Env<'a> {
    pub now: i64,
    pub subs: &'a [SubValue],
    pub lists: &'a [OnceLock<Result<Arc<ListMatcher>, String>>],
    /// Serialized input and the current index (row_number/prev/next).
    pub window: Option<(&'a [Row], usize)>,
    /// Running state of row_number(.., restart)/row_cumsum, by node address.
    pub state: Option<&'a RefCell<HashMap<usize, Value>>>,
}

impl Env<'_> {
    pub(crate) fn empty() -> Env<'static> {
        Env {
            now: 0,
            subs: &[],
            lists: &[],
            window: None,
            state: None,
        }
    }
}

fn and3(a: Option<bool>, b: Option<bool>) -> Value {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Value::Bool(false),
        (Some(true), Some(true)) => Value::Bool(true),
        _ => Value::Null,
    }
}

fn or3(a: Option<bool>, b: Option<bool>) -> Value {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Value::Bool(true),
        (Some(false), Some(false)) => Value::Bool(false),
        _ => Value::Null,
    }
}

/// The text a string predicate sees for a non-string value.
fn text_of(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        other => Some(std::borrow::Cow::Owned(ops::to_string(other))),
    }
}

fn member(v: &Value, key: &str) -> Value {
    match v {
        Value::Dynamic(j) => match j.as_ref() {
            serde_json::Value::Object(m) => m
                .get(key)
                .cloned()
                .map(Value::dynamic)
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

fn index(v: &Value, i: &Value) -> Value {
    let Value::Dynamic(j) = v else {
        return Value::Null;
    };
    let idx = match i {
        Value::Long(n) => *n,
        Value::Int(n) => i64::from(*n),
        Value::String(s) => return member(v, s),
        Value::Dynamic(d) => match d.as_ref() {
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(n) => n,
                None => return Value::Null,
            },
            serde_json::Value::String(s) => return member(v, s),
            _ => return Value::Null,
        },
        _ => return Value::Null,
    };
    match j.as_ref() {
        serde_json::Value::Array(a) => {
            let len = a.len() as i64;
            let k = if idx < 0 { len + idx } else { idx };
            if k < 0 {
                return Value::Null;
            }
            usize::try_from(k)
                .ok()
                .and_then(|k| a.get(k))
                .cloned()
                .map(Value::dynamic)
                .unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

fn fail(e: String, span: crate::span::Span) -> EvalError {
    EvalError::new(super::codes::RUNTIME, e, Some(span))
}

/// Collects list operand values (arrays flattened, tables' first column).
fn list_values(items: &[ListItem], row: &[Value], env: &Env) -> Result<Vec<Value>, EvalError> {
    let mut out = Vec::new();
    for it in items {
        match it {
            ListItem::Expr(p) => {
                let v = eval(p, row, env)?;
                crate::plan::flatten_items(Some(v), &mut out);
            }
            ListItem::Table(id) => match env.subs.get(*id) {
                Some(SubValue::Column(vals)) => {
                    crate::plan::flatten_items(vals.iter().cloned(), &mut out)
                }
                Some(SubValue::Scalar(v)) => out.push(v.clone()),
                None => {}
            },
        }
    }
    Ok(out)
}

/// Evaluates `e` over `row`.
pub(crate) fn eval(e: &PExpr, row: &[Value], env: &Env) -> Result<Value, EvalError> {
    Ok(match e {
        PExpr::Const(v) => v.clone(),
        PExpr::Col(i) => row.get(*i).cloned().unwrap_or_default(),
        PExpr::Now => Value::DateTime(env.now),
        PExpr::Sub(i) => match env.subs.get(*i) {
            Some(SubValue::Scalar(v)) => v.clone(),
            Some(SubValue::Column(vals)) => vals.first().cloned().unwrap_or_default(),
            None => Value::Null,
        },
        PExpr::Neg(x, span) => ops::neg(&eval(x, row, env)?).map_err(|m| fail(m, *span))?,
        PExpr::Binary { op, l, r, span } => {
            let a = eval(l, row, env)?;
            let b = eval(r, row, env)?;
            ops::binary(*op, &a, &b).map_err(|m| fail(m, *span))?
        }
        PExpr::And(l, r) => {
            let a = ops::truthy(&eval(l, row, env)?);
            if a == Some(false) {
                return Ok(Value::Bool(false));
            }
            and3(a, ops::truthy(&eval(r, row, env)?))
        }
        PExpr::Or(l, r) => {
            let a = ops::truthy(&eval(l, row, env)?);
            if a == Some(true) {
                return Ok(Value::Bool(true));
            }
            or3(a, ops::truthy(&eval(r, row, env)?))
        }
        PExpr::StrMatch { m, e, .. } => {
            let v = eval(e, row, env)?;
            match text_of(&v) {
                Some(t) => Value::Bool(m.matches(&t)),
                None => Value::Null,
            }
        }
        PExpr::Regex { re, e } => {
            let v = eval(e, row, env)?;
            match text_of(&v) {
                Some(t) => Value::Bool(re.is_match(&t)),
                None => Value::Null,
            }
        }
        PExpr::InList { m, e, .. } => m.eval(&eval(e, row, env)?),
        PExpr::InListDyn {
            op,
            e,
            items,
            cache,
            span,
        } => {
            let v = eval(e, row, env)?;
            if let Some(slot) = cache.and_then(|c| env.lists.get(c)) {
                let m = slot.get_or_init(|| {
                    let vals = list_values(items, &[], env).map_err(|e| e.message)?;
                    ListMatcher::new(*op, &vals).map(Arc::new)
                });
                match m {
                    Ok(m) => m.eval(&v),
                    Err(msg) => return Err(fail(msg.clone(), *span)),
                }
            } else {
                let vals = list_values(items, row, env)?;
                let m = ListMatcher::new(*op, &vals).map_err(|m| fail(m, *span))?;
                m.eval(&v)
            }
        }
        PExpr::Between {
            negated,
            e,
            lo,
            hi,
            span,
        } => {
            let v = eval(e, row, env)?;
            let l = eval(lo, row, env)?;
            let h = eval(hi, row, env)?;
            let ge = ops::binary(BinaryOp::Ge, &v, &l).map_err(|m| fail(m, *span))?;
            let le = ops::binary(BinaryOp::Le, &v, &h).map_err(|m| fail(m, *span))?;
            let r = and3(ops::truthy(&ge), ops::truthy(&le));
            match (negated, r) {
                (true, Value::Bool(b)) => Value::Bool(!b),
                (_, r) => r,
            }
        }
        PExpr::Call { f, args, span } => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, row, env)?);
            }
            (f.eval)(&vals).map_err(|m| fail(format!("{}(): {m}", f.name), *span))?
        }
        PExpr::Member { base, key } => member(&eval(base, row, env)?, key),
        PExpr::Index { base, index: i } => index(&eval(base, row, env)?, &eval(i, row, env)?),
        PExpr::Cast(x, t) => ops::cast(&eval(x, row, env)?, *t),
        PExpr::RowNumber { start, restart } => {
            let idx = env.window.map(|(_, i)| i).unwrap_or(0) as i64;
            match (restart, env.state) {
                (Some(r), Some(state)) => {
                    let key = e as *const PExpr as usize;
                    let restart_now = ops::truthy(&eval(r, row, env)?) == Some(true);
                    let prev = state.borrow().get(&key).cloned();
                    let v = match prev {
                        Some(Value::Long(p)) if !restart_now => p.saturating_add(1),
                        _ => *start,
                    };
                    state.borrow_mut().insert(key, Value::Long(v));
                    Value::Long(v)
                }
                _ => Value::Long(start.saturating_add(idx)),
            }
        }
        PExpr::RowCumsum { term, restart } => {
            let t = match eval(term, row, env)? {
                Value::Int(i) => Value::Long(i64::from(i)),
                other => other,
            };
            let Some(state) = env.state else {
                return Ok(t);
            };
            let key = e as *const PExpr as usize;
            let restart_now = match restart {
                Some(r) => ops::truthy(&eval(r, row, env)?) == Some(true),
                None => false,
            };
            let prev = state.borrow().get(&key).cloned();
            let v = match prev {
                Some(p) if !restart_now => {
                    if t.is_null() {
                        p
                    } else {
                        ops::binary(BinaryOp::Add, &p, &t).unwrap_or(p)
                    }
                }
                _ => t,
            };
            state.borrow_mut().insert(key, v.clone());
            v
        }
        PExpr::Prev {
            e,
            offset,
            default,
            forward,
        } => {
            let Some((rows, idx)) = env.window else {
                return eval(default, row, env);
            };
            let target = if *forward {
                idx.checked_add(*offset)
            } else {
                idx.checked_sub(*offset)
            };
            match target.and_then(|t| rows.get(t)) {
                Some(r) => eval(e, r, env)?,
                None => eval(default, row, env)?,
            }
        }
    })
}
