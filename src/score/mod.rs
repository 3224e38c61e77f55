//! Score: (paragraph, target) pairs → [`StanceScore`]s.
//!
//! Picks the pairs to score (paragraphs in the chosen sections that mention a target, or every
//! target with `all_targets`), sends them to a [`PairClassifier`], and turns class probabilities
//! into a score in [-1, 1] = P(favor) − P(against) and a label.

mod output;

use serde::{Deserialize, Serialize};

pub use output::{JsonlSink, write_atomically};

use crate::error::{Error, Result};
use crate::ingest::Article;
use crate::model::{PairClassifier, PairInput};
use crate::segment::{self, Paragraph, Section};
use crate::targets::{Mention, TargetSet};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probs {
    pub against: f32,
    pub neutral: f32,
    pub favor: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    pub name: String,
    pub sha256: String,
}

/// A mention inside the paragraph, in character offsets (what Python and JavaScript index by).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionSpan {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// The stance of one paragraph toward one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StanceScore {
    pub doc_id: String,
    pub source: String,
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaning: Option<String>,
    pub paragraph: usize,
    pub section: Section,
    /// Character offsets of the paragraph in the document text.
    pub start: usize,
    pub end: usize,
    pub target: String,
    pub mentions: Vec<MentionSpan>,
    pub text: String,
    pub probs: Probs,
    pub score: f32,
    pub label: String,
    /// Number of model windows the paragraph needed (more than 1 only for very long paragraphs).
    pub windows: usize,
    pub model: ModelRef,
}

#[derive(Debug, Clone)]
pub struct ScoreOptions {
    pub all_targets: bool,
    pub sections: Vec<Section>,
    /// How many pairs go to the model at once (memory bound for large corpora).
    pub chunk_pairs: usize,
    /// Resume: the records already written, in output order; their pairs are not scored again.
    pub done: Vec<(String, usize, String)>,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions { all_targets: false, sections: vec![Section::Body, Section::Comments], chunk_pairs: 512, done: Vec::new() }
    }
}

/// Summary of a scoring run.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    pub documents: usize,
    pub paragraphs: usize,
    pub pairs: usize,
}

struct Job<'a> {
    article: &'a Article,
    paragraph: Paragraph,
    target: usize,
    mentions: Vec<Mention>,
}

/// Which (paragraph, target) pairs a run scores, in output order: documents as given, paragraphs
/// in order, targets in the order of the targets file.
fn plan<'a>(articles: &'a [Article], targets: &TargetSet, opts: &ScoreOptions) -> (Vec<Job<'a>>, usize) {
    let mut jobs = Vec::new();
    let mut paragraphs = 0;
    for article in articles {
        for p in segment::segment(article) {
            paragraphs += 1;
            if !opts.sections.contains(&p.section) {
                continue;
            }
            for (ti, t) in targets.targets.iter().enumerate() {
                let mentions = t.mentions(&p.text);
                if mentions.is_empty() && !opts.all_targets {
                    continue;
                }
                jobs.push(Job { article, paragraph: p.clone(), target: ti, mentions });
            }
        }
    }
    (jobs, paragraphs)
}

/// Score every pair and hand each result to `sink`, in output order. `progress(done, total)` is
/// told after each chunk how many pairs were just finished, out of how many the run plans.
pub fn score_articles(
    articles: &[Article],
    targets: &TargetSet,
    model: &mut dyn PairClassifier,
    opts: &ScoreOptions,
    progress: &mut dyn FnMut(usize, usize),
    sink: &mut dyn FnMut(StanceScore) -> Result<()>,
) -> Result<RunStats> {
    let manifest = model.manifest().clone();
    let [ia, ine, ifa] = manifest.stance_indices()?;
    let model_ref = ModelRef { name: manifest.name.clone(), sha256: manifest.sha256.clone() };

    let (jobs, paragraphs) = plan(articles, targets, opts);
    let mut stats = RunStats { documents: articles.len(), paragraphs, pairs: jobs.len() };
    // a resumed run must be the same run: the records written so far are the first planned pairs
    let skip = opts.done.len();
    for (i, (doc, para, target)) in opts.done.iter().enumerate() {
        let j = jobs.get(i);
        if j.is_none_or(|j| &j.article.id != doc || j.paragraph.index != *para || &targets.targets[j.target].name != target) {
            return Err(Error::Usage(format!(
                "--resume: record {} of the partial output ({doc} ¶{para} {target}) is not what this input and these options produce at that place\n  help: resume with the same inputs and options, or delete the .partial file to start over",
                i + 1
            )));
        }
    }
    progress(skip, jobs.len());
    for chunk in jobs[skip..].chunks(opts.chunk_pairs.max(1)) {
        let inputs: Vec<PairInput> = chunk.iter().map(|j| PairInput { first: &targets.targets[j.target].label, second: &j.paragraph.text }).collect();
        let preds = model.classify(&inputs, &mut |_| {})?;
        progress(chunk.len(), jobs.len());
        for (job, pred) in chunk.iter().zip(preds) {
            let probs = Probs { against: pred.probs[ia], neutral: pred.probs[ine], favor: pred.probs[ifa] };
            let label = manifest.labels[argmax(&pred.probs)].clone();
            sink(StanceScore {
                doc_id: job.article.id.clone(),
                source: job.article.source.clone(),
                title: job.article.title.clone(),
                date: job.article.date.clone(),
                url: job.article.url.clone(),
                leaning: job.article.leaning.clone(),
                paragraph: job.paragraph.index,
                section: job.paragraph.section,
                start: char_offset(&job.article.text, job.paragraph.range.start),
                end: char_offset(&job.article.text, job.paragraph.range.end),
                target: targets.targets[job.target].name.clone(),
                mentions: job
                    .mentions
                    .iter()
                    .map(|m| MentionSpan { text: m.text.clone(), start: char_offset(&job.paragraph.text, m.start), end: char_offset(&job.paragraph.text, m.end) })
                    .collect(),
                text: job.paragraph.text.clone(),
                score: round4(probs.favor - probs.against),
                probs: Probs { against: round4(probs.against), neutral: round4(probs.neutral), favor: round4(probs.favor) },
                label,
                windows: pred.windows,
                model: model_ref.clone(),
            })?;
        }
    }
    stats.pairs = jobs.len();
    Ok(stats)
}

fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

/// Four decimals are far below the model's precision and keep output stable and readable.
fn round4(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}

fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}
