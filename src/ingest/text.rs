//! Plain text and Markdown: the text is kept as it is; paragraph structure is segmentation's job.

use std::path::Path;

use super::{Article, SourceMap, file_stem};

pub(super) fn read(path: &Path, text: &str, sources: &SourceMap) -> Article {
    Article {
        id: file_stem(path),
        source: sources.lookup(path).unwrap_or_else(|| file_stem(path)),
        title: headline(text),
        date: None,
        url: None,
        leaning: None,
        text: text.to_string(),
        hints: Vec::new(),
        origin: path.to_path_buf(),
    }
}

/// The first non-empty line, if it reads like a headline (short, no closing full stop).
fn headline(text: &str) -> Option<String> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let first = first.trim_start_matches('#').trim();
    (first.chars().count() <= 200 && !first.ends_with('.')).then(|| first.to_string())
}
