//! Scalar expressions: name resolution, type checking through the
//! `functions` contracts, precompiled matchers, constant folding, and
//! inlining of user functions.

use super::scope::Binding;
use super::{codes, ListItem, Node, PExpr, PResult, Planner, SubqueryKind};
use crate::ast::{
    BinaryOp, Expr, ExprKind, Lambda, LetValue, ListOp, Literal, ParamType, StatementKind, UnaryOp,
};
use crate::functions::ops::{self, ListMatcher, StringMatcher};
use crate::functions::{self, ArgInfo};
use crate::span::Span;
use crate::table::Schema;
use crate::value::{Type, Value};
use std::sync::Arc;

/// Where a scalar expression is planned.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// Columns of the current row.
    pub schema: &'a Schema,
    /// Inside a function body: parameters and local lets win over columns.
    pub scope_first: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(schema: &'a Schema) -> Ctx<'a> {
        Ctx {
            schema,
            scope_first: false,
        }
    }
}

/// The result of calling a user function.
pub(crate) enum Called {
    Scalar(PExpr, Type),
    Table(Node, Schema),
}

const MAX_CALL_DEPTH: usize = 64;

pub(crate) fn literal_value(l: &Literal) -> (Value, Type) {
    match l {
        Literal::Null(t) => (Value::null_of(*t), *t),
        Literal::Bool(b) => (Value::Bool(*b), Type::Bool),
        Literal::Int(i) => (Value::Int(*i), Type::Int),
        Literal::Long(i) => (Value::Long(*i), Type::Long),
        Literal::Real(r) => (Value::Real(*r), Type::Real),
        Literal::Decimal(d) => (Value::Decimal(*d), Type::Decimal),
        Literal::String(s) => (Value::string(s.as_str()), Type::String),
        Literal::DateTime(t) => (Value::DateTime(*t), Type::DateTime),
        Literal::TimeSpan(t) => (Value::TimeSpan(*t), Type::TimeSpan),
        Literal::Guid(g) => (Value::Guid(*g), Type::Guid),
        Literal::Dynamic(j) => (Value::dynamic(j.clone()), Type::Dynamic),
    }
}

/// A JSON element as a typed scalar (list operands are flattened to these).
pub(crate) fn json_scalar(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::String(s) => Value::string(s.as_str()),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => n.as_f64().map(Value::Real).unwrap_or(Value::Null),
        },
        other => Value::dynamic(other.clone()),
    }
}

/// Flattens list operands: dynamic arrays contribute their elements.
pub(crate) fn flatten_items(vals: impl IntoIterator<Item = Value>, out: &mut Vec<Value>) {
    for v in vals {
        match &v {
            Value::Dynamic(j) => match j.as_ref() {
                serde_json::Value::Array(a) => out.extend(a.iter().map(json_scalar)),
                other => out.push(json_scalar(other)),
            },
            _ => out.push(v),
        }
    }
}

fn is_string_op(op: BinaryOp) -> bool {
    !matches!(
        op,
        BinaryOp::Or
            | BinaryOp::And
            | BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::MatchesRegex
    )
}

pub(crate) fn arg_info(p: &PExpr, ty: Type) -> ArgInfo {
    ArgInfo {
        ty,
        constant: p.as_const().cloned(),
        type_of: None,
    }
}

impl Planner<'_> {
    /// Plans a scalar expression over `cx.schema`.
    pub(crate) fn plan_scalar(&mut self, e: &Expr, cx: Ctx) -> PResult<(PExpr, Type)> {
        match &e.kind {
            ExprKind::Literal(l) => {
                let (v, t) = literal_value(l);
                Ok((PExpr::Const(v), t))
            }
            ExprKind::Name(id) => self.plan_name(&id.name, id.span, cx),
            ExprKind::Member { base, name } => {
                let (b, bt) = self.plan_scalar(base, cx)?;
                if bt != Type::Dynamic {
                    return Err(self.error(
                        codes::OPERATOR_TYPES,
                        format!("'.{}' needs a dynamic value, not {bt}", name.name),
                        e.span,
                    ));
                }
                Ok((
                    self.fold(PExpr::Member {
                        base: Box::new(b),
                        key: name.name.clone(),
                    }),
                    Type::Dynamic,
                ))
            }
            ExprKind::Index { base, index } => {
                let (b, bt) = self.plan_scalar(base, cx)?;
                let (i, it) = self.plan_scalar(index, cx)?;
                if bt != Type::Dynamic {
                    return Err(self.error(
                        codes::OPERATOR_TYPES,
                        format!("'[...]' needs a dynamic value, not {bt}"),
                        e.span,
                    ));
                }
                if !matches!(it, Type::String | Type::Long | Type::Int | Type::Dynamic) {
                    return Err(self.error(
                        codes::OPERATOR_TYPES,
                        format!("an index must be a string or an integer, not {it}"),
                        index.span,
                    ));
                }
                let p = match &i {
                    PExpr::Const(Value::String(s)) => PExpr::Member {
                        base: Box::new(b),
                        key: s.to_string(),
                    },
                    _ => PExpr::Index {
                        base: Box::new(b),
                        index: Box::new(i),
                    },
                };
                Ok((self.fold(p), Type::Dynamic))
            }
            ExprKind::Unary { op, expr } => {
                let (x, t) = self.plan_scalar(expr, cx)?;
                match op {
                    UnaryOp::Plus => Ok((x, t)),
                    UnaryOp::Neg => {
                        let ty = ops::neg_type(&arg_info(&x, t))
                            .map_err(|m| self.error(codes::OPERATOR_TYPES, m, e.span))?;
                        Ok((self.fold(PExpr::Neg(Box::new(x), e.span)), ty))
                    }
                }
            }
            ExprKind::Binary { op, left, right } => self.plan_binary(*op, left, right, e.span, cx),
            ExprKind::List { op, expr, items } => self.plan_list(*op, expr, items, e.span, cx),
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                let x = self.plan_scalar(expr, cx);
                let lo = self.plan_scalar(low, cx);
                let hi = self.plan_scalar(high, cx);
                let ((x, xt), (lo, lt), (hi, ht)) = (x?, lo?, hi?);
                let ordered = |t: Type| {
                    t.is_numeric() || matches!(t, Type::DateTime | Type::TimeSpan | Type::Dynamic)
                };
                let compatible = match xt {
                    Type::DateTime => {
                        matches!(lt, Type::DateTime | Type::Dynamic)
                            && matches!(ht, Type::DateTime | Type::TimeSpan | Type::Dynamic)
                    }
                    Type::TimeSpan => {
                        matches!(lt, Type::TimeSpan | Type::Dynamic)
                            && matches!(ht, Type::TimeSpan | Type::Dynamic)
                    }
                    Type::Dynamic => ordered(lt) && ordered(ht),
                    t if t.is_numeric() => {
                        (lt.is_numeric() || lt == Type::Dynamic)
                            && (ht.is_numeric() || ht == Type::Dynamic)
                    }
                    _ => false,
                };
                if !compatible {
                    return Err(self.error(
                        codes::OPERATOR_TYPES,
                        format!("'between' is not defined for {xt}, {lt} and {ht}"),
                        e.span,
                    ));
                }
                // `t between (d .. 2d)` means `[d, d + 2d]`.
                let hi = if xt == Type::DateTime && ht == Type::TimeSpan {
                    self.fold(PExpr::Binary {
                        op: BinaryOp::Add,
                        l: Box::new(lo.clone()),
                        r: Box::new(hi),
                        span: high.span,
                    })
                } else {
                    hi
                };
                Ok((
                    self.fold(PExpr::Between {
                        negated: *negated,
                        e: Box::new(x),
                        lo: Box::new(lo),
                        hi: Box::new(hi),
                        span: e.span,
                    }),
                    Type::Bool,
                ))
            }
            ExprKind::Call { name, args } => {
                self.plan_call(&name.name, name.span, args, e.span, cx)
            }
            ExprKind::Star => {
                Err(self.error(codes::UNSUPPORTED, "'*' is not allowed here", e.span))
            }
            ExprKind::TypeOf(t) => Ok((PExpr::Const(Value::string(t.name())), Type::String)),
            ExprKind::Paren(inner) if !self.is_tabular(inner) => self.plan_scalar(inner, cx),
            ExprKind::Pipe { .. }
            | ExprKind::Datatable { .. }
            | ExprKind::Print(_)
            | ExprKind::Range { .. }
            | ExprKind::Union(_)
            | ExprKind::Paren(_) => Err(self.error(
                codes::KIND,
                "a tabular expression is not allowed here (use toscalar() for a single value)",
                e.span,
            )),
        }
    }

    fn plan_name(&mut self, name: &str, span: Span, cx: Ctx) -> PResult<(PExpr, Type)> {
        if !cx.scope_first {
            if let Some(i) = cx.schema.index_of(name) {
                return Ok((PExpr::Col(i), cx.schema.columns[i].ty));
            }
        }
        match self.scope.get(name).cloned() {
            Some(Binding::Scalar(p, t)) => return Ok((p, t)),
            Some(Binding::Failed { .. }) => return Err(super::Failed),
            Some(Binding::Table(..)) => {
                return Err(self.error(
                    codes::KIND,
                    format!("'{name}' is a table, not a scalar value (use toscalar({name}))"),
                    span,
                ))
            }
            Some(Binding::Function(l, fscope)) => {
                return match self.call_function(&l, &fscope, &[], span, cx, None)? {
                    Called::Scalar(p, t) => Ok((p, t)),
                    Called::Table(..) => Err(self.error(
                        codes::KIND,
                        format!("'{name}' is a tabular function, not a scalar value"),
                        span,
                    )),
                };
            }
            None => {}
        }
        if cx.scope_first {
            if let Some(i) = cx.schema.index_of(name) {
                return Ok((PExpr::Col(i), cx.schema.columns[i].ty));
            }
        }
        if self.catalog.schema(name).is_some() {
            return Err(self.error(
                codes::KIND,
                format!("'{name}' is a table, not a scalar value"),
                span,
            ));
        }
        let mut msg = format!("unknown column or name '{name}'");
        let similar: Vec<&str> = cx
            .schema
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .filter(|c| c.eq_ignore_ascii_case(name))
            .collect();
        if let Some(s) = similar.first() {
            msg.push_str(&format!(" (names are case-sensitive: did you mean '{s}'?)"));
        }
        Err(self.error(codes::UNKNOWN_NAME, msg, span))
    }

    fn plan_binary(
        &mut self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        span: Span,
        cx: Ctx,
    ) -> PResult<(PExpr, Type)> {
        let l = self.plan_scalar(left, cx);
        let r = self.plan_scalar(right, cx);
        let ((l, lt), (r, rt)) = (l?, r?);
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            for (t, s) in [(lt, left.span), (rt, right.span)] {
                if !matches!(t, Type::Bool | Type::Dynamic) {
                    return Err(self.error(
                        codes::OPERATOR_TYPES,
                        format!("'{}' needs bool operands, not {t}", op.text()),
                        s,
                    ));
                }
            }
            let p = if op == BinaryOp::And {
                PExpr::And(Box::new(l), Box::new(r))
            } else {
                PExpr::Or(Box::new(l), Box::new(r))
            };
            return Ok((self.fold(p), Type::Bool));
        }
        let ty = ops::binary_type(op, &arg_info(&l, lt), &arg_info(&r, rt))
            .map_err(|m| self.error(codes::OPERATOR_TYPES, m, span))?;
        if let (true, Some(Value::String(needle)), Type::String | Type::Dynamic) =
            (is_string_op(op), r.as_const(), lt)
        {
            if let Some(m) = StringMatcher::new(op, needle) {
                let p = PExpr::StrMatch {
                    m: Arc::new(m),
                    e: Box::new(l),
                    op,
                    needle: Arc::from(needle.as_ref()),
                };
                return Ok((self.fold(p), ty));
            }
        }
        if op == BinaryOp::MatchesRegex {
            if let Some(Value::String(pat)) = r.as_const() {
                let re = regex::Regex::new(pat).map_err(|err| {
                    self.error(
                        codes::REGEX,
                        format!("invalid regular expression: {err}"),
                        right.span,
                    )
                })?;
                let p = PExpr::Regex {
                    re: Arc::new(re),
                    e: Box::new(l),
                };
                return Ok((self.fold(p), ty));
            }
        }
        let p = PExpr::Binary {
            op,
            l: Box::new(l),
            r: Box::new(r),
            span,
        };
        Ok((self.fold(p), ty))
    }

    fn plan_list(
        &mut self,
        op: ListOp,
        expr: &Expr,
        items: &[Expr],
        span: Span,
        cx: Ctx,
    ) -> PResult<(PExpr, Type)> {
        let x = self.plan_scalar(expr, cx);
        let mut planned = Vec::new();
        let mut failed = false;
        for it in items {
            if self.is_tabular(it) {
                match self.plan_tabular(it) {
                    Ok((node, schema)) => {
                        if schema.is_empty() {
                            failed = true;
                            self.error(
                                codes::KIND,
                                "a list operand table needs at least one column",
                                it.span,
                            );
                        } else {
                            let id = self.add_subquery(node, SubqueryKind::Column, it.span);
                            planned.push(ListItem::Table(id));
                        }
                    }
                    Err(_) => failed = true,
                }
            } else {
                match self.plan_scalar(it, cx) {
                    Ok((p, _)) => planned.push(ListItem::Expr(p)),
                    Err(_) => failed = true,
                }
            }
        }
        let (x, xt) = x?;
        if failed {
            return Err(super::Failed);
        }
        let _ = xt;
        let consts: Option<Vec<Value>> = planned
            .iter()
            .map(|i| match i {
                ListItem::Expr(PExpr::Const(v)) => Some(v.clone()),
                _ => None,
            })
            .collect();
        if let Some(vals) = consts {
            let mut flat = Vec::new();
            flatten_items(vals, &mut flat);
            let m = ListMatcher::new(op, &flat)
                .map_err(|m| self.error(codes::OPERATOR_TYPES, m, span))?;
            let p = PExpr::InList {
                m: Arc::new(m),
                e: Box::new(x),
                op,
                items: Arc::new(flat),
            };
            return Ok((self.fold(p), Type::Bool));
        }
        let row_dependent = planned
            .iter()
            .any(|i| matches!(i, ListItem::Expr(p) if p.depends_on_row()));
        let cache = if row_dependent {
            None
        } else {
            self.list_caches += 1;
            Some(self.list_caches - 1)
        };
        Ok((
            PExpr::InListDyn {
                op,
                e: Box::new(x),
                items: planned,
                cache,
                span,
            },
            Type::Bool,
        ))
    }

    /// Plans the arguments of a builtin call (typeof(T) arguments included).
    fn plan_args(&mut self, args: &[Expr], cx: Ctx) -> PResult<(Vec<PExpr>, Vec<ArgInfo>)> {
        let mut ps = Vec::new();
        let mut infos = Vec::new();
        let mut failed = false;
        for a in args {
            if let ExprKind::TypeOf(t) = &a.kind {
                ps.push(PExpr::Const(Value::string(t.name())));
                infos.push(ArgInfo {
                    ty: Type::String,
                    constant: Some(Value::string(t.name())),
                    type_of: Some(*t),
                });
                continue;
            }
            match self.plan_scalar(a, cx) {
                Ok((p, t)) => {
                    infos.push(arg_info(&p, t));
                    ps.push(p);
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            Err(super::Failed)
        } else {
            Ok((ps, infos))
        }
    }

    fn plan_call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        span: Span,
        cx: Ctx,
    ) -> PResult<(PExpr, Type)> {
        // User functions shadow builtins.
        if let Some(Binding::Function(l, fscope)) = self.scope.get(name).cloned() {
            return match self.call_function(&l, &fscope, args, span, cx, None)? {
                Called::Scalar(p, t) => Ok((p, t)),
                Called::Table(..) => Err(self.error(
                    codes::KIND,
                    format!("'{name}' returns a table; it cannot be used as a scalar"),
                    span,
                )),
            };
        }
        match name {
            "now" | "ago" => {
                let (ps, infos) = self.plan_args(args, cx)?;
                if name == "ago" && ps.len() != 1 || ps.len() > 1 {
                    return Err(self.error(
                        codes::ARGUMENTS,
                        format!("{name}() takes one timespan argument"),
                        span,
                    ));
                }
                let Some(off) = ps.into_iter().next() else {
                    return Ok((PExpr::Now, Type::DateTime));
                };
                if !matches!(
                    infos.first().map(|i| i.ty),
                    Some(Type::TimeSpan | Type::Dynamic)
                ) {
                    return Err(self.error(
                        codes::ARGUMENTS,
                        format!("{name}() needs a timespan argument"),
                        span,
                    ));
                }
                let op = if name == "ago" {
                    BinaryOp::Sub
                } else {
                    BinaryOp::Add
                };
                Ok((
                    PExpr::Binary {
                        op,
                        l: Box::new(PExpr::Now),
                        r: Box::new(off),
                        span,
                    },
                    Type::DateTime,
                ))
            }
            "toscalar" => {
                let [arg] = args else {
                    return Err(self.error(
                        codes::ARGUMENTS,
                        "toscalar() takes one argument",
                        span,
                    ));
                };
                if !self.is_tabular(arg) {
                    return self.plan_scalar(arg, cx);
                }
                let (node, schema) = self.plan_tabular(arg)?;
                let Some(first) = schema.columns.first() else {
                    return Err(self.error(
                        codes::KIND,
                        "toscalar() needs a table with at least one column",
                        span,
                    ));
                };
                let ty = first.ty;
                let id = self.add_subquery(node, SubqueryKind::Scalar(ty), span);
                Ok((PExpr::Sub(id), ty))
            }
            "row_number" | "row_cumsum" => {
                if args.len() > 2 || (name == "row_cumsum" && args.is_empty()) {
                    return Err(self.error(
                        codes::ARGUMENTS,
                        format!("{name}() takes 1 or 2 arguments"),
                        span,
                    ));
                }
                let (ps, infos) = self.plan_args(args, cx)?;
                let mut it = ps.into_iter();
                let first = it.next();
                let restart = match (it.next(), infos.get(1).map(|i| i.ty)) {
                    (None, _) => None,
                    (Some(r), Some(Type::Bool | Type::Dynamic)) => Some(Box::new(r)),
                    (Some(_), _) => {
                        return Err(self.error(
                            codes::ARGUMENTS,
                            format!("{name}(): the restart argument must be bool"),
                            span,
                        ))
                    }
                };
                if name == "row_cumsum" {
                    let ty = infos.first().map(|i| i.ty).unwrap_or(Type::Long);
                    if !ty.is_numeric() && ty != Type::TimeSpan {
                        return Err(self.error(
                            codes::ARGUMENTS,
                            format!("row_cumsum() needs a number, not {ty}"),
                            span,
                        ));
                    }
                    let term = Box::new(first.unwrap_or(PExpr::Const(Value::Long(0))));
                    let ty = if ty == Type::Int { Type::Long } else { ty };
                    return Ok((PExpr::RowCumsum { term, restart }, ty));
                }
                let start = match first {
                    None => 1,
                    Some(PExpr::Const(Value::Long(i))) => i,
                    Some(PExpr::Const(Value::Int(i))) => i64::from(i),
                    Some(_) => {
                        return Err(self.error(
                            codes::NOT_CONSTANT,
                            "row_number() takes a constant start",
                            span,
                        ))
                    }
                };
                Ok((PExpr::RowNumber { start, restart }, Type::Long))
            }
            "prev" | "next" => {
                if args.is_empty() || args.len() > 3 {
                    return Err(self.error(
                        codes::ARGUMENTS,
                        format!("{name}() takes 1 to 3 arguments"),
                        span,
                    ));
                }
                let (ps, infos) = self.plan_args(args, cx)?;
                let mut it = ps.into_iter();
                let e = it.next().unwrap_or(PExpr::Const(Value::Null));
                let ty = infos.first().map(|i| i.ty).unwrap_or(Type::Dynamic);
                let offset = match it.next() {
                    None => 1,
                    Some(PExpr::Const(Value::Long(i))) if i >= 0 => {
                        usize::try_from(i).unwrap_or(usize::MAX)
                    }
                    Some(PExpr::Const(Value::Int(i))) if i >= 0 => {
                        usize::try_from(i).unwrap_or(usize::MAX)
                    }
                    Some(_) => {
                        return Err(self.error(
                            codes::NOT_CONSTANT,
                            format!("{name}() takes a constant non-negative offset"),
                            span,
                        ))
                    }
                };
                let default = it.next().unwrap_or(PExpr::Const(Value::null_of(ty)));
                Ok((
                    PExpr::Prev {
                        e: Box::new(e),
                        offset,
                        default: Box::new(default),
                        forward: name == "next",
                    },
                    ty,
                ))
            }
            "materialize" => Err(self.error(
                codes::KIND,
                "materialize() returns a table, not a scalar",
                span,
            )),
            "column_ifexists" => {
                let [col, default] = args else {
                    return Err(self.error(
                        codes::ARGUMENTS,
                        "column_ifexists() takes a column name and a default",
                        span,
                    ));
                };
                let empty = Schema::default();
                let (name, _) = self.plan_scalar(col, Ctx::new(&empty))?;
                let Some(Value::String(name)) = name.as_const() else {
                    return Err(self.error(
                        codes::NOT_CONSTANT,
                        "the column name must be a constant string",
                        col.span,
                    ));
                };
                match cx.schema.index_of(name) {
                    Some(i) => Ok((PExpr::Col(i), cx.schema.columns[i].ty)),
                    None => self.plan_scalar(default, cx),
                }
            }
            _ => {
                let Some(f) = functions::lookup(name) else {
                    if crate::aggregate::lookup(name).is_some() {
                        return Err(self.error(
                            codes::UNKNOWN_FUNCTION,
                            format!("aggregate function '{name}' can only be used in summarize"),
                            name_span,
                        ));
                    }
                    return Err(self.error(
                        codes::UNKNOWN_FUNCTION,
                        format!("unknown function '{name}'"),
                        name_span,
                    ));
                };
                let (ps, infos) = self.plan_args(args, cx)?;
                if ps.len() < f.min_args || ps.len() > f.max_args {
                    let want = if f.max_args == usize::MAX {
                        format!("at least {}", f.min_args)
                    } else if f.min_args == f.max_args {
                        f.min_args.to_string()
                    } else {
                        format!("{} to {}", f.min_args, f.max_args)
                    };
                    return Err(self.error(
                        codes::ARGUMENTS,
                        format!("{name}() takes {want} argument(s), got {}", ps.len()),
                        span,
                    ));
                }
                let ty = (f.ret)(&infos)
                    .map_err(|m| self.error(codes::ARGUMENTS, format!("{name}(): {m}"), span))?;
                let p = PExpr::Call { f, args: ps, span };
                Ok((self.fold(p), ty))
            }
        }
    }

    /// Inlines a user function call.
    pub(crate) fn call_function(
        &mut self,
        lambda: &Arc<Lambda>,
        fscope: &super::Scope,
        args: &[Expr],
        span: Span,
        cx: Ctx,
        first: Option<Binding>,
    ) -> PResult<Called> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(self.error(
                codes::UNSUPPORTED,
                "functions nest too deeply (recursion?)",
                span,
            ));
        }
        let skip = usize::from(first.is_some());
        if args.len() + skip > lambda.params.len() {
            return Err(self.error(
                codes::ARGUMENTS,
                format!(
                    "the function takes {} argument(s), got {}",
                    lambda.params.len(),
                    args.len() + skip
                ),
                span,
            ));
        }
        // Bind parameters: arguments are planned in the caller's scope.
        let mut inner = fscope.clone();
        let mut failed = false;
        let mut first = first;
        for (i, p) in lambda.params.iter().enumerate() {
            if i == 0 {
                if let Some(b) = first.take() {
                    inner = inner.with(p.name.name.clone(), b);
                    continue;
                }
            }
            let binding = match (&p.ty, args.get(i.saturating_sub(skip))) {
                (ParamType::Scalar(_), Some(a)) => {
                    self.plan_scalar(a, cx).map(|(x, t)| Binding::Scalar(x, t))
                }
                (ParamType::Tabular { .. }, Some(a)) => {
                    self.plan_tabular(a).map(|(n, s)| Binding::Table(n, s))
                }
                (ParamType::Scalar(t), None) => match &p.default {
                    Some(d) => {
                        let saved = std::mem::replace(&mut self.scope, fscope.clone());
                        let empty = Schema::default();
                        let r = self.plan_scalar(d, Ctx::new(&empty));
                        self.scope = saved;
                        r.map(|(x, t)| Binding::Scalar(x, t))
                    }
                    None => Err(self.error(
                        codes::ARGUMENTS,
                        format!("missing argument '{}' ({t})", p.name.name),
                        span,
                    )),
                },
                (ParamType::Tabular { .. }, None) => Err(self.error(
                    codes::ARGUMENTS,
                    format!("missing tabular argument '{}'", p.name.name),
                    span,
                )),
            };
            match binding {
                Ok(b) => inner = inner.with(p.name.name.clone(), b),
                Err(_) => failed = true,
            }
        }
        if failed {
            return Err(super::Failed);
        }
        let saved = std::mem::replace(&mut self.scope, inner);
        self.depth += 1;
        let r = self.plan_body(lambda, span, cx);
        self.depth -= 1;
        self.scope = saved;
        if let Ok(Called::Scalar(p, _)) = &r {
            if p.size(super::MAX_PLAN_NODES + 1) > super::MAX_PLAN_NODES
                || p.depth(super::MAX_PLAN_DEPTH + 1) > super::MAX_PLAN_DEPTH
            {
                return Err(self.error(
                    codes::UNSUPPORTED,
                    format!(
                        "the expression expands to more than {} nodes (nested function calls)",
                        super::MAX_PLAN_NODES
                    ),
                    span,
                ));
            }
        }
        r
    }

    fn plan_body(&mut self, lambda: &Lambda, span: Span, cx: Ctx) -> PResult<Called> {
        let mut last = None;
        for st in &lambda.body {
            match &st.kind {
                StatementKind::Let { name, value } => self.plan_let(&name.name, value),
                StatementKind::Set { .. } => {}
                StatementKind::Expr(e) => last = Some(e),
            }
        }
        let Some(e) = last else {
            return Err(self.error(
                codes::KIND,
                "the function body has no result expression",
                span,
            ));
        };
        if self.is_tabular(e) {
            let (n, s) = self.plan_tabular(e)?;
            Ok(Called::Table(n, s))
        } else {
            let bcx = Ctx {
                schema: cx.schema,
                scope_first: true,
            };
            let (p, t) = self.plan_scalar(e, bcx)?;
            Ok(Called::Scalar(p, t))
        }
    }

    /// Binds one `let`.
    pub(crate) fn plan_let(&mut self, name: &str, value: &LetValue) {
        let binding = match value {
            LetValue::Function(l) => Binding::Function(Arc::new(l.clone()), self.scope.clone()),
            LetValue::Expr(e) => {
                if self.is_tabular(e) {
                    match self.plan_tabular(e) {
                        Ok((n, s)) => Binding::Table(n, s),
                        Err(_) => Binding::Failed { tabular: true },
                    }
                } else {
                    let empty = Schema::default();
                    match self.plan_scalar(e, Ctx::new(&empty)) {
                        Ok((p, t)) => Binding::Scalar(p, t),
                        Err(_) => Binding::Failed { tabular: false },
                    }
                }
            }
        };
        self.scope = self.scope.with(name, binding);
    }

    /// Whether an expression denotes a table (decided from syntax, the
    /// scope and the catalog).
    pub(crate) fn is_tabular(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Pipe { .. }
            | ExprKind::Datatable { .. }
            | ExprKind::Print(_)
            | ExprKind::Range { .. }
            | ExprKind::Union(_) => true,
            ExprKind::Paren(inner) => self.is_tabular(inner),
            ExprKind::Name(id) => match self.scope.get(&id.name) {
                Some(Binding::Table(..)) => true,
                Some(Binding::Function(l, s)) => self.function_is_tabular(l, s),
                Some(Binding::Scalar(..)) => false,
                Some(Binding::Failed { tabular }) => *tabular,
                None => self.catalog.schema(&id.name).is_some(),
            },
            ExprKind::Call { name, .. } => match self.scope.get(&name.name) {
                Some(Binding::Function(l, s)) => self.function_is_tabular(l, s),
                _ => name.name == "materialize",
            },
            _ => false,
        }
    }

    fn function_is_tabular(&self, l: &Lambda, fscope: &super::Scope) -> bool {
        let mut scope = fscope.clone();
        for p in &l.params {
            let b = match &p.ty {
                ParamType::Scalar(t) => Binding::Scalar(PExpr::Const(Value::Null), *t),
                ParamType::Tabular { .. } => Binding::Table(
                    Node::Values {
                        rows: Arc::new(Vec::new()),
                    },
                    Schema::default(),
                ),
            };
            scope = scope.with(p.name.name.clone(), b);
        }
        let probe = Planner {
            catalog: self.catalog,
            scope,
            diags: Vec::new(),
            subqueries: Vec::new(),
            list_caches: 0,
            materialized: 0,
            sub_base: 0,
            depth: self.depth + 1,
        };
        let mut probe = probe;
        let mut last = None;
        for st in &l.body {
            match &st.kind {
                StatementKind::Let { name, value } => {
                    let b = match value {
                        LetValue::Function(f) => {
                            Binding::Function(Arc::new(f.clone()), probe.scope.clone())
                        }
                        LetValue::Expr(e) if probe.is_tabular(e) => Binding::Table(
                            Node::Values {
                                rows: Arc::new(Vec::new()),
                            },
                            Schema::default(),
                        ),
                        LetValue::Expr(_) => {
                            Binding::Scalar(PExpr::Const(Value::Null), Type::Dynamic)
                        }
                    };
                    probe.scope = probe.scope.with(name.name.clone(), b);
                }
                StatementKind::Set { .. } => {}
                StatementKind::Expr(e) => last = Some(e),
            }
        }
        if probe.depth > MAX_CALL_DEPTH {
            return false;
        }
        last.is_some_and(|e| probe.is_tabular(e))
    }

    /// Replaces an expression whose operands are all constants by its value.
    pub(crate) fn fold(&self, p: PExpr) -> PExpr {
        fold_expr(p)
    }
}

/// Replaces `now()` by the query's instant and folds what became constant
/// (done once per execution, so `ago(1d)` is not recomputed per row).
pub(crate) fn bind_now(p: &mut PExpr, now: i64) {
    if !p.uses_now() {
        return;
    }
    if matches!(p, PExpr::Now) {
        *p = PExpr::Const(Value::DateTime(now));
        return;
    }
    p.for_each_child_mut(&mut |c| bind_now(c, now));
    let taken = std::mem::replace(p, PExpr::Const(Value::Null));
    *p = fold_expr(taken);
}

fn fold_expr(p: PExpr) -> PExpr {
    {
        if matches!(
            p,
            PExpr::Const(_)
                | PExpr::Col(_)
                | PExpr::Now
                | PExpr::Sub(_)
                | PExpr::RowNumber { .. }
                | PExpr::RowCumsum { .. }
                | PExpr::Prev { .. }
        ) {
            return p;
        }
        let mut all_const = true;
        p.for_each_child(&mut |c| all_const &= c.as_const().is_some());
        if !all_const {
            return p;
        }
        match crate::exec::eval_const(&p) {
            Ok(v) => PExpr::Const(v),
            Err(_) => p,
        }
    }
}
