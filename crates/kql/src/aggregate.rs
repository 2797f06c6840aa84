//! Aggregation functions for `summarize`: [`AGGREGATES`] is the table.
//!
//! `arg_max`/`arg_min`/`take_any(*)` produce several output columns; the
//! planner handles their column lists and feeds the accumulator the value of
//! the key expression followed by the carried columns.

use crate::functions::ArgInfo;
use crate::value::{Type, Value};

/// How `summarize` names an unnamed aggregate column (before de-duplication
/// with `1`, `2`... suffixes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultName {
    /// Always this name (`count()` -> `count_`).
    Fixed(&'static str),
    /// Prefix + the name of the first argument's column, or + `_` when it is
    /// not a column (`min(Timestamp)` -> `min_Timestamp`, `make_set(x)` ->
    /// `set_x`).
    Prefix(&'static str),
    /// The first argument's column name (`take_any(x)` -> `x`).
    Column,
}

/// Per-group state.
pub trait Accumulator: Send {
    /// Feeds one row's evaluated arguments.
    fn update(&mut self, args: &[Value]);
    /// The final value(s): one for ordinary aggregates, several for
    /// `arg_max`-style ones.
    fn finish(&mut self) -> Vec<Value>;
    /// Approximate heap bytes held (for the memory bound).
    fn memory(&self) -> usize;
}

#[derive(Clone, Copy)]
pub struct AggregateDef {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: usize,
    pub default_name: DefaultName,
    /// The result type from the argument types.
    pub ret: fn(&[ArgInfo]) -> Result<Type, String>,
    /// A fresh accumulator. Receives the argument infos (constant arguments
    /// such as make_set's max size are in `constant`).
    pub new: fn(&[ArgInfo]) -> Box<dyn Accumulator>,
    pub doc: &'static str,
}

impl std::fmt::Debug for AggregateDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateDef")
            .field("name", &self.name)
            .finish()
    }
}

pub static AGGREGATES: &[AggregateDef] = &[];

pub fn lookup(name: &str) -> Option<&'static AggregateDef> {
    AGGREGATES.iter().find(|a| a.name == name)
}
