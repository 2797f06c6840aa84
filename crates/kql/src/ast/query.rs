//! Statements and tabular operators.

use super::{ColumnDecl, Expr, Ident, Lambda, NamedExpr, Span, Union};
use crate::value::Type;

/// A whole query text: `let`/`set` statements then (normally) one tabular
/// expression statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StatementKind {
    Let {
        name: Ident,
        value: LetValue,
    },
    /// `set name [= value];` (query options; parsed and ignored).
    Set {
        name: Ident,
        value: Option<Expr>,
    },
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum LetValue {
    Expr(Expr),
    Function(Lambda),
}

/// One tabular operator after a `|`.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    pub kind: OperatorKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OperatorKind {
    /// `where` / `filter`
    Where(Expr),
    Extend(Vec<NamedExpr>),
    Project(Vec<NamedExpr>),
    ProjectAway(Vec<NamePattern>),
    ProjectKeep(Vec<NamePattern>),
    /// `project-rename new = old, ...`
    ProjectRename(Vec<(Ident, Ident)>),
    /// `project-reorder a, b* asc`
    ProjectReorder(Vec<(NamePattern, Option<SortOrder>)>),
    Summarize {
        aggregates: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// The `count` operator.
    Count,
    /// `take` / `limit`
    Take(Expr),
    Top {
        count: Expr,
        by: Vec<SortKey>,
    },
    /// `sort by` / `order by`
    Sort(Vec<SortKey>),
    /// `distinct *` is an empty list with `all = true`.
    Distinct {
        columns: Vec<Expr>,
        all: bool,
    },
    Union(Union),
    Join(Join),
    Lookup(Join),
    MvExpand(MvExpand),
    Parse(Parse),
    /// `render chart [with (...)]`: kept, ignored by execution.
    Render {
        chart: Ident,
        properties: Vec<(Ident, Expr)>,
    },
    /// `serialize [Name = expr, ...]`
    Serialize(Vec<NamedExpr>),
    /// `evaluate plugin(args)`
    Evaluate {
        plugin: Ident,
        args: Vec<Expr>,
    },
    /// `as Name`
    As(Ident),
    /// `invoke f(args)`
    Invoke {
        function: Ident,
        args: Vec<Expr>,
    },
    /// `getschema`
    GetSchema,
}

/// A column name or a wildcard pattern (`Initiating*`).
#[derive(Clone, Debug, PartialEq)]
pub struct NamePattern {
    pub pattern: String,
    pub span: Span,
}

impl NamePattern {
    pub fn is_wildcard(&self) -> bool {
        self.pattern.contains('*')
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NullsOrder {
    First,
    Last,
}

/// A sort key; `order`/`nulls` are `None` when the query does not say
/// (the planner applies Kusto's defaults: desc, nulls last for desc).
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub order: Option<SortOrder>,
    pub nulls: Option<NullsOrder>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftAnti,
    RightAnti,
    LeftSemi,
    RightSemi,
}

impl JoinKind {
    /// Accepted spellings (aliases included) of `kind=`.
    pub const TABLE: &'static [(JoinKind, &'static str)] = &[
        (JoinKind::InnerUnique, "innerunique"),
        (JoinKind::Inner, "inner"),
        (JoinKind::LeftOuter, "leftouter"),
        (JoinKind::RightOuter, "rightouter"),
        (JoinKind::FullOuter, "fullouter"),
        (JoinKind::LeftAnti, "leftanti"),
        (JoinKind::LeftAnti, "anti"),
        (JoinKind::LeftAnti, "leftantisemi"),
        (JoinKind::RightAnti, "rightanti"),
        (JoinKind::RightAnti, "rightantisemi"),
        (JoinKind::LeftSemi, "leftsemi"),
        (JoinKind::RightSemi, "rightsemi"),
    ];

    pub fn text(self) -> &'static str {
        JoinKind::TABLE
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, t)| *t)
            .unwrap_or("?")
    }

    pub fn from_text(text: &str) -> Option<JoinKind> {
        JoinKind::TABLE
            .iter()
            .find(|(_, t)| *t == text)
            .map(|(k, _)| *k)
    }
}

/// `join`/`lookup`. `on` conditions: a bare column `Key` (same name both
/// sides) or `$left.A == $right.B`, kept as expressions.
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub kind: Option<JoinKind>,
    /// Other `name=value` parameters (`hint.strategy=broadcast`), kept for
    /// printing, ignored by execution.
    pub hints: Vec<(String, Expr)>,
    pub right: Box<Expr>,
    pub on: Vec<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MvExpand {
    /// `bagexpansion=bag|array`
    pub bag_expansion: Option<String>,
    pub with_item_index: Option<Ident>,
    pub items: Vec<MvExpandItem>,
    /// `limit N`
    pub limit: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MvExpandItem {
    pub name: Option<Ident>,
    pub expr: Expr,
    pub to_type: Option<Type>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseKind {
    Simple,
    Regex,
    Relaxed,
}

/// `parse [kind=..] source with * "lit" name:type ...` and `parse-where`.
#[derive(Clone, Debug, PartialEq)]
pub struct Parse {
    pub where_: bool,
    pub kind: Option<ParseKind>,
    pub flags: Option<String>,
    pub source: Expr,
    pub pattern: Vec<ParsePart>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParsePart {
    /// `*`
    Wildcard(Span),
    /// A string literal to match.
    Literal(String, Span),
    /// `name` or `name:type` (default string).
    Column(ColumnDecl),
}
