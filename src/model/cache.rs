//! A content-addressed cache of model outputs in SQLite:
//! sha256(model sha256, temperatures, first segment or none, text) → the model's [`Prediction`]
//! (every output read from that input, as JSON).
//!
//! Re-runs over the same corpus, and wire copy repeated across outlets, cost one lookup instead of
//! a forward pass. Location: `<cache dir>/predictions.sqlite` (see [`super::runtime::cache_dir`]).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Classifier, Manifest, ModelInput, Prediction};
use crate::error::{Error, Result};

pub fn default_path() -> PathBuf {
    super::runtime::cache_dir().join("predictions.sqlite")
}

pub struct PredictionCache {
    conn: Connection,
    path: PathBuf,
}

fn db_err(path: &Path, e: rusqlite::Error) -> Error {
    Error::Input { path: path.to_path_buf(), message: format!("prediction cache: {e}"), help: "delete the cache file, or run with --no-cache".into() }
}

impl PredictionCache {
    pub fn open(path: &Path) -> Result<PredictionCache> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let conn = Connection::open(path).map_err(|e| db_err(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| db_err(path, e))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS predictions_v2 (key BLOB PRIMARY KEY, prediction TEXT NOT NULL) WITHOUT ROWID;",
        )
        .map_err(|e| db_err(path, e))?;
        Ok(PredictionCache { conn, path: path.to_path_buf() })
    }

    fn get(&self, key: &[u8; 32]) -> Result<Option<Prediction>> {
        let row: Option<String> = self
            .conn
            .prepare_cached("SELECT prediction FROM predictions_v2 WHERE key = ?1")
            .and_then(|mut st| st.query_row(params![&key[..]], |r| r.get(0)).optional())
            .map_err(|e| db_err(&self.path, e))?;
        // an entry this build cannot read is recomputed, not an error
        Ok(row.and_then(|json| serde_json::from_str(&json).ok()))
    }

    fn put_all(&mut self, items: &[([u8; 32], &Prediction)]) -> Result<()> {
        let tx = self.conn.transaction().map_err(|e| db_err(&self.path, e))?;
        {
            let mut st = tx.prepare_cached("INSERT OR REPLACE INTO predictions_v2 (key, prediction) VALUES (?1, ?2)").map_err(|e| db_err(&self.path, e))?;
            for (key, p) in items {
                let json = serde_json::to_string(p).map_err(|e| Error::Usage(e.to_string()))?;
                st.execute(params![&key[..], json]).map_err(|e| db_err(&self.path, e))?;
            }
        }
        tx.commit().map_err(|e| db_err(&self.path, e))
    }
}

/// A classifier that answers from the cache and sends only misses to the model.
pub struct Cached<C> {
    pub inner: C,
    cache: PredictionCache,
    namespace: Vec<u8>,
    pub hits: usize,
    pub misses: usize,
}

impl<C: Classifier> Cached<C> {
    pub fn new(inner: C, cache: PredictionCache) -> Cached<C> {
        let m = inner.manifest();
        let mut namespace = m.sha256.as_bytes().to_vec();
        for o in &m.outputs {
            namespace.extend(format!("|{}:t={}|", o.name, m.temperature(&o.name)).as_bytes());
        }
        Cached { inner, cache, namespace, hits: 0, misses: 0 }
    }

    fn key(&self, p: &ModelInput) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&self.namespace);
        match p.first {
            // a length prefix keeps (first, second) pairs apart; u64::MAX marks a text input
            Some(first) => {
                h.update((first.len() as u64).to_le_bytes());
                h.update(first.as_bytes());
            }
            None => h.update(u64::MAX.to_le_bytes()),
        }
        h.update(p.second.as_bytes());
        h.finalize().into()
    }
}

impl<C: Classifier> Classifier for Cached<C> {
    fn manifest(&self) -> &Manifest {
        self.inner.manifest()
    }

    fn timings(&self) -> Option<super::Timings> {
        self.inner.timings()
    }

    fn classify(&mut self, inputs: &[ModelInput], on_batch: &mut dyn FnMut(usize)) -> Result<Vec<Prediction>> {
        let keys: Vec<[u8; 32]> = inputs.iter().map(|p| self.key(p)).collect();
        let mut out: Vec<Option<Prediction>> = keys.iter().map(|k| self.cache.get(k)).collect::<Result<_>>()?;
        let miss_idx: Vec<usize> = (0..inputs.len()).filter(|&i| out[i].is_none()).collect();
        self.hits += inputs.len() - miss_idx.len();
        self.misses += miss_idx.len();
        if !miss_idx.is_empty() {
            // the same pair twice in one run (wire copy) goes to the model once
            let mut unique: Vec<usize> = Vec::new();
            let mut seen = std::collections::HashMap::new();
            for &i in &miss_idx {
                seen.entry(keys[i]).or_insert_with(|| {
                    unique.push(i);
                    unique.len() - 1
                });
            }
            let miss_inputs: Vec<ModelInput> = unique.iter().map(|&i| inputs[i]).collect();
            let preds = self.inner.classify(&miss_inputs, on_batch)?;
            let fresh: Vec<([u8; 32], &Prediction)> = unique.iter().zip(&preds).map(|(&i, p)| (keys[i], p)).collect();
            self.cache.put_all(&fresh)?;
            for &i in &miss_idx {
                out[i] = Some(preds[seen[&keys[i]]].clone());
            }
        }
        Ok(out.into_iter().map(|p| p.expect("filled")).collect())
    }
}
