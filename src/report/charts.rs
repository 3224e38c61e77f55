//! Inline SVG charts drawn with plotters' SVG backend.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::aggregate::{BiasRow, Contrast, ProfileRow};

const AGAINST: RGBColor = RGBColor(196, 62, 62);
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

type RowChart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame all charts share: one horizontal row per name (first name on top, since y grows
/// upward the caller passes rows bottom-first), an x axis over `x`, a caption and an axis title;
/// `draw` adds the marks.
fn row_chart(
    title: &str,
    names: &[String],
    x: std::ops::Range<f64>,
    x_desc: &str,
    size: (u32, u32),
    y_label_area: u32,
    draw: impl FnOnce(&mut RowChart) -> Result<(), DrawingAreaErrorKind<std::io::Error>>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = names.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(y_label_area)
            .build_cartesian_2d(x, -0.5f64..(n - 0.5))
            .map_err(|e| e.to_string())?;
        let fmt = |y: &f64| row_label(names, *y);
        chart
            .configure_mesh()
            .label_style(("sans-serif", 13))
            .disable_y_mesh()
            .y_labels(names.len().max(1) * 2 + 1)
            .y_label_formatter(&fmt)
            .x_desc(x_desc)
            .draw()
            .map_err(|e| e.to_string())?;
        draw(&mut chart).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A vertical line at x = 0 across `n` rows.
fn zero_line(chart: &mut RowChart, n: usize) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, -0.5), (0.0, n as f64 - 0.5)], BLACK.stroke_width(1))))?;
    Ok(())
}

/// Diverging bars of mean score per group with bootstrap CI whiskers and a band of ± the model's
/// error around the mean, for one target.
pub fn diverging(rows: &[&ProfileRow], title: &str) -> Result<String, String> {
    let rows: Vec<&ProfileRow> = rows.iter().rev().copied().collect(); // y grows upward: first group on top
    let names: Vec<String> = rows.iter().map(|r| format!("{} (n={})", r.name, r.n)).collect();
    row_chart(title, &names, -1.0..1.0, "mean score  (−1 against … +1 favor), 95% bootstrap CI", (760, height_for(rows.len())), 250, |chart| {
        chart.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
            let e = r.model_error?;
            let y = i as f64;
            Some(Rectangle::new([((r.mean - e).max(-1.0), y - 0.42), ((r.mean + e).min(1.0), y + 0.42)], RGBColor(225, 225, 225).filled()))
        }))?;
        chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
            let y = i as f64;
            let color = if r.mean < 0.0 { AGAINST } else { FAVOR };
            Rectangle::new([(0.0, y - 0.3), (r.mean, y + 0.3)], color.filled())
        }))?;
        chart.draw_series(rows.iter().enumerate().flat_map(|(i, r)| {
            let y = i as f64;
            [
                PathElement::new(vec![(r.ci_low, y), (r.ci_high, y)], BLACK.stroke_width(2)),
                PathElement::new(vec![(r.ci_low, y - 0.15), (r.ci_low, y + 0.15)], BLACK.stroke_width(2)),
                PathElement::new(vec![(r.ci_high, y - 0.15), (r.ci_high, y + 0.15)], BLACK.stroke_width(2)),
            ]
        }))?;
        zero_line(chart, rows.len())
    })
}

/// Difference of means (A − B) per target with its bootstrap CI.
pub fn contrast(contrasts: &[Contrast]) -> Result<String, String> {
    let contrasts: Vec<&Contrast> = contrasts.iter().rev().collect();
    let names: Vec<String> = contrasts.iter().map(|c| format!("{} (p={:.3})", c.target, c.p_value)).collect();
    let title = match contrasts.first() {
        Some(c) => format!("{} minus {}", short(&c.a_name, 28), short(&c.b_name, 28)),
        None => "contrast".into(),
    };
    row_chart(&title, &names, -2.0..2.0, "difference of mean scores, 95% bootstrap CI", (760, height_for(contrasts.len())), 170, |chart| {
        chart.draw_series(contrasts.iter().enumerate().map(|(i, c)| {
            let y = i as f64;
            let color = if c.diff < 0.0 { AGAINST } else { FAVOR };
            Rectangle::new([(0.0, y - 0.3), (c.diff, y + 0.3)], color.filled())
        }))?;
        chart.draw_series(contrasts.iter().enumerate().map(|(i, c)| PathElement::new(vec![(c.ci_low, i as f64), (c.ci_high, i as f64)], BLACK.stroke_width(2))))?;
        zero_line(chart, contrasts.len())
    })
}

/// Opinion share and loaded-language rate per group, with bootstrap CI whiskers.
pub fn bias(rows: &[BiasRow]) -> Result<String, String> {
    let rows: Vec<&BiasRow> = rows.iter().rev().collect();
    let names: Vec<String> = rows.iter().map(|r| format!("{} (n={})", r.name, r.n)).collect();
    row_chart("Opinion paragraphs (dark) and loaded wording (light), share of paragraphs", &names, 0.0..1.0, "share of paragraphs, 95% bootstrap CI", (760, height_for(rows.len()) + 20), 250, |chart| {
        for (k, color) in [(0usize, RGBColor(120, 80, 160)), (1, RGBColor(230, 160, 40))] {
            chart.draw_series(rows.iter().enumerate().map(move |(i, r)| {
                let s = if k == 0 { &r.opinion } else { &r.loaded };
                let y = i as f64 + if k == 0 { 0.17 } else { -0.17 };
                Rectangle::new([(0.0, y - 0.14), (s.value, y + 0.14)], color.filled())
            }))?;
            chart.draw_series(rows.iter().enumerate().map(move |(i, r)| {
                let s = if k == 0 { &r.opinion } else { &r.loaded };
                let y = i as f64 + if k == 0 { 0.17 } else { -0.17 };
                PathElement::new(vec![(s.ci_low, y), (s.ci_high, y)], BLACK.stroke_width(2))
            }))?;
        }
        Ok(())
    })
}
