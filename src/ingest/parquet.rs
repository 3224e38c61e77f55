//! Parquet inputs: one article per row, columns `id`, `text` and optionally `source`, `title`,
//! `date`, `url`, `source_leaning` (other names through [`super::Columns`]). Rows are read with
//! the Apache Arrow crates and go through the same record reader as JSONL.

use std::path::Path;

use serde_json::{Map, Value};

use super::jsonl::{RecordError, article};
use super::{Article, IngestOptions, SourceMap};
use crate::error::{Error, Result};

/// Every row of a Parquet file as a JSON object (any column types arrow-json can write).
pub fn read_rows(path: &Path) -> Result<Vec<Map<String, Value>>> {
    let bad = |message: String| Error::Input { path: path.to_path_buf(), message, help: "the file must be a Parquet file (written by slant, Spark, DuckDB, pandas, Polars…)".into() };
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(format!("cannot read a row group: {e}")))?;
        let mut buf = Vec::new();
        {
            let mut w = arrow_json::LineDelimitedWriter::new(&mut buf);
            w.write(&batch).map_err(|e| bad(e.to_string()))?;
            w.finish().map_err(|e| bad(e.to_string()))?;
        }
        for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Value::Object(m) = serde_json::from_slice(line).map_err(|e| bad(e.to_string()))? {
                rows.push(m);
            }
        }
    }
    Ok(rows)
}

/// Column names of a Parquet file (without reading its rows).
fn column_names(path: &Path) -> Result<Vec<String>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        message: format!("not a readable Parquet file: {e}"),
        help: "the file must be a Parquet file (written by slant, Spark, DuckDB, pandas, Polars…)".into(),
    })?;
    Ok(b.schema().fields().iter().map(|f| f.name().clone()).collect())
}

pub(super) fn read(path: &Path, sources: &SourceMap, opts: &IngestOptions, warnings: &mut Vec<String>) -> Result<Vec<Article>> {
    let columns = column_names(path)?;
    if !columns.iter().any(|c| c == &opts.columns.text) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: format!("no text column {:?} (columns: {})", opts.columns.text, columns.join(", ")),
            help: "name the column that holds the article text with --text-column".into(),
        });
    }
    let mut out = Vec::new();
    for (i, row) in read_rows(path)?.into_iter().enumerate() {
        match article(path, i + 1, row, &opts.columns, sources) {
            Ok(a) => out.push(a),
            Err(e) => {
                let message = match e {
                    RecordError::NoText => "empty text".to_string(),
                    RecordError::Malformed(m) => m,
                };
                if opts.strict {
                    return Err(Error::Input { path: path.to_path_buf(), message: format!("row {}: {message}", i + 1), help: "fix the row, or drop --strict to skip it".into() });
                }
                warnings.push(format!("{}: row {}: {message}, skipped", path.display(), i + 1));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Input { path: path.to_path_buf(), message: "no readable rows".into(), help: "each row needs a non-empty text column".into() });
    }
    Ok(out)
}
