//! L2-regularised logistic regression, fitted by Newton's method (iteratively reweighted
//! least squares), on contacts grouped by their feature values.
//!
//! Rule match indicators take few distinct combinations, so contacts with the same values
//! (and in the same fold) are fitted as one weighted pattern: the likelihood is the same,
//! and a million contacts fit as fast as a thousand.
//!
//! A contact matches few of the rules, so a pattern keeps only its features that are not 0,
//! and each Newton step sums over those: a pattern costs the square of its matches, not of
//! the rules. The fit is in standardised features (so one penalty suits indicators and counts
//! alike), whose values are never 0; the sums are taken on the raw values and standardised
//! afterwards, which is the same algebra.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Contacts that share one feature vector and one fold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pattern {
    pub fold: usize,
    /// Where its features that are not 0 are in its `Patterns` (see `Patterns::x`).
    start: usize,
    end: usize,
    /// How many contacts have these values, and how many of them converted.
    pub contacts: f64,
    pub converted: f64,
}

/// Contacts grouped into patterns, in a deterministic order.
#[derive(Debug, Clone, PartialEq)]
pub struct Patterns {
    pub features: usize,
    pub patterns: Vec<Pattern>,
    /// The patterns' features that are not 0, one pattern after another (one buffer for
    /// all: a fit on a million contacts that match 30 rules each holds them at once), as
    /// feature indices and values at the same places.
    index: Vec<u32>,
    value: Vec<f64>,
}

impl Patterns {
    /// Contacts `0..n`, where `row(i)` is contact `i`'s (fold, features, converted), the
    /// features as (index, value) in index order; a value of 0 may be left out or given.
    /// `row` is called many times for each contact: the contacts are grouped where they
    /// are, not copied first.
    pub fn new<X>(features: usize, n: usize, row: impl Fn(usize) -> (usize, X, bool)) -> Patterns
    where
        X: Iterator<Item = (usize, f64)>,
    {
        // A contact's values that are not 0, as bits, to be ordered.
        let values = |i: usize| {
            (row(i).1)
                .filter(|e| e.1 != 0.0)
                .map(|(j, v)| (j, v.to_bits()))
        };
        // The contacts of a fold with the same values, found by a hash of them: each group's
        // first contact, fold, contacts and converted, and the next group of the same hash.
        struct Group {
            first: usize,
            fold: usize,
            contacts: f64,
            converted: f64,
            next: Option<usize>,
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut by_hash: HashMap<u64, usize> = HashMap::new();
        for i in 0..n {
            let (fold, x, y) = row(i);
            debug_assert!(
                x.map(|e| e.0).is_sorted_by(|a, b| a < b),
                "features in order"
            );
            let mut hasher = DefaultHasher::new();
            fold.hash(&mut hasher);
            values(i).for_each(|e| e.hash(&mut hasher));
            let hash = hasher.finish();
            let mut at = by_hash.get(&hash).copied();
            while let Some(k) = at {
                let g = &groups[k];
                if g.fold == fold && values(g.first).eq(values(i)) {
                    break;
                }
                at = g.next;
            }
            let k = at.unwrap_or_else(|| {
                let next = by_hash.insert(hash, groups.len());
                groups.push(Group {
                    first: i,
                    fold,
                    contacts: 0.0,
                    converted: 0.0,
                    next,
                });
                groups.len() - 1
            });
            groups[k].contacts += 1.0;
            groups[k].converted += f64::from(u8::from(y));
        }
        drop(by_hash);
        // By fold and values.
        groups.sort_by(|a, b| {
            (a.fold.cmp(&b.fold)).then_with(|| values(a.first).cmp(values(b.first)))
        });
        let length: usize = groups.iter().map(|g| values(g.first).count()).sum();
        let mut patterns = Patterns {
            features,
            patterns: Vec::with_capacity(groups.len()),
            index: Vec::with_capacity(length),
            value: Vec::with_capacity(length),
        };
        for g in groups {
            let start = patterns.index.len();
            for (j, v) in values(g.first) {
                // A feature is a rule or a suggestion: far fewer than 2^32.
                patterns.index.push(j as u32);
                patterns.value.push(f64::from_bits(v));
            }
            patterns.patterns.push(Pattern {
                fold: g.fold,
                start,
                end: patterns.index.len(),
                contacts: g.contacts,
                converted: g.converted,
            });
        }
        patterns
    }

    /// A pattern's features that are not 0, with their values, in feature order.
    pub fn x(&self, p: &Pattern) -> impl Iterator<Item = (usize, f64)> + Clone + '_ {
        let at = p.start..p.end;
        (self.index[at.clone()].iter())
            .zip(&self.value[at])
            .map(|(&j, &v)| (j as usize, v))
    }

    /// A pattern's value of feature `j`.
    fn value(&self, p: &Pattern, j: usize) -> f64 {
        let index = &self.index[p.start..p.end];
        (index.binary_search(&(j as u32))).map_or(0.0, |n| self.value[p.start + n])
    }
}

/// A fitted model: log-odds = intercept + Σ weights·x.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub intercept: f64,
    /// One per feature, in the features' own units. 0 for a feature that did not vary.
    pub weights: Vec<f64>,
    /// Whether each feature varied in the data fitted (a constant one gets no weight).
    pub varied: Vec<bool>,
}

impl Model {
    /// The log-odds of a pattern's features (those that are not 0, as `Patterns::x` gives
    /// them).
    pub fn log_odds(&self, x: impl IntoIterator<Item = (usize, f64)>) -> f64 {
        self.intercept + x.into_iter().map(|(j, v)| self.weights[j] * v).sum::<f64>()
    }
}

/// Fit on every pattern whose fold `keep` accepts. `lambda` is the L2 penalty on the
/// weights of the standardised features (mean 0, standard deviation 1), added to the mean
/// log-loss per contact: `(λ/2)·Σw²`. The intercept is not penalised.
pub fn fit(data: &Patterns, keep: impl Fn(usize) -> bool, lambda: f64) -> Model {
    let problem = Problem::new(data, keep);
    let beta = problem.minimise(lambda, None);
    problem.model(&beta)
}

/// The patterns one fit is on, with their features standardised. Fits with several
/// penalties share it, each starting from the last one's answer.
struct Problem<'a> {
    data: &'a Patterns,
    rows: Vec<&'a Pattern>,
    total: f64,
    /// The features that varied; `beta[a]` is the weight of `used[a - 1]` (`beta[0]` is the
    /// intercept).
    used: Vec<usize>,
    /// By feature: its position in `beta`, or `usize::MAX` if it did not vary or is
    /// centred (in `dense`).
    sparse: Vec<usize>,
    /// By position in `beta`: what a feature's values are kept less of (`shift`), the mean
    /// and standard deviation of what is kept (0 and 1 for the intercept, which is not
    /// standardised).
    shift: Vec<f64>,
    mean: Vec<f64>,
    sd: Vec<f64>,
    /// The features kept less their mean, as (position, feature): every row holds them.
    dense: Vec<(usize, usize)>,
    /// Contacts of the rows that converted.
    converted: f64,
}

impl<'a> Problem<'a> {
    fn new(data: &'a Patterns, keep: impl Fn(usize) -> bool) -> Problem<'a> {
        let rows: Vec<&Pattern> = data.patterns.iter().filter(|p| keep(p.fold)).collect();
        let p = data.features;
        let total: f64 = rows.iter().map(|r| r.contacts).sum();
        // Mean and standard deviation of each feature, from the values that are not 0: the
        // contacts whose value is 0 each add mean² to the squared deviations.
        let (mut sum, mut counted) = (vec![0.0; p], vec![0.0; p]);
        for r in &rows {
            for (j, v) in data.x(r) {
                sum[j] += r.contacts * v;
                counted[j] += r.contacts;
            }
        }
        let mean_of: Vec<f64> = sum
            .iter()
            .map(|s| if total > 0.0 { s / total } else { 0.0 })
            .collect();
        let mut squares: Vec<f64> = (0..p)
            .map(|j| (total - counted[j]) * mean_of[j] * mean_of[j])
            .collect();
        for r in &rows {
            for (j, v) in data.x(r) {
                squares[j] += r.contacts * (v - mean_of[j]).powi(2);
            }
        }
        let sd_of: Vec<f64> = squares
            .iter()
            .map(|s| if total > 0.0 { (s / total).sqrt() } else { 0.0 })
            .collect();
        // A feature varies unless every contact has the same value (0 included).
        let (mut least, mut most) = (vec![f64::INFINITY; p], vec![f64::NEG_INFINITY; p]);
        for r in &rows {
            for (j, v) in data.x(r) {
                least[j] = least[j].min(v);
                most[j] = most[j].max(v);
            }
        }
        let constant = |j: usize| counted[j] == 0.0 || (counted[j] == total && least[j] == most[j]);
        let used: Vec<usize> = (0..p).filter(|&j| !constant(j) && sd_of[j] > 0.0).collect();
        let mut position = vec![usize::MAX; p];
        for (a, &j) in used.iter().enumerate() {
            position[j] = a + 1;
        }
        // Summing raw values and centring after loses digits as the square of mean/sd: a
        // count near 3e7 that varies by a few would get a Hessian of noise. Such a feature is
        // kept centred, every value (`shift` is its mean, never 0 as it is over 100 sd from
        // 0); up to 100 sd from 0, the loss is below 1e-12. Only a feature most contacts have
        // can be that far: one most lack has its mean within about its sd of 0.
        let mut shift = vec![0.0; used.len() + 1];
        for (a, &j) in used.iter().enumerate() {
            if mean_of[j].abs() > 100.0 * sd_of[j] {
                shift[a + 1] = mean_of[j];
            }
        }
        let dense: Vec<(usize, usize)> = (used.iter().enumerate())
            .map(|(a, &j)| (a + 1, j))
            .filter(|&(a, _)| shift[a] != 0.0)
            .collect();
        // The mean of what is kept: 0 for a centred feature.
        let mean = std::iter::once(0.0)
            .chain(used.iter().map(|&j| mean_of[j]))
            .zip(&shift)
            .map(|(m, s)| m - s)
            .collect();
        let sd = std::iter::once(1.0)
            .chain(used.iter().map(|&j| sd_of[j]))
            .collect();
        let mut sparse = position;
        for &(_, j) in &dense {
            sparse[j] = usize::MAX;
        }
        let converted = rows.iter().map(|r| r.converted).sum();
        Problem {
            data,
            rows,
            total,
            used,
            sparse,
            shift,
            mean,
            sd,
            dense,
            converted,
        }
    }

    /// Row `i`'s features that varied, as (position in `beta`, value less its shift), in
    /// position order, those that are 0 left out: into `out`. Taken from the pattern each
    /// time rather than kept, as a copy of every row would be as large as the patterns.
    fn row(&self, i: usize, out: &mut Vec<(usize, f64)>) {
        let p = self.rows[i];
        let at = p.start..p.end;
        out.clear();
        out.reserve(at.len() + self.dense.len());
        for (&j, &v) in self.data.index[at.clone()].iter().zip(&self.data.value[at]) {
            let a = self.sparse[j as usize];
            if a != usize::MAX {
                out.push((a, v));
            }
        }
        if self.dense.is_empty() {
            return;
        }
        for &(a, j) in &self.dense {
            let v = self.data.value(p, j);
            if v != self.shift[a] {
                out.push((a, v - self.shift[a]));
            }
        }
        out.sort_by_key(|e| e.0);
    }

    /// The weights of standardised features as weights of raw ones: (intercept, weight by
    /// position). Position 0 is the intercept's, whose mean is 0 and which no row holds.
    fn raw(&self, beta: &[f64]) -> (f64, Vec<f64>) {
        let weights: Vec<f64> = beta.iter().zip(&self.sd).map(|(b, s)| b / s).collect();
        let intercept = beta[0]
            - weights
                .iter()
                .zip(&self.mean)
                .map(|(w, m)| w * m)
                .sum::<f64>();
        (intercept, weights)
    }

    /// Each row's log-odds.
    fn log_odds(&self, beta: &[f64]) -> impl Iterator<Item = f64> {
        let (intercept, weights) = self.raw(beta);
        let mut values = Vec::new();
        (0..self.rows.len()).map(move |i| {
            // Without centred features, a row's values are its pattern's, in the same order:
            // summed straight from the pattern, the same sum.
            if !self.dense.is_empty() {
                self.row(i, &mut values);
                return intercept + values.iter().map(|&(a, v)| weights[a] * v).sum::<f64>();
            }
            let p = self.rows[i];
            let at = p.start..p.end;
            let x = self.data.index[at.clone()].iter().zip(&self.data.value[at]);
            intercept
                + x.filter_map(|(&j, &v)| {
                    let a = self.sparse[j as usize];
                    (a != usize::MAX).then(|| weights[a] * v)
                })
                .sum::<f64>()
        })
    }

    /// The mean log-loss per contact plus the penalty.
    fn objective(&self, beta: &[f64], lambda: f64) -> f64 {
        let mut loss = 0.0;
        for (r, eta) in self.rows.iter().zip(self.log_odds(beta)) {
            // contacts·log(1+e^η) − converted·η, computed without overflow
            loss += r.contacts * softplus(eta) - r.converted * eta;
        }
        loss / self.total + 0.5 * lambda * beta[1..].iter().map(|b| b * b).sum::<f64>()
    }

    /// The weights (`beta`, standardised) that minimise the objective, by Newton's method
    /// from `start` (or from the base rate alone).
    fn minimise(&self, lambda: f64, start: Option<&[f64]>) -> Vec<f64> {
        let k = self.used.len() + 1;
        if self.total <= 0.0 {
            return vec![0.0; k];
        }
        let mut beta = match start {
            Some(start) => start.to_vec(),
            None => {
                let mut beta = vec![0.0; k];
                beta[0] = ((self.converted + 0.5) / (self.total - self.converted + 0.5)).ln();
                beta
            }
        };
        let mut current = self.objective(&beta, lambda);
        for _ in 0..100 {
            let (grad, mut hess) = self.derivatives(&beta, lambda);
            // A floor keeps the system solvable when the data are (nearly) separable and the
            // penalty is tiny.
            for (a, row) in hess.iter_mut().enumerate() {
                row[a] += 1e-10;
            }
            let Some(step) = solve(hess, grad) else {
                break;
            };
            // Halve the step until the objective does not rise.
            let mut t = 1.0;
            let mut accepted = false;
            for _ in 0..30 {
                let next: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
                let value = self.objective(&next, lambda);
                if value <= current + 1e-15 {
                    beta = next;
                    current = value;
                    accepted = true;
                    break;
                }
                t /= 2.0;
            }
            let size = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
            if !accepted || size < 1e-10 {
                break;
            }
        }
        beta
    }

    /// The gradient and Hessian of the objective at `beta`.
    // Matrix arithmetic reads best with explicit indices.
    #[allow(clippy::needless_range_loop)]
    fn derivatives(&self, beta: &[f64], lambda: f64) -> (Vec<f64>, Vec<Vec<f64>>) {
        let k = beta.len();
        let (mean, sd, total) = (&self.mean, &self.sd, self.total);
        // Sums over the raw values: of the residuals and the Newton weights (r, w), and of
        // those times each feature (rx, wx) and each pair of features (wxx, lower triangle
        // by position).
        let (mut r, mut w) = (0.0, 0.0);
        let (mut rx, mut wx) = (vec![0.0; k], vec![0.0; k]);
        let mut wxx = vec![0.0; k * k];
        let (intercept, weights) = self.raw(beta);
        let mut values = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            self.row(i, &mut values);
            let eta = intercept + values.iter().map(|&(a, v)| weights[a] * v).sum::<f64>();
            let prob = sigmoid(eta);
            let residual = row.contacts * prob - row.converted;
            let weight = row.contacts * prob * (1.0 - prob);
            r += residual;
            w += weight;
            for (n, &(a, va)) in values.iter().enumerate() {
                rx[a] += residual * va;
                let wva = weight * va;
                wx[a] += wva;
                for &(b, vb) in &values[..=n] {
                    wxx[a * k + b] += wva * vb;
                }
            }
        }
        // Standardised: z = (x − mean)/sd, and the intercept's z is 1.
        let mut grad = vec![0.0; k];
        let mut hess = vec![vec![0.0; k]; k];
        grad[0] = r / total;
        hess[0][0] = w / total;
        for a in 1..k {
            grad[a] = (rx[a] - mean[a] * r) / (sd[a] * total) + lambda * beta[a];
            hess[a][0] = (wx[a] - mean[a] * w) / (sd[a] * total);
            hess[0][a] = hess[a][0];
            for b in 1..=a {
                let sum =
                    wxx[a * k + b] - mean[a] * wx[b] - mean[b] * wx[a] + mean[a] * mean[b] * w;
                hess[a][b] = sum / (sd[a] * sd[b] * total);
                hess[b][a] = hess[a][b];
            }
            hess[a][a] += lambda;
        }
        (grad, hess)
    }

    /// The model `beta` is, in the features' own units.
    fn model(&self, beta: &[f64]) -> Model {
        let mut weights = vec![0.0; self.data.features];
        let mut varied = vec![false; self.data.features];
        let (kept, raw) = self.raw(beta);
        let intercept = kept - raw.iter().zip(&self.shift).map(|(w, s)| w * s).sum::<f64>();
        for (a, &j) in self.used.iter().enumerate() {
            weights[j] = raw[a + 1];
            varied[j] = true;
        }
        Model {
            intercept,
            weights,
            varied,
        }
    }
}

/// The penalties tried, from the strongest down.
pub const LAMBDAS: [f64; 7] = [0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0001];

/// The penalty cross-validation chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub lambda: f64,
    /// Its out-of-fold log-loss per contact.
    pub loss: f64,
    /// The out-of-fold log-loss per contact of each of `LAMBDAS`.
    pub losses: Vec<f64>,
    /// With it, the model fitted on all folds but fold k, for each k.
    pub fold_models: Vec<Model>,
}

/// Choose the penalty by k-fold cross-validation: for each, fit on all folds but one and
/// measure the log-loss on the fold left out; the lowest mean wins (on a tie, the stronger
/// penalty).
pub fn choose_lambda(data: &Patterns, folds: usize) -> Choice {
    // For each penalty, the loss and contacts of the folds left out, and the models. Each
    // fold's fits go from the strongest penalty down, each starting from the last answer.
    let mut losses = vec![(0.0, 0.0); LAMBDAS.len()];
    let mut models: Vec<Vec<Model>> = vec![Vec::with_capacity(folds); LAMBDAS.len()];
    for k in 0..folds {
        let problem = Problem::new(data, |f| f != k);
        // With one outcome only, the intercept has no best value and runs off as far as the
        // steps take it: each fit starts afresh then, so that it runs off as far as alone.
        let one_outcome = problem.converted == 0.0 || problem.converted == problem.total;
        let mut beta: Option<Vec<f64>> = None;
        for (l, &lambda) in LAMBDAS.iter().enumerate() {
            let start = beta.as_deref().filter(|_| !one_outcome);
            let next = problem.minimise(lambda, start);
            let model = problem.model(&next);
            for r in data.patterns.iter().filter(|r| r.fold == k) {
                let eta = model.log_odds(data.x(r));
                losses[l].0 += r.contacts * softplus(eta) - r.converted * eta;
                losses[l].1 += r.contacts;
            }
            models[l].push(model);
            beta = Some(next);
        }
    }
    let losses: Vec<f64> = losses
        .iter()
        .map(|&(loss, contacts)| {
            if contacts > 0.0 {
                loss / contacts
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let mut best = 0;
    for (l, &loss) in losses.iter().enumerate() {
        if loss < losses[best] - 1e-12 {
            best = l;
        }
    }
    Choice {
        lambda: LAMBDAS[best],
        loss: losses[best],
        losses,
        fold_models: std::mem::take(&mut models[best]),
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// log(1 + e^x)
fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else if x < -30.0 {
        x.exp()
    } else {
        x.exp().ln_1p()
    }
}

/// Solve `a·x = b` for a symmetric positive definite `a` (Cholesky). `None` if it is not.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for j in 0..n {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j][j] = d;
        for i in j + 1..n {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i][k] * b[k];
        }
        b[i] = s / a[i][i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k][i] * b[k];
        }
        b[i] = s / a[i][i];
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A contact's features: (index, value), in index order.
    type Values = Vec<(usize, f64)>;

    /// Patterns of contacts given as (fold, features, converted).
    fn from_rows(features: usize, rows: Vec<(usize, Values, bool)>) -> Patterns {
        Patterns::new(features, rows.len(), |i| {
            (rows[i].0, rows[i].1.iter().copied(), rows[i].2)
        })
    }

    /// A row's features, every one given (Patterns::new leaves out the 0s).
    fn every(x: Vec<f64>) -> Values {
        x.into_iter().enumerate().collect()
    }

    /// Contacts with two indicators drawn at random and an outcome from known weights.
    fn simulated(n: usize, weights: [f64; 2], intercept: f64) -> Patterns {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let rows: Vec<(usize, Values, bool)> = (0..n)
            .map(|i| {
                let x = vec![
                    f64::from(u8::from(rng.next() < 0.5)),
                    f64::from(u8::from(rng.next() < 0.3)),
                ];
                let eta = intercept + weights[0] * x[0] + weights[1] * x[1];
                let y = rng.next() < sigmoid(eta);
                (i % 5, every(x), y)
            })
            .collect();
        from_rows(2, rows)
    }

    #[test]
    fn recovers_known_weights() {
        let data = simulated(20_000, [1.5, -1.0], -0.5);
        let m = fit(&data, |_| true, 0.0);
        assert!((m.weights[0] - 1.5).abs() < 0.1, "{m:?}");
        assert!((m.weights[1] + 1.0).abs() < 0.1, "{m:?}");
        assert!((m.intercept + 0.5).abs() < 0.1, "{m:?}");
    }

    #[test]
    fn contacts_with_the_same_values_are_one_pattern() {
        let data = simulated(1000, [1.0, 1.0], 0.0);
        // 2 indicators × 2 values × 5 folds
        assert!(data.patterns.len() <= 20);
        let total: f64 = data.patterns.iter().map(|p| p.contacts).sum();
        assert_eq!(total, 1000.0);
        // A pattern keeps the values that are not 0.
        assert!(data.patterns.iter().all(|p| data.x(p).all(|e| e.1 != 0.0)));
    }

    #[test]
    fn patterns_are_in_fold_and_value_order() {
        // Sums over patterns are taken in their order: it must not depend on the input's.
        let mut rng = Rng(42);
        let rows: Vec<(usize, Values, bool)> = (0..2000)
            .map(|i| {
                let x = vec![
                    f64::from(u8::from(rng.next() < 0.5)),
                    (rng.next() * 3.0).floor() * 0.5,
                    f64::from(u8::from(rng.next() < 0.2)),
                ];
                (i % 5, every(x), rng.next() < 0.3)
            })
            .collect();
        // The reference: (fold, the values that are not 0) → (contacts, converted), ordered.
        type Key = (usize, Vec<(usize, u64)>);
        let mut want: std::collections::BTreeMap<Key, (f64, f64)> = Default::default();
        for (fold, x, y) in &rows {
            let values = x.iter().filter(|e| e.1 != 0.0);
            let key = values.map(|&(j, v)| (j, v.to_bits())).collect();
            let e = want.entry((*fold, key)).or_default();
            e.0 += 1.0;
            e.1 += f64::from(u8::from(*y));
        }
        let data = from_rows(3, rows);
        let got: Vec<(Key, (f64, f64))> = (data.patterns.iter())
            .map(|p| {
                let values = data.x(p).map(|(j, v)| (j, v.to_bits())).collect();
                ((p.fold, values), (p.contacts, p.converted))
            })
            .collect();
        assert!(got.len() > 20, "{}", got.len());
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn separable_data_converges_to_finite_weights() {
        // x = 1 always converts, x = 0 never: the unpenalised maximum is at infinity.
        let rows: Vec<(usize, Values, bool)> = (0..200)
            .map(|i| {
                (
                    i % 5,
                    every(vec![f64::from(u8::from(i % 2 == 0))]),
                    i % 2 == 0,
                )
            })
            .collect();
        let data = from_rows(1, rows);
        let m = fit(&data, |_| true, 0.001);
        assert!(m.weights[0].is_finite() && m.weights[0] > 3.0, "{m:?}");
        // The fit separates the two groups.
        assert!(sigmoid(m.log_odds([(0, 1.0)])) > 0.9);
        assert!(sigmoid(m.log_odds([])) < 0.1);
    }

    #[test]
    fn a_stronger_penalty_shrinks_the_weights() {
        let data = simulated(5000, [1.5, -1.0], -0.5);
        let mut last = f64::INFINITY;
        for lambda in [0.0, 0.01, 0.1, 1.0] {
            let m = fit(&data, |_| true, lambda);
            let size = m.weights.iter().map(|w| w.abs()).sum::<f64>();
            assert!(size < last, "lambda {lambda}: {size} not below {last}");
            last = size;
        }
        assert!(last < 0.5);
    }

    #[test]
    fn a_constant_feature_gets_no_weight() {
        let rows: Vec<(usize, Values, bool)> = (0..100)
            .map(|i| {
                (
                    i % 5,
                    every(vec![1.0, f64::from(u8::from(i % 3 == 0))]),
                    i % 3 == 0,
                )
            })
            .collect();
        let data = from_rows(2, rows);
        let m = fit(&data, |_| true, 0.01);
        assert_eq!(m.weights[0], 0.0);
        assert_eq!(m.varied, [false, true]);
        assert!(m.weights[1] > 0.0);
    }

    #[test]
    fn cross_validation_prefers_little_penalty_with_plenty_of_signal() {
        let data = simulated(20_000, [2.0, -1.5], -0.5);
        let choice = choose_lambda(&data, 5);
        assert!(choice.lambda <= 0.01, "{choice:?}");
        assert!(choice.loss < std::f64::consts::LN_2);
        // Out-of-fold loss is worse with the strongest penalty.
        assert!(choice.losses[0] > choice.loss, "{choice:?}");
        assert_eq!(choice.fold_models.len(), 5);
    }

    /// Contacts in five folds with a common indicator, a rare one, a count far from 0 and a
    /// constant, and outcomes that depend on the first three.
    fn mixed(n: usize) -> Patterns {
        mixed_at(n, 20.0)
    }

    /// `mixed`, the count from `base` to `base` + 9.
    fn mixed_at(n: usize, base: f64) -> Patterns {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let rows: Vec<(usize, Values, bool)> = (0..n)
            .map(|i| {
                let x = vec![
                    f64::from(u8::from(rng.next() < 0.4)),
                    f64::from(u8::from(rng.next() < 0.05)),
                    base + (rng.next() * 10.0).floor(),
                    1.0,
                ];
                let eta = -1.0 + 1.2 * x[0] + 2.0 * x[1] - 0.1 * (x[2] - base - 5.0);
                let y = rng.next() < sigmoid(eta);
                (i % 5, every(x), y)
            })
            .collect();
        from_rows(4, rows)
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * (1.0 + b.abs())
    }

    #[test]
    fn derivatives_are_those_of_the_standardised_features() {
        // A count near 20, and one near 3e7 whose digits that differ are its last.
        for base in [20.0, 3e7] {
            derivatives_match_a_dense_reference(&mixed_at(600, base));
        }
    }

    fn derivatives_match_a_dense_reference(data: &Patterns) {
        let problem = Problem::new(data, |f| f != 2);
        // The reference: every feature standardised, every value summed.
        let rows: Vec<&Pattern> = data.patterns.iter().filter(|p| p.fold != 2).collect();
        let dense = |p: &Pattern| {
            let mut x = [0.0; 4];
            for (j, v) in data.x(p) {
                x[j] = v;
            }
            x
        };
        let total: f64 = rows.iter().map(|r| r.contacts).sum();
        let mean: Vec<f64> = (0..4)
            .map(|j| rows.iter().map(|r| r.contacts * dense(r)[j]).sum::<f64>() / total)
            .collect();
        let sd: Vec<f64> = (0..4)
            .map(|j| {
                let squares: f64 = rows
                    .iter()
                    .map(|r| r.contacts * (dense(r)[j] - mean[j]).powi(2))
                    .sum();
                (squares / total).sqrt()
            })
            .collect();
        assert_eq!(problem.used, [0, 1, 2], "the constant is left out");
        let z = |p: &Pattern| -> Vec<f64> {
            let x = dense(p);
            std::iter::once(1.0)
                .chain((0..3).map(|j| (x[j] - mean[j]) / sd[j]))
                .collect()
        };
        let (beta, lambda) = ([-0.3, 0.8, -0.5, 0.2], 0.03);
        let mut grad = [0.0; 4];
        let mut hess = [[0.0; 4]; 4];
        for r in &rows {
            let z = z(r);
            let prob = sigmoid(beta.iter().zip(&z).map(|(b, z)| b * z).sum());
            for a in 0..4 {
                grad[a] += (r.contacts * prob - r.converted) * z[a] / total;
                for b in 0..4 {
                    hess[a][b] += r.contacts * prob * (1.0 - prob) * z[a] * z[b] / total;
                }
            }
        }
        for a in 1..4 {
            grad[a] += lambda * beta[a];
            hess[a][a] += lambda;
        }

        let (got_grad, got_hess) = problem.derivatives(&beta, lambda);
        for a in 0..4 {
            assert!(close(got_grad[a], grad[a], 1e-9), "{got_grad:?} {grad:?}");
            for b in 0..4 {
                assert!(
                    close(got_hess[a][b], hess[a][b], 1e-9),
                    "{got_hess:?} {hess:?}"
                );
            }
        }
        let objective: f64 = rows
            .iter()
            .map(|r| {
                let eta: f64 = beta.iter().zip(&z(r)).map(|(b, z)| b * z).sum();
                r.contacts * softplus(eta) - r.converted * eta
            })
            .sum::<f64>()
            / total
            + 0.5 * lambda * beta[1..].iter().map(|b| b * b).sum::<f64>();
        assert!(close(problem.objective(&beta, lambda), objective, 1e-12));
    }

    #[test]
    fn a_fit_started_elsewhere_ends_at_the_same_weights() {
        let data = mixed(2000);
        let problem = Problem::new(&data, |_| true);
        let cold = problem.minimise(0.01, None);
        for start in [problem.minimise(0.3, None), vec![2.0, -3.0, 1.0, 4.0]] {
            let warm = problem.minimise(0.01, Some(&start));
            for (w, c) in warm.iter().zip(&cold) {
                assert!(close(*w, *c, 1e-7), "{warm:?} {cold:?}");
            }
        }
        // Cross-validation's models for each fold are those fitted on the other folds.
        let choice = choose_lambda(&data, 5);
        for (k, model) in choice.fold_models.iter().enumerate() {
            let alone = fit(&data, |f| f != k, choice.lambda);
            for (w, a) in model.weights.iter().zip(&alone.weights) {
                assert!(close(*w, *a, 1e-7), "{model:?} {alone:?}");
            }
            assert!(close(model.intercept, alone.intercept, 1e-7));
        }
    }

    #[test]
    fn cross_validation_losses_are_those_of_each_fit_alone() {
        // Each fit starts where the one with the penalty before it ended, unless a fold's
        // training contacts all have one outcome (here: one converter, in fold 0).
        let one: Vec<(usize, Values, bool)> = (0..300)
            .map(|i| (i % 5, every(vec![f64::from(u8::from(i % 3 == 0))]), i == 0))
            .collect();
        for data in [mixed(2000), from_rows(1, one)] {
            let choice = choose_lambda(&data, 5);
            for (l, &lambda) in LAMBDAS.iter().enumerate() {
                let (mut loss, mut contacts) = (0.0, 0.0);
                for k in 0..5 {
                    let model = fit(&data, |f| f != k, lambda);
                    for r in data.patterns.iter().filter(|r| r.fold == k) {
                        let eta = model.log_odds(data.x(r));
                        loss += r.contacts * softplus(eta) - r.converted * eta;
                        contacts += r.contacts;
                    }
                }
                let alone = loss / contacts;
                assert!(
                    close(choice.losses[l], alone, 1e-7),
                    "λ {lambda}: {choice:?} {alone}"
                );
            }
        }
    }

    #[test]
    fn a_constant_far_from_0_is_constant() {
        // Its mean, summed, is off in the last digits, which makes a spread of about 1e-11.
        let rows: Vec<(usize, Values, bool)> = (0..1000)
            .map(|i: u32| {
                (
                    i as usize % 5,
                    every(vec![98_765.432_1, f64::from(i % 7)]),
                    i.is_multiple_of(3),
                )
            })
            .collect();
        let data = from_rows(2, rows);
        assert_eq!(Problem::new(&data, |_| true).used, [1]);
        assert_eq!(fit(&data, |_| true, 0.01).varied, [false, true]);
    }

    #[test]
    fn recovers_known_weights_of_a_count() {
        let data = mixed(40_000);
        let m = fit(&data, |_| true, 0.0);
        let want = [1.2, 2.0, -0.1];
        for (w, want) in m.weights.iter().zip(want) {
            assert!((w - want).abs() < 0.15 * want.abs(), "{m:?}");
        }
        assert!((m.intercept - 1.5).abs() < 0.5, "{m:?}");
        assert_eq!(m.varied, [true, true, true, false]);
    }

    #[test]
    fn cholesky_solves() {
        let a = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let x = solve(a, vec![2.0, 1.0]).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        assert_eq!(solve(vec![vec![0.0]], vec![1.0]), None);
    }
}
