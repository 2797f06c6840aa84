//! Expressions: the Pratt loop over `token::binding` (Kusto's
//! levels, a refinement of [`BinaryOp::precedence`]) plus the list
//! operators ([`ListOp`]) and `between`, unary signs (folded into numeric
//! literals), postfix `.name` / `[index]`, calls, literals (typed ones and
//! `dynamic(...)`), and the expressions that produce tables (`print`,
//! `range`, `datatable`, `union`, parenthesized pipelines).
//!
//! Must not live here: tabular operators after `|` (`operator.rs`).

use super::{Failed, PResult, Parser};
use crate::ast::{BinaryOp, ColumnDecl, Expr, ExprKind, Ident, ListOp, Literal, UnaryOp};
use crate::token::{RawKind, TokenKind};
use crate::value::{Decimal, Type, Uuid};

pub(super) use crate::token::UNARY_BINDING as UNARY_PREC;
use crate::token::{binding, CMP_BINDING as CMP_PREC};

enum Infix {
    Binary(BinaryOp),
    List(ListOp),
    Between(bool),
}

impl Infix {
    fn precedence(&self) -> u8 {
        match self {
            Infix::Binary(op) => binding(*op),
            Infix::List(_) | Infix::Between(_) => CMP_PREC,
        }
    }
}

impl<'a> Parser<'a> {
    /// A pipeline: an expression followed by `| operator`s. Used where a
    /// tabular expression may appear (statements, let values, arguments,
    /// parentheses, list items).
    pub(super) fn parse_pipeline(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.parse_pipeline_inner();
        self.leave();
        r
    }

    fn parse_pipeline_inner(&mut self) -> PResult<Expr> {
        let mut e = self.parse_expr(0)?;
        while self.is(&TokenKind::Pipe) {
            self.bump();
            match self.parse_operator() {
                Ok(op) => {
                    let span = e.span.to(op.span);
                    e = Expr::new(
                        ExprKind::Pipe {
                            input: Box::new(e),
                            op: Box::new(op),
                        },
                        span,
                    );
                }
                Err(Failed) => self.recover(true),
            }
        }
        Ok(e)
    }

    /// A scalar (or tabular-source) expression; stops at `|`, `,`, `)`,
    /// and any word that is not an infix operator.
    pub(super) fn parse_expr(&mut self, min_prec: u8) -> PResult<Expr> {
        self.enter()?;
        let r = self.parse_expr_inner(min_prec);
        self.leave();
        r
    }

    fn parse_expr_inner(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        while let Some((infix, ntoks)) = self.peek_infix() {
            let prec = infix.precedence();
            if prec < min_prec {
                break;
            }
            let op_span = self.cur_span();
            for _ in 0..ntoks {
                self.bump();
            }
            let kind = match infix {
                Infix::Binary(op) => {
                    let rhs = self.parse_expr(prec + 1)?;
                    ExprKind::Binary {
                        op,
                        left: Box::new(lhs),
                        right: Box::new(rhs),
                    }
                }
                Infix::List(op) => {
                    let items = self.parse_list_items(op)?;
                    ExprKind::List {
                        op,
                        expr: Box::new(lhs),
                        items,
                    }
                }
                Infix::Between(negated) => {
                    self.expect(&TokenKind::LParen, "'(' after 'between'")?;
                    let (low, high) = self.nested(|p| {
                        let low = p.parse_expr(0)?;
                        p.expect(&TokenKind::DotDot, "'..' between the bounds")?;
                        let high = p.parse_expr(0)?;
                        Ok((low, high))
                    })?;
                    self.expect(&TokenKind::RParen, "')' to close 'between'")?;
                    ExprKind::Between {
                        negated,
                        expr: Box::new(lhs),
                        low: Box::new(low),
                        high: Box::new(high),
                    }
                }
            };
            let _ = op_span;
            let start = match &kind {
                ExprKind::Binary { left, .. } => left.span,
                ExprKind::List { expr, .. } | ExprKind::Between { expr, .. } => expr.span,
                _ => op_span,
            };
            lhs = Expr::new(kind, self.span_from(start));
        }
        Ok(lhs)
    }

    /// `(a, b, (T | project x), dynamic([..]))` after a list operator.
    fn parse_list_items(&mut self, op: ListOp) -> PResult<Vec<Expr>> {
        self.expect(
            &TokenKind::LParen,
            &format!("'(' and a list after '{}'", op.text()),
        )?;
        let items = self.nested(|p| {
            let mut items = Vec::new();
            if p.is(&TokenKind::RParen) {
                return Ok(items);
            }
            loop {
                items.push(p.parse_pipeline()?);
                if !p.eat(&TokenKind::Comma) {
                    break;
                }
            }
            Ok(items)
        })?;
        self.expect(&TokenKind::RParen, "',' or ')' in the list")?;
        Ok(items)
    }

    /// The infix operator at the cursor and how many tokens it spans.
    fn peek_infix(&self) -> Option<(Infix, usize)> {
        let simple = |op| Some((Infix::Binary(op), 1));
        match self.peek() {
            TokenKind::EqEq => simple(BinaryOp::Eq),
            TokenKind::Ne => simple(BinaryOp::Ne),
            TokenKind::Lt => simple(BinaryOp::Lt),
            TokenKind::Le => simple(BinaryOp::Le),
            TokenKind::Gt => simple(BinaryOp::Gt),
            TokenKind::Ge => simple(BinaryOp::Ge),
            TokenKind::EqTilde => simple(BinaryOp::EqCi),
            TokenKind::BangTilde => simple(BinaryOp::NeCi),
            TokenKind::Plus => simple(BinaryOp::Add),
            TokenKind::Minus => simple(BinaryOp::Sub),
            TokenKind::Star => simple(BinaryOp::Mul),
            TokenKind::Slash => simple(BinaryOp::Div),
            TokenKind::Percent => simple(BinaryOp::Mod),
            TokenKind::Ident => {
                let w = self.word_at(0)?;
                self.word_infix(w, 0)
            }
            TokenKind::Bang if self.adjacent(1) => {
                let w = self.word_at(1)?;
                let (infix, n) = self.word_infix(&format!("!{w}"), 1)?;
                Some((infix, n + 1))
            }
            _ => None,
        }
    }

    /// A word operator (`has`, `in`, `in~`, `matches regex`, `between`, with
    /// `!` already prefixed) whose word token is at `ahead`.
    fn word_infix(&self, w: &str, ahead: usize) -> Option<(Infix, usize)> {
        match w {
            "between" => return Some((Infix::Between(false), 1)),
            "!between" => return Some((Infix::Between(true), 1)),
            "matches" => {
                return (self.word_at(ahead + 1) == Some("regex"))
                    .then_some((Infix::Binary(BinaryOp::MatchesRegex), 2));
            }
            "in" | "!in"
                if self.is_at(ahead + 1, &TokenKind::Tilde) && self.adjacent(ahead + 1) =>
            {
                let op = if w == "in" {
                    ListOp::InCi
                } else {
                    ListOp::NotInCi
                };
                return Some((Infix::List(op), 2));
            }
            _ => {}
        }
        if let Some(op) = ListOp::from_text(w) {
            return Some((Infix::List(op), 1));
        }
        match BinaryOp::from_text(w) {
            Some(op) if w.starts_with(|c: char| c.is_alphabetic() || c == '!') => {
                Some((Infix::Binary(op), 1))
            }
            _ => None,
        }
    }

    /// Unary `-`/`+`; a sign directly before a number or timespan literal is
    /// folded into the literal.
    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            TokenKind::Minus => UnaryOp::Neg,
            TokenKind::Plus => UnaryOp::Plus,
            _ => {
                let e = self.parse_primary()?;
                return self.parse_postfix(e);
            }
        };
        let start = self.bump().span;
        let neg = op == UnaryOp::Neg;
        let lit = match self.peek().clone() {
            TokenKind::Long(v) => Some(if neg {
                i64::try_from(-(v as i128)).ok().map(Literal::Long)
            } else {
                i64::try_from(v).ok().map(Literal::Long)
            }),
            TokenKind::Real(v) => Some(Some(Literal::Real(if neg { -v } else { v }))),
            TokenKind::TimeSpan(t) => Some(if neg {
                t.checked_neg().map(Literal::TimeSpan)
            } else {
                Some(Literal::TimeSpan(t))
            }),
            _ => None,
        };
        if let Some(lit) = lit {
            let t = self.bump();
            let span = start.to(t.span);
            return match lit {
                Some(l) => Ok(Expr::new(ExprKind::Literal(l), span)),
                None => {
                    Err(self.error_at("KQL005", "integer literal is out of range for long", span))
                }
            };
        }
        let operand = self.parse_expr(UNARY_PREC)?;
        let span = self.span_from(start);
        Ok(Expr::new(
            ExprKind::Unary {
                op,
                expr: Box::new(operand),
            },
            span,
        ))
    }

    /// `.name`, `.['name']`, `[index]` after a primary.
    fn parse_postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            match self.peek() {
                TokenKind::Dot => {
                    self.bump();
                    let name = self.parse_name("a property name after '.'")?;
                    let span = e.span.to(name.span);
                    e = Expr::new(
                        ExprKind::Member {
                            base: Box::new(e),
                            name,
                        },
                        span,
                    );
                }
                TokenKind::LBracket => {
                    self.bump();
                    let index = self.nested(|p| p.parse_expr(0))?;
                    self.expect(&TokenKind::RBracket, "']' to close the index")?;
                    let span = self.span_from(e.span);
                    e = Expr::new(
                        ExprKind::Index {
                            base: Box::new(e),
                            index: Box::new(index),
                        },
                        span,
                    );
                }
                _ => return Ok(e),
            }
        }
    }

    fn lit(&self, l: Literal, span: crate::span::Span) -> Expr {
        Expr::new(ExprKind::Literal(l), span)
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let t = self.tok(0).clone();
        match &t.kind {
            TokenKind::Long(v) => {
                self.bump();
                match i64::try_from(*v) {
                    Ok(v) => Ok(self.lit(Literal::Long(v), t.span)),
                    Err(_) => Err(self.error_at(
                        "KQL005",
                        "integer literal is out of range for long",
                        t.span,
                    )),
                }
            }
            TokenKind::Real(v) => {
                self.bump();
                Ok(self.lit(Literal::Real(*v), t.span))
            }
            TokenKind::TimeSpan(v) => {
                self.bump();
                Ok(self.lit(Literal::TimeSpan(*v), t.span))
            }
            TokenKind::String(_) => {
                let s = self.parse_strings();
                Ok(self.lit(Literal::String(s), self.span_from(t.span)))
            }
            TokenKind::Raw {
                kind,
                text,
                text_span,
            } => {
                self.bump();
                let l = self.raw_literal(*kind, text, *text_span)?;
                Ok(self.lit(l, t.span))
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.nested(|p| p.parse_pipeline())?;
                self.expect(&TokenKind::RParen, "')'")?;
                if Self::is_tabular(&inner) {
                    Ok(Expr::new(
                        ExprKind::Paren(Box::new(inner)),
                        self.span_from(t.span),
                    ))
                } else {
                    Ok(inner)
                }
            }
            TokenKind::LBracket if self.starts_name(0) => {
                let name = self.parse_name("a name")?;
                let span = name.span;
                Ok(Expr::new(ExprKind::Name(name), span))
            }
            TokenKind::Star => {
                self.bump();
                Ok(Expr::new(ExprKind::Star, t.span))
            }
            TokenKind::Ident => self.parse_word_primary(&t),
            _ => Err(self.error_expected("an expression")),
        }
    }

    /// One string literal or several adjacent ones, concatenated.
    pub(super) fn parse_strings(&mut self) -> String {
        let mut s = String::new();
        while let TokenKind::String(part) = self.peek() {
            s.push_str(part);
            self.bump();
        }
        s
    }

    fn parse_word_primary(&mut self, t: &crate::token::Token) -> PResult<Expr> {
        let w = self.text_of(t);
        let next_paren = self.is_at(1, &TokenKind::LParen);
        match w {
            "true" | "false" => {
                self.bump();
                return Ok(self.lit(Literal::Bool(w == "true"), t.span));
            }
            "print" => return self.parse_print(),
            "union" => {
                self.bump();
                let u = self.parse_union_body()?;
                return Ok(Expr::new(ExprKind::Union(u), self.span_from(t.span)));
            }
            "range" if self.word_at(2) == Some("from") => return self.parse_range(),
            "datatable" if next_paren => return self.parse_datatable(),
            "externaldata" | "external_table" | "cluster" | "database" | "materialized_view"
                if next_paren =>
            {
                return Err(self.error_at(
                    "KQL014",
                    format!(
                        "'{w}(...)' is not supported: this engine runs offline on local tables"
                    ),
                    t.span,
                ));
            }
            "typeof" if next_paren => {
                self.bump();
                self.bump();
                let ty = self.parse_type()?;
                self.expect(&TokenKind::RParen, "')' after the type")?;
                return Ok(Expr::new(ExprKind::TypeOf(ty), self.span_from(t.span)));
            }
            _ => {}
        }
        if next_paren {
            if let Some(ty) = literal_type(w) {
                self.bump();
                let l = self.parse_typed_literal(ty)?;
                return Ok(self.lit(l, self.span_from(t.span)));
            }
            self.bump();
            let name = Ident::new(w, t.span);
            let args = self.parse_args()?;
            return Ok(Expr::new(
                ExprKind::Call { name, args },
                self.span_from(t.span),
            ));
        }
        self.bump();
        Ok(Expr::new(ExprKind::Name(Ident::new(w, t.span)), t.span))
    }

    /// `(arg, ...)` where each argument may be a pipeline or `*`.
    pub(super) fn parse_args(&mut self) -> PResult<Vec<Expr>> {
        self.expect(&TokenKind::LParen, "'('")?;
        let args = self.nested(|p| {
            let mut args = Vec::new();
            if p.is(&TokenKind::RParen) {
                return Ok(args);
            }
            loop {
                args.push(p.parse_pipeline()?);
                if !p.eat(&TokenKind::Comma) {
                    break;
                }
            }
            Ok(args)
        })?;
        self.expect(&TokenKind::RParen, "',' or ')' in the argument list")?;
        Ok(args)
    }

    /// Converts the captured text of `datetime(..)`, `timespan(..)`, `guid(..)`.
    fn raw_literal(
        &mut self,
        kind: RawKind,
        text: &str,
        span: crate::span::Span,
    ) -> PResult<Literal> {
        let (ty, name) = match kind {
            RawKind::DateTime => (Type::DateTime, "datetime"),
            RawKind::TimeSpan => (Type::TimeSpan, "timespan"),
            RawKind::Guid => (Type::Guid, "guid"),
        };
        let text = text.trim();
        if text == "null" {
            return Ok(Literal::Null(ty));
        }
        let parsed = match kind {
            RawKind::DateTime => crate::time::parse_datetime(text).map(Literal::DateTime),
            RawKind::TimeSpan => crate::time::parse_timespan(text).map(Literal::TimeSpan),
            RawKind::Guid => Uuid::parse_str(text).ok().map(Literal::Guid),
        };
        match parsed {
            Some(l) => Ok(l),
            None => Err(self.error_at("KQL005", format!("invalid {name} literal '{text}'"), span)),
        }
    }

    /// After `int`, `long`, `real`, `bool`, `decimal`, `dynamic` (cursor on `(`).
    fn parse_typed_literal(&mut self, ty: Type) -> PResult<Literal> {
        self.bump();
        if ty == Type::Dynamic {
            let v = self.nested(|p| p.parse_json())?;
            self.expect(&TokenKind::RParen, "')' to close 'dynamic('")?;
            return Ok(match v {
                serde_json::Value::Null => Literal::Null(Type::Dynamic),
                v => Literal::Dynamic(v),
            });
        }
        let inner_start = self.cur_span();
        let mut depth = 0usize;
        loop {
            match self.peek() {
                TokenKind::RParen if depth == 0 => break,
                TokenKind::RParen => depth -= 1,
                TokenKind::LParen => depth += 1,
                TokenKind::Eof | TokenKind::Semi | TokenKind::Pipe => break,
                _ => {}
            }
            self.bump();
        }
        let span = self.span_from(inner_start);
        let text: String = self
            .src
            .get(span.range())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        self.expect(
            &TokenKind::RParen,
            &format!("')' to close '{}('", ty.name()),
        )?;
        let lit = if text == "null" {
            Some(Literal::Null(ty))
        } else {
            match ty {
                Type::Bool => match text.as_str() {
                    "true" | "True" | "TRUE" | "1" => Some(Literal::Bool(true)),
                    "false" | "False" | "FALSE" | "0" => Some(Literal::Bool(false)),
                    _ => None,
                },
                Type::Int => parse_integer(&text)
                    .and_then(|v| i32::try_from(v).ok())
                    .map(Literal::Int),
                Type::Long => parse_integer(&text)
                    .and_then(|v| i64::try_from(v).ok())
                    .map(Literal::Long),
                Type::Real => match text.as_str() {
                    "nan" | "NaN" => Some(Literal::Real(f64::NAN)),
                    "inf" | "+inf" => Some(Literal::Real(f64::INFINITY)),
                    "-inf" => Some(Literal::Real(f64::NEG_INFINITY)),
                    t => t
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .map(Literal::Real),
                },
                Type::Decimal => text
                    .parse::<Decimal>()
                    .ok()
                    .or_else(|| Decimal::from_scientific(&text).ok())
                    .map(Literal::Decimal),
                _ => None,
            }
        };
        match lit {
            Some(l) => Ok(l),
            None => Err(self.error_at(
                "KQL005",
                format!("invalid {} literal '{text}'", ty.name()),
                span,
            )),
        }
    }

    /// A JSON-like value inside `dynamic(...)`: arrays, property bags,
    /// strings (either quote), numbers, `true`/`false`/`null`, and typed
    /// literals (`datetime(...)` becomes its ISO text).
    fn parse_json(&mut self) -> PResult<serde_json::Value> {
        self.enter()?;
        let r = self.parse_json_inner();
        self.leave();
        r
    }

    fn parse_json_inner(&mut self) -> PResult<serde_json::Value> {
        use serde_json::Value as J;
        match self.peek() {
            TokenKind::LBracket => {
                self.bump();
                let mut items = Vec::new();
                self.nested(|p| {
                    while !p.is(&TokenKind::RBracket) {
                        items.push(p.parse_json()?);
                        if !p.eat(&TokenKind::Comma) {
                            break;
                        }
                    }
                    Ok(())
                })?;
                self.expect(&TokenKind::RBracket, "',' or ']' in the dynamic array")?;
                Ok(J::Array(items))
            }
            TokenKind::LBrace => {
                self.bump();
                let mut map = serde_json::Map::new();
                self.nested(|p| {
                    while !p.is(&TokenKind::RBrace) {
                        let key = match p.peek() {
                            TokenKind::String(_) => p.parse_strings(),
                            TokenKind::Ident => {
                                let t = p.bump();
                                p.text_of(&t).to_string()
                            }
                            _ => {
                                return Err(
                                    p.error_expected("a property name (string) in the dynamic bag")
                                )
                            }
                        };
                        p.expect(&TokenKind::Colon, "':' after the property name")?;
                        let v = p.parse_json()?;
                        map.insert(key, v);
                        if !p.eat(&TokenKind::Comma) {
                            break;
                        }
                    }
                    Ok(())
                })?;
                self.expect(&TokenKind::RBrace, "',' or '}' in the dynamic bag")?;
                Ok(J::Object(map))
            }
            TokenKind::Ident if self.is_word("null") => {
                self.bump();
                Ok(J::Null)
            }
            _ => {
                let start = self.cur_span();
                let e = self.parse_unary()?;
                match e.kind {
                    ExprKind::Literal(l) => literal_to_json(&l).ok_or_else(|| {
                        let span = self.span_from(start);
                        self.error_at(
                            "KQL005",
                            "this value cannot be stored in a dynamic literal",
                            span,
                        )
                    }),
                    _ => {
                        let span = self.span_from(start);
                        Err(self.error_at(
                            "KQL005",
                            "expected a constant inside dynamic(...)",
                            span,
                        ))
                    }
                }
            }
        }
    }

    fn parse_print(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let mut items = Vec::new();
        loop {
            items.push(self.parse_named_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(Expr::new(ExprKind::Print(items), self.span_from(start)))
    }

    fn parse_range(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let name = self.parse_name("a column name after 'range'")?;
        self.expect_word("from")?;
        let from = self.parse_expr(0)?;
        self.expect_word("to")?;
        let to = self.parse_expr(0)?;
        self.expect_word("step")?;
        let step = self.parse_expr(0)?;
        Ok(Expr::new(
            ExprKind::Range {
                name,
                from: Box::new(from),
                to: Box::new(to),
                step: Box::new(step),
            },
            self.span_from(start),
        ))
    }

    fn parse_datatable(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        self.expect(&TokenKind::LParen, "'(' after 'datatable'")?;
        let columns: Vec<ColumnDecl> = self.nested(|p| {
            let mut cols = Vec::new();
            loop {
                cols.push(p.parse_column_decl()?);
                if !p.eat(&TokenKind::Comma) {
                    break;
                }
            }
            Ok(cols)
        })?;
        self.expect(&TokenKind::RParen, "',' or ')' in the datatable schema")?;
        self.expect(&TokenKind::LBracket, "'[' and the datatable values")?;
        let values = self.nested(|p| {
            let mut values = Vec::new();
            while !p.is(&TokenKind::RBracket) {
                values.push(p.parse_expr(0)?);
                if !p.eat(&TokenKind::Comma) {
                    break;
                }
            }
            Ok(values)
        })?;
        self.expect(&TokenKind::RBracket, "',' or ']' in the datatable values")?;
        Ok(Expr::new(
            ExprKind::Datatable { columns, values },
            self.span_from(start),
        ))
    }
}

/// `[+-]digits` or `[+-]0xHEX`.
fn parse_integer(text: &str) -> Option<i128> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => body.parse::<i128>().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// Words that, followed by `(`, make a typed literal (not a call).
fn literal_type(w: &str) -> Option<Type> {
    Some(match w {
        "int" => Type::Int,
        "long" => Type::Long,
        "real" | "double" => Type::Real,
        "bool" | "boolean" => Type::Bool,
        "decimal" => Type::Decimal,
        "dynamic" => Type::Dynamic,
        _ => return None,
    })
}

/// A literal as a JSON value inside `dynamic(...)`.
fn literal_to_json(l: &Literal) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match l {
        Literal::Null(_) => J::Null,
        Literal::Bool(b) => J::Bool(*b),
        Literal::Int(i) => J::from(*i),
        Literal::Long(i) => J::from(*i),
        Literal::Real(r) => J::from(serde_json::Number::from_f64(*r)?),
        Literal::Decimal(d) => J::String(d.to_string()),
        Literal::String(s) => J::String(s.clone()),
        Literal::DateTime(t) => J::String(crate::time::format_datetime(*t)),
        Literal::TimeSpan(t) => J::String(crate::time::format_timespan(*t)),
        Literal::Guid(g) => J::String(g.hyphenated().to_string()),
        Literal::Dynamic(v) => v.clone(),
    })
}

#[cfg(test)]
mod tests {
    use crate::ast::{BinaryOp, ExprKind, Literal, StatementKind};
    use crate::Limits;

    fn expr(text: &str) -> ExprKind {
        let q = super::super::parse_query(text, &Limits::default())
            .unwrap_or_else(|d| panic!("{text}: {d}"));
        match q.statements.into_iter().last().map(|s| s.kind) {
            Some(StatementKind::Expr(e)) => e.kind,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn negative_literals_fold_but_subtraction_stays() {
        assert_eq!(expr("-5"), ExprKind::Literal(Literal::Long(-5)));
        assert_eq!(
            expr("-1.5h"),
            ExprKind::Literal(Literal::TimeSpan(-54_000_000_000))
        );
        assert!(matches!(
            expr("a -5"),
            ExprKind::Binary {
                op: BinaryOp::Sub,
                ..
            }
        ));
        assert!(
            matches!(expr("a - -5"), ExprKind::Binary { op: BinaryOp::Sub, right, .. } if right.kind == ExprKind::Literal(Literal::Long(-5)))
        );
    }

    #[test]
    fn word_operators_need_their_exact_spelling() {
        assert!(matches!(
            expr("a !has 'x'"),
            ExprKind::Binary {
                op: BinaryOp::NotHas,
                ..
            }
        ));
        // `! has` with a space is not `!has`.
        assert!(super::super::parse_query("print a ! has 'x'", &Limits::default()).is_err());
        assert!(super::super::parse_query("print a matches 'x'", &Limits::default()).is_err());
    }

    #[test]
    fn typed_literals_and_parenthesized_tables() {
        assert_eq!(expr("int(-7)"), ExprKind::Literal(Literal::Int(-7)));
        assert_eq!(expr("long(0x10)"), ExprKind::Literal(Literal::Long(16)));
        assert!(matches!(expr("(print 1)"), ExprKind::Paren(_)));
        assert!(matches!(expr("(1)"), ExprKind::Literal(Literal::Long(1))));
    }
}
