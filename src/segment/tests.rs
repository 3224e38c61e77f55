use std::path::Path;

use super::*;
use crate::ingest::{IngestOptions, read_file};

fn seed(name: &str) -> Vec<Paragraph> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/seeds");
    let file = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(name)).unwrap();
    let articles = read_file(&file, &IngestOptions::default(), &mut Vec::new()).unwrap();
    segment(&articles[0])
}

fn tagged(paras: &[Paragraph], section: Section) -> Vec<String> {
    paras.iter().filter(|p| p.section == section).map(|p| p.text.chars().take(40).collect()).collect()
}

#[test]
fn seed_003_comments_are_tagged_and_the_link_before_them_is_boilerplate() {
    let p = seed("003");
    let comments = tagged(&p, Section::Comments);
    assert_eq!(comments.len(), 5, "{comments:?}");
    assert!(comments[0].starts_with("Informative article, thank you"));
    let boiler = tagged(&p, Section::Boilerplate);
    assert!(boiler.iter().any(|t| t.starts_with("Please subscribe here")), "{boiler:?}");
    assert!(boiler.iter().any(|t| t.starts_with("Prioritized Ukraine Requirements")), "{boiler:?}");
    assert!(p.iter().filter(|x| x.section == Section::Body).any(|x| x.text.starts_with("But—and it is a big but")));
}

#[test]
fn seed_004_comments_after_the_blank_gap() {
    let p = seed("004");
    assert_eq!(tagged(&p, Section::Body).len(), 9);
    let comments = tagged(&p, Section::Comments);
    assert_eq!(comments.len(), 11, "{comments:?}");
    assert!(comments[0].starts_with("Rutte, his predecessor"));
}

#[test]
fn seed_001_caption_and_seed_000_read_time_are_boilerplate() {
    let p1 = seed("001");
    assert!(tagged(&p1, Section::Boilerplate).iter().any(|t| t.starts_with("A soldier stands in CV-90")));
    assert!(tagged(&p1, Section::Comments).is_empty());
    let p0 = seed("000");
    let boiler = tagged(&p0, Section::Boilerplate);
    assert_eq!(boiler, vec!["Published", "- 3 min read"]);
    let p2 = seed("002");
    let boiler = tagged(&p2, Section::Boilerplate);
    assert!(boiler.contains(&"Sources (19)".to_string()) && boiler.contains(&"Updated Feb 28, 2026".to_string()), "{boiler:?}");
    // the repeated subtitle is kept once in the body
    assert_eq!(p2.iter().filter(|x| x.text.starts_with("Tensions and interdependence") && x.section == Section::Body).count(), 1);
}

fn article(text: &str) -> Article {
    Article { id: "x".into(), source: "s".into(), title: None, date: None, url: None, leaning: None, text: text.into(), hints: vec![], origin: "x.txt".into() }
}

#[test]
fn offsets_cover_the_text_in_order_and_hard_wraps_join() {
    let text = "Title line\n\nThe alliance said on Monday that it would\nraise spending next year.\nA second paragraph.\r\n\n   indented third.  \n";
    let paras = segment(&article(text));
    let texts: Vec<_> = paras.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, vec!["Title line", "The alliance said on Monday that it would raise spending next year.", "A second paragraph.", "indented third."]);
    let mut last = 0;
    for p in &paras {
        assert!(p.range.start >= last);
        assert!(text[last..p.range.start].trim().is_empty(), "nothing but whitespace between paragraphs");
        last = p.range.end;
    }
    assert!(text[last..].trim().is_empty());
}

#[test]
fn comments_heading_and_bylines() {
    let paras = segment(&article("By Jane Doe, Reuters\nNATO met today in a long and detailed session of talks.\n12 Comments\nGreat piece!\nI disagree."));
    let s: Vec<_> = paras.iter().map(|p| p.section).collect();
    assert_eq!(s, vec![Section::Boilerplate, Section::Body, Section::Boilerplate, Section::Comments, Section::Comments]);
}

#[test]
fn a_real_paragraph_mentioning_subscriptions_stays_in_the_body() {
    let paras = segment(&article("Finland and Sweden sign up to NATO's defence plans, and Europe does not subscribe to the view that the alliance is obsolete."));
    assert_eq!(paras[0].section, Section::Body);
}
