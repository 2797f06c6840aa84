//! Kusto's scalar types and values.
//!
//! Representation choices (see `SEMANTICS.md` §2-3 in the design notes):
//! - `string` is never null: a missing string is `Value::String("")`.
//! - Other types use the untyped [`Value::Null`]; the column or expression
//!   type says which null it is.
//! - `datetime` and `timespan` are 100 ns ticks (`datetime` since
//!   0001-01-01T00:00:00Z), exactly as Kusto stores them.
//! - `dynamic` holds a JSON value; a dynamic null is `Value::Null`, never
//!   `Dynamic(serde_json::Value::Null)` (use [`Value::dynamic`]).

use std::fmt;
use std::sync::Arc;

pub use rust_decimal::Decimal;
pub use uuid::Uuid;

/// The scalar types of Kusto.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    String,
    DateTime,
    TimeSpan,
    Guid,
    Dynamic,
}

impl Type {
    pub const ALL: [Type; 10] = [
        Type::Bool,
        Type::Int,
        Type::Long,
        Type::Real,
        Type::Decimal,
        Type::String,
        Type::DateTime,
        Type::TimeSpan,
        Type::Guid,
        Type::Dynamic,
    ];

    /// The canonical Kusto name (`bool`, `long`, `datetime`...).
    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Long => "long",
            Type::Real => "real",
            Type::Decimal => "decimal",
            Type::String => "string",
            Type::DateTime => "datetime",
            Type::TimeSpan => "timespan",
            Type::Guid => "guid",
            Type::Dynamic => "dynamic",
        }
    }

    /// Parses a type name, accepting Kusto's aliases (`boolean`, `double`,
    /// `date`, `time`, `uniqueid`, `int32`, `int64`...).
    pub fn from_name(name: &str) -> Option<Type> {
        Some(match name {
            "bool" | "boolean" => Type::Bool,
            "int" | "int32" => Type::Int,
            "long" | "int64" => Type::Long,
            "real" | "double" => Type::Real,
            "decimal" => Type::Decimal,
            "string" => Type::String,
            "datetime" | "date" => Type::DateTime,
            "timespan" | "time" => Type::TimeSpan,
            "guid" | "uuid" | "uniqueid" => Type::Guid,
            "dynamic" => Type::Dynamic,
            _ => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Long | Type::Real | Type::Decimal)
    }

    pub fn is_integer(self) -> bool {
        matches!(self, Type::Int | Type::Long)
    }

    /// The `_type` suffix used when `union` splits same-named columns of
    /// different types (`x_long`, `x_int`).
    pub fn suffix(self) -> &'static str {
        self.name()
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One scalar value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Real(f64),
    Decimal(Decimal),
    String(Arc<str>),
    /// Ticks (100 ns) since 0001-01-01T00:00:00Z.
    DateTime(i64),
    /// Ticks (100 ns).
    TimeSpan(i64),
    Guid(Uuid),
    /// Never holds a top-level JSON null (that is `Value::Null`).
    Dynamic(Arc<serde_json::Value>),
}

impl Value {
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    pub fn empty_string() -> Value {
        Value::String(Arc::from(""))
    }

    /// Wraps a JSON value, mapping JSON null to `Value::Null`.
    pub fn dynamic(v: serde_json::Value) -> Value {
        if v.is_null() {
            Value::Null
        } else {
            Value::Dynamic(Arc::new(v))
        }
    }

    /// The null (or, for strings, empty) value of a type.
    pub fn null_of(ty: Type) -> Value {
        match ty {
            Type::String => Value::empty_string(),
            _ => Value::Null,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Kusto's `isempty`: null of any type, or the empty string.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }
    }

    /// The type of a non-null value (`None` for `Null`).
    pub fn ty(&self) -> Option<Type> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Long(_) => Type::Long,
            Value::Real(_) => Type::Real,
            Value::Decimal(_) => Type::Decimal,
            Value::String(_) => Type::String,
            Value::DateTime(_) => Type::DateTime,
            Value::TimeSpan(_) => Type::TimeSpan,
            Value::Guid(_) => Type::Guid,
            Value::Dynamic(_) => Type::Dynamic,
        })
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Structural equality used for grouping, `distinct` and tests: nulls are
/// equal to each other here (Kusto's `==` operator is *not* this; it lives in
/// the evaluator). Reals compare bitwise-normalized so NaN groups with NaN.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Long(a), Value::Long(b)) => a == b,
            (Value::Real(a), Value::Real(b)) => a.to_bits() == b.to_bits() || a == b,
            (Value::Decimal(a), Value::Decimal(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            (Value::TimeSpan(a), Value::TimeSpan(b)) => a == b,
            (Value::Guid(a), Value::Guid(b)) => a == b,
            (Value::Dynamic(a), Value::Dynamic(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Long(i) => i.hash(state),
            Value::Real(r) => {
                // -0.0 == 0.0 must hash alike; NaNs hash alike.
                let r = if *r == 0.0 { 0.0 } else { *r };
                if r.is_nan() {
                    u64::MAX.hash(state)
                } else {
                    r.to_bits().hash(state)
                }
            }
            Value::Decimal(d) => d.normalize().hash(state),
            Value::String(s) => s.hash(state),
            Value::DateTime(t) | Value::TimeSpan(t) => t.hash(state),
            Value::Guid(g) => g.hash(state),
            Value::Dynamic(d) => d.to_string().hash(state),
        }
    }
}

/// One row: values in schema order.
pub type Row = Vec<Value>;
