//! `slant`: argument parsing only; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use slant::commands::{self, ScoreRequest};

#[derive(Parser)]
#[command(name = "slant", version, about = "Stance toward NATO, the US and Europe in news and opinion writing, paragraph by paragraph")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score every paragraph that mentions a target; one JSON line per (paragraph, target).
    Score {
        /// Files (.txt, .md, .html, .jsonl) or directories of them.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Write JSON lines here instead of stdout (atomically: the file appears when complete).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Model folder (manifest.json, model.onnx, tokenizer.json).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Targets TOML (default: built-in NATO, US, Europe; see `slant targets`).
        #[arg(long)]
        targets: Option<PathBuf>,
        /// Sections to score, comma-separated: body, comments, boilerplate.
        #[arg(long, default_value = "body,comments")]
        sections: String,
        /// Score every target for every paragraph, mentioned or not.
        #[arg(long)]
        all_targets: bool,
        /// Threads for tokenization and ONNX Runtime (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Model windows per inference batch.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Refuse invalid UTF-8 and malformed JSONL lines instead of warning and going on.
        #[arg(long)]
        strict: bool,
    },
    /// Print the built-in targets file, to copy and extend with --targets.
    Targets,
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

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Score { inputs, output, model, targets, sections, all_targets, threads, batch_size, strict } => {
            let req = ScoreRequest {
                inputs,
                output,
                model_dir: model.unwrap_or_else(slant::model::default_model_dir),
                targets,
                sections: commands::parse_sections(&sections)?,
                all_targets,
                threads,
                batch_size,
                strict,
            };
            let s = commands::score(&req)?;
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
        }
        Command::Targets => print!("{}", slant::targets::DEFAULT_TOML),
    }
    Ok(())
}
