//! Operator semantics on values: arithmetic, comparison, string predicates
//! (`has` family with Kusto's term rules), list membership, casts and
//! ordering. The evaluator calls these; the planner calls the `*_type`
//! functions. (Owned by the values work; signatures are the contract.)

use crate::ast::{BinaryOp, ListOp};
use crate::functions::ArgInfo;
use crate::value::{Type, Value};
use std::cmp::Ordering;

/// Result type of `l op r`, or why the operand types are not allowed.
pub fn binary_type(op: BinaryOp, l: &ArgInfo, r: &ArgInfo) -> Result<Type, String> {
    let _ = (op, l, r);
    Err("not implemented".into())
}

/// Evaluates `l op r` with Kusto's null rules (and/or three-valued, `==`
/// with one null operand is false, `!=` true, other comparisons null...).
pub fn binary(op: BinaryOp, l: &Value, r: &Value) -> Result<Value, String> {
    let _ = (op, l, r);
    Err("not implemented".into())
}

/// Result type of unary minus.
pub fn neg_type(t: &ArgInfo) -> Result<Type, String> {
    let _ = t;
    Err("not implemented".into())
}

pub fn neg(v: &Value) -> Result<Value, String> {
    let _ = v;
    Err("not implemented".into())
}

/// A string predicate with a constant needle, compiled once (case folding
/// done up front). `op` is one of the string operators (`has`,
/// `!contains_cs`, `startswith`, ...); `None` for other operators.
#[derive(Clone, Debug)]
pub struct StringMatcher {
    _private: (),
}

impl StringMatcher {
    pub fn new(op: BinaryOp, needle: &str) -> Option<StringMatcher> {
        let _ = (op, needle);
        None
    }

    /// Whether `hay` satisfies the predicate (negations included).
    pub fn matches(&self, hay: &str) -> bool {
        let _ = hay;
        false
    }
}

/// `in`/`!in`/`in~`/`!in~`/`has_any`/`has_all` against a flattened item
/// list (dynamic arrays already expanded to their elements, tabular operands
/// to their first column).
#[derive(Clone, Debug)]
pub struct ListMatcher {
    _private: (),
}

impl ListMatcher {
    pub fn new(op: ListOp, items: &[Value]) -> Result<ListMatcher, String> {
        let _ = (op, items);
        Err("not implemented".into())
    }

    /// `Bool` or `Null` (e.g. a null operand of `has_any`).
    pub fn eval(&self, v: &Value) -> Value {
        let _ = v;
        Value::Null
    }
}

/// Kusto's conversion of a value to a type, as `tostring`/`toint`/... and
/// column coercion do (non-convertible -> null; to string never null).
pub fn cast(v: &Value, to: Type) -> Value {
    let _ = (v, to);
    Value::Null
}

/// `tostring(v)`.
pub fn to_string(v: &Value) -> String {
    let _ = v;
    String::new()
}

/// Ordering of two non-null values of comparable types (numbers across
/// int/long/real/decimal, strings ordinal, datetimes, timespans, bools,
/// guids); `None` if either is null or they are not comparable.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let _ = (a, b);
    None
}

/// The boolean value of a predicate result (`None` for null).
pub fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}
