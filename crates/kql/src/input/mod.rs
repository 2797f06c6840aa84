//! Input tables decoded from bytes: JSON Lines, JSON arrays and CSV with a
//! header. The caller opens files and hands this module a [`ByteSource`];
//! nothing here touches the filesystem, the network or the clock.
//!
//! - Schema: a known schema (passed by the caller) gives the column types;
//!   otherwise types are inferred from the first [`InputOptions::sample_rows`]
//!   rows (`bool`, `long`, `real`, `datetime` for ISO-8601 text, `dynamic`
//!   for JSON objects/arrays, `string` otherwise; conflicting samples widen
//!   `long`+`real` to `real` and anything else to `string`; a column only
//!   ever null in the sample is `string`). JSON keys first seen after the
//!   sample are ignored.
//! - Values: a missing column is null (`""` for strings). A value that does
//!   not convert to its column's type becomes null, as Kusto ingestion does
//!   (e.g. `"abc"` in a `long` column). JSON objects/arrays in a `string`
//!   column keep their JSON text.
//! - Malformed rows (bad JSON, wrong CSV field count, an unterminated quoted
//!   field) are errors that name the origin and the line. Rows skipped by
//!   the prefilter are not validated.
//! - Memory is bounded: each partition reads through one buffer of
//!   [`InputOptions::buffer_size`] bytes, grown only for a row longer than
//!   that, up to [`InputOptions::max_row_bytes`] (longer rows are errors).
//! - Partitions: JSON Lines and CSV split into byte ranges at record starts
//!   (CSV finds a safe start by quote parity from the data start); JSON
//!   arrays are read as one partition.

mod convert;
mod csv;
mod json;
mod prefilter;
mod reader;

use crate::table::{Column, RowStream, ScanError, ScanRequest, Schema};
use crate::value::{Row, Type, Value};
use prefilter::{CompiledPrefilter, RawSyntax};
use reader::LineReader;
use std::io::{self, Read};
use std::sync::Arc;

/// Random access to the bytes of one input (a file, a memory buffer).
pub trait ByteSource: Send + Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// A reader over `[start, end)` (clamped to the length).
    fn open_range(&self, start: u64, end: u64) -> io::Result<Box<dyn Read + Send>>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// In-memory bytes (tests, stdin slurped by the caller).
#[derive(Clone, Debug, Default)]
pub struct MemorySource(pub Arc<[u8]>);

impl MemorySource {
    pub fn new(bytes: impl Into<Vec<u8>>) -> MemorySource {
        MemorySource(Arc::from(bytes.into()))
    }
}

struct ArcSlice {
    data: Arc<[u8]>,
    pos: usize,
    end: usize,
}

impl Read for ArcSlice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.data.get(self.pos..self.end).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

impl ByteSource for MemorySource {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn open_range(&self, start: u64, end: u64) -> io::Result<Box<dyn Read + Send>> {
        let len = self.0.len();
        let end = usize::try_from(end).unwrap_or(usize::MAX).min(len);
        let start = usize::try_from(start).unwrap_or(usize::MAX).min(end);
        Ok(Box::new(ArcSlice {
            data: self.0.clone(),
            pos: start,
            end,
        }))
    }
}

/// The syntax of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// `.json`: a top-level array of objects, or JSON Lines when the first
    /// significant byte is `{` (decided by [`InputTable::open`]).
    Json,
    /// Comma-separated values with a header record (`.csv`).
    Csv,
}

impl Format {
    /// The format for a file extension (case-insensitive, without the dot).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Reader tuning.
#[derive(Clone, Debug)]
pub struct InputOptions {
    /// Rows sampled for type inference when no schema is given.
    pub sample_rows: usize,
    /// Read buffer per partition.
    pub buffer_size: usize,
    /// Longest accepted row (bytes).
    pub max_row_bytes: usize,
    /// Smallest byte range worth its own partition.
    pub min_partition_bytes: u64,
}

impl Default for InputOptions {
    fn default() -> InputOptions {
        InputOptions {
            sample_rows: 1000,
            buffer_size: 1 << 20,
            max_row_bytes: 64 << 20,
            min_partition_bytes: 4 << 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Lines,
    Array,
    Csv,
}

struct Shared {
    name: String,
    origin: String,
    source: Arc<dyn ByteSource>,
    opts: InputOptions,
}

impl Shared {
    fn error(
        &self,
        line: Option<u64>,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> ScanError {
        let mut location = String::new();
        if !self.origin.is_empty() {
            location.push_str(&self.origin);
        }
        if let Some(l) = line {
            if !location.is_empty() {
                location.push_str(", ");
            }
            location.push_str(&format!("line {l}"));
            if let Some(c) = column {
                location.push_str(&format!(", column {c}"));
            }
        }
        if location.is_empty() {
            location.push_str("input");
        }
        ScanError {
            table: self.name.clone(),
            location,
            message: message.into(),
        }
    }

    fn io_error(&self, e: &io::Error) -> ScanError {
        self.error(None, None, format!("read error: {e}"))
    }

    fn line_at(&self, offset: u64) -> Option<u64> {
        reader::line_number_at(&*self.source, offset, self.opts.buffer_size).ok()
    }
}

/// One input table: a byte source, its syntax and its schema.
pub struct InputTable {
    shared: Arc<Shared>,
    syntax: Syntax,
    schema: Schema,
    /// Where rows start (after a BOM and, for CSV, the header).
    data_start: u64,
    /// CSV: header names in file order.
    header: Vec<String>,
}

impl std::fmt::Debug for InputTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputTable")
            .field("name", &self.shared.name)
            .field("origin", &self.shared.origin)
            .field("syntax", &self.syntax)
            .field("schema", &self.schema)
            .finish()
    }
}

fn bom_len(source: &dyn ByteSource) -> io::Result<u64> {
    let mut head = [0u8; 3];
    let mut r = source.open_range(0, 3)?;
    let mut n = 0;
    while n < 3 {
        match r.read(head.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(if n == 3 && head == [0xEF, 0xBB, 0xBF] {
        3
    } else {
        0
    })
}

/// The first byte that is not whitespace at or after `start`.
fn first_significant(source: &dyn ByteSource, start: u64) -> io::Result<Option<u8>> {
    let mut r = source.open_range(start, source.len())?;
    let mut buf = [0u8; 4096];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(&c) = buf
            .get(..n)
            .unwrap_or_default()
            .iter()
            .find(|c| !c.is_ascii_whitespace())
        {
            return Ok(Some(c));
        }
    }
}

impl InputTable {
    /// Opens an input: resolves the syntax, reads the CSV header, and
    /// infers the schema from a sample unless `known` is given. `name` is
    /// the table name; `origin` (e.g. the file path) is used in errors.
    pub fn open(
        name: &str,
        origin: &str,
        source: Arc<dyn ByteSource>,
        format: Format,
        known: Option<Schema>,
        opts: InputOptions,
    ) -> Result<InputTable, ScanError> {
        let shared = Arc::new(Shared {
            name: name.to_string(),
            origin: origin.to_string(),
            source,
            opts,
        });
        let src = &*shared.source;
        let bom = bom_len(src).map_err(|e| shared.io_error(&e))?;
        let syntax = match format {
            Format::JsonLines => Syntax::Lines,
            Format::Csv => Syntax::Csv,
            Format::Json => match first_significant(src, bom).map_err(|e| shared.io_error(&e))? {
                Some(b'[') => Syntax::Array,
                _ => Syntax::Lines,
            },
        };
        let mut table = InputTable {
            shared: shared.clone(),
            syntax,
            schema: known.clone().unwrap_or_default(),
            data_start: bom,
            header: Vec::new(),
        };
        if syntax == Syntax::Csv {
            table.read_csv_header(bom)?;
        }
        if known.is_none() {
            table.schema = table.infer()?;
        }
        Ok(table)
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Reads the header record; sets `data_start` after it.
    fn read_csv_header(&mut self, start: u64) -> Result<(), ScanError> {
        let sh = self.shared.clone();
        let mut lines = LineReader::open(&*sh.source, start, 64 << 10, sh.opts.max_row_bytes)
            .map_err(|e| sh.io_error(&e))?;
        let mut rec = Vec::new();
        let mut parity = 0usize;
        let mut line_no = 0u64;
        loop {
            match lines.next_line() {
                Err(e) => return Err(sh.error(Some(line_no + 1), None, e.to_string())),
                Ok(None) => {
                    if parity % 2 == 1 {
                        return Err(sh.error(
                            Some(1),
                            None,
                            "unterminated quoted field in the header",
                        ));
                    }
                    break;
                }
                Ok(Some((_, line))) => {
                    line_no += 1;
                    if !rec.is_empty() {
                        rec.push(b'\n');
                    }
                    rec.extend_from_slice(line);
                    parity += csv::quotes(line);
                    if parity % 2 == 0 {
                        if csv::trim_cr(&rec).is_empty() {
                            rec.clear();
                            continue;
                        }
                        break;
                    }
                }
            }
        }
        self.data_start = lines.position();
        let rec = csv::trim_cr(&rec);
        if rec.is_empty() {
            return Ok(());
        }
        let mut split = csv::FieldSplitter::new();
        split.split(rec);
        let mut names: Vec<String> = Vec::new();
        for i in 0..split.len() {
            let n = split.field_str(i).trim().to_string();
            if n.is_empty() {
                return Err(sh.error(
                    Some(1),
                    None,
                    format!("empty column name in header field {}", i + 1),
                ));
            }
            if names.contains(&n) {
                return Err(sh.error(
                    Some(1),
                    None,
                    format!("duplicate column name '{n}' in the header"),
                ));
            }
            names.push(n);
        }
        self.header = names;
        Ok(())
    }

    /// Infers a schema from the first rows.
    fn infer(&self) -> Result<Schema, ScanError> {
        let sh = &self.shared;
        let n = sh.opts.sample_rows.max(1);
        match self.syntax {
            Syntax::Csv => {
                let mut inf = csv::Inference::new(self.header.len());
                let mut records =
                    CsvRecords::new(sh.clone(), self.data_start, self.data_start, u64::MAX);
                let mut seen = 0;
                while seen < n {
                    if !records.next_record(None)? {
                        break;
                    }
                    if records.split.len() == self.header.len() {
                        inf.observe(&records.split);
                    }
                    seen += 1;
                }
                Ok(Schema::new(
                    self.header
                        .iter()
                        .zip(inf.guesses)
                        .map(|(name, g)| Column::new(name.clone(), g.ty()))
                        .collect(),
                ))
            }
            Syntax::Lines => {
                let mut inf = json::Inference::default();
                let mut lines = LineReader::open(
                    &*sh.source,
                    self.data_start,
                    sh.opts.buffer_size,
                    sh.opts.max_row_bytes,
                )
                .map_err(|e| sh.io_error(&e))?;
                let mut line_no = 0u64;
                let mut seen = 0;
                while seen < n {
                    let Some((_, line)) = lines
                        .next_line()
                        .map_err(|e| sh.error(Some(line_no + 1), None, e.to_string()))?
                    else {
                        break;
                    };
                    line_no += 1;
                    let line = csv::trim_cr(line);
                    if line.iter().all(|c| c.is_ascii_whitespace()) {
                        continue;
                    }
                    inf.observe(line)
                        .map_err(|e| sh.error(Some(line_no), Some(e.offset + 1), e.message))?;
                    seen += 1;
                }
                Ok(columns_from(inf))
            }
            Syntax::Array => {
                let mut inf = json::Inference::default();
                let src = sh
                    .source
                    .open_range(self.data_start, sh.source.len())
                    .map_err(|e| sh.io_error(&e))?;
                let mut framer =
                    json::ArrayFramer::new(src, sh.opts.buffer_size, sh.opts.max_row_bytes);
                let mut seen = 0;
                while seen < n {
                    match framer.next_element() {
                        Err(e) => return Err(frame_error(sh, e)),
                        Ok(None) => break,
                        Ok(Some((line, text))) => {
                            inf.observe(text).map_err(|e| {
                                let (l, c) = locate(text, e.offset);
                                sh.error(Some(line + l), Some(c), e.message)
                            })?;
                            seen += 1;
                        }
                    }
                }
                Ok(columns_from(inf))
            }
        }
    }

    /// Opens the table for reading (see [`crate::Catalog::scan`]).
    pub fn scan(
        &self,
        request: &ScanRequest,
    ) -> Result<Vec<Box<dyn RowStream + 'static>>, ScanError> {
        let sh = &self.shared;
        let mut cols: Vec<(String, Type)> = Vec::with_capacity(request.columns.len());
        for &i in &request.columns {
            let c = self.schema.columns.get(i).ok_or_else(|| {
                sh.error(
                    None,
                    None,
                    format!(
                        "column index {i} out of range (table has {})",
                        self.schema.len()
                    ),
                )
            })?;
            cols.push((c.name.clone(), c.ty));
        }
        let template: Row = cols.iter().map(|(_, t)| Value::null_of(*t)).collect();
        let raw = if self.syntax == Syntax::Csv {
            RawSyntax::Csv
        } else {
            RawSyntax::Json
        };
        let pf = request
            .prefilter
            .as_ref()
            .and_then(|p| CompiledPrefilter::new(p, raw))
            .map(Arc::new);
        let len = sh.source.len();
        let mut out: Vec<Box<dyn RowStream>> = Vec::new();
        match self.syntax {
            Syntax::Array => {
                out.push(Box::new(ArrayStream {
                    shared: sh.clone(),
                    start: self.data_start,
                    framer: None,
                    decoder: json::ObjectDecoder::new(&cols),
                    template,
                    prefilter: pf,
                    done: false,
                }));
            }
            Syntax::Lines => {
                let points = reader::split_points(
                    self.data_start,
                    len,
                    request.partitions,
                    sh.opts.min_partition_bytes,
                );
                for w in points.windows(2) {
                    if let [start, end] = *w {
                        out.push(Box::new(LinesStream {
                            shared: sh.clone(),
                            first: start == self.data_start,
                            start,
                            end,
                            lines: None,
                            decoder: json::ObjectDecoder::new(&cols),
                            template: template.clone(),
                            prefilter: pf.clone(),
                            memo: Memo::NoneBefore(0),
                            done: false,
                        }));
                    }
                }
            }
            Syntax::Csv => {
                let fields = self
                    .header
                    .iter()
                    .map(|h| {
                        cols.iter()
                            .position(|(n, _)| n == h)
                            .and_then(|s| cols.get(s).map(|c| (s, c.1)))
                    })
                    .collect();
                let decoder = Arc::new(csv::RecordDecoder { fields });
                let points = reader::split_points(
                    self.data_start,
                    len,
                    request.partitions,
                    sh.opts.min_partition_bytes,
                );
                for w in points.windows(2) {
                    if let [start, end] = *w {
                        out.push(Box::new(CsvStream {
                            records: CsvRecords::new(sh.clone(), self.data_start, start, end),
                            decoder: decoder.clone(),
                            template: template.clone(),
                            prefilter: pf.clone(),
                            done: false,
                        }));
                    }
                }
            }
        }
        if out.is_empty() {
            out.push(Box::new(std::iter::empty::<Result<Row, ScanError>>()));
        }
        Ok(out)
    }
}

fn columns_from(inf: json::Inference) -> Schema {
    Schema::new(
        inf.columns
            .into_iter()
            .map(|(n, g)| Column::new(n, g.ty()))
            .collect(),
    )
}

/// (lines into `text` before `offset`, 1-based column at `offset`).
fn locate(text: &[u8], offset: usize) -> (u64, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let lines = memchr::memchr_iter(b'\n', before).count() as u64;
    let col = match memchr::memrchr(b'\n', before) {
        Some(i) => offset - i,
        None => offset + 1,
    };
    (lines, col)
}

fn frame_error(sh: &Shared, e: json::FrameError) -> ScanError {
    match e {
        json::FrameError::Io(e) => sh.io_error(&e),
        json::FrameError::Syntax { line, message } => sh.error(Some(line), None, message),
    }
}

/// One partition of a JSON Lines input.
struct LinesStream {
    shared: Arc<Shared>,
    /// The first partition starts exactly at a line start.
    first: bool,
    start: u64,
    end: u64,
    lines: Option<LineReader>,
    decoder: json::ObjectDecoder,
    template: Row,
    prefilter: Option<Arc<CompiledPrefilter>>,
    memo: Memo,
    done: bool,
}

/// What is known about the prefilter's first needle set ahead (absolute
/// offsets): its next match starts at `Hit`, or no match starts in the
/// searched bytes before `NoneBefore` (a line end).
#[derive(Clone, Copy, Debug)]
enum Memo {
    Hit(u64),
    NoneBefore(u64),
}

impl LinesStream {
    /// The line number of the line starting at `at` (errors only: counts
    /// lines from the start of the input, since the prefilter skips
    /// blocks of lines without counting them).
    fn line_no(&self, at: u64) -> Option<u64> {
        self.shared.line_at(at)
    }

    fn step(&mut self) -> Result<Option<Row>, ScanError> {
        if self.lines.is_none() {
            let sh = &self.shared;
            let (opts, src) = (&sh.opts, &*sh.source);
            let r = if self.first {
                LineReader::open(src, self.start, opts.buffer_size, opts.max_row_bytes)
            } else {
                LineReader::open_at_line_after(
                    src,
                    self.start,
                    opts.buffer_size,
                    opts.max_row_bytes,
                )
            }
            .map_err(|e| sh.io_error(&e))?;
            self.lines = Some(r);
        }
        loop {
            let Some(lines) = self.lines.as_mut() else {
                return Ok(None);
            };
            if let Some(pf) = &self.prefilter {
                // Whole buffers at a time: lines before the first possible
                // match are skipped unsplit (and, like every row the
                // prefilter skips, unvalidated).
                // The first-set search result is remembered (absolute
                // offsets), so lines stopped at for a possible escape do
                // not make the next call search the same bytes again.
                let memo = &mut self.memo;
                let skipped = lines.skip_unwanted(self.end, &mut |r, abs| {
                    let end = abs + r.len() as u64;
                    let hit = match *memo {
                        Memo::Hit(h) if h >= abs && h < end => Some(h),
                        Memo::NoneBefore(e) if e >= abs && e <= end => {
                            let from = usize::try_from(e - abs).unwrap_or(r.len());
                            let m = r
                                .get(from..)
                                .and_then(|t| pf.first_match(t))
                                .map(|m| e + m as u64);
                            *memo = m.map_or(Memo::NoneBefore(end), Memo::Hit);
                            m
                        }
                        _ => {
                            let m = pf.first_match(r).map(|m| abs + m as u64);
                            *memo = m.map_or(Memo::NoneBefore(end), Memo::Hit);
                            m
                        }
                    };
                    let hit = hit.map(|h| usize::try_from(h - abs).unwrap_or(r.len()));
                    let head = r.get(..hit.unwrap_or(r.len())).unwrap_or(r);
                    pf.first_hidden_json(head).or(hit)
                });
                if let Err(e) = skipped {
                    let at = lines.position();
                    return Err(self.shared.error(self.line_no(at), None, e.to_string()));
                }
            }
            let before = lines.position();
            let next = lines.next_line();
            let (at, line) = match next {
                Err(e) => {
                    return Err(self.shared.error(self.line_no(before), None, e.to_string()));
                }
                Ok(None) => return Ok(None),
                Ok(Some(x)) => x,
            };
            if at >= self.end {
                return Ok(None);
            }
            let line = csv::trim_cr(line);
            if line.iter().all(|c| c.is_ascii_whitespace()) {
                continue;
            }
            if let Some(pf) = &self.prefilter {
                if !pf.may_match(line) && prefilter::json_raw_is_verbatim(line) {
                    continue;
                }
            }
            let mut row = self.template.clone();
            if let Err(e) = self.decoder.decode(line, &mut row) {
                let col = e.offset + 1;
                let l = self.line_no(at);
                return Err(self.shared.error(l, Some(col), e.message));
            }
            return Ok(Some(row));
        }
    }
}

impl RowStream for LinesStream {
    fn next_row(&mut self) -> Option<Result<Row, ScanError>> {
        if self.done {
            return None;
        }
        let r = self.step();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r.transpose()
    }
}

/// A JSON array input (one partition).
struct ArrayStream {
    shared: Arc<Shared>,
    start: u64,
    framer: Option<json::ArrayFramer>,
    decoder: json::ObjectDecoder,
    template: Row,
    prefilter: Option<Arc<CompiledPrefilter>>,
    done: bool,
}

impl ArrayStream {
    fn step(&mut self) -> Result<Option<Row>, ScanError> {
        let sh = self.shared.clone();
        if self.framer.is_none() {
            let src = sh
                .source
                .open_range(self.start, sh.source.len())
                .map_err(|e| sh.io_error(&e))?;
            self.framer = Some(json::ArrayFramer::new(
                src,
                sh.opts.buffer_size,
                sh.opts.max_row_bytes,
            ));
        }
        let Some(framer) = self.framer.as_mut() else {
            return Ok(None);
        };
        loop {
            let (line, text) = match framer.next_element() {
                Err(e) => return Err(frame_error(&sh, e)),
                Ok(None) => return Ok(None),
                Ok(Some(x)) => x,
            };
            if let Some(pf) = &self.prefilter {
                if !pf.may_match(text) && prefilter::json_raw_is_verbatim(text) {
                    continue;
                }
            }
            let mut row = self.template.clone();
            if let Err(e) = self.decoder.decode(text, &mut row) {
                let (l, c) = locate(text, e.offset);
                return Err(sh.error(Some(line + l), Some(c), e.message));
            }
            return Ok(Some(row));
        }
    }
}

impl RowStream for ArrayStream {
    fn next_row(&mut self) -> Option<Result<Row, ScanError>> {
        if self.done {
            return None;
        }
        let r = self.step();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r.transpose()
    }
}

/// Frames CSV records of one partition: records starting in `[start, end)`.
struct CsvRecords {
    shared: Arc<Shared>,
    data_start: u64,
    start: u64,
    end: u64,
    /// `start` is known to be a record start (the first partition).
    first: bool,
    lines: Option<LineReader>,
    line_base: Option<u64>,
    first_line_start: u64,
    rel: u64,
    /// Line (relative) where the current record started.
    rec_rel: u64,
    /// Whole blocks of lines may be skipped by the prefilter (off once a
    /// block would end inside a multi-line record).
    block_skip: bool,
    rec: Vec<u8>,
    split: csv::FieldSplitter,
}

impl CsvRecords {
    fn new(shared: Arc<Shared>, data_start: u64, start: u64, end: u64) -> CsvRecords {
        CsvRecords {
            shared,
            data_start,
            first: start <= data_start,
            start,
            end,
            lines: None,
            line_base: None,
            first_line_start: start,
            rel: 0,
            rec_rel: 0,
            block_skip: true,
            rec: Vec::new(),
            split: csv::FieldSplitter::new(),
        }
    }

    fn line_no(&mut self, rel: u64) -> Option<u64> {
        if self.line_base.is_none() {
            self.line_base = self.shared.line_at(self.first_line_start);
        }
        self.line_base.map(|b| b + rel - 1)
    }

    /// Positions a later partition at the first record start >= `start`:
    /// the first line start there at which the number of quotes since the
    /// data start is even.
    fn open(&mut self) -> Result<(), ScanError> {
        let data_start = self.data_start;
        let sh = self.shared.clone();
        let (opts, src) = (&sh.opts, &*sh.source);
        if self.first {
            let r = LineReader::open(src, self.start, opts.buffer_size, opts.max_row_bytes)
                .map_err(|e| sh.io_error(&e))?;
            self.first_line_start = r.position();
            self.lines = Some(r);
            return Ok(());
        }
        let mut parity = 0usize;
        let from = self.start.saturating_sub(1).max(data_start);
        reader::for_each_chunk(src, data_start, from, opts.buffer_size, |c| {
            parity += csv::quotes(c)
        })
        .map_err(|e| sh.io_error(&e))?;
        let mut r = LineReader::open(src, from, opts.buffer_size, opts.max_row_bytes)
            .map_err(|e| sh.io_error(&e))?;
        if from < self.start {
            // The rest of the line holding byte `start - 1`.
            match r.next_line().map_err(|e| sh.io_error(&e))? {
                Some((_, l)) => parity += csv::quotes(l),
                None => {
                    self.first_line_start = r.position();
                    self.lines = Some(r);
                    return Ok(());
                }
            }
        }
        while parity % 2 == 1 {
            match r.next_line().map_err(|e| sh.io_error(&e))? {
                Some((_, l)) => parity += csv::quotes(l),
                None => break,
            }
        }
        self.first_line_start = r.position();
        self.lines = Some(r);
        Ok(())
    }

    /// Frames the next record of this partition and splits it into
    /// `self.split`; `false` at the end. Single-line records that `pf`
    /// rejects are skipped unsplit.
    fn next_record(&mut self, pf: Option<&CompiledPrefilter>) -> Result<bool, ScanError> {
        if self.lines.is_none() {
            self.open()?;
        }
        self.rec.clear();
        let mut parity = 0usize;
        let mut multi = false;
        loop {
            let Some(lines) = self.lines.as_mut() else {
                return Ok(false);
            };
            if let (false, true, Some(pf)) = (multi, self.block_skip, pf) {
                // Whole blocks of single-line records that cannot match are
                // skipped unsplit; a block must end at a record start (an
                // even number of quotes), else block skipping stops here.
                let (mut skipped, mut odd) = (0u64, false);
                let r = lines.skip_unwanted(self.end, &mut |r, _| {
                    let stop = pf
                        .first_candidate_csv(r)
                        .map(|c| {
                            r.get(..c)
                                .and_then(|b| memchr::memrchr(b'\n', b))
                                .map_or(0, |i| i + 1)
                        })
                        .unwrap_or(r.len());
                    let block = r.get(..stop).unwrap_or_default();
                    if csv::quotes(block) % 2 == 1 {
                        odd = true;
                        return Some(0);
                    }
                    skipped += memchr::memchr_iter(b'\n', block).count() as u64;
                    (stop < r.len()).then_some(stop)
                });
                self.rel += skipped;
                if odd {
                    self.block_skip = false;
                }
                if let Err(e) = r {
                    let l = self.line_no(self.rel + 1);
                    return Err(self.shared.error(l, None, e.to_string()));
                }
            }
            let Some(lines) = self.lines.as_mut() else {
                return Ok(false);
            };
            let next = lines.next_line();
            match next {
                Err(e) => {
                    let l = self.line_no(self.rel + 1);
                    return Err(self.shared.error(l, None, e.to_string()));
                }
                Ok(None) => {
                    if multi {
                        let l = self.line_no(self.rec_rel);
                        return Err(self.shared.error(
                            l,
                            None,
                            "unterminated quoted field at end of file",
                        ));
                    }
                    return Ok(false);
                }
                Ok(Some((at, line))) => {
                    if !multi && at >= self.end {
                        return Ok(false);
                    }
                    self.rel += 1;
                    let q = csv::quotes(line);
                    if !multi {
                        self.rec_rel = self.rel;
                        if q % 2 == 0 {
                            let line = csv::trim_cr(line);
                            if line.is_empty() {
                                continue;
                            }
                            if let Some(pf) = pf {
                                if !pf.may_match(line) {
                                    continue;
                                }
                            }
                            self.split.split(line);
                            return Ok(true);
                        }
                        multi = true;
                        parity = q;
                        self.rec.extend_from_slice(line);
                    } else {
                        self.rec.push(b'\n');
                        self.rec.extend_from_slice(line);
                        parity += q;
                        if parity % 2 == 0 {
                            let rec = csv::trim_cr(&self.rec);
                            self.split.split(rec);
                            return Ok(true);
                        }
                    }
                }
            }
        }
    }
}

/// One partition of a CSV input.
struct CsvStream {
    records: CsvRecords,
    decoder: Arc<csv::RecordDecoder>,
    template: Row,
    prefilter: Option<Arc<CompiledPrefilter>>,
    done: bool,
}

impl CsvStream {
    fn step(&mut self) -> Result<Option<Row>, ScanError> {
        if !self.records.next_record(self.prefilter.as_deref())? {
            return Ok(None);
        }
        let mut row = self.template.clone();
        if let Err(m) = self.decoder.decode(&self.records.split, &mut row) {
            let rel = self.records.rec_rel;
            let l = self.records.line_no(rel);
            return Err(self.records.shared.error(l, None, m));
        }
        Ok(Some(row))
    }
}

impl RowStream for CsvStream {
    fn next_row(&mut self) -> Option<Result<Row, ScanError>> {
        if self.done {
            return None;
        }
        let r = self.step();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r.transpose()
    }
}
