//! Inline SVG charts drawn with plotters' SVG backend.

use plotters::prelude::*;

use crate::aggregate::{Contrast, ProfileRow};

const AGAINST: RGBColor = RGBColor(196, 62, 62);
const NEUTRAL: RGBColor = RGBColor(170, 170, 170);
const FAVOR: RGBColor = RGBColor(46, 104, 179);

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

fn height_for(rows: usize) -> u32 {
    (90 + 34 * rows.max(1)) as u32
}

/// Labels on a numeric y axis placed at bar centres (integers); nothing elsewhere.
fn row_label(names: &[String], y: f64) -> String {
    let i = y.round();
    if (y - i).abs() > 1e-6 || i < 0.0 || i as usize >= names.len() { String::new() } else { short(&names[i as usize], 34) }
}

/// Diverging bars of mean score per group with bootstrap CI whiskers, for one target.
pub fn diverging(rows: &[&ProfileRow], title: &str) -> Result<String, String> {
    let rows: Vec<&ProfileRow> = rows.iter().rev().copied().collect(); // y grows upward: first group on top
    let mut svg = String::new();
    let names: Vec<String> = rows.iter().map(|r| format!("{} (n={})", r.group, r.n)).collect();
    {
        let root = SVGBackend::with_string(&mut svg, (760, height_for(rows.len()))).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(250)
            .build_cartesian_2d(-1.0f64..1.0f64, -0.5f64..(n - 0.5))
            .map_err(|e| e.to_string())?;
        let fmt = |y: &f64| row_label(&names, *y);
        chart
            .configure_mesh()
            .label_style(("sans-serif", 13))
            .disable_y_mesh()
            .y_labels(rows.len().max(1) * 2 + 1)
            .y_label_formatter(&fmt)
            .x_desc("mean score  (−1 against … +1 favor), 95% bootstrap CI")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let y = i as f64;
                let color = if r.mean < 0.0 { AGAINST } else { FAVOR };
                Rectangle::new([(0.0, y - 0.3), (r.mean, y + 0.3)], color.filled())
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(rows.iter().enumerate().flat_map(|(i, r)| {
                let y = i as f64;
                [
                    PathElement::new(vec![(r.ci_low, y), (r.ci_high, y)], BLACK.stroke_width(2)),
                    PathElement::new(vec![(r.ci_low, y - 0.15), (r.ci_low, y + 0.15)], BLACK.stroke_width(2)),
                    PathElement::new(vec![(r.ci_high, y - 0.15), (r.ci_high, y + 0.15)], BLACK.stroke_width(2)),
                ]
            }))
            .map_err(|e| e.to_string())?;
        chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, -0.5), (0.0, n - 0.5)], BLACK.stroke_width(1)))).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Stacked bars of the against / neutral / favor shares per group, for one target.
pub fn distribution(rows: &[&ProfileRow], title: &str) -> Result<String, String> {
    let rows: Vec<&ProfileRow> = rows.iter().rev().copied().collect();
    let mut svg = String::new();
    let names: Vec<String> = rows.iter().map(|r| r.group.clone()).collect();
    {
        let root = SVGBackend::with_string(&mut svg, (760, height_for(rows.len()) + 30)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(250)
            .build_cartesian_2d(0.0f64..1.0f64, -0.5f64..(n - 0.5))
            .map_err(|e| e.to_string())?;
        let fmt = |y: &f64| row_label(&names, *y);
        chart
            .configure_mesh()
            .label_style(("sans-serif", 13))
            .disable_y_mesh()
            .y_labels(rows.len().max(1) * 2 + 1)
            .y_label_formatter(&fmt)
            .x_desc("share of paragraphs")
            .draw()
            .map_err(|e| e.to_string())?;
        for (label, color, part) in [
            ("against", AGAINST, 0usize),
            ("neutral", NEUTRAL, 1),
            ("favor", FAVOR, 2),
        ] {
            chart
                .draw_series(rows.iter().enumerate().map(move |(i, r)| {
                    let s = [r.share.against, r.share.neutral, r.share.favor];
                    let x0: f64 = s[..part].iter().sum();
                    let y = i as f64;
                    Rectangle::new([(x0, y - 0.3), (x0 + s[part], y + 0.3)], color.filled())
                }))
                .map_err(|e| e.to_string())?;
            let _ = label; // the legend is drawn in HTML under the chart, where it cannot cover bars
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Difference of means (A − B) per target with its bootstrap CI.
pub fn contrast(contrasts: &[Contrast]) -> Result<String, String> {
    let contrasts: Vec<&Contrast> = contrasts.iter().rev().collect();
    let mut svg = String::new();
    let names: Vec<String> = contrasts.iter().map(|c| format!("{} (p={:.3})", c.target, c.p_value)).collect();
    let title = match contrasts.first() {
        Some(c) => format!("{} minus {}", short(&c.a, 28), short(&c.b, 28)),
        None => "contrast".into(),
    };
    {
        let root = SVGBackend::with_string(&mut svg, (760, height_for(contrasts.len()))).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = contrasts.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(170)
            .build_cartesian_2d(-2.0f64..2.0f64, -0.5f64..(n - 0.5))
            .map_err(|e| e.to_string())?;
        let fmt = |y: &f64| row_label(&names, *y);
        chart
            .configure_mesh()
            .label_style(("sans-serif", 13))
            .disable_y_mesh()
            .y_labels(contrasts.len().max(1) * 2 + 1)
            .y_label_formatter(&fmt)
            .x_desc("difference of mean scores, 95% bootstrap CI")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(contrasts.iter().enumerate().map(|(i, c)| {
                let y = i as f64;
                let color = if c.diff < 0.0 { AGAINST } else { FAVOR };
                Rectangle::new([(0.0, y - 0.3), (c.diff, y + 0.3)], color.filled())
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(contrasts.iter().enumerate().map(|(i, c)| PathElement::new(vec![(c.ci_low, i as f64), (c.ci_high, i as f64)], BLACK.stroke_width(2))))
            .map_err(|e| e.to_string())?;
        chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, -0.5), (0.0, n - 0.5)], BLACK.stroke_width(1)))).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
