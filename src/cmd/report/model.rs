//! The numbers of a report, counted once and shown three ways (text, HTML, JSON).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::balance::{Candidate, Decision, Plan, Why};
use crate::engine::{Engine, Outcome, Stats, fmt_number};
use crate::rules::{Rules, Tier, TierRule};
use crate::summary::{Balance, Counts, Ordered, Waited, share};

/// Counters kept while the contacts are scored. Memory stays flat: scores are counted by
/// value, not kept per contact.
#[derive(Debug, Clone)]
pub struct Tally {
    pub contacts: u64,
    pub rejected: u64,
    /// By `QueueId`: where the rules send contacts (before any sales capacity).
    queues: Vec<u64>,
    /// By `Tier as usize`.
    tiers: [u64; 4],
    /// Contacts by exact score.
    scores: BTreeMap<i64, u64>,
    rule_hits: Vec<u64>,
    /// Per rule: the sum of the points it gave, before group caps.
    rule_points: Vec<f64>,
    route_hits: Vec<u64>,
    /// Contacts bound for sales, when the rules limit it (capacity, reps): decided at the
    /// end, as classify decides them.
    pub held: Vec<Candidate>,
}

impl Tally {
    pub fn new(engine: &Engine, rules: &Rules) -> Tally {
        Tally {
            contacts: 0,
            rejected: 0,
            queues: vec![0; engine.queues.len()],
            tiers: [0; 4],
            scores: BTreeMap::new(),
            rule_hits: vec![0; rules.rules.len()],
            rule_points: vec![0.0; rules.rules.len()],
            route_hits: vec![0; rules.routes.len()],
            held: Vec::new(),
        }
    }

    /// Count one scored contact.
    pub fn add(&mut self, outcome: &Outcome) {
        self.contacts += 1;
        self.queues[outcome.queue] += 1;
        self.tiers[outcome.tier() as usize] += 1;
        *self.scores.entry(outcome.score).or_insert(0) += 1;
        for hit in &outcome.hits {
            self.rule_hits[hit.rule] += 1;
            self.rule_points[hit.rule] += hit.points;
        }
        if let Some(r) = outcome.route {
            self.route_hits[r] += 1;
        }
    }
}

/// Where the report's numbers come from: its input, rules and day.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub input: &'a str,
    /// The SHA-256 of the input as stored, as classify's summary.json gives it.
    pub input_sha256: Option<&'a str>,
    pub rules: &'a Rules,
    pub engine: &'a Engine,
    pub stats: &'a Stats,
    pub as_of: Date,
}

/// Everything a report shows. Serialised as-is for `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub leadsort_version: &'static str,
    pub input: String,
    /// As in classify's summary.json: which file, byte for byte, the report is of.
    pub input_sha256: Option<String>,
    /// The rules file.
    pub rules: String,
    pub rules_sha256: String,
    pub as_of: String,
    /// Records read after the header: `contacts + rejected`.
    pub rows: u64,
    pub contacts: u64,
    pub rejected: u64,
    /// Contacts per queue as classify writes them: the sales capacity applied.
    pub queues: Counts,
    /// Sales against its capacity (the `balance` of classify's summary.json).
    pub balance: Balance,
    /// Contacts per tier, from the top.
    pub tiers: Counts,
    /// What the hot and warm tiers need, from the top.
    pub thresholds: Vec<Threshold>,
    pub scores: Histogram,
    pub rule_hits: Vec<RuleHits>,
    pub route_hits: Vec<RouteHits>,
    /// Per field: contacts whose cell could not be read as the type its conditions need.
    pub unreadable: Counts,
}

/// Sales has fewer contacts than `[balance] min_sales` asks for: by how many.
pub fn short_of_minimum(b: &Balance) -> Option<u64> {
    b.min_sales.filter(|m| b.sales < *m).map(|m| m - b.sales)
}

/// Contacts waiting in the overflow queue: over capacity, or no rep could take them.
pub fn waiting(b: &Balance) -> u64 {
    b.over_capacity + b.no_rep
}

/// What a tier needs: a score, and maybe group subtotals.
#[derive(Debug, Clone, Serialize)]
pub struct Threshold {
    pub tier: &'static str,
    pub score: f64,
    /// Group subtotals the tier also needs, by group name.
    pub groups: Ordered<f64>,
    /// The lowest whole score that meets `score` (scores are whole numbers).
    #[serde(skip)]
    pub edge: i64,
}

impl Threshold {
    fn new(tier: Tier, rule: &TierRule, rules: &Rules) -> Threshold {
        Threshold {
            tier: tier.as_str(),
            score: rule.score,
            groups: Ordered(
                rule.groups
                    .iter()
                    .map(|&(g, min)| (rules.groups[g].name.clone(), min))
                    .collect(),
            ),
            edge: whole(rule.score.ceil()),
        }
    }

    /// `score ≥ 80 and fit ≥ 30`.
    pub fn needs(&self) -> String {
        let mut s = format!("score ≥ {}", fmt_number(self.score));
        for (group, min) in &self.groups.0 {
            s.push_str(&format!(" and {group} ≥ {}", fmt_number(*min)));
        }
        s
    }
}

/// A score as a whole number, saturating (`f64 as i64` does).
fn whole(x: f64) -> i64 {
    x as i64
}

/// How many contacts got each score, in bins of one width.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Histogram {
    /// The width of the bins, but those split at a threshold (`split`).
    pub bin_width: i64,
    /// From the lowest scores up; together they hold every contact.
    pub bins: Vec<Bin>,
    /// Thresholds off the bins' grid (hot, when warm is the anchor), where a bin was split in
    /// two narrower ones.
    pub split: Vec<i64>,
}

/// Contacts with a score from `from` to `to`, both included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bin {
    pub from: i64,
    pub to: i64,
    pub contacts: u64,
}

impl Bin {
    /// `50 to 59`, or `50` for a bin one point wide.
    pub fn label(&self) -> String {
        if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{} to {}", self.from, self.to)
        }
    }
}

/// At most this many bins: enough to see a shape, few enough to read.
pub const MAX_BINS: i128 = 20;

/// The bins for scores from `low` to `high` (both included): the narrowest width of 1, 2, 5,
/// 10, 20, 50, ... points that needs at most `MAX_BINS` bins, with bin edges on `anchor`
/// (the warm threshold), so that a bin starts exactly where warm does. Returns the first
/// bin's lower edge, the width and the number of bins: wide, since the first edge may lie
/// below `i64::MIN` when the scores reach it.
pub fn binning(low: i64, high: i64, anchor: i64) -> (i128, i128, usize) {
    let (low, high, anchor) = (
        i128::from(low),
        i128::from(high.max(low)),
        i128::from(anchor),
    );
    let mut width: i128 = 1;
    loop {
        for step in [1, 2, 5] {
            let w = width * step;
            let first = anchor + (low - anchor).div_euclid(w) * w;
            let bins = (high - first).div_euclid(w) + 1;
            if bins <= MAX_BINS || w >= i128::from(i64::MAX) {
                let count = usize::try_from(bins.clamp(1, MAX_BINS)).unwrap_or(1);
                return (first, w, count);
            }
        }
        width *= 10;
    }
}

fn saturate(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}

impl Histogram {
    /// Bin the score counts; the range also covers the thresholds, so their lines show even
    /// when no contact is near them.
    pub fn new(scores: &BTreeMap<i64, u64>, thresholds: &[Threshold], anchor: i64) -> Histogram {
        let edges = thresholds.iter().map(|t| t.edge);
        let low = scores
            .keys()
            .next()
            .copied()
            .into_iter()
            .chain(edges.clone())
            .min();
        let high = scores
            .keys()
            .next_back()
            .copied()
            .into_iter()
            .chain(edges)
            .max();
        let (low, high) = (low.unwrap_or(anchor), high.unwrap_or(anchor));
        let (first, width, count) = binning(low, high, anchor);
        // Edges are reckoned wide and cut to the scores there can be: the first and last bins
        // of scores that reach `i64::MIN` or `i64::MAX` are shorter than the others.
        let mut bins: Vec<Bin> = (0..count)
            .map(|i| {
                let from = first + width * i as i128;
                Bin {
                    from: saturate(from),
                    to: saturate(from + width - 1),
                    contacts: 0,
                }
            })
            .collect();
        // A threshold off the grid (hot, when warm is the anchor) splits its bin, so that its
        // line falls between the contacts below it and those that reach it.
        let mut split = Vec::new();
        for t in thresholds {
            if let Some(i) = bins.iter().position(|b| b.from < t.edge && t.edge <= b.to) {
                let upper = Bin {
                    from: t.edge,
                    to: bins[i].to,
                    contacts: 0,
                };
                bins[i].to = t.edge - 1;
                bins.insert(i + 1, upper);
                split.push(t.edge);
            }
        }
        split.sort_unstable();
        for (&score, &n) in scores {
            let i = bins.partition_point(|b| b.from <= score).max(1) - 1;
            bins[i].contacts += n;
        }
        Histogram {
            bin_width: saturate(width),
            bins,
            split,
        }
    }

    /// How the bins are cut, for a heading: `bins of 10 points`, and where one was split.
    pub fn describe(&self) -> String {
        let w = self.bin_width;
        let mut s = format!("bins of {w} point{}", if w == 1 { "" } else { "s" });
        for edge in &self.split {
            s.push_str(&format!(", one split at {edge}"));
        }
        s
    }

    /// Each bin's share of the axis: its width over `bin_width` (a split bin's halves, and
    /// the bins cut short at the ends of `i64`, are narrower), at least a twentieth.
    pub fn widths(&self) -> Vec<f64> {
        let full = i128::from(self.bin_width.max(1)) as f64;
        (self.bins.iter())
            .map(|b| {
                let w = (i128::from(b.to) - i128::from(b.from) + 1) as f64;
                (w / full).clamp(0.05, 1.0)
            })
            .collect()
    }

    /// The largest bin.
    pub fn peak(&self) -> u64 {
        self.bins.iter().map(|b| b.contacts).max().unwrap_or(0)
    }
}

/// One rule: how often it matched and what it gave.
#[derive(Debug, Clone, Serialize)]
pub struct RuleHits {
    pub name: String,
    pub group: Option<String>,
    /// Contacts it matched.
    pub matches: u64,
    /// `matches / contacts`, from 0 to 1, rounded to 4 decimals.
    pub hit_rate: f64,
    /// The sum of the points it gave, before group caps, to two decimals; `None` for a rule
    /// without points.
    pub points: Option<f64>,
    pub disqualifies: bool,
}

impl RuleHits {
    /// `+1080`, `-950`, `disqualifies`, or empty.
    pub fn points_text(&self) -> String {
        match (self.points, self.disqualifies) {
            (None, true) => "disqualifies".to_string(),
            (None, false) => String::new(),
            (Some(p), _) => signed(p),
        }
    }
}

/// `+20`, `-10`, `0`.
pub fn signed(p: f64) -> String {
    let p = if p == 0.0 { 0.0 } else { p }; // no `-0`
    if p > 0.0 {
        format!("+{}", fmt_number(p))
    } else {
        fmt_number(p)
    }
}

/// One route: how many contacts it sent to its queue.
#[derive(Debug, Clone, Serialize)]
pub struct RouteHits {
    pub name: String,
    pub queue: String,
    pub matches: u64,
    pub hit_rate: f64,
}

/// `15.4%`.
pub fn percent(n: u64, total: u64) -> String {
    let p = if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    };
    format!("{p:.1}%")
}

impl Report {
    pub fn new(cx: Context<'_>, tally: &Tally) -> Report {
        let Context {
            input,
            input_sha256,
            rules,
            engine,
            stats,
            as_of,
        } = cx;
        let contacts = tally.contacts;
        let (balance, queues) = balance(rules, engine, tally);
        let queues = Ordered(engine.queues.iter().cloned().zip(queues).collect());
        let tiers = Ordered(
            engine
                .tiers()
                .iter()
                .map(|t| (t.as_str().to_string(), tally.tiers[*t as usize]))
                .collect(),
        );
        let mut thresholds = Vec::new();
        if let Some(hot) = &rules.tiers.hot {
            thresholds.push(Threshold::new(Tier::Hot, hot, rules));
        }
        thresholds.push(Threshold::new(Tier::Warm, &rules.tiers.warm, rules));
        let anchor = whole(rules.tiers.warm.score.ceil());
        let rule_hits = rules
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| RuleHits {
                name: r.name.clone(),
                group: r.group.map(|g| rules.groups[g].name.clone()),
                matches: tally.rule_hits[i],
                hit_rate: share(tally.rule_hits[i], contacts),
                // To the cent, as the text shows it (a sum of decayed points has a long tail).
                points: (r.points.as_ref()).map(|_| (tally.rule_points[i] * 100.0).round() / 100.0),
                disqualifies: r.disqualify,
            })
            .collect();
        let route_hits = rules
            .routes
            .iter()
            .zip(&tally.route_hits)
            .map(|(r, &n)| RouteHits {
                name: r.name.clone(),
                queue: r.queue.clone(),
                matches: n,
                hit_rate: share(n, contacts),
            })
            .collect();
        Report {
            leadsort_version: env!("CARGO_PKG_VERSION"),
            input: input.to_string(),
            input_sha256: input_sha256.map(str::to_string),
            rules: rules.source.path.display().to_string(),
            rules_sha256: crate::guard::sha256(rules.source.text.as_bytes()),
            as_of: as_of.to_string(),
            rows: contacts + tally.rejected,
            contacts,
            rejected: tally.rejected,
            queues,
            balance,
            tiers,
            scores: Histogram::new(&tally.scores, &thresholds, anchor),
            thresholds,
            rule_hits,
            route_hits,
            unreadable: Ordered(
                engine
                    .typed_fields
                    .iter()
                    .cloned()
                    .zip(stats.unreadable.iter().copied())
                    .collect(),
            ),
        }
    }

    /// The threshold whose line sits at the lower edge of this bin (or inside it, when the
    /// bin width does not divide the distance to warm).
    pub fn thresholds_in(&self, bin: &Bin) -> impl Iterator<Item = &Threshold> {
        let (from, to) = (bin.from, bin.to);
        self.thresholds
            .iter()
            .filter(move |t| t.edge >= from && t.edge <= to)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string());
        s.push('\n');
        s
    }
}

/// The sales queue against `[balance]` and the reps, decided as classify decides it: of the
/// contacts the rules send to sales, the highest scores go (each to a rep with room, when
/// there are reps), up to the capacity; the others wait in the overflow queue. Returns the
/// balance and the contacts per queue after it.
fn balance(rules: &Rules, engine: &Engine, tally: &Tally) -> (Balance, Vec<u64>) {
    let sales = engine.queue_id(rules.sales_queue());
    let overflow = engine.queue_id(rules.overflow_queue());
    let mut queues = tally.queues.clone();
    let (mut over_capacity, mut no_rep) = (0, 0);
    let mut loads = vec![0u64; rules.reps.len()];
    if rules.holds_sales() {
        let (decisions, _) = crate::balance::decide(&Plan::new(rules), &tally.held);
        for d in decisions {
            match d {
                Decision::Sales { rep: Some(r) } => loads[r] += 1,
                Decision::Sales { rep: None } => {}
                Decision::Waits(Why::OverCapacity) => over_capacity += 1,
                Decision::Waits(Why::NoRep) => no_rep += 1,
            }
        }
        queues[sales] -= over_capacity + no_rep;
        queues[overflow] += over_capacity + no_rep;
    }
    let waited = Waited {
        over_capacity,
        no_rep,
    };
    let balance = Balance::new(rules, &engine.queues, &queues, waited, loads);
    (balance, queues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(scores: &[(i64, u64)], warm: i64, hot: Option<i64>) -> Histogram {
        let scores: BTreeMap<i64, u64> = scores.iter().copied().collect();
        let mut thresholds = Vec::new();
        for (tier, edge) in [("hot", hot), ("warm", Some(warm))] {
            if let Some(edge) = edge {
                thresholds.push(Threshold {
                    tier,
                    score: edge as f64,
                    groups: Ordered(Vec::new()),
                    edge,
                });
            }
        }
        Histogram::new(&scores, &thresholds, warm)
    }

    #[test]
    fn the_width_is_the_narrowest_nice_one_with_at_most_twenty_bins() {
        assert_eq!(binning(0, 9, 5), (0, 1, 10));
        assert_eq!(binning(0, 19, 0), (0, 1, 20));
        assert_eq!(binning(0, 20, 0), (0, 2, 11));
        assert_eq!(binning(-30, 110, 50), (-30, 10, 15));
        assert_eq!(binning(0, 99, 50), (0, 5, 20));
        assert_eq!(binning(0, 100, 50), (0, 10, 11));
        assert_eq!(binning(-500, 1500, 50), (-550, 200, 11));
    }

    #[test]
    fn bins_are_aligned_on_the_warm_threshold() {
        for (low, high, warm) in [(-37, 113, 50), (3, 47, 13), (-1000, -3, -7), (0, 0, 42)] {
            let (first, width, count) = binning(low, high, warm);
            let (low, high, warm) = (i128::from(low), i128::from(high), i128::from(warm));
            assert_eq!((warm - first).rem_euclid(width), 0, "{low} {high} {warm}");
            assert!(first <= low, "the first bin holds the lowest score");
            assert!(
                first + width * count as i128 > high,
                "the last holds the highest"
            );
            assert!(first + width > low, "no empty bin below the lowest score");
            assert!(count as i128 <= MAX_BINS);
        }
    }

    /// The bins follow on from each other without gaps, from the lowest score (or
    /// threshold) to the highest; each contact is in the bin of its score; a threshold that
    /// is not the lowest starts a bin.
    fn assert_well_binned(h: &Histogram, scores: &[(i64, u64)], thresholds: &[i64]) {
        // Each threshold but the anchor may split a bin.
        let most = MAX_BINS + thresholds.len() as i128 - 1;
        assert!(!h.bins.is_empty() && h.bins.len() as i128 <= most);
        for pair in h.bins.windows(2) {
            assert!(pair[0].from <= pair[0].to, "{:?}", pair[0]);
            assert_eq!(
                i128::from(pair[0].to) + 1,
                i128::from(pair[1].from),
                "{pair:?}"
            );
        }
        let (first, last) = (&h.bins[0], &h.bins[h.bins.len() - 1]);
        assert!(last.from <= last.to);
        for &s in scores.iter().map(|(s, _)| s).chain(thresholds) {
            assert!(first.from <= s && s <= last.to, "{s} outside the bins");
        }
        for (score, n) in scores {
            let bin = h.bins.iter().find(|b| b.from <= *score && *score <= b.to);
            assert!(bin.is_some_and(|b| b.contacts >= *n), "{score}");
        }
        let total: u64 = scores.iter().map(|(_, n)| n).sum();
        assert_eq!(h.bins.iter().map(|b| b.contacts).sum::<u64>(), total);
        let lowest = scores
            .iter()
            .map(|(s, _)| *s)
            .chain(thresholds.iter().copied())
            .min();
        for &t in thresholds {
            if Some(t) != lowest {
                assert!(h.bins.iter().any(|b| b.from == t), "{t} starts no bin");
            }
        }
    }

    proptest::proptest! {
        /// Any scores, up to the ends of `i64` (rules of billions of points), are binned.
        #[test]
        fn any_scores_are_binned(
            scores in proptest::collection::vec(
                (proptest::prop_oneof![
                    proptest::num::i64::ANY,
                    -1_000i64..1_000,
                    proptest::sample::select(vec![i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1]),
                ], 1u64..5),
                1..6,
            ),
            warm in proptest::prop_oneof![-1_000i64..1_000, proptest::num::i64::ANY],
            above in proptest::option::of(proptest::prop_oneof![0i64..1_000, 0i64..=i64::MAX]),
        ) {
            let mut merged: BTreeMap<i64, u64> = BTreeMap::new();
            for (s, n) in &scores {
                *merged.entry(*s).or_insert(0) += n;
            }
            let scores: Vec<(i64, u64)> = merged.into_iter().collect();
            let h = histogram(&scores, warm, None);
            assert_well_binned(&h, &scores, &[warm]);
            // A hot threshold anywhere at or above warm starts a bin of its own too.
            if let Some(hot) = above.map(|a| warm.saturating_add(a)) {
                let h = histogram(&scores, warm, Some(hot));
                assert_well_binned(&h, &scores, &[warm, hot]);
            }
        }
    }

    #[test]
    fn a_hot_threshold_off_the_grid_splits_its_bin() {
        let scores = [
            (-60, 3),
            (12, 4),
            (33, 2),
            (41, 5),
            (47, 1),
            (58, 1),
            (90, 2),
        ];
        let h = histogram(&scores, 30, Some(45));
        let labels: Vec<String> = h.bins.iter().map(Bin::label).collect();
        let at = labels.iter().position(|l| l == "40 to 44").unwrap();
        assert_eq!(
            labels[at..at + 3],
            ["40 to 44", "45 to 49", "50 to 59"],
            "{labels:?}"
        );
        assert_eq!(h.split, [45]);
        assert_eq!(h.describe(), "bins of 10 points, one split at 45");
        assert_eq!(h.widths()[at..at + 3], [0.5, 0.5, 1.0]);
        let counts: Vec<u64> = h.bins[at..at + 3].iter().map(|b| b.contacts).collect();
        assert_eq!(counts, [5, 1, 1]);
        // On the grid, nothing is split.
        let h = histogram(&scores, 30, Some(50));
        assert!(h.split.is_empty() && h.widths().iter().all(|&w| w == 1.0));
        assert_eq!(h.describe(), "bins of 10 points");
    }

    #[test]
    fn one_score_is_one_bin() {
        assert_eq!(binning(7, 7, 7), (7, 1, 1));
        // High below low (cannot happen) still gives one bin.
        assert_eq!(binning(7, 3, 7), (7, 1, 1));
    }

    #[test]
    fn extreme_scores_do_not_overflow() {
        let (first, width, count) = binning(i64::MIN, i64::MAX, 0);
        assert!(count >= 1 && width > 0 && first <= 0);
        let h = histogram(&[(i64::MIN, 1), (i64::MAX, 2)], 0, None);
        assert_eq!(h.bins.iter().map(|b| b.contacts).sum::<u64>(), 3);
        // Rules of billions of points: the first edge, on the warm threshold's grid, lies
        // below `i64::MIN`, and the bins must still follow on from each other.
        let scores = [(i64::MIN, 1), (0, 1), (i64::MAX, 1)];
        let h = histogram(&scores, 50, None);
        assert_eq!(h.bin_width, 1_000_000_000_000_000_000);
        assert_eq!(h.bins[0].from, i64::MIN);
        assert_well_binned(&h, &scores, &[50]);
    }

    #[test]
    fn every_contact_lands_in_the_bin_of_its_score() {
        let scores = [
            (-30, 3),
            (-21, 1),
            (-20, 2),
            (0, 5),
            (49, 4),
            (50, 6),
            (79, 1),
            (80, 2),
            (113, 1),
        ];
        let h = histogram(&scores, 50, Some(80));
        assert_eq!(h.bin_width, 10);
        assert_eq!(h.bins.first().map(|b| (b.from, b.to)), Some((-30, -21)));
        assert_eq!(h.bins.last().map(|b| (b.from, b.to)), Some((110, 119)));
        for (score, n) in scores {
            let bin = h
                .bins
                .iter()
                .find(|b| b.from <= score && score <= b.to)
                .unwrap();
            assert!(bin.contacts >= n);
        }
        let count = |from: i64| h.bins.iter().find(|b| b.from == from).unwrap().contacts;
        assert_eq!(count(-30), 4);
        assert_eq!(count(-20), 2);
        assert_eq!(count(40), 4);
        assert_eq!(count(50), 6);
        assert_eq!(count(70), 1);
        assert_eq!(count(80), 2);
        assert_eq!(count(110), 1);
        assert_eq!(h.bins.iter().map(|b| b.contacts).sum::<u64>(), 25);
        assert_eq!(h.peak(), 6);
    }

    #[test]
    fn the_range_reaches_the_thresholds_even_with_no_contact_near_them() {
        let h = histogram(&[(0, 3), (10, 1)], 50, Some(80));
        assert_eq!(h.bins.first().map(|b| b.from), Some(0));
        assert!(h.bins.last().is_some_and(|b| b.to >= 80));
        assert!(h.bins.iter().any(|b| b.from == 50));
        let empty = histogram(&[], 50, None);
        assert_eq!(empty.bins.len(), 1);
        assert_eq!(empty.bins[0].contacts, 0);
    }

    #[test]
    fn bin_labels() {
        let bin = |from, to| Bin {
            from,
            to,
            contacts: 0,
        };
        assert_eq!(bin(50, 59).label(), "50 to 59");
        assert_eq!(bin(-30, -21).label(), "-30 to -21");
        assert_eq!(bin(7, 7).label(), "7");
    }

    #[test]
    fn shares_and_points() {
        assert_eq!(share(37, 240), 0.1542);
        assert_eq!(share(1, 0), 0.0);
        assert_eq!(percent(37, 240), "15.4%");
        assert_eq!(percent(0, 0), "0.0%");
        assert_eq!(signed(1080.0), "+1080");
        assert_eq!(signed(-950.0), "-950");
        assert_eq!(signed(-0.0), "0");
        assert_eq!(signed(2.5), "+2.5");
    }
}
