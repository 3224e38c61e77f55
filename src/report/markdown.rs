use std::fmt::Write;

use super::{CONTRAST_COLUMNS, PROFILE_COLUMNS, Report, contrast_cells, eval_rows, profile_cells, signed, summary};

/// A table row; `|` in a cell is escaped so it cannot split the cell.
fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| c.as_ref().replace('|', "\\|")).collect();
    format!("| {} |", cells.join(" | "))
}

pub(super) fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Stance report\n");
    let _ = writeln!(s, "{}\n", summary(r, |x| format!("`{x}`")));
    for target in &r.input.targets {
        let _ = writeln!(s, "## {target}\n");
        let _ = writeln!(s, "{}", row(&PROFILE_COLUMNS));
        let _ = writeln!(s, "|---|---|---:|---:|---:|---|---:|---:|---:|---:|");
        for pr in r.profile.rows.iter().filter(|x| &x.target == target) {
            let _ = writeln!(s, "{}", row(&profile_cells(pr)));
        }
        let _ = writeln!(s);
    }
    if let Some(c0) = r.contrasts.first() {
        let _ = writeln!(s, "## Contrast: {} vs {}\n", c0.a, c0.b);
        let _ = writeln!(s, "{}", row(&CONTRAST_COLUMNS));
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|---:|---:|");
        for c in &r.contrasts {
            let _ = writeln!(s, "{}", row(&contrast_cells(c)));
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
            let _ = writeln!(s, "{}", row(&[d.doc_id.as_str(), &d.source, d.title.as_deref().unwrap_or("")]));
        }
        let _ = writeln!(s);
    }
    if let Some(eval) = &r.model.evaluation {
        let _ = writeln!(s, "## Model evaluation (dev sets, macro-F1)\n\n| set | fp32 | int8 |\n|---|---:|---:|");
        for cells in eval_rows(eval) {
            let _ = writeln!(s, "{}", row(&cells));
        }
    }
    s
}
