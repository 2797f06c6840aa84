//! An offline engine for KQL, the Kusto Query Language.
//!
//! Stages: text -> [`parse`] (lexer + parser, [`ast`]) -> [`plan()`]
//! (names, types, lowering) -> [`run`] (execution over a [`Catalog`]).
//! The crate is pure: no async, no network, no filesystem, no clock — the
//! caller supplies tables through [`Catalog`] and `now` through
//! [`EvalContext`].

pub mod aggregate;
pub mod ast;
pub mod diag;
pub mod exec;
pub mod functions;
pub mod input;
mod lexer;
pub mod output;
pub mod parser;
pub mod plan;
pub mod span;
pub mod table;
pub mod time;
mod token;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use span::Span;
pub use table::{Catalog, Column, MemoryCatalog, Schema, Table};
pub use value::{Row, Type, Value};

/// Bounds that keep untrusted queries from exhausting the machine.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum nesting depth of the syntax tree (parser recursion).
    pub max_depth: usize,
    /// Maximum rows in any materialized intermediate or final table.
    pub max_rows: usize,
    /// Maximum estimated bytes held by operators that buffer (sort,
    /// summarize groups, join build side, materialize).
    pub max_memory: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 128,
            max_rows: 1_000_000,
            max_memory: 1 << 30,
        }
    }
}

/// What a query runs with.
#[derive(Clone, Debug)]
pub struct EvalContext {
    /// `now()` for the whole query, in ticks since 0001-01-01.
    pub now: i64,
    pub limits: Limits,
}

impl EvalContext {
    pub fn new(now: i64) -> EvalContext {
        EvalContext {
            now,
            limits: Limits::default(),
        }
    }
}

/// Any failure of [`query`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Syntax errors (all of them, not just the first).
    #[error("syntax error: {0}")]
    Parse(Diagnostics),
    /// Unknown names, type errors, unsupported constructs.
    #[error("semantic error: {0}")]
    Plan(Diagnostics),
    /// Failures while running: bad input data, a bound hit, a runtime error.
    #[error("{0}")]
    Eval(#[from] exec::EvalError),
}

impl Error {
    /// Every problem as diagnostics (runtime errors become one diagnostic).
    pub fn diagnostics(&self) -> Diagnostics {
        match self {
            Error::Parse(d) | Error::Plan(d) => d.clone(),
            Error::Eval(e) => Diagnostics(vec![e.to_diagnostic()]),
        }
    }
}

/// Parses a whole query text. Collects every syntax error it can recover
/// from.
pub fn parse(text: &str) -> Result<ast::Query, Diagnostics> {
    parser::parse_query(text, &Limits::default())
}

/// Resolves names and checks types against the catalog's schemas.
pub fn plan(query: &ast::Query, catalog: &dyn Catalog) -> Result<plan::Plan, Diagnostics> {
    plan::plan_query(query, catalog)
}

/// Runs a plan.
pub fn run(
    plan: &plan::Plan,
    catalog: &dyn Catalog,
    ctx: &EvalContext,
) -> Result<Table, exec::EvalError> {
    exec::execute(plan, catalog, ctx)
}

/// `s` as a KQL string literal: `"..."` with `\\`, `\"`, `\n`, `\r`, `\t` and
/// other control characters escaped, so the value can be placed in query
/// text built by a program and reads back as exactly `s` (the printer of
/// [`ast`] writes string literals the same way). Use it for every value that
/// comes from outside (an HTTP caller's device name): never splice raw text.
///
/// ```
/// let q = format!("T | where DeviceName =~ {}", kql::quote_string("a\"b|c"));
/// assert_eq!(q, r#"T | where DeviceName =~ "a\"b|c""#);
/// assert!(kql::parse(&q).is_ok());
/// ```
pub fn quote_string(s: &str) -> String {
    ast::Literal::String(s.to_string()).to_string()
}

/// Parse, plan and run in one call.
pub fn query(text: &str, catalog: &dyn Catalog, ctx: &EvalContext) -> Result<Table, Error> {
    let q = parser::parse_query(text, &ctx.limits).map_err(Error::Parse)?;
    let p = plan::plan_query(&q, catalog).map_err(Error::Plan)?;
    Ok(exec::execute(&p, catalog, ctx)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile values read back as exactly themselves, as one literal.
    #[test]
    fn quote_string_round_trips_hostile_values() {
        for value in [
            "",
            "plain-host.contoso.com",
            "a\"b",
            "a'b",
            "back\\slash\\",
            "\\\"",
            "line\nbreak\r\n",
            "tab\there",
            "x\" | take 1 //",
            "x\"; drop table T; //",
            "// comment",
            "| where 1 == 1",
            "nul\u{0}bell\u{7}esc\u{1b}del\u{7f}",
            "unicode: ünïcødé ✓ 𝔘 \u{202e}rtl \u{2028}sep",
            "@\"verbatim\"",
            "```fence```",
            "{{ }} $left ['x']",
        ] {
            let lit = quote_string(value);
            let text = format!("print x = {lit}");
            let q = parse(&text).unwrap_or_else(|d| panic!("{value:?}: {text}: {d}"));
            let catalog = MemoryCatalog::new();
            let t = query(&text, &catalog, &EvalContext::new(0))
                .unwrap_or_else(|e| panic!("{value:?}: {text}: {e}"));
            assert_eq!(
                t.rows,
                vec![vec![Value::String(value.into())]],
                "{value:?} via {text}"
            );
            assert_eq!(q.statements.len(), 1, "{value:?} via {text}");
            assert!(!lit.contains('\n') && !lit.contains('\r'), "{lit}");
        }
    }
}
