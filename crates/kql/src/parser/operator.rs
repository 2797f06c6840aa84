//! Tabular operators after `|`: one `parse_<op>` per operator, plus the
//! clause helpers they share (named expressions, sort keys, name patterns,
//! `name=value` parameters, `union` operands).
//!
//! Must not live here: scalar expression grammar (`expr.rs`).

use super::{PResult, Parser};
use crate::ast::{
    ColumnDecl, Expr, ExprKind, Ident, Join, JoinKind, MvExpand, MvExpandItem, NamePattern,
    NamedExpr, NullsOrder, Operator, OperatorKind, Parse, ParseKind, ParsePart, SortKey, SortOrder,
    Span, Union, UnionKind,
};
use crate::token::TokenKind;
use crate::value::Type;

pub(crate) use crate::token::OPERATORS;

impl<'a> Parser<'a> {
    /// The operator name at the cursor: a word, or words joined by adjacent
    /// `-` (`project-away`, `mv-expand`), with the number of tokens.
    fn peek_operator_name(&self) -> Option<(String, usize)> {
        let mut name = self.word_at(0)?.to_string();
        let mut n = 1;
        while self.is_at(n, &TokenKind::Minus) && self.adjacent(n) && self.adjacent(n + 1) {
            match self.word_at(n + 1) {
                Some(w) => {
                    name.push('-');
                    name.push_str(w);
                    n += 2;
                }
                None => break,
            }
        }
        Some((name, n))
    }

    pub(super) fn parse_operator(&mut self) -> PResult<Operator> {
        self.enter()?;
        let r = self.parse_operator_inner();
        self.leave();
        r
    }

    fn parse_operator_inner(&mut self) -> PResult<Operator> {
        let start = self.cur_span();
        let Some((name, ntoks)) = self.peek_operator_name() else {
            return Err(self.error_expected("a tabular operator after '|'"));
        };
        if !OPERATORS.contains(&name.as_str()) {
            let span = self.span_at(ntoks);
            self.push_diag(
                crate::diag::Diagnostic::error(
                    "KQL011",
                    format!("unknown or unsupported tabular operator '{name}'"),
                    span,
                )
                .with_help(format!("supported operators: {}", OPERATORS.join(", "))),
            );
            return Err(super::Failed);
        }
        for _ in 0..ntoks {
            self.bump();
        }
        let kind = match name.as_str() {
            "where" | "filter" => OperatorKind::Where(self.parse_expr(0)?),
            "extend" => OperatorKind::Extend(self.parse_named_list()?),
            "project" => OperatorKind::Project(self.parse_named_list()?),
            "project-away" => OperatorKind::ProjectAway(self.parse_pattern_list()?),
            "project-keep" => OperatorKind::ProjectKeep(self.parse_pattern_list()?),
            "project-rename" => self.parse_project_rename()?,
            "project-reorder" => self.parse_project_reorder()?,
            "summarize" => self.parse_summarize()?,
            "count" => OperatorKind::Count,
            "take" | "limit" => {
                self.skip_hints()?;
                OperatorKind::Take(self.parse_expr(0)?)
            }
            "top" => {
                let count = self.parse_expr(0)?;
                self.expect_word("by")?;
                OperatorKind::Top {
                    count,
                    by: self.parse_sort_keys()?,
                }
            }
            "sort" | "order" => {
                self.skip_hints()?;
                self.expect_word("by")?;
                OperatorKind::Sort(self.parse_sort_keys()?)
            }
            "distinct" => self.parse_distinct()?,
            "union" => OperatorKind::Union(self.parse_union_body()?),
            "join" => OperatorKind::Join(self.parse_join("join")?),
            "lookup" => OperatorKind::Lookup(self.parse_join("lookup")?),
            "mv-expand" | "mvexpand" => OperatorKind::MvExpand(self.parse_mv_expand()?),
            "parse" => OperatorKind::Parse(self.parse_parse(false)?),
            "parse-where" => OperatorKind::Parse(self.parse_parse(true)?),
            "render" => self.parse_render()?,
            "serialize" => {
                let items = if self.at_clause_end() {
                    Vec::new()
                } else {
                    self.parse_named_list()?
                };
                OperatorKind::Serialize(items)
            }
            "evaluate" => {
                self.skip_hints()?;
                let plugin = self.parse_name("a plugin name after 'evaluate'")?;
                OperatorKind::Evaluate {
                    plugin,
                    args: self.parse_args()?,
                }
            }
            "as" => {
                self.skip_hints()?;
                OperatorKind::As(self.parse_name("a name after 'as'")?)
            }
            "invoke" => {
                let function = self.parse_name("a function name after 'invoke'")?;
                OperatorKind::Invoke {
                    function,
                    args: self.parse_args()?,
                }
            }
            "getschema" => OperatorKind::GetSchema,
            _ => {
                let span = self.span_from(start);
                return Err(self.error_at(
                    "KQL011",
                    format!("unsupported tabular operator '{name}'"),
                    span,
                ));
            }
        };
        if !self.at_clause_end() {
            let e = self.error_expected(&format!("'|' or the end of the '{name}' operator"));
            self.add_hint();
            return Err(e);
        }
        Ok(Operator {
            kind,
            span: self.span_from(start),
        })
    }

    /// Span of the next `ntoks` tokens.
    fn span_at(&self, ntoks: usize) -> Span {
        self.tok(0).span.to(self.tok(ntoks.saturating_sub(1)).span)
    }

    /// Whether the current operator's clause has ended.
    fn at_clause_end(&self) -> bool {
        matches!(
            self.peek(),
            TokenKind::Pipe
                | TokenKind::Semi
                | TokenKind::RParen
                | TokenKind::RBrace
                | TokenKind::RBracket
                | TokenKind::Eof
        )
    }

    // ------------------------------------------------------------ params

    /// If a parameter `name(.name)* =` starts at the cursor and its name
    /// satisfies `accept`, returns the dotted name and its token count
    /// (including `=`).
    fn peek_param(&self, accept: impl Fn(&str) -> bool) -> Option<(String, usize)> {
        let mut name = self.word_at(0)?.to_string();
        let mut n = 1;
        while self.is_at(n, &TokenKind::Dot) {
            let w = self.word_at(n + 1)?;
            name.push('.');
            name.push_str(w);
            n += 2;
        }
        if !self.is_at(n, &TokenKind::Assign) || !accept(&name) {
            return None;
        }
        Some((name, n + 1))
    }

    fn bump_n(&mut self, n: usize) {
        for _ in 0..n {
            self.bump();
        }
    }

    /// Skips `hint.x = value` parameters (kept by no AST node).
    fn skip_hints(&mut self) -> PResult<()> {
        while let Some((_, n)) = self.peek_param(|n| n.starts_with("hint.")) {
            self.bump_n(n);
            self.parse_param_value()?;
        }
        Ok(())
    }

    /// A parameter value: a word (kept as a name; never a call, so
    /// `hint.strategy=broadcast (T)` works), a literal, or a signed number.
    fn parse_param_value(&mut self) -> PResult<Expr> {
        if let Some(w) = self.word_at(0) {
            if w != "true" && w != "false" {
                let t = self.bump();
                return Ok(Expr::new(ExprKind::Name(Ident::new(w, t.span)), t.span));
            }
        }
        self.parse_expr(super::expr::UNARY_PREC)
    }

    /// A parameter value that must be a word (`kind=inner`).
    fn parse_param_word(&mut self, what: &str) -> PResult<(String, Span)> {
        match self.word_at(0) {
            Some(w) => {
                let t = self.bump();
                Ok((w.to_string(), t.span))
            }
            None => Err(self.error_expected(what)),
        }
    }

    // ------------------------------------------------------------ clauses

    /// `name = expr`, `(a, b) = expr` or `expr`.
    pub(super) fn parse_named_expr(&mut self) -> PResult<NamedExpr> {
        let start = self.cur_span();
        let mut names = Vec::new();
        let n = self.name_len(0);
        if n > 0 && self.is_at(n, &TokenKind::Assign) {
            names.push(self.parse_name("a name")?);
            self.bump();
        } else if self.is(&TokenKind::LParen) && self.at_name_tuple() {
            self.bump();
            loop {
                names.push(self.parse_name("a column name")?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect(&TokenKind::RParen, "')'")?;
            self.expect(&TokenKind::Assign, "'='")?;
        }
        let expr = self.parse_expr(0)?;
        Ok(NamedExpr {
            names,
            expr,
            span: self.span_from(start),
        })
    }

    /// `(a, b, ...) =` at the cursor.
    fn at_name_tuple(&self) -> bool {
        let mut i = 1;
        loop {
            let n = self.name_len(i);
            if n == 0 {
                return false;
            }
            i += n;
            match self.peek_at(i) {
                TokenKind::Comma => i += 1,
                TokenKind::RParen => return self.is_at(i + 1, &TokenKind::Assign),
                _ => return false,
            }
        }
    }

    fn parse_named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            items.push(self.parse_named_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(items)
    }

    /// A column name or wildcard pattern: words and `*` written together
    /// (`Initiating*`, `*Id`), or `['quoted']`.
    fn parse_name_pattern(&mut self) -> PResult<NamePattern> {
        let start = self.cur_span();
        if self.starts_name(0) && !self.is(&TokenKind::Ident) {
            let id = self.parse_name("a column name")?;
            return Ok(NamePattern {
                pattern: id.name,
                span: id.span,
            });
        }
        let mut pattern = String::new();
        loop {
            let t = self.tok(0).clone();
            match t.kind {
                TokenKind::Ident => pattern.push_str(self.text_of(&t)),
                TokenKind::Star => pattern.push('*'),
                _ => break,
            }
            self.bump();
            if !self.adjacent(0) {
                break;
            }
        }
        if pattern.is_empty() {
            return Err(self.error_expected("a column name or wildcard pattern"));
        }
        Ok(NamePattern {
            pattern,
            span: self.span_from(start),
        })
    }

    fn parse_pattern_list(&mut self) -> PResult<Vec<NamePattern>> {
        let mut items = Vec::new();
        loop {
            items.push(self.parse_name_pattern()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(items)
    }

    fn parse_sort_order(&mut self) -> Option<SortOrder> {
        if self.eat_word("asc") {
            Some(SortOrder::Asc)
        } else if self.eat_word("desc") {
            Some(SortOrder::Desc)
        } else {
            None
        }
    }

    fn parse_sort_keys(&mut self) -> PResult<Vec<SortKey>> {
        let mut keys = Vec::new();
        loop {
            let start = self.cur_span();
            let expr = self.parse_expr(0)?;
            let order = self.parse_sort_order();
            let nulls = if self.eat_word("nulls") {
                if self.eat_word("first") {
                    Some(NullsOrder::First)
                } else if self.eat_word("last") {
                    Some(NullsOrder::Last)
                } else {
                    return Err(self.error_expected("'first' or 'last' after 'nulls'"));
                }
            } else {
                None
            };
            keys.push(SortKey {
                expr,
                order,
                nulls,
                span: self.span_from(start),
            });
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(keys)
    }

    // ---------------------------------------------------------- operators

    fn parse_project_rename(&mut self) -> PResult<OperatorKind> {
        let mut pairs = Vec::new();
        loop {
            let new = self.parse_name("a new column name")?;
            self.expect(&TokenKind::Assign, "'=' in 'project-rename new = old'")?;
            let old = self.parse_name("the existing column name")?;
            pairs.push((new, old));
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(OperatorKind::ProjectRename(pairs))
    }

    fn parse_project_reorder(&mut self) -> PResult<OperatorKind> {
        let mut items = Vec::new();
        loop {
            let p = self.parse_name_pattern()?;
            let order = self.parse_sort_order();
            items.push((p, order));
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(OperatorKind::ProjectReorder(items))
    }

    fn parse_summarize(&mut self) -> PResult<OperatorKind> {
        self.skip_hints()?;
        let aggregates = if self.is_word("by") || self.at_clause_end() {
            Vec::new()
        } else {
            self.parse_named_list()?
        };
        let by = if self.eat_word("by") {
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        if aggregates.is_empty() && by.is_empty() {
            return Err(self.error_expected("an aggregation or 'by' after 'summarize'"));
        }
        Ok(OperatorKind::Summarize { aggregates, by })
    }

    fn parse_distinct(&mut self) -> PResult<OperatorKind> {
        self.skip_hints()?;
        if self.is(&TokenKind::Star) && !self.is_at(1, &TokenKind::Comma) {
            self.bump();
            return Ok(OperatorKind::Distinct {
                columns: Vec::new(),
                all: true,
            });
        }
        let mut columns = Vec::new();
        loop {
            columns.push(self.parse_expr(0)?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(OperatorKind::Distinct {
            columns,
            all: false,
        })
    }

    /// `union` parameters and operands (after the `union` word).
    pub(super) fn parse_union_body(&mut self) -> PResult<Union> {
        let mut u = Union {
            kind: None,
            with_source: None,
            is_fuzzy: None,
            tables: Vec::new(),
        };
        while let Some((name, n)) = self.peek_param(|n| {
            matches!(n, "kind" | "withsource" | "isfuzzy") || n.starts_with("hint.")
        }) {
            self.bump_n(n);
            match name.as_str() {
                "kind" => {
                    let (w, span) = self.parse_param_word("'inner' or 'outer' after 'kind='")?;
                    u.kind = Some(match w.as_str() {
                        "inner" => UnionKind::Inner,
                        "outer" => UnionKind::Outer,
                        _ => {
                            return Err(self.error_at(
                                "KQL012",
                                format!("unknown union kind '{w}': expected 'inner' or 'outer'"),
                                span,
                            ))
                        }
                    });
                }
                "withsource" => {
                    u.with_source = Some(self.parse_name("a column name after 'withsource='")?)
                }
                "isfuzzy" => {
                    let (w, span) = self.parse_param_word("'true' or 'false' after 'isfuzzy='")?;
                    u.is_fuzzy = Some(match w.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(self.error_at(
                                "KQL012",
                                format!("expected 'true' or 'false' after 'isfuzzy=', found '{w}'"),
                                span,
                            ))
                        }
                    });
                }
                _ => {
                    self.parse_param_value()?;
                }
            }
        }
        loop {
            u.tables.push(self.parse_table_operand()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(u)
    }

    /// A table operand of `union`/`join`/`lookup`: `(pipeline)` (kept as
    /// `Paren`), a wildcard name `Device*`, or an expression (name, call).
    fn parse_table_operand(&mut self) -> PResult<Expr> {
        let start = self.cur_span();
        if self.is(&TokenKind::LParen) {
            self.bump();
            let inner = self.nested(|p| p.parse_pipeline())?;
            self.expect(&TokenKind::RParen, "')' to close the table expression")?;
            return Ok(Expr::new(
                ExprKind::Paren(Box::new(inner)),
                self.span_from(start),
            ));
        }
        if self.is(&TokenKind::Ident) && self.is_at(1, &TokenKind::Star) && self.adjacent(1) {
            let p = self.parse_name_pattern()?;
            return Ok(Expr::new(
                ExprKind::Name(Ident::new(p.pattern, p.span)),
                p.span,
            ));
        }
        self.parse_expr(0)
    }

    fn parse_join(&mut self, op: &str) -> PResult<Join> {
        let mut kind = None;
        let mut hints = Vec::new();
        while let Some((name, n)) =
            self.peek_param(|n| n == "kind" || n.starts_with("hint.") || n == "withsource")
        {
            self.bump_n(n);
            if name == "kind" {
                let (w, span) = self.parse_param_word("a join kind after 'kind='")?;
                kind = Some(JoinKind::from_text(&w).ok_or_else(|| {
                    self.error_at(
                        "KQL012",
                        format!("unknown {op} kind '{w}': expected inner, innerunique, leftouter, rightouter, fullouter, leftanti, rightanti, leftsemi or rightsemi"),
                        span,
                    )
                })?);
            } else {
                let v = self.parse_param_value()?;
                hints.push((name, v));
            }
        }
        let right = self.parse_table_operand()?;
        self.expect_word("on")?;
        let mut on = Vec::new();
        loop {
            on.push(self.parse_expr(0)?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(Join {
            kind,
            hints,
            right: Box::new(right),
            on,
        })
    }

    fn parse_mv_expand(&mut self) -> PResult<MvExpand> {
        let mut m = MvExpand {
            bag_expansion: None,
            with_item_index: None,
            items: Vec::new(),
            limit: None,
        };
        while let Some((name, n)) = self.peek_param(|n| {
            matches!(n, "bagexpansion" | "with_itemindex" | "kind") || n.starts_with("hint.")
        }) {
            self.bump_n(n);
            match name.as_str() {
                "bagexpansion" | "kind" => {
                    let (w, span) =
                        self.parse_param_word("'bag' or 'array' after 'bagexpansion='")?;
                    if w != "bag" && w != "array" {
                        return Err(self.error_at(
                            "KQL012",
                            format!("expected 'bag' or 'array', found '{w}'"),
                            span,
                        ));
                    }
                    m.bag_expansion = Some(w);
                }
                "with_itemindex" => {
                    m.with_item_index =
                        Some(self.parse_name("a column name after 'with_itemindex='")?)
                }
                _ => {
                    self.parse_param_value()?;
                }
            }
        }
        loop {
            let start = self.cur_span();
            let n = self.name_len(0);
            let name = if n > 0 && self.is_at(n, &TokenKind::Assign) {
                let id = self.parse_name("a column name")?;
                self.bump();
                Some(id)
            } else {
                None
            };
            let expr = self.parse_expr(0)?;
            let to_type = if self.eat_word("to") {
                self.expect_word("typeof")?;
                self.expect(&TokenKind::LParen, "'(' after 'typeof'")?;
                let t = self.parse_type()?;
                self.expect(&TokenKind::RParen, "')' after the type")?;
                Some(t)
            } else {
                None
            };
            m.items.push(MvExpandItem {
                name,
                expr,
                to_type,
                span: self.span_from(start),
            });
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        if self.eat_word("limit") {
            m.limit = Some(self.parse_expr(0)?);
        }
        Ok(m)
    }

    fn parse_parse(&mut self, where_: bool) -> PResult<Parse> {
        let mut kind = None;
        let mut flags = None;
        while let Some((name, n)) = self.peek_param(|n| n == "kind" || n == "flags") {
            self.bump_n(n);
            if name == "kind" {
                let (w, span) =
                    self.parse_param_word("'simple', 'regex' or 'relaxed' after 'kind='")?;
                kind = Some(match w.as_str() {
                    "simple" => ParseKind::Simple,
                    "regex" => ParseKind::Regex,
                    "relaxed" => ParseKind::Relaxed,
                    _ => {
                        return Err(self.error_at(
                            "KQL012",
                            format!("unknown parse kind '{w}': expected simple, regex or relaxed"),
                            span,
                        ))
                    }
                });
            } else if let TokenKind::String(_) = self.peek() {
                flags = Some(self.parse_strings());
            } else {
                flags = Some(self.parse_param_word("regex flags after 'flags='")?.0);
            }
        }
        let source = self.parse_expr(0)?;
        self.expect_word("with")?;
        let mut pattern = Vec::new();
        while !self.at_clause_end() {
            let start = self.cur_span();
            match self.peek() {
                TokenKind::Star => {
                    self.bump();
                    pattern.push(ParsePart::Wildcard(start));
                }
                TokenKind::String(_) => {
                    let s = self.parse_strings();
                    pattern.push(ParsePart::Literal(s, self.span_from(start)));
                }
                _ if self.starts_name(0) => {
                    let name = self.parse_name("a column name")?;
                    let ty = if self.eat(&TokenKind::Colon) {
                        self.parse_type()?
                    } else {
                        Type::String
                    };
                    pattern.push(ParsePart::Column(ColumnDecl {
                        name,
                        ty,
                        span: self.span_from(start),
                    }));
                }
                _ => {
                    return Err(self.error_expected(
                        "'*', a string literal or a column name in the parse pattern",
                    ))
                }
            }
            // `,` between parts is tolerated.
            self.eat(&TokenKind::Comma);
        }
        if pattern.is_empty() {
            return Err(self.error_expected("a parse pattern after 'with'"));
        }
        Ok(Parse {
            where_,
            kind,
            flags,
            source,
            pattern,
        })
    }

    fn parse_render(&mut self) -> PResult<OperatorKind> {
        let chart = self.parse_name("a visualization name after 'render'")?;
        let mut properties = Vec::new();
        if self.eat_word("with") {
            self.expect(&TokenKind::LParen, "'(' after 'with'")?;
            self.nested(|p| {
                while !p.is(&TokenKind::RParen) {
                    let name = p.parse_name("a property name")?;
                    p.expect(&TokenKind::Assign, "'=' after the property name")?;
                    let v = p.parse_param_value()?;
                    properties.push((name, v));
                    if !p.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                Ok(())
            })?;
            self.expect(&TokenKind::RParen, "',' or ')' in the render properties")?;
        }
        Ok(OperatorKind::Render { chart, properties })
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::{ExprKind, OperatorKind, StatementKind};
    use crate::Limits;

    fn last_op(text: &str) -> OperatorKind {
        let q = super::super::parse_query(text, &Limits::default())
            .unwrap_or_else(|d| panic!("{text}: {d}"));
        match q.statements.into_iter().last().map(|s| s.kind) {
            Some(StatementKind::Expr(e)) => match e.kind {
                ExprKind::Pipe { op, .. } => op.kind,
                other => panic!("{text}: {other:?}"),
            },
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn dashed_operator_names_must_be_written_together() {
        assert!(matches!(
            last_op("T | project-away a"),
            OperatorKind::ProjectAway(_)
        ));
        assert!(matches!(
            last_op("T | mv-expand a"),
            OperatorKind::MvExpand(_)
        ));
        assert!(super::super::parse_query("T | project - away a", &Limits::default()).is_err());
    }

    #[test]
    fn parameters_are_only_known_names() {
        // `c = count()` is an aggregate, not a parameter; `hint.x=y` is skipped.
        let OperatorKind::Summarize { aggregates, .. } =
            last_op("T | summarize hint.strategy=shuffle c = count()")
        else {
            panic!()
        };
        assert_eq!(aggregates[0].names[0].name, "c");
        // A union operand called `kind` is still an operand.
        let OperatorKind::Union(u) = last_op("T | union kind") else {
            panic!()
        };
        assert_eq!((u.kind, u.tables.len()), (None, 1));
    }

    #[test]
    fn an_operator_must_end_at_a_pipe() {
        let err = super::super::parse_query("T | count x", &Limits::default())
            .expect_err("trailing token");
        assert!(
            err.0[0].message.contains("end of the 'count' operator"),
            "{err}"
        );
    }
}
