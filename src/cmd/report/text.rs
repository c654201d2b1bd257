//! The report for a terminal: 80 columns, bars drawn with block characters. The same
//! numbers always give the same bytes (no colour, no terminal width, no clock).

use std::fmt::Write as _;

use super::model::{self, Report, percent};
use crate::ui::plural;

/// The width the report is laid out for.
const WIDTH: usize = 80;
/// `  label  bar  count  share`: everything but the label and the bar.
const FIXED: usize = 2 + 2 + 2 + 8 + 2 + 6;
/// `  name  bar  matches  rate  points`: everything but the name and the bar.
const RULE_FIXED: usize = 2 + 2 + 2 + 8 + 2 + 6 + 2 + 12;

/// The widest label column: a score bin of `i64`s, `-9223372036854775808 to …`, with
/// room left for a bar of 14 cells.
const MAX_LABEL: usize = 44;

/// A bar's last cell, in eighths of a cell.
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL: char = '█';
/// The part of a queue that is there only because sales is full.
const WAITING: char = '░';
/// The sales capacity, in the sales row.
const CAPACITY: char = '│';

/// `count / scale` of `width` cells, in eighths of a cell, rounded; a count above zero
/// always shows.
fn eighths(count: u64, scale: u64, width: usize) -> usize {
    if count == 0 || scale == 0 {
        return 0;
    }
    let cells = width as u128 * 8;
    let e = (u128::from(count) * cells + u128::from(scale) / 2) / u128::from(scale);
    usize::try_from(e.clamp(1, cells)).unwrap_or(0)
}

/// A bar of `count / scale` of `width` cells.
pub fn bar(count: u64, scale: u64, width: usize) -> String {
    let e = eighths(count, scale, width);
    let mut s: String = std::iter::repeat_n(FULL, e / 8).collect();
    if !e.is_multiple_of(8) {
        s.push(EIGHTHS[e % 8]);
    }
    s
}

/// The cells a bar takes (a part-filled last cell counts).
fn cells(e: usize) -> usize {
    e.div_ceil(8)
}

/// `s` cut to `n` characters, with `…` when cut.
fn fit(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The report as text.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Balance of {} as of {}, rules {}",
        r.input, r.as_of, r.rules
    );
    let _ = writeln!(
        out,
        "{}, {}",
        plural(r.contacts, "contact"),
        plural(r.rejected, "rejected row")
    );

    // One label column and one bar width for queues, tiers and scores, so their bars
    // compare by eye. A long queue name is cut; a score bin's numbers never are (scores of
    // billions widen the column, up to the 44 characters of the widest bin of `i64`s).
    let bin_labels = bin_labels(r);
    let longest_queue = r.queues.0.iter().map(|(q, _)| q.chars().count()).max();
    let longest_bin = bin_labels.iter().map(|l| l.chars().count()).max();
    let label = longest_queue
        .unwrap_or(0)
        .clamp("disqualified".len(), 24)
        .max(longest_bin.unwrap_or(0))
        .min(MAX_LABEL);
    let width = WIDTH - FIXED - label;
    let row = |out: &mut String, name: &str, bar: &str, n: u64| {
        let _ = writeln!(
            out,
            "  {:<label$}  {bar:<width$}  {n:>8}  {:>6}",
            fit(name, label),
            percent(n, r.contacts)
        );
    };
    let heading = |out: &mut String, title: &str| {
        let _ = writeln!(
            out,
            "\n{title:<w$}{:>8}  {:>6}",
            "contacts",
            "share",
            w = 2 + label + 2 + width + 2
        );
    };

    heading(&mut out, "Queues");
    queues(&mut out, r, label, width);

    heading(&mut out, "Tiers");
    let most = r.tiers.0.iter().map(|(_, n)| *n).max().unwrap_or(0);
    for (tier, n) in &r.tiers.0 {
        row(&mut out, tier, &bar(*n, most, width), *n);
    }
    for t in &r.thresholds {
        let _ = writeln!(out, "  {} needs {}", t.tier, t.needs());
    }
    let _ = writeln!(out, "  cold: below warm");

    heading(
        &mut out,
        &format!("Scores ({}, every contact)", r.scores.describe()),
    );
    let peak = r.scores.peak();
    for (bin, bin_label) in r.scores.bins.iter().zip(&bin_labels) {
        for t in r.thresholds_in(bin).collect::<Vec<_>>().iter().rev() {
            let text = format!("  ── {}: {} ", t.tier, t.needs());
            let fill = WIDTH.saturating_sub(text.chars().count());
            let _ = writeln!(out, "{text}{}", "─".repeat(fill));
        }
        row(
            &mut out,
            bin_label,
            &bar(bin.contacts, peak, width),
            bin.contacts,
        );
    }

    rules(&mut out, r);
    routes(&mut out, r);

    let unreadable: Vec<String> = r
        .unreadable
        .0
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(f, n)| format!("{f} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "\nUnreadable cells: {}",
        if unreadable.is_empty() {
            "none".to_string()
        } else {
            format!("{} (conditions on them were false)", unreadable.join(", "))
        }
    );
    let _ = writeln!(out, "Rejected rows: {}", r.rejected);
    out
}

/// Bin labels with their numbers aligned: ` -30 to -21`, `  0 to   9`.
fn bin_labels(r: &Report) -> Vec<String> {
    let bins = &r.scores.bins;
    let digits = |f: fn(&super::model::Bin) -> i64| {
        bins.iter()
            .map(|b| f(b).to_string().len())
            .max()
            .unwrap_or(0)
    };
    let (from, to) = (digits(|b| b.from), digits(|b| b.to));
    bins.iter()
        .map(|b| {
            if b.from == b.to {
                format!("{:>from$}", b.from)
            } else {
                format!("{:>from$} to {:>to$}", b.from, b.to)
            }
        })
        .collect()
}

/// Queues as classify writes them; with a sales capacity, the sales row marks it (`│`) and
/// the overflow queue's row shows the contacts waiting there (`░`).
fn queues(out: &mut String, r: &Report, label: usize, width: usize) {
    let b = &r.balance;
    let waiting = model::waiting(b);
    // One cell is kept for the capacity mark.
    let w = width - 1;
    let most = r.queues.0.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let scale = most.max(b.sales_capacity.unwrap_or(0));
    for (queue, n) in &r.queues.0 {
        let mut drawn = if *queue == b.overflow_queue && waiting > 0 {
            // Whole cells: the queue's own contacts, then the waiting ones.
            let total = cells(eighths(*n, scale, w));
            let own = cells(eighths(n - waiting, scale, w)).min(total.saturating_sub(1));
            let mut s: String = std::iter::repeat_n(FULL, own).collect();
            s.extend(std::iter::repeat_n(WAITING, total - own));
            s
        } else {
            bar(*n, scale, w)
        };
        if let (true, Some(c)) = (*queue == b.sales_queue, b.sales_capacity) {
            mark_capacity(&mut drawn, cells(eighths(c, scale, w)));
        }
        let _ = writeln!(
            out,
            "  {:<label$}  {drawn:<width$}  {n:>8}  {:>6}",
            fit(queue, label),
            percent(*n, r.contacts)
        );
    }
    match b.sales_capacity {
        None if b.reps.0.is_empty() => {
            let _ = writeln!(
                out,
                "  sales capacity: not set (`[balance] sales_capacity = N` in the rules)"
            );
        }
        None => {}
        Some(c) => {
            let over = if b.over_capacity > 0 {
                format!(
                    "{} wait in {} ({WAITING})",
                    b.over_capacity, b.overflow_queue
                )
            } else {
                "none over capacity".to_string()
            };
            let _ = writeln!(
                out,
                "  {CAPACITY} {} capacity {c}: the rules send {}, {} go, {over}",
                b.sales_queue, b.bound_for_sales, b.sales
            );
        }
    }
    if b.no_rep > 0 {
        let _ = writeln!(
            out,
            "  {} no sales rep with room could take wait in {} ({WAITING})",
            b.no_rep, b.overflow_queue
        );
    }
    if let (Some(short), Some(min)) = (model::short_of_minimum(b), b.min_sales) {
        let _ = writeln!(
            out,
            "  {} is {short} short of its minimum of {min} ([balance] min_sales)",
            b.sales_queue
        );
    }
    if !b.reps.0.is_empty() {
        reps(out, r, label, width);
    }
}

/// Each rep's contacts against their capacity (`│`).
fn reps(out: &mut String, r: &Report, label: usize, width: usize) {
    let reps = &r.balance.reps.0;
    let w = width - 1;
    let scale = reps
        .iter()
        .map(|(_, l)| l.capacity.max(l.assigned))
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "\nSales reps{:>w$}",
        "contacts",
        w = 2 + label + 2 + width + 2 + 8 - 10
    );
    for (name, load) in reps {
        let mut drawn = bar(load.assigned, scale, w);
        mark_capacity(&mut drawn, cells(eighths(load.capacity, scale, w)));
        let _ = writeln!(
            out,
            "  {:<label$}  {drawn:<width$}  {:>8}  of {}",
            fit(name, label),
            load.assigned,
            load.capacity
        );
    }
}

/// The capacity mark at cell `mark` past the end of a bar; none when the bar already
/// reaches beyond it (the count beside it says by how much).
fn mark_capacity(drawn: &mut String, mark: usize) {
    let used = drawn.chars().count();
    if mark >= used {
        drawn.extend(std::iter::repeat_n(' ', mark - used));
        drawn.push(CAPACITY);
    }
}

/// Each rule's hit rate and points, in file order.
fn rules(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\nRules, in file order");
    if r.rule_hits.is_empty() {
        let _ = writeln!(out, "  none");
        return;
    }
    let name = r
        .rule_hits
        .iter()
        .map(|h| h.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 28);
    let width = WIDTH - RULE_FIXED - name;
    let _ = writeln!(
        out,
        "  {:<name$}  {:<width$}  {:>8}  {:>6}  {:>12}",
        "", "hit rate", "matches", "", "points"
    );
    for h in &r.rule_hits {
        let _ = writeln!(
            out,
            "  {:<name$}  {:<width$}  {:>8}  {:>6}  {:>12}",
            fit(&h.name, name),
            bar(h.matches, r.contacts, width),
            h.matches,
            percent(h.matches, r.contacts),
            h.points_text()
        );
    }
    let _ = writeln!(
        out,
        "  hit rate: contacts matched / contacts; points: all it gave, before group caps"
    );
}

fn routes(out: &mut String, r: &Report) {
    if r.route_hits.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nRoutes, in file order");
    let name = r
        .route_hits
        .iter()
        .map(|h| h.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(44);
    for h in &r.route_hits {
        let _ = writeln!(
            out,
            "  {:<name$}  {:>8}  {:>6}  → {}",
            fit(&h.name, name),
            h.matches,
            percent(h.matches, r.contacts),
            h.queue
        );
    }
    // A route to sales counts the contacts it sends there, not those sales takes: they
    // compete for its places with the warm tier's.
    let b = &r.balance;
    let held = model::waiting(b);
    if held > 0 && r.route_hits.iter().any(|h| h.queue == b.sales_queue) {
        let q = &b.sales_queue;
        let _ = writeln!(
            out,
            "  routes to {q} count contacts before the balance: of the {} bound for {q},\n  \
             {q} took {} and {held} wait in {} (see Queues)",
            b.bound_for_sales, b.sales, b.overflow_queue
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_in_eighths() {
        assert_eq!(bar(10, 10, 4), "████");
        assert_eq!(bar(5, 10, 4), "██");
        assert_eq!(bar(1, 16, 2), "▏");
        assert_eq!(bar(3, 16, 2), "▍");
        assert_eq!(bar(11, 16, 2), "█▍");
        assert_eq!(bar(0, 10, 4), "");
        assert_eq!(bar(3, 0, 4), "");
    }

    #[test]
    fn a_count_above_zero_always_shows() {
        assert_eq!(bar(1, 1_000_000, 40), "▏");
    }

    #[test]
    fn names_are_cut_with_an_ellipsis() {
        assert_eq!(fit("Decision maker", 20), "Decision maker");
        assert_eq!(fit("Decision maker", 8), "Decisio…");
        assert_eq!(fit("Grüße", 5), "Grüße");
    }
}
