//! `leadsort diff`: what a rule change would do, before it goes live.
//!
//! Both rule sets score the same contacts (the input is read once). The report shows how
//! contacts move between tiers and queues, how the sales load changes, and, for every
//! contact that moves, the changes in the rules that moved it.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use crate::summary::{Ordered, share};
use jiff::civil::Date;
use serde::Serialize;

use crate::balance::{Candidate, Decision, Plan, Why};
use crate::cli::{AsOfArg, CsvArgs, load_rules};
use crate::engine::{Engine, Outcome, fmt_number};
use crate::error::{Error, Result};
use crate::input::{Input, Next, Record, Source};
use crate::output::{Target, escape_formula};
use crate::rules::{Group, Rules, Tier, TierRule};
use crate::ui::Ui;
use crate::ui::plural;

const EXAMPLES: &str = "\
Examples:
  # What would the new rules do to tonight's export?
  leadsort diff --old rules.toml --new rules-next.toml contacts.csv

  # Every contact that moves, with all its columns, for a spreadsheet
  leadsort diff --old rules.toml --new rules-next.toml --format csv -o moved.csv contacts.csv

  # For a script: matrices, load and moves as JSON, reproducibly, from stdin
  leadsort diff --old a.toml --new b.toml --format json --as-of 2026-11-27 - < contacts.csv

A contact moves when its tier or its queue changes. changed_by names what moved it:
a rule that is new, was removed, now matches, no longer matches or gives other points
(\"Asked for a demo: +30 → +20\"), a group cap (\"groups.fit.max 50 → 40\"), a tier
requirement (\"tiers.warm 50 → 40\"), a route (\"route: Sales got no answer\"), or a
tier's queue (\"queues.warm sales → sdr\"). Moved contacts are named by --id-column,
else by [input] id in the new rules, else by their record number.

The sales load counts the contacts in the queues the warm and hot tiers go to.
With a sales_capacity or [[rep]]s, each side is balanced as classify balances it
(\"balance (new rules): over sales capacity\").";

/// How many moved contacts the text report lists; csv and json list them all.
const TEXT_LIST_LIMIT: usize = 50;

/// Show what a rule change would move between tiers and queues.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The rules in use now
    #[arg(long, value_name = "PATH")]
    pub old: PathBuf,

    /// The changed rules to compare with them
    #[arg(long, value_name = "PATH")]
    pub new: PathBuf,

    /// Contacts: CSV (gzipped too), or an XLSX, XLS or ODS workbook; `-` or nothing reads
    /// stdin
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub as_of: AsOfArg,

    #[command(flatten)]
    pub csv: CsvArgs,

    /// Name moved contacts by this column [default: `[input] id` in the new rules, else the
    /// record number]
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,

    /// What to write: a report to read, moved contacts as CSV, or everything as JSON
    /// [default: csv or json for an -o file ending in .csv or .json, else text]
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub format: Option<Format>,

    /// Write to FILE instead of stdout (atomically; `-` is stdout)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl Args {
    /// `--format`, else what the `-o` file's extension names, else text.
    fn format(&self) -> Format {
        let extension = self
            .output
            .as_deref()
            .and_then(std::path::Path::extension)
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match (self.format, extension.as_deref()) {
            (Some(f), _) => f,
            (None, Some("csv")) => Format::Csv,
            (None, Some("json")) => Format::Json,
            (None, _) => Format::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Matrices, sales load and the moved contacts (the first 50)
    Text,
    /// One row per moved contact: its input columns, then old and new score, tier, queue,
    /// and changed_by
    Csv,
    /// One object: contacts, tiers, queues, load (by queue and by rep), and every moved
    /// contact
    Json,
}

pub fn run(args: &Args, ui: &Ui) -> Result<()> {
    let source = Source::from_arg(args.input.as_deref());
    if source == Source::Stdin && std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no input: give a CSV file (leadsort diff --old A.toml --new B.toml contacts.csv) \
             or pipe one into stdin"
                .into(),
        ));
    }
    super::refuse_overwriting(
        &[source.path(), Some(&args.old), Some(&args.new)],
        args.output.as_slice(),
    )?;
    let format = args.format();

    crate::guard::catch_signals();
    let old_rules = load_rules(&args.old, false)?;
    let new_rules = load_rules(&args.new, false)?;
    let as_of = args.as_of.date();
    let mut input = Input::open(&source, &args.csv.options())?;
    let old_engine = compile(&old_rules, &input, as_of, "old", &args.old)?;
    let new_engine = compile(&new_rules, &input, as_of, "new", &args.new)?;
    // Rows classify rejects under either rules file (a line break in an id or email) are left
    // out of the comparison.
    let mut single_line = super::single_line_columns(&old_rules, &old_engine, input.header());
    single_line.extend(super::single_line_columns(
        &new_rules,
        &new_engine,
        input.header(),
    ));
    single_line.sort_unstable();
    single_line.dedup();
    input.single_line_columns(single_line);
    let id = super::id_column(
        &new_rules,
        input.header(),
        input.name(),
        args.id_column.as_deref(),
    )?;
    let change = Change::new(
        Side::new(&old_rules, &old_engine),
        Side::new(&new_rules, &new_engine),
    );

    // A signal from here on stops the run at the next contact, with the temp file removed.
    crate::guard::stop_cleanly();
    let target = match &args.output {
        Some(path) => Target::file(path)?,
        None => Target::stdout(),
    };
    // Rows of a CSV on stdout (or a FIFO) are out, whatever stops the run after them.
    let in_place = target.in_place();
    let rows_out = |signal| match (&in_place, format) {
        (Some(to), Format::Csv) => Error::interrupted_after_rows(signal, to),
        _ => Error::Interrupted(signal),
    };
    let mut moved = match format {
        Format::Csv => Moved::csv(target, input.header())?,
        Format::Text | Format::Json => Moved::Kept {
            target,
            moves: Vec::new(),
        },
    };

    let mut tally = Tally::new(&change);
    let mut record = Record::default();
    let (mut old_scratch, mut new_scratch) = (old_engine.scratch(), new_engine.scratch());
    let (mut old, mut new) = (Outcome::default(), Outcome::default());
    // Contacts bound for sales on a side with a capacity or reps wait for the balance, as in
    // classify: where they go is known once every contact is read.
    let mut held = Held::default();
    while let Some(next) = input.next(&mut record)? {
        if let Some(signal) = crate::guard::interrupted() {
            return Err(rows_out(signal));
        }
        match next {
            Next::Contact { record: number, .. } => {
                old_engine.evaluate(&record, &mut old_scratch, &mut old);
                new_engine.evaluate(&record, &mut new_scratch, &mut new);
                let old_bound = change.old.bound(&record, number, &old, &mut old_scratch);
                let new_bound = change.new.bound(&record, number, &new, &mut new_scratch);
                // The contact's id, read only for a contact that moves or is held.
                let id_of = |record: &Record| {
                    id.map(|col| record.get(col).unwrap_or("").trim())
                        .filter(|cell| !cell.is_empty())
                        .map(str::to_string)
                };
                if old_bound.is_some() || new_bound.is_some() {
                    let contact = (number, id_of(&record));
                    held.push(&record, contact, (&old, old_bound), (&new, new_bound));
                } else if tally.count(&change, &old, &new) {
                    let contact = Move {
                        record: number,
                        id: id_of(&record),
                        old: change.old.placement(&old),
                        new: change.new.placement(&new),
                        changed_by: change.changed_by(&old, &new),
                    };
                    moved.add(&record, contact)?;
                }
            }
            Next::Rejected => {
                if input.rejected.take().is_some() {
                    tally.rejected += 1;
                }
            }
        }
    }
    // The held contacts after the balance, in input order (after the others in a CSV).
    let (settled, rep_loads) = held.settle(&change);
    for h in settled {
        if tally.count(&change, &h.old, &h.new) {
            let mut changed_by = change.changed_by(&h.old, &h.new);
            changed_by.extend(change.balance_change(&h));
            let contact = Move {
                record: h.record,
                id: h.id,
                old: change.old.placement(&h.old),
                new: change.new.placement(&h.new),
                changed_by,
            };
            moved.add(&h.cells, contact)?;
        }
    }

    // A signal that came after the last contact: stopped before the warnings, as in the loop.
    if let Some(signal) = crate::guard::interrupted() {
        return Err(rows_out(signal));
    }
    warn(ui, &input, &tally, &change);
    super::nothing_readable(&input, input.records() - tally.rejected)?;
    match moved {
        Moved::Csv { w, name } => {
            let ready = w
                .into_inner()
                .map_err(|e| Error::io(format!("cannot write {name}"), e.into_error()))?
                .prepare()?;
            crate::output::commit_all(vec![ready]).map_err(|e| match e {
                Error::Interrupted(signal) => rows_out(signal),
                other => other,
            })?;
        }
        Moved::Kept {
            mut target,
            mut moves,
        } => {
            // In input order, the contacts held for the balance among the others.
            moves.sort_by_key(|m| m.record);
            let report = Report {
                input: input.name(),
                old_rules: &args.old,
                new_rules: &args.new,
                as_of,
                id_column: id.map(|col| input.header().names[col].as_str()),
                tally: &tally,
                load: SalesLoad::new(&change, &tally),
                reps: (rep_loads.iter())
                    .map(|(name, [old, new])| (name.clone(), Load::new(*old, *new, tally.contacts)))
                    .collect(),
                moves: &moves,
            };
            let text = if format == Format::Json {
                report.to_json()
            } else {
                report.to_text()
            };
            let name = target.name();
            target
                .write_all(text.as_bytes())
                .map_err(|e| Error::io(format!("cannot write {name}"), e))?;
            // A signal that came while the report went to stdout (or a FIFO): it is out.
            crate::output::commit_all(vec![target.prepare()?]).map_err(|e| {
                match (e, &in_place) {
                    (Error::Interrupted(signal), Some(to)) => Error::InterruptedWritten {
                        signal,
                        written: format!("the report went to {to}: discard it"),
                    },
                    (other, _) => other,
                }
            })?;
        }
    }
    Ok(())
}

/// Compile one side's rules; a missing column says which rules file needs it.
fn compile(rules: &Rules, input: &Input, as_of: Date, side: &str, path: &Path) -> Result<Engine> {
    super::compile(rules, input, as_of).map_err(|e| match e {
        Error::Data(msg) => Error::Data(format!(
            "the {side} rules (--{side} {}) cannot be applied to {}:\n{msg}",
            path.display(),
            input.name()
        )),
        other => other,
    })
}

/// One line per thing the user should know; the diff itself is not affected.
fn warn(ui: &Ui, input: &Input, tally: &Tally, change: &Change<'_>) {
    let header = input.header();
    let mut several = super::several_columns_warnings(change.old.rules, header);
    for w in super::several_columns_warnings(change.new.rules, header) {
        if !several.contains(&w) {
            several.push(w);
        }
    }
    for w in super::header_warnings(&[change.old.engine, change.new.engine], header)
        .iter()
        .chain(&several)
    {
        super::say(ui, w);
    }
    if input.records() == 0 {
        ui.warn(&format!("{} has a header but no contacts", input.name()));
    }
    if tally.rejected > 0 {
        ui.warn_even_quiet(&format!(
            "{} of {} rows in {} could not be read and were left out of the diff \
             (leadsort classify --rejected FILE shows them)",
            tally.rejected,
            input.records(),
            input.name()
        ));
    }
}

// ---- the two rule sets side by side ----------------------------------------------------------

/// One rule set and the engine compiled from it.
#[derive(Debug, Clone, Copy)]
struct Side<'a> {
    rules: &'a Rules,
    engine: &'a Engine,
}

/// A contact's score and group subtotals under one rule set, read by group name so that the
/// other rule set's tiers can be tried on it.
#[derive(Debug, Clone, Copy)]
struct Standing<'a> {
    score: i64,
    subtotals: &'a [i64],
    groups: &'a [Group],
}

impl Standing<'_> {
    /// A group this rule set does not have adds nothing.
    fn subtotal(&self, group: &str) -> i64 {
        self.groups
            .iter()
            .position(|g| g.name == group)
            .map_or(0, |i| self.subtotals[i])
    }
}

impl<'a> Side<'a> {
    fn new(rules: &'a Rules, engine: &'a Engine) -> Side<'a> {
        Side { rules, engine }
    }

    fn standing<'o>(&self, outcome: &'o Outcome) -> Standing<'o>
    where
        'a: 'o,
    {
        Standing {
            score: outcome.score,
            subtotals: &outcome.groups,
            groups: &self.rules.groups,
        }
    }

    /// Whether a contact with this standing meets a tier's requirements.
    fn meets(&self, tier: Option<&TierRule>, s: Standing<'_>) -> bool {
        let groups = &self.rules.groups;
        tier.is_some_and(|t| t.met_by(s.score, |g| s.subtotal(&groups[g].name)))
    }

    /// The tier these rules give a contact that is not disqualified.
    fn tier_by_score(&self, s: Standing<'_>) -> Tier {
        let groups = &self.rules.groups;
        self.rules
            .tiers
            .tier_for(s.score, |g| s.subtotal(&groups[g].name))
    }

    /// A group's subtotal before its cap and floor.
    fn raw_subtotal(&self, outcome: &Outcome, group: usize) -> f64 {
        outcome
            .hits
            .iter()
            .filter(|h| self.rules.rules[h.rule].group == Some(group))
            .map(|h| h.points)
            .sum()
    }

    fn group_name(&self, rule: usize) -> Option<&'a str> {
        let rules = self.rules;
        rules.rules[rule]
            .group
            .map(|g| rules.groups[g].name.as_str())
    }

    /// The contact as the balance sees it, if this side holds it for the balance: its
    /// rules have a capacity or reps, and send it to sales. Call right after scoring it.
    fn bound(
        &self,
        record: &Record,
        number: u64,
        outcome: &Outcome,
        scratch: &mut crate::engine::Scratch,
    ) -> Option<Candidate> {
        (self.rules.holds_sales() && self.engine.queue_name(outcome) == self.rules.sales_queue())
            .then(|| {
                Candidate::of(
                    self.rules,
                    self.engine,
                    record,
                    (number, outcome.score),
                    scratch,
                )
            })
    }

    fn placement(&self, outcome: &Outcome) -> Placement {
        Placement {
            score: outcome.score,
            tier: outcome.tier().as_str(),
            queue: self.engine.queue_name(outcome).to_string(),
        }
    }
}

/// A rule as the old and the new file have it, matched by name.
#[derive(Debug)]
struct RulePair {
    name: String,
    old: Option<usize>,
    new: Option<usize>,
}

/// The two rule sets matched by name once, so that each moved contact is explained without
/// searching, and the axes of the matrices.
#[derive(Debug)]
struct Change<'a> {
    old: Side<'a>,
    new: Side<'a>,
    /// Every rule of either file: the old file's in order, then the new ones.
    rules: Vec<RulePair>,
    /// Groups in both files whose cap or floor changed: old id, new id.
    limits: Vec<(usize, usize)>,
    /// The tiers either rule set gives, from the highest down.
    tiers: Vec<Tier>,
    /// The queues of either rule set: the old file's, then the new ones.
    queues: Vec<String>,
    /// Engine queue ids mapped to `queues`.
    old_queue: Vec<usize>,
    new_queue: Vec<usize>,
}

impl<'a> Change<'a> {
    fn new(old: Side<'a>, new: Side<'a>) -> Change<'a> {
        let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
        let mut rules: Vec<RulePair> = old
            .rules
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| RulePair {
                name: r.name.clone(),
                old: Some(i),
                new: new.rules.rules.iter().position(|n| same(&n.name, &r.name)),
            })
            .collect();
        for (i, r) in new.rules.rules.iter().enumerate() {
            if !rules.iter().any(|p| p.new == Some(i)) {
                rules.push(RulePair {
                    name: r.name.clone(),
                    old: None,
                    new: Some(i),
                });
            }
        }
        let limits = old
            .rules
            .groups
            .iter()
            .enumerate()
            .filter_map(|(o, g)| {
                let n = new.rules.groups.iter().position(|n| n.name == g.name)?;
                let h = &new.rules.groups[n];
                (g.max != h.max || g.min != h.min).then_some((o, n))
            })
            .collect();
        let has_hot = old.rules.tiers.hot.is_some() || new.rules.tiers.hot.is_some();
        let tiers = Tier::ALL
            .into_iter()
            .filter(|t| *t != Tier::Hot || has_hot)
            .collect();
        let mut queues = old.engine.queues.clone();
        for q in &new.engine.queues {
            if !queues.contains(q) {
                queues.push(q.clone());
            }
        }
        let axis = |names: &[String]| -> Vec<usize> {
            names
                .iter()
                .map(|q| queues.iter().position(|u| u == q).unwrap_or(0))
                .collect()
        };
        let (old_queue, new_queue) = (axis(&old.engine.queues), axis(&new.engine.queues));
        Change {
            old,
            new,
            rules,
            limits,
            tiers,
            queues,
            old_queue,
            new_queue,
        }
    }

    fn tier_index(&self, tier: Tier) -> usize {
        self.tiers.iter().position(|t| *t == tier).unwrap_or(0)
    }

    /// What moved this contact, most basic first: rules, group caps, tier requirements,
    /// then routes and tier queues. Only changes that made a difference to this contact's
    /// tier or queue are named.
    fn changed_by(&self, old: &Outcome, new: &Outcome) -> Vec<String> {
        let mut why = Vec::new();
        if old.tier() != new.tier() {
            let disqualification = old.disqualified != new.disqualified;
            // Where a side is not disqualified, its score and its tiers decide its tier.
            let (o, n) = (self.old.standing(old), self.new.standing(new));
            let live: Vec<(Side<'_>, Standing<'_>)> = [(self.old, old, o), (self.new, new, n)]
                .into_iter()
                .filter(|(_, outcome, _)| !outcome.disqualified)
                .map(|(side, _, standing)| (side, standing))
                .collect();
            // The score moved it if, under either live side's tiers, the other score would
            // give another tier.
            let by_score = live
                .iter()
                .any(|(side, _)| side.tier_by_score(o) != side.tier_by_score(n));
            self.rule_changes(old, new, by_score, disqualification, &mut why);
            if by_score {
                self.limit_changes(old, new, &mut why);
            }
            let standings: Vec<Standing<'_>> = live.iter().map(|(_, s)| *s).collect();
            self.tier_changes(&standings, &mut why);
        }
        if self.old_queue[old.queue] != self.new_queue[new.queue] {
            why.extend(self.route_change(old, new));
            self.queue_changes(old, new, &mut why);
        }
        why
    }

    /// Rules that gave this contact other points (`score`) or that disqualify it in one file
    /// only (`disqualification`).
    fn rule_changes(
        &self,
        old: &Outcome,
        new: &Outcome,
        score: bool,
        disqualification: bool,
        why: &mut Vec<String>,
    ) {
        for pair in &self.rules {
            let o = pair.old.and_then(|i| points_from(old, i));
            let n = pair.new.and_then(|i| points_from(new, i));
            let o_dq = o.is_some() && pair.old.is_some_and(|i| self.old.rules.rules[i].disqualify);
            let n_dq = n.is_some() && pair.new.is_some_and(|i| self.new.rules.rules[i].disqualify);
            let o_group = pair.old.and_then(|i| self.old.group_name(i));
            let n_group = pair.new.and_then(|i| self.new.group_name(i));
            let regrouped = o.is_some_and(|p| p != 0.0) && n.is_some() && o_group != n_group;
            // A change that pushed the score the other way (or not at all) did not move it:
            // a new +5 is no reason for a fall to cold.
            let delta = n.unwrap_or(0.0) - o.unwrap_or(0.0);
            let moved = (new.score - old.score).signum() as f64;
            let pushed = delta != 0.0 && (moved == 0.0 || delta.signum() == moved);
            let points_differ = pushed || regrouped;
            if !(score && points_differ || disqualification && o_dq != n_dq) {
                continue;
            }
            let name = &pair.name;
            let line = match (pair.old, pair.new, o, n) {
                (None, Some(_), _, Some(p)) => format!("{name}: new rule ({})", effect(p, n_dq)),
                (Some(_), None, Some(p), _) => {
                    format!("{name}: rule removed (was {})", effect(p, o_dq))
                }
                (_, _, None, Some(p)) => format!("{name}: now matches ({})", effect(p, n_dq)),
                (_, _, Some(p), None) => {
                    format!("{name}: no longer matches (was {})", effect(p, o_dq))
                }
                (_, _, Some(p), Some(q)) => {
                    let mut parts = Vec::new();
                    if p != q || o_dq != n_dq {
                        parts.push(format!("{} → {}", effect(p, o_dq), effect(q, n_dq)));
                    }
                    if o_group != n_group {
                        parts.push(format!(
                            "group {} → {}",
                            o_group.unwrap_or("none"),
                            n_group.unwrap_or("none")
                        ));
                    }
                    format!("{name}: {}", parts.join(", "))
                }
                _ => continue,
            };
            why.push(line);
        }
    }

    /// Group caps and floors that changed, where the change alters this contact's subtotal.
    fn limit_changes(&self, old: &Outcome, new: &Outcome, why: &mut Vec<String>) {
        for &(o, n) in &self.limits {
            let (og, ng) = (&self.old.rules.groups[o], &self.new.rules.groups[n]);
            let raws = [self.old.raw_subtotal(old, o), self.new.raw_subtotal(new, n)];
            if raws.iter().all(|&raw| og.clamp(raw) == ng.clamp(raw)) {
                continue;
            }
            for (key, a, b) in [("max", og.max, ng.max), ("min", og.min, ng.min)] {
                if a != b {
                    why.push(format!(
                        "groups.{}.{key} {} → {}",
                        og.name,
                        number_or_none(a),
                        number_or_none(b)
                    ));
                }
            }
        }
    }

    /// Tier requirements that changed, where the change alters the tier of a contact with
    /// one of these standings.
    fn tier_changes(&self, live: &[Standing<'_>], why: &mut Vec<String>) {
        let (old, new) = (&self.old.rules.tiers, &self.new.rules.tiers);
        let tiers = [
            ("hot", old.hot.as_ref(), new.hot.as_ref()),
            ("warm", Some(&old.warm), Some(&new.warm)),
        ];
        for (name, a, b) in tiers {
            let matters = live
                .iter()
                .any(|s| self.old.meets(a, *s) != self.new.meets(b, *s));
            if !matters {
                continue;
            }
            match (a, b) {
                (None, Some(b)) => why.push(format!(
                    "tiers.{name} added ({})",
                    requirement(self.new.rules, b)
                )),
                (Some(a), None) => why.push(format!(
                    "tiers.{name} removed (was {})",
                    requirement(self.old.rules, a)
                )),
                (Some(a), Some(b)) => {
                    if a.score != b.score {
                        why.push(format!(
                            "tiers.{name} {} → {}",
                            fmt_number(a.score),
                            fmt_number(b.score)
                        ));
                    }
                    let needs = |side: Side<'_>, t: &TierRule, group: &str| {
                        t.groups
                            .iter()
                            .find(|(g, _)| side.rules.groups[*g].name == group)
                            .map(|(_, min)| *min)
                    };
                    let mut groups: Vec<&str> = Vec::new();
                    for (side, t) in [(self.old, a), (self.new, b)] {
                        for (g, _) in &t.groups {
                            let g = side.rules.groups[*g].name.as_str();
                            if !groups.contains(&g) {
                                groups.push(g);
                            }
                        }
                    }
                    for g in groups {
                        let (x, y) = (needs(self.old, a, g), needs(self.new, b, g));
                        if x != y {
                            why.push(format!(
                                "tiers.{name}.{g} {} → {}",
                                number_or_none(x),
                                number_or_none(y)
                            ));
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }

    /// The route that decided the queue, where it differs (routes skip disqualified contacts).
    fn route_change(&self, old: &Outcome, new: &Outcome) -> Option<String> {
        if old.disqualified || new.disqualified {
            return None;
        }
        let o = old.route.map(|i| &self.old.rules.routes[i]);
        let n = new.route.map(|i| &self.new.rules.routes[i]);
        match (o, n) {
            (Some(o), Some(n)) if o.name == n.name && o.queue == n.queue => None,
            (Some(o), Some(n)) if o.name == n.name => Some(format!(
                "route: {} now to {} (was {})",
                n.name, n.queue, o.queue
            )),
            (Some(o), Some(n)) => Some(format!("route: {} (was route: {})", n.name, o.name)),
            (None, Some(n)) => Some(format!("route: {}", n.name)),
            (Some(o), None) => Some(format!("route: {} no longer applies", o.name)),
            (None, None) => None,
        }
    }

    /// `[queues]` entries that changed, for a side whose queue its tier decided.
    fn queue_changes(&self, old: &Outcome, new: &Outcome, why: &mut Vec<String>) {
        let mut seen = Vec::new();
        for outcome in [old, new] {
            let tier = outcome.tier();
            if outcome.route.is_some() || seen.contains(&tier) {
                continue;
            }
            seen.push(tier);
            let (a, b) = (
                self.old.rules.queues.for_tier(tier),
                self.new.rules.queues.for_tier(tier),
            );
            if a != b {
                why.push(format!("queues.{} {a} → {b}", tier.as_str()));
            }
        }
    }

    /// Why the balance moved a held contact: the side on which it waits over capacity, or
    /// for want of a rep, and the capacities when they differ.
    fn balance_change(&self, h: &HeldContact) -> Vec<String> {
        if self.old_queue[h.old.queue] == self.new_queue[h.new.queue] {
            return Vec::new();
        }
        let mut why = Vec::new();
        match (h.old_waits, h.new_waits) {
            (None, Some(w)) => why.push(format!("balance (new rules): {}", w.text())),
            (Some(w), None) => why.push(format!("balance (old rules): {}", w.text())),
            _ => return why,
        }
        let capacity = |rules: &Rules| {
            (rules.balance.as_ref())
                .and_then(|b| b.sales_capacity)
                .map_or("none".to_string(), |c| c.to_string())
        };
        let (a, b) = (capacity(self.old.rules), capacity(self.new.rules));
        if a != b {
            why.push(format!("balance.sales_capacity {a} → {b}"));
        }
        why
    }
}

/// Contacts held for the balance on either side, in input order.
#[derive(Debug, Default)]
struct Held {
    contacts: Vec<HeldContact>,
    /// Per side, the held contacts it holds (by index into `contacts`) as the balance sees
    /// them.
    old: Vec<(usize, Candidate)>,
    new: Vec<(usize, Candidate)>,
}

#[derive(Debug)]
struct HeldContact {
    record: u64,
    id: Option<String>,
    cells: Record,
    old: Outcome,
    new: Outcome,
    /// Why the balance kept it from sales on each side, if it did.
    old_waits: Option<Why>,
    new_waits: Option<Why>,
}

impl Held {
    fn push(
        &mut self,
        cells: &Record,
        (record, id): (u64, Option<String>),
        (old, old_bound): (&Outcome, Option<Candidate>),
        (new, new_bound): (&Outcome, Option<Candidate>),
    ) {
        let i = self.contacts.len();
        self.old.extend(old_bound.map(|c| (i, c)));
        self.new.extend(new_bound.map(|c| (i, c)));
        self.contacts.push(HeldContact {
            record,
            id,
            cells: cells.clone(),
            old: old.clone(),
            new: new.clone(),
            old_waits: None,
            new_waits: None,
        });
    }

    /// Each side's balance decided; a contact that waits goes to that side's overflow queue.
    /// Also the contacts each rep takes under the old and the new rules, by name (the old
    /// file's reps first).
    fn settle(mut self, change: &Change<'_>) -> (Vec<HeldContact>, Vec<(String, [u64; 2])>) {
        let mut reps: Vec<(String, [u64; 2])> = Vec::new();
        for rep in (change.old.rules.reps.iter()).chain(&change.new.rules.reps) {
            if !reps.iter().any(|(name, _)| *name == rep.name) {
                reps.push((rep.name.clone(), [0, 0]));
            }
        }
        for (side, bound, old) in [
            (change.old, &self.old, true),
            (change.new, &self.new, false),
        ] {
            let candidates: Vec<Candidate> = bound.iter().map(|(_, c)| c.clone()).collect();
            let (decisions, _) = crate::balance::decide(&Plan::new(side.rules), &candidates);
            let overflow = side.engine.queue_id(side.rules.overflow_queue());
            for ((i, _), decision) in bound.iter().zip(decisions) {
                if let Decision::Sales { rep: Some(r) } = decision {
                    let name = &side.rules.reps[r].name;
                    if let Some((_, n)) = reps.iter_mut().find(|(rep, _)| rep == name) {
                        n[usize::from(!old)] += 1;
                    }
                }
                if let Decision::Waits(why) = decision {
                    let h = &mut self.contacts[*i];
                    let (outcome, waits) = if old {
                        (&mut h.old, &mut h.old_waits)
                    } else {
                        (&mut h.new, &mut h.new_waits)
                    };
                    outcome.queue = overflow;
                    *waits = Some(why);
                }
            }
        }
        (self.contacts, reps)
    }
}

/// The points a rule (by index) gave the contact, if it matched.
fn points_from(outcome: &Outcome, rule: usize) -> Option<f64> {
    outcome
        .hits
        .iter()
        .find(|h| h.rule == rule)
        .map(|h| h.points)
}

/// `+20`, `disqualifies`, or `+20, disqualifies`.
fn effect(points: f64, disqualifies: bool) -> String {
    match (disqualifies, points == 0.0) {
        (true, true) => "disqualifies".to_string(),
        (true, false) => format!("{}, disqualifies", signed(points)),
        (false, _) => signed(points),
    }
}

fn signed(points: f64) -> String {
    if points >= 0.0 {
        format!("+{}", fmt_number(points))
    } else {
        fmt_number(points)
    }
}

fn number_or_none(x: Option<f64>) -> String {
    x.map_or_else(|| "none".to_string(), fmt_number)
}

/// `score 80, fit 30`.
fn requirement(rules: &Rules, tier: &TierRule) -> String {
    let mut out = format!("score {}", fmt_number(tier.score));
    for (g, min) in &tier.groups {
        let _ = write!(out, ", {} {}", rules.groups[*g].name, fmt_number(*min));
    }
    out
}

// ---- counting --------------------------------------------------------------------------------

/// Contacts counted by where they were (rows) and where they go (columns).
#[derive(Debug, Clone)]
struct Matrix {
    names: Vec<String>,
    counts: Vec<Vec<u64>>,
}

impl Matrix {
    fn new(names: Vec<String>) -> Matrix {
        let n = names.len();
        Matrix {
            names,
            counts: vec![vec![0; n]; n],
        }
    }

    fn row_total(&self, from: usize) -> u64 {
        self.counts[from].iter().sum()
    }

    fn column_total(&self, to: usize) -> u64 {
        self.counts.iter().map(|row| row[to]).sum()
    }
}

/// Counts kept while contacts stream past.
#[derive(Debug)]
struct Tally {
    tiers: Matrix,
    queues: Matrix,
    contacts: u64,
    moved: u64,
    rejected: u64,
}

impl Tally {
    fn new(change: &Change<'_>) -> Tally {
        Tally {
            tiers: Matrix::new(
                change
                    .tiers
                    .iter()
                    .map(|t| t.as_str().to_string())
                    .collect(),
            ),
            queues: Matrix::new(change.queues.clone()),
            contacts: 0,
            moved: 0,
            rejected: 0,
        }
    }

    /// Count one contact; true when it moved (its tier or its queue changed).
    fn count(&mut self, change: &Change<'_>, old: &Outcome, new: &Outcome) -> bool {
        let (from_tier, to_tier) = (change.tier_index(old.tier()), change.tier_index(new.tier()));
        let (from_queue, to_queue) = (change.old_queue[old.queue], change.new_queue[new.queue]);
        self.tiers.counts[from_tier][to_tier] += 1;
        self.queues.counts[from_queue][to_queue] += 1;
        self.contacts += 1;
        let moved = from_tier != to_tier || from_queue != to_queue;
        self.moved += u64::from(moved);
        moved
    }
}

/// Contacts in one queue (or several) under the old and the new rules.
#[derive(Debug, Clone, Copy, Serialize)]
struct Load {
    old: u64,
    new: u64,
    change: i64,
    /// Shares of all contacts compared, from 0 to 1, rounded to 4 decimals.
    old_share: f64,
    new_share: f64,
}

impl Load {
    fn new(old: u64, new: u64, contacts: u64) -> Load {
        Load {
            old,
            new,
            change: new as i64 - old as i64,
            old_share: share(old, contacts),
            new_share: share(new, contacts),
        }
    }
}

/// The sales load: contacts in the queues the warm and hot tiers go to.
#[derive(Debug, Clone, Serialize)]
struct SalesLoad {
    old_queues: Vec<String>,
    new_queues: Vec<String>,
    #[serde(flatten)]
    load: Load,
}

impl SalesLoad {
    fn new(change: &Change<'_>, tally: &Tally) -> SalesLoad {
        let queues = |side: Side<'_>| {
            let q = &side.rules.queues;
            let mut names = vec![q.warm.clone()];
            if side.rules.tiers.hot.is_some() && q.hot != q.warm {
                names.insert(0, q.hot.clone());
            }
            names
        };
        let (old_queues, new_queues) = (queues(change.old), queues(change.new));
        let total = |names: &[String], by: &dyn Fn(usize) -> u64| -> u64 {
            names
                .iter()
                .filter_map(|n| change.queues.iter().position(|q| q == n))
                .map(by)
                .sum()
        };
        let m = &tally.queues;
        let old = total(&old_queues, &|i| m.row_total(i));
        let new = total(&new_queues, &|i| m.column_total(i));
        SalesLoad {
            old_queues,
            new_queues,
            load: Load::new(old, new, tally.contacts),
        }
    }

    /// `sales`, `sales + priority`, or `sales → sdr` when the queues themselves changed.
    fn label(&self) -> String {
        let (old, new) = (self.old_queues.join(" + "), self.new_queues.join(" + "));
        if old == new {
            old
        } else {
            format!("{old} → {new}")
        }
    }
}

// ---- moved contacts --------------------------------------------------------------------------

/// Where a contact lands under one rule set.
#[derive(Debug, Clone, Serialize)]
struct Placement {
    score: i64,
    tier: &'static str,
    queue: String,
}

/// A contact whose tier or queue changes, and why.
#[derive(Debug, Clone, Serialize)]
struct Move {
    /// The contact's number in the input, counting from 1 after the header.
    record: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    old: Placement,
    new: Placement,
    changed_by: Vec<String>,
}

/// Moved contacts as they are found: written at once (csv), or kept for the report, which
/// starts with the matrices (text, json).
enum Moved {
    Csv {
        w: Box<csv::Writer<Target>>,
        name: String,
    },
    Kept {
        target: Target,
        moves: Vec<Move>,
    },
}

impl std::fmt::Debug for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Moved::Csv { name, .. } => f.debug_struct("Csv").field("name", name).finish(),
            Moved::Kept { moves, .. } => f.debug_struct("Kept").field("moves", moves).finish(),
        }
    }
}

const CSV_COLUMNS: [&str; 7] = [
    "old_score",
    "old_tier",
    "old_queue",
    "new_score",
    "new_tier",
    "new_queue",
    "changed_by",
];

impl Moved {
    /// A CSV writer with the header written: the input's columns, then `CSV_COLUMNS`.
    fn csv(target: Target, header: &crate::engine::Header) -> Result<Moved> {
        let name = target.name();
        let w = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(target);
        let mut moved = Moved::Csv {
            w: Box::new(w),
            name,
        };
        let cells = header
            .names
            .iter()
            .map(String::as_str)
            .chain(CSV_COLUMNS)
            .map(str::as_bytes);
        moved.write_row(cells)?;
        Ok(moved)
    }

    fn add(&mut self, cells: &Record, contact: Move) -> Result<()> {
        match self {
            Moved::Kept { moves, .. } => {
                moves.push(contact);
                Ok(())
            }
            Moved::Csv { .. } => {
                let mut num = itoa::Buffer::new();
                let old_score = num.format(contact.old.score).to_string();
                let new_score = num.format(contact.new.score).to_string();
                let changed_by = contact.changed_by.join("; ");
                let added = [
                    old_score.as_str(),
                    contact.old.tier,
                    &contact.old.queue,
                    &new_score,
                    contact.new.tier,
                    &contact.new.queue,
                    &changed_by,
                ];
                self.write_row(cells.fields().chain(added.iter().map(|a| a.as_bytes())))
            }
        }
    }

    /// One CSV row, each cell safe to open in a spreadsheet.
    fn write_row<'c>(&mut self, cells: impl Iterator<Item = &'c [u8]>) -> Result<()> {
        let Moved::Csv { w, name } = self else {
            return Ok(());
        };
        let failed = |e: csv::Error| crate::output::csv_error(name, e);
        for cell in cells {
            w.write_field(escape_formula(cell)).map_err(failed)?;
        }
        w.write_record(None::<&[u8]>).map_err(failed)
    }
}

// ---- the report ------------------------------------------------------------------------------

/// Everything the text and JSON reports show.
#[derive(Debug)]
struct Report<'a> {
    input: &'a str,
    old_rules: &'a Path,
    new_rules: &'a Path,
    as_of: Date,
    id_column: Option<&'a str>,
    tally: &'a Tally,
    load: SalesLoad,
    /// Each rep's contacts under the old and the new rules.
    reps: Vec<(String, Load)>,
    moves: &'a [Move],
}

/// A table of loads: one row per queue or rep (`what`), old, new and the change.
fn write_loads(out: &mut String, what: &str, loads: &[(String, Load)]) {
    let mut table = vec![vec![
        what.to_string(),
        "old".into(),
        "new".into(),
        "change".into(),
    ]];
    for (name, l) in loads {
        table.push(vec![
            name.clone(),
            l.old.to_string(),
            l.new.to_string(),
            change(l.change),
        ]);
    }
    write_table(out, &table);
}

/// `{"<old>": {"<new>": count}}`, every pair, in the axis order.
fn matrix_json(m: &Matrix) -> Ordered<Ordered<u64>> {
    Ordered(
        m.names
            .iter()
            .zip(&m.counts)
            .map(|(from, row)| {
                (
                    from.clone(),
                    Ordered(m.names.iter().cloned().zip(row.iter().copied()).collect()),
                )
            })
            .collect(),
    )
}

#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    input: &'a str,
    old_rules: String,
    new_rules: String,
    as_of: String,
    contacts: u64,
    rejected: u64,
    tiers: Ordered<Ordered<u64>>,
    queues: Ordered<Ordered<u64>>,
    load: JsonLoad<'a>,
    moved: &'a [Move],
}

#[derive(Debug, Serialize)]
struct JsonLoad<'a> {
    sales: &'a SalesLoad,
    queues: Ordered<Load>,
    reps: Ordered<Load>,
}

impl Report<'_> {
    fn queue_loads(&self) -> Vec<(String, Load)> {
        let m = &self.tally.queues;
        m.names
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let load = Load::new(m.row_total(i), m.column_total(i), self.tally.contacts);
                (q.clone(), load)
            })
            .collect()
    }

    fn to_json(&self) -> String {
        let report = JsonReport {
            input: self.input,
            old_rules: self.old_rules.display().to_string(),
            new_rules: self.new_rules.display().to_string(),
            as_of: self.as_of.to_string(),
            contacts: self.tally.contacts,
            rejected: self.tally.rejected,
            tiers: matrix_json(&self.tally.tiers),
            queues: matrix_json(&self.tally.queues),
            load: JsonLoad {
                sales: &self.load,
                queues: Ordered(self.queue_loads()),
                reps: Ordered(self.reps.clone()),
            },
            moved: self.moves,
        };
        let mut s = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".to_string());
        s.push('\n');
        s
    }

    fn to_text(&self) -> String {
        let t = self.tally;
        let mut out = String::new();
        let _ = writeln!(out, "Old rules: {}", self.old_rules.display());
        let _ = writeln!(out, "New rules: {}", self.new_rules.display());
        let skipped = match t.rejected {
            0 => String::new(),
            n => format!(", {n} rows skipped (could not be read)"),
        };
        let _ = writeln!(
            out,
            "Contacts:  {} compared from {} (as of {}){skipped}",
            t.contacts, self.input, self.as_of
        );
        let _ = writeln!(
            out,
            "Moved:     {} ({}) change tier or queue",
            plural(t.moved, "contact"),
            percent(t.moved, t.contacts)
        );

        let _ = writeln!(out, "\nTiers (rows: old, columns: new)");
        write_matrix(&mut out, &t.tiers);
        let _ = writeln!(out, "\nQueues (rows: old, columns: new)");
        write_matrix(&mut out, &t.queues);

        let _ = writeln!(out, "\nLoad by queue");
        write_loads(&mut out, "queue", &self.queue_loads());
        let l = &self.load.load;
        let delta = match l.change {
            0 => "no change".to_string(),
            c => change(c),
        };
        let _ = writeln!(
            out,
            "\nSales load (the queues of the warm and hot tiers)\n  {}: {} → {} ({delta}), {} → {} of contacts",
            self.load.label(),
            l.old,
            l.new,
            percent(l.old, t.contacts),
            percent(l.new, t.contacts),
        );

        if !self.reps.is_empty() {
            let _ = writeln!(out, "\nLoad by rep (contacts each rep takes)");
            write_loads(&mut out, "rep", &self.reps);
        }

        if self.moves.is_empty() {
            let _ = writeln!(out, "\nNo contact changes tier or queue.");
            return out;
        }
        let by = self
            .id_column
            .map(|c| format!(", by {c}"))
            .unwrap_or_default();
        let _ = writeln!(out, "\nMoved contacts ({}{by})", self.moves.len());
        let shown = &self.moves[..self.moves.len().min(TEXT_LIST_LIMIT)];
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|m| {
                vec![
                    m.id.clone()
                        .unwrap_or_else(|| format!("record {}", m.record)),
                    m.old.score.to_string(),
                    m.old.tier.to_string(),
                    m.old.queue.clone(),
                    "→".to_string(),
                    m.new.score.to_string(),
                    m.new.tier.to_string(),
                    m.new.queue.clone(),
                    format!("because: {}", m.changed_by.join("; ")),
                ]
            })
            .collect();
        write_table(&mut out, &rows);
        if self.moves.len() > shown.len() {
            let _ = writeln!(
                out,
                "  ... and {} more (use --format csv for all)",
                self.moves.len() - shown.len()
            );
        }
        out
    }
}

/// A matrix as a table: old names down, new names across.
fn write_matrix(out: &mut String, m: &Matrix) {
    let mut table = vec![
        std::iter::once("old \\ new".to_string())
            .chain(m.names.iter().cloned())
            .collect::<Vec<_>>(),
    ];
    for (name, row) in m.names.iter().zip(&m.counts) {
        table.push(
            std::iter::once(name.clone())
                .chain(row.iter().map(u64::to_string))
                .collect(),
        );
    }
    write_table(out, &table);
}

/// Rows of cells, indented, in aligned columns: the first and text columns to the left,
/// numbers to the right, the last column as it is.
fn write_table(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..columns).map(width).collect();
    let numeric = |c: usize| {
        rows.iter().skip(1).all(|r| {
            r.get(c)
                .is_none_or(|s| s.trim_start_matches(['+', '-']).parse::<u64>().is_ok())
        })
    };
    let right: Vec<bool> = (0..columns).map(|c| c > 0 && numeric(c)).collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str("  ");
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c + 1 == row.len() && !right[c] {
                line.push_str(cell);
            } else if right[c] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn change(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

fn percent(n: u64, total: u64) -> String {
    let p = if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    };
    format!("{p:.1}%")
}
