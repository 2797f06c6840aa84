//! Name bindings made by `let` statements and function parameters: a
//! persistent list (cheap to clone, so functions capture the scope they
//! were defined in).

use super::{Node, PExpr};
use crate::ast::Lambda;
use crate::table::Schema;
use crate::value::Type;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) enum Binding {
    /// A scalar value (usually constant-folded).
    Scalar(PExpr, Type),
    /// A planned tabular expression.
    Table(Node, Schema),
    /// A user function with the scope it was defined in.
    Function(Arc<Lambda>, Scope),
    /// A `let` whose value failed to plan (already reported): uses of it
    /// fail quietly instead of adding follow-on errors.
    Failed { tabular: bool },
}

#[derive(Debug)]
struct Entry {
    name: String,
    binding: Binding,
    parent: Scope,
}

/// The visible `let` bindings, innermost last.
#[derive(Debug, Clone, Default)]
pub struct Scope(Option<Arc<Entry>>);

impl Scope {
    pub(crate) fn with(&self, name: impl Into<String>, binding: Binding) -> Scope {
        Scope(Some(Arc::new(Entry {
            name: name.into(),
            binding,
            parent: self.clone(),
        })))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Binding> {
        let mut cur = self.0.as_ref();
        while let Some(e) = cur {
            if e.name == name {
                return Some(&e.binding);
            }
            cur = e.parent.0.as_ref();
        }
        None
    }
}
