//! The library's one error type. Every variant says what went wrong, where, and how to fix it,
//! so the binary can print it as is.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: no such file or directory\n  help: check the path; slant reads .txt, .md, .html/.htm and .jsonl files or directories of them")]
    NotFound { path: PathBuf },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {message}\n  help: {help}")]
    Input { path: PathBuf, message: String, help: String },

    #[error("{path}:{line}: {message}\n  help: {help}")]
    InputLine { path: PathBuf, line: usize, message: String, help: String },

    #[error("{path}:{line}:{column}: invalid targets file: {message}\n  help: see `slant targets --example` for the format")]
    Targets { path: PathBuf, line: usize, column: usize, message: String },

    #[error("model directory {dir}: {message}\n  help: {help}")]
    Model { dir: PathBuf, message: String, help: String },

    #[error("ONNX Runtime: {message}\n  help: {help}")]
    Runtime { message: String, help: String },

    #[error("tokenizer: {0}")]
    Tokenizer(String),

    #[error("inference failed: {0}")]
    Inference(String),

    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound { path }
        } else {
            Error::Io { path, source }
        }
    }
}
