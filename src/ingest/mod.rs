//! Ingest: files and directories in, [`Article`]s out.
//!
//! Readers per format live in submodules; this module walks paths, decodes bytes, decides the
//! source (outlet) name, and collects what it could not read as [`Skipped`] so that a batch run
//! over a directory keeps going.

mod html;
mod jsonl;
mod text;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One document as read: plain text plus whatever metadata and structure the format gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: String,
    pub source: String,
    pub title: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    /// The outlet's political leaning where the input gives one (JSONL `source_leaning`).
    pub leaning: Option<String>,
    pub text: String,
    /// Byte ranges of `text` whose role the format told us (HTML comment containers, captions).
    pub hints: Vec<Hint>,
    pub origin: PathBuf,
}

/// What the input format itself says about a span of text; segmentation turns it into a section.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub range: Range<usize>,
    pub kind: HintKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKind {
    Comments,
    Caption,
}

/// A file or record that was not read, and why.
#[derive(Debug)]
pub struct Skipped {
    pub what: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Html,
    Jsonl,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "txt" | "md" | "markdown" => Some(Format::Text),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Refuse invalid UTF-8 and malformed JSONL lines instead of warning and going on.
    pub strict: bool,
}

#[derive(Debug, Default)]
pub struct Ingested {
    pub articles: Vec<Article>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

/// Read every input path. A path named explicitly that cannot be read is an error; inside a
/// directory, unreadable files are skipped and reported.
pub fn read_inputs(paths: &[PathBuf], opts: &IngestOptions) -> Result<Ingested> {
    let mut out = Ingested::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            collect_files(path, &mut files)?;
            if files.is_empty() {
                return Err(Error::Input {
                    path: path.clone(),
                    message: "directory holds no .txt, .md, .html or .jsonl files".into(),
                    help: "point slant at the files to score, or at a directory that contains them".into(),
                });
            }
            for file in files {
                match read_file(&file, opts, &mut out.warnings) {
                    Ok(mut a) => out.articles.append(&mut a),
                    Err(e) => out.skipped.push(Skipped { what: file.display().to_string(), reason: e.to_string() }),
                }
            }
        } else {
            let mut a = read_file(path, opts, &mut out.warnings)?;
            out.articles.append(&mut a);
        }
    }
    Ok(out)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort(); // stable order for the same input
    for p in entries {
        if p.is_dir() {
            collect_files(&p, out)?;
        } else if Format::from_path(&p).is_some() {
            out.push(p);
        }
    }
    Ok(())
}

/// Read one file into zero or more articles (JSONL holds many).
pub fn read_file(path: &Path, opts: &IngestOptions, warnings: &mut Vec<String>) -> Result<Vec<Article>> {
    let format = Format::from_path(path).ok_or_else(|| Error::Input {
        path: path.to_path_buf(),
        message: "unknown file type".into(),
        help: "rename it to .txt, .md, .html or .jsonl, whichever it holds".into(),
    })?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_bytes(path, format, &bytes, opts, warnings)
}

/// Parse a file's bytes as `format`; `path` names it in messages and locates `sources.toml`.
pub fn parse_bytes(path: &Path, format: Format, bytes: &[u8], opts: &IngestOptions, warnings: &mut Vec<String>) -> Result<Vec<Article>> {
    let text = decode(path, bytes, opts, warnings)?;
    let sources = SourceMap::beside(path)?;
    match format {
        Format::Text => Ok(vec![text::read(path, &text, &sources)]),
        Format::Html => Ok(vec![html::read(path, &text, &sources)]),
        Format::Jsonl => jsonl::read(path, &text, &sources, opts, warnings),
    }
}

fn decode(path: &Path, bytes: &[u8], opts: &IngestOptions, warnings: &mut Vec<String>) -> Result<String> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "file is empty".into(),
            help: "remove it from the input or give it some text".into(),
        });
    }
    if bytes.contains(&0) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "looks like a binary file (it contains NUL bytes)".into(),
            help: "slant reads text: .txt, .md, .html or .jsonl in UTF-8".into(),
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.trim_start_matches('\u{feff}').to_string()),
        Err(e) if opts.strict => Err(Error::Input {
            path: path.to_path_buf(),
            message: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            help: "convert the file to UTF-8 (e.g. `iconv -f cp1252 -t utf-8`), or drop --strict to decode it lossily".into(),
        }),
        Err(e) => {
            warnings.push(format!(
                "{}: invalid UTF-8 at byte {}; undecodable bytes were replaced with U+FFFD (use --strict to refuse)",
                path.display(),
                e.valid_up_to()
            ));
            Ok(String::from_utf8_lossy(bytes).trim_start_matches('\u{feff}').to_string())
        }
    }
}

/// `sources.toml` beside the input files: `[sources]` maps a file name to its outlet.
#[derive(Debug, Default)]
pub struct SourceMap {
    map: BTreeMap<String, String>,
}

impl SourceMap {
    fn beside(path: &Path) -> Result<SourceMap> {
        let file = path.parent().unwrap_or(Path::new(".")).join("sources.toml");
        if !file.is_file() {
            return Ok(SourceMap::default());
        }
        let raw = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        #[derive(serde::Deserialize)]
        struct Doc {
            #[serde(default)]
            sources: BTreeMap<String, String>,
        }
        let doc: Doc = toml::from_str(&raw).map_err(|e| Error::Input {
            path: file.clone(),
            message: format!("invalid sources.toml: {}", e.message()),
            help: "write it as `[sources]` followed by lines like `\"article.txt\" = \"Outlet name\"`".into(),
        })?;
        Ok(SourceMap { map: doc.sources })
    }

    /// Outlet for a file: sources.toml entry by file name, else the given fallback.
    fn lookup(&self, path: &Path) -> Option<String> {
        let name = path.file_name()?.to_str()?;
        self.map.get(name).cloned()
    }
}

pub(crate) fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "document".into())
}
