//! Records out of bytes: `csv_core` driven over chunks of the input, keeping what a contact
//! list needs that a plain CSV parser throws away: each record's raw bytes, where it starts,
//! how many quotes it holds, and whether it is too big to keep.
//!
//! A record may span chunks: the parser carries its state (and the raw bytes seen so far, up
//! to the size limit) into the next chunk. A record inside one chunk borrows its raw bytes
//! from it; nothing is copied.

use csv_core::{ReadRecordResult, Reader as CsvCore, ReaderBuilder};

use super::scan::FieldEnds;

/// More fields than this in one record is not a contact list.
const MAX_FIELDS: usize = 1 << 16;

/// A record's fields: slices of `text`, which is either the record as read (its delimiters
/// and quotes between the values) or the values copied end to end.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    pub text: &'a [u8],
    pub starts: &'a [usize],
    pub ends: &'a [usize],
}

impl<'a> Fields<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let (start, end) = (*self.starts.get(i)?, *self.ends.get(i)?);
        self.text.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let text = self.text;
        self.starts
            .iter()
            .zip(self.ends)
            .map(move |(&s, &e)| &text[s..e])
    }
}

/// Where to read on after a record cut at its first line (a quote that never closes or runs
/// over rows): the lines after it are read again as rows.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    /// At this position of the current chunk.
    At(usize),
    /// These bytes (the record began in an earlier chunk), then the rest of the chunk: the
    /// caller hands the parser one chunk of the two, these bytes first, so that positions in
    /// them stay as they are (`Merging` counts on it).
    Bytes(Vec<u8>),
}

/// What the fast path made of a record.
enum Fast {
    Record(usize),
    /// A field holds a `""` escape: its value must be copied.
    Escaped,
    /// Leave it to `csv_core`.
    No,
}

/// Parses records out of successive chunks of one stream.
#[derive(Debug)]
pub struct RecordParser {
    csv: CsvCore,
    delimiter: u8,
    max_record: usize,
    /// Field values end to end, when they are copied (see `in_place`).
    fields: Vec<u8>,
    /// Where each field starts and ends: in `fields`, or in the record's bytes when
    /// `in_place`.
    starts: Vec<usize>,
    ends: Vec<usize>,
    /// The record's field values lie in its bytes in the chunk, not in `fields`.
    in_place: bool,
    out: usize,
    nends: usize,
    /// Raw bytes of the record in progress from earlier chunks (up to the size limit).
    spill: Vec<u8>,
    /// The record in progress started in an earlier chunk.
    spilled: bool,
    /// Where the quoting stands after every byte spilled, those beyond the size limit
    /// included (`spill` keeps only what fits).
    spill_quoting: Quoting,
    /// The last two bytes spilled, those beyond the size limit included (a record's own
    /// line break is told from one inside it by them).
    spill_tail: [Option<u8>; 2],
    /// Where the record in progress starts in the current chunk (when not spilled).
    start: usize,
    /// Line breaks consumed by this parser before the record in progress.
    lines: u64,
    /// Line breaks within the record in progress (leading blank lines included).
    record_lines: u64,
    quotes: u64,
    size: usize,
    too_big: bool,
    after_cr: bool,
    /// `after_cr` when the record in progress started.
    start_after_cr: bool,
    /// What to parse again after an unterminated quote (see `take_replay`).
    replay: Option<Replay>,
    /// After the first unterminated quote: the records from there to the end of the input
    /// that will not close theirs either.
    doomed: Option<Doomed>,
    /// After a record found to hold merged rows: the records starting on its later lines that
    /// are merged rows too (for the current chunk).
    merging: Option<Merging>,
    /// Records set aside unread, as `Doomed` or `Merging` knew them (tests check the
    /// shortcuts are taken).
    #[cfg(test)]
    set_aside_unread: usize,
    /// Use the fast path for plain records (off only to test it against `csv_core`).
    fast: bool,
    /// The record in progress was read by the fast path.
    parsed_fast: bool,
    /// Fields a record should have (the header's), to notice rows merged by a stray quote.
    expected_fields: usize,
    /// Fields `csv_core` ended in the record in progress, those dropped over the size limit
    /// included: a record over the limit whose count is the header's is one long cell.
    fields_seen: usize,
}

/// One parsed record, borrowing the parser and the chunk.
#[derive(Debug)]
pub struct RecordView<'a> {
    fields: Fields<'a>,
    spill: &'a [u8],
    chunk_part: &'a [u8],
    /// The line the record starts on, counting from 1 at the parser's first byte.
    pub line: u64,
    /// Line breaks inside the record (between its first and last byte).
    pub inner_lines: u64,
    /// The record was larger than the limit: its fields and raw bytes are cut.
    pub too_big: bool,
    /// It opened a quote the input never closes: only its first line is kept, the rest is
    /// to be parsed again (`RecordParser::take_replay`).
    pub unterminated: bool,
    /// A stray quote ran it over the following rows (a line inside it looks like a whole
    /// row): only its first line is kept, the rest is to be parsed again.
    pub merged: bool,
    /// It opened a quote the input never closes and is larger than the size limit, so the
    /// rows after it cannot be recovered: the run must stop.
    pub unrecoverable: bool,
    /// Its quoting is known to be by the book (RFC 4180): every quote in it belongs to a
    /// quoted field, so every reader gets the same cells back from its raw bytes. `false`
    /// means not known: the fast path did not read it.
    pub well_quoted: bool,
    /// Where the record lies in the chunk when its fields are slices of it there (`text` is
    /// `chunk[start..end]`): a check of the whole chunk then holds for the record.
    pub in_chunk: Option<(usize, usize)>,
}

impl<'a> RecordView<'a> {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// A row of separators only (`,,,,`), as spreadsheets export the empty rows below a
    /// table: read as a blank line (skipped, not a record), as a workbook's empty row is.
    pub fn is_blank(&self) -> bool {
        let f = &self.fields;
        f.len() > 1
            && f.starts.first() == f.ends.first()
            && f.starts.iter().zip(f.ends).all(|(s, e)| s == e)
            && !(self.merged || self.unterminated || self.unrecoverable)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn field(&self, i: usize) -> Option<&'a [u8]> {
        self.fields.get(i)
    }

    pub fn fields(&self) -> Fields<'a> {
        self.fields
    }

    /// The record as written in the input, without line breaks around it. When the record
    /// spanned chunks this is assembled into `buf`.
    pub fn raw<'b>(&self, buf: &'b mut Vec<u8>) -> &'b [u8]
    where
        'a: 'b,
    {
        if self.spill.is_empty() {
            trim_line_breaks(self.chunk_part)
        } else {
            buf.clear();
            buf.extend_from_slice(self.spill);
            buf.extend_from_slice(self.chunk_part);
            trim_line_breaks(buf)
        }
    }
}

/// What `RecordParser::next` found.
#[derive(Debug)]
pub enum Step<'a> {
    Record(RecordView<'a>),
    /// The chunk is used up; a record may be in progress (see `is_between_records`).
    NeedMore,
    /// The end of the input (only with `eof`).
    End,
}

impl RecordParser {
    pub fn new(delimiter: u8, max_record: usize) -> RecordParser {
        let mut csv = ReaderBuilder::new().delimiter(delimiter).build();
        prime(&mut csv);
        RecordParser {
            csv,
            delimiter,
            max_record: max_record.max(1),
            fields: vec![0; 1024],
            starts: vec![0; 64],
            ends: vec![0; 64],
            in_place: false,
            out: 0,
            nends: 0,
            spill: Vec::new(),
            spilled: false,
            spill_quoting: Quoting::Start,
            spill_tail: [None; 2],
            start: 0,
            lines: 0,
            record_lines: 0,
            quotes: 0,
            size: 0,
            too_big: false,
            after_cr: false,
            start_after_cr: false,
            replay: None,
            doomed: None,
            merging: None,
            #[cfg(test)]
            set_aside_unread: 0,
            fast: true,
            parsed_fast: false,
            expected_fields: 0,
            fields_seen: 0,
        }
    }

    /// Records should have this many fields (the header's): with three or more, a record
    /// with a line inside a quoted field that holds as many delimiters as a whole row is taken
    /// for rows merged by a stray quote.
    pub fn expect_fields(mut self, n: usize) -> RecordParser {
        self.expected_fields = n;
        self
    }

    /// No record is in progress: the bytes consumed so far end at a record boundary.
    pub fn is_between_records(&self) -> bool {
        self.size == 0 || self.size == self.record_lines_bytes()
    }

    /// Memory the parser holds for the record in progress.
    pub fn held_bytes(&self) -> usize {
        self.spill.capacity() + self.fields.capacity()
    }

    /// The last byte consumed was a CR (a CRLF's LF may come next).
    pub fn after_cr(&self) -> bool {
        self.after_cr
    }

    /// Start as if a CR came just before the first byte.
    pub fn with_after_cr(mut self, after_cr: bool) -> RecordParser {
        self.after_cr = after_cr;
        self
    }

    /// Line breaks consumed so far, records and blank lines alike.
    pub fn lines(&self) -> u64 {
        self.lines + self.record_lines
    }

    /// Bytes consumed for the record in progress that are only line breaks (blank lines):
    /// they do not make a record.
    fn record_lines_bytes(&self) -> usize {
        if self.nends == 0 && self.out == 0 && self.quotes == 0 && !self.too_big {
            self.size
        } else {
            usize::MAX
        }
    }

    /// After an unterminated quote: the bytes to parse again, as the next chunk.
    pub fn take_replay(&mut self) -> Option<Replay> {
        self.replay.take()
    }

    /// Parse the next record from `chunk[*pos..]`. `eof`: no chunk will follow this one.
    pub fn next<'a>(&'a mut self, chunk: &'a [u8], pos: &mut usize, eof: bool) -> Step<'a> {
        if self.size == 0 {
            // A new record: the last view is gone, so its spilled bytes can go too.
            self.spill.clear();
            self.spill_quoting = Quoting::Start;
            self.spill_tail = [None; 2];
            self.fields_seen = 0;
            self.start = *pos;
            self.spilled = false;
            self.start_after_cr = self.after_cr;
            self.parsed_fast = false;
            self.in_place = false;
            if eof && self.doomed.as_ref().is_some_and(|d| d.holds(chunk, *pos)) {
                // Known to run to the end inside a quote: set aside without reading it there.
                self.size = chunk.len() - *pos;
                *pos = chunk.len();
                #[cfg(test)]
                {
                    self.set_aside_unread += 1;
                }
                return Step::Record(self.finish(chunk, *pos, eof, Known::Doomed));
            }
            if let Some(end) = self.merging.as_ref().and_then(|m| m.holds(chunk, *pos)) {
                // Known to hold merged rows to the end of one found before: set aside
                // without reading it again.
                self.size = end - *pos;
                *pos = end;
                #[cfg(test)]
                {
                    self.set_aside_unread += 1;
                }
                return Step::Record(self.finish(chunk, end, eof, Known::Merged));
            }
            if let Some(end) = if self.fast {
                self.fast_record(chunk, *pos)
            } else {
                None
            } {
                self.parsed_fast = true;
                *pos = end;
                return Step::Record(self.finish(chunk, end, eof, Known::Nothing));
            }
        }
        loop {
            let input = &chunk[*pos..];
            if input.is_empty() && !eof {
                self.spill_from(chunk);
                return Step::NeedMore;
            }
            let (result, nin, nout, nend) = self.csv.read_record(
                input,
                &mut self.fields[self.out..],
                &mut self.ends[self.nends..],
            );
            let consumed = &input[..nin];
            self.size += nin;
            self.record_lines += count_line_breaks(consumed, self.after_cr);
            if let Some(last) = consumed.last() {
                self.after_cr = *last == b'\r';
            }
            self.quotes += memchr::memchr_iter(b'"', consumed).count() as u64;
            *pos += nin;
            self.out += nout;
            self.nends += nend;
            self.fields_seen += nend;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !eof {
                        self.spill_from(chunk);
                        return Step::NeedMore;
                    }
                    // csv_core finishes the last record on a call with no input.
                }
                ReadRecordResult::OutputFull => {
                    if self.fields.len() >= self.max_record {
                        // Too big: parse on to the record's end, keeping nothing more.
                        self.too_big = true;
                        self.out = 0;
                        self.nends = 0;
                    } else {
                        let grown = (self.fields.len() * 2).min(self.max_record);
                        self.fields.resize(grown, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        self.too_big = true;
                        self.nends = 0;
                    } else {
                        let grown = self.ends.len() * 2;
                        self.ends.resize(grown, 0);
                    }
                }
                ReadRecordResult::Record => {
                    return Step::Record(self.finish(chunk, *pos, eof, Known::Nothing));
                }
                ReadRecordResult::End => {
                    self.lines += self.record_lines;
                    self.reset_record();
                    return Step::End;
                }
            }
        }
    }

    /// The common case, without the state machine: a record wholly in this chunk whose
    /// quoting is by the book (fields unquoted without a quote in them, or wholly quoted with
    /// `""` escapes). Anything else (a blank line, a stray quote, a record running past the
    /// chunk or the size limit) returns `None` having changed nothing, and `csv_core` takes
    /// the record. Where both can parse a record, they give the same fields.
    fn fast_record(&mut self, chunk: &[u8], start: usize) -> Option<usize> {
        if matches!(chunk.get(start), None | Some(b'\n' | b'\r')) {
            return None;
        }
        match self.fast_in_place(chunk, start) {
            Fast::Record(end) => Some(end),
            Fast::Escaped => self.fast_copied(chunk, start),
            Fast::No => None,
        }
    }

    /// The fast path when no field holds a `""` escape: every field's value is a slice of
    /// the record's bytes, found in place and not copied.
    fn fast_in_place(&mut self, chunk: &[u8], start: usize) -> Fast {
        let d = self.delimiter;
        let mut field_ends = FieldEnds::new(d);
        let mut i = start;
        let (mut n, mut lines, mut quotes) = (0usize, 0u64, 0u64);
        let lone_cr;
        loop {
            // One field: where its value lies, then what ends it.
            let (from, to) = if chunk[i] == b'"' {
                // The closing quote is the next quote among the bytes the scanner finds
                // (delimiters, line breaks, quotes): inside quotes, the first two are text,
                // and the line breaks are counted on the way (a CRLF once).
                let (mut k, mut last_cr) = (i + 1, None);
                let q = loop {
                    let Some(e) = field_ends.next(chunk, k) else {
                        return Fast::No;
                    };
                    match chunk[e] {
                        b'"' => break e,
                        b'\r' => {
                            lines += 1;
                            last_cr = Some(e);
                        }
                        b'\n' if last_cr != Some(e - 1) => lines += 1,
                        _ => {}
                    }
                    k = e + 1;
                };
                match chunk.get(q + 1) {
                    Some(b'"') => return Fast::Escaped,
                    None => return Fast::No,
                    Some(_) => {}
                }
                quotes += 2;
                let value = (i + 1, q);
                i = q + 1;
                value
            } else {
                let Some(e) = field_ends.next(chunk, i) else {
                    return Fast::No;
                };
                let value = (i, e);
                i = e;
                value
            };
            if n == self.ends.len() {
                if n >= MAX_FIELDS {
                    return Fast::No;
                }
                self.ends.resize(n * 2, 0);
                self.starts.resize(n * 2, 0);
            }
            self.starts[n] = from - start;
            self.ends[n] = to - start;
            n += 1;
            match chunk[i] {
                b if b == d => i += 1,
                b'\n' => {
                    i += 1;
                    lone_cr = false;
                    break;
                }
                b'\r' => {
                    // A CRLF, or a CR whose LF may be the next chunk's first byte.
                    lone_cr = chunk.get(i + 1) != Some(&b'\n');
                    i += if lone_cr { 1 } else { 2 };
                    break;
                }
                _ => return Fast::No,
            }
            if i == chunk.len() {
                return Fast::No;
            }
        }
        if i - start > self.max_record {
            return Fast::No;
        }
        self.in_place = true;
        self.out = 0;
        self.nends = n;
        self.size = i - start;
        self.record_lines = lines + 1;
        self.quotes = quotes;
        self.after_cr = lone_cr;
        Fast::Record(i)
    }

    /// The fast path for a record with `""` escapes: values are copied to `fields`, end to
    /// end, unescaped.
    fn fast_copied(&mut self, chunk: &[u8], start: usize) -> Option<usize> {
        let d = self.delimiter;
        let mut field_ends = FieldEnds::new(d);
        let mut i = start;
        let (mut out, mut nends, mut lines, mut quotes) = (0usize, 0usize, 0u64, 0u64);
        let mut lone_cr = false;
        loop {
            // One field: copy its value to `fields`, then look at what ends it.
            let after = if chunk.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    let q = i + memchr::memchr(b'"', &chunk[i..])?;
                    let part = &chunk[i..q];
                    lines += count_line_breaks(part, false);
                    self.append(&mut out, part)?;
                    quotes += 2;
                    if chunk.get(q + 1) == Some(&b'"') {
                        self.append(&mut out, b"\"")?;
                        i = q + 2;
                    } else {
                        i = q + 1;
                        break;
                    }
                }
                *chunk.get(i)?
            } else {
                let e = field_ends.next(chunk, i)?;
                self.append(&mut out, &chunk[i..e])?;
                i = e;
                chunk[i]
            };
            if nends == self.ends.len() {
                if nends >= MAX_FIELDS {
                    return None;
                }
                self.ends.resize(nends * 2, 0);
            }
            self.ends[nends] = out;
            nends += 1;
            match after {
                b if b == d => i += 1,
                b'\n' => {
                    i += 1;
                    break;
                }
                b'\r' => {
                    // A CRLF, or a CR whose LF may be the next chunk's first byte.
                    lone_cr = chunk.get(i + 1) != Some(&b'\n');
                    i += if lone_cr { 1 } else { 2 };
                    break;
                }
                _ => return None,
            }
        }
        self.in_place = false;
        self.out = out;
        self.nends = nends;
        self.size = i - start;
        self.record_lines = lines + 1;
        self.quotes = quotes;
        self.after_cr = lone_cr;
        Some(i)
    }

    /// Append a field's bytes to `fields`, growing it within the size limit.
    fn append(&mut self, out: &mut usize, bytes: &[u8]) -> Option<()> {
        let need = *out + bytes.len();
        if need > self.fields.len() {
            if need > self.max_record {
                return None;
            }
            let grown = (self.fields.len() * 2).max(need).min(self.max_record);
            self.fields.resize(grown, 0);
        }
        self.fields[*out..need].copy_from_slice(bytes);
        *out = need;
        Some(())
    }

    /// Keep the raw bytes of a record that continues in the next chunk.
    fn spill_from(&mut self, chunk: &[u8]) {
        // The next bytes come in another chunk, where the positions of `merging` mean nothing.
        self.merging = None;
        if self.size == 0 {
            return;
        }
        let from = if self.spilled { 0 } else { self.start };
        let part = &chunk[from.min(chunk.len())..];
        // Line breaks before the record (blank lines, the LF of a CRLF that `csv_core` ended
        // the last record on) do not count against the limit: the fast path never sees them.
        let lead = leading_breaks(&self.spill, part);
        // Room for the record and its terminator (a CRLF), so that one within the limit is
        // kept whole: it may have to be read again (see `finish`).
        let room = self
            .max_record
            .saturating_add(lead + 2)
            .saturating_sub(self.spill.len());
        self.spill.extend_from_slice(&part[..part.len().min(room)]);
        self.spill_quoting = self.spill_quoting.after(part, self.delimiter);
        for &b in part.iter().rev().take(2).rev() {
            self.spill_tail = [self.spill_tail[1], Some(b)];
        }
        self.spilled = true;
        self.start = 0;
    }

    /// The record's bytes as read: `spill` and then `chunk_part`, the record's bytes in the
    /// chunk.
    fn raw_record<'r>(&'r self, chunk_part: &'r [u8]) -> std::borrow::Cow<'r, [u8]> {
        if self.spilled {
            [&self.spill[..], chunk_part].concat().into()
        } else {
            chunk_part.into()
        }
    }

    /// Whether the record (one that spans lines, with quotes) holds rows a stray quote merged:
    /// it is not by the book at the header's width (see `by_the_book`), and a line inside one
    /// of its fields holds a row's worth of delimiters (`holds_a_row`) or a line after its
    /// first is a whole row by itself.
    fn merged_rows(&self, chunk_part: &[u8]) -> bool {
        let raw = self.raw_record(chunk_part);
        if by_the_book(&raw, self.delimiter, self.expected_fields) {
            // By the book at the header's width, yet its lines are rows: a stray quote at a
            // cell's start closed at the end of that column rows later (`27"`).
            return self.mostly_rows(self.later_lines(&raw, false));
        }
        holds_a_row(
            self.view_fields(chunk_part, self.nends),
            self.delimiter,
            self.expected_fields,
        ) || self.a_later_line_is_a_row(&raw)
    }

    /// Whether a line of `raw` after its first is a whole row by itself (see `by_the_book`).
    fn a_later_line_is_a_row(&self, raw: &[u8]) -> bool {
        self.later_lines(raw, false).any(|row| row)
    }

    /// For each line of `raw` after its first, whether it is a whole row by itself; with
    /// `last_cut`, the last line is left out (it may be cut short).
    fn later_lines<'r>(&'r self, raw: &'r [u8], last_cut: bool) -> impl Iterator<Item = bool> + 'r {
        let mut later = (raw.split(|b| is_break(*b)))
            .filter(|line| !line.is_empty())
            .skip(1)
            .peekable();
        std::iter::from_fn(move || {
            let line = later.next()?;
            if last_cut && later.peek().is_none() {
                return None;
            }
            Some(by_the_book(line, self.delimiter, self.expected_fields))
        })
    }

    /// Whether the kept bytes of a record over the limit (`spill`, then `chunk_part`) are a
    /// stray quote's merge of rows: a line after the first is a whole row, and either the
    /// record is not of the header's width, or most of those lines are rows (a stray quote's
    /// closing quote can leave the record the header's width; a note's lines are rarely rows).
    fn kept_lines_are_rows(&self, chunk_part: &[u8]) -> bool {
        let raw = self.raw_record(chunk_part);
        let lines: Vec<bool> = self.later_lines(&raw, true).collect();
        // Not one whole line kept after the first (a line over the limit): the rows, if any,
        // cannot be told, nor read again. Stopped, rather than lost.
        lines.is_empty()
            || lines.contains(&true) && self.fields_seen != self.expected_fields
            || self.mostly_rows(lines.into_iter())
    }

    /// Whether most of these lines are whole rows, and at least three: a note's lines are
    /// rarely rows, a stray quote's merge is nearly all rows. Not judged for exports of fewer
    /// than five columns, where prose lines (`2026-01-03, called, no answer`) are easily rows.
    fn mostly_rows(&self, lines: impl Iterator<Item = bool>) -> bool {
        let (rows, all) = lines.fold((0usize, 0usize), |(rows, all), row| {
            (rows + usize::from(row), all + 1)
        });
        self.expected_fields >= 5 && rows >= 3 && rows * 2 > all
    }

    /// The record read up to `end`, or set aside unread as `known`.
    fn finish<'a>(
        &'a mut self,
        chunk: &'a [u8],
        end: usize,
        eof: bool,
        known: Known,
    ) -> RecordView<'a> {
        let from = if self.spilled { 0 } else { self.start };
        let chunk_part = &chunk[from..end];
        // The size of what lies between the line breaks before the record and its own
        // terminator: the same whichever path read it, wherever the chunks were cut (a CRLF
        // can end a record read whole or leave its LF to the next one).
        let lead = leading_breaks(&self.spill, chunk_part);
        let term = terminator(chunk_part, self.spill_tail);
        self.too_big |= self.size.saturating_sub(lead + term) > self.max_record;
        if !self.in_place {
            self.starts_from_ends(self.nends);
        }
        let (leading, inner) = split_lines(
            &self.spill,
            chunk_part,
            self.spill_tail,
            self.record_lines,
            self.start_after_cr,
        );
        let line = self.lines + leading + 1;
        // Ends inside a quoted field at the very end of the input (a file cut off mid-record,
        // or a stray quote), whether or not the quote spans a line break.
        let unclosed = known == Known::Doomed
            || eof
                && end == chunk.len()
                && self.quotes > 0
                && self.spill_quoting.after(chunk_part, self.delimiter) == Quoting::Quoted;
        let unterminated = unclosed && !self.too_big;
        let mut unrecoverable = unclosed && self.too_big;
        let merged = known == Known::Merged
            || (!unclosed
                && !self.too_big
                && inner > 0
                && self.quotes > 0
                && self.expected_fields >= 3
                && self.merged_rows(chunk_part));
        // A record over the limit keeps no fields: its field ends point past what was kept.
        let mut view_ends_len = if self.too_big { 0 } else { self.nends };
        let mut chunk_part = chunk_part;
        if self.too_big {
            // Keep the raw row within the limit too.
            self.spill.truncate(self.max_record.saturating_add(lead));
            let room = self
                .max_record
                .saturating_add(lead)
                .saturating_sub(self.spill.len());
            chunk_part = &chunk_part[..chunk_part.len().min(room)];
            // A stray quote that closes only past the limit: the rows it swallowed are beyond
            // what was kept, and cannot be read again (see `kept_lines_are_rows`).
            unrecoverable |= inner > 0
                && self.quotes > 0
                && self.expected_fields >= 3
                && self.kept_lines_are_rows(chunk_part);
        }
        if unterminated || merged {
            // The quote never closes, or runs over the next rows: keep the first line as the
            // record and parse the rest again, so the rows it swallowed are not lost.
            let first_line = |raw: &[u8]| {
                let content = raw.iter().position(|b| !is_break(*b)).unwrap_or(0);
                raw[content..]
                    .iter()
                    .position(|b| is_break(*b))
                    .map_or(raw.len(), |i| content + i)
            };
            if self.spilled {
                let mut raw = Vec::with_capacity(self.spill.len() + chunk_part.len());
                raw.extend_from_slice(&self.spill);
                raw.extend_from_slice(chunk_part);
                let cut = first_line(&raw);
                let rest = raw.split_off(cut);
                if unterminated && self.doomed.is_none() {
                    self.doomed = Some(Doomed::new(&rest, self.delimiter));
                }
                if merged && known == Known::Nothing {
                    // `rest` starts the next chunk (see `take_replay`).
                    self.remember_merged(&rest, rest.len());
                }
                self.replay = Some(Replay::Bytes(rest));
                self.spill = raw;
                chunk_part = &[];
            } else {
                // All in this chunk: parse on from the end of the first line, in place (a
                // copy of the rest for each such record would add up).
                let cut = first_line(chunk_part);
                if unterminated && self.doomed.is_none() {
                    self.doomed = Some(Doomed::new(&chunk_part[cut..], self.delimiter));
                }
                if merged && known == Known::Nothing {
                    self.remember_merged(&chunk_part[cut..], end);
                }
                self.replay = Some(Replay::At(from + cut));
                chunk_part = &chunk_part[..cut];
            }
            // One empty field: never passes for a contact.
            self.in_place = false;
            self.starts[0] = 0;
            self.ends[0] = 0;
            view_ends_len = 1;
            prime(&mut self.csv);
            self.after_cr = false;
        }
        // Lines consumed by this record count once the next one starts.
        let split = unterminated || merged;
        self.lines += if split { leading } else { self.record_lines };
        self.record_lines = 0;
        let view = RecordView {
            fields: Fields {
                text: if self.in_place {
                    chunk_part
                } else {
                    &self.fields[..self.ends[..view_ends_len].last().map_or(0, |&e| e)]
                },
                starts: &self.starts[..view_ends_len],
                ends: &self.ends[..view_ends_len],
            },
            spill: &self.spill,
            chunk_part,
            line,
            inner_lines: if split { 0 } else { inner },
            too_big: self.too_big,
            unterminated,
            merged,
            unrecoverable,
            well_quoted: self.parsed_fast && !split && !self.too_big,
            in_chunk: (self.in_place && !self.spilled).then_some((from, from + chunk_part.len())),
        };
        // Ready for the next record; the view still borrows the buffers until it is dropped.
        self.out = 0;
        self.nends = 0;
        self.size = 0;
        self.quotes = 0;
        self.too_big = false;
        self.spilled = false;
        self.start = end;
        // `spill` is cleared when the next record starts (see `next`).
        view
    }

    /// Note which records starting in `rest`, the lines after the first of a record found to
    /// hold merged rows, are merged rows to its end too. `end`: where `rest` ends in the
    /// chunk the parser reads next.
    ///
    /// One such record at a time is enough: a record starting on one of its later lines
    /// either ends on that line, or is inside a quote at its first line break and so ends
    /// where this one does (see `Merging`), or starts on its last line and runs on past its
    /// end; only the last kind is found to hold merged rows by reading it, and that one ends
    /// elsewhere: the next record starts past this one's end.
    fn remember_merged(&mut self, rest: &[u8], end: usize) {
        self.merging = Some(Merging::new(
            rest,
            end,
            self.delimiter,
            self.expected_fields,
        ));
    }

    /// The record's first `n` fields, in place (in `chunk_part`) or copied.
    fn view_fields<'a>(&'a self, chunk_part: &'a [u8], n: usize) -> Fields<'a> {
        Fields {
            text: if self.in_place {
                chunk_part
            } else {
                &self.fields[..self.ends[..n].last().map_or(0, |&e| e)]
            },
            starts: &self.starts[..n],
            ends: &self.ends[..n],
        }
    }

    /// Copied fields lie end to end: each starts where the one before ends.
    fn starts_from_ends(&mut self, n: usize) {
        if self.starts.len() < n {
            self.starts.resize(self.ends.len(), 0);
        }
        let mut start = 0;
        for (s, &e) in self.starts.iter_mut().zip(&self.ends[..n]) {
            *s = start;
            start = e;
        }
    }

    fn reset_record(&mut self) {
        self.out = 0;
        self.nends = 0;
        self.size = 0;
        self.quotes = 0;
        self.record_lines = 0;
        self.too_big = false;
        self.spill.clear();
        self.spill_quoting = Quoting::Start;
        self.spill_tail = [None; 2];
        self.spilled = false;
    }
}

/// How many line-break bytes the record kept in `spill`, then `part`, starts with.
fn leading_breaks(spill: &[u8], part: &[u8]) -> usize {
    spill
        .iter()
        .chain(part)
        .take_while(|b| is_break(**b))
        .count()
}

/// Of a record's `total` line breaks, how many come before its first byte (blank lines, a
/// CRLF's LF) and how many inside it (its own terminator is neither). The record is the bytes
/// kept of it in `spill`, then `part`; `spill_tail` holds the last two bytes spilled, kept or
/// not. `after_cr`: the byte before the record was a CR.
fn split_lines(
    spill: &[u8],
    part: &[u8],
    spill_tail: [Option<u8>; 2],
    total: u64,
    after_cr: bool,
) -> (u64, u64) {
    let mut leading = 0;
    let mut prev_cr = after_cr;
    for &b in spill.iter().chain(part).take_while(|b| is_break(**b)) {
        if b == b'\r' || !prev_cr {
            leading += 1;
        }
        prev_cr = b == b'\r';
    }
    // The record's own terminator, one line whether \n, \r, or \r\n.
    let trailing = u64::from(terminator(part, spill_tail) > 0);
    (leading, total.saturating_sub(leading + trailing))
}

/// How many bytes the record's own terminator takes at its end (0 at the end of the input
/// without one, 2 for a CRLF): the record's last bytes are `part`'s, or `spill_tail`'s when
/// `part` is too short.
fn terminator(part: &[u8], spill_tail: [Option<u8>; 2]) -> usize {
    let mut tail = part
        .iter()
        .copied()
        .rev()
        .chain(spill_tail.into_iter().rev().flatten());
    match (tail.next(), tail.next()) {
        (Some(b'\n'), Some(b'\r')) => 2,
        (Some(b), _) if is_break(b) => 1,
        _ => 0,
    }
}

/// After a record found to run to the end of the input inside a quote, which of the records
/// that may start after it do the same. Each such record is set aside (its first line kept)
/// and the lines after it read again; finding that out by reading each to the end of the
/// input made a file of them quadratic. One pass backwards over the rest of the input finds
/// them all: where a record starting at a byte ends depends only on the bytes after it.
#[derive(Debug)]
struct Doomed {
    /// Bit `d`: a record whose first byte (after blank lines) lies `d` bytes before the end
    /// of the input reaches it inside a quote.
    bits: Vec<u64>,
}

impl Doomed {
    /// `rest`: the input from some point to its end.
    fn new(rest: &[u8], delimiter: u8) -> Doomed {
        use Quoting::*;
        // In declaration order: a state's fate is at `state as usize`.
        const STATES: [Quoting; 4] = [Start, Plain, Quoted, QuoteInQuoted];
        /// Where reading on from a byte in a state leads: a record's end, or the end of the
        /// input inside a quote or not, having passed so many field delimiters.
        #[derive(Clone, Copy, PartialEq)]
        enum Fate {
            Ends,
            EofQuoted(u32),
            EofOther,
        }
        let mut bits = vec![0u64; rest.len() / 64 + 1];
        let mut after = STATES.map(|s| {
            if s == Quoted {
                Fate::EofQuoted(0)
            } else {
                Fate::EofOther
            }
        });
        for (i, &b) in rest.iter().enumerate().rev() {
            let fate = STATES.map(|s| {
                if is_break(b) && s != Quoted {
                    return Fate::Ends;
                }
                match after[s.after(&[b], delimiter) as usize] {
                    Fate::EofQuoted(n) => {
                        let separates = b == delimiter && s != Quoted;
                        Fate::EofQuoted(n.saturating_add(u32::from(separates)))
                    }
                    other => other,
                }
            });
            // Within the field limit (past it, the record is too big: unrecoverable).
            let fields_fit = |n: u32| (n as usize) < MAX_FIELDS;
            if !is_break(b) && matches!(fate[Start as usize], Fate::EofQuoted(n) if fields_fit(n)) {
                let d = rest.len() - i;
                bits[d / 64] |= 1 << (d % 64);
            }
            after = fate;
        }
        Doomed { bits }
    }

    /// A record starting at `chunk[pos]` (a chunk that ends where the input does) runs to
    /// the end inside a quote.
    fn holds(&self, chunk: &[u8], pos: usize) -> bool {
        let Some(first) = chunk[pos..].iter().position(|b| !is_break(*b)) else {
            return false;
        };
        let d = chunk.len() - pos - first;
        self.bits
            .get(d / 64)
            .is_some_and(|word| word & (1 << (d % 64)) != 0)
    }
}

/// What is known of a record set aside without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Nothing: it was read.
    Nothing,
    /// It runs to the end of the input inside a quote (`Doomed`).
    Doomed,
    /// It holds merged rows, to the end of a record found to hold them (`Merging`).
    Merged,
}

/// After a record found to hold rows merged by a stray quote, which of the records that may
/// start on its later lines (read again once it is set aside) run to its very end and hold
/// merged rows too. Each is set aside in turn, its first line kept, and the lines after it
/// read again: finding that out by reading each to the end made a file of them quadratic.
/// As with `Doomed`, one pass backwards over the record finds them all: how a record starting
/// at a byte reads depends only on the bytes after it. Its fields are never needed: only
/// what `merged_rows` asks of them.
#[derive(Debug)]
struct Merging {
    /// Where the record found to hold merged rows ends (its terminator included), in the
    /// chunk the parser reads.
    end: usize,
    /// Bit `d`: a record whose first byte lies `d` bytes before `end` runs to `end` and holds
    /// merged rows.
    bits: Vec<u64>,
}

impl Merging {
    /// `rest`: the record's bytes from the end of its first line to `end`.
    fn new(rest: &[u8], end: usize, delimiter: u8, expected: usize) -> Merging {
        use Quoting::*;
        // The record without its own terminator: its trailing line breaks (one before the
        // terminator would lie inside a quote, and so would the terminator).
        let body = &rest[..rest
            .iter()
            .rposition(|b| !is_break(*b))
            .map_or(0, |i| i + 1)];
        let mut bits = vec![0u64; rest.len() / 64 + 1];
        // Where the last line that is a row quoted by the book by itself starts: a record
        // whose first line ends before it has such a line after its first (`merged_rows`).
        let mut witness = None;
        let mut at = 0;
        for line in body.split(|b| is_break(*b)) {
            if !line.is_empty() && by_the_book(line, delimiter, expected) {
                witness = Some(at);
            }
            at += line.len() + 1;
        }
        /// Reading on from a byte in a `Quoting` state, in a record that has not ended.
        #[derive(Clone, Copy, Default)]
        struct Run {
            /// Field delimiters passed on the way.
            delimiters: u32,
            /// A line break inside the record lies ahead. A record that starts on a later line
            /// and spans one is inside a quote at that line break, as the record found to hold
            /// merged rows is (it did not end there): from there on both read alike, so it
            /// ends where that one does.
            spans: bool,
            /// A line ahead inside a field holds a row's worth of delimiters (`holds_a_row`).
            holds_a_row: bool,
            /// Delimiters in the field's value from here to the end of its line or of it.
            in_line: u32,
        }
        // In declaration order: a state's run is at `state as usize`.
        const STATES: [Quoting; 4] = [Start, Plain, Quoted, QuoteInQuoted];
        let mut after = [Run::default(); 4];
        // `by_the_book` read from a byte on: the delimiters to the record's end if it is a row
        // quoted by the book, at a field's start, inside one unquoted, inside quotes, or just
        // after a closing quote. `book_after_2`: inside quotes, two bytes on (past a `""`).
        let mut book_after: [Option<u32>; 4] = [Some(0), Some(0), None, Some(0)];
        let mut book_after_2 = None;
        // Where the line of the byte in hand ends.
        let mut line_end = body.len();
        for (i, &b) in body.iter().enumerate().rev() {
            let brk = is_break(b);
            if brk {
                line_end = i;
            }
            let run = STATES.map(|s| {
                if brk && s != Quoted {
                    // The record ends here.
                    return Run::default();
                }
                let next = after[s.after(&[b], delimiter) as usize];
                let separates = b == delimiter && s != Quoted;
                Run {
                    delimiters: next.delimiters.saturating_add(u32::from(separates)),
                    spans: brk || next.spans,
                    holds_a_row: next.holds_a_row
                        || (brk
                            && (after[Quoted as usize].in_line as usize).saturating_add(1)
                                >= expected),
                    in_line: match s {
                        // Not read: a line inside a field starts inside quotes.
                        Start => 0,
                        Quoted if brk => 0,
                        Quoted => next.in_line.saturating_add(u32::from(b == delimiter)),
                        _ if b == delimiter => 0,
                        _ => next.in_line,
                    },
                }
            });
            let [field_start, plain, quoted, closed] = book_after;
            let book = [
                match b {
                    b'"' => quoted,
                    _ if b == delimiter => field_start.map(|n| n.saturating_add(1)),
                    _ if brk => None,
                    _ => plain,
                },
                match b {
                    b'"' => None,
                    _ if b == delimiter => field_start.map(|n| n.saturating_add(1)),
                    _ if brk => None,
                    _ => plain,
                },
                match b {
                    b'"' if body.get(i + 1) == Some(&b'"') => book_after_2,
                    b'"' => closed,
                    _ => quoted,
                },
                match b {
                    _ if b == delimiter => field_start.map(|n| n.saturating_add(1)),
                    _ => None,
                },
            ];
            book_after_2 = quoted;
            book_after = book;
            let start = run[Start as usize];
            let starts_a_line = i > 0 && is_break(body[i - 1]) && !brk;
            if starts_a_line
                && start.spans
                // Within the field limit (past it, the record is too big, and not split):
                // no margin, or every line could start a record just past it.
                && (start.delimiters as usize) < MAX_FIELDS
                && book[0] != Some(expected.saturating_sub(1) as u32)
                && (start.holds_a_row || witness.is_some_and(|w| w > line_end))
            {
                let d = rest.len() - i;
                bits[d / 64] |= 1 << (d % 64);
            }
            after = run;
        }
        Merging { end, bits }
    }

    /// Where a record starting at `chunk[pos]` ends, if it is known to hold merged rows.
    fn holds(&self, chunk: &[u8], pos: usize) -> Option<usize> {
        if self.end > chunk.len() || pos >= self.end {
            return None;
        }
        let first = pos + chunk[pos..self.end].iter().position(|b| !is_break(*b))?;
        let d = self.end - first;
        let word = self.bits.get(d / 64)?;
        (word & (1 << (d % 64)) != 0).then_some(self.end)
    }
}

/// Where a record's quoting stands after some of its bytes, as `csv_core` reads them: at a
/// field's start, in an unquoted field, inside quotes, or just after a quote inside quotes.
/// A quote opens a field only at its start, `""` inside it is a quote, and a closing quote
/// followed by anything but a delimiter or a line break goes on as plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Start,
    Plain,
    Quoted,
    QuoteInQuoted,
}

impl Quoting {
    /// The state after `bytes`.
    fn after(self, bytes: &[u8], delimiter: u8) -> Quoting {
        use Quoting::*;
        bytes.iter().fold(self, |s, &b| match s {
            Start if b == b'"' => Quoted,
            Start | Plain if b == delimiter || is_break(b) => Start,
            Start | Plain => Plain,
            Quoted if b == b'"' => QuoteInQuoted,
            Quoted => Quoted,
            QuoteInQuoted if b == b'"' => Quoted,
            QuoteInQuoted if b == delimiter || is_break(b) => Start,
            QuoteInQuoted => Plain,
        })
    }
}

/// Whether a quoted field of `raw` goes on after its closing quote (`"1"5`, `"a"b@x.com`):
/// read as one cell (`15`), it may not be what the file meant, and readers disagree on it.
pub fn text_after_closing_quote(raw: &[u8], delimiter: u8) -> bool {
    let mut state = Quoting::Start;
    for b in raw.iter() {
        if state == Quoting::QuoteInQuoted && *b != b'"' && *b != delimiter && !is_break(*b) {
            return true;
        }
        state = state.after(std::slice::from_ref(b), delimiter);
    }
    false
}

/// RFC 4180 quoting: a field is either unquoted without any quote in it, or wholly quoted
/// with inner quotes doubled. (Readers disagree on anything else, such as `"x"y`.)
pub fn well_quoted(raw: &[u8], delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum S {
        Start,
        Plain,
        Quoted,
        Closed,
    }
    let mut s = S::Start;
    for &b in raw {
        s = match s {
            S::Start if b == b'"' => S::Quoted,
            S::Start | S::Plain if b == delimiter => S::Start,
            S::Start | S::Plain if b == b'"' => return false,
            S::Start | S::Plain => S::Plain,
            S::Quoted if b == b'"' => S::Closed,
            S::Quoted => S::Quoted,
            // `""` inside a quoted field, or the field's end.
            S::Closed if b == b'"' => S::Quoted,
            S::Closed if b == delimiter => S::Start,
            S::Closed => return false,
        };
    }
    s != S::Quoted
}

/// Whether a field that spans lines holds, on one of its lines after the first, as many
/// delimiters as a whole row (`fields - 1`): the sign of rows merged by a stray quote. Those
/// lines lie wholly inside the field, so this looks at the field's value, not the raw bytes.
fn holds_a_row(fields: Fields<'_>, delimiter: u8, expected: usize) -> bool {
    fields.iter().any(|field| {
        memchr::memchr2(b'\n', b'\r', field).is_some()
            && field
                .split(|b| is_break(*b))
                .skip(1)
                .any(|line| memchr::memchr_iter(delimiter, line).count() + 1 >= expected)
    })
}

/// `csv` reset, and past its first read: a fresh (or reset) `csv_core` reader drops a UTF-8
/// byte order mark that starts its input, which is right at the start of a file (and done
/// before, in `decoded`), but not mid-file, where a worker's chunk or a record read again may
/// start with U+FEFF as text: the fast path keeps it, and so must `csv_core`. One blank line
/// (skipped, as every blank line between records is) counts as the first read.
pub fn prime(csv: &mut CsvCore) {
    csv.reset();
    let _ = csv.read_record(b"\n", &mut [0; 1], &mut [0; 1]);
}

/// Whether `bytes` (a line, or a whole record with the line breaks around it) is a row of
/// `expected` fields quoted by the book: every quote opens a field or closes it (or is doubled
/// inside it), and a line break lies inside a quoted field or ends the row.
///
/// A genuine record that spans lines is one (its notes are quoted); rows merged by a stray
/// quote are not, or not of that width. And a line after a merged record's first that is one
/// by itself is the sign of a row the stray quote swallowed (`1,"Ann` then `2,"Smith, Bo",…`,
/// whose quote closed Ann's): a line of a genuine record never is, since its quoted field
/// closes on its last line after text.
fn by_the_book(bytes: &[u8], delimiter: u8, expected: usize) -> bool {
    let ends_here = |at: usize| bytes[at..].iter().all(|b| is_break(*b));
    let mut i = bytes
        .iter()
        .position(|b| !is_break(*b))
        .unwrap_or(bytes.len());
    let mut fields = 1;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            // A quoted field: to its closing quote (`""` is a quote inside it).
            i += 1;
            loop {
                match memchr::memchr(b'"', &bytes[i..]) {
                    None => return false,
                    Some(q) if bytes.get(i + q + 1) == Some(&b'"') => i += q + 2,
                    Some(q) => {
                        i += q + 1;
                        break;
                    }
                }
            }
            match bytes.get(i) {
                None => break,
                Some(&b) if b == delimiter => {}
                Some(&b) if is_break(b) => return ends_here(i) && fields == expected,
                Some(_) => return false,
            }
        } else {
            let end = (bytes[i..].iter())
                .position(|&b| b == delimiter || b == b'"' || is_break(b))
                .map_or(bytes.len(), |e| i + e);
            match bytes.get(end) {
                None => break,
                Some(b'"') => return false,
                Some(&b) if is_break(b) => return ends_here(end) && fields == expected,
                Some(_) => i = end,
            }
        }
        // At a delimiter: another field follows.
        fields += 1;
        i += 1;
    }
    fields == expected
}

fn is_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Line breaks in `bytes`: LF, CRLF and a lone CR each count once. `after_cr`: the byte before
/// `bytes` was a CR (so a leading LF completes a CRLF already counted).
pub fn count_line_breaks(bytes: &[u8], after_cr: bool) -> u64 {
    if !bytes.contains(&b'\r') {
        let n = memchr::memchr_iter(b'\n', bytes).count() as u64;
        // The LF of a CRLF whose CR came just before was counted with the CR.
        return n - u64::from(after_cr && bytes.first() == Some(&b'\n'));
    }
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

pub fn trim_line_breaks(raw: &[u8]) -> &[u8] {
    let start = raw.iter().position(|b| !is_break(*b)).unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|b| !is_break(*b))
        .map_or(start, |e| e + 1);
    &raw[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `chunks` as (line, fields, raw, flags).
    type Parsed2 = Vec<(u64, Vec<String>, String, &'static str)>;

    fn parse(chunks: &[&[u8]], max: usize) -> Parsed2 {
        parse_with(chunks, max, true)
    }

    /// `shortcut`: set aside records known to run to the end inside a quote without reading
    /// them (`Doomed`); else read each to the end.
    fn parse_with(chunks: &[&[u8]], max: usize, shortcut: bool) -> Parsed2 {
        parse_expecting(chunks, max, 0, shortcut)
    }

    /// `parse_with`, records expected to have `fields` fields (see `merged_rows`); without
    /// `shortcut`, records known to hold merged rows (`Merging`) are read to the end too.
    fn parse_expecting(chunks: &[&[u8]], max: usize, fields: usize, shortcut: bool) -> Parsed2 {
        let mut p = RecordParser::new(b',', max).expect_fields(fields);
        let mut out = Vec::new();
        let mut owned: Vec<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
        let mut i = 0;
        while i < owned.len() {
            let eof = i + 1 == owned.len();
            let mut chunk = std::mem::take(&mut owned[i]);
            let mut pos = 0;
            loop {
                match p.next(&chunk, &mut pos, eof) {
                    Step::Record(v) => {
                        let mut buf = Vec::new();
                        let fields = (0..v.len())
                            .map(|f| String::from_utf8_lossy(v.field(f).unwrap()).into_owned())
                            .collect();
                        let flag = if v.unrecoverable {
                            "unrecoverable"
                        } else if v.unterminated {
                            "unterminated"
                        } else if v.merged {
                            "merged"
                        } else if v.too_big {
                            "too big"
                        } else {
                            ""
                        };
                        out.push((
                            v.line,
                            fields,
                            String::from_utf8_lossy(v.raw(&mut buf)).into_owned(),
                            flag,
                        ));
                        if !shortcut {
                            p.doomed = None;
                            p.merging = None;
                        }
                    }
                    Step::NeedMore => break,
                    Step::End => break,
                }
                match p.take_replay() {
                    Some(Replay::At(at)) => pos = at,
                    Some(Replay::Bytes(mut rest)) => {
                        rest.extend_from_slice(&chunk[pos..]);
                        (chunk, pos) = (rest, 0);
                    }
                    None => {}
                }
            }
            i += 1;
        }
        out
    }

    fn lines_and_fields(chunks: &[&[u8]]) -> Vec<(u64, Vec<String>)> {
        parse(chunks, 1 << 20)
            .into_iter()
            .map(|(l, f, _, _)| (l, f))
            .collect()
    }

    #[test]
    fn one_chunk_or_many_give_the_same_records() {
        let data: &[u8] = b"h1,h2\n\n1,\"a\nb\"\r\n2,x\r\n\r\n3,\"q\"\"q\"\n";
        let whole = lines_and_fields(&[data]);
        assert_eq!(
            whole,
            vec![
                (1, vec!["h1".into(), "h2".into()]),
                (3, vec!["1".into(), "a\nb".into()]),
                (5, vec!["2".into(), "x".into()]),
                (7, vec!["3".into(), "q\"q".into()]),
            ]
        );
        for cut in 1..data.len() {
            let (a, b) = data.split_at(cut);
            assert_eq!(lines_and_fields(&[a, b]), whole, "cut at {cut}");
        }
    }

    #[test]
    fn raw_rows_are_the_bytes_as_written() {
        let data: &[u8] = b"a,b\n1,\"x, y\"\r\n";
        let recs = parse(&[data], 1 << 20);
        assert_eq!(recs[1].2, "1,\"x, y\"");
        let (a, b) = data.split_at(7);
        assert_eq!(parse(&[a, b], 1 << 20)[1].2, "1,\"x, y\"");
    }

    #[test]
    fn bare_cr_lines_count() {
        assert_eq!(
            lines_and_fields(&[b"a\rb\rc"]),
            vec![
                (1, vec!["a".into()]),
                (2, vec!["b".into()]),
                (3, vec!["c".into()])
            ]
        );
    }

    #[test]
    fn an_unterminated_quote_keeps_its_line_and_reads_the_rest_again() {
        let recs = parse(&[b"h,i\n1,\"open\n2,b\n3,c\n"], 1 << 20);
        let summary: Vec<(u64, String, &str)> = recs
            .iter()
            .map(|(l, _, raw, f)| (*l, raw.clone(), *f))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, "h,i".into(), ""),
                (2, "1,\"open".into(), "unterminated"),
                (3, "2,b".into(), ""),
                (4, "3,c".into(), ""),
            ]
        );
    }

    #[test]
    fn rows_merged_by_a_stray_quote_are_split_again() {
        let mut p = RecordParser::new(b',', 1 << 20).expect_fields(4);
        let data: &[u8] = b"a,b,c,d\n1,\"x,y,z\n2,p,q,r\n3,\"s\",t,u\n4,v,w,x\n";
        let chunk = data.to_vec();
        let mut pos = 0;
        let mut seen = Vec::new();
        while let Step::Record(v) = p.next(&chunk, &mut pos, true) {
            let field0 = String::from_utf8_lossy(v.field(0).unwrap_or_default()).into_owned();
            seen.push((v.line, v.merged, field0));
            if v.merged {
                // In this chunk: read on from the end of the merged record's first line.
                assert_eq!(p.take_replay(), Some(Replay::At(16)));
                pos = 16;
            }
        }
        assert_eq!(
            seen,
            vec![
                (1, false, "a".into()),
                (2, true, "".into()),
                (3, false, "2".into()),
                (4, false, "3".into()),
                (5, false, "4".into()),
            ]
        );
    }

    /// Every record of `data` (one chunk, `expected` fields a row) as (line, merged, fields,
    /// field `column`), reading on where a merged or unterminated record says to.
    fn replayed(data: &[u8], expected: usize, column: usize) -> Vec<(u64, bool, usize, String)> {
        let mut p = RecordParser::new(b',', 1 << 20).expect_fields(expected);
        let (mut pos, mut seen) = (0, Vec::new());
        while let Step::Record(v) = p.next(data, &mut pos, true) {
            let field = String::from_utf8_lossy(v.field(column).unwrap_or_default()).into_owned();
            seen.push((v.line, v.merged, v.len(), field));
            if let Some(Replay::At(at)) = p.take_replay() {
                pos = at;
            }
        }
        seen
    }

    /// The stray quote is closed by the next row's own quoted field, and the merged record
    /// even has the header's number of fields: its second line is a whole row by itself.
    #[test]
    fn a_merged_record_of_the_right_width_is_split_too() {
        let data: &[u8] = b"id,name,size,x\n1,\"Ann,10,y\n2,Bo,\"1,200\",z\n3,Cy,5,w\n";
        assert_eq!(
            replayed(data, 4, 1),
            vec![
                (1, false, 4, "name".into()),
                (2, true, 1, "".into()),
                (3, false, 4, "Bo".into()),
                (4, false, 4, "Cy".into()),
            ]
        );
    }

    /// The stray quote is closed by the next row's own quoted field: the record has the
    /// wrong number of fields, and its second line is a whole row by itself.
    #[test]
    fn a_row_whose_quote_closed_a_stray_one_is_split_off_again() {
        let data: &[u8] = b"id,name,email,n,notes
1,\"unterminated,e1@x.com,3,x\n2,\"Smith, Ann\",e2@x.com,14,plain\n3,Bob,e3@x.com,5,\n";
        assert_eq!(
            replayed(data, 5, 1),
            vec![
                (1, false, 5, "name".into()),
                (2, true, 1, "".into()),
                (3, false, 5, "Smith, Ann".into()),
                (4, false, 5, "Bob".into()),
            ]
        );
    }

    /// U+FEFF is text after the file's start: every path keeps it, the first record of a
    /// parser (a worker's chunk) and the record after a merged one included.
    #[test]
    fn a_byte_order_mark_inside_the_input_is_text() {
        let fields = |data: &[u8], fast: bool| {
            let mut p = RecordParser::new(b',', 1 << 20);
            p.fast = fast;
            let mut pos = 0;
            let mut out = Vec::new();
            while let Step::Record(v) = p.next(data, &mut pos, true) {
                out.push(String::from_utf8_lossy(v.field(0).unwrap_or_default()).into_owned());
            }
            out
        };
        for fast in [true, false] {
            assert_eq!(
                fields(b"\xEF\xBB\xBFa,b\n", fast),
                ["\u{feff}a"],
                "fast: {fast}"
            );
            assert_eq!(
                fields(b"\xEF\xBB\xBF\"a\",b\n", fast),
                ["\u{feff}\"a\""],
                "fast: {fast}"
            );
        }
        // After a stray quote: the record read again starts with U+FEFF.
        let data: &[u8] = b"1,\"x,y\n\xEF\xBB\xBF2,p,q\n";
        let seen: Vec<String> = (replayed(data, 3, 0).into_iter()).map(|r| r.3).collect();
        assert_eq!(seen, ["", "\u{feff}2"]);
    }

    #[test]
    fn lines_and_records_by_the_book() {
        for (line, fields) in [
            (&b"2,\"Smith, Ann\",e2@x.com,14,plain"[..], 5),
            (b"a,,\"\",\"say \"\"hi\"\"\",e", 5),
            (b",,,,", 5),
        ] {
            assert!(by_the_book(line, b',', fields), "{line:?}");
        }
        for (line, fields) in [
            (&b"2,\"Smith, Ann\",e2@x.com,14"[..], 5),
            (b"line2 text\",a,b,c,d", 5),
            (b"\",a,b,c,d", 5),
            (b"a,\"b\"c,d,e,f", 5),
            (b"a,\"open,c,d,e", 5),
        ] {
            assert!(!by_the_book(line, b',', fields), "{line:?}");
        }
    }

    #[test]
    fn two_multi_line_fields_are_not_taken_for_merged_rows() {
        let mut p = RecordParser::new(b',', 1 << 20).expect_fields(6);
        let data: &[u8] = b"id0,\"multi\nline\",\"1,200\",,,\"multi\nline\"\n";
        let mut pos = 0;
        let Step::Record(v) = p.next(data, &mut pos, true) else {
            panic!()
        };
        assert_eq!((v.merged, v.len()), (false, 6));
    }

    /// In a narrow file a note's line easily holds a row's worth of commas; the record is by
    /// the book at the header's width, so it is one contact, not rows merged by a stray quote.
    #[test]
    fn a_note_with_a_rows_worth_of_commas_in_a_narrow_file_is_one_record() {
        let data: &[u8] = b"id,name,email,notes\n1,Ann,a@x.com,\"Call notes:\n\
            - budget ok, timeline Q3, decision CFO, next demo\n- follow up\"\n2,Bo,b@x.com,\n";
        assert_eq!(
            replayed(data, 4, 1),
            vec![
                (1, false, 4, "name".into()),
                (2, false, 4, "Ann".into()),
                (5, false, 4, "Bo".into()),
            ]
        );
    }

    #[test]
    fn whole_records_by_the_book() {
        for (record, fields) in [
            (&b"1,\"a\nb\",c,d\n"[..], 4),
            (b"\r\n1,\"a\r\n\"\"b\"\"\",c,d\r\n", 4),
            (b"1,\"a\nb, c, d, e\nf\",\"\",d", 4),
        ] {
            assert!(by_the_book(record, b',', fields), "{record:?}");
        }
        for (record, fields) in [
            (&b"1,\"x,y,z\n2,p,q,r\n3,\"s\",t,u\n"[..], 4),
            (b"1,\"a\nb\",c\n", 4),
            (b"1,\"a\nb\",c,d\n2,e,f,g", 4),
        ] {
            assert!(!by_the_book(record, b',', fields), "{record:?}");
        }
    }

    #[test]
    fn a_multi_line_note_is_not_taken_for_merged_rows() {
        let mut p = RecordParser::new(b',', 1 << 20).expect_fields(4);
        let data: &[u8] = b"1,\"call notes:\n- budget ok, soon\",z,w\n";
        let mut pos = 0;
        let Step::Record(v) = p.next(data, &mut pos, true) else {
            panic!()
        };
        assert_eq!((v.merged, v.len()), (false, 4));
    }

    #[test]
    fn a_record_over_the_limit_is_marked_and_cut() {
        let big = format!("a,b\n1,\"{}\"\n2,ok\n", "x".repeat(5000));
        let recs = parse(&[big.as_bytes()], 1024);
        assert_eq!(recs[1].3, "too big");
        assert!(recs[1].2.len() <= 1024);
        assert_eq!(recs[2].1, vec!["2".to_string(), "ok".to_string()]);
        assert_eq!(recs[2].0, 3);
    }

    #[test]
    fn quoting_by_the_book() {
        assert!(well_quoted(b"1,\"Acme, Inc.\",\"say \"\"hi\"\"\",", b','));
        assert!(well_quoted(b"\"\",x", b','));
        assert!(!well_quoted(b"3,\"x\"y,3", b','));
        assert!(!well_quoted(b"1,a\"b,2", b','));
        assert!(!well_quoted(b"1,\"open", b','));
    }

    type Parsed = (u64, Vec<Vec<u8>>, Vec<u8>, bool);

    /// Every record as (line, fields, raw, too big), parsing `chunks` with or without the
    /// fast path.
    fn records(chunks: &[Vec<u8>], fast: bool) -> Vec<Parsed> {
        let mut p = RecordParser::new(b',', 256);
        p.fast = fast;
        let mut out = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let eof = i + 1 == chunks.len();
            let mut pos = 0;
            while let Step::Record(v) = p.next(chunk, &mut pos, eof) {
                let mut buf = Vec::new();
                let fields = (0..v.len()).map(|f| v.field(f).unwrap().to_vec()).collect();
                let raw = v.raw(&mut buf).to_vec();
                // What the fast path calls well quoted is, by the stricter check.
                assert!(!v.well_quoted || well_quoted(&raw, b','), "{raw:?}");
                out.push((v.line, fields, raw, v.too_big));
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The fast path reads every record exactly as csv_core does, wherever the chunks
        /// are cut.
        #[test]
        fn the_fast_path_agrees_with_csv_core(
            bytes in proptest::collection::vec(proptest::sample::select(b"ab,\"\n\r \"".to_vec()), 0..120),
            cut in 0usize..120,
        ) {
            let whole = vec![bytes.clone()];
            proptest::prop_assert_eq!(records(&whole, true), records(&whole, false));
            let cut = cut.min(bytes.len());
            let two = vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()];
            proptest::prop_assert_eq!(records(&two, true), records(&whole, false));
        }
    }

    /// The shape of fuzz/regressions/classify/unterminated-quote-chain.csv: every repetition
    /// opens a quote at a field's start that a quote inside a field of the next one closes,
    /// so a record starting at any `2,` line runs to the end of the input inside a quote.
    fn unterminated_chain(repetitions: usize) -> Vec<u8> {
        let unit = b"2,x\"y,0,\",0\n3,c\n";
        let mut bytes = b"h,i\n".to_vec();
        for _ in 0..repetitions {
            bytes.extend_from_slice(unit);
        }
        bytes
    }

    #[test]
    fn a_chain_of_unterminated_quotes_is_set_aside_line_by_line_without_rereading() {
        let bytes = unterminated_chain(300);
        let records = parse(&[&bytes], 1 << 20);
        assert_eq!(records, parse_with(&[&bytes], 1 << 20, false));
        let unterminated = records.iter().filter(|r| r.3 == "unterminated").count();
        assert_eq!(
            unterminated,
            300,
            "every `2,` line, of {} records",
            records.len()
        );
        // The shortcut was taken: the records after the first were not read to the end.
        assert_eq!(set_aside(&bytes, 0)[0], (unterminated, unterminated - 1));
    }

    /// Records read from `bytes` (one chunk, `fields` fields a row) that were set aside, as
    /// running to the end inside a quote and as holding merged rows; with each, how many of
    /// them the parser set aside unread, as `Doomed` or `Merging` knew them.
    fn set_aside(bytes: &[u8], fields: usize) -> [(usize, usize); 2] {
        let mut p = RecordParser::new(b',', 1 << 20).expect_fields(fields);
        let (mut pos, mut chunk) = (0, bytes.to_vec());
        let mut counts = [(0, 0); 2];
        loop {
            let before = p.set_aside_unread;
            let flags = match p.next(&chunk, &mut pos, true) {
                Step::Record(v) => [v.unterminated, v.merged],
                _ => break,
            };
            let unread = p.set_aside_unread > before;
            for (count, flag) in counts.iter_mut().zip(flags) {
                count.0 += usize::from(flag);
                count.1 += usize::from(flag && unread);
            }
            match p.take_replay() {
                Some(Replay::At(at)) => pos = at,
                Some(Replay::Bytes(rest)) => (chunk, pos) = (rest, 0),
                None => {}
            }
        }
        counts
    }

    #[test]
    fn a_chain_of_unterminated_quotes_near_the_field_limit_is_set_aside_without_rereading() {
        // Records that run to the end inside a quote passing nearly as many delimiters as a
        // record may have fields (`","` inside a quote closes it, separates, and opens another).
        let mut bytes = b"h,i\n".to_vec();
        for i in 0..40 {
            bytes.extend_from_slice(format!("{i},x\",\"y\n").as_bytes());
        }
        bytes.push(b'x');
        for _ in 0..MAX_FIELDS - 100 {
            bytes.extend_from_slice(b"\",\"");
        }
        let records = parse(&[&bytes], 1 << 20);
        assert_eq!(records, parse_with(&[&bytes], 1 << 20, false));
        // The last line too, which runs to the end inside a quote.
        assert_eq!(set_aside(&bytes, 0)[0], (41, 40));
    }

    /// Rows whose stray quotes keep a quote open over every line break, from whichever line
    /// one starts reading (`x","y` closes a quote and opens another, or opens one), and a
    /// line that closes it: a record starting on any of them runs to that line, a row's
    /// worth of delimiters on each line inside it. Then rows of `tail`.
    fn merged_cascade(rows: usize, tail: usize) -> Vec<u8> {
        let mut bytes = b"id,email,name,note\n".to_vec();
        for i in 0..rows {
            bytes.extend_from_slice(format!("{i},u{i}@x.com,n{i},x\",\"y\n").as_bytes());
        }
        bytes.extend_from_slice(b"\"\n");
        for i in 0..tail {
            bytes.extend_from_slice(format!("z{i},z{i}@x.com,n,a\n").as_bytes());
        }
        bytes
    }

    #[test]
    fn a_cascade_of_merged_rows_is_set_aside_line_by_line_without_rereading() {
        let bytes = merged_cascade(300, 3);
        let records = parse_expecting(&[&bytes], 1 << 20, 4, true);
        assert_eq!(records, parse_expecting(&[&bytes], 1 << 20, 4, false));
        let merged = records.iter().filter(|r| r.3 == "merged").count();
        // The last row line's record holds only the closing line after its first.
        assert_eq!(
            merged,
            299,
            "every row line but the last, of {} records",
            records.len()
        );
        let whole: Vec<&str> = (records.iter().rev().take(3))
            .map(|r| r.2.as_str())
            .collect();
        assert_eq!(
            whole,
            ["z2,z2@x.com,n,a", "z1,z1@x.com,n,a", "z0,z0@x.com,n,a"]
        );
        // The shortcut was taken: the records after the first were not read to the end.
        assert_eq!(set_aside(&bytes, 4)[1], (merged, merged - 1));
    }

    #[test]
    fn a_record_with_more_than_max_fields_fields_is_too_big_on_either_path() {
        for fast in [true, false] {
            for (fields, too_big) in [(MAX_FIELDS, false), (MAX_FIELDS + 1, true)] {
                let mut bytes = vec![b','; fields - 1];
                bytes.push(b'\n');
                let mut p = RecordParser::new(b',', 1 << 20);
                p.fast = fast;
                let mut pos = 0;
                let Step::Record(v) = p.next(&bytes, &mut pos, true) else {
                    panic!("no record");
                };
                assert_eq!(v.too_big, too_big, "{fields} fields, fast path {fast}");
                if !too_big {
                    assert_eq!(v.len(), fields);
                }
            }
        }
    }

    #[test]
    fn a_cascade_near_the_field_limit_is_set_aside_without_rereading_too() {
        // Its records pass nearly as many delimiters as a record may have fields (see the
        // test above): known merged all the same, as reading each to the end finds them.
        let mut bytes = merged_cascade(40, 0);
        bytes.pop();
        bytes.extend(std::iter::repeat_n(b',', MAX_FIELDS - 100));
        bytes.extend_from_slice(b"\nz,z@x.com,ann,ok\n");
        let records = parse_expecting(&[&bytes], 1 << 20, 4, true);
        assert_eq!(records, parse_expecting(&[&bytes], 1 << 20, 4, false));
        // As in the cascade above, the last row line's record holds no row after its first.
        assert_eq!(set_aside(&bytes, 4)[1], (39, 38));
        // Past the limit every record from a row line would be too big, so none is split.
        let mut over = merged_cascade(40, 0);
        over.pop();
        over.extend(std::iter::repeat_n(b',', MAX_FIELDS));
        over.extend_from_slice(b"\nz,z@x.com,ann,ok\n");
        let records = parse_expecting(&[&over], 1 << 20, 4, true);
        assert_eq!(records, parse_expecting(&[&over], 1 << 20, 4, false));
        assert_eq!(set_aside(&over, 4)[1], (0, 0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// After a record found to hold merged rows, `Merging` marks exactly the records
        /// starting on its later lines that reading finds to hold merged rows and to end where
        /// it does: every line start checked, not only those the parser comes to.
        #[test]
        fn merging_marks_exactly_the_records_read_as_merged_to_the_same_end(
            lines in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec![
                    "a", "", "\"a", "a\"", "\",\"", "\"\"", "\"a\"", "x\"y", "\"a,b\"",
                    "\"a\nb", "a,a", "\"\"\"",
                ]), 1..6),
                1..40),
            breaks in proptest::collection::vec(
                proptest::sample::select(vec!["\n", "\n", "\r\n", "\r"]), 40),
            fields in 3usize..6,
        ) {
            let mut bytes = Vec::new();
            for (line, brk) in lines.iter().zip(&breaks) {
                bytes.extend_from_slice(line.join(",").as_bytes());
                bytes.extend_from_slice(brk.as_bytes());
            }
            let read = |at: usize| {
                let mut q = RecordParser::new(b',', 1 << 20).expect_fields(fields);
                let mut pos = at;
                let merged = matches!(q.next(&bytes, &mut pos, true), Step::Record(v) if v.merged);
                (merged, pos)
            };
            let mut p = RecordParser::new(b',', 1 << 20).expect_fields(fields);
            let mut pos = 0;
            loop {
                p.merging = None;
                let merged = match p.next(&bytes, &mut pos, true) {
                    Step::Record(v) => v.merged,
                    _ => break,
                };
                let replay = p.take_replay();
                if let (true, Some(Replay::At(cut))) = (merged, &replay) {
                    let (cut, end) = (*cut, pos);
                    let table = Merging::new(&bytes[cut..end], end, b',', fields);
                    for x in cut + 1..end {
                        if is_break(bytes[x - 1]) && !is_break(bytes[x]) {
                            // The same end, but for a CRLF's LF that one read took and
                            // another left to the next record.
                            let (merged_too, its_end) = read(x);
                            let content_end = |e: usize| bytes[..e].iter().rposition(|b| !is_break(*b));
                            proptest::prop_assert_eq!(
                                table.holds(&bytes, x).is_some(),
                                merged_too && content_end(its_end) == content_end(end),
                                "line start {} of {}..{}", x, cut, end
                            );
                        }
                    }
                }
                if let Some(Replay::At(at)) = replay {
                    pos = at;
                }
            }
        }
    }

    #[test]
    fn a_quote_open_to_the_end_is_unterminated_with_or_without_a_line_break_in_it() {
        // The second line, read after the first is set aside, opens a quote that holds only
        // the input's final line break; a last line cut off inside a quote holds none.
        for input in [&b"h\n\"a\nx\"y,\",d\r\n"[..], b"h\n\"a\nx\"y,\",d\n"] {
            let records = parse(&[input], 1 << 20);
            assert_eq!(records, parse_with(&[input], 1 << 20, false));
            let flags: Vec<&str> = records.iter().map(|r| r.3).collect();
            assert_eq!(flags, ["", "unterminated", "unterminated"], "{records:?}");
        }
        for input in [
            &b"h,n\n1,3\n2,\"20"[..],
            b"h,n\n1,3\n2,\"20\n",
            b"h,n\n1,\"3\"\"\n",
        ] {
            let records = parse(&[input], 1 << 20);
            assert_eq!(records, parse_with(&[input], 1 << 20, false));
            let flags: Vec<&str> = records.iter().map(|r| r.3).collect();
            assert_eq!(
                flags,
                ["", "", "unterminated"][3 - records.len()..],
                "{records:?}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Records known to run to the end inside a quote (`Doomed`), or to hold merged rows
        /// (`Merging`; with `fields` of 3 or more), are set aside exactly as reading each to
        /// the end sets them aside, wherever the chunks are cut.
        #[test]
        fn records_known_unterminated_or_merged_are_set_aside_as_if_read(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"ab,,,\"\n\n\r\"\"".to_vec()), 0..300),
            cut in 0usize..300,
            fields in 0usize..6,
            max in proptest::prop_oneof![proptest::strategy::Just(1usize << 20), 8usize..64],
        ) {
            let cut = cut.min(bytes.len());
            for chunks in [&[&bytes[..cut], &bytes[cut..]][..], &[&bytes[..]]] {
                proptest::prop_assert_eq!(
                    parse_expecting(chunks, max, fields, true),
                    parse_expecting(chunks, max, fields, false)
                );
            }
        }

        /// A record over the size limit, an unclosed quote, or both, are told apart the same
        /// way wherever the chunks are cut, and when the end of the input comes as a chunk of
        /// its own (as the pipeline's reader may find it).
        #[test]
        fn limits_and_open_quotes_do_not_depend_on_chunks(
            bytes in proptest::collection::vec(proptest::sample::select(b"ab,\"\n\r \"".to_vec()), 0..160),
            cut in 0usize..160,
            max in 4usize..40,
        ) {
            // An unrecoverable record stops the run: its raw bytes are never shown.
            let parsed = |chunks: &[&[u8]]| {
                let mut records = parse(chunks, max);
                for r in &mut records {
                    if r.3 == "unrecoverable" {
                        r.2.clear();
                    }
                }
                records
            };
            let whole = parsed(&[&bytes]);
            let cut = cut.min(bytes.len());
            let (a, b) = bytes.split_at(cut);
            proptest::prop_assert_eq!(&parsed(&[a, b]), &whole, "cut at {}", cut);
            proptest::prop_assert_eq!(&parsed(&[&bytes, b""]), &whole, "an empty last chunk");
            proptest::prop_assert_eq!(&parsed(&[a, b, b""]), &whole, "both");
            // Small pieces, as a decoder may hand them over.
            let pieces: Vec<&[u8]> = bytes.chunks(7).collect();
            proptest::prop_assert_eq!(&parsed(&pieces), &whole, "pieces of 7");
        }
    }

    #[test]
    fn between_records() {
        let mut p = RecordParser::new(b',', 1024);
        let mut pos = 0;
        assert!(matches!(
            p.next(b"a,b\n1,\"x", &mut pos, false),
            Step::Record(_)
        ));
        assert!(matches!(
            p.next(b"a,b\n1,\"x", &mut pos, false),
            Step::NeedMore
        ));
        assert!(!p.is_between_records());
        let mut p = RecordParser::new(b',', 1024);
        let mut pos = 0;
        assert!(matches!(
            p.next(b"a,b\n\n", &mut pos, false),
            Step::Record(_)
        ));
        assert!(matches!(
            p.next(b"a,b\n\n", &mut pos, false),
            Step::NeedMore
        ));
        assert!(p.is_between_records(), "a blank line is no record");
    }
}
