//! HTML through a real parser (scraper/html5ever). Navigation, scripts and page chrome are dropped;
//! block elements become paragraphs; comment containers and captions are passed on as hints.

use std::path::Path;

use scraper::{ElementRef, Html, Selector};

use super::{Article, Hint, HintKind, SourceMap, file_stem};

const DROP: &[&str] = &["script", "style", "nav", "noscript", "template", "form", "header", "footer", "aside", "svg", "button", "iframe"];
const BLOCKS: &str = "p, h1, h2, h3, h4, h5, h6, li, blockquote, figcaption, pre, dd, dt";

pub(super) fn read(path: &Path, html: &str, sources: &SourceMap) -> Article {
    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).expect("static selector");
    let meta = |name: &str| {
        doc.select(&sel(&format!("meta[property=\"{name}\"], meta[name=\"{name}\"]")))
            .find_map(|m| m.value().attr("content"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let title = meta("og:title").or_else(|| {
        doc.select(&sel("title, h1")).next().map(|t| squash(&t.text().collect::<String>())).filter(|s| !s.is_empty())
    });

    let mut text = String::new();
    let mut hints = Vec::new();
    for el in doc.select(&sel(BLOCKS)) {
        if has_ancestor(el, |a| DROP.contains(&a.value().name()) || is_block(a.value().name())) {
            continue; // dropped chrome, or already taken as part of an enclosing block
        }
        let para = squash(&el.text().collect::<String>());
        if para.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let start = text.len();
        text.push_str(&para);
        let kind = if self_or_ancestor(el, looks_like_comments) {
            Some(HintKind::Comments)
        } else if self_or_ancestor(el, |a| matches!(a.value().name(), "figcaption" | "figure")) {
            Some(HintKind::Caption)
        } else {
            None
        };
        if let Some(kind) = kind {
            hints.push(Hint { range: start..text.len(), kind });
        }
    }

    Article {
        id: file_stem(path),
        source: sources.lookup(path).or_else(|| meta("og:site_name")).unwrap_or_else(|| file_stem(path)),
        title,
        date: meta("article:published_time"),
        url: meta("og:url"),
        leaning: None,
        text,
        hints,
        origin: path.to_path_buf(),
    }
}

fn is_block(name: &str) -> bool {
    matches!(name, "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li" | "blockquote" | "figcaption" | "pre" | "dd" | "dt")
}

fn has_ancestor(el: ElementRef, pred: impl Fn(ElementRef) -> bool) -> bool {
    el.ancestors().filter_map(ElementRef::wrap).any(pred)
}

fn self_or_ancestor(el: ElementRef, pred: impl Fn(ElementRef) -> bool) -> bool {
    pred(el) || has_ancestor(el, pred)
}

/// Comment sections are marked by id/class names almost everywhere (`comments`, `comment-list`,
/// Disqus `disqus_thread`).
fn looks_like_comments(el: ElementRef) -> bool {
    let v = el.value();
    let named = |s: &str| {
        let s = s.to_ascii_lowercase();
        s.contains("comment") || s.contains("disqus")
    };
    v.id().is_some_and(named) || v.classes().any(named)
}

/// Collapse runs of whitespace: HTML source line breaks are not paragraph breaks.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_chrome_and_marks_comments_and_captions() {
        let html = r#"<html><head><title>T</title><meta property="og:site_name" content="Daily"></head><body>
            <nav><p>Home | World</p></nav><script>var x = "NATO";</script>
            <article><h1>Headline</h1><p>First   paragraph
            about NATO.</p><figure><img src="x"><figcaption>Troops (Photo: AP)</figcaption></figure>
            <ul><li><p>Nested item</p></li></ul></article>
            <section id="comments"><p>Reader says hi.</p></section></body></html>"#;
        let a = read(Path::new("x.html"), html, &SourceMap::default());
        assert_eq!(a.source, "Daily");
        assert_eq!(a.text, "Headline\n\nFirst paragraph about NATO.\n\nTroops (Photo: AP)\n\nNested item\n\nReader says hi.");
        let kinds: Vec<_> = a.hints.iter().map(|h| (&a.text[h.range.clone()], h.kind)).collect();
        assert_eq!(kinds, vec![("Troops (Photo: AP)", HintKind::Caption), ("Reader says hi.", HintKind::Comments)]);
    }
}
