//! Turning scored contacts into bytes. Encoders are pure and shared by the worker threads;
//! the writers only append what they are given, in order.

use super::csv::escape_formula;
use crate::engine::{Alphabet, Engine, Header, Outcome};
use crate::input::Fields;
use crate::input::parse::well_quoted;

/// A contact's input cells as parsed, and the row as written in the input when it can be
/// copied through unchanged.
#[derive(Debug, Clone, Copy)]
pub struct Cells<'a> {
    pub fields: Fields<'a>,
    /// The record as written (no line breaks around it), or `None` when it is not at hand.
    pub raw: Option<&'a [u8]>,
    /// The reader already knows `raw`'s quoting is by the book (saves checking it again).
    pub well_quoted: bool,
}

impl<'a> Cells<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.fields.iter()
    }
}

/// One scored contact, as encoders see it.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    pub cells: Cells<'a>,
    /// The score, group subtotals, hits, caps and route.
    pub outcome: &'a Outcome,
    pub tier: &'a str,
    pub queue: &'a str,
    /// The rep who owns it (empty when none; written only when the rules have reps).
    pub owner: &'a str,
    /// The reasons as text (CSV, XLSX).
    pub reasons: &'a str,
    /// Why the balance kept it from sales (`over sales capacity`), added to its reasons.
    pub note: Option<&'a str>,
}

/// The columns a row has: the input's (all, or those `--columns` chose), then the added ones.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Input columns to write, by index; `None`: every one, in order.
    pub columns: Option<Vec<usize>>,
    /// The reasons column is written (not with `--no-reasons`).
    pub reasons: bool,
    /// An `owner` column follows `queue` (the rules have reps).
    pub owner: bool,
    /// Every column's name, in order: the chosen input columns, `score`, `score_<group>`...,
    /// `tier`, `queue`, `owner` with reps, and `reasons` if written.
    pub names: Vec<String>,
    /// How many of `names` are input columns.
    pub inputs: usize,
}

impl Layout {
    pub fn new(
        header: &Header,
        engine: &Engine,
        columns: Option<Vec<usize>>,
        reasons: bool,
        owner: bool,
    ) -> Layout {
        let mut names: Vec<String> = match &columns {
            Some(cols) => cols.iter().map(|&c| header.names[c].clone()).collect(),
            None => header.names.clone(),
        };
        let inputs = names.len();
        names.push("score".into());
        names.extend(engine.group_names().iter().map(|g| format!("score_{g}")));
        names.extend(["tier".into(), "queue".into()]);
        if owner {
            names.push("owner".into());
        }
        if reasons {
            names.push("reasons".into());
        }
        Layout {
            columns,
            reasons,
            owner,
            names,
            inputs,
        }
    }

    /// The input cells to write, in order.
    pub fn input_cells<'a>(&'a self, cells: &Cells<'a>) -> impl Iterator<Item = &'a [u8]> + 'a {
        let fields = cells.fields;
        let all = self.columns.is_none().then(|| fields.iter());
        let chosen = self
            .columns
            .as_ref()
            .map(|cols| cols.iter().map(move |&c| fields.get(c).unwrap_or_default()));
        all.into_iter()
            .flatten()
            .chain(chosen.into_iter().flatten())
    }

    /// Whether the input's cells are written as they are, all of them in order.
    pub fn all_inputs(&self) -> bool {
        self.columns.is_none()
    }
}

/// A format's encoding of rows (CSV, TSV, JSON Lines; XLSX reads CSV rows back).
pub trait RowEncoder: Send + Sync {
    /// The header (nothing for formats without one).
    fn header(&self, out: &mut Vec<u8>);
    /// One contact.
    fn row(&self, row: &Scored<'_>, out: &mut Vec<u8>);
}

/// Encoded rows of one queue, with where each ends and its score (to sort them).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub bytes: &'a [u8],
    pub ends: &'a [usize],
    pub scores: &'a [i64],
}

impl<'a> Rows<'a> {
    /// Each row's bytes and score, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], i64)> + use<'a> {
        let bytes = self.bytes;
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends)
            .zip(self.scores)
            .map(move |((s, &e), &score)| (&bytes[s..e], score))
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Rows being encoded, owned.
#[derive(Debug, Clone, Default)]
pub struct RowBuf {
    pub bytes: Vec<u8>,
    pub ends: Vec<usize>,
    pub scores: Vec<i64>,
}

impl RowBuf {
    pub fn push(&mut self, encoder: &dyn RowEncoder, row: &Scored<'_>) {
        encoder.row(row, &mut self.bytes);
        self.ends.push(self.bytes.len());
        self.scores.push(row.outcome.score);
    }

    pub fn rows(&self) -> Rows<'_> {
        Rows {
            bytes: &self.bytes,
            ends: &self.ends,
            scores: &self.scores,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Empty, keeping the memory for the next rows.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.scores.clear();
    }
}

/// RFC 4180 CSV (or another delimiter), with formula-looking cells escaped.
#[derive(Debug, Clone)]
pub struct CsvEncoder {
    pub delimiter: u8,
    pub escape_formulas: bool,
    /// Input rows may be copied through as written (the input uses the same delimiter).
    pub passthrough: bool,
    /// No reasons text ever needs quoting or escaping (see `with_reasons`).
    pub plain_reasons: bool,
    pub layout: Layout,
}

impl CsvEncoder {
    /// Learn from what reasons texts can be made of whether they ever need quoting or
    /// escaping; when they cannot, they are written as they are.
    pub fn with_reasons(mut self, reasons: &Alphabet) -> CsvEncoder {
        let quoted = [self.delimiter, b'"', b'\r', b'\n'];
        let formula = [b'=', b'+', b'-', b'@', b'\t', b'\r', b'\n'];
        let needs_quotes = quoted.iter().any(|&b| reasons.any[usize::from(b)]);
        let may_escape = formula.iter().any(|&b| reasons.first[usize::from(b)]);
        let may_be_escaped = self.escape_formulas && may_escape;
        self.plain_reasons = !(needs_quotes || may_be_escaped);
        self
    }

    fn field(&self, cell: &[u8], out: &mut Vec<u8>) {
        let cell = if self.escape_formulas {
            escape_formula(cell)
        } else {
            std::borrow::Cow::Borrowed(cell)
        };
        // Cells are short: one pass over the bytes beats a search call per character.
        let d = self.delimiter;
        let needs_quotes = cell
            .iter()
            .any(|&b| b == d || b == b'"' || b == b'\n' || b == b'\r');
        if !needs_quotes {
            out.extend_from_slice(&cell);
            return;
        }
        out.push(b'"');
        for part in cell.split_inclusive(|&b| b == b'"') {
            out.extend_from_slice(part);
            if part.last() == Some(&b'"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    }

    /// The row as written can go out unchanged when every input column is written, its
    /// quoting is by the book (every reader then gets the same cells back) and no cell has to
    /// be escaped.
    fn can_copy<'a>(&self, cells: &Cells<'a>) -> Option<&'a [u8]> {
        let raw = cells
            .raw
            .filter(|_| self.passthrough && self.layout.all_inputs())?;
        if !cells.well_quoted
            && memchr::memchr(b'"', raw).is_some()
            && !well_quoted(raw, self.delimiter)
        {
            return None;
        }
        if self.escape_formulas
            && cells.iter().any(|cell| {
                matches!(
                    cell.first(),
                    Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
                ) && escape_formula(cell).len() != cell.len()
            })
        {
            return None;
        }
        Some(raw)
    }
}

impl RowEncoder for CsvEncoder {
    fn header(&self, out: &mut Vec<u8>) {
        for (i, n) in self.layout.names.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            self.field(n.as_bytes(), out);
        }
        out.push(b'\n');
    }

    fn row(&self, row: &Scored<'_>, out: &mut Vec<u8>) {
        let mut first = true;
        match self.can_copy(&row.cells) {
            Some(raw) => {
                out.extend_from_slice(raw);
                first = false;
            }
            None => {
                for c in self.layout.input_cells(&row.cells) {
                    if !first {
                        out.push(self.delimiter);
                    }
                    first = false;
                    self.field(c, out);
                }
            }
        }
        let mut num = itoa::Buffer::new();
        if !first {
            out.push(self.delimiter);
        }
        out.extend_from_slice(num.format(row.outcome.score).as_bytes());
        for g in &row.outcome.groups {
            out.push(self.delimiter);
            out.extend_from_slice(num.format(*g).as_bytes());
        }
        out.push(self.delimiter);
        self.field(row.tier.as_bytes(), out);
        out.push(self.delimiter);
        self.field(row.queue.as_bytes(), out);
        if self.layout.owner {
            out.push(self.delimiter);
            self.field(row.owner.as_bytes(), out);
        }
        if self.layout.reasons {
            out.push(self.delimiter);
            match row.note {
                Some(note) if row.reasons.is_empty() => self.field(note.as_bytes(), out),
                Some(note) => self.field(format!("{}; {note}", row.reasons).as_bytes(), out),
                None if self.plain_reasons => out.extend_from_slice(row.reasons.as_bytes()),
                None => self.field(row.reasons.as_bytes(), out),
            }
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(enc: &CsvEncoder, fields: &[&str], raw: Option<&str>) -> String {
        let record = crate::input::Record::from_fields(fields.iter().copied());
        let outcome = Outcome {
            score: -5,
            groups: vec![3],
            ..Outcome::default()
        };
        let row = Scored {
            cells: Cells {
                raw: raw.map(str::as_bytes),
                ..record.cells()
            },
            outcome: &outcome,
            tier: "cold",
            queue: "marketing",
            owner: "",
            reasons: "A +1; B, then C -6",
            note: None,
        };
        let mut out = Vec::new();
        enc.row(&row, &mut out);
        String::from_utf8(out).unwrap()
    }

    const CSV: CsvEncoder = CsvEncoder {
        delimiter: b',',
        escape_formulas: true,
        passthrough: true,
        plain_reasons: false,
        layout: Layout {
            columns: None,
            reasons: true,
            owner: false,
            names: Vec::new(),
            inputs: 0,
        },
    };

    #[test]
    fn quoting_and_added_columns() {
        assert_eq!(
            encode(&CSV, &["1", "a, b", "say \"hi\"", "two\nlines"], None),
            "1,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\",-5,3,cold,marketing,\"A +1; B, then C -6\"\n"
        );
    }

    #[test]
    fn rows_are_copied_through_only_when_that_is_safe() {
        // The raw row differs from the fields on purpose, to see which one was used.
        assert!(encode(&CSV, &["1", "x"], Some("RAW")).starts_with("RAW,-5"));
        // Quotes in the raw row: copied as written (a reader gets the same fields back).
        assert!(encode(&CSV, &["1", "x"], Some("1,\"x\"")).starts_with("1,\"x\",-5"));
        // Malformed quoting: encoded from the fields, canonically.
        assert!(encode(&CSV, &["3", "xy", "3"], Some("3,\"x\"y,3")).starts_with("3,xy,3,-5"));
        // A cell to escape: encoded.
        assert!(encode(&CSV, &["1", "=cmd"], Some("1,=cmd")).starts_with("1,'=cmd,-5"));
        // Another delimiter in the input: never copied.
        let semi = CsvEncoder {
            passthrough: false,
            ..CSV
        };
        assert!(encode(&semi, &["1", "x"], Some("RAW")).starts_with("1,x,-5"));
    }

    #[test]
    fn formulas_are_escaped_only_when_asked() {
        let plain = CsvEncoder {
            escape_formulas: false,
            ..CSV
        };
        assert!(encode(&plain, &["=cmd"], None).starts_with("=cmd,"));
        assert!(encode(&CSV, &["-5", "+1 555"], None).starts_with("-5,'+1 555,"));
    }

    #[test]
    fn headers() {
        let mut out = Vec::new();
        let enc = CsvEncoder {
            layout: Layout {
                names: vec!["a".into(), "b,c".into(), "=x".into()],
                ..CSV.layout
            },
            ..CSV
        };
        enc.header(&mut out);
        assert_eq!(out, b"a,\"b,c\",'=x\n");
    }

    #[test]
    fn chosen_columns_and_no_reasons() {
        let enc = CsvEncoder {
            layout: Layout {
                columns: Some(vec![2, 0]),
                reasons: false,
                ..CSV.layout
            },
            ..CSV
        };
        // Chosen columns are encoded from the fields, never copied from the raw row.
        assert_eq!(
            encode(&enc, &["1", "x", "y,z"], Some("RAW")),
            "\"y,z\",1,-5,3,cold,marketing\n"
        );
    }

    #[test]
    fn reasons_go_unquoted_only_when_no_text_could_need_it() {
        let alphabet = |any: &str, first: &str| {
            let mut a = Alphabet {
                any: [false; 256],
                first: [false; 256],
            };
            any.bytes().for_each(|b| a.any[usize::from(b)] = true);
            first.bytes().for_each(|b| a.first[usize::from(b)] = true);
            a
        };
        assert!(CSV.with_reasons(&alphabet("Abc +1;", "A")).plain_reasons);
        assert!(!CSV.with_reasons(&alphabet("Abc, +1;", "A")).plain_reasons);
        assert!(!CSV.with_reasons(&alphabet("Abc \"+1;", "A")).plain_reasons);
        assert!(!CSV.with_reasons(&alphabet("Abc +1;=", "=")).plain_reasons);
        let formulas_too = CsvEncoder {
            escape_formulas: false,
            ..CSV
        };
        assert!(
            formulas_too
                .with_reasons(&alphabet("Abc +1;=", "="))
                .plain_reasons
        );
        let semi = CsvEncoder {
            delimiter: b';',
            ..CSV
        };
        assert!(!semi.with_reasons(&alphabet("Abc +1;", "A")).plain_reasons);
        // Plain reasons are written as they are.
        let plain = CsvEncoder {
            plain_reasons: true,
            ..CSV
        };
        assert!(encode(&plain, &["1"], None).ends_with(",A +1; B, then C -6\n"));
    }
}
