use std::fmt::Write;

use super::{CONTRAST_COLUMNS, PROFILE_COLUMNS, Report, charts, contrast_cells, eval_rows, profile_cells, signed, summary};
use crate::aggregate::ProfileRow;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A table row of `tag` cells (th or td), escaped; `attrs` gives cell `i` extra attributes.
fn row<S: AsRef<str>>(tag: &str, cells: &[S], attrs: &[(usize, &str)]) -> String {
    let mut s = String::from("<tr>");
    for (i, c) in cells.iter().enumerate() {
        let attr = attrs.iter().find(|(j, _)| *j == i).map_or("", |(_, a)| a);
        let _ = write!(s, "<{tag}{attr}>{}</{tag}>", esc(c.as_ref()));
    }
    s + "</tr>"
}

fn stance_class(x: f64) -> &'static str {
    if x < 0.0 { "against" } else { "favor" }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.against{color:#c43e3e}.favor{color:#2e68b3}
blockquote{margin:.5em 0;padding:.4em .8em;border-left:4px solid #ccc;background:#f7f7f7}
.chart svg{max-width:100%;height:auto}.meta{color:#666;font-size:14px}";

pub(super) fn render(r: &Report) -> Result<String, String> {
    let mut s = String::new();
    let _ = write!(s, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Stance report</title><style>{STYLE}</style></head><body>");
    let summary = summary(r, |x| format!("<code>{}</code>", esc(x)));
    let _ = write!(s, "<h1>Stance report</h1><p class=\"meta\">{summary} Reader comments are profiled apart from the outlet's own text.</p>");
    for target in &r.input.targets {
        let rows: Vec<&ProfileRow> = r.profile.rows.iter().filter(|x| &x.target == target).collect();
        let _ = write!(s, "<h2>{}</h2>", esc(target));
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::diverging(&rows, &format!("Mean stance toward {target}"))?);
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::distribution(&rows, &format!("Stance distribution toward {target}"))?);
        let _ = write!(s, "<p class=\"meta\"><span style=\"color:#c43e3e\">■</span> against <span style=\"color:#aaa\">■</span> neutral <span style=\"color:#2e68b3\">■</span> favor</p>");
        let _ = write!(s, "<table>{}", row("th", &PROFILE_COLUMNS, &[]));
        for pr in rows {
            let _ = write!(s, "{}", row("td", &profile_cells(pr), &[(4, &format!(" class=\"{}\"", stance_class(pr.mean)))]));
        }
        let _ = write!(s, "</table>");
    }
    if let Some(c0) = r.contrasts.first() {
        let _ = write!(s, "<h2>Contrast: {} vs {}</h2>", esc(&c0.a), esc(&c0.b));
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::contrast(&r.contrasts)?);
        let _ = write!(s, "<table>{}", row("th", &CONTRAST_COLUMNS, &[]));
        for c in &r.contrasts {
            let _ = write!(s, "{}", row("td", &contrast_cells(c), &[]));
        }
        let _ = write!(s, "</table>");
        for c in &r.contrasts {
            let _ = write!(s, "<h3>Evidence: {}</h3>", esc(&c.target));
            for (name, ev) in [(&c.a, &c.evidence_a), (&c.b, &c.evidence_b)] {
                let _ = write!(s, "<h4>{}</h4>", esc(name));
                for e in ev {
                    let _ = write!(
                        s,
                        "<blockquote><span class=\"{}\">¶{} · {} · score {}</span><br>{}</blockquote>",
                        stance_class(e.score),
                        e.paragraph,
                        esc(&e.label),
                        signed(e.score),
                        esc(&e.excerpt)
                    );
                }
            }
        }
    }
    if r.profile.by == crate::aggregate::GroupBy::Document {
        let _ = write!(s, "<h2>Documents</h2><table><tr><th>document</th><th>outlet</th><th>title</th></tr>");
        for d in &r.documents {
            let _ = write!(s, "{}", row("td", &[d.doc_id.as_str(), &d.source, d.title.as_deref().unwrap_or("")], &[(2, " style=\"text-align:left\"")]));
        }
        let _ = write!(s, "</table>");
    }
    if let Some(eval) = &r.model.evaluation {
        let _ = write!(s, "<h2>Model evaluation</h2><p class=\"meta\">Macro-F1 over against/neutral/favor on held-out dev sets, from the model manifest.</p><table><tr><th>dev set</th><th>fp32</th><th>int8</th></tr>");
        for cells in eval_rows(eval) {
            let _ = write!(s, "{}", row("td", &cells, &[]));
        }
        let _ = write!(s, "</table>");
    }
    let _ = write!(s, "</body></html>\n");
    Ok(s)
}
