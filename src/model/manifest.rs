//! The model manifest (`manifest.json` beside `model.onnx`): everything the runtime needs to feed
//! a sequence-pair classifier, so a second classifier (tone, loaded language…) plugs in by shipping
//! its own folder, not by changing code.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    #[serde(default)]
    pub task: String,
    /// Output classes in logit order.
    pub labels: Vec<String>,
    pub max_seq_len: usize,
    pub inputs: Inputs,
    pub output: String,
    #[serde(default)]
    pub preprocess: Vec<String>,
    #[serde(default = "default_model_file")]
    pub model_file: String,
    #[serde(default = "default_tokenizer_file")]
    pub tokenizer_file: String,
    pub sha256: String,
    /// How the weights were quantized, e.g. "ONNX Runtime dynamic int8, per-channel weights".
    #[serde(default)]
    pub quantization: Option<String>,
    #[serde(default)]
    pub calibration: Option<Calibration>,
    /// Everything else (training record, metrics) is carried along for reports.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inputs {
    pub input_ids: String,
    pub attention_mask: String,
    #[serde(default)]
    pub token_type_ids: Option<String>,
}

/// Post-hoc calibration fitted on dev data by `slant calibrate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calibration {
    pub temperature: f32,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

fn default_model_file() -> String {
    "model.onnx".into()
}
fn default_tokenizer_file() -> String {
    "tokenizer.json".into()
}

impl Manifest {
    pub fn load(dir: &Path) -> Result<Manifest> {
        let path = dir.join("manifest.json");
        let model_err = |message: String, help: &str| Error::Model { dir: dir.to_path_buf(), message, help: help.into() };
        if !dir.is_dir() {
            return Err(model_err("not a directory".into(), "pass --model DIR with a model folder (manifest.json, model.onnx, tokenizer.json); the default is models/stance-minilm-l6"));
        }
        let raw = std::fs::read_to_string(&path).map_err(|_| model_err("manifest.json is missing or unreadable".into(), "a model folder needs manifest.json beside model.onnx; rebuild it with scripts/train/run.sh"))?;
        let m: Manifest = serde_json::from_str(&raw).map_err(|e| model_err(format!("manifest.json:{}:{}: {e}", e.line(), e.column()), "fix the manifest or restore it from git"))?;
        if m.labels.len() < 2 {
            return Err(model_err("manifest lists fewer than two labels".into(), "`labels` must name the classes in output order"));
        }
        Ok(m)
    }

    /// Dynamic quantization scales activations per tensor, i.e. over the whole batch including
    /// padding, so a text's probabilities would depend on its batch neighbours: such models are
    /// run one window at a time.
    pub fn batch_dependent(&self) -> bool {
        self.quantization.as_deref().is_some_and(|q| q.to_ascii_lowercase().contains("dynamic"))
    }

    pub fn index_of(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// Output positions of against, neutral and favor: what scoring and evaluating stance need.
    pub fn stance_indices(&self) -> Result<[usize; 3]> {
        let idx = |l: &str| {
            self.index_of(l).ok_or_else(|| Error::Model {
                dir: "<model>".into(),
                message: format!("the model's labels {:?} lack {l:?}", self.labels),
                help: "the stance scorer needs a model with labels against, neutral and favor".into(),
            })
        };
        Ok([idx("against")?, idx("neutral")?, idx("favor")?])
    }
}
