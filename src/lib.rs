//! slant: stance of news and opinion writing toward NATO, the United States and Europe,
//! paragraph by paragraph, with a local transformer.
//!
//! The modules are the pipeline, in order: [`ingest`] → [`segment`] → [`targets`] → [`model`] →
//! [`score`]. Each stage only consumes what the previous ones produced.

pub mod aggregate;
pub mod commands;
pub mod error;
pub mod eval;
pub mod ingest;
pub mod model;
pub mod report;
pub mod score;
pub mod segment;
pub mod targets;

pub use error::{Error, Result};
