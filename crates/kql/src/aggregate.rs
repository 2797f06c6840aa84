//! Aggregation functions for `summarize`: [`AGGREGATES`] is the table.
//!
//! `arg_max`/`arg_min`/`take_any(*)` produce several output columns; the
//! planner handles their column lists and feeds the accumulator the value of
//! the key expression followed by the carried columns. Grouping itself is the
//! executor's; only per-group state and result typing live here.

use crate::functions::ops::{compare, json_to_value, to_string, truthy, value_to_json};
use crate::functions::ArgInfo;
use crate::value::{Decimal, Type, Value};
use serde_json::Value as J;
use std::cmp::Ordering;
use std::collections::HashSet;

/// How `summarize` names an unnamed aggregate column (before de-duplication
/// with `1`, `2`... suffixes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultName {
    /// Always this name (`count()` -> `count_`).
    Fixed(&'static str),
    /// Prefix + the name of the first argument's column, or + `_` when it is
    /// not a column (`min(Timestamp)` -> `min_Timestamp`, `make_set(x)` ->
    /// `set_x`).
    Prefix(&'static str),
    /// The first argument's column name (`take_any(x)` -> `x`).
    Column,
}

/// Per-group state.
pub trait Accumulator: Send {
    /// Feeds one row's evaluated arguments.
    fn update(&mut self, args: &[Value]);
    /// The final value(s): one for ordinary aggregates, several for
    /// `arg_max`-style ones.
    fn finish(&mut self) -> Vec<Value>;
    /// Approximate heap bytes held (for the memory bound).
    fn memory(&self) -> usize;
}

#[derive(Clone, Copy)]
pub struct AggregateDef {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: usize,
    pub default_name: DefaultName,
    /// The result type from the argument types.
    pub ret: fn(&[ArgInfo]) -> Result<Type, String>,
    /// A fresh accumulator. Receives the argument infos (constant arguments
    /// such as make_set's max size are in `constant`).
    pub new: fn(&[ArgInfo]) -> Box<dyn Accumulator>,
    pub doc: &'static str,
}

impl std::fmt::Debug for AggregateDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateDef")
            .field("name", &self.name)
            .finish()
    }
}

/// Default cap of `make_set`/`make_list`/`make_bag`.
pub const MAX_SET_SIZE: usize = 1_048_576;
/// Cap of the deprecated `makeset`/`makelist`.
pub const LEGACY_SET_SIZE: usize = 128;

// ----------------------------------------------------------------- types

fn ret_long(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Long)
}
fn ret_dynamic(_: &[ArgInfo]) -> Result<Type, String> {
    Ok(Type::Dynamic)
}
fn ret_first(a: &[ArgInfo]) -> Result<Type, String> {
    a.first()
        .map(|x| x.ty)
        .ok_or_else(|| "missing argument".to_string())
}
fn ret_sum(a: &[ArgInfo]) -> Result<Type, String> {
    match a.first().map(|x| x.ty) {
        Some(Type::Int | Type::Long | Type::Bool) => Ok(Type::Long),
        Some(Type::Real) => Ok(Type::Real),
        Some(Type::Dynamic) => Ok(Type::Dynamic),
        Some(Type::Decimal) => Ok(Type::Decimal),
        Some(Type::TimeSpan) => Ok(Type::TimeSpan),
        Some(t) => Err(format!("sum() cannot add {t} values")),
        None => Err("missing argument".into()),
    }
}
fn ret_avg(a: &[ArgInfo]) -> Result<Type, String> {
    match a.first().map(|x| x.ty) {
        Some(Type::TimeSpan) => Ok(Type::TimeSpan),
        _ => ret_numeric_real(a),
    }
}

fn ret_numeric_real(a: &[ArgInfo]) -> Result<Type, String> {
    match a.first().map(|x| x.ty) {
        Some(t) if t.is_numeric() || matches!(t, Type::Dynamic | Type::Bool | Type::TimeSpan) => {
            Ok(Type::Real)
        }
        Some(t) => Err(format!("expected a number, got {t}")),
        None => Err("missing argument".into()),
    }
}

/// The constant integer argument `i` (e.g. make_set's max size).
fn const_usize(a: &[ArgInfo], i: usize) -> Option<usize> {
    match a.get(i).and_then(|x| x.constant.as_ref()) {
        Some(Value::Long(n)) => usize::try_from(*n).ok(),
        Some(Value::Int(n)) => usize::try_from(*n).ok(),
        _ => None,
    }
}

fn const_f64(a: &[ArgInfo], i: usize) -> Option<f64> {
    match a.get(i).and_then(|x| x.constant.as_ref()) {
        Some(Value::Long(n)) => Some(*n as f64),
        Some(Value::Int(n)) => Some(f64::from(*n)),
        Some(Value::Real(r)) => Some(*r),
        _ => None,
    }
}

/// Heap bytes of a row an accumulator keeps (`arg_max`, `take_any`).
fn kept_row_size(row: &Option<Vec<Value>>) -> usize {
    row.as_ref()
        .map(|r| r.iter().map(value_size).sum())
        .unwrap_or(0)
}

fn value_size(v: &Value) -> usize {
    std::mem::size_of::<Value>()
        + match v {
            Value::String(s) => s.len(),
            Value::Dynamic(j) => j.to_string().len(),
            _ => 0,
        }
}

fn pred(args: &[Value], i: usize) -> bool {
    args.get(i).and_then(truthy) == Some(true)
}

// ------------------------------------------------------------ counting

struct Count {
    n: i64,
    /// `Some(i)`: count rows where argument `i` is true (`countif`);
    /// `None`: count rows (`count()`), or non-null values of `count(x)`.
    pred: Option<usize>,
}

impl Accumulator for Count {
    fn update(&mut self, args: &[Value]) {
        let hit = match self.pred {
            Some(i) => pred(args, i),
            None => args.first().is_none_or(|v| !v.is_null()),
        };
        if hit {
            self.n += 1;
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        vec![Value::Long(self.n)]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

fn new_count(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(Count { n: 0, pred: None })
}
fn new_countif(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(Count {
        n: 0,
        pred: Some(0),
    })
}

/// Exact distinct count (Kusto estimates with HyperLogLog; exact is within
/// its error and deterministic).
struct DCount {
    seen: HashSet<Value>,
    bytes: usize,
    pred: Option<usize>,
}

impl Accumulator for DCount {
    fn update(&mut self, args: &[Value]) {
        if let Some(i) = self.pred {
            if !pred(args, i) {
                return;
            }
        }
        let Some(v) = args.first() else { return };
        if v.is_null() {
            return;
        }
        if !self.seen.contains(v) {
            self.bytes += value_size(v) + 16;
            self.seen.insert(v.clone());
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        vec![Value::Long(self.seen.len() as i64)]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes
    }
}

fn new_dcount(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(DCount {
        seen: HashSet::new(),
        bytes: 0,
        pred: None,
    })
}
fn new_dcountif(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(DCount {
        seen: HashSet::new(),
        bytes: 0,
        pred: Some(1),
    })
}

// ------------------------------------------------------------- sum / avg

#[derive(Clone, Copy, PartialEq, Eq)]
enum SumKind {
    Long,
    Real,
    Decimal,
    TimeSpan,
    /// `sum(dynamic)`: a dynamic number (long while every input is one).
    Dynamic,
}

struct Sum {
    kind: SumKind,
    long: i64,
    overflow: bool,
    real: f64,
    dec: Decimal,
    /// A non-integer was added (for `SumKind::Dynamic`).
    saw_real: bool,
    pred: Option<usize>,
}

impl Accumulator for Sum {
    fn update(&mut self, args: &[Value]) {
        if let Some(i) = self.pred {
            if !pred(args, i) {
                return;
            }
        }
        let Some(v) = args.first() else { return };
        let v = crate::functions::ops::normalize(v);
        match (self.kind, &*v) {
            (_, Value::Null) => {}
            (SumKind::Long | SumKind::Dynamic, Value::Int(_) | Value::Long(_) | Value::Bool(_)) => {
                let x = match &*v {
                    Value::Int(i) => i64::from(*i),
                    Value::Long(i) => *i,
                    Value::Bool(b) => i64::from(*b),
                    _ => 0,
                };
                self.real += x as f64;
                match self.long.checked_add(x) {
                    Some(s) => self.long = s,
                    None if self.kind == SumKind::Dynamic => self.saw_real = true,
                    None => self.overflow = true,
                }
            }
            (SumKind::TimeSpan, Value::TimeSpan(t)) => match self.long.checked_add(*t) {
                Some(s) => self.long = s,
                None => self.overflow = true,
            },
            (SumKind::Decimal, other) => {
                if let Value::Decimal(d) = crate::functions::ops::cast(other, Type::Decimal) {
                    self.dec = self.dec.checked_add(d).unwrap_or_else(|| {
                        self.overflow = true;
                        self.dec
                    });
                }
            }
            (_, other) => {
                if let Value::Real(r) = crate::functions::ops::cast(other, Type::Real) {
                    self.real += r;
                    self.saw_real = true;
                }
            }
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        vec![match self.kind {
            _ if self.overflow => Value::Null,
            SumKind::Long => Value::Long(self.long),
            SumKind::TimeSpan => Value::TimeSpan(self.long),
            SumKind::Decimal => Value::Decimal(self.dec),
            SumKind::Real => Value::Real(self.real),
            SumKind::Dynamic if self.saw_real => Value::dynamic(
                serde_json::Number::from_f64(self.real)
                    .map(J::Number)
                    .unwrap_or(J::Null),
            ),
            SumKind::Dynamic => Value::dynamic(J::from(self.long)),
        }]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

fn sum_kind(a: &[ArgInfo]) -> SumKind {
    match ret_sum(a) {
        Ok(Type::Long) => SumKind::Long,
        Ok(Type::Decimal) => SumKind::Decimal,
        Ok(Type::TimeSpan) => SumKind::TimeSpan,
        Ok(Type::Dynamic) => SumKind::Dynamic,
        _ => SumKind::Real,
    }
}

fn new_sum_with(a: &[ArgInfo], pred: Option<usize>) -> Box<dyn Accumulator> {
    Box::new(Sum {
        kind: sum_kind(a),
        long: 0,
        overflow: false,
        real: 0.0,
        dec: Decimal::ZERO,
        saw_real: false,
        pred,
    })
}
fn new_sum(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    new_sum_with(a, None)
}
fn new_sumif(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    new_sum_with(a, Some(1))
}

/// Mean and variance by Welford's method.
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    /// Plain running sum (the mean as Kusto computes it: sum / count).
    sum: f64,
    pred: Option<usize>,
    out: MomentOut,
    /// `avg(timespan)` is a timespan.
    timespan: bool,
}

#[derive(Clone, Copy)]
enum MomentOut {
    Avg,
    Variance { sample: bool },
    Stdev { sample: bool },
}

impl Accumulator for Moments {
    fn update(&mut self, args: &[Value]) {
        if let Some(i) = self.pred {
            if !pred(args, i) {
                return;
            }
        }
        let Some(v) = args.first() else { return };
        let x = match crate::functions::ops::cast(v, Type::Real) {
            Value::Real(r) => r,
            _ => match crate::functions::ops::normalize(v).as_ref() {
                Value::TimeSpan(t) => *t as f64,
                _ => return,
            },
        };
        self.n += 1.0;
        self.sum += x;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }
    fn finish(&mut self) -> Vec<Value> {
        let var = |sample: bool| {
            let div = if sample { self.n - 1.0 } else { self.n };
            if div <= 0.0 {
                0.0
            } else {
                self.m2 / div
            }
        };
        if self.timespan {
            if let MomentOut::Avg = self.out {
                return vec![if self.n == 0.0 {
                    Value::Null
                } else {
                    Value::TimeSpan((self.sum / self.n).round() as i64)
                }];
            }
        }
        vec![Value::Real(match self.out {
            MomentOut::Avg if self.n == 0.0 => f64::NAN,
            MomentOut::Avg => self.sum / self.n,
            MomentOut::Variance { sample } => var(sample),
            MomentOut::Stdev { sample } => var(sample).sqrt(),
        })]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

fn moments(out: MomentOut, pred: Option<usize>) -> Box<dyn Accumulator> {
    moments_of(out, pred, false)
}

fn moments_of(out: MomentOut, pred: Option<usize>, timespan: bool) -> Box<dyn Accumulator> {
    Box::new(Moments {
        n: 0.0,
        mean: 0.0,
        m2: 0.0,
        sum: 0.0,
        pred,
        out,
        timespan,
    })
}
fn is_timespan(a: &[ArgInfo]) -> bool {
    a.first().is_some_and(|x| x.ty == Type::TimeSpan)
}
fn new_avg(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments_of(MomentOut::Avg, None, is_timespan(a))
}
fn new_avgif(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments_of(MomentOut::Avg, Some(1), is_timespan(a))
}
fn new_variance(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments(MomentOut::Variance { sample: true }, None)
}
fn new_varianceif(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments(MomentOut::Variance { sample: true }, Some(1))
}
fn new_variancep(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments(MomentOut::Variance { sample: false }, None)
}
fn new_stdev(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments(MomentOut::Stdev { sample: true }, None)
}
fn new_stdevif(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments(MomentOut::Stdev { sample: true }, Some(1))
}
fn new_stdevp(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    moments(MomentOut::Stdev { sample: false }, None)
}

// -------------------------------------------------------------- min / max

/// `min`/`max`: nulls (and empty strings) never win.
struct Extreme {
    best: Option<Value>,
    want: Ordering,
    pred: Option<usize>,
}

impl Accumulator for Extreme {
    fn update(&mut self, args: &[Value]) {
        if let Some(i) = self.pred {
            if !pred(args, i) {
                return;
            }
        }
        let Some(v) = args.first() else { return };
        if v.is_empty() {
            return;
        }
        let better = match &self.best {
            None => true,
            Some(b) => compare(v, b) == Some(self.want),
        };
        if better {
            self.best = Some(v.clone());
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        vec![self.best.take().unwrap_or(Value::Null)]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + self.best.as_ref().map(value_size).unwrap_or(0)
    }
}

fn new_min(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(Extreme {
        best: None,
        want: Ordering::Less,
        pred: None,
    })
}
fn new_max(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(Extreme {
        best: None,
        want: Ordering::Greater,
        pred: None,
    })
}
fn new_minif(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(Extreme {
        best: None,
        want: Ordering::Less,
        pred: Some(1),
    })
}
fn new_maxif(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(Extreme {
        best: None,
        want: Ordering::Greater,
        pred: Some(1),
    })
}

// ------------------------------------------------------- arg_max / arg_min

/// `arg_max(key, cols...)`: the row with the largest key; nulls never win,
/// but a group whose keys are all null still yields its first row.
struct ArgExtreme {
    row: Option<Vec<Value>>,
    key_null: bool,
    want: Ordering,
    width: usize,
}

impl Accumulator for ArgExtreme {
    fn update(&mut self, args: &[Value]) {
        let key = args.first().unwrap_or(&Value::Null);
        let replace = match &self.row {
            None => true,
            Some(row) => {
                !key.is_null()
                    && (self.key_null
                        || row
                            .first()
                            .is_some_and(|b| compare(key, b) == Some(self.want)))
            }
        };
        if replace {
            self.key_null = key.is_null();
            self.row = Some(args.to_vec());
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        match self.row.take() {
            Some(mut r) => {
                r.resize(self.width.max(r.len()), Value::Null);
                r
            }
            None => vec![Value::Null; self.width.max(1)],
        }
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + kept_row_size(&self.row)
    }
}

fn new_arg_max(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(ArgExtreme {
        row: None,
        key_null: true,
        want: Ordering::Greater,
        width: a.len(),
    })
}
fn new_arg_min(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(ArgExtreme {
        row: None,
        key_null: true,
        want: Ordering::Less,
        width: a.len(),
    })
}

/// `take_any(x...)`: the first row; with one argument, the first non-empty
/// value if there is one.
struct TakeAny {
    row: Option<Vec<Value>>,
    width: usize,
    pred: Option<usize>,
}

impl Accumulator for TakeAny {
    fn update(&mut self, args: &[Value]) {
        if let Some(i) = self.pred {
            if !pred(args, i) {
                return;
            }
        }
        let vals = &args[..self.width.min(args.len())];
        let replace = match &self.row {
            None => true,
            Some(r) => {
                self.width == 1
                    && r.first().is_some_and(Value::is_empty)
                    && vals.first().is_some_and(|v| !v.is_empty())
            }
        };
        if replace {
            self.row = Some(vals.to_vec());
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        let mut r = self.row.take().unwrap_or_default();
        r.resize(self.width.max(1), Value::Null);
        r
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + kept_row_size(&self.row)
    }
}

fn new_take_any(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(TakeAny {
        row: None,
        width: a.len().max(1),
        pred: None,
    })
}
fn new_take_anyif(_: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(TakeAny {
        row: None,
        width: 1,
        pred: Some(1),
    })
}

// ------------------------------------------------------- sets and lists

#[derive(Clone, Copy, PartialEq, Eq)]
enum Collect {
    Set,
    List,
    ListWithNulls,
}

struct MakeCollection {
    kind: Collect,
    items: Vec<J>,
    /// Values already in the set (scalars as plain values, so a repeated
    /// value costs a hash lookup and no JSON conversion).
    seen: HashSet<Value>,
    cap: usize,
    bytes: usize,
    pred: Option<usize>,
}

impl MakeCollection {
    fn push(&mut self, j: J) {
        if self.items.len() >= self.cap {
            return;
        }
        self.bytes += std::mem::size_of::<J>() + if let J::String(s) = &j { s.len() } else { 0 };
        self.items.push(j);
    }

    /// Adds `key` (a plain value) to the set unless present; `json` makes
    /// its JSON form only when it is new.
    fn push_distinct(&mut self, key: Value, json: impl FnOnce(&Value) -> J) {
        if self.items.len() >= self.cap || self.seen.contains(&key) {
            return;
        }
        let j = json(&key);
        self.bytes += value_size(&key) + 16;
        self.seen.insert(key);
        self.push(j);
    }
}

impl Accumulator for MakeCollection {
    fn update(&mut self, args: &[Value]) {
        if let Some(i) = self.pred {
            if !pred(args, i) {
                return;
            }
        }
        let Some(v) = args.first() else { return };
        match v {
            Value::Null => {
                if self.kind == Collect::ListWithNulls {
                    self.push(J::Null);
                }
            }
            Value::Dynamic(j) if self.kind == Collect::Set => match &**j {
                J::Array(xs) => {
                    for x in xs.iter().filter(|x| !x.is_null()) {
                        self.push_distinct(json_to_value(x), |_| x.clone());
                    }
                }
                other => self.push_distinct(json_to_value(other), |_| other.clone()),
            },
            other if self.kind == Collect::Set => self.push_distinct(other.clone(), value_to_json),
            other => self.push(value_to_json(other)),
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        self.seen.clear();
        vec![Value::Dynamic(std::sync::Arc::new(J::Array(
            std::mem::take(&mut self.items),
        )))]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes
    }
}

fn collection(kind: Collect, cap: usize, pred: Option<usize>) -> Box<dyn Accumulator> {
    Box::new(MakeCollection {
        kind,
        items: Vec::new(),
        seen: HashSet::new(),
        cap,
        bytes: 0,
        pred,
    })
}

fn cap_at(a: &[ArgInfo], i: usize, default: usize) -> usize {
    const_usize(a, i).unwrap_or(default).min(MAX_SET_SIZE)
}

fn new_make_set(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    collection(Collect::Set, cap_at(a, 1, MAX_SET_SIZE), None)
}
fn new_makeset(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    collection(Collect::Set, cap_at(a, 1, LEGACY_SET_SIZE), None)
}
fn new_make_set_if(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    collection(Collect::Set, cap_at(a, 2, MAX_SET_SIZE), Some(1))
}
fn new_make_list(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    collection(Collect::List, cap_at(a, 1, MAX_SET_SIZE), None)
}
fn new_makelist(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    collection(Collect::List, cap_at(a, 1, LEGACY_SET_SIZE), None)
}
fn new_make_list_if(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    collection(Collect::List, cap_at(a, 2, MAX_SET_SIZE), Some(1))
}
fn new_make_list_with_nulls(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    collection(Collect::ListWithNulls, cap_at(a, 1, MAX_SET_SIZE), None)
}

/// `make_bag`: merges property bags (first value of a key wins).
struct MakeBag {
    bag: serde_json::Map<String, J>,
    cap: usize,
    bytes: usize,
    pred: Option<usize>,
}

impl Accumulator for MakeBag {
    fn update(&mut self, args: &[Value]) {
        if let Some(i) = self.pred {
            if !pred(args, i) {
                return;
            }
        }
        if let Some(Value::Dynamic(j)) = args.first() {
            if let J::Object(m) = &**j {
                for (k, v) in m {
                    if self.bag.len() >= self.cap {
                        break;
                    }
                    if !self.bag.contains_key(k) {
                        self.bytes += k.len() + v.to_string().len() + 32;
                        self.bag.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    fn finish(&mut self) -> Vec<Value> {
        vec![Value::Dynamic(std::sync::Arc::new(J::Object(
            std::mem::take(&mut self.bag),
        )))]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes
    }
}

fn new_make_bag(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(MakeBag {
        bag: serde_json::Map::new(),
        cap: cap_at(a, 1, MAX_SET_SIZE),
        bytes: 0,
        pred: None,
    })
}
fn new_make_bag_if(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(MakeBag {
        bag: serde_json::Map::new(),
        cap: cap_at(a, 2, MAX_SET_SIZE),
        bytes: 0,
        pred: Some(1),
    })
}

// ------------------------------------------------------------ percentile

/// `percentile(x, p)`: nearest rank (the smallest value with at least p% of
/// the values at or below it).
struct Percentile {
    values: Vec<Value>,
    p: f64,
    bytes: usize,
}

impl Accumulator for Percentile {
    fn update(&mut self, args: &[Value]) {
        let Some(v) = args.first() else { return };
        if v.is_null() {
            return;
        }
        if let Value::Real(r) = v {
            if r.is_nan() {
                return;
            }
        }
        self.bytes += value_size(v);
        self.values.push(v.clone());
    }
    fn finish(&mut self) -> Vec<Value> {
        if self.values.is_empty() {
            return vec![Value::Null];
        }
        self.values
            .sort_by(|a, b| compare(a, b).unwrap_or(Ordering::Equal));
        let n = self.values.len();
        let rank = ((self.p / 100.0) * n as f64).ceil() as usize;
        let idx = rank.clamp(1, n) - 1;
        vec![match self.values.get(idx) {
            Some(Value::Int(i)) => Value::Long(i64::from(*i)),
            Some(v) => v.clone(),
            None => Value::Null,
        }]
    }
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes
    }
}

fn new_percentile(a: &[ArgInfo]) -> Box<dyn Accumulator> {
    Box::new(Percentile {
        values: Vec::new(),
        p: const_f64(a, 1).unwrap_or(50.0).clamp(0.0, 100.0),
        bytes: 0,
    })
}

fn ret_percentile(a: &[ArgInfo]) -> Result<Type, String> {
    match a.get(1) {
        Some(p) if p.constant.is_none() => {
            Err("percentile(): the percentage must be a constant".into())
        }
        _ => match ret_first(a)? {
            Type::Int => Ok(Type::Long),
            t => Ok(t),
        },
    }
}

// ----------------------------------------------------------------- table

macro_rules! agg {
    ($name:expr, $min:expr, $max:expr, $dn:expr, $ret:expr, $new:expr, $doc:expr) => {
        AggregateDef {
            name: $name,
            min_args: $min,
            max_args: $max,
            default_name: $dn,
            ret: $ret,
            new: $new,
            doc: $doc,
        }
    };
}

use DefaultName::{Column, Fixed, Prefix};
const MANY: usize = usize::MAX;

/// Every aggregation function, aliases as separate entries.
#[rustfmt::skip]
pub static AGGREGATES: &[AggregateDef] = &[
    agg!("count", 0, 1, Fixed("count_"), ret_long, new_count, "Number of rows (count(x): rows where x is not null)."),
    agg!("countif", 1, 1, Fixed("countif_"), ret_long, new_countif, "Number of rows where the predicate is true."),
    agg!("dcount", 1, 2, Prefix("dcount_"), ret_long, new_dcount, "Number of distinct non-null values (exact)."),
    agg!("dcountif", 2, 3, Prefix("dcountif_"), ret_long, new_dcountif, "Distinct values among rows where the predicate is true."),
    agg!("count_distinct", 1, 1, Prefix("count_distinct_"), ret_long, new_dcount, "Exact number of distinct non-null values."),
    agg!("count_distinctif", 2, 2, Prefix("count_distinctif_"), ret_long, new_dcountif, "count_distinct over rows where the predicate is true."),
    agg!("sum", 1, 1, Prefix("sum_"), ret_sum, new_sum, "Sum (long for int/long, real for real; 0 when nothing qualifies)."),
    agg!("sumif", 2, 2, Prefix("sumif_"), ret_sum, new_sumif, "Sum over rows where the predicate is true."),
    agg!("avg", 1, 1, Prefix("avg_"), ret_avg, new_avg, "Mean as real (NaN on no values)."),
    agg!("avgif", 2, 2, Prefix("avgif_"), ret_avg, new_avgif, "Mean over rows where the predicate is true."),
    agg!("min", 1, 1, Prefix("min_"), ret_first, new_min, "Smallest non-null value."),
    agg!("max", 1, 1, Prefix("max_"), ret_first, new_max, "Largest non-null value."),
    agg!("minif", 2, 2, Prefix("minif_"), ret_first, new_minif, "Smallest value among rows where the predicate is true."),
    agg!("maxif", 2, 2, Prefix("maxif_"), ret_first, new_maxif, "Largest value among rows where the predicate is true."),
    agg!("make_set", 1, 2, Prefix("set_"), ret_dynamic, new_make_set, "Array of distinct values (array inputs contribute their elements)."),
    agg!("makeset", 1, 2, Prefix("set_"), ret_dynamic, new_makeset, "Deprecated make_set (default cap 128)."),
    agg!("make_set_if", 2, 3, Prefix("set_"), ret_dynamic, new_make_set_if, "make_set over rows where the predicate is true."),
    agg!("make_list", 1, 2, Prefix("list_"), ret_dynamic, new_make_list, "Array of all non-null values."),
    agg!("makelist", 1, 2, Prefix("list_"), ret_dynamic, new_makelist, "Deprecated make_list (default cap 128)."),
    agg!("make_list_if", 2, 3, Prefix("list_"), ret_dynamic, new_make_list_if, "make_list over rows where the predicate is true."),
    agg!("make_list_with_nulls", 1, 2, Prefix("list_"), ret_dynamic, new_make_list_with_nulls, "Array of all values, nulls included."),
    agg!("make_bag", 1, 2, Prefix("bag_"), ret_dynamic, new_make_bag, "Merges property bags into one."),
    agg!("make_bag_if", 2, 3, Prefix("bag_"), ret_dynamic, new_make_bag_if, "make_bag over rows where the predicate is true."),
    agg!("take_any", 1, MANY, Column, ret_first, new_take_any, "An arbitrary value (or row) of the group."),
    agg!("any", 1, MANY, Prefix("any_"), ret_first, new_take_any, "Deprecated take_any."),
    agg!("take_anyif", 2, 2, Column, ret_first, new_take_anyif, "An arbitrary value among rows where the predicate is true."),
    agg!("arg_max", 1, MANY, Column, ret_first, new_arg_max, "The row with the largest key: key first, then the carried columns."),
    agg!("arg_min", 1, MANY, Column, ret_first, new_arg_min, "The row with the smallest key: key first, then the carried columns."),
    agg!("stdev", 1, 1, Prefix("stdev_"), ret_numeric_real, new_stdev, "Sample standard deviation."),
    agg!("stdevif", 2, 2, Prefix("stdevif_"), ret_numeric_real, new_stdevif, "Sample standard deviation where the predicate is true."),
    agg!("stdevp", 1, 1, Prefix("stdevp_"), ret_numeric_real, new_stdevp, "Population standard deviation."),
    agg!("variance", 1, 1, Prefix("variance_"), ret_numeric_real, new_variance, "Sample variance."),
    agg!("varianceif", 2, 2, Prefix("varianceif_"), ret_numeric_real, new_varianceif, "Sample variance where the predicate is true."),
    agg!("variancep", 1, 1, Prefix("variancep_"), ret_numeric_real, new_variancep, "Population variance."),
    agg!("percentile", 2, 2, Prefix("percentile_"), ret_percentile, new_percentile, "Nearest-rank percentile (column named percentile_<x>_<p>)."),
];

pub fn lookup(name: &str) -> Option<&'static AggregateDef> {
    AGGREGATES.iter().find(|a| a.name == name)
}

/// The full default column name of an unnamed aggregate, given the first
/// argument's column name (if it is a bare column) and the argument infos:
/// `count_`, `min_Timestamp`, `set_x`, `take_any(x)` -> `x`,
/// `percentile(x, 95)` -> `percentile_x_95`. (De-duplication is the
/// planner's.)
pub fn default_column_name(def: &AggregateDef, column: Option<&str>, args: &[ArgInfo]) -> String {
    let base = match def.default_name {
        // `count(x)` is `count_x`, `count()` is `count_`
        DefaultName::Fixed("count_") if !args.is_empty() => {
            format!("count_{}", column.unwrap_or(""))
        }
        DefaultName::Fixed(n) => n.to_string(),
        DefaultName::Prefix(p) => format!("{p}{}", column.unwrap_or("")),
        DefaultName::Column => column.unwrap_or("Column").to_string(),
    };
    if def.name == "percentile" {
        let p = args
            .get(1)
            .and_then(|a| a.constant.as_ref())
            .map(to_string)
            .unwrap_or_default()
            .replace('.', "_");
        format!("{base}_{p}")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(ty: Type) -> ArgInfo {
        ArgInfo::of(ty)
    }

    fn konst(v: Value) -> ArgInfo {
        ArgInfo {
            ty: v.ty().unwrap_or(Type::Long),
            constant: Some(v),
            type_of: None,
        }
    }

    /// Runs `name` over rows of arguments.
    fn run(name: &str, infos: &[ArgInfo], rows: &[Vec<Value>]) -> Vec<Value> {
        let def = lookup(name);
        assert!(def.is_some(), "unknown aggregate {name}");
        let Some(def) = def else { return vec![] };
        let mut acc = (def.new)(infos);
        for r in rows {
            acc.update(r);
        }
        assert!(acc.memory() > 0, "{name} memory");
        acc.finish()
    }

    fn longs(xs: &[Option<i64>]) -> Vec<Vec<Value>> {
        xs.iter()
            .map(|x| vec![x.map(Value::Long).unwrap_or(Value::Null)])
            .collect()
    }

    /// SEMANTICS.md §3 rule 9 and the aggregates_with_nulls case.
    #[test]
    fn aggregates_ignore_nulls() {
        let rows = longs(&[Some(1), None, Some(1), Some(3)]);
        let l = [info(Type::Long)];
        let cases: Vec<(&str, Value)> = vec![
            ("count", Value::Long(4)),
            ("dcount", Value::Long(2)),
            ("count_distinct", Value::Long(2)),
            ("min", Value::Long(1)),
            ("max", Value::Long(3)),
            ("sum", Value::Long(5)),
            ("avg", Value::Real(5.0 / 3.0)),
            ("make_set", Value::dynamic(json!([1, 3]))),
            ("make_list", Value::dynamic(json!([1, 1, 3]))),
            (
                "make_list_with_nulls",
                Value::dynamic(json!([1, null, 1, 3])),
            ),
            ("percentile", Value::Long(1)),
        ];
        for (name, want) in cases {
            let infos: Vec<ArgInfo> = if name == "percentile" {
                vec![info(Type::Long), konst(Value::Long(50))]
            } else if name == "count" {
                vec![]
            } else {
                l.to_vec()
            };
            let rows: Vec<Vec<Value>> = if name == "count" {
                rows.iter().map(|_| vec![]).collect()
            } else if name == "percentile" {
                rows.iter()
                    .map(|r| vec![r[0].clone(), Value::Long(50)])
                    .collect()
            } else {
                rows.clone()
            };
            assert_eq!(run(name, &infos, &rows), vec![want], "{name}");
        }
        let cond: Vec<Vec<Value>> = [Some(true), None, Some(false), Some(true)]
            .iter()
            .map(|b| vec![b.map(Value::Bool).unwrap_or(Value::Null)])
            .collect();
        assert_eq!(
            run("countif", &[info(Type::Bool)], &cond),
            vec![Value::Long(2)]
        );
    }

    /// SEMANTICS.md §3 rule 10: defaults on no input rows.
    #[test]
    fn empty_input_defaults() {
        let l = [info(Type::Long)];
        let cases: Vec<(&str, Vec<ArgInfo>, Value)> = vec![
            ("count", vec![], Value::Long(0)),
            ("countif", vec![info(Type::Bool)], Value::Long(0)),
            ("dcount", l.to_vec(), Value::Long(0)),
            (
                "dcountif",
                vec![info(Type::Long), info(Type::Bool)],
                Value::Long(0),
            ),
            ("count_distinct", l.to_vec(), Value::Long(0)),
            ("sum", l.to_vec(), Value::Long(0)),
            ("sum", vec![info(Type::Real)], Value::Real(0.0)),
            (
                "sumif",
                vec![info(Type::Long), info(Type::Bool)],
                Value::Long(0),
            ),
            ("variance", l.to_vec(), Value::Real(0.0)),
            ("stdev", l.to_vec(), Value::Real(0.0)),
            ("make_set", l.to_vec(), Value::dynamic(json!([]))),
            ("make_list", l.to_vec(), Value::dynamic(json!([]))),
            (
                "make_bag",
                vec![info(Type::Dynamic)],
                Value::dynamic(json!({})),
            ),
            (
                "make_set_if",
                vec![info(Type::Long), info(Type::Bool)],
                Value::dynamic(json!([])),
            ),
            (
                "make_list_if",
                vec![info(Type::Long), info(Type::Bool)],
                Value::dynamic(json!([])),
            ),
            ("min", l.to_vec(), Value::Null),
            ("max", l.to_vec(), Value::Null),
            ("take_any", l.to_vec(), Value::Null),
        ];
        for (name, infos, want) in cases {
            assert_eq!(run(name, &infos, &[]), vec![want], "{name} on no rows");
        }
        let avg = run("avg", &l, &[]);
        assert!(
            matches!(avg.as_slice(), [Value::Real(r)] if r.is_nan()),
            "avg on no rows: {avg:?}"
        );
    }

    #[test]
    fn result_types() {
        let cases = [
            ("sum", Type::Int, Type::Long),
            ("sum", Type::Long, Type::Long),
            ("sum", Type::Real, Type::Real),
            ("sum", Type::TimeSpan, Type::TimeSpan),
            ("avg", Type::Int, Type::Real),
            ("min", Type::Int, Type::Int),
            ("max", Type::DateTime, Type::DateTime),
            ("count_distinct", Type::String, Type::Long),
            ("make_set", Type::Long, Type::Dynamic),
            ("arg_max", Type::Int, Type::Int),
            ("stdev", Type::Long, Type::Real),
            ("sum", Type::Dynamic, Type::Dynamic),
            ("avg", Type::TimeSpan, Type::TimeSpan),
            ("percentile", Type::Int, Type::Long),
        ];
        for (name, arg, want) in cases {
            let def = lookup(name).map(|d| (d.ret)(&[info(arg), konst(Value::Long(50))]));
            assert_eq!(def, Some(Ok(want)), "{name}({arg})");
        }
        assert!(lookup("sum")
            .map(|d| (d.ret)(&[info(Type::String)]))
            .is_some_and(|r| r.is_err()));
    }

    #[test]
    fn sum_of_dynamic_and_avg_of_timespan() {
        let d = |j: serde_json::Value| vec![Value::dynamic(j)];
        assert_eq!(
            run("sum", &[info(Type::Dynamic)], &[d(json!(1)), d(json!(2))]),
            vec![Value::dynamic(json!(3))]
        );
        assert_eq!(
            run("sum", &[info(Type::Dynamic)], &[d(json!(1)), d(json!(0.5))]),
            vec![Value::dynamic(json!(1.5))]
        );
        let ts = vec![vec![Value::TimeSpan(10)], vec![Value::TimeSpan(20)]];
        assert_eq!(
            run("avg", &[info(Type::TimeSpan)], &ts),
            vec![Value::TimeSpan(15)]
        );
    }

    #[test]
    fn sum_of_int_is_long() {
        let rows: Vec<Vec<Value>> = (1..=4).map(|i| vec![Value::Int(i)]).collect();
        assert_eq!(run("sum", &[info(Type::Int)], &rows), vec![Value::Long(10)]);
        assert_eq!(
            run("avg", &[info(Type::Int)], &rows),
            vec![Value::Real(2.5)]
        );
        assert_eq!(run("min", &[info(Type::Int)], &rows), vec![Value::Int(1)]);
    }

    /// The arg_max_nulls_doc / arg_min_nulls_doc cases.
    #[test]
    fn arg_max_and_min_with_nulls() {
        let s = Value::string;
        type Group<'a> = (&'a str, Vec<Vec<Value>>, Vec<Value>, Vec<Value>);
        let groups: Vec<Group> = vec![
            (
                "Apple",
                vec![vec![Value::Int(1), s("Red")], vec![Value::Null, s("Green")]],
                vec![Value::Int(1), s("Red")],
                vec![Value::Int(1), s("Red")],
            ),
            (
                "Banana",
                vec![
                    vec![Value::Null, s("Yellow")],
                    vec![Value::Null, s("Green")],
                ],
                vec![Value::Null, s("Yellow")],
                vec![Value::Null, s("Yellow")],
            ),
            (
                "Pear",
                vec![
                    vec![Value::Int(1), s("Brown")],
                    vec![Value::Int(2), s("Green")],
                ],
                vec![Value::Int(2), s("Green")],
                vec![Value::Int(1), s("Brown")],
            ),
            (
                "null first",
                vec![vec![Value::Null, s("a")], vec![Value::Int(0), s("b")]],
                vec![Value::Int(0), s("b")],
                vec![Value::Int(0), s("b")],
            ),
        ];
        let infos = [info(Type::Int), info(Type::String)];
        for (g, rows, max, min) in groups {
            assert_eq!(run("arg_max", &infos, &rows), max, "arg_max {g}");
            assert_eq!(run("arg_min", &infos, &rows), min, "arg_min {g}");
        }
    }

    #[test]
    fn make_set_flattens_and_caps() {
        let rows: Vec<Vec<Value>> = [
            json!(["A1", "A2", "A3"]),
            json!(["A2", "C1"]),
            json!(["C2", "A3"]),
            json!(["C2", "A1"]),
        ]
        .into_iter()
        .map(|j| vec![Value::dynamic(j)])
        .collect();
        assert_eq!(
            run("make_set", &[info(Type::Dynamic)], &rows),
            vec![Value::dynamic(json!(["A1", "A2", "A3", "C1", "C2"]))]
        );
        // make_list keeps arrays whole
        assert_eq!(
            run("make_list", &[info(Type::Dynamic)], &rows[..1]),
            vec![Value::dynamic(json!([["A1", "A2", "A3"]]))]
        );
        let ten = longs(&(1..=10).map(Some).collect::<Vec<_>>());
        let capped = |name: &str, n: i64| {
            let rows: Vec<Vec<Value>> = ten
                .iter()
                .map(|r| vec![r[0].clone(), Value::Long(n)])
                .collect();
            run(name, &[info(Type::Long), konst(Value::Long(n))], &rows)
        };
        assert_eq!(
            capped("make_set", 3),
            vec![Value::dynamic(json!([1, 2, 3]))]
        );
        assert_eq!(
            capped("make_list", 4),
            vec![Value::dynamic(json!([1, 2, 3, 4]))]
        );
        assert_eq!(
            run("make_set", &[info(Type::Long)], &ten),
            vec![Value::dynamic(json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))]
        );
        let many = longs(&(1..=200).map(Some).collect::<Vec<_>>());
        let legacy = run("makeset", &[info(Type::Long)], &many);
        assert!(
            matches!(legacy.as_slice(), [Value::Dynamic(j)] if j.as_array().map(Vec::len) == Some(128))
        );
    }

    #[test]
    fn if_variants_and_take_any() {
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        let rows = vec![
            vec![Value::Long(1), t.clone()],
            vec![Value::Long(5), f.clone()],
            vec![Value::Long(2), t.clone()],
        ];
        let infos = [info(Type::Long), info(Type::Bool)];
        assert_eq!(run("sumif", &infos, &rows), vec![Value::Long(3)]);
        assert_eq!(run("dcountif", &infos, &rows), vec![Value::Long(2)]);
        assert_eq!(
            run("make_set_if", &infos, &rows),
            vec![Value::dynamic(json!([1, 2]))]
        );
        assert_eq!(run("maxif", &infos, &rows), vec![Value::Long(2)]);
        let strs = vec![vec![Value::string("")], vec![Value::string("x")]];
        assert_eq!(
            run("take_any", &[info(Type::String)], &strs),
            vec![Value::string("x")]
        );
        let multi = vec![
            vec![Value::Long(1), Value::string("a")],
            vec![Value::Long(2), Value::string("b")],
        ];
        assert_eq!(
            run("take_any", &[info(Type::Long), info(Type::String)], &multi),
            vec![Value::Long(1), Value::string("a")]
        );
        let bags = vec![
            vec![Value::dynamic(json!({"a": 1}))],
            vec![Value::dynamic(json!({"a": 2, "b": 3}))],
        ];
        assert_eq!(
            run("make_bag", &[info(Type::Dynamic)], &bags),
            vec![Value::dynamic(json!({"a": 1, "b": 3}))]
        );
    }

    #[test]
    fn variance_and_stdev() {
        let rows = longs(&[Some(1), Some(2), Some(3), Some(4)]);
        let l = [info(Type::Long)];
        let v = run("variance", &l, &rows);
        assert!(
            matches!(v.as_slice(), [Value::Real(r)] if (r - 1.666_666_666_7).abs() < 1e-9),
            "{v:?}"
        );
        let p = run("variancep", &l, &rows);
        assert!(
            matches!(p.as_slice(), [Value::Real(r)] if (r - 1.25).abs() < 1e-9),
            "{p:?}"
        );
        let s = run("stdev", &l, &rows);
        assert!(
            matches!(s.as_slice(), [Value::Real(r)] if (r - 1.290_994_448_7).abs() < 1e-9),
            "{s:?}"
        );
    }

    #[test]
    fn default_names() {
        let col = Some("x");
        let cases: Vec<(&str, Option<&str>, Vec<ArgInfo>, &str)> = vec![
            ("count", None, vec![], "count_"),
            ("countif", None, vec![info(Type::Bool)], "countif_"),
            (
                "min",
                Some("Timestamp"),
                vec![info(Type::DateTime)],
                "min_Timestamp",
            ),
            (
                "make_set",
                Some("ReportId"),
                vec![info(Type::Long)],
                "set_ReportId",
            ),
            ("make_list", col, vec![info(Type::Long)], "list_x"),
            ("count", col, vec![info(Type::Long)], "count_x"),
            (
                "percentile",
                col,
                vec![info(Type::Int), konst(Value::Real(95.5))],
                "percentile_x_95_5",
            ),
            ("dcount", col, vec![info(Type::Long)], "dcount_x"),
            ("take_any", Some("v"), vec![info(Type::Long)], "v"),
            ("any", col, vec![info(Type::Long)], "any_x"),
            (
                "percentile",
                col,
                vec![info(Type::Long), konst(Value::Long(50))],
                "percentile_x_50",
            ),
        ];
        for (name, c, infos, want) in cases {
            let def = lookup(name);
            assert_eq!(
                def.map(|d| default_column_name(d, c, &infos)).as_deref(),
                Some(want),
                "{name}"
            );
        }
    }

    /// Every aggregate fed awkward values (and every argument type) never
    /// panics.
    #[test]
    fn aggregates_never_panic() {
        let vals = vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(i32::MIN),
            Value::Long(i64::MAX),
            Value::Long(i64::MAX),
            Value::Real(f64::NAN),
            Value::Real(f64::INFINITY),
            Value::string(""),
            Value::DateTime(crate::time::MAX_TICKS),
            Value::TimeSpan(i64::MAX),
            Value::TimeSpan(i64::MAX),
            Value::dynamic(json!([1, [2], null])),
            Value::dynamic(json!({"a": 1})),
        ];
        for def in AGGREGATES {
            for ty in Type::ALL {
                let n = def.min_args.max(1).min(def.max_args);
                let mut infos = vec![info(ty); n];
                if def.name == "percentile" {
                    infos[1] = konst(Value::Long(50));
                }
                let r = std::panic::catch_unwind(|| {
                    let mut acc = (def.new)(&infos);
                    for v in &vals {
                        let row = vec![v.clone(); n];
                        acc.update(&row);
                    }
                    acc.update(&[]);
                    let _ = acc.memory();
                    acc.finish()
                });
                assert!(r.is_ok(), "{}({ty}) panicked", def.name);
            }
        }
    }

    #[test]
    fn names_unique_and_documented() {
        let mut seen = HashSet::new();
        for a in AGGREGATES {
            assert!(seen.insert(a.name), "duplicate {}", a.name);
            assert!(!a.doc.is_empty(), "{}", a.name);
        }
    }
}
