//! Scalar builtins, by family. [`BUILTINS`] is the one table to extend: the
//! planner looks functions up here (type checking via `ret`), the evaluator
//! calls `eval`, and the supported-functions list in the docs is generated
//! from it.
//!
//! Functions that need the planner's help are *not* here: `now`, `ago`
//! (need the query's fixed `now`), `toscalar`, `materialize` (tabular),
//! `row_number`, `prev`, `next` (window state), `iff`/`case`/`coalesce`
//! are here (plain values) — see `plan` for the special ones.

pub mod ops;

use crate::value::{Type, Value};

/// What the planner knows about one argument when checking a call.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgInfo {
    pub ty: Type,
    /// `Some` when the argument is a constant (literal or constant-folded);
    /// lets `ret` depend on e.g. a `typeof(long)` argument or a format.
    pub constant: Option<Value>,
    /// `Some(t)` for a `typeof(t)` argument (then `ty` is `String` and the
    /// value passed to `eval` is the type name as a string).
    pub type_of: Option<Type>,
}

/// The result type of a call, or a message saying what is wrong with the
/// arguments (the planner attaches the span).
pub type RetFn = fn(&[ArgInfo]) -> Result<Type, String>;

/// Evaluates a call. Arguments arrive already evaluated, typed as `ret` was
/// told (the planner inserts no implicit casts: a function receiving `Int`
/// where it expects `Long` must accept both). Errors are runtime errors
/// (e.g. an invalid regex); bad *data* gives null, as in Kusto.
pub type EvalFn = fn(&[Value]) -> Result<Value, String>;

#[derive(Clone, Copy)]
pub struct FunctionDef {
    pub name: &'static str,
    pub min_args: usize,
    /// `usize::MAX` for varargs.
    pub max_args: usize,
    pub ret: RetFn,
    pub eval: EvalFn,
    /// One line for the generated docs.
    pub doc: &'static str,
}

impl std::fmt::Debug for FunctionDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionDef")
            .field("name", &self.name)
            .finish()
    }
}

/// Every builtin scalar function, aliases as separate entries.
pub static BUILTINS: &[FunctionDef] = &[];

/// Looks up a builtin by exact (case-sensitive) name.
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    BUILTINS.iter().find(|f| f.name == name)
}
