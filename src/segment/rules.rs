//! Line-level patterns for page furniture. Each rule is anchored and length-bounded so that a
//! real paragraph that merely mentions "subscribe" or "photo" stays in the body.

use std::sync::LazyLock;

use regex::Regex;

static COMMENTS_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(\d+\s+)?(reader\s+)?(comments?|responses?|replies|discussion|join the (conversation|discussion)|leave a (comment|reply)|\d+ thoughts on .*|what (our )?readers (say|think))\s*(\(\d+\))?:?$")
        .expect("static regex")
});

static BOILERPLATE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // read time, publication stamps, bylines
        r"(?i)^\W*\d+\s*(min|minute)s?\s+read\b",
        r"(?i)^(published|updated|posted|last updated|first published)\b.{0,60}$",
        r"^(By|BY|by)\s+\p{Lu}[\p{L}.'’-]+(\s+(\p{Lu}[\p{L}.'’-]+|and|&|de|van|von))*(\s*[,|–—-].{0,60})?$",
        // subscription / sharing prompts
        r"(?i)^.{0,120}\b(please subscribe|subscribe (here|now|today|to (our|my) )|subscribe$|sign up (here|now|for (our|my|the) (free )?newsletter)|our newsletter|follow us|share (this (article|story|post)|my posts)|support our journalism|become a (member|subscriber)|log ?in to (comment|continue|read)|create an account|download (our|the) app)\b.{0,120}$",
        // captions and credits
        r"(?i)\((photo|image|picture|file photo|credit|reuters|ap photo|afp|getty images|epa)\b[^)]{0,120}\)\s*$",
        r"(?i)^(photo|photograph|image|picture|pictured|credit|caption|file photo)\s*[:/].{0,300}$",
        r"(?i)\b(reuters|ap|afp|getty images|epa|shutterstock)\s*/\s*\p{L}[\p{L} .'-]{0,60}\)?\s*$",
        // source lists and links
        r"(?i)^(sources?|references|further reading|related( articles| stories| coverage)?|read more|see also|more from|recommended)\b.{0,30}$",
        // legal and ads
        r"(?i)(©|\(c\)\s*\d{4}|all rights reserved|copyright\s+\d{4})",
        r"(?i)^(advertisement|sponsored( content)?|ad)$",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("static regex"))
    .collect()
});

pub(super) fn is_comments_heading(text: &str) -> bool {
    text.chars().count() <= 60 && COMMENTS_HEADING.is_match(text.trim())
}

pub(super) fn is_boilerplate(text: &str) -> bool {
    text.chars().count() <= 400 && BOILERPLATE.iter().any(|r| r.is_match(text.trim()))
}

/// Short and not a sentence: a heading, a link text, a tag.
pub(super) fn is_short_fragment(text: &str) -> bool {
    let t = text.trim();
    t.chars().count() < 80 && !t.ends_with(['.', '!', '?', '"', '”'])
}
