//! Ingest + segmentation on arbitrary bytes, in each input format: no panic, and paragraph
//! offsets stay inside the text, in order.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use slant::ingest::{Format, IngestOptions, parse_bytes};
use slant::segment::segment;
use slant::targets::TargetSet;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let (format, name) = match selector % 3 {
        0 => (Format::Text, "fuzz.txt"),
        1 => (Format::Html, "fuzz.html"),
        _ => (Format::Jsonl, "fuzz.jsonl"),
    };
    let strict = selector & 0x80 != 0;
    let mut warnings = Vec::new();
    let Ok(articles) = parse_bytes(Path::new("/nonexistent-fuzz-dir").join(name).as_path(), format, bytes, &IngestOptions { strict }, &mut warnings) else { return };
    let targets = TargetSet::builtin();
    for a in &articles {
        let mut last = 0;
        for p in segment(a) {
            assert!(p.range.start >= last && p.range.end <= a.text.len());
            last = p.range.end;
            for t in &targets.targets {
                for m in t.mentions(&p.text) {
                    assert!(m.end <= p.text.len());
                }
            }
        }
    }
});
