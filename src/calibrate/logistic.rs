//! L2-regularised logistic regression, fitted by Newton's method (iteratively reweighted
//! least squares), on contacts grouped by their feature values.
//!
//! Rule match indicators take few distinct combinations, so contacts with the same values
//! (and in the same fold) are fitted as one weighted pattern: the likelihood is the same,
//! and a million contacts fit as fast as a thousand.

use std::collections::BTreeMap;

/// Contacts that share one feature vector and one fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub fold: usize,
    pub x: Vec<f64>,
    /// How many contacts have these values, and how many of them converted.
    pub contacts: f64,
    pub converted: f64,
}

/// Contacts grouped into patterns, in a deterministic order.
#[derive(Debug, Clone, PartialEq)]
pub struct Patterns {
    pub features: usize,
    pub patterns: Vec<Pattern>,
}

impl Patterns {
    /// `rows`: (fold, features, converted) per contact.
    pub fn new(
        features: usize,
        rows: impl IntoIterator<Item = (usize, Vec<f64>, bool)>,
    ) -> Patterns {
        let mut groups: BTreeMap<(usize, Vec<u64>), (f64, f64)> = BTreeMap::new();
        for (fold, x, y) in rows {
            let key = (fold, x.iter().map(|v| v.to_bits()).collect());
            let e = groups.entry(key).or_insert((0.0, 0.0));
            e.0 += 1.0;
            e.1 += f64::from(u8::from(y));
        }
        let patterns = groups
            .into_iter()
            .map(|((fold, bits), (contacts, converted))| Pattern {
                fold,
                x: bits.into_iter().map(f64::from_bits).collect(),
                contacts,
                converted,
            })
            .collect();
        Patterns { features, patterns }
    }

    fn select(&self, keep: impl Fn(usize) -> bool) -> Vec<&Pattern> {
        self.patterns.iter().filter(|p| keep(p.fold)).collect()
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
    pub fn log_odds(&self, x: &[f64]) -> f64 {
        self.intercept + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
    }
}

/// Fit on every pattern whose fold `keep` accepts. `lambda` is the L2 penalty on the
/// weights of the standardised features (mean 0, standard deviation 1), added to the mean
/// log-loss per contact: `(λ/2)·Σw²`. The intercept is not penalised.
// Matrix arithmetic reads best with explicit indices.
#[allow(clippy::needless_range_loop)]
pub fn fit(data: &Patterns, keep: impl Fn(usize) -> bool, lambda: f64) -> Model {
    let rows = data.select(keep);
    let p = data.features;
    let total: f64 = rows.iter().map(|r| r.contacts).sum();
    let empty = Model {
        intercept: 0.0,
        weights: vec![0.0; p],
        varied: vec![false; p],
    };
    if total <= 0.0 {
        return empty;
    }
    // Standardise, so one penalty suits indicators and counts alike.
    let mut mean = vec![0.0; p];
    let mut sd = vec![0.0; p];
    for j in 0..p {
        mean[j] = rows.iter().map(|r| r.contacts * r.x[j]).sum::<f64>() / total;
        let var = rows
            .iter()
            .map(|r| r.contacts * (r.x[j] - mean[j]).powi(2))
            .sum::<f64>()
            / total;
        sd[j] = var.sqrt();
    }
    let used: Vec<usize> = (0..p).filter(|&j| sd[j] > 1e-12).collect();
    let k = used.len() + 1; // the intercept first
    let z: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            std::iter::once(1.0)
                .chain(used.iter().map(|&j| (r.x[j] - mean[j]) / sd[j]))
                .collect()
        })
        .collect();
    let converted: f64 = rows.iter().map(|r| r.converted).sum();
    let base = ((converted + 0.5) / (total - converted + 0.5)).ln();
    let mut beta = vec![0.0; k];
    beta[0] = base;

    let objective = |beta: &[f64]| -> f64 {
        let mut loss = 0.0;
        for (r, zi) in rows.iter().zip(&z) {
            let eta = dot(beta, zi);
            // contacts·log(1+e^η) − converted·η, computed without overflow
            loss += r.contacts * softplus(eta) - r.converted * eta;
        }
        loss / total + 0.5 * lambda * beta[1..].iter().map(|b| b * b).sum::<f64>()
    };

    let mut current = objective(&beta);
    for _ in 0..100 {
        let mut grad = vec![0.0; k];
        let mut hess = vec![vec![0.0; k]; k];
        for (r, zi) in rows.iter().zip(&z) {
            let prob = sigmoid(dot(&beta, zi));
            let residual = r.contacts * prob - r.converted;
            let w = r.contacts * prob * (1.0 - prob);
            for a in 0..k {
                grad[a] += residual * zi[a];
                for b in 0..=a {
                    hess[a][b] += w * zi[a] * zi[b];
                }
            }
        }
        for a in 0..k {
            grad[a] /= total;
            for b in 0..=a {
                hess[a][b] /= total;
                hess[b][a] = hess[a][b];
            }
            if a > 0 {
                grad[a] += lambda * beta[a];
                hess[a][a] += lambda;
            }
        }
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
            let value = objective(&next);
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

    let mut weights = vec![0.0; p];
    let mut varied = vec![false; p];
    let mut intercept = beta[0];
    for (i, &j) in used.iter().enumerate() {
        weights[j] = beta[i + 1] / sd[j];
        varied[j] = true;
        intercept -= weights[j] * mean[j];
    }
    Model {
        intercept,
        weights,
        varied,
    }
}

/// The penalties tried, from the strongest down.
pub const LAMBDAS: [f64; 7] = [0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0001];

/// Choose the penalty by k-fold cross-validation: for each, fit on all folds but one and
/// measure the log-loss on the fold left out; the lowest mean wins (on a tie, the stronger
/// penalty). Returns the penalty and its out-of-fold log-loss per contact.
pub fn choose_lambda(data: &Patterns, folds: usize) -> (f64, f64) {
    let mut best = (LAMBDAS[0], f64::INFINITY);
    for &lambda in &LAMBDAS {
        let loss = out_of_fold_log_loss(data, folds, lambda);
        if loss < best.1 - 1e-12 {
            best = (lambda, loss);
        }
    }
    best
}

/// Mean log-loss per contact over the held-out folds.
pub fn out_of_fold_log_loss(data: &Patterns, folds: usize, lambda: f64) -> f64 {
    let (mut loss, mut contacts) = (0.0, 0.0);
    for k in 0..folds {
        let model = fit(data, |f| f != k, lambda);
        for r in data.patterns.iter().filter(|r| r.fold == k) {
            let eta = model.log_odds(&r.x);
            loss += r.contacts * softplus(eta) - r.converted * eta;
            contacts += r.contacts;
        }
    }
    if contacts > 0.0 {
        loss / contacts
    } else {
        f64::INFINITY
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
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

    /// Contacts with two indicators drawn at random and an outcome from known weights.
    fn simulated(n: usize, weights: [f64; 2], intercept: f64) -> Patterns {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let rows: Vec<(usize, Vec<f64>, bool)> = (0..n)
            .map(|i| {
                let x = vec![
                    f64::from(u8::from(rng.next() < 0.5)),
                    f64::from(u8::from(rng.next() < 0.3)),
                ];
                let eta = intercept + weights[0] * x[0] + weights[1] * x[1];
                let y = rng.next() < sigmoid(eta);
                (i % 5, x, y)
            })
            .collect();
        Patterns::new(2, rows)
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
    }

    #[test]
    fn separable_data_converges_to_finite_weights() {
        // x = 1 always converts, x = 0 never: the unpenalised maximum is at infinity.
        let rows: Vec<(usize, Vec<f64>, bool)> = (0..200)
            .map(|i| (i % 5, vec![f64::from(u8::from(i % 2 == 0))], i % 2 == 0))
            .collect();
        let data = Patterns::new(1, rows);
        let m = fit(&data, |_| true, 0.001);
        assert!(m.weights[0].is_finite() && m.weights[0] > 3.0, "{m:?}");
        // The fit separates the two groups.
        assert!(sigmoid(m.log_odds(&[1.0])) > 0.9);
        assert!(sigmoid(m.log_odds(&[0.0])) < 0.1);
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
        let rows: Vec<(usize, Vec<f64>, bool)> = (0..100)
            .map(|i| {
                (
                    i % 5,
                    vec![1.0, f64::from(u8::from(i % 3 == 0))],
                    i % 3 == 0,
                )
            })
            .collect();
        let data = Patterns::new(2, rows);
        let m = fit(&data, |_| true, 0.01);
        assert_eq!(m.weights[0], 0.0);
        assert_eq!(m.varied, [false, true]);
        assert!(m.weights[1] > 0.0);
    }

    #[test]
    fn cross_validation_prefers_little_penalty_with_plenty_of_signal() {
        let data = simulated(20_000, [2.0, -1.5], -0.5);
        let (lambda, loss) = choose_lambda(&data, 5);
        assert!(lambda <= 0.01, "{lambda}");
        assert!(loss < std::f64::consts::LN_2);
        // Out-of-fold loss is worse with the strongest penalty.
        assert!(out_of_fold_log_loss(&data, 5, LAMBDAS[0]) > loss);
    }

    #[test]
    fn cholesky_solves() {
        let a = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let x = solve(a, vec![2.0, 1.0]).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        assert_eq!(solve(vec![vec![0.0]], vec![1.0]), None);
    }
}
