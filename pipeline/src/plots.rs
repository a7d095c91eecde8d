//! The pipeline's pictures: `gates.png` (each gate's figures per attempt and data source, with
//! its threshold) and `monitor.png` (drift, perception error and success rate per condition over
//! the checks, with the thresholds and the versions retraining promoted).

use crate::figures::{AgentFigures, Figures, GateFigures, PerceptionFigures};
use crate::file::{Monitor, PipelineFile};
use crate::history::{Check, ConditionCheck};
use crate::stage::StageLine;
use lepton_render::picture::{COLOURS, Picture, PlotError, write_picture};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One panel: lines of (x, y) points by name, a dashed threshold, and x positions to mark.
struct Panel {
    title: String,
    x_label: &'static str,
    series: Vec<(String, Vec<(f64, f64)>)>,
    threshold: Option<f64>,
    marks: Vec<(f64, String)>,
    /// A fixed top of the y axis (rates: 1.05), or from the values.
    y_max: Option<f64>,
}

struct Panels(Vec<Panel>);

impl Picture for Panels {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
        root.fill(&WHITE).map_err(e)?;
        let areas = root.split_evenly((1, self.0.len().max(1)));
        for (area, panel) in areas.iter().zip(&self.0) {
            draw_panel(area, panel)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let xs: Vec<f64> = panel.series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).collect();
    let mut ys: Vec<f64> = panel.series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).collect();
    ys.extend(panel.threshold);
    let x_hi = xs.iter().copied().fold(1.0, f64::max) + 0.5;
    let y_hi = panel
        .y_max
        .unwrap_or_else(|| ys.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max) * 1.15 + 1e-3);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.5..x_hi, 0.0..y_hi)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label)
        .x_labels(((x_hi - 0.5) as usize).clamp(2, 12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(e)?;
    if let Some(t) = panel.threshold {
        let dashes = (0..40).map(|k| {
            let a = 0.5 + (x_hi - 0.5) * k as f64 / 40.0;
            PathElement::new(vec![(a, t), (a + (x_hi - 0.5) / 80.0, t)], BLACK.stroke_width(2))
        });
        chart.draw_series(dashes).map_err(e)?;
    }
    for (x, label) in &panel.marks {
        chart
            .draw_series([PathElement::new(
                vec![(*x, 0.0), (*x, y_hi)],
                RGBColor(120, 120, 120).stroke_width(1),
            )])
            .map_err(e)?;
        chart
            .draw_series([Text::new(label.clone(), (*x + 0.03, y_hi * 0.97), ("sans-serif", 14))])
            .map_err(e)?;
    }
    for (k, (name, points)) in panel.series.iter().enumerate() {
        let c = COLOURS[k % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
            .map_err(e)?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(e)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    Ok(())
}

/// Values by condition over the checks.
fn over_checks(
    history: &[Check],
    value: impl Fn(&ConditionCheck) -> Option<f64>,
) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for check in history {
        for c in &check.conditions {
            let Some(v) = value(c) else { continue };
            match series.iter_mut().find(|(n, _)| *n == c.name) {
                Some((_, points)) => points.push((check.check as f64, v)),
                None => series.push((c.name.clone(), vec![(check.check as f64, v)])),
            }
        }
    }
    series
}

/// `monitor.png`: drift, lane-offset error and success rate per condition over the checks; a
/// grey line after each check whose retraining promoted a version.
pub fn monitor(history: &[Check], m: &Monitor, out: &Path) -> Result<(), PlotError> {
    let marks: Vec<(f64, String)> = history
        .iter()
        .filter_map(|c| c.retrain.as_ref()?.promoted.map(|v| (c.check as f64 + 0.5, format!("v{v}"))))
        .collect();
    let panel = |title: &str, series, threshold, y_max| Panel {
        title: title.into(),
        x_label: "check",
        series,
        threshold,
        marks: marks.clone(),
        y_max,
    };
    let panels = Panels(vec![
        panel(
            "input drift (distance to nearest training data, σ)",
            over_checks(history, |c| c.drift),
            m.max_drift,
            None,
        ),
        panel(
            "perception lane-offset MAE (m)",
            over_checks(history, |c| c.lane_offset_mae.map(f64::from)),
            m.max_lane_mae.map(f64::from),
            None,
        ),
        panel(
            "success rate",
            over_checks(history, |c| c.success_rate.map(f64::from)),
            m.min_success_rate.map(f64::from),
            Some(1.05),
        ),
    ]);
    write_picture(&panels, (1500, 450), false, out)
}

/// `gates.png`: the perception gate's lane-offset MAE and the agent gate's success rate, per
/// attempt and data source.
pub fn gates(stages: &[StageLine], pipeline: &PipelineFile, out: &Path) -> Result<(), PlotError> {
    // Each gate's attempts in order, and one value of each source's figures per attempt.
    fn per_attempt<T>(
        stages: &[StageLine],
        gate: &str,
        figures: impl Fn(&Figures) -> Option<&GateFigures<T>>,
        value: impl Fn(&T) -> Option<f64>,
    ) -> Vec<(String, Vec<(f64, f64)>)> {
        let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        let attempts = stages.iter().filter(|s| s.stage == gate || s.stage.starts_with(&format!("{gate}#")));
        for (k, stage) in attempts.enumerate() {
            let Some(gate) = stage.figures.as_ref().and_then(&figures) else { continue };
            for (name, f) in gate.by_source() {
                let Some(v) = value(f) else { continue };
                match series.iter_mut().find(|(n, _)| n == name) {
                    Some((_, points)) => points.push((k as f64 + 1.0, v)),
                    None => series.push((name.to_string(), vec![(k as f64 + 1.0, v)])),
                }
            }
        }
        series
    }
    fn perception(f: &Figures) -> Option<&GateFigures<PerceptionFigures>> {
        if let Figures::Perception(g) = f { Some(g) } else { None }
    }
    fn agent(f: &Figures) -> Option<&GateFigures<AgentFigures>> {
        if let Figures::Agent(g) = f { Some(g) } else { None }
    }
    let panels = Panels(vec![
        Panel {
            title: "perception gate: held-out lane-offset MAE (m)".into(),
            x_label: "attempt",
            series: per_attempt(stages, "perception_gate", perception, |f| {
                f.lane_offset_mae().map(f64::from)
            }),
            threshold: pipeline.perception_gate.max_lane_mae.map(f64::from),
            marks: Vec::new(),
            y_max: None,
        },
        Panel {
            title: "agent gate: held-out success rate".into(),
            x_label: "attempt",
            series: per_attempt(stages, "agent_gate", agent, |f| Some(f.eval.summary.success_rate as f64)),
            threshold: Some(pipeline.agent_gate.min_success_rate as f64),
            marks: Vec::new(),
            y_max: Some(1.05),
        },
    ]);
    write_picture(&panels, (1100, 450), false, out)
}
