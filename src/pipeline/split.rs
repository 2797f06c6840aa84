//! Splitting a rule's query at its final `summarize` (DESIGN.md "One
//! hunt"): the *head* (everything before it) runs at the source; the *tail*
//! (the summarize and every operator after it) runs in the embedded engine
//! over the head's rows once exclusions have removed some.
//!
//! Works on the AST from [`kql::parse`]; no I/O.

use kql::ast::{
    Expr, ExprKind, Ident, LetValue, NamedExpr, Operator, OperatorKind, Query, Statement,
    StatementKind,
};
use kql::Span;

/// The name of the head's rows in the tail's catalog.
pub const ROWS_TABLE: &str = "RmmhuntRows";

/// A query cut at its final top-level `summarize`.
#[derive(Debug, Clone)]
pub struct Split {
    /// `let`/`set` statements of the query, in order.
    pub lets: Vec<Statement>,
    /// The pipeline before the summarize.
    pub head: Expr,
    /// The summarize and what follows it, in order.
    pub tail: Vec<Operator>,
}

/// Cuts `query` at the last `summarize` of its final statement's pipeline.
/// `None` when that pipeline has no summarize (the rule is then filtered
/// row by row).
pub fn split(query: &Query) -> Option<Split> {
    let last = query
        .statements
        .iter()
        .rposition(|s| matches!(s.kind, StatementKind::Expr(_)))?;
    let StatementKind::Expr(expr) = &query.statements.get(last)?.kind else {
        return None;
    };
    let (source, ops) = unwind(expr);
    let k = ops
        .iter()
        .rposition(|o| matches!(o.kind, OperatorKind::Summarize { .. }))?;
    let head = ops
        .iter()
        .take(k)
        .fold(source.clone(), |input, op| pipe(input, (*op).clone()));
    let lets = query
        .statements
        .iter()
        .take(last)
        .filter(|s| !matches!(s.kind, StatementKind::Expr(_)))
        .cloned()
        .collect();
    Some(Split {
        lets,
        head,
        tail: ops.iter().skip(k).map(|o| (*o).clone()).collect(),
    })
}

/// `(source, [op1, op2, ...])` of `source | op1 | op2 ...`.
fn unwind(e: &Expr) -> (&Expr, Vec<&Operator>) {
    let mut ops = Vec::new();
    let mut cur = e;
    while let ExprKind::Pipe { input, op } = &cur.kind {
        ops.push(op.as_ref());
        cur = input;
    }
    ops.reverse();
    (cur, ops)
}

fn pipe(input: Expr, op: Operator) -> Expr {
    let span = input.span.to(op.span);
    Expr::new(
        ExprKind::Pipe {
            input: Box::new(input),
            op: Box::new(op),
        },
        span,
    )
}

fn name(n: &str) -> Expr {
    Expr::new(
        ExprKind::Name(Ident::new(n, Span::default())),
        Span::default(),
    )
}

/// `query` with `op` piped onto its final pipeline (the lets kept).
pub fn piped(query: &Query, op: Operator) -> Query {
    let mut q = query.clone();
    if let Some(s) = q
        .statements
        .iter_mut()
        .rev()
        .find(|s| matches!(s.kind, StatementKind::Expr(_)))
    {
        if let StatementKind::Expr(e) = &mut s.kind {
            *e = pipe(e.clone(), op);
        }
    }
    q
}

/// `query | take 0`: its output schema, with no rows.
pub fn with_take_zero(query: &Query) -> Query {
    piped(query, take_zero())
}

fn take_zero() -> Operator {
    Operator {
        kind: OperatorKind::Take(Expr::new(
            ExprKind::Literal(kql::ast::Literal::Long(0)),
            Span::default(),
        )),
        span: Span::default(),
    }
}

impl Split {
    /// Adds `op` at the end of the head (before the `project` of
    /// [`Split::head_query`]): a filter the source applies.
    pub fn push_head(&mut self, op: Operator) {
        self.head = pipe(self.head.clone(), op);
    }

    /// Names the tail's summarize reads (columns, and possibly `let`
    /// names: the caller intersects with the head's columns). `None` when
    /// it reads `*` (every column).
    pub fn summarize_names(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let first = self.tail.first()?;
        if let OperatorKind::Summarize { aggregates, by } = &first.kind {
            for ne in aggregates.iter().chain(by) {
                if !names(&ne.expr, &mut out) {
                    return None;
                }
            }
        }
        Some(out)
    }

    /// The head as a query: the lets, then the head pipeline, then a
    /// `project` of `columns` when there are any.
    pub fn head_query(&self, columns: &[String]) -> Query {
        let mut head = self.head.clone();
        if !columns.is_empty() {
            let items = columns
                .iter()
                .map(|c| NamedExpr {
                    names: Vec::new(),
                    expr: name(c),
                    span: Span::default(),
                })
                .collect();
            head = pipe(
                head,
                Operator {
                    kind: OperatorKind::Project(items),
                    span: Span::default(),
                },
            );
        }
        self.query_with(head, &self.lets)
    }

    /// The head with `| take 0`: its output schema, with no rows.
    pub fn head_schema_query(&self) -> Query {
        let head = pipe(self.head.clone(), take_zero());
        self.query_with(head, &self.lets)
    }

    /// The tail over [`ROWS_TABLE`], with the lets it needs (transitively).
    pub fn tail_query(&self) -> Query {
        let expr = self
            .tail
            .iter()
            .fold(name(ROWS_TABLE), |input, op| pipe(input, op.clone()));
        let mut wanted = Vec::new();
        for op in &self.tail {
            for e in operator_exprs(&op.kind) {
                names(e, &mut wanted);
            }
        }
        // walk the lets backwards: a let is kept when something kept after it names it
        let mut keep = vec![false; self.lets.len()];
        for (i, s) in self.lets.iter().enumerate().rev() {
            if let StatementKind::Let { name, value } = &s.kind {
                if wanted.contains(&name.name) {
                    keep[i] = true;
                    match value {
                        LetValue::Expr(e) => {
                            names(e, &mut wanted);
                        }
                        LetValue::Function(l) => {
                            for st in &l.body {
                                statement_names(st, &mut wanted);
                            }
                        }
                    }
                }
            }
        }
        let lets: Vec<Statement> = self
            .lets
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(s, _)| s.clone())
            .collect();
        self.query_with(expr, &lets)
    }

    fn query_with(&self, expr: Expr, lets: &[Statement]) -> Query {
        let mut statements = lets.to_vec();
        statements.push(Statement {
            kind: StatementKind::Expr(expr),
            span: Span::default(),
        });
        Query {
            statements,
            span: Span::default(),
        }
    }
}

fn statement_names(s: &Statement, out: &mut Vec<String>) {
    match &s.kind {
        StatementKind::Let { value, .. } => match value {
            LetValue::Expr(e) => {
                names(e, out);
            }
            LetValue::Function(l) => {
                for st in &l.body {
                    statement_names(st, out);
                }
            }
        },
        StatementKind::Set { value, .. } => {
            if let Some(e) = value {
                names(e, out);
            }
        }
        StatementKind::Expr(e) => {
            names(e, out);
        }
    }
}

/// The expressions an operator holds.
fn named(v: &[NamedExpr]) -> Vec<&Expr> {
    v.iter().map(|n| &n.expr).collect()
}

fn operator_exprs(op: &OperatorKind) -> Vec<&Expr> {
    match op {
        OperatorKind::Where(e) | OperatorKind::Take(e) => vec![e],
        OperatorKind::Extend(v) | OperatorKind::Project(v) | OperatorKind::Serialize(v) => named(v),
        OperatorKind::Summarize { aggregates, by } => {
            let mut v = named(aggregates);
            v.extend(named(by));
            v
        }
        OperatorKind::Top { count, by } => {
            let mut v = vec![count];
            v.extend(by.iter().map(|k| &k.expr));
            v
        }
        OperatorKind::Sort(keys) => keys.iter().map(|k| &k.expr).collect(),
        OperatorKind::Distinct { columns, .. } => columns.iter().collect(),
        OperatorKind::Union(u) => u.tables.iter().collect(),
        OperatorKind::Join(j) | OperatorKind::Lookup(j) => {
            let mut v = vec![j.right.as_ref()];
            v.extend(j.on.iter());
            v
        }
        OperatorKind::MvExpand(m) => {
            let mut v: Vec<&Expr> = m.items.iter().map(|i| &i.expr).collect();
            v.extend(m.limit.iter());
            v
        }
        OperatorKind::Parse(p) => vec![&p.source],
        OperatorKind::Render { properties, .. } => properties.iter().map(|(_, e)| e).collect(),
        OperatorKind::Evaluate { args, .. } | OperatorKind::Invoke { args, .. } => {
            args.iter().collect()
        }
        OperatorKind::ProjectAway(_)
        | OperatorKind::ProjectKeep(_)
        | OperatorKind::ProjectRename(_)
        | OperatorKind::ProjectReorder(_)
        | OperatorKind::Count
        | OperatorKind::As(_)
        | OperatorKind::GetSchema => Vec::new(),
    }
}

/// Collects every bare name an expression reads (columns, lets, tables;
/// function names are not names). Returns `false` if it reads `*`.
fn names(e: &Expr, out: &mut Vec<String>) -> bool {
    let mut all = true;
    match &e.kind {
        ExprKind::Name(id) => {
            if !out.contains(&id.name) {
                out.push(id.name.clone());
            }
        }
        ExprKind::Star => all = false,
        ExprKind::Literal(_) | ExprKind::TypeOf(_) => {}
        ExprKind::Member { base, .. } => all &= names(base, out),
        ExprKind::Index { base, index } => {
            all &= names(base, out);
            all &= names(index, out);
        }
        ExprKind::Unary { expr, .. } => all &= names(expr, out),
        ExprKind::Binary { left, right, .. } => {
            all &= names(left, out);
            all &= names(right, out);
        }
        ExprKind::List { expr, items, .. } => {
            all &= names(expr, out);
            for i in items {
                all &= names(i, out);
            }
        }
        ExprKind::Between {
            expr, low, high, ..
        } => {
            all &= names(expr, out);
            all &= names(low, out);
            all &= names(high, out);
        }
        ExprKind::Call { args, .. } => {
            for a in args {
                all &= names(a, out);
            }
        }
        ExprKind::Pipe { input, op } => {
            // a tabular sub-query: its own columns; `*` inside does not mean ours
            names(input, out);
            for x in operator_exprs(&op.kind) {
                names(x, out);
            }
        }
        ExprKind::Datatable { values, .. } => {
            for v in values {
                names(v, out);
            }
        }
        ExprKind::Print(items) => {
            for i in items {
                names(&i.expr, out);
            }
        }
        ExprKind::Range { from, to, step, .. } => {
            names(from, out);
            names(to, out);
            names(step, out);
        }
        ExprKind::Union(u) => {
            for t in &u.tables {
                names(t, out);
            }
        }
        ExprKind::Paren(inner) => all &= names(inner, out),
    }
    all
}
