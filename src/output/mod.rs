//! Writing results. A format is a `RowEncoder` (rows to bytes, on the worker threads) and a
//! `Sink` (bytes to a target: appended, sorted, or read back into a workbook); `Outputs`
//! holds the sinks of one run (one stream, or one file per queue) and commits them together,
//! summary last.

mod atomic;
mod csv;
mod encode;
mod journal;
mod json;
mod xlsx;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub use self::atomic::{AtomicFile, Prepared, TEMP_SUFFIX, remove_stale_temps, shared_mode};
pub use self::csv::{RejectedWriter, csv_error, escape_formula};
pub use self::encode::{Cells, CsvEncoder, Layout, RowBuf, RowEncoder, Rows, Scored};
pub use self::json::{JsonEncoder, renamed_keys};
pub use self::xlsx::{EXCEL_MAX_CELL, EXCEL_MAX_ROWS, XlsxSink};
use crate::engine::{Engine, QueueId};
use crate::error::{Error, Result};
use crate::input::Rejected;
use crate::summary::Summary;

/// Where a writer's bytes go.
#[derive(Debug)]
pub enum Target {
    Stdout(BufWriter<io::Stdout>),
    File(AtomicFile),
    /// A path that exists but is not a regular file (`/dev/null`, a FIFO): written in place,
    /// since renaming a file over a device would replace the device.
    Special {
        path: PathBuf,
        file: BufWriter<File>,
    },
    /// In memory (tests, fuzzing).
    Memory(Vec<u8>),
}

impl Target {
    pub fn stdout() -> Target {
        Target::Stdout(BufWriter::with_capacity(1 << 16, io::stdout()))
    }

    /// A file output: written in place for a device or FIFO, else atomically with the given
    /// permission bits (owner-only when `None`).
    pub fn file_with_mode(path: &Path, mode: Option<u32>) -> Result<Target> {
        let mut target = Target::file(path)?;
        if let (Target::File(f), Some(mode)) = (&mut target, mode) {
            f.set_mode(mode)?;
        }
        Ok(target)
    }

    /// A file of a `--split` folder: always written atomically. A FIFO or device in its
    /// place is refused (exit 73): the folder's files must appear whole, together.
    pub fn split_file(path: &Path, mode: Option<u32>) -> Result<Target> {
        if is_special(path) {
            return Err(Error::CantCreate {
                path: path.to_path_buf(),
                source: io::Error::other(
                    "is a FIFO or a device, not a file: a --split folder's files are written \
                     whole, so none may be a FIFO; remove it or write elsewhere",
                ),
            });
        }
        Target::file_with_mode(path, mode)
    }

    pub fn file(path: &Path) -> Result<Target> {
        if is_special(path) {
            return Ok(Target::Special {
                path: path.to_path_buf(),
                file: BufWriter::with_capacity(1 << 16, open_special(path)?),
            });
        }
        AtomicFile::create(path).map(Target::File)
    }

    /// Where bytes go as they are written (stdout, a device, a FIFO), by the name used in
    /// messages; `None` for a file that appears whole when committed, or memory.
    pub fn in_place(&self) -> Option<String> {
        match self {
            Target::Stdout(_) | Target::Special { .. } => Some(self.name()),
            Target::File(_) | Target::Memory(_) => None,
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Target::Stdout(_) => "stdout".to_string(),
            Target::File(f) => f.path().display().to_string(),
            Target::Special { path, .. } => path.display().to_string(),
            Target::Memory(_) => "memory".to_string(),
        }
    }

    /// Make the output final: flush stdout, or rename the temp file over the target.
    pub fn commit(self) -> Result<()> {
        self.prepare()?.commit()
    }

    /// Write everything out; for a file, sync it but do not replace the old one yet.
    pub fn prepare(self) -> Result<Ready> {
        match self {
            Target::Stdout(mut w) => {
                w.flush().map_err(|e| Error::io("cannot write stdout", e))?;
                Ok(Ready(None))
            }
            Target::File(f) => Ok(Ready(Some(f.prepare()?))),
            Target::Special { path, mut file } => {
                file.flush().map_err(|e| Error::writing(&path, e))?;
                Ok(Ready(None))
            }
            Target::Memory(_) => Ok(Ready(None)),
        }
    }
}

/// Open a device or FIFO for writing. Opening a FIFO waits for a reader, which may never
/// come: the open is done on a thread of its own, and a signal asking the run to stop (see
/// `guard::interrupted`) is looked at meanwhile. The run then ends, the thread with it.
fn open_special(path: &Path) -> Result<File> {
    use std::sync::mpsc::RecvTimeoutError;
    let (sender, opened) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::spawn(move || {
        let file = std::fs::OpenOptions::new().write(true).open(owned);
        // The run may have stopped waiting.
        let _ = sender.send(file);
    });
    loop {
        let source = match opened.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(Ok(file)) => return Ok(file),
            Ok(Err(e)) => e,
            Err(RecvTimeoutError::Timeout) => match crate::guard::interrupted() {
                Some(signal) => return Err(Error::Interrupted(signal)),
                None => continue,
            },
            Err(RecvTimeoutError::Disconnected) => io::Error::other("the open failed"),
        };
        return Err(Error::CantCreate {
            path: path.to_path_buf(),
            source,
        });
    }
}

/// An output written out, waiting for its rename (if it is a file).
#[derive(Debug)]
pub struct Ready(Option<Prepared>);

impl Ready {
    pub fn commit(self) -> Result<()> {
        match self.0 {
            Some(p) => p.commit(),
            None => Ok(()),
        }
    }

    fn path(&self) -> Option<&Path> {
        self.0.as_ref().map(Prepared::path)
    }
}

/// Rename every prepared file over its old one, in order. If a rename fails, the files
/// already replaced are put back from backups (hard links made before the first rename), so
/// the outputs of a failed run are all the old ones. The backups look like temp files
/// (`.<name>.<writer>.backup.leadsort-tmp`), so a run killed here leaves nothing that passes
/// for output; and a journal of the renames (`journal`) lets the next run put back the files
/// of one killed among them.
/// A signal that came while the files were finished stops the run here, before any rename;
/// one that comes during the renames waits for them.
pub fn commit_all(ready: Vec<Ready>) -> Result<()> {
    if let Some(signal) = crate::guard::committing() {
        return Err(Error::Interrupted(signal));
    }
    let remove = |backups: &[Option<PathBuf>]| {
        for b in backups.iter().flatten() {
            let _ = std::fs::remove_file(b);
        }
    };
    // An old file that cannot be backed up (a full disk) could not be put back: stop first.
    let mut backups: Vec<Option<PathBuf>> = Vec::with_capacity(ready.len());
    for path in ready.iter().map(Ready::path) {
        match path.map(backup).transpose() {
            Ok(b) => backups.push(b.flatten()),
            Err(e) => {
                remove(&backups);
                return Err(e);
            }
        }
    }
    let targets: Vec<Option<PathBuf>> = ready
        .iter()
        .map(|r| r.path().map(Path::to_path_buf))
        .collect();
    let files: Vec<(&Path, Option<&Path>)> = (targets.iter().zip(&backups))
        .filter_map(|(t, b)| Some((t.as_deref()?, b.as_deref())))
        .collect();
    let journal = match journal::Journal::begin(&files) {
        Ok(j) => j,
        Err(e) => {
            remove(&backups);
            return Err(e);
        }
    };
    let mut done = 0;
    let mut result = Ok(());
    for r in ready {
        if let Err(e) = r.commit() {
            result = Err(e);
            break;
        }
        done += 1;
    }
    if result.is_err() {
        // The one that failed too: its rename may have happened (the folder's sync failed).
        let undone = (targets.iter().zip(&backups).take(done + 1))
            .filter_map(|(t, b)| Some(journal::put_back(t.as_deref()?, b.as_deref())))
            .all(|r| r.is_ok());
        if !undone {
            // Left for the next run to put back whole: the journal and every backup stay.
            return result;
        }
    }
    // The commit point (or the undo is done): then the backups can go.
    if let Some(j) = journal {
        j.end();
    }
    remove(&backups);
    result
}

/// A hard link (or copy) of the file at `path`, if there is one.
fn backup(path: &Path) -> Result<Option<PathBuf>> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(None);
    };
    let Some(b) = atomic::backup_name(path).filter(|_| meta.is_file()) else {
        return Ok(None);
    };
    let _ = std::fs::remove_file(&b);
    match std::fs::hard_link(path, &b).or_else(|_| std::fs::copy(path, &b).map(drop)) {
        Ok(()) => Ok(Some(b)),
        Err(e) => {
            let _ = std::fs::remove_file(&b);
            Err(Error::writing(path, e))
        }
    }
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::Stdout(w) => w.write(buf),
            Target::File(f) => f.write(buf),
            Target::Special { file, .. } => file.write(buf),
            Target::Memory(v) => v.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Target::Stdout(w) => w.flush(),
            Target::File(f) => f.flush(),
            Target::Special { file, .. } => file.flush(),
            Target::Memory(_) => Ok(()),
        }
    }
}

/// A path that exists but is neither a regular file nor a folder: a device or a FIFO.
pub fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Where encoded rows go, in order (a file, stdout). Formats that are not a byte stream
/// (a spreadsheet workbook) implement this over their own writer.
pub trait Sink {
    /// Rows of one queue, encoded by the run's `RowEncoder`, in input order.
    fn write_rows(&mut self, queue: QueueId, rows: Rows<'_>) -> Result<()>;
    /// A row that could not be read (only workbooks keep them: a Rejected sheet).
    fn reject(&mut self, _rejected: &Rejected) -> Result<()> {
        Ok(())
    }
    /// Flush everything and hand back the target, to be committed with the others.
    fn finish(self: Box<Self>, summary: &Summary) -> Result<Target>;
}

/// Encoded rows appended to a target.
#[derive(Debug)]
pub struct ByteSink {
    target: Target,
    name: String,
}

impl ByteSink {
    /// `bom`: start with UTF-8's byte order mark (for Excel).
    pub fn new(target: Target, bom: bool, header: &[u8]) -> Result<ByteSink> {
        let mut sink = ByteSink {
            name: target.name(),
            target,
        };
        if bom {
            sink.append(b"\xEF\xBB\xBF")?;
        }
        sink.append(header)?;
        Ok(sink)
    }

    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.target
            .write_all(bytes)
            .map_err(|e| Error::io(format!("cannot write {}", self.name), e))
    }
}

impl Sink for ByteSink {
    fn write_rows(&mut self, _queue: QueueId, rows: Rows<'_>) -> Result<()> {
        self.append(rows.bytes)
    }

    fn finish(self: Box<Self>, _summary: &Summary) -> Result<Target> {
        Ok(self.target)
    }
}

/// `--sort score`: rows held until the end, then written highest score first (ties in
/// input order).
struct SortedSink {
    inner: Box<dyn Sink>,
    rows: RowBuf,
}

impl Sink for SortedSink {
    fn write_rows(&mut self, _queue: QueueId, rows: Rows<'_>) -> Result<()> {
        let base = self.rows.bytes.len();
        self.rows.bytes.extend_from_slice(rows.bytes);
        self.rows.ends.extend(rows.ends.iter().map(|e| base + e));
        self.rows.scores.extend_from_slice(rows.scores);
        Ok(())
    }

    fn reject(&mut self, rejected: &Rejected) -> Result<()> {
        self.inner.reject(rejected)
    }

    fn finish(mut self: Box<Self>, summary: &Summary) -> Result<Target> {
        let rows = std::mem::take(&mut self.rows);
        let mut sorted = RowBuf::default();
        for (row, score) in sorted_by_score(rows.rows()) {
            sorted.bytes.extend_from_slice(row);
            sorted.ends.push(sorted.bytes.len());
            sorted.scores.push(score);
        }
        self.inner.write_rows(0, sorted.rows())?;
        self.inner.finish(summary)
    }
}

/// Rows highest score first; equal scores keep their order.
pub fn sorted_by_score(rows: Rows<'_>) -> Vec<(&[u8], i64)> {
    let mut all: Vec<(&[u8], i64)> = rows.iter().collect();
    all.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
    all
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Csv,
    Tsv,
    Jsonl,
    Xlsx,
}

impl Kind {
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Csv => "csv",
            Kind::Tsv => "tsv",
            Kind::Jsonl => "jsonl",
            Kind::Xlsx => "xlsx",
        }
    }

    /// The format a file name asks for: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`, `.xlsx`.
    pub fn from_path(path: &Path) -> Option<Kind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Kind::Csv),
            "tsv" | "tab" => Some(Kind::Tsv),
            "jsonl" | "ndjson" => Some(Kind::Jsonl),
            "xlsx" => Some(Kind::Xlsx),
            _ => None,
        }
    }

    /// For a file name whose extension promises a format leadsort does not write (`.xls`,
    /// `.json`...), the format that comes closest: such a file written as CSV would fool
    /// whoever opens it.
    pub fn closest_to(path: &Path) -> Option<Kind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "xls" | "xlsm" | "xlsb" | "ods" | "numbers" => Some(Kind::Xlsx),
            "json" => Some(Kind::Jsonl),
            _ => None,
        }
    }

    /// A byte stream that can be appended to (not a workbook).
    pub fn is_text(self) -> bool {
        self != Kind::Xlsx
    }
}

/// Where a run's results go.
#[derive(Debug, Clone)]
pub enum Destination {
    /// One stream: stdout, or a file (`-o`). Rejected rows go to `rejected` if given.
    Single {
        output: Option<PathBuf>,
        rejected: Option<PathBuf>,
    },
    /// `--split DIR`: `<queue>.<format>` per queue, `rejected.csv`, `summary.json` last.
    Split { dir: PathBuf },
}

impl Destination {
    /// Where rows go as they are scored, by the name used in messages: stdout, or a device
    /// or FIFO given to `-o` (written in place). `None` for files that appear whole.
    pub fn in_place(&self) -> Option<String> {
        match self {
            Destination::Single { output: None, .. } => Some("stdout".to_string()),
            Destination::Single {
                output: Some(path), ..
            } if is_special(path) => Some(path.display().to_string()),
            _ => None,
        }
    }

    /// The file a queue's contacts go to with `--split`.
    pub fn queue_file(dir: &Path, queue: &str, kind: Kind) -> PathBuf {
        dir.join(format!("{queue}.{}", kind.extension()))
    }

    /// Every file this destination writes for these queues (stdout is not a file), with the
    /// option that names it.
    pub fn files(
        &self,
        queues: &[&str],
        kind: Kind,
        summary: Option<&Path>,
    ) -> Vec<(&'static str, PathBuf)> {
        let mut files: Vec<(&str, PathBuf)> = match self {
            Destination::Single { output, rejected } => (output.iter().map(|p| ("-o", p)))
                .chain(rejected.iter().map(|p| ("--rejected", p)))
                .map(|(option, p)| (option, p.clone()))
                .collect(),
            Destination::Split { dir } => queues
                .iter()
                .map(|q| Destination::queue_file(dir, q, kind))
                .chain([dir.join("rejected.csv"), dir.join("summary.json")])
                .map(|p| ("--split", p))
                .collect(),
        };
        files.extend(summary.map(|p| ("--summary", p.to_path_buf())));
        files
    }
}

impl Format {
    /// The CSV (or TSV) encoder for these settings.
    pub fn csv_encoder(&self, layout: Layout) -> CsvEncoder {
        CsvEncoder {
            delimiter: self.delimiter,
            escape_formulas: self.escape_formulas,
            passthrough: self.input_delimiter == self.delimiter,
            plain_reasons: false,
            layout,
        }
    }
}

/// Settings every writer shares.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    pub kind: Kind,
    /// The delimiter of CSV (`,`) or TSV (tab) output.
    pub delimiter: u8,
    /// The input's delimiter: rows may be copied through when it is the output's.
    pub input_delimiter: u8,
    pub escape_formulas: bool,
    /// Permission bits for output files; `None`: readable by the owner only.
    pub file_mode: Option<u32>,
    /// Start text outputs with a UTF-8 byte order mark.
    pub bom: bool,
    /// Rows highest score first (workbooks always are).
    pub sort: bool,
}

/// The open writers of one run.
pub struct Outputs {
    writers: Vec<Box<dyn Sink>>,
    split: bool,
    rejected: Option<RejectedWriter>,
    /// Opened first, so a summary that cannot be written stops the run before a row is
    /// written (to stdout, say); filled in at `commit`.
    summaries: Vec<(PathBuf, Target)>,
}

/// In a `--split` folder, the queue files the last run wrote for queues that `queues` (this
/// run's) does not have: a queue renamed or a route removed would otherwise leave yesterday's
/// contacts in a file next to today's. Only queues the folder's `summary.json` names (leadsort
/// wrote it), in the format it says that run wrote (a summary without one names none), and
/// only plain files; with the rules file that run used, as its summary names it (the caller
/// removes them only if that is this run's: another rules file's folder is another job's).
pub fn left_by_last_run(dir: &Path, queues: &[String]) -> (Vec<PathBuf>, Option<String>) {
    const MAX_SUMMARY: u64 = 16 << 20;
    let path = dir.join("summary.json");
    let old = fs::symlink_metadata(&path)
        .ok()
        .filter(|m| m.is_file() && m.len() <= MAX_SUMMARY)
        .and_then(|_| fs::read(&path).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let Some(old) = old else {
        return (Vec::new(), None);
    };
    let rules = old
        .get("rules")
        .and_then(|r| r.as_str())
        .map(str::to_string);
    let kind = [Kind::Csv, Kind::Tsv, Kind::Jsonl, Kind::Xlsx]
        .into_iter()
        .find(|k| old.get("format").and_then(|f| f.as_str()) == Some(k.extension()));
    let (Some(kind), Some(old)) = (kind, old.get("queues").and_then(|q| q.as_object())) else {
        return (Vec::new(), rules);
    };
    let mut stale: Vec<PathBuf> = (old.keys())
        .filter(|q| crate::rules::is_queue_name(q) && !queues.contains(q))
        .map(|q| Destination::queue_file(dir, q, kind))
        .filter(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    stale.sort();
    (stale, rules)
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("writers", &self.writers.len())
            .field("split", &self.split)
            .finish_non_exhaustive()
    }
}

impl Outputs {
    /// Open every output (as temp files) and write the headers. Nothing existing is touched
    /// until `commit`.
    pub fn create(
        dest: &Destination,
        summary: Option<&Path>,
        engine: &Engine,
        layout: &Layout,
        format: Format,
        encoder: &dyn RowEncoder,
    ) -> Result<Outputs> {
        let mut head = Vec::new();
        encoder.header(&mut head);
        // Sheets in the order a workbook shows them: sales (the warm tier's queue) first.
        let mut sheets: Vec<(QueueId, &str)> = engine
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| (i, q.as_str()))
            .collect();
        sheets.sort_by_key(|&(i, _)| i != engine.sales_queue());
        if format.kind == Kind::Xlsx && layout.names.len() > xlsx::EXCEL_MAX_COLUMNS {
            return Err(Error::Data(format!(
                "the rows would have {} columns ({} of the input's, {} added): an Excel sheet \
                 holds at most {}; keep fewer with --columns, or write CSV or JSON Lines \
                 (--format csv)",
                layout.names.len(),
                layout.inputs,
                layout.names.len() - layout.inputs,
                xlsx::EXCEL_MAX_COLUMNS
            )));
        }
        let open = |target: Target, sheets: &[(QueueId, &str)], whole_run: bool| {
            let sink: Box<dyn Sink> = match format.kind {
                Kind::Xlsx => Box::new(XlsxSink::new(target, layout, sheets, whole_run)),
                _ => Box::new(ByteSink::new(target, format.bom, &head)?),
            };
            Ok::<_, Error>(if format.sort && format.kind.is_text() {
                Box::new(SortedSink {
                    inner: sink,
                    rows: RowBuf::default(),
                })
            } else {
                sink
            })
        };
        // The summaries first: one that cannot be written stops the run before anything is,
        // stdout included.
        let mut summaries: Vec<PathBuf> = Vec::new();
        if let Destination::Split { dir } = dest {
            check_split_folder(dir)?;
            summaries.push(dir.join("summary.json"));
        }
        let in_split = summaries.len();
        summaries.extend(summary.map(Path::to_path_buf));
        let summaries = (summaries.into_iter().enumerate())
            .map(|(i, path)| {
                let target = match i < in_split {
                    true => Target::split_file(&path, format.file_mode)?,
                    false => Target::file_with_mode(&path, format.file_mode)?,
                };
                Ok((path, target))
            })
            .collect::<Result<Vec<_>>>()?;
        let (writers, rejected, split) = match dest {
            Destination::Single { output, rejected } => {
                let target = match output {
                    Some(p) => Target::file_with_mode(p, format.file_mode)?,
                    None => Target::stdout(),
                };
                let rejected = match rejected {
                    Some(p) => Some(RejectedWriter::new(
                        Target::file_with_mode(p, format.file_mode)?,
                        format,
                    )?),
                    None => None,
                };
                (vec![open(target, &sheets, true)?], rejected, false)
            }
            Destination::Split { dir } => {
                let writers = engine
                    .queues
                    .iter()
                    .enumerate()
                    .map(|(i, q)| {
                        let path = Destination::queue_file(dir, q, format.kind);
                        open(
                            Target::split_file(&path, format.file_mode)?,
                            &[(i, q.as_str())],
                            false,
                        )
                    })
                    .collect::<Result<Vec<_>>>()?;
                let rejected = RejectedWriter::new(
                    Target::split_file(&dir.join("rejected.csv"), format.file_mode)?,
                    format,
                )?;
                (writers, Some(rejected), true)
            }
        };
        Ok(Outputs {
            writers,
            split,
            rejected,
            summaries,
        })
    }

    /// Rows of one queue, encoded by `encoder`.
    pub fn write_rows(&mut self, queue: QueueId, rows: Rows<'_>) -> Result<()> {
        let i = if self.split { queue } else { 0 };
        self.writers[i].write_rows(queue, rows)
    }

    /// Record a rejected row, if this run keeps them (a file, a workbook's sheet).
    pub fn reject(&mut self, rejected: &Rejected) -> Result<()> {
        if !self.split {
            self.writers[0].reject(rejected)?;
        }
        match &mut self.rejected {
            Some(w) => w.write(rejected),
            None => Ok(()),
        }
    }

    /// Make every output final. Every file is written and synced first, the summary too;
    /// only then are they renamed over the old ones, contacts and rejected rows first and the
    /// summary last. A failure before the renames (a full disk, say) leaves every old output
    /// as it was.
    pub fn commit(self, summary: &Summary) -> Result<()> {
        let mut ready = Vec::new();
        for w in self.writers {
            ready.push(w.finish(summary)?.prepare()?);
        }
        if let Some(r) = self.rejected {
            ready.push(r.finish()?.prepare()?);
        }
        let json = summary.to_json();
        for (path, mut file) in self.summaries {
            file.write_all(json.as_bytes())
                .map_err(|e| Error::writing(&path, e))?;
            ready.push(file.prepare()?);
        }
        commit_all(ready)
    }
}

/// The `--split` folder must be there (leadsort writes into it but does not make it), and be
/// a folder: exit 73 otherwise.
pub fn check_split_folder(dir: &std::path::Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let (kind, why) = if dir.exists() {
        (
            io::ErrorKind::NotADirectory,
            "the --split path is a file, not a folder (--split names the folder the queue files go into)",
        )
    } else {
        (
            io::ErrorKind::NotFound,
            "the --split folder does not exist (leadsort writes into it but does not make it)",
        )
    };
    Err(Error::CantCreate {
        path: dir.to_path_buf(),
        source: io::Error::new(kind, why),
    })
}
