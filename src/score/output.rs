//! Writing scores: JSON lines to a file (atomically: temporary file, then rename) or stdout.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::StanceScore;
use crate::error::{Error, Result};

/// Streams [`StanceScore`]s as JSON lines. With a path, the lines go to `PATH.partial` first and
/// the file appears under its name only once complete, so a killed run never leaves a truncated
/// file that looks finished.
pub struct JsonlSink {
    out: Box<dyn Write>,
    target: Option<(PathBuf, PathBuf)>,
}

impl JsonlSink {
    pub fn stdout() -> JsonlSink {
        JsonlSink { out: Box::new(BufWriter::new(std::io::stdout().lock())), target: None }
    }

    pub fn file(path: &Path) -> Result<JsonlSink> {
        let partial = partial_path(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let f = std::fs::File::create(&partial).map_err(|e| Error::io(&partial, e))?;
        Ok(JsonlSink { out: Box::new(BufWriter::new(f)), target: Some((partial, path.to_path_buf())) })
    }

    /// Continue an interrupted run: keep the complete lines of `PATH.partial` (a killed writer
    /// may leave half a line), append after them, and return the records already written.
    pub fn resume(path: &Path) -> Result<(JsonlSink, Vec<StanceScore>)> {
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
            match serde_json::from_slice::<StanceScore>(line) {
                Ok(s) => done.push(s),
                Err(_) => break,
            }
            keep += line.len();
        }
        let f = std::fs::OpenOptions::new().write(true).open(&partial).map_err(|e| Error::io(&partial, e))?;
        f.set_len(keep as u64).map_err(|e| Error::io(&partial, e))?;
        drop(f);
        let f = std::fs::OpenOptions::new().append(true).open(&partial).map_err(|e| Error::io(&partial, e))?;
        Ok((JsonlSink { out: Box::new(BufWriter::new(f)), target: Some((partial, path.to_path_buf())) }, done))
    }

    pub fn write(&mut self, s: &StanceScore) -> Result<()> {
        let line = serde_json::to_string(s).map_err(|e| Error::Usage(e.to_string()))?;
        let path = self.target.as_ref().map_or_else(|| PathBuf::from("<stdout>"), |t| t.0.clone());
        writeln!(self.out, "{line}").map_err(|e| Error::io(path, e))
    }

    pub fn finish(mut self) -> Result<()> {
        let path = self.target.as_ref().map_or_else(|| PathBuf::from("<stdout>"), |t| t.0.clone());
        self.out.flush().map_err(|e| Error::io(&path, e))?;
        drop(self.out);
        if let Some((partial, final_path)) = self.target.take() {
            std::fs::rename(&partial, &final_path).map_err(|e| Error::io(&final_path, e))?;
        }
        Ok(())
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Write a whole file atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = partial_path(path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(&partial, bytes).map_err(|e| Error::io(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| Error::io(path, e))
}
