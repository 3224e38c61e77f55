//! Model: a manifest-driven transformer classifier run with ONNX Runtime.
//!
//! Two kinds of input (see [`manifest::InputKind`]): a pair `[CLS] first [SEP] second [SEP]`
//! (target label, paragraph) and a text `[CLS] text [SEP]` (paragraph alone). One graph computes
//! every output; for each input the outputs the manifest reads from that kind are returned, per
//! class and, for per-token outputs, per token with character offsets in the input text.
//! Each distinct text is tokenized once and its encodings built from those ids. Texts too long for
//! the model are never truncated: they are cut into overlapping windows, each window is classified,
//! and window probabilities are averaged weighted by window length (tokens: over the windows that
//! hold them), so every token counts about equally wherever it falls.

pub mod cache;
pub mod manifest;
pub mod runtime;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

pub use manifest::{InputKind, Manifest, OutputSpec};

use crate::error::{Error, Result};

/// One thing to classify: a paragraph, with a target label (pair input) or without (text input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelInput<'a> {
    pub first: Option<&'a str>,
    pub second: &'a str,
}

impl<'a> ModelInput<'a> {
    pub fn pair(first: &'a str, second: &'a str) -> Self {
        ModelInput { first: Some(first), second }
    }
    pub fn text(text: &'a str) -> Self {
        ModelInput { first: None, second: text }
    }
    pub fn kind(&self) -> InputKind {
        if self.first.is_some() { InputKind::Pair } else { InputKind::Text }
    }
}

/// One token of a per-token output: character offsets in the text given to the model and the
/// class probabilities (manifest label order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenProbs {
    pub start: usize,
    pub end: usize,
    pub probs: Vec<f32>,
}

/// What the model says about one input: class probabilities per output read from that input kind
/// (manifest label order), per-token probabilities per per-token output, and the window count.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Prediction {
    pub outputs: BTreeMap<String, Vec<f32>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tokens: BTreeMap<String, Vec<TokenProbs>>,
    pub windows: usize,
}

impl Prediction {
    pub fn probs(&self, output: &str) -> Option<&[f32]> {
        self.outputs.get(output).map(Vec::as_slice)
    }
}

/// What scoring and evaluation need from a model.
pub trait Classifier {
    fn manifest(&self) -> &Manifest;
    fn classify(&mut self, inputs: &[ModelInput], on_batch: &mut dyn FnMut(usize)) -> Result<Vec<Prediction>>;
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
    pub levers: Levers,
}

/// ONNX Runtime settings the benchmark's `--levers` varies (environment variables, so the
/// benchmark can set them on the real binary): `SLANT_ORT_ONE_SESSION=1` runs a dynamically
/// quantized model on one session with all threads instead of one single-threaded session per
/// thread; `SLANT_ORT_SPINNING=0|1` turns intra-op thread spinning off or on (ONNX Runtime's
/// default is on); `SLANT_ORT_OPT=basic|extended|all` picks the graph optimisation level.
#[derive(Debug, Clone, Default)]
pub struct Levers {
    pub one_session: bool,
    pub spinning: Option<bool>,
    pub optimization: Option<String>,
}

impl Levers {
    pub fn from_env() -> Levers {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Levers { one_session: var("SLANT_ORT_ONE_SESSION").is_some_and(|v| v == "1"), spinning: var("SLANT_ORT_SPINNING").map(|v| v == "1"), optimization: var("SLANT_ORT_OPT") }
    }
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions { threads: std::thread::available_parallelism().map_or(2, |n| n.get()), batch_size: 32, window_overlap: 64, levers: Levers::from_env() }
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
    pair_separators: usize,
    timings: Timings,
    pub dir: PathBuf,
}

/// The shipped model tiers: `accurate` (the default) and `fast`.
pub const TIERS: [(&str, &str); 2] = [("accurate", "models/stance-mpnet-base"), ("fast", "models/stance-minilm-l6")];

/// A model folder from `--model`: a tier name (`accurate`, `fast`) or a directory. Tier folders are
/// looked up in the working directory, else beside the crate that built this binary (so
/// `cargo run` works from anywhere in the checkout).
pub fn resolve_model_dir(spec: &str) -> PathBuf {
    match TIERS.iter().find(|(name, _)| *name == spec) {
        Some((_, rel)) => {
            let local = PathBuf::from(rel);
            if local.is_dir() { local } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(rel) }
        }
        None => PathBuf::from(spec),
    }
}

/// The default model folder: the accurate tier.
pub fn default_model_dir() -> PathBuf {
    resolve_model_dir("accurate")
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Text after the manifest's preprocessing, with a map from its byte offsets back to the
/// original's, so per-token offsets point into the text the caller gave.
struct Preprocessed {
    text: String,
    /// `to_original[i]`: byte offset in the original of byte `i` of `text` (len + 1 entries).
    to_original: Option<Vec<usize>>,
}

impl Preprocessed {
    fn original(&self, i: usize) -> usize {
        self.to_original.as_ref().map_or(i, |m| m[i.min(m.len() - 1)])
    }
}

/// A tokenized text: ids and byte offsets in the original text.
struct Encoded {
    ids: Vec<u32>,
    offsets: Vec<(usize, usize)>,
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
        let special = manifest.special();
        let id = |t: &str| tokenizer.token_to_id(t).ok_or_else(|| model_err(format!("tokenizer has no {t} token"), "the manifest's special_tokens must name tokens of tokenizer.json"));
        let (cls, sep, pad) = (id(&special.cls)?, id(&special.sep)?, id(&special.pad)?);

        // The ONNX Runtime session is made on first use: a run answered wholly from the cache
        // never loads the runtime.
        Ok(OnnxClassifier { manifest, tokenizer, sessions: Vec::new(), model_path, opts, cls, sep, pad, pair_separators: special.pair_separators.max(1), timings: Timings::default(), dir: dir.to_path_buf() })
    }

    /// For calibration: probabilities must be fitted at temperature 1.
    pub fn clear_calibration(&mut self) {
        self.manifest.calibration = None;
    }

    pub fn set_calibration(&mut self, c: Option<manifest::Calibration>) {
        self.manifest.calibration = c;
    }

    fn preprocess(&self, text: &str) -> Preprocessed {
        let mut out = Preprocessed { text: text.to_string(), to_original: None };
        for step in &self.manifest.preprocess {
            if step == "us_caps_to_u.s." {
                // the uncased vocabulary reads "US" as "us"; "U.S." keeps it a country
                static US: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| regex::Regex::new(r"\bUS\b").expect("static regex"));
                if !US.is_match(&out.text) {
                    continue;
                }
                let (mut s, mut map, mut last) = (String::with_capacity(out.text.len() + 8), Vec::with_capacity(out.text.len() + 9), 0);
                for m in US.find_iter(&out.text) {
                    for i in last..m.start() {
                        map.push(out.original(i));
                    }
                    s.push_str(&out.text[last..m.start()]);
                    s.push_str("U.S.");
                    map.extend([m.start(), m.start() + 1, m.start() + 1, m.start() + 2].map(|i| out.original(i)));
                    last = m.end();
                }
                for i in last..=out.text.len() {
                    map.push(out.original(i));
                }
                s.push_str(&out.text[last..]);
                out = Preprocessed { text: s, to_original: Some(map) };
            }
        }
        out
    }

    fn encode(&self, text: &str) -> Result<Encoded> {
        let pre = self.preprocess(text);
        let enc = self.tokenizer.encode(pre.text.as_str(), false).map_err(|e| Error::Tokenizer(e.to_string()))?;
        let offsets = enc.get_offsets().iter().map(|&(a, b)| (pre.original(a), pre.original(b))).collect();
        Ok(Encoded { ids: enc.get_ids().to_vec(), offsets })
    }

    /// Token windows of a text after a first segment of `first_len` tokens (None: text input).
    fn windows(&self, text_len: usize, first_len: Option<usize>) -> Vec<std::ops::Range<usize>> {
        let specials = match first_len {
            Some(n) => n + 2 + self.pair_separators,
            None => 2,
        };
        let budget = self.manifest.max_seq_len.saturating_sub(specials).max(16);
        window_ranges(text_len, budget, self.opts.window_overlap.min(budget / 2))
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
    input: usize,
    ids: Vec<i64>,
    type_ids: Vec<i64>,
    weight: f32,
    /// Position in the window of the text's first token, and the text token range it holds.
    text_at: usize,
    text_range: std::ops::Range<usize>,
}

/// What one window's run returned: per output, logits (row-major, `per_token` outputs per position).
type WindowLogits = Vec<Vec<f32>>;

impl Classifier for OnnxClassifier {
    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn timings(&self) -> Option<Timings> {
        Some(self.timings)
    }

    fn classify(&mut self, inputs: &[ModelInput], on_batch: &mut dyn FnMut(usize)) -> Result<Vec<Prediction>> {
        if inputs.is_empty() {
            return Ok(Vec::new()); // nothing to run: do not load the runtime for it
        }
        for kind in [InputKind::Pair, InputKind::Text] {
            if inputs.iter().any(|i| i.kind() == kind) && !self.manifest.has_input(kind) {
                return Err(Error::Model { dir: self.dir.clone(), message: format!("the model reads no output from {kind:?} inputs"), help: "this model cannot answer that; use a model whose manifest has such outputs".into() });
            }
        }
        // Tokenize each distinct text and first segment once, in parallel.
        let t0 = std::time::Instant::now();
        let mut distinct: Vec<&str> = inputs.iter().flat_map(|p| p.first.into_iter().chain([p.second])).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let encoded: Vec<Encoded> = distinct.par_iter().map(|t| self.encode(t)).collect::<Result<_>>()?;
        let enc: HashMap<&str, &Encoded> = distinct.iter().copied().zip(encoded.iter()).collect();
        self.timings.tokenize_seconds += t0.elapsed().as_secs_f64();

        let mut windows: Vec<Window> = Vec::new();
        let mut n_windows = vec![0usize; inputs.len()];
        let (cls, sep) = (self.cls as i64, self.sep as i64);
        for (i, p) in inputs.iter().enumerate() {
            let first = p.first.map(|f| &enc[f].ids);
            let second = &enc[p.second].ids;
            for r in self.windows(second.len(), first.map(Vec::len)) {
                let body = &second[r.clone()];
                let mut ids = Vec::with_capacity(body.len() + 8 + first.map_or(0, Vec::len));
                ids.push(cls);
                if let Some(first) = first {
                    ids.extend(first.iter().map(|&x| x as i64));
                    ids.extend(std::iter::repeat_n(sep, self.pair_separators));
                }
                let text_at = ids.len();
                ids.extend(body.iter().map(|&x| x as i64));
                ids.push(sep);
                let mut type_ids = vec![0i64; if first.is_some() { text_at } else { ids.len() }];
                type_ids.resize(ids.len(), 1);
                windows.push(Window { input: i, ids, type_ids, weight: body.len().max(1) as f32, text_at, text_range: r });
                n_windows[i] += 1;
            }
        }

        // Length-sorted batches with dynamic padding; ties keep input order, so the same input
        // always makes the same batches.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i].ids.len());
        // One window per run for dynamically quantized models (see Manifest::batch_dependent), on
        // as many single-threaded sessions as threads, working on different windows at once: small
        // runs parallelise poorly inside ONNX Runtime. Each window's result is independent of
        // which session ran it and when, and results are summed in a fixed order, so output is
        // identical whatever the thread count.
        let batch_dependent = self.manifest.batch_dependent();
        let batch_size = if batch_dependent { 1 } else { self.opts.batch_size.max(1) };
        let threads = self.opts.threads.max(1);
        let batches: Vec<&[usize]> = order.chunks(batch_size).collect();
        let (n_sessions, intra) = if batch_dependent && !self.opts.levers.one_session { (threads.min(batches.len()).max(1), 1) } else { (1, threads) };
        self.ensure_sessions(n_sessions, intra)?;
        let t1 = std::time::Instant::now();
        let (pad, manifest) = (self.pad as i64, &self.manifest);
        let mut results: Vec<Option<Result<Vec<WindowLogits>>>> = (0..batches.len()).map(|_| None).collect();
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

        // Combine windows: class outputs weighted by window length, token outputs averaged over
        // the windows that hold each token.
        let outputs = &self.manifest.outputs;
        let mut sums: Vec<Vec<Vec<f32>>> = inputs.iter().map(|_| outputs.iter().map(|o| vec![0f32; o.labels.len()]).collect()).collect();
        let mut weights = vec![0f32; inputs.len()];
        let mut token_sums: Vec<Vec<Vec<f32>>> = inputs.iter().map(|_| vec![Vec::new(); outputs.len()]).collect();
        let mut token_counts: Vec<Vec<Vec<f32>>> = inputs.iter().map(|_| vec![Vec::new(); outputs.len()]).collect();
        for (batch, logits) in batches.iter().zip(results) {
            let logits = logits.expect("every batch is run unless one failed")?;
            for (&w, row) in batch.iter().zip(logits) {
                let win = &windows[w];
                let kind = inputs[win.input].kind();
                for (oi, o) in outputs.iter().enumerate() {
                    if o.input != kind {
                        continue;
                    }
                    let n = o.labels.len();
                    let t = manifest.temperature(&o.name);
                    if o.per_token {
                        let text_len = enc[inputs[win.input].second].ids.len();
                        let (ts, tc) = (&mut token_sums[win.input][oi], &mut token_counts[win.input][oi]);
                        if ts.is_empty() {
                            ts.resize(text_len * n, 0.0);
                            tc.resize(text_len, 0.0);
                        }
                        for (k, tok) in win.text_range.clone().enumerate() {
                            let pos = win.text_at + k;
                            let p = softmax(&row[oi][pos * n..(pos + 1) * n], t);
                            for (s, x) in ts[tok * n..(tok + 1) * n].iter_mut().zip(p) {
                                *s += x;
                            }
                            tc[tok] += 1.0;
                        }
                    } else {
                        for (s, p) in sums[win.input][oi].iter_mut().zip(softmax(&row[oi], t)) {
                            *s += p * win.weight;
                        }
                    }
                }
                weights[win.input] += win.weight;
            }
        }
        let mut preds = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let mut pred = Prediction { windows: n_windows[i], ..Prediction::default() };
            for (oi, o) in outputs.iter().enumerate() {
                if o.input != input.kind() {
                    continue;
                }
                if o.per_token {
                    let n = o.labels.len();
                    let e = enc[input.second];
                    let toks = (0..e.ids.len())
                        .filter(|&k| token_counts[i][oi].get(k).is_some_and(|&c| c > 0.0) && e.offsets[k].0 < e.offsets[k].1)
                        .map(|k| {
                            let c = token_counts[i][oi][k];
                            let (a, b) = e.offsets[k];
                            TokenProbs { start: char_index(input.second, a), end: char_index(input.second, b), probs: token_sums[i][oi][k * n..(k + 1) * n].iter().map(|x| x / c).collect() }
                        })
                        .collect();
                    pred.tokens.insert(o.name.clone(), toks);
                } else {
                    let w = weights[i].max(f32::MIN_POSITIVE);
                    pred.outputs.insert(o.name.clone(), sums[i][oi].iter().map(|x| x / w).collect());
                }
            }
            preds.push(pred);
        }
        Ok(preds)
    }
}

/// Character index of a byte offset (offsets in records count characters, as Python does).
fn char_index(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    let mut b = byte;
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    text[..b].chars().count()
}

impl OnnxClassifier {
    fn ensure_sessions(&mut self, n: usize, intra: usize) -> Result<()> {
        // a classifier's model and threads are fixed, so `intra` is too: the pool only grows
        while self.sessions.len() < n {
            let env = runtime::environment()?;
            let ort_err = |e: ort::Error<ort::session::builder::SessionBuilder>| Error::Runtime { message: e.to_string(), help: "check the ONNX Runtime installation".into() };
            let level = match self.opts.levers.optimization.as_deref() {
                Some("basic") => GraphOptimizationLevel::Level1,
                Some("extended") => GraphOptimizationLevel::Level2,
                _ => GraphOptimizationLevel::All,
            };
            let mut builder = Session::builder(env)
                .map_err(|e| Error::Runtime { message: e.to_string(), help: "check the ONNX Runtime installation".into() })?
                .with_optimization_level(level)
                .map_err(ort_err)?;
            if let Some(spin) = self.opts.levers.spinning {
                builder = builder.with_intra_op_spinning(spin).map_err(ort_err)?;
            }
            let session = builder
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
/// Runs one batch; returns, per row, per manifest output, that row's logits (per position for
/// per-token outputs).
fn run_batch(session: &mut Session, manifest: &Manifest, input: Padded) -> Result<Vec<WindowLogits>> {
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
    let outputs = session.run(feed).map_err(inf)?;
    let mut per_row: Vec<WindowLogits> = (0..rows).map(|_| Vec::with_capacity(manifest.outputs.len())).collect();
    for o in &manifest.outputs {
        let n = o.labels.len();
        let value = outputs.get(o.tensor.as_str()).ok_or_else(|| Error::Inference(format!("model has no output tensor {:?} (manifest output {:?})", o.tensor, o.name)))?;
        let (out_shape, data) = value.try_extract_tensor::<f32>().map_err(inf)?;
        let expected: Vec<i64> = if o.per_token { vec![rows as i64, width as i64, n as i64] } else { vec![rows as i64, n as i64] };
        if out_shape.iter().copied().collect::<Vec<i64>>() != expected {
            return Err(Error::Inference(format!("output {:?} has shape {out_shape:?}, expected {expected:?} (labels in manifest)", o.tensor)));
        }
        let stride = data.len() / rows.max(1);
        for (r, row) in per_row.iter_mut().enumerate() {
            row.push(data[r * stride..(r + 1) * stride].to_vec());
        }
    }
    Ok(per_row)
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
