//! Ingest: files and directories in, [`Article`]s out.
//!
//! Readers per format live in submodules; this module walks paths, decodes bytes, decides the
//! source (outlet) name, and collects what it could not read as [`Skipped`] so that a batch run
//! over a directory keeps going.

mod html;
mod jsonl;
pub mod parquet;
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
    Parquet,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "txt" | "md" | "markdown" => Some(Format::Text),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Refuse invalid UTF-8 and malformed JSONL lines instead of warning and going on.
    pub strict: bool,
    /// Field / column names of JSONL and Parquet records.
    pub columns: Columns,
}

/// Which JSONL field or Parquet column holds each part of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub id: String,
    pub text: String,
    pub source: String,
    pub title: String,
    pub date: String,
    pub url: String,
    pub leaning: String,
}

impl Default for Columns {
    fn default() -> Self {
        let s = |x: &str| x.to_string();
        Columns { id: s("id"), text: s("text"), source: s("source"), title: s("title"), date: s("date"), url: s("url"), leaning: s("source_leaning") }
    }
}

impl Columns {
    /// (standard name, user name) for the fields the user renamed.
    fn renames(&self) -> Vec<(&'static str, &str)> {
        let d = Columns::default();
        [("id", &self.id, &d.id), ("text", &self.text, &d.text), ("source", &self.source, &d.source), ("title", &self.title, &d.title), ("date", &self.date, &d.date), ("url", &self.url, &d.url), ("source_leaning", &self.leaning, &d.leaning)]
            .into_iter()
            .filter(|(_, u, d)| u != d)
            .map(|(s, u, _)| (s, u.as_str()))
            .collect()
    }
}

/// `--shard I/N`: the documents whose id hashes to shard I of N. The hash is the first 8 bytes of
/// SHA-256 of the UTF-8 id, read big-endian, modulo N (shard I holds remainder I − 1): stable across
/// machines, runs and slant versions, and computable anywhere (`int(sha256(id).hexdigest()[:16], 16) % N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn contains(&self, doc_id: &str) -> bool {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(doc_id.as_bytes());
        let x = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
        x % self.count == self.index - 1
    }

    /// `I/N`, or `auto` / `auto/N` from a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, counting
    /// from 0, with N from `auto/N` or `SLANT_SHARD_COUNT`) or a Slurm array
    /// (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` + 1 of `SLURM_ARRAY_TASK_COUNT`).
    pub fn parse(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard> {
        let usage = |m: String| Error::Usage(format!("--shard {spec}: {m}\n  help: use --shard I/N with 1 ≤ I ≤ N (e.g. 2/8), or --shard auto inside a Slurm array or a Kubernetes Indexed Job (--shard auto/N there)"));
        let num = |s: &str, what: &str| s.trim().parse::<u64>().map_err(|_| usage(format!("{what} {s:?} is not a whole number")));
        let shard = if let Some(rest) = spec.strip_prefix("auto") {
            let n_flag = rest.strip_prefix('/').map(|n| num(n, "N")).transpose()?;
            if let Some(idx) = env("JOB_COMPLETION_INDEX") {
                let n = match n_flag {
                    Some(n) => n,
                    None => num(&env("SLANT_SHARD_COUNT").ok_or_else(|| usage("JOB_COMPLETION_INDEX is set but the shard count is not: pass --shard auto/N (N = the Job's completions) or set SLANT_SHARD_COUNT".into()))?, "SLANT_SHARD_COUNT")?,
                };
                Shard { index: num(&idx, "JOB_COMPLETION_INDEX")? + 1, count: n }
            } else if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
                let min = env("SLURM_ARRAY_TASK_MIN").map(|m| num(&m, "SLURM_ARRAY_TASK_MIN")).transpose()?.unwrap_or(0);
                let count = match env("SLURM_ARRAY_TASK_COUNT") {
                    Some(c) => num(&c, "SLURM_ARRAY_TASK_COUNT")?,
                    None => n_flag.ok_or_else(|| usage("SLURM_ARRAY_TASK_COUNT is not set".into()))?,
                };
                let id = num(&id, "SLURM_ARRAY_TASK_ID")?;
                if id < min {
                    return Err(usage(format!("SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}")));
                }
                Shard { index: id - min + 1, count }
            } else {
                return Err(usage("neither a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) nor a Slurm array (SLURM_ARRAY_TASK_ID) is in the environment".into()));
            }
        } else {
            let (i, n) = spec.split_once('/').ok_or_else(|| usage("expected I/N".into()))?;
            Shard { index: num(i, "I")?, count: num(n, "N")? }
        };
        if shard.count == 0 || shard.index == 0 || shard.index > shard.count {
            return Err(usage(format!("shard {}/{} is out of range", shard.index, shard.count)));
        }
        Ok(shard)
    }
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
                    message: "directory holds no .txt, .md, .html, .jsonl or .parquet files".into(),
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
        help: "rename it to .txt, .md, .html, .jsonl or .parquet, whichever it holds".into(),
    })?;
    if format == Format::Parquet {
        return parquet::read(path, &SourceMap::beside(path)?, opts, warnings);
    }
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
        Format::Parquet => parquet::read(path, &sources, opts, warnings),
    }
}

/// JSONL records from a stream (standard input), one article at a time, so a run can score and
/// write each document before reading the next: bounded memory, output as input arrives.
pub struct JsonlStream<R> {
    reader: R,
    name: PathBuf,
    line: usize,
    opts: IngestOptions,
    sources: SourceMap,
    pub warnings: Vec<String>,
}

impl<R: std::io::BufRead> JsonlStream<R> {
    pub fn new(reader: R, name: &str, opts: IngestOptions) -> JsonlStream<R> {
        JsonlStream { reader, name: PathBuf::from(name), line: 0, opts, sources: SourceMap::default(), warnings: Vec::new() }
    }

    /// The next article, None at the end of the stream.
    pub fn next_article(&mut self) -> Result<Option<Article>> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = self.reader.read_until(b'\n', &mut buf).map_err(|e| Error::io(&self.name, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) if self.opts.strict => {
                    return Err(Error::InputLine { path: self.name.clone(), line: self.line, message: "invalid UTF-8".into(), help: "send UTF-8, or drop --strict to decode lossily".into() });
                }
                Err(_) => {
                    self.warnings.push(format!("{}: line {}: invalid UTF-8 decoded lossily", self.name.display(), self.line));
                    String::from_utf8_lossy(&buf)
                }
            };
            if let Some(a) = jsonl::line(&self.name, self.line, text.trim_start_matches('\u{feff}'), &self.sources, &self.opts, &mut self.warnings)? {
                return Ok(Some(a));
            }
        }
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

#[cfg(test)]
mod shard_tests {
    use super::Shard;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn explicit_and_auto_shards() {
        assert_eq!(Shard::parse("2/5", &env(&[])).unwrap(), Shard { index: 2, count: 5 });
        // Slurm array 10-13, task 12 -> shard 3 of 4
        let slurm = [("SLURM_ARRAY_TASK_ID", "12"), ("SLURM_ARRAY_TASK_MIN", "10"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert_eq!(Shard::parse("auto", &env(&slurm)).unwrap(), Shard { index: 3, count: 4 });
        // Kubernetes Indexed Job: index counts from 0; the count from auto/N or SLANT_SHARD_COUNT
        assert_eq!(Shard::parse("auto/8", &env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap(), Shard { index: 1, count: 8 });
        assert_eq!(Shard::parse("auto", &env(&[("JOB_COMPLETION_INDEX", "7"), ("SLANT_SHARD_COUNT", "8")])).unwrap(), Shard { index: 8, count: 8 });
        for bad in ["0/3", "4/3", "x/3", "3", "auto"] {
            let e = Shard::parse(bad, &env(&[])).unwrap_err().to_string();
            assert!(e.contains("help:"), "{bad}: {e}");
        }
        assert!(Shard::parse("auto", &env(&[("JOB_COMPLETION_INDEX", "1")])).unwrap_err().to_string().contains("auto/N"));
    }

    #[test]
    fn the_hash_is_the_documented_one_and_shards_partition() {
        // int(sha256(b"a1").hexdigest()[:16], 16) % 3, computed in Python: see README
        let ids: Vec<String> = (0..300).map(|i| format!("doc{i}")).collect();
        let n = 3;
        let mut counts = [0usize; 3];
        for id in &ids {
            let hits: Vec<u64> = (1..=n).filter(|&i| Shard { index: i, count: n }.contains(id)).collect();
            assert_eq!(hits.len(), 1, "{id} in exactly one shard");
            counts[hits[0] as usize - 1] += 1;
        }
        assert!(counts.iter().all(|&c| c > 70), "{counts:?}");
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(b"a1");
        let x = u64::from_str_radix(&hex::encode(&h[..8]), 16).unwrap();
        assert!(Shard { index: x % 7 + 1, count: 7 }.contains("a1"));
    }
}
