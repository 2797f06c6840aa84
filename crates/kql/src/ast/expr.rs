//! Expressions: scalar and tabular.

use super::{Ident, Operator, Span, Statement};
use crate::value::{Decimal, Type, Uuid};

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A bare name: column, let-bound scalar or table, table, or
    /// `$left`/`$right` (with the `$`).
    Name(Ident),
    /// `base.name`
    Member {
        base: Box<Expr>,
        name: Ident,
    },
    /// `base[index]` (array index or `['key']`)
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x in (a, b)`, `x has_any (list)` ...: each item may be a scalar, a
    /// dynamic array, or a tabular expression.
    List {
        op: ListOp,
        expr: Box<Expr>,
        items: Vec<Expr>,
    },
    /// `x between (low .. high)`, `x !between (...)`
    Between {
        negated: bool,
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// `f(a, b)`; also `toscalar(T)`, `materialize(T)`, user functions, and
    /// typed-cast calls that are not literals (`toint(x)`).
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
    /// `*` as an argument (`arg_max(x, *)`, `take_any(*)`).
    Star,
    /// `typeof(long)` as an argument (`extract(..., typeof(long))`).
    TypeOf(Type),

    // ---- tabular ----
    /// `input | op`
    Pipe {
        input: Box<Expr>,
        op: Box<Operator>,
    },
    /// `datatable(a:long, b:string) [1, "x", ...]`
    Datatable {
        columns: Vec<ColumnDecl>,
        values: Vec<Expr>,
    },
    /// `print a = 1, 2`
    Print(Vec<NamedExpr>),
    /// `range x from a to b step s`
    Range {
        name: Ident,
        from: Box<Expr>,
        to: Box<Expr>,
        step: Box<Expr>,
    },
    /// `union [kind=..] [withsource=..] T1, T2` at the start of a pipeline.
    Union(Union),
    /// `(expr)` kept only where it matters for printing a tabular argument;
    /// the parser drops parentheses around scalars.
    Paren(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A typed null: `long(null)`, `datetime(null)`, `dynamic(null)`...
    Null(Type),
    Bool(bool),
    /// `int(5)`
    Int(i32),
    Long(i64),
    Real(f64),
    Decimal(Decimal),
    String(String),
    /// Ticks since 0001-01-01.
    DateTime(i64),
    /// Ticks.
    TimeSpan(i64),
    Guid(Uuid),
    /// `dynamic(...)` (never JSON null: that is `Null(Type::Dynamic)`).
    Dynamic(serde_json::Value),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Plus,
}

/// Every infix scalar operator of the language: one table, one enum. The
/// text of each is in [`BinaryOp::text`]; the parser and printer use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`
    EqCi,
    /// `!~`
    NeCi,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Has,
    NotHas,
    HasCs,
    NotHasCs,
    HasPrefix,
    NotHasPrefix,
    HasPrefixCs,
    NotHasPrefixCs,
    HasSuffix,
    NotHasSuffix,
    HasSuffixCs,
    NotHasSuffixCs,
    Contains,
    NotContains,
    ContainsCs,
    NotContainsCs,
    StartsWith,
    NotStartsWith,
    StartsWithCs,
    NotStartsWithCs,
    EndsWith,
    NotEndsWith,
    EndsWithCs,
    NotEndsWithCs,
    /// `matches regex`
    MatchesRegex,
}

impl BinaryOp {
    /// (op, source text). Word operators are matched as whole tokens.
    pub const TABLE: &'static [(BinaryOp, &'static str)] = &[
        (BinaryOp::Or, "or"),
        (BinaryOp::And, "and"),
        (BinaryOp::Eq, "=="),
        (BinaryOp::Ne, "!="),
        (BinaryOp::Lt, "<"),
        (BinaryOp::Le, "<="),
        (BinaryOp::Gt, ">"),
        (BinaryOp::Ge, ">="),
        (BinaryOp::EqCi, "=~"),
        (BinaryOp::NeCi, "!~"),
        (BinaryOp::Add, "+"),
        (BinaryOp::Sub, "-"),
        (BinaryOp::Mul, "*"),
        (BinaryOp::Div, "/"),
        (BinaryOp::Mod, "%"),
        (BinaryOp::Has, "has"),
        (BinaryOp::NotHas, "!has"),
        (BinaryOp::HasCs, "has_cs"),
        (BinaryOp::NotHasCs, "!has_cs"),
        (BinaryOp::HasPrefix, "hasprefix"),
        (BinaryOp::NotHasPrefix, "!hasprefix"),
        (BinaryOp::HasPrefixCs, "hasprefix_cs"),
        (BinaryOp::NotHasPrefixCs, "!hasprefix_cs"),
        (BinaryOp::HasSuffix, "hassuffix"),
        (BinaryOp::NotHasSuffix, "!hassuffix"),
        (BinaryOp::HasSuffixCs, "hassuffix_cs"),
        (BinaryOp::NotHasSuffixCs, "!hassuffix_cs"),
        (BinaryOp::Contains, "contains"),
        (BinaryOp::NotContains, "!contains"),
        (BinaryOp::ContainsCs, "contains_cs"),
        (BinaryOp::NotContainsCs, "!contains_cs"),
        (BinaryOp::StartsWith, "startswith"),
        (BinaryOp::NotStartsWith, "!startswith"),
        (BinaryOp::StartsWithCs, "startswith_cs"),
        (BinaryOp::NotStartsWithCs, "!startswith_cs"),
        (BinaryOp::EndsWith, "endswith"),
        (BinaryOp::NotEndsWith, "!endswith"),
        (BinaryOp::EndsWithCs, "endswith_cs"),
        (BinaryOp::NotEndsWithCs, "!endswith_cs"),
        (BinaryOp::MatchesRegex, "matches regex"),
    ];

    pub fn text(self) -> &'static str {
        BinaryOp::TABLE
            .iter()
            .find(|(op, _)| *op == self)
            .map(|(_, t)| *t)
            .unwrap_or("?")
    }

    pub fn from_text(text: &str) -> Option<BinaryOp> {
        BinaryOp::TABLE
            .iter()
            .find(|(_, t)| *t == text)
            .map(|(op, _)| *op)
    }

    /// Binding strength: higher binds tighter. `or` < `and` < comparisons
    /// and string operators < `+ -` < `* / %`.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
            _ => 3,
        }
    }
}

/// Operators whose right side is a parenthesized list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListOp {
    In,
    NotIn,
    /// `in~`
    InCi,
    /// `!in~`
    NotInCi,
    HasAny,
    HasAll,
    HasAnyCs,
}

impl ListOp {
    pub const TABLE: &'static [(ListOp, &'static str)] = &[
        (ListOp::In, "in"),
        (ListOp::NotIn, "!in"),
        (ListOp::InCi, "in~"),
        (ListOp::NotInCi, "!in~"),
        (ListOp::HasAny, "has_any"),
        (ListOp::HasAll, "has_all"),
        (ListOp::HasAnyCs, "has_any_cs"),
    ];

    pub fn text(self) -> &'static str {
        ListOp::TABLE
            .iter()
            .find(|(op, _)| *op == self)
            .map(|(_, t)| *t)
            .unwrap_or("?")
    }

    pub fn from_text(text: &str) -> Option<ListOp> {
        ListOp::TABLE
            .iter()
            .find(|(_, t)| *t == text)
            .map(|(op, _)| *op)
    }
}

/// `name = expr` or a bare `expr` (the planner invents the default name).
/// `(a, b) = f(...)` names several output columns (`arg_max` and friends).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedExpr {
    pub names: Vec<Ident>,
    pub expr: Expr,
    pub span: Span,
}

/// `name: type` in `datatable(...)` and function parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: Type,
    pub span: Span,
}

/// `union` parameters and operands (both the source form and the operator).
#[derive(Clone, Debug, PartialEq)]
pub struct Union {
    pub kind: Option<UnionKind>,
    pub with_source: Option<Ident>,
    pub is_fuzzy: Option<bool>,
    pub tables: Vec<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnionKind {
    Inner,
    Outer,
}

/// A user-defined function: `(a:long, T:(*)) { let x = ...; body }` or
/// `view () { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Lambda {
    pub params: Vec<Param>,
    /// `let` statements, then the final expression statement.
    pub body: Vec<Statement>,
    pub view: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    Scalar(Type),
    /// `T:(*)` is `Tabular(vec![])` with `open = true`; `T:(a:long, *)`
    /// lists required columns.
    Tabular {
        columns: Vec<ColumnDecl>,
        open: bool,
    },
}
