//! `leadsort check`: is this rules file right? Errors, lints, its own tests, and how it fits
//! a CSV, before anything goes live.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use jiff::civil::Date;

use crate::balance::{Candidate, Decision, Plan};
use crate::cli::{AsOfArg, CsvArgs, RulesArg};
use crate::engine::{Engine, Outcome, Problem, Unbound};
use crate::error::{Error, Result};
use crate::input::{Input, Next, Record, Source};
use crate::rules::{Diagnostic, Rules, RulesError, Severity, lint};
use crate::selftest::{TestRun, run_tests};
use crate::ui::plural;
use crate::ui::{Ui, Verbosity};

const EXAMPLES: &str = "\
Examples:
  # Validate ./rules.toml, lint it and run its [[test]]s
  leadsort check

  # The same, and show how it fits an export: columns, hit rate of each rule
  leadsort check --rules rules.toml contacts.csv

  # In CI: fail on warnings too
  leadsort check --deny-warnings

Every problem is reported at once, each with its line and column. Warnings are
legal but suspicious: a tier no contact can reach, a rule that can never match,
a group cap smaller than one rule's points, a route to a queue nothing else
mentions, a queue in [queues] or overflow_queue spelt like another, a route only
for tiers no contact can reach, two rules with the same condition. A [[test]] that fails shows what it expected, what it got, and the
contact's breakdown rule by rule.
--as-of applies to the CSV and to the tests that do not set their own as_of.
Exit codes: 0 clean (warnings allowed), 78 errors, failed tests, or warnings
with --deny-warnings, 65 the CSV does not fit the rules (or, with
--deny-warnings, has warnings: rows that cannot be read, a repeated column).";

/// Validate rules.toml, lint it, run its [[test]]s, and show how it fits a CSV.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// A contacts CSV to check the rules against; `-` reads stdin
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub rules: RulesArg,

    #[command(flatten)]
    pub as_of: AsOfArg,

    #[command(flatten)]
    pub csv: CsvArgs,

    /// Fail on warnings too, not only on errors and failed tests: exit 78 for the rules' own,
    /// 65 for those about the CSV (as classify's --deny-warnings)
    #[arg(long)]
    pub deny_warnings: bool,
}

pub fn run(args: &Args, ui: &Ui) -> Result<()> {
    let path = args.rules.path();
    let text = crate::cli::read_rules_text(&path, args.rules.defaulted())?;
    let as_of = args.as_of.date();
    let mut input = match &args.input {
        Some(p) => Some(Input::open(
            &Source::from_arg(Some(p)),
            &args.csv.options(),
        )?),
        None => None,
    };

    // Every problem in one run: errors in the file, lints and the CSV's fit are found on
    // whatever part of the rules is valid.
    let (rules, mut found) = crate::rules::from_str_lenient(&path, &text);
    let mut engine = None;
    let mut unbound = 0;
    if let Some(rules) = &rules {
        let complete = !found
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error);
        found.diagnostics.extend(lint(rules, complete));
        if let Some(input) = &input {
            match Engine::compile(rules, input.header(), as_of) {
                Ok(e) => engine = Some(e),
                Err(problems) => {
                    unbound = problems.len();
                    found
                        .diagnostics
                        .extend(problems.iter().map(|u| unbound_diagnostic(rules, input, u)));
                }
            }
        }
    }
    found
        .diagnostics
        .sort_by_key(|d| (d.span.start, d.span.end));
    let count = |s: Severity| found.diagnostics.iter().filter(|d| d.severity == s).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let shown = found.diagnostics.iter().filter(|d| match d.severity {
        Severity::Error => true,
        // With --deny-warnings a warning fails the run: it is said, -q or not.
        Severity::Warning => ui.verbosity != Verbosity::Quiet || args.deny_warnings,
        _ => ui.verbosity != Verbosity::Quiet,
    });
    for (i, d) in shown.enumerate() {
        let gap = if i > 0 { "\n" } else { "" };
        crate::ui::to_stderr(&format!(
            "{gap}leadsort: {}\n",
            d.render(&found.source, ui.color)
        ));
    }
    let (Some(rules), 0) = (rules, errors) else {
        let message = format!("{}: {}", path.display(), plural(errors, "error"));
        // Only the CSV's fault: the input does not fit the rules.
        return Err(if errors == unbound {
            Error::Data(message)
        } else {
            Error::Config(message)
        });
    };

    let runs = run_tests(&rules, as_of).map_err(|diagnostics| {
        Error::Rules(RulesError {
            source: rules.source.clone(),
            diagnostics,
        })
    })?;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{}: {}, {}, {}, {}; {}",
        rules.source.path.display(),
        plural(rules.rules.len(), "rule"),
        plural(rules.routes.len(), "route"),
        plural(rules.groups.len(), "group"),
        plural(rules.tests.len(), "test"),
        plural(warnings, "warning"),
    );
    report.push_str(&tests_report(&rules, &runs, false));
    // The CSV's own warnings: those that would fail `classify --deny-warnings` too.
    let mut csv_warnings = 0;
    if let (Some(input), Some(engine)) = (&mut input, &engine) {
        let (fit, warned) = fit_report(&rules, engine, input, as_of, ui, args.deny_warnings)?;
        report.push_str(&fit);
        csv_warnings = warned;
    }
    // -q: only what failed (the tests that did not pass), for CI logs.
    if ui.verbosity == Verbosity::Quiet {
        report = tests_report(&rules, &runs, true);
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(report.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write stdout", e))?;

    let failed = runs.iter().filter(|r| !r.passed()).count();
    if failed > 0 {
        return Err(Error::Config(format!(
            "{failed} of {} in {} failed",
            plural(runs.len(), "test"),
            rules.source.path.display()
        )));
    }
    if args.deny_warnings && warnings > 0 {
        return Err(Error::Config(format!(
            "{} in {} (--deny-warnings)",
            plural(warnings, "warning"),
            rules.source.path.display()
        )));
    }
    if let Some(input) = input
        .as_ref()
        .filter(|_| args.deny_warnings && csv_warnings > 0)
    {
        return Err(Error::Data(format!(
            "{} about {} (--deny-warnings)",
            plural(csv_warnings, "warning"),
            input.name()
        )));
    }
    Ok(())
}

/// A field the CSV cannot provide, shown at the place the rules use it.
fn unbound_diagnostic(rules: &Rules, input: &Input, u: &Unbound) -> Diagnostic {
    let name = input.name();
    let header = input.header();
    match &u.problem {
        Problem::Missing { closest, declared } => {
            let d = Diagnostic::error(
                u.span.clone(),
                format!("{name} has no column for field `{}`", u.field),
            )
            .label("unknown field");
            if let Some(f) = declared {
                return d.help(format!("did you mean `{f}`? ([fields] declares it)"));
            }
            if let Some(hint) = super::delimiter_hint(header) {
                return d.help(hint);
            }
            if let Some(why) = super::hidden_header(rules, header) {
                return d.help(super::not_a_header(name, why));
            }
            match closest {
                Some(c) => d.help(format!(
                    "did you mean `{}`? (a header of {name})",
                    crate::ui::printable(c)
                )),
                None => {
                    let names: Vec<&str> = header.names.iter().map(String::as_str).collect();
                    d.help(format!(
                        "the headers of {name} are {}",
                        super::quoted(&names)
                    ))
                }
            }
        }
        Problem::Ambiguous { columns } => {
            let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
            Diagnostic::error(
                u.span.clone(),
                format!("field `{}` matches several columns of {name}", u.field),
            )
            .label("ambiguous")
            .help(format!(
                "{} all match; name one exactly under [fields]",
                super::quoted(&cols)
            ))
        }
        Problem::Duplicate { column } => Diagnostic::error(
            u.span.clone(),
            format!(
                "field `{}` reads column `{column}`, which {name} has more than once",
                u.field
            ),
        )
        .label("repeated header"),
    }
}

/// The `[[test]]`s' results: a count, then each test; `failed_only`: only the failed ones,
/// and nothing when every test passed.
fn tests_report(rules: &Rules, runs: &[TestRun], failed_only: bool) -> String {
    let mut out = String::new();
    if runs.is_empty() || (failed_only && runs.iter().all(TestRun::passed)) {
        return out;
    }
    let passed = runs.iter().filter(|r| r.passed()).count();
    let _ = writeln!(
        out,
        "\ntests: {passed} passed, {} failed",
        runs.len() - passed
    );
    for run in runs {
        let test = &rules.tests[run.test];
        if run.passed() {
            if !failed_only {
                let _ = writeln!(out, "  ok      {}", test.name);
            }
            continue;
        }
        let (line, _) = rules.source.line_col(test.span.start);
        let _ = writeln!(out, "  FAILED  {} (line {line})", test.name);
        for m in &run.mismatches {
            let _ = writeln!(
                out,
                "          {}: expected {}, got {}",
                m.what, m.expected, m.actual
            );
        }
        for l in super::explain::render_text(rules, &run.explanation, &run.columns, None).lines() {
            let pad = if l.is_empty() { "" } else { "          " };
            let _ = writeln!(out, "{pad}{l}");
        }
    }
    out
}

/// How the rules fit one CSV: where each field was found, how often each rule and route
/// matched, which cells could not be read, and where contacts would go. Shows the CSV's
/// warnings (as `classify` would; with `denied`, --deny-warnings, even with -q, as they fail
/// the run) and counts them.
fn fit_report(
    rules: &Rules,
    engine: &Engine,
    input: &mut Input,
    as_of: Date,
    ui: &Ui,
    denied: bool,
) -> Result<(String, usize)> {
    let mut warnings = super::classify::output_header_warnings(rules, engine, input.header());
    // Rows classify rejects (a line break in an id or email) are rejected here too.
    let single_line = super::single_line_columns(rules, engine, input.header());
    input.single_line_columns(single_line);
    let header = input.header().names.clone();
    let mut rule_hits = vec![0u64; rules.rules.len()];
    let mut route_hits = vec![0u64; rules.routes.len()];
    let mut queues = vec![0u64; engine.queues.len()];
    let mut tiers = [0u64; 4];
    let (mut contacts, mut rejected) = (0u64, 0u64);
    let mut record = Record::default();
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    // Contacts bound for sales, when a capacity or reps decide how many it gets.
    let sales = engine.queue_id(rules.sales_queue());
    let mut bound: Vec<Candidate> = Vec::new();
    let mut strangers = 0u64;
    while let Some(next) = input.next(&mut record)? {
        let number = match next {
            Next::Rejected => {
                rejected += 1;
                continue;
            }
            Next::Contact { record, .. } => record,
        };
        engine.evaluate(&record, &mut scratch, &mut outcome);
        if rules.holds_sales() && outcome.queue == sales {
            let at = (number, outcome.score);
            let candidate = Candidate::of(rules, engine, &record, at, &mut scratch);
            if !rules.reps.is_empty()
                && candidate.owner.is_none()
                && !engine.owner(&record).is_empty()
                && !crate::balance::former_owner(rules, engine.owner(&record))
            {
                strangers += 1;
            }
            bound.push(candidate);
        }
        contacts += 1;
        for h in &outcome.hits {
            rule_hits[h.rule] += 1;
        }
        if let Some(r) = outcome.route {
            route_hits[r] += 1;
        }
        queues[outcome.queue] += 1;
        tiers[outcome.tier() as usize] += 1;
    }
    if contacts == 0 && rejected == 0 {
        warnings.push(format!("{} has a header but no contacts", input.name()));
    }
    if rejected > 0 {
        warnings.push(format!(
            "{} of {} could not be read and {} left out",
            plural(rejected, "row"),
            input.name(),
            if rejected == 1 { "was" } else { "were" }
        ));
    }
    if let Some(first) = input.first_not_utf8 {
        warnings.push(crate::input::not_utf8_warning(input.name(), first));
    }
    if let Some(first) = input.first_totals_row {
        let rows = input.totals_rows;
        warnings.push(crate::input::totals_warning(input.name(), rows, first));
    }
    warnings.extend(super::unreadable_warnings(
        rules,
        engine,
        &scratch.stats.unreadable,
        contacts,
    ));
    warnings.extend(super::owners_not_reps(strangers));
    // The queues classify would write: the balance sends some of those to the overflow queue.
    let (decisions, _) = crate::balance::decide(&Plan::new(rules), &bound);
    let waiting = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Waits(_)))
        .count() as u64;
    queues[sales] -= waiting;
    queues[engine.queue_id(rules.overflow_queue())] += waiting;
    // What each rep would take, as classify gives it: a territory that matches no one shows.
    let mut rep_loads = vec![0u64; rules.reps.len()];
    for d in &decisions {
        if let Decision::Sales { rep: Some(r) } = d {
            rep_loads[*r] += 1;
        }
    }
    if let Some(min) = rules.balance.as_ref().and_then(|b| b.min_sales)
        && queues[sales] < min
    {
        warnings.push(super::fewer_than_min_sales(
            rules.sales_queue(),
            queues[sales],
            min,
        ));
    }
    for w in &warnings {
        if denied {
            ui.warn_even_quiet(w);
        } else {
            super::say(ui, w);
        }
    }
    let share = |n: u64| {
        if contacts == 0 {
            0.0
        } else {
            n as f64 * 100.0 / contacts as f64
        }
    };
    let mut out = String::new();
    // Its warnings are counted here, as the rules file's are on the first line.
    let _ = writeln!(
        out,
        "\n{}: {}, {rejected} rejected, as of {as_of}; {}",
        input.name(),
        plural(contacts, "contact"),
        plural(warnings.len() as u64, "warning")
    );
    let _ = writeln!(out, "\nfields");
    let width = engine
        .bindings
        .iter()
        .map(|b| b.field.chars().count())
        .max()
        .unwrap_or(0);
    for b in &engine.bindings {
        let column = match b.column {
            Some(c) => format!("{:?} (column {})", header[c], c + 1),
            None => "not in the input: optional, read as empty".to_string(),
        };
        let _ = writeln!(out, "  {:<width$}  {column}", b.field);
    }
    let name_width = rules
        .rules
        .iter()
        .map(|r| r.name.chars().count())
        .chain(rules.routes.iter().map(|r| r.name.chars().count()))
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "\nrules{:>w$}", "matches", w = name_width + 9);
    for (rule, n) in rules.rules.iter().zip(&rule_hits) {
        // Neither tells contacts apart: a rule that no one or everyone matches.
        let mark = if *n == 0 && contacts > 0 {
            "  (never)"
        } else if *n == contacts && contacts > 1 {
            "  (every contact)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:<name_width$}  {n:>10}  {:>5.1}%{mark}",
            rule.name,
            share(*n)
        );
    }
    if !rules.routes.is_empty() {
        let _ = writeln!(out, "\nroutes");
        for (route, n) in rules.routes.iter().zip(&route_hits) {
            let _ = writeln!(
                out,
                "  {:<name_width$}  {n:>10}  {:>5.1}%  -> {}",
                route.name,
                share(*n),
                route.queue
            );
        }
        // As report says it: a route to sales counts the contacts sent, not those taken.
        let sales_queue = rules.sales_queue();
        if waiting > 0 && rules.routes.iter().any(|r| r.queue == sales_queue) {
            let _ = writeln!(
                out,
                "  routes to {sales_queue} count contacts before the balance: of the {} bound \
                 for {sales_queue},\n  {sales_queue} takes {} and {waiting} wait in {}",
                bound.len(),
                queues[sales],
                rules.overflow_queue()
            );
        }
    }
    let unreadable: Vec<String> = engine
        .typed_fields
        .iter()
        .zip(&scratch.stats.unreadable)
        .filter(|(_, n)| **n > 0)
        .map(|(f, n)| format!("{f} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "\nunreadable cells: {}",
        if unreadable.is_empty() {
            "none".to_string()
        } else {
            unreadable.join(", ")
        }
    );
    let queue_list: Vec<String> = engine
        .queues
        .iter()
        .zip(&queues)
        .map(|(q, n)| format!("{q} {n} ({:.1}%)", share(*n)))
        .collect();
    let _ = writeln!(out, "queues: {}", queue_list.join(", "));
    let tier_list: Vec<String> = engine
        .tiers()
        .iter()
        .map(|t| format!("{} {}", t.as_str(), tiers[*t as usize]))
        .collect();
    let _ = writeln!(out, "tiers: {}", tier_list.join(", "));
    if !rules.reps.is_empty() {
        let reps: Vec<String> = (rules.reps.iter().zip(&rep_loads))
            .map(|(r, n)| format!("{} {n}/{}", r.name, r.capacity))
            .collect();
        let _ = writeln!(out, "reps: {}", reps.join(", "));
    }
    Ok((out, warnings.len()))
}
