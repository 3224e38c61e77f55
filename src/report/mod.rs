//! Report: profiles and contrasts as `report.json` (schema in `docs/report.schema.json`),
//! `report.md` and a self-contained `report.html` with inline SVG charts.

mod charts;
mod html;
mod markdown;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Contrast, Profile, ProfileRow, Voice};
use crate::error::{Error, Result};
use crate::model::Manifest;
use crate::score::{StanceScore, write_atomically};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub generator: String,
    pub model: ModelSummary,
    pub input: InputSummary,
    pub documents: Vec<DocumentInfo>,
    pub profile: Profile,
    pub contrasts: Vec<Contrast>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSummary {
    pub name: String,
    pub sha256: String,
    /// Dev-set metrics from the model manifest (absent when the scores came from another model).
    pub evaluation: Option<serde_json::Value>,
    pub int8_fp32_agreement: Option<serde_json::Value>,
    pub calibration: Option<serde_json::Value>,
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
    pub editorial_pairs: usize,
    pub comment_pairs: usize,
    pub targets: Vec<String>,
}

impl Report {
    pub fn build(scores: &[StanceScore], manifest: Option<&Manifest>, profile: Profile, contrasts: Vec<Contrast>) -> Report {
        let mut docs: Vec<&str> = scores.iter().map(|s| s.doc_id.as_str()).collect();
        docs.sort_unstable();
        docs.dedup();
        let mut documents: Vec<DocumentInfo> = Vec::new();
        for s in scores {
            if documents.last().is_none_or(|d| d.doc_id != s.doc_id) && !documents.iter().any(|d| d.doc_id == s.doc_id) {
                documents.push(DocumentInfo { doc_id: s.doc_id.clone(), source: s.source.clone(), title: s.title.clone() });
            }
        }
        let mut targets: Vec<String> = Vec::new();
        for s in scores {
            if !targets.contains(&s.target) {
                targets.push(s.target.clone());
            }
        }
        let (name, sha) = scores.first().map_or_else(|| (String::new(), String::new()), |s| (s.model.name.clone(), s.model.sha256.clone()));
        // the manifest's figures describe the scores only if it is the model that produced them
        let m = manifest.filter(|m| m.sha256 == sha);
        let extra = |k: &str| m.and_then(|m| m.extra.get(k).cloned());
        Report {
            schema_version: SCHEMA_VERSION,
            generator: format!("slant {}", env!("CARGO_PKG_VERSION")),
            model: ModelSummary {
                name,
                sha256: sha,
                evaluation: extra("metrics"),
                int8_fp32_agreement: extra("int8_fp32_agreement"),
                calibration: m.and_then(|m| m.calibration.as_ref()).map(|c| serde_json::to_value(c).unwrap_or_default()),
            },
            input: InputSummary {
                documents: docs.len(),
                scored_pairs: scores.len(),
                editorial_pairs: scores.iter().filter(|s| s.section == crate::segment::Section::Body).count(),
                comment_pairs: scores.iter().filter(|s| s.section == crate::segment::Section::Comments).count(),
                targets,
            },
            documents,
            profile,
            contrasts,
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

/// The report's opening sentences, for every format; `code` marks up a code span.
pub(crate) fn summary(r: &Report, code: impl Fn(&str) -> String) -> String {
    format!(
        "{} documents, {} scored (paragraph, target) pairs ({} editorial, {} reader comments). Model {} (sha256 {}). Grouped by {:?}; 95% bootstrap CIs ({} resamples, seed {}). Scores run from −1 (against) to +1 (favor).",
        r.input.documents,
        r.input.scored_pairs,
        r.input.editorial_pairs,
        r.input.comment_pairs,
        code(&r.model.name),
        code(r.model.sha256.get(..12).unwrap_or("")),
        r.profile.by,
        r.profile.resamples,
        r.profile.seed
    )
}

/// Macro-F1 per dev set from the manifest's `metrics` object, as (set, fp32, int8) cells.
pub(crate) fn eval_rows(eval: &serde_json::Value) -> Vec<[String; 3]> {
    let fp32 = eval.get("fp32").and_then(|v| v.as_object());
    let Some(fp32) = fp32 else { return Vec::new() };
    let cell = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.3}"));
    fp32.iter()
        .map(|(set, m)| {
            let f = m.get("macro_f1").and_then(|x| x.as_f64());
            let i = eval.get("int8").and_then(|v| v.get(set)).and_then(|m| m.get("macro_f1")).and_then(|x| x.as_f64());
            [set.clone(), cell(f), cell(i)]
        })
        .collect()
}

/// The profile table of every format: column names, and one row's cells (unescaped).
pub(crate) const PROFILE_COLUMNS: [&str; 10] = ["group", "voice", "docs", "n", "mean", "95% CI", "against", "neutral", "favor", "confidence"];

pub(crate) fn profile_cells(row: &ProfileRow) -> [String; 10] {
    [
        row.group.clone(),
        if row.voice == Voice::Comments { "comments" } else { "editorial" }.into(),
        row.documents.to_string(),
        row.n.to_string(),
        signed(row.mean),
        format!("[{}, {}]", signed(row.ci_low), signed(row.ci_high)),
        pct(row.share.against),
        pct(row.share.neutral),
        pct(row.share.favor),
        format!("{:.2}", row.mean_confidence),
    ]
}

/// The contrast table of every format.
pub(crate) const CONTRAST_COLUMNS: [&str; 9] = ["target", "n A", "n B", "mean A", "mean B", "A − B", "95% CI", "p (permutation)", "Cohen's d"];

pub(crate) fn contrast_cells(c: &Contrast) -> [String; 9] {
    [
        c.target.clone(),
        c.n_a.to_string(),
        c.n_b.to_string(),
        signed(c.mean_a),
        signed(c.mean_b),
        signed(c.diff),
        format!("[{}, {}]", signed(c.ci_low), signed(c.ci_high)),
        p_value(c.p_value),
        format!("{:.2}", c.cohens_d),
    ]
}
