//! What each `slant` subcommand does, as library calls: the binary only parses arguments.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};
use crate::ingest::{self, IngestOptions};
use crate::model::cache::{Cached, PredictionCache};
use crate::model::{ModelOptions, OnnxClassifier};
use crate::aggregate::{self, AggregateOptions, GroupBy};
use crate::model::Manifest;
use crate::report::Report;
use crate::score::{self, JsonlSink, RunStats, ScoreOptions, StanceScore};
use crate::segment::Section;
use crate::targets::TargetSet;

#[derive(Debug, Clone)]
pub struct ScoreRequest {
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub model_dir: PathBuf,
    pub targets: Option<PathBuf>,
    pub sections: Vec<Section>,
    pub all_targets: bool,
    pub threads: Option<usize>,
    pub batch_size: usize,
    pub strict: bool,
    /// Prediction cache file; None = no cache (`--no-cache`).
    pub cache: Option<PathBuf>,
    /// Continue an interrupted run that wrote to `output`.
    pub resume: bool,
    /// Filled by [`score`] on resume: the records already written.
    pub resume_done: Vec<(String, usize, String)>,
}

#[derive(Debug)]
pub struct ScoreSummary {
    pub stats: RunStats,
    pub skipped: Vec<ingest::Skipped>,
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// (hits, misses) of the prediction cache, when one was used.
    pub cache: Option<(usize, usize)>,
    pub timings: Option<crate::model::Timings>,
}

pub fn parse_sections(list: &str) -> Result<Vec<Section>> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| Section::parse(s).ok_or_else(|| Error::Usage(format!("unknown section {s:?} in --sections\n  help: use a comma-separated list of body, comments, boilerplate"))))
        .collect()
}

pub fn load_targets(path: Option<&PathBuf>) -> Result<TargetSet> {
    match path {
        Some(p) => TargetSet::from_file(p),
        None => Ok(TargetSet::builtin()),
    }
}

pub fn score(req: &ScoreRequest) -> Result<ScoreSummary> {
    let (mut sink, done) = match (&req.output, req.resume) {
        (Some(p), true) if p.is_file() && !p.with_file_name(format!("{}.partial", p.file_name().unwrap_or_default().to_string_lossy())).exists() => {
            return Err(Error::Usage(format!("--resume: {} is already complete\n  help: nothing to resume; delete it to score again", p.display())));
        }
        (Some(p), true) => JsonlSink::resume(p)?,
        (Some(p), false) => (JsonlSink::file(p)?, Vec::new()),
        (None, true) => return Err(Error::Usage("--resume needs -o FILE: it continues the file an interrupted run was writing".into())),
        (None, false) => (JsonlSink::stdout(), Vec::new()),
    };
    if !done.is_empty() {
        eprintln!("slant: resuming after {} records already written", done.len());
    }
    let req = ScoreRequest { resume_done: done.iter().map(|s| (s.doc_id.clone(), s.paragraph, s.target.clone())).collect(), ..req.clone() };
    let summary = score_with(&req, &mut |s| sink.write(&s))?;
    sink.finish()?;
    Ok(summary)
}

/// Score as `slant score` does, handing each record to `sink`.
pub fn score_with(req: &ScoreRequest, sink: &mut dyn FnMut(StanceScore) -> Result<()>) -> Result<ScoreSummary> {
    let started = Instant::now();
    let targets = load_targets(req.targets.as_ref())?;
    let ingested = ingest::read_inputs(&req.inputs, &IngestOptions { strict: req.strict })?;
    for w in &ingested.warnings {
        eprintln!("warning: {w}");
    }
    if ingested.articles.is_empty() {
        return Err(Error::Usage("no readable documents in the input".into()));
    }
    let model = load_model(&req.model_dir, req.threads, req.batch_size)?;
    let (mut plain, mut cached) = match &req.cache {
        Some(path) => (None, Some(Cached::new(model, PredictionCache::open(path)?))),
        None => (Some(model), None),
    };
    let model: &mut dyn crate::model::PairClassifier = match (&mut plain, &mut cached) {
        (Some(m), _) => m,
        (_, Some(c)) => c,
        _ => unreachable!("one of the two is set"),
    };
    let opts = ScoreOptions { all_targets: req.all_targets, sections: req.sections.clone(), done: req.resume_done.clone(), ..ScoreOptions::default() };

    // the length is set once the run is planned (segmentation and mentions are done only there)
    let bar = std::io::stderr().is_terminal().then(|| {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{spinner} scoring [{bar:30}] {pos}/{len} pairs  {per_sec}  ETA {eta}")
                .expect("static template")
                .progress_chars("=> "),
        )
    });
    let stats = score::score_articles(
        &ingested.articles,
        &targets,
        model,
        &opts,
        &mut |n, total| {
            if let Some(b) = &bar {
                b.set_length(total as u64);
                b.inc(n as u64)
            }
        },
        sink,
    )?;
    let timings = model.timings();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(ScoreSummary {
        stats,
        skipped: ingested.skipped,
        warnings: ingested.warnings,
        seconds: started.elapsed().as_secs_f64(),
        cache: cached.map(|c| (c.hits, c.misses)),
        timings,
    })
}

/// How `profile` and `report` group scores; `auto` reads small inputs (≤ 12 documents) per
/// document and corpora per outlet.
pub fn resolve_grouping(by: &str, scores: &[StanceScore]) -> Result<GroupBy> {
    if by == "auto" {
        let mut docs: Vec<&str> = scores.iter().map(|s| s.doc_id.as_str()).collect();
        docs.sort_unstable();
        docs.dedup();
        return Ok(if docs.len() <= 12 { GroupBy::Document } else { GroupBy::Source });
    }
    GroupBy::parse(by)
}

#[derive(Debug, Clone)]
pub struct ProfileRequest {
    pub by: String,
    pub contrast: Option<(String, String)>,
    pub resamples: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ProfileOutput {
    pub profile: aggregate::Profile,
    pub contrasts: Vec<aggregate::Contrast>,
}

pub fn profile(scores: &[StanceScore], req: &ProfileRequest) -> Result<ProfileOutput> {
    let by = resolve_grouping(&req.by, scores)?;
    let opts = AggregateOptions { by, resamples: req.resamples.max(1000), ..AggregateOptions::default() };
    let profile = aggregate::profile(scores, &opts);
    let pair = match &req.contrast {
        Some((a, b)) => Some((aggregate::resolve_group(scores, by, a)?, aggregate::resolve_group(scores, by, b)?)),
        None => aggregate::default_contrast(scores, by),
    };
    let contrasts = pair.map(|(a, b)| aggregate::contrast(scores, &a, &b, &opts)).unwrap_or_default();
    Ok(ProfileOutput { profile, contrasts })
}

/// True if `path` is a scores file written by `slant score` (its first record has probs and a target).
pub fn is_scores_file(path: &std::path::Path) -> bool {
    if path.extension().is_none_or(|e| e != "jsonl") || !path.is_file() {
        return false;
    }
    let Ok(f) = std::fs::File::open(path) else { return false };
    use std::io::BufRead;
    let first = std::io::BufReader::new(f).lines().map_while(|l| l.ok()).find(|l| !l.trim().is_empty());
    first.and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok()).is_some_and(|v| v.get("probs").is_some() && v.get("target").is_some())
}

/// `slant report`: score (unless given scores.jsonl), profile, contrast, write the report files.
pub fn report(score_req: &ScoreRequest, profile_req: &ProfileRequest, out_dir: &std::path::Path) -> Result<(Report, Option<ScoreSummary>)> {
    let (scores, summary) = if score_req.inputs.len() == 1 && is_scores_file(&score_req.inputs[0]) {
        (aggregate::read_scores(&score_req.inputs[0])?, None)
    } else {
        let mut scores = Vec::new();
        let req = ScoreRequest { output: None, ..score_req.clone() };
        let summary = score_with(&req, &mut |s| {
            scores.push(s);
            Ok(())
        })?;
        (scores, Some(summary))
    };
    if scores.is_empty() {
        return Err(Error::Usage("no paragraph mentions a target, so there is nothing to report\n  help: check --targets and --sections, or use --all-targets".into()));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let mut sink = JsonlSink::file(&out_dir.join("scores.jsonl"))?;
    for s in &scores {
        sink.write(s)?;
    }
    sink.finish()?;
    let out = profile(&scores, profile_req)?;
    let manifest = Manifest::load(&score_req.model_dir).ok();
    let report = Report::build(&scores, manifest.as_ref(), out.profile, out.contrasts);
    report.write(out_dir)?;
    Ok((report, summary))
}

#[derive(Debug, Clone)]
pub struct EvalRequest {
    pub fixtures: Vec<PathBuf>,
    pub format: Option<String>,
    pub model_dir: PathBuf,
    pub targets: Option<PathBuf>,
    pub threads: Option<usize>,
    pub batch_size: usize,
}

/// The model for `score` and `eval`, with `threads` (default: all cores) for ONNX Runtime and the
/// one rayon pool that does CPU-side work (tokenization).
fn load_model(dir: &std::path::Path, threads: Option<usize>, batch_size: usize) -> Result<OnnxClassifier> {
    let threads = threads.unwrap_or_else(|| ModelOptions::default().threads).max(1);
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    OnnxClassifier::load(dir, ModelOptions { threads, batch_size, ..ModelOptions::default() })
}

/// `slant eval`: metrics for each fixture file.
pub fn eval(req: &EvalRequest) -> Result<Vec<crate::eval::EvalReport>> {
    let targets = load_targets(req.targets.as_ref())?;
    let mut model = load_model(&req.model_dir, req.threads, req.batch_size)?;
    req.fixtures
        .iter()
        .map(|path| {
            let (format, fixtures) = crate::eval::load(path, req.format.as_deref())?;
            crate::eval::evaluate(path, format, &fixtures, &targets, &mut model)
        })
        .collect()
}

/// `slant calibrate`: fit a temperature on dev fixtures and store it in the model manifest.
pub fn calibrate(req: &EvalRequest) -> Result<crate::eval::CalibrationFit> {
    let targets = load_targets(req.targets.as_ref())?;
    let mut model = load_model(&req.model_dir, req.threads, req.batch_size)?;
    model.clear_calibration();
    let (mut gold, mut probs) = (Vec::new(), Vec::new());
    for path in &req.fixtures {
        let (_, fixtures) = crate::eval::load(path, req.format.as_deref())?;
        let s = crate::eval::score_fixtures(&fixtures, &targets, &mut model)?;
        gold.extend(s.gold);
        probs.extend(s.probs);
    }
    let fit = crate::eval::fit_temperature(&gold, &probs, req.fixtures.iter().map(|p| p.display().to_string()).collect());
    crate::eval::write_calibration(&req.model_dir, &fit)?;
    Ok(fit)
}
