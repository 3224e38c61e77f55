//! Model: a sequence-pair classifier described by a manifest, run with ONNX Runtime.
//!
//! Input is `[CLS] first [SEP] second [SEP]` (for stance: target label, paragraph). Each distinct
//! text is tokenized once and its pair encodings built from those ids for every target. Texts too
//! long for the model are never truncated: they are cut into overlapping windows, each window is
//! classified, and the window probabilities are averaged weighted by window length, so every token
//! counts about equally wherever it falls.

pub mod cache;
pub mod manifest;
pub mod runtime;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

pub use manifest::Manifest;

use crate::error::{Error, Result};

/// One thing to classify: a short first segment (the target label) and a text.
#[derive(Debug, Clone, Copy)]
pub struct PairInput<'a> {
    pub first: &'a str,
    pub second: &'a str,
}

/// Class probabilities in manifest label order, plus how many windows the text needed.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub probs: Vec<f32>,
    pub windows: usize,
}

/// What the scoring stage needs from a model: labels and batched pair classification.
pub trait PairClassifier {
    fn manifest(&self) -> &Manifest;
    fn classify(&mut self, inputs: &[PairInput], on_batch: &mut dyn FnMut(usize)) -> Result<Vec<Prediction>>;
    /// Seconds spent tokenizing and in the model so far, where the classifier keeps count.
    fn timings(&self) -> Option<Timings> {
        None
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub tokenize_seconds: f64,
    pub model_seconds: f64,
}

#[derive(Debug, Clone)]
pub struct ModelOptions {
    pub threads: usize,
    pub batch_size: usize,
    /// Tokens shared by consecutive windows of a long text.
    pub window_overlap: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions { threads: std::thread::available_parallelism().map_or(2, |n| n.get()), batch_size: 32, window_overlap: 64 }
    }
}

pub struct OnnxClassifier {
    manifest: Manifest,
    tokenizer: Tokenizer,
    /// Made on first use: one per thread for batch-dependent models (each runs single windows on
    /// one intra-op thread), else one using all threads.
    sessions: Vec<Session>,
    model_path: PathBuf,
    opts: ModelOptions,
    cls: u32,
    sep: u32,
    pad: u32,
    timings: Timings,
    pub dir: PathBuf,
}

/// The default model folder: `models/stance-minilm-l6` in the working directory, else beside the
/// crate that built this binary (so `cargo run` works from anywhere in the checkout).
pub fn default_model_dir() -> PathBuf {
    let local = PathBuf::from("models/stance-minilm-l6");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/stance-minilm-l6")
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

impl OnnxClassifier {
    pub fn load(dir: &Path, opts: ModelOptions) -> Result<OnnxClassifier> {
        let manifest = Manifest::load(dir)?;
        let model_err = |message: String, help: &str| Error::Model { dir: dir.to_path_buf(), message, help: help.into() };
        let model_path = dir.join(&manifest.model_file);
        let tok_path = dir.join(&manifest.tokenizer_file);
        for (p, what) in [(&model_path, "model"), (&tok_path, "tokenizer")] {
            if !p.is_file() {
                return Err(model_err(format!("{what} file {} is missing", p.display()), "restore the model folder from git (git lfs is not used) or rebuild it with scripts/train/run.sh"));
            }
        }
        let sha = sha256_file(&model_path)?;
        if sha != manifest.sha256 {
            return Err(model_err(
                format!("{} has sha256 {sha}, but manifest.json expects {}", model_path.display(), manifest.sha256),
                "the model file was changed or corrupted: restore it from git, or rebuild the model so the manifest matches",
            ));
        }
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| model_err(format!("cannot read {}: {e}", tok_path.display()), "tokenizer.json must be a Hugging Face tokenizers file"))?;
        // Padding and truncation are done here (dynamic padding, windows), never by the tokenizer.
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| Error::Tokenizer(e.to_string()))?;
        let id = |t: &str| tokenizer.token_to_id(t).ok_or_else(|| model_err(format!("tokenizer has no {t} token"), "the model must use a BERT-style vocabulary"));
        let (cls, sep, pad) = (id("[CLS]")?, id("[SEP]")?, id("[PAD]")?);

        // The ONNX Runtime session is made on first use: a run answered wholly from the cache
        // never loads the runtime.
        Ok(OnnxClassifier { manifest, tokenizer, sessions: Vec::new(), model_path, opts, cls, sep, pad, timings: Timings::default(), dir: dir.to_path_buf() })
    }

    /// For calibration: probabilities must be fitted at temperature 1.
    pub fn clear_calibration(&mut self) {
        self.manifest.calibration = None;
    }

    fn preprocess<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for step in &self.manifest.preprocess {
            if step == "us_caps_to_u.s." {
                // the uncased vocabulary reads "US" as "us"; "U.S." keeps it a country
                static US: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| regex::Regex::new(r"\bUS\b").expect("static regex"));
                if US.is_match(&out) {
                    out = std::borrow::Cow::Owned(US.replace_all(&out, "U.S.").into_owned());
                }
            }
        }
        out
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let pre = self.preprocess(text);
        self.tokenizer.encode(pre.as_ref(), false).map(|e| e.get_ids().to_vec()).map_err(|e| Error::Tokenizer(e.to_string()))
    }

    /// Token windows of a text for a first segment of `first_len` tokens.
    fn windows(&self, text_ids: &[u32], first_len: usize) -> Vec<std::ops::Range<usize>> {
        let budget = self.manifest.max_seq_len.saturating_sub(first_len + 3).max(16);
        window_ranges(text_ids.len(), budget, self.opts.window_overlap.min(budget / 2))
    }
}

/// Overlapping windows of at most `size` tokens covering `0..len`; the last one ends at `len`.
pub fn window_ranges(len: usize, size: usize, overlap: usize) -> Vec<std::ops::Range<usize>> {
    if len <= size {
        return vec![0..len];
    }
    let step = size - overlap;
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        if start + size >= len {
            out.push(len - size..len);
            break;
        }
        out.push(start..start + size);
        start += step;
    }
    out
}

fn softmax(logits: &[f32], temperature: f32) -> Vec<f32> {
    let t = if temperature > 0.0 { temperature } else { 1.0 };
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|l| ((l - max) / t).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

struct Window {
    pair: usize,
    ids: Vec<i64>,
    type_ids: Vec<i64>,
    weight: f32,
}

impl PairClassifier for OnnxClassifier {
    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn timings(&self) -> Option<Timings> {
        Some(self.timings)
    }

    fn classify(&mut self, inputs: &[PairInput], on_batch: &mut dyn FnMut(usize)) -> Result<Vec<Prediction>> {
        if inputs.is_empty() {
            return Ok(Vec::new()); // nothing to run: do not load the runtime for it
        }
        // Tokenize each distinct text and first segment once, in parallel.
        let t0 = std::time::Instant::now();
        let mut distinct: Vec<&str> = inputs.iter().flat_map(|p| [p.first, p.second]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let encoded: Vec<Vec<u32>> = distinct.par_iter().map(|t| self.encode(t)).collect::<Result<_>>()?;
        let ids: HashMap<&str, &Vec<u32>> = distinct.iter().copied().zip(encoded.iter()).collect();
        self.timings.tokenize_seconds += t0.elapsed().as_secs_f64();

        let mut windows: Vec<Window> = Vec::new();
        let mut n_windows = vec![0usize; inputs.len()];
        for (i, p) in inputs.iter().enumerate() {
            let first = ids[p.first];
            let second = ids[p.second];
            for r in self.windows(second, first.len()) {
                let body = &second[r.clone()];
                let mut ids = Vec::with_capacity(first.len() + body.len() + 3);
                ids.push(self.cls as i64);
                ids.extend(first.iter().map(|&x| x as i64));
                ids.push(self.sep as i64);
                let first_part = ids.len();
                ids.extend(body.iter().map(|&x| x as i64));
                ids.push(self.sep as i64);
                let mut type_ids = vec![0i64; first_part];
                type_ids.resize(ids.len(), 1);
                windows.push(Window { pair: i, ids, type_ids, weight: body.len().max(1) as f32 });
                n_windows[i] += 1;
            }
        }

        // Length-sorted batches with dynamic padding; ties keep input order, so the same input
        // always makes the same batches.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i].ids.len());
        let n_labels = self.manifest.labels.len();
        let temperature = self.manifest.calibration.as_ref().map_or(1.0, |c| c.temperature);
        let mut sums = vec![vec![0f32; n_labels]; inputs.len()];
        let mut weights = vec![0f32; inputs.len()];
        // One window per run for dynamically quantized models (see Manifest::batch_dependent), on
        // as many single-threaded sessions as threads, working on different windows at once: small
        // runs parallelise poorly inside ONNX Runtime. Each window's result is independent of
        // which session ran it and when, and results are summed in a fixed order, so output is
        // identical whatever the thread count.
        let batch_dependent = self.manifest.batch_dependent();
        let batch_size = if batch_dependent { 1 } else { self.opts.batch_size.max(1) };
        let threads = self.opts.threads.max(1);
        let batches: Vec<&[usize]> = order.chunks(batch_size).collect();
        let (n_sessions, intra) = if batch_dependent { (threads.min(batches.len()).max(1), 1) } else { (1, threads) };
        self.ensure_sessions(n_sessions, intra)?;
        let t1 = std::time::Instant::now();
        let (pad, manifest) = (self.pad as i64, &self.manifest);
        let mut results: Vec<Option<Result<Vec<f32>>>> = (0..batches.len()).map(|_| None).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failed = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            for session in self.sessions.iter_mut().take(n_sessions) {
                let (tx, next, failed, batches, windows) = (tx.clone(), &next, &failed, &batches, &windows);
                scope.spawn(move || {
                    use std::sync::atomic::Ordering::Relaxed;
                    while !failed.load(Relaxed) {
                        let k = next.fetch_add(1, Relaxed);
                        let Some(batch) = batches.get(k) else { break };
                        let logits = run_batch(session, manifest, padded(batch, windows, pad));
                        failed.fetch_or(logits.is_err(), Relaxed);
                        if tx.send((k, logits)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for (k, logits) in rx {
                on_batch(batches[k].len());
                results[k] = Some(logits);
            }
        });
        self.timings.model_seconds += t1.elapsed().as_secs_f64();
        for (batch, logits) in batches.iter().zip(results) {
            let logits = logits.expect("every batch is run unless one failed")?;
            for (r, &w) in batch.iter().enumerate() {
                let probs = softmax(&logits[r * n_labels..(r + 1) * n_labels], temperature);
                let win = &windows[w];
                for (s, p) in sums[win.pair].iter_mut().zip(probs) {
                    *s += p * win.weight;
                }
                weights[win.pair] += win.weight;
            }
        }
        Ok(sums
            .into_iter()
            .zip(weights)
            .zip(n_windows)
            .map(|((s, w), windows)| Prediction { probs: s.into_iter().map(|x| x / w).collect(), windows })
            .collect())
    }
}

impl OnnxClassifier {
    fn ensure_sessions(&mut self, n: usize, intra: usize) -> Result<()> {
        // a classifier's model and threads are fixed, so `intra` is too: the pool only grows
        while self.sessions.len() < n {
            let env = runtime::environment()?;
            let ort_err = |e: ort::Error<ort::session::builder::SessionBuilder>| Error::Runtime { message: e.to_string(), help: "check the ONNX Runtime installation".into() };
            let session = Session::builder(env)
                .map_err(|e| Error::Runtime { message: e.to_string(), help: "check the ONNX Runtime installation".into() })?
                .with_optimization_level(GraphOptimizationLevel::All)
                .map_err(ort_err)?
                .with_intra_threads(intra)
                .map_err(ort_err)?
                .with_inter_threads(1)
                .map_err(ort_err)?
                .commit_from_file(&self.model_path)
                .map_err(|e| Error::Model {
                    dir: self.dir.clone(),
                    message: format!("ONNX Runtime cannot load {}: {e}", self.model_path.display()),
                    help: "the file must be an ONNX model; restore it from git".into(),
                })?;
            self.sessions.push(session);
        }
        Ok(())
    }
}

/// Model inputs for a batch of windows, padded to its longest.
struct Padded {
    rows: usize,
    width: usize,
    ids: Vec<i64>,
    mask: Vec<i64>,
    types: Vec<i64>,
}

fn padded(batch: &[usize], windows: &[Window], pad: i64) -> Padded {
    let width = batch.iter().map(|&i| windows[i].ids.len()).max().unwrap_or(0);
    let rows = batch.len();
    let mut p = Padded { rows, width, ids: vec![pad; rows * width], mask: vec![0; rows * width], types: vec![0; rows * width] };
    for (r, &w) in batch.iter().enumerate() {
        let win = &windows[w];
        let span = r * width..r * width + win.ids.len();
        p.ids[span.clone()].copy_from_slice(&win.ids);
        p.mask[span.clone()].fill(1);
        p.types[span].copy_from_slice(&win.type_ids);
    }
    p
}

// The runtime is loaded (by making the sessions) before any tensor is created: ort's fallback
// loader would otherwise panic looking for a default library.
fn run_batch(session: &mut Session, manifest: &Manifest, input: Padded) -> Result<Vec<f32>> {
    let inf = |e: ort::Error| Error::Inference(e.to_string());
    let Padded { rows, width, ids, mask, types } = input;
    let shape = [rows, width];
    let names = &manifest.inputs;
    let mut feed: Vec<(String, ort::session::SessionInputValue)> = vec![
        (names.input_ids.clone(), Tensor::from_array((shape, ids)).map_err(inf)?.into()),
        (names.attention_mask.clone(), Tensor::from_array((shape, mask)).map_err(inf)?.into()),
    ];
    if let Some(tt) = &names.token_type_ids {
        feed.push((tt.clone(), Tensor::from_array((shape, types)).map_err(inf)?.into()));
    }
    let output = &manifest.output;
    let n_labels = manifest.labels.len();
    let outputs = session.run(feed).map_err(inf)?;
    let value = outputs.get(output).ok_or_else(|| Error::Inference(format!("model has no output named {output:?}")))?;
    let (out_shape, data) = value.try_extract_tensor::<f32>().map_err(inf)?;
    if out_shape.len() != 2 || out_shape[0] as usize != rows || out_shape[1] as usize != n_labels {
        return Err(Error::Inference(format!("output {output:?} has shape {out_shape:?}, expected [{rows}, {n_labels}] (labels in manifest)")));
    }
    Ok(data.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_everything_with_overlap() {
        assert_eq!(window_ranges(10, 20, 5), vec![0..10]);
        let w = window_ranges(3000, 250, 62);
        assert_eq!(w.first().unwrap().start, 0);
        assert_eq!(w.last().unwrap().end, 3000);
        for pair in w.windows(2) {
            assert!(pair[1].start < pair[0].end, "windows overlap");
            assert!(pair[1].start > pair[0].start);
        }
        assert!(w.iter().all(|r| r.len() == 250));
    }

    #[test]
    fn softmax_with_temperature() {
        let p = softmax(&[1.0, 2.0, 3.0], 1.0);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let flat = softmax(&[1.0, 2.0, 3.0], 100.0);
        assert!(flat[2] - flat[0] < p[2] - p[0]);
    }
}
