//! Report: profiles and contrasts as `report.json` (schema in `docs/report.schema.json`),
//! `report.md` and a self-contained `report.html` with inline SVG charts.
//!
//! A report opens with findings: the contrasts whose interval excludes zero and whose difference
//! is larger than the model's measured error, each with its figures. Every mean and contrast is
//! shown with its sampling interval and, beside it, the model's error; a contrast inside the
//! model's error is marked so, whatever its p-value.

mod charts;
mod html;
mod markdown;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::aggregate::{BiasContrast, Contrast, Profile, ProfileRow, Voice};
use crate::commands::ProfileOutput;
use crate::error::{Error, Result};
use crate::model::Manifest;
use crate::score::{Record, write_atomically};
use crate::segment::Section;

/// Version 2: groups have ids and names, rows have `section` and `voice` (own | all) and the
/// model's error, contrasts say their voice and whether they are within the model's error,
/// `findings` open the report, `bias_rows` and `bias_contrasts` describe register and loaded
/// language. Version 1 had `voice` = editorial | comments (now `section`).
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub generator: String,
    pub model: ModelSummary,
    pub input: InputSummary,
    pub documents: Vec<DocumentInfo>,
    /// The report's opening sentences: what the data shows beyond sampling and model error.
    pub findings: Vec<String>,
    pub profile: Profile,
    pub contrasts: Vec<Contrast>,
    pub bias_contrasts: Vec<BiasContrast>,
    /// What the report leaves out or qualifies, and why (e.g. loaded words not highlighted).
    pub notes: Vec<String>,
}

/// Loaded words are highlighted only when the model's word-level head was precise enough on
/// dev: below this span precision most marks would be wrong, and the paragraph flag is shown alone.
pub const MIN_SPAN_PRECISION: f64 = 0.5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSummary {
    pub name: String,
    pub sha256: String,
    /// Dev-set metrics from the model manifest (absent when the scores came from another model).
    pub evaluation: Option<serde_json::Value>,
    pub int8_fp32_agreement: Option<serde_json::Value>,
    pub calibration: Option<serde_json::Value>,
    /// How far group means land from annotators' on held-out dev data (manifest `profile_error`).
    pub profile_error: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentInfo {
    pub doc_id: String,
    pub source: String,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputSummary {
    pub documents: usize,
    pub scored_pairs: usize,
    pub body_pairs: usize,
    pub comment_pairs: usize,
    pub paragraphs: usize,
    pub targets: Vec<String>,
}

impl Report {
    pub fn build(records: &[Record], manifest: Option<&Manifest>, out: ProfileOutput) -> Report {
        let mut documents: Vec<DocumentInfo> = Vec::new();
        let mut targets: Vec<String> = Vec::new();
        let (mut pairs, mut body, mut comments, mut paragraphs) = (0, 0, 0, 0);
        for r in records {
            let at = match r {
                Record::Stance(s) => {
                    pairs += 1;
                    body += (s.at.section == Section::Body) as usize;
                    comments += (s.at.section == Section::Comments) as usize;
                    if !targets.contains(&s.target) {
                        targets.push(s.target.clone());
                    }
                    &s.at
                }
                Record::Paragraph(p) => {
                    paragraphs += 1;
                    &p.at
                }
            };
            if !documents.iter().any(|d| d.doc_id == at.doc_id) {
                documents.push(DocumentInfo { doc_id: at.doc_id.clone(), source: at.source.clone(), title: at.title.clone() });
            }
        }
        let (name, sha) = records.first().map_or_else(|| (String::new(), String::new()), |r| (r.model().name.clone(), r.model().sha256.clone()));
        // the manifest's figures describe the scores only if it is the model that produced them
        let m = manifest.filter(|m| m.sha256 == sha);
        let extra = |k: &str| m.and_then(|m| m.extra.get(k).cloned());
        let findings = findings(&out);
        let mut out = out;
        let mut notes = Vec::new();
        let spans = m.and_then(|m| m.extra.get("metrics")).and_then(|x| x.pointer("/int8/news-bias-dev/loaded_spans")).cloned();
        let precision = spans.as_ref().and_then(|s| s.get("precision")).and_then(|x| x.as_f64());
        let f1 = spans.as_ref().and_then(|s| s.get("f1")).and_then(|x| x.as_f64());
        match precision {
            Some(p) if p >= MIN_SPAN_PRECISION => notes.push(format!("Loaded words are highlighted as the model marks them (on dev: span precision {p:.2}, F1 {:.2}).", f1.unwrap_or(f64::NAN))),
            _ if out.bias_contrasts.is_empty() => {}
            _ => {
                let why = precision.map_or_else(|| "its word-level head is not measured".to_string(), |p| format!("its word-level head marked loaded words with span precision {p:.2} (F1 {:.2}) on dev", f1.unwrap_or(f64::NAN)));
                notes.push(format!("Loaded words are not highlighted: {why}, too weak to show; paragraphs carry the paragraph-level flag (P(loaded)) only."));
                for b in &mut out.bias_contrasts {
                    for e in b.evidence_a.iter_mut().chain(b.evidence_b.iter_mut()) {
                        e.loaded_spans.clear();
                    }
                }
            }
        }
        Report {
            schema_version: SCHEMA_VERSION,
            generator: format!("slant {}", env!("CARGO_PKG_VERSION")),
            model: ModelSummary {
                name,
                sha256: sha,
                evaluation: extra("metrics"),
                int8_fp32_agreement: extra("int8_fp32_agreement"),
                calibration: m.and_then(|m| m.calibration.as_ref()).map(|c| serde_json::to_value(c).unwrap_or_default()),
                profile_error: extra("profile_error"),
            },
            input: InputSummary { documents: documents.len(), scored_pairs: pairs, body_pairs: body, comment_pairs: comments, paragraphs, targets },
            documents,
            findings,
            profile: out.profile,
            contrasts: out.contrasts,
            bias_contrasts: out.bias_contrasts,
            notes,
        }
    }

    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    pub fn to_html(&self) -> Result<String> {
        html::render(self).map_err(|e| Error::Usage(format!("could not draw the report charts: {e}")))
    }

    /// Write report.json, report.md and report.html into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::Usage(e.to_string()))?;
        write_atomically(&dir.join("report.json"), json.as_bytes())?;
        write_atomically(&dir.join("report.md"), self.to_markdown().as_bytes())?;
        write_atomically(&dir.join("report.html"), self.to_html()?.as_bytes())?;
        Ok(())
    }

    /// The profile rows of one target in one voice (body first, then comments).
    pub fn rows(&self, target: &str, voice: Voice) -> Vec<&ProfileRow> {
        self.profile.rows.iter().filter(|r| r.target == target && r.voice == voice).collect()
    }

    /// The voice charts show: own where the model has it.
    pub fn main_voice(&self) -> Voice {
        if self.profile.rows.iter().any(|r| r.voice == Voice::Own) { Voice::Own } else { Voice::All }
    }
}

/// Numbers as the reports print them: signed, two decimals.
pub(crate) fn signed(x: f64) -> String {
    if x.is_nan() { "–".into() } else { format!("{x:+.2}") }
}

pub(crate) fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

pub(crate) fn p_value(p: f64) -> String {
    if p < 0.001 { "< 0.001".into() } else { format!("{p:.3}") }
}

pub(crate) fn error_cell(e: Option<f64>) -> String {
    e.map_or_else(|| "not measured".into(), |e| format!("±{e:.2}"))
}

fn stance_word(lo: f64, hi: f64) -> &'static str {
    if hi < 0.0 {
        "against"
    } else if lo > 0.0 {
        "in favour of"
    } else {
        "neither clearly for nor against"
    }
}

fn voice_phrase(v: Voice) -> &'static str {
    match v {
        Voice::Own => "own voice",
        Voice::All => "text (all voices)",
    }
}

/// The strongest findings: contrasts whose CI excludes zero and whose difference exceeds the
/// model's error (or whose error is unknown, said so), largest first; then the bias contrasts.
pub fn findings(out: &ProfileOutput) -> Vec<String> {
    let mut lines: Vec<(f64, String)> = Vec::new();
    let row = |group: &str, target: &str, voice: Voice| out.profile.rows.iter().find(|r| r.group == group && r.target == target && r.voice == voice && r.section == Section::Body);
    for c in &out.contrasts {
        let separated = c.ci_high < 0.0 || c.ci_low > 0.0;
        if !separated || c.within_model_error {
            continue;
        }
        let (Some(ra), Some(rb)) = (row(&c.a, &c.target, c.voice), row(&c.b, &c.target, c.voice)) else { continue };
        let err = c.model_error.map_or_else(|| "the model's error on this voice is not measured".to_string(), |e| format!("beyond the model's error of ±{e:.2}"));
        lines.push((
            c.diff.abs(),
            format!(
                "In its {}, {} is {} {}: {} [{}, {}], n {}; {} is {} it: {} [{}, {}], n {}. Difference {} [{}, {}], p {}, {}.",
                voice_phrase(c.voice),
                c.a_name,
                stance_word(ra.ci_low, ra.ci_high),
                c.target,
                signed(ra.mean),
                signed(ra.ci_low),
                signed(ra.ci_high),
                ra.n,
                c.b_name,
                stance_word(rb.ci_low, rb.ci_high),
                signed(rb.mean),
                signed(rb.ci_low),
                signed(rb.ci_high),
                rb.n,
                signed(c.diff),
                signed(c.ci_low),
                signed(c.ci_high),
                p_value(c.p_value),
                err
            ),
        ));
    }
    lines.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out_lines: Vec<String> = lines.into_iter().take(4).map(|l| l.1).collect();
    for b in &out.bias_contrasts {
        if !(b.ci_high < 0.0 || b.ci_low > 0.0) || b.within_model_error {
            continue;
        }
        let (more, less, vm, vl) = if b.diff > 0.0 { (&b.a_name, &b.b_name, b.value_a, b.value_b) } else { (&b.b_name, &b.a_name, b.value_b, b.value_a) };
        let what = if b.measure == "opinion" { "writes more opinion" } else { "uses more loaded language" };
        let unit = if b.measure == "opinion" { "of paragraphs are opinion" } else { "of paragraphs have loaded wording" };
        out_lines.push(format!(
            "{more} {what} than {less}: {} vs {} {unit} (difference {} points [{}, {}], p {}{}).",
            pct(vm),
            pct(vl),
            format!("{:+.0}", b.diff.abs() * 100.0),
            format!("{:+.0}", if b.diff > 0.0 { b.ci_low * 100.0 } else { -b.ci_high * 100.0 }),
            format!("{:+.0}", if b.diff > 0.0 { b.ci_high * 100.0 } else { -b.ci_low * 100.0 }),
            p_value(b.p_value),
            b.model_error.map_or_else(|| ", model error not measured".to_string(), |e| format!(", beyond the model's error of ±{:.0} points", e * 100.0))
        ));
    }
    if out_lines.is_empty() {
        out_lines.push("No contrast is clear of both sampling noise and the model's measured error: differences below are not findings.".into());
    }
    out_lines
}

/// The report's meta sentence, for every format; `code` marks up a code span.
pub(crate) fn summary(r: &Report, code: impl Fn(&str) -> String) -> String {
    let err = |v: &str| r.model.profile_error.as_ref().and_then(|p| p.get(v)).and_then(|o| o.get("mean_abs_error")).and_then(|x| x.as_f64());
    let error = match (err("editorial"), err("stance")) {
        (Some(o), Some(a)) => format!(" The model's group means were off by ±{o:.2} (own voice) and ±{a:.2} (all voices) on held-out labelled news, beside every figure as \"model error\"."),
        _ => " The model's error on group means is not measured for this model (run `slant calibrate`).".into(),
    };
    format!(
        "{} documents, {} scored (paragraph, target) pairs ({} in body text, {} in reader comments), {} paragraphs with register and loaded-language labels. Model {} (sha256 {}). Grouped by {:?}; 95% bootstrap CIs ({} resamples, seed {}). Scores run from −1 (against) to +1 (favor). Own voice = the stance the author holds (the model's editorial output); all voices = any stance in the text, quoted speakers included. Reader comments are profiled apart.{}",
        r.input.documents,
        r.input.scored_pairs,
        r.input.body_pairs,
        r.input.comment_pairs,
        r.input.paragraphs,
        code(&r.model.name),
        code(r.model.sha256.get(..12).unwrap_or("")),
        r.profile.by,
        r.profile.resamples,
        r.profile.seed,
        error
    )
}

/// Macro-F1 per dev set and output from the manifest's `metrics` object, as (set, output, fp32, int8) cells.
pub(crate) fn eval_rows(eval: &serde_json::Value) -> Vec<[String; 4]> {
    let Some(fp32) = eval.get("fp32").and_then(|v| v.as_object()) else { return Vec::new() };
    let cell = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.3}"));
    let mut out = Vec::new();
    for (set, m) in fp32 {
        let int8 = eval.get("int8").and_then(|v| v.get(set));
        // format 1: {macro_f1}; format 2: {stance: {macro_f1}, editorial: …, register: …, loaded: {f1}}
        if m.get("macro_f1").is_some() {
            out.push([set.clone(), "stance".into(), cell(m["macro_f1"].as_f64()), cell(int8.and_then(|i| i["macro_f1"].as_f64()))]);
            continue;
        }
        for (output, key) in [("stance", "macro_f1"), ("editorial", "macro_f1"), ("register", "macro_f1"), ("loaded", "f1"), ("loaded_spans", "f1")] {
            if let Some(x) = m.get(output).and_then(|o| o.get(key)).and_then(|x| x.as_f64()) {
                let label = if key == "f1" { format!("{output} (F1)") } else { format!("{output} (macro-F1)") };
                out.push([set.clone(), label, cell(Some(x)), cell(int8.and_then(|i| i.get(output)).and_then(|o| o.get(key)).and_then(|x| x.as_f64()))]);
            }
        }
    }
    out
}

/// The stance table of every format: one row per group and target, both voices side by side.
pub(crate) const STANCE_COLUMNS: [&str; 8] = ["target", "group", "n", "own voice", "all voices", "model error (own / all)", "own: against · neutral · favor", "docs"];

pub(crate) fn stance_cells(own: Option<&ProfileRow>, all: &ProfileRow) -> [String; 8] {
    let mean = |r: &ProfileRow| format!("{} [{}, {}]", signed(r.mean), signed(r.ci_low), signed(r.ci_high));
    let shares = |r: &ProfileRow| format!("{} · {} · {}", pct(r.share.against), pct(r.share.neutral), pct(r.share.favor));
    [
        all.target.clone(),
        all.name.clone(),
        all.n.to_string(),
        own.map_or_else(|| "–".into(), mean),
        mean(all),
        format!("{} / {}", own.map_or_else(|| "–".into(), |o| error_cell(o.model_error)), error_cell(all.model_error)),
        shares(own.unwrap_or(all)),
        all.documents.to_string(),
    ]
}

/// Stance rows paired by group and target: (own, all).
pub(crate) fn paired_rows(r: &Report) -> Vec<(Option<&ProfileRow>, &ProfileRow)> {
    r.profile
        .rows
        .iter()
        .filter(|x| x.voice == Voice::All)
        .map(|all| (r.profile.rows.iter().find(|o| o.voice == Voice::Own && o.group == all.group && o.target == all.target), all))
        .collect()
}

/// The contrast table of every format.
pub(crate) const CONTRAST_COLUMNS: [&str; 8] = ["target", "n A / B", "mean A", "mean B", "A − B [95% CI]", "p (permutation)", "model error", "reading"];

pub(crate) fn contrast_cells(c: &Contrast) -> [String; 8] {
    [
        c.target.clone(),
        format!("{} / {}", c.n_a, c.n_b),
        signed(c.mean_a),
        signed(c.mean_b),
        format!("{} [{}, {}]", signed(c.diff), signed(c.ci_low), signed(c.ci_high)),
        p_value(c.p_value),
        error_cell(c.model_error),
        contrast_reading(c.ci_low, c.ci_high, c.within_model_error, c.model_error.is_some()).into(),
    ]
}

pub(crate) fn contrast_reading(lo: f64, hi: f64, within: bool, measured: bool) -> &'static str {
    if within {
        "within model error"
    } else if lo > 0.0 || hi < 0.0 {
        if measured { "difference beyond model error" } else { "difference (model error not measured)" }
    } else {
        "not distinguishable"
    }
}

/// The writing (bias) table of every format.
pub(crate) const BIAS_COLUMNS: [&str; 7] = ["group", "paragraphs", "report", "analysis", "opinion [95% CI]", "loaded [95% CI]", "model error (opinion / loaded)"];

pub(crate) fn bias_cells(b: &crate::aggregate::BiasRow) -> [String; 7] {
    let ci = |s: &crate::aggregate::Share| format!("{} [{}, {}]", pct(s.value), pct(s.ci_low), pct(s.ci_high));
    let e = |x: Option<f64>| x.map_or_else(|| "not measured".into(), |x| format!("±{:.0} pts", x * 100.0));
    [b.name.clone(), b.n.to_string(), pct(b.report.value), pct(b.analysis.value), ci(&b.opinion), ci(&b.loaded), format!("{} / {}", e(b.model_error_opinion), e(b.model_error_loaded))]
}

pub(crate) const BIAS_CONTRAST_COLUMNS: [&str; 6] = ["measure", "A", "B", "A − B [95% CI]", "p (permutation)", "reading"];

pub(crate) fn bias_contrast_cells(b: &BiasContrast) -> [String; 6] {
    let pts = |x: f64| format!("{:+.0}", x * 100.0);
    [
        if b.measure == "opinion" { "opinion paragraphs".into() } else { "loaded wording".into() },
        format!("{} of {}", pct(b.value_a), b.n_a),
        format!("{} of {}", pct(b.value_b), b.n_b),
        format!("{} pts [{}, {}]", pts(b.diff), pts(b.ci_low), pts(b.ci_high)),
        p_value(b.p_value),
        contrast_reading(b.ci_low, b.ci_high, b.within_model_error, b.model_error.is_some()).into(),
    ]
}

/// `text` cut into (piece, is_loaded) runs by the spans (character offsets), for highlighting.
pub(crate) fn highlight_runs(text: &str, spans: &[crate::score::SpanScore]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    let mut sorted: Vec<&crate::score::SpanScore> = spans.iter().filter(|s| s.start < s.end && s.end <= chars.len()).collect();
    sorted.sort_by_key(|s| s.start);
    for s in sorted {
        if s.start < at {
            continue;
        }
        if s.start > at {
            out.push((chars[at..s.start].iter().collect(), false));
        }
        out.push((chars[s.start..s.end].iter().collect(), true));
        at = s.end;
    }
    if at < chars.len() {
        out.push((chars[at..].iter().collect(), false));
    }
    out
}
