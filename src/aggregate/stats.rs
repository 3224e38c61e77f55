//! Small, seeded resampling statistics: bootstrap intervals, permutation tests, effect sizes.
//! ChaCha8 is used because its stream is fixed across rand versions: same seed, same interval.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SEED: u64 = 20_251_121;

pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() { f64::NAN } else { xs.iter().sum::<f64>() / xs.len() as f64 }
}

pub fn variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    // linear interpolation between closest ranks
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Percentile bootstrap interval for the mean (`level` e.g. 0.95).
pub fn bootstrap_mean_ci(xs: &[f64], resamples: usize, level: f64, seed: u64) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = xs.len();
    let mut means: Vec<f64> = (0..resamples).map(|_| (0..n).map(|_| xs[rng.random_range(0..n)]).sum::<f64>() / n as f64).collect();
    means.sort_by(|a, b| a.total_cmp(b));
    let alpha = (1.0 - level) / 2.0;
    (percentile(&means, alpha), percentile(&means, 1.0 - alpha))
}

/// Percentile bootstrap interval for mean(a) − mean(b), resampling each group on its own.
pub fn bootstrap_diff_ci(a: &[f64], b: &[f64], resamples: usize, level: f64, seed: u64) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut diffs: Vec<f64> = (0..resamples)
        .map(|_| {
            let ma = (0..a.len()).map(|_| a[rng.random_range(0..a.len())]).sum::<f64>() / a.len() as f64;
            let mb = (0..b.len()).map(|_| b[rng.random_range(0..b.len())]).sum::<f64>() / b.len() as f64;
            ma - mb
        })
        .collect();
    diffs.sort_by(|x, y| x.total_cmp(y));
    let alpha = (1.0 - level) / 2.0;
    (percentile(&diffs, alpha), percentile(&diffs, 1.0 - alpha))
}

/// Two-sided permutation test of equal means; the p-value counts the observed labelling, so it
/// is never 0.
pub fn permutation_p(a: &[f64], b: &[f64], permutations: usize, seed: u64) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let observed = (mean(a) - mean(b)).abs();
    let mut pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut extreme = 0usize;
    for _ in 0..permutations {
        // partial Fisher–Yates: the first a.len() elements become group A
        for i in 0..a.len() {
            let j = rng.random_range(i..pooled.len());
            pooled.swap(i, j);
        }
        let d = (mean(&pooled[..a.len()]) - mean(&pooled[a.len()..])).abs();
        if d >= observed - 1e-12 {
            extreme += 1;
        }
    }
    (extreme + 1) as f64 / (permutations + 1) as f64
}

/// Cohen's d with the pooled standard deviation (0 when both groups are constant).
pub fn cohens_d(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    if na + nb < 3.0 {
        return f64::NAN;
    }
    let pooled = (((na - 1.0) * variance(a) + (nb - 1.0) * variance(b)) / (na + nb - 2.0)).sqrt();
    if pooled == 0.0 { 0.0 } else { (mean(a) - mean(b)) / pooled }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr_free::normal;

    /// Box–Muller normal draws, enough for the coverage test without another crate.
    mod rand_distr_free {
        use rand::Rng;
        pub fn normal(rng: &mut impl Rng, mu: f64, sigma: f64) -> f64 {
            let u1: f64 = rng.random::<f64>().max(1e-12);
            let u2: f64 = rng.random();
            mu + sigma * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    #[test]
    fn bootstrap_ci_covers_the_true_mean_at_about_the_nominal_rate() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let trials = 300;
        let mut covered = 0;
        for t in 0..trials {
            let xs: Vec<f64> = (0..40).map(|_| normal(&mut rng, 0.3, 0.5)).collect();
            let (lo, hi) = bootstrap_mean_ci(&xs, 1000, 0.95, t);
            if lo <= 0.3 && 0.3 <= hi {
                covered += 1;
            }
        }
        let rate = covered as f64 / trials as f64;
        // percentile bootstrap with n=40 runs slightly under nominal; 300 trials give ±2.5 pts
        assert!((0.89..=0.985).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn hand_computed_values() {
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(variance(&[1.0, 2.0, 3.0]), 1.0);
        // pooled sd of [1,2,3] and [3,4,5] is 1, means differ by 2
        assert!((cohens_d(&[1.0, 2.0, 3.0], &[3.0, 4.0, 5.0]) + 2.0).abs() < 1e-12);
        let (lo, hi) = bootstrap_mean_ci(&[0.5; 10], 200, 0.95, 1);
        assert_eq!((lo, hi), (0.5, 0.5));
    }

    #[test]
    fn permutation_test_separates_different_groups_and_not_equal_ones() {
        let a: Vec<f64> = (0..20).map(|i| -0.5 + i as f64 * 0.01).collect();
        let b: Vec<f64> = (0..20).map(|i| 0.5 + i as f64 * 0.01).collect();
        assert!(permutation_p(&a, &b, 2000, 1) < 0.001);
        let p_same = permutation_p(&a, &a, 2000, 1);
        assert!(p_same > 0.9, "{p_same}");
    }
}
