//! Executor: [`Plan`] + [`Catalog`] -> [`Table`].
//!
//! Rows are pushed through the plan: streaming operators (where, extend,
//! project, mv-expand, parse, take, union, distinct) handle one row at a
//! time; summarize keeps only its groups, so an input larger than memory
//! runs in bounded memory. The streaming prefix over a catalog scan runs in
//! one thread per scan partition, feeding the rest through a bounded
//! channel. Buffering operators (sort, join build side, summarize groups,
//! materialize, window functions) are bounded by [`crate::Limits`]; a bound
//! hit is an [`EvalError`], never an out-of-memory or a hang.
//!
//! No panics on any input: data-dependent paths use no unwrap/indexing.

mod eval;
mod ops;

use crate::diag::Diagnostic;
use crate::functions::ops::ListMatcher;
use crate::plan::{Node, PExpr, Plan, SubqueryKind};
use crate::span::Span;
use crate::table::{Catalog, ScanRequest, Table};
use crate::value::{Row, Value};
use crate::EvalContext;
use eval::Env;
pub(crate) use eval::SubValue;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub(crate) use eval::eval;

/// Diagnostic codes of runtime errors.
pub mod codes {
    /// A function or operator failed on a value.
    pub const RUNTIME: &str = "KQL201";
    /// A row bound (`Limits::max_rows`) was hit.
    pub const ROW_LIMIT: &str = "KQL202";
    /// The memory budget (`Limits::max_memory`) was hit.
    pub const MEMORY_LIMIT: &str = "KQL203";
    /// Reading an input table failed.
    pub const SCAN: &str = "KQL204";
    /// A bad operator argument (e.g. `range` step 0).
    pub const ARGUMENT: &str = "KQL205";
    /// Planning at run time failed (operators after bag_unpack).
    pub const PLAN: &str = "KQL206";
}

/// A runtime failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub code: &'static str,
    pub message: String,
    pub span: Option<Span>,
}

impl EvalError {
    pub fn new(code: &'static str, message: impl Into<String>, span: Option<Span>) -> EvalError {
        EvalError {
            code,
            message: message.into(),
            span,
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::error(
            self.code,
            self.message.clone(),
            self.span.unwrap_or_default(),
        );
        if self.span.is_none() {
            d.labels.clear();
        }
        d
    }
}

/// Evaluates a constant expression (used by the planner's folding).
pub(crate) fn eval_const(e: &PExpr) -> Result<Value, EvalError> {
    eval(e, &[], &Env::empty())
}

/// Runs a plan.
pub fn execute(plan: &Plan, catalog: &dyn Catalog, ctx: &EvalContext) -> Result<Table, EvalError> {
    on_big_stack(|| execute_with(plan, catalog, ctx, Vec::new()))
}

/// Stack for planning and execution: both recurse over the (bounded) plan
/// depth, and callers' threads may have small stacks.
const STACK_BYTES: usize = 64 << 20;

/// Runs `f` on a scoped thread with a [`STACK_BYTES`] stack (inline if the
/// thread cannot be started). A panic in `f` is propagated to the caller.
pub(crate) fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut g| g.take());
    let outcome = std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn_scoped(s, || take().map(|g| g()));
        match handle {
            Ok(h) => Some(h.join()),
            Err(_) => None,
        }
    });
    match outcome {
        Some(Ok(Some(v))) => v,
        Some(Err(payload)) => std::panic::resume_unwind(payload),
        // The thread could not start (or found no closure): run here.
        Some(Ok(None)) | None => match take() {
            Some(g) => g(),
            None => std::panic::resume_unwind(Box::new("on_big_stack: closure already taken")),
        },
    }
}

/// Runs a plan whose subquery ids continue after `inherited` (plans made
/// at run time by `bag_unpack`).
pub(crate) fn execute_with(
    plan: &Plan,
    catalog: &dyn Catalog,
    ctx: &EvalContext,
    inherited: Vec<SubValue>,
) -> Result<Table, EvalError> {
    let mut ex = Exec {
        catalog,
        ctx,
        subs: inherited,
        lists: (0..plan.list_caches).map(|_| OnceLock::new()).collect(),
        materialized: Mutex::new(HashMap::new()),
        materialized_base: plan.materialized,
        list_base: plan.list_caches,
    };
    for s in &plan.subqueries {
        let rows = ex.collect(&s.node, Some(s.span))?;
        let v = match s.kind {
            SubqueryKind::Scalar(ty) => SubValue::Scalar(
                rows.first()
                    .and_then(|r| r.first())
                    .cloned()
                    .unwrap_or_else(|| Value::null_of(ty)),
            ),
            SubqueryKind::Column => SubValue::Column(
                rows.into_iter()
                    .filter_map(|r| r.into_iter().next())
                    .collect(),
            ),
        };
        ex.subs.push(v);
    }
    if let Node::BagUnpack(spec) = &plan.root {
        return ex.bag_unpack_table(spec);
    }
    let rows = ex.collect(&plan.root, None)?;
    Ok(Table {
        schema: plan.schema.clone(),
        rows,
    })
}

/// The streaming operators on top of `node` (outermost first) and the
/// node below them.
fn streaming_chain(node: &Node) -> (Vec<&Node>, &Node) {
    let mut chain = Vec::new();
    let mut cur = node;
    loop {
        match cur {
            Node::Filter { input, .. }
            | Node::Project {
                input,
                window: false,
                ..
            } => {
                chain.push(cur);
                cur = input;
            }
            Node::MvExpand(m) => {
                chain.push(cur);
                cur = &m.input;
            }
            Node::Parse(p) => {
                chain.push(cur);
                cur = &p.input;
            }
            _ => return (chain, cur),
        }
    }
}

/// Where rows go: returns `Ok(false)` to stop the producer.
pub(crate) type Sink<'s> = dyn FnMut(Row) -> Result<bool, EvalError> + 's;

pub(crate) struct Exec<'a> {
    catalog: &'a dyn Catalog,
    ctx: &'a EvalContext,
    subs: Vec<SubValue>,
    lists: Vec<OnceLock<Result<Arc<ListMatcher>, String>>>,
    materialized: Mutex<HashMap<usize, Arc<Vec<Row>>>>,
    materialized_base: usize,
    list_base: usize,
}

/// Rough heap + inline size of a value, for the memory budget.
pub(crate) fn value_bytes(v: &Value) -> usize {
    fn json_bytes(j: &serde_json::Value) -> usize {
        match j {
            serde_json::Value::String(s) => 32 + s.len(),
            serde_json::Value::Array(a) => 32 + a.iter().map(json_bytes).sum::<usize>(),
            serde_json::Value::Object(m) => {
                32 + m
                    .iter()
                    .map(|(k, v)| 32 + k.len() + json_bytes(v))
                    .sum::<usize>()
            }
            _ => 32,
        }
    }
    32 + match v {
        Value::String(s) => s.len(),
        Value::Dynamic(j) => json_bytes(j),
        _ => 0,
    }
}

pub(crate) fn row_bytes(r: &[Value]) -> usize {
    24 + r.iter().map(value_bytes).sum::<usize>()
}

impl<'a> Exec<'a> {
    pub(crate) fn env(&self) -> Env<'_> {
        Env {
            now: self.ctx.now,
            subs: &self.subs,
            lists: &self.lists,
            window: None,
            state: None,
        }
    }

    pub(crate) fn limit_rows(
        &self,
        n: usize,
        what: &str,
        span: Option<Span>,
    ) -> Result<(), EvalError> {
        if n > self.ctx.limits.max_rows {
            return Err(EvalError::new(
                codes::ROW_LIMIT,
                format!(
                    "{what} exceeds the row limit of {} rows (Limits::max_rows)",
                    self.ctx.limits.max_rows
                ),
                span,
            ));
        }
        Ok(())
    }

    pub(crate) fn limit_memory(
        &self,
        bytes: usize,
        what: &str,
        span: Option<Span>,
    ) -> Result<(), EvalError> {
        if bytes > self.ctx.limits.max_memory {
            return Err(EvalError::new(
                codes::MEMORY_LIMIT,
                format!(
                    "{what} needs more than the memory budget of {} bytes (Limits::max_memory)",
                    self.ctx.limits.max_memory
                ),
                span,
            ));
        }
        Ok(())
    }

    /// Runs `node` and buffers its rows (bounded).
    pub(crate) fn collect(&self, node: &Node, span: Option<Span>) -> Result<Vec<Row>, EvalError> {
        let mut rows = Vec::new();
        let mut bytes = 0usize;
        self.run(node, &mut |r| {
            bytes += row_bytes(&r);
            rows.push(r);
            self.limit_rows(rows.len(), "the result", span)?;
            self.limit_memory(bytes, "the result", span)?;
            Ok(true)
        })?;
        Ok(rows)
    }

    /// Pushes the rows of `node` into `sink`.
    pub(crate) fn run(&self, node: &Node, sink: &mut Sink) -> Result<(), EvalError> {
        match node {
            Node::Filter { .. }
            | Node::Project { window: false, .. }
            | Node::MvExpand(_)
            | Node::Parse(_) => {
                if self.run_parallel(node, sink)? {
                    return Ok(());
                }
                let (chain, base) = streaming_chain(node);
                self.run(base, &mut |row| self.through(&chain, row, sink))
            }
            Node::Scan { .. } => {
                if self.run_parallel(node, sink)? {
                    return Ok(());
                }
                self.run_scan(node, sink)
            }
            Node::Values { rows } => {
                for r in rows.iter() {
                    if !sink(r.clone())? {
                        break;
                    }
                }
                Ok(())
            }
            Node::Print { exprs } => {
                let env = self.env();
                let mut row = Vec::with_capacity(exprs.len());
                for e in exprs {
                    row.push(eval(e, &[], &env)?);
                }
                sink(row).map(|_| ())
            }
            Node::Range {
                from,
                to,
                step,
                ty,
                span,
            } => self.run_range(from, to, step, *ty, *span, sink),
            Node::Project {
                input,
                exprs,
                window: true,
            } => {
                let rows = self.collect(input, None)?;
                let state = std::cell::RefCell::new(HashMap::new());
                let base = self.env();
                for i in 0..rows.len() {
                    let env = Env {
                        window: Some((&rows, i)),
                        state: Some(&state),
                        ..base
                    };
                    let Some(r) = rows.get(i) else { break };
                    let mut out = Vec::with_capacity(exprs.len());
                    for e in exprs {
                        out.push(eval(e, r, &env)?);
                    }
                    if !sink(out)? {
                        break;
                    }
                }
                Ok(())
            }
            Node::Summarize {
                input,
                keys,
                aggs,
                span,
            } => self.run_summarize(input, keys, aggs, *span, sink),
            Node::Count { input } => {
                let mut n: i64 = 0;
                self.run(input, &mut |_| {
                    n += 1;
                    Ok(true)
                })?;
                sink(vec![Value::Long(n)]).map(|_| ())
            }
            Node::Take { input, count } => {
                let n = self.count_value(count)?;
                if n == 0 {
                    return Ok(());
                }
                let mut seen = 0usize;
                self.run(input, &mut |row| {
                    seen += 1;
                    let more = sink(row)?;
                    Ok(more && seen < n)
                })
            }
            Node::Sort {
                input,
                keys,
                limit,
                span,
            } => self.run_sort(input, keys, limit.as_ref(), *span, sink),
            Node::Distinct { input, span } => {
                let mut seen: std::collections::HashSet<Row> = std::collections::HashSet::new();
                let mut bytes = 0usize;
                self.run(input, &mut |row| {
                    if seen.contains(&row) {
                        return Ok(true);
                    }
                    bytes += row_bytes(&row);
                    seen.insert(row.clone());
                    self.limit_rows(seen.len(), "distinct", Some(*span))?;
                    self.limit_memory(bytes, "distinct", Some(*span))?;
                    sink(row)
                })
            }
            Node::Union {
                inputs,
                width,
                fill,
                with_source,
            } => {
                let off = usize::from(*with_source);
                for inp in inputs {
                    let mut stop = false;
                    self.run(&inp.node, &mut |row| {
                        let mut out = fill.clone();
                        out.resize(*width, Value::Null);
                        if *with_source {
                            if let Some(s) = out.first_mut() {
                                *s = Value::string(inp.source.as_str());
                            }
                        }
                        for (v, &m) in row.into_iter().zip(&inp.mapping) {
                            if let Some(slot) = out.get_mut(m) {
                                *slot = v;
                            }
                        }
                        let _ = off;
                        let more = sink(out)?;
                        stop = !more;
                        Ok(more)
                    })?;
                    if stop {
                        break;
                    }
                }
                Ok(())
            }
            Node::Join(j) => self.run_join(j, sink),
            Node::BagUnpack(spec) => {
                let t = self.bag_unpack_table(spec)?;
                for r in t.rows {
                    if !sink(r)? {
                        break;
                    }
                }
                Ok(())
            }
            Node::Materialize { id, input } => {
                let cached = self
                    .materialized
                    .lock()
                    .ok()
                    .and_then(|m| m.get(id).cloned());
                let rows = match cached {
                    Some(r) => r,
                    None => {
                        let r = Arc::new(self.collect(input, None)?);
                        if let Ok(mut m) = self.materialized.lock() {
                            m.insert(*id, r.clone());
                        }
                        r
                    }
                };
                for r in rows.iter() {
                    if !sink(r.clone())? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    pub(crate) fn count_value(&self, e: &PExpr) -> Result<usize, EvalError> {
        let v = eval(e, &[], &self.env())?;
        Ok(match v {
            Value::Long(n) => usize::try_from(n.max(0)).unwrap_or(usize::MAX),
            Value::Int(n) => usize::try_from(n.max(0)).unwrap_or(usize::MAX),
            Value::Real(r) if r.is_finite() && r > 0.0 => r as usize,
            _ => 0,
        })
    }

    fn scan_request(node: &Node) -> Option<(&str, ScanRequest, usize, Span)> {
        match node {
            Node::Scan {
                table,
                schema,
                columns,
                prefilter,
                span,
            } => Some((
                table.as_str(),
                ScanRequest {
                    columns: columns.clone(),
                    prefilter: prefilter.clone(),
                    partitions: 2,
                },
                schema.len(),
                *span,
            )),
            _ => None,
        }
    }

    /// A row as the catalog returns it (requested columns) widened to the
    /// table schema.
    fn widen(columns: &[usize], width: usize, row: Row) -> Row {
        if columns.len() == width && columns.iter().enumerate().all(|(i, &c)| i == c) {
            return row;
        }
        let mut out = vec![Value::Null; width];
        for (v, &c) in row.into_iter().zip(columns) {
            if let Some(slot) = out.get_mut(c) {
                *slot = v;
            }
        }
        out
    }

    fn scan_error(e: crate::table::ScanError, span: Span) -> EvalError {
        EvalError::new(codes::SCAN, e.to_string(), Some(span))
    }

    fn run_scan(&self, node: &Node, sink: &mut Sink) -> Result<(), EvalError> {
        let Some((table, req, width, span)) = Self::scan_request(node) else {
            return Ok(());
        };
        let parts = self
            .catalog
            .scan(table, &req)
            .map_err(|e| Self::scan_error(e, span))?;
        for mut p in parts {
            while let Some(r) = p.next_row() {
                let row = Self::widen(
                    &req.columns,
                    width,
                    r.map_err(|e| Self::scan_error(e, span))?,
                );
                if !sink(row)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Runs a chain of streaming operators over a partitioned scan, one
    /// thread per partition. Returns `false` (nothing done) when `node` is
    /// not such a chain or the scan has a single partition.
    fn run_parallel(&self, node: &Node, sink: &mut Sink) -> Result<bool, EvalError> {
        let mut chain: Vec<&Node> = Vec::new();
        let mut cur = node;
        loop {
            match cur {
                Node::Filter { input, .. }
                | Node::Project {
                    input,
                    window: false,
                    ..
                } => {
                    chain.push(cur);
                    cur = input;
                }
                Node::MvExpand(m) => {
                    chain.push(cur);
                    cur = &m.input;
                }
                Node::Parse(p) => {
                    chain.push(cur);
                    cur = &p.input;
                }
                Node::Scan { .. } => break,
                _ => return Ok(false),
            }
        }
        let Some((table, req, width, span)) = Self::scan_request(cur) else {
            return Ok(false);
        };
        let parts = self
            .catalog
            .scan(table, &req)
            .map_err(|e| Self::scan_error(e, span))?;
        if parts.len() <= 1 {
            let mut parts = parts;
            let Some(mut p) = parts.pop() else {
                return Ok(true);
            };
            while let Some(r) = p.next_row() {
                let row = Self::widen(
                    &req.columns,
                    width,
                    r.map_err(|e| Self::scan_error(e, span))?,
                );
                if !self.through(&chain, row, sink)? {
                    break;
                }
            }
            return Ok(true);
        }
        let chain_rev = chain;
        let stop = std::sync::atomic::AtomicBool::new(false);
        let result = std::thread::scope(|s| -> Result<(), EvalError> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Row>, EvalError>>(64);
            for mut p in parts {
                let tx = tx.clone();
                let chain = &chain_rev;
                let stop = &stop;
                let columns = &req.columns;
                s.spawn(move || {
                    let mut batch: Vec<Row> = Vec::with_capacity(256);
                    while let Some(r) = p.next_row() {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        let row = match r {
                            Ok(r) => Self::widen(columns, width, r),
                            Err(e) => {
                                let _ = tx.send(Err(Self::scan_error(e, span)));
                                return;
                            }
                        };
                        let res = self.through(chain, row, &mut |out| {
                            batch.push(out);
                            Ok(true)
                        });
                        if let Err(e) = res {
                            let _ = tx.send(Err(e));
                            return;
                        }
                        if batch.len() >= 256 && tx.send(Ok(std::mem::take(&mut batch))).is_err() {
                            return;
                        }
                    }
                    if !batch.is_empty() {
                        let _ = tx.send(Ok(batch));
                    }
                });
            }
            drop(tx);
            let mut outcome = Ok(());
            'recv: for msg in rx.iter() {
                match msg {
                    Ok(rows) => {
                        for r in rows {
                            match sink(r) {
                                Ok(true) => {}
                                Ok(false) => break 'recv,
                                Err(e) => {
                                    outcome = Err(e);
                                    break 'recv;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        outcome = Err(e);
                        break 'recv;
                    }
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            drop(rx);
            outcome
        });
        result.map(|_| true)
    }

    /// Pushes a row through `chain` (outermost operator first): 1:1
    /// operators are applied in a loop, so long pipelines do not deepen the
    /// stack; only mv-expand recurses for the operators after it.
    fn through(&self, chain: &[&Node], row: Row, sink: &mut Sink) -> Result<bool, EvalError> {
        let env = self.env();
        let mut row = row;
        let mut i = chain.len();
        while i > 0 {
            i -= 1;
            let Some(node) = chain.get(i) else { break };
            match node {
                Node::Filter { pred, .. } => {
                    let keep = match eval(pred, &row, &env)? {
                        Value::Bool(b) => b,
                        Value::Dynamic(j) => j.as_bool() == Some(true),
                        _ => false,
                    };
                    if !keep {
                        return Ok(true);
                    }
                }
                Node::Project { exprs, .. } => {
                    let mut out = Vec::with_capacity(exprs.len());
                    for e in exprs {
                        out.push(eval(e, &row, &env)?);
                    }
                    row = out;
                }
                Node::Parse(p) => match self.parse_row(p, row, &env)? {
                    Some(r) => row = r,
                    None => return Ok(true),
                },
                Node::MvExpand(m) => {
                    let rest = chain.get(..i).unwrap_or(&[]);
                    return self.mv_expand_row(m, row, &env, &mut |r| self.through(rest, r, sink));
                }
                _ => {}
            }
        }
        sink(row)
    }
}
