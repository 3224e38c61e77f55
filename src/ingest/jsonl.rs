//! JSONL records `{id, source, title?, date?, url?, text}`, one article per line
//! (the format of `allsides-geo.jsonl`).

use std::path::Path;

use serde::Deserialize;

use super::{Article, IngestOptions, SourceMap, file_stem};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Record {
    id: Option<serde_json::Value>,
    source: Option<String>,
    title: Option<String>,
    date: Option<String>,
    url: Option<String>,
    #[serde(alias = "leaning")]
    source_leaning: Option<String>,
    text: Option<String>,
}

pub(super) fn read(path: &Path, data: &str, sources: &SourceMap, opts: &IngestOptions, warnings: &mut Vec<String>) -> Result<Vec<Article>> {
    let mut out = Vec::new();
    for (i, line) in data.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let problem = |message: String, help: &str| Error::InputLine {
            path: path.to_path_buf(),
            line: lineno,
            message,
            help: help.to_string(),
        };
        let rec: Record = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => {
                let err = problem(
                    format!("malformed JSON at column {}: {e}", e.column()),
                    "each line must be one JSON object like {\"id\": \"a1\", \"source\": \"Outlet\", \"text\": \"...\"}",
                );
                if opts.strict {
                    return Err(err);
                }
                warnings.push(format!("{}: line {lineno}: malformed JSON, line skipped (use --strict to stop instead)", path.display()));
                continue;
            }
        };
        let Some(text) = rec.text.filter(|t| !t.trim().is_empty()) else {
            let err = problem("record has no \"text\" field (or it is empty)".into(), "add the article's text under \"text\"");
            if opts.strict {
                return Err(err);
            }
            warnings.push(format!("{}: line {lineno}: record without text, skipped", path.display()));
            continue;
        };
        let id = match rec.id {
            Some(serde_json::Value::String(s)) => s,
            Some(v) if !v.is_null() => v.to_string(),
            _ => format!("{}:{lineno}", file_stem(path)),
        };
        out.push(Article {
            id,
            source: rec
                .source
                .filter(|s| !s.trim().is_empty())
                .or_else(|| sources.lookup(path))
                .unwrap_or_else(|| file_stem(path)),
            title: rec.title,
            date: rec.date,
            url: rec.url,
            leaning: rec.source_leaning,
            text,
            hints: Vec::new(),
            origin: path.to_path_buf(),
        });
    }
    if out.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "no readable records".into(),
            help: "each line must be a JSON object with at least a \"text\" field".into(),
        });
    }
    Ok(out)
}
