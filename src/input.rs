//! Reading contacts: the one place that opens CSV input (a file or stdin), reads its header,
//! and turns every record into either a contact or a rejected row with its place and reason.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use csv::{ByteRecord, StringRecord};

use crate::engine::Header;
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

/// How to read the CSV.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Field delimiter; `None` means `,` (or tab for a `.tsv` file).
    pub delimiter: Option<u8>,
}

/// A record that could not be read as a contact. It goes to `rejected`, never lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The contact's number, counting from 1 after the header.
    pub record: u64,
    /// The line the record starts on, counting the header as line 1.
    pub line: u64,
    pub reason: String,
    /// The record's fields re-encoded as one CSV line, bytes kept as they were.
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

/// An open CSV input with its header read.
pub struct Input {
    reader: csv::Reader<Box<dyn Read>>,
    header: Header,
    name: String,
    delimiter: u8,
    records: u64,
    bytes: ByteRecord,
    /// The last rejected record, valid after `next` returned `Next::Rejected`.
    pub rejected: Option<Rejected>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// Open `source` and read its header.
    pub fn open(source: &Source, options: &Options) -> Result<Input> {
        let name = source.name();
        let read: Box<dyn Read> = match source {
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
        let is_tsv = source
            .path()
            .and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab"));
        let delimiter = options
            .delimiter
            .unwrap_or(if is_tsv { b'\t' } else { b',' });
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(read);
        let mut first = ByteRecord::new();
        let found = reader
            .read_byte_record(&mut first)
            .map_err(|e| read_error(&name, e))?;
        if !found {
            return Err(Error::Data(format!(
                "{name} is empty: expected a header line with column names"
            )));
        }
        let header = match StringRecord::from_byte_record(first) {
            Ok(h) => Header::new(h.iter().map(str::to_string).collect()),
            Err(e) => {
                return Err(Error::Data(format!(
                    "{name}: the header (line 1, column {}) is not valid UTF-8\n\
                     export the file as \"CSV UTF-8\"",
                    e.utf8_error().field() + 1
                )));
            }
        };
        if header.len() == 1 && options.delimiter.is_none() {
            let only = &header.names[0];
            for (sep, flag) in [(';', "';'"), ('\t', "tab"), ('|', "'|'")] {
                if only.contains(sep) && sep as u8 != delimiter {
                    return Err(Error::Data(format!(
                        "{name}: the header has one column containing `{}`: the file looks {}-separated\n\
                         pass --delimiter {flag}",
                        sep.escape_default(),
                        if sep == '\t' { "tab" } else { "semicolon" },
                    )));
                }
            }
        }
        Ok(Input {
            reader,
            header,
            name,
            delimiter,
            records: 0,
            bytes: ByteRecord::new(),
            rejected: None,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records read so far (contacts and rejected).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Read the next record into `contact`. `Ok(None)` at the end of the input.
    pub fn next(&mut self, contact: &mut StringRecord) -> Result<Option<Next>> {
        let more = self
            .reader
            .read_byte_record(&mut self.bytes)
            .map_err(|e| read_error(&self.name, e))?;
        if !more {
            return Ok(None);
        }
        self.records += 1;
        let record = self.records;
        let line = self.bytes.position().map_or(0, csv::Position::line);
        let expected = self.header.len();
        if self.bytes.len() != expected {
            let reason = format!("expected {expected} fields, found {}", self.bytes.len());
            self.reject(record, line, reason);
            return Ok(Some(Next::Rejected));
        }
        // Swap buffers with the caller: no allocation per row.
        let previous = std::mem::take(contact).into_byte_record();
        let bytes = std::mem::replace(&mut self.bytes, previous);
        match StringRecord::from_byte_record(bytes) {
            Ok(s) => {
                *contact = s;
                Ok(Some(Next::Contact { record, line }))
            }
            Err(e) => {
                let column = e.utf8_error().field();
                self.bytes = e.into_byte_record();
                let col_name = self.header.names.get(column).map_or("?", String::as_str);
                let reason = format!(
                    "column {} ({col_name}) is not valid UTF-8; is the file in another encoding?",
                    column + 1
                );
                self.reject(record, line, reason);
                Ok(Some(Next::Rejected))
            }
        }
    }

    fn reject(&mut self, record: u64, line: u64, reason: String) {
        self.rejected = Some(Rejected {
            record,
            line,
            reason,
            raw: encode_raw(&self.bytes, self.delimiter),
        });
    }
}

/// The fields as one CSV line (no line terminator), quoted where needed.
fn encode_raw(record: &ByteRecord, delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_byte_record(record);
    let mut out = w.into_inner().unwrap_or_default();
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

fn read_error(name: &str, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(format!("cannot read {name}"), io),
        other => Error::Data(format!(
            "{name}{}: {other:?}",
            line.map(|l| format!(", line {l}")).unwrap_or_default()
        )),
    }
}
