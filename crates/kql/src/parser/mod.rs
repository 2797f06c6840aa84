//! Parser: tokens -> AST. Hand-written recursive descent; expressions use a
//! Pratt loop (`expr.rs`), tabular operators have one `parse_<op>` each
//! (`operator.rs`). This file holds the cursor (peek/bump/expect), the error
//! recovery at `|`, `;` and closing brackets, the nesting-depth limit, and
//! the statement level (`let`, `set`, lambdas, the query).
//!
//! Must not live here: name resolution or type checking (that is `plan`),
//! conversion of datetime/timespan text (that is `crate::time`).
//!
//! Diagnostic codes of the syntax stage (lexer and parser):
//! - `KQL001` unexpected character, `KQL002` unterminated string literal,
//!   `KQL003` bad number / timespan suffix / escape, `KQL004` unterminated
//!   `datetime(...)`-style literal, `KQL005` bad literal text
//!   (`datetime(2024-13-01)`, `int(1.5)`, out-of-range integers, non-constant
//!   inside `dynamic(...)`);
//! - `KQL010` "expected X, found Y", `KQL011` unknown or unsupported tabular
//!   operator, `KQL012` bad operator parameter value (`kind=`, `isfuzzy=`...),
//!   `KQL013` unknown type name, `KQL014` source not available offline
//!   (`externaldata`, `cluster()`...);
//! - `KQL020` nesting deeper than `Limits::max_depth`.

mod expr;
mod operator;

use crate::ast::{
    ColumnDecl, Expr, ExprKind, Ident, Lambda, LetValue, Param, ParamType, Query, Span, Statement,
    StatementKind,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::lexer::lex;
use crate::token::{Token, TokenKind};
use crate::value::Type;
use crate::Limits;

/// Hard cap on nesting whatever `Limits::max_depth` says, so a huge limit
/// cannot turn into a stack overflow. Depth counts every recursive parse
/// step (pipeline, operator, expression, lambda, dynamic value); measured in
/// a debug build, 256 steps need at most 2 MiB of stack (the size of a test
/// thread), so 160 keeps a wide margin.
const HARD_MAX_DEPTH: usize = 160;
/// Stop collecting after this many diagnostics.
const MAX_DIAGNOSTICS: usize = 50;

/// Parses a whole query text (statements separated by `;`). Returns every
/// syntax error found (recovering at `|`, `;` and closing brackets).
pub fn parse_query(text: &str, limits: &Limits) -> Result<Query, Diagnostics> {
    let (toks, lex_diags) = lex(text);
    let mut p = Parser {
        src: text,
        toks,
        pos: 0,
        diags: lex_diags,
        depth: 0,
        max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
        depth_reported: false,
        nest: 0,
    };
    let statements = p.parse_statements(false);
    if p.diags.is_empty() && statements.is_empty() {
        p.diags.push(Diagnostic::error(
            "KQL010",
            "empty query: expected a statement",
            Span::new(0, text.len()),
        ));
    }
    if p.diags.is_empty() {
        Ok(Query {
            statements,
            span: Span::new(0, text.len()),
        })
    } else {
        let mut d = p.diags;
        d.sort_by_key(|d| d.span().map(|s| s.start).unwrap_or(0));
        d.dedup_by(|a, b| {
            a.span().map(|s| s.start) == b.span().map(|s| s.start) && a.code == b.code
        });
        Err(Diagnostics(d))
    }
}

static EOF: Token = Token {
    kind: TokenKind::Eof,
    span: Span { start: 0, end: 0 },
};

/// Marker error: a diagnostic has already been recorded.
#[derive(Debug)]
pub(crate) struct Failed;

pub(crate) type PResult<T> = Result<T, Failed>;

pub(crate) struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    depth: usize,
    max_depth: usize,
    depth_reported: bool,
    /// Brackets opened by callers; recovery stops at a closer when > 0.
    nest: usize,
}

fn same_kind(a: &TokenKind, b: &TokenKind) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

impl<'a> Parser<'a> {
    // ---------------------------------------------------------------- cursor

    fn tok(&self, ahead: usize) -> &Token {
        // The lexer always ends with Eof; past it we keep answering Eof.
        self.toks
            .get(self.pos + ahead)
            .or(self.toks.last())
            .unwrap_or(&EOF)
    }

    fn peek(&self) -> &TokenKind {
        &self.tok(0).kind
    }

    fn peek_at(&self, ahead: usize) -> &TokenKind {
        &self.tok(ahead).kind
    }

    fn text_of(&self, t: &Token) -> &'a str {
        self.src.get(t.span.range()).unwrap_or("")
    }

    /// The word at `ahead` if that token is an identifier.
    fn word_at(&self, ahead: usize) -> Option<&'a str> {
        let t = self.tok(ahead);
        match t.kind {
            TokenKind::Ident => Some(self.text_of(t)),
            _ => None,
        }
    }

    fn is_word(&self, w: &str) -> bool {
        self.word_at(0) == Some(w)
    }

    fn is(&self, kind: &TokenKind) -> bool {
        same_kind(self.peek(), kind)
    }

    fn is_at(&self, ahead: usize, kind: &TokenKind) -> bool {
        same_kind(self.peek_at(ahead), kind)
    }

    /// True when token `ahead` starts exactly where the previous one ends.
    fn adjacent(&self, ahead: usize) -> bool {
        let i = self.pos + ahead;
        if i == 0 {
            return false;
        }
        match (self.toks.get(i - 1), self.toks.get(i)) {
            (Some(a), Some(b)) => a.span.end == b.span.start,
            _ => false,
        }
    }

    fn bump(&mut self) -> Token {
        let t = self.tok(0).clone();
        if !matches!(t.kind, TokenKind::Eof) {
            self.pos += 1;
        }
        t
    }

    fn cur_span(&self) -> Span {
        self.tok(0).span
    }

    /// End of the last consumed token (start of the query if none).
    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.toks
                .get(self.pos - 1)
                .map(|t| t.span.end as usize)
                .unwrap_or(0)
        }
    }

    fn span_from(&self, start: Span) -> Span {
        Span::new(
            start.start as usize,
            self.prev_end().max(start.start as usize),
        )
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.is(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> PResult<Token> {
        if self.is(kind) {
            Ok(self.bump())
        } else {
            Err(self.error_expected(what))
        }
    }

    fn expect_word(&mut self, w: &str) -> PResult<Token> {
        if self.is_word(w) {
            Ok(self.bump())
        } else {
            Err(self.error_expected(&format!("'{w}'")))
        }
    }

    /// How the current token is shown in "found ..." messages.
    fn found(&self) -> String {
        let t = self.tok(0);
        match &t.kind {
            TokenKind::Ident => format!("'{}'", self.text_of(t)),
            TokenKind::Long(_) | TokenKind::Real(_) | TokenKind::TimeSpan(_) => {
                format!("{} '{}'", t.kind.describe(), self.text_of(t))
            }
            TokenKind::Error => "an invalid token".to_string(),
            k => k.describe().to_string(),
        }
    }

    fn push_diag(&mut self, d: Diagnostic) {
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(d);
        }
    }

    /// Records "expected X, found Y" at the current token.
    fn error_expected(&mut self, what: &str) -> Failed {
        // An error token already has its lexer diagnostic.
        if !matches!(self.peek(), TokenKind::Error) {
            let msg = format!("expected {what}, found {}", self.found());
            let span = self.cur_span();
            self.push_diag(Diagnostic::error("KQL010", msg, span));
        }
        Failed
    }

    /// Adds a `help:` to the last diagnostic for two common slips: a
    /// tabular operator without `|` before it, and `=` used to compare.
    fn add_hint(&mut self) {
        let help = match (self.peek(), self.word_at(0)) {
            (_, Some(w)) if operator::OPERATORS.contains(&w) => format!("add '|' before '{w}'"),
            (TokenKind::Assign, _) => {
                "use '==' to compare values ('=' only names a column)".to_string()
            }
            _ => return,
        };
        if let Some(d) = self.diags.last_mut() {
            if d.help.is_none() {
                d.help = Some(help);
            }
        }
    }

    fn error_at(&mut self, code: &'static str, msg: impl Into<String>, span: Span) -> Failed {
        self.push_diag(Diagnostic::error(code, msg, span));
        Failed
    }

    // ------------------------------------------------------------- depth

    fn enter(&mut self) -> PResult<()> {
        if self.depth >= self.max_depth {
            if !self.depth_reported {
                self.depth_reported = true;
                let span = self.cur_span();
                let max = self.max_depth;
                self.push_diag(
                    Diagnostic::error(
                        "KQL020",
                        format!("query is nested too deeply (more than {max} levels)"),
                        span,
                    )
                    .with_help("simplify the query or raise Limits::max_depth"),
                );
            }
            return Err(Failed);
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ---------------------------------------------------------- recovery

    /// Skips tokens up to a synchronization point: `|` (if `at_pipe`) or `;`
    /// at the current nesting, a closer of a bracket opened by a caller, or
    /// the end. Stray closers at the top level are skipped.
    fn recover(&mut self, at_pipe: bool) {
        let mut local = 0usize;
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => local += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if local > 0 {
                        local -= 1;
                    } else if self.nest > 0 {
                        return;
                    }
                }
                TokenKind::Pipe if local == 0 && at_pipe => return,
                TokenKind::Semi if local == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// Runs `f` with one more bracket level open (for recovery).
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.nest += 1;
        let r = f(self);
        self.nest -= 1;
        r
    }

    // --------------------------------------------------------- statements

    /// Statements up to the end (or up to `}` in a function body).
    fn parse_statements(&mut self, in_body: bool) -> Vec<Statement> {
        let mut out = Vec::new();
        loop {
            while self.eat(&TokenKind::Semi) {}
            match self.peek() {
                TokenKind::Eof => break,
                TokenKind::RBrace if in_body => break,
                _ => {}
            }
            let before = self.pos;
            match self.parse_statement() {
                Ok(s) => out.push(s),
                Err(Failed) => {
                    self.recover(false);
                    if self.pos == before && !in_body {
                        self.bump();
                    }
                    if self.pos == before {
                        break;
                    }
                    continue;
                }
            }
            match self.peek() {
                TokenKind::Semi => continue,
                TokenKind::Eof => break,
                TokenKind::RBrace if in_body => break,
                _ => {
                    let what = if in_body {
                        "';' or '}'"
                    } else {
                        "';' or end of query"
                    };
                    self.error_expected(what);
                    self.add_hint();
                    let before = self.pos;
                    self.recover(false);
                    if self.pos == before {
                        if in_body {
                            break;
                        }
                        self.bump();
                    }
                }
            }
        }
        out
    }

    fn parse_statement(&mut self) -> PResult<Statement> {
        let start = self.cur_span();
        if self.is_word("let") && self.starts_name(1) {
            self.bump();
            let name = self.parse_name("a name after 'let'")?;
            self.expect(&TokenKind::Assign, "'=' after the let name")?;
            let value = if self.at_lambda() {
                LetValue::Function(self.parse_lambda(false)?)
            } else if self.is_word("view") && self.is_at(1, &TokenKind::LParen) {
                self.bump();
                LetValue::Function(self.parse_lambda(true)?)
            } else {
                LetValue::Expr(self.parse_pipeline()?)
            };
            return Ok(Statement {
                kind: StatementKind::Let { name, value },
                span: self.span_from(start),
            });
        }
        if self.is_word("set") && self.starts_name(1) {
            self.bump();
            let name = self.parse_name("an option name after 'set'")?;
            let value = if self.eat(&TokenKind::Assign) {
                Some(self.parse_expr(0)?)
            } else {
                None
            };
            return Ok(Statement {
                kind: StatementKind::Set { name, value },
                span: self.span_from(start),
            });
        }
        let e = self.parse_pipeline()?;
        Ok(Statement {
            span: e.span,
            kind: StatementKind::Expr(e),
        })
    }

    /// `(` `)` `{`, or `(` name `:` -> a lambda, not a parenthesized expression.
    fn at_lambda(&self) -> bool {
        if !self.is(&TokenKind::LParen) {
            return false;
        }
        match self.peek_at(1) {
            TokenKind::RParen => self.is_at(2, &TokenKind::LBrace),
            TokenKind::Ident => self.is_at(2, &TokenKind::Colon),
            TokenKind::LBracket => {
                matches!(self.peek_at(2), TokenKind::String(_))
                    && self.is_at(3, &TokenKind::RBracket)
                    && self.is_at(4, &TokenKind::Colon)
            }
            _ => false,
        }
    }

    /// `(params) { statements }`; `view` already consumed when `view`.
    fn parse_lambda(&mut self, view: bool) -> PResult<Lambda> {
        let start = if view {
            self.toks
                .get(self.pos.saturating_sub(1))
                .map(|t| t.span)
                .unwrap_or_default()
        } else {
            self.cur_span()
        };
        self.enter()?;
        let r = self.parse_lambda_inner(view, start);
        self.leave();
        r
    }

    fn parse_lambda_inner(&mut self, view: bool, start: Span) -> PResult<Lambda> {
        self.expect(&TokenKind::LParen, "'(' to start the parameter list")?;
        let params = self.nested(|p| {
            let mut params = Vec::new();
            if !p.is(&TokenKind::RParen) {
                loop {
                    params.push(p.parse_param()?);
                    if !p.eat(&TokenKind::Comma) {
                        break;
                    }
                }
            }
            Ok(params)
        })?;
        self.expect(&TokenKind::RParen, "',' or ')' in the parameter list")?;
        self.expect(&TokenKind::LBrace, "'{' to start the function body")?;
        let body = self.nested(|p| Ok(p.parse_statements(true)))?;
        self.expect(&TokenKind::RBrace, "'}' to end the function body")?;
        if !body
            .iter()
            .any(|s| matches!(s.kind, StatementKind::Expr(_)))
        {
            let span = self.span_from(start);
            return Err(self.error_at("KQL010", "function body has no result expression", span));
        }
        Ok(Lambda {
            params,
            body,
            view,
            span: self.span_from(start),
        })
    }

    fn parse_param(&mut self) -> PResult<Param> {
        let start = self.cur_span();
        let name = self.parse_name("a parameter name")?;
        self.expect(&TokenKind::Colon, "':' and a type after the parameter name")?;
        let ty = if self.eat(&TokenKind::LParen) {
            let (columns, open) = self.nested(|p| {
                let mut columns = Vec::new();
                let mut open = false;
                loop {
                    if p.eat(&TokenKind::Star) {
                        open = true;
                    } else {
                        columns.push(p.parse_column_decl()?);
                    }
                    if !p.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                Ok((columns, open))
            })?;
            self.expect(&TokenKind::RParen, "')' to end the table schema")?;
            ParamType::Tabular { columns, open }
        } else {
            ParamType::Scalar(self.parse_type()?)
        };
        let default = if self.eat(&TokenKind::Assign) {
            Some(self.parse_expr(0)?)
        } else {
            None
        };
        Ok(Param {
            name,
            ty,
            default,
            span: self.span_from(start),
        })
    }

    /// `name: type`
    fn parse_column_decl(&mut self) -> PResult<ColumnDecl> {
        let start = self.cur_span();
        let name = self.parse_name("a column name")?;
        self.expect(&TokenKind::Colon, "':' and a type after the column name")?;
        let ty = self.parse_type()?;
        Ok(ColumnDecl {
            name,
            ty,
            span: self.span_from(start),
        })
    }

    /// A scalar type name. `datetime`/`timespan`/`guid` followed by `(`
    /// never get here (the lexer makes them literals), so plain words only.
    fn parse_type(&mut self) -> PResult<Type> {
        if let Some(w) = self.word_at(0) {
            if let Some(t) = Type::from_name(w) {
                self.bump();
                return Ok(t);
            }
            let span = self.cur_span();
            return Err(self.error_at(
                "KQL013",
                format!("unknown type '{w}': expected bool, int, long, real, decimal, string, datetime, timespan, guid or dynamic"),
                span,
            ));
        }
        Err(self.error_expected("a type name"))
    }

    // -------------------------------------------------------------- names

    /// Whether a name (`x` or `['x']`) starts at `ahead`.
    fn starts_name(&self, ahead: usize) -> bool {
        match self.peek_at(ahead) {
            TokenKind::Ident => true,
            TokenKind::LBracket => {
                matches!(self.peek_at(ahead + 1), TokenKind::String(_))
                    && self.is_at(ahead + 2, &TokenKind::RBracket)
            }
            _ => false,
        }
    }

    /// Number of tokens of the name at `ahead` (0 if none).
    fn name_len(&self, ahead: usize) -> usize {
        match self.peek_at(ahead) {
            TokenKind::Ident => 1,
            TokenKind::LBracket if self.starts_name(ahead) => 3,
            _ => 0,
        }
    }

    /// An identifier: a word (keywords allowed) or `['quoted']` / `["quoted"]`.
    fn parse_name(&mut self, what: &str) -> PResult<Ident> {
        let t = self.tok(0).clone();
        match &t.kind {
            TokenKind::Ident => {
                self.bump();
                Ok(Ident::new(self.text_of(&t), t.span))
            }
            TokenKind::LBracket if self.starts_name(0) => {
                self.bump();
                let s = match self.bump().kind {
                    TokenKind::String(s) => s,
                    _ => String::new(),
                };
                self.bump();
                Ok(Ident::new(s, self.span_from(t.span)))
            }
            _ => Err(self.error_expected(what)),
        }
    }

    /// Whether a tabular expression (not a scalar) was parsed: used to keep
    /// `Paren` only around tables.
    fn is_tabular(e: &Expr) -> bool {
        matches!(
            e.kind,
            ExprKind::Pipe { .. }
                | ExprKind::Datatable { .. }
                | ExprKind::Print(_)
                | ExprKind::Range { .. }
                | ExprKind::Union(_)
                | ExprKind::Paren(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{BinaryOp, Literal, OperatorKind};

    fn parse(text: &str) -> Query {
        match parse_query(text, &Limits::default()) {
            Ok(q) => q,
            Err(d) => panic!("{text:?}: {}", d.render_plain("q", text)),
        }
    }

    fn single_expr(q: &Query) -> &Expr {
        match &q.statements.last().map(|s| &s.kind) {
            Some(StatementKind::Expr(e)) => e,
            other => panic!("not an expression statement: {other:?}"),
        }
    }

    #[test]
    fn let_then_pipeline_with_trailing_semicolon() {
        let q = parse("let a = 5;\nT | where x > a | count;");
        assert_eq!(q.statements.len(), 2);
        let ExprKind::Pipe { op, input } = &single_expr(&q).kind else {
            panic!()
        };
        assert!(matches!(op.kind, OperatorKind::Count));
        let ExprKind::Pipe { op, .. } = &input.kind else {
            panic!()
        };
        let OperatorKind::Where(w) = &op.kind else {
            panic!()
        };
        assert!(matches!(
            w.kind,
            ExprKind::Binary {
                op: BinaryOp::Gt,
                ..
            }
        ));
    }

    #[test]
    fn lambda_and_view() {
        let q = parse("let f = (a:long, T:(*)) { let x = a; T | extend y = x };\nlet v = view () { print 1 };\nf(1, v)");
        let StatementKind::Let {
            value: LetValue::Function(l),
            ..
        } = &q.statements[0].kind
        else {
            panic!()
        };
        assert_eq!(l.params.len(), 2);
        assert_eq!(
            l.params[1].ty,
            ParamType::Tabular {
                columns: vec![],
                open: true
            }
        );
        assert_eq!(l.body.len(), 2);
        let StatementKind::Let {
            value: LetValue::Function(v),
            ..
        } = &q.statements[1].kind
        else {
            panic!()
        };
        assert!(v.view);
    }

    #[test]
    fn set_statement() {
        let q = parse("set notruncation;\nset querytrace = true;\nprint 1");
        assert!(matches!(
            &q.statements[0].kind,
            StatementKind::Set { value: None, .. }
        ));
        assert!(matches!(
            &q.statements[1].kind,
            StatementKind::Set {
                value: Some(Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    ..
                }),
                ..
            }
        ));
    }

    #[test]
    fn depth_limit_is_a_diagnostic() {
        let text = format!("print {}1{}", "(".repeat(5000), ")".repeat(5000));
        let err = parse_query(&text, &Limits::default()).expect_err("too deep");
        assert!(err.0.iter().any(|d| d.code == "KQL020"), "{err}");
    }

    #[test]
    fn recovers_and_reports_several_errors() {
        let text = "T | where | project a,\n| frob x;\nprint (1 +";
        let err = parse_query(text, &Limits::default()).expect_err("errors");
        assert!(err.0.len() >= 3, "{err}");
    }
}
