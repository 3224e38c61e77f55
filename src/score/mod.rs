//! Score: paragraphs and (paragraph, target) pairs → [`Record`]s.
//!
//! Picks the pairs to score (paragraphs in the chosen sections that mention a target, or every
//! target with `all_targets`), sends them to a [`Classifier`], and turns class probabilities into a
//! score in [-1, 1] = P(favor) − P(against) and a label, for `stance` and, where the model has it,
//! `editorial` (the author's own voice). Models with paragraph-level outputs (register, loaded
//! language) also get every paragraph of the scored sections once, without a target: a
//! [`ParagraphScore`] record before that paragraph's stance records.

pub mod columnar;
pub mod merge;
mod output;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use output::{JsonlSink, OutputFormat, PartialFile, RecordWriter, open_writer, partial_path, write_atomically};

use crate::error::{Error, Result};
use crate::ingest::Article;
use crate::model::{Classifier, InputKind, Manifest, ModelInput, Prediction};
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

/// A stance output read as probabilities, score and label (`editorial` in records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputScore {
    pub probs: Probs,
    pub score: f32,
    pub label: String,
}

/// A paragraph-level class output (`register`, `loaded`): probability per label, and the label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    pub probs: BTreeMap<String, f32>,
    pub label: String,
}

/// A run of tokens a per-token output marks (e.g. loaded words), in characters of the paragraph,
/// with the mean probability of its tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanScore {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub p: f32,
}

/// A paragraph-level output in a record: classes, or spans (per-token outputs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OutputValue {
    Class(ClassScore),
    Spans(Vec<SpanScore>),
}

/// Which paragraph of which article a record scores: both record kinds start with it (flattened,
/// so the JSON keeps its flat fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParagraphRef {
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
}

impl ParagraphRef {
    fn new(article: &Article, paragraph: &Paragraph) -> ParagraphRef {
        ParagraphRef {
            doc_id: article.id.clone(),
            source: article.source.clone(),
            title: article.title.clone(),
            date: article.date.clone(),
            url: article.url.clone(),
            leaning: article.leaning.clone(),
            paragraph: paragraph.index,
            section: paragraph.section,
            start: char_offset(&article.text, paragraph.range.start),
            end: char_offset(&article.text, paragraph.range.end),
        }
    }
}

/// The paragraph-level outputs of one paragraph (no target): register, loaded language and the
/// loaded words, as the model's manifest names them. A per-token output `X_tokens` is written as
/// `X_spans`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParagraphScore {
    #[serde(flatten)]
    pub at: ParagraphRef,
    pub text: String,
    pub windows: usize,
    pub model: ModelRef,
    #[serde(flatten)]
    pub outputs: BTreeMap<String, OutputValue>,
}

impl ParagraphScore {
    pub fn class(&self, output: &str) -> Option<&ClassScore> {
        match self.outputs.get(output) {
            Some(OutputValue::Class(c)) => Some(c),
            _ => None,
        }
    }
    pub fn spans(&self, name: &str) -> &[SpanScore] {
        match self.outputs.get(name) {
            Some(OutputValue::Spans(s)) => s,
            _ => &[],
        }
    }
}

/// One line of a scores stream: `{"kind": "stance", …}` or `{"kind": "paragraph", …}`. Files
/// written before paragraph records existed have no `kind`: they are stance records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    Stance(StanceScore),
    Paragraph(ParagraphScore),
}

impl Record {
    pub fn from_json(line: &str) -> std::result::Result<Record, serde_json::Error> {
        let mut v: serde_json::Value = serde_json::from_str(line)?;
        if let Some(obj) = v.as_object_mut() {
            obj.entry("kind").or_insert_with(|| "stance".into());
        }
        serde_json::from_value(v)
    }
    /// Where the record sits in a run: document, paragraph, and target (None: the paragraph record).
    pub fn key(&self) -> RecordKey {
        let target = match self {
            Record::Stance(s) => Some(s.target.clone()),
            Record::Paragraph(_) => None,
        };
        RecordKey { doc_id: self.at().doc_id.clone(), paragraph: self.at().paragraph, target }
    }
    /// Which paragraph of which article the record scores.
    pub fn at(&self) -> &ParagraphRef {
        match self {
            Record::Stance(s) => &s.at,
            Record::Paragraph(p) => &p.at,
        }
    }
    pub fn doc_id(&self) -> &str {
        &self.at().doc_id
    }
    pub fn model(&self) -> &ModelRef {
        match self {
            Record::Stance(s) => &s.model,
            Record::Paragraph(p) => &p.model,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    pub doc_id: String,
    pub paragraph: usize,
    /// None for a paragraph record (it sorts before the paragraph's stance records).
    pub target: Option<String>,
}

/// The stance of one paragraph toward one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StanceScore {
    #[serde(flatten)]
    pub at: ParagraphRef,
    pub target: String,
    pub mentions: Vec<MentionSpan>,
    pub text: String,
    pub probs: Probs,
    pub score: f32,
    pub label: String,
    /// The stance in the author's own voice (models with an `editorial` output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editorial: Option<OutputScore>,
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
    /// Resume: the records already written, in output order; they are not scored again.
    pub done: Vec<RecordKey>,
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
    /// None: the paragraph's own record (paragraph-level outputs).
    target: Option<usize>,
    mentions: Vec<Mention>,
}

impl Job<'_> {
    fn key(&self, targets: &TargetSet) -> RecordKey {
        RecordKey { doc_id: self.article.id.clone(), paragraph: self.paragraph.index, target: self.target.map(|t| targets.targets[t].name.clone()) }
    }
}

/// What a run scores, in output order: documents as given, paragraphs in order, for each the
/// paragraph record (if the model has paragraph outputs) and then targets in the order of the
/// targets file.
fn plan<'a>(articles: &'a [Article], targets: &TargetSet, opts: &ScoreOptions, paragraph_outputs: bool) -> (Vec<Job<'a>>, usize) {
    let mut jobs = Vec::new();
    let mut paragraphs = 0;
    for article in articles {
        for p in segment::segment(article) {
            paragraphs += 1;
            if !opts.sections.contains(&p.section) {
                continue;
            }
            if paragraph_outputs {
                jobs.push(Job { article, paragraph: p.clone(), target: None, mentions: Vec::new() });
            }
            for (ti, t) in targets.targets.iter().enumerate() {
                let mentions = t.mentions(&p.text);
                if mentions.is_empty() && !opts.all_targets {
                    continue;
                }
                jobs.push(Job { article, paragraph: p.clone(), target: Some(ti), mentions });
            }
        }
    }
    (jobs, paragraphs)
}

/// Score every pair and paragraph and hand each record to `sink`, in output order.
/// `progress(done, total)` is told after each chunk how many were just finished, out of how many
/// the run plans.
pub fn score_articles(
    articles: &[Article],
    targets: &TargetSet,
    model: &mut dyn Classifier,
    opts: &ScoreOptions,
    progress: &mut dyn FnMut(usize, usize),
    sink: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<RunStats> {
    let manifest = model.manifest().clone();
    let reader = OutputReader::new(&manifest)?;
    let (jobs, paragraphs) = plan(articles, targets, opts, manifest.has_input(InputKind::Text));
    let mut stats = RunStats { documents: articles.len(), paragraphs, pairs: jobs.iter().filter(|j| j.target.is_some()).count() };
    // a resumed run must be the same run: the records written so far are the first planned ones
    let skip = opts.done.len();
    for (i, done) in opts.done.iter().enumerate() {
        if jobs.get(i).is_none_or(|j| j.key(targets) != *done) {
            return Err(Error::Usage(format!(
                "--resume: record {} of the partial output ({} ¶{} {}) is not what this input and these options produce at that place\n  help: resume with the same inputs and options, or delete the .partial file to start over",
                i + 1,
                done.doc_id,
                done.paragraph,
                done.target.as_deref().unwrap_or("paragraph")
            )));
        }
    }
    progress(skip, jobs.len());
    for chunk in jobs[skip..].chunks(opts.chunk_pairs.max(1)) {
        let inputs: Vec<ModelInput> = chunk
            .iter()
            .map(|j| match j.target {
                Some(t) => ModelInput::pair(&targets.targets[t].label, &j.paragraph.text),
                None => ModelInput::text(&j.paragraph.text),
            })
            .collect();
        let preds = model.classify(&inputs, &mut |_| {})?;
        progress(chunk.len(), jobs.len());
        for (job, pred) in chunk.iter().zip(preds) {
            sink(reader.record(job, &pred, targets)?)?;
        }
    }
    stats.pairs = jobs.iter().filter(|j| j.target.is_some()).count();
    Ok(stats)
}

/// Turns a [`Prediction`] into a record, reading outputs by the manifest's names.
struct OutputReader {
    model: ModelRef,
    stance: [usize; 3],
    editorial: Option<[usize; 3]>,
    stance_labels: Vec<String>,
    editorial_labels: Vec<String>,
    /// Paragraph-level outputs: (name, labels, per_token).
    text_outputs: Vec<(String, Vec<String>, bool)>,
}

impl OutputReader {
    fn new(m: &Manifest) -> Result<OutputReader> {
        let labels = |name: &str| m.output(name).map(|o| o.labels.clone()).unwrap_or_default();
        Ok(OutputReader {
            model: ModelRef { name: m.name.clone(), sha256: m.sha256.clone() },
            stance: m.stance_indices()?,
            editorial: m.output("editorial").map(|_| m.stance_indices_of("editorial")).transpose()?,
            stance_labels: labels("stance"),
            editorial_labels: labels("editorial"),
            text_outputs: m.outputs.iter().filter(|o| o.input == InputKind::Text).map(|o| (o.name.clone(), o.labels.clone(), o.per_token)).collect(),
        })
    }

    fn stance_of(&self, probs: &[f32], idx: [usize; 3], labels: &[String]) -> OutputScore {
        let [ia, ine, ifa] = idx;
        let p = Probs { against: round4(probs[ia]), neutral: round4(probs[ine]), favor: round4(probs[ifa]) };
        OutputScore { score: round4(probs[ifa] - probs[ia]), probs: p, label: labels[argmax(probs)].clone() }
    }

    fn record(&self, job: &Job, pred: &Prediction, targets: &TargetSet) -> Result<Record> {
        let article = job.article;
        let missing = |o: &str| Error::Inference(format!("the model returned no {o:?} output"));
        let Some(t) = job.target else {
            let mut outputs = BTreeMap::new();
            for (name, labels, per_token) in &self.text_outputs {
                if *per_token {
                    let toks = pred.tokens.get(name).ok_or_else(|| missing(name))?;
                    let key = format!("{}_spans", name.strip_suffix("_tokens").unwrap_or(name));
                    outputs.insert(key, OutputValue::Spans(spans_of(&job.paragraph.text, toks, labels.len() - 1)));
                } else {
                    let probs = pred.probs(name).ok_or_else(|| missing(name))?;
                    let label = labels[argmax(probs)].clone();
                    outputs.insert(name.clone(), OutputValue::Class(ClassScore { probs: labels.iter().cloned().zip(probs.iter().map(|&p| round4(p))).collect(), label }));
                }
            }
            return Ok(Record::Paragraph(ParagraphScore {
                at: ParagraphRef::new(article, &job.paragraph),
                text: job.paragraph.text.clone(),
                windows: pred.windows,
                model: self.model.clone(),
                outputs,
            }));
        };
        let stance = self.stance_of(pred.probs("stance").ok_or_else(|| missing("stance"))?, self.stance, &self.stance_labels);
        let editorial = match self.editorial {
            Some(idx) => Some(self.stance_of(pred.probs("editorial").ok_or_else(|| missing("editorial"))?, idx, &self.editorial_labels)),
            None => None,
        };
        Ok(Record::Stance(StanceScore {
            at: ParagraphRef::new(article, &job.paragraph),
            target: targets.targets[t].name.clone(),
            mentions: job
                .mentions
                .iter()
                .map(|m| MentionSpan { text: m.text.clone(), start: char_offset(&job.paragraph.text, m.start), end: char_offset(&job.paragraph.text, m.end) })
                .collect(),
            text: job.paragraph.text.clone(),
            probs: stance.probs,
            score: stance.score,
            label: stance.label,
            editorial,
            windows: pred.windows,
            model: self.model.clone(),
        }))
    }
}

/// Runs of tokens whose most probable class is `positive` (any class but the first), merged
/// across the spaces between words, as character spans of `text`.
pub fn spans_of(text: &str, tokens: &[crate::model::TokenProbs], positive: usize) -> Vec<SpanScore> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<(usize, usize, f32, usize)> = Vec::new();
    let mut last_positive = false;
    for t in tokens {
        let pos = argmax(&t.probs) == positive && positive > 0;
        if pos {
            let gap_is_space = spans.last().is_some_and(|s| chars[s.1.min(chars.len())..t.start.min(chars.len())].iter().all(|c| c.is_whitespace()));
            match spans.last_mut() {
                Some(s) if last_positive && gap_is_space => {
                    s.1 = t.end;
                    s.2 += t.probs[positive];
                    s.3 += 1;
                }
                _ => spans.push((t.start, t.end, t.probs[positive], 1)),
            }
        }
        last_positive = pos;
    }
    // a word split into pieces counts whole: widen each span to word boundaries
    spans
        .into_iter()
        .map(|(mut a, mut b, sum, n)| {
            while a > 0 && chars[a - 1].is_alphanumeric() {
                a -= 1;
            }
            while b < chars.len() && chars[b].is_alphanumeric() {
                b += 1;
            }
            SpanScore { text: chars[a..b].iter().collect(), start: a, end: b, p: round4(sum / n as f32) }
        })
        .collect()
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
