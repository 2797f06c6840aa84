//! Executor: Plan + Catalog -> Table. (Owned by the execution work.)

use crate::diag::Diagnostic;
use crate::plan::Plan;
use crate::span::Span;
use crate::table::{Catalog, Table};
use crate::EvalContext;

/// A runtime failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub code: &'static str,
    pub message: String,
    pub span: Option<Span>,
}

impl EvalError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::error(
            self.code,
            self.message.clone(),
            self.span.unwrap_or_default(),
        );
        if self.span.is_none() {
            d.labels.clear();
        }
        d
    }
}

pub fn execute(
    _plan: &Plan,
    _catalog: &dyn Catalog,
    _ctx: &EvalContext,
) -> Result<Table, EvalError> {
    Ok(Table::default())
}
