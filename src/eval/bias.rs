//! Evaluating the paragraph-level bias outputs: register (report / analysis / opinion), loaded
//! language (yes / no) and the loaded words, on JSON lines
//! `{id, text, title?, register, loaded, spans?}` (`--format slant-bias`; a `null` field is
//! skipped), or on the dev split of the project's news-bias labels (`--format news-bias`).
//!
//! Span metrics count a predicted span as correct when it overlaps a gold span, and a gold span
//! as found when a predicted span overlaps it (loaded phrases have fuzzy edges: "slashed" vs
//! "brutally slashed"); precision, recall and F1 are over spans, on paragraphs whose gold gives
//! spans (a `yes` without spans teaches nothing about where).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::adapters::is_dev_article;
use super::metrics::{BinaryMetrics, ClassMetricsSet, binary_metrics, class_metrics};
use crate::error::{Error, Result};
use crate::model::{Classifier, ModelInput};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BiasFixture {
    pub id: String,
    pub text: String,
    pub register: Option<String>,
    pub loaded: Option<bool>,
    /// Gold loaded words, verbatim; None when not given.
    pub spans: Option<Vec<String>>,
    /// The outlet's leaning and the article, where the data says (for group-share error).
    pub leaning: Option<String>,
    pub article: Option<String>,
}

/// Read `slant-bias` JSON lines (every record) or `news-bias` (the dev split by `article_id`).
pub fn read(path: &Path, dev_only: bool) -> Result<Vec<BiasFixture>> {
    let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let help = r#"each line: {"id": "...", "text": "...", "register": "report|analysis|opinion", "loaded": "yes|no" (or true/false), "spans": ["..."]}"#;
    let mut out = Vec::new();
    for (i, line) in raw.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |m: String| Error::InputLine { path: path.to_path_buf(), line: i + 1, message: m, help: help.into() };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("malformed JSON: {e}")))?;
        if dev_only && !is_dev_article(v["article_id"].as_str().unwrap_or_default()) {
            continue;
        }
        let text = v["text"].as_str().ok_or_else(|| bad("record has no text".into()))?.to_string();
        let register = match &v["register"] {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) if ["report", "analysis", "opinion"].contains(&s.as_str()) => Some(s.clone()),
            other => return Err(bad(format!("unknown register {other}"))),
        };
        let loaded = match &v["loaded"] {
            serde_json::Value::Null => None,
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::String(s) if s == "yes" || s == "no" => Some(s == "yes"),
            other => return Err(bad(format!("unknown loaded value {other}"))),
        };
        let spans = match &v["spans"] {
            serde_json::Value::Array(a) => Some(a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
            _ => None,
        };
        let id = match &v["id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => format!("line{}", i + 1),
            other => other.to_string(),
        };
        let leaning = v["source_leaning"].as_str().map(str::to_string);
        let article = v["article_id"].as_str().map(str::to_string);
        out.push(BiasFixture { id, text, register, loaded, spans, leaning, article });
    }
    if out.is_empty() {
        return Err(Error::Input { path: path.to_path_buf(), message: "no bias fixtures".into(), help: help.into() });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct SpanMetrics {
    pub paragraphs: usize,
    pub gold_spans: usize,
    pub predicted_spans: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BiasReport {
    pub fixture: String,
    pub format: String,
    pub n: usize,
    pub register_accuracy: f64,
    pub register_macro_f1: f64,
    pub register: ClassMetricsSet,
    pub register_majority_baseline: ClassMetricsSet,
    pub loaded_precision: f64,
    pub loaded_recall: f64,
    pub loaded_f1: f64,
    pub loaded: BinaryMetrics,
    /// Always answering the majority class of `loaded` (its F1 is 0 when that is "no").
    pub loaded_majority_baseline: BinaryMetrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_recall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_f1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spans: Option<SpanMetrics>,
}

/// Character ranges of each gold phrase in `text` (every occurrence).
fn locate(text: &str, phrases: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for p in phrases.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        for (byte, _) in text.match_indices(p) {
            let start = text[..byte].chars().count();
            out.push((start, start + p.chars().count()));
        }
    }
    out
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Span P/R/F1 over paragraphs: (gold ranges, predicted ranges) each.
pub fn span_metrics(items: &[(Vec<(usize, usize)>, Vec<(usize, usize)>)]) -> SpanMetrics {
    let (mut np, mut npok, mut ng, mut ngok) = (0, 0, 0, 0);
    for (gold, pred) in items {
        np += pred.len();
        ng += gold.len();
        npok += pred.iter().filter(|p| gold.iter().any(|g| overlaps(**p, *g))).count();
        ngok += gold.iter().filter(|g| pred.iter().any(|p| overlaps(*p, **g))).count();
    }
    let precision = if np > 0 { npok as f64 / np as f64 } else { 0.0 };
    let recall = if ng > 0 { ngok as f64 / ng as f64 } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    SpanMetrics { paragraphs: items.len(), gold_spans: ng, predicted_spans: np, precision, recall, f1 }
}

pub fn evaluate(path: &Path, format: &str, fixtures: &[BiasFixture], model: &mut dyn Classifier) -> Result<BiasReport> {
    let m = model.manifest().clone();
    let no_output = |o: &str| Error::Model { dir: path.to_path_buf(), message: format!("the model has no {o:?} output"), help: "bias evaluation needs a model with register, loaded and loaded_tokens outputs (--model accurate or fast)".into() };
    let reg_labels = m.output("register").ok_or_else(|| no_output("register"))?.labels.clone();
    let loaded_spec = m.output("loaded").ok_or_else(|| no_output("loaded"))?.clone();
    let yes = loaded_spec.labels.iter().position(|l| l == "yes").ok_or_else(|| no_output("loaded (label yes)"))?;
    let token_output = m.outputs.iter().find(|o| o.per_token && o.input == crate::model::InputKind::Text).map(|o| (o.name.clone(), o.labels.len() - 1));

    let inputs: Vec<ModelInput> = fixtures.iter().map(|f| ModelInput::text(&f.text)).collect();
    let mut preds = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(256) {
        preds.extend(model.classify(chunk, &mut |_| {})?);
    }
    let argmax = |v: &[f32]| v.iter().enumerate().fold(0, |b, (i, &x)| if x > v[b] { i } else { b });

    let labels: Vec<&str> = reg_labels.iter().map(String::as_str).collect();
    let (mut rg, mut rp) = (Vec::new(), Vec::new());
    let (mut lg, mut lp) = (Vec::new(), Vec::new());
    let mut span_items = Vec::new();
    for (f, p) in fixtures.iter().zip(&preds) {
        if let Some(r) = &f.register {
            if let Some(g) = labels.iter().position(|l| l == r) {
                rg.push(g);
                rp.push(argmax(p.probs("register").ok_or_else(|| no_output("register"))?));
            }
        }
        if let Some(l) = f.loaded {
            lg.push(l);
            lp.push(argmax(p.probs("loaded").ok_or_else(|| no_output("loaded"))?) == yes);
        }
        // spans: only where the gold tells where (a "no", or a "yes" with its words)
        if let (Some((name, positive)), Some(loaded)) = (&token_output, f.loaded) {
            let gold = match (&f.spans, loaded) {
                (_, false) => Some(Vec::new()),
                (Some(s), true) if !s.is_empty() => Some(locate(&f.text, s)),
                _ => None,
            };
            if let Some(gold) = gold {
                let toks = p.tokens.get(name).map(Vec::as_slice).unwrap_or(&[]);
                let pred: Vec<(usize, usize)> = crate::score::spans_of(&f.text, toks, *positive).into_iter().map(|s| (s.start, s.end)).collect();
                span_items.push((gold, pred));
            }
        }
    }
    let register = class_metrics(&labels, &rg, &rp);
    let majority = (0..labels.len()).max_by_key(|&c| (rg.iter().filter(|&&g| g == c).count(), std::cmp::Reverse(c))).unwrap_or(0);
    let register_majority_baseline = class_metrics(&labels, &rg, &vec![majority; rg.len()]);
    let loaded = binary_metrics(&lg, &lp);
    let majority_yes = lg.iter().filter(|&&g| g).count() * 2 > lg.len();
    let loaded_majority_baseline = binary_metrics(&lg, &vec![majority_yes; lg.len()]);
    let has_spans = fixtures.iter().any(|f| f.spans.as_ref().is_some_and(|s| !s.is_empty()));
    let spans = (has_spans && token_output.is_some()).then(|| span_metrics(&span_items));
    Ok(BiasReport {
        fixture: path.display().to_string(),
        format: format.into(),
        n: fixtures.len(),
        register_accuracy: register.accuracy,
        register_macro_f1: register.macro_f1,
        register,
        register_majority_baseline,
        loaded_precision: loaded.precision,
        loaded_recall: loaded.recall,
        loaded_f1: loaded.f1,
        loaded,
        loaded_majority_baseline,
        span_precision: spans.as_ref().map(|s| s.precision),
        span_recall: spans.as_ref().map(|s| s.recall),
        span_f1: spans.as_ref().map(|s| s.f1),
        spans,
    })
}

impl BiasReport {
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{} ({}), {} paragraphs", self.fixture, self.format, self.n);
        let r = &self.register;
        let b = &self.register_majority_baseline;
        let _ = writeln!(s, "  register: n {}, accuracy {:.3}, macro-F1 {:.3}   (majority baseline: accuracy {:.3}, macro-F1 {:.3})", r.n, r.accuracy, r.macro_f1, b.accuracy, b.macro_f1);
        for (label, c) in &r.per_class {
            let _ = writeln!(s, "    {:<10} precision {:.3} recall {:.3} F1 {:.3} (support {})", label, c.precision, c.recall, c.f1, c.support);
        }
        let _ = writeln!(s, "    confusion (rows gold, columns predicted: {})", r.labels.join(" "));
        for (label, row) in r.labels.iter().zip(&r.confusion) {
            let _ = writeln!(s, "    {:<10} {}", label, row.iter().map(|x| format!("{x:>7}")).collect::<String>());
        }
        let l = &self.loaded;
        let _ = writeln!(s, "  loaded: n {}, precision {:.3}, recall {:.3}, F1 {:.3}, accuracy {:.3}   (majority baseline F1 {:.3})", l.n, l.precision, l.recall, l.f1, l.accuracy, self.loaded_majority_baseline.f1);
        if let Some(sp) = &self.spans {
            let _ = writeln!(s, "  loaded words (overlap match): {} gold spans, {} predicted, precision {:.3}, recall {:.3}, F1 {:.3}", sp.gold_spans, sp.predicted_spans, sp.precision, sp.recall, sp.f1);
        }
        s
    }
}

/// Group-share error of the bias outputs on `fixtures` (those with a leaning): how far each
/// leaning's share of opinion paragraphs and of loaded paragraphs, by the model's labels, lands
/// from the annotators' share. Keys `opinion` and `loaded`.
pub fn share_error(fixtures: &[BiasFixture], model: &mut dyn Classifier) -> Result<BTreeMap<String, super::profile_error::ProfileError>> {
    use super::profile_error::{Labelled, measure};
    let fx: Vec<&BiasFixture> = fixtures.iter().filter(|f| f.leaning.is_some()).collect();
    let mut out = BTreeMap::new();
    if fx.is_empty() {
        return Ok(out);
    }
    let inputs: Vec<ModelInput> = fx.iter().map(|f| ModelInput::text(&f.text)).collect();
    let mut preds = Vec::new();
    for chunk in inputs.chunks(256) {
        preds.extend(model.classify(chunk, &mut |_| {})?);
    }
    let m = model.manifest().clone();
    let argmax = |v: &[f32]| v.iter().enumerate().fold(0, |b, (i, &x)| if x > v[b] { i } else { b });
    let reg = m.output("register").map(|o| o.labels.clone()).unwrap_or_default();
    let lod = m.output("loaded").map(|o| o.labels.clone()).unwrap_or_default();
    // a share is a mean of 0/1: encode gold as class 1 (0) or 2 (+1) and the model's label likewise
    let as_item = |f: &BiasFixture, gold: bool, pred: bool| (f.leaning.clone().unwrap_or_default(), if gold { 2 } else { 1 }, if pred { [0.0, 0.0, 1.0] } else { [0.0, 1.0, 0.0] });
    let mut opinion = Vec::new();
    let mut loaded = Vec::new();
    for (f, p) in fx.iter().zip(&preds) {
        if let (Some(r), Some(probs)) = (&f.register, p.probs("register")) {
            opinion.push(as_item(f, r == "opinion", reg.get(argmax(probs)).is_some_and(|l| l == "opinion")));
        }
        if let (Some(l), Some(probs)) = (f.loaded, p.probs("loaded")) {
            loaded.push(as_item(f, l, lod.get(argmax(probs)).is_some_and(|x| x == "yes")));
        }
    }
    for (name, rows) in [("opinion", opinion), ("loaded", loaded)] {
        if rows.is_empty() {
            continue;
        }
        let items: Vec<Labelled> = rows.iter().map(|(g, gold, probs)| Labelled { group: g, target: "paragraphs", gold: *gold, probs: *probs }).collect();
        out.insert(name.to_string(), measure(&items));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_metrics_by_hand() {
        // gold [0,5) [10,20); predicted [3,8) (overlaps the first), [30,35) (wrong)
        let m = span_metrics(&[(vec![(0, 5), (10, 20)], vec![(3, 8), (30, 35)]), (vec![], vec![])]);
        assert_eq!((m.gold_spans, m.predicted_spans), (2, 2));
        assert!((m.precision - 0.5).abs() < 1e-12 && (m.recall - 0.5).abs() < 1e-12 && (m.f1 - 0.5).abs() < 1e-12);
        assert_eq!(locate("a bad bad day", &["bad".into()]), vec![(2, 5), (6, 9)]);
    }
}
