use std::fmt::Write;

use super::{Report, charts, eval_rows, p_value, pct, signed};
use crate::aggregate::{ProfileRow, Voice};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.against{color:#c43e3e}.favor{color:#2e68b3}
blockquote{margin:.5em 0;padding:.4em .8em;border-left:4px solid #ccc;background:#f7f7f7}
.chart svg{max-width:100%;height:auto}.meta{color:#666;font-size:14px}";

pub(super) fn render(r: &Report) -> Result<String, String> {
    let mut s = String::new();
    let _ = write!(s, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Stance report</title><style>{STYLE}</style></head><body>");
    let _ = write!(
        s,
        "<h1>Stance report</h1><p class=\"meta\">{} documents · {} scored (paragraph, target) pairs ({} editorial, {} reader comments) · model <code>{}</code> <code>{}</code> · grouped by {:?} · 95% bootstrap CIs ({} resamples, seed {}). Scores run from −1 (against) to +1 (favor). Reader comments are profiled apart from the outlet's own text.</p>",
        r.input.documents,
        r.input.scored_pairs,
        r.input.editorial_pairs,
        r.input.comment_pairs,
        esc(&r.model.name),
        esc(r.model.sha256.get(..12).unwrap_or("")),
        r.profile.by,
        r.profile.resamples,
        r.profile.seed
    );
    for target in &r.input.targets {
        let rows: Vec<&ProfileRow> = r.profile.rows.iter().filter(|x| &x.target == target).collect();
        let _ = write!(s, "<h2>{}</h2>", esc(target));
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::diverging(&rows, &format!("Mean stance toward {target}"))?);
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::distribution(&rows, &format!("Stance distribution toward {target}"))?);
        let _ = write!(s, "<p class=\"meta\"><span style=\"color:#c43e3e\">■</span> against <span style=\"color:#aaa\">■</span> neutral <span style=\"color:#2e68b3\">■</span> favor</p>");
        let _ = write!(s, "<table><tr><th>group</th><th>voice</th><th>docs</th><th>n</th><th>mean</th><th>95% CI</th><th>against</th><th>neutral</th><th>favor</th><th>confidence</th></tr>");
        for row in rows {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>[{}, {}]</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
                esc(&row.group),
                if row.voice == Voice::Comments { "comments" } else { "editorial" },
                row.documents,
                row.n,
                if row.mean < 0.0 { "against" } else { "favor" },
                signed(row.mean),
                signed(row.ci_low),
                signed(row.ci_high),
                pct(row.share.against),
                pct(row.share.neutral),
                pct(row.share.favor),
                row.mean_confidence
            );
        }
        let _ = write!(s, "</table>");
    }
    if let Some(c0) = r.contrasts.first() {
        let _ = write!(s, "<h2>Contrast: {} vs {}</h2>", esc(&c0.a), esc(&c0.b));
        let _ = write!(s, "<div class=\"chart\">{}</div>", charts::contrast(&r.contrasts)?);
        let _ = write!(s, "<table><tr><th>target</th><th>n A</th><th>n B</th><th>mean A</th><th>mean B</th><th>A − B</th><th>95% CI</th><th>p (permutation)</th><th>Cohen's d</th></tr>");
        for c in &r.contrasts {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>[{}, {}]</td><td>{}</td><td>{:.2}</td></tr>",
                esc(&c.target), c.n_a, c.n_b, signed(c.mean_a), signed(c.mean_b), signed(c.diff), signed(c.ci_low), signed(c.ci_high), p_value(c.p_value), c.cohens_d
            );
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
                        if e.score < 0.0 { "against" } else { "favor" },
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
            let _ = write!(s, "<tr><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>", esc(&d.doc_id), esc(&d.source), esc(d.title.as_deref().unwrap_or("")));
        }
        let _ = write!(s, "</table>");
    }
    if let Some(eval) = &r.model.evaluation {
        let _ = write!(s, "<h2>Model evaluation</h2><p class=\"meta\">Macro-F1 over against/neutral/favor on held-out dev sets, from the model manifest.</p><table><tr><th>dev set</th><th>fp32</th><th>int8</th></tr>");
        for (set, f, i) in eval_rows(eval) {
            let _ = write!(s, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&set), f.map_or("–".into(), |x| format!("{x:.3}")), i.map_or("–".into(), |x| format!("{x:.3}")));
        }
        let _ = write!(s, "</table>");
    }
    let _ = write!(s, "</body></html>\n");
    Ok(s)
}
