//! Classifying a whole input, fast: the input is cut into chunks, worker threads read (one
//! at a time, each the next chunk), parse, score and encode them, and the results are
//! written in input order, so the output is the same bytes whatever the number of threads.
//!
//! Chunks end after a line break where the number of quotes so far is even: usually a
//! record boundary, but a stray quote can fool that guess. Each worker parses its chunk as if
//! it starts a record, and says whether the chunk ended between records. When one did not,
//! the results of the chunks after it are thrown away and those chunks are parsed here, in
//! order, continuing the parser from where the worker left it, until a chunk ends between
//! records again. That costs little and only on odd input, and the output is exact either
//! way.
//!
//! Memory stays flat: a worker takes a credit for every chunk it reads and the merger gives
//! it back once the chunk is written, so only a few chunks are ever in flight, however uneven
//! the workers' pace. The credit is the written chunk's buffer, and the rows' buffers go back to
//! the workers too: a megabyte grown afresh for every chunk costs page faults and copies.
//! Rows can be far longer than their input (reasons of hundreds of rules): a worker sends a
//! chunk's rows in parts whenever they come to a couple of megabytes, and takes the buffers
//! for each part from a `RowPool` that holds back workers ahead of the merger, so the rows in
//! flight stay a few parts per worker too.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::engine::{Engine, Header, Outcome, QueueId, Row, Scratch, Stats};
use crate::error::{Error, Result};
use crate::input::parse::{RecordParser, RecordView, Replay, Step};
use crate::input::{Fields, Rejected, Stream, checked_text, known_text};
use crate::output::{Cells, RowBuf, RowEncoder, Rows, Scored};

/// How big chunks are: `size` bytes of input at most; with several workers, less (down to
/// `1 / Chunking::SMALLEST` of it) where that keeps a chunk's encoded rows near `rows`
/// bytes, the first ones `1 / Chunking::FIRST` of it, before any rows are known, and none
/// more than `Chunking::GROWTH` times the one before. A rule
/// file whose reasons come to several times its input would otherwise keep megabytes of
/// rows in flight per chunk, a few chunks per worker: peak memory then followed the rule
/// file. Rows are also written in parts within a chunk, whenever they come to `rows` bytes
/// on one thread or `Chunking::PART` times that with several (looked at every `every`
/// records): that bounds what the sizes cannot, the first chunks and rows far longer than
/// the last chunk's (see `sequential`, `RowPool`).
#[derive(Debug, Clone, Copy)]
struct Chunking {
    size: usize,
    rows: usize,
    every: u64,
}

const CHUNKING: Chunking = Chunking {
    size: 512 << 10,
    rows: 1 << 20,
    // (Summing the queues' rows after every record would cost 1% of a run.)
    every: 32,
};

/// The most input one chunk holds. An input no larger gains nothing from several workers
/// (they would share it in small first chunks): better scored on one thread.
pub const CHUNK_BYTES: u64 = CHUNKING.size as u64;

/// A worker's parser left mid-record holding more than a quarter chunk is not handed on
/// (see `Unfinished::Dropped`).
const KEEP_PARSER: usize = 4;

/// What every worker needs to turn records into rows.
pub struct Job<'a> {
    pub engine: &'a Engine,
    pub encoder: &'a dyn RowEncoder,
    pub header: &'a Header,
    /// Columns where a line break means rows were merged.
    pub single_line: &'a [usize],
    pub delimiter: u8,
    pub max_record: usize,
    /// Stop at the first row that cannot be read.
    pub strict: bool,
    /// One output per queue (`--split`): rows are grouped by queue; else they all go to one
    /// output in input order.
    pub split: bool,
    /// The encoder writes the reasons as text (not JSON Lines, not `--no-reasons`).
    pub reasons_text: bool,
    /// The encoder writes reasons in some form (not `--no-reasons`), so the engine records
    /// each contact's matched rules.
    pub reasons: bool,
    /// Contacts bound for this queue are held to the end of the run, not written (the
    /// sales queue, when the rules have a sales capacity or reps).
    pub hold: Option<QueueId>,
}

/// A contact bound for sales, held until the balance decides (`crate::balance`): its cells
/// and everything the engine decided, to be written later.
#[derive(Debug, Clone)]
pub struct Held {
    /// Record and line numbers, absolute once the collector sees them.
    pub record: u64,
    pub line: u64,
    text: Vec<u8>,
    starts: Vec<usize>,
    ends: Vec<usize>,
    raw: Vec<u8>,
    well_quoted: bool,
    pub outcome: Outcome,
    pub reasons: String,
    /// The reps whose territory takes it.
    pub territories: u64,
    /// Its owner column, trimmed.
    pub owner: String,
}

impl Held {
    pub fn cells(&self) -> Cells<'_> {
        Cells {
            fields: Fields {
                text: &self.text,
                starts: &self.starts,
                ends: &self.ends,
            },
            raw: Some(&self.raw),
            well_quoted: self.well_quoted,
        }
    }
}

impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

/// Where the results go, in input order.
pub trait Collector {
    /// Rows of one queue, encoded, with their scores.
    fn rows(&mut self, queue: usize, rows: Rows<'_>) -> Result<()>;
    /// A contact held for the balance (only with `Job::hold`).
    fn hold(&mut self, held: Held) -> Result<()>;
    /// A row that could not be read (record and line are absolute).
    fn reject(&mut self, rejected: &Rejected) -> Result<()>;
    /// Called between chunks: a chance to stop (signals) or show progress.
    fn tick(&mut self, bytes_read: u64) -> Result<()>;
}

/// The counts of a whole run.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Records read after the header.
    pub records: u64,
    pub contacts: u64,
    pub rejected: u64,
    /// Contacts held for the balance (counted in `contacts`, not yet in `queues`).
    pub held: u64,
    pub queues: Vec<u64>,
    /// By `Tier as usize`.
    pub tiers: [u64; 4],
    pub stats: Stats,
    /// Record and line of the first row rejected for not being UTF-8.
    pub first_not_utf8: Option<(u64, u64)>,
    /// Contacts that look like a spreadsheet's totals row, and the first's record and line.
    pub totals_rows: u64,
    pub first_totals_row: Option<(u64, u64)>,
}

/// What a stretch of records became.
#[derive(Debug, Default)]
struct Batch {
    /// Encoded rows, per queue.
    rows: Vec<RowBuf>,
    /// Record and line numbers counted from this batch's parser start.
    rejected: Vec<Rejected>,
    /// Contacts held for the balance, numbered like `rejected`.
    held: Vec<Held>,
    totals: Totals,
    /// A record that stops the run (an unclosed quote too big to recover): record, line.
    fatal: Option<(u64, u64)>,
}

impl Batch {
    /// The bytes of its encoded rows, all queues together.
    fn rows_len(&self) -> usize {
        self.rows.iter().map(|r| r.bytes.len()).sum()
    }

    /// An empty batch, its rows written into `spare` (a written batch's), or new ones if
    /// `spare` is empty.
    fn new(job: &Job<'_>, spare: Vec<RowBuf>) -> Batch {
        let queues = job.engine.queues.len();
        let typed_fields = job.engine.typed_fields.len();
        let outputs = if job.split { queues } else { 1 };
        let rows = if spare.len() == outputs {
            let mut rows = spare;
            for r in &mut rows {
                reuse(r, CHUNKING.rows);
            }
            rows
        } else {
            vec![RowBuf::default(); outputs]
        };
        Batch {
            rows,
            rejected: Vec::new(),
            held: Vec::new(),
            fatal: None,
            totals: Totals {
                queues: vec![0; queues],
                stats: Stats {
                    unreadable: vec![0; typed_fields],
                },
                ..Totals::default()
            },
        }
    }
}

/// Where parsing stands in a chunk.
struct Reading<'c> {
    chunk: &'c [u8],
    /// What of the chunk is known to be text (see `checked_text`).
    known: &'c str,
    /// Where the next record begins.
    pos: usize,
    /// The chunk ends the input.
    eof: bool,
    /// Lines read again before the chunk goes on (see `replay`), and where the next record
    /// begins in them.
    again: Option<(Vec<u8>, usize)>,
}

impl<'c> Reading<'c> {
    fn new(chunk: &'c [u8], eof: bool) -> Reading<'c> {
        Reading {
            chunk,
            known: known_text(chunk),
            pos: 0,
            eof,
            again: None,
        }
    }

    /// The bytes to parse next, where the next record begins in them, and what of them is
    /// known to be text.
    fn source(&mut self) -> (&[u8], &mut usize, &str) {
        match &mut self.again {
            Some((bytes, pos)) => (bytes, pos, ""),
            None => (self.chunk, &mut self.pos, self.known),
        }
    }

    /// Go back where the parser says: a quote that never closed or ran over rows has the
    /// lines after its first read again.
    fn replay(&mut self, replay: Replay) {
        match (replay, &mut self.again) {
            (Replay::At(at), Some((_, pos))) => *pos = at,
            (Replay::At(at), None) => self.pos = at,
            // The record began before these bytes: its lines, then the rest of these. (Kept
            // here, not parsed at once, so that a batch still ends at its cap within them.)
            (Replay::Bytes(mut lines), Some((rest, pos))) => {
                lines.extend_from_slice(&rest[*pos..]);
                *rest = lines;
                *pos = 0;
            }
            (Replay::Bytes(mut lines), None) => {
                lines.extend_from_slice(&self.chunk[self.pos..]);
                self.pos = self.chunk.len();
                self.again = Some((lines, 0));
            }
        }
    }
}

/// When a batch is written before its chunk ends: once its rows come to `bytes`, looked at
/// every `every` records.
#[derive(Debug, Clone, Copy)]
struct Cap {
    bytes: usize,
    every: u64,
}

/// Empty a written batch's rows for the next batch. The buffer keeps the size its last rows
/// needed, or `budget` if that is more: chunks of one size (as on one thread, where the size
/// does not adapt) need the same again, and a buffer shrunk and grown back for every chunk
/// has the kernel hand over and clear fresh pages each time. Past twice that it is given
/// back: it was grown by a chunk larger than its successors (see `Chunking`).
fn reuse(rows: &mut RowBuf, budget: usize) {
    let keep = rows.bytes.len().max(budget);
    rows.clear();
    if rows.bytes.capacity() > 2 * keep {
        rows.bytes.shrink_to(keep);
    }
}

/// A record's cells as text: the record is validated once, cells are slices of it.
struct TextRow<'a> {
    text: &'a str,
    fields: Fields<'a>,
}

impl Row for TextRow<'_> {
    fn cell(&self, col: usize) -> &str {
        let (Some(&start), Some(&end)) = (self.fields.starts.get(col), self.fields.ends.get(col))
        else {
            return "";
        };
        self.text.get(start..end).unwrap_or("")
    }
}

/// Per-thread scoring state.
struct Worker<'j> {
    job: &'j Job<'j>,
    scratch: Scratch,
    outcome: Outcome,
    reasons: String,
    raw: Vec<u8>,
}

impl<'j> Worker<'j> {
    fn new(job: &'j Job<'j>) -> Worker<'j> {
        Worker {
            job,
            scratch: job.engine.scratch(),
            outcome: Outcome::default(),
            reasons: String::new(),
            raw: Vec::new(),
        }
    }

    /// The records of a chunk from where `at` stands, into `batch`, up to the end of the
    /// chunk; or, returning `true`, until the batch's rows come to `cap.bytes` (looked at
    /// every `cap.every` records), `at` then standing where the next record begins (call
    /// again to go on).
    fn records_until(
        &mut self,
        parser: &mut RecordParser,
        at: &mut Reading<'_>,
        batch: &mut Batch,
        cap: Cap,
    ) -> bool {
        let eof = at.eof;
        // Records since the rows were last held against the cap (a count, not a division by
        // `cap.every` per record).
        let mut unchecked = 0;
        loop {
            let (bytes, pos, known) = at.source();
            let more = match parser.next(bytes, pos, eof) {
                Step::Record(view) => {
                    self.record(&view, known, batch);
                    true
                }
                Step::NeedMore | Step::End => false,
            };
            if !more {
                // (Lines read again end where the chunk does.)
                at.again = None;
                return false;
            }
            if let Some(replay) = parser.take_replay() {
                at.replay(replay);
            }
            unchecked += 1;
            if unchecked == cap.every {
                unchecked = 0;
                if batch.rows_len() >= cap.bytes {
                    return true;
                }
            }
        }
    }

    /// `known`: what of the chunk is known to be text (see `checked_text`).
    fn record(&mut self, view: &RecordView<'_>, known: &str, batch: &mut Batch) {
        if view.is_blank() {
            return;
        }
        let job = self.job;
        let t = &mut batch.totals;
        t.records += 1;
        if view.unrecoverable {
            batch.fatal.get_or_insert((t.records, view.line));
            return;
        }
        let text = match checked_text(
            view,
            job.header,
            job.single_line,
            (job.max_record, job.delimiter),
            known,
        ) {
            Ok(text) => text,
            Err(reason) => {
                if t.first_not_utf8.is_none() && crate::input::not_utf8(&reason) {
                    t.first_not_utf8 = Some((t.records, view.line));
                }
                batch.rejected.push(Rejected {
                    record: t.records,
                    line: view.line,
                    reason,
                    raw: view.raw(&mut self.raw).to_vec(),
                });
                t.rejected += 1;
                return;
            }
        };
        if crate::input::looks_like_totals(view.fields()) {
            t.totals_rows += 1;
            t.first_totals_row.get_or_insert((t.records, view.line));
        }
        let engine = job.engine;
        let row = TextRow {
            text,
            fields: view.fields(),
        };
        if job.reasons {
            engine.evaluate(&row, &mut self.scratch, &mut self.outcome);
        } else {
            engine.evaluate_without_hits(&row, &mut self.scratch, &mut self.outcome);
        }
        if job.reasons_text {
            engine.write_reasons(&self.outcome, &mut self.reasons);
        }
        let o = &self.outcome;
        if job.hold == Some(o.queue) {
            let fields = view.fields();
            batch.held.push(Held {
                record: t.records,
                line: view.line,
                text: fields.text.to_vec(),
                starts: fields.starts.to_vec(),
                ends: fields.ends.to_vec(),
                raw: view.raw(&mut self.raw).to_vec(),
                well_quoted: view.well_quoted,
                outcome: o.clone(),
                reasons: self.reasons.clone(),
                territories: engine.territories(&row, &mut self.scratch),
                owner: engine.owner(&row).to_string(),
            });
            t.contacts += 1;
            t.held += 1;
            t.tiers[o.tier() as usize] += 1;
            return;
        }
        let row = Scored {
            cells: Cells {
                fields: view.fields(),
                // Copied through when it can be: the same bytes whether or not the row
                // spanned chunks, so output never depends on where the input was cut.
                raw: Some(view.raw(&mut self.raw)),
                well_quoted: view.well_quoted,
            },
            outcome: o,
            tier: o.tier().as_str(),
            queue: engine.queue_name(o),
            owner: "",
            reasons: &self.reasons,
            note: None,
        };
        let out = if job.split { o.queue } else { 0 };
        batch.rows[out].push(job.encoder, &row);
        t.contacts += 1;
        t.queues[o.queue] += 1;
        t.tiers[o.tier() as usize] += 1;
    }

    /// Unreadable-cell counts of what this worker scored since the last call.
    fn take_stats(&mut self) -> Stats {
        let empty = Stats {
            unreadable: vec![0; self.scratch.stats.unreadable.len()],
        };
        std::mem::replace(&mut self.scratch.stats, empty)
    }
}

/// A chunk as `ChunkReader` cut it.
struct Chunk {
    index: u64,
    bytes: Vec<u8>,
    eof: bool,
    /// The first chunk may start just after a CR (the header's CRLF).
    after_cr: bool,
}

/// A worker's result: a part of a chunk's rows, or the last one with how the chunk ended.
struct Done {
    index: u64,
    batch: Batch,
    /// `None` while more parts of the chunk follow.
    end: Option<ChunkEnd>,
}

/// What the merger needs to know of a chunk once its rows are all done.
struct ChunkEnd {
    eof: bool,
    unfinished: Unfinished,
    /// Line breaks in the chunk, when it ended between records.
    lines: u64,
    /// The chunk, kept in case it has to be parsed again.
    bytes: Vec<u8>,
    after_cr: bool,
}

/// How a worker's chunk ended.
enum Unfinished {
    /// Between records.
    No,
    /// Mid-record: the parser, to carry on with the next chunk.
    Parser(Box<RecordParser>),
    /// Mid-record, with a record so large that keeping its bytes in every chunk in flight
    /// would add up; the merger parses the chunk again instead (only on such odd input, and
    /// only if no part of the chunk's rows was sent: those are written already).
    Dropped,
}

/// Classify everything after the header. `threads`: worker threads (0 or 1: all on this
/// thread, no speculation).
pub fn run(
    job: &Job<'_>,
    stream: Stream,
    threads: usize,
    sink: &mut dyn Collector,
) -> Result<Totals> {
    run_chunked(job, stream, threads, CHUNKING, sink)
}

/// `run` with chunks cut as `chunking` says (small ones to test the cutting and merging).
fn run_chunked(
    job: &Job<'_>,
    stream: Stream,
    threads: usize,
    chunking: Chunking,
    sink: &mut dyn Collector,
) -> Result<Totals> {
    let mut merger = Merger::new(job, stream.lines, chunking.batch());
    if threads <= 1 {
        return sequential(
            job,
            ChunkReader::new(stream, chunking.size),
            &mut merger,
            sink,
        );
    }
    let read = AtomicU64::new(stream.bytes_read);
    // Each worker reads its own chunks, in turn: the input then stays in the cache of the
    // core that parses it, and no reader thread wakes up between them (5% less wall time
    // than a reader thread handing chunks over). `None` once the input is done, or failed
    // (the error is kept for after the workers stop).
    let chunk_size = chunking.size;
    let source = Mutex::new(Some(ChunkReader::new(stream, chunk_size)));
    // The size of the next chunk (see `Chunking`), from the rows per input byte of the last
    // one done; the first ones, read before any is done, small.
    let next_size = AtomicUsize::new(chunking.first_size());
    let read_error: Mutex<Option<Error>> = Mutex::new(None);
    // One result per worker: memory stays a few chunks.
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Done>(threads);
    // The chunks in flight: being worked on, done and waiting for their turn.
    let window = 2 * threads + 1;
    // Rows in flight: a part's buffers for each chunk in flight, unless chunks come in parts.
    let pool = RowPool::new(window);
    std::thread::scope(|scope| {
        let (read, source, read_error, next_size) = (&read, &source, &read_error, &next_size);
        let pool = &pool;
        let (credit_tx, credit_rx) = crossbeam_channel::bounded::<Vec<u8>>(window);
        for _ in 0..window {
            let _ = credit_tx.send(Vec::new());
        }
        for _ in 0..threads {
            let (credit_rx, done_tx) = (credit_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                let mut worker = Worker::new(job);
                while let Some(chunk) = take_chunk(source, &credit_rx, next_size, read, read_error)
                {
                    let index = chunk.index;
                    let mut parser = RecordParser::new(job.delimiter, job.max_record)
                        .with_after_cr(chunk.after_cr)
                        .expect_fields(job.header.len());
                    let mut at = Reading::new(&chunk.bytes, chunk.eof);
                    // The chunk's rows in parts, whenever they come to `chunking.part()`.
                    let (mut rows, mut parts) = (0, 0);
                    let batch = loop {
                        let Some(spare) = pool.take(index) else {
                            return;
                        };
                        let mut batch = Batch::new(job, spare);
                        let more =
                            worker.records_until(&mut parser, &mut at, &mut batch, chunking.part());
                        batch.totals.stats = worker.take_stats();
                        rows += batch.rows_len();
                        if !more {
                            break batch;
                        }
                        parts += 1;
                        let part = Done {
                            index,
                            batch,
                            end: None,
                        };
                        if done_tx.send(part).is_err() {
                            return;
                        }
                    };
                    next_size.store(
                        chunking.next_size(chunk.bytes.len(), rows),
                        Ordering::Relaxed,
                    );
                    let lines = parser.lines();
                    let unfinished = if parser.is_between_records() {
                        Unfinished::No
                    } else if parts == 0 && parser.held_bytes() > chunk_size / KEEP_PARSER {
                        Unfinished::Dropped
                    } else {
                        Unfinished::Parser(Box::new(parser))
                    };
                    let end = ChunkEnd {
                        eof: chunk.eof,
                        unfinished,
                        lines,
                        bytes: chunk.bytes,
                        after_cr: chunk.after_cr,
                    };
                    let last = Done {
                        index,
                        batch,
                        end: Some(end),
                    };
                    if done_tx.send(last).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(credit_rx);
        // `merge` owns the credits' sender and closes the pool: when it stops, so do the
        // workers.
        let merged = merge(&mut merger, done_rx, credit_tx, pool, sink, read);
        merged?;
        // Every batch's buffers came back: none lost for the workers (each worker takes
        // from `merge`'s results only, so the count is final once it returned).
        debug_assert_eq!(lock(&pool.state).out, 0, "row buffers not given back");
        // The workers stopped reading at an I/O error; the merger then saw the results
        // end early.
        if let Some(e) = lock(read_error).take() {
            return Err(e);
        }
        Ok(merger.totals)
    })
}

/// Everything on this thread: one parser over the chunks in order, a batch written whenever
/// its rows come to the budget, even within a chunk, so memory stays flat however much the
/// records grow (a file of ids scored by two hundred long-named rules writes a thousand
/// times its input).
fn sequential(
    job: &Job<'_>,
    mut reader: ChunkReader,
    merger: &mut Merger<'_>,
    sink: &mut dyn Collector,
) -> Result<Totals> {
    let mut parser = RecordParser::new(job.delimiter, job.max_record)
        .with_after_cr(reader.after_cr)
        .expect_fields(job.header.len());
    // One parser reads on across chunks: they need not end between records.
    reader.anywhere = true;
    merger.base = merger.lines;
    let (mut bytes, mut rows) = (Vec::new(), Vec::new());
    while let Some(chunk) = reader.next(bytes)? {
        rows = merger.parse(&mut parser, &chunk.bytes, chunk.eof, rows, sink)?;
        sink.tick(reader.bytes_read)?;
        if chunk.eof {
            break;
        }
        bytes = chunk.bytes;
    }
    Ok(std::mem::take(&mut merger.totals))
}

/// Write results in input order; take over parsing where a chunk did not end between records.
fn merge(
    merger: &mut Merger<'_>,
    done: crossbeam_channel::Receiver<Done>,
    credits: crossbeam_channel::Sender<Vec<u8>>,
    pool: &RowPool,
    sink: &mut dyn Collector,
    read: &AtomicU64,
) -> Result<()> {
    // However this ends, workers waiting for row buffers stop waiting.
    let _close = CloseOnDrop(pool);
    // Parts of the chunks done ahead of their turn, in order.
    let mut waiting: BTreeMap<u64, VecDeque<Done>> = BTreeMap::new();
    let mut next = 0u64;
    loop {
        // Wake up now and then so that a signal is noticed even while waiting on input.
        let d = match done.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(d) => d,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                sink.tick(read.load(Ordering::Relaxed))?;
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        waiting.entry(d.index).or_default().push_back(d);
        while let Some(d) = waiting.get_mut(&next).and_then(VecDeque::pop_front) {
            let eof = d.end.as_ref().is_some_and(|end| end.eof);
            let (rows, bytes) = merger.take(d, sink)?;
            pool.give(rows);
            // A part: the chunk goes on. (A chance to stop, too: a chunk's parts can take a
            // while.)
            let Some(bytes) = bytes else {
                sink.tick(read.load(Ordering::Relaxed))?;
                continue;
            };
            waiting.remove(&next);
            next += 1;
            pool.advance(next);
            // A worker may read another chunk into the buffer of this one. (They may have
            // stopped: nothing to give back.)
            let _ = credits.try_send(bytes);
            sink.tick(read.load(Ordering::Relaxed))?;
            if eof {
                return Ok(());
            }
        }
    }
}

/// The row buffers of the workers' batches, and how many are out (taken, not yet written
/// and given back). Once `limit` are out, a worker waits for one unless its chunk is the
/// next to be written: the merger always gets the rows it waits for (no deadlock), and the
/// rows in flight stay `limit` batches and the next chunk's few parts, whatever a rule file
/// makes a chunk's rows grow to.
struct RowPool {
    state: Mutex<PoolState>,
    given: std::sync::Condvar,
    limit: usize,
}

#[derive(Debug, Default)]
struct PoolState {
    spare: Vec<Vec<RowBuf>>,
    out: usize,
    /// The chunk the merger writes next.
    next: u64,
    /// The merger stopped.
    closed: bool,
    /// Workers waiting for buffers.
    waiting: usize,
}

impl RowPool {
    fn new(limit: usize) -> RowPool {
        RowPool {
            state: Mutex::new(PoolState::default()),
            given: std::sync::Condvar::new(),
            limit,
        }
    }

    /// Buffers for a batch of chunk `index` (empty for new ones), once there is room; `None`
    /// if the merger stopped.
    fn take(&self, index: u64) -> Option<Vec<RowBuf>> {
        let mut state = lock(&self.state);
        loop {
            if let Some(rows) = self.try_take(&mut state, index) {
                return rows;
            }
            state.waiting += 1;
            state = self
                .given
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.waiting -= 1;
        }
    }

    /// `take` without waiting: `None` where it would wait.
    fn try_take(&self, state: &mut PoolState, index: u64) -> Option<Option<Vec<RowBuf>>> {
        if state.closed {
            return Some(None);
        }
        if state.out >= self.limit && index > state.next {
            return None;
        }
        state.out += 1;
        Some(Some(state.spare.pop().unwrap_or_default()))
    }

    /// A written batch's buffers, back.
    fn give(&self, rows: Vec<RowBuf>) {
        let mut state = lock(&self.state);
        debug_assert!(state.out > 0, "buffers given back that were not taken");
        state.out = state.out.saturating_sub(1);
        if state.spare.len() < self.limit {
            state.spare.push(rows);
        }
        drop(state);
        self.given.notify_all();
    }

    /// The merger moved on to chunk `next`.
    fn advance(&self, next: u64) {
        lock(&self.state).next = next;
        self.given.notify_all();
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.given.notify_all();
    }
}

/// Closes a `RowPool` when dropped.
struct CloseOnDrop<'a>(&'a RowPool);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The in-order end of the pipeline: numbering, sequential catch-up, totals.
struct Merger<'j> {
    worker: Worker<'j>,
    job: &'j Job<'j>,
    /// Records before the next batch.
    records: u64,
    /// Line breaks before the next chunk (when chunks end between records).
    lines: u64,
    /// While catching up: the parser taken over, and the line breaks before its start.
    carry: Option<RecordParser>,
    base: u64,
    totals: Totals,
    /// Where a batch parsed here is written.
    cap: Cap,
}

impl<'j> Merger<'j> {
    fn new(job: &'j Job<'j>, lines: u64, cap: Cap) -> Merger<'j> {
        Merger {
            worker: Worker::new(job),
            job,
            cap,
            records: 0,
            lines,
            carry: None,
            base: lines,
            totals: Totals {
                queues: vec![0; job.engine.queues.len()],
                stats: Stats {
                    unreadable: vec![0; job.engine.typed_fields.len()],
                },
                ..Totals::default()
            },
        }
    }

    /// One worker result, in order. Gives back the rows' buffers, written, and at the
    /// chunk's end (not a part) the chunk's buffer.
    fn take(
        &mut self,
        d: Done,
        sink: &mut dyn Collector,
    ) -> Result<(Vec<RowBuf>, Option<Vec<u8>>)> {
        let Some(end) = d.end else {
            // A part. (Not needed where the chunk is parsed here at its end, below.)
            if self.carry.is_some() {
                #[cfg(test)]
                tests::DROPPED_PARTS.with(|n| n.set(n.get() + 1));
                return Ok((d.batch.rows, None));
            }
            return Ok((self.emit(d.batch, self.lines, sink)?, None));
        };
        let mut parser = match (self.carry.take(), end.unfinished) {
            // The worker guessed wrong where this chunk starts: parse it here.
            (Some(parser), _) => parser,
            // The chunk started at a record boundary, but the worker dropped its parser.
            (None, Unfinished::Dropped) => {
                self.base = self.lines;
                RecordParser::new(self.job.delimiter, self.job.max_record)
                    .with_after_cr(end.after_cr)
                    .expect_fields(self.job.header.len())
            }
            // The chunk started at a record boundary: the worker's result stands.
            (None, unfinished) => {
                let rows = self.emit(d.batch, self.lines, sink)?;
                match unfinished {
                    Unfinished::Parser(parser) => {
                        // It ended inside a record: carry on from there, in order.
                        self.base = self.lines;
                        self.carry = Some(*parser);
                    }
                    _ => self.lines += end.lines,
                }
                return Ok((rows, Some(end.bytes)));
            }
        };
        let rows = self.parse(&mut parser, &end.bytes, end.eof, d.batch.rows, sink)?;
        if parser.is_between_records() {
            self.lines = self.base + parser.lines();
        } else {
            self.carry = Some(parser);
        }
        Ok((rows, Some(end.bytes)))
    }

    /// Parse `bytes` here from where `parser` stands, writing a batch (into `rows`, given
    /// back) whenever its rows come to `self.cap`; lines count from `self.base`.
    fn parse(
        &mut self,
        parser: &mut RecordParser,
        bytes: &[u8],
        eof: bool,
        mut rows: Vec<RowBuf>,
        sink: &mut dyn Collector,
    ) -> Result<Vec<RowBuf>> {
        let mut at = Reading::new(bytes, eof);
        loop {
            let mut batch = Batch::new(self.job, rows);
            let more = self
                .worker
                .records_until(parser, &mut at, &mut batch, self.cap);
            batch.totals.stats = self.worker.take_stats();
            rows = self.emit(batch, self.base, sink)?;
            if !more {
                return Ok(rows);
            }
        }
    }

    /// Write a batch whose record and line numbers count from `line_base`'s parser start.
    /// Gives back its rows' buffers, for another batch.
    fn emit(
        &mut self,
        batch: Batch,
        line_base: u64,
        sink: &mut dyn Collector,
    ) -> Result<Vec<RowBuf>> {
        if let Some((record, line)) = batch.fatal {
            return Err(crate::input::unrecoverable(
                record + self.records,
                line + line_base,
                self.job.max_record,
            ));
        }
        let t = batch.totals;
        for mut r in batch.rejected {
            r.record += self.records;
            r.line += line_base;
            if self.job.strict {
                return Err(Error::Data(format!(
                    "record {} (line {}): {}\n--strict stops at the first row that cannot be read; \
                     no output file was replaced",
                    r.record, r.line, r.reason
                )));
            }
            sink.reject(&r)?;
        }
        for mut h in batch.held {
            h.record += self.records;
            h.line += line_base;
            sink.hold(h)?;
        }
        for (q, rows) in batch.rows.iter().enumerate() {
            if !rows.is_empty() {
                sink.rows(q, rows.rows())?;
            }
        }
        // (Without --split every row is in `rows[0]`, in input order.)
        let all = &mut self.totals;
        if all.first_not_utf8.is_none()
            && let Some((rec, line)) = t.first_not_utf8
        {
            all.first_not_utf8 = Some((rec + self.records, line + line_base));
        }
        if all.first_totals_row.is_none()
            && let Some((rec, line)) = t.first_totals_row
        {
            all.first_totals_row = Some((rec + self.records, line + line_base));
        }
        all.totals_rows += t.totals_rows;
        self.records += t.records;
        all.records += t.records;
        all.contacts += t.contacts;
        all.rejected += t.rejected;
        all.held += t.held;
        for (a, b) in all.queues.iter_mut().zip(&t.queues) {
            *a += b;
        }
        for (a, b) in all.tiers.iter_mut().zip(&t.tiers) {
            *a += b;
        }
        all.stats.merge(&t.stats);
        Ok(batch.rows)
    }
}

impl Chunking {
    /// The smallest chunk is this part of the largest: 1 KiB. Rows of 1 MiB from a chunk
    /// any smaller would be rows a thousand times their input.
    const SMALLEST: usize = 512;
    /// The first chunks, read before any rows are known, are this part of the largest
    /// (16 KiB): a few of them are in flight before the first one's rows tell how large the
    /// next may be. (With 4 KiB, a file of 10,000 contacts took 7% longer: more chunks.)
    const FIRST: usize = 32;

    /// Chunks grow at most this many times from one to the next: from the first ones to the
    /// largest in a few steps, so that two workers on a file of a few chunks share it evenly.
    const GROWTH: u128 = 4;

    /// A worker's rows are sent in parts of this many times `rows` (see `part`).
    const PART: usize = 2;

    /// The input to read for a chunk whose rows come to about `self.rows` bytes, given that
    /// the last chunk's `input` bytes gave `rows` bytes of rows.
    fn next_size(self, input: usize, rows: usize) -> usize {
        if input == 0 || rows == 0 {
            return self.size;
        }
        let (input, size) = (input as u128, self.size as u128);
        let next = (input * self.rows as u128 / rows as u128)
            .min(input * Chunking::GROWTH)
            .min(size);
        (next as usize).max((self.size / Chunking::SMALLEST).max(1))
    }

    /// The size of the first chunks.
    fn first_size(self) -> usize {
        (self.size / Chunking::FIRST).max(1)
    }

    /// Where one thread writes its rows: at the budget.
    fn batch(self) -> Cap {
        Cap {
            bytes: self.rows,
            every: self.every,
        }
    }

    /// Where a worker sends a part of its chunk's rows: at `PART` times the budget, which
    /// the chunk's size already aims at, so that only the chunks whose rows it misses by far
    /// come in parts.
    fn part(self) -> Cap {
        Cap {
            bytes: self.rows.saturating_mul(Chunking::PART),
            every: self.every,
        }
    }
}

/// The next chunk for a worker: a credit (the buffer of a written chunk), then the next cut
/// of the input (of about `size` bytes), read under the lock. `None` when the merger
/// stopped (no credit), at the end of the input, or at a read error (kept in `error`).
fn take_chunk(
    source: &Mutex<Option<ChunkReader>>,
    credits: &crossbeam_channel::Receiver<Vec<u8>>,
    size: &AtomicUsize,
    read: &AtomicU64,
    error: &Mutex<Option<Error>>,
) -> Option<Chunk> {
    let buffer = credits.recv().ok()?;
    let mut source = lock(source);
    let reader = source.as_mut()?;
    reader.size = size.load(Ordering::Relaxed);
    let chunk = match reader.next(buffer) {
        Ok(chunk) => chunk,
        Err(e) => {
            *lock(error) = Some(e);
            None
        }
    };
    read.store(reader.bytes_read, Ordering::Relaxed);
    if chunk.as_ref().is_none_or(|c| c.eof) {
        *source = None;
    }
    chunk
}

/// A mutex's value, even if a thread panicked holding it (the data is still consistent:
/// each holder leaves it whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads a stream in chunks that end, when it can, after a line break outside quotes.
struct ChunkReader {
    /// The input's name, for messages.
    name: String,
    source: Box<dyn Read + Send>,
    /// Bytes read but not yet handed out (the start of the next chunk).
    carry: Vec<u8>,
    eof: bool,
    index: u64,
    after_cr: bool,
    bytes_read: u64,
    done: bool,
    /// Cut chunks anywhere, not after a likely record boundary.
    anywhere: bool,
    /// The target size of a chunk.
    size: usize,
}

impl ChunkReader {
    fn new(stream: Stream, size: usize) -> ChunkReader {
        ChunkReader {
            name: stream.name,
            source: stream.source,
            carry: stream.unparsed,
            eof: stream.eof,
            index: 0,
            after_cr: stream.after_cr,
            bytes_read: stream.bytes_read,
            done: false,
            anywhere: false,
            size,
        }
    }

    /// The next chunk, read into `buf` (a written chunk's buffer, or a new one).
    fn next(&mut self, mut buf: Vec<u8>) -> Result<Option<Chunk>> {
        if self.done {
            return Ok(None);
        }
        // The carry first, then the input up to the target size (or its end). A recycled
        // buffer comes back at about its full length, so only its last bytes (or, once, a new
        // buffer) are zeroed before reading into them; and the reads are of the whole rest
        // (`read_to_end` would start at 8 KiB and double: seven reads per chunk).
        let filled = self.carry.len();
        if buf.len() < self.size.max(filled) {
            buf.resize(self.size.max(filled), 0);
        }
        buf[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut filled = filled;
        while filled < self.size && !self.eof {
            match self.source.read(&mut buf[filled..self.size]) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    filled += n;
                    self.bytes_read += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(match crate::input::bad_data(&e) {
                        // classify says which file, as for a row under --strict.
                        Some(why) => Error::Data(why),
                        None => Error::io(format!("cannot read {}", self.name), e),
                    });
                }
            }
        }
        buf.truncate(filled);
        let cut = if self.eof || self.anywhere {
            buf.len()
        } else {
            split_point(&buf, self.size * 4)
        };
        self.carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let chunk = Chunk {
            index: self.index,
            eof: self.eof && self.carry.is_empty(),
            after_cr: std::mem::take(&mut self.after_cr),
            bytes: buf,
        };
        self.index += 1;
        self.done = chunk.eof;
        Ok(Some(chunk))
    }
}

/// Where to end a chunk: just after the last line break at which the chunk holds an even
/// number of quotes (outside a quoted field, if the chunk started outside one), else after
/// the last line break, else the whole buffer. It looks back at most `look_back` bytes.
fn split_point(buf: &[u8], look_back: usize) -> usize {
    let quotes = memchr::memchr_iter(b'"', buf).count();
    let mut after = 0; // quotes after the candidate
    let mut end = buf.len();
    let mut last_newline = None;
    while let Some(nl) = memchr::memrchr(b'\n', &buf[..end]) {
        after += memchr::memchr_iter(b'"', &buf[nl..end]).count();
        last_newline.get_or_insert(nl + 1);
        if (quotes - after).is_multiple_of(2) {
            return nl + 1;
        }
        end = nl;
        if buf.len() - nl > look_back {
            break;
        }
    }
    last_newline.unwrap_or(buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_a_newline_outside_quotes() {
        assert_eq!(split_point(b"a,b\nc,d\ne", 100), 8);
        assert_eq!(split_point(b"a,\"x\ny\"\nc", 100), 8);
        assert_eq!(
            split_point(b"a,\"x\ny", 100),
            5,
            "no even newline: the last one"
        );
        assert_eq!(split_point(b"abc", 100), 3);
    }

    /// What a run delivered, in order.
    #[derive(Debug, Default, PartialEq)]
    struct Delivered {
        rows: Vec<(usize, i64, Vec<u8>)>,
        rejected: Vec<Rejected>,
        held: Vec<(u64, u64, i64)>,
        totals: Option<(u64, u64, u64)>,
        error: Option<String>,
        /// How many batches of rows came, and the bytes of the largest: how the input was
        /// cut, not what came out.
        batches: Uncompared,
        largest: Uncompared,
    }

    /// A count that two runs agreeing on their output may differ in.
    #[derive(Debug, Default)]
    struct Uncompared(usize);

    impl PartialEq for Uncompared {
        fn eq(&self, _: &Uncompared) -> bool {
            true
        }
    }

    #[test]
    fn a_chunk_is_cut_for_its_rows_to_come_near_the_budget() {
        let c = Chunking {
            size: 800,
            rows: 1000,
            ..CHUNKING
        };
        assert_eq!(c.next_size(400, 2000), 200, "rows five times the input");
        assert_eq!(c.next_size(800, 400), 800, "never more than the largest");
        assert_eq!(c.next_size(100, 10), 400, "at most four times the last");
        assert_eq!(c.next_size(800, 100_000), 8, "rows 100 times their input");
        assert_eq!(
            c.next_size(800, 1_000_000),
            1,
            "never less than 1/512th (or a byte)"
        );
        assert_eq!(c.next_size(0, 0), 800, "nothing read: the largest");
        assert_eq!(c.next_size(800, 0), 800, "no rows (all rejected or held)");
        let tiny = Chunking {
            size: 3,
            rows: 1,
            ..CHUNKING
        };
        assert_eq!(tiny.next_size(3, 300), 1, "at least a byte");
        assert_eq!(
            CHUNKING.next_size(4096, 1 << 30),
            1024,
            "never less than 1 KiB"
        );
        assert_eq!(CHUNKING.first_size(), 16 << 10);
    }

    #[test]
    fn rows_keep_the_memory_their_last_batch_needed() {
        let budget = 1000;
        let mut rows = RowBuf::default();
        rows.bytes.resize(3 * budget, b'x');
        let grown = rows.bytes.capacity();
        reuse(&mut rows, budget);
        assert!(rows.is_empty() && rows.bytes.is_empty());
        assert_eq!(
            rows.bytes.capacity(),
            grown,
            "needed again by a chunk of one size"
        );

        // The next batch needed little: the memory beyond twice the budget goes back.
        rows.bytes.extend_from_slice(b"a row\n");
        reuse(&mut rows, budget);
        assert!(
            rows.bytes.capacity() <= 2 * budget,
            "{}",
            rows.bytes.capacity()
        );
        assert!(rows.bytes.capacity() >= budget);
    }

    #[test]
    fn chunks_shrink_where_their_rows_outgrow_the_budget() {
        let csv = numbered(b"", 2000);
        let fixed_chunks = classify_in(&csv, 2, fixed(4096), false, false);
        // Rows come to about three times their input: 4 KiB chunks make 12 KiB of rows, so
        // a budget of 600 bytes asks for about 200 bytes of input.
        let budget = Chunking {
            size: 4096,
            rows: 600,
            ..CHUNKING
        };
        let shrunk = classify_in(&csv, 2, budget, false, false);
        assert_eq!(shrunk, fixed_chunks);
        assert!(
            shrunk.batches.0 >= 4 * fixed_chunks.batches.0,
            "{} batches against {}",
            shrunk.batches.0,
            fixed_chunks.batches.0
        );
    }

    #[test]
    fn one_thread_writes_its_rows_whenever_they_come_to_the_budget() {
        let csv = numbered(b"", 2000);
        let whole = classify_in(&csv, 1, fixed(64 << 10), false, false);
        // Rows of about 30 bytes: a budget of 600 bytes is a batch per 20 rows, looked at
        // every 32 rows, while the chunks of 64 KiB hold all 2,000.
        let budget = Chunking {
            size: 64 << 10,
            rows: 600,
            ..CHUNKING
        };
        let capped = classify_in(&csv, 1, budget, false, false);
        assert_eq!(capped, whole);
        assert_eq!(whole.batches.0, 1);
        assert!(
            capped.batches.0 == 2000_u64.div_ceil(CHUNKING.every) as usize,
            "{} batches",
            capped.batches.0
        );
    }

    #[test]
    fn workers_send_a_chunks_rows_in_parts_of_twice_the_budget() {
        let csv = numbered(b"", 2000);
        let whole = classify_in(&csv, 1, fixed(64 << 10), false, false);
        assert!(whole.largest.0 > 30_000, "{}", whole.largest.0);
        // Rows of about 30 bytes, three times their input: the first chunks, 2 KiB, make
        // 6 KiB of rows, sent in parts of 600 bytes (a part ends at the first record that
        // takes it to 600).
        let budget = Chunking {
            size: 64 << 10,
            rows: 300,
            every: 1,
        };
        for threads in [2, 3, 8] {
            let input = csv.clone();
            let parts = within(move || classify_in(&input, threads, budget, false, false));
            assert_eq!(parts, whole, "{threads} threads");
            assert!(
                parts.largest.0 < 600 + 64,
                "{threads} threads: a batch of {} bytes",
                parts.largest.0
            );
        }
    }

    thread_local! {
        /// Parts of a worker's rows the merger threw away (it parsed their chunk again).
        pub(super) static DROPPED_PARTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    #[test]
    fn parts_of_a_chunk_that_started_mid_record_are_dropped_for_the_mergers_own() {
        // Stray quotes throw off where chunks are cut: a cut lands inside a quoted line
        // break, and the worker of the next chunk parses it from the wrong place. Its parts
        // are dropped, and the merger parses the chunk again.
        // The first chunks (2 KiB) make rows of several times the budget, in parts.
        let budget = Chunking {
            size: 64 << 10,
            rows: 100,
            every: 1,
        };
        DROPPED_PARTS.with(|n| n.set(0));
        // (Where the cuts land depends on the first row's length.)
        for pad in 0..8 {
            let mut csv = format!("id,name,note\n0,ann,{}\n", "p".repeat(pad * 7)).into_bytes();
            for i in 0..400 {
                csv.extend(format!("{i},t\"u,x\n{i},\"a\nb\",y\n{i},ann,z\n").as_bytes());
            }
            let whole = classify_in(&csv, 1, fixed(1 << 20), false, false);
            for threads in [2, 3] {
                let got = classify_in(&csv, threads, budget, false, false);
                assert_eq!(got, whole, "{threads} threads, first row padded by {pad}");
            }
        }
        assert!(DROPPED_PARTS.with(|n| n.get()) > 0, "no part was dropped");
    }

    /// A file of `rows` rows `i,ann,x` (about 30 bytes of rows each, three times their
    /// input) after the header and `first`.
    fn numbered(first: &[u8], rows: usize) -> Vec<u8> {
        let mut csv = b"id,name,note\n".to_vec();
        csv.extend_from_slice(first);
        for i in 0..rows {
            csv.extend(format!("{i},ann,x\n").as_bytes());
        }
        csv
    }

    /// `f`'s result; fails if it takes more than a minute (a hang), rather than hang the tests.
    fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("still running after a minute")
    }

    /// A sink whose disk fills up at its `fail_at`-th batch of rows.
    struct Failing {
        batches: usize,
        fail_at: usize,
    }

    impl Collector for Failing {
        fn rows(&mut self, _queue: usize, _rows: Rows<'_>) -> Result<()> {
            self.batches += 1;
            if self.batches > self.fail_at {
                return Err(Error::io(
                    "cannot write",
                    std::io::Error::other("disk full"),
                ));
            }
            Ok(())
        }

        fn hold(&mut self, _held: Held) -> Result<()> {
            Ok(())
        }

        fn reject(&mut self, _rejected: &Rejected) -> Result<()> {
            Ok(())
        }

        fn tick(&mut self, _bytes_read: u64) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn workers_waiting_for_row_buffers_stop_when_the_writing_fails() {
        let csv = numbered(b"", 20_000);
        // Chunks in parts (as in the test above): workers ahead of the merger wait for
        // buffers when it stops.
        let budget = Chunking {
            size: 64 << 10,
            rows: 300,
            every: 1,
        };
        for threads in [2, 3, 8] {
            for fail_at in [0, 3, 40] {
                let input = csv.clone();
                let got = within(move || {
                    let source = Box::new(std::io::Cursor::new(input));
                    let mut sink = Failing {
                        batches: 0,
                        fail_at,
                    };
                    run_on(source, threads, budget, false, false, &mut sink)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                });
                let error = got.expect_err("the disk is full");
                assert!(error.contains("disk full"), "{threads} threads: {error}");
            }
        }
    }

    #[test]
    fn a_quote_left_open_in_an_earlier_chunk_still_ends_batches_at_the_cap() {
        // Its record ran over the rows after it: they are read again, from bytes the
        // parser held (the record began a chunk or more before), and make batches of their
        // own as any rows do.
        let csv = numbered(b"1,ann,\"open\n", 2000);
        let whole = classify_in(&csv, 1, fixed(1 << 20), false, false);
        assert_eq!(whole.rejected.len(), 1, "{:?}", whole.rejected);
        for (threads, size) in [(1, 4096), (1, 300), (2, 4096), (3, 1000)] {
            let budget = Chunking {
                size,
                rows: 100,
                every: 1,
            };
            let capped = classify_in(&csv, threads, budget, false, false);
            assert_eq!(capped, whole, "{threads} threads, chunks of {size}");
            assert!(
                capped.largest.0 < 200 + 64,
                "{threads} threads, chunks of {size}: a batch of {} bytes",
                capped.largest.0
            );
        }
    }

    #[test]
    fn a_worker_ahead_waits_for_row_buffers_but_the_next_chunks_never_does() {
        let pool = RowPool::new(2);
        let mut state = lock(&pool.state);
        assert!(pool.try_take(&mut state, 3).is_some());
        assert!(pool.try_take(&mut state, 4).is_some());
        assert!(
            pool.try_take(&mut state, 5).is_none(),
            "two out: chunk 5 waits"
        );
        assert!(
            pool.try_take(&mut state, 0).is_some(),
            "chunk 0, the next to be written, never waits"
        );
        drop(state);
        pool.give(Vec::new());
        pool.give(vec![RowBuf::default()]);
        let mut state = lock(&pool.state);
        assert!(
            matches!(pool.try_take(&mut state, 5), Some(Some(rows)) if rows.len() == 1),
            "one given back: room, and a spare"
        );
        assert!(pool.try_take(&mut state, 6).is_none());
        drop(state);
        pool.advance(6);
        assert!(
            pool.try_take(&mut lock(&pool.state), 6).is_some(),
            "6 is next"
        );
        // A worker waiting when the merger stops stops too.
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| pool.take(9));
            while lock(&pool.state).waiting == 0 {
                std::thread::yield_now();
            }
            pool.close();
            assert!(waiting.join().unwrap().is_none());
        });
    }

    impl Collector for Delivered {
        fn rows(&mut self, queue: usize, rows: Rows<'_>) -> Result<()> {
            self.batches.0 += 1;
            self.largest.0 = self.largest.0.max(rows.bytes.len());
            // Batches are cut differently for each chunk size: compare row by row.
            for (row, score) in rows.iter() {
                self.rows.push((queue, score, row.to_vec()));
            }
            Ok(())
        }

        fn reject(&mut self, rejected: &Rejected) -> Result<()> {
            self.rejected.push(rejected.clone());
            Ok(())
        }

        fn hold(&mut self, held: Held) -> Result<()> {
            self.held.push((held.record, held.line, held.outcome.score));
            Ok(())
        }

        fn tick(&mut self, _bytes_read: u64) -> Result<()> {
            Ok(())
        }
    }

    /// Classify `csv` on `threads` with chunks of about `chunk` bytes.
    /// `hold`: contacts bound for sales (queue 0) are held, not written.
    fn classify(csv: &[u8], threads: usize, chunk: usize, split: bool, hold: bool) -> Delivered {
        classify_in(csv, threads, fixed(chunk), split, hold)
    }

    /// Chunks of `size` bytes, never made smaller for their rows (but the first ones).
    fn fixed(size: usize) -> Chunking {
        Chunking {
            size,
            rows: usize::MAX,
            ..CHUNKING
        }
    }

    fn classify_in(
        csv: &[u8],
        threads: usize,
        chunking: Chunking,
        split: bool,
        hold: bool,
    ) -> Delivered {
        let source = Box::new(std::io::Cursor::new(csv.to_vec()));
        classify_from(source, threads, chunking, split, hold)
    }

    /// A source that gives at most `step` bytes per read, and fails every other read with
    /// `Interrupted` (as a pipe, or a read cut short by a signal, may).
    struct Trickle {
        bytes: std::io::Cursor<Vec<u8>>,
        step: usize,
        interrupt: bool,
    }

    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.step);
            self.bytes.read(&mut buf[..n])
        }
    }

    /// A source that fails for good after `good` bytes (a disk error, a dropped network
    /// share).
    struct Broken {
        bytes: std::io::Cursor<Vec<u8>>,
        good: u64,
    }

    impl std::io::Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.bytes.position() >= self.good {
                return Err(std::io::Error::other("the disk went away"));
            }
            let n = buf.len().min(64);
            self.bytes.read(&mut buf[..n])
        }
    }

    #[test]
    fn a_read_error_stops_the_run_whatever_the_threads() {
        let mut csv = b"id,name,note\n".to_vec();
        csv.extend(b"1,a,x\n".repeat(5000));
        for threads in [1, 2, 3, 8] {
            let source = Broken {
                bytes: std::io::Cursor::new(csv.clone()),
                good: 20_000,
            };
            let got = classify_from(Box::new(source), threads, fixed(300), false, false);
            let error = got.error.unwrap_or_default();
            assert!(
                error.contains("the disk went away"),
                "{threads} threads: {error:?}"
            );
            assert!(got.totals.is_none(), "{threads} threads");
        }
    }

    fn classify_from(
        source: Box<dyn std::io::Read + Send>,
        threads: usize,
        chunking: Chunking,
        split: bool,
        hold: bool,
    ) -> Delivered {
        let mut out = Delivered::default();
        match run_on(source, threads, chunking, split, hold, &mut out) {
            Ok(t) => out.totals = Some((t.records, t.contacts, t.rejected)),
            Err(e) => out.error = Some(e.to_string()),
        }
        // Split, each queue's rows go to their own file: only their order within it counts.
        out.rows.sort_by_key(|(queue, _, _)| *queue);
        out
    }

    /// The pipeline on `source` with a rule that gives 10 points to a name with an `a`.
    fn run_on(
        source: Box<dyn std::io::Read + Send>,
        threads: usize,
        chunking: Chunking,
        split: bool,
        hold: bool,
        sink: &mut dyn Collector,
    ) -> Result<Totals> {
        let rules = crate::rules::from_str(
            std::path::Path::new("t.toml"),
            "version = 1\n[tiers]\nwarm = 10\n[[rule]]\nname = \"A\"\n\
             when = { field = \"name\", contains = \"a\" }\npoints = 10\n",
        )
        .unwrap();
        let options = crate::input::Options {
            delimiter: Some(b','),
            ..Default::default()
        };
        let input = crate::input::Input::from_reader(source, "t.csv".into(), &options).unwrap();
        let as_of = jiff::civil::date(2026, 11, 27);
        let engine = Engine::compile(&rules, input.header(), as_of).unwrap();
        let header = input.header().clone();
        let layout = crate::output::Layout::new(&header, &engine, None, true, false);
        let encoder = crate::output::CsvEncoder {
            delimiter: b',',
            escape_formulas: true,
            passthrough: true,
            plain_reasons: false,
            layout,
        };
        let job = Job {
            engine: &engine,
            encoder: &encoder,
            header: &header,
            single_line: &[],
            delimiter: b',',
            max_record: 1 << 20,
            strict: false,
            split,
            reasons_text: true,
            reasons: true,
            hold: hold.then_some(0),
        };
        run_chunked(&job, input.into_stream(), threads, chunking, sink)
    }

    /// A field that makes cutting a file into chunks hard, or a plain one.
    fn field() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::sample::select(vec![
            "a",
            "",
            "bb",
            "\"q\"",
            "\"a\nb\"",
            "\"x\"\"y\"",
            "\"r\r\ns\"",
            "t\"u",
            "\"v\"w",
            "\"\n\n\"",
            "\"a,b\n,\n\"",
            // Characters the chunk cuts may split. (A NUL this early would refuse the file.)
            "\u{e9}t\u{e9}",
        ])
        .prop_map(String::from)
    }

    fn file() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let row = (
            proptest::collection::vec(field(), 1..5),
            proptest::sample::select(vec!["\n", "\r\n", "\r"]),
        );
        (
            proptest::collection::vec(row, 0..40),
            proptest::option::of(field()),
        )
            .prop_map(|(rows, last)| {
                let mut csv = String::from("id,name,note\n");
                for (fields, end) in rows {
                    csv.push_str(&fields.join(","));
                    csv.push_str(end);
                }
                // Maybe a last row without a line break, or with a quote never closed.
                if let Some(f) = last {
                    csv.push_str(&f);
                    csv.push_str(",\"open");
                }
                csv.into_bytes()
            })
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Whatever the chunk size and the number of threads, the same rows, rejected rows
        /// and counts come out, in the same order.
        #[test]
        fn output_does_not_depend_on_chunks_or_threads(csv in file(), split: bool, hold: bool) {
            let want = classify(&csv, 1, 1 << 20, split, hold);
            for (threads, chunk) in [(1, 7), (2, 16), (3, 40), (8, 9), (2, 100)] {
                let got = classify(&csv, threads, chunk, split, hold);
                proptest::prop_assert_eq!(&got, &want, "{} threads, chunks of {}", threads, chunk);
            }
            // Chunks whose size follows their rows, from the smallest to the largest.
            // Rows written whenever they come to the budget (one thread) or twice that (a
            // worker's parts), however far into a chunk: after every record, or every few.
            for (threads, size, rows, every) in [
                (2, 96, 40, 32), (3, 64, 100, 1), (2, 200, 30, 3), (8, 500, 20, 1),
                (1, 64, 1, 32), (1, 300, 50, 1),
            ] {
                let got = classify_in(&csv, threads, Chunking { size, rows, every }, split, hold);
                proptest::prop_assert_eq!(
                    &got, &want,
                    "{} threads, chunks of {} for {} bytes of rows, every {}",
                    threads, size, rows, every
                );
            }
            // A source that gives a few bytes per read, between interruptions; the rows
            // past the 8 KiB the input reads ahead to learn its format, so the chunks are
            // read from it.
            let header = b"id,name,note\n";
            let mut long = header.to_vec();
            long.extend(b"p,p,p\n".repeat(1500));
            long.extend_from_slice(&csv[header.len()..]);
            let want = classify(&long, 1, 1 << 20, split, hold);
            for (threads, step) in [(1, 7), (2, 64)] {
                let source = Trickle {
                    bytes: std::io::Cursor::new(long.clone()),
                    step,
                    interrupt: false,
                };
                let got = classify_from(Box::new(source), threads, fixed(300), split, hold);
                proptest::prop_assert_eq!(&got, &want, "{} bytes per read", step);
            }
        }
    }
}
