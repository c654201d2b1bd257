//! CSV (and TSV) output, safe to open in a spreadsheet.

use std::borrow::Cow;

use super::{Format, Target};
use crate::error::{Error, Result};
use crate::input::Rejected;

/// Rows that could not be read: `record,line,reason,row`.
#[derive(Debug)]
pub struct RejectedWriter {
    w: csv::Writer<Target>,
    name: String,
    escape: bool,
}

impl RejectedWriter {
    pub fn new(target: Target, format: Format) -> Result<RejectedWriter> {
        let name = target.name();
        let mut w = csv::WriterBuilder::new().from_writer(target);
        w.write_record(["record", "line", "reason", "row"])
            .map_err(|e| csv_error(&name, e))?;
        Ok(RejectedWriter {
            w,
            name,
            escape: format.escape_formulas,
        })
    }

    pub fn write(&mut self, r: &Rejected) -> Result<()> {
        let raw = if self.escape {
            escape_formula(&r.raw)
        } else {
            Cow::Borrowed(&r.raw[..])
        };
        self.w
            .write_record([
                r.record.to_string().as_bytes(),
                r.line.to_string().as_bytes(),
                r.reason.as_bytes(),
                &raw,
            ])
            .map_err(|e| csv_error(&self.name, e))
    }

    pub fn finish(self) -> Result<Target> {
        let name = self.name;
        self.w
            .into_inner()
            .map_err(|e| Error::io(format!("cannot write {name}"), e.into_error()))
    }
}

/// A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, tab, CR or
/// LF) gets a leading `'`, as OWASP advises. Plain numbers such as `-5` or `+3.5` are left
/// alone: spreadsheets read them as numbers, not formulas.
pub fn escape_formula(cell: &[u8]) -> Cow<'_, [u8]> {
    match cell.first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n') if !is_plain_number(cell) => {
            let mut out = Vec::with_capacity(cell.len() + 1);
            out.push(b'\'');
            out.extend_from_slice(cell);
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(cell),
    }
}

/// `-5`, `+3.25`, `-1,200.50`: a sign, digits, and `.`/`,` between digits.
fn is_plain_number(cell: &[u8]) -> bool {
    let digits = match cell {
        [b'-' | b'+', rest @ ..] => rest,
        _ => cell,
    };
    !digits.is_empty()
        && digits.first().is_some_and(u8::is_ascii_digit)
        && digits.last().is_some_and(u8::is_ascii_digit)
        && digits
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b'.' || *b == b',')
}

/// A CSV write failure: an I/O error (disk full, closed pipe), or a bug.
pub fn csv_error(name: &str, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(format!("cannot write {name}"), io),
        other => Error::Internal(format!("writing {name}: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_escaped_numbers_are_not() {
        let esc = |s: &str| String::from_utf8(escape_formula(s.as_bytes()).into_owned()).unwrap();
        assert_eq!(esc("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(esc("+1 555 0100"), "'+1 555 0100");
        assert_eq!(esc("-2+3"), "'-2+3");
        assert_eq!(esc("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(esc("\tcmd"), "'\tcmd");
        assert_eq!(esc("-"), "'-");
        assert_eq!(esc("-5"), "-5");
        assert_eq!(esc("+3.25"), "+3.25");
        assert_eq!(esc("-1,200.50"), "-1,200.50");
        assert_eq!(esc("Acme"), "Acme");
        assert_eq!(esc(""), "");
        assert_eq!(esc("a=b"), "a=b");
    }
}
