//! Writing records: one [`RecordWriter`] abstraction, with JSON lines (file or stdout), Parquet
//! and CSV behind it (see [`super::columnar`]).
//!
//! File writers are atomic: records go to `FILE.partial`, which is renamed to `FILE` once
//! complete, so a killed run never leaves a truncated file that looks finished. The `.partial`
//! file is only created when the first record arrives (or at `finish` for an empty run), so a
//! run that fails before writing anything leaves nothing behind.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Record;
use crate::error::{Error, Result};

/// Where scoring sends its records.
pub trait RecordWriter {
    fn write(&mut self, r: &Record) -> Result<()>;
    /// Flush and, for files, move the finished file into place.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Output formats, chosen by the output file's extension (`.jsonl`/`.json`, `.parquet`, `.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Parquet,
    Csv,
}

impl OutputFormat {
    pub fn of(path: &Path) -> Result<OutputFormat> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "json" | "ndjson") => Ok(OutputFormat::Jsonl),
            Some("parquet") => Ok(OutputFormat::Parquet),
            Some("csv") => Ok(OutputFormat::Csv),
            _ => Err(Error::Usage(format!(
                "{}: unknown output format\n  help: name the output FILE.jsonl (JSON lines), FILE.parquet or FILE.csv",
                path.display()
            ))),
        }
    }
}

/// A writer for `-o PATH` (None: JSON lines on stdout).
pub fn open_writer(path: Option<&Path>) -> Result<Box<dyn RecordWriter>> {
    match path {
        None => Ok(Box::new(JsonlSink::stdout())),
        Some(p) => match OutputFormat::of(p)? {
            OutputFormat::Jsonl => Ok(Box::new(JsonlSink::file(p)?)),
            OutputFormat::Parquet => Ok(Box::new(super::columnar::ParquetSink::new(p)?)),
            OutputFormat::Csv => Ok(Box::new(super::columnar::CsvSink::new(p)?)),
        },
    }
}

/// A `.partial` file made on first use and renamed into place by [`PartialFile::commit`].
pub struct PartialFile {
    partial: PathBuf,
    path: PathBuf,
    file: Option<BufWriter<std::fs::File>>,
}

impl PartialFile {
    pub fn new(path: &Path) -> PartialFile {
        PartialFile { partial: partial_path(path), path: path.to_path_buf(), file: None }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open `.partial` file, created (with its folder) on first call.
    pub fn get(&mut self) -> Result<&mut BufWriter<std::fs::File>> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let f = std::fs::File::create(&self.partial).map_err(|e| Error::io(&self.partial, e))?;
            self.file = Some(BufWriter::new(f));
        }
        Ok(self.file.as_mut().expect("just opened"))
    }

    fn resume(path: &Path, keep: u64) -> Result<PartialFile> {
        let partial = partial_path(path);
        let f = std::fs::OpenOptions::new().write(true).open(&partial).map_err(|e| Error::io(&partial, e))?;
        f.set_len(keep).map_err(|e| Error::io(&partial, e))?;
        drop(f);
        let f = std::fs::OpenOptions::new().append(true).open(&partial).map_err(|e| Error::io(&partial, e))?;
        Ok(PartialFile { partial, path: path.to_path_buf(), file: Some(BufWriter::new(f)) })
    }

    pub fn io_err(&self, e: std::io::Error) -> Error {
        Error::io(&self.partial, e)
    }

    /// Flush, sync and rename into place (an empty file if nothing was written).
    pub fn commit(mut self) -> Result<()> {
        self.get()?;
        let f = self.file.take().expect("opened");
        let f = f.into_inner().map_err(|e| Error::io(&self.partial, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&self.partial, e))?;
        drop(f);
        std::fs::rename(&self.partial, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// Streams [`Record`]s as JSON lines, to a file (atomically, see [`PartialFile`]) or stdout
/// (flushed after every record, so a consumer of a pipe sees each as it completes).
pub struct JsonlSink {
    out: JsonlOut,
}

enum JsonlOut {
    Stdout(std::io::StdoutLock<'static>),
    File(PartialFile),
}

impl JsonlSink {
    pub fn stdout() -> JsonlSink {
        JsonlSink { out: JsonlOut::Stdout(std::io::stdout().lock()) }
    }

    pub fn file(path: &Path) -> Result<JsonlSink> {
        Ok(JsonlSink { out: JsonlOut::File(PartialFile::new(path)) })
    }

    /// Continue an interrupted run: keep the complete lines of `PATH.partial` (a killed writer
    /// may leave half a line), append after them, and return the records already written.
    pub fn resume(path: &Path) -> Result<(JsonlSink, Vec<Record>)> {
        let partial = partial_path(path);
        if !partial.is_file() {
            return Ok((JsonlSink::file(path)?, Vec::new()));
        }
        let bytes = std::fs::read(&partial).map_err(|e| Error::io(&partial, e))?;
        let mut done = Vec::new();
        let mut keep = 0usize;
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            if !line.ends_with(b"\n") {
                break;
            }
            match std::str::from_utf8(line).ok().and_then(|l| Record::from_json(l).ok()) {
                Some(r) => done.push(r),
                None => break,
            }
            keep += line.len();
        }
        Ok((JsonlSink { out: JsonlOut::File(PartialFile::resume(path, keep as u64)?) }, done))
    }

    pub fn write(&mut self, r: &Record) -> Result<()> {
        let line = serde_json::to_string(r).map_err(|e| Error::Usage(e.to_string()))?;
        match &mut self.out {
            JsonlOut::Stdout(out) => {
                let err = |e| Error::io("<stdout>", e);
                writeln!(out, "{line}").map_err(err)?;
                out.flush().map_err(err)
            }
            JsonlOut::File(f) => {
                let w = f.get()?;
                writeln!(w, "{line}").map_err(|e| Error::io(partial_path(&f.path), e))
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        match self.out {
            JsonlOut::Stdout(mut out) => out.flush().map_err(|e| Error::io("<stdout>", e)),
            JsonlOut::File(f) => f.commit(),
        }
    }
}

impl RecordWriter for JsonlSink {
    fn write(&mut self, r: &Record) -> Result<()> {
        JsonlSink::write(self, r)
    }
    fn finish(self: Box<Self>) -> Result<()> {
        JsonlSink::finish(*self)
    }
}

pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Write a whole file atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = PartialFile::new(path);
    let w = f.get()?;
    w.write_all(bytes).map_err(|e| Error::io(partial_path(path), e))?;
    f.commit()
}
