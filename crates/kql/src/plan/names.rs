//! Default names of unnamed columns, as Kusto.Language computes them
//! (checked with the kql-lint tool): `Column1`, `x1`, `d_a_b`, `print_0`,
//! `strlen_a`, aggregate prefixes.

use crate::ast::{Expr, ExprKind, Literal};

/// Functions whose unnamed result takes the name of their first argument
/// when that argument is a column or a path (`tostring(x)` -> `x`).
const FIRST_ARG_NAMED: &[&str] = &[
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "todecimal",
    "todatetime",
    "totimespan",
    "tobool",
    "toboolean",
    "toguid",
    "todynamic",
    "toobject",
    "parse_json",
    "bin",
    "bin_at",
    "bin_auto",
    "floor",
    "ceiling",
    "round",
    "abs",
    "startofday",
    "format_datetime",
    "split",
    "sqrt",
    "log",
    "exp",
    "pow",
    "tohex",
];

/// Functions named `<function>_<column>` (`strlen(a)` -> `strlen_a`).
const PREFIX_NAMED: &[&str] = &["strlen", "dcount_hll"];

/// The name an unnamed expression gets from its shape, if any.
pub(crate) fn expr_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(id) if !id.name.starts_with('$') => Some(id.name.clone()),
        ExprKind::Member { base, name } => {
            if matches!(&base.kind, ExprKind::Name(id) if id.name.starts_with('$')) {
                return Some(name.name.clone());
            }
            Some(format!("{}_{}", expr_name(base)?, name.name))
        }
        ExprKind::Index { base, index } => {
            let key = match &index.kind {
                ExprKind::Literal(Literal::String(s)) => s.clone(),
                ExprKind::Literal(Literal::Long(i)) => i.to_string(),
                ExprKind::Literal(Literal::Int(i)) => i.to_string(),
                _ => return None,
            };
            Some(format!("{}_{}", expr_name(base)?, key))
        }
        ExprKind::Call { name, args } => {
            let first = args.first()?;
            if FIRST_ARG_NAMED.contains(&name.name.as_str()) {
                expr_name(first)
            } else if PREFIX_NAMED.contains(&name.name.as_str()) {
                Some(format!("{}_{}", name.name, expr_name(first)?))
            } else {
                None
            }
        }
        ExprKind::Paren(inner) => expr_name(inner),
        _ => None,
    }
}

/// `base`, or `base1`, `base2`... the first one not taken.
pub(crate) fn unique_name(base: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}

/// `Column1`, `Column2`... the first one not taken.
pub(crate) fn column_name(taken: &dyn Fn(&str) -> bool) -> String {
    (1..)
        .map(|i| format!("Column{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| "Column".to_string())
}
