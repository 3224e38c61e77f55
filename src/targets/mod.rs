//! Targets: what stance is measured toward, how a paragraph mentions each one, and the string the
//! model sees for it. Built-in NATO, US and Europe come from `default.toml`; users pass their own
//! file with `--targets` (Russia, China, Ukraine…).

use std::ops::Range;
use std::path::Path;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const DEFAULT_TOML: &str = include_str!("default.toml");

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// The first segment fed to the stance model.
    pub label: String,
    matcher: Option<Regex>,
    exclude: Option<Regex>,
}

/// A span of a paragraph that refers to a target (byte offsets into the paragraph text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone)]
pub struct TargetSet {
    pub targets: Vec<Target>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(rename = "target")]
    targets: Vec<TargetDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetDoc {
    name: String,
    label: Option<String>,
    #[serde(default)]
    aliases: Vec<AliasDoc>,
    #[serde(default)]
    exclude: Vec<AliasDoc>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AliasDoc {
    Plain(String),
    Text {
        text: String,
        #[serde(default)]
        ignore_case: bool,
    },
    Regex {
        regex: String,
    },
}

impl TargetSet {
    pub fn builtin() -> TargetSet {
        TargetSet::parse(DEFAULT_TOML, Path::new("<built-in targets>")).expect("built-in targets parse")
    }

    pub fn from_file(path: &Path) -> Result<TargetSet> {
        let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        TargetSet::parse(&raw, path)
    }

    pub fn parse(raw: &str, path: &Path) -> Result<TargetSet> {
        let at = |offset: Option<Range<usize>>, message: String| {
            let offset = offset.map_or(0, |r| r.start);
            let line = raw[..offset.min(raw.len())].matches('\n').count() + 1;
            let column = offset - raw[..offset.min(raw.len())].rfind('\n').map_or(0, |i| i + 1) + 1;
            Error::Targets { path: path.to_path_buf(), line, column, message }
        };
        let doc: FileDoc = toml::from_str(raw).map_err(|e| at(e.span(), e.message().to_string()))?;
        if doc.targets.is_empty() {
            return Err(at(None, "no [[target]] tables".into()));
        }
        let mut targets = Vec::new();
        for t in doc.targets {
            let find = |needle: &str| raw.find(needle).map(|i| i..i);
            let name_span = find(&format!("\"{}\"", t.name));
            if targets.iter().any(|x: &Target| x.name == t.name) {
                return Err(at(name_span, format!("target \"{}\" is defined twice", t.name)));
            }
            let matcher = compile(&t.aliases).map_err(|m| at(name_span.clone(), format!("target \"{}\": {m}", t.name)))?;
            let exclude = compile(&t.exclude).map_err(|m| at(name_span.clone(), format!("target \"{}\" exclude: {m}", t.name)))?;
            targets.push(Target { label: t.label.unwrap_or_else(|| t.name.clone()), name: t.name, matcher, exclude });
        }
        Ok(TargetSet { targets })
    }

    pub fn get(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name.eq_ignore_ascii_case(name))
    }

    pub fn names(&self) -> Vec<&str> {
        self.targets.iter().map(|t| t.name.as_str()).collect()
    }
}

/// One alternation per target, longest alias first so "United States of America" wins over
/// "United States"; word boundaries only where the alias starts/ends with a word character, so
/// "U.S." still matches before a space or comma.
fn compile(aliases: &[AliasDoc]) -> std::result::Result<Option<Regex>, String> {
    let mut parts: Vec<(usize, String)> = Vec::new();
    for a in aliases {
        let (pat, len) = match a {
            AliasDoc::Plain(s) => (bounded(&regex::escape(s), s), s.len()),
            AliasDoc::Text { text, ignore_case } => {
                let p = bounded(&regex::escape(text), text);
                (if *ignore_case { format!("(?i:{p})") } else { p }, text.len())
            }
            AliasDoc::Regex { regex } => {
                Regex::new(regex).map_err(|e| format!("alias regex {regex:?} does not compile: {e}"))?;
                (format!(r"\b(?:{regex})\b"), regex.len())
            }
        };
        if len == 0 {
            return Err("empty alias".into());
        }
        parts.push((len, pat));
    }
    if parts.is_empty() {
        return Ok(None);
    }
    parts.sort_by(|a, b| b.0.cmp(&a.0));
    let alt = parts.into_iter().map(|(_, p)| p).collect::<Vec<_>>().join("|");
    RegexBuilder::new(&alt).build().map(Some).map_err(|e| e.to_string())
}

fn bounded(escaped: &str, raw: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let pre = if word(raw.chars().next()) { r"\b" } else { "" };
    let post = if word(raw.chars().last()) { r"\b" } else { "" };
    format!("{pre}(?:{escaped}){post}")
}

impl Target {
    /// Mentions of this target in `text`, minus those overlapping an excluded phrase.
    pub fn mentions(&self, text: &str) -> Vec<Mention> {
        let Some(m) = &self.matcher else { return Vec::new() };
        let excluded: Vec<Range<usize>> = self.exclude.as_ref().map_or_else(Vec::new, |x| x.find_iter(text).map(|m| m.range()).collect());
        m.find_iter(text)
            .filter(|hit| !excluded.iter().any(|x| x.start < hit.end() && hit.start() < x.end))
            .map(|hit| Mention { text: hit.as_str().to_string(), start: hit.start(), end: hit.end() })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mentions(target: &str, text: &str) -> Vec<String> {
        TargetSet::builtin().get(target).unwrap().mentions(text).into_iter().map(|m| m.text).collect()
    }

    #[test]
    fn us_only_in_capitals_and_not_inside_usa_today() {
        assert_eq!(mentions("US", "Let us read USA TODAY and the US report."), vec!["US"]);
        assert!(mentions("US", "they told us about it").is_empty());
        assert_eq!(mentions("US", "U.S. troops and the Pentagon"), vec!["U.S.", "the Pentagon"]);
        assert_eq!(mentions("US", "US-NATO ties"), vec!["US"]);
        assert!(mentions("US", "Latin America and the Washington Post").is_empty());
        assert_eq!(mentions("US", "the Trump administration said"), vec!["Trump administration"]);
    }

    #[test]
    fn nato_and_europe_aliases() {
        assert_eq!(mentions("NATO", "Nato and the Alliance; an alliance of equals"), vec!["Nato", "the Alliance"]);
        assert_eq!(mentions("Europe", "European allies and the EU, not the European Court of Human Rights"), vec!["European", "EU"]);
        assert!(mentions("Europe", "Germany and France, Brussels").is_empty());
        assert!(mentions("Europe", "the European Championship").is_empty());
        assert_eq!(mentions("Europe", "European leaders and eastern European states"), vec!["European", "European"]);
        assert_eq!(mentions("US", "President Trump and Congress, not Trump Tower"), vec!["Trump", "Congress"]);
    }

    #[test]
    fn custom_targets_with_errors_located() {
        let ok = TargetSet::parse("[[target]]\nname = \"Russia\"\naliases = [\"Russia\", \"Kremlin\", {text = \"moscow\", ignore_case = true}]\n", Path::new("t.toml")).unwrap();
        let r = ok.get("Russia").unwrap();
        assert_eq!(r.label, "Russia");
        assert_eq!(r.mentions("The Kremlin and MOSCOW"), vec![Mention { text: "Kremlin".into(), start: 4, end: 11 }, Mention { text: "MOSCOW".into(), start: 16, end: 22 }]);
        let err = TargetSet::parse("[[target]]\nname = \"X\"\naliases = [\"a\"\n", Path::new("t.toml")).unwrap_err().to_string();
        assert!(err.starts_with("t.toml:3:") || err.starts_with("t.toml:4:"), "{err}");
        let err = TargetSet::parse("[[target]]\nname = \"X\"\naliases = [{regex = \"(\"}]\n", Path::new("t.toml")).unwrap_err().to_string();
        assert!(err.contains("does not compile"), "{err}");
    }
}
