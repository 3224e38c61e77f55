//! Classification metrics for stance: accuracy, macro-F1 over favor/against/neutral, F_avg
//! (mean of favor and against F1, the SemEval-2016 Task 6 measure), per-class P/R/F1, confusion
//! matrix, expected calibration error.

use std::collections::BTreeMap;

use serde::Serialize;

pub const CLASSES: [&str; 3] = ["against", "neutral", "favor"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StanceMetrics {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub f_avg: f64,
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// confusion[gold][predicted], classes in CLASSES order
    pub confusion: Vec<Vec<usize>>,
    /// Expected calibration error of the top-class probability (10 equal-width bins); None
    /// when no probabilities are known (the baseline).
    pub ece: Option<f64>,
}

fn safe_div(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// `gold` and `pred` index CLASSES; `confidence` is the predicted class's probability.
pub fn stance_metrics(gold: &[usize], pred: &[usize], confidence: Option<&[f64]>) -> StanceMetrics {
    let mut confusion = vec![vec![0usize; 3]; 3];
    for (&g, &p) in gold.iter().zip(pred) {
        confusion[g][p] += 1;
    }
    let mut per_class = BTreeMap::new();
    let mut f1s = [0.0; 3];
    for c in 0..3 {
        let tp = confusion[c][c] as f64;
        let predicted: f64 = (0..3).map(|g| confusion[g][c] as f64).sum();
        let support: usize = confusion[c].iter().sum();
        let precision = safe_div(tp, predicted);
        let recall = safe_div(tp, support as f64);
        let f1 = safe_div(2.0 * precision * recall, precision + recall);
        f1s[c] = f1;
        per_class.insert(CLASSES[c].to_string(), ClassMetrics { precision, recall, f1, support });
    }
    let n = gold.len();
    StanceMetrics {
        n,
        accuracy: safe_div((0..3).map(|c| confusion[c][c]).sum::<usize>() as f64, n as f64),
        macro_f1: f1s.iter().sum::<f64>() / 3.0,
        f_avg: (f1s[0] + f1s[2]) / 2.0,
        per_class,
        confusion,
        ece: confidence.map(|conf| ece(gold, pred, conf, 10)),
    }
}

pub fn ece(gold: &[usize], pred: &[usize], confidence: &[f64], bins: usize) -> f64 {
    let n = gold.len();
    if n == 0 {
        return 0.0;
    }
    let mut count = vec![0usize; bins];
    let mut conf_sum = vec![0f64; bins];
    let mut correct = vec![0usize; bins];
    for i in 0..n {
        let b = ((confidence[i] * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        conf_sum[b] += confidence[i];
        correct[b] += (gold[i] == pred[i]) as usize;
    }
    (0..bins).filter(|&b| count[b] > 0).map(|b| (count[b] as f64 / n as f64) * (correct[b] as f64 / count[b] as f64 - conf_sum[b] / count[b] as f64).abs()).sum()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionMetrics {
    pub n: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_positive: usize,
    pub false_positive: usize,
    pub false_negative: usize,
}

/// Mention detection: was the target found where the gold says it is present?
pub fn detection_metrics(gold_present: &[bool], found: &[bool]) -> DetectionMetrics {
    let tp = gold_present.iter().zip(found).filter(|(g, f)| **g && **f).count();
    let fp = gold_present.iter().zip(found).filter(|(g, f)| !**g && **f).count();
    let fn_ = gold_present.iter().zip(found).filter(|(g, f)| **g && !**f).count();
    let precision = safe_div(tp as f64, (tp + fp) as f64);
    let recall = safe_div(tp as f64, (tp + fn_) as f64);
    DetectionMetrics { n: gold_present.len(), precision, recall, f1: safe_div(2.0 * precision * recall, precision + recall), true_positive: tp, false_positive: fp, false_negative: fn_ }
}

/// Metrics for any set of classes (register: report / analysis / opinion).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetricsSet {
    pub n: usize,
    pub labels: Vec<String>,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// confusion[gold][predicted], classes in `labels` order
    pub confusion: Vec<Vec<usize>>,
}

pub fn class_metrics(labels: &[&str], gold: &[usize], pred: &[usize]) -> ClassMetricsSet {
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&g, &p) in gold.iter().zip(pred) {
        confusion[g][p] += 1;
    }
    let mut per_class = BTreeMap::new();
    let mut f1_sum = 0.0;
    for c in 0..k {
        let tp = confusion[c][c] as f64;
        let predicted: f64 = (0..k).map(|g| confusion[g][c] as f64).sum();
        let support: usize = confusion[c].iter().sum();
        let precision = safe_div(tp, predicted);
        let recall = safe_div(tp, support as f64);
        let f1 = safe_div(2.0 * precision * recall, precision + recall);
        f1_sum += f1;
        per_class.insert(labels[c].to_string(), ClassMetrics { precision, recall, f1, support });
    }
    let n = gold.len();
    ClassMetricsSet {
        n,
        labels: labels.iter().map(|l| l.to_string()).collect(),
        accuracy: safe_div((0..k).map(|c| confusion[c][c]).sum::<usize>() as f64, n as f64),
        macro_f1: f1_sum / k.max(1) as f64,
        per_class,
        confusion,
    }
}

/// Precision, recall and F1 of the positive class of a yes/no label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinaryMetrics {
    pub n: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub accuracy: f64,
    pub true_positive: usize,
    pub false_positive: usize,
    pub false_negative: usize,
}

pub fn binary_metrics(gold: &[bool], pred: &[bool]) -> BinaryMetrics {
    let tp = gold.iter().zip(pred).filter(|(g, p)| **g && **p).count();
    let fp = gold.iter().zip(pred).filter(|(g, p)| !**g && **p).count();
    let fn_ = gold.iter().zip(pred).filter(|(g, p)| **g && !**p).count();
    let correct = gold.iter().zip(pred).filter(|(g, p)| g == p).count();
    let precision = safe_div(tp as f64, (tp + fp) as f64);
    let recall = safe_div(tp as f64, (tp + fn_) as f64);
    BinaryMetrics { n: gold.len(), precision, recall, f1: safe_div(2.0 * precision * recall, precision + recall), accuracy: safe_div(correct as f64, gold.len() as f64), true_positive: tp, false_positive: fp, false_negative: fn_ }
}

/// Always predicting the most frequent gold class (ties: neutral, then against).
pub fn majority_baseline(gold: &[usize]) -> (String, StanceMetrics) {
    let mut counts = [0usize; 3];
    for &g in gold {
        counts[g] += 1;
    }
    let majority = [1usize, 0, 2].into_iter().max_by_key(|&c| (counts[c], c == 1)).unwrap_or(1);
    (CLASSES[majority].to_string(), stance_metrics(gold, &vec![majority; gold.len()], None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_stance_metrics() {
        // gold:  A A A N N F F F F   (A=0, N=1, F=2)
        // pred:  A A N N F F F A F
        let gold = [0, 0, 0, 1, 1, 2, 2, 2, 2];
        let pred = [0, 0, 1, 1, 2, 2, 2, 0, 2];
        let m = stance_metrics(&gold, &pred, None);
        assert_eq!(m.confusion, vec![vec![2, 1, 0], vec![0, 1, 1], vec![1, 0, 3]]);
        assert!((m.accuracy - 6.0 / 9.0).abs() < 1e-12);
        // against: P 2/3 R 2/3 F 2/3; neutral: P 1/2 R 1/2 F 1/2; favor: P 3/4 R 3/4 F 3/4
        assert!((m.per_class["against"].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class["neutral"].f1 - 0.5).abs() < 1e-12);
        assert!((m.per_class["favor"].f1 - 0.75).abs() < 1e-12);
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.5 + 0.75) / 3.0).abs() < 1e-12);
        assert!((m.f_avg - (2.0 / 3.0 + 0.75) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn ece_by_hand() {
        // two bins used: 0.9 (both right) and 0.6 (one of two right)
        let gold = [0, 0, 1, 1];
        let pred = [0, 0, 1, 2];
        let conf = [0.9, 0.9, 0.6, 0.6];
        // bin 0.9: |1.0 - 0.9| * 2/4 = 0.05; bin 0.6: |0.5 - 0.6| * 2/4 = 0.05
        assert!((ece(&gold, &pred, &conf, 10) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn generic_and_binary_metrics_by_hand() {
        // register gold: r r a o ; pred: r a a r
        let m = class_metrics(&["report", "analysis", "opinion"], &[0, 0, 1, 2], &[0, 1, 1, 0]);
        assert_eq!(m.confusion, vec![vec![1, 1, 0], vec![0, 1, 0], vec![1, 0, 0]]);
        // report P 1/2 R 1/2 F 1/2; analysis P 1/2 R 1 F 2/3; opinion 0
        assert!((m.macro_f1 - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((m.accuracy - 0.5).abs() < 1e-12);
        let b = binary_metrics(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!((b.true_positive, b.false_positive, b.false_negative), (1, 1, 1));
        assert!((b.f1 - 0.5).abs() < 1e-12 && (b.accuracy - 0.5).abs() < 1e-12);
    }

    #[test]
    fn detection_and_baseline() {
        let d = detection_metrics(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!((d.true_positive, d.false_positive, d.false_negative), (1, 1, 1));
        assert!((d.f1 - 0.5).abs() < 1e-12);
        let (label, b) = majority_baseline(&[1, 1, 0, 2]);
        assert_eq!(label, "neutral");
        assert!((b.accuracy - 0.5).abs() < 1e-12);
        assert!((b.macro_f1 - (2.0 / 3.0) / 3.0).abs() < 1e-12);
    }
}
