//! Aggregate: paragraph scores → per-group [`Profile`]s and [`Contrast`]s between two groups.
//!
//! Reader comments are profiled as their own group ("<group> — reader comments"), never mixed
//! into the outlet's editorial profile; boilerplate is left out.

pub mod stats;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::score::StanceScore;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Voice {
    Editorial,
    Comments,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shares {
    pub against: f64,
    pub neutral: f64,
    pub favor: f64,
}

/// One group's stance toward one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRow {
    pub group: String,
    pub voice: Voice,
    pub target: String,
    pub documents: usize,
    pub n: usize,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub share: Shares,
    pub mean_confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub by: GroupBy,
    pub resamples: usize,
    pub seed: u64,
    pub confidence_level: f64,
    pub rows: Vec<ProfileRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub doc_id: String,
    pub paragraph: usize,
    pub score: f64,
    pub label: String,
    pub excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contrast {
    pub a: String,
    pub b: String,
    pub target: String,
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
    pub evidence_a: Vec<Evidence>,
    pub evidence_b: Vec<Evidence>,
}

#[derive(Debug, Clone)]
pub struct AggregateOptions {
    pub by: GroupBy,
    pub resamples: usize,
    pub permutations: usize,
    pub level: f64,
    pub evidence: usize,
}

impl Default for AggregateOptions {
    fn default() -> Self {
        AggregateOptions { by: GroupBy::Source, resamples: 2000, permutations: 5000, level: 0.95, evidence: 3 }
    }
}

/// The group a score belongs to, and whether it is the outlet's voice or its readers'.
pub fn group_of(s: &StanceScore, by: GroupBy) -> Option<(String, Voice)> {
    let base = match by {
        GroupBy::Source => s.source.clone(),
        GroupBy::Document => s.doc_id.clone(),
        GroupBy::Leaning => s.leaning.clone().unwrap_or_else(|| "unknown".into()),
    };
    match s.section {
        Section::Body => Some((base, Voice::Editorial)),
        Section::Comments => Some((format!("{base} — reader comments"), Voice::Comments)),
        Section::Boilerplate => None,
    }
}

type Groups<'a> = Vec<(String, Voice, Vec<&'a StanceScore>)>;

fn collect_groups<'a>(scores: &'a [StanceScore], by: GroupBy) -> Groups<'a> {
    let mut groups: Groups<'a> = Vec::new();
    for s in scores {
        let Some((name, voice)) = group_of(s, by) else { continue };
        match groups.iter_mut().find(|g| g.0 == name) {
            Some(g) => g.2.push(s),
            None => groups.push((name, voice, vec![s])),
        }
    }
    groups
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

pub fn profile(scores: &[StanceScore], opts: &AggregateOptions) -> Profile {
    let groups = collect_groups(scores, opts.by);
    let mut rows = Vec::new();
    for target in targets_in_order(scores) {
        for (gi, (name, voice, members)) in groups.iter().enumerate() {
            let m: Vec<&&StanceScore> = members.iter().filter(|s| s.target == target).collect();
            if m.is_empty() {
                continue;
            }
            let xs: Vec<f64> = m.iter().map(|s| s.score as f64).collect();
            let n = xs.len() as f64;
            let share = |l: &str| m.iter().filter(|s| s.label == l).count() as f64 / n;
            let (lo, hi) = stats::bootstrap_mean_ci(&xs, opts.resamples, opts.level, stats::SEED + gi as u64);
            let mut docs: Vec<&str> = m.iter().map(|s| s.doc_id.as_str()).collect();
            docs.sort_unstable();
            docs.dedup();
            rows.push(ProfileRow {
                group: name.clone(),
                voice: *voice,
                target: target.clone(),
                documents: docs.len(),
                n: m.len(),
                mean: stats::mean(&xs),
                ci_low: lo,
                ci_high: hi,
                share: Shares { against: share("against"), neutral: share("neutral"), favor: share("favor") },
                mean_confidence: m.iter().map(|s| s.probs.against.max(s.probs.neutral).max(s.probs.favor) as f64).sum::<f64>() / n,
            });
        }
    }
    Profile { by: opts.by, resamples: opts.resamples, seed: stats::SEED, confidence_level: opts.level, rows }
}

/// The editorial group named `query`: an exact name, else the one group it is a prefix of.
pub fn resolve_group(scores: &[StanceScore], by: GroupBy, query: &str) -> Result<String> {
    let names: Vec<String> = collect_groups(scores, by).into_iter().filter(|g| g.1 == Voice::Editorial).map(|g| g.0).collect();
    if names.iter().any(|n| n == query) {
        return Ok(query.to_string());
    }
    let hits: Vec<&String> = names.iter().filter(|n| n.starts_with(query)).collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::Usage(format!("--contrast: no group named {query:?}\n  help: groups are: {}", names.join(", ")))),
        many => Err(Error::Usage(format!("--contrast: {query:?} matches {} groups ({})\n  help: give more of the name", many.len(), many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")))),
    }
}

/// The first two editorial groups in input order: for the seeds by document, 000 vs 001.
pub fn default_contrast(scores: &[StanceScore], by: GroupBy) -> Option<(String, String)> {
    let mut names = collect_groups(scores, by).into_iter().filter(|g| g.1 == Voice::Editorial).map(|g| g.0);
    Some((names.next()?, names.next()?))
}

/// Contrast editorial groups `a` and `b` for every target both have scores for.
pub fn contrast(scores: &[StanceScore], a: &str, b: &str, opts: &AggregateOptions) -> Vec<Contrast> {
    let groups = collect_groups(scores, opts.by);
    let members = |name: &str| groups.iter().find(|g| g.0 == name && g.1 == Voice::Editorial).map(|g| g.2.clone()).unwrap_or_default();
    let (ga, gb) = (members(a), members(b));
    let mut out = Vec::new();
    for (ti, target) in targets_in_order(scores).into_iter().enumerate() {
        let sa: Vec<&StanceScore> = ga.iter().copied().filter(|s| s.target == target).collect();
        let sb: Vec<&StanceScore> = gb.iter().copied().filter(|s| s.target == target).collect();
        if sa.is_empty() || sb.is_empty() {
            continue;
        }
        let xa: Vec<f64> = sa.iter().map(|s| s.score as f64).collect();
        let xb: Vec<f64> = sb.iter().map(|s| s.score as f64).collect();
        let (lo, hi) = stats::bootstrap_diff_ci(&xa, &xb, opts.resamples, opts.level, stats::SEED + 1000 + ti as u64);
        out.push(Contrast {
            a: a.to_string(),
            b: b.to_string(),
            target: target.clone(),
            n_a: xa.len(),
            n_b: xb.len(),
            mean_a: stats::mean(&xa),
            mean_b: stats::mean(&xb),
            diff: stats::mean(&xa) - stats::mean(&xb),
            ci_low: lo,
            ci_high: hi,
            p_value: stats::permutation_p(&xa, &xb, opts.permutations, stats::SEED + 2000 + ti as u64),
            permutations: opts.permutations,
            cohens_d: stats::cohens_d(&xa, &xb),
            evidence_a: evidence(&sa, opts.evidence),
            evidence_b: evidence(&sb, opts.evidence),
        });
    }
    out
}

/// The paragraphs with the strongest stance (highest |score|), ties by position.
fn evidence(scores: &[&StanceScore], k: usize) -> Vec<Evidence> {
    let mut v: Vec<&&StanceScore> = scores.iter().collect();
    v.sort_by(|x, y| y.score.abs().total_cmp(&x.score.abs()).then(x.doc_id.cmp(&y.doc_id)).then(x.paragraph.cmp(&y.paragraph)));
    v.into_iter()
        .take(k)
        .map(|s| Evidence { doc_id: s.doc_id.clone(), paragraph: s.paragraph, score: s.score as f64, label: s.label.clone(), excerpt: excerpt(&s.text, s.mentions.first().map(|m| m.start), 320) })
        .collect()
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

/// Read a scores.jsonl written by `slant score`.
pub fn read_scores(path: &std::path::Path) -> Result<Vec<StanceScore>> {
    let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::InputLine {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("not a slant score record: {e}"),
                help: "profile and report read the JSON lines written by `slant score`".into(),
            })
        })
        .collect()
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
