//! The syntax tree: syntax only, every node carries a [`Span`]. Names are not
//! resolved and types are not checked here (that is `plan`).
//!
//! Tabular and scalar expressions share one [`Expr`] type, as in Kusto's own
//! grammar: `T | where x > 1` is an [`ExprKind::Pipe`], `print`, `range`,
//! `datatable` and `union` are expressions that produce tables, and whether a
//! bare name is a table or a scalar is decided by the planner.

mod display;
mod expr;
mod query;

pub use expr::*;
pub use query::*;

pub use crate::span::Span;

/// An identifier (column, table, let name, function). `['x y']` and `x` with
/// the same text are the same identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    pub fn new(name: impl Into<String>, span: Span) -> Ident {
        Ident {
            name: name.into(),
            span,
        }
    }
}
