//! CSV (RFC 4180) records: framing records out of lines by quote parity
//! (so quoted newlines and CRLF work, and partitions can start at a record
//! boundary), splitting fields with `csv-core`, and type inference over
//! sampled records. Pure byte-slice code: no I/O.
//!
//! Framing rule: a record ends at a `\n` where the number of `"` seen since
//! the record started is even. This is exactly RFC 4180 (every quote
//! toggles the quoted state, a doubled `""` toggles twice). Lone `\r` line
//! ends (classic Mac) are not record separators.

use super::convert::{self, Guess};
use crate::value::{Type, Value};

/// Splits one framed record into fields.
pub(crate) struct FieldSplitter {
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    count: usize,
}

impl FieldSplitter {
    pub(crate) fn new() -> FieldSplitter {
        FieldSplitter {
            reader: csv_core::Reader::new(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            count: 0,
        }
    }

    /// Splits `record` (one whole record, without its final line end).
    pub(crate) fn split(&mut self, record: &[u8]) {
        self.reader.reset();
        let mut input = record;
        let mut fed_end = false;
        let mut out_len = 0usize;
        let mut n_ends = 0usize;
        loop {
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                self.out.get_mut(out_len..).unwrap_or_default(),
                self.ends.get_mut(n_ends..).unwrap_or_default(),
            );
            input = input.get(nin..).unwrap_or_default();
            out_len += nout;
            n_ends += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {
                    if fed_end {
                        // csv-core always completes a record at end of input.
                        break;
                    }
                    input = b"\n";
                    fed_end = true;
                }
                csv_core::ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            }
        }
        self.count = n_ends;
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The bytes of field `i` of the last split record.
    pub(crate) fn field(&self, i: usize) -> &[u8] {
        if i >= self.count {
            return &[];
        }
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.out.get(start..end).unwrap_or_default()
    }

    pub(crate) fn field_str(&self, i: usize) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.field(i))
    }
}

/// Number of `"` bytes (for record framing).
pub(crate) fn quotes(b: &[u8]) -> usize {
    // Per-chunk u8 sums vectorize well (a plain filter().count() does not).
    let mut n = 0usize;
    let mut chunks = b.chunks_exact(128);
    for c in &mut chunks {
        n += usize::from(
            c.iter()
                .map(|&x| u8::from(x == b'"'))
                .fold(0u8, u8::wrapping_add),
        );
    }
    n + chunks.remainder().iter().filter(|&&c| c == b'"').count()
}

/// Strips a trailing `\r`.
pub(crate) fn trim_cr(b: &[u8]) -> &[u8] {
    match b.split_last() {
        Some((b'\r', rest)) => rest,
        _ => b,
    }
}

/// Maps file fields to output slots.
pub(crate) struct RecordDecoder {
    /// For each field of the file: (output slot, type), if projected.
    pub(crate) fields: Vec<Option<(usize, Type)>>,
}

impl RecordDecoder {
    /// Fills `row` from the last split record. Errors on a field count that
    /// differs from the header's.
    pub(crate) fn decode(&self, split: &FieldSplitter, row: &mut [Value]) -> Result<(), String> {
        if split.len() != self.fields.len() {
            return Err(format!(
                "expected {} fields (as in the header), found {}",
                self.fields.len(),
                split.len()
            ));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if let Some((slot, ty)) = f {
                let v = convert::from_text(*ty, &split.field_str(i));
                if let Some(cell) = row.get_mut(*slot) {
                    *cell = v;
                }
            }
        }
        Ok(())
    }
}

/// Type guesses per header column.
pub(crate) struct Inference {
    pub guesses: Vec<Guess>,
}

impl Inference {
    pub(crate) fn new(n: usize) -> Inference {
        Inference {
            guesses: vec![Guess::Unknown; n],
        }
    }

    pub(crate) fn observe(&mut self, split: &FieldSplitter) {
        for (i, g) in self.guesses.iter_mut().enumerate() {
            if let Some(t) = convert::guess_text(&split.field_str(i), false) {
                *g = g.add(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rfc4180_fields() {
        let cases: &[(&str, &[&str])] = &[
            ("a,b,c", &["a", "b", "c"]),
            ("a,\"b,c\",d", &["a", "b,c", "d"]),
            ("\"say \"\"hi\"\"\",x", &["say \"hi\"", "x"]),
            ("\"line1\nline2\",x", &["line1\nline2", "x"]),
            ("\"crlf\r\ninside\",x\r", &["crlf\r\ninside", "x"]),
            (",,", &["", "", ""]),
        ];
        let mut s = FieldSplitter::new();
        for (rec, want) in cases {
            s.split(rec.as_bytes());
            let got: Vec<String> = (0..s.len()).map(|i| s.field_str(i).into_owned()).collect();
            assert_eq!(
                got,
                want.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
                "record {rec:?}"
            );
        }
    }

    #[test]
    fn counts_quotes() {
        for len in [0usize, 1, 127, 128, 129, 1000] {
            let text: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'"' } else { b'a' })
                .collect();
            assert_eq!(quotes(&text), len.div_ceil(3), "length {len}");
        }
        assert_eq!(quotes(&[b'"'; 300]), 300);
    }

    #[test]
    fn large_records_grow_buffers() {
        let big = "x".repeat(10_000);
        let rec = (0..100).map(|_| big.as_str()).collect::<Vec<_>>().join(",");
        let mut s = FieldSplitter::new();
        s.split(rec.as_bytes());
        assert_eq!(s.len(), 100);
        assert_eq!(s.field(99).len(), 10_000);
    }
}
