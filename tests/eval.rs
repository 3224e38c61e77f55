//! Eval adapters on small excerpts in each native format, and the CLI's JSON keys.

use std::path::{Path, PathBuf};
use std::process::Command;

use slant::eval::{FixtureFormat, Gold, load};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("slant-eval-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn summary(path: &Path) -> (FixtureFormat, Vec<(String, Gold)>) {
    let (f, fx) = load(path, None).unwrap();
    (f, fx.into_iter().map(|x| (x.target, x.gold)).collect())
}

#[test]
fn newsmtsc_both_label_schemes() {
    let d = tmp("mtsc");
    let orig = d.join("orig_train.jsonl");
    std::fs::write(&orig, r#"{"primary_gid": "g1", "sentence_normalized": "Trump blamed Clinton.", "targets": [{"Input.gid": "g1", "from": 0, "to": 5, "mention": "Trump", "polarity": 2.0}, {"Input.gid": "g2", "from": 13, "to": 20, "mention": "Clinton", "polarity": 6.0}]}"#).unwrap();
    assert_eq!(summary(&orig), (FixtureFormat::NewsMtsc, vec![("Trump".into(), Gold::Against), ("Clinton".into(), Gold::Favor)]));
    let hf = d.join("rw-hf_dev.jsonl");
    std::fs::write(&hf, "{\"mention\": \"Cruz\", \"polarity\": 0, \"from\": 0, \"to\": 4, \"sentence\": \"Cruz came third.\", \"id\": \"x\"}\n{\"mention\": \"He\", \"polarity\": -1, \"from\": 0, \"to\": 2, \"sentence\": \"He lied.\", \"id\": \"y\"}\n").unwrap();
    assert_eq!(summary(&hf).1, vec![("Cruz".into(), Gold::Neutral), ("He".into(), Gold::Against)]);
}

#[test]
fn tweeteval_folders_map_to_official_targets() {
    let d = tmp("semeval");
    std::fs::write(d.join("mapping.txt"), "0\tnone\n1\tagainst\n2\tfavor").unwrap();
    for (folder, labels) in [("hillary", "1\n2\n"), ("climate", "0\n")] {
        std::fs::create_dir_all(d.join(folder)).unwrap();
        let n = labels.lines().count();
        std::fs::write(d.join(folder).join("val_text.txt"), "a tweet #SemST \n".repeat(n)).unwrap();
        std::fs::write(d.join(folder).join("val_labels.txt"), labels).unwrap();
    }
    let (f, rows) = summary(&d);
    assert_eq!(f, FixtureFormat::Semeval);
    assert_eq!(rows, vec![("Climate Change is a Real Concern".into(), Gold::Neutral), ("Hillary Clinton".into(), Gold::Against), ("Hillary Clinton".into(), Gold::Favor)]);
    // a single target folder works too
    assert_eq!(summary(&d.join("climate")).1.len(), 1);
}

#[test]
fn vast_and_ruw_csv() {
    let d = tmp("csv");
    let vast = d.join("vast_dev.csv");
    std::fs::write(&vast, "Tweet,Target,Stance,seen?\n\"Salt is fine, really\",salt,1,0\nNo to guns,guns,0,1\nmeh,library,2,1\n").unwrap();
    assert_eq!(summary(&vast), (FixtureFormat::Vast, vec![("salt".into(), Gold::Favor), ("guns".into(), Gold::Against), ("library".into(), Gold::Neutral)]));
    let ruw = d.join("val.csv");
    std::fs::write(&ruw, "Tweet,Target 1,Stance 1,Target 2,Stance 2,Test/Train/Dev\n\"Russia, stop.\",Russia,AGAINST,Ukraine,NONE,Dev\n").unwrap();
    assert_eq!(summary(&ruw), (FixtureFormat::Ruw, vec![("Russia".into(), Gold::Against), ("Ukraine".into(), Gold::Neutral)]));
}

#[test]
fn news_stance_reads_only_dev_articles_with_absent_labels() {
    let d = tmp("ns");
    let f = d.join("train.jsonl");
    // find one dev and one train article id under the training split rule
    let dev = (0..).map(|i| format!("a{i}")).find(|a| slant::eval::adapters::is_dev_article(a)).unwrap();
    let train = (0..).map(|i| format!("a{i}")).find(|a| !slant::eval::adapters::is_dev_article(a)).unwrap();
    let rec = |id: &str, art: &str| format!(r#"{{"id": "{id}", "article_id": "{art}", "text": "NATO met.", "gold": {{"NATO": "favor", "US": "absent", "Europe": "neutral"}}}}"#);
    std::fs::write(&f, format!("{}\n{}\n", rec("t1", &dev), rec("t2", &train))).unwrap();
    let (fmt, rows) = summary(&f);
    assert_eq!(fmt, FixtureFormat::NewsStance);
    assert_eq!(rows, vec![("NATO".into(), Gold::Favor), ("US".into(), Gold::Absent), ("Europe".into(), Gold::Neutral)]);
}

#[test]
fn cli_json_has_the_documented_keys() {
    let o = Command::new(env!("CARGO_BIN_EXE_slant"))
        .args(["eval", concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/fixtures/seeds.jsonl"), "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in ["n", "accuracy", "macro_f1", "f_avg", "per_class", "confusion", "ece", "per_target", "baseline", "detection"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["n"].as_u64(), Some(101), "present (non-absent) seed fixtures");
    assert_eq!(v["detection"]["n"].as_u64(), Some(255));
    for c in ["against", "neutral", "favor"] {
        assert!(v["per_class"][c]["f1"].is_number());
    }
}

#[test]
fn news_stance_editorial_labels_follow_the_holder_and_synthetic_text_is_never_dev() {
    let d = tmp("holder");
    let f = d.join("train-3.jsonl");
    let dev = |k: usize| (0..).map(|i| format!("b{i}")).filter(|a| slant::eval::adapters::is_dev_article(a)).nth(k).unwrap();
    let rec = |id: &str, art: &str, holder: &str, extra: &str| {
        format!(r#"{{"id": "{id}", "article_id": "{art}", "source_leaning": "left", "text": "NATO met.", "gold": {{"NATO": "against", "US": "absent", "Europe": "absent"}}, "holder": {{"NATO": "{holder}", "US": "", "Europe": ""}}{extra}}}"#)
    };
    let lines = [rec("q", &dev(0), "quoted", ""), rec("a", &dev(1), "author", ""), rec("m", &dev(2), "mixed", ""), rec("d", &dev(3), "disputed", ""), rec("s", &dev(4), "author", r#", "synthetic": true"#)];
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let (_, fx) = slant::eval::load(&f, Some("news-stance")).unwrap();
    let nato: Vec<_> = fx.iter().filter(|x| x.target == "NATO").map(|x| (x.id.clone(), x.gold, x.editorial, x.leaning.clone())).collect();
    assert_eq!(nato.len(), 4, "synthetic records are left out: {nato:?}");
    assert_eq!(nato[0], ("q:NATO".into(), Gold::Against, Some(Gold::Neutral), Some("left".into())), "only quoted speakers hold it: editorial neutral");
    assert_eq!(nato[1].2, Some(Gold::Against));
    assert_eq!(nato[2].2, Some(Gold::Against), "mixed counts as the author's");
    assert_eq!(nato[3].2, None, "disputed holder: no editorial label");
}
