//! The paragraph-level bias outputs (register, loaded language, loaded words) with the shipped
//! model, paragraph records, and `slant eval --format slant-bias`.

use std::path::PathBuf;
use std::process::Command;

use slant::model::{Classifier, ModelInput, ModelOptions, OnnxClassifier, default_model_dir};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const WIRE: &str = "Defence ministers of the 32 NATO member states met in Brussels on Thursday to review progress on ammunition production, officials said. The meeting lasted four hours and ended with a joint statement on stockpiles.";
const OPED: &str = "Once again the warmongers of Brussels have ordered Europe's obedient puppets to empty their treasuries for yet another round of militarized madness. Nothing about this so-called defensive alliance has ever been about defence.";

#[test]
fn a_wire_report_reads_as_report_and_an_op_ed_as_loaded_opinion() {
    let mut m = OnnxClassifier::load(&default_model_dir(), ModelOptions { threads: 2, ..ModelOptions::default() }).unwrap();
    let labels = |o: &str| m.manifest().output(o).unwrap().labels.clone();
    let (reg, lod) = (labels("register"), labels("loaded"));
    let preds = m.classify(&[ModelInput::text(WIRE), ModelInput::text(OPED)], &mut |_| {}).unwrap();
    let top = |v: &[f32], l: &[String]| l[v.iter().enumerate().fold(0, |b, (i, &x)| if x > v[b] { i } else { b })].clone();
    assert_eq!(top(preds[0].probs("register").unwrap(), &reg), "report");
    assert_eq!(top(preds[0].probs("loaded").unwrap(), &lod), "no");
    assert_eq!(top(preds[1].probs("register").unwrap(), &reg), "opinion");
    assert_eq!(top(preds[1].probs("loaded").unwrap(), &lod), "yes");
    // the token head marks words of the op-ed, with offsets into the text as given
    let spans = slant::score::spans_of(OPED, &preds[1].tokens["loaded_tokens"], 1);
    assert!(!spans.is_empty(), "no loaded words found in the op-ed");
    for s in &spans {
        assert_eq!(OPED.chars().skip(s.start).take(s.end - s.start).collect::<String>(), s.text);
    }
    let wire_spans = slant::score::spans_of(WIRE, &preds[0].tokens["loaded_tokens"], 1);
    assert!(wire_spans.len() < spans.len(), "the wire report has fewer loaded words: {wire_spans:?}");
}

#[test]
fn every_scored_paragraph_gets_a_record_even_without_a_target() {
    let d = std::env::temp_dir().join(format!("slant-bias-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("a.txt"), format!("{WIRE}\n\nThe weather in the capital was mild and the markets were calm all week.\n")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_slant")).arg("score").arg(d.join("a.txt")).args(["--no-cache", "--threads", "2"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let recs: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let paras: Vec<&serde_json::Value> = recs.iter().filter(|r| r["kind"] == "paragraph").collect();
    assert_eq!(paras.len(), 2, "both paragraphs, the one without a target too");
    assert_eq!(paras[1]["paragraph"], 1);
    assert!(!recs.iter().any(|r| r["kind"] == "stance" && r["paragraph"] == 1), "no target, no stance record");
    for p in &paras {
        assert!(p["register"]["probs"]["opinion"].is_number() && p["loaded"]["probs"]["yes"].is_number() && p["loaded_spans"].is_array(), "{p}");
    }
    // the paragraph record comes before its stance records
    assert_eq!(recs[0]["kind"], "paragraph");
    assert_eq!(recs[1]["kind"], "stance");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn eval_slant_bias_prints_the_documented_metrics() {
    let o = Command::new(env!("CARGO_BIN_EXE_slant")).arg("eval").arg(root().join("datasets/fixtures/bias-handwritten.jsonl")).args(["--format", "slant-bias", "--json", "--threads", "2"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n"], 12);
    for k in ["register_macro_f1", "register_accuracy", "loaded_f1", "loaded_precision", "loaded_recall", "span_f1", "span_precision", "span_recall"] {
        let x = v[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {v}"));
        assert!((0.0..=1.0).contains(&x), "{k} = {x}");
    }
    assert_eq!(v["register"]["confusion"].as_array().unwrap().len(), 3);
    assert!(v["register_majority_baseline"]["accuracy"].is_number() && v["loaded_majority_baseline"]["f1"].is_number());
    // a fixture whose fields are null is read, the null fields skipped
    let d = std::env::temp_dir().join(format!("slant-bias-null-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("f.jsonl"), format!("{{\"id\": \"a\", \"text\": {:?}, \"register\": null, \"loaded\": \"yes\", \"spans\": null}}\n{{\"id\": \"b\", \"text\": {:?}, \"register\": \"report\", \"loaded\": null}}\n", OPED, WIRE)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_slant")).arg("eval").arg(d.join("f.jsonl")).args(["--json"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["register"]["n"], 1);
    assert_eq!(v["loaded"]["n"], 1);
    assert!(v.get("span_f1").is_none(), "no gold spans, no span metrics");
    std::fs::remove_dir_all(&d).ok();
}
