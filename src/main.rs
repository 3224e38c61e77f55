//! `slant`: argument parsing only; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use slant::commands::{self, ProfileRequest, ScoreRequest, ScoreSummary};

#[derive(Parser)]
#[command(name = "slant", version, about = "Stance toward NATO, the US and Europe in news and opinion writing, paragraph by paragraph")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct ScoreArgs {
    /// Files (.txt, .md, .html, .jsonl, .parquet) or directories of them; `-` reads JSON lines
    /// from standard input and writes each document's records as it completes.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Model: `accurate` (stance-mpnet-base, the default), `fast` (stance-minilm-l6), or a model
    /// folder (manifest.json, model.onnx, tokenizer.json).
    #[arg(long, default_value = "accurate")]
    model: String,
    /// Score only shard I of N (documents by a stable hash of their id; see README), or `auto`
    /// (`auto/N`) inside a Slurm array or a Kubernetes Indexed Job.
    #[arg(long, value_name = "I/N|auto")]
    shard: Option<String>,
    /// JSONL field / Parquet column with the article text.
    #[arg(long, default_value = "text")]
    text_column: String,
    /// Field / column with the document id.
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Field / column with the outlet name.
    #[arg(long, default_value = "source")]
    source_column: String,
    /// Field / column with the title.
    #[arg(long, default_value = "title")]
    title_column: String,
    /// Field / column with the date.
    #[arg(long, default_value = "date")]
    date_column: String,
    /// Field / column with the URL.
    #[arg(long, default_value = "url")]
    url_column: String,
    /// Field / column with the outlet's leaning.
    #[arg(long, default_value = "source_leaning")]
    leaning_column: String,
    /// Targets TOML (default: built-in NATO, US, Europe; see `slant targets`).
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Sections to score, comma-separated: body, comments, boilerplate.
    #[arg(long, default_value = "body,comments")]
    sections: String,
    /// Score every target for every paragraph, mentioned or not.
    #[arg(long)]
    all_targets: bool,
    /// Threads for tokenization and ONNX Runtime [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Model windows per inference batch. Dynamically quantized (int8) models, like the shipped
    /// one, always run one window at a time so a text's score never depends on its neighbours.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Refuse invalid UTF-8 and malformed JSONL lines instead of warning and going on.
    #[arg(long)]
    strict: bool,
    /// Do not read or write the prediction cache.
    #[arg(long)]
    no_cache: bool,
    /// Prediction cache file [default: $SLANT_CACHE_DIR, $XDG_CACHE_HOME/slant or ~/.cache/slant, /predictions.sqlite].
    #[arg(long)]
    cache: Option<PathBuf>,
}

#[derive(Args)]
struct GroupArgs {
    /// Group by source (outlet), document, or leaning; auto = document for ≤ 12 documents, else source.
    #[arg(long, default_value = "auto")]
    by: String,
    /// Contrast two groups (names or unique prefixes) [default: the first two groups].
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    contrast: Option<Vec<String>>,
    /// Bootstrap resamples for confidence intervals (at least 1000).
    #[arg(long, default_value_t = 2000)]
    resamples: usize,
    /// Whose stance contrasts compare: own (the author's own voice, the model's editorial
    /// output) or all (any voice, quoted speakers included). Profiles carry both.
    #[arg(long, default_value = "own")]
    voice: String,
}

#[derive(Subcommand)]
enum Command {
    /// Score every paragraph that mentions a target (one record per (paragraph, target)), and
    /// each paragraph's register and loaded language where the model has those outputs.
    Score {
        #[command(flatten)]
        args: ScoreArgs,
        /// Write records here instead of stdout: FILE.jsonl, FILE.parquet or FILE.csv
        /// (atomically: the file appears when complete).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Continue an interrupted run with -o FILE.jsonl: keep what it wrote and score the rest.
        #[arg(long, requires = "output")]
        resume: bool,
    },
    /// Profile scores per group and target, with bootstrap CIs and a contrast between two groups.
    Profile {
        /// Scores files written by `slant score` (JSONL or Parquet), directories or globs of them:
        /// merged in canonical order (shards of one run give the single run's profile).
        #[arg(required = true)]
        scores: Vec<PathBuf>,
        #[command(flatten)]
        group: GroupArgs,
        /// Write the profile JSON here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Score, profile and contrast; write report.json, report.md, report.html and scores.jsonl.
    Report {
        #[command(flatten)]
        args: ScoreArgs,
        #[command(flatten)]
        group: GroupArgs,
        /// Output directory.
        #[arg(short, long, default_value = "out")]
        output: PathBuf,
    },
    /// Evaluate the model on labelled fixtures or public stance sets in their native format.
    Eval {
        #[command(flatten)]
        data: FixtureArgs,
        /// Print one JSON object per fixture file instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Fit a temperature on dev fixtures and write it into the model's manifest.json.
    Calibrate {
        #[command(flatten)]
        data: FixtureArgs,
    },
    /// Print the built-in targets file, to copy and extend with --targets.
    Targets,
}

/// Labelled data for `eval` and `calibrate`.
#[derive(Args)]
struct FixtureArgs {
    /// Fixture files (slant JSONL) or public data sets (NewsMTSC jsonl, tweeteval stance folder, VAST
    /// csv, RUW csv); for calibrate, dev fixtures (never the set you report).
    #[arg(required = true)]
    fixtures: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// slant, news-stance, newsmtsc, semeval, vast, ruw (stance) or slant-bias, news-bias
    /// (register / loaded language) [default: detected from the file].
    #[arg(long)]
    format: Option<String>,
}

#[derive(Args)]
struct ModelArgs {
    /// Model: accurate, fast, or a model folder.
    #[arg(long, default_value = "accurate")]
    model: String,
    /// Targets TOML (default: built-in NATO, US, Europe).
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Threads [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
}

fn eval_request(d: FixtureArgs) -> commands::EvalRequest {
    let m = d.model;
    commands::EvalRequest { fixtures: d.fixtures, format: d.format, model_dir: slant::model::resolve_model_dir(&m.model), targets: m.targets, threads: m.threads, batch_size: m.batch_size }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn score_request(a: ScoreArgs, output: Option<PathBuf>, resume: bool) -> anyhow::Result<ScoreRequest> {
    Ok(ScoreRequest {
        inputs: a.inputs,
        output,
        model_dir: slant::model::resolve_model_dir(&a.model),
        targets: a.targets,
        sections: commands::parse_sections(&a.sections)?,
        all_targets: a.all_targets,
        threads: a.threads,
        batch_size: a.batch_size,
        strict: a.strict,
        cache: (!a.no_cache).then(|| a.cache.unwrap_or_else(slant::model::cache::default_path)),
        resume,
        resume_done: Vec::new(),
        shard: a.shard.map(|s| slant::ingest::Shard::parse(&s, &|k| std::env::var(k).ok())).transpose()?,
        columns: slant::ingest::Columns { id: a.id_column, text: a.text_column, source: a.source_column, title: a.title_column, date: a.date_column, url: a.url_column, leaning: a.leaning_column },
    })
}

fn profile_request(g: GroupArgs) -> anyhow::Result<ProfileRequest> {
    Ok(ProfileRequest { by: g.by, contrast: g.contrast.map(|v| (v[0].clone(), v[1].clone())), resamples: g.resamples, voice: slant::aggregate::Voice::parse(&g.voice)? })
}

fn print_summary(s: &ScoreSummary) {
    for sk in &s.skipped {
        eprintln!("skipped: {}: {}", sk.what, sk.reason.lines().next().unwrap_or(""));
    }
    eprintln!(
        "slant: {} documents, {} paragraphs, {} pairs scored in {:.1}s ({:.1} pairs/s); {} files skipped, {} warnings",
        s.stats.documents,
        s.stats.paragraphs,
        s.stats.pairs,
        s.seconds,
        s.stats.pairs as f64 / s.seconds.max(1e-9),
        s.skipped.len(),
        s.warnings.len()
    );
    if let Some(t) = s.timings {
        eprintln!("slant: time in tokenization {:.2}s, in the model {:.2}s", t.tokenize_seconds, t.model_seconds);
    }
    if let Some((hits, misses)) = s.cache {
        eprintln!("slant: prediction cache: {hits} hits, {misses} computed");
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Score { args, output, resume } => print_summary(&commands::score(&score_request(args, output, resume)?)?),
        Command::Profile { scores, group, output } => {
            let records = slant::score::merge::read_merged(&scores)?;
            let manifest = commands::manifest_for(&records, &slant::model::default_model_dir());
            let out = commands::profile(&records, &profile_request(group)?, manifest.as_ref())?;
            let json = serde_json::to_string_pretty(&out)?;
            match output {
                Some(p) => slant::score::write_atomically(&p, json.as_bytes())?,
                None => println!("{json}"),
            }
        }
        Command::Report { args, group, output } => {
            let (report, summary) = commands::report(&score_request(args, None, false)?, &profile_request(group)?, &output)?;
            if let Some(s) = summary {
                print_summary(&s);
            }
            eprintln!("slant: wrote {}/report.json, report.md, report.html, scores.jsonl", output.display());
            for line in &report.findings {
                eprintln!("  {line}");
            }
            for c in &report.contrasts {
                eprintln!(
                    "  {} ({} voice): {} {:+.2} vs {} {:+.2} (diff {:+.2}, 95% CI [{:+.2}, {:+.2}], p {:.4}{})",
                    c.target,
                    c.voice.as_str(),
                    c.a_name,
                    c.mean_a,
                    c.b_name,
                    c.mean_b,
                    c.diff,
                    c.ci_low,
                    c.ci_high,
                    c.p_value,
                    c.model_error.map_or(String::new(), |e| format!(", model error ±{e:.2}{}", if c.within_model_error { ": within model error" } else { "" }))
                );
            }
        }
        Command::Eval { data, json } => {
            for r in commands::eval(&eval_request(data))? {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!("{}", r.to_table());
                }
            }
        }
        Command::Calibrate { data } => {
            let out = commands::calibrate(&eval_request(data))?;
            for (name, fit) in &out.fits {
                println!(
                    "{name}: temperature {:.2} fitted on {} pairs (dev half A): NLL {:.4} -> {:.4}, ECE {:.4} -> {:.4}",
                    fit.temperature, fit.n, fit.nll_before, fit.nll_after, fit.ece_before, fit.ece_after
                );
            }
            for (name, e) in &out.profile_error {
                println!(
                    "{name}: group means (leaning x target, dev half B, {} pairs in {} groups) off by {:.3} on average (max {:.3}; contrasts {:.3}; {} sign errors)",
                    e.pairs, e.groups, e.mean_abs_error, e.max_abs_error, e.contrast_mean_abs_error, e.sign_errors
                );
            }
            println!("written to manifest.json (calibration, profile_error)");
        }
        Command::Targets => print!("{}", slant::targets::DEFAULT_TOML),
    }
    Ok(())
}
