//! JSONL records `{id, source, title?, date?, url?, source_leaning?, text}`, one article per line
//! (the format of `allsides-geo.jsonl`), and the same records as Parquet rows. Other field names
//! are mapped by [`Columns`].

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Article, Columns, IngestOptions, SourceMap, file_stem};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Record {
    id: Option<Value>,
    source: Option<String>,
    title: Option<String>,
    date: Option<Value>,
    url: Option<String>,
    #[serde(alias = "leaning")]
    source_leaning: Option<String>,
    text: Option<String>,
}

/// Why a record was not read: the caller decides whether that stops the run (`--strict`).
pub(super) enum RecordError {
    Malformed(String),
    NoText,
}

/// One record (a JSON object) into an article; `position` names it in messages and makes the id
/// of records without one.
pub(super) fn article(path: &Path, position: usize, mut obj: Map<String, Value>, columns: &Columns, sources: &SourceMap) -> std::result::Result<Article, RecordError> {
    // user column names -> the standard ones
    for (standard, user) in columns.renames() {
        if let Some(v) = obj.remove(user) {
            obj.insert(standard.to_string(), v);
        }
    }
    let rec: Record = serde_json::from_value(Value::Object(obj)).map_err(|e| RecordError::Malformed(e.to_string()))?;
    let Some(text) = rec.text.filter(|t| !t.trim().is_empty()) else { return Err(RecordError::NoText) };
    let id = match rec.id {
        Some(Value::String(s)) => s,
        Some(v) if !v.is_null() => v.to_string(),
        _ => format!("{}:{position}", file_stem(path)),
    };
    Ok(Article {
        id,
        source: rec.source.filter(|s| !s.trim().is_empty()).or_else(|| sources.lookup(path)).unwrap_or_else(|| file_stem(path)),
        title: rec.title,
        date: rec.date.and_then(|d| match d {
            Value::String(s) => Some(s),
            Value::Null => None,
            v => Some(v.to_string()),
        }),
        url: rec.url,
        leaning: rec.source_leaning,
        text,
        hints: Vec::new(),
        origin: path.to_path_buf(),
    })
}

/// One JSONL line; Ok(None) for a blank line or a skipped record (with a warning).
pub(super) fn line(path: &Path, lineno: usize, line: &str, sources: &SourceMap, opts: &IngestOptions, warnings: &mut Vec<String>) -> Result<Option<Article>> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let problem = |message: String, help: &str| Error::InputLine { path: path.to_path_buf(), line: lineno, message, help: help.to_string() };
    let parsed = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the line is JSON but not an object".to_string()),
        Err(e) => Err(format!("malformed JSON at column {}: {e}", e.column())),
    };
    let obj = match parsed {
        Ok(m) => m,
        Err(message) => {
            let err = problem(message, "each line must be one JSON object like {\"id\": \"a1\", \"source\": \"Outlet\", \"text\": \"...\"}");
            if opts.strict {
                return Err(err);
            }
            warnings.push(format!("{}: line {lineno}: malformed JSON, line skipped (use --strict to stop instead)", path.display()));
            return Ok(None);
        }
    };
    match article(path, lineno, obj, &opts.columns, sources) {
        Ok(a) => Ok(Some(a)),
        Err(RecordError::NoText) => {
            let err = problem(format!("record has no {:?} field (or it is empty)", opts.columns.text), "add the article's text, or name its field with --text-column");
            if opts.strict {
                return Err(err);
            }
            warnings.push(format!("{}: line {lineno}: record without text, skipped", path.display()));
            Ok(None)
        }
        Err(RecordError::Malformed(m)) => {
            let err = problem(format!("record has a field of the wrong type: {m}"), "id, source, title, url, source_leaning and text are strings");
            if opts.strict {
                return Err(err);
            }
            warnings.push(format!("{}: line {lineno}: {m}, skipped", path.display()));
            Ok(None)
        }
    }
}

pub(super) fn read(path: &Path, data: &str, sources: &SourceMap, opts: &IngestOptions, warnings: &mut Vec<String>) -> Result<Vec<Article>> {
    let mut out = Vec::new();
    for (i, l) in data.lines().enumerate() {
        if let Some(a) = line(path, i + 1, l, sources, opts, warnings)? {
            out.push(a);
        }
    }
    if out.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "no readable records".into(),
            help: format!("each line must be a JSON object with at least a {:?} field", opts.columns.text),
        });
    }
    Ok(out)
}
