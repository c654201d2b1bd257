//! Reading contacts: the one place that opens CSV input (a file or stdin), works out how it
//! is written (encoding, compression, delimiter, header), and turns every record into either
//! a contact or a rejected row with its place and reason. A workbook (XLSX, XLS, ODS) is
//! converted to CSV first (`workbook`), then read the same way.
//!
//! The parser is `csv_core`, driven directly, so that leadsort keeps what the `csv` crate
//! does not give: each record's raw bytes (for `rejected.csv`), its starting line, a limit on
//! a record's size that keeps memory bounded, and the recovery of the rows an unterminated
//! quote would otherwise swallow up to the end of the file.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub mod parse;
mod scan;
pub mod workbook;

pub use parse::Fields;
use parse::{RecordParser, RecordView, Replay, Step};

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
    /// the header line (`,` `;` tab `|`). Not used for a workbook.
    pub delimiter: Option<u8>,
    /// Text encoding; `None`: UTF-8, or UTF-16 when the file starts with its byte order mark.
    /// Not used for a workbook.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// A record larger than this is rejected (and not held in memory).
    pub max_record: usize,
    /// Compute the SHA-256 of the input as read (for the run summary).
    pub hash: bool,
    /// Rows above the header to skip (a title, notes), blank ones not counted.
    pub skip_rows: usize,
    /// The sheet to read when the input is a workbook; `None`: its first worksheet. Given
    /// for an input that is not a workbook, it is a usage error.
    pub sheet: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            delimiter: None,
            encoding: None,
            max_record: DEFAULT_MAX_RECORD,
            hash: false,
            skip_rows: 0,
            sheet: None,
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
    /// The fields are slices of this (see `parse::Fields`).
    text: Vec<u8>,
    starts: Vec<usize>,
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
        self.as_fields().get(i)
    }

    /// Field `i` as text (`None` past the end or if it is not UTF-8).
    pub fn get(&self, i: usize) -> Option<&str> {
        self.field(i).and_then(|f| std::str::from_utf8(f).ok())
    }

    /// Every field's bytes, in order.
    pub fn fields(&self) -> impl Iterator<Item = &[u8]> {
        self.as_fields().iter()
    }

    fn as_fields(&self) -> Fields<'_> {
        Fields {
            text: &self.text,
            starts: &self.starts,
            ends: &self.ends,
        }
    }

    /// The cells for an encoder (no raw row: the fields are encoded).
    pub fn cells(&self) -> crate::output::Cells<'_> {
        crate::output::Cells {
            fields: self.as_fields(),
            raw: None,
            well_quoted: false,
        }
    }

    /// Take a parsed record's fields.
    fn copy_from(&mut self, fields: Fields<'_>) {
        self.text.clear();
        self.text.extend_from_slice(fields.text);
        self.starts.clear();
        self.starts.extend_from_slice(fields.starts);
        self.ends.clear();
        self.ends.extend_from_slice(fields.ends);
    }

    /// A record from text fields (tests, and contacts that do not come from a file).
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = &'a str>) -> Record {
        let mut r = Record::default();
        for f in fields {
            r.starts.push(r.text.len());
            r.text.extend_from_slice(f.as_bytes());
            r.ends.push(r.text.len());
        }
        r
    }
}

impl Row for Record {
    fn cell(&self, col: usize) -> &str {
        self.get(col).unwrap_or("")
    }
}

/// How many bytes to read at a time.
const CHUNK: usize = 1 << 16;

/// An open CSV input with its header read, giving one record at a time. (`classify` reads
/// through `crate::pipeline` instead, in parallel chunks, with the same parser and checks.)
pub struct Input {
    source: Box<dyn Read + Send>,
    chunk: Vec<u8>,
    pos: usize,
    eof: bool,
    parser: RecordParser,
    header: Header,
    name: String,
    delimiter: u8,
    max_record: usize,
    /// Lines before the parser's first byte (an Excel `sep=` line).
    line_offset: u64,
    /// Records read after the header.
    records: u64,
    /// Columns where a line break means an unbalanced quote merged rows (ids, emails).
    single_line: Vec<usize>,
    /// Bytes read from the source so far (for progress).
    pub bytes_read: u64,
    /// The text is the input's bytes as stored (see `Decoded::as_stored`).
    as_stored: bool,
    /// The size of the file, when the input is a regular file.
    file_size: Option<u64>,
    /// A regular file as it was when opened (see `Stamp::changed`).
    stamp: Option<Stamp>,
    digest: Option<crate::guard::Digester>,
    raw_buf: Vec<u8>,
    /// The last rejected record, valid after `next` returned `Next::Rejected`.
    pub rejected: Option<Rejected>,
    /// Record and line of the first row rejected for not being UTF-8 (see `not_utf8`).
    pub first_not_utf8: Option<(u64, u64)>,
    /// Rows rejected so far that were meant as contacts (not a header repeated).
    pub unreadable_rows: u64,
    /// Contacts that look like a spreadsheet's totals row, and the first's record and line.
    pub totals_rows: u64,
    pub first_totals_row: Option<(u64, u64)>,
    /// The input is a workbook: its numbers are written by leadsort, with a decimal point,
    /// whatever a field's `decimal` says.
    pub workbook: bool,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

/// What is left of an `Input` once its header is read, for readers that take over (the
/// parallel pipeline): the stream and the bytes already read from it but not parsed.
pub struct Stream {
    /// The input's name, for messages.
    pub name: String,
    pub source: Box<dyn Read + Send>,
    pub unparsed: Vec<u8>,
    pub eof: bool,
    /// The byte before `unparsed` was a CR (the header ended in CRLF, its LF still unread).
    pub after_cr: bool,
    /// Line breaks consumed before `unparsed`.
    pub lines: u64,
    pub bytes_read: u64,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// Open `source`, work out how it is written, and read its header.
    pub fn open(source: &Source, options: &Options) -> Result<Input> {
        let name = source.name();
        let (mut file_size, mut stamp) = (None, None);
        let raw: Box<dyn Read + Send> = match source {
            Source::Stdin => Box::new(io::stdin()),
            Source::File(path) => {
                let file = File::open(path).map_err(|e| Error::NoInput {
                    path: path.clone(),
                    source: e,
                })?;
                let metadata = file.metadata();
                if metadata.as_ref().is_ok_and(|m| m.is_dir()) {
                    return Err(Error::NoInput {
                        path: path.clone(),
                        source: io::Error::other("is a directory"),
                    });
                }
                let regular = metadata.ok().filter(|m| m.is_file());
                file_size = regular.as_ref().map(|m| m.len());
                stamp = regular.as_ref().and_then(|m| Stamp::of(&file, m));
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
        let mut input = Input::from_reader(raw, name, &options)?;
        input.file_size = file_size;
        input.stamp = stamp;
        Ok(input)
    }

    /// The input file as it was when opened, to be compared once it is read (`None`: not a
    /// regular file).
    pub fn stamp(&self) -> Option<Stamp> {
        self.stamp.clone()
    }

    /// Whether the text left to read is known to be at most `limit` bytes: it is all in
    /// memory already, or the input is a regular file of at most that size read as stored.
    pub fn at_most(&self, limit: u64) -> bool {
        self.eof || (self.as_stored && self.file_size.is_some_and(|size| size <= limit))
    }

    /// Read contacts from any reader; `name` is used in messages.
    pub fn from_reader(
        raw: Box<dyn Read + Send>,
        name: String,
        options: &Options,
    ) -> Result<Input> {
        let (raw, digest): (Box<dyn Read + Send>, _) = if options.hash {
            let (hashing, digest) = crate::guard::Hashing::new(raw);
            (Box::new(hashing), Some(digest))
        } else {
            (raw, None)
        };
        let Decoded {
            source,
            first,
            workbook,
            as_stored,
        } = decoded(raw, &name, options)?;
        if options.sheet.is_some() && !workbook {
            return Err(Error::Usage(format!(
                "--sheet: {name} is not a workbook (XLSX, XLSM, XLSB, XLS or ODS): a CSV file \
                 has no sheets"
            )));
        }
        let mut input = Input {
            source,
            chunk: first,
            pos: 0,
            eof: false,
            parser: RecordParser::new(b',', options.max_record),
            header: Header::new(Vec::new()),
            name,
            delimiter: b',',
            max_record: options.max_record.max(1),
            line_offset: 0,
            records: 0,
            single_line: Vec::new(),
            bytes_read: 0,
            as_stored,
            file_size: None,
            stamp: None,
            digest,
            raw_buf: Vec::new(),
            rejected: None,
            first_not_utf8: None,
            totals_rows: 0,
            first_totals_row: None,
            unreadable_rows: 0,
            workbook,
        };
        if input.chunk.is_empty() {
            input.refill()?;
        }
        input.delimiter = if workbook {
            // Written by `workbook::to_csv`: commas, whatever `-d` says, and no `sep=` line.
            input.skip_rows(options.skip_rows)?;
            b','
        } else {
            let excel_sep = input.excel_sep_line();
            input.skip_rows(options.skip_rows)?;
            match (options.delimiter, excel_sep) {
                (Some(d), _) | (None, Some(d)) => d,
                (None, None) => sniff(&input.chunk[input.pos..]),
            }
        };
        input.parser = RecordParser::new(input.delimiter, input.max_record);
        input.read_header()?;
        let parser = std::mem::replace(&mut input.parser, RecordParser::new(b',', 1));
        input.parser = parser.expect_fields(input.header.len());
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

    pub fn max_record(&self) -> usize {
        self.max_record
    }

    /// The SHA-256 of the input's bytes (as stored: before decompression or decoding), once
    /// read to the end; `None` unless asked for in `Options::hash`.
    pub fn sha256(&self) -> Option<String> {
        self.digest.as_ref().map(crate::guard::Digester::hex)
    }

    /// A handle on the digest, for readers that take the stream over.
    pub fn digester(&self) -> Option<crate::guard::Digester> {
        self.digest.clone()
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

    pub fn single_line(&self) -> &[usize] {
        &self.single_line
    }

    /// Hand the rest of the input over (after the header) to another reader.
    pub fn into_stream(self) -> Stream {
        Stream {
            name: self.name,
            source: self.source,
            unparsed: self.chunk[self.pos..].to_vec(),
            eof: self.eof,
            after_cr: self.parser.after_cr(),
            lines: self.line_offset + self.parser.lines(),
            bytes_read: self.bytes_read,
        }
    }

    fn read_header(&mut self) -> Result<()> {
        let (names, too_big, bad) = loop {
            match self.parser.next(&self.chunk, &mut self.pos, self.eof) {
                // Separators only (`,,,,`, an empty first row of a spreadsheet): a blank line.
                Step::Record(view) if view.is_blank() => {}
                Step::Record(view) => {
                    let names: Vec<String> = (0..view.len())
                        .map(|i| {
                            String::from_utf8_lossy(view.field(i).unwrap_or_default()).into_owned()
                        })
                        .collect();
                    break (names, view.too_big, utf8_fields(view.fields()).err());
                }
                Step::NeedMore => {
                    let chunk = std::mem::take(&mut self.chunk);
                    self.refill_into(chunk)?;
                }
                Step::End => {
                    return Err(Error::Data(format!(
                        "{} is empty: expected a header line with column names",
                        self.name
                    )));
                }
            }
        };
        if too_big {
            return Err(Error::Data(format!(
                "{}: the header is larger than {} bytes: is this a CSV file?",
                self.name, self.max_record
            )));
        }
        if let Some(col) = bad {
            return Err(Error::Data(format!(
                "{}: the header (line {}, column {}) is not valid UTF-8\n\
                 if the file comes from an older Excel, pass --encoding windows-1252; else export it as \"CSV UTF-8\"",
                self.name,
                self.line_offset + 1,
                col + 1
            )));
        }
        self.header = Header::new(names);
        self.header.decimal_point = self.workbook;
        Ok(())
    }

    /// Read the next record into `contact`. `Ok(None)` at the end of the input.
    pub fn next(&mut self, contact: &mut Record) -> Result<Option<Next>> {
        loop {
            match self.parser.next(&self.chunk, &mut self.pos, self.eof) {
                Step::Record(view) if view.is_blank() => {}
                Step::Record(view) => {
                    self.records += 1;
                    let record = self.records;
                    let line = self.line_offset + view.line;
                    if view.unrecoverable {
                        return Err(unrecoverable(record, line, self.max_record));
                    }
                    if let Err(reason) = checked_text(
                        &view,
                        &self.header,
                        &self.single_line,
                        (self.max_record, self.delimiter),
                        "",
                    ) {
                        let raw = view.raw(&mut self.raw_buf).to_vec();
                        if not_utf8(&reason) {
                            self.first_not_utf8.get_or_insert((record, line));
                        }
                        if reason != HEADER_AGAIN {
                            self.unreadable_rows += 1;
                        }
                        self.rejected = Some(Rejected {
                            record,
                            line,
                            reason,
                            raw,
                        });
                        self.replay_if_split();
                        return Ok(Some(Next::Rejected));
                    }
                    if looks_like_totals(view.fields()) {
                        self.totals_rows += 1;
                        self.first_totals_row.get_or_insert((record, line));
                    }
                    contact.copy_from(view.fields());
                    return Ok(Some(Next::Contact { record, line }));
                }
                Step::NeedMore => {
                    let chunk = std::mem::take(&mut self.chunk);
                    self.refill_into(chunk)?;
                }
                Step::End => return Ok(None),
            }
        }
    }

    /// After a quote that never closes or runs over rows, the lines after its first are read
    /// again, before the rest of the chunk.
    fn replay_if_split(&mut self) {
        match self.parser.take_replay() {
            Some(Replay::At(at)) => self.pos = at,
            Some(Replay::Bytes(mut replay)) => {
                replay.extend_from_slice(&self.chunk[self.pos..]);
                self.chunk = replay;
                self.pos = 0;
            }
            None => {}
        }
    }

    fn refill(&mut self) -> Result<()> {
        let chunk = std::mem::take(&mut self.chunk);
        self.refill_into(chunk)
    }

    /// Read the next chunk from the source, reusing `buf`.
    fn refill_into(&mut self, mut buf: Vec<u8>) -> Result<()> {
        buf.clear();
        buf.resize(CHUNK, 0);
        let n = loop {
            match self.source.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(&self.name, e)),
            }
        };
        buf.truncate(n);
        self.bytes_read += n as u64;
        self.eof = n == 0;
        self.chunk = buf;
        self.pos = 0;
        Ok(())
    }

    /// Skip `rows` rows above the header (a title, notes: `--skip-rows`), counting their lines
    /// in line numbers. Blank rows do not count, nor rows of separators only (`,,,,`, an
    /// empty spreadsheet row); a line break inside quotes (a title cell of two lines) does not
    /// end a row. The header's line is then read whole into the chunk (up to the size limit),
    /// for the delimiter to be sniffed from it.
    fn skip_rows(&mut self, rows: usize) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let (mut left, mut quoted, mut filled, mut after_cr) = (rows, false, false, false);
        // A quote opens a quoted cell only at a cell's start (after a separator or a line
        // break); elsewhere (`27" monitors`) it is text, as the parser reads it.
        let (mut cell_start, mut closed) = (true, false);
        while left > 0 || after_cr {
            if self.pos >= self.chunk.len() {
                if self.eof {
                    break;
                }
                self.refill()?;
                continue;
            }
            let b = self.chunk[self.pos];
            if std::mem::take(&mut after_cr) {
                // The LF of a CRLF is one line break with its CR; any other byte is the next
                // row's (a bare CR ended the line), and is read by what comes next.
                self.pos += usize::from(b == b'\n');
                continue;
            }
            self.pos += 1;
            let was_start = std::mem::replace(&mut cell_start, false);
            let was_closed = std::mem::replace(&mut closed, false);
            match b {
                // A quoted cell ends at a quote, unless a second follows (`""`, one quote).
                b'"' if quoted => (quoted, closed) = (false, true),
                b'"' if was_start || was_closed => (quoted, filled) = (true, true),
                b'\n' | b'\r' => {
                    self.line_offset += 1;
                    if !quoted {
                        after_cr = b == b'\r';
                        cell_start = true;
                        if std::mem::take(&mut filled) {
                            left -= 1;
                        }
                    }
                }
                b',' | b';' | b'\t' | b'|' if !quoted => cell_start = true,
                b' ' => cell_start = was_start,
                b',' | b';' | b'\t' | b'|' => {}
                _ => filled = true,
            }
        }
        if left > 0 {
            let skipped = rows - left + usize::from(filled);
            return Err(Error::Data(format!(
                "{}: --skip-rows {rows} skips past the end of the file ({} before it)",
                self.name,
                crate::ui::plural(skipped as u64, "row")
            )));
        }
        // The rest of the chunk, with the header's line whole if it is not yet (a header
        // longer than the size limit is refused when it is read).
        let mut rest = self.chunk.split_off(self.pos);
        let mut searched = 0;
        while !self.eof && rest.len() <= self.max_record {
            if rest[searched..].iter().any(|b| *b == b'\n' || *b == b'\r') {
                break;
            }
            searched = rest.len();
            let have = rest.len();
            rest.resize(have + CHUNK, 0);
            let n = loop {
                match self.source.read(&mut rest[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(read_error(&self.name, e)),
                }
            };
            rest.truncate(have + n);
            self.bytes_read += n as u64;
            self.eof = n == 0;
        }
        // A byte order mark before the header (a title glued above an export) is no part of
        // the first column's name.
        if rest.starts_with(b"\xEF\xBB\xBF") {
            rest.drain(..3);
        }
        self.chunk = rest;
        self.pos = 0;
        Ok(())
    }

    /// Excel's `sep=;` first line: the delimiter, and the line is skipped.
    fn excel_sep_line(&mut self) -> Option<u8> {
        let head = &self.chunk[self.pos..];
        let line_end = head.iter().position(|b| *b == b'\n' || *b == b'\r')?;
        let line = &head[..line_end];
        if line.len() == 5 && line[..4].eq_ignore_ascii_case(b"sep=") {
            let d = line[4];
            let mut skip = line_end + 1;
            if head[line_end] == b'\r' && head.get(skip) == Some(&b'\n') {
                skip += 1;
            }
            self.pos += skip;
            self.line_offset += 1;
            return Some(d);
        }
        None
    }
}

/// A regular file as it was when opened: its size and modification time, and the open file
/// itself, to look at it again once read.
#[derive(Debug, Clone)]
pub struct Stamp {
    size: u64,
    modified: Option<std::time::SystemTime>,
    file: std::sync::Arc<File>,
}

impl Stamp {
    fn of(file: &File, m: &std::fs::Metadata) -> Option<Stamp> {
        Some(Stamp {
            size: m.len(),
            modified: m.modified().ok(),
            file: std::sync::Arc::new(file.try_clone().ok()?),
        })
    }

    /// A warning if the file read is no longer as it was when opened: an export still being
    /// written while it was read, so the run scored part of it. The open file is looked at,
    /// not the name: an export renamed over the name meanwhile leaves the file read whole.
    pub fn changed(&self, name: &str) -> Option<String> {
        let now = self.file.metadata().ok()?;
        let how = if now.len() != self.size {
            format!("went from {} to {} bytes", self.size, now.len())
        } else if now.modified().ok() != self.modified {
            "was written to".to_string()
        } else {
            return None;
        };
        Some(format!(
            "{name} changed while it was read (it {how}): the run scored what it read, which \
             may be part of an export still being written; run again once the export is done"
        ))
    }
}

/// A parsed record's text, checked to be a contact's (the fields are slices of it, each on
/// character boundaries), or why it cannot be one.
///
/// `known`: the chunk the record was parsed from, as far as it is known to be text without a
/// NUL (`known_text`); a record read in place within it needs no more checking.
pub fn checked_text<'a>(
    view: &RecordView<'a>,
    header: &Header,
    single_line: &[usize],
    (max_record, delimiter): (usize, u8),
    known: &'a str,
) -> std::result::Result<&'a str, String> {
    if view.merged {
        return Err(
            "a quote opened on this line runs over the next rows (a line inside it holds a whole \
             row): the line is set aside and the lines after it are read as rows again"
                .to_string(),
        );
    }
    if view.unterminated {
        return Err(
            "a quote opened on this line is never closed: the line is set aside and the lines \
             after it are read as rows again"
                .to_string(),
        );
    }
    if view.too_big {
        return Err(format!(
            "record larger than {max_record} bytes (--max-record-size): an unterminated quote? \
             (raw row cut at the limit)"
        ));
    }
    // A row by the book (known from the fast path) needs no look at its quotes.
    if !view.well_quoted {
        let mut buf = Vec::new();
        let raw = view.raw(&mut buf);
        if memchr::memchr(b'"', raw).is_some() && parse::text_after_closing_quote(raw, delimiter) {
            return Err(
                "text after a closing quote (like `\"1\"5`): the cell's value is \
                        unclear; quote the whole cell, doubling the quotes inside"
                    .to_string(),
            );
        }
    }
    let expected = header.len();
    let found = view.len();
    if found != expected {
        let noun = if expected == 1 { "field" } else { "fields" };
        let mut reason = format!("expected {expected} {noun}, found {found}");
        if view.inner_lines > 0 {
            reason.push_str(&format!(
                "; the record spans {} lines: a stray quote may have merged rows",
                view.inner_lines + 1
            ));
        }
        return Err(reason);
    }
    let in_known = view.in_chunk.and_then(|(start, end)| known.get(start..end));
    let text = match in_known.map_or_else(|| utf8_fields(view.fields()), Ok) {
        Ok(text) => text,
        Err(col) => {
            let name = header.names.get(col).map_or("?", String::as_str);
            return Err(format!(
                "column {} ({name}) {NOT_UTF8}: if the file comes from an older Excel, \
                 pass --encoding windows-1252",
                col + 1
            ));
        }
    };
    if view.inner_lines > 0
        && let Some(col) = single_line.iter().find(|&&c| {
            view.field(c)
                .is_some_and(|f| memchr::memchr2(b'\n', b'\r', f).is_some())
        })
    {
        let name = header.names.get(*col).map_or("?", String::as_str);
        return Err(format!(
            "column {} ({name}) holds a line break: a stray quote may have merged rows",
            col + 1
        ));
    }
    if in_known.is_none() && memchr::memchr(0, text.as_bytes()).is_some() {
        return Err("contains a NUL byte".to_string());
    }
    if is_the_header(view, header) {
        return Err(HEADER_AGAIN.to_string());
    }
    Ok(text)
}

/// Whether a row is a spreadsheet's totals row, not a contact: its first cell names a total
/// (`Total`, `Grand total`, `Summe`...) and at least half of its other cells are numbers or
/// empty, and none holds an address (a contact at a company called Total has an email). Checked
/// for every contact, so a first cell costs a look at its first byte (every word starts with t,
/// s or g), no allocation.
#[inline]
pub fn looks_like_totals(fields: Fields<'_>) -> bool {
    const TOTALS: [&str; 18] = [
        "total",
        "totals",
        "total:",
        "totals:",
        "grand total",
        "grand total:",
        "subtotal",
        "sub-total",
        "sum",
        "summe",
        "gesamt",
        "gesamtsumme",
        "totaal",
        "totale",
        "totalt",
        "suma",
        "total general",
        "gran total",
    ];
    let Some(raw) = fields.get(0) else {
        return false;
    };
    // Every word starts with a t, an s or a g: an id or most names end here, untrimmed.
    let starts = |b: Option<&u8>| matches!(b.map(|b| b | 0x20), Some(b't' | b's' | b'g'));
    if !starts(raw.first()) && !raw.first().is_some_and(u8::is_ascii_whitespace) {
        return false;
    }
    let first = raw.trim_ascii();
    if !starts(first.first()) {
        return false;
    }
    let named = match first.len() {
        3..=13 => TOTALS
            .iter()
            .any(|t| first.eq_ignore_ascii_case(t.as_bytes())),
        _ => first.eq_ignore_ascii_case("total général".as_bytes()),
    };
    // An address anywhere makes it a contact (a company called Total, a person called Suma).
    let address = |cell: &[u8]| memchr::memchr(b'@', cell).is_some();
    if !named || fields.len() < 2 || fields.iter().any(address) {
        return false;
    }
    let plain = fields.iter().skip(1).filter(|cell| {
        let cell = cell.trim_ascii();
        cell.is_empty()
            || std::str::from_utf8(cell)
                .is_ok_and(|c| crate::engine::cell::parse_number(c).is_some())
    });
    plain.count() * 2 >= fields.len() - 1
}

/// The warning for rows that look like a totals row (see `looks_like_totals`): scored as
/// contacts, which they are not. The first cell is one of the words leadsort looks for.
pub fn totals_warning(input: &str, rows: u64, (record, line): (u64, u64)) -> String {
    format!(
        "{} of {input} {} like a spreadsheet's totals row (the first is record {record}, line \
         {line}: its first cell names a total, its other cells are numbers or empty) and {} \
         scored as {}: remove {} from the export",
        crate::ui::plural(rows, "row"),
        if rows == 1 { "looks" } else { "look" },
        if rows == 1 { "was" } else { "were" },
        if rows == 1 { "a contact" } else { "contacts" },
        if rows == 1 { "it" } else { "them" },
    )
}

/// Why a row that repeats the header is rejected.
pub const HEADER_AGAIN: &str =
    "the header line again: were two exports joined into one file? (not a contact)";

/// Whether a row repeats the header, cell for cell (a byte order mark before it aside): two
/// exports joined (`cat a.csv b.csv`, or gzip files glued together) put the second's header
/// among the rows. The first cells are compared first, so a contact costs one comparison.
fn is_the_header(view: &RecordView<'_>, header: &Header) -> bool {
    let first = view.field(0).unwrap_or_default();
    let first = first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first);
    let Some(name) = header.names.first() else {
        return false;
    };
    // Ignoring case and surrounding spaces: an export tool's second header (`CONTACT ID`,
    // ` Email `) is no contact either.
    let same = |cell: &[u8], name: &str| {
        let name = name.as_bytes();
        if cell.len() == name.len() && cell.eq_ignore_ascii_case(name) {
            return true;
        }
        // Of other lengths, equal only with spaces around one of them: rare, so looked at last.
        let padded = |b: &[u8]| {
            b.first().is_some_and(u8::is_ascii_whitespace)
                || b.last().is_some_and(u8::is_ascii_whitespace)
        };
        (padded(cell) || padded(name)) && cell.trim_ascii().eq_ignore_ascii_case(name.trim_ascii())
    };
    same(first, name)
        && (1..header.len()).all(|i| view.field(i).is_some_and(|f| same(f, &header.names[i])))
}

/// What a row's rejection reason says when a cell is not UTF-8 (see `not_utf8`).
const NOT_UTF8: &str = "is not valid UTF-8";

/// The row was rejected for a cell that is not UTF-8: the file is likely in another encoding.
pub fn not_utf8(reason: &str) -> bool {
    reason.contains(NOT_UTF8)
}

/// The warning for a file with rows that are not UTF-8, the first at `record` and `line`.
pub fn not_utf8_warning(input: &str, (record, line): (u64, u64)) -> String {
    format!(
        "{input} has rows that are not UTF-8 (the first is record {record}, line {line}): \
         if it comes from an older Excel, run again with --encoding windows-1252"
    )
}

/// The longest start of `chunk` that is UTF-8 and holds no NUL byte: checked once for all
/// the records read in place in it, rather than record by record (see `checked_text`).
pub fn known_text(chunk: &[u8]) -> &str {
    let text = match simdutf8::compat::from_utf8(chunk) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&chunk[..e.valid_up_to()]).unwrap_or_default(),
    };
    // A NUL is one byte, never inside a character: the text before it is text.
    let nul = memchr::memchr(0, text.as_bytes()).unwrap_or(text.len());
    text.get(..nul).unwrap_or_default()
}

/// The error for a quote that never closes, or closes only past rows it swallowed, when
/// those rows are too many to keep.
pub fn unrecoverable(record: u64, line: u64, max_record: usize) -> Error {
    Error::Data(format!(
        "record {record} (line {line}): a quote opened here is never closed, or closed only \
         after the rows below it, and what it spans is larger than --max-record-size \
         ({max_record} bytes), so it would be one field: the rows after it cannot be read and no \
         output was replaced. Fix the quote, or raise --max-record-size above the size of what \
         it spans to set the line aside and read the rows after it"
    ))
}

/// The fields' text, valid UTF-8 with every field on character boundaries; else the first
/// field that is not text (or whose end splits a character).
pub fn utf8_fields(fields: Fields<'_>) -> std::result::Result<&str, usize> {
    match simdutf8::compat::from_utf8(fields.text) {
        // Fields read in place lie between ASCII bytes; copied ones start where the one
        // before ends: checking the ends covers every boundary.
        Ok(all) => match fields.ends.iter().position(|&e| !all.is_char_boundary(e)) {
            None => Ok(all),
            Some(col) => Err(col),
        },
        Err(e) => {
            let bad = e.valid_up_to();
            Err(fields.ends.iter().position(|&end| end > bad).unwrap_or(0))
        }
    }
}

/// The compression a file starts with, if it is one leadsort does not undo (gzip it does).
fn compressed_other_than_gzip(head: &[u8]) -> Option<&'static str> {
    let bzip2 = head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    [
        (&[0x28, 0xB5, 0x2F, 0xFD][..], "zstd"),
        (&[0xFD, b'7', b'z', b'X', b'Z', 0], "xz"),
        (&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C], "7-Zip"),
        (&[0x04, 0x22, 0x4D, 0x18], "LZ4"),
    ]
    .into_iter()
    .find(|(magic, _)| head.starts_with(magic))
    .map(|(_, format)| format)
    .or(bzip2.then_some("bzip2"))
}

/// The input as text, ready to parse.
struct Decoded {
    source: Box<dyn Read + Send>,
    /// Bytes already read from `source`, to be parsed first.
    first: Vec<u8>,
    /// The input was a workbook, now CSV separated by commas.
    workbook: bool,
    /// The text is the input's bytes as stored (no gzip, workbook or other encoding): as
    /// many bytes of text as the file holds.
    as_stored: bool,
}

/// Open the decoding layers: gzip, then a workbook's conversion to CSV or the text encoding.
/// Refuses what is not text.
fn decoded(mut raw: Box<dyn Read + Send>, name: &str, options: &Options) -> Result<Decoded> {
    let mut head = peek(&mut raw, name, 8192)?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    if gzip {
        let stream = io::BufReader::with_capacity(1 << 16, io::Cursor::new(head).chain(raw));
        raw = Box::new(Gunzip(Members::new(stream)));
        head = peek(&mut raw, name, 8192)?;
    }
    if let Some(format) = compressed_other_than_gzip(&head) {
        return Err(Error::Data(format!(
            "{name} is compressed with {format}, which leadsort does not read (it reads gzip): \
             decompress it first, or pipe it in decompressed"
        )));
    }
    if workbook::is_workbook(&head) {
        // A workbook is read whole (its parts can be anywhere in the file), through `raw`
        // so that the input's hash covers every byte as stored.
        let mut bytes = head;
        raw.read_to_end(&mut bytes)
            .map_err(|e| read_error(name, e))?;
        let csv = workbook::to_csv(&bytes, name, options.sheet.as_deref())?;
        drop(bytes);
        return Ok(Decoded {
            source: Box::new(io::Cursor::new(csv)),
            first: Vec::new(),
            workbook: true,
            as_stored: false,
        });
    }
    // UTF-32's byte order marks start like UTF-16's (FF FE 00 00): name it, rather than
    // decode it as UTF-16 and fail on the NULs between its characters.
    if head.starts_with(&[0xFF, 0xFE, 0, 0]) || head.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(Error::Data(format!(
            "{name} is UTF-32 text, which leadsort does not read: save it as UTF-8 (or UTF-16)"
        )));
    }
    let utf16_bom = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    let encoding = options.encoding.filter(|e| *e != encoding_rs::UTF_8);
    if encoding.is_none() && !utf16_bom {
        if let Some(at) = head.iter().position(|b| *b == 0) {
            // UTF-16 text of Latin letters has a NUL in every other byte, all on one side;
            // a binary file (a program, an image) has them anywhere.
            let nuls = |parity: usize| {
                (head.iter().skip(parity).step_by(2))
                    .filter(|b| **b == 0)
                    .count()
            };
            let (even, odd) = (nuls(0), nuls(1));
            let one_side = even.max(odd) * 4 >= head.len() && even.min(odd) * 10 <= even.max(odd);
            let hint = if one_side {
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
        return Ok(Decoded {
            source: raw,
            first: rest,
            workbook: false,
            as_stored: !gzip,
        });
    }
    // Decode to UTF-8: a UTF-16 byte order mark decides, else the encoding asked for.
    let label = if head.starts_with(&[0xFF, 0xFE]) {
        "UTF-16LE"
    } else if head.starts_with(&[0xFE, 0xFF]) {
        "UTF-16BE"
    } else {
        encoding.map_or("the encoding given", |e| e.name())
    };
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_override(true)
        .strip_bom(true)
        .build(io::Cursor::new(head).chain(raw));
    let mut source: Box<dyn Read + Send> = Box::new(Unreplaced::new(decoder, label));
    // The decoder's first read can be a few bytes (it looks for a byte order mark first):
    // the delimiter and a `sep=` line are read from the first chunk, so fill it.
    let mut first = Vec::with_capacity(8192);
    source
        .by_ref()
        .take(8192)
        .read_to_end(&mut first)
        .map_err(|e| read_error(name, e))?;
    Ok(Decoded {
        source,
        first,
        workbook: false,
        as_stored: false,
    })
}

/// Gzip data that is cut off or damaged (a half-uploaded export): bad input (exit 65), not a
/// failing disk (74), so a job can tell "not fully there yet" from a broken machine.
#[derive(Debug)]
pub struct BadGzip(io::Error);

impl std::fmt::Display for BadGzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(padded) = self
            .0
            .get_ref()
            .and_then(|e| e.downcast_ref::<PaddedGzip>())
        {
            return padded.fmt(f);
        }
        write!(
            f,
            "the gzip data is cut off or damaged ({}): was the file written or uploaded in full?",
            self.0
        )
    }
}

impl std::error::Error for BadGzip {}

/// Zero bytes after whole gzip data: `gzip -d` ignores them as padding, but they are also
/// what a second file glued on looks like when it was never written (a crash leaves a file's
/// end zeros). An unattended run cannot tell which: it stops (exit 65), saying so, rather than
/// read the first file alone as if it were all.
#[derive(Debug)]
struct PaddedGzip;

impl std::fmt::Display for PaddedGzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the gzip data is whole, but zero bytes follow it: padding (which gzip -d ignores), \
             or the place of a second file that was never written; if it is padding, read it \
             through gzip -dc"
        )
    }
}

impl std::error::Error for PaddedGzip {}

/// The members of a gzip stream one after another, as `gzip -d` reads them (two files glued
/// together read as one); zero bytes after one are `PaddedGzip`, anything else must be
/// another member.
struct Members<R: io::BufRead> {
    member: Option<flate2::bufread::GzDecoder<R>>,
}

impl<R: io::BufRead> Members<R> {
    fn new(stream: R) -> Members<R> {
        Members {
            member: Some(flate2::bufread::GzDecoder::new(stream)),
        }
    }
}

impl<R: io::BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member ended: its decoder read exactly its bytes.
            let mut rest = self.member.take().expect("a member").into_inner();
            match rest.fill_buf()?.first() {
                None => return Ok(0),
                Some(0) => return Err(io::Error::new(io::ErrorKind::InvalidData, PaddedGzip)),
                Some(_) => self.member = Some(flate2::bufread::GzDecoder::new(rest)),
            }
        }
    }
}

/// A gzip decoder whose complaints about the data are `BadGzip`; errors reading the file
/// itself pass as they are.
struct Gunzip<R>(R);

impl<R: Read> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidInput
            | io::ErrorKind::InvalidData
            | io::ErrorKind::UnexpectedEof
                if e.get_ref().is_none_or(|inner| !inner.is::<Replaced>()) =>
            {
                io::Error::new(e.kind(), BadGzip(e))
            }
            _ => e,
        })
    }
}

/// What is wrong with the input's data when a read failed because of it (bytes the
/// encoding cannot decode, gzip data cut off), if that is why: such an error is the input's
/// (exit 65), not the machine's.
pub fn bad_data(e: &io::Error) -> Option<String> {
    let inner = e.get_ref()?;
    if let Some(r) = inner.downcast_ref::<Replaced>() {
        return Some(r.to_string());
    }
    inner.downcast_ref::<BadGzip>().map(BadGzip::to_string)
}

/// Where the decoder met bytes not valid in the input's encoding, which it replaces with
/// U+FFFD: the input is refused, as invalid UTF-8 is, rather than a cell changed unsaid.
#[derive(Debug)]
pub struct Replaced {
    line: u64,
    encoding: &'static str,
}

impl std::fmt::Display for Replaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: bytes that are not valid {} (or a U+FFFD character): is --encoding \
             right? leadsort does not replace what it cannot read",
            self.line, self.encoding
        )
    }
}

impl std::error::Error for Replaced {}

/// Decoded text, refused at the first U+FFFD: what the decoder puts where bytes are not valid.
struct Unreplaced<R> {
    inner: R,
    encoding: &'static str,
    /// Line breaks before what the next read gives.
    lines: u64,
    /// The last bytes read (at most 2): a U+FFFD may begin there.
    tail: Vec<u8>,
}

impl<R> Unreplaced<R> {
    fn new(inner: R, encoding: &'static str) -> Unreplaced<R> {
        Unreplaced {
            inner,
            encoding,
            lines: 0,
            tail: Vec::new(),
        }
    }
}

impl<R: Read> Read for Unreplaced<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        const FFFD: &[u8] = "\u{FFFD}".as_bytes();
        let n = self.inner.read(buf)?;
        let data = &buf[..n];
        let mut joined = std::mem::take(&mut self.tail);
        let from = joined.len();
        joined.extend_from_slice(&data[..n.min(2)]);
        let at = memchr::memmem::find(&joined, FFFD)
            .map(|_| 0)
            .or_else(|| memchr::memmem::find(data, FFFD));
        if let Some(at) = at {
            let line = self.lines + memchr::memchr_iter(b'\n', &data[..at]).count() as u64 + 1;
            let encoding = self.encoding;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                Replaced { line, encoding },
            ));
        }
        self.lines += memchr::memchr_iter(b'\n', data).count() as u64;
        joined.truncate(from);
        joined.extend_from_slice(data);
        self.tail = joined[joined.len().saturating_sub(2)..].to_vec();
        Ok(n)
    }
}

/// An error reading the input: bytes its encoding cannot decode and gzip data cut off are bad
/// data (exit 65), a folder where the input should be is no input (66), anything else an I/O
/// error (74).
pub fn read_error(name: &str, e: io::Error) -> Error {
    match bad_data(&e) {
        Some(why) => Error::Data(format!("{name}: {why}")),
        // `- < /`: stdin is a folder, not contacts to read (66, as for a folder named).
        None if e.kind() == io::ErrorKind::IsADirectory => Error::NoInput {
            path: name.into(),
            source: e,
        },
        None => Error::io(format!("cannot read {name}"), e),
    }
}

/// Read up to `n` bytes without losing them (they are returned, the reader continues after).
fn peek(r: &mut Box<dyn Read + Send>, name: &str, n: usize) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.by_ref()
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| read_error(name, e))?;
    Ok(head)
}

/// The delimiter of the header line: the most frequent of `,` `;` tab `|` outside quotes
/// (`,` when none appears, or on a tie).
pub fn sniff(bytes: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    let start = bytes
        .iter()
        .position(|b| *b != b'\n' && *b != b'\r')
        .unwrap_or(bytes.len());
    for &b in &bytes[start..] {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An export still being written while it is read: said, with how it changed. One
    /// renamed over the name meanwhile is another file: the one read is whole.
    #[test]
    fn a_file_that_changes_while_read_is_told() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "id\n1\n").unwrap();
        let stamp = |path: &Path| {
            let file = File::open(path).unwrap();
            Stamp::of(&file, &file.metadata().unwrap()).unwrap()
        };
        let read = stamp(&path);
        assert_eq!(read.changed("c.csv"), None);
        let mut more = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        more.write_all(b"2\n").unwrap();
        let said = read.changed("c.csv").unwrap();
        assert!(
            said.starts_with("c.csv changed while it was read (it went from 5 to 7 bytes)"),
            "{said}"
        );
        let read = stamp(&path);
        let fresh = dir.path().join("fresh.csv");
        std::fs::write(&fresh, "id\n1\n2\n3\n").unwrap();
        std::fs::rename(&fresh, &path).unwrap();
        assert_eq!(read.changed("c.csv"), None);
    }

    /// Gives one byte a read.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((&first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buf[0] = first;
            self.0 = rest;
            Ok(1)
        }
    }

    #[test]
    fn a_replacement_character_is_refused_however_the_reads_cut_it() {
        let text = "id\n1,a\n2,\u{FFFD}b\n3,c\n";
        for whole in [false, true] {
            let mut read = Vec::new();
            let result = if whole {
                Unreplaced::new(text.as_bytes(), "UTF-16LE").read_to_end(&mut read)
            } else {
                Unreplaced::new(Trickle(text.as_bytes()), "UTF-16LE").read_to_end(&mut read)
            };
            let e = result.unwrap_err();
            let said = read_error("in.csv", e).to_string();
            assert!(
                said.starts_with("in.csv: line 3: bytes that are not valid UTF-16LE"),
                "{said}"
            );
        }
        let mut read = Vec::new();
        Unreplaced::new(Trickle("id\n1,é\n".as_bytes()), "x")
            .read_to_end(&mut read)
            .unwrap();
        assert_eq!(read, "id\n1,é\n".as_bytes());
    }

    #[test]
    fn an_input_knows_when_it_is_small() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            Input::open(&Source::File(path), &Options::default()).unwrap()
        };
        // 40,000 rows: 20 times the 8 KiB read ahead for the header.
        let text: String = std::iter::once("id,name\n".to_string())
            .chain((0..40_000).map(|i| format!("{i},ann\n")))
            .collect();
        let size = text.len() as u64;
        let file = open("c.csv", text.as_bytes());
        assert!(file.at_most(size), "a file of that size");
        assert!(!file.at_most(size - 1), "a file larger than the limit");

        // Gzip: a file of a few KiB whose text is far larger.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let gzipped = gz.finish().unwrap();
        assert!((gzipped.len() as u64) < size / 4);
        assert!(!open("c.csv.gz", &gzipped).at_most(size / 4));

        // A reader that is not a file: unknown, unless read to its end already (a header
        // with no line break after it is read to the end).
        let reader = |bytes: &[u8]| {
            let source = Box::new(io::Cursor::new(bytes.to_vec()));
            Input::from_reader(source, "r".into(), &Options::default()).unwrap()
        };
        assert!(!reader(text.as_bytes()).at_most(u64::MAX));
        assert!(!reader(b"id,name\n1,ann\n").at_most(1 << 20));
        assert!(reader(b"id,name").at_most(0));
    }

    #[test]
    fn a_row_of_the_wrong_width_says_how_many_fields_it_should_have() {
        let reason = |header: &[&str], row: &[u8]| {
            let header = Header::new(header.iter().map(|h| h.to_string()).collect());
            let mut parser = RecordParser::new(b',', 64).expect_fields(header.len());
            let mut pos = 0;
            let Step::Record(view) = parser.next(row, &mut pos, true) else {
                panic!("no record");
            };
            checked_text(&view, &header, &[], (64, b','), "").unwrap_err()
        };
        assert_eq!(reason(&["email"], b"a,b\n"), "expected 1 field, found 2");
        assert_eq!(
            reason(&["id", "email"], b"a\n"),
            "expected 2 fields, found 1"
        );
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"a,b,c\n1;2"), b',');
        assert_eq!(sniff(b"a;b;c\n"), b';');
        assert_eq!(sniff(b"\"a,b\";c;d\n"), b';');
        assert_eq!(sniff(b"a\tb\n"), b'\t');
        assert_eq!(sniff(b"a|b|c"), b'|');
        assert_eq!(sniff(b"single\n"), b',');
        assert_eq!(sniff(b"a,b;c\n"), b',');
        assert_eq!(sniff(b"\r\n\na;b;c\n"), b';', "blank lines first");
    }

    #[test]
    fn line_breaks() {
        use parse::count_line_breaks;
        assert_eq!(count_line_breaks(b"a\nb\r\nc\rd", false), 3);
        assert_eq!(count_line_breaks(b"\nx", true), 0);
        assert_eq!(count_line_breaks(b"\nx\n", true), 1);
        assert_eq!(count_line_breaks(b"", false), 0);
    }

    #[test]
    fn records_split_characters_only_when_invalid() {
        let check = |text: &[u8], ends: &[usize]| {
            let starts: Vec<usize> = [0].iter().chain(ends).copied().take(ends.len()).collect();
            utf8_fields(Fields {
                text,
                starts: &starts,
                ends,
            })
            .err()
        };
        let bytes = [0xC3, 0xA9, b'x'];
        assert_eq!(check(&bytes, &[1, 3]), Some(0), "é split across two fields");
        assert_eq!(check(&bytes, &[2, 3]), None);
        assert_eq!(check(&[b'a', 0xE9, b'b'], &[1, 3]), Some(1), "Latin-1 é");
    }

    #[test]
    fn known_text_stops_before_what_is_not_text() {
        assert_eq!(known_text(b"a,b\nc"), "a,b\nc");
        assert_eq!(known_text(b"a,\xC3\xA9\n\xE9x"), "a,\u{e9}\n");
        assert_eq!(known_text(b"ab\0c"), "ab");
        assert_eq!(
            known_text(b"ab\xC3"),
            "ab",
            "a character cut by the chunk's end"
        );
    }

    proptest::proptest! {
        /// A record checked against its chunk's known text gets the same answer as one
        /// checked on its own, whatever the chunk holds and wherever it is cut.
        #[test]
        fn checking_the_chunk_once_changes_no_answer(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::collection::vec(
                        proptest::sample::select(b"ab\"\n\r\0\xC3\xA9\xE9".to_vec()), 0..4),
                    2..5),
                0..12),
            cut in 0usize..200,
        ) {
            let bytes: Vec<u8> = rows.iter().flat_map(|r| {
                let mut row = r.join(&b","[..]);
                row.push(b'\n');
                row
            }).collect();
            let header = Header::new(vec!["a".into(), "b".into(), "c".into()]);
            let cut = cut.min(bytes.len());
            let mut parser = RecordParser::new(b',', 64).expect_fields(3);
            for (chunk, eof) in [(&bytes[..cut], false), (&bytes[cut..], true)] {
                let known = known_text(chunk);
                let mut pos = 0;
                while let Step::Record(view) = parser.next(chunk, &mut pos, eof) {
                    proptest::prop_assert_eq!(
                        checked_text(&view, &header, &[0, 1], (64, b','), known),
                        checked_text(&view, &header, &[0, 1], (64, b','), "")
                    );
                    if let Some(Replay::At(at)) = parser.take_replay() {
                        pos = at;
                    }
                }
            }
        }
    }
}
