//! The measures calibrate reports: conversion rates, lift, the AUC of a score, and score
//! thresholds with their precision, recall and F1. Plain functions of counts and slices, so
//! each can be tested on cases small enough to check by hand.

use serde::Serialize;

/// Contacts and how many of them converted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub contacts: u64,
    pub converted: u64,
}

impl Tally {
    pub fn add(&mut self, converted: bool) {
        self.contacts += 1;
        self.converted += u64::from(converted);
    }

    /// The conversion rate; `None` for no contacts.
    pub fn rate(self) -> Option<f64> {
        (self.contacts > 0).then(|| self.converted as f64 / self.contacts as f64)
    }

    /// Everyone in `self` who is not in `part`.
    pub fn minus(self, part: Tally) -> Tally {
        Tally {
            contacts: self.contacts.saturating_sub(part.contacts),
            converted: self.converted.saturating_sub(part.converted),
        }
    }

    pub fn plus(self, other: Tally) -> Tally {
        Tally {
            contacts: self.contacts + other.contacts,
            converted: self.converted + other.converted,
        }
    }
}

/// How much more often a group converts than everyone: its rate over the overall rate.
pub fn lift(group: Tally, all: Tally) -> Option<f64> {
    match (group.rate(), all.rate()) {
        (Some(g), Some(a)) if a > 0.0 => Some(g / a),
        _ => None,
    }
}

/// The z-score of the difference between the conversion rates of `a` and `b` (two
/// proportions, pooled standard error). Positive when `a` converts more.
pub fn z_score(a: Tally, b: Tally) -> Option<f64> {
    let (ra, rb) = (a.rate()?, b.rate()?);
    let pooled = a.plus(b).rate()?;
    let se = (pooled * (1.0 - pooled) * (1.0 / a.contacts as f64 + 1.0 / b.contacts as f64)).sqrt();
    (se > 0.0).then(|| (ra - rb) / se)
}

/// The AUC of a score: the chance that a random converter scores above a random contact who
/// did not convert, ties counted half (the Mann–Whitney U statistic over its maximum).
/// `None` when either group is empty.
pub fn auc(scored: &[(f64, bool)]) -> Option<f64> {
    let weighted: Vec<(f64, u64, u64)> = scored
        .iter()
        .map(|&(s, y)| (s, u64::from(y), u64::from(!y)))
        .collect();
    auc_weighted(&weighted)
}

/// How many standard errors a figure must clear to count as more than chance: the 95th
/// percentile of the standard normal (one-sided, 95%).
pub const Z: f64 = 1.645;

/// The standard error of the AUC of a score that carries no information, on `converters`
/// and `others` contacts: √((n₁ + n₀ + 1) / (12 n₁ n₀)).
pub fn chance_se(converters: u64, others: u64) -> f64 {
    let (n1, n0) = (converters as f64, others as f64);
    ((n1 + n0 + 1.0) / (12.0 * n1 * n0)).sqrt()
}

/// The AUC of `scored` when it is no better than a coin toss could give these contacts by
/// chance: not above 0.5 by `Z` standard errors (`chance_se`). `None` when the score does
/// tell converters apart, or when either group is empty.
pub fn no_better_than_chance(scored: &[(f64, bool)]) -> Option<f64> {
    let a = auc(scored)?;
    let n1 = scored.iter().filter(|(_, y)| *y).count() as u64;
    let n0 = scored.len() as u64 - n1;
    (a - 0.5 <= Z * chance_se(n1, n0)).then_some(a)
}

/// Each contact's part in the AUC (DeLong's placement values), in the order given: for a
/// converter, the share of the other contacts it scores above; for another contact, the
/// share of the converters that score above it (ties count half). The AUC is the mean of
/// either group's. `None` when either group is empty.
pub fn placements(scored: &[(f64, bool)]) -> Option<Vec<f64>> {
    let n1 = scored.iter().filter(|(_, y)| *y).count();
    let n0 = scored.len() - n1;
    if n1 == 0 || n0 == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&a, &b| scored[a].0.total_cmp(&scored[b].0));
    let mut placed = vec![0.0; scored.len()];
    let (mut positives_below, mut negatives_below) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        let score = scored[order[i]].0;
        let tied = order[i..]
            .iter()
            .take_while(|&&k| scored[k].0 == score)
            .count();
        let group = &order[i..i + tied];
        let pos = group.iter().filter(|&&k| scored[k].1).count();
        let neg = tied - pos;
        for &k in group {
            placed[k] = if scored[k].1 {
                (negatives_below as f64 + 0.5 * neg as f64) / n0 as f64
            } else {
                let above = n1 - positives_below - pos;
                (above as f64 + 0.5 * pos as f64) / n1 as f64
            };
        }
        positives_below += pos;
        negatives_below += neg;
        i += tied;
    }
    Some(placed)
}

/// How much better `new` ranks these contacts than `now`: the difference of their AUCs
/// (new minus now) and its variance, by DeLong's method for two scores of the same contacts
/// (the variance of each converter's difference in placement over the converters, plus the
/// same over the others). It allows for the two scores going together: two sets of points
/// that differ a little rank the contacts alike, and a small gain can be sure. `now` and
/// `new` hold the same contacts in the same order. `None` when either group has fewer than
/// two contacts.
pub fn auc_gain(now: &[(f64, bool)], new: &[(f64, bool)]) -> Option<(f64, f64)> {
    debug_assert!(now.iter().map(|s| s.1).eq(new.iter().map(|s| s.1)));
    let (a, b) = (placements(now)?, placements(new)?);
    let variance_of = |converted: bool| -> Option<(f64, f64)> {
        let d: Vec<f64> = (0..now.len())
            .filter(|&i| now[i].1 == converted)
            .map(|i| b[i] - a[i])
            .collect();
        let n = d.len() as f64;
        if d.len() < 2 {
            return None;
        }
        let mean = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        Some((mean, var / n))
    };
    let (gain, v1) = variance_of(true)?;
    let (_, v0) = variance_of(false)?;
    Some((gain, v1 + v0))
}

/// `auc` for groups of contacts: (score, converters, others) per group.
pub fn auc_weighted(scored: &[(f64, u64, u64)]) -> Option<f64> {
    let mut sorted: Vec<(f64, u64, u64)> = scored.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut wins, mut negatives_below) = (0.0, 0u64);
    let (mut positives, mut negatives) = (0u64, 0u64);
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        let (mut pos, mut neg) = (0u64, 0u64);
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            pos += sorted[j].1;
            neg += sorted[j].2;
            j += 1;
        }
        wins += pos as f64 * negatives_below as f64 + 0.5 * pos as f64 * neg as f64;
        negatives_below += neg;
        positives += pos;
        negatives += neg;
        i = j;
    }
    (positives > 0 && negatives > 0).then(|| wins / (positives as f64 * negatives as f64))
}

/// Sending every contact scoring at least `threshold` to sales.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cut {
    pub threshold: i64,
    /// Contacts at or above the threshold.
    pub contacts: u64,
    /// Of those, how many converted.
    pub converted: u64,
    /// Their conversion rate.
    pub precision: f64,
    /// The share of all converters they include.
    pub recall: f64,
    pub f1: f64,
}

impl Cut {
    /// The cut made of `above` (the contacts sent) out of `converters` in all.
    pub fn new(threshold: i64, above: Tally, converters: u64) -> Cut {
        let precision = above.rate().unwrap_or(0.0);
        let recall = if converters == 0 {
            0.0
        } else {
            above.converted as f64 / converters as f64
        };
        let f1 = if above.contacts + converters == 0 {
            0.0
        } else {
            2.0 * above.converted as f64 / (above.contacts + converters) as f64
        };
        Cut {
            threshold,
            contacts: above.contacts,
            converted: above.converted,
            precision,
            recall,
            f1,
        }
    }
}

/// The one-sided 95% lower bound of a rate of `k` in `n` (Wilson's score interval): the
/// rate the group reaches with 95% confidence (80 of 100: 0.727; 800 of 1,000: 0.778).
pub fn lower_bound(k: u64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    const Z: f64 = 1.644_853_626_951_472_2; // the 95th percentile of the standard normal
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z * Z;
    let centre = p + z2 / (2.0 * n);
    let spread = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - spread) / (1.0 + z2 / n)).clamp(0.0, 1.0)
}

/// Every threshold worth trying on one score: one cut per distinct score, highest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Cuts {
    pub cuts: Vec<Cut>,
    pub all: Tally,
}

impl Cuts {
    pub fn new(scores: &[(i64, bool)]) -> Cuts {
        let mut sorted = scores.to_vec();
        sorted.sort_by_key(|&(score, _)| std::cmp::Reverse(score));
        let converters = sorted.iter().filter(|(_, y)| *y).count() as u64;
        let mut cuts = Vec::new();
        let mut above = Tally::default();
        let mut i = 0;
        while i < sorted.len() {
            let score = sorted[i].0;
            while i < sorted.len() && sorted[i].0 == score {
                above.add(sorted[i].1);
                i += 1;
            }
            cuts.push(Cut::new(score, above, converters));
        }
        Cuts { cuts, all: above }
    }

    /// The lowest threshold whose contacts convert at `target` or better, allowing for
    /// chance: the rate's 95% lower confidence bound reaches the target, so that the next
    /// batch of contacts, not only these, should convert that well. Of those thresholds, the
    /// lowest: the most converters sales gets at that conversion rate.
    pub fn for_precision(&self, target: f64) -> Option<Cut> {
        // A tolerance, so that a bound of exactly the target meets it despite rounding.
        self.cuts
            .iter()
            .rfind(|c| lower_bound(c.converted, c.contacts) >= target - 1e-12)
            .copied()
    }

    /// The lowest threshold that sends at most `capacity` contacts.
    pub fn for_capacity(&self, capacity: u64) -> Option<Cut> {
        self.cuts
            .iter()
            .take_while(|c| c.contacts <= capacity)
            .last()
            .copied()
    }

    /// The threshold with the best F1 (the balance of precision and recall); on a tie, the
    /// higher threshold (fewer contacts for the same balance).
    pub fn best_f1(&self) -> Option<Cut> {
        let mut best: Option<Cut> = None;
        for c in &self.cuts {
            if best.is_none_or(|b| c.f1 > b.f1 + 1e-12) {
                best = Some(*c);
            }
        }
        best
    }

    /// `best_f1` among the thresholds that leave someone out: a warm threshold that sends
    /// every contact to sales separates nothing, however good its F1. `None` when every
    /// contact has the same score.
    pub fn best_f1_short_of_all(&self) -> Option<Cut> {
        let (_, some) = self.cuts.split_last()?;
        Cuts {
            cuts: some.to_vec(),
            all: self.all,
        }
        .best_f1()
    }

    /// Every contact scoring `threshold` or more.
    pub fn at(&self, threshold: i64) -> Cut {
        let converters = self.all.converted;
        self.cuts
            .iter()
            .rfind(|c| c.threshold >= threshold)
            .map_or_else(
                || Cut::new(threshold, Tally::default(), converters),
                |c| Cut { threshold, ..*c },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn chance_allows_for_the_number_of_contacts() {
        // AUC 0.6 on 20 contacts is within chance; on 2,000 it is not.
        let scores = |n: usize| -> Vec<(f64, bool)> {
            (0..n)
                .map(|i| {
                    let converter = i % 2 == 0;
                    // 60% of the pairs ranked right: converters score 1 or 0, others 0.
                    let s = if converter && i % 10 < 2 { 1.0 } else { 0.0 };
                    (s, converter)
                })
                .collect()
        };
        let small = no_better_than_chance(&scores(20));
        assert!(small.is_some_and(|a| close(a, 0.6)), "{small:?}");
        assert_eq!(no_better_than_chance(&scores(2000)), None);
        assert_eq!(no_better_than_chance(&[(1.0, true)]), None);
    }

    #[test]
    fn auc_of_a_perfect_a_reversed_and_a_useless_score() {
        let perfect = [(1.0, false), (2.0, false), (3.0, true), (4.0, true)];
        assert_eq!(auc(&perfect), Some(1.0));
        let reversed = [(1.0, true), (2.0, true), (3.0, false), (4.0, false)];
        assert_eq!(auc(&reversed), Some(0.0));
        let all_tied = [(5.0, true), (5.0, false), (5.0, true), (5.0, false)];
        assert_eq!(auc(&all_tied), Some(0.5));
    }

    #[test]
    fn auc_counts_ties_half() {
        // Pairs (converter, other): (2,1) win, (2,2) half, (3,1) win, (3,2) win → 3.5 / 4.
        let scores = [(1.0, false), (2.0, false), (2.0, true), (3.0, true)];
        assert!(close(auc(&scores).unwrap(), 0.875));
        // Order of the input does not matter.
        let shuffled = [(3.0, true), (2.0, false), (1.0, false), (2.0, true)];
        assert_eq!(auc(&scores), auc(&shuffled));
    }

    #[test]
    fn auc_of_groups_is_auc_of_their_contacts() {
        let grouped = [(2.0, 1, 1), (1.0, 0, 1), (3.0, 1, 0)];
        let single = [(1.0, false), (2.0, false), (2.0, true), (3.0, true)];
        assert_eq!(auc_weighted(&grouped), auc(&single));
    }

    #[test]
    fn placements_average_to_the_auc() {
        let scores = [
            (1.0, false),
            (2.0, false),
            (2.0, true),
            (3.0, true),
            (0.0, true),
        ];
        let p = placements(&scores).unwrap();
        // The converter at 2 is above one other and tied with one; the other at 2 is below
        // the converter at 3 and tied with the one at 2.
        assert!(close(p[2], 0.75) && close(p[1], 0.5));
        let mean = |converted: bool| {
            let v: Vec<f64> = (0..scores.len())
                .filter(|&i| scores[i].1 == converted)
                .map(|i| p[i])
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let a = auc(&scores).unwrap();
        assert!(close(mean(true), a) && close(mean(false), a));
        assert_eq!(placements(&[(1.0, true)]), None);
    }

    #[test]
    fn auc_gain_is_the_difference_of_the_aucs_with_delongs_variance() {
        let y = [
            true, false, true, false, false, true, false, false, true, false,
        ];
        let now = [3.0, 1.0, 2.0, 2.0, 0.0, 1.0, 3.0, 1.0, 0.0, 2.0];
        let new = [4.0, 1.0, 3.0, 2.0, 0.0, 2.0, 1.0, 1.0, 3.0, 2.0];
        let pair = |s: &[f64]| -> Vec<(f64, bool)> { s.iter().copied().zip(y).collect() };
        let (gain, variance) = auc_gain(&pair(&now), &pair(&new)).unwrap();
        let diff = auc(&pair(&new)).unwrap() - auc(&pair(&now)).unwrap();
        assert!(close(gain, diff), "{gain} against {diff}");
        // DeLong's variance written out pair by pair.
        let psi = |x: f64, z: f64| {
            if x > z {
                1.0
            } else if x == z {
                0.5
            } else {
                0.0
            }
        };
        let (pos, neg): (Vec<usize>, Vec<usize>) = (0..y.len()).partition(|&i| y[i]);
        let v10: Vec<f64> = pos
            .iter()
            .map(|&i| {
                neg.iter()
                    .map(|&j| psi(new[i], new[j]) - psi(now[i], now[j]))
                    .sum::<f64>()
                    / neg.len() as f64
            })
            .collect();
        let v01: Vec<f64> = neg
            .iter()
            .map(|&j| {
                pos.iter()
                    .map(|&i| psi(new[i], new[j]) - psi(now[i], now[j]))
                    .sum::<f64>()
                    / pos.len() as f64
            })
            .collect();
        let var = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64
        };
        let want = var(&v10) / pos.len() as f64 + var(&v01) / neg.len() as f64;
        assert!(close(variance, want), "{variance} against {want}");
        // The same score twice: no gain, and surely none.
        assert_eq!(auc_gain(&pair(&now), &pair(&now)), Some((0.0, 0.0)));
        assert_eq!(
            auc_gain(&[(1.0, true), (0.0, false)], &[(0.0, true), (1.0, false)]),
            None
        );
    }

    #[test]
    fn auc_needs_both_groups() {
        assert_eq!(auc(&[(1.0, true), (2.0, true)]), None);
        assert_eq!(auc(&[]), None);
    }

    #[test]
    fn lift_and_z() {
        let all = Tally {
            contacts: 100,
            converted: 20,
        };
        let group = Tally {
            contacts: 20,
            converted: 10,
        };
        assert!(close(lift(group, all).unwrap(), 2.5));
        let rest = all.minus(group);
        assert_eq!(
            rest,
            Tally {
                contacts: 80,
                converted: 10
            }
        );
        // 0.5 vs 0.125, pooled 0.2: se = sqrt(0.16 * (1/20 + 1/80)) = 0.1
        assert!(close(z_score(group, rest).unwrap(), 3.75));
        assert!(close(z_score(rest, group).unwrap(), -3.75));
        assert_eq!(lift(group, Tally::default()), None);
    }

    fn cuts() -> Cuts {
        // score: converted?   30: y y   20: y n   10: n y n n   0: n n
        Cuts::new(&[
            (30, true),
            (10, false),
            (20, true),
            (30, true),
            (0, false),
            (20, false),
            (10, true),
            (10, false),
            (10, false),
            (0, false),
        ])
    }

    #[test]
    fn one_cut_per_distinct_score_with_precision_recall_and_f1() {
        let c = cuts();
        let t: Vec<i64> = c.cuts.iter().map(|c| c.threshold).collect();
        assert_eq!(t, [30, 20, 10, 0]);
        let at20 = c.cuts[1];
        assert_eq!((at20.contacts, at20.converted), (4, 3));
        assert!(close(at20.precision, 0.75));
        assert!(close(at20.recall, 0.75));
        assert!(close(at20.f1, 0.75));
        let at0 = c.cuts[3];
        assert_eq!((at0.contacts, at0.converted), (10, 4));
        assert!(close(at0.recall, 1.0));
        assert!(close(at0.f1, 2.0 * 4.0 / 14.0));
    }

    #[test]
    fn the_lower_bound_of_a_rate_allows_for_chance() {
        assert!(close(lower_bound(80, 100), 0.726_696_191));
        assert!(lower_bound(800, 1000) > lower_bound(80, 100));
        assert!(lower_bound(800, 1000) < 0.8);
        assert!(lower_bound(1000, 1000) < 1.0);
        assert_eq!(lower_bound(0, 10), 0.0);
        assert_eq!(lower_bound(0, 0), 0.0);
    }

    #[test]
    fn threshold_for_a_target_precision_is_the_lowest_that_meets_it_allowing_for_chance() {
        // score 30: 190 of 200 convert; 20: 150 of 200; 10: 100 of 400; 0: none of 200.
        let mut scores = Vec::new();
        for (score, converted, contacts) in [(30, 190, 200), (20, 150, 200), (10, 100, 400)] {
            scores.extend((0..contacts).map(|i| (score, i < converted)));
        }
        scores.extend((0..200).map(|_| (0, false)));
        let c = Cuts::new(&scores);
        // At 20 and above: 340 of 400 (85%, at least 81.8% allowing for chance).
        assert_eq!(c.for_precision(0.8).unwrap().threshold, 20);
        assert_eq!(c.for_precision(0.8).unwrap().contacts, 400);
        // 85% is the rate at 20, but not what it reaches allowing for chance: 30 is.
        assert_eq!(c.for_precision(0.85).unwrap().threshold, 30);
        assert_eq!(c.for_precision(0.5).unwrap().threshold, 10);
        assert_eq!(c.for_precision(0.95), None);
        // A small file reaches a target only with a clear margin: 4 of 5 is not 80% yet.
        let small = Cuts::new(&[(5, true), (5, true), (5, true), (5, true), (5, false)]);
        assert_eq!(small.for_precision(0.8), None);
        assert_eq!(small.for_precision(0.4).unwrap().threshold, 5);
    }

    #[test]
    fn threshold_for_a_capacity_sends_at_most_that_many() {
        let c = cuts();
        assert_eq!(c.for_capacity(5).unwrap().threshold, 20);
        assert_eq!(c.for_capacity(4).unwrap().threshold, 20);
        assert_eq!(c.for_capacity(2).unwrap().threshold, 30);
        assert_eq!(c.for_capacity(1), None);
        assert_eq!(c.for_capacity(100).unwrap().threshold, 0);
    }

    #[test]
    fn a_suggested_threshold_leaves_someone_out() {
        // Everyone converts at 60%, whatever the score: sending all has the best F1.
        let mut scores = Vec::new();
        for (score, converted, contacts) in [(2, 6, 10), (1, 6, 10), (0, 6, 10)] {
            scores.extend((0..contacts).map(|i| (score, i < converted)));
        }
        let c = Cuts::new(&scores);
        assert_eq!(c.best_f1().unwrap().threshold, 0);
        assert_eq!(c.best_f1_short_of_all().unwrap().threshold, 1);
        assert_eq!(
            Cuts::new(&[(5, true), (5, false)]).best_f1_short_of_all(),
            None
        );
    }

    #[test]
    fn best_f1_prefers_the_higher_threshold_on_a_tie() {
        let c = cuts();
        // f1: 30 → 4/6, 20 → 6/8, 10 → 8/12, 0 → 8/14
        assert_eq!(c.best_f1().unwrap().threshold, 20);
        let tie = Cuts::new(&[(2, true), (1, true), (1, false), (0, false)]);
        // 2: 2/3, 1: 4/5, 0: 4/6 → 1
        assert_eq!(tie.best_f1().unwrap().threshold, 1);
        let flat = Cuts::new(&[(1, true), (0, false), (0, true)]);
        // 1: 2/3, 0: 4/5
        assert_eq!(flat.best_f1().unwrap().threshold, 0);
    }

    #[test]
    fn a_threshold_between_scores_counts_the_contacts_above_it() {
        let c = cuts();
        assert_eq!(c.at(25).contacts, 2);
        assert_eq!(c.at(25).threshold, 25);
        assert_eq!(c.at(20).contacts, 4);
        assert_eq!(c.at(31).contacts, 0);
        assert_eq!(c.at(-5).contacts, 10);
    }
}
