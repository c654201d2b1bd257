//! An Excel workbook: one sheet per queue (sales first, highest score first), a Summary
//! sheet and, when rows could not be read, a Rejected sheet.
//!
//! Rows arrive encoded as CSV (without formula escaping: every text cell is written as a
//! string, which a spreadsheet never runs) and are held until the end, when each queue is
//! sorted and its rows read back into cells. Scores are written as numbers. A workbook is
//! built in memory: an Excel sheet holds at most `EXCEL_MAX_ROWS` rows anyway.

use rust_xlsxwriter::{Color, DocProperties, Format as CellFormat, Workbook, Worksheet, XlsxError};

use super::encode::{Layout, RowBuf, Rows};
use super::{Sink, Target, sorted_by_score};
use crate::engine::QueueId;
use crate::error::{Error, Result};
use crate::input::Rejected;
use crate::summary::Summary;

/// Rows in an Excel sheet, the header included.
pub const EXCEL_MAX_ROWS: usize = 1_048_576;

/// The columns an Excel sheet holds at most.
pub const EXCEL_MAX_COLUMNS: usize = 16_384;
/// Characters in an Excel cell.
pub const EXCEL_MAX_CELL: usize = 32_767;

/// Characters in an Excel sheet name.
const SHEET_NAME_MAX: usize = 31;

/// One queue's sheet: its name and rows so far.
struct Sheet {
    queue: QueueId,
    name: String,
    rows: RowBuf,
}

pub struct XlsxSink {
    target: Target,
    layout: Layout,
    sheets: Vec<Sheet>,
    /// Also a Summary sheet and a Rejected sheet (one workbook for the whole run; with
    /// `--split` each queue's workbook holds its sheet only).
    whole_run: bool,
    rejected: Vec<Rejected>,
}

impl std::fmt::Debug for XlsxSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxSink")
            .field("target", &self.target.name())
            .finish_non_exhaustive()
    }
}

impl XlsxSink {
    /// `queues`: the sheets, in the order they appear (sales first).
    pub fn new(
        target: Target,
        layout: &Layout,
        queues: &[(QueueId, &str)],
        whole_run: bool,
    ) -> XlsxSink {
        let mut names: Vec<String> = Vec::new();
        let sheets = queues
            .iter()
            .map(|&(queue, name)| {
                let name = sheet_name(name, &names);
                names.push(name.clone());
                Sheet {
                    queue,
                    name,
                    rows: RowBuf::default(),
                }
            })
            .collect();
        XlsxSink {
            target,
            layout: layout.clone(),
            sheets,
            whole_run,
            rejected: Vec::new(),
        }
    }

    fn build(&self, summary: &Summary) -> Result<Vec<u8>> {
        let name = self.target.name();
        let err = |e: XlsxError| match e {
            // Its sheets' rows go to temporary files as they are written (constant memory).
            XlsxError::TempFileError(dir, source) => Error::Io {
                what: format!(
                    "cannot write the workbook {name}: cannot create a temporary file in {} \
                     (TMPDIR chooses the folder)",
                    dir.display()
                ),
                source,
            },
            XlsxError::IoError(source) => Error::Io {
                what: format!("cannot write the workbook {name}"),
                source,
            },
            e => Error::Internal(format!("writing the workbook {name}: {e}")),
        };
        let mut book = Workbook::new();
        // Created on the as-of date, not now: the same run gives the same bytes.
        if let Ok(day) = rust_xlsxwriter::ExcelDateTime::parse_from_str(&summary.as_of) {
            book.set_properties(&DocProperties::new().set_creation_datetime(&day));
        }
        let head = CellFormat::new()
            .set_bold()
            .set_background_color(Color::RGB(0xDDEBF7))
            .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
        // Score columns (score, then one per group) are numbers, and so are input cells that
        // a spreadsheet shows unchanged as a number (`plain_number`); every other cell is text.
        let l = &self.layout;
        let groups = l.names.len() - l.inputs - 3 - usize::from(l.owner) - usize::from(l.reasons);
        let numbers = l.inputs..=l.inputs + groups;
        for sheet in &self.sheets {
            let rows = sorted_by_score(sheet.rows.rows());
            if rows.len() + 1 > EXCEL_MAX_ROWS {
                return Err(Error::Data(format!(
                    "queue {} has {} contacts: an Excel sheet holds at most {} rows below its \
                     header; write CSV or JSON Lines instead (--format csv)",
                    sheet.name,
                    rows.len(),
                    EXCEL_MAX_ROWS - 1
                )));
            }
            // Rows go to a temp file as they are written, not into memory cell by cell.
            let ws = book.add_worksheet_with_constant_memory().map_err(err)?;
            ws.set_name(&sheet.name).map_err(err)?;
            // Columns as wide as the header and the first thousand rows need.
            let mut widths: Vec<usize> = l.names.iter().map(|n| n.chars().count()).collect();
            let mut reader = ReadBack::new();
            for (bytes, _) in rows.iter().take(1000) {
                for (w, cell) in widths.iter_mut().zip(reader.read(bytes, &sheet.name)?) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            finish_table(ws, rows.len(), &widths).map_err(err)?;
            for (c, n) in l.names.iter().enumerate() {
                ws.write_string_with_format(0, col(c), n, &head)
                    .map_err(err)?;
            }
            for (r, (bytes, _)) in rows.iter().enumerate() {
                let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
                for (c, cell) in reader.read(bytes, &sheet.name)?.enumerate() {
                    let chars = cell.chars().count();
                    if chars > EXCEL_MAX_CELL {
                        let column = self.layout.names.get(c).map_or("?", String::as_str);
                        return Err(Error::Data(format!(
                            "{}: a contact's {column} has {chars} characters, and an Excel cell \
                             holds at most {EXCEL_MAX_CELL} (it would be row {} of sheet {} of \
                             {name}); write CSV or JSON Lines instead (--format csv), or shorten \
                             the column",
                            summary.input,
                            r + 2,
                            sheet.name
                        )));
                    }
                    let number = match c {
                        _ if numbers.contains(&c) => cell.parse::<i64>().ok().map(|n| n as f64),
                        _ if c < l.inputs => plain_number(cell),
                        _ => None,
                    };
                    match number {
                        Some(n) => ws.write_number(row, col(c), n),
                        None => ws.write_string(row, col(c), cell),
                    }
                    .map_err(err)?;
                }
            }
        }
        if self.whole_run {
            summary_sheet(book.add_worksheet(), summary, &head).map_err(err)?;
            if !self.rejected.is_empty() {
                rejected_sheet(book.add_worksheet(), &self.rejected, &head).map_err(err)?;
            }
        }
        book.save_to_buffer().map_err(err)
    }
}

impl Sink for XlsxSink {
    fn write_rows(&mut self, queue: QueueId, rows: Rows<'_>) -> Result<()> {
        let Some(sheet) = self.sheets.iter_mut().find(|s| s.queue == queue) else {
            return Err(Error::Internal(format!("no sheet for queue {queue}")));
        };
        let buf = &mut sheet.rows;
        let base = buf.bytes.len();
        buf.bytes.extend_from_slice(rows.bytes);
        buf.ends.extend(rows.ends.iter().map(|e| base + e));
        buf.scores.extend_from_slice(rows.scores);
        Ok(())
    }

    fn reject(&mut self, rejected: &Rejected) -> Result<()> {
        if self.whole_run {
            self.rejected.push(rejected.clone());
        }
        Ok(())
    }

    fn finish(self: Box<Self>, summary: &Summary) -> Result<Target> {
        let name = self.target.name();
        // rust_xlsxwriter panics when a sheet's temporary file cannot be written (a full
        // disk, a file-size limit): a fault of the machine, not a bug, reported as such.
        let bytes =
            crate::error::catch_library_panic(|| self.build(summary)).unwrap_or_else(|panic| {
                Err(match temp_file_failure(&panic) {
                    Some(why) => Error::Io {
                        what: format!("cannot write the workbook {name}"),
                        source: std::io::Error::other(format!(
                            "its sheets' temporary files in {} could not be written ({why}): is \
                             that disk full? (TMPDIR chooses the folder)",
                            std::env::temp_dir().display()
                        )),
                    },
                    None => Error::Internal(format!(
                        "writing the workbook {name}: rust_xlsxwriter stopped: {panic}"
                    )),
                })
            })?;
        let mut target = self.target;
        std::io::Write::write_all(&mut target, &bytes)
            .map_err(|e| Error::io(format!("cannot write {name}"), e))?;
        Ok(target)
    }
}

/// Whether rust_xlsxwriter's panic `message` is a failed write or flush of a sheet's
/// temporary file, and the system's reason if it says one (`File too large`). Its writes
/// panic with `Couldn't write to xml file: <error>`, its flushes with an `unwrap()` of the
/// I/O error; a system error shows as `Os { code: 28, kind: ..., message: "..." }`.
fn temp_file_failure(message: &str) -> Option<String> {
    let io = message.starts_with("Couldn't write to xml file")
        || message.contains("Os { code: ")
        || message.contains("Kind(");
    if !io {
        return None;
    }
    let reason = message
        .split_once("message: \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("an I/O error", |(reason, _)| reason);
    Some(reason.to_string())
}

/// Rows of CSV bytes, as the run's encoder wrote them, back into cells: one parser for every
/// row of a sheet (building one is the costly part), and its buffers.
struct ReadBack {
    parser: csv_core::Reader,
    cells: Vec<u8>,
    ends: Vec<usize>,
}

impl ReadBack {
    fn new() -> ReadBack {
        ReadBack {
            parser: csv_core::Reader::new(),
            cells: vec![0; 1024],
            ends: vec![0; 64],
        }
    }

    /// The cells of `row`, which holds one whole record and its line break. (A byte order
    /// mark at its start is a cell's text: the parser is primed not to drop one.)
    fn read<'a>(&'a mut self, row: &[u8], sheet: &str) -> Result<impl Iterator<Item = &'a str>> {
        let unreadable =
            || Error::Internal(format!("a row for sheet {sheet} could not be read back"));
        crate::input::parse::prime(&mut self.parser);
        let (mut input, mut out, mut fields) = (row, 0, 0);
        loop {
            let at_end = input.is_empty();
            let (result, read, written, ended) =
                self.parser
                    .read_record(input, &mut self.cells[out..], &mut self.ends[fields..]);
            input = &input[read..];
            out += written;
            fields += ended;
            match result {
                csv_core::ReadRecordResult::Record => break,
                csv_core::ReadRecordResult::OutputFull => {
                    self.cells.resize(self.cells.len() * 2, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    self.ends.resize(self.ends.len() * 2, 0);
                }
                // Read to its end without a line break: no input says the end.
                csv_core::ReadRecordResult::InputEmpty if !at_end => {}
                csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                    return Err(unreadable());
                }
            }
        }
        // Nothing may follow the record but its line break.
        if !input.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            return Err(unreadable());
        }
        let text = std::str::from_utf8(&self.cells[..out]).map_err(|_| unreadable())?;
        let ends = &self.ends[..fields];
        Ok((0..fields).map(move |f| {
            let start = if f == 0 { 0 } else { ends[f - 1] };
            // Cells end where the row's delimiters were: ASCII, so on character boundaries.
            text.get(start..ends[f]).unwrap_or_default()
        }))
    }
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// A frozen header, an autofilter over the rows, and columns as wide as their contents
/// (within reason).
fn finish_table(
    ws: &mut Worksheet,
    rows: usize,
    widths: &[usize],
) -> std::result::Result<(), XlsxError> {
    ws.set_freeze_panes(1, 0)?;
    if let Some(last) = widths.len().checked_sub(1) {
        let last_row = u32::try_from(rows).unwrap_or(u32::MAX);
        ws.autofilter(0, 0, last_row, col(last))?;
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(col(c), (*w).clamp(6, 60) as f64 + 2.0)?;
    }
    Ok(())
}

/// The run in a few rows: what was read, as of when, with which rules, and where the contacts
/// went.
fn summary_sheet(
    ws: &mut Worksheet,
    s: &Summary,
    head: &CellFormat,
) -> std::result::Result<(), XlsxError> {
    ws.set_name("Summary")?;
    let mut rows: Vec<(String, Value)> = vec![
        ("input".into(), Value::Text(s.input.clone())),
        ("as of".into(), Value::Text(s.as_of.clone())),
        ("rules".into(), Value::Text(s.rules.clone())),
        ("rules sha256".into(), Value::Text(s.rules_sha256.clone())),
        ("contacts".into(), Value::Count(s.contacts)),
        ("rejected rows".into(), Value::Count(s.rejected)),
    ];
    if let Some(sha) = &s.input_sha256 {
        rows.insert(1, ("input sha256".into(), Value::Text(sha.clone())));
    }
    ws.write_string_with_format(0, 0, "", head)?;
    ws.write_string_with_format(0, 1, "value", head)?;
    ws.write_string_with_format(0, 2, "share of contacts", head)?;
    for (name, count) in s.queues.0.iter() {
        rows.push((format!("queue {name}"), Value::Share(*count)));
    }
    for (name, count) in s.tiers.0.iter() {
        rows.push((format!("tier {name}"), Value::Share(*count)));
    }
    // What the run warned about, as summary.json has it: whoever opens only the workbook
    // (of a run under -q) sees it too.
    for w in &s.warnings {
        rows.push(("warning".into(), Value::Text(w.clone())));
    }
    let percent = CellFormat::new().set_num_format("0.0%");
    for (r, (name, value)) in rows.iter().enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        ws.write_string(row, 0, name)?;
        match value {
            Value::Text(t) => {
                ws.write_string(row, 1, t)?;
            }
            Value::Count(n) => {
                ws.write_number(row, 1, *n as f64)?;
            }
            Value::Share(n) => {
                ws.write_number(row, 1, *n as f64)?;
                if s.contacts > 0 {
                    ws.write_number_with_format(row, 2, *n as f64 / s.contacts as f64, &percent)?;
                }
            }
        }
    }
    ws.set_column_width(0, 20)?;
    ws.set_column_width(1, 40)?;
    ws.set_column_width(2, 18)?;
    Ok(())
}

enum Value {
    Text(String),
    Count(u64),
    /// A count shown with its share of the contacts.
    Share(u64),
}

/// The number an input cell holds, if a spreadsheet shows it unchanged as one, so that it
/// sorts, sums and filters as a number (text that looks like a number gets Excel's "number
/// stored as text" flag): written as the shortest form of its value (`500`, `2.5`, `-3`,
/// no `+`, no leading or trailing zero, no exponent: `02134`, `1.50` and `1e5` stay text),
/// at most 11 characters (as many as Excel's General format shows before it turns a number
/// into `1.23457E+11`), and not below a thousandth (which it may show as `1E-05`).
fn plain_number(cell: &str) -> Option<f64> {
    if cell.is_empty() || cell.len() > 11 || cell == "-0" {
        return None;
    }
    let n: f64 = cell.parse().ok()?;
    // Below a thousandth, a spreadsheet may show `1E-05`: kept as text, as written.
    let tiny = n != 0.0 && n.abs() < 0.001;
    (n.is_finite() && !tiny && n.to_string() == cell).then_some(n)
}

/// Rows that could not be read: record, line, reason, and the row as it was (as text).
fn rejected_sheet(
    ws: &mut Worksheet,
    rejected: &[Rejected],
    head: &CellFormat,
) -> std::result::Result<(), XlsxError> {
    ws.set_name("Rejected")?;
    for (c, n) in ["record", "line", "reason", "row"].iter().enumerate() {
        ws.write_string_with_format(0, col(c), *n, head)?;
    }
    for (r, rej) in rejected.iter().take(EXCEL_MAX_ROWS - 1).enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        ws.write_number(row, 0, rej.record as f64)?;
        ws.write_number(row, 1, rej.line as f64)?;
        ws.write_string(row, 2, &rej.reason)?;
        let raw = String::from_utf8_lossy(&rej.raw);
        let raw: String = raw.chars().take(EXCEL_MAX_CELL).collect();
        ws.write_string(row, 3, &raw)?;
    }
    finish_table(ws, rejected.len().min(EXCEL_MAX_ROWS - 1), &[8, 8, 60, 60])
}

/// A valid, unique sheet name for a queue: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(queue: &str, taken: &[String]) -> String {
    let clean: String = queue
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(SHEET_NAME_MAX)
        .collect();
    let mut name = clean.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name))
        || ["summary", "rejected"].contains(&name.to_ascii_lowercase().as_str())
    {
        let suffix = format!(" {n}");
        let keep: String = clean.chars().take(SHEET_NAME_MAX - suffix.len()).collect();
        name = format!("{keep}{suffix}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_numbers_a_spreadsheet_shows_unchanged_are_numbers() {
        for (cell, want) in [
            ("500", Some(500.0)),
            ("2.5", Some(2.5)),
            ("-3", Some(-3.0)),
            ("0", Some(0.0)),
            ("0.1", Some(0.1)),
            ("51200117", Some(51_200_117.0)),
            ("99999999999", Some(99_999_999_999.0)),
        ] {
            assert_eq!(plain_number(cell), want, "{cell}");
        }
        for text in [
            "02134",
            "1.50",
            "1.0",
            "+5",
            "1e5",
            "1,200",
            " 5",
            "5 ",
            "-0",
            "NaN",
            "inf",
            "123456789012",
            "",
            "-",
            ".5",
            "5.",
            "0x10",
            "1_000",
            "0.00001",
            "-0.0009",
        ] {
            assert_eq!(plain_number(text), None, "{text}");
        }
    }

    #[test]
    fn rows_read_back_as_the_csv_crate_reads_them() {
        let long = "x".repeat(5000);
        let many = vec!["7"; 300].join(",");
        let rows = [
            "a,b,c\n".to_string(),
            "\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n".to_string(),
            "\u{feff}bom,é,\n".to_string(),
            "no,line,break".to_string(),
            format!("{long},{many}\n"),
            ",\n".to_string(),
        ];
        // Each row twice with one reader: nothing of one row stays for the next.
        let mut reader = ReadBack::new();
        for row in rows.iter().chain(&rows) {
            let got: Vec<String> = (reader.read(row.as_bytes(), "Sales").unwrap())
                .map(str::to_string)
                .collect();
            let mut csv = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(std::io::Read::chain(&b"\n"[..], row.as_bytes()));
            let want = csv.records().next().unwrap().unwrap();
            assert_eq!(got, want.iter().collect::<Vec<_>>(), "{row:?}");
        }
        assert_eq!(rows.len(), 6);
    }

    #[test]
    fn a_row_that_is_not_one_record_is_an_internal_error() {
        let mut reader = ReadBack::new();
        for row in [&b""[..], b"a,b\nc,d\n", b"a,\xff\n"] {
            match reader.read(row, "Sales") {
                Err(Error::Internal(msg)) => assert!(msg.contains("sheet Sales"), "{msg}"),
                Err(e) => panic!("{row:?}: {e}"),
                Ok(cells) => panic!("{row:?}: read as {:?}", cells.collect::<Vec<_>>()),
            }
        }
        // And the reader still reads the next row.
        let cells: Vec<&str> = reader.read(b"a,b\n", "Sales").unwrap().collect();
        assert_eq!(cells, ["a", "b"]);
    }

    #[test]
    fn only_rust_xlsxwriters_failed_writes_are_io_errors() {
        let os = r#"Os { code: 28, kind: StorageFull, message: "No space left on device" }"#;
        assert_eq!(
            temp_file_failure(&format!("Couldn't write to xml file: {os}")).as_deref(),
            Some("No space left on device")
        );
        assert_eq!(
            temp_file_failure(&format!(
                "called `Result::unwrap()` on an `Err` value: {os}"
            ))
            .as_deref(),
            Some("No space left on device")
        );
        assert_eq!(
            temp_file_failure("Couldn't write to xml file: Kind(WriteZero)").as_deref(),
            Some("an I/O error")
        );
        assert_eq!(
            temp_file_failure("called `Option::unwrap()` on a `None` value"),
            None
        );
        assert_eq!(temp_file_failure("index out of bounds: the len is 3"), None);
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        assert_eq!(sheet_name("sales", &[]), "sales");
        let long = "a".repeat(40);
        assert_eq!(sheet_name(&long, &[]).chars().count(), 31);
        let first = sheet_name(&long, &[]);
        let second = sheet_name(&long, std::slice::from_ref(&first));
        assert_ne!(first, second);
        assert_eq!(second.chars().count(), 31);
        assert_eq!(sheet_name("summary", &[]), "summary 2");
        assert_eq!(sheet_name("a/b", &[]), "a_b");
    }

    fn summary() -> Summary {
        Summary {
            leadsort_version: "test",
            input: "in.csv".into(),
            input_sha256: None,
            rules: "rules.toml".into(),
            rules_sha256: "0".repeat(64),
            as_of: "2026-11-27".into(),
            format: "xlsx",
            rows: 0,
            contacts: 0,
            rejected: 0,
            queues: Default::default(),
            tiers: Default::default(),
            unreadable: Default::default(),
            missing_optional_fields: Vec::new(),
            balance: Default::default(),
            warnings: Vec::new(),
        }
    }

    /// A workbook with one sheet, sales: id, score, tier, queue.
    fn sales_sheet() -> XlsxSink {
        let layout = Layout {
            columns: None,
            reasons: false,
            owner: false,
            names: ["id", "score", "tier", "queue"].map(String::from).to_vec(),
            inputs: 1,
        };
        XlsxSink::new(Target::Memory(Vec::new()), &layout, &[(0, "sales")], true)
    }

    #[test]
    fn a_queue_larger_than_an_excel_sheet_is_an_error_not_a_cut() {
        let mut sink = sales_sheet();
        let mut rows = RowBuf::default();
        for _ in 0..EXCEL_MAX_ROWS {
            rows.bytes.extend_from_slice(b"1,5,warm,sales\n");
            rows.ends.push(rows.bytes.len());
            rows.scores.push(5);
        }
        sink.write_rows(0, rows.rows()).unwrap();
        let err = Box::new(sink).finish(&summary()).unwrap_err().to_string();
        assert!(
            err.contains("1048576 contacts") && err.contains("1048575"),
            "{err}"
        );
    }

    #[test]
    fn a_full_sheet_is_written() {
        let mut sink = sales_sheet();
        let mut rows = RowBuf::default();
        for (id, score) in [("a", 1), ("b", 7), ("c", 7)] {
            rows.bytes
                .extend_from_slice(format!("{id},{score},warm,sales\n").as_bytes());
            rows.ends.push(rows.bytes.len());
            rows.scores.push(score);
        }
        sink.write_rows(0, rows.rows()).unwrap();
        let Target::Memory(bytes) = Box::new(sink).finish(&summary()).unwrap() else {
            panic!("not in memory");
        };
        assert!(bytes.starts_with(b"PK\x03\x04"), "a zip file");
    }
}
