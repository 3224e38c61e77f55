use std::fmt::Write;

use super::{BIAS_COLUMNS, BIAS_CONTRAST_COLUMNS, CONTRAST_COLUMNS, Report, STANCE_COLUMNS, bias_cells, bias_contrast_cells, charts, contrast_cells, eval_rows, highlight_runs, paired_rows, signed, stance_cells, summary};

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

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}.against{color:#c43e3e}.favor{color:#2e68b3}
blockquote{margin:.5em 0;padding:.4em .8em;border-left:4px solid #ccc;background:#f7f7f7}
mark{background:#ffd76a;padding:0 2px}.findings li{margin:.4em 0}.within{color:#888}
.chart svg{max-width:100%;height:auto}.meta{color:#666;font-size:14px}";

pub(super) fn render(r: &Report) -> Result<String, String> {
    let mut s = String::new();
    let _ = write!(s, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Stance and writing report</title><style>{STYLE}</style></head><body>");
    let _ = write!(s, "<h1>Stance and writing report</h1><h2>Findings</h2><ul class=\"findings\">");
    for f in &r.findings {
        let _ = write!(s, "<li>{}</li>", esc(f));
    }
    let _ = write!(s, "</ul><p class=\"meta\">{}</p>", summary(r, |x| format!("<code>{}</code>", esc(x))));
    for n in &r.notes {
        let _ = write!(s, "<p class=\"meta\">{}</p>", esc(n));
    }

    let voice = r.main_voice();
    let _ = write!(s, "<h2>Stance by group</h2>");
    for target in &r.input.targets {
        let rows = r.rows(target, voice);
        let label = if voice == crate::aggregate::Voice::Own { "own voice" } else { "all voices" };
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::diverging(&rows, &format!("{target}: mean stance, {label}"))?);
    }
    let _ = write!(s, "<p class=\"meta\">Bars: mean score with its 95% bootstrap interval (black); grey band: ± the model's measured error around the mean.</p>");
    let _ = write!(s, "<table>{}", row("th", &STANCE_COLUMNS, &[]));
    for (own, all) in paired_rows(r) {
        let m = own.unwrap_or(all).mean;
        let _ = write!(s, "{}", row("td", &stance_cells(own, all), &[(1, " class=\"l\""), (3, &format!(" class=\"{}\"", stance_class(m)))]));
    }
    let _ = write!(s, "</table>");

    if let Some(c0) = r.contrasts.first() {
        let voice = if c0.voice == crate::aggregate::Voice::Own { "the author's own voice" } else { "all voices (quoted speakers included)" };
        let _ = write!(s, "<h2>Contrast: {} vs {}</h2><p class=\"meta\">In body text, {voice}. A = {} (<code>{}</code>), B = {} (<code>{}</code>). A contrast smaller than the model's error is not a finding, whatever its p-value.</p>", esc(&c0.a_name), esc(&c0.b_name), esc(&c0.a_name), esc(&c0.a), esc(&c0.b_name), esc(&c0.b));
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::contrast(&r.contrasts)?);
        let _ = write!(s, "<table>{}", row("th", &CONTRAST_COLUMNS, &[]));
        for c in &r.contrasts {
            let cls = if c.within_model_error { " class=\"within\"" } else { "" };
            let _ = write!(s, "{}", row("td", &contrast_cells(c), &[(7, cls)]));
        }
        let _ = write!(s, "</table>");
        for c in &r.contrasts {
            let _ = write!(s, "<h3>Evidence: {}</h3>", esc(&c.target));
            for (name, ev) in [(&c.a_name, &c.evidence_a), (&c.b_name, &c.evidence_b)] {
                let _ = write!(s, "<h4>{}</h4>", esc(name));
                for e in ev {
                    let own = match (&e.own_score, &e.own_label) {
                        (Some(x), Some(l)) => format!("<span class=\"{}\">own voice {} ({})</span>", stance_class(*x), signed(*x), esc(l)),
                        _ => "own voice –".into(),
                    };
                    let _ = write!(s, "<blockquote>¶{} · {own} · <span class=\"{}\">all voices {} ({})</span><br>{}</blockquote>", e.paragraph, stance_class(e.all_score), signed(e.all_score), esc(&e.all_label), esc(&e.excerpt));
                }
            }
        }
    }

    if !r.profile.bias_rows.is_empty() {
        let _ = write!(s, "<h2>Writing: opinion and loaded language</h2><p class=\"meta\">Shares of each group's paragraphs the model reads as report, analysis or opinion, and as using loaded wording in the author's own voice.</p>");
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::bias(&r.profile.bias_rows)?);
        let _ = write!(s, "<table>{}", row("th", &BIAS_COLUMNS, &[]));
        for b in &r.profile.bias_rows {
            let _ = write!(s, "{}", row("td", &bias_cells(b), &[]));
        }
        let _ = write!(s, "</table>");
        if let Some(b0) = r.bias_contrasts.first() {
            let _ = write!(s, "<h3>{} vs {}</h3><table>{}", esc(&b0.a_name), esc(&b0.b_name), row("th", &BIAS_CONTRAST_COLUMNS, &[]));
            for b in &r.bias_contrasts {
                let _ = write!(s, "{}", row("td", &bias_contrast_cells(b), &[]));
            }
            let _ = write!(s, "</table>");
            for b in &r.bias_contrasts {
                let what = if b.measure == "opinion" { "The opinion paragraphs" } else { "The paragraphs with loaded wording (loaded words marked)" };
                let _ = write!(s, "<h4>{what}</h4>");
                for (name, ev) in [(&b.a_name, &b.evidence_a), (&b.b_name, &b.evidence_b)] {
                    let _ = write!(s, "<h5>{}</h5>", esc(name));
                    if ev.is_empty() {
                        let _ = write!(s, "<p class=\"meta\">none</p>");
                    }
                    for e in ev {
                        let body: String = highlight_runs(&e.text, &e.loaded_spans).into_iter().map(|(t, hit)| if hit { format!("<mark>{}</mark>", esc(&t)) } else { esc(&t) }).collect();
                        let _ = write!(s, "<blockquote>¶{} · {} · P(opinion) {:.2} · P(loaded) {:.2}<br>{body}</blockquote>", e.paragraph, esc(&e.register), e.p_opinion, e.p_loaded);
                    }
                }
            }
        }
    }

    let _ = write!(s, "<h2>Groups</h2><table><tr><th>group</th><th>id (for --contrast)</th><th>section</th><th>documents</th></tr>");
    for g in &r.profile.groups {
        let _ = write!(s, "{}", row("td", &[g.name.as_str(), &g.id, g.section.as_str(), &g.documents.to_string()], &[(1, " class=\"l\"")]));
    }
    let _ = write!(s, "</table>");
    if let Some(eval) = &r.model.evaluation {
        let _ = write!(s, "<h2>Model evaluation</h2><p class=\"meta\">On held-out dev sets, from the model manifest.</p><table><tr><th>dev set</th><th>output</th><th>fp32</th><th>int8</th></tr>");
        for cells in eval_rows(eval) {
            let _ = write!(s, "{}", row("td", &cells, &[(1, " class=\"l\"")]));
        }
        let _ = write!(s, "</table>");
    }
    let _ = write!(s, "</body></html>\n");
    Ok(s)
}
