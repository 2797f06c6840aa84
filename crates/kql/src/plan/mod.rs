//! Planner: AST + catalog schemas -> [`Plan`].
//!
//! Resolves `let` bindings (scalars, tables, functions, views, materialize),
//! names and table references, checks types through the `functions`,
//! `functions::ops` and `aggregate` contracts, computes every operator's
//! output schema with Kusto.Language's naming rules, and lowers the query to
//! a tree of [`Node`]s whose expressions ([`PExpr`]) refer to columns by
//! index and carry precompiled matchers. Projection and prefilter pushdown
//! into catalog scans happen at the end (`pushdown`).
//!
//! Nothing here runs a query or touches data (that is `exec`); constant
//! folding evaluates constant expressions only.

mod expr;
mod names;
mod pushdown;
mod scope;
mod tabular;

use crate::aggregate::AggregateDef;
use crate::ast::{BinaryOp, JoinKind, ListOp, NullsOrder, Query, SortOrder};
use crate::diag::{Diagnostic, Diagnostics};
use crate::functions::ops::{ListMatcher, StringMatcher};
use crate::functions::{ArgInfo, FunctionDef};
use crate::span::Span;
use crate::table::{Catalog, Prefilter, Schema};
use crate::value::{Type, Value};
use std::sync::Arc;

pub(crate) use expr::flatten_items;
pub use scope::Scope;

/// Diagnostic codes of the planner.
pub mod codes {
    /// Unknown column or name.
    pub const UNKNOWN_NAME: &str = "KQL101";
    /// Unknown function.
    pub const UNKNOWN_FUNCTION: &str = "KQL102";
    /// Operand types not allowed for an operator.
    pub const OPERATOR_TYPES: &str = "KQL103";
    /// Bad arguments to a function or aggregate.
    pub const ARGUMENTS: &str = "KQL104";
    /// An expression of the wrong type (e.g. a non-bool `where`).
    pub const EXPECTED_TYPE: &str = "KQL105";
    /// Unknown table.
    pub const UNKNOWN_TABLE: &str = "KQL106";
    /// A construct the engine does not support.
    pub const UNSUPPORTED: &str = "KQL107";
    /// A column name declared twice.
    pub const DUPLICATE_COLUMN: &str = "KQL108";
    /// A value that must be a constant is not.
    pub const NOT_CONSTANT: &str = "KQL109";
    /// A tabular expression where a scalar is expected, or the reverse.
    pub const KIND: &str = "KQL110";
    /// An invalid regular expression.
    pub const REGEX: &str = "KQL111";
}

/// An executable query: the root tabular node, its output schema, and the
/// row-independent subqueries (`toscalar`, tabular `in (T)` operands) that
/// run once before it, in order (later ones may use earlier ones).
#[derive(Debug, Clone)]
pub struct Plan {
    pub root: Node,
    pub schema: Schema,
    pub subqueries: Vec<Subquery>,
    /// Number of row-independent list matchers cached during execution.
    pub list_caches: usize,
    /// Number of `materialize` caches.
    pub materialized: usize,
}

#[derive(Debug, Clone)]
pub struct Subquery {
    pub node: Node,
    pub kind: SubqueryKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubqueryKind {
    /// `toscalar(T)`: first column of the first row (null if none).
    Scalar(Type),
    /// Values of the first column (list operands).
    Column,
}

/// One tabular operator with its inputs. Column references inside are
/// indices into the input row.
#[derive(Debug, Clone)]
pub enum Node {
    /// Read a catalog table. `schema` is the full table schema; rows are
    /// produced full-width with `Null` in columns not listed in `columns`.
    Scan {
        table: String,
        schema: Schema,
        columns: Vec<usize>,
        prefilter: Option<Prefilter>,
        span: Span,
    },
    /// Constant rows (datatable, getschema).
    Values {
        rows: Arc<Vec<Vec<Value>>>,
    },
    /// `print`: one row of expressions over an empty row.
    Print {
        exprs: Vec<PExpr>,
    },
    Range {
        from: PExpr,
        to: PExpr,
        step: PExpr,
        ty: Type,
        span: Span,
    },
    Filter {
        input: Box<Node>,
        pred: PExpr,
    },
    /// `project`, `extend` and friends: each output column is an expression
    /// over the input row. `window`: expressions use row_number/prev/next
    /// (input is materialized and evaluated in order).
    Project {
        input: Box<Node>,
        exprs: Vec<PExpr>,
        window: bool,
    },
    Summarize {
        input: Box<Node>,
        keys: Vec<PExpr>,
        aggs: Vec<AggSpec>,
        span: Span,
    },
    Count {
        input: Box<Node>,
    },
    Take {
        input: Box<Node>,
        count: PExpr,
    },
    /// `sort`/`order`/`top` (with `limit`).
    Sort {
        input: Box<Node>,
        keys: Vec<SortSpec>,
        limit: Option<PExpr>,
        span: Span,
    },
    /// Unique rows over all columns (`distinct`); first-seen order.
    Distinct {
        input: Box<Node>,
        span: Span,
    },
    Union {
        inputs: Vec<UnionInput>,
        /// Output column count (after the optional source column).
        width: usize,
        /// Null of each output column (`""` for strings).
        fill: Vec<Value>,
        with_source: bool,
    },
    Join(Box<JoinSpec>),
    MvExpand(Box<MvExpandSpec>),
    Parse(Box<ParseSpec>),
    /// `evaluate bag_unpack(col [, prefix])`: output schema depends on data;
    /// the operators after it (`rest`) are planned at run time.
    BagUnpack(Box<BagUnpackSpec>),
    /// Evaluate `input` once per query and reuse the rows.
    Materialize {
        id: usize,
        input: Box<Node>,
    },
}

#[derive(Debug, Clone)]
pub struct UnionInput {
    pub node: Node,
    /// For each input column, its index in the output row.
    pub mapping: Vec<usize>,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct AggSpec {
    pub def: &'static AggregateDef,
    pub args: Vec<PExpr>,
    pub infos: Vec<ArgInfo>,
    /// How many output columns (`arg_max(x, a, b)` -> 3).
    pub outputs: usize,
    /// Whether `finish()` values should be cast to these types.
    pub types: Vec<Type>,
}

#[derive(Debug, Clone)]
pub struct SortSpec {
    pub expr: PExpr,
    pub order: SortOrder,
    pub nulls: NullsOrder,
}

#[derive(Debug, Clone)]
pub struct JoinSpec {
    pub left: Node,
    pub right: Node,
    pub kind: JoinKind,
    pub left_keys: Vec<usize>,
    pub right_keys: Vec<usize>,
    /// Columns of each side (for outer fills).
    pub left_fill: Vec<Value>,
    pub right_fill: Vec<Value>,
    /// For `lookup`: right columns to keep (non-key), in order; `None` for
    /// `join` (all right columns).
    pub right_keep: Option<Vec<usize>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct MvExpandSpec {
    pub input: Node,
    /// (expression, output column index, cast target)
    pub items: Vec<(PExpr, usize, Option<Type>)>,
    /// Output width: the input row padded with nulls, then items written.
    pub width: usize,
    pub index_col: Option<usize>,
    pub bag_as_array: bool,
    pub limit: Option<PExpr>,
}

#[derive(Debug, Clone)]
pub struct ParseSpec {
    pub input: Node,
    pub source: PExpr,
    pub regex: regex::Regex,
    /// (capture group, output column index, type)
    pub columns: Vec<(usize, usize, Type)>,
    /// Output width (like mv-expand).
    pub width: usize,
    pub drop_nonmatching: bool,
}

#[derive(Debug, Clone)]
pub struct BagUnpackSpec {
    pub input: Node,
    pub input_schema: Schema,
    pub column: usize,
    pub prefix: String,
    /// Operators after `evaluate`, planned once the data is known.
    pub rest: Vec<crate::ast::Operator>,
    pub scope: Scope,
    pub span: Span,
}

/// A planned scalar expression.
#[derive(Debug, Clone)]
pub enum PExpr {
    Const(Value),
    Col(usize),
    /// `now()`: the query's fixed instant.
    Now,
    /// The result of scalar subquery `n`.
    Sub(usize),
    Neg(Box<PExpr>, Span),
    Binary {
        op: BinaryOp,
        l: Box<PExpr>,
        r: Box<PExpr>,
        span: Span,
    },
    And(Box<PExpr>, Box<PExpr>),
    Or(Box<PExpr>, Box<PExpr>),
    /// A string predicate with a constant needle.
    StrMatch {
        m: Arc<StringMatcher>,
        e: Box<PExpr>,
        op: BinaryOp,
        needle: Arc<str>,
    },
    /// `matches regex` with a constant pattern.
    Regex {
        re: Arc<regex::Regex>,
        e: Box<PExpr>,
    },
    /// A list predicate whose items are all constants.
    InList {
        m: Arc<ListMatcher>,
        e: Box<PExpr>,
        op: ListOp,
        items: Arc<Vec<Value>>,
    },
    /// A list predicate with computed items; `cache` is set when the items
    /// do not depend on the row (the matcher is built once).
    InListDyn {
        op: ListOp,
        e: Box<PExpr>,
        items: Vec<ListItem>,
        cache: Option<usize>,
        span: Span,
    },
    Between {
        negated: bool,
        e: Box<PExpr>,
        lo: Box<PExpr>,
        hi: Box<PExpr>,
        span: Span,
    },
    Call {
        f: &'static FunctionDef,
        args: Vec<PExpr>,
        span: Span,
    },
    /// `base.key` / `base['key']` on dynamic values.
    Member {
        base: Box<PExpr>,
        key: String,
    },
    /// `base[i]` with a computed index.
    Index {
        base: Box<PExpr>,
        index: Box<PExpr>,
    },
    /// Cast to a type (used for typed nulls and coercions).
    Cast(Box<PExpr>, Type),
    /// `row_number(start [, restart])`.
    RowNumber {
        start: i64,
        restart: Option<Box<PExpr>>,
    },
    /// `row_cumsum(term [, restart])`.
    RowCumsum {
        term: Box<PExpr>,
        restart: Option<Box<PExpr>>,
    },
    /// `prev(e, offset, default)` / `next(...)` (`forward`).
    Prev {
        e: Box<PExpr>,
        offset: usize,
        default: Box<PExpr>,
        forward: bool,
    },
}

#[derive(Debug, Clone)]
pub enum ListItem {
    Expr(PExpr),
    /// Values of column subquery `n`.
    Table(usize),
}

/// Most plan nodes / expression nodes a query may expand to (functions and
/// tabular lets are inlined, so a short query can describe a huge plan).
pub(crate) const MAX_PLAN_NODES: usize = 20_000;

/// Deepest plan / expression tree (planning and execution recurse over it).
pub(crate) const MAX_PLAN_DEPTH: usize = 600;

impl Node {
    /// The direct inputs of this node.
    pub fn inputs(&self) -> Vec<&Node> {
        match self {
            Node::Scan { .. } | Node::Values { .. } | Node::Print { .. } | Node::Range { .. } => {
                vec![]
            }
            Node::Filter { input, .. }
            | Node::Project { input, .. }
            | Node::Summarize { input, .. }
            | Node::Count { input }
            | Node::Take { input, .. }
            | Node::Sort { input, .. }
            | Node::Distinct { input, .. }
            | Node::Materialize { input, .. } => vec![&**input],
            Node::Union { inputs, .. } => inputs.iter().map(|i| &i.node).collect(),
            Node::Join(j) => vec![&j.left, &j.right],
            Node::MvExpand(m) => vec![&m.input],
            Node::Parse(p) => vec![&p.input],
            Node::BagUnpack(b) => vec![&b.input],
        }
    }

    /// Depth of the tree, measuring no further than `cap`.
    pub(crate) fn depth(&self, cap: usize) -> usize {
        if cap <= 1 {
            return 1;
        }
        1 + self
            .inputs()
            .iter()
            .map(|i| i.depth(cap - 1))
            .max()
            .unwrap_or(0)
    }

    /// Number of nodes in the tree, counting no further than `cap`.
    pub(crate) fn size(&self, cap: usize) -> usize {
        let mut n = 1;
        for i in self.inputs() {
            if n >= cap {
                break;
            }
            n += i.size(cap - n);
        }
        n
    }
}

impl PExpr {
    /// Depth of the expression, measuring no further than `cap`.
    pub(crate) fn depth(&self, cap: usize) -> usize {
        if cap <= 1 {
            return 1;
        }
        let mut d = 0;
        self.for_each_child(&mut |c| d = d.max(c.depth(cap - 1)));
        1 + d
    }

    /// Number of expression nodes, counting no further than `cap`.
    pub(crate) fn size(&self, cap: usize) -> usize {
        let mut n = 1;
        self.for_each_child(&mut |c| {
            if n < cap {
                n += c.size(cap - n);
            }
        });
        n
    }

    pub fn as_const(&self) -> Option<&Value> {
        match self {
            PExpr::Const(v) => Some(v),
            _ => None,
        }
    }

    /// Calls `f` on every direct child expression.
    pub fn for_each_child(&self, f: &mut dyn FnMut(&PExpr)) {
        match self {
            PExpr::Const(_) | PExpr::Col(_) | PExpr::Now | PExpr::Sub(_) => {}
            PExpr::RowNumber { restart, .. } => {
                if let Some(r) = restart {
                    f(r)
                }
            }
            PExpr::RowCumsum { term, restart } => {
                f(term);
                if let Some(r) = restart {
                    f(r)
                }
            }
            PExpr::Neg(e, _)
            | PExpr::StrMatch { e, .. }
            | PExpr::Regex { e, .. }
            | PExpr::InList { e, .. }
            | PExpr::Cast(e, _) => f(e),
            PExpr::Member { base, .. } => f(base),
            PExpr::Binary { l, r, .. } | PExpr::And(l, r) | PExpr::Or(l, r) => {
                f(l);
                f(r)
            }
            PExpr::InListDyn { e, items, .. } => {
                f(e);
                for i in items {
                    if let ListItem::Expr(x) = i {
                        f(x)
                    }
                }
            }
            PExpr::Between { e, lo, hi, .. } => {
                f(e);
                f(lo);
                f(hi)
            }
            PExpr::Call { args, .. } => args.iter().for_each(f),
            PExpr::Index { base, index } => {
                f(base);
                f(index)
            }
            PExpr::Prev { e, default, .. } => {
                f(e);
                f(default)
            }
        }
    }

    /// Column indices this expression reads.
    pub fn columns(&self, out: &mut Vec<usize>) {
        if let PExpr::Col(i) = self {
            out.push(*i);
        }
        self.for_each_child(&mut |c| c.columns(out));
    }

    /// Whether the expression reads the row (columns or window state).
    pub fn depends_on_row(&self) -> bool {
        let mut dep = matches!(
            self,
            PExpr::Col(_) | PExpr::RowNumber { .. } | PExpr::RowCumsum { .. } | PExpr::Prev { .. }
        );
        if !dep {
            self.for_each_child(&mut |c| dep |= c.depends_on_row());
        }
        dep
    }

    /// Whether the expression uses row_number/prev/next.
    pub fn uses_window(&self) -> bool {
        let mut w = matches!(
            self,
            PExpr::RowNumber { .. } | PExpr::RowCumsum { .. } | PExpr::Prev { .. }
        );
        if !w {
            self.for_each_child(&mut |c| w |= c.uses_window());
        }
        w
    }
}

/// Plans a whole query.
pub fn plan_query(query: &Query, catalog: &dyn Catalog) -> Result<Plan, Diagnostics> {
    // Planning recurses over the query; a thread with a known, large stack
    // keeps deep (but bounded) queries from overflowing the caller's.
    crate::exec::on_big_stack(|| plan_query_here(query, catalog))
}

fn plan_query_here(query: &Query, catalog: &dyn Catalog) -> Result<Plan, Diagnostics> {
    let mut p = Planner::new(catalog);
    let root = p.plan_statements(&query.statements, query.span);
    let errors: Vec<Diagnostic> = p.diags;
    match root {
        Some((mut node, schema)) if errors.is_empty() => {
            pushdown::pushdown(&mut node, &schema);
            for s in &mut p.subqueries {
                let sch = Schema::default();
                pushdown::pushdown_all(&mut s.node, &sch);
            }
            Ok(Plan {
                root: node,
                schema,
                subqueries: p.subqueries,
                list_caches: p.list_caches,
                materialized: p.materialized,
            })
        }
        _ => {
            if errors.is_empty() {
                Err(Diagnostics(vec![Diagnostic::error(
                    codes::KIND,
                    "the query has no tabular expression to run",
                    query.span,
                )]))
            } else {
                Err(Diagnostics(errors))
            }
        }
    }
}

/// Plans the operators that follow `evaluate bag_unpack` once the
/// unpacked table's schema is known (called by the executor).
pub(crate) fn plan_rest(
    rest: &[crate::ast::Operator],
    scope: &Scope,
    input: Node,
    schema: Schema,
    catalog: &dyn Catalog,
    bases: RestBases,
) -> Result<Plan, Diagnostics> {
    let mut p = Planner::new(catalog);
    p.scope = scope.clone();
    p.materialized = bases.materialized;
    p.sub_base = bases.subqueries;
    p.list_caches = bases.list_caches;
    let mut cur = Some((input, schema));
    for op in rest {
        cur = match cur {
            Some((Node::BagUnpack(mut spec), s)) => {
                spec.rest.push(op.clone());
                Some((Node::BagUnpack(spec), s))
            }
            Some((n, s)) => p.plan_operator(n, s, op).ok(),
            None => None,
        };
    }
    match cur {
        Some((node, schema)) if p.diags.is_empty() => Ok(Plan {
            root: node,
            schema,
            subqueries: p.subqueries,
            list_caches: p.list_caches,
            materialized: p.materialized,
        }),
        _ => Err(Diagnostics(p.diags)),
    }
}

/// Id bases for a plan made at run time (the operators after
/// `bag_unpack`): its ids continue the parent plan's, so expressions bound
/// in the parent scope keep referring to the parent's subquery results.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RestBases {
    pub materialized: usize,
    pub subqueries: usize,
    pub list_caches: usize,
}

/// Planning state: the scope, collected diagnostics, subqueries.
pub(crate) struct Planner<'c> {
    pub(crate) catalog: &'c dyn Catalog,
    pub(crate) scope: Scope,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) subqueries: Vec<Subquery>,
    pub(crate) list_caches: usize,
    pub(crate) materialized: usize,
    /// Id of the first subquery of this planner.
    pub(crate) sub_base: usize,
    /// Function-call nesting (guards runaway recursion).
    pub(crate) depth: usize,
}

/// Marker for "a diagnostic was already recorded".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failed;

pub(crate) type PResult<T> = Result<T, Failed>;

impl<'c> Planner<'c> {
    fn new(catalog: &'c dyn Catalog) -> Planner<'c> {
        Planner {
            catalog,
            scope: Scope::default(),
            diags: Vec::new(),
            subqueries: Vec::new(),
            list_caches: 0,
            materialized: 0,
            sub_base: 0,
            depth: 0,
        }
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
    ) -> Failed {
        self.diags.push(Diagnostic::error(code, message, span));
        Failed
    }

    pub(crate) fn add_subquery(&mut self, node: Node, kind: SubqueryKind, span: Span) -> usize {
        self.subqueries.push(Subquery { node, kind, span });
        self.sub_base + self.subqueries.len() - 1
    }
}
