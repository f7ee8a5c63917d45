//! Item response theory, pure: the two-parameter logistic model (2PL) on the normal-ogive scale
//! (D = 1.7), expected-a-posteriori (EAP) estimates over a standard normal prior, maximum-information
//! item choice with randomesque exposure control, and the calibration of item parameters from
//! stored answers (marginal maximum likelihood by EM, with the fit reported).
//!
//! Default parameters before enough answers exist: discrimination a = 1.0 and location b = −1, 0,
//! +1 for items of difficulty 1 (easy), 2 (medium), 3 (hard).

use rand::Rng;
use rand::seq::IndexedRandom;

const D: f64 = 1.7;
/// The quadrature of the ability scale: −4 … +4 by 0.1.
const POINTS: usize = 81;
/// Stop when the standard error is at most this…
pub const STOP_SE: f64 = 0.4;
/// …or after this many items.
pub const MAX_ITEMS: usize = 20;
/// Choose at random among this many most informative items, so that no item is shown to everyone.
pub const RANDOMESQUE: usize = 5;
/// A domain is mastered when the ability estimate is at least this (a hard item answered right more
/// often than not).
pub const MASTERY: f64 = 1.0;
/// Answers an item needs before its fitted parameters replace the defaults.
pub const MIN_ANSWERS: usize = 30;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub a: f64,
    pub b: f64,
}

impl Params {
    /// The documented default from an item's difficulty (1 easy, 2 medium, 3 hard).
    pub fn from_difficulty(difficulty: u8) -> Self {
        Self { a: 1.0, b: f64::from(difficulty.clamp(1, 3)) - 2.0 }
    }
}

/// The chance of a right answer at ability `theta`.
pub fn probability(a: f64, b: f64, theta: f64) -> f64 {
    1.0 / (1.0 + (-D * a * (theta - b)).exp())
}

/// Fisher information of an item at `theta`.
pub fn information(p: Params, theta: f64) -> f64 {
    let q = probability(p.a, p.b, theta);
    (D * p.a).powi(2) * q * (1.0 - q)
}

fn grid() -> impl Iterator<Item = f64> {
    (0..POINTS).map(|i| -4.0 + 0.1 * i as f64)
}

/// EAP estimate and its posterior standard deviation (the standard error) from answers.
pub fn eap(answers: &[(Params, bool)]) -> (f64, f64) {
    let mut weights = Vec::with_capacity(POINTS);
    let mut total = 0.0;
    for theta in grid() {
        let mut w = (-theta * theta / 2.0).exp();
        for (p, right) in answers {
            let q = probability(p.a, p.b, theta);
            w *= if *right { q } else { 1.0 - q };
        }
        weights.push((theta, w));
        total += w;
    }
    if total <= 0.0 || !total.is_finite() {
        return (0.0, 1.0);
    }
    let mean = weights.iter().map(|(t, w)| t * w).sum::<f64>() / total;
    let var = weights.iter().map(|(t, w)| (t - mean).powi(2) * w).sum::<f64>() / total;
    (mean, var.sqrt())
}

/// Whether an adaptive test stops: the estimate is precise enough, or the cap is reached.
pub fn done(asked: usize, se: f64, left: usize) -> bool {
    se <= STOP_SE || asked >= MAX_ITEMS || left == 0
}

/// The next item: at random among the `RANDOMESQUE` most informative at `theta` of those not asked.
pub fn choose(pool: &[Params], asked: &[usize], theta: f64, rng: &mut impl Rng) -> Option<usize> {
    let mut open: Vec<(usize, f64)> =
        (0..pool.len()).filter(|i| !asked.contains(i)).map(|i| (i, information(pool[i], theta))).collect();
    open.sort_by(|x, y| y.1.total_cmp(&x.1));
    open.truncate(RANDOMESQUE);
    open.choose(rng).map(|(i, _)| *i)
}

/// What a calibration found.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Fitted parameters per item (None: too few answers, keep the default).
    pub params: Vec<Option<Params>>,
    /// Mean log-likelihood per answer under the fitted model, and under the defaults.
    pub log_likelihood: f64,
    pub default_log_likelihood: f64,
    /// Observed minus expected share right, mean absolute over items with enough answers.
    pub mean_residual: f64,
}

/// Fits 2PL parameters by marginal maximum likelihood (Bock–Aitkin EM over the quadrature of a
/// standard normal ability): `answers` are (respondent, item, right); `defaults` per item. Items
/// with fewer than `MIN_ANSWERS` answers keep their default.
pub fn calibrate(respondents: usize, defaults: &[Params], answers: &[(usize, usize, bool)]) -> Calibration {
    let points: Vec<f64> = grid().collect();
    let prior: Vec<f64> = points.iter().map(|t| (-t * t / 2.0).exp()).collect();
    let mut params = defaults.to_vec();
    let mut counts = vec![0usize; defaults.len()];
    let mut by_person: Vec<Vec<(usize, bool)>> = vec![Vec::new(); respondents];
    for (r, i, right) in answers {
        counts[*i] += 1;
        by_person[*r].push((*i, *right));
    }
    let posterior = |given: &[(usize, bool)], params: &[Params]| -> Option<Vec<f64>> {
        let mut w = prior.clone();
        for (i, right) in given {
            for (k, theta) in points.iter().enumerate() {
                let q = probability(params[*i].a, params[*i].b, *theta);
                w[k] *= if *right { q } else { 1.0 - q };
            }
        }
        let total: f64 = w.iter().sum();
        (total > 0.0 && total.is_finite()).then(|| w.into_iter().map(|x| x / total).collect())
    };
    for _ in 0..40 {
        // E step: expected answers and right answers of each item at each ability point.
        let mut seen = vec![vec![0.0; POINTS]; params.len()];
        let mut right = vec![vec![0.0; POINTS]; params.len()];
        for given in &by_person {
            let Some(w) = posterior(given, &params) else { continue };
            for (i, r) in given {
                for k in 0..POINTS {
                    seen[*i][k] += w[k];
                    if *r {
                        right[*i][k] += w[k];
                    }
                }
            }
        }
        // M step: each item's (a, b) by Newton–Raphson on its expected counts.
        let mut moved = 0.0;
        for (i, p) in params.iter_mut().enumerate() {
            if counts[i] < MIN_ANSWERS {
                continue;
            }
            let data = points.iter().zip(&seen[i]).zip(&right[i]).map(|((t, n), r)| (*t, *r, *n));
            let next = newton(*p, data);
            moved += (next.a - p.a).abs() + (next.b - p.b).abs();
            *p = next;
        }
        if moved < 1e-4 {
            break;
        }
    }
    let thetas: Vec<f64> =
        by_person.iter().map(|given| eap(&given.iter().map(|(i, r)| (params[*i], *r)).collect::<Vec<_>>()).0).collect();
    let ll = |ps: &[Params]| {
        let total: f64 = answers
            .iter()
            .map(|(r, i, right)| {
                let q = probability(ps[*i].a, ps[*i].b, thetas[*r]).clamp(1e-9, 1.0 - 1e-9);
                if *right { q.ln() } else { (1.0 - q).ln() }
            })
            .sum();
        total / answers.len().max(1) as f64
    };
    let mut residuals = Vec::new();
    for (i, p) in params.iter().enumerate() {
        if counts[i] < MIN_ANSWERS {
            continue;
        }
        let mine: Vec<_> = answers.iter().filter(|(_, j, _)| *j == i).collect();
        let observed = mine.iter().filter(|x| x.2).count() as f64 / mine.len() as f64;
        let expected = mine.iter().map(|(r, _, _)| probability(p.a, p.b, thetas[*r])).sum::<f64>() / mine.len() as f64;
        residuals.push((observed - expected).abs());
    }
    Calibration {
        log_likelihood: ll(&params),
        default_log_likelihood: ll(defaults),
        mean_residual: if residuals.is_empty() { 0.0 } else { residuals.iter().sum::<f64>() / residuals.len() as f64 },
        params: params.iter().enumerate().map(|(i, p)| (counts[i] >= MIN_ANSWERS).then_some(*p)).collect(),
    }
}

/// Newton–Raphson on one item's (a, b) from (ability, right answers, answers) at the quadrature
/// points, kept within sane bounds.
fn newton(mut p: Params, data: impl Iterator<Item = (f64, f64, f64)> + Clone) -> Params {
    for _ in 0..10 {
        let (mut ga, mut gb, mut iaa, mut iab, mut ibb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (theta, right, seen) in data.clone() {
            let q = probability(p.a, p.b, theta);
            let u = right - seen * q;
            let (da, db) = (D * (theta - p.b), -D * p.a);
            ga += u * da;
            gb += u * db;
            let w = seen * q * (1.0 - q);
            iaa += w * da * da;
            iab += w * da * db;
            ibb += w * db * db;
        }
        let det = iaa * ibb - iab * iab;
        if det.abs() < 1e-9 {
            break;
        }
        let step_a = (ibb * ga - iab * gb) / det;
        let step_b = (iaa * gb - iab * ga) / det;
        p.a = (p.a + step_a.clamp(-0.5, 0.5)).clamp(0.2, 3.0);
        p.b = (p.b + step_b.clamp(-0.5, 0.5)).clamp(-4.0, 4.0);
        if step_a.abs() + step_b.abs() < 1e-5 {
            break;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn normal(rng: &mut StdRng) -> f64 {
        // Box–Muller.
        let (u, v): (f64, f64) = (rng.random_range(1e-9..1.0), rng.random_range(0.0..1.0));
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    fn pool(rng: &mut StdRng, n: usize) -> Vec<Params> {
        (0..n).map(|_| Params { a: rng.random_range(0.7..1.6), b: rng.random_range(-2.0..2.0) }).collect()
    }

    /// Simulated learners with known levels: the adaptive test against a fixed-length test drawn at
    /// random from the same pool. Prints the figures (BENCHMARKS.md quotes them).
    #[test]
    fn adaptive_placement_needs_fewer_items_for_the_same_error() {
        let mut rng = StdRng::seed_from_u64(23);
        let items = pool(&mut rng, 96);
        let (learners, fixed_len) = (400, 30);
        let (mut err_cat, mut err_fixed, mut err_short, mut n_cat) = (0.0, 0.0, 0.0, 0usize);
        for _ in 0..learners {
            let truth = normal(&mut rng);
            let answer = |p: Params, rng: &mut StdRng| rng.random_bool(probability(p.a, p.b, truth));
            let mut asked = Vec::new();
            let mut given = Vec::new();
            let (mut theta, mut se) = (0.0, 1.0);
            while !done(asked.len(), se, items.len() - asked.len()) {
                let i = choose(&items, &asked, theta, &mut rng).unwrap();
                asked.push(i);
                given.push((items[i], answer(items[i], &mut rng)));
                (theta, se) = eap(&given);
            }
            err_cat += (theta - truth).abs();
            n_cat += asked.len();
            let fixed: Vec<(Params, bool)> = rand::seq::index::sample(&mut rng, items.len(), fixed_len)
                .into_iter()
                .map(|i| (items[i], answer(items[i], &mut rng)))
                .collect();
            err_fixed += (eap(&fixed).0 - truth).abs();
            // A fixed test as short as this adaptive one, from the same pool.
            let short: Vec<(Params, bool)> = rand::seq::index::sample(&mut rng, items.len(), asked.len())
                .into_iter()
                .map(|i| (items[i], answer(items[i], &mut rng)))
                .collect();
            err_short += (eap(&short).0 - truth).abs();
        }
        let (mae_cat, mae_fixed) = (err_cat / learners as f64, err_fixed / learners as f64);
        let mae_short = err_short / learners as f64;
        let mean_items = n_cat as f64 / learners as f64;
        println!(
            "placement simulation: {learners} learners; adaptive MAE {mae_cat:.3} with {mean_items:.1} items; \
             fixed {fixed_len} items MAE {mae_fixed:.3}; fixed test of the adaptive one's length MAE {mae_short:.3}"
        );
        assert!(mae_cat < mae_short, "at the same length the adaptive test is closer: {mae_cat} vs {mae_short}");
        assert!(mean_items < fixed_len as f64 * 0.6, "{mean_items}");
        assert!(mae_cat < mae_fixed + 0.1, "{mae_cat} vs {mae_fixed}");
    }

    #[test]
    fn eap_moves_with_the_answers_and_narrows() {
        let p = Params::from_difficulty(2);
        let (t0, s0) = eap(&[]);
        assert!(t0.abs() < 1e-6 && (s0 - 1.0).abs() < 0.02);
        let (up, s1) = eap(&[(p, true), (p, true)]);
        let (down, _) = eap(&[(p, false), (p, false)]);
        assert!(up > 0.3 && down < -0.3 && s1 < s0);
    }

    #[test]
    fn calibration_recovers_parameters_from_answers() {
        let mut rng = StdRng::seed_from_u64(7);
        let truth = pool(&mut rng, 20);
        let defaults = vec![Params { a: 1.0, b: 0.0 }; truth.len()];
        let mut answers = Vec::new();
        let n = 800;
        for r in 0..n {
            let theta = normal(&mut rng);
            for (i, p) in truth.iter().enumerate() {
                answers.push((r, i, rng.random_bool(probability(p.a, p.b, theta))));
            }
        }
        let fit = calibrate(n, &defaults, &answers);
        let b_error: f64 =
            fit.params.iter().zip(&truth).map(|(got, want)| (got.unwrap().b - want.b).abs()).sum::<f64>() / 20.0;
        let a_error: f64 =
            fit.params.iter().zip(&truth).map(|(got, want)| (got.unwrap().a - want.a).abs()).sum::<f64>() / 20.0;
        assert!(b_error < 0.25 && a_error < 0.35, "mean errors: b {b_error}, a {a_error}");
        assert!(fit.log_likelihood > fit.default_log_likelihood);
        assert!(fit.mean_residual < 0.05, "{}", fit.mean_residual);
    }
}
