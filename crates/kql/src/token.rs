//! Tokens and the single keyword table.
//!
//! Tokens carry their byte [`Span`]; identifier text is read back from the
//! source through the span. Keywords are *contextual*: the lexer emits every
//! word as [`TokenKind::Ident`] and the parser decides by position whether it
//! is a keyword. [`OPERATORS`] (tabular operator names) and [`KEYWORDS`]
//! (every other word with a meaning somewhere in the grammar) are the one
//! keyword table; [`is_keyword`] asks both, and the printer quotes names
//! found there.
//! No parsing decisions live here.

use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// The typed literal whose raw text between parentheses the lexer captures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    DateTime,
    TimeSpan,
    Guid,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// A word (`where`, `Timestamp`, `$left`); text is the span's text.
    Ident,
    /// An integer literal (decimal or `0x` hex); sign handled by the parser.
    Long(u64),
    Real(f64),
    /// A timespan literal with a unit suffix (`5d`, `1.5h`), in ticks.
    TimeSpan(i64),
    /// One string literal, escapes resolved (adjacent literals are
    /// concatenated by the parser).
    String(String),
    /// `datetime(...)`, `timespan(...)`/`time(...)`, `guid(...)`: the raw text
    /// between the parentheses (unquoted if it was a string literal) and its span.
    Raw {
        kind: RawKind,
        text: String,
        text_span: Span,
    },
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Pipe,
    Dot,
    DotDot,
    Colon,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`
    EqTilde,
    /// `!~`
    BangTilde,
    /// `!` (before `has`, `in`, `between`...)
    Bang,
    /// `~` (after `in`)
    Tilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// `=>`
    Arrow,
    /// Something the lexer could not read; a diagnostic was emitted.
    Error,
    Eof,
}

impl TokenKind {
    /// A short description for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            TokenKind::Ident => "identifier",
            TokenKind::Long(_) => "number",
            TokenKind::Real(_) => "number",
            TokenKind::TimeSpan(_) => "timespan literal",
            TokenKind::String(_) => "string literal",
            TokenKind::Raw { kind, .. } => match kind {
                RawKind::DateTime => "datetime literal",
                RawKind::TimeSpan => "timespan literal",
                RawKind::Guid => "guid literal",
            },
            TokenKind::LParen => "'('",
            TokenKind::RParen => "')'",
            TokenKind::LBracket => "'['",
            TokenKind::RBracket => "']'",
            TokenKind::LBrace => "'{'",
            TokenKind::RBrace => "'}'",
            TokenKind::Comma => "','",
            TokenKind::Semi => "';'",
            TokenKind::Pipe => "'|'",
            TokenKind::Dot => "'.'",
            TokenKind::DotDot => "'..'",
            TokenKind::Colon => "':'",
            TokenKind::Assign => "'='",
            TokenKind::EqEq => "'=='",
            TokenKind::Ne => "'!='",
            TokenKind::Lt => "'<'",
            TokenKind::Le => "'<='",
            TokenKind::Gt => "'>'",
            TokenKind::Ge => "'>='",
            TokenKind::EqTilde => "'=~'",
            TokenKind::BangTilde => "'!~'",
            TokenKind::Bang => "'!'",
            TokenKind::Tilde => "'~'",
            TokenKind::Plus => "'+'",
            TokenKind::Minus => "'-'",
            TokenKind::Star => "'*'",
            TokenKind::Slash => "'/'",
            TokenKind::Percent => "'%'",
            TokenKind::Arrow => "'=>'",
            TokenKind::Error => "invalid token",
            TokenKind::Eof => "end of query",
        }
    }
}

/// Every tabular operator name the parser knows (the "unknown operator"
/// help lists them; they are keywords too, see [`is_keyword`]).
pub const OPERATORS: &[&str] = &[
    "where",
    "filter",
    "extend",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "summarize",
    "count",
    "take",
    "limit",
    "top",
    "sort",
    "order",
    "distinct",
    "union",
    "join",
    "lookup",
    "mv-expand",
    "mvexpand",
    "parse",
    "parse-where",
    "render",
    "serialize",
    "evaluate",
    "as",
    "invoke",
    "getschema",
];

/// Every other word with a meaning somewhere in the grammar (statements,
/// operator parameters, word operators, literal words); with [`OPERATORS`]
/// the keyword list. All are
/// contextual: where Kusto allows it they still work as names, but the
/// canonical printer writes a name from this list as `['name']`.
pub const KEYWORDS: &[&str] = &[
    // statements and sources
    "let",
    "set",
    "view",
    "print",
    "range",
    "datatable",
    "union",
    "from",
    "to",
    "step",
    // operator clauses and parameters
    "by",
    "on",
    "with",
    "kind",
    "withsource",
    "isfuzzy",
    "bagexpansion",
    "with_itemindex",
    "flags",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "typeof",
    "hint",
    // word operators
    "and",
    "or",
    "not",
    "between",
    "matches",
    "regex",
    "in",
    "has",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "contains",
    "contains_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "has_any",
    "has_all",
    "has_any_cs",
    // literal words
    "true",
    "false",
    "null",
    "int",
    "long",
    "real",
    "double",
    "bool",
    "boolean",
    "decimal",
    "dynamic",
    "datetime",
    "date",
    "timespan",
    "time",
    "guid",
    "string",
];

pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word) || OPERATORS.contains(&word)
}

/// Timespan literal units (`5d`, `10microsecond`...) in ticks.
pub const TIMESPAN_UNITS: &[(&str, i64)] = &[
    ("d", crate::time::DAY),
    ("day", crate::time::DAY),
    ("days", crate::time::DAY),
    ("h", crate::time::HOUR),
    ("hr", crate::time::HOUR),
    ("hrs", crate::time::HOUR),
    ("hour", crate::time::HOUR),
    ("hours", crate::time::HOUR),
    ("m", crate::time::MINUTE),
    ("min", crate::time::MINUTE),
    ("minute", crate::time::MINUTE),
    ("minutes", crate::time::MINUTE),
    ("s", crate::time::SECOND),
    ("sec", crate::time::SECOND),
    ("second", crate::time::SECOND),
    ("seconds", crate::time::SECOND),
    ("ms", crate::time::MILLISECOND),
    ("milli", crate::time::MILLISECOND),
    ("millis", crate::time::MILLISECOND),
    ("millisecond", crate::time::MILLISECOND),
    ("milliseconds", crate::time::MILLISECOND),
    ("microsecond", crate::time::MICROSECOND),
    ("microseconds", crate::time::MICROSECOND),
    ("tick", crate::time::TICK),
    ("ticks", crate::time::TICK),
];

pub fn timespan_unit(suffix: &str) -> Option<i64> {
    TIMESPAN_UNITS
        .iter()
        .find(|(u, _)| *u == suffix)
        .map(|(_, t)| *t)
}

/// Binding strength of a binary operator in Kusto's grammar (higher binds
/// tighter), used by both the parser and the printer. It refines
/// [`BinaryOp::precedence`](crate::ast::BinaryOp::precedence), which puts
/// every comparison on one level: Kusto (checked with Kusto.Language) binds
/// `<`/`>`/`<=`/`>=` tighter than `==`/`!=`/`=~`/`!~`, and the string
/// operators (`has`, `contains`, `startswith`, `matches regex`...) tighter
/// than `<` (`1 < 2 has 'a'` is `1 < (2 has 'a')`). `in`/`between` sit with
/// equality ([`CMP_BINDING`]).
pub(crate) fn binding(op: crate::ast::BinaryOp) -> u8 {
    use crate::ast::BinaryOp as B;
    match op {
        B::Or => 1,
        B::And => 2,
        B::Eq | B::Ne | B::EqCi | B::NeCi => CMP_BINDING,
        B::Lt | B::Le | B::Gt | B::Ge => 4,
        B::Add | B::Sub => 6,
        B::Mul | B::Div | B::Mod => 7,
        _ => 5,
    }
}

/// Binding strength of equality, list operators (`in`, `has_any`...) and
/// `between`.
pub(crate) const CMP_BINDING: u8 = 3;

/// Binding strength of unary `-`/`+` (above every binary operator).
pub(crate) const UNARY_BINDING: u8 = 8;
