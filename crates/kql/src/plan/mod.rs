//! Planner: AST + schemas -> Plan. (Owned by the execution work.)

use crate::ast::Query;
use crate::diag::Diagnostics;
use crate::table::Catalog;

#[derive(Debug, Clone)]
pub struct Plan {}

pub fn plan_query(_query: &Query, _catalog: &dyn Catalog) -> Result<Plan, Diagnostics> {
    Err(Diagnostics::default())
}
