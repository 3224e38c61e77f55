//! How far the model's group means land from the annotators' group means: the error a reader
//! must see beside every profile figure.
//!
//! Groups are the outlet's leaning × target (the grouping a user of a corpus profile reads). For
//! each group the gold mean is the mean of +1 (favor), 0 (neutral), −1 (against) over its labelled
//! pairs and the model mean the mean of P(favor) − P(against), as profiles compute it; the error
//! is |model − gold|. For contrasts, the error of a difference between two groups of one target
//! is |(model A − model B) − (gold A − gold B)|. Measured per output (`stance`: any voice, gold
//! labels; `editorial`: the author's own voice, holder-derived labels).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupError {
    pub group: String,
    pub target: String,
    pub n: usize,
    pub gold_mean: f64,
    pub model_mean: f64,
    pub error: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileError {
    /// Mean over groups of |model mean − gold mean|: the figure reports print as "model error ±e".
    pub mean_abs_error: f64,
    pub max_abs_error: f64,
    /// Mean over same-target group pairs of the error of their difference.
    pub contrast_mean_abs_error: f64,
    /// Groups whose model mean has the other sign than the gold mean (both beyond ±0.02).
    pub sign_errors: usize,
    pub groups: usize,
    pub pairs: usize,
    pub per_group: Vec<GroupError>,
}

/// One labelled pair: its group, target, gold class (0 against, 1 neutral, 2 favor) and the
/// model's (P(against), P(neutral), P(favor)).
pub struct Labelled<'a> {
    pub group: &'a str,
    pub target: &'a str,
    pub gold: usize,
    pub probs: [f64; 3],
}

pub fn measure(items: &[Labelled]) -> ProfileError {
    let mut groups: BTreeMap<(String, String), (usize, f64, f64)> = BTreeMap::new();
    for it in items {
        let e = groups.entry((it.target.to_string(), it.group.to_string())).or_insert((0, 0.0, 0.0));
        e.0 += 1;
        e.1 += it.gold as f64 - 1.0;
        e.2 += it.probs[2] - it.probs[0];
    }
    let per_group: Vec<GroupError> = groups
        .iter()
        .map(|((target, group), &(n, g, m))| {
            let (gold_mean, model_mean) = (g / n as f64, m / n as f64);
            GroupError { group: group.clone(), target: target.clone(), n, gold_mean, model_mean, error: (model_mean - gold_mean).abs() }
        })
        .collect();
    let k = per_group.len().max(1) as f64;
    let mut diffs = Vec::new();
    for (i, a) in per_group.iter().enumerate() {
        for b in per_group.iter().skip(i + 1).filter(|b| b.target == a.target) {
            diffs.push(((a.model_mean - b.model_mean) - (a.gold_mean - b.gold_mean)).abs());
        }
    }
    ProfileError {
        mean_abs_error: per_group.iter().map(|g| g.error).sum::<f64>() / k,
        max_abs_error: per_group.iter().map(|g| g.error).fold(0.0, f64::max),
        contrast_mean_abs_error: if diffs.is_empty() { f64::NAN } else { diffs.iter().sum::<f64>() / diffs.len() as f64 },
        sign_errors: per_group.iter().filter(|g| g.gold_mean.abs() > 0.02 && g.model_mean.abs() > 0.02 && g.gold_mean.signum() != g.model_mean.signum()).count(),
        groups: per_group.len(),
        pairs: items.len(),
        per_group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // group L/NATO: gold favor, against (mean 0); model says favor 0.8/against 0.2 twice → mean
        // of P(f) − P(a) = 0.6 → error 0.6. group R/NATO: gold against (−1); model P(a) 1 → 0 error.
        let it = [
            Labelled { group: "left", target: "NATO", gold: 2, probs: [0.2, 0.0, 0.8] },
            Labelled { group: "left", target: "NATO", gold: 0, probs: [0.2, 0.0, 0.8] },
            Labelled { group: "right", target: "NATO", gold: 0, probs: [1.0, 0.0, 0.0] },
        ];
        let e = measure(&it);
        assert_eq!(e.groups, 2);
        assert!((e.mean_abs_error - 0.3).abs() < 1e-12, "{e:?}");
        assert!((e.max_abs_error - 0.6).abs() < 1e-12);
        // model difference L − R = 0.6 − (−1) = 1.6; gold 0 − (−1) = 1 → 0.6
        assert!((e.contrast_mean_abs_error - 0.6).abs() < 1e-12);
        assert_eq!(e.sign_errors, 0);
    }
}
