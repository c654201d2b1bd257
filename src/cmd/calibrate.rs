//! `leadsort calibrate`: the rules checked against contacts whose outcome is known.
//!
//! The story: load the rules, open the contacts, find the outcome column, read every contact
//! with an outcome (scored with the current rules), analyse (`crate::calibrate`), write the
//! report and, if asked, the calibrated rules file. Nothing is written until everything is
//! computed, and the rules file is only written once leadsort has loaded it back.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;

use serde::Serialize;

use crate::calibrate::stats::{Cut, Tally};
use crate::calibrate::suggest::{self, Candidate};
use crate::calibrate::{Calibration, Dataset, FOLDS, Settings, Thresholds, fmt_points};
use crate::cli::{AsOfArg, CsvArgs, RulesArg};
use crate::engine::{Engine, Header, fmt_number};
use crate::error::{Error, Result};
use crate::input::{Input, Source};
use crate::output::{Target, commit_all};
use crate::rules::{Decimal, FieldKind, Rules};
use crate::ui::Ui;
use crate::ui::plural;

const EXAMPLES: &str = "\
Examples:
  # How well do the rules pick the contacts that converted? (won deals as positive)
  leadsort calibrate --outcome \"Sales Status\" --positive won contacts.csv

  # Sales closes well only above 80%: which threshold gets there, and what it keeps
  leadsort calibrate --outcome converted --target-precision 0.8 contacts.csv

  # Sales can call 200 contacts: the threshold for that, and a calibrated rules file
  # with the suggested points, warm threshold and new rules
  leadsort calibrate --outcome converted --capacity 200 \\
      --write-rules rules-calibrated.toml --add-suggested contacts.csv

  # Lost deals did not convert; leave out those with no decision yet
  leadsort calibrate --outcome \"Sales Status\" --positive won --negative \"lost,closed lost\" \\
      contacts.csv

  # For a script; leave out a column filled in after the sale
  leadsort calibrate --outcome won --ignore-columns \"Close Date\" --format json history.csv

Contacts whose outcome cell is empty are left out (and counted); with
--negative, so are those whose outcome is in neither list. Disqualified
contacts never reach sales, so the score analyses leave them out.
Without --capacity, the rules' [balance] sales_capacity is the capacity: what
sales takes in one run of classify, as if this file were one run (give
--capacity for a history of many runs).
Lift: how much more often a group converts than everyone (2.0: twice as often).
AUC: the chance that a converter scores above a contact who did not convert
(0.5: a coin toss; 1.0: every converter first). Out of fold: points fitted on
four fifths of the file and measured on the fifth left out, five times over, so
that a suggestion is not praised for fitting noise.
The rules file given is never changed: --write-rules writes a copy (never over
the rules or the input), comments and layout kept, loaded back before writing.";

/// Check the rules against contacts whose outcome is known, and suggest points,
/// thresholds and rules.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Contacts with a known outcome (CSV or workbook); `-` or nothing reads stdin
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// The column that says whether a contact converted (a header, or a [fields] name)
    #[arg(long, value_name = "COLUMN")]
    pub outcome: String,

    /// The outcome values that count as converted, comma-separated, in any case; any other
    /// value counts as not converted, unless --negative is given
    #[arg(
        long,
        value_name = "VALUES",
        value_delimiter = ',',
        default_value = "true,yes,1,won,converted,y"
    )]
    pub positive: Vec<String>,

    /// The outcome values that count as not converted, comma-separated, in any case (e.g.
    /// lost): contacts with a value in neither --positive nor --negative (no decision yet) are
    /// left out, and counted
    #[arg(long, value_name = "VALUES", value_delimiter = ',')]
    pub negative: Option<Vec<String>>,

    /// Find the lowest threshold whose contacts convert at least this often (0 to 1, e.g.
    /// 0.8), allowing for chance (95% sure: a small file needs a margin), and suggest it as
    /// the warm threshold
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub target_precision: Option<f64>,

    /// Find the threshold that sends sales at most N of these contacts, and suggest it
    /// (with --target-precision: the higher of the two) [default: `[balance] sales_capacity`
    /// in the rules, if above 0]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub capacity: Option<u64>,

    /// Write a copy of the rules with the suggested points and warm threshold to PATH
    /// (atomically; never over the rules file or the input)
    #[arg(long, value_name = "PATH")]
    pub write_rules: Option<PathBuf>,

    /// Fit the suggested rules with the others: the points shown and written include them,
    /// and --write-rules appends them
    #[arg(long)]
    pub add_suggested: bool,

    /// Columns not to suggest rules on, comma-separated (e.g. ones filled in after the sale)
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub ignore_columns: Vec<String>,

    /// The column that identifies contacts, never suggested on [default: `[input] id` in the
    /// rules]
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,

    /// A report to read, or everything as JSON
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of stdout (atomically; `-` is stdout)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub rules: RulesArg,

    #[command(flatten)]
    pub as_of: AsOfArg,

    #[command(flatten)]
    pub csv: CsvArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A report to read
    Text,
    /// One JSON object with every figure
    Json,
}

/// `0.8`, `1`: a rate above 0, at most 1.
fn parse_rate(s: &str) -> std::result::Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|r| *r > 0.0 && *r <= 1.0)
        .ok_or_else(|| "expected a rate above 0 and at most 1, such as 0.8".to_string())
}

pub fn run(args: &Args, ui: &Ui) -> Result<()> {
    let source = Source::from_arg(args.input.as_deref());
    if source == Source::Stdin && std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no input: give a CSV file (leadsort calibrate --outcome COLUMN contacts.csv) or \
             pipe one into stdin"
                .into(),
        ));
    }
    // Until the files are written a signal ends the run at once; then it stops the run before
    // the renames, or waits for them once they began.
    crate::guard::catch_signals();
    let positive: Vec<String> = args
        .positive
        .iter()
        .map(|p| crate::calibrate::fold(crate::calibrate::trim(p)))
        .filter(|p| !p.is_empty())
        .collect();
    if positive.is_empty() {
        return Err(Error::Usage(
            "--positive needs at least one value, such as won".into(),
        ));
    }
    let negative: Option<Vec<String>> = args.negative.as_ref().map(|values| {
        values
            .iter()
            .map(|n| crate::calibrate::fold(crate::calibrate::trim(n)))
            .filter(|n| !n.is_empty())
            .collect()
    });
    if negative.as_ref().is_some_and(Vec::is_empty) {
        return Err(Error::Usage(
            "--negative needs at least one value, such as lost".into(),
        ));
    }
    if let Some(both) = (negative.iter().flatten()).find(|n| positive.contains(n)) {
        return Err(Error::Usage(format!(
            "`{both}` is given to both --positive and --negative: a value counts as one or the other"
        )));
    }
    let rules_path = args.rules.path();
    let outputs: Vec<PathBuf> = args
        .write_rules
        .iter()
        .chain(&args.output)
        .cloned()
        .collect();
    super::refuse_overwriting(&[source.path(), Some(&rules_path)], &outputs)?;
    if args.output.is_none() {
        super::refuse_stdout_twice(
            (args.write_rules.iter()).map(|p| ("--write-rules", p.as_path())),
        )?;
    }
    if let (Some(a), Some(b)) = (&args.write_rules, &args.output)
        && (a == b
            || a.canonicalize()
                .is_ok_and(|a| b.canonicalize().is_ok_and(|b| a == b)))
    {
        return Err(Error::Usage(format!(
            "{} is given for both --write-rules and --output; give two files",
            a.display()
        )));
    }

    let rules = args.rules.load()?;
    let as_of = args.as_of.date();
    let mut input = Input::open(&source, &args.csv.options())?;
    let engine = super::compile(&rules, &input, as_of)?;
    // Rows classify would reject are left out here too, so the contacts are classify's.
    let single_line = super::single_line_columns(&rules, &engine, input.header());
    input.single_line_columns(single_line);
    let outcome = column(&rules, &input, &args.outcome, "--outcome")?;
    let id = super::id_column(
        &rules,
        input.header(),
        input.name(),
        args.id_column.as_deref(),
    )?;
    let mut ignored = vec![outcome];
    ignored.extend(id);
    for name in args.ignore_columns.iter().filter(|n| !n.trim().is_empty()) {
        ignored.push(column(&rules, &input, name.trim(), "--ignore-columns")?);
    }
    let columns = candidate_columns(&rules, &engine, input.header(), &ignored);
    // Only the columns a rule reads or a suggestion may use keep their cells in memory.
    let mut keep = vec![false; input.header().len()];
    let used = engine.bindings.iter().filter_map(|b| b.column);
    for c in columns.iter().map(|c| c.column).chain(used) {
        keep[c] = true;
    }

    let data = Dataset::read(
        &mut input,
        &engine,
        outcome,
        &positive,
        negative.as_deref(),
        &keep,
    )?;
    if data.rejected > 0 {
        ui.warn_even_quiet(&format!(
            "{} of {} could not be read and were left out (leadsort classify --rejected FILE shows them)",
            crate::ui::plural(data.rejected, "row"),
            input.name()
        ));
    }
    if let Some(first) = input.first_not_utf8 {
        ui.warn(&crate::input::not_utf8_warning(input.name(), first));
    }
    if data.is_empty() {
        let other = if negative.is_some() {
            format!(
                ", {} with an outcome in neither --positive nor --negative",
                data.other_outcome
            )
        } else {
            String::new()
        };
        return Err(Error::Data(format!(
            "{}: no contact has an outcome in column `{}` ({} left out with an empty cell{other})",
            input.name(),
            input.header().names[outcome],
            data.left_out
        )));
    }
    // What sales can take: --capacity, else what classify would let through in one run.
    let sales_capacity = (rules.balance.as_ref())
        .and_then(|b| b.sales_capacity)
        .filter(|&c| c > 0);
    let settings = Settings {
        target_precision: args.target_precision,
        capacity: args.capacity.or(sales_capacity),
        capacity_from_rules: args.capacity.is_none() && sales_capacity.is_some(),
        add_suggested: args.add_suggested,
        columns,
        rules_path: rules_path.clone(),
        input: input.name().to_string(),
        outcome: input.header().names[outcome].clone(),
        outcome_column: outcome,
        as_of,
    };
    let calibration = Calibration::new(&rules, &engine, &data, &settings)?;
    for note in &calibration.notes {
        ui.warn(note);
    }

    let report = Report {
        calibration: &calibration,
        data: &data,
        rules: &rules,
        settings: &settings,
        positive: &positive,
        negative: negative.as_deref(),
        written: args.write_rules.as_ref(),
    };
    let text = match args.format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
    };

    // Everything is computed: write the rules file, then the report, then replace both. A
    // signal from here on stops the run before the renames, with the temp files removed.
    crate::guard::stop_cleanly();
    let mut ready = Vec::new();
    if let Some(path) = &args.write_rules {
        // Like init's: a rules file is read by whoever runs leadsort (cron), so 644 (less the
        // umask).
        let mut target = Target::file_with_mode(path, Some(crate::output::shared_mode()))?;
        target
            .write_all(calibration.new_rules.text.as_bytes())
            .map_err(|e| Error::writing(path, e))?;
        ready.push(target.prepare()?);
    }
    let mut target = match &args.output {
        Some(path) => Target::file(path)?,
        None => Target::stdout(),
    };
    let name = target.name();
    target
        .write_all(text.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {name}"), e))?;
    ready.push(target.prepare()?);
    commit_all(ready)
}

/// A column named by a flag: a `[fields]` entry or a header, found as rules find fields.
fn column(rules: &Rules, input: &Input, name: &str, flag: &str) -> Result<usize> {
    let header = input.header();
    match crate::engine::bind::resolve_field(rules, header, name) {
        Ok(Some(col)) => Ok(col),
        Ok(None) | Err(_) => {
            let mut msg = format!("{} has no column `{name}` (from {flag})", input.name());
            msg.push_str(&super::headers_lines(
                rules,
                input.name(),
                header,
                Some(name),
            ));
            Err(Error::Data(msg))
        }
    }
}

/// The columns to look for new rules in, each with the name a rule would use for it: the
/// field the rules already use for that column, else its header (when the header finds it).
fn candidate_columns(
    rules: &Rules,
    engine: &Engine,
    header: &Header,
    ignored: &[usize],
) -> Vec<Candidate> {
    (0..header.names.len())
        .filter(|c| !ignored.contains(c))
        .filter_map(|c| {
            let field = engine
                .bindings
                .iter()
                .find(|b| b.column == Some(c))
                .map(|b| b.field.clone())
                .or_else(|| {
                    let name = header.names[c].clone();
                    let found = crate::engine::bind::resolve_field(rules, header, &name);
                    (!name.trim().is_empty() && found == Ok(Some(c))).then_some(name)
                })?;
            let kind = rules.field(&field).map_or(FieldKind::Text, |f| f.kind);
            // As the engine reads the column: a workbook's numbers with a decimal point.
            let decimal = match rules.field(&field).map(|f| f.decimal) {
                _ if header.decimal_point => Decimal::Point,
                Some(d) => d,
                None => Decimal::Either,
            };
            Some(Candidate {
                column: c,
                field,
                kind,
                decimal,
            })
        })
        .collect()
}

// ---- the report -------------------------------------------------------------------------------

struct Report<'a> {
    calibration: &'a Calibration,
    data: &'a Dataset,
    rules: &'a Rules,
    settings: &'a Settings,
    positive: &'a [String],
    negative: Option<&'a [String]>,
    written: Option<&'a PathBuf>,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn rate(t: Tally) -> String {
    t.rate().map_or_else(|| "-".to_string(), pct)
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:.digits$}"))
}

/// Round for JSON, so that the numbers read well and compare across runs.
fn r4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0 + 0.0
}

fn r4o(x: Option<f64>) -> Option<f64> {
    x.map(r4)
}

impl Report<'_> {
    fn to_text(&self) -> String {
        let c = self.calibration;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Calibration of {} against {}",
            self.rules.source.path.display(),
            self.settings.input
        );

        // 1. Conversion overall and per tier.
        let _ = writeln!(
            out,
            "\nOutcome: column `{}`; converted when it is {}{}",
            self.settings.outcome,
            self.positive.join(", "),
            self.negative
                .map(|n| format!("; not converted when it is {}", n.join(", ")))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "  {} with an outcome, {} converted ({})",
            plural(c.all.contacts, "contact"),
            c.all.converted,
            rate(c.all)
        );
        let _ = writeln!(
            out,
            "  left out: {} with an empty outcome cell, {}{} rows that could not be read",
            self.data.left_out,
            if self.negative.is_some() {
                format!(
                    "{} with another outcome (neither --positive nor --negative), ",
                    plural(self.data.other_outcome, "contact")
                )
            } else {
                String::new()
            },
            self.data.rejected
        );
        let shown: Vec<String> = self
            .data
            .outcome_values
            .iter()
            .take(8)
            .map(|v| {
                format!(
                    "{} {}{}",
                    v.value,
                    v.contacts,
                    match (v.positive, v.left_out) {
                        (true, _) => " (converted)",
                        (_, true) => " (left out)",
                        _ => "",
                    }
                )
            })
            .collect();
        let more = self.data.outcome_values.len().saturating_sub(8);
        let _ = writeln!(
            out,
            "  values: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        );

        let _ = writeln!(
            out,
            "\n{:<14}{:>10}{:>11}{:>8}{:>7}{:>22}",
            "Tier", "contacts", "converted", "rate", "lift", "share of converters"
        );
        for (tier, t) in &c.tiers {
            let share = if c.all.converted > 0 {
                pct(t.converted as f64 / c.all.converted as f64)
            } else {
                "-".to_string()
            };
            let _ = writeln!(
                out,
                "  {:<12}{:>10}{:>11}{:>8}{:>7}{:>22}",
                tier.as_str(),
                t.contacts,
                t.converted,
                rate(*t),
                opt(crate::calibrate::stats::lift(*t, c.all), 2),
                share
            );
        }

        // 2. Per rule.
        let width = c
            .rules
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        let pw = c
            .rules
            .iter()
            .map(|r| r.points.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        let _ = writeln!(
            out,
            "\n{:<w$}  {:>pw$}{:>10}{:>10}{:>10}{:>10}{:>7}",
            "Rule",
            "points",
            "matches",
            "hit rate",
            "converts",
            "others",
            "lift",
            w = width + 2
        );
        for r in &c.rules {
            let hit = if c.all.contacts > 0 {
                pct(r.matched.contacts as f64 / c.all.contacts as f64)
            } else {
                "-".to_string()
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {:>pw$}{:>10}{:>10}{:>10}{:>10}{:>7}",
                r.name,
                r.points,
                r.matched.contacts,
                hit,
                rate(r.matched),
                rate(r.rest),
                opt(r.lift, 2)
            );
        }
        let _ = writeln!(
            out,
            "  (converts: the conversion rate of the contacts the rule matches; others: of those it does not)"
        );

        // 3. AUC.
        let _ = writeln!(
            out,
            "\nScore: AUC {} over the {} contacts not disqualified\n  (the chance that a converter scores above a contact who did not convert: 0.5 is a coin toss, 1.0 is perfect)",
            opt(c.auc, 3),
            c.scored.contacts
        );

        // 4. Thresholds on the current score. Both tables of thresholds have their columns in
        // the same place, however long the reasons for the suggested warm threshold are.
        let warm = fmt_number(c.warm_threshold);
        let now = ThresholdRows::new(
            "Thresholds on the current score",
            format!("warm queue now (warm = {warm})"),
            &c.current,
            self.settings,
        );
        let new = ThresholdRows::new(
            "Thresholds on the new rules' score",
            format!("suggested warm ({})", c.choice.by),
            &c.suggested,
            self.settings,
        );
        let width = now.width().max(new.width());
        out.push_str(&now.render(width));

        // 5. Suggested points.
        match &c.fit {
            None => {
                let _ = writeln!(out, "\nSuggested points: none (no rule gives points)");
            }
            Some(fit) => {
                let _ = writeln!(
                    out,
                    "\nSuggested points{} (logistic regression on the rules' matches, penalty {} chosen by {FOLDS}-fold cross-validation;\n  scaled so the points add up as now in size: 1 point = {:.3} in log-odds)",
                    match &fit.refused {
                        None => String::new(),
                        Some(r) => format!(", NOT used: {}", r.short()),
                    },
                    fit.lambda,
                    1.0 / fit.scale
                );
                let w = fit
                    .points
                    .iter()
                    .map(|p| p.rule.chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(4);
                let _ = writeln!(out, "  {:<w$}  {:>10}  {:>10}", "rule", "now", "suggested");
                for p in &fit.points {
                    let unit = if p.per_unit { "/unit" } else { "" };
                    let now = p
                        .now
                        .map_or_else(|| "new".to_string(), |n| format!("{}{unit}", fmt_points(n)));
                    let note = p.kept.map(|k| format!("  ({k})")).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "  {:<w$}  {:>10}  {:>10}{note}",
                        p.rule,
                        now,
                        format!("{}{unit}", fmt_points(p.suggested))
                    );
                }
            }
        }
        let oof = &c.out_of_fold;
        let _ = writeln!(
            out,
            "\nOut-of-fold AUC (points fitted on 4/5 of the contacts, measured on the other 1/5, {FOLDS} times):"
        );
        let mut lines = vec![("current points".to_string(), oof.current)];
        if c.fit.is_some() {
            lines.push(("suggested points".to_string(), oof.suggested));
        }
        let n = c.search.suggestions.len();
        if n > 0 {
            let rules = plural(n, "suggested rule");
            lines.push((format!("with the {rules}"), oof.with_rules));
        }
        for (label, auc) in lines {
            let _ = writeln!(out, "  {label:<32}  {}", opt(auc, 3));
        }
        if let Some(fit) = &c.fit
            && let (Some(gain), Some(se)) = (fit.evidence.gain, fit.evidence.gain_se)
        {
            let label = if fit.with_suggestions {
                "gain with the suggested rules"
            } else {
                "gain of the suggested points"
            };
            let _ = writeln!(
                out,
                "  {label:<32}  {gain:+.3}, standard error {se:.3} (used only above {} of them)",
                crate::calibrate::stats::Z
            );
        }

        out.push_str(&new.render(width));

        // 6. Suggested rules.
        let s = &c.search;
        let _ = writeln!(
            out,
            "\nSuggested rules (lift at least {} or at most {:.2}, at least {} contacts, held on each of the {FOLDS} held-out folds, not covered by a rule)",
            suggest::LIFT,
            1.0 / suggest::LIFT,
            s.min_support
        );
        if s.suggestions.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for (i, g) in s.suggestions.iter().enumerate() {
            let all = g.matched.contacts + g.rest.contacts;
            let _ = writeln!(
                out,
                "  {}. {}    when = {{ field = {:?}, {} = {} }}",
                i + 1,
                g.name,
                g.field,
                g.test.key(),
                g.test.toml_value().to_string().trim()
            );
            let _ = writeln!(
                out,
                "     matches {} ({}), who convert at {} against {} for the others: lift {:.2} (weakest held-out fold {:.2}), z {:.1}",
                g.matched.contacts,
                pct(g.matched.contacts as f64 / all as f64),
                rate(g.matched),
                rate(g.rest),
                g.lift,
                g.held_out_lift,
                g.z
            );
        }
        if s.not_held > 0 || s.covered > 0 {
            let _ = writeln!(
                out,
                "  ({} more looked strong on the whole file but did not hold on every held-out fold; {} already covered by a rule or a better suggestion)",
                s.not_held, s.covered
            );
        }
        if s.beyond > 0 {
            let _ = writeln!(
                out,
                "  ({} more held but were not examined: at most {} are suggested, the most significant first)",
                s.beyond,
                suggest::MAX_SUGGESTIONS
            );
        }

        // 7. The new file.
        let n = &c.new_rules;
        let _ = writeln!(
            out,
            "\nNew rules file{}: warm = {}{}{}",
            match self.written {
                Some(p) => format!(" ({})", p.display()),
                None => " (not written: add --write-rules NEW.toml)".to_string(),
            },
            fmt_number(n.warm),
            n.hot_raised
                .map(|h| format!(", hot raised to {}", fmt_number(h)))
                .unwrap_or_default(),
            if n.added > 0 {
                format!(", {} added", plural(n.added, "suggested rule"))
            } else {
                String::new()
            }
        );
        let adopted = c.fit.as_ref().is_some_and(|f| f.adopted);
        let oof = if adopted {
            if n.added > 0 {
                c.out_of_fold.with_rules
            } else {
                c.out_of_fold.suggested
            }
        } else {
            c.out_of_fold.current
        };
        let _ = writeln!(
            out,
            "  {} points; its warm queue (warm and hot tiers): {} contacts, converting at {}, with {} of the converters",
            if adopted { "suggested" } else { "current" },
            n.sales.contacts,
            pct(n.sales.precision),
            pct(n.sales.recall),
        );
        if let Some(capacity) = self.settings.capacity {
            let sent = n.sales.contacts;
            let _ = writeln!(
                out,
                "  {}: the new warm queue's {sent} contacts are {}",
                if self.settings.capacity_from_rules {
                    format!("sales capacity {capacity} ([balance] sales_capacity in the rules)")
                } else {
                    format!("capacity {capacity} (--capacity)")
                },
                if sent > capacity {
                    format!("{} more than that", sent - capacity)
                } else {
                    "within it".to_string()
                }
            );
        }
        let _ = writeln!(
            out,
            "  the warm queue now: {} contacts, converting at {}, with {} of the converters",
            c.current.warm.contacts,
            pct(c.current.warm.precision),
            pct(c.current.warm.recall),
        );
        let _ = writeln!(
            out,
            "  AUC on these contacts {} (now {}); out of fold {} (now {})",
            opt(n.auc, 3),
            opt(c.auc, 3),
            opt(oof, 3),
            opt(c.out_of_fold.current, 3)
        );
        out
    }

    fn to_json(&self) -> String {
        let c = self.calibration;
        let cut = |k: &Cut| JsonCut {
            threshold: k.threshold,
            contacts: k.contacts,
            converted: k.converted,
            precision: r4(k.precision),
            recall: r4(k.recall),
            f1: r4(k.f1),
        };
        let thresholds = |t: &Thresholds| JsonThresholds {
            warm: cut(&t.warm),
            target_precision: t.target.as_ref().map(cut),
            capacity: t.capacity.as_ref().map(cut),
            best_f1: t.best_f1.as_ref().map(cut),
        };
        let all = c.all;
        let report = JsonReport {
            rules: self.rules.source.path.display().to_string(),
            input: self.settings.input.clone(),
            as_of: self.settings.as_of.to_string(),
            outcome: JsonOutcome {
                column: self.settings.outcome.clone(),
                positive: self.positive.to_vec(),
                negative: self.negative.map(<[String]>::to_vec),
                contacts: all.contacts,
                converted: all.converted,
                rate: r4o(all.rate()),
                left_out_empty: self.data.left_out,
                left_out_other: self.data.other_outcome,
                rejected: self.data.rejected,
                values: self
                    .data
                    .outcome_values
                    .iter()
                    .map(|v| JsonValue {
                        value: v.value.clone(),
                        contacts: v.contacts,
                        converted: v.positive,
                        left_out: v.left_out,
                    })
                    .collect(),
            },
            tiers: c
                .tiers
                .iter()
                .map(|(tier, t)| JsonTier {
                    tier: tier.as_str(),
                    contacts: t.contacts,
                    converted: t.converted,
                    rate: r4o(t.rate()),
                    lift: r4o(crate::calibrate::stats::lift(*t, all)),
                    share_of_converters: (all.converted > 0)
                        .then(|| r4(t.converted as f64 / all.converted as f64)),
                })
                .collect(),
            rules_stats: c
                .rules
                .iter()
                .map(|r| JsonRule {
                    name: r.name.clone(),
                    points: r.points.clone(),
                    matches: r.matched.contacts,
                    hit_rate: (all.contacts > 0)
                        .then(|| r4(r.matched.contacts as f64 / all.contacts as f64)),
                    rate_if_matched: r4o(r.matched.rate()),
                    rate_if_not: r4o(r.rest.rate()),
                    lift: r4o(r.lift),
                })
                .collect(),
            scored: c.scored.contacts,
            auc: r4o(c.auc),
            thresholds: JsonThresholdSets {
                current: thresholds(&c.current),
                suggested: thresholds(&c.suggested),
            },
            suggested_points: c.fit.as_ref().map(|f| JsonFit {
                lambda: f.lambda,
                points_per_log_odds: r4(f.scale),
                folds: FOLDS,
                with_suggested_rules: f.with_suggestions,
                adopted: f.adopted,
                not_adopted_because: f.refused.map(|r| r.long()),
                rules: f
                    .points
                    .iter()
                    .map(|p| JsonPoints {
                        name: p.rule.clone(),
                        suggested_rule: p.suggestion,
                        per_unit: p.per_unit,
                        now: p.now,
                        suggested: p.suggested,
                        weight: r4(p.weight),
                        kept: p.kept,
                    })
                    .collect(),
            }),
            out_of_fold_auc: JsonOutOfFold {
                current: r4o(c.out_of_fold.current),
                suggested: r4o(c.out_of_fold.suggested),
                with_suggested_rules: r4o(c.out_of_fold.with_rules),
                gain: r4o(c.fit.as_ref().and_then(|f| f.evidence.gain)),
                gain_standard_error: r4o(c.fit.as_ref().and_then(|f| f.evidence.gain_se)),
            },
            suggested_rules: JsonSearch {
                min_support: c.search.min_support,
                not_held_out_of_fold: c.search.not_held,
                covered: c.search.covered,
                not_examined: c.search.beyond,
                rules: c
                    .search
                    .suggestions
                    .iter()
                    .map(|s| JsonSuggestion {
                        name: s.name.clone(),
                        column: s.header.clone(),
                        field: s.field.clone(),
                        operator: s.test.key(),
                        value: s.test.toml_value().to_string().trim().to_string(),
                        when: format!(
                            "{{ field = {:?}, {} = {} }}",
                            s.field,
                            s.test.key(),
                            s.test.toml_value().to_string().trim()
                        ),
                        matches: s.matched.contacts,
                        hit_rate: r4(s.matched.contacts as f64
                            / (s.matched.contacts + s.rest.contacts) as f64),
                        rate_if_matched: r4o(s.matched.rate()),
                        rate_if_not: r4o(s.rest.rate()),
                        lift: r4(s.lift),
                        held_out_lift: r4(s.held_out_lift),
                        z: r4(s.z),
                    })
                    .collect(),
            },
            new_rules: JsonNewRules {
                written: self.written.map(|p| p.display().to_string()),
                warm: c.new_rules.warm,
                chosen_by: c.choice.by.clone(),
                capacity: self.settings.capacity,
                capacity_from: self.settings.capacity.map(|_| {
                    if self.settings.capacity_from_rules {
                        "sales_capacity"
                    } else {
                        "--capacity"
                    }
                }),
                hot_raised_to: c.new_rules.hot_raised,
                added_rules: c.new_rules.added,
                failing_tests: c.new_rules.failing_tests,
                auc: r4o(c.new_rules.auc),
                warm_queue: cut(&c.new_rules.sales),
            },
        };
        let mut s = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".to_string());
        s.push('\n');
        s
    }
}

/// Thresholds on one score, as the rows of a table: a label and the cut, if any.
struct ThresholdRows {
    title: &'static str,
    rows: Vec<(String, Option<Cut>)>,
}

impl ThresholdRows {
    fn new(title: &'static str, warm: String, t: &Thresholds, settings: &Settings) -> Self {
        let mut rows: Vec<(String, Option<Cut>)> = vec![(warm, Some(t.warm))];
        if let Some(p) = settings.target_precision {
            let percent = fmt_number((p * 1000.0).round() / 10.0);
            rows.push((
                format!("target: converting at {percent}%, 95% sure"),
                t.target,
            ));
        }
        if let Some(n) = settings.capacity {
            let name = settings.capacity_name();
            rows.push((format!("{name}: at most {n} contacts"), t.capacity));
        }
        rows.push(("best F1".to_string(), t.best_f1));
        ThresholdRows { title, rows }
    }

    /// The width of the labels' column: the longest label, or the title (which starts two
    /// columns left of the labels).
    fn width(&self) -> usize {
        (self.rows.iter())
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0)
            .max(self.title.chars().count().saturating_sub(2))
    }

    /// The table, its labels `w` wide (at least `width()`).
    fn render(&self, w: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{:<w$}  {:>9}{:>10}{:>12}{:>17}{:>6}",
            self.title,
            "threshold",
            "contacts",
            "converting",
            "converters kept",
            "F1",
            w = w + 2
        );
        for (label, cut) in &self.rows {
            match cut {
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "  {:<w$}  {:>9}{:>10}{:>12}{:>17}{:>6.2}",
                        label,
                        c.threshold,
                        c.contacts,
                        pct(c.precision),
                        pct(c.recall),
                        c.f1
                    );
                }
                None => {
                    let _ = writeln!(out, "  {label:<w$}  {:>9}", "none");
                }
            }
        }
        out
    }
}

#[derive(Serialize)]
struct JsonReport {
    rules: String,
    input: String,
    as_of: String,
    outcome: JsonOutcome,
    tiers: Vec<JsonTier>,
    #[serde(rename = "rules_stats")]
    rules_stats: Vec<JsonRule>,
    /// Contacts not disqualified: those the score analyses count.
    scored: u64,
    auc: Option<f64>,
    thresholds: JsonThresholdSets,
    suggested_points: Option<JsonFit>,
    out_of_fold_auc: JsonOutOfFold,
    suggested_rules: JsonSearch,
    new_rules: JsonNewRules,
}

#[derive(Serialize)]
struct JsonOutcome {
    column: String,
    positive: Vec<String>,
    /// `--negative`, when given.
    negative: Option<Vec<String>>,
    contacts: u64,
    converted: u64,
    rate: Option<f64>,
    left_out_empty: u64,
    /// With `--negative`: contacts whose outcome is in neither list.
    left_out_other: u64,
    rejected: u64,
    values: Vec<JsonValue>,
}

#[derive(Serialize)]
struct JsonValue {
    value: String,
    contacts: u64,
    converted: bool,
    /// In neither `--positive` nor `--negative` (with `--negative`): its contacts left out.
    left_out: bool,
}

#[derive(Serialize)]
struct JsonTier {
    tier: &'static str,
    contacts: u64,
    converted: u64,
    rate: Option<f64>,
    lift: Option<f64>,
    share_of_converters: Option<f64>,
}

#[derive(Serialize)]
struct JsonRule {
    name: String,
    points: String,
    matches: u64,
    hit_rate: Option<f64>,
    rate_if_matched: Option<f64>,
    rate_if_not: Option<f64>,
    lift: Option<f64>,
}

#[derive(Serialize)]
struct JsonCut {
    threshold: i64,
    contacts: u64,
    converted: u64,
    precision: f64,
    recall: f64,
    f1: f64,
}

#[derive(Serialize)]
struct JsonThresholds {
    /// The warm queue as the rules' tiers give it.
    warm: JsonCut,
    target_precision: Option<JsonCut>,
    capacity: Option<JsonCut>,
    best_f1: Option<JsonCut>,
}

#[derive(Serialize)]
struct JsonThresholdSets {
    current: JsonThresholds,
    suggested: JsonThresholds,
}

#[derive(Serialize)]
struct JsonFit {
    lambda: f64,
    points_per_log_odds: f64,
    folds: usize,
    with_suggested_rules: bool,
    /// Whether the new rules use these points (they beat the current ones out of fold by
    /// more than the noise, and chance too).
    adopted: bool,
    not_adopted_because: Option<String>,
    rules: Vec<JsonPoints>,
}

#[derive(Serialize)]
struct JsonPoints {
    name: String,
    suggested_rule: bool,
    per_unit: bool,
    now: Option<f64>,
    suggested: f64,
    weight: f64,
    kept: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonOutOfFold {
    current: Option<f64>,
    suggested: Option<f64>,
    with_suggested_rules: Option<f64>,
    /// The gain of the points fitted (with the suggested rules, when they were fitted too)
    /// over the current ones, and its standard error.
    gain: Option<f64>,
    gain_standard_error: Option<f64>,
}

#[derive(Serialize)]
struct JsonSearch {
    min_support: u64,
    not_held_out_of_fold: usize,
    covered: usize,
    /// Held out of fold but not examined: the first `MAX_SUGGESTIONS` were found before them.
    not_examined: usize,
    rules: Vec<JsonSuggestion>,
}

#[derive(Serialize)]
struct JsonSuggestion {
    name: String,
    column: String,
    field: String,
    operator: &'static str,
    value: String,
    when: String,
    matches: u64,
    hit_rate: f64,
    rate_if_matched: Option<f64>,
    rate_if_not: Option<f64>,
    lift: f64,
    held_out_lift: f64,
    z: f64,
}

#[derive(Serialize)]
struct JsonNewRules {
    written: Option<String>,
    warm: f64,
    chosen_by: String,
    /// The capacity the threshold was chosen within, and where it comes from: `--capacity`
    /// or the rules' `sales_capacity`.
    capacity: Option<u64>,
    capacity_from: Option<&'static str>,
    hot_raised_to: Option<f64>,
    added_rules: usize,
    failing_tests: usize,
    auc: Option<f64>,
    /// Its warm and hot tiers.
    warm_queue: JsonCut,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_above_zero_and_at_most_one() {
        assert_eq!(parse_rate("0.8"), Ok(0.8));
        assert_eq!(parse_rate("1"), Ok(1.0));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("80").is_err());
        assert!(parse_rate("80%").is_err());
    }

    #[test]
    fn default_positive_values_are_the_documented_ones() {
        let args = <crate::cli::Cli as clap::Parser>::try_parse_from([
            "leadsort",
            "calibrate",
            "--outcome",
            "won",
            "x.csv",
        ])
        .unwrap();
        let crate::cli::Command::Calibrate(a) = args.command else {
            panic!("not calibrate");
        };
        assert_eq!(a.positive, crate::calibrate::DEFAULT_POSITIVE);
    }
}
