//! End to end with the shipped model: ingest → segment → targets → model → score.
//! Needs ONNX Runtime 1.31.1 (found or fetched as `slant` does; see README).

use std::path::{Path, PathBuf};

use slant::ingest::{IngestOptions, read_inputs};
use slant::model::{Classifier, Manifest, ModelInput, ModelOptions, OnnxClassifier, default_model_dir};
use slant::score::{Record, ScoreOptions, StanceScore, score_articles};
use slant::segment::Section;
use slant::targets::TargetSet;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model(batch_size: usize) -> OnnxClassifier {
    OnnxClassifier::load(&default_model_dir(), ModelOptions { threads: 2, batch_size, ..ModelOptions::default() }).expect("shipped model loads")
}

fn score_seeds(opts: &ScoreOptions) -> Vec<StanceScore> {
    let ingested = read_inputs(&[root().join("datasets/seeds")], &IngestOptions::default()).unwrap();
    let mut out = Vec::new();
    score_articles(&ingested.articles, &TargetSet::builtin(), &mut model(32), opts, &mut |_, _| {}, &mut |r| {
        if let Record::Stance(s) = r {
            out.push(s);
        }
        Ok(())
    })
    .unwrap();
    out
}

fn mean_body_score(scores: &[StanceScore], doc_prefix: &str, target: &str) -> f32 {
    let v: Vec<f32> = scores.iter().filter(|s| s.at.doc_id.starts_with(doc_prefix) && s.target == target && s.at.section == Section::Body).map(|s| s.score).collect();
    assert!(!v.is_empty(), "no {target} scores for {doc_prefix}");
    v.iter().sum::<f32>() / v.len() as f32
}

#[test]
fn seed_000_reads_as_less_favourable_to_nato_than_001() {
    // The product's motivating pair. The shipped model orders them (000 below 001, by the contrast's
    // CI in tests/report.rs) but does not yet put 000's mean below zero: see the model card's limits.
    let scores = score_seeds(&ScoreOptions::default());
    let anti = mean_body_score(&scores, "000_", "NATO");
    let pro = mean_body_score(&scores, "001_", "NATO");
    eprintln!("mean NATO score: 000 = {anti:.3}, 001 = {pro:.3}");
    assert!(anti < pro, "000 = {anti}, 001 = {pro}");
    assert!(pro > 0.0, "001 = {pro}");
}

#[test]
fn records_carry_every_field_and_comments_are_tagged() {
    let scores = score_seeds(&ScoreOptions::default());
    let json = serde_json::to_value(&scores[0]).unwrap();
    for key in ["doc_id", "source", "title", "paragraph", "section", "target", "mentions", "text", "probs", "score", "label", "model"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    for s in &scores {
        let p = s.probs;
        assert!((p.against + p.neutral + p.favor - 1.0).abs() < 2e-3);
        assert!((s.score - (p.favor - p.against)).abs() < 2e-3);
        assert!(!s.mentions.is_empty(), "only mentioned targets are scored by default");
        assert_eq!(s.model.sha256.len(), 64);
    }
    assert!(scores.iter().any(|s| s.at.doc_id.starts_with("003_") && s.at.section == Section::Comments));
    assert!(scores.iter().all(|s| s.at.section != Section::Boilerplate));
    assert_eq!(scores.iter().find(|s| s.at.doc_id.starts_with("001_")).unwrap().at.source, "Atlantic Council");
}

#[test]
fn all_targets_scores_every_target_for_every_paragraph() {
    let opts = ScoreOptions { all_targets: true, sections: vec![Section::Body], ..ScoreOptions::default() };
    let scores = score_seeds(&opts);
    let n000 = scores.iter().filter(|s| s.at.doc_id.starts_with("000_")).count();
    assert_eq!(n000 % 3, 0);
    assert!(scores.iter().any(|s| s.mentions.is_empty()));
}

#[test]
fn manual_pair_encoding_matches_the_tokenizer() {
    // the model builds [CLS] target [SEP]×k text [SEP] from separately tokenized parts (k from the
    // manifest: 1 for BERT, 2 for MPNet); the tokenizer's own pair template must give the same ids
    for tier in ["accurate", "fast"] {
        let dir = slant::model::resolve_model_dir(tier);
        let m = Manifest::load(&dir).unwrap();
        let sp = m.special();
        let mut tok = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
        tok.with_truncation(None).unwrap();
        let enc = tok.encode(("the United States", "NATO's allies met in Brussels."), true).unwrap();
        let a = tok.encode("the United States", false).unwrap();
        let b = tok.encode("NATO's allies met in Brussels.", false).unwrap();
        let cls = tok.token_to_id(&sp.cls).unwrap();
        let sep = tok.token_to_id(&sp.sep).unwrap();
        let mut manual = vec![cls];
        manual.extend(a.get_ids());
        manual.extend(std::iter::repeat_n(sep, sp.pair_separators));
        manual.extend(b.get_ids());
        manual.push(sep);
        assert_eq!(enc.get_ids(), manual.as_slice(), "{tier}");
    }
}

#[test]
fn a_3000_token_paragraph_is_windowed_not_truncated() {
    let mut m = model(8);
    // ~3,000 tokens of filler, then a last sentence that only a model reading the end can see
    let filler = "The committee met on Tuesday and discussed the budget, the schedule and the agenda. ".repeat(170);
    let bad = format!("{filler}NATO is a criminal, failed alliance that must be dismantled.");
    let good = format!("{filler}NATO is a great, successful alliance that keeps everyone safe.");
    let preds = m.classify(&[ModelInput::pair("NATO", &bad), ModelInput::pair("NATO", &good)], &mut |_| {}).unwrap();
    assert!(preds[0].windows >= 12, "{} windows", preds[0].windows);
    assert_eq!(preds[0].windows, preds[1].windows);
    for p in &preds {
        assert!((p.probs("stance").unwrap().iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
    // truncation to the first 256 tokens would make the two identical
    assert_ne!(preds[0].probs("stance"), preds[1].probs("stance"), "the end of a long paragraph must reach the model");
}

#[test]
fn a_broken_model_folder_is_a_clear_error() {
    let tmp = std::env::temp_dir().join(format!("slant-model-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let err = OnnxClassifier::load(&tmp, ModelOptions::default()).err().unwrap().to_string();
    assert!(err.contains("manifest.json is missing"), "{err}");
    let src = default_model_dir();
    for f in ["manifest.json", "tokenizer.json"] {
        std::fs::copy(src.join(f), tmp.join(f)).unwrap();
    }
    std::fs::write(tmp.join("model.onnx"), b"not a model").unwrap();
    let err = OnnxClassifier::load(&tmp, ModelOptions::default()).err().unwrap().to_string();
    assert!(err.contains("sha256") && err.contains("help:"), "{err}");
    std::fs::remove_dir_all(&tmp).ok();
    let _ = Path::new("");
}
