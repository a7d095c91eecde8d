//! Reward curves with plotters: four panels — episode return (raw and smoothed) with evaluation
//! return, evaluation success rate, loss, and ε — one colour per run, with a legend.

use crate::run::metrics::Row;
use lepton_render::picture::{COLOURS, Picture, PlotError, write_picture};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::Path;

/// One run to draw: its name in the legend and its metrics rows.
pub struct Series {
    pub name: String,
    pub rows: Vec<Row>,
}

/// Moving average over the last `window` points.
pub fn smooth(values: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(values.len());
    let mut sum = 0.0;
    for (i, &(x, y)) in values.iter().enumerate() {
        sum += y;
        if i >= window {
            sum -= values[i - window].1;
        }
        out.push((x, sum / (i + 1).min(window) as f64));
    }
    out
}

/// Reward curves of some runs.
struct Curves<'a>(&'a [Series]);

impl Picture for Curves<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw(root, self.0)
    }
}

/// Draws `runs` into `out` (PNG, or SVG when the name ends in .svg), atomically.
pub fn plot(runs: &[Series], out: &Path) -> Result<(), PlotError> {
    let svg = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    write_picture(&Curves(runs), (1400, 1000), svg, out)
}

type Points = Vec<(f64, f64)>;

/// A panel: its title, the row kind it reads and the value it draws.
type Panel = (&'static str, &'static str, fn(&Row) -> Option<f64>);

fn pick(rows: &[Row], kind: &str, value: impl Fn(&Row) -> Option<f64>) -> Points {
    rows.iter().filter(|r| r.kind == kind).filter_map(|r| value(r).map(|v| (r.step as f64, v))).collect()
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, runs: &[Series]) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let panels = root.split_evenly((2, 2));
    let max_step =
        runs.iter().flat_map(|r| r.rows.iter().map(|row| row.step)).max().unwrap_or(1).max(1) as f64;

    // Panel 1: episode return, raw (faint) and smoothed, plus evaluation return (dashed markers).
    let returns: Vec<(Points, Points)> = runs
        .iter()
        .map(|r| {
            (
                pick(&r.rows, "episode", |x| x.episode_return.map(f64::from)),
                pick(&r.rows, "eval", |x| x.eval_return_mean.map(f64::from)),
            )
        })
        .collect();
    let all: Vec<f64> = returns.iter().flat_map(|(a, b)| a.iter().chain(b).map(|p| p.1)).collect();
    let (lo, hi) = range(&all);
    let mut chart = panel_chart(
        &panels[0],
        "episode return (raw, smoothed) and evaluation return (●)",
        max_step,
        (lo, hi),
    )?;
    for (k, (run, (episodes, evals))) in runs.iter().zip(&returns).enumerate() {
        let c = COLOURS[k % COLOURS.len()];
        chart.draw_series(LineSeries::new(episodes.iter().copied(), c.mix(0.2))).map_err(e)?;
        chart
            .draw_series(LineSeries::new(smooth(episodes, 20), c.stroke_width(2)))
            .map_err(e)?
            .label(run.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(evals.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(e)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(e)?;

    // Panels 2–4: success rate, loss, ε.
    let others: [Panel; 3] = [
        ("evaluation success rate", "eval", |r| r.eval_success_rate.map(f64::from)),
        ("loss (mean per training interval)", "train", |r| r.loss.map(f64::from)),
        ("ε (exploration)", "train", |r| r.epsilon),
    ];
    for (panel, (title, kind, value)) in panels[1..].iter().zip(others) {
        let series: Vec<Points> = runs.iter().map(|r| pick(&r.rows, kind, value)).collect();
        let all: Vec<f64> = series.iter().flat_map(|s| s.iter().map(|p| p.1)).collect();
        let (lo, hi) = if kind == "eval" { (0.0, 1.05) } else { range(&all) };
        let mut chart = panel_chart(panel, title, max_step, (lo, hi))?;
        for (k, points) in series.iter().enumerate() {
            let c = COLOURS[k % COLOURS.len()];
            chart.draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2))).map_err(e)?;
            if kind == "eval" {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled()))).map_err(e)?;
            }
        }
    }
    Ok(())
}

/// One panel's axes: env steps across, `y` up, with its title and grid.
fn panel_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    max_step: f64,
    (lo, hi): (f64, f64),
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_step, lo..hi)
        .map_err(e)?;
    chart.configure_mesh().x_desc("env steps").light_line_style(WHITE.mix(0.0)).draw().map_err(e)?;
    Ok(chart)
}

fn range(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_is_a_trailing_mean() {
        let v = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)];
        let s = smooth(&v, 2);
        assert_eq!(s.iter().map(|p| p.1).collect::<Vec<_>>(), vec![1.0, 2.0, 4.0, 6.0]);
    }
}
