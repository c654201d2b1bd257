//! Reading contacts: the one place that opens CSV input (a file or stdin), works out how it
//! is written (encoding, compression, delimiter, header), and turns every record into either
//! a contact or a rejected row with its place and reason.
//!
//! The parser is `csv_core`, driven directly, so that leadsort keeps what the `csv` crate
//! does not give: each record's raw bytes (for `rejected.csv`), its starting line, a limit on
//! a record's size that keeps memory bounded, and the recovery of the rows an unterminated
//! quote would otherwise swallow up to the end of the file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use csv_core::{ReadRecordResult, Reader as CsvParser, ReaderBuilder as CsvParserBuilder};

use crate::engine::{Header, Row};
use crate::error::{Error, Result};

/// Where contacts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// `None` or `-` means stdin.
    pub fn from_arg(arg: Option<&Path>) -> Source {
        match arg {
            None => Source::Stdin,
            Some(p) if p.as_os_str() == "-" => Source::Stdin,
            Some(p) => Source::File(p.to_path_buf()),
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::Stdin => None,
            Source::File(p) => Some(p),
        }
    }
}

/// The largest record read by default: 1 MiB is far beyond any real contact.
pub const DEFAULT_MAX_RECORD: usize = 1 << 20;

/// How to read the CSV.
#[derive(Debug, Clone)]
pub struct Options {
    /// Field delimiter; `None`: an Excel `sep=` line, else tab for `.tsv`, else sniffed from
    /// the header line (`,` `;` tab `|`).
    pub delimiter: Option<u8>,
    /// Text encoding; `None`: UTF-8, or UTF-16 when the file starts with its byte order mark.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// A record larger than this is rejected (and not held in memory).
    pub max_record: usize,
    /// Compute the SHA-256 of the input as read (for the run summary).
    pub hash: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            delimiter: None,
            encoding: None,
            max_record: DEFAULT_MAX_RECORD,
            hash: false,
        }
    }
}

/// A record that could not be read as a contact. It goes to `rejected`, never lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The record's number, counting from 1 after the header.
    pub record: u64,
    /// The line the record starts on, counting the header as line 1.
    pub line: u64,
    pub reason: String,
    /// The record as it was in the file, without its line break (at most the size limit).
    pub raw: Vec<u8>,
}

/// What `Input::next` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A contact, now in the caller's record.
    Contact {
        record: u64,
        line: u64,
    },
    Rejected,
}

/// One record's fields, as bytes; a contact's are valid UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    fields: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`'s bytes.
    pub fn field(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.fields[start..end])
    }

    /// Field `i` as text (`None` past the end or if it is not UTF-8).
    pub fn get(&self, i: usize) -> Option<&str> {
        self.field(i).and_then(|f| std::str::from_utf8(f).ok())
    }

    /// Every field's bytes, in order.
    pub fn fields(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.field(i))
    }

    /// A record from text fields (tests, and contacts that do not come from a file).
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = &'a str>) -> Record {
        let mut r = Record::default();
        for f in fields {
            r.fields.extend_from_slice(f.as_bytes());
            r.ends.push(r.fields.len());
        }
        r
    }

    /// The bytes of every field, end to end.
    fn used(&self) -> &[u8] {
        &self.fields[..self.ends.last().copied().unwrap_or(0)]
    }

    /// The first field boundary that splits a character, or the first field that is not
    /// UTF-8: `None` when every field is valid text.
    fn invalid_utf8_field(&self) -> Option<usize> {
        match std::str::from_utf8(self.used()) {
            Ok(all) => self.ends.iter().position(|&e| !all.is_char_boundary(e)),
            Err(e) => {
                let bad = e.valid_up_to();
                Some(self.ends.iter().position(|&end| end > bad).unwrap_or(0))
            }
        }
    }
}

impl Row for Record {
    fn cell(&self, col: usize) -> &str {
        self.get(col).unwrap_or("")
    }
}

/// How many bytes to read at a time.
const CHUNK: usize = 1 << 16;

/// More fields than this in one record is not a contact list.
const MAX_FIELDS: usize = 1 << 16;

/// An open CSV input with its header read.
pub struct Input {
    source: Box<dyn Read>,
    /// Bytes given back to be read again: the rows after an unterminated quote.
    replay: VecDeque<u8>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    parser: CsvParser,
    header: Header,
    name: String,
    delimiter: u8,
    max_record: usize,
    /// Records read after the header.
    records: u64,
    /// Line breaks consumed so far (the next record starts on `lines + 1`, give or take
    /// blank lines).
    lines: u64,
    /// The last byte consumed was a CR (a CRLF may be split across reads).
    after_cr: bool,
    /// The record being read.
    current: RawRecord,
    /// Columns where a line break means rows were merged (ids, emails).
    single_line: Vec<usize>,
    /// Bytes read from the source so far (for progress).
    pub bytes_read: u64,
    digest: Option<crate::guard::Digester>,
    /// The last rejected record, valid after `next` returned `Next::Rejected`.
    pub rejected: Option<Rejected>,
}

/// A record as parsed: fields, raw bytes, and what was odd about it.
#[derive(Debug, Default)]
struct RawRecord {
    record: Record,
    /// The bytes consumed for it, blank lines and line breaks before it included (up to the
    /// size limit).
    raw: Vec<u8>,
    /// Line breaks among the bytes consumed for it.
    lines: u64,
    quotes: u64,
    /// Bytes consumed for it, counted even past the size limit.
    size: usize,
    too_big: bool,
    /// It opened a quote that the file never closes (its first line only is kept).
    unterminated: bool,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

/// What a record read from the bytes ended as.
enum Parsed {
    Record,
    End,
}

impl Input {
    /// Open `source`, work out how it is written, and read its header.
    pub fn open(source: &Source, options: &Options) -> Result<Input> {
        let name = source.name();
        let raw: Box<dyn Read> = match source {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(path) => {
                let file = File::open(path).map_err(|e| Error::NoInput {
                    path: path.clone(),
                    source: e,
                })?;
                if file.metadata().is_ok_and(|m| m.is_dir()) {
                    return Err(Error::NoInput {
                        path: path.clone(),
                        source: io::Error::other("is a directory"),
                    });
                }
                Box::new(file)
            }
        };
        let tsv = source
            .path()
            .and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab"));
        let options = Options {
            delimiter: options.delimiter.or(tsv.then_some(b'\t')),
            ..options.clone()
        };
        Input::from_reader(raw, name, &options)
    }

    /// Read contacts from any reader; `name` is used in messages.
    pub fn from_reader(raw: Box<dyn Read>, name: String, options: &Options) -> Result<Input> {
        let (raw, digest): (Box<dyn Read>, _) = if options.hash {
            let (hashing, digest) = crate::guard::Hashing::new(raw);
            (Box::new(hashing), Some(digest))
        } else {
            (raw, None)
        };
        let (reader, first) = decoded(raw, &name, options)?;
        let mut input = Input {
            source: reader,
            replay: first.into(),
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            parser: CsvParser::new(),
            header: Header::new(Vec::new()),
            name,
            delimiter: b',',
            max_record: options.max_record.max(1),
            records: 0,
            lines: 0,
            after_cr: false,
            current: RawRecord::default(),
            single_line: Vec::new(),
            bytes_read: 0,
            digest,
            rejected: None,
        };
        input.fill()?;
        let excel_sep = input.excel_sep_line();
        input.delimiter = match (options.delimiter, excel_sep) {
            (Some(d), _) | (None, Some(d)) => d,
            (None, None) => sniff(&input.buf[input.pos..input.len]),
        };
        input.parser = CsvParserBuilder::new().delimiter(input.delimiter).build();
        input.read_header()?;
        Ok(input)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The SHA-256 of the input's bytes (as stored: before decompression or decoding), once
    /// read to the end; `None` unless asked for in `Options::hash`.
    pub fn sha256(&self) -> Option<String> {
        self.digest.as_ref().map(crate::guard::Digester::hex)
    }

    /// Records read so far (contacts and rejected).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Reject records with a line break in these columns: in an id or an email it means an
    /// unbalanced quote has merged rows.
    pub fn single_line_columns(&mut self, columns: Vec<usize>) {
        self.single_line = columns;
    }

    fn read_header(&mut self) -> Result<()> {
        match self.parse()? {
            Parsed::End => {
                return Err(Error::Data(format!(
                    "{} is empty: expected a header line with column names",
                    self.name
                )));
            }
            Parsed::Record => {}
        }
        self.lines += self.current.lines;
        let rec = &self.current.record;
        if self.current.too_big {
            return Err(Error::Data(format!(
                "{}: the header is larger than {} bytes: is this a CSV file?",
                self.name, self.max_record
            )));
        }
        if let Some(col) = rec.invalid_utf8_field() {
            return Err(Error::Data(format!(
                "{}: the header (line 1, column {}) is not valid UTF-8\n\
                 if the file comes from an older Excel, pass --encoding windows-1252; else export it as \"CSV UTF-8\"",
                self.name,
                col + 1
            )));
        }
        let names: Vec<String> = (0..rec.len())
            .map(|i| rec.get(i).unwrap_or("").to_string())
            .collect();
        self.header = Header::new(names);
        Ok(())
    }

    /// Read the next record into `contact`. `Ok(None)` at the end of the input.
    pub fn next(&mut self, contact: &mut Record) -> Result<Option<Next>> {
        if let Parsed::End = self.parse()? {
            return Ok(None);
        }
        self.records += 1;
        let record = self.records;
        let line = self.lines + 1 + self.leading_lines();
        self.lines += self.current.lines;
        if let Some(reason) = self.problem() {
            let raw = trim_line_breaks(&self.current.raw).to_vec();
            self.rejected = Some(Rejected {
                record,
                line,
                reason,
                raw,
            });
            return Ok(Some(Next::Rejected));
        }
        std::mem::swap(contact, &mut self.current.record);
        Ok(Some(Next::Contact { record, line }))
    }

    /// Line breaks before the record's first byte (blank lines, a CRLF's LF).
    fn leading_lines(&self) -> u64 {
        let raw = &self.current.raw;
        let content = raw
            .iter()
            .position(|b| *b != b'\n' && *b != b'\r')
            .unwrap_or(raw.len());
        count_line_breaks(&raw[..content], false)
    }

    /// Why the record just parsed cannot be a contact, if it cannot.
    fn problem(&mut self) -> Option<String> {
        let r = &self.current;
        if r.unterminated {
            return Some(
                "a quote opened on this line is never closed: the line is set aside and the lines \
                 after it are read as rows again"
                    .to_string(),
            );
        }
        if r.too_big {
            return Some(format!(
                "record larger than {} bytes (--max-record-size): an unterminated quote? \
                 (raw row cut at the limit)",
                self.max_record
            ));
        }
        let expected = self.header.len();
        let found = r.record.len();
        if found != expected {
            let mut reason = format!("expected {expected} fields, found {found}");
            let spanned = count_line_breaks(trim_line_breaks(&r.raw), false);
            if spanned > 0 {
                reason.push_str(&format!(
                    "; the record spans {} lines: a stray quote may have merged rows",
                    spanned + 1
                ));
            }
            return Some(reason);
        }
        if let Some(col) = r.record.invalid_utf8_field() {
            let name = self.header.names.get(col).map_or("?", String::as_str);
            return Some(format!(
                "column {} ({name}) is not valid UTF-8: if the file comes from an older Excel, \
                 pass --encoding windows-1252",
                col + 1
            ));
        }
        if let Some(col) = self
            .single_line
            .iter()
            .find(|&&c| r.record.field(c).is_some_and(|f| f.contains(&b'\n')))
        {
            let name = self.header.names.get(*col).map_or("?", String::as_str);
            return Some(format!(
                "column {} ({name}) holds a line break: a stray quote may have merged rows",
                col + 1
            ));
        }
        if r.record.used().contains(&0) {
            return Some("contains a NUL byte".to_string());
        }
        None
    }

    /// Parse one record into `self.current`.
    fn parse(&mut self) -> Result<Parsed> {
        let cur = &mut self.current;
        cur.raw.clear();
        cur.lines = 0;
        cur.quotes = 0;
        cur.size = 0;
        cur.too_big = false;
        cur.unterminated = false;
        if cur.record.fields.len() < 256 {
            cur.record.fields.resize(256, 0);
        }
        if cur.record.ends.len() < 32 {
            cur.record.ends.resize(32, 0);
        }
        let (mut out, mut nends) = (0usize, 0usize);
        loop {
            if self.pos == self.len && !self.eof {
                self.fill()?;
            }
            let input = &self.buf[self.pos..self.len];
            let cur = &mut self.current;
            let (result, nin, nout, nend) = self.parser.read_record(
                input,
                &mut cur.record.fields[out..],
                &mut cur.record.ends[nends..],
            );
            let consumed = &input[..nin];
            cur.size += nin;
            if !cur.too_big {
                cur.raw.extend_from_slice(
                    &consumed[..nin.min(self.max_record.saturating_sub(cur.raw.len()))],
                );
            }
            cur.lines += count_line_breaks(consumed, self.after_cr);
            if let Some(last) = consumed.last() {
                self.after_cr = *last == b'\r';
            }
            cur.quotes += memchr::memchr_iter(b'"', consumed).count() as u64;
            self.pos += nin;
            out += nout;
            nends += nend;
            match result {
                ReadRecordResult::InputEmpty => {
                    if self.eof && self.pos == self.len {
                        // csv_core wants one call with empty input to finish the last record.
                        continue;
                    }
                }
                ReadRecordResult::OutputFull => {
                    let fields = &mut self.current.record.fields;
                    if fields.len() >= self.max_record {
                        // Too big: keep parsing to the record's end, keeping nothing more.
                        self.current.too_big = true;
                        out = 0;
                        nends = 0;
                    } else {
                        let grown = (fields.len() * 2).min(self.max_record);
                        fields.resize(grown, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    let ends = &mut self.current.record.ends;
                    if ends.len() >= MAX_FIELDS {
                        self.current.too_big = true;
                        nends = 0;
                    } else {
                        let grown = ends.len() * 2;
                        ends.resize(grown, 0);
                    }
                }
                ReadRecordResult::Record => {
                    let cur = &mut self.current;
                    cur.too_big |= cur.size > self.max_record;
                    cur.record.ends.truncate(nends);
                    // `fields` keeps its length as scratch space; `ends` says what is used.
                    if self.eof && self.pos == self.len && cur.quotes % 2 == 1 && !cur.too_big {
                        self.recover_unterminated_quote();
                    }
                    return Ok(Parsed::Record);
                }
                ReadRecordResult::End => return Ok(Parsed::End),
            }
        }
    }

    /// The record just parsed ends inside a quote at the end of the input: its quote was
    /// never closed, and the parser took every following line into one field. Keep its first
    /// line as the record (it will be rejected: too few fields) and read the rest again.
    fn recover_unterminated_quote(&mut self) {
        let cur = &mut self.current;
        let start = cur
            .raw
            .iter()
            .position(|b| *b != b'\n' && *b != b'\r')
            .unwrap_or(0);
        let Some(nl) = cur.raw[start..]
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
        else {
            return;
        };
        let cut = start + nl;
        let rest = cur.raw.split_off(cut);
        // The rejected row is the unclosed line alone: one field per delimiter, so it never
        // passes for a contact.
        cur.record.ends.truncate(1);
        cur.record.fields.truncate(0);
        cur.record.ends[0] = 0;
        cur.lines = count_line_breaks(&cur.raw, false);
        cur.unterminated = true;
        self.replay.extend(rest);
        self.eof = false;
        self.after_cr = false;
        self.parser.reset();
    }

    /// Read more bytes into the buffer: replayed bytes first, then the source.
    fn fill(&mut self) -> Result<()> {
        self.pos = 0;
        self.len = 0;
        if !self.replay.is_empty() {
            let n = self.replay.len().min(self.buf.len());
            for (slot, byte) in self.buf.iter_mut().zip(self.replay.drain(..n)) {
                *slot = byte;
            }
            self.len = n;
            return Ok(());
        }
        loop {
            match self.source.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len = n;
                    self.bytes_read += n as u64;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(format!("cannot read {}", self.name), e)),
            }
        }
    }

    /// Excel's `sep=;` first line: the delimiter, and the line is skipped.
    fn excel_sep_line(&mut self) -> Option<u8> {
        let head = &self.buf[self.pos..self.len];
        let line_end = head.iter().position(|b| *b == b'\n' || *b == b'\r')?;
        let line = &head[..line_end];
        if line.len() == 5 && line[..4].eq_ignore_ascii_case(b"sep=") {
            let d = line[4];
            let mut skip = line_end + 1;
            if head[line_end] == b'\r' && head.get(skip) == Some(&b'\n') {
                skip += 1;
            }
            self.pos += skip;
            self.lines += 1;
            return Some(d);
        }
        None
    }
}

/// Open the decoding layers: gzip, then the text encoding. Returns the reader and the bytes
/// already read from it (to be parsed first). Refuses what is not text.
fn decoded(
    mut raw: Box<dyn Read>,
    name: &str,
    options: &Options,
) -> Result<(Box<dyn Read>, Vec<u8>)> {
    let mut head = peek(&mut raw, name, 8192)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(io::Cursor::new(head).chain(raw));
        raw = Box::new(gz);
        head = peek(&mut raw, name, 8192)?;
    }
    if head.starts_with(b"PK\x03\x04") {
        return Err(Error::Data(format!(
            "{name} looks like an Excel workbook (XLSX) or a ZIP file, not CSV: in Excel, use \
             File > Save As > \"CSV UTF-8\""
        )));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(Error::Data(format!(
            "{name} looks like an old Excel file (.xls), not CSV: in Excel, use File > Save As > \"CSV UTF-8\""
        )));
    }
    let utf16_bom = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    let encoding = options.encoding.filter(|e| *e != encoding_rs::UTF_8);
    if encoding.is_none() && !utf16_bom {
        if let Some(at) = head.iter().position(|b| *b == 0) {
            let hint = if head.iter().filter(|b| **b == 0).count() * 4 >= head.len() {
                "it looks like UTF-16 without a byte order mark: pass --encoding utf-16le (or utf-16be)"
            } else {
                "is it a binary file? export the contacts as CSV"
            };
            return Err(Error::Data(format!(
                "{name} contains NUL bytes (at byte {at}): {hint}"
            )));
        }
        let rest = if head.starts_with(b"\xEF\xBB\xBF") {
            head.split_off(3)
        } else {
            head
        };
        return Ok((raw, rest));
    }
    // Decode to UTF-8: a UTF-16 byte order mark decides, else the encoding asked for.
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_override(true)
        .strip_bom(true)
        .build(io::Cursor::new(head).chain(raw));
    Ok((Box::new(decoder), Vec::new()))
}

/// Read up to `n` bytes without losing them (they are returned, the reader continues after).
fn peek(r: &mut Box<dyn Read>, name: &str, n: usize) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.by_ref()
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    Ok(head)
}

/// The delimiter of the header line: the most frequent of `,` `;` tab `|` outside quotes
/// (`,` when none appears, or on a tie).
pub fn sniff(bytes: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in bytes {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], usize::from(i == 0)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        CANDIDATES[best]
    }
}

/// Line breaks in `bytes`: LF, CRLF and a lone CR each count once. `after_cr`: the byte before
/// `bytes` was a CR (so a leading LF completes a CRLF already counted).
fn count_line_breaks(bytes: &[u8], after_cr: bool) -> u64 {
    let mut n = 0;
    let mut prev_cr = after_cr;
    for &b in bytes {
        match b {
            b'\n' if !prev_cr => n += 1,
            b'\r' => n += 1,
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    n
}

fn trim_line_breaks(raw: &[u8]) -> &[u8] {
    let is_break = |b: &u8| *b == b'\n' || *b == b'\r';
    let start = raw.iter().position(|b| !is_break(b)).unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|b| !is_break(b))
        .map_or(start, |e| e + 1);
    &raw[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"a,b,c\n1;2"), b',');
        assert_eq!(sniff(b"a;b;c\n"), b';');
        assert_eq!(sniff(b"\"a,b\";c;d\n"), b';');
        assert_eq!(sniff(b"a\tb\n"), b'\t');
        assert_eq!(sniff(b"a|b|c"), b'|');
        assert_eq!(sniff(b"single\n"), b',');
        assert_eq!(sniff(b"a,b;c\n"), b',');
    }

    #[test]
    fn line_breaks() {
        assert_eq!(count_line_breaks(b"a\nb\r\nc\rd", false), 3);
        assert_eq!(count_line_breaks(b"\nx", true), 0);
        assert_eq!(count_line_breaks(b"", false), 0);
    }

    #[test]
    fn records_split_characters_only_when_invalid() {
        let record = |fields: &[u8], ends: &[usize]| Record {
            fields: fields.to_vec(),
            ends: ends.to_vec(),
        };
        let r = record(&[0xC3, 0xA9, b'x'], &[1, 3]);
        assert_eq!(r.invalid_utf8_field(), Some(0), "é split across two fields");
        let r = record(&[0xC3, 0xA9, b'x'], &[2, 3]);
        assert_eq!(r.invalid_utf8_field(), None);
        assert_eq!(r.get(0), Some("é"));
        let r = record(&[b'a', 0xE9, b'b'], &[1, 3]);
        assert_eq!(r.invalid_utf8_field(), Some(1), "Latin-1 é in the second field");
    }

}
