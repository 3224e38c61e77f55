//! The model manifest (`manifest.json` beside `model.onnx`): everything the runtime needs to feed
//! the graph and read its outputs, so another classifier (tone, loaded language…) plugs in by
//! shipping its own folder, not by changing code.
//!
//! Format 2 lists `outputs`, each read from one kind of input: `pair` (`target ⟨sep⟩ paragraph`,
//! e.g. stance) or `text` (the paragraph alone, e.g. register), optionally per token. Format 1
//! manifests (`labels` + `output`) are read as one pair output named `stance`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    #[serde(default)]
    pub task: String,
    pub max_seq_len: usize,
    pub inputs: Inputs,
    /// What the graph outputs and from which input each is read (filled from `labels` + `output`
    /// for format 1 manifests).
    #[serde(default)]
    pub outputs: Vec<OutputSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_tokens: Option<SpecialTokens>,
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
    /// Everything else (training record, metrics, format 1's `labels`/`output`) is carried along.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// `first ⟨sep⟩ second`: a target and a paragraph.
    Pair,
    /// The paragraph alone.
    Text,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputSpec {
    pub name: String,
    /// The graph's output tensor: `[batch, labels]`, or `[batch, sequence, labels]` if per token.
    pub tensor: String,
    pub input: InputKind,
    pub labels: Vec<String>,
    #[serde(default)]
    pub per_token: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// How to build `[cls] first [sep]×pair_separators second [sep]` like the tokenizer's own pair
/// template (BERT: one separator; MPNet/RoBERTa: two).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpecialTokens {
    pub cls: String,
    pub sep: String,
    pub pad: String,
    #[serde(default = "one")]
    pub pair_separators: usize,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

fn one() -> usize {
    1
}

impl Default for SpecialTokens {
    fn default() -> Self {
        SpecialTokens { cls: "[CLS]".into(), sep: "[SEP]".into(), pad: "[PAD]".into(), pair_separators: 1, extra: BTreeMap::new() }
    }
}

/// Post-hoc calibration fitted on dev data by `slant calibrate`: a temperature for `stance`, and
/// optionally one per other output (`outputs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calibration {
    pub temperature: f32,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, f32>,
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
            return Err(model_err("not a directory".into(), "pass --model fast, --model accurate or --model DIR with a model folder (manifest.json, model.onnx, tokenizer.json)"));
        }
        let raw = std::fs::read_to_string(&path).map_err(|_| model_err("manifest.json is missing or unreadable".into(), "a model folder needs manifest.json beside model.onnx; rebuild it with scripts/train/run.sh"))?;
        let mut m: Manifest = serde_json::from_str(&raw).map_err(|e| model_err(format!("manifest.json:{}:{}: {e}", e.line(), e.column()), "fix the manifest or restore it from git"))?;
        if m.outputs.is_empty() {
            // format 1: one pair classifier, `labels` in logit order, tensor `output`
            let labels: Option<Vec<String>> = m.extra.get("labels").and_then(|v| serde_json::from_value(v.clone()).ok());
            let tensor = m.extra.get("output").and_then(|v| v.as_str()).map(str::to_string);
            match (labels, tensor) {
                (Some(labels), Some(tensor)) => m.outputs.push(OutputSpec { name: "stance".into(), tensor, input: InputKind::Pair, labels, per_token: false, description: None }),
                _ => return Err(model_err("manifest lists no outputs".into(), "format 2 manifests need `outputs`; format 1 needs `labels` and `output`")),
            }
        }
        for o in &m.outputs {
            if o.labels.len() < 2 {
                return Err(model_err(format!("output {:?} lists fewer than two labels", o.name), "each output's `labels` must name its classes in logit order"));
            }
        }
        Ok(m)
    }

    /// Dynamic quantization scales activations per tensor, i.e. over the whole batch including
    /// padding, so a text's probabilities would depend on its batch neighbours: such models are
    /// run one window at a time.
    pub fn batch_dependent(&self) -> bool {
        self.quantization.as_deref().is_some_and(|q| q.to_ascii_lowercase().contains("dynamic"))
    }

    pub fn special(&self) -> SpecialTokens {
        self.special_tokens.clone().unwrap_or_default()
    }

    pub fn output(&self, name: &str) -> Option<&OutputSpec> {
        self.outputs.iter().find(|o| o.name == name)
    }

    pub fn has_input(&self, kind: InputKind) -> bool {
        self.outputs.iter().any(|o| o.input == kind)
    }

    /// The temperature applied to an output's softmax.
    pub fn temperature(&self, output: &str) -> f32 {
        match &self.calibration {
            Some(c) => c.outputs.get(output).copied().unwrap_or(if output == "stance" { c.temperature } else { 1.0 }),
            None => 1.0,
        }
    }

    /// Positions of against, neutral and favor in an output: what scoring and evaluating stance need.
    pub fn stance_indices_of(&self, output: &str) -> Result<[usize; 3]> {
        let spec = self.output(output).ok_or_else(|| Error::Model {
            dir: "<model>".into(),
            message: format!("the model has no output {output:?} (it has {:?})", self.outputs.iter().map(|o| &o.name).collect::<Vec<_>>()),
            help: "use a stance model (--model accurate or --model fast)".into(),
        })?;
        let idx = |l: &str| {
            spec.labels.iter().position(|x| x == l).ok_or_else(|| Error::Model {
                dir: "<model>".into(),
                message: format!("output {output:?} has labels {:?}, lacking {l:?}", spec.labels),
                help: "the stance scorer needs labels against, neutral and favor".into(),
            })
        };
        Ok([idx("against")?, idx("neutral")?, idx("favor")?])
    }

    pub fn stance_indices(&self) -> Result<[usize; 3]> {
        self.stance_indices_of("stance")
    }
}
