//! Tabular expressions: sources (tables, lets, datatable, print, range,
//! union) and every pipe operator, with Kusto.Language's output schemas.

use super::expr::{Called, Ctx};
use super::names::{column_name, expr_name, unique_name};
use super::scope::Binding;
use super::{
    codes, AggSpec, BagUnpackSpec, JoinSpec, MvExpandSpec, Node, PExpr, PResult, ParseSpec,
    Planner, SortSpec, UnionInput,
};
use crate::aggregate::{self, DefaultName};
use crate::ast::{
    BinaryOp, ColumnDecl, Expr, ExprKind, Join, JoinKind, MvExpand, NamePattern, NamedExpr,
    NullsOrder, Operator, OperatorKind, Parse, ParseKind, ParsePart, SortKey, SortOrder, Statement,
    StatementKind, Union, UnionKind,
};
use crate::functions::ops;
use crate::span::Span;
use crate::table::{Column, Schema};
use crate::value::{Type, Value};
use std::sync::Arc;

/// Replaces every aggregate call in `e` by a hidden column name.
fn replace_aggregates(e: &Expr, found: &mut Vec<(String, Expr)>, n: &mut usize) -> Expr {
    let mut rec = |x: &Expr| Box::new(replace_aggregates(x, found, n));
    let kind = match &e.kind {
        ExprKind::Call { name, args } if aggregate::lookup(&name.name).is_some() => {
            let hidden = format!("__aggregate_{n}");
            *n += 1;
            found.push((hidden.clone(), e.clone()));
            ExprKind::Name(crate::ast::Ident::new(hidden, e.span))
        }
        ExprKind::Call { name, args } => ExprKind::Call {
            name: name.clone(),
            args: args.iter().map(|a| *rec(a)).collect(),
        },
        ExprKind::Member { base, name } => ExprKind::Member {
            base: rec(base),
            name: name.clone(),
        },
        ExprKind::Index { base, index } => ExprKind::Index {
            base: rec(base),
            index: rec(index),
        },
        ExprKind::Unary { op, expr } => ExprKind::Unary {
            op: *op,
            expr: rec(expr),
        },
        ExprKind::Binary { op, left, right } => ExprKind::Binary {
            op: *op,
            left: rec(left),
            right: rec(right),
        },
        ExprKind::List { op, expr, items } => ExprKind::List {
            op: *op,
            expr: rec(expr),
            items: items.iter().map(|a| *rec(a)).collect(),
        },
        ExprKind::Between {
            negated,
            expr,
            low,
            high,
        } => ExprKind::Between {
            negated: *negated,
            expr: rec(expr),
            low: rec(low),
            high: rec(high),
        },
        ExprKind::Paren(inner) => ExprKind::Paren(rec(inner)),
        other => other.clone(),
    };
    Expr::new(kind, e.span)
}

/// The name given by a trailing `as Name` (union source names).
fn as_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Pipe { op, .. } => match &op.kind {
            OperatorKind::As(n) => Some(n.name.clone()),
            _ => None,
        },
        ExprKind::Paren(inner) => as_name(inner),
        _ => None,
    }
}

/// Column-name order of `project-reorder ... asc`: case-insensitive first
/// (as Kusto.Language orders), then ordinal.
fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

/// `*` matches any run of characters; everything else literally.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.len() >= part.len() && rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

fn datatype_name(t: Type) -> &'static str {
    match t {
        Type::Bool => "System.Boolean",
        Type::Int => "System.Int32",
        Type::Long => "System.Int64",
        Type::Real => "System.Double",
        Type::Decimal => "System.Data.SqlTypes.SqlDecimal",
        Type::String => "System.String",
        Type::DateTime => "System.DateTime",
        Type::TimeSpan => "System.TimeSpan",
        Type::Guid => "System.Guid",
        Type::Dynamic => "System.Object",
    }
}

fn cols_of(schema: &Schema) -> Vec<PExpr> {
    (0..schema.len()).map(PExpr::Col).collect()
}

/// `extend`/`project` output: a projection of `exprs` over `input`, marked
/// `window` when an expression uses a window function (`row_number`,
/// `prev`...), so execution runs it in input order instead of streaming it
/// over parallel partitions.
fn projection(input: Node, exprs: Vec<PExpr>, out: Schema) -> (Node, Schema) {
    let window = exprs.iter().any(PExpr::uses_window);
    (
        Node::Project {
            input: Box::new(input),
            exprs,
            window,
        },
        out,
    )
}

impl Planner<'_> {
    /// Plans the statements of a query; returns its (last) tabular result.
    pub(crate) fn plan_statements(
        &mut self,
        stmts: &[Statement],
        _span: Span,
    ) -> Option<(Node, Schema)> {
        let mut result = None;
        for st in stmts {
            match &st.kind {
                StatementKind::Let { name, value } => self.plan_let(&name.name, value),
                StatementKind::Set { .. } => {}
                StatementKind::Expr(e) => {
                    if self.is_tabular(e) {
                        result = self.plan_tabular(e).ok();
                    } else {
                        self.error(
                            codes::KIND,
                            "a query statement must be a tabular expression (a table, print, range, datatable...)",
                            e.span,
                        );
                    }
                }
            }
        }
        result
    }

    /// Plans a tabular expression (bounded in size: lets and functions are
    /// inlined).
    pub(crate) fn plan_tabular(&mut self, e: &Expr) -> PResult<(Node, Schema)> {
        let (n, s) = self.plan_tabular_inner(e)?;
        if n.depth(super::MAX_PLAN_DEPTH + 1) > super::MAX_PLAN_DEPTH {
            return Err(self.error(
                codes::UNSUPPORTED,
                format!(
                    "the query nests more than {} operators deep",
                    super::MAX_PLAN_DEPTH
                ),
                e.span,
            ));
        }
        if n.size(super::MAX_PLAN_NODES + 1) > super::MAX_PLAN_NODES {
            return Err(self.error(
                codes::UNSUPPORTED,
                format!(
                    "the query expands to more than {} operators (nested lets or functions used many times)",
                    super::MAX_PLAN_NODES
                ),
                e.span,
            ));
        }
        Ok((n, s))
    }

    fn plan_tabular_inner(&mut self, e: &Expr) -> PResult<(Node, Schema)> {
        match &e.kind {
            ExprKind::Pipe { .. } => {
                // Walk the pipeline iteratively: it can be long.
                let mut ops: Vec<&Operator> = Vec::new();
                let mut cur = e;
                while let ExprKind::Pipe { input, op } = &cur.kind {
                    ops.push(op);
                    cur = input;
                }
                if ops.len() > super::MAX_PLAN_DEPTH / 2 {
                    return Err(self.error(
                        codes::UNSUPPORTED,
                        format!("a pipeline of {} operators is too long", ops.len()),
                        e.span,
                    ));
                }
                let (mut node, mut schema) = self.plan_tabular(cur)?;
                let mut failed = false;
                for op in ops.into_iter().rev() {
                    if let Node::BagUnpack(mut spec) = node {
                        // The schema after bag_unpack depends on the data.
                        spec.rest.push(op.clone());
                        node = Node::BagUnpack(spec);
                        continue;
                    }
                    // Operators that keep the schema can fail without
                    // hiding the errors of the operators after them.
                    let keeps_schema = matches!(
                        op.kind,
                        OperatorKind::Where(_)
                            | OperatorKind::Sort(_)
                            | OperatorKind::Top { .. }
                            | OperatorKind::Take(_)
                            | OperatorKind::Render { .. }
                    );
                    let before = keeps_schema.then(|| schema.clone());
                    match (self.plan_operator(node, schema, op), before) {
                        (Ok((n, s)), _) => {
                            node = n;
                            schema = s;
                        }
                        (Err(_), Some(s)) => {
                            failed = true;
                            node = Node::Values {
                                rows: Arc::new(Vec::new()),
                            };
                            schema = s;
                        }
                        (Err(f), None) => return Err(f),
                    }
                }
                if failed {
                    return Err(super::Failed);
                }
                Ok((node, schema))
            }
            ExprKind::Paren(inner) => self.plan_tabular(inner),
            ExprKind::Datatable { columns, values } => self.plan_datatable(columns, values, e.span),
            ExprKind::Print(items) => {
                let empty = Schema::default();
                let mut exprs = Vec::new();
                let mut cols: Vec<Column> = Vec::new();
                let mut failed = false;
                for (i, it) in items.iter().enumerate() {
                    match self.plan_scalar(&it.expr, Ctx::new(&empty)) {
                        Ok((p, t)) => {
                            let name = match it.names.first() {
                                Some(n) => n.name.clone(),
                                None => format!("print_{i}"),
                            };
                            if cols.iter().any(|c| c.name == name) {
                                self.error(
                                    codes::DUPLICATE_COLUMN,
                                    format!("a column named '{name}' is already declared"),
                                    it.span,
                                );
                                failed = true;
                            }
                            cols.push(Column::new(name, t));
                            exprs.push(p);
                        }
                        Err(_) => failed = true,
                    }
                }
                if failed {
                    return Err(super::Failed);
                }
                Ok((Node::Print { exprs }, Schema::new(cols)))
            }
            ExprKind::Range {
                name,
                from,
                to,
                step,
            } => {
                let empty = Schema::default();
                let cx = Ctx::new(&empty);
                let f = self.plan_scalar(from, cx);
                let t = self.plan_scalar(to, cx);
                let s = self.plan_scalar(step, cx);
                let ((f, ft), (t, tt), (s, st)) = (f?, t?, s?);
                let ty = match ft {
                    Type::Int | Type::Long => Type::Long,
                    Type::Real | Type::DateTime | Type::TimeSpan => ft,
                    _ => {
                        return Err(self.error(
                            codes::OPERATOR_TYPES,
                            format!(
                                "range needs long, real, datetime or timespan bounds, not {ft}"
                            ),
                            from.span,
                        ))
                    }
                };
                let to_ok = match ty {
                    Type::Long | Type::Real => tt.is_numeric(),
                    _ => tt == ty,
                };
                let step_ok = match ty {
                    Type::Long | Type::Real => st.is_numeric(),
                    _ => st == Type::TimeSpan,
                };
                if !to_ok || !step_ok {
                    return Err(self.error(
                        codes::OPERATOR_TYPES,
                        format!("range bounds and step do not fit: from {ft} to {tt} step {st}"),
                        e.span,
                    ));
                }
                Ok((
                    Node::Range {
                        from: f,
                        to: t,
                        step: s,
                        ty,
                        span: e.span,
                    },
                    Schema::new(vec![Column::new(name.name.clone(), ty)]),
                ))
            }
            ExprKind::Union(u) => self.plan_union(None, u, e.span),
            ExprKind::Name(id) => match self.scope.get(&id.name).cloned() {
                Some(Binding::Table(n, s)) => Ok((n, s)),
                Some(Binding::Failed { .. }) => Err(super::Failed),
                Some(Binding::Function(l, fscope)) => {
                    let empty = Schema::default();
                    match self.call_function(&l, &fscope, &[], e.span, Ctx::new(&empty), None)? {
                        Called::Table(n, s) => Ok((n, s)),
                        Called::Scalar(..) => Err(self.error(
                            codes::KIND,
                            format!("'{}' is a scalar function, not a table", id.name),
                            id.span,
                        )),
                    }
                }
                Some(Binding::Scalar(..)) => Err(self.error(
                    codes::KIND,
                    format!("'{}' is a scalar, not a table", id.name),
                    id.span,
                )),
                None => match self.catalog.schema(&id.name) {
                    Some(schema) => Ok((
                        Node::Scan {
                            table: id.name.clone(),
                            columns: (0..schema.len()).collect(),
                            schema: schema.clone(),
                            prefilter: None,
                            span: id.span,
                        },
                        schema,
                    )),
                    None => Err(self.error(
                        codes::UNKNOWN_TABLE,
                        format!("unknown table '{}'", id.name),
                        id.span,
                    )),
                },
            },
            ExprKind::Call { name, args } => {
                if let Some(Binding::Function(l, fscope)) = self.scope.get(&name.name).cloned() {
                    let empty = Schema::default();
                    return match self.call_function(
                        &l,
                        &fscope,
                        args,
                        e.span,
                        Ctx::new(&empty),
                        None,
                    )? {
                        Called::Table(n, s) => Ok((n, s)),
                        Called::Scalar(..) => Err(self.error(
                            codes::KIND,
                            format!("'{}' returns a scalar, not a table", name.name),
                            e.span,
                        )),
                    };
                }
                if name.name == "materialize" {
                    let [arg] = args.as_slice() else {
                        return Err(self.error(
                            codes::ARGUMENTS,
                            "materialize() takes one table",
                            e.span,
                        ));
                    };
                    let (n, s) = self.plan_tabular(arg)?;
                    self.materialized += 1;
                    return Ok((
                        Node::Materialize {
                            id: self.materialized - 1,
                            input: Box::new(n),
                        },
                        s,
                    ));
                }
                Err(self.error(
                    codes::UNKNOWN_FUNCTION,
                    format!("unknown tabular function '{}'", name.name),
                    name.span,
                ))
            }
            _ => Err(self.error(codes::KIND, "expected a tabular expression", e.span)),
        }
    }

    fn plan_datatable(
        &mut self,
        columns: &[ColumnDecl],
        values: &[Expr],
        span: Span,
    ) -> PResult<(Node, Schema)> {
        let schema = Schema::new(
            columns
                .iter()
                .map(|c| Column::new(c.name.name.clone(), c.ty))
                .collect(),
        );
        if columns.is_empty() {
            return Err(self.error(
                codes::ARGUMENTS,
                "datatable needs at least one column",
                span,
            ));
        }
        if values.len() % columns.len() != 0 {
            return Err(self.error(
                codes::ARGUMENTS,
                format!(
                    "datatable has {} values, not a multiple of its {} columns",
                    values.len(),
                    columns.len()
                ),
                span,
            ));
        }
        let empty = Schema::default();
        let mut rows = Vec::with_capacity(values.len() / columns.len());
        let mut row = Vec::with_capacity(columns.len());
        let mut failed = false;
        for (i, v) in values.iter().enumerate() {
            let col = &columns[i % columns.len()];
            match self.plan_scalar(v, Ctx::new(&empty)) {
                Ok((PExpr::Const(val), _)) => {
                    let val = if val.is_null() {
                        Value::null_of(col.ty)
                    } else if val.ty() == Some(col.ty) {
                        val
                    } else {
                        let c = ops::cast(&val, col.ty);
                        if c.is_null() && col.ty != Type::Dynamic {
                            self.error(
                                codes::OPERATOR_TYPES,
                                format!(
                                    "this value does not fit column '{}' of type {}",
                                    col.name.name, col.ty
                                ),
                                v.span,
                            );
                            failed = true;
                        }
                        c
                    };
                    row.push(val);
                }
                Ok(_) => {
                    self.error(
                        codes::NOT_CONSTANT,
                        "datatable values must be constants",
                        v.span,
                    );
                    failed = true;
                    row.push(Value::Null);
                }
                Err(_) => {
                    failed = true;
                    row.push(Value::Null);
                }
            }
            if row.len() == columns.len() {
                rows.push(std::mem::take(&mut row));
            }
        }
        if failed {
            return Err(super::Failed);
        }
        Ok((
            Node::Values {
                rows: Arc::new(rows),
            },
            schema,
        ))
    }

    /// Plans one pipe operator over its planned input.
    pub(crate) fn plan_operator(
        &mut self,
        input: Node,
        schema: Schema,
        op: &Operator,
    ) -> PResult<(Node, Schema)> {
        let span = op.span;
        match &op.kind {
            OperatorKind::Where(pred) => {
                let (p, t) = self.plan_scalar(pred, Ctx::new(&schema))?;
                if !matches!(t, Type::Bool | Type::Dynamic) {
                    return Err(self.error(
                        codes::EXPECTED_TYPE,
                        format!("a 'where' predicate must be bool, not {t}"),
                        pred.span,
                    ));
                }
                Ok((
                    Node::Filter {
                        input: Box::new(input),
                        pred: p,
                    },
                    schema,
                ))
            }
            OperatorKind::Extend(items) | OperatorKind::Serialize(items) => {
                self.plan_extend(input, schema, items)
            }
            OperatorKind::Project(items) => self.plan_project(input, schema, items),
            OperatorKind::ProjectAway(pats) => {
                let mut drop = vec![false; schema.len()];
                for p in pats {
                    let hits = self.match_pattern(&schema, p)?;
                    for h in hits {
                        drop[h] = true;
                    }
                }
                let keep: Vec<usize> = (0..schema.len()).filter(|&i| !drop[i]).collect();
                Ok(Self::select(input, &schema, &keep))
            }
            OperatorKind::ProjectKeep(pats) => {
                let mut keep = vec![false; schema.len()];
                for p in pats {
                    for h in self.match_pattern(&schema, p)? {
                        keep[h] = true;
                    }
                }
                let keep: Vec<usize> = (0..schema.len()).filter(|&i| keep[i]).collect();
                Ok(Self::select(input, &schema, &keep))
            }
            OperatorKind::ProjectRename(pairs) => {
                let mut out = schema.clone();
                for (new, old) in pairs {
                    match schema.index_of(&old.name) {
                        Some(i) => {
                            if let Some(c) = out.columns.get_mut(i) {
                                c.name = new.name.clone();
                            }
                        }
                        None => {
                            self.error(
                                codes::UNKNOWN_NAME,
                                format!("unknown column '{}'", old.name),
                                old.span,
                            );
                        }
                    }
                }
                for (i, c) in out.columns.iter().enumerate() {
                    if out.columns[..i].iter().any(|o| o.name == c.name) {
                        return Err(self.error(
                            codes::DUPLICATE_COLUMN,
                            format!("a column named '{}' is already declared", c.name),
                            span,
                        ));
                    }
                }
                Ok((input, out))
            }
            OperatorKind::ProjectReorder(items) => {
                let mut order: Vec<usize> = Vec::new();
                for (p, dir) in items {
                    let mut hits: Vec<usize> = self
                        .match_pattern(&schema, p)?
                        .into_iter()
                        .filter(|h| !order.contains(h))
                        .collect();
                    match dir {
                        Some(SortOrder::Asc) => hits.sort_by(|a, b| {
                            name_order(&schema.columns[*a].name, &schema.columns[*b].name)
                        }),
                        Some(SortOrder::Desc) => hits.sort_by(|a, b| {
                            name_order(&schema.columns[*b].name, &schema.columns[*a].name)
                        }),
                        None => {}
                    }
                    order.extend(hits);
                }
                let rest: Vec<usize> = (0..schema.len()).filter(|i| !order.contains(i)).collect();
                order.extend(rest);
                Ok(Self::select(input, &schema, &order))
            }
            OperatorKind::Summarize { aggregates, by } => {
                self.plan_summarize(input, schema, aggregates, by, span)
            }
            OperatorKind::Count => Ok((
                Node::Count {
                    input: Box::new(input),
                },
                Schema::new(vec![Column::new("Count", Type::Long)]),
            )),
            OperatorKind::Take(n) => {
                let count = self.plan_count(n)?;
                Ok((
                    Node::Take {
                        input: Box::new(input),
                        count,
                    },
                    schema,
                ))
            }
            OperatorKind::Top { count, by } => {
                let c = self.plan_count(count);
                let keys = self.plan_sort_keys(&schema, by);
                Ok((
                    Node::Sort {
                        input: Box::new(input),
                        keys: keys?,
                        limit: Some(c?),
                        span,
                    },
                    schema,
                ))
            }
            OperatorKind::Sort(keys) => {
                let keys = self.plan_sort_keys(&schema, keys)?;
                Ok((
                    Node::Sort {
                        input: Box::new(input),
                        keys,
                        limit: None,
                        span,
                    },
                    schema,
                ))
            }
            OperatorKind::Distinct { columns, all } => {
                if *all || columns.is_empty() {
                    return Ok((
                        Node::Distinct {
                            input: Box::new(input),
                            span,
                        },
                        schema,
                    ));
                }
                let items: Vec<NamedExpr> = columns
                    .iter()
                    .map(|c| NamedExpr {
                        names: vec![],
                        expr: c.clone(),
                        span: c.span,
                    })
                    .collect();
                let (n, s) = self.plan_project(input, schema, &items)?;
                Ok((
                    Node::Distinct {
                        input: Box::new(n),
                        span,
                    },
                    s,
                ))
            }
            OperatorKind::Union(u) => self.plan_union(Some((input, schema)), u, span),
            OperatorKind::Join(j) => self.plan_join(input, schema, j, false, span),
            OperatorKind::Lookup(j) => self.plan_join(input, schema, j, true, span),
            OperatorKind::MvExpand(m) => self.plan_mv_expand(input, schema, m, span),
            OperatorKind::Parse(p) => self.plan_parse(input, schema, p, span),
            OperatorKind::Render { .. } => Ok((input, schema)),
            OperatorKind::As(name) => {
                // `as T` names the table for the rest of the query.
                self.scope = self.scope.with(
                    name.name.clone(),
                    Binding::Table(input.clone(), schema.clone()),
                );
                Ok((input, schema))
            }
            OperatorKind::Evaluate { plugin, args } => match plugin.name.as_str() {
                "bag_unpack" => self.plan_bag_unpack(input, schema, args, span),
                other => Err(self.error(
                    codes::UNSUPPORTED,
                    format!("evaluate plugin '{other}' is not supported (only bag_unpack)"),
                    plugin.span,
                )),
            },
            OperatorKind::Invoke { function, args } => {
                match self.scope.get(&function.name).cloned() {
                    Some(Binding::Function(l, fscope)) => {
                        let empty = Schema::default();
                        let first = Binding::Table(input, schema);
                        match self.call_function(
                            &l,
                            &fscope,
                            args,
                            span,
                            Ctx::new(&empty),
                            Some(first),
                        )? {
                            Called::Table(n, s) => Ok((n, s)),
                            Called::Scalar(..) => Err(self.error(
                                codes::KIND,
                                format!("'{}' returns a scalar, not a table", function.name),
                                function.span,
                            )),
                        }
                    }
                    _ => Err(self.error(
                        codes::UNKNOWN_FUNCTION,
                        format!("unknown function '{}'", function.name),
                        function.span,
                    )),
                }
            }
            OperatorKind::GetSchema => {
                let rows = schema
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        vec![
                            Value::string(c.name.as_str()),
                            Value::Long(i as i64),
                            Value::string(datatype_name(c.ty)),
                            Value::string(c.ty.name()),
                        ]
                    })
                    .collect();
                Ok((
                    Node::Values {
                        rows: Arc::new(rows),
                    },
                    Schema::new(vec![
                        Column::new("ColumnName", Type::String),
                        Column::new("ColumnOrdinal", Type::Long),
                        Column::new("DataType", Type::String),
                        Column::new("ColumnType", Type::String),
                    ]),
                ))
            }
        }
    }

    /// A projection onto input columns `keep` (in that order).
    fn select(input: Node, schema: &Schema, keep: &[usize]) -> (Node, Schema) {
        let cols = keep
            .iter()
            .filter_map(|&i| schema.columns.get(i).cloned())
            .collect();
        (
            Node::Project {
                input: Box::new(input),
                exprs: keep.iter().map(|&i| PExpr::Col(i)).collect(),
                window: false,
            },
            Schema::new(cols),
        )
    }

    fn match_pattern(&mut self, schema: &Schema, p: &NamePattern) -> PResult<Vec<usize>> {
        if p.is_wildcard() {
            return Ok((0..schema.len())
                .filter(|&i| glob_match(&p.pattern, &schema.columns[i].name))
                .collect());
        }
        match schema.index_of(&p.pattern) {
            Some(i) => Ok(vec![i]),
            None => Err(self.error(
                codes::UNKNOWN_NAME,
                format!("unknown column '{}'", p.pattern),
                p.span,
            )),
        }
    }

    fn plan_count(&mut self, e: &Expr) -> PResult<PExpr> {
        let empty = Schema::default();
        let (p, t) = self.plan_scalar(e, Ctx::new(&empty))?;
        if !t.is_integer() && t != Type::Dynamic {
            return Err(self.error(
                codes::EXPECTED_TYPE,
                format!("a row count must be an integer, not {t}"),
                e.span,
            ));
        }
        Ok(p)
    }

    fn plan_sort_keys(&mut self, schema: &Schema, keys: &[SortKey]) -> PResult<Vec<SortSpec>> {
        let mut out = Vec::new();
        let mut failed = false;
        for k in keys {
            match self.plan_scalar(&k.expr, Ctx::new(schema)) {
                Ok((p, _)) => {
                    let order = k.order.unwrap_or(SortOrder::Desc);
                    let nulls = k.nulls.unwrap_or(match order {
                        SortOrder::Asc => NullsOrder::First,
                        SortOrder::Desc => NullsOrder::Last,
                    });
                    out.push(SortSpec {
                        expr: p,
                        order,
                        nulls,
                    });
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            Err(super::Failed)
        } else {
            Ok(out)
        }
    }

    fn plan_extend(
        &mut self,
        input: Node,
        schema: Schema,
        items: &[NamedExpr],
    ) -> PResult<(Node, Schema)> {
        let mut out = schema.clone();
        let mut exprs = cols_of(&schema);
        let mut declared: Vec<String> = Vec::new();
        let mut failed = false;
        for it in items {
            if it.names.len() > 1 {
                self.error(
                    codes::UNSUPPORTED,
                    "a tuple of names is only allowed for summarize aggregates",
                    it.span,
                );
                failed = true;
                continue;
            }
            let Ok((p, t)) = self.plan_scalar(&it.expr, Ctx::new(&schema)) else {
                failed = true;
                continue;
            };
            let name = match it.names.first() {
                Some(n) => n.name.clone(),
                None => expr_name(&it.expr)
                    .unwrap_or_else(|| column_name(&|n| out.index_of(n).is_some())),
            };
            if declared.contains(&name) {
                self.error(
                    codes::DUPLICATE_COLUMN,
                    format!("a column named '{name}' is already declared"),
                    it.span,
                );
                failed = true;
                continue;
            }
            declared.push(name.clone());
            match out.index_of(&name) {
                Some(i) => {
                    exprs[i] = p;
                    out.columns[i].ty = t;
                }
                None => {
                    out.columns.push(Column::new(name, t));
                    exprs.push(p);
                }
            }
        }
        if failed {
            return Err(super::Failed);
        }
        Ok(projection(input, exprs, out))
    }

    fn plan_project(
        &mut self,
        input: Node,
        schema: Schema,
        items: &[NamedExpr],
    ) -> PResult<(Node, Schema)> {
        let mut unnamed = 0usize;
        let mut out = Schema::default();
        let mut exprs = Vec::new();
        let mut failed = false;
        for it in items {
            if it.names.len() > 1 {
                self.error(
                    codes::UNSUPPORTED,
                    "a tuple of names is only allowed for summarize aggregates",
                    it.span,
                );
                failed = true;
                continue;
            }
            let Ok((p, t)) = self.plan_scalar(&it.expr, Ctx::new(&schema)) else {
                failed = true;
                continue;
            };
            let explicit =
                it.names
                    .first()
                    .map(|n| n.name.clone())
                    .or_else(|| match &it.expr.kind {
                        ExprKind::Name(id) => Some(id.name.clone()),
                        _ => None,
                    });
            let name = match explicit {
                Some(n) => {
                    if out.index_of(&n).is_some() {
                        self.error(
                            codes::DUPLICATE_COLUMN,
                            format!("a column named '{n}' is already declared"),
                            it.span,
                        );
                        failed = true;
                        continue;
                    }
                    n
                }
                None => match expr_name(&it.expr) {
                    Some(base) => unique_name(&base, &|n| out.index_of(n).is_some()),
                    None => {
                        unnamed += 1;
                        unique_name(&format!("Column{unnamed}"), &|n| out.index_of(n).is_some())
                    }
                },
            };
            out.columns.push(Column::new(name, t));
            exprs.push(p);
        }
        if failed {
            return Err(super::Failed);
        }
        Ok(projection(input, exprs, out))
    }

    fn plan_summarize(
        &mut self,
        input: Node,
        schema: Schema,
        aggregates: &[NamedExpr],
        by: &[NamedExpr],
        span: Span,
    ) -> PResult<(Node, Schema)> {
        let cx = Ctx::new(&schema);
        let mut out = Schema::default();
        let mut unnamed = 0usize;
        let mut keys = Vec::new();
        let mut failed = false;
        let mut by_names: Vec<String> = Vec::new();
        for it in by {
            let Ok((p, t)) = self.plan_scalar(&it.expr, cx) else {
                failed = true;
                continue;
            };
            let name = match it.names.first() {
                Some(n) => n.name.clone(),
                None => expr_name(&it.expr).unwrap_or_else(|| {
                    unnamed += 1;
                    unique_name(&format!("Column{unnamed}"), &|n| out.index_of(n).is_some())
                }),
            };
            if out.index_of(&name).is_some() {
                self.error(
                    codes::DUPLICATE_COLUMN,
                    format!("a column named '{name}' is already declared"),
                    it.span,
                );
                failed = true;
                continue;
            }
            if t == Type::Dynamic {
                self.error(
                    codes::EXPECTED_TYPE,
                    format!("summarize cannot group by the dynamic value '{name}': convert it first (tostring(), tolong()...)"),
                    it.expr.span,
                );
                failed = true;
                continue;
            }
            if let ExprKind::Name(id) = &it.expr.kind {
                by_names.push(id.name.clone());
            }
            out.columns.push(Column::new(name, t));
            keys.push(p);
        }
        let mut aggs = Vec::new();
        // Items that are expressions over aggregates (`100.0 * countif(p) /
        // count()`): their aggregates become hidden columns and a projection
        // computes the item after the summarize.
        enum Item {
            Col(usize),
            Expr(Expr, Option<String>, Option<String>, Expr),
        }
        let mut items: Vec<Item> = (0..out.len()).map(Item::Col).collect();
        let mut hidden = 0usize;
        for it in aggregates {
            // `percentiles(x, p1, p2...)` is one `percentile(x, p)` per p.
            if let ExprKind::Call { name, args } = &it.expr.kind {
                if name.name == "percentiles"
                    && aggregate::lookup("percentiles").is_none()
                    && args.len() >= 2
                {
                    for (k, pct) in args.iter().skip(1).enumerate() {
                        let call = Expr::new(
                            ExprKind::Call {
                                name: crate::ast::Ident::new("percentile", name.span),
                                args: vec![args[0].clone(), pct.clone()],
                            },
                            it.expr.span,
                        );
                        let ne = NamedExpr {
                            names: it.names.get(k).cloned().into_iter().collect(),
                            expr: call,
                            span: it.span,
                        };
                        let before = out.len();
                        match self.plan_aggregate(&schema, &ne, &by_names, &mut out) {
                            Ok(a) => {
                                aggs.push(a);
                                items.extend((before..out.len()).map(Item::Col));
                            }
                            Err(_) => failed = true,
                        }
                    }
                    continue;
                }
            }
            let direct = matches!(&it.expr.kind, ExprKind::Call { name, .. } if aggregate::lookup(&name.name).is_some());
            if direct {
                let before = out.len();
                match self.plan_aggregate(&schema, it, &by_names, &mut out) {
                    Ok(a) => {
                        aggs.push(a);
                        items.extend((before..out.len()).map(Item::Col));
                    }
                    Err(_) => failed = true,
                }
                continue;
            }
            let mut found = Vec::new();
            let rewritten = replace_aggregates(&it.expr, &mut found, &mut hidden);
            if found.is_empty() {
                if let ExprKind::Call { name, .. } = &it.expr.kind {
                    if crate::functions::lookup(&name.name).is_none()
                        && self.scope.get(&name.name).is_none()
                    {
                        self.error(
                            codes::UNKNOWN_FUNCTION,
                            format!("unknown aggregate function '{}'", name.name),
                            name.span,
                        );
                        failed = true;
                        continue;
                    }
                }
                self.error(
                    codes::UNSUPPORTED,
                    "summarize needs an aggregate function here (count(), sum(x), make_set(x)...)",
                    it.expr.span,
                );
                failed = true;
                continue;
            }
            for (name, call) in &found {
                let ne = NamedExpr {
                    names: vec![crate::ast::Ident::new(name.clone(), call.span)],
                    expr: call.clone(),
                    span: call.span,
                };
                match self.plan_aggregate(&schema, &ne, &by_names, &mut out) {
                    Ok(a) => aggs.push(a),
                    Err(_) => failed = true,
                }
            }
            // `tostring(make_set(x))` is named like its aggregate: `set_x`.
            let derived = expr_name(&rewritten).and_then(|h| {
                let call = found.iter().find(|(n, _)| *n == h).map(|(_, c)| c)?;
                let ExprKind::Call { name, args } = &call.kind else {
                    return None;
                };
                let def = aggregate::lookup(&name.name)?;
                let col = args.first().and_then(expr_name);
                Some(aggregate::default_column_name(def, col.as_deref(), &[]))
            });
            let name = it.names.first().map(|n| n.name.clone());
            items.push(Item::Expr(rewritten, name, derived, it.expr.clone()));
        }
        if failed {
            return Err(super::Failed);
        }
        let summarize = Node::Summarize {
            input: Box::new(input),
            keys,
            aggs,
            span,
        };
        if !items.iter().any(|i| matches!(i, Item::Expr(..))) {
            return Ok((summarize, out));
        }
        let mut fin = Schema::default();
        let mut exprs = Vec::new();
        for it in items {
            match it {
                Item::Col(i) => {
                    exprs.push(PExpr::Col(i));
                    fin.columns.push(out.columns[i].clone());
                }
                Item::Expr(e, name, derived, original) => {
                    let (p, t) = self.plan_scalar(&e, Ctx::new(&out))?;
                    let name = match name {
                        Some(n) => n,
                        None => match derived {
                            Some(b) => unique_name(&b, &|n| fin.index_of(n).is_some()),
                            None => {
                                unnamed += 1;
                                unique_name(&format!("Column{unnamed}"), &|n| {
                                    fin.index_of(n).is_some()
                                })
                            }
                        },
                    };
                    if fin.index_of(&name).is_some() {
                        return Err(self.error(
                            codes::DUPLICATE_COLUMN,
                            format!("a column named '{name}' is already declared"),
                            original.span,
                        ));
                    }
                    exprs.push(p);
                    fin.columns.push(Column::new(name, t));
                }
            }
        }
        Ok((
            Node::Project {
                input: Box::new(summarize),
                exprs,
                window: false,
            },
            fin,
        ))
    }

    fn plan_aggregate(
        &mut self,
        schema: &Schema,
        it: &NamedExpr,
        by_names: &[String],
        out: &mut Schema,
    ) -> PResult<AggSpec> {
        let cx = Ctx::new(schema);
        let ExprKind::Call { name, args } = &it.expr.kind else {
            return Err(self.error(
                codes::UNSUPPORTED,
                "summarize needs an aggregate function call here (count(), sum(x), make_set(x)...)",
                it.expr.span,
            ));
        };
        let Some(def) = aggregate::lookup(&name.name) else {
            let msg = if crate::functions::lookup(&name.name).is_some() {
                format!("'{}' is not an aggregate function", name.name)
            } else {
                format!("unknown aggregate function '{}'", name.name)
            };
            return Err(self.error(codes::UNKNOWN_FUNCTION, msg, name.span));
        };
        let multi = matches!(
            def.name,
            "arg_max" | "arg_min" | "take_any" | "any" | "take_anyif" | "anyif"
        );
        // Expand `*` (multi-output aggregates only).
        let mut arg_exprs: Vec<(PExpr, Type, Option<String>)> = Vec::new();
        let mut failed = false;
        for (i, a) in args.iter().enumerate() {
            if matches!(a.kind, ExprKind::Star) {
                if !multi {
                    return Err(self.error(
                        codes::ARGUMENTS,
                        format!("{}() does not accept '*'", def.name),
                        a.span,
                    ));
                }
                let key_col = match args.first().map(|f| &f.kind) {
                    Some(ExprKind::Name(id)) if def.name.starts_with("arg_") => {
                        Some(id.name.clone())
                    }
                    _ => None,
                };
                for (ci, c) in schema.columns.iter().enumerate() {
                    if by_names.contains(&c.name) || key_col.as_deref() == Some(c.name.as_str()) {
                        continue;
                    }
                    arg_exprs.push((PExpr::Col(ci), c.ty, Some(c.name.clone())));
                }
                continue;
            }
            if let ExprKind::TypeOf(t) = &a.kind {
                arg_exprs.push((PExpr::Const(Value::string(t.name())), Type::String, None));
                continue;
            }
            match self.plan_scalar(a, cx) {
                Ok((p, t)) => {
                    let n = expr_name(a);
                    let _ = i;
                    arg_exprs.push((p, t, n));
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            return Err(super::Failed);
        }
        let n_args = arg_exprs.len();
        if n_args < def.min_args || (n_args > def.max_args && !multi) {
            return Err(self.error(
                codes::ARGUMENTS,
                format!("{}() got {} argument(s)", def.name, n_args),
                it.expr.span,
            ));
        }
        let infos: Vec<crate::functions::ArgInfo> = arg_exprs
            .iter()
            .zip(args.iter().chain(std::iter::repeat(&it.expr)))
            .map(|((p, t, _), a)| crate::functions::ArgInfo {
                ty: *t,
                constant: p.as_const().cloned(),
                type_of: match &a.kind {
                    ExprKind::TypeOf(t) => Some(*t),
                    _ => None,
                },
            })
            .collect();
        let ret = (def.ret)(&infos).map_err(|m| {
            self.error(
                codes::ARGUMENTS,
                format!("{}(): {m}", def.name),
                it.expr.span,
            )
        })?;
        // Output columns and their default names.
        let mut outputs: Vec<(String, Type, bool)> = Vec::new(); // (name, type, explicit)
        if multi
            && (def.name.starts_with("arg_")
                || n_args > 1
                || args.iter().any(|a| matches!(a.kind, ExprKind::Star)))
        {
            for (k, (_, t, n)) in arg_exprs.iter().enumerate() {
                let ty = if k == 0 && def.name.starts_with("arg_") {
                    ret
                } else {
                    *t
                };
                let default = match n {
                    Some(n) => n.clone(),
                    None if k == 0 && def.name == "arg_max" => "max_".to_string(),
                    None if k == 0 && def.name == "arg_min" => "min_".to_string(),
                    None => format!("arg{k}"),
                };
                outputs.push((default, ty, false));
            }
            if def.name.starts_with("take_anyif") || def.name == "anyif" {
                outputs.pop();
            }
        } else {
            let first = arg_exprs.first().and_then(|(_, _, n)| n.clone());
            let default = match (def.default_name, &first) {
                (DefaultName::Column, None) => column_name(&|n| out.index_of(n).is_some()),
                (DefaultName::Prefix(p), None) if !p.ends_with('_') => format!("{p}_"),
                _ => aggregate::default_column_name(def, first.as_deref(), &infos),
            };
            outputs.push((default, ret, false));
        }
        for (k, n) in it.names.iter().enumerate() {
            if let Some(o) = outputs.get_mut(k) {
                o.0 = n.name.clone();
                o.2 = true;
            }
        }
        let mut types = Vec::new();
        for (name, ty, explicit) in outputs {
            let name = if explicit {
                if out.index_of(&name).is_some() {
                    return Err(self.error(
                        codes::DUPLICATE_COLUMN,
                        format!("a column named '{name}' is already declared"),
                        it.span,
                    ));
                }
                name
            } else {
                unique_name(&name, &|n| out.index_of(n).is_some())
            };
            out.columns.push(Column::new(name, ty));
            types.push(ty);
        }
        Ok(AggSpec {
            def,
            outputs: types.len(),
            types,
            args: arg_exprs.into_iter().map(|(p, _, _)| p).collect(),
            infos,
        })
    }

    fn plan_union(
        &mut self,
        first: Option<(Node, Schema)>,
        u: &Union,
        span: Span,
    ) -> PResult<(Node, Schema)> {
        let mut operands: Vec<(Node, Schema, String)> = Vec::new();
        if let Some((n, s)) = first {
            let source = match &n {
                Node::Scan { table, .. } => table.clone(),
                _ => "union_arg0".to_string(),
            };
            operands.push((n, s, source));
        }
        let mut failed = false;
        for t in &u.tables {
            let idx = operands.len();
            let source = match &t.kind {
                ExprKind::Name(id) => id.name.clone(),
                ExprKind::Call { name, .. } => name.name.clone(),
                _ => as_name(t).unwrap_or_else(|| format!("union_arg{idx}")),
            };
            match self.plan_tabular(t) {
                Ok((n, s)) => operands.push((n, s, source)),
                Err(_) => failed = true,
            }
        }
        if failed {
            return Err(super::Failed);
        }
        // Merge schemas by name; same name with different types splits.
        let mut names: Vec<(String, Vec<Type>)> = Vec::new();
        for (_, s, _) in &operands {
            for c in &s.columns {
                match names.iter_mut().find(|(n, _)| *n == c.name) {
                    Some((_, types)) => {
                        if !types.contains(&c.ty) {
                            types.push(c.ty)
                        }
                    }
                    None => names.push((c.name.clone(), vec![c.ty])),
                }
            }
        }
        if u.kind == Some(UnionKind::Inner) {
            names.retain(|(n, types)| {
                types.len() == 1 && operands.iter().all(|(_, s, _)| s.index_of(n).is_some())
            });
        }
        let mut out = Schema::default();
        if let Some(ws) = &u.with_source {
            out.columns.push(Column::new(ws.name.clone(), Type::String));
        }
        let base = out.len();
        let mut slots: Vec<(String, Type)> = Vec::new();
        for (n, types) in &names {
            if types.len() == 1 {
                out.columns.push(Column::new(n.clone(), types[0]));
            } else {
                for t in types {
                    out.columns
                        .push(Column::new(format!("{n}_{}", t.suffix()), *t));
                }
            }
            for t in types {
                slots.push((n.clone(), *t));
            }
        }
        let _ = base;
        let inputs = operands
            .into_iter()
            .map(|(node, s, source)| {
                let mapping = s
                    .columns
                    .iter()
                    .map(|c| {
                        let split = names
                            .iter()
                            .find(|(n, _)| *n == c.name)
                            .map(|(_, t)| t.len() > 1);
                        match split {
                            Some(true) => out.index_of(&format!("{}_{}", c.name, c.ty.suffix())),
                            Some(false) => out
                                .columns
                                .iter()
                                .enumerate()
                                .skip(usize::from(u.with_source.is_some()))
                                .find(|(_, o)| o.name == c.name)
                                .map(|(i, _)| i),
                            None => None,
                        }
                        .unwrap_or(usize::MAX)
                    })
                    .collect();
                UnionInput {
                    node,
                    mapping,
                    source,
                }
            })
            .collect();
        let _ = (slots, span);
        Ok((
            Node::Union {
                inputs,
                width: out.len(),
                fill: out.columns.iter().map(|c| Value::null_of(c.ty)).collect(),
                with_source: u.with_source.is_some(),
            },
            out,
        ))
    }

    fn join_keys(
        &mut self,
        on: &Expr,
        left: &Schema,
        right: &Schema,
        lk: &mut Vec<usize>,
        rk: &mut Vec<usize>,
    ) -> PResult<()> {
        let side_col = |e: &Expr| -> Option<(bool, String, Span)> {
            if let ExprKind::Member { base, name } = &e.kind {
                if let ExprKind::Name(b) = &base.kind {
                    match b.name.as_str() {
                        "$left" => return Some((true, name.name.clone(), name.span)),
                        "$right" => return Some((false, name.name.clone(), name.span)),
                        _ => {}
                    }
                }
            }
            None
        };
        match &on.kind {
            ExprKind::Name(id) => {
                let l = left.index_of(&id.name);
                let r = right.index_of(&id.name);
                match (l, r) {
                    (Some(l), Some(r)) => {
                        lk.push(l);
                        rk.push(r);
                        Ok(())
                    }
                    _ => Err(self.error(
                        codes::UNKNOWN_NAME,
                        format!("join key '{}' must be a column of both sides", id.name),
                        id.span,
                    )),
                }
            }
            ExprKind::Binary {
                op: BinaryOp::And,
                left: a,
                right: b,
            } => {
                let r1 = self.join_keys(a, left, right, lk, rk);
                let r2 = self.join_keys(b, left, right, lk, rk);
                r1.and(r2)
            }
            ExprKind::Binary {
                op: BinaryOp::Eq,
                left: a,
                right: b,
            } => {
                let (Some(x), Some(y)) = (side_col(a), side_col(b)) else {
                    return Err(self.error(
                        codes::UNSUPPORTED,
                        "join conditions must be columns or '$left.A == $right.B'",
                        on.span,
                    ));
                };
                let (l, r) = match (x.0, y.0) {
                    (true, false) => (x, y),
                    (false, true) => (y, x),
                    _ => {
                        return Err(self.error(
                            codes::UNSUPPORTED,
                            "a join condition compares one $left column with one $right column",
                            on.span,
                        ))
                    }
                };
                let li = left.index_of(&l.1);
                let ri = right.index_of(&r.1);
                if li.is_none() {
                    self.error(
                        codes::UNKNOWN_NAME,
                        format!("unknown column '{}' on the left side", l.1),
                        l.2,
                    );
                }
                if ri.is_none() {
                    self.error(
                        codes::UNKNOWN_NAME,
                        format!("unknown column '{}' on the right side", r.1),
                        r.2,
                    );
                }
                let (Some(li), Some(ri)) = (li, ri) else {
                    return Err(super::Failed);
                };
                lk.push(li);
                rk.push(ri);
                Ok(())
            }
            _ => Err(self.error(
                codes::UNSUPPORTED,
                "join conditions must be columns or '$left.A == $right.B'",
                on.span,
            )),
        }
    }

    fn plan_join(
        &mut self,
        left: Node,
        ls: Schema,
        j: &Join,
        lookup: bool,
        span: Span,
    ) -> PResult<(Node, Schema)> {
        let kind = j.kind.unwrap_or(if lookup {
            JoinKind::LeftOuter
        } else {
            JoinKind::InnerUnique
        });
        if lookup && !matches!(kind, JoinKind::LeftOuter | JoinKind::Inner) {
            return Err(self.error(
                codes::UNSUPPORTED,
                "lookup supports kind=leftouter or kind=inner",
                span,
            ));
        }
        let (right, rs) = self.plan_tabular(&j.right)?;
        let mut lk = Vec::new();
        let mut rk = Vec::new();
        let mut failed = false;
        for on in &j.on {
            if self.join_keys(on, &ls, &rs, &mut lk, &mut rk).is_err() {
                failed = true;
            }
        }
        if j.on.is_empty() {
            return Err(self.error(codes::ARGUMENTS, "join needs 'on' conditions", span));
        }
        if failed {
            return Err(super::Failed);
        }
        for (l, r) in lk.iter().zip(&rk) {
            let (lt, rt) = (ls.columns[*l].ty, rs.columns[*r].ty);
            if lt != rt && !(lt.is_numeric() && rt.is_numeric()) {
                return Err(self.error(
                    codes::OPERATOR_TYPES,
                    format!(
                        "join keys '{}' ({lt}) and '{}' ({rt}) have different types",
                        ls.columns[*l].name, rs.columns[*r].name
                    ),
                    span,
                ));
            }
        }
        let right_keep = if lookup {
            Some(
                (0..rs.len())
                    .filter(|i| !rk.contains(i))
                    .collect::<Vec<usize>>(),
            )
        } else {
            None
        };
        let out = match kind {
            JoinKind::LeftSemi | JoinKind::LeftAnti => ls.clone(),
            JoinKind::RightSemi | JoinKind::RightAnti => rs.clone(),
            _ => {
                let mut out = ls.clone();
                let right_cols: Vec<usize> = match &right_keep {
                    Some(k) => k.clone(),
                    None => (0..rs.len()).collect(),
                };
                for i in right_cols {
                    let c = &rs.columns[i];
                    let name = unique_name(&c.name, &|n| out.index_of(n).is_some());
                    out.columns.push(Column::new(name, c.ty));
                }
                out
            }
        };
        let spec = JoinSpec {
            left,
            right,
            kind,
            left_keys: lk,
            right_keys: rk,
            left_fill: ls.columns.iter().map(|c| Value::null_of(c.ty)).collect(),
            right_fill: rs.columns.iter().map(|c| Value::null_of(c.ty)).collect(),
            right_keep,
            span,
        };
        Ok((Node::Join(Box::new(spec)), out))
    }

    fn plan_mv_expand(
        &mut self,
        input: Node,
        schema: Schema,
        m: &MvExpand,
        span: Span,
    ) -> PResult<(Node, Schema)> {
        let mut out = schema.clone();
        let mut items = Vec::new();
        let mut failed = false;
        for it in &m.items {
            let Ok((p, t)) = self.plan_scalar(&it.expr, Ctx::new(&schema)) else {
                failed = true;
                continue;
            };
            if t != Type::Dynamic {
                self.error(
                    codes::EXPECTED_TYPE,
                    format!("mv-expand needs a dynamic value, not {t}"),
                    it.expr.span,
                );
                failed = true;
                continue;
            }
            let name = match &it.name {
                Some(n) => n.name.clone(),
                None => expr_name(&it.expr)
                    .unwrap_or_else(|| column_name(&|n| out.index_of(n).is_some())),
            };
            let ty = it.to_type.unwrap_or(Type::Dynamic);
            let idx = match out.index_of(&name) {
                Some(i) => {
                    out.columns[i].ty = ty;
                    i
                }
                None => {
                    out.columns.push(Column::new(name, ty));
                    out.len() - 1
                }
            };
            items.push((p, idx, it.to_type));
        }
        let index_col = m.with_item_index.as_ref().map(|n| {
            out.columns.push(Column::new(n.name.clone(), Type::Long));
            out.len() - 1
        });
        let limit = match &m.limit {
            Some(l) => Some(self.plan_count(l)?),
            None => None,
        };
        if failed {
            return Err(super::Failed);
        }
        let _ = span;
        Ok((
            Node::MvExpand(Box::new(MvExpandSpec {
                input,
                items,
                width: out.len(),
                index_col,
                bag_as_array: m.bag_expansion.as_deref() == Some("array"),
                limit,
            })),
            out,
        ))
    }

    fn plan_parse(
        &mut self,
        input: Node,
        schema: Schema,
        p: &Parse,
        span: Span,
    ) -> PResult<(Node, Schema)> {
        let (source, st) = self.plan_scalar(&p.source, Ctx::new(&schema))?;
        let _ = st;
        let kind = p.kind.unwrap_or(ParseKind::Simple);
        let mut re = String::new();
        if let Some(f) = &p.flags {
            let flags: String = f.chars().filter(|c| "imsUx".contains(*c)).collect();
            if !flags.is_empty() {
                re.push_str(&format!("(?{flags})"));
            }
        }
        if kind != ParseKind::Regex {
            re.push_str("(?s)^");
        }
        let mut out = schema.clone();
        let mut columns = Vec::new();
        let mut group = 0;
        for part in &p.pattern {
            match part {
                ParsePart::Wildcard(_) => re.push_str(".*?"),
                ParsePart::Literal(s, _) => {
                    if kind == ParseKind::Regex {
                        re.push_str(s)
                    } else {
                        re.push_str(&regex::escape(s))
                    }
                }
                ParsePart::Column(decl) => {
                    group += 1;
                    let last = matches!(p.pattern.last(), Some(ParsePart::Column(d)) if std::ptr::eq(d, decl));
                    re.push_str(match decl.ty {
                        // Unanchored regex mode: a trailing string column
                        // takes the rest of the text.
                        Type::String if last && kind == ParseKind::Regex => "(.*)",
                        Type::Int | Type::Long => r"(-?\d+)",
                        Type::Real => r"(-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)",
                        _ => "(.*?)",
                    });
                    let idx = match out.index_of(&decl.name.name) {
                        Some(i) => {
                            out.columns[i].ty = decl.ty;
                            i
                        }
                        None => {
                            out.columns
                                .push(Column::new(decl.name.name.clone(), decl.ty));
                            out.len() - 1
                        }
                    };
                    columns.push((group, idx, decl.ty));
                }
            }
        }
        if kind != ParseKind::Regex {
            re.push('$');
        }
        let regex = regex::Regex::new(&re)
            .map_err(|e| self.error(codes::REGEX, format!("invalid parse pattern: {e}"), span))?;
        Ok((
            Node::Parse(Box::new(ParseSpec {
                input,
                source,
                regex,
                columns,
                width: out.len(),
                drop_nonmatching: p.where_,
            })),
            out,
        ))
    }

    fn plan_bag_unpack(
        &mut self,
        input: Node,
        schema: Schema,
        args: &[Expr],
        span: Span,
    ) -> PResult<(Node, Schema)> {
        let Some(first) = args.first() else {
            return Err(self.error(
                codes::ARGUMENTS,
                "bag_unpack() needs a dynamic column",
                span,
            ));
        };
        let ExprKind::Name(id) = &first.kind else {
            return Err(self.error(
                codes::ARGUMENTS,
                "bag_unpack() needs a column name",
                first.span,
            ));
        };
        let Some(column) = schema.index_of(&id.name) else {
            return Err(self.error(
                codes::UNKNOWN_NAME,
                format!("unknown column '{}'", id.name),
                id.span,
            ));
        };
        if schema.columns[column].ty != Type::Dynamic {
            return Err(self.error(
                codes::EXPECTED_TYPE,
                "bag_unpack() needs a dynamic column",
                id.span,
            ));
        }
        let prefix = match args.get(1) {
            None => String::new(),
            Some(a) => {
                let empty = Schema::default();
                match self.plan_scalar(a, Ctx::new(&empty))? {
                    (PExpr::Const(Value::String(s)), _) => s.to_string(),
                    _ => {
                        return Err(self.error(
                            codes::NOT_CONSTANT,
                            "the prefix must be a constant string",
                            a.span,
                        ))
                    }
                }
            }
        };
        let mut known = schema.clone();
        known.columns.remove(column);
        Ok((
            Node::BagUnpack(Box::new(BagUnpackSpec {
                input,
                input_schema: schema,
                column,
                prefix,
                rest: Vec::new(),
                scope: self.scope.clone(),
                span,
            })),
            known,
        ))
    }
}
