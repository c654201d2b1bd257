//! Workbooks as input (XLSX, XLSM, XLSB, XLS, ODS): one sheet, read whole with calamine and
//! written out as CSV, which the CSV reader then reads like any exported file. Converting
//! once keeps one reader, one set of checks and one numbering of records for every input.
//!
//! The sheet is written so that each CSV line is its sheet row: the rows above the first used
//! cell become blank lines (which the reader skips but counts), and so does an empty row.
//! Only a line break inside a cell moves the rows after it down a line.

use std::fmt::Write as _;
use std::io::Cursor;

use calamine::{Data, ExcelDateTime, Reader, SheetType};

use crate::error::{Error, Result};

/// A ZIP file's signature: XLSX, XLSM, XLSB and ODS are ZIP files (as are many others).
const ZIP: &[u8] = b"PK\x03\x04";
/// The signature of an OLE compound file: old Excel (`.xls`), and other old Office files.
const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];

/// Whether the input's first bytes say it may be a workbook rather than text.
pub fn is_workbook(head: &[u8]) -> bool {
    head.starts_with(ZIP) || head.starts_with(OLE)
}

/// The sheet named `sheet` (else the first worksheet) of the workbook in `bytes`, as UTF-8 CSV
/// separated by commas. `name` is the input's name, for messages.
pub fn to_csv(bytes: &[u8], name: &str, sheet: Option<&str>) -> Result<Vec<u8>> {
    // calamine can panic on a damaged .xls (a few in a thousand randomly corrupted ones do):
    // that is bad input, not a bug of leadsort, so the panic becomes exit 65.
    let read = crate::error::catch_library_panic(|| sheet_as_csv(bytes, name, sheet));
    read.unwrap_or_else(|_| {
        Err(Error::Data(format!(
            "{name} looks like a workbook but cannot be read: it is damaged, or not a workbook"
        )))
    })
}

fn sheet_as_csv(bytes: &[u8], name: &str, sheet: Option<&str>) -> Result<Vec<u8>> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|_| not_a_workbook(bytes, name))?;
    // Chart and dialog sheets hold no rows; a workbook of nothing else offers its names.
    let worksheets: Vec<&calamine::Sheet> = (book.sheets_metadata().iter())
        .filter(|s| s.typ == SheetType::WorkSheet)
        .collect();
    let mut sheets: Vec<String> = worksheets.iter().map(|s| s.name.clone()).collect();
    // The first sheet Excel shows: a hidden one first (lookups, an archive) is passed over.
    let first_shown = (worksheets.iter())
        .find(|s| s.visible == calamine::SheetVisible::Visible)
        .map(|s| s.name.clone());
    if sheets.is_empty() {
        sheets = book.sheet_names();
    }
    let chosen = match sheet {
        // As named; else ignoring case, as Excel names sheets, if that names one.
        Some(wanted) => (sheets.iter().find(|s| *s == wanted))
            .or_else(|| {
                let mut folded = sheets
                    .iter()
                    .filter(|s| s.to_lowercase() == wanted.to_lowercase());
                folded.next().filter(|_| folded.next().is_none())
            })
            .ok_or_else(|| {
                Error::Data(format!(
                    "{name} has no sheet named {wanted:?}: its sheets are {}",
                    listed(&sheets)
                ))
            })?
            .clone(),
        None => first_shown
            .or_else(|| sheets.first().cloned())
            .ok_or_else(|| Error::Data(format!("{name} is a workbook with no sheet")))?,
    };
    // calamine's own messages can quote the file's content: they are left out.
    let damaged = || {
        Error::Data(format!(
            "{name}: sheet {chosen:?} cannot be read (is the workbook damaged?)"
        ))
    };
    // XLSX and XLSB are read a cell at a time, keeping only the cells that hold something:
    // calamine's `worksheet_range` would make their rectangle dense first, and one stray cell
    // far from the table would claim gigabytes. Other workbooks (an .xls has at most 65,536
    // rows of 256 columns) are read whole.
    let cells = match sparse_cells(&mut book, &chosen) {
        Some(cells) => cells.ok_or_else(damaged)?,
        None => {
            let range = book.worksheet_range(&chosen).map_err(|_| damaged())?;
            let (first, _) = range.start().unwrap_or((0, 0));
            let (_, col) = range.start().unwrap_or((0, 0));
            (range.cells())
                .filter(|(_, _, v)| !matches!(v, Data::Empty))
                .map(|(r, c, v)| ((first + r as u32, col + c as u32), v.clone()))
                .collect()
        }
    };
    let Some(span) = Span::of(&cells) else {
        let hint = if sheets.len() > 1 {
            format!(
                "; the workbook's sheets are {}: pick one with --sheet NAME",
                listed(&sheets)
            )
        } else {
            String::new()
        };
        return Err(Error::Data(format!(
            "{name}: sheet {chosen:?} is empty: expected a header row with column names{hint}"
        )));
    };
    if span.too_large() {
        return Err(Error::Data(format!(
            "{name}: sheet {chosen:?} has cells from {} to {} ({} rows by {} columns), too \
             many to read: is there a stray cell far from the table? Delete it, or save the \
             sheet as CSV",
            cell_name(span.first),
            cell_name(span.last),
            span.last.0 - span.first.0 + 1,
            span.last.1 - span.first.1 + 1,
        )));
    }
    Ok(csv_of(&cells, span))
}

/// A sheet's cells that hold something, by (row, column) from 0.
type Cells = Vec<((u32, u32), Data)>;

/// The cells (in row, then column order, one per place) as CSV lines, one per sheet row from
/// the first to the last, each with the columns from the first to the last: the rows above
/// the first used cell, and empty rows, are blank lines, so that line numbers are sheet rows.
fn csv_of(cells: &[((u32, u32), Data)], span: Span) -> Vec<u8> {
    let mut csv = Vec::new();
    csv.resize(span.first.0 as usize, b'\n');
    let mut cell = String::new();
    let mut at = 0;
    for row in span.first.0..=span.last.0 {
        let line_start = csv.len();
        let mut used = false;
        for col in span.first.1..=span.last.1 {
            if col > span.first.1 {
                csv.push(b',');
            }
            cell.clear();
            if let Some((_, value)) = cells.get(at).filter(|(pos, _)| *pos == (row, col)) {
                write_cell(&mut cell, value);
                at += 1;
            }
            used |= !cell.is_empty();
            push_field(&mut csv, &cell);
        }
        if !used {
            // An empty row is a blank line (skipped, but counted), not a contact with no cells.
            csv.truncate(line_start);
        }
        csv.push(b'\n');
    }
    csv
}

/// The cells of sheet `name` that hold something, read a cell at a time (XLSX and XLSB), in
/// row then column order, the last one read at a place kept (as `worksheet_range` keeps it);
/// `None` for other workbooks; `Some(None)` for a sheet that cannot be read.
fn sparse_cells(book: &mut calamine::Sheets<Cursor<&[u8]>>, name: &str) -> Option<Option<Cells>> {
    let mut cells: Cells = Vec::new();
    let mut read = |pos: (u32, u32), value: Data| {
        if !matches!(value, Data::Empty) {
            cells.push((pos, value));
        }
    };
    let whole = match book {
        calamine::Sheets::Xlsx(x) => (|| {
            let mut reader = x.worksheet_cells_reader(name).ok()?;
            while let Some(c) = reader.next_cell().ok()? {
                read(c.get_position(), Data::from(c.get_value().clone()));
            }
            Some(())
        })(),
        calamine::Sheets::Xlsb(x) => (|| {
            let mut reader = x.worksheet_cells_reader(name).ok()?;
            while let Some(c) = reader.next_cell().ok()? {
                read(c.get_position(), Data::from(c.get_value().clone()));
            }
            Some(())
        })(),
        calamine::Sheets::Xls(_) | calamine::Sheets::Ods(_) => return None,
    };
    if whole.is_none() {
        return Some(None);
    }
    // Stable, so that of two cells at one place the later stays last; keep it.
    cells.sort_by_key(|(pos, _)| *pos);
    let mut kept: Cells = Vec::with_capacity(cells.len());
    for c in cells {
        match kept.last_mut() {
            Some(last) if last.0 == c.0 => *last = c,
            _ => kept.push(c),
        }
    }
    Some(Some(kept))
}

/// The most cells the rectangle of a sheet's cells may hold: some 30 bytes each while read,
/// 2 GB in all (Excel's million rows of 64 columns).
const MAX_SHEET_CELLS: u64 = 1 << 26;

/// A rectangle of more cells than this (130 MB while read) must have cells in most rows.
const SPARSE_SHEET_CELLS: u64 = 1 << 22;

/// The first and last row and column the cells of a sheet lie in (counting from 0), and how
/// many cells there are.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    first: (u32, u32),
    last: (u32, u32),
    count: u64,
}

impl Span {
    /// Where `cells` (in row, then column order) lie; `None` when there are none.
    fn of(cells: &[((u32, u32), Data)]) -> Option<Span> {
        let (first, last) = (cells.first()?.0, cells.last()?.0);
        let (lo, hi) = cells.iter().fold((u32::MAX, 0), |(lo, hi), ((_, c), _)| {
            (lo.min(*c), hi.max(*c))
        });
        Some(Span {
            first: (first.0, lo),
            last: (last.0, hi),
            count: cells.len() as u64,
        })
    }

    fn cells(&self) -> u64 {
        u64::from(self.last.0 - self.first.0 + 1) * u64::from(self.last.1 - self.first.1 + 1)
    }

    /// Too many cells to read, or a large rectangle most of whose rows are empty (a stray
    /// cell far below the table). Wide sheets of mostly empty columns, as CRM exports are,
    /// still have a cell in every row.
    fn too_large(&self) -> bool {
        let (cells, rows) = (self.cells(), u64::from(self.last.0 - self.first.0 + 1));
        cells > MAX_SHEET_CELLS || (cells > SPARSE_SHEET_CELLS && rows / 8 > self.count)
    }
}

/// A cell's name as a spreadsheet shows it: (0, 0) is A1.
fn cell_name((row, col): (u32, u32)) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

/// Why a file that looks like a workbook cannot be read as one.
fn not_a_workbook(bytes: &[u8], name: &str) -> Error {
    let what = if bytes.starts_with(ZIP) {
        "a ZIP file but not a workbook leadsort can read (XLSX, XLSM, XLSB, ODS)"
    } else {
        "an old Office file but not an Excel workbook (.xls) leadsort can read"
    };
    Error::Data(format!(
        "{name} looks like {what}, and it is not CSV: it may be damaged or protected by a \
         password; in Excel, use File > Save As > \"CSV UTF-8\""
    ))
}

/// `"Contacts", "Sheet2"`.
fn listed(sheets: &[String]) -> String {
    if sheets.is_empty() {
        return "(none)".to_string();
    }
    sheets
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One CSV field, quoted as RFC 4180 says when it holds a comma, a quote or a line break.
fn push_field(csv: &mut Vec<u8>, text: &str) {
    if text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        csv.push(b'"');
        for b in text.bytes() {
            if b == b'"' {
                csv.push(b'"');
            }
            csv.push(b);
        }
        csv.push(b'"');
    } else {
        csv.extend_from_slice(text.as_bytes());
    }
}

/// A cell as the text that leadsort's cell readers expect (README, "How cells are read").
fn write_cell(out: &mut String, value: &Data) {
    match value {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => out.push_str(s),
        Data::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Data::Float(x) => write_number(out, *x),
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::DateTime(dt) if dt.is_duration() => write_number(out, dt.as_f64()),
        Data::DateTime(dt) => write_date(out, dt),
        // `#N/A` and the like as Excel shows them, and as its CSV export writes them: a
        // failed lookup in an opt-out column is unreadable (and said), not an empty "no".
        Data::Error(e) => {
            let _ = write!(out, "{e}");
        }
        Data::Empty => {}
    }
}

/// Excel keeps 15 significant digits: whole numbers without `.0` (a phone number stays
/// `15550173`), others as the shortest decimal of the value rounded to 15 digits, so
/// `0.1 + 0.2` is `0.3` as Excel shows it. Never an exponent (the number reader takes none).
fn write_number(out: &mut String, x: f64) {
    const WHOLE_LIMIT: f64 = 1e15;
    if !x.is_finite() {
        return;
    }
    let x = if x.fract() == 0.0 {
        x
    } else {
        format!("{x:.14e}").parse::<f64>().unwrap_or(x)
    };
    if x.fract() == 0.0 && x.abs() < WHOLE_LIMIT {
        // Exact: every whole number below 2^53 is an f64, and 1e15 < 2^53.
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x}");
    }
}

/// `YYYY-MM-DD` for a date, `YYYY-MM-DDTHH:MM:SS` with a time of day (milliseconds dropped),
/// `HH:MM:SS` for a time alone (on Excel's day 0, `1900-01-00`, which calamine calls
/// 1899-12-31 and no real date of a 1900-based workbook is).
fn write_date(out: &mut String, dt: &ExcelDateTime) {
    let (year, month, day, hour, minute, second, _milli) = dt.to_ymd_hms_milli();
    let has_time = (hour, minute, second) != (0, 0, 0);
    if (year, month, day) == (1899, 12, 31) {
        let _ = write!(out, "{hour:02}:{minute:02}:{second:02}");
        return;
    }
    let _ = write!(out, "{year:04}-{month:02}-{day:02}");
    if has_time {
        let _ = write!(out, "T{hour:02}:{minute:02}:{second:02}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{CellErrorType, ExcelDateTimeType};

    fn cell(value: Data) -> String {
        let mut out = String::new();
        write_cell(&mut out, &value);
        out
    }

    fn date(serial: f64) -> Data {
        Data::DateTime(ExcelDateTime::new(
            serial,
            ExcelDateTimeType::DateTime,
            false,
        ))
    }

    #[test]
    fn whole_numbers_have_no_decimal_point() {
        assert_eq!(cell(Data::Float(500.0)), "500");
        assert_eq!(cell(Data::Float(-3.0)), "-3");
        assert_eq!(cell(Data::Float(0.0)), "0");
        assert_eq!(cell(Data::Float(-0.0)), "0");
        assert_eq!(cell(Data::Float(15550173.0)), "15550173", "a phone number");
        assert_eq!(cell(Data::Float(491234567890.0)), "491234567890");
        assert_eq!(cell(Data::Float(999_999_999_999_999.0)), "999999999999999");
        assert_eq!(cell(Data::Float(1e15)), "1000000000000000");
        assert_eq!(cell(Data::Float(1e20)), "100000000000000000000");
        assert_eq!(cell(Data::Int(42)), "42");
        assert_eq!(cell(Data::Int(-7)), "-7");
    }

    #[test]
    fn fractions_are_rounded_to_excel_precision() {
        assert_eq!(cell(Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(cell(Data::Float(1200.5)), "1200.5");
        assert_eq!(cell(Data::Float(-3.25)), "-3.25");
        assert_eq!(cell(Data::Float(1.0 / 3.0)), "0.333333333333333");
        assert_eq!(cell(Data::Float(2.0 / 3.0)), "0.666666666666667");
        assert_eq!(cell(Data::Float(2.9999999999999996)), "3");
        assert_eq!(cell(Data::Float(0.0000001)), "0.0000001", "no exponent");
        assert_eq!(cell(Data::Float(123456.789)), "123456.789");
        assert_eq!(cell(Data::Float(f64::NAN)), "");
        assert_eq!(cell(Data::Float(f64::INFINITY)), "");
    }

    #[test]
    fn dates_are_iso_8601() {
        // 2026-11-27 is Excel serial 46353.
        assert_eq!(cell(date(46353.0)), "2026-11-27");
        assert_eq!(cell(date(46353.5)), "2026-11-27T12:00:00");
        assert_eq!(
            cell(date(46353.0 + 14.0 / 24.0 + 22.0 / 1440.0)),
            "2026-11-27T14:22:00"
        );
        assert_eq!(cell(date(1.0)), "1900-01-01");
        assert_eq!(cell(date(61.0)), "1900-03-01", "after Excel's 1900-02-29");
        assert_eq!(cell(date(0.75)), "18:00:00", "a time alone");
        let in_1904 = ExcelDateTime::new(0.0, ExcelDateTimeType::DateTime, true);
        assert_eq!(cell(Data::DateTime(in_1904)), "1904-01-01");
        assert_eq!(cell(Data::DateTimeIso("2026-11-27".into())), "2026-11-27");
        assert_eq!(cell(Data::DurationIso("PT12H".into())), "PT12H");
    }

    #[test]
    fn durations_are_days_as_numbers() {
        let duration = |days: f64| {
            Data::DateTime(ExcelDateTime::new(
                days,
                ExcelDateTimeType::TimeDelta,
                false,
            ))
        };
        assert_eq!(cell(duration(1.5)), "1.5");
        assert_eq!(cell(duration(2.0)), "2");
    }

    #[test]
    fn booleans_errors_and_empty_cells() {
        assert_eq!(cell(Data::Bool(true)), "true");
        assert_eq!(cell(Data::Bool(false)), "false");
        assert_eq!(cell(Data::Error(CellErrorType::NA)), "#N/A");
        assert_eq!(cell(Data::Error(CellErrorType::Div0)), "#DIV/0!");
        assert_eq!(cell(Data::Empty), "");
        assert_eq!(cell(Data::String("=SUM(A1)".into())), "=SUM(A1)");
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        let quoted = |text: &str| {
            let mut csv = Vec::new();
            push_field(&mut csv, text);
            String::from_utf8(csv).unwrap()
        };
        assert_eq!(quoted("plain text"), "plain text");
        assert_eq!(quoted(""), "");
        assert_eq!(quoted("1,200"), "\"1,200\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted("two\nlines"), "\"two\nlines\"");
        assert_eq!(quoted("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(quoted("Zoë; ok"), "Zoë; ok");
    }

    #[test]
    fn signatures() {
        assert!(is_workbook(b"PK\x03\x04rest"));
        assert!(is_workbook(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1]));
        assert!(!is_workbook(b"id,email\n"));
        assert!(!is_workbook(b"PK"));
    }

    /// Sheet "People" with a table from B2 and an empty row in it; sheet "Other" from A1.
    fn workbook() -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let people = book.add_worksheet().set_name("People").unwrap();
        people.write_string(1, 1, "name").unwrap();
        people.write_string(1, 2, "note").unwrap();
        people.write_string(2, 1, "Ann").unwrap();
        people.write_string(2, 2, "a, \"b\"").unwrap();
        people.write_string(4, 1, "Bob").unwrap();
        people.write_number(4, 2, 2.5).unwrap();
        let other = book.add_worksheet().set_name("Other").unwrap();
        other.write_string(0, 0, "id").unwrap();
        other.write_boolean(1, 0, true).unwrap();
        book.save_to_buffer().unwrap()
    }

    fn csv(sheet: Option<&str>) -> String {
        String::from_utf8(to_csv(&workbook(), "book.xlsx", sheet).unwrap()).unwrap()
    }

    #[test]
    fn a_sheet_becomes_csv_with_one_line_per_sheet_row() {
        // Row 1 is empty and the table starts in column B: a blank line, no empty column.
        // Row 4 is empty: a blank line, not a record of empty fields.
        assert_eq!(csv(None), "\nname,note\nAnn,\"a, \"\"b\"\"\"\n\nBob,2.5\n");
        assert_eq!(csv(Some("Other")), "id\ntrue\n");
    }

    #[test]
    fn an_unknown_sheet_is_refused_with_the_sheet_names() {
        let err = to_csv(&workbook(), "book.xlsx", Some("persons")).unwrap_err();
        assert!(matches!(err, Error::Data(_)));
        assert_eq!(
            err.to_string(),
            "book.xlsx has no sheet named \"persons\": its sheets are \"People\", \"Other\""
        );
        // A name in another case is the sheet, as in Excel.
        assert_eq!(
            to_csv(&workbook(), "book.xlsx", Some("people")).unwrap(),
            to_csv(&workbook(), "book.xlsx", Some("People")).unwrap()
        );
    }

    #[test]
    fn a_zip_that_is_no_workbook_is_refused() {
        let err = to_csv(b"PK\x03\x04 not really a zip", "x.csv", None).unwrap_err();
        assert!(matches!(err, Error::Data(_)));
        assert!(
            err.to_string().contains("x.csv looks like a ZIP file"),
            "{err}"
        );
    }
}
