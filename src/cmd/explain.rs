//! `leadsort explain`: one contact's score, rule by rule.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::balance::{Candidate, Decision, Plan};
use crate::cli::{AsOfArg, CsvArgs, RulesArg};
use crate::engine::{Explanation, Header, Outcome, Read, Trace, fmt_number};
use crate::error::{Error, Result};
use crate::input::{Input, Next, Record, Source};
use crate::rules::{Points, Rules, Tier};
use crate::ui::{Ui, plural};

const EXAMPLES: &str = "\
Examples:
  # Why did contact 51200117 get its score? (the id column from [input] id)
  leadsort explain examples/contacts.csv --id 51200117

  # The 3rd contact of the file, with an id column named on the command line
  leadsort explain contacts.csv --row 3 --id-column \"Contact ID\"

  # For a program: the breakdown as JSON
  leadsort explain contacts.csv --id 51200117 --format json

The breakdown shows every rule with the cell it read and whether it matched,
each group's subtotal before and after its cap, the tiers' requirements met or
missed, and the route or tier that decided the queue. When the rules have a
sales_capacity or reps, explain reads the whole file, as classify would: for a
contact bound for sales, it shows its place among those bound for sales and
where the balance sends it, to sales (and which rep) or to wait.
Unlike other commands, explain shows the contact's values: that is its point.";

/// Show one contact's score, rule by rule.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["id", "row"]))]
pub struct Args {
    /// Contacts: CSV (gzipped too), or an XLSX, XLS or ODS workbook; `-` reads stdin
    #[arg(value_name = "FILE")]
    pub input: PathBuf,

    /// The contact whose id column holds VALUE (the first one, if several do)
    #[arg(long, value_name = "VALUE")]
    pub id: Option<String>,

    /// The N-th contact of the file, counting from 1 after the header
    #[arg(long, value_name = "N", value_parser = parse_row)]
    pub row: Option<u64>,

    /// The column that identifies contacts [default: [input] id in rules.toml, else a column
    /// named id, Contact ID, Record ID or Lead ID]
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,

    #[command(flatten)]
    pub rules: RulesArg,

    #[command(flatten)]
    pub as_of: AsOfArg,

    #[command(flatten)]
    pub csv: CsvArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Where the contact was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub record: u64,
    pub line: u64,
    pub id: Option<String>,
}

pub fn run(args: &Args, ui: &Ui) -> Result<()> {
    let source = Source::from_arg(Some(&args.input));
    if source == Source::Stdin && std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no input: give a CSV file or pipe one into stdin".into(),
        ));
    }
    let rules = args.rules.load()?;
    let as_of = args.as_of.date();
    let mut input = Input::open(&source, &args.csv.options())?;
    let engine = super::compile(&rules, &input, as_of)?;
    // Rows classify rejects (a line break in an id or email) are rejected here too.
    let single_line = super::single_line_columns(&rules, &engine, input.header());
    input.single_line_columns(single_line);
    let id_col = super::id_column(
        &rules,
        input.header(),
        input.name(),
        args.id_column.as_deref(),
    )?;
    // Else a header named like an id column.
    let id_col = id_col.or_else(|| args.id.as_ref().and(id_column_by_name(input.header())));
    if args.id.is_some() && id_col.is_none() {
        return Err(Error::Usage(format!(
            "--id needs an id column, and no column of {} is named {}: pass --id-column NAME \
             or set `[input] id = \"...\"` in rules.toml",
            input.name(),
            ID_NAMES.join(", ")
        )));
    }

    // With a sales capacity or reps, where a contact bound for sales ends up depends on the
    // others bound for sales: note each one, as classify holds them.
    let holds_sales = rules.holds_sales();
    let sales = engine.queue_id(rules.sales_queue());
    let mut bound: Vec<Candidate> = Vec::new();
    let (mut scratch, mut outcome) = (engine.scratch(), Outcome::default());
    let mut each = |record: &Record, at: u64| {
        engine.evaluate_without_hits(record, &mut scratch, &mut outcome);
        if outcome.queue == sales {
            let held = Candidate::of(&rules, &engine, record, (at, outcome.score), &mut scratch);
            bound.push(held);
        }
    };
    let each: Option<&mut EachContact> = holds_sales.then_some(&mut each);
    let (record, found) = find(&mut input, args, id_col, ui, each)?;
    let explanation = engine.explain(&rules, &record);
    let balanced = balance(&rules, &bound, found.record);
    let header = &input.header().names;
    let text = match args.format {
        Format::Text => {
            let mut out = String::new();
            let id = found
                .id
                .as_deref()
                .map(|i| format!("contact {i}, "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{id}record {} (line {}) of {}, as of {as_of}",
                found.record,
                found.line,
                input.name()
            );
            let queue = balanced.as_ref().map(|b| b.queue(&rules));
            out.push_str(&render_text(&rules, &explanation, header, queue));
            if let Some(b) = &balanced {
                out.push_str(&b.text(&rules, input.name()));
            }
            out
        }
        Format::Json => {
            let mut value = to_json(&rules, &explanation, header);
            value["contact"] =
                json!({ "record": found.record, "line": found.line, "id": found.id });
            value["as_of"] = json!(as_of.to_string());
            if let Some(b) = &balanced {
                value["queue"] = json!(b.queue(&rules));
                value["balance"] = b.to_json(&rules);
            }
            let mut s =
                serde_json::to_string_pretty(&value).map_err(|e| Error::Internal(e.to_string()))?;
            s.push('\n');
            s
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write stdout", e))
}

/// Called with every contact read and its record number.
type EachContact<'a> = dyn FnMut(&Record, u64) + 'a;

/// Names of an id column, ignoring case, spaces, `_` and `-`, most likely first.
const ID_NAMES: [&str; 4] = ["id", "Contact ID", "Record ID", "Lead ID"];

/// The column named like an id column (`ID_NAMES`), for `--id` when neither `--id-column`
/// nor `[input] id` says which: the first name exactly one column has.
fn id_column_by_name(header: &Header) -> Option<usize> {
    let plain = |name: &str| -> String {
        (name.chars())
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let names: Vec<String> = header.names.iter().map(|n| plain(n)).collect();
    ID_NAMES.iter().find_map(|want| {
        let want = plain(want);
        let mut at = (names.iter().enumerate()).filter(|(_, n)| **n == want);
        match (at.next(), at.next()) {
            (Some((col, _)), None) => Some(col),
            _ => None,
        }
    })
}

/// Read until the contact asked for; with `--id`, read on to warn about duplicates. With
/// `each`, read every contact, and give each one to it with its record number.
fn find(
    input: &mut Input,
    args: &Args,
    id_col: Option<usize>,
    ui: &Ui,
    mut each: Option<&mut EachContact>,
) -> Result<(Record, Found)> {
    let mut record = Record::default();
    let mut found: Option<(Record, Found)> = None;
    let mut loose: Option<(Record, Found)> = None;
    let mut loose_count = 0u64;
    let mut duplicates = 0;
    while let Some(next) = input.next(&mut record)? {
        let n = input.records();
        match (next, args.row) {
            (Next::Rejected, Some(row)) if row == n => {
                let r = input.rejected.take();
                let reason = r
                    .map(|r| format!(" (line {}): {}", r.line, r.reason))
                    .unwrap_or_default();
                return Err(Error::Data(format!(
                    "{}: record {n} could not be read{reason}",
                    input.name()
                )));
            }
            (Next::Rejected, _) => {}
            (Next::Contact { record: rec, line }, Some(row)) => {
                if let Some(each) = each.as_mut() {
                    each(&record, rec);
                }
                if rec == row {
                    let id = id_col.map(|c| record.get(c).unwrap_or("").to_string());
                    let this = Found {
                        record: rec,
                        line,
                        id,
                    };
                    if each.is_none() {
                        return Ok((record, this));
                    }
                    found = Some((record.clone(), this));
                }
            }
            (Next::Contact { record: rec, line }, None) => {
                if let Some(each) = each.as_mut() {
                    each(&record, rec);
                }
                let (Some(want), Some(col)) = (&args.id, id_col) else {
                    continue;
                };
                let cell = record.get(col).unwrap_or("");
                let this = || {
                    let id = Some(cell.to_string());
                    let f = Found {
                        record: rec,
                        line,
                        id,
                    };
                    (record.clone(), f)
                };
                if cell.trim() != want.trim() {
                    // An id that differs only in case is shown if no id matches exactly (some
                    // CRMs' ids differ by case alone: an exact match comes first).
                    if cell.trim().to_lowercase() == want.trim().to_lowercase() {
                        loose_count += 1;
                        if loose.is_none() {
                            loose = Some(this());
                        }
                    }
                    continue;
                }
                if found.is_some() {
                    duplicates += 1;
                } else {
                    found = Some(this());
                }
            }
        }
    }
    if found.is_none() && loose_count > 1 {
        return Err(Error::Data(format!(
            "{}: no contact has the id {:?} exactly, and {loose_count} have it in another case: \
             give it as written",
            input.name(),
            args.id.as_deref().unwrap_or_default()
        )));
    }
    if found.is_none()
        && let Some((_, f)) = &loose
    {
        ui.warn(&format!(
            "no contact has that id exactly; showing record {}, whose id differs only in case",
            f.record
        ));
    }
    match found.or(loose) {
        Some((record, f)) => {
            if duplicates > 0 {
                ui.warn(&format!(
                    "{} more contact{} in {} {} this id; showing the first (record {})",
                    duplicates,
                    if duplicates > 1 { "s" } else { "" },
                    input.name(),
                    if duplicates > 1 { "have" } else { "has" },
                    f.record
                ));
            }
            Ok((record, f))
        }
        None => Err(Error::Data(match (&args.id, args.row) {
            (Some(id), _) => format!(
                "{}: no contact has the id {id:?} (in column `{}`)",
                input.name(),
                id_col.map_or("", |c| input.header().names[c].as_str())
            ),
            (None, Some(row)) => format!(
                "{} has {} records, not {row}",
                input.name(),
                input.records()
            ),
            (None, None) => "no contact asked for".into(),
        })),
    }
}

/// Where the balance sends a contact bound for sales (see `crate::balance`).
struct Balanced {
    /// The contacts of the file bound for sales.
    bound: usize,
    /// This one's place among them, highest score first (ties in file order), from 1.
    place: usize,
    decision: Decision,
    /// The contact as the balance saw it: its owner and territories.
    candidate: Candidate,
}

/// The balance's decision on contact `record`, if the rules hold contacts bound for sales
/// and it is one of them (`bound`: all of them, in file order).
fn balance(rules: &Rules, bound: &[Candidate], record: u64) -> Option<Balanced> {
    let i = bound.iter().position(|c| c.record == record)?;
    let (decisions, order) = crate::balance::decide(&Plan::new(rules), bound);
    Some(Balanced {
        bound: bound.len(),
        place: order.iter().position(|&j| j == i)? + 1,
        decision: decisions[i],
        candidate: bound[i].clone(),
    })
}

impl Balanced {
    /// The queue classify writes the contact to.
    fn queue<'r>(&self, rules: &'r Rules) -> &'r str {
        match self.decision {
            Decision::Sales { .. } => rules.sales_queue(),
            Decision::Waits(_) => rules.overflow_queue(),
        }
    }

    fn rep<'r>(&self, rules: &'r Rules) -> Option<&'r str> {
        match self.decision {
            Decision::Sales { rep: Some(r) } => Some(rules.reps[r].name.as_str()),
            _ => None,
        }
    }

    /// Why the balance gave the contact its rep: its owner, a territory, or neither.
    fn why_rep(&self, rules: &Rules) -> String {
        let Decision::Sales { rep: Some(r) } = self.decision else {
            return String::new();
        };
        let c = &self.candidate;
        let owner_full = match c.owner {
            Some(o) if o == r => return "the contact's owner".to_string(),
            Some(o) => format!("its owner, {}, has no room; ", rules.reps[o].name),
            None => String::new(),
        };
        // A rep with a territory takes only contacts in it (or its own, above).
        let how = if c.territories >> r & 1 == 1 {
            "the rep's territory takes it"
        } else {
            "no territory rep with room takes it: of the reps without a territory, the one \
             furthest below its share"
        };
        format!("{owner_full}{how}")
    }

    /// `balance (sales_capacity 25; 2 reps with room for 30)`, the contact's place, and
    /// where it goes.
    fn text(&self, rules: &Rules, file: &str) -> String {
        let mut out = String::new();
        let mut limits = Vec::new();
        if let Some(cap) = rules.balance.as_ref().and_then(|b| b.sales_capacity) {
            limits.push(format!("sales_capacity {cap}"));
        }
        if !rules.reps.is_empty() {
            // Exact, however large the capacities.
            let room: u128 = rules.reps.iter().map(|r| u128::from(r.capacity)).sum();
            limits.push(format!(
                "{} with room for {room}",
                plural(rules.reps.len(), "rep")
            ));
        }
        let _ = writeln!(out, "\nbalance ({})", limits.join("; "));
        let _ = writeln!(
            out,
            "  number {} of {} of {file} bound for sales, by score",
            self.place,
            plural(self.bound, "contact"),
        );
        let queue = self.queue(rules);
        let _ = match (self.decision, self.rep(rules)) {
            (Decision::Waits(why), _) => writeln!(out, "  waits in {queue}: {}", why.text()),
            (_, Some(rep)) => writeln!(
                out,
                "  goes to {queue}, rep {rep} ({})",
                self.why_rep(rules)
            ),
            (_, None) => writeln!(out, "  goes to {queue}"),
        };
        out
    }

    fn to_json(&self, rules: &Rules) -> Value {
        json!({
            "bound_for_sales": self.bound,
            "place": self.place,
            "sales_capacity": rules.balance.as_ref().and_then(|b| b.sales_capacity),
            "queue": self.queue(rules),
            "rep": self.rep(rules),
            "waits": match self.decision {
                Decision::Waits(why) => Some(why.text()),
                Decision::Sales { .. } => None,
            },
        })
    }
}

/// The column a read came from, as people know it.
fn column_name(read: &Read, header: &[String]) -> String {
    match read.column {
        Some(c) => header.get(c).cloned().unwrap_or_else(|| read.field.clone()),
        None => format!("{} (not in the input)", read.field),
    }
}

fn describe_read(read: &Read, header: &[String]) -> String {
    let mut s = format!("{} = {:?}", column_name(read, header), read.cell);
    if read.unreadable {
        s.push_str(" (unreadable)");
    }
    if let Some(value) = &read.read_as {
        s.push_str(&format!(" (read as {value})"));
    }
    s
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn signed(p: f64) -> String {
    if crate::engine::as_shown(p) >= 0.0 {
        format!("+{}", fmt_number(p))
    } else {
        fmt_number(p)
    }
}

/// The breakdown as text: rules, groups, tiers, queue. `last`: the queue the contact ends
/// in when that is not the rules' (the balance moved it), for the first line.
pub fn render_text(
    rules: &Rules,
    e: &Explanation,
    header: &[String],
    last: Option<&str>,
) -> String {
    let o = &e.outcome;
    let queues = rules.queue_names();
    let queue = queues.get(o.queue).copied().unwrap_or("?");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "score {}, tier {}, queue {}",
        o.score,
        o.tier().as_str(),
        last.unwrap_or(queue)
    );
    let _ = writeln!(out, "\nrules");
    let width = rules
        .rules
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    for t in &e.rules {
        let rule = &rules.rules[t.rule];
        let points = match (t.matched, &rule.points, rule.disqualify) {
            (true, _, true) => "disqualifies".to_string(),
            (true, Some(_), false) => signed(t.points),
            (true, None, false) => "+0".to_string(),
            (false, _, _) => "-".to_string(),
        };
        let group = rule
            .group
            .map(|g| format!("  ({})", rules.groups[g].name))
            .unwrap_or_default();
        let mark = if t.matched { "[x]" } else { "[ ]" };
        let _ = writeln!(out, "  {mark} {:<width$}  {points:>12}{group}", rule.name);
        if let Some(when) = &t.when {
            trace_lines(&mut out, when, header, 8);
        }
        if let (Some(read), Some(Points::Per { points, max, .. })) = (&t.per, &rule.points) {
            // The points before decay: what the cap applied to.
            let undecayed = t.undecayed;
            let cap = match max {
                Some(m) => format!(" (at most {})", fmt_number(*m)),
                None if undecayed.abs() >= crate::rules::MAX_POINTS => format!(
                    " (at most {}, the most a rule gives)",
                    fmt_number(crate::rules::MAX_POINTS)
                ),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "        {} x {}{cap}",
                fmt_number(*points),
                describe_read(read, header)
            );
        }
        if let (Some((read, factor)), Some(d)) = (&t.decay, rules.decay_of(rule))
            && t.matched
        {
            let _ = writeln!(
                out,
                "        decay x{} (half-life {} days): {}",
                fmt_number(*factor),
                fmt_number(d.half_life_days),
                describe_read(read, header)
            );
        }
    }
    if !e.groups.is_empty() {
        let _ = writeln!(out, "\ngroups");
        for g in &e.groups {
            let group = &rules.groups[g.group];
            let limits = match (group.min, group.max) {
                (None, None) => String::new(),
                (min, max) => {
                    let mut parts = Vec::new();
                    if let Some(m) = min {
                        parts.push(format!("min {}", fmt_number(m)));
                    }
                    if let Some(m) = max {
                        parts.push(format!("max {}", fmt_number(m)));
                    }
                    format!("  ({})", parts.join(", "))
                }
            };
            let value = if g.raw == g.capped {
                fmt_number(g.raw)
            } else {
                format!("{} -> {}", fmt_number(g.raw), fmt_number(g.capped))
            };
            let _ = writeln!(out, "  {:<12} {value}{limits}", group.name);
        }
    }
    let _ = writeln!(out, "\ntiers, from the top");
    if o.disqualified {
        let by: Vec<&str> = o
            .hits
            .iter()
            .filter(|h| rules.rules[h.rule].disqualify)
            .map(|h| rules.rules[h.rule].name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "  disqualified by {} (the score still counts, the tier does not)",
            by.join(", ")
        );
    }
    for t in &e.tiers {
        let _ = writeln!(
            out,
            "  {:<5} {}",
            t.tier.as_str(),
            tier_line(rules, o.score, &o.groups, t)
        );
    }
    let _ = writeln!(out, "\nqueue");
    for r in &e.routes {
        let route = &rules.routes[r.route];
        if !r.for_tier {
            // Its condition is beside the point.
            let tiers: Vec<&str> = (route.tiers.iter().flatten()).map(|t| t.as_str()).collect();
            let _ = writeln!(
                out,
                "  route \"{}\": no, it is for tier {} only",
                route.name,
                tiers.join(" or ")
            );
            continue;
        }
        let _ = writeln!(
            out,
            "  route \"{}\": {}",
            route.name,
            if r.matched() {
                format!("matched, so {}", route.queue)
            } else {
                "no".into()
            }
        );
        trace_lines(&mut out, &r.when, header, 6);
    }
    if o.route.is_none() {
        let tier = o.tier();
        let why = if tier == Tier::Disqualified {
            "disqualified contacts go".to_string()
        } else {
            format!("tier {} goes", tier.as_str())
        };
        let _ = writeln!(out, "  {why} to {queue}");
    }
    if last.is_some() {
        let _ = writeln!(out, "  then the balance decides (below)");
    }
    out
}

/// `score 62 >= 50, engagement 20 >= 15: met` or `score 38, 12 points short of 50`.
fn tier_line(rules: &Rules, score: i64, groups: &[i64], t: &crate::engine::TierTrace) -> String {
    let mut parts = Vec::new();
    let need = t.score_needed;
    if score as f64 >= need {
        parts.push(format!("score {score} >= {}", fmt_number(need)));
    } else {
        parts.push(format!(
            "score {score}, {} short of {}",
            fmt_number(need - score as f64),
            fmt_number(need)
        ));
    }
    for &(g, n) in &t.groups {
        let have = groups[g];
        let name = &rules.groups[g].name;
        if have as f64 >= n {
            parts.push(format!("{name} {have} >= {}", fmt_number(n)));
        } else {
            parts.push(format!(
                "{name} {have}, {} short of {}",
                fmt_number(n - have as f64),
                fmt_number(n)
            ));
        }
    }
    format!(
        "{}: {}",
        parts.join(", "),
        if t.met { "met" } else { "not met" }
    )
}

fn trace_lines(out: &mut String, t: &Trace, header: &[String], indent: usize) {
    let pad = " ".repeat(indent);
    match t {
        Trace::Test { holds, test, read } => {
            let _ = writeln!(
                out,
                "{pad}{test}: {} -> {}",
                describe_read(read, header),
                yes(*holds)
            );
        }
        Trace::All { holds, parts } | Trace::Any { holds, parts } => {
            let kind = if matches!(t, Trace::All { .. }) {
                "all of"
            } else {
                "any of"
            };
            let _ = writeln!(out, "{pad}{kind} -> {}", yes(*holds));
            for p in parts {
                trace_lines(out, p, header, indent + 2);
            }
        }
        Trace::Not { holds, inner } => {
            let _ = writeln!(out, "{pad}not -> {}", yes(*holds));
            trace_lines(out, inner, header, indent + 2);
        }
    }
}

fn trace_json(t: &Trace, header: &[String]) -> Value {
    match t {
        Trace::Test { holds, test, read } => json!({
            "test": test,
            "field": read.field,
            "column": read.column.map(|_| column_name(read, header)),
            "cell": read.cell,
            "unreadable": read.unreadable,
            "read_as": read.read_as,
            "holds": holds,
        }),
        Trace::All { holds, parts } => {
            json!({ "all": parts.iter().map(|p| trace_json(p, header)).collect::<Vec<_>>(), "holds": holds })
        }
        Trace::Any { holds, parts } => {
            json!({ "any": parts.iter().map(|p| trace_json(p, header)).collect::<Vec<_>>(), "holds": holds })
        }
        Trace::Not { holds, inner } => json!({ "not": trace_json(inner, header), "holds": holds }),
    }
}

/// The breakdown for programs.
pub fn to_json(rules: &Rules, e: &Explanation, header: &[String]) -> Value {
    let o = &e.outcome;
    let queues = rules.queue_names();
    let rule_list: Vec<Value> = e
        .rules
        .iter()
        .map(|t| {
            let rule = &rules.rules[t.rule];
            json!({
                "name": rule.name,
                "matched": t.matched,
                "points": t.points,
                "group": rule.group.map(|g| rules.groups[g].name.clone()),
                "disqualify": rule.disqualify,
                "when": t.when.as_ref().map(|w| trace_json(w, header)),
                "per": t.per.as_ref().map(|r| json!({
                    "field": r.field,
                    "column": r.column.map(|_| column_name(r, header)),
                    "cell": r.cell,
                    "unreadable": r.unreadable,
                    "read_as": r.read_as,
                })),
                "decay": t.decay.as_ref().map(|(r, factor)| json!({
                    "field": r.field,
                    "column": r.column.map(|_| column_name(r, header)),
                    "cell": r.cell,
                    "unreadable": r.unreadable,
                    "read_as": r.read_as,
                    "factor": factor,
                })),
            })
        })
        .collect();
    let groups: Vec<Value> = e
        .groups
        .iter()
        .map(|g| {
            let group = &rules.groups[g.group];
            json!({ "name": group.name, "before_cap": g.raw, "after_cap": g.capped, "min": group.min, "max": group.max })
        })
        .collect();
    let tiers: Vec<Value> = e
        .tiers
        .iter()
        .map(|t| {
            let short = (t.score_needed - o.score as f64).max(0.0);
            let groups: serde_json::Map<String, Value> = t
                .groups
                .iter()
                .map(|&(g, n)| (rules.groups[g].name.clone(), json!({ "needed": n, "has": o.groups[g] })))
                .collect();
            json!({ "tier": t.tier.as_str(), "score_needed": t.score_needed, "points_short": short, "groups": groups, "met": t.met })
        })
        .collect();
    let routes: Vec<Value> = e
        .routes
        .iter()
        .map(|r| {
            let route = &rules.routes[r.route];
            json!({ "name": route.name, "queue": route.queue, "matched": r.matched(), "for_tier": r.for_tier, "when": trace_json(&r.when, header) })
        })
        .collect();
    let decided_by = match o.route {
        Some(r) => json!({ "route": rules.routes[r].name }),
        None => json!({ "tier": o.tier().as_str() }),
    };
    let mut value = json!({
        "score": o.score,
        "tier": o.tier().as_str(),
        "queue": queues.get(o.queue),
        "decided_by": decided_by,
        "rules": rule_list,
        "tiers": tiers,
        "routes": routes,
    });
    if !groups.is_empty() {
        value["groups"] = json!(groups);
    }
    value
}

/// `--row N`: a contact's place, from 1.
fn parse_row(s: &str) -> std::result::Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("contacts are counted from 1 (the first after the header)".to_string()),
        Err(_) => Err("expected a contact's place in the file: 1, 2, 3...".to_string()),
    }
}
