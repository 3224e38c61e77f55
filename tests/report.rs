//! Profiles, contrasts and report files on the seeds, with the shipped model.

use std::path::PathBuf;

use slant::commands::{ProfileRequest, ScoreRequest, report};
use slant::segment::Section;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn request(input: PathBuf) -> ScoreRequest {
    ScoreRequest {
        inputs: vec![input],
        output: None,
        model_dir: slant::model::default_model_dir(),
        targets: None,
        sections: vec![Section::Body, Section::Comments],
        all_targets: false,
        threads: Some(2),
        batch_size: 32,
        strict: false,
        cache: None,
        resume: false,
        resume_done: Vec::new(),
    }
}

fn seeds_report(dir: &std::path::Path) -> slant::report::Report {
    report(&request(root().join("datasets/seeds")), &ProfileRequest { by: "auto".into(), contrast: None, resamples: 1000 }, dir).unwrap().0
}

#[test]
fn seeds_report_has_all_files_a_valid_schema_and_000_below_001_for_nato() {
    let dir = std::env::temp_dir().join(format!("slant-report-{}", std::process::id()));
    let r = seeds_report(&dir);
    for f in ["report.json", "report.md", "report.html", "scores.jsonl"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let nato = r.contrasts.iter().find(|c| c.target == "NATO").expect("NATO contrast");
    assert!(nato.a.starts_with("000_") && nato.b.starts_with("001_"));
    assert!(nato.mean_a < nato.mean_b && nato.diff < 0.0, "{nato:?}");
    assert!(nato.ci_high < 0.0, "the 95% CI of 000 − 001 excludes zero: {nato:?}");
    assert!(!nato.evidence_a.is_empty() && !nato.evidence_b.is_empty());
    // comments are their own groups, never mixed into the outlet's
    assert!(r.profile.rows.iter().any(|row| row.group.starts_with("003_") && row.group.ends_with("reader comments")));
    // the contrast is in all three formats
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(md.contains("## Contrast: 000_") && html.contains("Contrast: 000_"));
    assert!(html.matches("<svg").count() >= 7, "two charts per target and the contrast chart");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_accepts_scores_jsonl_and_gives_the_same_profile() {
    let dir = std::env::temp_dir().join(format!("slant-report2-{}", std::process::id()));
    let first = seeds_report(&dir);
    let req = request(dir.join("scores.jsonl"));
    let again_dir = dir.join("again");
    let (again, summary) = report(&req, &ProfileRequest { by: "auto".into(), contrast: None, resamples: 1000 }, &again_dir).unwrap();
    assert!(summary.is_none(), "no re-scoring");
    assert_eq!(serde_json::to_value(&first.profile).unwrap(), serde_json::to_value(&again.profile).unwrap());
    std::fs::remove_dir_all(&dir).ok();
}
