//! The report as one self-contained HTML page: inline CSS and inline SVG, nothing loaded
//! from anywhere (a Content-Security-Policy says so to the browser too), no script.
//!
//! Every bar is a `<rect class="bar">` with `data-chart`, `data-label` and `data-count`, so
//! a test (or a curious reader of the source) can check the picture against the numbers.

use std::fmt::Write as _;

use super::model::{self, Bin, Report, percent};
use crate::ui::plural;

/// Escape text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `length * count / scale`, as SVG writes it (two decimals).
fn scaled(count: u64, scale: u64, length: f64) -> String {
    let x = if scale == 0 {
        0.0
    } else {
        length * count as f64 / scale as f64
    };
    format!("{x:.2}")
}

const STYLE: &str = "
:root{--ink:#1d2330;--muted:#5f6b7a;--grid:#dfe3ea;--track:#eef1f5;--paper:#fff;
--sales:#2f6fdf;--marketing:#e08a1e;--suppressed:#8a919c;--queue:#7b61c9;
--hot:#d9480f;--warm:#f2a007;--cold:#4c8fd6;--disqualified:#8a919c;--rule:#3d8b6d}
@media (prefers-color-scheme:dark){:root{--ink:#e6e9ef;--muted:#9aa4b2;--grid:#3a4150;
--track:#2a303b;--paper:#161a21}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:780px;padding:24px 16px 48px;background:var(--paper);color:var(--ink);
font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}
h1{font-size:1.45rem;margin:0 0 4px}
h2{font-size:1.1rem;margin:32px 0 6px;border-bottom:1px solid var(--grid);padding-bottom:4px}
p{margin:6px 0}
.meta,.note{color:var(--muted);font-size:.9rem}
svg{display:block;max-width:100%;height:auto;font-size:12px}
svg text{fill:var(--ink)}
svg .muted{fill:var(--muted)}
.axis{stroke:var(--muted);stroke-width:1}
.track{fill:var(--track)}
.capacity{stroke:var(--ink);stroke-width:2;stroke-dasharray:4 3}
.threshold{stroke:var(--ink);stroke-width:1.5;stroke-dasharray:5 3}
.q-sales{fill:var(--sales)}.q-marketing{fill:var(--marketing)}.q-suppressed{fill:var(--suppressed)}
.q-other{fill:var(--queue)}
.waiting{fill:url(#hatch);stroke:var(--ink);stroke-width:.5}
.t-hot{fill:var(--hot)}.t-warm{fill:var(--warm)}.t-cold{fill:var(--cold)}
.t-disqualified{fill:var(--disqualified)}
.r-rule{fill:var(--rule)}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--grid);vertical-align:middle}
th{font-weight:600;color:var(--muted)}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.rate{white-space:nowrap}
td.rate svg{display:inline-block;vertical-align:middle;margin-right:6px}
";

/// The page.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let title = format!("Balance of {} as of {}", r.input, r.as_of);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"leadsort {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(r.leadsort_version),
        esc(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        out,
        "<p class=\"meta\">{}, {} · rules {} · leadsort {}</p>",
        plural(r.contacts, "contact"),
        plural(r.rejected, "rejected row"),
        esc(&r.rules),
        esc(r.leadsort_version)
    );

    out.push_str("\n<h2 id=\"queues\">Queues</h2>\n");
    queues(&mut out, r);

    out.push_str("\n<h2 id=\"tiers\">Tiers</h2>\n");
    let most = r.tiers.0.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let rows: Vec<Row<'_>> = r
        .tiers
        .0
        .iter()
        .map(|(t, n)| Row {
            label: t,
            count: *n,
            class: format!("t-{t}"),
        })
        .collect();
    out.push_str(&hbars("tiers", &rows, most, r.contacts, &[]));
    let needs: Vec<String> = r
        .thresholds
        .iter()
        .map(|t| format!("{} needs {}", t.tier, t.needs()))
        .collect();
    let _ = writeln!(
        out,
        "<p class=\"note\">{}; below warm is cold; a disqualified contact keeps its score.</p>",
        esc(&needs.join("; "))
    );

    let _ = writeln!(
        out,
        "\n<h2 id=\"scores\">Scores</h2>\n<p class=\"note\">Every contact, in {}; \
         the dashed lines are the tiers' score thresholds (a tier may need group points too).</p>",
        esc(&r.scores.describe())
    );
    histogram(&mut out, r);

    out.push_str("\n<h2 id=\"rules\">Rules</h2>\n");
    rules(&mut out, r);
    routes(&mut out, r);

    out.push_str("\n<h2 id=\"unreadable\">Unreadable cells</h2>\n");
    let bad: Vec<&(String, u64)> = r.unreadable.0.iter().filter(|(_, n)| *n > 0).collect();
    if bad.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str(
            "<p class=\"note\">Contacts whose cell could not be read as the type the rules \
             need: the conditions on it were false for them; the run went on.</p>\n\
             <table>\n<thead><tr><th>field</th><th class=\"n\">contacts</th></tr></thead>\n<tbody>\n",
        );
        for (field, n) in bad {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{n}</td></tr>",
                esc(field)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(
        out,
        "<p>Rejected rows (could not be read, left out): {}.</p>",
        r.rejected
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// One bar of a horizontal bar chart.
#[derive(Debug)]
struct Row<'a> {
    label: &'a str,
    count: u64,
    class: String,
}

/// A mark over one row: the capacity line, or the waiting part of a bar.
#[derive(Debug)]
enum Mark {
    /// A dashed line at this count across the row.
    Capacity { row: usize, at: u64 },
    /// The last `count` of the row's bar are waiting contacts.
    Waiting { row: usize, count: u64 },
}

// Horizontal charts: labels, then the plot, then the numbers.
const H_WIDTH: f64 = 720.0;
const H_PLOT_X: f64 = 150.0;
const H_PLOT_W: f64 = 430.0;
const H_ROW: f64 = 28.0;
const H_BAR: f64 = 18.0;
const H_TOP: f64 = 10.0;

/// Horizontal bars, `count / scale` of the plot width each.
fn hbars(chart: &str, rows: &[Row<'_>], scale: u64, total: u64, marks: &[Mark]) -> String {
    let mut s = String::new();
    let below = if marks.iter().any(|m| matches!(m, Mark::Capacity { .. })) {
        18.0
    } else {
        0.0
    };
    let height = H_TOP * 2.0 + H_ROW * rows.len() as f64 + below;
    let _ = writeln!(
        s,
        "<svg class=\"chart\" data-chart=\"{chart}\" viewBox=\"0 0 {H_WIDTH} {height}\" width=\"{H_WIDTH}\" \
         height=\"{height}\" role=\"img\" aria-label=\"{chart}\">"
    );
    if marks.iter().any(|m| matches!(m, Mark::Waiting { .. })) {
        // One chart per page has waiting contacts, so the id is unique.
        s.push_str(
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
             patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" class=\"q-marketing\"/>\
             <rect width=\"3\" height=\"6\" fill=\"#fff\" fill-opacity=\"0.6\"/></pattern></defs>\n",
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = H_TOP + H_ROW * i as f64;
        let bar_y = y + (H_ROW - H_BAR) / 2.0;
        let text_y = y + H_ROW / 2.0 + 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\">{}</text>",
            H_PLOT_X - 10.0,
            esc(row.label)
        );
        let _ = writeln!(
            s,
            "<rect class=\"bar {}\" data-chart=\"{chart}\" data-label=\"{}\" data-count=\"{}\" \
             x=\"{H_PLOT_X}\" y=\"{bar_y}\" width=\"{}\" height=\"{H_BAR}\">\
             <title>{}: {} ({})</title></rect>",
            row.class,
            esc(row.label),
            row.count,
            scaled(row.count, scale, H_PLOT_W),
            esc(row.label),
            row.count,
            percent(row.count, total)
        );
        for mark in marks {
            match *mark {
                Mark::Waiting { row: r, count } if r == i && count > 0 => {
                    let own = row.count.saturating_sub(count);
                    let _ = writeln!(
                        s,
                        "<rect class=\"bar waiting\" data-chart=\"{chart}\" data-label=\"waiting\" \
                         data-count=\"{count}\" x=\"{}\" y=\"{bar_y}\" width=\"{}\" height=\"{H_BAR}\">\
                         <title>waiting over sales capacity: {count}</title></rect>",
                        format_args!("{:.2}", H_PLOT_X + H_PLOT_W * ratio(own, scale)),
                        scaled(count, scale, H_PLOT_W),
                    );
                }
                _ => {}
            }
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{text_y}\">{} <tspan class=\"muted\">{}</tspan></text>",
            H_PLOT_X + H_PLOT_W + 12.0,
            row.count,
            percent(row.count, total)
        );
    }
    for mark in marks {
        if let Mark::Capacity { row, at } = *mark {
            let x = format!("{:.2}", H_PLOT_X + H_PLOT_W * ratio(at, scale));
            let y1 = H_TOP + H_ROW * row as f64;
            let y2 = H_TOP + H_ROW * rows.len() as f64 + 4.0;
            let _ = writeln!(
                s,
                "<line class=\"capacity\" data-capacity=\"{at}\" x1=\"{x}\" x2=\"{x}\" y1=\"{y1}\" y2=\"{y2}\"/>\n\
                 <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">capacity {at}</text>",
                y2 + 13.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn ratio(n: u64, scale: u64) -> f64 {
    if scale == 0 {
        0.0
    } else {
        n as f64 / scale as f64
    }
}

/// Queues as classify writes them, with the sales capacity drawn as a line.
fn queues(out: &mut String, r: &Report) {
    let b = &r.balance;
    let waiting = model::waiting(b);
    let class = |q: &str| match q {
        "sales" | "marketing" | "suppressed" => format!("q-{q}"),
        _ if q == b.sales_queue => "q-sales".to_string(),
        _ => "q-other".to_string(),
    };
    let rows: Vec<Row<'_>> = r
        .queues
        .0
        .iter()
        .map(|(q, n)| Row {
            label: q,
            count: *n,
            class: class(q),
        })
        .collect();
    let mut marks = Vec::new();
    if let (Some(c), Some(row)) = (
        b.sales_capacity,
        rows.iter().position(|q| q.label == b.sales_queue),
    ) {
        marks.push(Mark::Capacity { row, at: c });
    }
    if let (true, Some(row)) = (
        waiting > 0,
        rows.iter().position(|q| q.label == b.overflow_queue),
    ) {
        marks.push(Mark::Waiting {
            row,
            count: waiting,
        });
    }
    let most = rows.iter().map(|q| q.count).max().unwrap_or(0);
    let scale = most.max(b.sales_capacity.unwrap_or(0));
    out.push_str(&hbars("queues", &rows, scale, r.contacts, &marks));
    let mut notes = Vec::new();
    match b.sales_capacity {
        None if b.reps.0.is_empty() => notes.push(format!(
            "Sales capacity: not set. Add <code>[balance] sales_capacity = N</code> to the rules \
             to see {} against it.",
            esc(&b.sales_queue)
        )),
        None => {}
        Some(c) => notes.push(format!(
            "Sales capacity {c} (dashed line): the rules send {} contacts to {}; {} go ({}), {} \
             wait in {} ({}, hatched).",
            b.bound_for_sales,
            esc(&b.sales_queue),
            b.sales,
            percent(b.sales, r.contacts),
            b.over_capacity,
            esc(&b.overflow_queue),
            percent(b.over_capacity, r.contacts)
        )),
    }
    if b.no_rep > 0 {
        notes.push(format!(
            "{} no sales rep with room could take wait in {} (hatched).",
            b.no_rep,
            esc(&b.overflow_queue)
        ));
    }
    for note in notes {
        let _ = writeln!(out, "<p class=\"note\">{note}</p>");
    }
    if let (Some(short), Some(min)) = (model::short_of_minimum(b), b.min_sales) {
        let _ = writeln!(
            out,
            "<p><strong>{} is {short} short of its minimum of {min}</strong> \
             (<code>[balance] min_sales</code>).</p>",
            esc(&b.sales_queue)
        );
    }
    if !b.reps.0.is_empty() {
        out.push_str(
            "<table class=\"reps\">\n<thead><tr><th>sales rep</th><th class=\"n\">contacts</th>\
             <th>of capacity</th></tr></thead>\n<tbody>\n",
        );
        for (name, load) in &b.reps.0 {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"rate\">{}{}</td></tr>",
                esc(name),
                load.assigned,
                rate_bar("reps", name, load.assigned, load.capacity),
                load.capacity
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
}

// The score histogram: vertical bars over the score axis.
const V_WIDTH: f64 = 720.0;
const V_PLOT_X: f64 = 40.0;
const V_PLOT_W: f64 = 660.0;
const V_TOP: f64 = 40.0;
const V_PLOT_H: f64 = 200.0;
const V_HEIGHT: f64 = 290.0;

fn histogram(out: &mut String, r: &Report) {
    let bins = &r.scores.bins;
    if bins.is_empty() {
        return;
    }
    // Each bin's slot is as wide as its share of the axis: a bin split at a threshold is
    // drawn narrower, so that the axis stays even.
    let widths = r.scores.widths();
    let unit = V_PLOT_W / widths.iter().sum::<f64>();
    let starts: Vec<f64> = (widths.iter())
        .scan(V_PLOT_X, |x, w| {
            let start = *x;
            *x += w * unit;
            Some(start)
        })
        .collect();
    let slot_of = |i: usize| widths[i] * unit;
    // Heights are contacts per full bin's width, so that a narrower bin's area, like any
    // other's, is its count.
    let density = |i: usize| bins[i].contacts as f64 / widths[i];
    let densest = (0..bins.len()).map(density).fold(0.0, f64::max);
    let base = V_TOP + V_PLOT_H;
    // A score's place on the axis: its bin's slot, and how far into the bin it lies (the
    // bins at the ends of `i64` are cut short, so it is not reckoned from the first edge).
    let x_of = |score: i64| {
        let i = bins
            .iter()
            .position(|b| score <= b.to)
            .unwrap_or(bins.len() - 1);
        let (from, to) = (i128::from(bins[i].from), i128::from(bins[i].to));
        let within = (i128::from(score) - from) as f64 / (to - from + 1) as f64;
        starts[i] + slot_of(i) * within.clamp(0.0, 1.0)
    };
    let _ = writeln!(
        out,
        "<svg class=\"chart\" data-chart=\"scores\" viewBox=\"0 0 {V_WIDTH} {V_HEIGHT}\" \
         width=\"{V_WIDTH}\" height=\"{V_HEIGHT}\" role=\"img\" aria-label=\"score distribution\">"
    );
    let region = |bin: &Bin| {
        r.thresholds
            .iter()
            .find(|t| bin.from >= t.edge)
            .map_or("t-cold".to_string(), |t| format!("t-{}", t.tier))
    };
    // Label every bin's lower edge when they fit, else every other one.
    let every = if unit >= 34.0 { 1 } else { 2 };
    for (i, bin) in bins.iter().enumerate() {
        let (x, slot) = (starts[i], slot_of(i));
        let gap = (slot * 0.12).min(4.0);
        let h = if densest > 0.0 {
            V_PLOT_H * density(i) / densest
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "<rect class=\"bar {}\" data-chart=\"scores\" data-label=\"{}\" data-from=\"{}\" \
             data-to=\"{}\" data-count=\"{}\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\">\
             <title>score {}: {} ({})</title></rect>",
            region(bin),
            esc(&bin.label()),
            bin.from,
            bin.to,
            bin.contacts,
            x + gap / 2.0,
            base - h,
            slot - gap,
            h,
            esc(&bin.label()),
            bin.contacts,
            percent(bin.contacts, r.contacts)
        );
        if bin.contacts > 0 {
            let _ = writeln!(
                out,
                "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\" class=\"muted\">{}</text>",
                x + slot / 2.0,
                base - h - 4.0,
                bin.contacts
            );
        }
        if i % every == 0 {
            let _ = writeln!(
                out,
                "<text x=\"{x:.2}\" y=\"{}\" text-anchor=\"middle\" class=\"muted\">{}</text>",
                base + 16.0,
                bin.from
            );
        }
    }
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{V_PLOT_X}\" x2=\"{}\" y1=\"{base}\" y2=\"{base}\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"muted\">score</text>",
        V_PLOT_X + V_PLOT_W,
        V_PLOT_X + V_PLOT_W / 2.0,
        base + 36.0
    );
    // Labels on two heights, so hot's and warm's do not overlap when they are close.
    for (i, t) in r.thresholds.iter().enumerate() {
        let x = format!("{:.2}", x_of(t.edge));
        let label_y = V_TOP - 26.0 + 14.0 * (i % 2) as f64;
        let _ = writeln!(
            out,
            "<line class=\"threshold\" data-tier=\"{}\" data-score=\"{}\" x1=\"{x}\" x2=\"{x}\" \
             y1=\"{}\" y2=\"{base}\"/>\n<text x=\"{x}\" y=\"{label_y}\" text-anchor=\"start\" dx=\"4\">{} ≥ {}</text>",
            t.tier,
            t.edge,
            label_y - 10.0,
            t.tier,
            t.edge
        );
    }
    out.push_str("</svg>\n");
}

// The hit-rate bar in each row of the rules table.
const RATE_W: f64 = 140.0;
const RATE_H: f64 = 12.0;

fn rate_bar(chart: &str, label: &str, count: u64, total: u64) -> String {
    format!(
        "<svg width=\"{RATE_W}\" height=\"{RATE_H}\" viewBox=\"0 0 {RATE_W} {RATE_H}\" aria-hidden=\"true\">\
         <rect class=\"track\" width=\"{RATE_W}\" height=\"{RATE_H}\"/>\
         <rect class=\"bar r-rule\" data-chart=\"{chart}\" data-label=\"{}\" data-count=\"{count}\" \
         width=\"{}\" height=\"{RATE_H}\"/></svg>",
        esc(label),
        scaled(count, total, RATE_W)
    )
}

fn rules(out: &mut String, r: &Report) {
    if r.rule_hits.is_empty() {
        out.push_str("<p>No rules.</p>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">In file order. Hit rate: the contacts a rule matched, of all \
         contacts. Points: the sum of what the rule gave them, before group caps.</p>\n\
         <table class=\"rules\">\n<thead><tr><th>rule</th><th>group</th><th class=\"n\">matches</th>\
         <th>hit rate</th><th class=\"n\">points</th></tr></thead>\n<tbody>\n",
    );
    for h in &r.rule_hits {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"rate\">{}{}</td>\
             <td class=\"n\">{}</td></tr>",
            esc(&h.name),
            esc(h.group.as_deref().unwrap_or("")),
            h.matches,
            rate_bar("rules", &h.name, h.matches, r.contacts),
            percent(h.matches, r.contacts),
            esc(&h.points_text())
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn routes(out: &mut String, r: &Report) {
    if r.route_hits.is_empty() {
        return;
    }
    out.push_str(
        "\n<h2 id=\"routes\">Routes</h2>\n<p class=\"note\">In file order: the first that \
         matches a contact decides its queue.</p>\n<table class=\"routes\">\n<thead><tr><th>route</th>\
         <th>queue</th><th class=\"n\">matches</th><th>share</th></tr></thead>\n<tbody>\n",
    );
    for h in &r.route_hits {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"rate\">{}{}</td></tr>",
            esc(&h.name),
            esc(&h.queue),
            h.matches,
            rate_bar("routes", &h.name, h.matches, r.contacts),
            percent(h.matches, r.contacts)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn lengths_are_proportional() {
        assert_eq!(scaled(37, 177, 430.0), "89.89");
        assert_eq!(scaled(0, 177, 430.0), "0.00");
        assert_eq!(scaled(5, 0, 430.0), "0.00");
    }
}
