//! Pushdown into catalog scans: which columns each scan must decode
//! (projection) and which literal strings must appear in a raw row for it
//! to pass the `where` clauses right above the scan (prefilter).
//!
//! Both are optimizations that must never change results: unknown shapes
//! fall back to "all columns" and "no prefilter".

use super::{Node, PExpr};
use crate::ast::{BinaryOp, JoinKind, ListOp};
use crate::table::{Prefilter, Schema};
use crate::value::{Type, Value};
use std::collections::BTreeSet;

/// Needed output columns of a node: all, or a set of indices.
#[derive(Clone, Debug)]
enum Need {
    All,
    Some(BTreeSet<usize>),
}

impl Need {
    fn has(&self, i: usize) -> bool {
        match self {
            Need::All => true,
            Need::Some(s) => s.contains(&i),
        }
    }

    fn with(self, cols: impl IntoIterator<Item = usize>) -> Need {
        match self {
            Need::All => Need::All,
            Need::Some(mut s) => {
                s.extend(cols);
                Need::Some(s)
            }
        }
    }
}

fn expr_cols<'a>(exprs: impl IntoIterator<Item = &'a PExpr>) -> Vec<usize> {
    let mut out = Vec::new();
    for e in exprs {
        e.columns(&mut out);
    }
    out
}

/// Applies both pushdowns to a plan whose root outputs `schema`.
pub(crate) fn pushdown(node: &mut Node, _schema: &Schema) {
    prefilter(node);
    project(node, Need::All);
}

/// Same, for subqueries (all output columns needed).
pub(crate) fn pushdown_all(node: &mut Node, schema: &Schema) {
    pushdown(node, schema)
}

fn project(node: &mut Node, need: Need) {
    match node {
        Node::Scan {
            schema, columns, ..
        } => {
            *columns = match need {
                Need::All => (0..schema.len()).collect(),
                Need::Some(s) => s.into_iter().filter(|&i| i < schema.len()).collect(),
            };
        }
        Node::Values { .. } | Node::Print { .. } | Node::Range { .. } => {}
        Node::Filter { input, pred } => {
            let n = need.with(expr_cols([&*pred]));
            project(input, n)
        }
        Node::Project { input, exprs, .. } => {
            let used: Vec<&PExpr> = exprs
                .iter()
                .enumerate()
                .filter(|(i, _)| need.has(*i))
                .map(|(_, e)| e)
                .collect();
            project(input, Need::Some(expr_cols(used).into_iter().collect()))
        }
        Node::Summarize {
            input, keys, aggs, ..
        } => {
            let mut cols = expr_cols(keys.iter());
            for a in aggs.iter() {
                cols.extend(expr_cols(a.args.iter()));
            }
            project(input, Need::Some(cols.into_iter().collect()))
        }
        Node::Count { input } => project(input, Need::Some(BTreeSet::new())),
        Node::Take { input, .. } => project(input, need),
        Node::Sort { input, keys, .. } => {
            let n = need.with(expr_cols(keys.iter().map(|k| &k.expr)));
            project(input, n)
        }
        Node::Distinct { input, .. } => project(input, Need::All),
        Node::Union { inputs, .. } => {
            for i in inputs.iter_mut() {
                let n = match &need {
                    Need::All => Need::All,
                    Need::Some(_) => Need::Some(
                        i.mapping
                            .iter()
                            .enumerate()
                            .filter(|(_, &m)| need.has(m))
                            .map(|(j, _)| j)
                            .collect(),
                    ),
                };
                project(&mut i.node, n);
            }
        }
        Node::Join(j) => {
            let lw = j.left_fill.len();
            let (ln, rn) = match (&need, j.kind) {
                (Need::All, _) => (Need::All, Need::All),
                (_, JoinKind::LeftSemi | JoinKind::LeftAnti) => {
                    (need.clone(), Need::Some(BTreeSet::new()))
                }
                (_, JoinKind::RightSemi | JoinKind::RightAnti) => {
                    (Need::Some(BTreeSet::new()), need.clone())
                }
                _ => {
                    let left: BTreeSet<usize> = (0..lw).filter(|&i| need.has(i)).collect();
                    let right: BTreeSet<usize> = match &j.right_keep {
                        Some(keep) => keep
                            .iter()
                            .enumerate()
                            .filter(|(p, _)| need.has(lw + p))
                            .map(|(_, &r)| r)
                            .collect(),
                        None => (0..j.right_fill.len())
                            .filter(|&r| need.has(lw + r))
                            .collect(),
                    };
                    (Need::Some(left), Need::Some(right))
                }
            };
            let ln = ln.with(j.left_keys.iter().copied());
            let rn = rn.with(j.right_keys.iter().copied());
            project(&mut j.left, ln);
            project(&mut j.right, rn);
        }
        Node::MvExpand(m) => {
            let mut cols = expr_cols(m.items.iter().map(|(e, _, _)| e));
            if let Some(l) = &m.limit {
                cols.extend(expr_cols([l]));
            }
            let n = need.with(cols);
            project(&mut m.input, n)
        }
        Node::Parse(p) => {
            let n = need.with(expr_cols([&p.source]));
            project(&mut p.input, n)
        }
        Node::BagUnpack(b) => project(&mut b.input, Need::All),
        Node::Materialize { input, .. } => project(input, Need::All),
    }
}

fn children(node: &mut Node) -> Vec<&mut Node> {
    match node {
        Node::Scan { .. } | Node::Values { .. } | Node::Print { .. } | Node::Range { .. } => vec![],
        Node::Filter { input, .. }
        | Node::Project { input, .. }
        | Node::Summarize { input, .. }
        | Node::Count { input }
        | Node::Take { input, .. }
        | Node::Sort { input, .. }
        | Node::Distinct { input, .. }
        | Node::Materialize { input, .. } => vec![&mut **input],
        Node::Union { inputs, .. } => inputs.iter_mut().map(|i| &mut i.node).collect(),
        Node::Join(j) => vec![&mut j.left, &mut j.right],
        Node::MvExpand(m) => vec![&mut m.input],
        Node::Parse(p) => vec![&mut p.input],
        Node::BagUnpack(b) => vec![&mut b.input],
    }
}

fn prefilter(node: &mut Node) {
    if let Node::Filter { .. } = node {
        filter_chain(node, &mut Vec::new());
        return;
    }
    for c in children(node) {
        prefilter(c);
    }
}

/// Follows a chain of filters; if it ends in a scan, the scan gets the
/// literal requirements of all of them.
fn filter_chain(node: &mut Node, preds: &mut Vec<PExpr>) {
    match node {
        Node::Filter { input, pred } => {
            preds.push(pred.clone());
            filter_chain(input, preds)
        }
        Node::Scan {
            schema,
            prefilter: pf,
            ..
        } => {
            let mut req = Vec::new();
            for p in preds.iter() {
                requirements(p, schema, &mut req);
            }
            if !req.is_empty() {
                *pf = Some(Prefilter { required: req });
            }
        }
        other => prefilter(other),
    }
}

/// A needle usable on raw text: printable ASCII without quote or
/// backslash (those may be escaped differently in the file).
fn safe_needle(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

fn string_col(e: &PExpr, schema: &Schema) -> bool {
    matches!(e, PExpr::Col(i) if schema.columns.get(*i).is_some_and(|c| c.ty == Type::String))
}

/// Conjuncts of `p` that require literal text.
fn requirements(p: &PExpr, schema: &Schema, out: &mut Vec<Vec<String>>) {
    match p {
        PExpr::And(a, b) => {
            requirements(a, schema, out);
            requirements(b, schema, out);
        }
        PExpr::InList {
            e,
            op: ListOp::HasAll,
            items,
            ..
        } if string_col(e, schema) => {
            for v in items.iter() {
                if let Value::String(s) = v {
                    if safe_needle(s) {
                        out.push(vec![s.to_string()]);
                    }
                }
            }
        }
        other => {
            if let Some(alts) = alternatives(other, schema) {
                out.push(alts);
            }
        }
    }
}

/// Literal strings one of which must appear for `p` to be true.
fn alternatives(p: &PExpr, schema: &Schema) -> Option<Vec<String>> {
    match p {
        PExpr::StrMatch { e, op, needle, .. } if string_col(e, schema) => {
            let positive = matches!(
                op,
                BinaryOp::Has
                    | BinaryOp::HasCs
                    | BinaryOp::HasPrefix
                    | BinaryOp::HasPrefixCs
                    | BinaryOp::HasSuffix
                    | BinaryOp::HasSuffixCs
                    | BinaryOp::Contains
                    | BinaryOp::ContainsCs
                    | BinaryOp::StartsWith
                    | BinaryOp::StartsWithCs
                    | BinaryOp::EndsWith
                    | BinaryOp::EndsWithCs
                    | BinaryOp::Eq
                    | BinaryOp::EqCi
            );
            (positive && safe_needle(needle)).then(|| vec![needle.to_string()])
        }
        PExpr::Binary {
            op: BinaryOp::Eq | BinaryOp::EqCi,
            l,
            r,
            ..
        } => match (&**l, &**r) {
            (e, PExpr::Const(Value::String(s))) | (PExpr::Const(Value::String(s)), e)
                if string_col(e, schema) && safe_needle(s) =>
            {
                Some(vec![s.to_string()])
            }
            _ => None,
        },
        PExpr::InList { e, op, items, .. }
            if string_col(e, schema)
                && matches!(
                    op,
                    ListOp::In | ListOp::InCi | ListOp::HasAny | ListOp::HasAnyCs
                ) =>
        {
            let mut alts = Vec::new();
            for v in items.iter() {
                match v {
                    Value::String(s) if safe_needle(s) => alts.push(s.to_string()),
                    _ => return None,
                }
            }
            (!alts.is_empty()).then_some(alts)
        }
        PExpr::Or(a, b) => {
            let mut x = alternatives(a, schema)?;
            x.extend(alternatives(b, schema)?);
            Some(x)
        }
        _ => None,
    }
}
