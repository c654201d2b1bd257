//! `leadsort classify`: score, tier and route every contact.

use std::io::IsTerminal;
use std::path::PathBuf;

use jiff::civil::Date;

use crate::cli::{AsOfArg, CsvArgs, RulesArg};
use crate::engine::{Engine, Header, Outcome};
use crate::error::{Error, Result};
use crate::input::{Input, Next, Record, Source};
use crate::output::{Destination, Format, Outputs, Scored};
use crate::rules::Rules;
use crate::summary::{Ordered, Summary};
use crate::ui::Ui;

const EXAMPLES: &str = "\
Examples:
  # Score contacts.csv with ./rules.toml; CSV on stdout
  leadsort classify contacts.csv

  # Reproducible nightly run: one file per queue, summary.json last
  leadsort classify --rules /etc/leadsort/rules.toml --as-of 2026-11-27 \\
      --split /srv/leads/today contacts.csv

  # A semicolon-separated export from stdin, bad rows kept aside
  leadsort classify -d ';' --rejected bad.csv - < export.csv > scored.csv

Output: every input column unchanged, then score, score_<group> for each group,
tier, queue and reasons. Cells that a spreadsheet would run as formulas (starting
with = + - @) get a leading ' unless --no-escape-formulas.";

/// Score, tier and route every contact.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Contacts CSV; `-` or nothing reads stdin
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub rules: RulesArg,

    /// Write scored contacts to FILE instead of stdout (atomically)
    #[arg(short, long, value_name = "FILE", conflicts_with = "split")]
    pub output: Option<PathBuf>,

    /// Write one CSV per queue into DIR (sales.csv, marketing.csv, ...), plus rejected.csv
    /// and summary.json
    #[arg(long, value_name = "DIR")]
    pub split: Option<PathBuf>,

    #[command(flatten)]
    pub as_of: AsOfArg,

    #[command(flatten)]
    pub csv: CsvArgs,

    /// Write rows that cannot be read to FILE (record, line, reason, row)
    #[arg(long, value_name = "FILE", conflicts_with = "split")]
    pub rejected: Option<PathBuf>,

    /// Fail (exit 65) on the first row that cannot be read; no output file is replaced
    #[arg(long)]
    pub strict: bool,

    /// Also write the run summary as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Write cells that start with = + - @ exactly as they are (unsafe in spreadsheets)
    #[arg(long)]
    pub no_escape_formulas: bool,

    /// Hold this lock file for the run; another run holding it makes this one exit 75
    /// [default with --split: DIR/.leadsort.lock]
    #[arg(long, value_name = "PATH")]
    pub lock: Option<PathBuf>,

    /// Permission bits of the files written, in octal [default: 600, the owner only]
    #[arg(long, value_name = "MODE", value_parser = crate::cli::parse_mode)]
    pub file_mode: Option<u32>,
}

pub fn run(args: &Args, ui: &Ui) -> Result<()> {
    let source = Source::from_arg(args.input.as_deref());
    if source == Source::Stdin && std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no input: give a CSV file (leadsort classify contacts.csv) or pipe one into stdin"
                .into(),
        ));
    }
    let destination = match &args.split {
        Some(dir) => Destination::Split { dir: dir.clone() },
        None => Destination::Single {
            output: args.output.clone(),
            rejected: args.rejected.clone(),
        },
    };

    let rules = args.rules.load()?;
    let files = destination.files(&rules.queue_names(), args.summary.as_deref());
    super::refuse_overwriting(&[source.path(), Some(&rules.source.path)], &files)?;
    let _lock = take_lock(args, &files)?;
    crate::guard::catch_signals();

    let as_of = args.as_of.date();
    let summarise = args.split.is_some() || args.summary.is_some();
    let mut options = args.csv.options();
    options.hash = summarise;
    let mut input = Input::open(&source, &options)?;
    let engine = super::compile(&rules, &input, as_of)?;
    let mut warnings = header_warnings(&rules, &engine, input.header());
    input.single_line_columns(super::single_line_columns(&rules, &engine, input.header()));

    let format = Format {
        delimiter: b',',
        escape_formulas: !args.no_escape_formulas,
        file_mode: args.file_mode,
    };
    let mut outputs = Outputs::create(
        &destination,
        args.summary.as_deref(),
        &engine,
        input.header(),
        format,
    )?;
    let progress = super::Progress::new(ui, &source);

    let mut tally = Tally::new(&engine);
    let mut record = Record::default();
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    let mut reasons = String::new();
    while let Some(next) = input.next(&mut record)? {
        if input.records() % 1024 == 0 {
            if let Some(signal) = crate::guard::interrupted() {
                return Err(Error::Interrupted(signal));
            }
            progress.set(input.bytes_read);
        }
        match next {
            Next::Contact { .. } => {
                engine.evaluate(&record, &mut scratch, &mut outcome);
                engine.write_reasons(&outcome, &mut reasons);
                let contact = Scored {
                    cells: &record,
                    score: outcome.score,
                    groups: &outcome.groups,
                    tier: outcome.tier().as_str(),
                    queue: engine.queue_name(&outcome),
                    reasons: &reasons,
                };
                outputs.write(outcome.queue, &contact)?;
                tally.count(&outcome);
            }
            Next::Rejected => {
                let Some(rejected) = input.rejected.take() else {
                    continue;
                };
                if args.strict {
                    return Err(Error::Data(format!(
                        "{}: record {} (line {}): {}\n--strict stops at the first row that cannot be read; \
                         no output file was replaced",
                        input.name(),
                        rejected.record,
                        rejected.line,
                        rejected.reason
                    )));
                }
                if tally.first_not_utf8.is_none() && rejected.reason.contains("not valid UTF-8") {
                    tally.first_not_utf8 = Some((rejected.record, rejected.line));
                }
                outputs.reject(&rejected)?;
                tally.rejected += 1;
            }
        }
    }
    progress.done();

    warnings.extend(tally.warnings(args, &input));
    for w in &warnings {
        ui.warn(w);
    }
    let summary = tally.summary(
        &engine,
        &scratch.stats.unreadable,
        SummaryContext {
            input: input.name(),
            input_sha256: input.sha256(),
            rules: &rules,
            as_of,
            warnings,
        },
    );
    outputs.commit(&summary)?;
    if ui.show_summary() {
        ui.block(&summary.to_text());
    }
    Ok(())
}

/// The run lock (`--lock`, or the --split folder's), and, while holding it, the temp files a
/// killed run left behind removed.
fn take_lock(args: &Args, files: &[PathBuf]) -> Result<Option<crate::guard::RunLock>> {
    let path = match (&args.lock, &args.split) {
        (Some(p), _) => p.clone(),
        (None, Some(dir)) => {
            if !dir.is_dir() {
                return Err(Error::CantCreate {
                    path: dir.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the --split folder does not exist (leadsort writes into it but does not make it)",
                    ),
                });
            }
            dir.join(".leadsort.lock")
        }
        (None, None) => return Ok(None),
    };
    let lock = crate::guard::lock(&path)?;
    for f in files {
        crate::output::remove_stale_temps(f);
    }
    Ok(Some(lock))
}

/// Warnings about the header that do not stop the run.
fn header_warnings(rules: &Rules, engine: &Engine, header: &Header) -> Vec<String> {
    let mut warnings = Vec::new();
    let missing: Vec<&str> = engine
        .bindings
        .iter()
        .filter(|b| b.column.is_none())
        .map(|b| b.field.as_str())
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "optional field{} {} not in the input: read as empty for every contact",
            if missing.len() > 1 { "s" } else { "" },
            super::quoted(&missing)
        ));
    }
    let dups = header.duplicates();
    if !dups.is_empty() {
        warnings.push(format!(
            "the header repeats {} (the rules do not use {})",
            super::quoted(&dups),
            if dups.len() > 1 { "them" } else { "it" }
        ));
    }
    let mut added = vec![
        "score".to_string(),
        "tier".into(),
        "queue".into(),
        "reasons".into(),
    ];
    added.extend(rules.groups.iter().map(|g| format!("score_{}", g.name)));
    let clash: Vec<&str> = header
        .names
        .iter()
        .filter(|h| added.contains(h))
        .map(String::as_str)
        .collect();
    if !clash.is_empty() {
        warnings.push(format!(
            "the input already has {} column{}: the output will have {} twice (is this an earlier output?)",
            super::quoted(&clash),
            if clash.len() > 1 { "s" } else { "" },
            if clash.len() > 1 { "them" } else { "it" },
        ));
    }
    warnings
}

/// Counts kept while contacts stream past.
struct Tally {
    queues: Vec<u64>,
    tiers: [u64; 4],
    contacts: u64,
    rejected: u64,
    /// Record and line of the first row rejected for not being UTF-8.
    first_not_utf8: Option<(u64, u64)>,
}

struct SummaryContext<'a> {
    input: &'a str,
    input_sha256: Option<String>,
    rules: &'a Rules,
    as_of: Date,
    warnings: Vec<String>,
}

impl Tally {
    fn new(engine: &Engine) -> Tally {
        Tally {
            queues: vec![0; engine.queues.len()],
            tiers: [0; 4],
            contacts: 0,
            rejected: 0,
            first_not_utf8: None,
        }
    }

    /// What the run should say about its rows, one line each.
    fn warnings(&self, args: &Args, input: &Input) -> Vec<String> {
        let mut warnings = Vec::new();
        if input.records() == 0 {
            warnings.push(format!("{} has a header but no contacts", input.name()));
        }
        if self.rejected > 0 {
            let whereto = match (&args.split, &args.rejected) {
                (Some(dir), _) => format!("see {}", dir.join("rejected.csv").display()),
                (None, Some(file)) => format!("see {}", file.display()),
                (None, None) => "use --rejected FILE to keep them".to_string(),
            };
            warnings.push(format!(
                "{} of {} rows in {} could not be read and were rejected ({whereto})",
                self.rejected,
                input.records(),
                input.name()
            ));
        }
        if let Some((record, line)) = self.first_not_utf8 {
            warnings.push(format!(
                "{} has rows that are not UTF-8 (the first is record {record}, line {line}): \
                 if it comes from an older Excel, run again with --encoding windows-1252",
                input.name()
            ));
        }
        warnings
    }

    fn count(&mut self, outcome: &Outcome) {
        self.contacts += 1;
        self.queues[outcome.queue] += 1;
        self.tiers[outcome.tier() as usize] += 1;
    }

    fn summary(&self, engine: &Engine, unreadable: &[u64], cx: SummaryContext<'_>) -> Summary {
        Summary {
            leadsort_version: env!("CARGO_PKG_VERSION"),
            input: cx.input.to_string(),
            input_sha256: cx.input_sha256,
            rules: cx.rules.source.path.display().to_string(),
            rules_sha256: crate::guard::sha256(cx.rules.source.text.as_bytes()),
            as_of: cx.as_of.to_string(),
            rows: self.contacts + self.rejected,
            contacts: self.contacts,
            rejected: self.rejected,
            queues: Ordered(
                engine
                    .queues
                    .iter()
                    .cloned()
                    .zip(self.queues.iter().copied())
                    .collect(),
            ),
            tiers: Ordered(
                engine
                    .tiers()
                    .iter()
                    .map(|t| (t.as_str().to_string(), self.tiers[*t as usize]))
                    .collect(),
            ),
            unreadable: Ordered(
                engine
                    .typed_fields
                    .iter()
                    .cloned()
                    .zip(unreadable.iter().copied())
                    .collect(),
            ),
            missing_optional_fields: engine
                .bindings
                .iter()
                .filter(|b| b.column.is_none())
                .map(|b| b.field.clone())
                .collect(),
            warnings: cx.warnings,
        }
    }
}
