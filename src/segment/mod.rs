//! Segment: an [`Article`]'s text into [`Paragraph`]s with byte offsets, each tagged as the
//! outlet's own `body`, reader `comments`, or `boilerplate` (captions, bylines, read times,
//! subscription prompts, source lists). Nothing is dropped: tags let later stages choose.
//!
//! Paragraphs are separated by blank lines or single line breaks (the seeds use both). A line that
//! does not end a sentence and is followed by one starting in lower case is a hard wrap, and the
//! two are joined.

mod rules;

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::ingest::{Article, HintKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Body,
    Comments,
    Boilerplate,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Body, Section::Comments, Section::Boilerplate];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Body => "body",
            Section::Comments => "comments",
            Section::Boilerplate => "boilerplate",
        }
    }

    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.as_str() == s.trim().to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Paragraph {
    pub index: usize,
    /// Byte range in the article text.
    pub range: Range<usize>,
    /// The paragraph's text, with hard-wrap line breaks turned into spaces.
    pub text: String,
    pub section: Section,
}

/// Lines of at least this many blank lines in a row separate an article from its reader comments
/// (how the seeds' pages were saved); a comments heading does the same.
const COMMENTS_GAP: usize = 3;

pub fn segment(article: &Article) -> Vec<Paragraph> {
    let text = article.text.as_str();
    let mut paras: Vec<(Range<usize>, usize)> = Vec::new(); // (range, blank lines before)
    let mut blank_run = 0usize;
    let mut pos = 0usize;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        let lead = content.len() - content.trim_start().len();
        let range = start + lead..start + content.trim_end().len();
        match paras.last_mut() {
            Some((prev, _)) if blank_run == 0 && is_hard_wrap(&text[prev.clone()], &text[range.clone()]) => prev.end = range.end,
            _ => paras.push((range, blank_run)),
        }
        blank_run = 0;
    }

    let mut out: Vec<Paragraph> = Vec::with_capacity(paras.len());
    let mut in_comments = false;
    let mut seen = std::collections::HashSet::new();
    for (index, (range, blanks_before)) in paras.into_iter().enumerate() {
        let raw = &text[range.clone()];
        let para_text = if raw.contains('\n') { raw.split_whitespace().collect::<Vec<_>>().join(" ") } else { raw.to_string() };
        let hint = article.hints.iter().find(|h| h.range.start < range.end && range.start < h.range.end).map(|h| h.kind);
        let has_body = out.iter().any(|p| p.section == Section::Body);
        if has_body && blanks_before >= COMMENTS_GAP {
            in_comments = true;
        }
        let section = if rules::is_comments_heading(&para_text) && has_body {
            in_comments = true;
            Section::Boilerplate
        } else if hint == Some(HintKind::Comments) || in_comments {
            Section::Comments
        } else if hint == Some(HintKind::Caption) || rules::is_boilerplate(&para_text) || !seen.insert(para_text.clone()) {
            Section::Boilerplate
        } else {
            Section::Body
        };
        out.push(Paragraph { index, range, text: para_text, section });
    }
    tag_trailing_links(&mut out);
    out
}

/// A line break inside a paragraph: the line does not end a sentence and the next begins in
/// lower case (a hard-wrapped text file), so the two belong together.
fn is_hard_wrap(prev: &str, next: &str) -> bool {
    let ends_sentence = prev.trim_end().ends_with(['.', '!', '?', ':', ';', '"', '”', '’', ')', ']']);
    !ends_sentence && next.chars().next().is_some_and(char::is_lowercase) && prev.chars().count() >= 40
}

/// Short non-sentence lines after the article's last real paragraph (before any comments) are
/// related-article links, tags or source lists, not the outlet's argument.
fn tag_trailing_links(paras: &mut [Paragraph]) {
    let body_end = paras.iter().rposition(|p| p.section != Section::Comments).map_or(0, |i| i + 1);
    for p in paras[..body_end].iter_mut().rev() {
        if p.section == Section::Boilerplate {
            continue;
        }
        if rules::is_short_fragment(&p.text) {
            p.section = Section::Boilerplate;
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests;
