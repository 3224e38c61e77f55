use std::fmt::Write;

use super::{Report, eval_rows, p_value, pct, signed};
use crate::aggregate::Voice;

pub(super) fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Stance report\n");
    let _ = writeln!(
        s,
        "{} documents, {} scored (paragraph, target) pairs ({} editorial, {} reader comments). Model `{}` (sha256 `{}`). Grouped by {:?}; 95% bootstrap CIs ({} resamples, seed {}). Scores run from −1 (against) to +1 (favor).\n",
        r.input.documents,
        r.input.scored_pairs,
        r.input.editorial_pairs,
        r.input.comment_pairs,
        r.model.name,
        &r.model.sha256.get(..12).unwrap_or(""),
        r.profile.by,
        r.profile.resamples,
        r.profile.seed
    );
    for target in &r.input.targets {
        let _ = writeln!(s, "## {target}\n");
        let _ = writeln!(s, "| group | voice | docs | n | mean | 95% CI | against | neutral | favor | confidence |");
        let _ = writeln!(s, "|---|---|---:|---:|---:|---|---:|---:|---:|---:|");
        for row in r.profile.rows.iter().filter(|x| &x.target == target) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | [{}, {}] | {} | {} | {} | {:.2} |",
                row.group.replace('|', "\\|"),
                if row.voice == Voice::Comments { "comments" } else { "editorial" },
                row.documents,
                row.n,
                signed(row.mean),
                signed(row.ci_low),
                signed(row.ci_high),
                pct(row.share.against),
                pct(row.share.neutral),
                pct(row.share.favor),
                row.mean_confidence
            );
        }
        let _ = writeln!(s);
    }
    if let Some(c0) = r.contrasts.first() {
        let _ = writeln!(s, "## Contrast: {} vs {}\n", c0.a, c0.b);
        let _ = writeln!(s, "| target | n A | n B | mean A | mean B | A − B | 95% CI | p (permutation) | Cohen's d |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|---:|---:|");
        for c in &r.contrasts {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | [{}, {}] | {} | {:.2} |",
                c.target, c.n_a, c.n_b, signed(c.mean_a), signed(c.mean_b), signed(c.diff), signed(c.ci_low), signed(c.ci_high), p_value(c.p_value), c.cohens_d
            );
        }
        for c in &r.contrasts {
            let _ = writeln!(s, "\n### Evidence for {}\n", c.target);
            for (name, ev) in [(&c.a, &c.evidence_a), (&c.b, &c.evidence_b)] {
                let _ = writeln!(s, "**{name}**\n");
                for e in ev {
                    let _ = writeln!(s, "- ¶{} ({}, score {}): > {}", e.paragraph, e.label, signed(e.score), e.excerpt.replace('\n', " "));
                }
                let _ = writeln!(s);
            }
        }
    }
    if r.profile.by == crate::aggregate::GroupBy::Document {
        let _ = writeln!(s, "## Documents\n\n| document | outlet | title |\n|---|---|---|");
        for d in &r.documents {
            let _ = writeln!(s, "| {} | {} | {} |", d.doc_id, d.source.replace('|', "\\|"), d.title.as_deref().unwrap_or("").replace('|', "\\|"));
        }
        let _ = writeln!(s);
    }
    if let Some(eval) = &r.model.evaluation {
        let _ = writeln!(s, "## Model evaluation (dev sets, macro-F1)\n\n| set | fp32 | int8 |\n|---|---:|---:|");
        for (set, f, i) in eval_rows(eval) {
            let _ = writeln!(s, "| {set} | {} | {} |", f.map_or("–".into(), |x| format!("{x:.3}")), i.map_or("–".into(), |x| format!("{x:.3}")));
        }
    }
    s
}
