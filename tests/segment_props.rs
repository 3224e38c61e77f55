//! Properties of segmentation on arbitrary text: paragraph offsets cover the input in order, and
//! nothing is lost or duplicated.

use proptest::prelude::*;
use slant::ingest::Article;
use slant::segment::segment;

fn article(text: String) -> Article {
    Article { id: "p".into(), source: "s".into(), title: None, date: None, url: None, leaning: None, text, hints: vec![], origin: "p.txt".into() }
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_string()),
        "[A-Za-z ,.'’—-]{1,80}",
        "[a-z ]{40,90}",
        "\\PC{0,60}",
        Just("Comments".to_string()),
        Just("- 3 min read".to_string()),
        Just("By Jane Doe".to_string()),
    ]
}

fn doc() -> impl Strategy<Value = String> {
    (prop::collection::vec(line(), 0..40), prop::bool::ANY).prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn paragraphs_cover_the_text_in_order(text in doc()) {
        let a = article(text.clone());
        let paras = segment(&a);
        let mut last = 0usize;
        for (i, p) in paras.iter().enumerate() {
            prop_assert_eq!(p.index, i);
            prop_assert!(p.range.start >= last, "in order, no overlap");
            prop_assert!(p.range.start < p.range.end, "non-empty");
            // only whitespace between paragraphs: nothing lost
            prop_assert!(text[last..p.range.start].trim().is_empty(), "lost {:?}", &text[last..p.range.start]);
            let slice = &text[p.range.clone()];
            prop_assert_eq!(slice.trim(), slice, "ranges are trimmed");
            // the paragraph text is its slice, line breaks of hard-wrapped lines folded to spaces
            prop_assert_eq!(p.text.split_whitespace().collect::<Vec<_>>(), slice.split_whitespace().collect::<Vec<_>>());
            last = p.range.end;
        }
        prop_assert!(text[last..].trim().is_empty(), "lost the tail {:?}", &text[last..]);
        // nothing duplicated: non-whitespace characters are counted exactly once
        let inside: usize = paras.iter().map(|p| text[p.range.clone()].chars().filter(|c| !c.is_whitespace()).count()).sum();
        prop_assert_eq!(inside, text.chars().filter(|c| !c.is_whitespace()).count());
    }
}
