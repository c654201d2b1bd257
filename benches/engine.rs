//! What one contact costs, on the benchmark workload (`kit/rules.toml`, the columns of
//! `kit/gen_contacts.py`): scoring alone, scoring with the reasons text and the CSV row,
//! reading records out of CSV bytes, and the whole pipeline on one thread; and scoring with
//! a heavy rule file of 200 rules.
//!
//! `cargo bench --bench engine`. The whole-program comparison with the csv-crate floor and
//! the peers is `benches/run.sh`; both are reported in BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;

use divan::Bencher;
use divan::counter::ItemsCount;
use leadsort::engine::{Engine, Outcome};
use leadsort::input::{Input, Options, Record};
use leadsort::output::{Cells, CsvEncoder, Layout, RowEncoder, Rows, Scored};
use leadsort::pipeline::{Collector, Job};

fn main() {
    divan::main();
}

/// Contacts per iteration.
const ROWS: usize = 2_000;

const HEADER: &str = "id,email,first_name,last_name,company,job_title,industry,company_size,\
country,lead_source,email_opens,email_clicks,page_views,pricing_page_visits,demo_requested,\
webinar_attended,last_activity_date,created_date,unsubscribed,notes";

/// Numbers below `n`, from `seed` on: the same every run.
fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

/// Contacts shaped like the generator's (the same columns, similar values and quoting), from
/// a fixed seed.
fn contacts_csv() -> String {
    let mut next = xorshift(20_261_127);
    let titles = [
        "Account Executive",
        "Founder",
        "VP of Sales",
        "Director, Marketing",
        "Head of Growth",
        "Software Engineer",
        "Chief Revenue Officer",
        "Intern",
    ];
    let industries = [
        "Software",
        "SaaS",
        "Retail",
        "Fintech",
        "Manufacturing",
        "Health",
    ];
    let countries = ["US", "CA", "GB", "DE", "AU", "FR", "IN"];
    let domains = ["gmail.com", "acme.example", "yahoo.com", "initech.example"];
    let bools = ["true", "false", "yes", "No", ""];
    let notes = [
        "",
        "Needs GDPR DPA before signing",
        "\"Call back after Q3, maybe\"",
        "\"Said our tool is \"\"too pricey\"\" for now\"",
        "\"Left voicemail.\nTry again next month.\"",
    ];
    let mut csv = format!("{HEADER}\n");
    for id in 1..=ROWS as u64 {
        let pick = |list: &[&'static str], i: u64| list[i as usize % list.len()];
        let row = format!(
            "{id},p{id}@{},Pat,Lee,\"Acme, Inc.\",{},{},{},{},LinkedIn,{},{},{},{},{},{},\
             2026-{:02}-{:02},2024-05-26,{},{}\n",
            pick(&domains, next(4)),
            match pick(&titles, next(8)) {
                t if t.contains(',') => format!("\"{t}\""),
                t => t.to_string(),
            },
            pick(&industries, next(6)),
            next(2000),
            pick(&countries, next(7)),
            next(30),
            next(8),
            next(25),
            next(4),
            pick(&bools, next(5)),
            pick(&bools, next(5)),
            1 + next(11),
            1 + next(28),
            pick(&bools, next(5)),
            pick(&notes, next(5)),
        );
        csv.push_str(&row);
    }
    csv
}

/// The workload's rules compiled for the header, and the contacts read.
struct Workload {
    engine: Engine,
    input: Option<Input>,
    rows: Vec<Record>,
    encoder: CsvEncoder,
}

fn workload() -> Workload {
    let csv = contacts_csv();
    let rules = leadsort::rules::from_str(
        Path::new("benches/kit/rules.toml"),
        include_str!("kit/rules.toml"),
    )
    .expect("the workload's rules load");
    let open = || {
        Input::from_reader(
            Box::new(std::io::Cursor::new(csv.clone().into_bytes())),
            "contacts.csv".into(),
            &Options::default(),
        )
        .expect("the contacts open")
    };
    let mut input = open();
    let as_of = jiff::civil::date(2026, 11, 27);
    let engine = Engine::compile(&rules, input.header(), as_of).expect("the rules bind");
    let mut rows = Vec::new();
    let mut record = Record::default();
    while let Some(next) = input.next(&mut record).expect("the contacts read") {
        assert!(matches!(next, leadsort::input::Next::Contact { .. }));
        rows.push(record.clone());
    }
    assert_eq!(rows.len(), ROWS);
    let layout = Layout::new(input.header(), &engine, None, true, false);
    let encoder = CsvEncoder {
        delimiter: b',',
        escape_formulas: true,
        passthrough: true,
        plain_reasons: false,
        layout,
    }
    .with_reasons(&engine.reasons_alphabet());
    Workload {
        engine,
        input: Some(open()),
        rows,
        encoder,
    }
}

/// A rule file shaped like `heavy_rules.py`'s (200 rules: 20 regexes, lists of 50 words,
/// comparisons, dates, booleans, `all`s), from a fixed seed, for the workload's columns.
fn heavy_rules() -> String {
    let mut seeded = xorshift(20_261_128);
    let mut next = |n: usize| seeded(n as u64) as usize;
    let words = "director vp chief head manager lead senior principal founder owner partner \
                 engineer analyst consultant specialist coordinator officer president advisor \
                 architect sales marketing growth revenue product design data security cloud";
    let words: Vec<&str> = words.split_whitespace().collect();
    let industries = [
        "software",
        "saas",
        "fintech",
        "retail",
        "manufacturing",
        "health",
    ];
    let countries = ["US", "CA", "GB", "DE", "FR", "AU", "IN", "JP", "BR", "NL"];
    let patterns = [
        r"^(vp|chief|head)\b",
        r"director|manager",
        r"\bsenior\b",
        r"\d{3}",
    ];
    let mut list = |pool: &[&str]| {
        // 50 words: some of the pool, the rest words no contact has.
        let quoted: Vec<String> = (0..50)
            .map(|k| match k % 3 {
                0 => pool[next(pool.len())].to_string(),
                _ => format!("{}{k}", pool[next(pool.len())]),
            })
            .map(|w| format!("{w:?}"))
            .collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut body = String::from("version = 1\n[tiers]\nwarm = 50\n");
    for i in 0..200 {
        let when = match i % 10 {
            0 => format!(
                "{{ field = \"{}\", matches = '{}' }}",
                ["job_title", "notes", "company"][i / 10 % 3],
                patterns[i / 10 % patterns.len()]
            ),
            1 | 2 => format!(
                "{{ field = \"{}\", contains_any = {} }}",
                ["job_title", "notes"][i % 2],
                list(&words)
            ),
            3 => format!("{{ field = \"industry\", in = {} }}", list(&industries)),
            4 => format!("{{ field = \"country\", in = {} }}", list(&countries)),
            5 => format!(
                "{{ field = \"{}\", at_least = {} }}",
                ["company_size", "email_clicks", "page_views", "email_opens"][i / 10 % 4],
                1 + i
            ),
            6 => format!(
                "{{ field = \"last_activity_date\", within_days = {} }}",
                7 + i
            ),
            7 => format!(
                "{{ field = \"{}\", is = {} }}",
                ["demo_requested", "webinar_attended"][i / 10 % 2],
                i % 20 < 10
            ),
            8 => format!(
                "{{ field = \"email\", domain_in = {} }}",
                list(&["gmail.com", "yahoo.com", "acme.example"])
            ),
            _ => format!(
                "{{ all = [{{ field = \"company_size\", between = [10, {}] }}, \
                 {{ field = \"lead_source\", in = [\"LinkedIn\", \"Referral\"] }}] }}",
                50 + 4 * i
            ),
        };
        let points = [-20, -10, -5, 5, 10, 15, 20][i % 7];
        body.push_str(&format!(
            "[[rule]]\nname = \"Rule {}\"\nwhen = {when}\npoints = {points}\n",
            i + 1
        ));
    }
    body
}

/// Conditions, points, groups, tier and queue.
#[divan::bench]
fn score(bencher: Bencher) {
    let w = workload();
    let mut scratch = w.engine.scratch();
    let mut outcome = Outcome::default();
    bencher.counter(ItemsCount::new(ROWS)).bench_local(|| {
        for row in &w.rows {
            w.engine.evaluate(row, &mut scratch, &mut outcome);
        }
        black_box(&outcome);
    });
}

/// Scoring, the reasons text and the output row (encoded from the fields).
#[divan::bench]
fn score_and_write(bencher: Bencher) {
    let w = workload();
    let mut scratch = w.engine.scratch();
    let mut outcome = Outcome::default();
    let mut reasons = String::new();
    let mut out = Vec::with_capacity(1 << 20);
    bencher.counter(ItemsCount::new(ROWS)).bench_local(|| {
        out.clear();
        for row in &w.rows {
            w.engine.evaluate(row, &mut scratch, &mut outcome);
            w.engine.write_reasons(&outcome, &mut reasons);
            let scored = Scored {
                cells: Cells {
                    raw: None,
                    ..row.cells()
                },
                outcome: &outcome,
                tier: outcome.tier().as_str(),
                queue: w.engine.queue_name(&outcome),
                owner: "",
                reasons: &reasons,
                note: None,
            };
            w.encoder.row(&scored, &mut out);
        }
        black_box(&out);
    });
}

/// `score` with the 200 rules of `heavy_rules`, recording each matched rule (for reasons)
/// or not.
#[divan::bench(args = [true, false])]
fn score_heavy(bencher: Bencher, reasons: bool) {
    let w = workload();
    let rules = leadsort::rules::from_str(Path::new("heavy.toml"), &heavy_rules())
        .expect("the heavy rules load");
    let header = w.input.as_ref().expect("opened").header().clone();
    let as_of = jiff::civil::date(2026, 11, 27);
    let engine = Engine::compile(&rules, &header, as_of).expect("the rules bind");
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    bencher.counter(ItemsCount::new(ROWS)).bench_local(|| {
        for row in &w.rows {
            if reasons {
                engine.evaluate(row, &mut scratch, &mut outcome);
            } else {
                engine.evaluate_without_hits(row, &mut scratch, &mut outcome);
            }
        }
        black_box(&outcome);
    });
}

/// All of `classify` after the header, on this thread: reading, checking, scoring and
/// writing (into memory).
#[divan::bench]
fn pipeline_one_thread(bencher: Bencher) {
    let mut w = workload();
    let header = w.input.as_ref().expect("opened").header().clone();
    let stream_bytes = {
        // The bytes after the header, to hand the pipeline a fresh stream each time.
        let input = w.input.take().expect("opened");
        let mut stream = input.into_stream();
        let mut rest = stream.unparsed.clone();
        std::io::Read::read_to_end(&mut stream.source, &mut rest).expect("in memory");
        (rest, stream.after_cr, stream.lines, stream.bytes_read)
    };
    let job = Job {
        engine: &w.engine,
        encoder: &w.encoder,
        header: &header,
        single_line: &[],
        delimiter: b',',
        max_record: 1 << 20,
        strict: false,
        split: false,
        reasons_text: true,
        reasons: true,
        hold: None,
    };
    bencher.counter(ItemsCount::new(ROWS)).bench_local(|| {
        let (bytes, after_cr, lines, bytes_read) = &stream_bytes;
        let stream = leadsort::input::Stream {
            name: "bench".to_string(),
            source: Box::new(std::io::empty()),
            unparsed: bytes.clone(),
            eof: true,
            after_cr: *after_cr,
            lines: *lines,
            bytes_read: *bytes_read,
        };
        let mut sink = Sink(0);
        let totals = leadsort::pipeline::run(&job, stream, 1, &mut sink).expect("runs");
        assert_eq!(totals.contacts, ROWS as u64);
        black_box(sink.0);
    });
}

/// Counts what the pipeline writes.
struct Sink(usize);

impl Collector for Sink {
    fn rows(&mut self, _queue: usize, rows: Rows<'_>) -> leadsort::Result<()> {
        self.0 += rows.bytes.len();
        Ok(())
    }

    fn reject(&mut self, _rejected: &leadsort::input::Rejected) -> leadsort::Result<()> {
        Ok(())
    }

    fn hold(&mut self, _held: leadsort::pipeline::Held) -> leadsort::Result<()> {
        Err(leadsort::Error::Internal("nothing is held here".into()))
    }

    fn tick(&mut self, _bytes_read: u64) -> leadsort::Result<()> {
        Ok(())
    }
}
