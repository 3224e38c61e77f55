use std::fmt::Write;

use super::{BIAS_COLUMNS, BIAS_CONTRAST_COLUMNS, CONTRAST_COLUMNS, Report, STANCE_COLUMNS, bias_cells, bias_contrast_cells, contrast_cells, eval_rows, highlight_runs, paired_rows, signed, stance_cells, summary};

/// A table row; `|` in a cell is escaped so it cannot split the cell.
fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| c.as_ref().replace('|', "\\|")).collect();
    format!("| {} |", cells.join(" | "))
}

fn rule(n: usize) -> String {
    format!("|{}", "---|".repeat(n))
}

pub(super) fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Stance and writing report\n");
    let _ = writeln!(s, "## Findings\n");
    for f in &r.findings {
        let _ = writeln!(s, "- {f}");
    }
    let _ = writeln!(s, "\n{}\n", summary(r, |x| format!("`{x}`")));
    for n in &r.notes {
        let _ = writeln!(s, "{n}\n");
    }

    let _ = writeln!(s, "## Stance by group\n");
    let _ = writeln!(s, "{}\n{}", row(&STANCE_COLUMNS), rule(STANCE_COLUMNS.len()));
    for (own, all) in paired_rows(r) {
        let _ = writeln!(s, "{}", row(&stance_cells(own, all)));
    }
    let _ = writeln!(s);

    if let Some(c0) = r.contrasts.first() {
        let voice = if c0.voice == crate::aggregate::Voice::Own { "the author's own voice" } else { "all voices (quoted speakers included)" };
        let _ = writeln!(s, "## Contrast: {} vs {}\n\nIn body text, {voice}; A = {} (`{}`), B = {} (`{}`). A contrast smaller than the model's error is not a finding, whatever its p-value.\n", c0.a_name, c0.b_name, c0.a_name, c0.a, c0.b_name, c0.b);
        let _ = writeln!(s, "{}\n{}", row(&CONTRAST_COLUMNS), rule(CONTRAST_COLUMNS.len()));
        for c in &r.contrasts {
            let _ = writeln!(s, "{}", row(&contrast_cells(c)));
        }
        for c in &r.contrasts {
            let _ = writeln!(s, "\n### Evidence for {}\n", c.target);
            for (name, ev) in [(&c.a_name, &c.evidence_a), (&c.b_name, &c.evidence_b)] {
                let _ = writeln!(s, "**{name}**\n");
                for e in ev {
                    let own = match (&e.own_score, &e.own_label) {
                        (Some(x), Some(l)) => format!("own voice {} ({l})", signed(*x)),
                        _ => "own voice –".into(),
                    };
                    let _ = writeln!(s, "- ¶{} — {own} · all voices {} ({}): > {}", e.paragraph, signed(e.all_score), e.all_label, e.excerpt.replace('\n', " "));
                }
                let _ = writeln!(s);
            }
        }
    }

    if !r.profile.bias_rows.is_empty() {
        let _ = writeln!(s, "## Writing: opinion and loaded language\n\nShares of each group's paragraphs the model reads as report, analysis or opinion, and as using loaded wording in the author's own voice.\n");
        let _ = writeln!(s, "{}\n{}", row(&BIAS_COLUMNS), rule(BIAS_COLUMNS.len()));
        for b in &r.profile.bias_rows {
            let _ = writeln!(s, "{}", row(&bias_cells(b)));
        }
        if let Some(b0) = r.bias_contrasts.first() {
            let _ = writeln!(s, "\n### {} vs {}\n", b0.a_name, b0.b_name);
            let _ = writeln!(s, "{}\n{}", row(&BIAS_CONTRAST_COLUMNS), rule(BIAS_CONTRAST_COLUMNS.len()));
            for b in &r.bias_contrasts {
                let _ = writeln!(s, "{}", row(&bias_contrast_cells(b)));
            }
            for b in &r.bias_contrasts {
                let what = if b.measure == "opinion" { "opinion paragraphs" } else { "paragraphs with loaded wording (loaded words in bold)" };
                let _ = writeln!(s, "\n#### The {what}\n");
                for (name, ev) in [(&b.a_name, &b.evidence_a), (&b.b_name, &b.evidence_b)] {
                    let _ = writeln!(s, "**{name}**\n");
                    if ev.is_empty() {
                        let _ = writeln!(s, "- none\n");
                    }
                    for e in ev {
                        let text: String = highlight_runs(&e.text, &e.loaded_spans).into_iter().map(|(t, hit)| if hit { format!("**{}**", t.trim()) + if t.ends_with(' ') { " " } else { "" } } else { t }).collect();
                        let _ = writeln!(s, "- ¶{} — {} (P(opinion) {:.2}, P(loaded) {:.2}): > {}", e.paragraph, e.register, e.p_opinion, e.p_loaded, text.replace('\n', " "));
                    }
                    let _ = writeln!(s);
                }
            }
        }
    }

    let _ = writeln!(s, "## Groups\n\n| group | id (for --contrast) | section | documents |\n|---|---|---|---:|");
    for g in &r.profile.groups {
        let _ = writeln!(s, "{}", row(&[g.name.as_str(), &g.id, g.section.as_str(), &g.documents.to_string()]));
    }
    let _ = writeln!(s);
    if let Some(eval) = &r.model.evaluation {
        let _ = writeln!(s, "## Model evaluation (dev sets)\n\n| set | output | fp32 | int8 |\n|---|---|---:|---:|");
        for cells in eval_rows(eval) {
            let _ = writeln!(s, "{}", row(&cells));
        }
    }
    s
}
