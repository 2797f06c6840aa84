//! Bounded-memory line reading over a [`ByteSource`] range, partition
//! boundaries at line starts, and lazy line numbering for error messages.
//! No parsing of row syntax here.

use super::ByteSource;
use std::io::{self, Read};

/// Reads `\n`-terminated lines through one reusable buffer. A line longer
/// than `max_line` bytes is an error (memory stays bounded).
pub(crate) struct LineReader {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// Where to continue looking for `\n` (>= pos).
    search: usize,
    filled: usize,
    eof: bool,
    /// Absolute offset of `buf[0]` in the source.
    offset: u64,
    max_line: usize,
}

impl LineReader {
    pub(crate) fn new(
        src: Box<dyn Read + Send>,
        offset: u64,
        buffer: usize,
        max_line: usize,
    ) -> LineReader {
        LineReader {
            src,
            buf: vec![0; buffer.max(64)],
            pos: 0,
            search: 0,
            filled: 0,
            eof: false,
            offset,
            max_line: max_line.max(buffer),
        }
    }

    /// Opens `source` at `start` (which must be a line start).
    pub(crate) fn open(
        source: &dyn ByteSource,
        start: u64,
        buffer: usize,
        max_line: usize,
    ) -> io::Result<LineReader> {
        let src = source.open_range(start, source.len())?;
        Ok(LineReader::new(src, start, buffer, max_line))
    }

    /// Opens `source` at the first line start at or after `at`.
    pub(crate) fn open_at_line_after(
        source: &dyn ByteSource,
        at: u64,
        buffer: usize,
        max_line: usize,
    ) -> io::Result<LineReader> {
        if at == 0 {
            return LineReader::open(source, 0, buffer, max_line);
        }
        let mut r = LineReader::open(source, at - 1, buffer, max_line)?;
        // Drop the (partial) line that contains byte `at - 1`; if that byte
        // is `\n`, the dropped line is empty and the next starts at `at`.
        r.skip_line()?;
        Ok(r)
    }

    /// Skips to just after the next `\n` without keeping the line (any length).
    pub(crate) fn skip_line(&mut self) -> io::Result<()> {
        loop {
            if let Some(i) = memchr::memchr(
                b'\n',
                self.buf.get(self.search..self.filled).unwrap_or_default(),
            ) {
                self.pos = self.search + i + 1;
                self.search = self.pos;
                return Ok(());
            }
            self.pos = self.filled;
            self.search = self.filled;
            if self.eof {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// Absolute offset of the next unread byte.
    pub(crate) fn position(&self) -> u64 {
        self.offset + self.pos as u64
    }

    /// Skips whole buffered lines that `find` rules out, without splitting
    /// them: `find` gets the complete lines buffered from the current
    /// position and returns the offset of the first byte that may belong
    /// to a wanted line (`None`: no line there is wanted). Stops at the
    /// start of the line holding that byte, at the first line starting at
    /// or after `limit`, or when only an unterminated last line is left
    /// (which [`LineReader::next_line`] then returns as usual).
    pub(crate) fn skip_unwanted(
        &mut self,
        limit: u64,
        find: &mut dyn FnMut(&[u8], u64) -> Option<usize>,
    ) -> io::Result<()> {
        loop {
            if self.offset + self.pos as u64 >= limit {
                return Ok(());
            }
            let pending = self.buf.get(self.pos..self.filled).unwrap_or_default();
            let Some(last_nl) = memchr::memrchr(b'\n', pending) else {
                if self.eof {
                    return Ok(());
                }
                // Keep `search` past the bytes known to hold no `\n`.
                self.search = self.filled;
                self.fill()?;
                continue;
            };
            let region = pending.get(..=last_nl).unwrap_or_default();
            match find(region, self.offset + self.pos as u64) {
                Some(at) => {
                    let start = region
                        .get(..at.min(region.len()))
                        .and_then(|before| memchr::memrchr(b'\n', before))
                        .map_or(0, |i| i + 1);
                    self.pos += start;
                    self.search = self.pos;
                    return Ok(());
                }
                None => {
                    self.pos += last_nl + 1;
                    self.search = self.pos;
                }
            }
        }
    }

    /// The next line (without its `\n`) and its absolute start offset.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        loop {
            if let Some(i) = memchr::memchr(
                b'\n',
                self.buf.get(self.search..self.filled).unwrap_or_default(),
            ) {
                let start = self.pos;
                let nl = self.search + i;
                self.pos = nl + 1;
                self.search = self.pos;
                let line = self.buf.get(start..nl).unwrap_or_default();
                return Ok(Some((self.offset + start as u64, line)));
            }
            self.search = self.filled;
            if self.eof {
                if self.pos < self.filled {
                    let start = self.pos;
                    self.pos = self.filled;
                    self.search = self.filled;
                    let line = self.buf.get(start..self.filled).unwrap_or_default();
                    return Ok(Some((self.offset + start as u64, line)));
                }
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Reads more bytes, compacting or growing the buffer as needed.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.search -= self.pos;
            self.offset += self.pos as u64;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            if self.buf.len() >= self.max_line {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line longer than {} bytes", self.max_line),
                ));
            }
            let n = (self.buf.len() * 2).min(self.max_line);
            self.buf.resize(n, 0);
        }
        let n = loop {
            match self
                .src
                .read(self.buf.get_mut(self.filled..).unwrap_or_default())
            {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.eof = true;
        }
        self.filled += n;
        Ok(())
    }
}

/// Nominal partition boundaries: `n` near-equal byte ranges of
/// `[start, len)`, at most one per `min_bytes`.
pub(crate) fn split_points(start: u64, len: u64, wanted: usize, min_bytes: u64) -> Vec<u64> {
    let span = len.saturating_sub(start);
    let max_parts = (span / min_bytes.max(1)).max(1);
    let n = (wanted.max(1) as u64).min(max_parts);
    (0..=n).map(|i| start + span * i / n).collect()
}

/// Calls `f` on consecutive chunks of `[start, end)` of `source`.
pub(crate) fn for_each_chunk(
    source: &dyn ByteSource,
    start: u64,
    end: u64,
    buffer: usize,
    mut f: impl FnMut(&[u8]),
) -> io::Result<()> {
    let mut r = source.open_range(start, end)?;
    let mut buf = vec![0u8; buffer.max(64)];
    let mut left = end.saturating_sub(start);
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match r.read(buf.get_mut(..want).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        f(buf.get(..n).unwrap_or_default());
        left -= n as u64;
    }
    Ok(())
}

/// The 1-based line number of the byte at `offset` (counts `\n` before it).
pub(crate) fn line_number_at(
    source: &dyn ByteSource,
    offset: u64,
    buffer: usize,
) -> io::Result<u64> {
    let mut n = 1u64;
    for_each_chunk(source, 0, offset, buffer, |c| {
        n += memchr::memchr_iter(b'\n', c).count() as u64
    })?;
    Ok(n)
}
