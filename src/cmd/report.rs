//! `leadsort report`: the balance of a run, for people who would rather look than read:
//! queues against the sales capacity, tiers, the score distribution, each rule's hits. As
//! text for a terminal, as a self-contained HTML page, or as JSON.

mod html;
mod model;
mod text;

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use crate::balance::Candidate;
use crate::cli::{AsOfArg, CsvArgs, RulesArg};
use crate::engine::{Engine, Outcome, Stats};
use crate::error::{Error, Result};
use crate::input::{Input, Next, Record, Source};
use crate::output::Target;
use crate::rules::Rules;
use crate::ui::Ui;

use model::{Context, Report, Tally};

const EXAMPLES: &str = "\
Examples:
  # The balance in the terminal: queues, tiers, score distribution, rules
  leadsort report contacts.csv

  # A page to look at, or to publish every night: charts, no script, nothing
  # loaded from elsewhere
  leadsort report --as-of 2026-11-27 --html balance.html contacts.csv

  # The same numbers for a script
  leadsort report --format json contacts.csv | jq .balance

Queues are counted as classify writes them. With `[balance] sales_capacity = N` in
the rules, sales gets at most N contacts and the others wait in the overflow queue
(`[balance] overflow_queue`, else the cold tier's queue, marketing): the report
shows both. Scores are binned 1, 2, 5, 10, 20, 50, ... points wide (at most 20
bins), with a bin starting at the warm threshold. A rule's points are the sum of
what it gave, before group caps. The text is laid out for 80 columns and is the
same bytes for the same input, rules and --as-of.
Exit codes: 0 ok, 2 usage, 65 the input does not fit the rules, 66 an input is
missing, 73 an output cannot be created, 74 I/O error, 78 rules.toml error.";

/// Show the balance of a run: queues against sales capacity, tiers, the score
/// distribution, each rule's hits.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Contacts CSV or workbook; `-` or nothing reads stdin
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub rules: RulesArg,

    #[command(flatten)]
    pub as_of: AsOfArg,

    #[command(flatten)]
    pub csv: CsvArgs,

    /// Write the report as one self-contained HTML page with charts to FILE (atomically).
    /// Nothing goes to stdout then, unless --format or -o asks for it
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// text (for people, 80 columns) or json (the same numbers, for programs) [default:
    /// json for an -o file ending in .json, else text]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Write the text or JSON report to FILE (atomically) instead of stdout (`-` is stdout)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Permission bits of the files written, in octal [default: 644 less the umask, since a
    /// report holds counts and no contact data]
    #[arg(long, value_name = "MODE", value_parser = crate::cli::parse_mode)]
    pub file_mode: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Bar charts in text, for a terminal
    Text,
    /// Every number as one JSON object
    Json,
}

impl Args {
    /// The text or JSON report's format, or `None` when only the page is asked for.
    fn format(&self) -> Result<Option<Format>> {
        let extension = self
            .output
            .as_deref()
            .and_then(Path::extension)
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if self.format.is_none() && matches!(extension.as_deref(), Some("html" | "htm")) {
            return Err(Error::Usage(
                "-o writes the text or JSON report; write the page with --html FILE".into(),
            ));
        }
        if let (Some(html), Some(output)) = (&self.html, &self.output)
            && super::same_file(html, output)
        {
            return Err(Error::Usage(format!(
                "--html and -o both name {}: give them different files",
                html.display()
            )));
        }
        Ok(match (self.format, extension.as_deref()) {
            (Some(f), _) => Some(f),
            (None, Some("json")) => Some(Format::Json),
            (None, _) if self.html.is_some() && self.output.is_none() => None,
            (None, _) => Some(Format::Text),
        })
    }
}

pub fn run(args: &Args, ui: &Ui) -> Result<()> {
    let source = Source::from_arg(args.input.as_deref());
    if source == Source::Stdin && std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no input: give a CSV file (leadsort report contacts.csv) or pipe one into stdin"
                .into(),
        ));
    }
    let format = args.format()?;
    // Until the files are written a signal ends the run at once; then it stops the run before
    // the renames, or waits for them once they began.
    crate::guard::catch_signals();
    let rules = args.rules.load()?;
    let outputs: Vec<PathBuf> = args.html.iter().chain(&args.output).cloned().collect();
    super::refuse_overwriting(&[source.path(), Some(&rules.source.path)], &outputs)?;
    if args.output.is_none() {
        super::refuse_stdout_twice(args.html.iter().map(|p| ("--html", p.as_path())))?;
    }

    let as_of = args.as_of.date();
    let mut options = args.csv.options();
    options.hash = true;
    let mut input = Input::open(&source, &options)?;
    let engine = super::compile(&rules, &input, as_of)?;
    // Rows classify would reject are rejected here too, so the counts agree.
    let single_line = super::single_line_columns(&rules, &engine, input.header());
    input.single_line_columns(single_line);
    let header = input.header();
    let several = super::several_columns_warnings(&rules, header);
    for w in super::header_warnings(&[&engine], header)
        .iter()
        .chain(&several)
    {
        super::say(ui, w);
    }

    let progress = super::Progress::new(ui, &source);
    let (tally, stats) = score(&rules, &engine, &mut input, &progress)?;
    progress.done();
    if tally.contacts + tally.rejected == 0 {
        ui.warn(&format!("{} has a header but no contacts", input.name()));
    }
    if tally.rejected > 0 {
        ui.warn_even_quiet(&format!(
            "{} of {} rows in {} could not be read and {} left out of the report \
             (leadsort classify --rejected FILE shows them)",
            tally.rejected,
            tally.contacts + tally.rejected,
            input.name(),
            if tally.rejected == 1 { "was" } else { "were" }
        ));
    }
    if let Some(first) = input.first_not_utf8 {
        ui.warn(&crate::input::not_utf8_warning(input.name(), first));
    }
    if let Some(first) = input.first_totals_row {
        let rows = input.totals_rows;
        ui.warn(&crate::input::totals_warning(input.name(), rows, first));
    }
    super::nothing_readable(&input, tally.contacts)?;

    let sha256 = input.sha256();
    let report = Report::new(
        Context {
            input: input.name(),
            input_sha256: sha256.as_deref(),
            rules: &rules,
            engine: &engine,
            stats: &stats,
            as_of,
        },
        &tally,
    );
    let content = format.map(|f| match f {
        Format::Text => text::render(&report),
        Format::Json => report.to_json(),
    });
    write(args, &report, content.as_deref())
}

/// Score every contact, counting as it goes.
fn score(
    rules: &Rules,
    engine: &Engine,
    input: &mut Input,
    progress: &super::Progress,
) -> Result<(Tally, Stats)> {
    let mut tally = Tally::new(engine, rules);
    let mut record = Record::default();
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    // Contacts bound for sales are decided at the end when the rules limit sales.
    let hold = rules
        .holds_sales()
        .then(|| engine.queue_id(rules.sales_queue()));
    while let Some(next) = input.next(&mut record)? {
        match next {
            Next::Contact { record: number, .. } => {
                engine.evaluate(&record, &mut scratch, &mut outcome);
                tally.add(&outcome);
                if hold == Some(outcome.queue) {
                    let at = (number, outcome.score);
                    let held = Candidate::of(rules, engine, &record, at, &mut scratch);
                    tally.held.push(held);
                }
            }
            Next::Rejected => {
                input.rejected = None;
                tally.rejected += 1;
            }
        }
        if input.records().is_multiple_of(4096) {
            progress.set(input.bytes_read);
        }
    }
    Ok((tally, scratch.stats))
}

/// The page and the file report first, all or none; then stdout.
fn write(args: &Args, report: &Report, content: Option<&str>) -> Result<()> {
    let mode = Some(args.file_mode.unwrap_or_else(crate::output::shared_mode));
    let mut files = Vec::new();
    if let Some(path) = &args.html {
        files.push((path, html::render(report)));
    }
    if let (Some(path), Some(content)) = (&args.output, content) {
        files.push((path, content.to_string()));
    }
    let mut ready = Vec::new();
    // A signal from here on stops the run before the renames, with the temp files removed.
    crate::guard::stop_cleanly();
    for (path, bytes) in files {
        let mut target = Target::file_with_mode(path, mode)?;
        target
            .write_all(bytes.as_bytes())
            .map_err(|e| Error::writing(path, e))?;
        ready.push(target.prepare()?);
    }
    crate::output::commit_all(ready)?;
    if let (None, Some(content)) = (&args.output, content) {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(content.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("cannot write stdout", e))?;
    }
    Ok(())
}
