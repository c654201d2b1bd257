//! `leadsort classify`: score, tier and route every contact.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::balance::{Candidate, Decision, Plan, Why};
use crate::cli::{AsOfArg, CsvArgs, OutputDelimiter, RulesArg};
use crate::engine::{Engine, Header};
use crate::error::{Error, Result};
use crate::input::{Input, Rejected, Source};
use crate::output::{
    Destination, Format, JsonEncoder, Kind, Layout, Outputs, RowBuf, RowEncoder, Rows, Scored,
};
use crate::pipeline::{Collector, Held, Job, Totals};
use crate::rules::Rules;
use crate::summary::{Balance, Ordered, Summary, Waited};
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

  # A workbook to open in Excel: a sheet per queue, highest scores first
  leadsort classify contacts.xlsx -o leads.xlsx

  # JSON Lines for the next tool; call lists with two columns, best first, one per
  # queue (lists/sales.csv has only sales' contacts, none of the suppressed)
  leadsort classify contacts.csv --format jsonl | jq .score
  leadsort classify contacts.csv --split lists --sort score --columns Email,Phone --no-reasons

Output: every input column unchanged, then score, score_<group> for each group,
tier, queue and reasons. Cells that a spreadsheet would run as formulas (starting
with = + - @, a tab, CR or LF; plain numbers such as -5 aside) get a leading '
unless --no-escape-formulas.";

/// Score, tier and route every contact.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Contacts: CSV (gzipped too), or an XLSX, XLS or ODS workbook; `-` or nothing reads
    /// stdin
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub rules: RulesArg,

    /// Write scored contacts to FILE instead of stdout (atomically; `-` is stdout; not
    /// compressed: a .gz name is refused, pipe stdout through gzip instead)
    #[arg(short, long, value_name = "FILE", conflicts_with = "split")]
    pub output: Option<PathBuf>,

    /// Write one file per queue into DIR (sales.csv, marketing.csv, ...; .tsv, .jsonl or
    /// .xlsx with --format), plus rejected.csv
    /// and summary.json; the files of a queue the last run had and these rules do not are
    /// removed
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

    /// Write cells that start with = + - @, a tab, CR or LF exactly as they are (unsafe in
    /// spreadsheets)
    #[arg(long)]
    pub no_escape_formulas: bool,

    /// Hold this lock file for the run; another run holding it makes this one exit 75
    /// [default with --split: DIR/.leadsort.lock]
    #[arg(long, value_name = "PATH")]
    pub lock: Option<PathBuf>,

    /// Permission bits of the files written, in octal [default: 600, the owner only]
    #[arg(long, value_name = "MODE", value_parser = crate::cli::parse_mode)]
    pub file_mode: Option<u32>,

    /// Worker threads [default: the number of cores]; the output is the same bytes for any N.
    /// A file of at most 512 KiB is scored on one thread: workers would cost more than they save
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Output format: csv, tsv, jsonl (one JSON object per contact) or xlsx (a workbook: a
    /// sheet per queue, Summary, Rejected) [default: from the -o file's extension, else csv;
    /// an -o name ending .xls, .xlsm, .xlsb, .ods, .numbers or .json needs --format, as no such
    /// file is written]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Kind>,

    /// The CSV output's delimiter: one character, `tab`, or `input` (the input's)
    /// [default: `,`]. `;` suits Excel where a comma is the decimal separator
    #[arg(long, value_name = "CHAR", value_parser = crate::cli::parse_output_delimiter)]
    pub output_delimiter: Option<OutputDelimiter>,

    /// Start CSV or TSV output with a UTF-8 byte order mark (Excel then reads accents right)
    #[arg(long)]
    pub bom: bool,

    /// Write contacts highest score first (ties keep the unsorted order: input order, contacts
    /// held for a balance last); the output is held in memory until the end. Workbooks are
    /// always sorted
    #[arg(long, value_enum, value_name = "KEY")]
    pub sort: Option<SortKey>,

    /// Input columns to write, by header name, comma-separated, in this order (score, the
    /// group scores, tier and queue are always written, and reasons unless --no-reasons)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,

    /// Leave out the reasons column (faster with many rules: nothing records which matched)
    #[arg(long)]
    pub no_reasons: bool,

    /// Refuse the run (exit 65, no output replaced) when fewer than N contacts were read: a
    /// guard for unattended runs against an export cut short or the wrong file
    #[arg(long, value_name = "N")]
    pub min_contacts: Option<u64>,

    /// Treat any warning (rejected rows, sales below min_sales, a missing optional field, a
    /// field a fifth of the contacts' cells cannot be read in...) as an error: exit 65 and replace no
    /// output
    #[arg(long)]
    pub deny_warnings: bool,
}

/// What `--sort` sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    /// The score, highest first.
    Score,
}

impl Args {
    /// The output format: `--format`, else the `-o` file's extension, else CSV.
    fn kind(&self) -> Kind {
        self.format
            .or_else(|| self.output.as_deref().and_then(Kind::from_path))
            .unwrap_or(Kind::Csv)
    }

    /// Flags that do not go together (beyond what clap checks).
    fn check(&self) -> Result<()> {
        let kind = self.kind();
        if let (None, Some(output)) = (self.format, &self.output)
            && let Some(closest) = Kind::closest_to(output)
        {
            let ext = closest.extension();
            return Err(Error::Usage(format!(
                "-o {}: leadsort writes {} to .{ext} files; name the file .{ext}, or say \
                 what to write with --format",
                output.display(),
                match closest {
                    Kind::Xlsx => "workbooks",
                    _ => "JSON Lines (one object per contact)",
                },
            )));
        }
        if self.output_delimiter.is_some() && kind != Kind::Csv {
            return Err(Error::Usage(
                "--output-delimiter is for CSV output (TSV is tab-separated; JSON Lines and \
                 workbooks have no delimiter)"
                    .into(),
            ));
        }
        if self.bom && !matches!(kind, Kind::Csv | Kind::Tsv) {
            return Err(Error::Usage(
                "--bom is for CSV and TSV output (JSON Lines and workbooks do not take one)".into(),
            ));
        }
        if kind == Kind::Xlsx
            && self.output.is_none()
            && self.split.is_none()
            && std::io::stdout().is_terminal()
        {
            return Err(Error::Usage(
                "a workbook is not for a terminal: write it to a file with -o contacts.xlsx".into(),
            ));
        }
        Ok(())
    }

    fn threads(&self) -> usize {
        match self.threads {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
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

    args.check()?;
    let kind = args.kind();
    let rules = args.rules.load()?;
    let mut named = destination.files(&rules.queue_names(), kind, args.summary.as_deref());
    // The lock file must not be an output either: renamed over, it would lock nothing.
    named.extend(args.lock.iter().map(|l| ("--lock", l.clone())));
    super::refuse_one_file_twice(&named)?;
    if let Destination::Single { output: None, .. } = destination {
        super::refuse_stdout_twice(named.iter().map(|(option, p)| (*option, p.as_path())))?;
    }
    named.retain(|(option, _)| *option != "--lock");
    let files: Vec<PathBuf> = named.into_iter().map(|(_, path)| path).collect();
    super::refuse_overwriting(&[source.path(), Some(&rules.source.path)], &files)?;
    let _lock = take_lock(args, &files)?;
    crate::guard::catch_signals();

    let as_of = args.as_of.date();
    // The summary (JSON, or a workbook's Summary sheet) names the input by its hash.
    let summarise = args.split.is_some() || args.summary.is_some() || kind == Kind::Xlsx;
    let mut options = args.csv.options();
    options.hash = summarise;
    let input = Input::open(&source, &options)?;
    let stamp = input.stamp();
    let engine = super::compile(&rules, &input, as_of)?;
    let mut warnings = output_header_warnings(&rules, &engine, input.header());
    let single_line = super::single_line_columns(&rules, &engine, input.header());

    let columns = match &args.columns {
        Some(names) => Some(chosen_columns(&rules, names, input.header(), input.name())?),
        None => None,
    };
    let layout = Layout::new(
        input.header(),
        &engine,
        columns,
        !args.no_reasons,
        !rules.reps.is_empty(),
    );
    let format = Format {
        kind,
        delimiter: match (kind, args.output_delimiter) {
            (Kind::Tsv, _) => b'\t',
            (_, Some(OutputDelimiter::Char(c))) => c,
            (_, Some(OutputDelimiter::Input)) => input.delimiter(),
            (_, None) => b',',
        },
        input_delimiter: input.delimiter(),
        escape_formulas: !args.no_escape_formulas,
        file_mode: args.file_mode,
        bom: args.bom,
        sort: args.sort.is_some(),
    };
    let csv_encoder;
    let json_encoder;
    let encoder: &dyn RowEncoder = match kind {
        Kind::Jsonl => {
            json_encoder = JsonEncoder::new(&engine, layout.clone());
            &json_encoder
        }
        Kind::Csv | Kind::Tsv | Kind::Xlsx => {
            let mut csv = format.csv_encoder(layout.clone());
            // A workbook writes every text cell as a string, which a spreadsheet never runs.
            csv.escape_formulas &= kind != Kind::Xlsx;
            csv_encoder = csv.with_reasons(&engine.reasons_alphabet());
            &csv_encoder
        }
    };
    if kind == Kind::Jsonl {
        let renamed = crate::output::renamed_keys(&layout);
        if !renamed.is_empty() {
            let list: Vec<String> = (renamed.iter())
                .map(|(name, key)| format!("`{name}` gets the key `{key}`"))
                .collect();
            warnings.push(format!(
                "the keys of a JSON object must differ: input column {}",
                list.join(", ")
            ));
        }
    }
    if args.deny_warnings && !warnings.is_empty() {
        // Known before any row: refuse before writing anything, stdout included. What fails
        // the run is said, -q or not.
        for w in &warnings {
            ui.warn_even_quiet(w);
        }
        return Err(denied(warnings.len(), None));
    }
    // Read before this run's summary.json replaces the last one's.
    let left_over = match &destination {
        Destination::Split { dir } => crate::output::left_by_last_run(dir, &engine.queues),
        Destination::Single { .. } => (Vec::new(), None),
    };
    // A signal from here on stops the run between chunks, with its temp files removed.
    crate::guard::stop_cleanly();
    let mut outputs = Outputs::create(
        &destination,
        args.summary.as_deref(),
        &engine,
        &layout,
        format,
        encoder,
    )?;

    let header = input.header().clone();
    let name = input.name().to_string();
    let digest = input.digester();
    let job = Job {
        engine: &engine,
        encoder,
        header: &header,
        single_line: &single_line,
        delimiter: input.delimiter(),
        max_record: input.max_record(),
        strict: args.strict,
        // A workbook has a sheet per queue, as --split has a file per queue.
        split: args.split.is_some() || kind == Kind::Xlsx,
        reasons_text: kind != Kind::Jsonl && !args.no_reasons,
        reasons: !args.no_reasons,
        hold: rules
            .holds_sales()
            .then(|| engine.queue_id(rules.sales_queue())),
    };
    let progress = super::Progress::new(ui, &source);
    let mut delivery = Delivery {
        outputs: &mut outputs,
        progress: &progress,
        held: Vec::new(),
        first_rejected: None,
    };
    // A small input is scored on this thread: starting workers would cost more than they
    // save (a 100-row file: 1.9 ms on one thread, 2.4 ms on two). The output is the same.
    let threads = if input.at_most(crate::pipeline::CHUNK_BYTES) {
        1
    } else {
        args.threads()
    };
    // Rows on stdout (or a FIFO) are out, whatever stops the run after them.
    let in_place = destination.in_place();
    let said = |e: Error| match (e, &in_place) {
        (Error::Interrupted(signal), Some(to)) => Error::interrupted_after_rows(signal, to),
        (other, _) => other,
    };
    let mut totals = crate::pipeline::run(&job, input.into_stream(), threads, &mut delivery)
        .map_err(|e| match (e, &in_place) {
            // --strict: say which file, and that rows already out are to be discarded.
            (Error::Data(msg), Some(to)) => Error::Data(format!(
                "{name}: {msg}\nrows before it went to {to} as they were scored: discard them"
            )),
            (Error::Data(msg), None) => Error::Data(format!("{name}: {msg}")),
            (other, _) => said(other),
        })?;
    progress.done();
    let held = std::mem::take(&mut delivery.held);
    let first_rejected = delivery.first_rejected.take();
    if let Some(stamp) = stamp {
        warnings.extend(stamp.changed(&name));
    }
    let strangers = match rules.reps.is_empty() {
        true => 0,
        false => (held.iter())
            .filter(|h| !h.owner.is_empty())
            .filter(|h| crate::balance::rep_named(&rules, &h.owner).is_none())
            .filter(|h| !crate::balance::former_owner(&rules, &h.owner))
            .count() as u64,
    };
    warnings.extend(super::owners_not_reps(strangers));
    let balance = settle(&rules, &engine, held, encoder, &mut outputs, &mut totals)?;
    if let Some(min) = balance.min_sales
        && balance.sales < min
    {
        warnings.push(super::fewer_than_min_sales(
            &balance.sales_queue,
            balance.sales,
            min,
        ));
    }

    let rejected = rejected_warning(args, &name, &totals, true, first_rejected.as_ref());
    warnings.extend(row_warnings(&name, &totals, rejected.clone()));
    warnings.extend(super::unreadable_warnings(
        &rules,
        &engine,
        &totals.stats.unreadable,
        totals.contacts,
    ));
    // Shown once the outputs are in place (a warning may point at one, `see out/rejected.csv`),
    // or before refusing to replace them (then it points nowhere). Rows left out, an input
    // with no contacts (every output emptied) and a disqualifying rule that could not read
    // its field (someone who opted out may be in a queue) are said even with -q.
    let unwritten = rejected_warning(args, &name, &totals, false, first_rejected.as_ref());
    let show = |warnings: &[String], written: bool, all_loud: bool| {
        for w in warnings {
            let is_rejected = rejected.as_ref() == Some(w);
            let w = match (is_rejected, written, &unwritten) {
                (true, false, Some(unwritten)) => unwritten,
                _ => w,
            };
            if all_loud || is_rejected || totals.records == 0 || super::at_risk(w) {
                ui.warn_even_quiet(w);
            } else {
                ui.warn(w);
            }
        }
    };
    if args.deny_warnings && !warnings.is_empty() {
        // What fails the run is said, -q or not.
        show(&warnings, false, true);
        return Err(denied(warnings.len(), in_place.as_deref()));
    }
    // Not one row could be read (another encoding, another delimiter than -d says): the
    // outputs would be emptied by a run that read nothing. Yesterday's stay.
    if totals.contacts == 0
        && totals.rejected > 0
        && let Some((line, reason)) = &first_rejected
    {
        show(&warnings, false, false);
        return Err(Error::Data(format!(
            "not one of the {} rows of {name} could be read (the first, line {line}: {reason}): {}",
            totals.rejected,
            nothing_replaced(in_place.as_deref())
        )));
    }
    if let Some(min) = args.min_contacts.filter(|&min| totals.contacts < min) {
        show(&warnings, false, false);
        return Err(Error::Data(format!(
            "{name} has {}, fewer than --min-contacts {min}: {}",
            crate::ui::plural(totals.contacts, "contact"),
            nothing_replaced(in_place.as_deref())
        )));
    }
    let summary = summary(
        &engine,
        &totals,
        SummaryContext {
            balance,
            input: &name,
            input_sha256: digest.map(|d| d.hex()),
            rules: &rules,
            as_of,
            format: kind,
            warnings,
        },
    );
    outputs.commit(&summary).map_err(said)?;
    show(&summary.warnings, true, false);
    let protected = [source.path(), Some(rules.source.path.as_path())];
    remove_left_over(left_over, &rules.source.path, &files, &protected, ui);
    if ui.show_summary() {
        ui.block(&summary.to_text());
    }
    Ok(())
}

/// Where the pipeline's results go: the outputs, with a look at signals and progress.
struct Delivery<'a> {
    outputs: &'a mut Outputs,
    progress: &'a super::Progress,
    /// Contacts bound for sales, held for the balance.
    held: Vec<Held>,
    /// The line and reason of the first row rejected (but for a header repeated), for a run
    /// that rejects every row.
    first_rejected: Option<(u64, String)>,
}

/// The balance: the held contacts bound for sales go to sales (with a rep) up to its
/// capacity, highest score first, or wait in the overflow queue with the reason. They are
/// written after the others, in that order.
fn settle(
    rules: &Rules,
    engine: &Engine,
    held: Vec<Held>,
    encoder: &dyn RowEncoder,
    outputs: &mut Outputs,
    totals: &mut Totals,
) -> Result<crate::summary::Balance> {
    let sales = engine.queue_id(rules.sales_queue());
    let overflow = engine.queue_id(rules.overflow_queue());
    let candidates: Vec<Candidate> = held
        .iter()
        .map(|h| Candidate {
            record: h.record,
            score: h.outcome.score,
            territories: h.territories,
            owner: crate::balance::rep_named(rules, &h.owner),
        })
        .collect();
    let (decisions, order) = crate::balance::decide(&Plan::new(rules), &candidates);
    let mut rows = vec![RowBuf::default(); engine.queues.len()];
    let mut loads = vec![0u64; rules.reps.len()];
    let (mut over_capacity, mut no_rep) = (0, 0);
    for i in order {
        let h = &held[i];
        let (queue, owner, note) = match decisions[i] {
            Decision::Sales { rep } => {
                if let Some(r) = rep {
                    loads[r] += 1;
                }
                (sales, rep.map_or("", |r| rules.reps[r].name.as_str()), None)
            }
            Decision::Waits(why) => {
                match why {
                    Why::OverCapacity => over_capacity += 1,
                    Why::NoRep => no_rep += 1,
                }
                (overflow, "", Some(why.text()))
            }
        };
        let row = Scored {
            cells: h.cells(),
            outcome: &h.outcome,
            tier: h.outcome.tier().as_str(),
            queue: &engine.queues[queue],
            owner,
            reasons: &h.reasons,
            note,
        };
        rows[queue].push(encoder, &row);
        totals.queues[queue] += 1;
    }
    for (queue, buf) in rows.iter().enumerate() {
        if !buf.is_empty() {
            outputs.write_rows(queue, buf.rows())?;
        }
    }
    let waited = Waited {
        over_capacity,
        no_rep,
    };
    Ok(Balance::new(
        rules,
        &engine.queues,
        &totals.queues,
        waited,
        loads,
    ))
}

impl Collector for Delivery<'_> {
    fn rows(&mut self, queue: usize, rows: Rows<'_>) -> Result<()> {
        self.outputs.write_rows(queue, rows)
    }

    fn reject(&mut self, rejected: &Rejected) -> Result<()> {
        // Not a header repeated (two header-only exports joined): that is no contact lost.
        if self.first_rejected.is_none() && rejected.reason != crate::input::HEADER_AGAIN {
            self.first_rejected = Some((rejected.line, rejected.reason.clone()));
        }
        self.outputs.reject(rejected)
    }

    fn hold(&mut self, held: Held) -> Result<()> {
        self.held.push(held);
        Ok(())
    }

    fn tick(&mut self, bytes_read: u64) -> Result<()> {
        if let Some(signal) = crate::guard::interrupted() {
            return Err(Error::Interrupted(signal));
        }
        self.progress.set(bytes_read);
        Ok(())
    }
}

/// The run lock (`--lock`, or the --split folder's), and, while holding it, the temp files a
/// killed run left behind removed: next to every output with `--lock` (every run that writes
/// them takes it), only in the folder with the --split folder's lock (a `--summary` outside
/// it may be another folder's run's too, still writing).
fn take_lock(args: &Args, files: &[PathBuf]) -> Result<Option<crate::guard::RunLock>> {
    let (path, covers): (PathBuf, Option<&Path>) = match (&args.lock, &args.split) {
        (Some(p), _) => (p.clone(), None),
        (None, Some(dir)) => {
            crate::output::check_split_folder(dir)?;
            (dir.join(".leadsort.lock"), Some(dir))
        }
        (None, None) => return Ok(None),
    };
    let lock = crate::guard::lock(&path)?;
    for f in files {
        if covers.is_none_or(|dir| f.parent() == Some(dir)) {
            crate::output::remove_stale_temps(f);
        }
    }
    Ok(Some(lock))
}

/// `--columns`: the input columns named, by index, in the order given.
fn chosen_columns(
    rules: &Rules,
    names: &[String],
    header: &Header,
    input: &str,
) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|name| {
            let name = name.trim();
            header
                .names
                .iter()
                .position(|h| h == name)
                .or_else(|| {
                    header
                        .names
                        .iter()
                        .position(|h| h.trim().eq_ignore_ascii_case(name))
                })
                .ok_or_else(|| {
                    Error::Data(format!(
                        "--columns: {input} has no column {name:?}{}",
                        super::headers_lines(rules, input, header, None)
                    ))
                })
        })
        .collect()
}

/// What the header tells before any row is read: `super::header_warnings`, and columns the
/// output adds that the input already has (an earlier output read again?). An `owner` column
/// that `[balance] owner` reads is no such clash: the CRM's owner before the run, beside the
/// rep the run gives.
pub(super) fn output_header_warnings(
    rules: &Rules,
    engine: &Engine,
    header: &Header,
) -> Vec<String> {
    let mut warnings = super::header_warnings(&[engine], header);
    warnings.extend(super::several_columns_warnings(rules, header));
    let mut added = vec![
        "score".to_string(),
        "tier".into(),
        "queue".into(),
        "reasons".into(),
    ];
    added.extend(rules.groups.iter().map(|g| format!("score_{}", g.name)));
    if !rules.reps.is_empty() {
        added.push("owner".into());
    }
    let read_as_owner = |i: usize| engine.owner_column() == Some(i);
    let clash: Vec<&str> = (header.names.iter().enumerate())
        .filter(|&(i, h)| added.contains(h) && !read_as_owner(i))
        .map(|(_, h)| h.as_str())
        .collect();
    if !clash.is_empty() {
        warnings.push(format!(
            "the input already has {} column{}, which the output adds too: CSV will have {} twice, JSON Lines renames the input's (is this an earlier output?)",
            super::quoted(&clash),
            if clash.len() > 1 { "s" } else { "" },
            if clash.len() > 1 { "them" } else { "it" },
        ));
    }
    warnings
}

struct SummaryContext<'a> {
    balance: crate::summary::Balance,
    input: &'a str,
    input_sha256: Option<String>,
    rules: &'a Rules,
    as_of: Date,
    format: Kind,
    warnings: Vec<String>,
}

/// Remove the files of the last run's queues that these rules do not have (see
/// `output::left_by_last_run`), now that this run's files are in place, saying so even
/// with `-q` (a file gone should never go unsaid). Never one this run wrote (on a file system
/// that ignores case, `Nurture.csv` is today's `nurture.csv`), nor the input or the rules;
/// and none at all when the last run used another rules file (`last_rules`): then the files
/// are named in a warning and kept.
fn remove_left_over(
    (left_over, last_rules): (Vec<PathBuf>, Option<String>),
    rules: &Path,
    written: &[PathBuf],
    protected: &[Option<&Path>],
    ui: &Ui,
) {
    let lower = |p: &Path| p.file_name().map(|n| n.to_string_lossy().to_lowercase());
    let left_over: Vec<PathBuf> = (left_over.into_iter())
        .filter(|path| {
            let ours = written
                .iter()
                .any(|w| super::same_file(w, path) || lower(w) == lower(path));
            let kept = protected
                .iter()
                .flatten()
                .any(|p| super::same_file(p, path));
            !(ours || kept)
        })
        .collect();
    // The last run used other rules (or the summary does not say which): the folder was
    // another job's, a client's, say. Its files are not this run's to remove.
    let same_rules = (last_rules.as_deref()).is_some_and(|r| super::same_file(Path::new(r), rules));
    if !same_rules {
        if !left_over.is_empty() {
            let names: Vec<String> = left_over.iter().map(|p| p.display().to_string()).collect();
            ui.warn_even_quiet(&format!(
                "the folder's last run used other rules than {} (its summary.json names {}), \
                 so its files of queues these rules do not have were kept: {}; is --split the \
                 right folder? Remove them yourself if they are yours",
                rules.display(),
                last_rules
                    .as_deref()
                    .map_or("none".to_string(), |r| format!("{r:?}")),
                names.join(", ")
            ));
        }
        return;
    }
    for path in left_over {
        match std::fs::remove_file(&path) {
            Ok(()) => ui.note(&format!(
                "removed {}: its queue was the last run's and is not in these rules (its \
                 contacts are in today's files)",
                path.display()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => ui.warn_even_quiet(&format!(
                "{} is left from the last run (its queue is not in these rules), and could not \
                 be removed: {e}",
                path.display()
            )),
        }
    }
}

/// `--deny-warnings` refusing a run with `warnings` warnings (exit 65). `rows_went_to`: where
/// the rows have streamed already, as they were scored (stdout, a FIFO).
fn denied(warnings: usize, rows_went_to: Option<&str>) -> Error {
    Error::Data(format!(
        "{} (--deny-warnings): {}",
        crate::ui::plural(warnings, "warning"),
        nothing_replaced(rows_went_to)
    ))
}

/// How a run refused at its end left the outputs: none replaced, but rows that streamed to
/// `rows_went_to` (stdout, a FIFO) as they were scored are out there.
fn nothing_replaced(rows_went_to: Option<&str>) -> String {
    let mut s = "no output was replaced".to_string();
    if let Some(to) = rows_went_to {
        s.push_str(&format!(
            ", but the rows went to {to} as they were scored: discard them"
        ));
    }
    s
}

/// The count of rejected rows, if any (a warning `-q` does not silence), and where they are
/// once the outputs are `written` (before, they are nowhere: the run replaces nothing). Kept
/// nowhere, the `first` one's line and reason are given, for a person to look at.
fn rejected_warning(
    args: &Args,
    input: &str,
    t: &Totals,
    written: bool,
    first: Option<&(u64, String)>,
) -> Option<String> {
    let first = first.map(|(line, reason)| format!("the first on line {line}: {reason}"));
    let whereto = match (&args.split, &args.rejected) {
        _ if !written => first.map_or(String::new(), |f| format!(" ({f})")),
        (Some(dir), _) => format!(" (see {})", dir.join("rejected.csv").display()),
        (None, Some(file)) => format!(" (see {})", file.display()),
        (None, None) if args.kind() == Kind::Xlsx => match &args.output {
            Some(file) => format!(" (see the Rejected sheet of {})", file.display()),
            None => " (see the workbook's Rejected sheet)".to_string(),
        },
        (None, None) => match first {
            Some(f) => format!(" ({f}; use --rejected FILE to keep them)"),
            None => " (use --rejected FILE to keep them)".to_string(),
        },
    };
    (t.rejected > 0).then(|| {
        format!(
            "{} of {} rows in {input} could not be read and {} rejected{whereto}",
            t.rejected,
            t.records,
            if t.rejected == 1 { "was" } else { "were" }
        )
    })
}

/// What the run should say about its rows, one line each.
fn row_warnings(input: &str, t: &Totals, rejected: Option<String>) -> Vec<String> {
    let mut warnings = Vec::new();
    if t.records == 0 {
        warnings.push(format!("{input} has a header but no contacts"));
    }
    warnings.extend(rejected);
    if let Some(first) = t.first_not_utf8 {
        warnings.push(crate::input::not_utf8_warning(input, first));
    }
    if let Some(first) = t.first_totals_row {
        warnings.push(crate::input::totals_warning(input, t.totals_rows, first));
    }
    warnings
}

fn summary(engine: &Engine, t: &Totals, cx: SummaryContext<'_>) -> Summary {
    Summary {
        leadsort_version: env!("CARGO_PKG_VERSION"),
        input: cx.input.to_string(),
        input_sha256: cx.input_sha256,
        rules: cx.rules.source.path.display().to_string(),
        rules_sha256: crate::guard::sha256(cx.rules.source.text.as_bytes()),
        as_of: cx.as_of.to_string(),
        format: cx.format.extension(),
        rows: t.records,
        contacts: t.contacts,
        rejected: t.rejected,
        queues: Ordered(
            engine
                .queues
                .iter()
                .cloned()
                .zip(t.queues.iter().copied())
                .collect(),
        ),
        tiers: Ordered(
            engine
                .tiers()
                .iter()
                .map(|tier| (tier.as_str().to_string(), t.tiers[*tier as usize]))
                .collect(),
        ),
        unreadable: Ordered(
            engine
                .typed_fields
                .iter()
                .cloned()
                .zip(t.stats.unreadable.iter().copied())
                .collect(),
        ),
        missing_optional_fields: engine
            .bindings
            .iter()
            .filter(|b| b.column.is_none())
            .map(|b| b.field.clone())
            .collect(),
        balance: cx.balance,
        warnings: cx.warnings,
    }
}
