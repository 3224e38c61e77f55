//! Eval: how far to trust the scores, on labelled fixtures and public stance sets.
//!
//! A fixture names a target either by a configured target's name (its aliases then drive mention
//! detection and its label string is what the model sees) or by any other string, which the model
//! sees as it is. `absent` gold labels test mention detection; stance metrics count only targets
//! the gold says are present.

pub mod adapters;
pub mod bias;
pub mod metrics;
pub mod profile_error;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

pub use adapters::FixtureFormat;
use metrics::{CLASSES, DetectionMetrics, StanceMetrics};

use crate::error::{Error, Result};
use crate::model::{Classifier, ModelInput};
use crate::targets::TargetSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gold {
    Against,
    Neutral,
    Favor,
    Absent,
}

impl Gold {
    pub fn parse(s: &str) -> Option<Gold> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "against" => Gold::Against,
            "neutral" | "none" => Gold::Neutral,
            "favor" | "favour" => Gold::Favor,
            "absent" => Gold::Absent,
            _ => return None,
        })
    }

    pub fn class(self) -> Option<usize> {
        match self {
            Gold::Against => Some(0),
            Gold::Neutral => Some(1),
            Gold::Favor => Some(2),
            Gold::Absent => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub id: String,
    pub text: String,
    pub target: String,
    pub gold: Gold,
    /// The stance in the author's own voice, where the data says (news-stance `holder`).
    pub editorial: Option<Gold>,
    /// The outlet's leaning, where the data says (for group-mean error).
    pub leaning: Option<String>,
    /// Who holds the stance: author, quoted, mixed.
    pub holder: Option<String>,
    /// The article the text comes from, where known (splits are by article).
    pub article: Option<String>,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture { id: String::new(), text: String::new(), target: String::new(), gold: Gold::Absent, editorial: None, leaning: None, holder: None, article: None }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub label: String,
    #[serde(flatten)]
    pub metrics: StanceMetrics,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub fixture: String,
    pub format: String,
    #[serde(flatten)]
    pub metrics: StanceMetrics,
    pub per_target: BTreeMap<String, StanceMetrics>,
    pub baseline: Baseline,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<DetectionMetrics>,
    pub temperature: f32,
    /// The `editorial` output against holder-derived labels (fixtures that give them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editorial: Option<EditorialEval>,
}

/// How the `editorial` output (the author's own voice) does against labels derived from who
/// holds each stance, and on the pairs whose stance only quoted speakers hold, where `stance`
/// should find the stance and `editorial` should say neutral.
#[derive(Debug, Clone, Serialize)]
pub struct EditorialEval {
    #[serde(flatten)]
    pub metrics: StanceMetrics,
    pub per_target: BTreeMap<String, StanceMetrics>,
    pub quoted_only: QuotedOnly,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuotedOnly {
    pub n: usize,
    /// Share of those pairs the editorial output calls neutral (the right answer).
    pub editorial_neutral_rate: f64,
    /// Share the stance output labels correctly (any voice: the quoted stance).
    pub stance_accuracy: f64,
    /// Share where the two outputs differ, as they should.
    pub outputs_differ_rate: f64,
}

/// Model probabilities (against, neutral, favor) for each present fixture, plus detection.
pub struct Scored {
    pub gold: Vec<usize>,
    pub probs: Vec<[f64; 3]>,
    /// The `editorial` output's probabilities, for models that have it.
    pub editorial_probs: Option<Vec<[f64; 3]>>,
    /// The present fixtures, in the order of `gold`.
    pub fixtures: Vec<Fixture>,
    pub targets: Vec<String>,
    pub detection: Option<DetectionMetrics>,
}

pub fn score_fixtures(fixtures: &[Fixture], targets: &TargetSet, model: &mut dyn Classifier) -> Result<Scored> {
    let [ia, ine, ifa] = model.manifest().stance_indices()?;
    let has_absent = fixtures.iter().any(|f| f.gold == Gold::Absent);
    let (mut det_gold, mut det_found) = (Vec::new(), Vec::new());
    let mut present: Vec<(&Fixture, String)> = Vec::new();
    for f in fixtures {
        let configured = targets.get(&f.target);
        if let (true, Some(t)) = (has_absent, configured) {
            det_gold.push(f.gold != Gold::Absent);
            det_found.push(!t.mentions(&f.text).is_empty());
        }
        if f.gold != Gold::Absent {
            present.push((f, configured.map_or_else(|| f.target.clone(), |t| t.label.clone())));
        }
    }
    let mut probs = Vec::with_capacity(present.len());
    let editorial_idx = model.manifest().output("editorial").map(|_| model.manifest().stance_indices_of("editorial")).transpose()?;
    let mut editorial_probs = Vec::new();
    for chunk in present.chunks(512) {
        let inputs: Vec<ModelInput> = chunk.iter().map(|(f, label)| ModelInput::pair(label, &f.text)).collect();
        for pred in model.classify(&inputs, &mut |_| {})? {
            if let (Some([a, n, f]), Some(e)) = (editorial_idx, pred.probs("editorial")) {
                editorial_probs.push([e[a] as f64, e[n] as f64, e[f] as f64]);
            }
            let p = pred.probs("stance").ok_or_else(|| Error::Inference("the model returned no stance output".into()))?;
            probs.push([p[ia] as f64, p[ine] as f64, p[ifa] as f64]);
        }
    }
    Ok(Scored {
        gold: present.iter().map(|(f, _)| f.gold.class().expect("present")).collect(),
        probs,
        editorial_probs: editorial_idx.map(|_| editorial_probs),
        fixtures: present.iter().map(|(f, _)| (*f).clone()).collect(),
        targets: present.iter().map(|(f, _)| targets.get(&f.target).map_or_else(|| f.target.clone(), |t| t.name.clone())).collect(),
        detection: (!det_gold.is_empty()).then(|| metrics::detection_metrics(&det_gold, &det_found)),
    })
}

fn argmax3(p: &[f64; 3]) -> usize {
    (0..3).fold(0, |b, i| if p[i] > p[b] { i } else { b })
}

pub fn evaluate(fixture: &Path, format: FixtureFormat, fixtures: &[Fixture], targets: &TargetSet, model: &mut dyn Classifier) -> Result<EvalReport> {
    if fixtures.is_empty() {
        return Err(Error::Input { path: fixture.to_path_buf(), message: "no fixtures".into(), help: "the file holds no labelled examples".into() });
    }
    let temperature = model.manifest().calibration.as_ref().map_or(1.0, |c| c.temperature);
    let s = score_fixtures(fixtures, targets, model)?;
    let pred: Vec<usize> = s.probs.iter().map(argmax3).collect();
    let conf: Vec<f64> = s.probs.iter().zip(&pred).map(|(p, &k)| p[k]).collect();
    let mut per_target = BTreeMap::new();
    let mut names: Vec<&String> = s.targets.iter().collect();
    names.sort();
    names.dedup();
    for t in names {
        let idx: Vec<usize> = (0..s.gold.len()).filter(|&i| &s.targets[i] == t).collect();
        let g: Vec<usize> = idx.iter().map(|&i| s.gold[i]).collect();
        let p: Vec<usize> = idx.iter().map(|&i| pred[i]).collect();
        let c: Vec<f64> = idx.iter().map(|&i| conf[i]).collect();
        per_target.insert(t.clone(), metrics::stance_metrics(&g, &p, Some(&c)));
    }
    let (label, base) = metrics::majority_baseline(&s.gold);
    let editorial = s.editorial_probs.as_ref().and_then(|ep| editorial_eval(&s, ep, &pred));
    Ok(EvalReport {
        fixture: fixture.display().to_string(),
        format: format!("{format:?}").to_lowercase(),
        metrics: metrics::stance_metrics(&s.gold, &pred, Some(&conf)),
        per_target,
        baseline: Baseline { label, metrics: base },
        detection: s.detection,
        temperature,
        editorial,
    })
}

fn editorial_eval(s: &Scored, ep: &[[f64; 3]], stance_pred: &[usize]) -> Option<EditorialEval> {
    let idx: Vec<usize> = (0..s.fixtures.len()).filter(|&i| s.fixtures[i].editorial.and_then(Gold::class).is_some()).collect();
    if idx.is_empty() {
        return None;
    }
    let gold: Vec<usize> = idx.iter().map(|&i| s.fixtures[i].editorial.and_then(Gold::class).expect("filtered")).collect();
    let pred: Vec<usize> = idx.iter().map(|&i| argmax3(&ep[i])).collect();
    let conf: Vec<f64> = idx.iter().zip(&pred).map(|(&i, &k)| ep[i][k]).collect();
    let mut per_target = BTreeMap::new();
    let mut names: Vec<&String> = idx.iter().map(|&i| &s.targets[i]).collect();
    names.sort();
    names.dedup();
    for t in names {
        let k: Vec<usize> = (0..idx.len()).filter(|&j| &s.targets[idx[j]] == t).collect();
        per_target.insert(t.clone(), metrics::stance_metrics(&k.iter().map(|&j| gold[j]).collect::<Vec<_>>(), &k.iter().map(|&j| pred[j]).collect::<Vec<_>>(), None));
    }
    let quoted: Vec<usize> = idx.iter().copied().filter(|&i| s.fixtures[i].holder.as_deref() == Some("quoted") && s.gold[i] != 1).collect();
    let n = quoted.len().max(1) as f64;
    let quoted_only = QuotedOnly {
        n: quoted.len(),
        editorial_neutral_rate: quoted.iter().filter(|&&i| argmax3(&ep[i]) == 1).count() as f64 / n,
        stance_accuracy: quoted.iter().filter(|&&i| stance_pred[i] == s.gold[i]).count() as f64 / n,
        outputs_differ_rate: quoted.iter().filter(|&&i| argmax3(&ep[i]) != stance_pred[i]).count() as f64 / n,
    };
    Some(EditorialEval { metrics: metrics::stance_metrics(&gold, &pred, Some(&conf)), per_target, quoted_only })
}

impl EvalReport {
    pub fn to_table(&self) -> String {
        let m = &self.metrics;
        let mut s = String::new();
        let _ = writeln!(s, "{} ({}), temperature {:.2}", self.fixture, self.format, self.temperature);
        let _ = writeln!(s, "  {:<22} {:>6} {:>9} {:>9} {:>7} {:>7}", "", "n", "accuracy", "macro-F1", "F_avg", "ECE");
        let _ = writeln!(s, "  {:<22} {:>6} {:>9.3} {:>9.3} {:>7.3} {:>7.3}", "model", m.n, m.accuracy, m.macro_f1, m.f_avg, m.ece.unwrap_or(f64::NAN));
        let b = &self.baseline.metrics;
        let _ = writeln!(s, "  {:<22} {:>6} {:>9.3} {:>9.3} {:>7.3} {:>7}", format!("majority ({})", self.baseline.label), b.n, b.accuracy, b.macro_f1, b.f_avg, "–");
        let _ = writeln!(s, "\n  {:<10} {:>9} {:>7} {:>7} {:>8}", "class", "precision", "recall", "F1", "support");
        for c in CLASSES {
            let pc = &m.per_class[c];
            let _ = writeln!(s, "  {:<10} {:>9.3} {:>7.3} {:>7.3} {:>8}", c, pc.precision, pc.recall, pc.f1, pc.support);
        }
        let _ = writeln!(s, "\n  confusion (rows gold, columns predicted: against neutral favor)");
        for (c, row) in CLASSES.iter().zip(&m.confusion) {
            let _ = writeln!(s, "  {:<10} {:>7} {:>7} {:>7}", c, row[0], row[1], row[2]);
        }
        if self.per_target.len() > 1 {
            let _ = writeln!(s, "\n  {:<34} {:>6} {:>9} {:>9} {:>7}", "target", "n", "accuracy", "macro-F1", "F_avg");
            let mut rows: Vec<(&String, &StanceMetrics)> = self.per_target.iter().collect();
            rows.sort_by(|a, b| b.1.n.cmp(&a.1.n).then(a.0.cmp(b.0)));
            if rows.len() > 15 {
                let _ = writeln!(s, "  (the 15 largest of {} targets; all are in --json)", rows.len());
            }
            for (t, pm) in rows.into_iter().take(15) {
                let name: String = t.chars().take(34).collect();
                let _ = writeln!(s, "  {:<34} {:>6} {:>9.3} {:>9.3} {:>7.3}", name, pm.n, pm.accuracy, pm.macro_f1, pm.f_avg);
            }
        }
        if let Some(e) = &self.editorial {
            let _ = writeln!(s, "\n  editorial output (author's own voice) vs holder-derived labels: n {}, accuracy {:.3}, macro-F1 {:.3}", e.metrics.n, e.metrics.accuracy, e.metrics.macro_f1);
            let q = &e.quoted_only;
            let _ = writeln!(s, "  pairs whose stance only quoted speakers hold: n {}, editorial says neutral {:.1}%, stance correct {:.1}%, outputs differ {:.1}%", q.n, q.editorial_neutral_rate * 100.0, q.stance_accuracy * 100.0, q.outputs_differ_rate * 100.0);
        }
        if let Some(d) = &self.detection {
            let _ = writeln!(s, "\n  mention detection: precision {:.3}, recall {:.3}, F1 {:.3} (n {}, {} missed, {} spurious)", d.precision, d.recall, d.f1, d.n, d.false_negative, d.false_positive);
        }
        s
    }
}

/// Temperature fitted on dev data, with what it changed.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationFit {
    pub temperature: f32,
    pub fitted_on: Vec<String>,
    pub n: usize,
    pub nll_before: f64,
    pub nll_after: f64,
    pub ece_before: f64,
    pub ece_after: f64,
}

fn with_temperature(p: &[f64; 3], t: f64) -> [f64; 3] {
    let l: Vec<f64> = p.iter().map(|x| x.max(1e-12).ln() / t).collect();
    let max = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = l.iter().map(|x| (x - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    [e[0] / sum, e[1] / sum, e[2] / sum]
}

/// Fit a temperature by grid search on negative log-likelihood. Probabilities must come from the
/// model at temperature 1; log-probabilities stand in for logits (exact for single-window texts).
pub fn fit_temperature(gold: &[usize], probs: &[[f64; 3]], fitted_on: Vec<String>) -> CalibrationFit {
    let nll = |t: f64| -gold.iter().zip(probs).map(|(&g, p)| with_temperature(p, t)[g].max(1e-12).ln()).sum::<f64>() / gold.len().max(1) as f64;
    let ece_at = |t: f64| {
        let q: Vec<[f64; 3]> = probs.iter().map(|p| with_temperature(p, t)).collect();
        let pred: Vec<usize> = q.iter().map(argmax3).collect();
        let conf: Vec<f64> = q.iter().zip(&pred).map(|(p, &k)| p[k]).collect();
        metrics::ece(gold, &pred, &conf, 10)
    };
    let best = (10..=500).map(|i| i as f64 / 100.0).min_by(|a, b| nll(*a).total_cmp(&nll(*b))).unwrap_or(1.0);
    CalibrationFit { temperature: best as f32, fitted_on, n: gold.len(), nll_before: nll(1.0), nll_after: nll(best), ece_before: ece_at(1.0), ece_after: ece_at(best) }
}

/// Store a fitted calibration in the model folder's manifest.json (atomically).
/// Write the fitted calibration and the measured profile error into the model's manifest.json.
pub fn write_calibration(model_dir: &Path, calibration: &crate::model::manifest::Calibration, profile_error: &BTreeMap<String, profile_error::ProfileError>, files: &[String]) -> Result<()> {
    let path = model_dir.join("manifest.json");
    let raw = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut v: serde_json::Value = serde_json::from_str(&raw).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    v["calibration"] = serde_json::to_value(calibration).map_err(|e| Error::Usage(e.to_string()))?;
    if !profile_error.is_empty() {
        let mut pe = serde_json::to_value(profile_error).map_err(|e| Error::Usage(e.to_string()))?;
        pe["measured_on"] = serde_json::json!({
            "files": files,
            "split": "dev half B: sha1(article_id) % 1000 in 100..200 (not used for training, prior offsets or temperature)",
            "groups": "source_leaning x target",
        });
        v["profile_error"] = pe;
    }
    let mut out = serde_json::to_string_pretty(&v).map_err(|e| Error::Usage(e.to_string()))?;
    out.push('\n');
    crate::score::write_atomically(&path, out.as_bytes())
}

pub fn load(path: &Path, format: Option<&str>) -> Result<(FixtureFormat, Vec<Fixture>)> {
    if !path.exists() {
        return Err(Error::NotFound { path: path.to_path_buf() });
    }
    let format = match format {
        Some(f) => FixtureFormat::parse(f)?,
        None => FixtureFormat::detect(path)?,
    };
    Ok((format, adapters::read(path, format)?))
}
