//! Canonical KQL printer: `impl Display` for the syntax tree.
//!
//! The output parses back to an equal tree (`parse(print(parse(q))) ==
//! parse(q)`, spans ignored). Parentheses are minimal but precedence-aware;
//! strings are double-quoted with escapes; names that are not plain words,
//! or that are keywords, are written `['...']`; pipelines put each operator
//! on its own line (`\n| op`).
//! Must not live here: any parsing or evaluation.

use std::fmt::{self, Display, Formatter, Write};

use super::{
    ColumnDecl, Expr, ExprKind, Ident, Join, Lambda, LetValue, Literal, MvExpand, NamePattern,
    NamedExpr, NullsOrder, Operator, OperatorKind, Param, ParamType, Parse, ParseKind, ParsePart,
    Query, SortKey, SortOrder, Statement, StatementKind, UnaryOp, Union, UnionKind,
};
use crate::token::is_keyword;

/// Precedence of postfix expressions and atoms.
const ATOM: u8 = 100;
use crate::token::{binding, CMP_BINDING as CMP, UNARY_BINDING as UNARY};

fn is_plain_word(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Writes `s` as a double-quoted KQL string literal.
pub(crate) fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    write_escaped(f, s, '"')?;
    f.write_char('"')
}

fn write_escaped(f: &mut impl Write, s: &str, quote: char) -> fmt::Result {
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c if c.is_control() && (c as u32) <= 0xFFFF => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

/// A name as written in a query: bare when a plain non-keyword word (or
/// `$left`/`$right`), else `['...']`.
struct Name<'a>(&'a str);

impl Display for Name<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let dollar = s.strip_prefix('$').is_some_and(is_plain_word);
        if dollar || (is_plain_word(s) && !is_keyword(s)) {
            f.write_str(s)
        } else {
            f.write_str("['")?;
            write_escaped(f, s, '\'')?;
            f.write_str("']")
        }
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        Name(&self.name).fmt(f)
    }
}

impl Display for NamePattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let p = &self.pattern;
        let plain = !p.is_empty()
            && !p.starts_with(|c: char| c.is_ascii_digit())
            && p.chars()
                .all(|c| c == '*' || c == '_' || c.is_alphanumeric())
            && !is_keyword(p);
        if plain {
            f.write_str(p)
        } else {
            Name(p).fmt(f)
        }
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, s) in self.statements.iter().enumerate() {
            if i > 0 {
                f.write_str(";\n")?;
            }
            s.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StatementKind::Let { name, value } => {
                write!(f, "let {name} = ")?;
                match value {
                    LetValue::Expr(e) => e.fmt(f),
                    LetValue::Function(l) => l.fmt(f),
                }
            }
            StatementKind::Set { name, value } => {
                write!(f, "set {name}")?;
                if let Some(v) = value {
                    write!(f, " = {v}")?;
                }
                Ok(())
            }
            StatementKind::Expr(e) => e.fmt(f),
        }
    }
}

impl Display for Lambda {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.view {
            f.write_str("view ")?;
        }
        f.write_char('(')?;
        comma_list(f, &self.params)?;
        f.write_str(") { ")?;
        for (i, s) in self.body.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            s.fmt(f)?;
        }
        f.write_str(" }")
    }
}

impl Display for Param {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.name)?;
        match &self.ty {
            ParamType::Scalar(t) => f.write_str(t.name())?,
            ParamType::Tabular { columns, open } => {
                f.write_char('(')?;
                comma_list(f, columns)?;
                if *open {
                    if !columns.is_empty() {
                        f.write_str(", ")?;
                    }
                    f.write_char('*')?;
                }
                f.write_char(')')?;
            }
        }
        if let Some(d) = &self.default {
            write!(f, " = {d}")?;
        }
        Ok(())
    }
}

impl Display for ColumnDecl {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.ty.name())
    }
}

fn comma_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        it.fmt(f)?;
    }
    Ok(())
}

/// An expression whose pipeline (if it is one) is printed on one line
/// (`T | where x | count`): used inside parentheses and argument lists.
struct Inline<'a>(&'a Expr);

impl Display for Inline<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            ExprKind::Pipe { input, op } => write!(f, "{} | {op}", Inline(input)),
            _ => self.0.fmt(f),
        }
    }
}

fn inline_list(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        Inline(it).fmt(f)?;
    }
    Ok(())
}

/// The binding strength of an expression as printed.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => binding(*op),
        ExprKind::List { .. } | ExprKind::Between { .. } => CMP,
        ExprKind::Unary { .. } => UNARY,
        ExprKind::Literal(l) if is_negative_number(l) => UNARY,
        // A pipeline only appears bare where a whole pipeline may stand.
        ExprKind::Pipe { .. } => 0,
        // `print`/`range`/`union` extend to the right as far as they can, so
        // the parser only ever puts them last; printed bare they read back
        // the same. `datatable(...)[...]` is closed by its brackets.
        _ => ATOM,
    }
}

fn is_negative_number(l: &Literal) -> bool {
    match l {
        Literal::Long(v) => *v < 0,
        Literal::Real(v) => v.is_sign_negative() && v.is_finite(),
        Literal::TimeSpan(t) => *t < 0,
        _ => false,
    }
}

fn is_number(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Literal(Literal::Long(_) | Literal::Real(_) | Literal::TimeSpan(_))
    )
}

/// An expression printed in a position that needs at least `min` binding.
struct At<'a>(&'a Expr, u8);

impl Display for At<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let At(e, min) = *self;
        if prec(e) < min {
            write!(f, "({e})")
        } else {
            e.fmt(f)
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => l.fmt(f),
            ExprKind::Name(id) => id.fmt(f),
            ExprKind::Member { base, name } => {
                // After `.` any plain word is a property name, keywords too.
                if is_plain_word(&name.name) {
                    write!(f, "{}.{}", At(base, ATOM), name.name)
                } else {
                    write!(f, "{}.{}", At(base, ATOM), name)
                }
            }
            ExprKind::Index { base, index } => write!(f, "{}[{}]", At(base, ATOM), index),
            ExprKind::Unary { op, expr } => {
                f.write_str(match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                })?;
                if is_number(expr) {
                    write!(f, "({expr})")
                } else {
                    At(expr, UNARY).fmt(f)
                }
            }
            ExprKind::Binary { op, left, right } => {
                let p = binding(*op);
                write!(f, "{} {} {}", At(left, p), op.text(), At(right, p + 1))
            }
            ExprKind::List { op, expr, items } => {
                write!(f, "{} {} (", At(expr, CMP), op.text())?;
                inline_list(f, items)?;
                f.write_char(')')
            }
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                let kw = if *negated { "!between" } else { "between" };
                write!(f, "{} {kw} ({low} .. {high})", At(expr, CMP))
            }
            ExprKind::Call { name, args } => {
                write!(f, "{}(", name.name)?;
                inline_list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Star => f.write_char('*'),
            ExprKind::TypeOf(t) => write!(f, "typeof({})", t.name()),
            ExprKind::Pipe { input, op } => write!(f, "{input}\n| {op}"),
            ExprKind::Datatable { columns, values } => {
                f.write_str("datatable(")?;
                comma_list(f, columns)?;
                f.write_str(")[")?;
                comma_list(f, values)?;
                f.write_char(']')
            }
            ExprKind::Print(items) => {
                f.write_str("print ")?;
                comma_list(f, items)
            }
            ExprKind::Range {
                name,
                from,
                to,
                step,
            } => {
                write!(f, "range {name} from {from} to {to} step {step}")
            }
            ExprKind::Union(u) => u.fmt(f),
            ExprKind::Paren(inner) => write!(f, "({})", Inline(inner)),
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null(t) => write!(f, "{}(null)", t.name()),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(i) => write!(f, "int({i})"),
            Literal::Long(i) => write!(f, "{i}"),
            Literal::Real(r) => {
                if r.is_nan() {
                    f.write_str("real(nan)")
                } else if r.is_infinite() {
                    f.write_str(if *r > 0.0 { "real(+inf)" } else { "real(-inf)" })
                } else {
                    // Debug keeps a `.0` or an exponent, so it reads back as real.
                    write!(f, "{r:?}")
                }
            }
            Literal::Decimal(d) => write!(f, "decimal({d})"),
            Literal::String(s) => write_string(f, s),
            Literal::DateTime(t) => write!(f, "datetime({})", crate::time::format_datetime(*t)),
            Literal::TimeSpan(t) => write_timespan(f, *t),
            Literal::Guid(g) => write!(f, "guid({})", g.hyphenated()),
            Literal::Dynamic(v) => write!(f, "dynamic({v})"),
        }
    }
}

/// A timespan as the largest exact unit suffix literal (`90m`, `-1d`, `5tick`).
fn write_timespan(f: &mut Formatter<'_>, ticks: i64) -> fmt::Result {
    use crate::time::{DAY, HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND};
    for (unit, suffix) in [
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
        (MILLISECOND, "ms"),
        (MICROSECOND, "microsecond"),
    ] {
        if ticks != 0 && ticks % unit == 0 {
            return write!(f, "{}{suffix}", ticks / unit);
        }
    }
    if ticks == 0 {
        return f.write_str("0s");
    }
    write!(f, "{ticks}tick")
}

impl Display for NamedExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.names.as_slice() {
            [] => {}
            [one] => write!(f, "{one} = ")?,
            many => {
                f.write_char('(')?;
                comma_list(f, many)?;
                f.write_str(") = ")?;
            }
        }
        self.expr.fmt(f)
    }
}

impl Display for SortKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)?;
        match self.order {
            Some(SortOrder::Asc) => f.write_str(" asc")?,
            Some(SortOrder::Desc) => f.write_str(" desc")?,
            None => {}
        }
        match self.nulls {
            Some(NullsOrder::First) => f.write_str(" nulls first"),
            Some(NullsOrder::Last) => f.write_str(" nulls last"),
            None => Ok(()),
        }
    }
}

impl Display for Union {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("union ")?;
        match self.kind {
            Some(UnionKind::Inner) => f.write_str("kind=inner ")?,
            Some(UnionKind::Outer) => f.write_str("kind=outer ")?,
            None => {}
        }
        if let Some(w) = &self.with_source {
            write!(f, "withsource={w} ")?;
        }
        if let Some(b) = self.is_fuzzy {
            write!(f, "isfuzzy={b} ")?;
        }
        comma_list(f, &self.tables)
    }
}

impl Display for Operator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            OperatorKind::Where(e) => write!(f, "where {e}"),
            OperatorKind::Extend(items) => {
                f.write_str("extend ")?;
                comma_list(f, items)
            }
            OperatorKind::Project(items) => {
                f.write_str("project ")?;
                comma_list(f, items)
            }
            OperatorKind::ProjectAway(p) => {
                f.write_str("project-away ")?;
                comma_list(f, p)
            }
            OperatorKind::ProjectKeep(p) => {
                f.write_str("project-keep ")?;
                comma_list(f, p)
            }
            OperatorKind::ProjectRename(pairs) => {
                f.write_str("project-rename ")?;
                for (i, (new, old)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{new} = {old}")?;
                }
                Ok(())
            }
            OperatorKind::ProjectReorder(items) => {
                f.write_str("project-reorder ")?;
                for (i, (p, order)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    p.fmt(f)?;
                    match order {
                        Some(SortOrder::Asc) => f.write_str(" asc")?,
                        Some(SortOrder::Desc) => f.write_str(" desc")?,
                        None => {}
                    }
                }
                Ok(())
            }
            OperatorKind::Summarize { aggregates, by } => {
                f.write_str("summarize")?;
                if !aggregates.is_empty() {
                    f.write_char(' ')?;
                    comma_list(f, aggregates)?;
                }
                if !by.is_empty() {
                    f.write_str(" by ")?;
                    comma_list(f, by)?;
                }
                Ok(())
            }
            OperatorKind::Count => f.write_str("count"),
            OperatorKind::Take(e) => write!(f, "take {e}"),
            OperatorKind::Top { count, by } => {
                write!(f, "top {count} by ")?;
                comma_list(f, by)
            }
            OperatorKind::Sort(keys) => {
                f.write_str("sort by ")?;
                comma_list(f, keys)
            }
            OperatorKind::Distinct { columns, all } => {
                if *all {
                    f.write_str("distinct *")
                } else {
                    f.write_str("distinct ")?;
                    comma_list(f, columns)
                }
            }
            OperatorKind::Union(u) => u.fmt(f),
            OperatorKind::Join(j) => write_join(f, "join", j),
            OperatorKind::Lookup(j) => write_join(f, "lookup", j),
            OperatorKind::MvExpand(m) => m.fmt(f),
            OperatorKind::Parse(p) => p.fmt(f),
            OperatorKind::Render { chart, properties } => {
                write!(f, "render {chart}")?;
                if !properties.is_empty() {
                    f.write_str(" with (")?;
                    for (i, (k, v)) in properties.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{k} = {}", At(v, ATOM))?;
                    }
                    f.write_char(')')?;
                }
                Ok(())
            }
            OperatorKind::Serialize(items) => {
                f.write_str("serialize")?;
                if !items.is_empty() {
                    f.write_char(' ')?;
                    comma_list(f, items)?;
                }
                Ok(())
            }
            OperatorKind::Evaluate { plugin, args } => {
                write!(f, "evaluate {plugin}(")?;
                inline_list(f, args)?;
                f.write_char(')')
            }
            OperatorKind::As(name) => write!(f, "as {name}"),
            OperatorKind::Invoke { function, args } => {
                write!(f, "invoke {function}(")?;
                inline_list(f, args)?;
                f.write_char(')')
            }
            OperatorKind::GetSchema => f.write_str("getschema"),
        }
    }
}

fn write_join(f: &mut Formatter<'_>, word: &str, j: &Join) -> fmt::Result {
    f.write_str(word)?;
    if let Some(k) = j.kind {
        write!(f, " kind={}", k.text())?;
    }
    for (name, v) in &j.hints {
        write!(f, " {name}={}", At(v, ATOM))?;
    }
    write!(f, " {} on ", j.right)?;
    comma_list(f, &j.on)
}

impl Display for MvExpand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("mv-expand ")?;
        if let Some(b) = &self.bag_expansion {
            write!(f, "bagexpansion={b} ")?;
        }
        if let Some(i) = &self.with_item_index {
            write!(f, "with_itemindex={i} ")?;
        }
        for (i, it) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if let Some(n) = &it.name {
                write!(f, "{n} = ")?;
            }
            it.expr.fmt(f)?;
            if let Some(t) = it.to_type {
                write!(f, " to typeof({})", t.name())?;
            }
        }
        if let Some(l) = &self.limit {
            write!(f, " limit {l}")?;
        }
        Ok(())
    }
}

impl Display for Parse {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.where_ { "parse-where" } else { "parse" })?;
        match self.kind {
            Some(ParseKind::Simple) => f.write_str(" kind=simple")?,
            Some(ParseKind::Regex) => f.write_str(" kind=regex")?,
            Some(ParseKind::Relaxed) => f.write_str(" kind=relaxed")?,
            None => {}
        }
        if let Some(flags) = &self.flags {
            f.write_str(" flags=")?;
            if is_plain_word(flags) {
                f.write_str(flags)?;
            } else {
                write_string(f, flags)?;
            }
        }
        write!(f, " {} with", self.source)?;
        for part in &self.pattern {
            f.write_char(' ')?;
            match part {
                ParsePart::Wildcard(_) => f.write_char('*')?,
                ParsePart::Literal(s, _) => write_string(f, s)?,
                ParsePart::Column(c) => c.fmt(f)?,
            }
        }
        Ok(())
    }
}
