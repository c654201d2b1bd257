// The body of the `classify` fuzz target, shared with the regression tests
// (tests/integration/fuzz_regressions.rs): both `include!` this file, so a crashing input
// replays through exactly the code the fuzzer ran.
//
// Arbitrary bytes go through the same steps as `leadsort classify`: read as CSV, rules bound
// to the header actually read, every record scored or rejected, contacts written as CSV into
// memory. The first byte picks the reading options; the rest is the file. A panic anywhere is
// a bug; the assertions are the promises of RELIABILITY.md (no row lost, no row merged).
//
// The records are read one by one with `Input::next`, and checked; then the same bytes go
// through `pipeline::run` (what `classify` runs) on one thread and on two, which must give
// exactly the same rows and rejected rows. With the first byte's top six bits set (1 input in
// 64: these are slow) the file is repeated until it is larger than one of the pipeline's
// chunks, so that chunk boundaries, the workers' guesses and the merger run too.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Cursor;
use std::path::Path;
use std::rc::Rc;

use leadsort::engine::{Binding, Engine, Header, Outcome};
use leadsort::input::{DEFAULT_MAX_RECORD, Input, Next, Options, Record, Rejected};
use leadsort::output::{
    Format, Kind, Layout, RejectedWriter, RowEncoder, Rows, Scored, Target, escape_formula,
};
use leadsort::pipeline::{Collector, Job};
use leadsort::rules::{Rules, toml_string};

/// Run one fuzz input through classify's code path.
pub fn classify(data: &[u8]) {
    let Some((&knobs, csv)) = data.split_first() else {
        return;
    };
    let options = options(knobs);
    let escape_formulas = knobs & 0x20 != 0;
    let csv: Cow<[u8]> = match knobs & 0xFC {
        0xFC if !csv.is_empty() => csv.repeat(SPAN_CHUNKS / csv.len() + 1).into(),
        _ => csv.into(),
    };
    let open = || {
        Input::from_reader(
            Box::new(Cursor::new(csv.to_vec())),
            "fuzz.csv".into(),
            &options,
        )
    };
    // Refusing a file (binary, empty, header too big) is fine; panicking is not.
    let Ok(mut input) = open() else {
        return;
    };
    let header = input.header().clone();
    assert!(!header.is_empty(), "a header with no columns");

    let compiled = compiled_for(&header);
    let (rules, engine) = (&compiled.rules, &compiled.engine);
    let columns = leadsort::cmd::single_line_columns(rules, engine, &header);
    input.single_line_columns(columns.clone());

    let format = Format {
        kind: Kind::Csv,
        delimiter: b',',
        input_delimiter: input.delimiter(),
        escape_formulas,
        file_mode: None,
        bom: false,
        sort: false,
    };
    let layout = Layout::new(&header, engine, None, true, false);
    let added: Vec<String> = layout.names[layout.inputs..].to_vec();
    let encoder = format.csv_encoder(layout);
    let mut written = Vec::new();
    encoder.header(&mut written);
    let header_end = written.len();
    let mut rejected_writer =
        RejectedWriter::new(Target::Memory(Vec::new()), format).expect("writing to memory");

    let mut record = Record::default();
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    let mut reasons = String::new();
    // Each contact's cells and added columns, as they must come back out of the CSV written.
    let mut expected: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut rejected_rows: Vec<Rejected> = Vec::new();
    let (mut rejected, mut last_line) = (0u64, 1u64);
    let job = |input: &Input| Job {
        engine,
        encoder: &encoder,
        header: &header,
        single_line: &columns,
        delimiter: input.delimiter(),
        max_record: input.max_record(),
        strict: false,
        split: false,
        reasons_text: true,
        reasons: true,
        hold: None,
    };
    loop {
        let next = match input.next(&mut record) {
            Ok(Some(next)) => next,
            Ok(None) => break,
            // A read error (a corrupt gzip stream, an unclosed quote too big to recover):
            // the CLI stops with an error, and so must the pipeline.
            Err(e) => {
                for threads in [1, 2] {
                    let input = open().expect("the same bytes open twice");
                    let mut delivered = Delivered::default();
                    let result = leadsort::pipeline::run(
                        &job(&input),
                        input.into_stream(),
                        threads,
                        &mut delivered,
                    );
                    assert!(
                        result.is_err(),
                        "reading stops with `{e}` but the pipeline on {threads} thread(s) does not"
                    );
                }
                return;
            }
        };
        let read = expected.len() as u64 + rejected + 1;
        assert_eq!(input.records(), read, "records are counted one by one");
        match next {
            Next::Contact { record: n, line } => {
                assert_eq!(n, read, "contact numbered {n}, expected {read}");
                assert!(
                    line > last_line,
                    "contact {n} on line {line}, after line {last_line}"
                );
                last_line = line;
                assert_eq!(
                    record.len(),
                    header.len(),
                    "contact {n} has a field per column"
                );
                for (i, field) in record.fields().enumerate() {
                    assert!(
                        std::str::from_utf8(field).is_ok(),
                        "contact {n}, column {i}: not UTF-8"
                    );
                    assert!(!field.contains(&0), "contact {n}, column {i}: a NUL");
                }
                engine.evaluate(&record, &mut scratch, &mut outcome);
                engine.write_reasons(&outcome, &mut reasons);
                let contact = Scored {
                    cells: record.cells(),
                    outcome: &outcome,
                    tier: outcome.tier().as_str(),
                    queue: engine.queue_name(&outcome),
                    owner: "",
                    reasons: &reasons,
                    note: None,
                };
                encoder.row(&contact, &mut written);
                let mut row: Vec<Vec<u8>> = record.fields().map(<[u8]>::to_vec).collect();
                row.push(outcome.score.to_string().into_bytes());
                row.extend(outcome.groups.iter().map(|g| g.to_string().into_bytes()));
                row.push(contact.tier.as_bytes().to_vec());
                row.push(contact.queue.as_bytes().to_vec());
                row.push(reasons.as_bytes().to_vec());
                expected.push(row);
            }
            Next::Rejected => {
                let r = input
                    .rejected
                    .take()
                    .expect("a rejected row comes with its reason");
                assert_eq!(
                    r.record, read,
                    "rejected row numbered {}, expected {read}",
                    r.record
                );
                assert!(r.line >= 2, "rejected row {} on line {}", r.record, r.line);
                assert!(
                    r.line > last_line,
                    "rejected row {} on line {}, after line {last_line}",
                    r.record,
                    r.line
                );
                last_line = r.line;
                assert!(!r.reason.is_empty());
                assert!(
                    r.raw.len() <= options.max_record,
                    "raw row kept beyond the size limit"
                );
                rejected_writer
                    .write(&r)
                    .expect("writing a rejected row to memory");
                rejected_rows.push(r);
                rejected += 1;
            }
        }
    }
    let contacts = expected.len() as u64;
    assert_eq!(
        contacts + rejected,
        input.records(),
        "every record is a contact or rejected"
    );
    let sha = input.sha256();
    assert_eq!(sha.is_some(), options.hash);
    if let Some(sha) = sha {
        assert_eq!(sha, leadsort::guard::sha256(&csv), "the hash of every byte read");
    }

    let rows = read_back(&written);
    assert_eq!(
        rows.len() as u64,
        contacts + 1,
        "output rows: header + one per contact"
    );
    let width = header.len() + added.len();
    let escaped = |cell: &[u8]| match escape_formulas {
        true => escape_formula(cell).into_owned(),
        false => cell.to_vec(),
    };
    let header_row: Vec<Vec<u8>> = header
        .names
        .iter()
        .chain(&added)
        .map(|h| escaped(h.as_bytes()))
        .collect();
    assert_eq!(rows[0], header_row, "the header written back");
    for (n, (row, want)) in rows[1..].iter().zip(&expected).enumerate() {
        assert_eq!(
            row.len(),
            width,
            "contact {} has {} fields written",
            n + 1,
            row.len()
        );
        let want: Vec<Vec<u8>> = want.iter().map(|c| escaped(c)).collect();
        assert_eq!(row, &want, "contact {} written back", n + 1);
    }

    let Ok(Target::Memory(out)) = rejected_writer.finish() else {
        panic!("the rejected writer lost its memory target");
    };
    let rows = read_back(&out);
    assert_eq!(
        rows.len() as u64,
        rejected + 1,
        "rejected rows: header + one per row"
    );
    assert!(
        rows.iter().all(|r| r.len() == 4),
        "rejected rows: record,line,reason,row"
    );

    // What classify runs: the same rows, however many threads.
    for threads in [1, 2] {
        let input = open().expect("the same bytes open twice");
        let mut delivered = Delivered::default();
        let totals =
            leadsort::pipeline::run(&job(&input), input.into_stream(), threads, &mut delivered)
                .unwrap_or_else(|e| panic!("the pipeline on {threads} thread(s) fails: {e}"));
        assert_eq!(
            totals.records,
            contacts + rejected,
            "{threads} thread(s): records"
        );
        assert_eq!(totals.contacts, contacts, "{threads} thread(s): contacts");
        assert_eq!(totals.rejected, rejected, "{threads} thread(s): rejected");
        // The pipeline may copy a well-quoted row through as written where the encoder,
        // given only the fields, quotes them its own way: the cells read back must match.
        assert!(
            read_back(&delivered.rows) == read_back(&written[header_end..]),
            "{threads} thread(s): the rows written differ from the records read one by one"
        );
        assert_eq!(
            delivered.rejected, rejected_rows,
            "{threads} thread(s): rejected rows"
        );
    }
}

/// A little more than one of the pipeline's chunks (512 KiB).
const SPAN_CHUNKS: usize = 600 << 10;

/// What the pipeline delivers, kept in memory.
#[derive(Default)]
struct Delivered {
    rows: Vec<u8>,
    rejected: Vec<Rejected>,
}

impl Collector for Delivered {
    fn rows(&mut self, _queue: usize, rows: Rows<'_>) -> leadsort::Result<()> {
        self.rows.extend_from_slice(rows.bytes);
        Ok(())
    }

    fn reject(&mut self, rejected: &Rejected) -> leadsort::Result<()> {
        self.rejected.push(rejected.clone());
        Ok(())
    }

    fn hold(&mut self, _held: leadsort::pipeline::Held) -> leadsort::Result<()> {
        Err(leadsort::Error::Internal("nothing is held here".into()))
    }

    fn tick(&mut self, _bytes_read: u64) -> leadsort::Result<()> {
        Ok(())
    }
}

/// Rules for one header, loaded and compiled.
struct Compiled {
    header: Header,
    rules: Rules,
    engine: Engine,
}

thread_local! {
    /// The rules of the last header read: parsing the rules and compiling their regexes is
    /// most of the work of a run, and the fuzzer reads the same header many times.
    static LAST: RefCell<Option<Rc<Compiled>>> = const { RefCell::new(None) };
}

/// `rules_for(header)`, loaded and compiled for `header` the way classify does it.
fn compiled_for(header: &Header) -> Rc<Compiled> {
    if let Some(last) = LAST.with_borrow(Clone::clone)
        && last.header == *header
    {
        return last;
    }
    let text = rules_for(header);
    let rules = leadsort::rules::from_str(Path::new("fuzz.toml"), &text)
        .unwrap_or_else(|e| panic!("generated rules do not load:\n{}\n{text}", e.render(false)));
    let as_of = jiff::civil::date(2026, 11, 27);
    let engine = match Engine::compile(&rules, header, as_of) {
        Ok(engine) => engine,
        Err(unbound) => {
            // Every field is optional, so only a repeated or ambiguous header stops it (the
            // CLI exits 65 here). Render the message, then bind by position and go on.
            let message = leadsort::cmd::unbound_error(&rules, header, "fuzz.csv", &unbound);
            assert!(!message.to_string().is_empty());
            Engine::compile_bound(&rules, bindings_by_position(header), as_of)
        }
    };
    let compiled = Rc::new(Compiled {
        header: header.clone(),
        rules,
        engine,
    });
    LAST.set(Some(Rc::clone(&compiled)));
    compiled
}

/// The reading options, from the first byte: delimiter, encoding, size limit, hashing, a row
/// skipped above the header.
fn options(knobs: u8) -> Options {
    Options {
        delimiter: [None, Some(b';'), Some(b'\t'), Some(b',')][usize::from(knobs & 3)],
        encoding: [
            None,
            Some(encoding_rs::WINDOWS_1252),
            Some(encoding_rs::UTF_16LE),
            None,
        ][usize::from(knobs >> 6)],
        max_record: [4096, 64, 512, DEFAULT_MAX_RECORD][usize::from((knobs >> 2) & 3)],
        hash: knobs & 0x10 != 0,
        skip_rows: usize::from(knobs & 0x20 != 0),
        sheet: None,
    }
}

/// Rules that read the first five columns by their header names, with every kind of
/// operator. Every field is optional so that a header without them still binds.
fn rules_for(header: &Header) -> String {
    let name = |i: usize| {
        let h = header.names.get(i).map_or("", String::as_str);
        // An empty column name is not allowed in rules: such a field is simply absent.
        toml_string(if h.trim().is_empty() { "(absent)" } else { h })
    };
    let (id, email, size, seen, flag) = (name(0), name(1), name(2), name(3), name(4));
    format!(
        r#"version = 1
[input]
id = "id"
[fields]
id = {{ column = [{id}], optional = true }}
email = {{ column = [{email}, "Email"], optional = true }}
size = {{ column = [{size}], type = "number", optional = true }}
seen = {{ column = [{seen}], type = "date", formats = ["%m/%d/%Y", "%d.%m.%Y"], optional = true }}
flag = {{ column = [{flag}], type = "bool", optional = true }}
any = {{ column = [{id}, {size}, {flag}], optional = true }}
[groups]
fit = {{ max = 30, min = -10 }}
[tiers]
warm = 20
hot = {{ score = 40, fit = 10 }}
[[rule]]
name = "Title words"
group = "fit"
when = {{ any = [
  {{ field = "id", contains_any = ["director", "vp", "ceo", "ü"] }},
  {{ field = "id", matches = '(?i)^\w+\s*(ceo|cto)$' }},
  {{ not = {{ field = "any", starts_with = "a", case_sensitive = true }} }},
] }}
points = 20
[[rule]]
name = "Sizes"
group = "fit"
when = {{ all = [ {{ field = "size", between = [50, 5000] }}, {{ field = "size", gt = 0 }} ] }}
points = 15
[[rule]]
name = "Few"
when = {{ field = "size", lt = 10, at_most = 5, at_least = -1e9 }}
points = -5.5
[[rule]]
name = "Per size"
group = "fit"
points_per = {{ field = "size", points = 0.01, max = 25 }}
[[rule]]
name = "Recent"
when = {{ any = [ {{ field = "seen", within_days = 30 }}, {{ field = "seen", after = 2026-01-01 }} ] }}
points = 10
[[rule]]
name = "Old"
when = {{ all = [ {{ field = "seen", older_than_days = 180 }}, {{ field = "seen", before = 2030-01-01 }},
                 {{ field = "seen", between = [1990-01-01, 2026-12-31] }} ] }}
points = -20
[[rule]]
name = "Flagged"
when = {{ field = "flag", is = true }}
points = 30
[[rule]]
name = "Free mail"
when = {{ field = "email", domain_in = ["gmail.com", "yahoo.com"] }}
points = -10
[[rule]]
name = "Listed"
when = {{ any = [ {{ field = "any", in = ["yes", 1, 2.5, true, 2026-11-27] }},
                 {{ field = "any", not_in = ["no", 0] }}, {{ field = "any", equals = 42 }},
                 {{ field = "email", not_equals = "x" }}, {{ field = "email", ends_with = ".example" }},
                 {{ field = "any", contains = "@" }} ] }}
points = 1
[[rule]]
name = "Empty"
when = {{ all = [ {{ field = "email", missing = true }}, {{ field = "id", present = true }} ] }}
points = 2
[[rule]]
name = "Competitor"
when = {{ field = "email", domain_in = ["rival.example"] }}
disqualify = true
[[route]]
name = "Flag and size"
when = {{ all = [ {{ field = "flag", is = false }}, {{ field = "size", at_least = 1000 }} ] }}
queue = "enterprise"
"#
    )
}

/// The columns `rules_for` names, bound by position (for a header that repeats them).
fn bindings_by_position(header: &Header) -> Vec<Binding> {
    [
        ("id", 0),
        ("email", 1),
        ("size", 2),
        ("seen", 3),
        ("flag", 4),
        ("any", 0),
    ]
    .into_iter()
    .map(|(field, column)| Binding {
        field: field.to_string(),
        column: (column < header.len()).then_some(column),
    })
    .collect()
}

/// A CSV written by leadsort, read back with the csv crate: every row's fields.
fn read_back(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    reader
        .byte_records()
        .map(|r| {
            let r = r.expect("leadsort's own CSV reads back");
            r.iter().map(<[u8]>::to_vec).collect()
        })
        .collect()
}
