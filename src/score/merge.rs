//! Reading scores back: many files, directories or globs, JSONL and Parquet mixed, merged into
//! one canonical order (document id, paragraph, the paragraph record, then targets by name), so
//! the profile of N shards is the profile of one run. Duplicate records and records of different
//! models are refused: either means the inputs are not one run split in parts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ModelRef, Record, RecordKey, columnar};
use crate::error::{Error, Result};

/// Score files named by `inputs`: files as given, directories searched (sorted) for `.jsonl` and
/// `.parquet` score files, and glob patterns (`shards/*.parquet`) expanded.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        let s = input.to_string_lossy();
        if !input.exists() && s.contains(['*', '?', '[']) {
            let paths = glob::glob(&s).map_err(|e| Error::Usage(format!("{s}: bad glob pattern: {e}\n  help: quote the pattern and use * and ? as in a shell")))?;
            let mut found: Vec<PathBuf> = paths.filter_map(|p| p.ok()).filter(|p| p.is_file()).collect();
            if found.is_empty() {
                return Err(Error::Input { path: input.clone(), message: "the pattern matches no file".into(), help: "check the pattern; slant expands it itself when the shell did not".into() });
            }
            found.sort();
            out.extend(found);
        } else if input.is_dir() {
            let mut found = Vec::new();
            collect(input, &mut found)?;
            if found.is_empty() {
                return Err(Error::Input { path: input.clone(), message: "directory holds no .jsonl or .parquet scores files".into(), help: "point at the files `slant score` wrote".into() });
            }
            out.extend(found);
        } else if input.is_file() {
            out.push(input.clone());
        } else {
            return Err(Error::NotFound { path: input.clone() });
        }
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out)?;
        } else if is_scores_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// True for a Parquet file with a `kind` column, or a JSONL file whose first record is a slant
/// record (stance: `probs` and `target`; paragraph: `kind`).
pub fn is_scores_file(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("parquet") => std::fs::File::open(path)
            .ok()
            .and_then(|f| parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).ok())
            .is_some_and(|b| b.schema().field_with_name("kind").is_ok() && b.schema().field_with_name("doc_id").is_ok()),
        Some("jsonl") => {
            let Ok(f) = std::fs::File::open(path) else { return false };
            use std::io::BufRead;
            let first = std::io::BufReader::new(f).lines().map_while(|l| l.ok()).find(|l| !l.trim().is_empty());
            first.and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok()).is_some_and(|v| (v.get("probs").is_some() && v.get("target").is_some()) || v.get("kind").is_some_and(|k| k == "paragraph" || k == "stance"))
        }
        _ => false,
    }
}

/// Records of one scores file.
pub fn read_file(path: &Path) -> Result<Vec<Record>> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        return columnar::read_parquet_records(path);
    }
    let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            Record::from_json(l).map_err(|e| Error::InputLine {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("not a slant score record: {e}"),
                help: "profile and report read the JSON lines or Parquet files written by `slant score`".into(),
            })
        })
        .collect()
}

/// Every record of every input, in canonical order; duplicates and mixed models are errors.
pub fn read_merged(inputs: &[PathBuf]) -> Result<Vec<Record>> {
    let files = expand_inputs(inputs)?;
    let mut all: Vec<(RecordKey, Record, usize)> = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        for r in read_file(f)? {
            all.push((r.key(), r, fi));
        }
    }
    check_one_model(all.iter().map(|(_, r, fi)| (r.model(), &files[*fi])))?;
    all.sort_by(|a, b| a.0.cmp(&b.0));
    for w in all.windows(2) {
        if w[0].0 == w[1].0 {
            let k = &w[0].0;
            return Err(Error::Usage(format!(
                "duplicate record: document {:?} paragraph {} {} is in {} and {}\n  help: each document belongs to one shard; merge the outputs of one run split with --shard, not overlapping runs",
                k.doc_id,
                k.paragraph,
                k.target.as_deref().map_or("(paragraph record)".to_string(), |t| format!("target {t}")),
                files[w[0].2].display(),
                files[w[1].2].display()
            )));
        }
    }
    Ok(all.into_iter().map(|(_, r, _)| r).collect())
}

fn check_one_model<'a>(models: impl Iterator<Item = (&'a ModelRef, &'a PathBuf)>) -> Result<()> {
    let mut seen: HashMap<&str, (&ModelRef, &PathBuf)> = HashMap::new();
    for (m, f) in models {
        seen.entry(m.sha256.as_str()).or_insert((m, f));
        if seen.len() > 1 {
            let mut v: Vec<_> = seen.values().collect();
            v.sort_by_key(|(m, _)| m.sha256.clone());
            return Err(Error::Usage(format!(
                "the inputs hold records of different models: {} ({}…) in {} and {} ({}…) in {}\n  help: profile one model's scores at a time; re-score the other inputs with the same --model",
                v[0].0.name,
                &v[0].0.sha256[..12.min(v[0].0.sha256.len())],
                v[0].1.display(),
                v[1].0.name,
                &v[1].0.sha256[..12.min(v[1].0.sha256.len())],
                v[1].1.display()
            )));
        }
    }
    Ok(())
}
