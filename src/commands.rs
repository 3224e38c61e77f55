//! What each `slant` subcommand does, as library calls: the binary only parses arguments.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};
use crate::ingest::{self, IngestOptions};
use crate::model::{ModelOptions, OnnxClassifier};
use crate::score::{self, JsonlSink, RunStats, ScoreOptions};
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
}

#[derive(Debug)]
pub struct ScoreSummary {
    pub stats: RunStats,
    pub skipped: Vec<ingest::Skipped>,
    pub warnings: Vec<String>,
    pub seconds: f64,
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
    let started = Instant::now();
    let threads = req.threads.unwrap_or_else(|| ModelOptions::default().threads).max(1);
    // One rayon pool for CPU-side work (tokenization), sized like ONNX Runtime's intra-op pool.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();

    let targets = load_targets(req.targets.as_ref())?;
    let ingested = ingest::read_inputs(&req.inputs, &IngestOptions { strict: req.strict })?;
    for w in &ingested.warnings {
        eprintln!("warning: {w}");
    }
    if ingested.articles.is_empty() {
        return Err(Error::Usage("no readable documents in the input".into()));
    }
    let mut model = OnnxClassifier::load(&req.model_dir, ModelOptions { threads, batch_size: req.batch_size, ..ModelOptions::default() })?;
    let opts = ScoreOptions { all_targets: req.all_targets, sections: req.sections.clone(), ..ScoreOptions::default() };

    let bar = if std::io::stderr().is_terminal() {
        let n = score::count_pairs(&ingested.articles, &targets, &opts) as u64;
        let bar = ProgressBar::new(n);
        bar.set_style(
            ProgressStyle::with_template("{spinner} scoring [{bar:30}] {pos}/{len} pairs  {per_sec}  ETA {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        Some(bar)
    } else {
        None
    };
    let mut sink = match &req.output {
        Some(p) => JsonlSink::file(p)?,
        None => JsonlSink::stdout(),
    };
    let stats = score::score_articles(
        &ingested.articles,
        &targets,
        &mut model,
        &opts,
        &mut |n| {
            if let Some(b) = &bar {
                b.inc(n as u64)
            }
        },
        &mut |s| sink.write(&s),
    )?;
    sink.finish()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(ScoreSummary { stats, skipped: ingested.skipped, warnings: ingested.warnings, seconds: started.elapsed().as_secs_f64() })
}
