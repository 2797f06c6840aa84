//! Parser: tokens -> AST. (Owned by the syntax work.)

use crate::ast::Query;
use crate::diag::Diagnostics;
use crate::Limits;

pub fn parse_query(_text: &str, _limits: &Limits) -> Result<Query, Diagnostics> {
    Err(Diagnostics::default())
}
