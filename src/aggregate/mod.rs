//! Aggregate: records → per-group [`Profile`]s and [`Contrast`]s between two groups.
//!
//! A group is an outlet, a document or a leaning, in one **section** of the text: `body` (the
//! outlet's text) or `comments` (its readers', always a group of their own); boilerplate is left
//! out. Stance rows come in two **voices**: `own` (the model's `editorial` output: the stance the
//! author holds) and `all` (the `stance` output: any voice, quoted speakers included). Bias rows
//! give the shares of report / analysis / opinion paragraphs and the loaded-language rate.
//! Every figure carries a bootstrap interval (sampling) and, where the model's manifest has it,
//! the model's measured error (how far group means land from annotators' on held-out data).

pub mod stats;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::score::{ParagraphRef, ParagraphScore, SpanScore, StanceScore};
use crate::segment::Section;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Source,
    Document,
    /// The outlet's political leaning, from the input's `source_leaning` field.
    Leaning,
}

impl GroupBy {
    pub fn parse(s: &str) -> Result<GroupBy> {
        match s {
            "source" => Ok(GroupBy::Source),
            "document" => Ok(GroupBy::Document),
            "leaning" => Ok(GroupBy::Leaning),
            _ => Err(Error::Usage(format!("unknown grouping {s:?}\n  help: use --by source, document or leaning"))),
        }
    }
}

/// Whose stance a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Voice {
    /// The author's own voice: the model's `editorial` output.
    Own,
    /// Any voice, quoted speakers included: the `stance` output.
    All,
}

impl Voice {
    pub fn parse(s: &str) -> Result<Voice> {
        match s {
            "own" => Ok(Voice::Own),
            "all" => Ok(Voice::All),
            _ => Err(Error::Usage(format!("unknown voice {s:?}\n  help: use --voice own (the author's own voice) or --voice all (any voice, quoted speakers included)"))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Voice::Own => "own",
            Voice::All => "all",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shares {
    pub against: f64,
    pub neutral: f64,
    pub favor: f64,
}

/// A group as the reports name it: `id` is what `--contrast` takes (document id, outlet,
/// leaning; comments add " — reader comments"), `name` what a reader sees (the outlet, else the
/// document's title).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub section: Section,
    pub documents: usize,
}

/// One group's stance toward one target, in one voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRow {
    pub group: String,
    pub name: String,
    pub section: Section,
    pub voice: Voice,
    pub target: String,
    pub documents: usize,
    pub n: usize,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub share: Shares,
    pub mean_confidence: f64,
    /// The model's measured group-mean error for this voice (manifest `profile_error`), if known.
    pub model_error: Option<f64>,
}

/// A proportion with its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// One group's writing: shares of report / analysis / opinion paragraphs and of paragraphs with
/// loaded wording (by the model's labels), over every paragraph of the section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasRow {
    pub group: String,
    pub name: String,
    pub section: Section,
    pub documents: usize,
    pub n: usize,
    pub report: Share,
    pub analysis: Share,
    pub opinion: Share,
    pub loaded: Share,
    /// Measured error of a group's opinion share and loaded rate (manifest `profile_error`).
    pub model_error_opinion: Option<f64>,
    pub model_error_loaded: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub by: GroupBy,
    pub resamples: usize,
    pub seed: u64,
    pub confidence_level: f64,
    pub groups: Vec<Group>,
    pub rows: Vec<ProfileRow>,
    pub bias_rows: Vec<BiasRow>,
}

/// A paragraph that shows a group's stance: both outputs, so a reader sees when the stance
/// belongs to someone quoted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub doc_id: String,
    pub paragraph: usize,
    /// The score and label of the contrast's voice.
    pub score: f64,
    pub label: String,
    pub all_score: f64,
    pub all_label: String,
    pub own_score: Option<f64>,
    pub own_label: Option<String>,
    pub excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contrast {
    pub a: String,
    pub b: String,
    pub a_name: String,
    pub b_name: String,
    pub target: String,
    pub voice: Voice,
    pub n_a: usize,
    pub n_b: usize,
    pub mean_a: f64,
    pub mean_b: f64,
    /// mean_a − mean_b
    pub diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub permutations: usize,
    pub cohens_d: f64,
    /// The model's measured error of a difference between two group means, if known.
    pub model_error: Option<f64>,
    /// |diff| is smaller than the model's error: not a finding, whatever the p-value.
    pub within_model_error: bool,
    pub evidence_a: Vec<Evidence>,
    pub evidence_b: Vec<Evidence>,
}

/// A paragraph that drives a bias difference, with the words the model marks as loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasEvidence {
    pub doc_id: String,
    pub paragraph: usize,
    pub register: String,
    pub p_opinion: f64,
    pub p_loaded: f64,
    pub text: String,
    pub loaded_spans: Vec<SpanScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasContrast {
    pub a: String,
    pub b: String,
    pub a_name: String,
    pub b_name: String,
    /// `opinion` (share of opinion paragraphs) or `loaded` (share with loaded wording).
    pub measure: String,
    pub n_a: usize,
    pub n_b: usize,
    pub value_a: f64,
    pub value_b: f64,
    pub diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub model_error: Option<f64>,
    pub within_model_error: bool,
    pub evidence_a: Vec<BiasEvidence>,
    pub evidence_b: Vec<BiasEvidence>,
}

/// The model's measured errors, from its manifest (`profile_error`), by output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelErrors {
    /// Group-mean error per voice, and of differences between two groups' means.
    pub own: Option<f64>,
    pub all: Option<f64>,
    pub own_contrast: Option<f64>,
    pub all_contrast: Option<f64>,
    pub opinion: Option<f64>,
    pub loaded: Option<f64>,
    pub opinion_contrast: Option<f64>,
    pub loaded_contrast: Option<f64>,
}

impl ModelErrors {
    /// Read from a manifest's `profile_error` object (written by `slant calibrate`).
    pub fn from_manifest(m: Option<&crate::model::Manifest>) -> ModelErrors {
        let Some(pe) = m.and_then(|m| m.extra.get("profile_error")) else { return ModelErrors::default() };
        let get = |out: &str, key: &str| pe.get(out).and_then(|o| o.get(key)).and_then(|x| x.as_f64()).filter(|x| x.is_finite());
        ModelErrors {
            own: get("editorial", "mean_abs_error"),
            all: get("stance", "mean_abs_error"),
            own_contrast: get("editorial", "contrast_mean_abs_error"),
            all_contrast: get("stance", "contrast_mean_abs_error"),
            opinion: get("opinion", "mean_abs_error"),
            loaded: get("loaded", "mean_abs_error"),
            opinion_contrast: get("opinion", "contrast_mean_abs_error"),
            loaded_contrast: get("loaded", "contrast_mean_abs_error"),
        }
    }
    fn of(&self, v: Voice) -> Option<f64> {
        match v {
            Voice::Own => self.own,
            Voice::All => self.all,
        }
    }
    fn contrast_of(&self, v: Voice) -> Option<f64> {
        match v {
            Voice::Own => self.own_contrast,
            Voice::All => self.all_contrast,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AggregateOptions {
    pub by: GroupBy,
    pub resamples: usize,
    pub permutations: usize,
    pub level: f64,
    pub evidence: usize,
    /// The voice contrasts use (profiles carry both).
    pub voice: Voice,
    pub errors: ModelErrors,
}

impl Default for AggregateOptions {
    fn default() -> Self {
        AggregateOptions { by: GroupBy::Source, resamples: 2000, permutations: 5000, level: 0.95, evidence: 3, voice: Voice::Own, errors: ModelErrors::default() }
    }
}

/// What a record says about where it belongs.
pub struct Placement<'a> {
    pub doc_id: &'a str,
    pub source: &'a str,
    pub title: Option<&'a str>,
    pub leaning: Option<&'a str>,
    pub section: Section,
    /// The record's paragraph, to name an untitled document by its opening words.
    pub paragraph: usize,
    pub text: &'a str,
}

impl<'a> Placement<'a> {
    fn new(at: &'a ParagraphRef, text: &'a str) -> Self {
        Placement { doc_id: &at.doc_id, source: &at.source, title: at.title.as_deref(), leaning: at.leaning.as_deref(), section: at.section, paragraph: at.paragraph, text }
    }
}

impl<'a> From<&'a StanceScore> for Placement<'a> {
    fn from(s: &'a StanceScore) -> Self {
        Placement::new(&s.at, &s.text)
    }
}

impl<'a> From<&'a ParagraphScore> for Placement<'a> {
    fn from(s: &'a ParagraphScore) -> Self {
        Placement::new(&s.at, &s.text)
    }
}

const COMMENTS_SUFFIX: &str = " — reader comments";

/// The group id a record belongs to and its section; None for boilerplate.
pub fn group_of(p: &Placement, by: GroupBy) -> Option<(String, Section)> {
    let base = match by {
        GroupBy::Source => p.source.to_string(),
        GroupBy::Document => p.doc_id.to_string(),
        GroupBy::Leaning => p.leaning.unwrap_or("unknown").to_string(),
    };
    match p.section {
        Section::Body => Some((base, Section::Body)),
        Section::Comments => Some((format!("{base}{COMMENTS_SUFFIX}"), Section::Comments)),
        Section::Boilerplate => None,
    }
}

/// Groups in order of first appearance, with display names: for documents the outlet when it is
/// known and names only that document, else the title, else the id.
pub fn groups(placements: &[Placement], by: GroupBy) -> Vec<Group> {
    let mut out: Vec<(Group, Vec<String>)> = Vec::new();
    // documents per known outlet, to tell whether an outlet names one document
    let mut per_source: std::collections::HashMap<&str, std::collections::BTreeSet<&str>> = std::collections::HashMap::new();
    // an untitled document is named by the opening words of its first body paragraph we have
    let mut opening: std::collections::HashMap<&str, (usize, &str)> = std::collections::HashMap::new();
    for p in placements {
        per_source.entry(p.source).or_default().insert(p.doc_id);
        if p.section == Section::Body {
            let e = opening.entry(p.doc_id).or_insert((p.paragraph, p.text));
            if p.paragraph < e.0 {
                *e = (p.paragraph, p.text);
            }
        }
    }
    for p in placements {
        let Some((id, section)) = group_of(p, by) else { continue };
        if let Some(g) = out.iter_mut().find(|g| g.0.id == id) {
            if !g.1.iter().any(|d| d == p.doc_id) {
                g.1.push(p.doc_id.to_string());
            }
            continue;
        }
        let base = match by {
            GroupBy::Document => {
                let known = !p.source.trim().is_empty() && !p.source.eq_ignore_ascii_case("unknown") && p.source != p.doc_id;
                if known && per_source.get(p.source).is_some_and(|d| d.len() == 1) {
                    p.source.to_string()
                } else if let Some(t) = p.title.filter(|t| !t.trim().is_empty()) {
                    shorten(t, 70)
                } else if let Some((_, text)) = opening.get(p.doc_id).filter(|(_, t)| !t.trim().is_empty()) {
                    format!("“{}”", shorten(text, 50))
                } else {
                    p.doc_id.to_string()
                }
            }
            GroupBy::Source => p.source.to_string(),
            GroupBy::Leaning => p.leaning.unwrap_or("unknown").to_string(),
        };
        let name = if section == Section::Comments { format!("{base}{COMMENTS_SUFFIX}") } else { base };
        out.push((Group { id, name, section, documents: 0 }, vec![p.doc_id.to_string()]));
    }
    out.into_iter().map(|(mut g, docs)| {
        g.documents = docs.len();
        g
    }).collect()
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a).to_string();
    format!("{cut}…")
}

fn targets_in_order(scores: &[StanceScore]) -> Vec<String> {
    let mut t: Vec<String> = Vec::new();
    for s in scores {
        if !t.contains(&s.target) {
            t.push(s.target.clone());
        }
    }
    t
}

/// The score of a record in a voice; None where the model has no `editorial` output.
fn voiced(s: &StanceScore, v: Voice) -> Option<(f64, &str)> {
    match v {
        Voice::All => Some((s.score as f64, s.label.as_str())),
        Voice::Own => s.editorial.as_ref().map(|e| (e.score as f64, e.label.as_str())),
    }
}

/// The voices the records have: own and all, or only all for models without `editorial`.
pub fn voices(scores: &[StanceScore]) -> Vec<Voice> {
    if scores.iter().all(|s| s.editorial.is_some()) && !scores.is_empty() { vec![Voice::Own, Voice::All] } else { vec![Voice::All] }
}

fn members<'a>(scores: &'a [StanceScore], by: GroupBy, id: &str) -> Vec<&'a StanceScore> {
    scores.iter().filter(|s| group_of(&Placement::from(*s), by).is_some_and(|(g, _)| g == id)).collect()
}

pub fn profile(scores: &[StanceScore], paragraphs: &[ParagraphScore], opts: &AggregateOptions) -> Profile {
    let placements: Vec<Placement> = scores.iter().map(Placement::from).chain(paragraphs.iter().map(Placement::from)).collect();
    let groups = groups(&placements, opts.by);
    // each group's records, found once (not once per target and voice)
    let by_group: Vec<Vec<&StanceScore>> = groups.iter().map(|g| members(scores, opts.by, &g.id)).collect();
    let mut rows = Vec::new();
    for target in targets_in_order(scores) {
        for voice in voices(scores) {
            for (gi, g) in groups.iter().enumerate() {
                let m: Vec<&StanceScore> = by_group[gi].iter().copied().filter(|s| s.target == target).collect();
                if m.is_empty() {
                    continue;
                }
                let pairs: Vec<(f64, &str)> = m.iter().filter_map(|s| voiced(s, voice)).collect();
                let xs: Vec<f64> = pairs.iter().map(|p| p.0).collect();
                let n = xs.len() as f64;
                let share = |l: &str| pairs.iter().filter(|p| p.1 == l).count() as f64 / n;
                // one bootstrap stream per group (as before) and voice
                let seed = stats::SEED + gi as u64 + if voice == Voice::Own { 50_000 } else { 0 };
                let (lo, hi) = stats::bootstrap_mean_ci(&xs, opts.resamples, opts.level, seed);
                let conf = |s: &StanceScore| match (voice, &s.editorial) {
                    (Voice::Own, Some(e)) => e.probs.against.max(e.probs.neutral).max(e.probs.favor) as f64,
                    _ => s.probs.against.max(s.probs.neutral).max(s.probs.favor) as f64,
                };
                rows.push(ProfileRow {
                    group: g.id.clone(),
                    name: g.name.clone(),
                    section: g.section,
                    voice,
                    target: target.clone(),
                    documents: document_count(m.iter().map(|s| &s.at)),
                    n: xs.len(),
                    mean: stats::mean(&xs),
                    ci_low: lo,
                    ci_high: hi,
                    share: Shares { against: share("against"), neutral: share("neutral"), favor: share("favor") },
                    mean_confidence: m.iter().map(|s| conf(s)).sum::<f64>() / n,
                    model_error: opts.errors.of(voice),
                });
            }
        }
    }
    let bias_rows = bias_profile(paragraphs, &groups, opts);
    Profile { by: opts.by, resamples: opts.resamples, seed: stats::SEED, confidence_level: opts.level, groups, rows, bias_rows }
}

/// How many distinct documents the records come from.
pub fn document_count<'a>(records: impl Iterator<Item = &'a ParagraphRef>) -> usize {
    let mut docs: Vec<&str> = records.map(|at| at.doc_id.as_str()).collect();
    docs.sort_unstable();
    docs.dedup();
    docs.len()
}

fn register_of(p: &ParagraphScore) -> Option<&str> {
    p.class("register").map(|c| c.label.as_str())
}

fn loaded_of(p: &ParagraphScore) -> Option<bool> {
    p.class("loaded").map(|c| c.label == "yes")
}

fn share_of(xs: &[f64], opts: &AggregateOptions, seed: u64) -> Share {
    let (lo, hi) = stats::bootstrap_mean_ci(xs, opts.resamples, opts.level, seed);
    Share { value: stats::mean(xs), ci_low: lo, ci_high: hi }
}

fn bias_profile(paragraphs: &[ParagraphScore], groups: &[Group], opts: &AggregateOptions) -> Vec<BiasRow> {
    let mut out = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let m: Vec<&ParagraphScore> = paragraphs.iter().filter(|p| group_of(&Placement::from(*p), opts.by).is_some_and(|(id, _)| id == g.id) && register_of(p).is_some()).collect();
        if m.is_empty() {
            continue;
        }
        let ind = |f: &dyn Fn(&ParagraphScore) -> bool| -> Vec<f64> { m.iter().map(|p| f(p) as u8 as f64).collect() };
        let seed = stats::SEED + 90_000 + 10 * gi as u64;
        out.push(BiasRow {
            group: g.id.clone(),
            name: g.name.clone(),
            section: g.section,
            documents: document_count(m.iter().map(|p| &p.at)),
            n: m.len(),
            report: share_of(&ind(&|p| register_of(p) == Some("report")), opts, seed),
            analysis: share_of(&ind(&|p| register_of(p) == Some("analysis")), opts, seed + 1),
            opinion: share_of(&ind(&|p| register_of(p) == Some("opinion")), opts, seed + 2),
            loaded: share_of(&ind(&|p| loaded_of(p) == Some(true)), opts, seed + 3),
            model_error_opinion: opts.errors.opinion,
            model_error_loaded: opts.errors.loaded,
        });
    }
    out
}

/// The body group `query` names: its id or display name exactly (case-insensitively), else the
/// one group whose id or name starts with it.
pub fn resolve_group(groups: &[Group], query: &str) -> Result<String> {
    let body: Vec<&Group> = groups.iter().filter(|g| g.section == Section::Body).collect();
    let q = query.to_lowercase();
    if let Some(g) = body.iter().find(|g| g.id == query || g.name.to_lowercase() == q) {
        return Ok(g.id.clone());
    }
    let hits: Vec<&&Group> = body.iter().filter(|g| g.id.starts_with(query) || g.name.to_lowercase().starts_with(&q)).collect();
    let list = || body.iter().map(|g| if g.id == g.name { g.id.clone() } else { format!("{} ({})", g.name, g.id) }).collect::<Vec<_>>().join(", ");
    match hits.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::Usage(format!("--contrast: no group named {query:?}\n  help: groups are: {}", list()))),
        many => Err(Error::Usage(format!("--contrast: {query:?} matches {} groups ({})\n  help: give more of the name or the id", many.len(), many.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")))),
    }
}

/// The first two body groups in input order: for the seeds by document, 000 vs 001.
pub fn default_contrast(groups: &[Group]) -> Option<(String, String)> {
    let mut ids = groups.iter().filter(|g| g.section == Section::Body).map(|g| g.id.clone());
    Some((ids.next()?, ids.next()?))
}

fn name_of(groups: &[Group], id: &str) -> String {
    groups.iter().find(|g| g.id == id).map_or_else(|| id.to_string(), |g| g.name.clone())
}

/// Contrast body groups `a` and `b` for every target both have scores for, in `opts.voice`.
pub fn contrast(scores: &[StanceScore], groups: &[Group], a: &str, b: &str, opts: &AggregateOptions) -> Vec<Contrast> {
    let voice = if voices(scores).contains(&opts.voice) { opts.voice } else { Voice::All };
    let (ga, gb) = (members(scores, opts.by, a), members(scores, opts.by, b));
    let mut out = Vec::new();
    for (ti, target) in targets_in_order(scores).into_iter().enumerate() {
        let sa: Vec<&StanceScore> = ga.iter().copied().filter(|s| s.target == target && s.at.section == Section::Body).collect();
        let sb: Vec<&StanceScore> = gb.iter().copied().filter(|s| s.target == target && s.at.section == Section::Body).collect();
        if sa.is_empty() || sb.is_empty() {
            continue;
        }
        let xa: Vec<f64> = sa.iter().filter_map(|s| voiced(s, voice)).map(|p| p.0).collect();
        let xb: Vec<f64> = sb.iter().filter_map(|s| voiced(s, voice)).map(|p| p.0).collect();
        let model_error = opts.errors.contrast_of(voice);
        let c = compare(&xa, &xb, opts, (1000 + ti as u64, 2000 + ti as u64), model_error);
        out.push(Contrast {
            a: a.to_string(),
            b: b.to_string(),
            a_name: name_of(groups, a),
            b_name: name_of(groups, b),
            target: target.clone(),
            voice,
            n_a: xa.len(),
            n_b: xb.len(),
            mean_a: c.mean_a,
            mean_b: c.mean_b,
            diff: c.diff,
            ci_low: c.ci.0,
            ci_high: c.ci.1,
            p_value: c.p_value,
            permutations: opts.permutations,
            cohens_d: stats::cohens_d(&xa, &xb),
            model_error,
            within_model_error: c.within_model_error,
            evidence_a: evidence(&sa, voice, opts.evidence),
            evidence_b: evidence(&sb, voice, opts.evidence),
        });
    }
    out
}

/// What every two-group comparison reports: both means, the bootstrap interval of their
/// difference, the permutation p-value, and whether the difference is inside the model's error.
struct Comparison {
    mean_a: f64,
    mean_b: f64,
    diff: f64,
    ci: (f64, f64),
    p_value: f64,
    within_model_error: bool,
}

/// `seeds` offset the bootstrap and permutation streams so each comparison in a report is
/// reproducible on its own.
fn compare(xa: &[f64], xb: &[f64], opts: &AggregateOptions, seeds: (u64, u64), model_error: Option<f64>) -> Comparison {
    let (mean_a, mean_b) = (stats::mean(xa), stats::mean(xb));
    let diff = mean_a - mean_b;
    Comparison {
        mean_a,
        mean_b,
        diff,
        ci: stats::bootstrap_diff_ci(xa, xb, opts.resamples, opts.level, stats::SEED + seeds.0),
        p_value: stats::permutation_p(xa, xb, opts.permutations, stats::SEED + seeds.1),
        within_model_error: model_error.is_some_and(|e| diff.abs() < e),
    }
}

/// The paragraphs with the strongest stance in `voice` (highest |score|), ties by position.
fn evidence(scores: &[&StanceScore], voice: Voice, k: usize) -> Vec<Evidence> {
    let mut v: Vec<(&StanceScore, f64, &str)> = scores.iter().filter_map(|s| voiced(s, voice).map(|(x, l)| (*s, x, l))).collect();
    v.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()).then(x.0.at.doc_id.cmp(&y.0.at.doc_id)).then(x.0.at.paragraph.cmp(&y.0.at.paragraph)));
    v.into_iter()
        .take(k)
        .map(|(s, x, l)| Evidence {
            doc_id: s.at.doc_id.clone(),
            paragraph: s.at.paragraph,
            score: x,
            label: l.to_string(),
            all_score: s.score as f64,
            all_label: s.label.clone(),
            own_score: s.editorial.as_ref().map(|e| e.score as f64),
            own_label: s.editorial.as_ref().map(|e| e.label.clone()),
            excerpt: excerpt(&s.text, s.mentions.first().map(|m| m.start), 320),
        })
        .collect()
}

/// Bias contrasts between body groups `a` and `b`: opinion share and loaded rate.
pub fn bias_contrast(paragraphs: &[ParagraphScore], groups: &[Group], a: &str, b: &str, opts: &AggregateOptions) -> Vec<BiasContrast> {
    let of = |id: &str| -> Vec<&ParagraphScore> {
        paragraphs.iter().filter(|p| p.at.section == Section::Body && register_of(p).is_some() && group_of(&Placement::from(*p), opts.by).is_some_and(|(g, _)| g == id)).collect()
    };
    let (pa, pb) = (of(a), of(b));
    if pa.is_empty() || pb.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    type Measure = (&'static str, fn(&ParagraphScore) -> bool, fn(&ParagraphScore) -> f64);
    let measures: [Measure; 2] = [
        ("opinion", |p| register_of(p) == Some("opinion"), |p| p.class("register").and_then(|c| c.probs.get("opinion")).copied().unwrap_or(0.0) as f64),
        ("loaded", |p| loaded_of(p) == Some(true), |p| p.class("loaded").and_then(|c| c.probs.get("yes")).copied().unwrap_or(0.0) as f64),
    ];
    for (mi, (measure, hit, prob)) in measures.into_iter().enumerate() {
        let xa: Vec<f64> = pa.iter().map(|p| hit(p) as u8 as f64).collect();
        let xb: Vec<f64> = pb.iter().map(|p| hit(p) as u8 as f64).collect();
        let model_error = if measure == "opinion" { opts.errors.opinion_contrast } else { opts.errors.loaded_contrast };
        let c = compare(&xa, &xb, opts, (3000 + mi as u64, 4000 + mi as u64), model_error);
        // the paragraphs that drive it: each side's most confident positives
        let ev = |ps: &[&ParagraphScore]| -> Vec<BiasEvidence> {
            let mut v: Vec<&&ParagraphScore> = ps.iter().filter(|p| hit(p)).collect();
            v.sort_by(|x, y| prob(y).total_cmp(&prob(x)).then(x.at.doc_id.cmp(&y.at.doc_id)).then(x.at.paragraph.cmp(&y.at.paragraph)));
            v.into_iter().take(opts.evidence).map(|p| bias_evidence(p)).collect()
        };
        out.push(BiasContrast {
            a: a.to_string(),
            b: b.to_string(),
            a_name: name_of(groups, a),
            b_name: name_of(groups, b),
            measure: measure.to_string(),
            n_a: xa.len(),
            n_b: xb.len(),
            value_a: c.mean_a,
            value_b: c.mean_b,
            diff: c.diff,
            ci_low: c.ci.0,
            ci_high: c.ci.1,
            p_value: c.p_value,
            model_error,
            within_model_error: c.within_model_error,
            evidence_a: ev(&pa),
            evidence_b: ev(&pb),
        });
    }
    out
}

fn bias_evidence(p: &ParagraphScore) -> BiasEvidence {
    BiasEvidence {
        doc_id: p.at.doc_id.clone(),
        paragraph: p.at.paragraph,
        register: register_of(p).unwrap_or("").to_string(),
        p_opinion: p.class("register").and_then(|c| c.probs.get("opinion")).copied().unwrap_or(0.0) as f64,
        p_loaded: p.class("loaded").and_then(|c| c.probs.get("yes")).copied().unwrap_or(0.0) as f64,
        text: p.text.clone(),
        loaded_spans: p.spans("loaded_spans").to_vec(),
    }
}

/// About `max` characters of `text` around character offset `around`, cut at word boundaries.
pub fn excerpt(text: &str, around: Option<usize>, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let center = around.unwrap_or(0);
    let mut start = center.saturating_sub(max / 3);
    let mut end = (start + max).min(chars.len());
    start = end.saturating_sub(max).min(start);
    while start > 0 && !chars[start - 1].is_whitespace() {
        start += 1;
    }
    while end < chars.len() && end > start && !chars[end].is_whitespace() {
        end -= 1;
    }
    let body: String = chars[start..end].iter().collect();
    format!("{}{}{}", if start > 0 { "…" } else { "" }, body.trim(), if end < chars.len() { "…" } else { "" })
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_at_words_around_the_mention() {
        let text = "word ".repeat(200);
        let e = excerpt(&text, Some(500), 100);
        assert!(e.starts_with('…') && e.ends_with('…'));
        assert!(e.chars().count() <= 102);
        assert_eq!(excerpt("short text", None, 100), "short text");
    }
}
