//! The buffering and row-multiplying operators: range, summarize, sort/top,
//! join/lookup, mv-expand, parse, bag_unpack.

use super::eval::{eval, Env};
use super::{codes, row_bytes, EvalError, Exec, Sink};
use crate::aggregate::Accumulator;
use crate::ast::{JoinKind, NullsOrder, SortOrder};
use crate::functions::ops;
use crate::plan::{
    AggSpec, BagUnpackSpec, JoinSpec, MvExpandSpec, Node, PExpr, ParseSpec, SortSpec,
};
use crate::span::Span;
use crate::table::{Column, Table};
use crate::value::{Row, Type, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// How often (in rows) the summarize memory estimate is refreshed.
const MEMORY_CHECK_EVERY: usize = 4096;

fn ticks_of(v: &Value) -> Option<i64> {
    match v {
        Value::Long(n) | Value::DateTime(n) | Value::TimeSpan(n) => Some(*n),
        Value::Int(n) => Some(i64::from(*n)),
        _ => None,
    }
}

fn real_of(v: &Value) -> Option<f64> {
    match v {
        Value::Real(r) => Some(*r),
        Value::Long(n) => Some(*n as f64),
        Value::Int(n) => Some(f64::from(*n)),
        Value::Decimal(d) => d.to_string().parse().ok(),
        _ => None,
    }
}

/// Null or NaN: sorted as "nulls".
fn is_nullish(v: &Value) -> bool {
    matches!(v, Value::Null) || matches!(v, Value::Real(r) if r.is_nan())
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Long(_) | Value::Real(_) | Value::Decimal(_) => 2,
        Value::String(_) => 3,
        Value::DateTime(_) => 4,
        Value::TimeSpan(_) => 5,
        Value::Guid(_) => 6,
        Value::Dynamic(_) => 7,
    }
}

/// A total order on non-null values: Kusto's comparison within a type
/// family, then by family.
fn total_cmp(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Dynamic(x), Value::Dynamic(y)) => {
            let (nx, ny) = (x.as_f64(), y.as_f64());
            match (nx, ny) {
                (Some(p), Some(q)) => p.total_cmp(&q),
                _ => x.to_string().cmp(&y.to_string()),
            }
        }
        (Value::Real(_), _) | (_, Value::Real(_)) => match (real_of(a), real_of(b)) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => Ordering::Equal,
        },
        _ => ops::compare(a, b).unwrap_or(Ordering::Equal),
    }
}

fn cmp_keys(a: &[Value], b: &[Value], keys: &[SortSpec]) -> Ordering {
    for (k, (x, y)) in keys.iter().zip(a.iter().zip(b)) {
        let o = match (is_nullish(x), is_nullish(y)) {
            (true, true) => Ordering::Equal,
            (true, false) => match k.nulls {
                NullsOrder::First => Ordering::Less,
                NullsOrder::Last => Ordering::Greater,
            },
            (false, true) => match k.nulls {
                NullsOrder::First => Ordering::Greater,
                NullsOrder::Last => Ordering::Less,
            },
            (false, false) => {
                let o = total_cmp(x, y);
                match k.order {
                    SortOrder::Asc => o,
                    SortOrder::Desc => o.reverse(),
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// A stable merge sort that cannot panic whatever the comparator does.
fn merge_sort<T>(v: Vec<T>, cmp: &dyn Fn(&T, &T) -> Ordering) -> Vec<T> {
    if v.len() <= 1 {
        return v;
    }
    let mut runs: Vec<Vec<T>> = v.into_iter().map(|x| vec![x]).collect();
    while runs.len() > 1 {
        let mut next = Vec::with_capacity(runs.len() / 2 + 1);
        let mut it = runs.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                None => next.push(a),
                Some(b) => {
                    let mut out = Vec::with_capacity(a.len() + b.len());
                    let mut a = a.into_iter().peekable();
                    let mut b = b.into_iter().peekable();
                    loop {
                        let take_b = match (a.peek(), b.peek()) {
                            (Some(x), Some(y)) => cmp(y, x) == Ordering::Less,
                            (Some(_), None) => false,
                            (None, Some(_)) => true,
                            (None, None) => break,
                        };
                        let item = if take_b { b.next() } else { a.next() };
                        if let Some(i) = item {
                            out.push(i);
                        }
                    }
                    next.push(out);
                }
            }
        }
        runs = next;
    }
    runs.into_iter().next().unwrap_or_default()
}

/// Join keys compare int and long alike.
fn norm_key(v: Value) -> Value {
    match v {
        Value::Int(i) => Value::Long(i64::from(i)),
        other => other,
    }
}

fn json_to_typed(j: &serde_json::Value, ty: Type) -> Value {
    match ty {
        Type::Dynamic => Value::dynamic(j.clone()),
        _ => match j {
            serde_json::Value::Null => Value::null_of(ty),
            serde_json::Value::Bool(b) if ty == Type::Bool => Value::Bool(*b),
            serde_json::Value::Number(n) if ty == Type::Long => {
                n.as_i64().map(Value::Long).unwrap_or(Value::Null)
            }
            serde_json::Value::Number(n) if ty == Type::Real => {
                n.as_f64().map(Value::Real).unwrap_or(Value::Null)
            }
            serde_json::Value::String(s) if ty == Type::String => Value::string(s.as_str()),
            other => ops::cast(&Value::dynamic(other.clone()), ty),
        },
    }
}

impl Exec<'_> {
    pub(super) fn run_range(
        &self,
        from: &PExpr,
        to: &PExpr,
        step: &PExpr,
        ty: Type,
        span: Span,
        sink: &mut Sink,
    ) -> Result<(), EvalError> {
        let env = self.env();
        let (f, t, s) = (
            eval(from, &[], &env)?,
            eval(to, &[], &env)?,
            eval(step, &[], &env)?,
        );
        if f.is_null() || t.is_null() || s.is_null() {
            return Ok(());
        }
        let bad_step =
            || EvalError::new(codes::ARGUMENT, "range step must not be zero", Some(span));
        if ty == Type::Real {
            let (Some(f), Some(t), Some(s)) = (real_of(&f), real_of(&t), real_of(&s)) else {
                return Ok(());
            };
            if s == 0.0 || !s.is_finite() {
                return Err(bad_step());
            }
            let n = ((t - f) / s).floor();
            if n.is_nan() || n < 0.0 {
                return Ok(());
            }
            if n >= self.ctx.limits.max_rows as f64 {
                return Err(self.range_too_big(n + 1.0, span));
            }
            let n = n as usize + 1;
            for i in 0..n {
                if !sink(vec![Value::Real(f + s * i as f64)])? {
                    break;
                }
            }
            return Ok(());
        }
        let (Some(f), Some(t)) = (ticks_of(&f), ticks_of(&t)) else {
            return Ok(());
        };
        let s = match (&s, ticks_of(&s)) {
            (_, Some(s)) => s,
            (Value::Real(r), None) if r.is_finite() => *r as i64,
            _ => return Err(bad_step()),
        };
        if s == 0 {
            return Err(bad_step());
        }
        let span_ticks = i128::from(t) - i128::from(f);
        if span_ticks != 0 && (span_ticks > 0) != (s > 0) {
            return Ok(());
        }
        let n = span_ticks / i128::from(s) + 1;
        if n > self.ctx.limits.max_rows as i128 {
            return Err(self.range_too_big(n as f64, span));
        }
        let mk = |v: i64| match ty {
            Type::DateTime => Value::DateTime(v),
            Type::TimeSpan => Value::TimeSpan(v),
            _ => Value::Long(v),
        };
        let mut cur = i128::from(f);
        for _ in 0..n {
            let Ok(v) = i64::try_from(cur) else { break };
            if !sink(vec![mk(v)])? {
                break;
            }
            cur += i128::from(s);
        }
        Ok(())
    }

    fn range_too_big(&self, n: f64, span: Span) -> EvalError {
        EvalError::new(
            codes::ROW_LIMIT,
            format!(
                "range would produce {n:.0} rows, more than the limit of {} rows (Limits::max_rows)",
                self.ctx.limits.max_rows
            ),
            Some(span),
        )
    }

    pub(super) fn run_summarize(
        &self,
        input: &Node,
        keys: &[PExpr],
        aggs: &[AggSpec],
        span: Span,
        sink: &mut Sink,
    ) -> Result<(), EvalError> {
        type Group = (Row, Vec<Box<dyn Accumulator>>);
        let mut index: HashMap<Row, usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut key_bytes = 0usize;
        let mut rows_seen = 0usize;
        let new_accs = || -> Vec<Box<dyn Accumulator>> {
            aggs.iter().map(|a| (a.def.new)(&a.infos)).collect()
        };
        let env = self.env();
        let mut args_buf: Vec<Value> = Vec::new();
        self.run(input, &mut |row| {
            let mut k = Vec::with_capacity(keys.len());
            for e in keys {
                k.push(eval(e, &row, &env)?);
            }
            let gi = match index.get(&k) {
                Some(&i) => i,
                None => {
                    key_bytes += row_bytes(&k) * 2;
                    groups.push((k.clone(), new_accs()));
                    index.insert(k, groups.len() - 1);
                    self.limit_rows(groups.len(), "summarize groups", Some(span))?;
                    groups.len() - 1
                }
            };
            if let Some((_, accs)) = groups.get_mut(gi) {
                for (a, acc) in aggs.iter().zip(accs.iter_mut()) {
                    args_buf.clear();
                    for e in &a.args {
                        args_buf.push(eval(e, &row, &env)?);
                    }
                    acc.update(&args_buf);
                }
            }
            rows_seen += 1;
            // Summing every group's estimate is O(groups): do it less often
            // as the number of groups grows.
            if rows_seen % MEMORY_CHECK_EVERY.max(groups.len()) == 0 {
                let acc_bytes: usize = groups
                    .iter()
                    .map(|(_, accs)| accs.iter().map(|a| a.memory() + 16).sum::<usize>())
                    .sum();
                self.limit_memory(key_bytes + acc_bytes, "summarize", Some(span))?;
            }
            Ok(true)
        })?;
        if groups.is_empty() && keys.is_empty() {
            groups.push((Vec::new(), new_accs()));
        }
        for (k, mut accs) in groups {
            let mut out = k;
            for (a, acc) in aggs.iter().zip(accs.iter_mut()) {
                let vals = acc.finish();
                for (i, ty) in a.types.iter().enumerate() {
                    let v = vals.get(i).cloned().unwrap_or_else(|| Value::null_of(*ty));
                    let v = match (&v, v.ty()) {
                        (Value::Null, _) => Value::null_of(*ty),
                        (_, Some(t)) if t != *ty && *ty != Type::Dynamic => ops::cast(&v, *ty),
                        _ => v,
                    };
                    out.push(v);
                }
            }
            if !sink(out)? {
                break;
            }
        }
        Ok(())
    }

    pub(super) fn run_sort(
        &self,
        input: &Node,
        keys: &[SortSpec],
        limit: Option<&PExpr>,
        span: Span,
        sink: &mut Sink,
    ) -> Result<(), EvalError> {
        let limit = match limit {
            Some(l) => Some(self.count_value(l)?),
            None => None,
        };
        if limit == Some(0) {
            return Ok(());
        }
        let env = self.env();
        let mut buf: Vec<(Row, Row)> = Vec::new();
        let mut bytes = 0usize;
        let cmp = |a: &(Row, Row), b: &(Row, Row)| cmp_keys(&a.0, &b.0, keys);
        // For top-N the buffer is trimmed back to N whenever it doubles.
        let trim_at = limit.map(|n| n.saturating_mul(2).max(64));
        self.run(input, &mut |row| {
            let mut k = Vec::with_capacity(keys.len());
            for s in keys {
                k.push(eval(&s.expr, &row, &env)?);
            }
            bytes += row_bytes(&row) + row_bytes(&k);
            buf.push((k, row));
            if let (Some(n), Some(t)) = (limit, trim_at) {
                if buf.len() >= t {
                    let sorted = merge_sort(std::mem::take(&mut buf), &cmp);
                    buf = sorted.into_iter().take(n).collect();
                    bytes = buf.iter().map(|(k, r)| row_bytes(k) + row_bytes(r)).sum();
                }
            }
            let held = match limit {
                Some(n) => buf.len().min(n),
                None => buf.len(),
            };
            self.limit_rows(held, "sort", Some(span))?;
            self.limit_memory(bytes, "sort", Some(span))?;
            Ok(true)
        })?;
        let sorted = merge_sort(buf, &cmp);
        let n = limit.unwrap_or(usize::MAX);
        for (_, row) in sorted.into_iter().take(n) {
            if !sink(row)? {
                break;
            }
        }
        Ok(())
    }

    pub(super) fn run_join(&self, j: &JoinSpec, sink: &mut Sink) -> Result<(), EvalError> {
        let span = Some(j.span);
        // Build side: the right table.
        let right = self.collect(&j.right, span)?;
        let mut index: HashMap<Vec<Value>, Vec<usize>> = HashMap::new();
        let mut bytes = 0usize;
        for (i, r) in right.iter().enumerate() {
            bytes += row_bytes(r);
            let key: Option<Vec<Value>> = j
                .right_keys
                .iter()
                .map(|&k| r.get(k).cloned().map(norm_key).filter(|v| !v.is_null()))
                .collect();
            if let Some(key) = key {
                index.entry(key).or_default().push(i);
            }
        }
        self.limit_memory(bytes * 2, "the join build side", span)?;
        let mut matched = vec![false; right.len()];
        let mut seen_left: HashSet<Vec<Value>> = HashSet::new();
        let right_out = |r: &Row| -> Vec<Value> {
            match &j.right_keep {
                Some(keep) => keep
                    .iter()
                    .map(|&i| r.get(i).cloned().unwrap_or_default())
                    .collect(),
                None => r.clone(),
            }
        };
        let right_fill: Row = match &j.right_keep {
            Some(keep) => keep
                .iter()
                .map(|&i| j.right_fill.get(i).cloned().unwrap_or_default())
                .collect(),
            None => j.right_fill.clone(),
        };
        let mut out_rows = 0usize;
        let mut stopped = false;
        self.run(&j.left, &mut |l| {
            let key: Option<Vec<Value>> = j
                .left_keys
                .iter()
                .map(|&k| l.get(k).cloned().map(norm_key).filter(|v| !v.is_null()))
                .collect();
            if j.kind == JoinKind::InnerUnique {
                match &key {
                    Some(k) if seen_left.contains(k) => return Ok(true),
                    Some(k) => {
                        seen_left.insert(k.clone());
                    }
                    None => return Ok(true),
                }
            }
            let hits: &[usize] = key
                .as_ref()
                .and_then(|k| index.get(k))
                .map(|v| v.as_slice())
                .unwrap_or(&[]);
            for &h in hits {
                if let Some(m) = matched.get_mut(h) {
                    *m = true;
                }
            }
            let more = match j.kind {
                JoinKind::LeftSemi => hits.is_empty() || sink(l)?,
                JoinKind::LeftAnti => !hits.is_empty() || sink(l)?,
                JoinKind::RightSemi | JoinKind::RightAnti => true,
                JoinKind::LeftOuter | JoinKind::FullOuter if hits.is_empty() => {
                    let mut out = l;
                    out.extend(right_fill.iter().cloned());
                    sink(out)?
                }
                _ => {
                    let mut more = true;
                    for &h in hits {
                        let Some(r) = right.get(h) else { continue };
                        let mut out = l.clone();
                        out.extend(right_out(r));
                        out_rows += 1;
                        self.limit_rows(out_rows, "the join result", span)?;
                        if !sink(out)? {
                            more = false;
                            break;
                        }
                    }
                    more
                }
            };
            if !more {
                stopped = true;
            }
            Ok(more)
        })?;
        if stopped {
            return Ok(());
        }
        match j.kind {
            JoinKind::RightOuter | JoinKind::FullOuter => {
                for (r, m) in right.iter().zip(&matched) {
                    if !*m {
                        let mut out = j.left_fill.clone();
                        out.extend(right_out(r));
                        if !sink(out)? {
                            break;
                        }
                    }
                }
            }
            JoinKind::RightSemi | JoinKind::RightAnti => {
                let want = j.kind == JoinKind::RightSemi;
                for (r, m) in right.iter().zip(&matched) {
                    if *m == want && !sink(r.clone())? {
                        break;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn mv_expand_row(
        &self,
        m: &MvExpandSpec,
        row: Row,
        env: &Env,
        sink: &mut Sink,
    ) -> Result<bool, EvalError> {
        let limit = match &m.limit {
            Some(l) => self.count_value(l)?,
            None => usize::MAX,
        };
        // Each item's elements.
        let mut lists: Vec<Vec<Value>> = Vec::with_capacity(m.items.len());
        for (e, _, _) in &m.items {
            let v = eval(e, &row, env)?;
            let elems = match &v {
                Value::Dynamic(j) => match j.as_ref() {
                    serde_json::Value::Array(a) => {
                        a.iter().map(|x| Value::dynamic(x.clone())).collect()
                    }
                    serde_json::Value::Object(o) => o
                        .iter()
                        .map(|(k, x)| {
                            if m.bag_as_array {
                                Value::dynamic(serde_json::Value::Array(vec![
                                    serde_json::Value::String(k.clone()),
                                    x.clone(),
                                ]))
                            } else {
                                let mut one = serde_json::Map::new();
                                one.insert(k.clone(), x.clone());
                                Value::dynamic(serde_json::Value::Object(one))
                            }
                        })
                        .collect(),
                    _ => vec![v.clone()],
                },
                _ => vec![v.clone()],
            };
            lists.push(elems);
        }
        let n = lists.iter().map(Vec::len).max().unwrap_or(0).min(limit);
        for i in 0..n {
            let mut out = row.clone();
            out.resize(m.width, Value::Null);
            for ((_, idx, to), list) in m.items.iter().zip(&lists) {
                let v = list.get(i).cloned().unwrap_or(Value::Null);
                let v = match to {
                    Some(t) if *t != Type::Dynamic => {
                        if v.is_null() {
                            Value::null_of(*t)
                        } else {
                            ops::cast(&v, *t)
                        }
                    }
                    _ => v,
                };
                if let Some(slot) = out.get_mut(*idx) {
                    *slot = v;
                }
            }
            if let Some(ic) = m.index_col {
                if let Some(slot) = out.get_mut(ic) {
                    *slot = Value::Long(i as i64);
                }
            }
            if !sink(out)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Parses one row: `None` when parse-where drops it.
    pub(super) fn parse_row(
        &self,
        p: &ParseSpec,
        row: Row,
        env: &Env,
    ) -> Result<Option<Row>, EvalError> {
        let v = eval(&p.source, &row, env)?;
        let text = match &v {
            Value::String(s) => s.to_string(),
            Value::Null => String::new(),
            other => ops::to_string(other),
        };
        let caps = p.regex.captures(&text);
        if caps.is_none() && p.drop_nonmatching {
            return Ok(None);
        }
        let mut out = row;
        out.resize(p.width, Value::Null);
        for (g, idx, ty) in &p.columns {
            let val = match caps.as_ref().and_then(|c| c.get(*g)) {
                Some(m) => {
                    let s = Value::string(m.as_str());
                    if *ty == Type::String {
                        s
                    } else {
                        ops::cast(&s, *ty)
                    }
                }
                None => Value::null_of(*ty),
            };
            if p.drop_nonmatching && val.is_null() && *ty != Type::String && caps.is_some() {
                return Ok(None);
            }
            if let Some(slot) = out.get_mut(*idx) {
                *slot = val;
            }
        }
        Ok(Some(out))
    }

    /// `evaluate bag_unpack`: one column per property (sorted), types
    /// inferred from the values; then the operators after it.
    pub(super) fn bag_unpack_table(&self, spec: &BagUnpackSpec) -> Result<Table, EvalError> {
        let rows = self.collect(&spec.input, Some(spec.span))?;
        let mut kinds: BTreeMap<String, Option<Type>> = BTreeMap::new();
        for r in &rows {
            if let Some(Value::Dynamic(j)) = r.get(spec.column) {
                if let serde_json::Value::Object(m) = j.as_ref() {
                    for (k, v) in m {
                        let t = match v {
                            serde_json::Value::Null => None,
                            serde_json::Value::Bool(_) => Some(Type::Bool),
                            serde_json::Value::Number(n) if n.is_i64() => Some(Type::Long),
                            serde_json::Value::Number(_) => Some(Type::Real),
                            serde_json::Value::String(_) => Some(Type::String),
                            _ => Some(Type::Dynamic),
                        };
                        let e = kinds.entry(k.clone()).or_insert(None);
                        *e = match (*e, t) {
                            (None, t) => t,
                            (Some(a), None) => Some(a),
                            (Some(a), Some(b)) if a == b => Some(a),
                            (Some(Type::Long), Some(Type::Real))
                            | (Some(Type::Real), Some(Type::Long)) => Some(Type::Real),
                            _ => Some(Type::Dynamic),
                        };
                    }
                }
            }
        }
        let mut schema = spec.input_schema.clone();
        if spec.column < schema.len() {
            schema.columns.remove(spec.column);
        }
        let props: Vec<(String, Type)> = kinds
            .into_iter()
            .map(|(k, t)| (k, t.unwrap_or(Type::Dynamic)))
            .collect();
        for (k, t) in &props {
            schema
                .columns
                .push(Column::new(format!("{}{k}", spec.prefix), *t));
        }
        let mut out_rows = Vec::with_capacity(rows.len());
        for mut r in rows {
            let bag = if spec.column < r.len() {
                r.remove(spec.column)
            } else {
                Value::Null
            };
            let obj = match &bag {
                Value::Dynamic(j) => j.as_object(),
                _ => None,
            };
            for (k, t) in &props {
                let v = match obj.and_then(|o| o.get(k)) {
                    Some(j) => json_to_typed(j, *t),
                    None => Value::null_of(*t),
                };
                r.push(v);
            }
            out_rows.push(r);
        }
        if spec.rest.is_empty() {
            return Ok(Table {
                schema,
                rows: out_rows,
            });
        }
        let input = Node::Values {
            rows: Arc::new(out_rows),
        };
        let bases = crate::plan::RestBases {
            materialized: self.materialized_base,
            subqueries: self.subs.len(),
            list_caches: self.list_base,
        };
        let plan =
            crate::plan::plan_rest(&spec.rest, &spec.scope, input, schema, self.catalog, bases)
                .map_err(|d| {
                    let first = d.0.first();
                    EvalError::new(
                        codes::PLAN,
                        first
                            .map(|x| x.message.clone())
                            .unwrap_or_else(|| "cannot plan the query".into()),
                        first.and_then(|x| x.span()),
                    )
                })?;
        super::execute_with(&plan, self.catalog, self.ctx, self.subs.clone())
    }
}
