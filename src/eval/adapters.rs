//! Readers for labelled data: slant fixtures and the public stance sets in their native files.

use std::path::{Path, PathBuf};

use super::{Fixture, Gold};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixtureFormat {
    Slant,
    NewsMtsc,
    Semeval,
    Vast,
    Ruw,
    /// `../shared/datasets/news-stance/train.jsonl`, split by article exactly as training did;
    /// the dev articles are read.
    NewsStance,
}

impl FixtureFormat {
    pub fn parse(s: &str) -> Result<FixtureFormat> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "slant" => FixtureFormat::Slant,
            "newsmtsc" => FixtureFormat::NewsMtsc,
            "semeval" | "tweeteval" => FixtureFormat::Semeval,
            "vast" => FixtureFormat::Vast,
            "ruw" => FixtureFormat::Ruw,
            "news-stance" | "newsstance" => FixtureFormat::NewsStance,
            other => return Err(Error::Usage(format!("unknown --format {other:?}\n  help: use one of slant, newsmtsc, semeval, vast, ruw, news-stance (or leave it out to detect it from the file)"))),
        })
    }

    /// Guess the format from the path and the first line of the file.
    pub fn detect(path: &Path) -> Result<FixtureFormat> {
        if path.is_dir() {
            if path.join("mapping.txt").is_file() || has_split_files(path) || std::fs::read_dir(path).map_err(|e| Error::io(path, e))?.filter_map(|e| e.ok()).any(|e| has_split_files(&e.path())) {
                return Ok(FixtureFormat::Semeval);
            }
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with("_text.txt") {
            return Ok(FixtureFormat::Semeval);
        }
        let first = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?.lines().next().unwrap_or("").to_string();
        let undetected = || Error::Input {
            path: path.to_path_buf(),
            message: "cannot tell the fixture format from the file".into(),
            help: "pass --format slant|newsmtsc|semeval|vast|ruw".into(),
        };
        if name.ends_with(".csv") {
            if first.contains("Target 1") {
                return Ok(FixtureFormat::Ruw);
            }
            if first.contains("Target") || first.contains("new_topic") {
                return Ok(FixtureFormat::Vast);
            }
            return Err(undetected());
        }
        let v: serde_json::Value = serde_json::from_str(&first).map_err(|_| undetected())?;
        if v.get("gold").is_some() && v.get("article_id").is_some() {
            Ok(FixtureFormat::NewsStance)
        } else if v.get("sentence").is_some() || v.get("sentence_normalized").is_some() {
            Ok(FixtureFormat::NewsMtsc)
        } else if v.get("label").is_some() && v.get("target").is_some() {
            Ok(FixtureFormat::Slant)
        } else {
            Err(undetected())
        }
    }
}

fn has_split_files(dir: &Path) -> bool {
    ["val", "test", "train"].iter().any(|s| dir.join(format!("{s}_text.txt")).is_file())
}

pub fn read(path: &Path, format: FixtureFormat) -> Result<Vec<Fixture>> {
    match format {
        FixtureFormat::Slant => read_slant(path),
        FixtureFormat::NewsMtsc => read_newsmtsc(path),
        FixtureFormat::Semeval => read_semeval(path),
        FixtureFormat::Vast => read_vast(path),
        FixtureFormat::Ruw => read_ruw(path),
        FixtureFormat::NewsStance => read_news_stance(path),
    }
}

fn bad_line(path: &Path, line: usize, message: String, help: &str) -> Error {
    Error::InputLine { path: path.to_path_buf(), line, message, help: help.into() }
}

fn read_slant(path: &Path) -> Result<Vec<Fixture>> {
    #[derive(serde::Deserialize)]
    struct Row {
        id: Option<serde_json::Value>,
        text: String,
        target: String,
        label: String,
        /// The stance in the author's own voice, where known.
        #[serde(default)]
        editorial: Option<String>,
    }
    let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in raw.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let help = r#"each line: {"id": "...", "text": "...", "target": "NATO", "label": "favor|against|neutral|absent", "editorial"?: "..."}"#;
        let row: Row = serde_json::from_str(line).map_err(|e| bad_line(path, i + 1, format!("not a fixture record: {e}"), help))?;
        let gold = Gold::parse(&row.label).ok_or_else(|| bad_line(path, i + 1, format!("unknown label {:?}", row.label), help))?;
        let id = match row.id {
            Some(serde_json::Value::String(s)) => s,
            Some(v) => v.to_string(),
            None => format!("line{}", i + 1),
        };
        out.push(Fixture { id, text: row.text, target: row.target, gold, editorial: row.editorial.as_deref().and_then(Gold::parse), ..Fixture::default() });
    }
    Ok(out)
}

/// NewsMTSC in either label scheme: `orig_train.jsonl` style (targets list, polarity 2/4/6) or
/// the `*-hf_*.jsonl` style (mention/polarity −1/0/1). The mention string is the target.
fn read_newsmtsc(path: &Path) -> Result<Vec<Fixture>> {
    let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in raw.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad_line(path, i + 1, format!("malformed JSON: {e}"), "NewsMTSC files hold one JSON object per line"))?;
        let scheme = |p: f64| -> Option<Gold> {
            Some(match p {
                x if x == 2.0 || x == -1.0 => Gold::Against,
                x if x == 4.0 || x == 0.0 => Gold::Neutral,
                x if x == 6.0 || x == 1.0 => Gold::Favor,
                _ => return None,
            })
        };
        if let Some(targets) = v.get("targets").and_then(|t| t.as_array()) {
            let text = v["sentence_normalized"].as_str().unwrap_or_default();
            for (k, t) in targets.iter().enumerate() {
                let gold = t["polarity"].as_f64().and_then(scheme).ok_or_else(|| bad_line(path, i + 1, "unknown polarity".into(), "NewsMTSC polarity is 2/4/6 or -1/0/1"))?;
                out.push(Fixture { id: format!("{}#{k}", v["primary_gid"].as_str().unwrap_or("")), text: text.into(), target: t["mention"].as_str().unwrap_or_default().into(), gold, ..Fixture::default() });
            }
        } else {
            let gold = v["polarity"].as_f64().and_then(scheme).ok_or_else(|| bad_line(path, i + 1, "unknown polarity".into(), "NewsMTSC polarity is 2/4/6 or -1/0/1"))?;
            out.push(Fixture {
                id: v["id"].as_str().map_or_else(|| format!("line{}", i + 1), str::to_string),
                text: v["sentence"].as_str().unwrap_or_default().into(),
                target: v["mention"].as_str().unwrap_or_default().into(),
                gold,
                ..Fixture::default()
            });
        }
    }
    Ok(out)
}

/// Official SemEval-2016 Task 6 target names for the tweeteval folder names.
pub fn semeval_target(folder: &str) -> Option<&'static str> {
    Some(match folder {
        "abortion" => "Legalization of Abortion",
        "atheism" => "Atheism",
        "climate" => "Climate Change is a Real Concern",
        "feminist" => "Feminist Movement",
        "hillary" => "Hillary Clinton",
        _ => return None,
    })
}

/// tweeteval stance: a root with one folder per target, a target folder, or a `*_text.txt` file.
/// In a folder the `val` split is read (else `test`, else `train`); labels per `mapping.txt`
/// (0 none, 1 against, 2 favor).
fn read_semeval(path: &Path) -> Result<Vec<Fixture>> {
    let mut files: Vec<(PathBuf, PathBuf, String)> = Vec::new();
    let split_in = |dir: &Path| ["val", "test", "train"].into_iter().find(|s| dir.join(format!("{s}_text.txt")).is_file());
    let mut add_dir = |dir: &Path| -> Result<()> {
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let target = semeval_target(&folder).map(str::to_string).unwrap_or(folder);
        if let Some(s) = split_in(dir) {
            files.push((dir.join(format!("{s}_text.txt")), dir.join(format!("{s}_labels.txt")), target));
        }
        Ok(())
    };
    if path.is_file() {
        let dir = path.parent().unwrap_or(Path::new("."));
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let labels = PathBuf::from(path.to_string_lossy().replace("_text.txt", "_labels.txt"));
        files.push((path.to_path_buf(), labels, semeval_target(&folder).map(str::to_string).unwrap_or(folder)));
    } else if split_in(path).is_some() {
        add_dir(path)?;
    } else {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for d in dirs {
            add_dir(&d)?;
        }
    }
    let mut out = Vec::new();
    for (text_path, label_path, target) in files {
        let texts = std::fs::read_to_string(&text_path).map_err(|e| Error::io(&text_path, e))?;
        let labels = std::fs::read_to_string(&label_path).map_err(|e| Error::io(&label_path, e))?;
        for (i, (t, l)) in texts.lines().zip(labels.lines()).enumerate() {
            let gold = match l.trim() {
                "0" => Gold::Neutral,
                "1" => Gold::Against,
                "2" => Gold::Favor,
                other => return Err(bad_line(&label_path, i + 1, format!("unknown label {other:?}"), "tweeteval stance labels are 0 none, 1 against, 2 favor")),
            };
            out.push(Fixture { id: format!("{}:{}", target, i + 1), text: t.trim().into(), target: target.clone(), gold, ..Fixture::default() });
        }
    }
    Ok(out)
}

fn csv_reader(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    csv::Reader::from_path(path).map_err(|e| Error::Input { path: path.to_path_buf(), message: e.to_string(), help: "the file must be CSV with a header row".into() })
}

/// VAST: `Tweet,Target,Stance` (0 against, 1 favor, 2 neutral) or the original columns
/// `post,new_topic,label` (0 con, 1 pro, 2 neutral).
fn read_vast(path: &Path) -> Result<Vec<Fixture>> {
    let mut rdr = csv_reader(path)?;
    let headers = rdr.headers().map_err(|e| Error::Input { path: path.to_path_buf(), message: e.to_string(), help: "CSV header expected".into() })?.clone();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h));
    let (Some(ti), Some(gi), Some(li)) = (col(&["Tweet", "post"]), col(&["Target", "new_topic", "topic_str"]), col(&["Stance", "label"])) else {
        return Err(Error::Input { path: path.to_path_buf(), message: "missing VAST columns".into(), help: "expected Tweet,Target,Stance or post,new_topic,label".into() });
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad_line(path, i + 2, e.to_string(), "fix the CSV row"))?;
        let gold = match rec.get(li).unwrap_or("").trim() {
            "0" => Gold::Against,
            "1" => Gold::Favor,
            "2" => Gold::Neutral,
            other => return Err(bad_line(path, i + 2, format!("unknown stance {other:?}"), "VAST stance is 0 against, 1 favor, 2 neutral")),
        };
        out.push(Fixture { id: format!("vast:{}", i + 1), text: rec.get(ti).unwrap_or("").into(), target: rec.get(gi).unwrap_or("").into(), gold, ..Fixture::default() });
    }
    Ok(out)
}

/// RUW: two targets per tweet (`Target 1`/`Stance 1`, `Target 2`/`Stance 2`), FAVOR/AGAINST/NONE.
fn read_ruw(path: &Path) -> Result<Vec<Fixture>> {
    let mut rdr = csv_reader(path)?;
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad_line(path, i + 2, e.to_string(), "fix the CSV row"))?;
        for k in 0..2 {
            let target = rec.get(1 + 2 * k).unwrap_or("").trim();
            let gold = match rec.get(2 + 2 * k).unwrap_or("").trim() {
                "FAVOR" => Gold::Favor,
                "AGAINST" => Gold::Against,
                "NONE" => Gold::Neutral,
                other => return Err(bad_line(path, i + 2, format!("unknown stance {other:?}"), "RUW stances are FAVOR, AGAINST, NONE")),
            };
            out.push(Fixture { id: format!("ruw:{}:{}", i + 1, k + 1), text: rec.get(0).unwrap_or("").into(), target: target.into(), gold, ..Fixture::default() });
        }
    }
    Ok(out)
}

/// The training script's split: an article is dev when sha1(article_id)[:8] as hex % 1000 < 200.
pub fn is_dev_article(article_id: &str) -> bool {
    dev_bucket(article_id) < 200
}

/// The training scripts' split: sha1 of the article id, first 8 hex digits, modulo 1000; dev is
/// below 200. Dev half A (below 100) tunes (prior offsets, temperature); half B (100–199) measures
/// what tuning must not see (the profile error).
pub fn dev_bucket(article_id: &str) -> u64 {
    let hex = sha1_smol::Sha1::from(article_id).digest().to_string();
    u64::from_str_radix(&hex[..8], 16).map_or(u64::MAX, |h| h % 1000)
}

pub fn dev_half_a(article_id: &str) -> bool {
    dev_bucket(article_id) < 100
}

/// The stance in the author's own voice from a news-stance label and its holder (GUIDELINE.md):
/// the stance where the author holds it (alone or with quoted speakers), neutral where only quoted
/// speakers do; unknown for disputed holders.
pub fn editorial_gold(gold: Gold, holder: &str) -> Option<Gold> {
    match (gold, holder) {
        (Gold::Absent, _) => Some(Gold::Absent),
        (Gold::Neutral, _) => Some(Gold::Neutral),
        (_, "author" | "mixed") => Some(gold),
        (_, "quoted") => Some(Gold::Neutral),
        _ => None,
    }
}

/// news-stance: one record per paragraph with `gold` labels for NATO, US and Europe (absent
/// included, so detection is measured too). Only dev-split articles are read: the rest trained the model.
fn read_news_stance(path: &Path) -> Result<Vec<Fixture>> {
    let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in raw.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad_line(path, i + 1, format!("malformed JSON: {e}"), "one JSON object per line"))?;
        // synthetic text is never dev data
        if v["synthetic"].as_bool() == Some(true) || !is_dev_article(v["article_id"].as_str().unwrap_or_default()) {
            continue;
        }
        for target in ["NATO", "US", "Europe"] {
            let Some(gold) = v["gold"][target].as_str().and_then(Gold::parse) else { continue };
            let holder = v["holder"][target].as_str().unwrap_or_default().to_string();
            out.push(Fixture {
                id: format!("{}:{target}", v["id"].as_str().unwrap_or_default()),
                text: v["text"].as_str().unwrap_or_default().into(),
                target: target.into(),
                gold,
                editorial: editorial_gold(gold, &holder),
                leaning: v["source_leaning"].as_str().map(str::to_string),
                holder: (!holder.is_empty()).then_some(holder),
                article: v["article_id"].as_str().map(str::to_string),
            });
        }
    }
    Ok(out)
}
