//! What each `slant` subcommand does, as library calls: the binary only parses arguments.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};
use crate::ingest::{self, Columns, IngestOptions, Shard};
use crate::model::cache::{Cached, PredictionCache};
use crate::model::{ModelOptions, OnnxClassifier};
use crate::aggregate::{self, AggregateOptions, GroupBy};
use crate::model::Manifest;
use crate::report::Report;
use crate::score::{self, JsonlSink, OutputFormat, Record, RecordWriter, RunStats, ScoreOptions, StanceScore};
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
    pub resume_done: Vec<score::RecordKey>,
    /// Score only this shard of the documents.
    pub shard: Option<Shard>,
    /// JSONL field / Parquet column names of the input records.
    pub columns: Columns,
}

impl ScoreRequest {
    /// A request with the CLI's defaults: body and comments, mentioned targets, all cores, no cache.
    pub fn new(inputs: Vec<PathBuf>, model_dir: PathBuf) -> ScoreRequest {
        ScoreRequest {
            inputs,
            output: None,
            model_dir,
            targets: None,
            sections: vec![Section::Body, Section::Comments],
            all_targets: false,
            threads: None,
            batch_size: 32,
            strict: false,
            cache: None,
            resume: false,
            resume_done: Vec::new(),
            shard: None,
            columns: Columns::default(),
        }
    }

    /// `slant score -`: JSON lines on standard input.
    pub fn reads_stdin(&self) -> bool {
        self.inputs.len() == 1 && self.inputs[0].as_os_str() == "-"
    }
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
    if req.resume {
        let Some(p) = &req.output else {
            return Err(Error::Usage("--resume needs -o FILE.jsonl: it continues the file an interrupted run was writing".into()));
        };
        if OutputFormat::of(p)? != OutputFormat::Jsonl {
            return Err(Error::Usage(format!("--resume works with JSON lines output only, not {}\n  help: write -o FILE.jsonl to be able to resume, or re-run without --resume", p.display())));
        }
        if req.reads_stdin() {
            return Err(Error::Usage("--resume cannot continue a run that read standard input (the input is gone)\n  help: save the input to a file and score that".into()));
        }
        if p.is_file() && !score::partial_path(p).exists() {
            return Err(Error::Usage(format!("--resume: {} is already complete\n  help: nothing to resume; delete it to score again", p.display())));
        }
        let (mut sink, done) = JsonlSink::resume(p)?;
        if !done.is_empty() {
            eprintln!("slant: resuming after {} records already written", done.len());
        }
        let req = ScoreRequest { resume_done: done.iter().map(Record::key).collect(), ..req.clone() };
        let summary = score_with(&req, &mut |r| sink.write(&r))?;
        sink.finish()?;
        return Ok(summary);
    }
    let mut writer: Box<dyn RecordWriter> = score::open_writer(req.output.as_deref())?;
    let summary = score_with(req, &mut |r| writer.write(&r))?;
    writer.finish()?;
    Ok(summary)
}

/// The model for a request: the cache in front of it unless `--no-cache`.
enum LoadedModel {
    Plain(OnnxClassifier),
    Cached(Cached<OnnxClassifier>),
}

impl LoadedModel {
    fn load(req: &ScoreRequest) -> Result<LoadedModel> {
        let model = load_model(&req.model_dir, req.threads, req.batch_size)?;
        Ok(match &req.cache {
            Some(path) => LoadedModel::Cached(Cached::new(model, PredictionCache::open(path)?)),
            None => LoadedModel::Plain(model),
        })
    }
    fn get(&mut self) -> &mut dyn crate::model::Classifier {
        match self {
            LoadedModel::Plain(m) => m,
            LoadedModel::Cached(c) => c,
        }
    }
    fn cache_counts(&self) -> Option<(usize, usize)> {
        match self {
            LoadedModel::Cached(c) => Some((c.hits, c.misses)),
            LoadedModel::Plain(_) => None,
        }
    }
}

/// `slant score -`: read one JSONL record at a time from standard input, score it, hand its
/// records on, then read the next (memory holds one document; output follows input).
fn score_stream(req: &ScoreRequest, sink: &mut dyn FnMut(Record) -> Result<()>) -> Result<ScoreSummary> {
    let started = Instant::now();
    let targets = load_targets(req.targets.as_ref())?;
    let stdin = std::io::stdin();
    let mut stream = ingest::JsonlStream::new(stdin.lock(), "<stdin>", IngestOptions { strict: req.strict, columns: req.columns.clone() });
    let mut model: Option<LoadedModel> = None;
    let opts = ScoreOptions { all_targets: req.all_targets, sections: req.sections.clone(), ..ScoreOptions::default() };
    let mut stats = RunStats::default();
    while let Some(article) = stream.next_article()? {
        if req.shard.is_some_and(|s| !s.contains(&article.id)) {
            continue;
        }
        if model.is_none() {
            model = Some(LoadedModel::load(req)?);
        }
        let m = model.as_mut().expect("loaded");
        let s = score::score_articles(std::slice::from_ref(&article), &targets, m.get(), &opts, &mut |_, _| {}, sink)?;
        stats.documents += s.documents;
        stats.paragraphs += s.paragraphs;
        stats.pairs += s.pairs;
    }
    for w in &stream.warnings {
        eprintln!("warning: {w}");
    }
    if stats.documents == 0 && req.shard.is_none() {
        return Err(Error::Usage("no readable documents on standard input\n  help: send JSON lines like {\"id\": \"a1\", \"source\": \"Outlet\", \"text\": \"...\"}".into()));
    }
    Ok(ScoreSummary {
        stats,
        skipped: Vec::new(),
        warnings: stream.warnings,
        seconds: started.elapsed().as_secs_f64(),
        cache: model.as_ref().and_then(LoadedModel::cache_counts),
        timings: model.as_mut().and_then(|m| m.get().timings()),
    })
}

/// Score as `slant score` does, handing each record to `sink`.
pub fn score_with(req: &ScoreRequest, sink: &mut dyn FnMut(Record) -> Result<()>) -> Result<ScoreSummary> {
    if req.reads_stdin() {
        return score_stream(req, sink);
    }
    let started = Instant::now();
    let targets = load_targets(req.targets.as_ref())?;
    let mut ingested = ingest::read_inputs(&req.inputs, &IngestOptions { strict: req.strict, columns: req.columns.clone() })?;
    for w in &ingested.warnings {
        eprintln!("warning: {w}");
    }
    if ingested.articles.is_empty() {
        return Err(Error::Usage("no readable documents in the input".into()));
    }
    if let Some(shard) = req.shard {
        ingested.articles.retain(|a| shard.contains(&a.id));
    }
    let mut model = LoadedModel::load(req)?;
    let opts = ScoreOptions { all_targets: req.all_targets, sections: req.sections.clone(), done: req.resume_done.clone(), ..ScoreOptions::default() };

    // the length is set once the run is planned (segmentation and mentions are done only there)
    let bar = std::io::stderr().is_terminal().then(|| {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{spinner} scoring [{bar:30}] {pos}/{len} inputs  {per_sec}  ETA {eta}")
                .expect("static template")
                .progress_chars("=> "),
        )
    });
    let stats = score::score_articles(
        &ingested.articles,
        &targets,
        model.get(),
        &opts,
        &mut |n, total| {
            if let Some(b) = &bar {
                b.set_length(total as u64);
                b.inc(n as u64)
            }
        },
        sink,
    )?;
    let timings = model.get().timings();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(ScoreSummary { stats, skipped: ingested.skipped, warnings: ingested.warnings, seconds: started.elapsed().as_secs_f64(), cache: model.cache_counts(), timings })
}

/// How `profile` and `report` group scores; `auto` reads small inputs (≤ 12 documents) per
/// document and corpora per outlet.
pub fn resolve_grouping(by: &str, scores: &[StanceScore]) -> Result<GroupBy> {
    if by == "auto" {
        return Ok(if crate::aggregate::document_count(scores.iter().map(|s| &s.at)) <= 12 { GroupBy::Document } else { GroupBy::Source });
    }
    GroupBy::parse(by)
}

#[derive(Debug, Clone)]
pub struct ProfileRequest {
    pub by: String,
    pub contrast: Option<(String, String)>,
    pub resamples: usize,
    /// The voice of stance contrasts: `own` (default) or `all`.
    pub voice: aggregate::Voice,
}

impl Default for ProfileRequest {
    fn default() -> Self {
        ProfileRequest { by: "auto".into(), contrast: None, resamples: 2000, voice: aggregate::Voice::Own }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ProfileOutput {
    pub profile: aggregate::Profile,
    pub contrasts: Vec<aggregate::Contrast>,
    pub bias_contrasts: Vec<aggregate::BiasContrast>,
}

/// Profile records (any order: they are put in canonical order first) and contrast two groups;
/// the model's measured error comes from `manifest` when it is the model that scored them.
pub fn profile(records: &[Record], req: &ProfileRequest, manifest: Option<&Manifest>) -> Result<ProfileOutput> {
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by_key(|r| r.key());
    let scores: Vec<StanceScore> = sorted.iter().filter_map(|r| if let Record::Stance(s) = r { Some(s.clone()) } else { None }).collect();
    let paragraphs: Vec<score::ParagraphScore> = sorted.iter().filter_map(|r| if let Record::Paragraph(p) = r { Some(p.clone()) } else { None }).collect();
    let by = resolve_grouping(&req.by, &scores)?;
    let sha = records.first().map(|r| r.model().sha256.clone());
    let errors = aggregate::ModelErrors::from_manifest(manifest.filter(|m| Some(&m.sha256) == sha.as_ref()));
    let opts = AggregateOptions { by, resamples: req.resamples.max(1000), voice: req.voice, errors, ..AggregateOptions::default() };
    let profile = aggregate::profile(&scores, &paragraphs, &opts);
    let pair = match &req.contrast {
        Some((a, b)) => Some((aggregate::resolve_group(&profile.groups, a)?, aggregate::resolve_group(&profile.groups, b)?)),
        None => aggregate::default_contrast(&profile.groups),
    };
    let contrasts = pair.as_ref().map(|(a, b)| aggregate::contrast(&scores, &profile.groups, a, b, &opts)).unwrap_or_default();
    let bias_contrasts = pair.as_ref().map(|(a, b)| aggregate::bias_contrast(&paragraphs, &profile.groups, a, b, &opts)).unwrap_or_default();
    Ok(ProfileOutput { profile, contrasts, bias_contrasts })
}

/// The manifest of the model that wrote `records`: the request's model folder, else a shipped
/// tier, whichever has the records' sha256.
pub fn manifest_for(records: &[Record], model_dir: &std::path::Path) -> Option<Manifest> {
    let sha = records.first()?.model().sha256.clone();
    std::iter::once(model_dir.to_path_buf())
        .chain(crate::model::TIERS.iter().map(|(name, _)| crate::model::resolve_model_dir(name)))
        .filter_map(|d| Manifest::load(&d).ok())
        .find(|m| m.sha256 == sha)
}

/// `slant report`: score (unless given scores files), profile, contrast, write the report
/// directory: into `DIR.partial`, renamed to `DIR` once every file is written.
pub fn report(score_req: &ScoreRequest, profile_req: &ProfileRequest, out_dir: &std::path::Path) -> Result<(Report, Option<ScoreSummary>)> {
    let scores_given = !score_req.reads_stdin() && score_req.inputs.iter().all(|p| score::merge::is_scores_file(p) || p.to_string_lossy().contains(['*', '?']) || (p.is_dir() && score::merge::expand_inputs(std::slice::from_ref(p)).is_ok()));
    let (records, summary) = if scores_given {
        (score::merge::read_merged(&score_req.inputs)?, None)
    } else {
        let mut records = Vec::new();
        let req = ScoreRequest { output: None, ..score_req.clone() };
        let summary = score_with(&req, &mut |r| {
            records.push(r);
            Ok(())
        })?;
        (records, Some(summary))
    };
    let manifest = manifest_for(&records, &score_req.model_dir);
    let mut sorted = records;
    sorted.sort_by_key(Record::key);
    if !sorted.iter().any(|r| matches!(r, Record::Stance(_))) {
        return Err(Error::Usage("no paragraph mentions a target, so there is nothing to report\n  help: check --targets and --sections, or use --all-targets".into()));
    }
    let out = profile(&sorted, profile_req, manifest.as_ref())?;
    let report = Report::build(&sorted, manifest.as_ref(), out);
    write_report_dir(out_dir, &sorted, &report)?;
    Ok((report, summary))
}

/// The report directory, atomically: built in `DIR.partial/`, then swapped in for `DIR`.
fn write_report_dir(out_dir: &std::path::Path, records: &[Record], report: &Report) -> Result<()> {
    let partial = score::partial_path(out_dir);
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    let mut sink = JsonlSink::file(&partial.join("scores.jsonl"))?;
    for r in records {
        sink.write(r)?;
    }
    sink.finish()?;
    report.write(&partial)?;
    if out_dir.exists() {
        // the old report goes only once the new one is complete
        std::fs::remove_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    }
    std::fs::rename(&partial, out_dir).map_err(|e| Error::io(out_dir, e))
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

/// One fixture file's evaluation: stance (with editorial where the model has it) or bias.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum Evaluation {
    Stance(Box<crate::eval::EvalReport>),
    Bias(Box<crate::eval::bias::BiasReport>),
}

impl Evaluation {
    pub fn to_table(&self) -> String {
        match self {
            Evaluation::Stance(r) => r.to_table(),
            Evaluation::Bias(r) => r.to_table(),
        }
    }
}

/// The bias fixture format of `path`, if it is one: `--format slant-bias` / `news-bias`, or
/// detected from a first record with `register` or `loaded` (news-bias when it has `article_id`).
fn bias_format(path: &std::path::Path, format: Option<&str>) -> Option<&'static str> {
    match format.map(str::to_ascii_lowercase).as_deref() {
        Some("slant-bias") => return Some("slant-bias"),
        Some("news-bias") => return Some("news-bias"),
        Some(_) => return None,
        None => {}
    }
    if path.is_dir() {
        return None;
    }
    let first = std::fs::read_to_string(path).ok()?.lines().find(|l| !l.trim().is_empty()).map(str::to_string)?;
    let v: serde_json::Value = serde_json::from_str(&first).ok()?;
    (v.get("register").is_some() || v.get("loaded").is_some()).then(|| if v.get("article_id").is_some() { "news-bias" } else { "slant-bias" })
}

/// `slant eval`: metrics for each fixture file.
pub fn eval(req: &EvalRequest) -> Result<Vec<Evaluation>> {
    let targets = load_targets(req.targets.as_ref())?;
    let mut model = load_model(&req.model_dir, req.threads, req.batch_size)?;
    req.fixtures
        .iter()
        .map(|path| {
            if !path.exists() {
                return Err(Error::NotFound { path: path.clone() });
            }
            if let Some(f) = bias_format(path, req.format.as_deref()) {
                let fixtures = crate::eval::bias::read(path, f == "news-bias")?;
                return Ok(Evaluation::Bias(Box::new(crate::eval::bias::evaluate(path, f, &fixtures, &mut model)?)));
            }
            let (format, fixtures) = crate::eval::load(path, req.format.as_deref())?;
            Ok(Evaluation::Stance(Box::new(crate::eval::evaluate(path, format, &fixtures, &targets, &mut model)?)))
        })
        .collect()
}

/// What `slant calibrate` fitted and measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CalibrateOutcome {
    /// Temperature per output, fitted on dev half A (or all fixtures without an article).
    pub fits: std::collections::BTreeMap<String, crate::eval::CalibrationFit>,
    /// Group-mean error per output on dev half B with the fitted temperatures, when the fixtures
    /// carry leanings and articles (news-stance files).
    pub profile_error: std::collections::BTreeMap<String, crate::eval::profile_error::ProfileError>,
}

/// `slant calibrate`: fit temperatures (stance, and editorial where the model and data have it)
/// on dev half A, then measure on dev half B — which neither this fit nor the training's prior
/// offsets saw — how far per-leaning group means land from gold; write both into the manifest.
pub fn calibrate(req: &EvalRequest) -> Result<CalibrateOutcome> {
    use crate::eval::adapters::dev_half_a;
    let targets = load_targets(req.targets.as_ref())?;
    let mut model = load_model(&req.model_dir, req.threads, req.batch_size)?;
    model.clear_calibration();
    let (mut tune, mut measure) = (Vec::new(), Vec::new());
    let mut bias_measure = Vec::new();
    for path in &req.fixtures {
        if !path.exists() {
            return Err(Error::NotFound { path: path.clone() });
        }
        if let Some(f) = bias_format(path, req.format.as_deref()) {
            // bias labels: only the group-share error is measured (on half B)
            bias_measure.extend(crate::eval::bias::read(path, f == "news-bias")?.into_iter().filter(|b| b.article.as_deref().is_some_and(|a| !dev_half_a(a))));
            continue;
        }
        let (_, fixtures) = crate::eval::load(path, req.format.as_deref())?;
        for f in fixtures {
            match f.article.as_deref() {
                Some(a) if !dev_half_a(a) => measure.push(f),
                _ => tune.push(f),
            }
        }
    }
    let fitted_on: Vec<String> = req.fixtures.iter().map(|p| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())).collect();
    if tune.is_empty() {
        return Err(Error::Usage("calibrate needs stance fixtures to fit temperatures on\n  help: pass the news-stance files (train.jsonl, train-2.jsonl, train-3.jsonl: their dev split is used), optionally with news-bias/train.jsonl".into()));
    }
    let s = crate::eval::score_fixtures(&tune, &targets, &mut model)?;
    let mut fits = std::collections::BTreeMap::new();
    fits.insert("stance".to_string(), crate::eval::fit_temperature(&s.gold, &s.probs, fitted_on.clone()));
    if let Some(ep) = &s.editorial_probs {
        let idx: Vec<usize> = (0..s.fixtures.len()).filter(|&i| s.fixtures[i].editorial.and_then(crate::eval::Gold::class).is_some()).collect();
        if !idx.is_empty() {
            let gold: Vec<usize> = idx.iter().map(|&i| s.fixtures[i].editorial.and_then(crate::eval::Gold::class).expect("filtered")).collect();
            let probs: Vec<[f64; 3]> = idx.iter().map(|&i| ep[i]).collect();
            fits.insert("editorial".to_string(), crate::eval::fit_temperature(&gold, &probs, fitted_on.clone()));
        }
    }
    let calibration = crate::model::manifest::Calibration {
        temperature: fits["stance"].temperature,
        outputs: fits.iter().filter(|(k, _)| k.as_str() != "stance").map(|(k, f)| (k.clone(), f.temperature)).collect(),
        extra: [("fits".to_string(), serde_json::to_value(&fits).unwrap_or_default()), ("split".to_string(), "dev half A: sha1(article_id) % 1000 < 100".into())].into_iter().collect(),
    };
    model.set_calibration(Some(calibration.clone()));
    let mut profile_error = std::collections::BTreeMap::new();
    let measure: Vec<crate::eval::Fixture> = measure.into_iter().filter(|f| f.leaning.is_some()).collect();
    if !measure.is_empty() {
        let m = crate::eval::score_fixtures(&measure, &targets, &mut model)?;
        let items = |gold: &dyn Fn(usize) -> Option<usize>, probs: &[[f64; 3]]| -> Vec<(String, String, usize, [f64; 3])> {
            (0..m.fixtures.len()).filter_map(|i| gold(i).map(|g| (m.fixtures[i].leaning.clone().unwrap_or_default(), m.targets[i].clone(), g, probs[i]))).collect()
        };
        let mut per_output = vec![("stance", items(&|i| Some(m.gold[i]), &m.probs))];
        if let Some(ep) = &m.editorial_probs {
            per_output.push(("editorial", items(&|i| m.fixtures[i].editorial.and_then(crate::eval::Gold::class), ep)));
        }
        for (name, rows) in per_output {
            let labelled: Vec<crate::eval::profile_error::Labelled> = rows.iter().map(|(g, t, gold, p)| crate::eval::profile_error::Labelled { group: g, target: t, gold: *gold, probs: *p }).collect();
            profile_error.insert(name.to_string(), crate::eval::profile_error::measure(&labelled));
        }
    }
    if !bias_measure.is_empty() {
        profile_error.extend(crate::eval::bias::share_error(&bias_measure, &mut model)?);
    }
    crate::eval::write_calibration(&req.model_dir, &calibration, &profile_error, &fitted_on)?;
    Ok(CalibrateOutcome { fits, profile_error })
}
