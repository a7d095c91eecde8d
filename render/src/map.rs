//! A scenario drawn from above (`lepton scenario map`), so that an author sees what the file
//! describes before running it — the road and its shoulders, lane markings and edges, an
//! s-marker every 50 m, the obstacles, the range the ego car spawns in, where NPCs start, and the
//! scripted events (position triggers across the road, the obstacles events place, and each
//! event in words under the legend).
//!
//! Coordinates are the road plane's (x east, y north, metres) at one scale on both axes.

use crate::picture::{Picture, PlotError, write_picture};
use lepton_sim::network::{Edge, Network};
use lepton_sim::road::{PlanePose, RoadGeometry};
use lepton_sim::scenario::{Event, EventAction, Obstacle, ObstacleKind, Scenario, Trigger};
use lepton_sim::traffic::NPC_SIZE;
use plotters::coord::Shift;
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::types::RangedCoordf32;
use plotters::prelude::*;
use std::path::Path;

/// Metres between s-markers.
const MARKER_EVERY: f32 = 50.0;
/// Width of the picture in pixels; the height follows the road's shape.
const WIDTH: u32 = 1400;
/// The legend's strip under the map.
const LEGEND_H: u32 = 34;
/// Road pieces are drawn this long (overlapping a little, so no seam shows between them).
const PIECE: f32 = 20.0;

const GRASS: RGBColor = RGBColor(196, 222, 178);
const SHOULDER: RGBColor = RGBColor(170, 170, 165);
const ASPHALT: RGBColor = RGBColor(88, 90, 96);
const PAINT: RGBColor = WHITE;
const EGO: RGBColor = RGBColor(30, 100, 230);
const NPC: RGBColor = RGBColor(150, 60, 190);
const EVENT: RGBColor = RGBColor(230, 20, 140);
const LIGHT: RGBColor = RGBColor(220, 30, 30);
/// One line per event under the legend.
const EVENT_LINE_H: u32 = 18;

/// Draws `scenario` into `out` (PNG, or SVG when the name ends in .svg), atomically.
pub fn draw(scenario: &Scenario, out: &Path) -> Result<(), PlotError> {
    let error = |message: String| PlotError { path: out.to_path_buf(), message };
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let svg = match ext.as_deref() {
        Some("svg") => true,
        Some("png") => false,
        _ => return Err(error("the map is a .png or an .svg file".into())),
    };
    let network = Network::new(scenario).map_err(|e| error(format!("{}: {e}", e.path())))?;
    let road = network.first_road().clone();
    let [x0, y0, x1, y1] = network.bounds();
    let pad = 16.0;
    let (x0, y0, x1, y1) = (x0 - pad, y0 - pad, x1 + pad, y1 + pad);
    // One scale on both axes: the plot area's aspect follows the road's (within limits).
    let (label_w, label_h, caption_h) = (60, 45, 40);
    let plot_w = (WIDTH - label_w - 40) as f32;
    let aspect = ((y1 - y0) / (x1 - x0)).clamp(0.25, 1.5);
    let height = (plot_w * aspect) as u32 + label_h + caption_h + 40 + legend_height(scenario);
    let (y0, y1) = {
        let want = (x1 - x0) * aspect;
        let mid = 0.5 * (y0 + y1);
        let half = 0.5 * want.max(y1 - y0);
        (mid - half, mid + half)
    };
    let (x0, x1) = {
        let want = (y1 - y0) / aspect;
        let mid = 0.5 * (x0 + x1);
        let half = 0.5 * want.max(x1 - x0);
        (mid - half, mid + half)
    };
    let frame = Frame { x: x0..x1, y: y0..y1, size: (WIDTH, height), label_w, label_h, caption_h };
    write_picture(&Map { scenario, road: &road, network: &network, frame: &frame }, frame.size, svg, out)
}

/// The map as a picture.
struct Map<'a> {
    scenario: &'a Scenario,
    road: &'a RoadGeometry,
    network: &'a Network,
    frame: &'a Frame,
}

impl Picture for Map<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        if self.network.is_single_road() {
            draw_on(root, self.scenario, self.road, self.frame)
        } else {
            draw_network_on(root, self.scenario, self.network, self.frame)
        }
    }
}

/// The picture's extent and layout.
struct Frame {
    x: std::ops::Range<f32>,
    y: std::ops::Range<f32>,
    size: (u32, u32),
    label_w: u32,
    label_h: u32,
    caption_h: u32,
}

/// Sample positions along the road: every `step` metres and the end.
fn stations(road: &RoadGeometry, step: f32) -> Vec<f32> {
    let n = (road.length() / step).ceil().max(1.0) as usize;
    (0..=n).map(|i| (i as f32 * step).min(road.length())).collect()
}

/// The plane point at road coordinates (s, d).
fn at(road: &RoadGeometry, s: f32, d: f32) -> (f32, f32) {
    let p = road.pose(road.wrap_s(s), d);
    (p.x, p.y)
}

/// The corners of a rectangle `length` × `width` centred on `pose`, facing its heading.
fn rectangle(pose: PlanePose, length: f32, width: f32) -> Vec<(f32, f32)> {
    let (c, s) = (pose.heading.cos(), pose.heading.sin());
    [(0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)]
        .iter()
        .map(|(u, v)| {
            let (a, b) = (u * length, v * width);
            (pose.x + a * c - b * s, pose.y + a * s + b * c)
        })
        .collect()
}

/// The band between offsets `d0` and `d1` from `s0` to `s1`, as one polygon.
fn band(road: &RoadGeometry, s0: f32, s1: f32, d0: f32, d1: f32) -> Vec<(f32, f32)> {
    let n = ((s1 - s0).abs().ceil() as usize).max(1);
    let along = |i: usize| s0 + (s1 - s0) * i as f32 / n as f32;
    let mut points: Vec<(f32, f32)> = (0..=n).map(|i| at(road, along(i), d0)).collect();
    points.extend((0..=n).rev().map(|i| at(road, along(i), d1)));
    points
}

fn obstacle_colour(kind: ObstacleKind) -> RGBColor {
    match kind {
        ObstacleKind::Cone => RGBColor(245, 130, 20),
        ObstacleKind::Box => RGBColor(150, 100, 50),
        ObstacleKind::Barrier => RGBColor(210, 30, 30),
    }
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &Scenario,
    road: &RoadGeometry,
    frame: &Frame,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (map, legend) = root.split_vertically(frame.size.1 - legend_height(scenario));
    let shape = if road.closed() { "closed loop" } else { "open road" };
    let caption = format!(
        "{} — {:.0} m {shape}, {} lane{} × {:.1} m; {} obstacle{}, {} NPC{}{}",
        scenario.name,
        road.length(),
        road.lanes(),
        if road.lanes() == 1 { "" } else { "s" },
        road.lane_width(),
        scenario.obstacles.len(),
        if scenario.obstacles.len() == 1 { "" } else { "s" },
        scenario.traffic.count,
        if scenario.traffic.count == 1 { "" } else { "s" },
        match scenario.events.len() {
            0 => String::new(),
            1 => ", 1 event".to_string(),
            n => format!(", {n} events"),
        },
    );
    let mut chart = ChartBuilder::on(&map)
        .caption(caption, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(frame.label_h)
        .y_label_area_size(frame.label_w)
        .build_cartesian_2d(frame.x.clone(), frame.y.clone())
        .map_err(e)?;
    let _ = frame.caption_h;
    chart
        .configure_mesh()
        .x_desc("x (m)")
        .y_desc("y (m)")
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(e)?;
    let plot = chart.plotting_area();
    let (px0, py0, px1, py1) = (frame.x.start, frame.y.start, frame.x.end, frame.y.end);
    plot.draw(&Polygon::new(vec![(px0, py0), (px1, py0), (px1, py1), (px0, py1)], GRASS.filled()))
        .map_err(e)?;

    // Road: shoulders, then the lanes on top, in pieces that overlap by half a metre.
    let (lanes_half, outer) = (road.half_width(), road.drivable_half_width());
    let pieces = stations(road, PIECE);
    for layer in [(outer, SHOULDER), (lanes_half, ASPHALT)] {
        for w in pieces.windows(2) {
            let (s0, s1) = ((w[0] - 0.5).max(if road.closed() { -0.5 } else { 0.0 }), w[1]);
            plot.draw(&Polygon::new(band(road, s0, s1, -layer.0, layer.0), layer.1.filled())).map_err(e)?;
        }
    }

    // Markings: solid edges of the outer lanes, dashed lines between lanes (3 m in 9).
    let fine = stations(road, 0.5);
    for d in [-lanes_half, lanes_half] {
        let edge: Vec<(f32, f32)> = fine.iter().map(|&s| at(road, s, d)).collect();
        plot.draw(&PathElement::new(edge, PAINT.stroke_width(2))).map_err(e)?;
    }
    for lane in 1..road.lanes() {
        let d = road.lane_centre(lane) - 0.5 * road.lane_width();
        let mut dash = Vec::new();
        for &s in &fine {
            if s.rem_euclid(9.0) < 3.0 {
                dash.push(at(road, s, d));
            } else if !dash.is_empty() {
                plot.draw(&PathElement::new(std::mem::take(&mut dash), PAINT.stroke_width(1))).map_err(e)?;
            }
        }
        if !dash.is_empty() {
            plot.draw(&PathElement::new(dash, PAINT.stroke_width(1))).map_err(e)?;
        }
    }

    // s-markers: a tick across the left shoulder and the distance beside it.
    let label = ("sans-serif", 14).into_font().color(&BLACK);
    let mut marker = 0.0;
    while marker <= road.length() + 1e-3 {
        let s_here = marker.min(road.length());
        let tick = vec![at(road, s_here, lanes_half), at(road, s_here, outer + 1.5)];
        plot.draw(&PathElement::new(tick, BLACK.stroke_width(2))).map_err(e)?;
        let text = if marker == 0.0 { "s = 0".to_string() } else { format!("{marker:.0} m") };
        plot.draw(&Text::new(text, at(road, s_here, outer + 3.0), label.clone())).map_err(e)?;
        marker += MARKER_EVERY;
    }
    if !road.closed() {
        let end = format!("end {:.0} m", road.length());
        plot.draw(&Text::new(end, at(road, road.length(), -outer - 6.0), label.clone())).map_err(e)?;
    }

    // Obstacles, each its footprint in its kind's colour.
    for o in &scenario.obstacles {
        draw_obstacle(plot, road, o)?;
    }

    // Events: position triggers as a line across the road, event obstacles outlined in the event
    // colour (they are not there until their event happens).
    let event_label = ("sans-serif", 14).into_font().color(&EVENT);
    for event in &scenario.events {
        if let Trigger::EgoAt { s, road: None } = event.when {
            let line = vec![at(road, s, -outer), at(road, s, outer)];
            plot.draw(&PathElement::new(line, EVENT.stroke_width(3))).map_err(e)?;
            plot.draw(&Text::new(event.name.clone(), at(road, s, -outer - 8.0), event_label.clone()))
                .map_err(e)?;
        }
    }
    for (i, o) in lepton_sim::events::event_obstacles(&scenario.events) {
        let d = o.lane.map_or(0.0, |lane| road.lane_centre(lane)) + o.offset;
        let size = o.size.unwrap_or_else(|| o.kind.default_size());
        let mut outline = rectangle(road.pose(road.wrap_s(o.s), d), size[0].max(1.0), size[1].max(1.0));
        plot.draw(&Polygon::new(outline.clone(), obstacle_colour(o.kind).mix(0.4).filled())).map_err(e)?;
        outline.push(outline[0]);
        plot.draw(&PathElement::new(outline, EVENT.stroke_width(2))).map_err(e)?;
        let text = format!("{} appears", scenario.events[i].name);
        plot.draw(&Text::new(text, at(road, o.s, d + 0.5 * size[1] + 2.0), event_label.clone()))
            .map_err(e)?;
    }

    // The ego spawn: the range its jitter covers (shaded), the nominal car and its heading.
    let spawn = &scenario.ego.spawn;
    let vehicle = &scenario.ego.vehicle;
    let d = road.lane_centre(spawn.lane);
    let reach = spawn.offset_jitter + 0.5 * vehicle.width;
    let range = band(
        road,
        spawn.s - spawn.s_jitter - 0.5 * vehicle.length,
        spawn.s + spawn.s_jitter + 0.5 * vehicle.length,
        d - reach,
        d + reach,
    );
    plot.draw(&Polygon::new(range, EGO.mix(0.3).filled())).map_err(e)?;
    let pose = road.pose(road.wrap_s(spawn.s), d);
    plot.draw(&Polygon::new(rectangle(pose, vehicle.length, vehicle.width), EGO.filled())).map_err(e)?;
    let nose = (
        pose.x + 4.0 * vehicle.length * pose.heading.cos(),
        pose.y + 4.0 * vehicle.length * pose.heading.sin(),
    );
    plot.draw(&PathElement::new(vec![(pose.x, pose.y), nose], EGO.stroke_width(3))).map_err(e)?;
    plot.draw(&Text::new(
        "ego",
        at(road, spawn.s, d - reach - 3.0),
        ("sans-serif", 15).into_font().color(&EGO),
    ))
    .map_err(e)?;

    // NPC starts: NPC i starts start_gap + i · spacing ahead of the ego (± jitter) in one of its
    // lanes; each possible place is outlined, the jitter drawn along the lane.
    let traffic = &scenario.traffic;
    let lanes: Vec<u32> =
        if traffic.lanes.is_empty() { (0..road.lanes()).collect() } else { traffic.lanes.clone() };
    for i in 0..traffic.count {
        let s = spawn.s + traffic.start_gap + i as f32 * traffic.spacing;
        if !road.closed() && s > road.length() {
            continue;
        }
        for &lane in &lanes {
            let d = road.lane_centre(lane);
            let mut outline = rectangle(road.pose(road.wrap_s(s), d), NPC_SIZE[0], NPC_SIZE[1]);
            outline.push(outline[0]);
            plot.draw(&PathElement::new(outline, NPC.stroke_width(2))).map_err(e)?;
            if traffic.spacing_jitter > 0.0 {
                let jitter =
                    vec![at(road, s - traffic.spacing_jitter, d), at(road, s + traffic.spacing_jitter, d)];
                plot.draw(&PathElement::new(jitter, NPC.stroke_width(1))).map_err(e)?;
            }
        }
        let beside = at(road, s, -outer - 4.0);
        plot.draw(&Text::new(format!("NPC {i}"), beside, ("sans-serif", 13).into_font().color(&NPC)))
            .map_err(e)?;
    }

    // The legend, in its strip under the map.
    let entries: [(&str, RGBColor); 6] = [
        ("ego spawn (shaded: its jitter)", EGO),
        ("NPC start (line: jitter)", NPC),
        ("cone", obstacle_colour(ObstacleKind::Cone)),
        ("box", obstacle_colour(ObstacleKind::Box)),
        ("barrier", obstacle_colour(ObstacleKind::Barrier)),
        ("shoulder (off-road beyond)", SHOULDER),
    ];
    let mut x = frame.label_w as i32 + 20;
    for (name, colour) in entries {
        legend.draw(&Rectangle::new([(x, 8), (x + 14, 22)], colour.filled())).map_err(e)?;
        legend
            .draw(&Text::new(name.to_string(), (x + 20, 8), ("sans-serif", 14).into_font().color(&BLACK)))
            .map_err(e)?;
        x += 40 + 8 * name.len() as i32;
    }
    for (k, event) in scenario.events.iter().enumerate() {
        let y = (LEGEND_H + k as u32 * EVENT_LINE_H) as i32;
        let text = describe(event);
        legend
            .draw(&Text::new(
                text,
                (frame.label_w as i32 + 20, y),
                ("sans-serif", 14).into_font().color(&EVENT),
            ))
            .map_err(e)?;
    }
    Ok(())
}

/// A road network: every road (shoulders, lanes, edges, dashed lines between lanes, a name and
/// an arrow for each direction), every junction (its connectors' surface, each connector's path
/// as a thin line, its name), the ego's route over it and its spawn.
fn draw_network_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &Scenario,
    network: &Network,
    frame: &Frame,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (map, legend) = root.split_vertically(frame.size.1 - legend_height(scenario));
    let file = scenario.network.as_ref().expect("a network scenario");
    // The route as the first episode draws it (a Random one changes per episode).
    let route = network
        .route(
            scenario.ego.route.as_ref(),
            &mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0),
        )
        .map_err(|e| e.to_string())?;
    let route_names: Vec<String> = route.iter().map(|&c| network.carriageway_name(c)).collect();
    let caption = format!(
        "{} — {} road{}, {} junction{} ({} connectors); route: {}",
        scenario.name,
        file.roads.len(),
        if file.roads.len() == 1 { "" } else { "s" },
        file.junctions.len(),
        if file.junctions.len() == 1 { "" } else { "s" },
        network.connectors.len(),
        route_names.join(" → "),
    );
    let mut chart = ChartBuilder::on(&map)
        .caption(caption, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(frame.label_h)
        .y_label_area_size(frame.label_w)
        .build_cartesian_2d(frame.x.clone(), frame.y.clone())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("x (m)")
        .y_desc("y (m)")
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(e)?;
    let plot = chart.plotting_area();
    let (px0, py0, px1, py1) = (frame.x.start, frame.y.start, frame.x.end, frame.y.end);
    plot.draw(&Polygon::new(vec![(px0, py0), (px1, py0), (px1, py1), (px0, py1)], GRASS.filled()))
        .map_err(e)?;

    // Surfaces: every shoulder first, then every lane and junction connector over them.
    let edges: Vec<Edge> = network.edges().collect();
    for (layer, lanes_only) in [(SHOULDER, false), (ASPHALT, true)] {
        for &edge in &edges {
            let road = network.geometry(edge);
            let half = if lanes_only { road.half_width() } else { road.drivable_half_width() };
            for w in stations(road, PIECE).windows(2) {
                let s0 = (w[0] - 0.5).max(0.0);
                plot.draw(&Polygon::new(band(road, s0, w[1], -half, half), layer.filled())).map_err(e)?;
            }
        }
    }
    // Markings of the roads: solid edges, dashed lines between lanes; a connector's path thin.
    let label = ("sans-serif", 14).into_font().color(&BLACK);
    for (i, carriageway) in network.carriageways.iter().enumerate() {
        let road = &carriageway.geometry;
        let fine = stations(road, 0.5);
        for d in [-road.half_width(), road.half_width()] {
            let edge: Vec<(f32, f32)> = fine.iter().map(|&s| at(road, s, d)).collect();
            plot.draw(&PathElement::new(edge, PAINT.stroke_width(2))).map_err(e)?;
        }
        for lane in 1..road.lanes() {
            let d = road.lane_centre(lane) - 0.5 * road.lane_width();
            for dash in fine.chunk_by(|a, b| (a.rem_euclid(9.0) < 3.0) == (b.rem_euclid(9.0) < 3.0)) {
                if dash[0].rem_euclid(9.0) < 3.0 {
                    let points: Vec<(f32, f32)> = dash.iter().map(|&s| at(road, s, d)).collect();
                    plot.draw(&PathElement::new(points, PAINT.stroke_width(1))).map_err(e)?;
                }
            }
        }
        // Its name and an arrow along its direction of travel, at the middle.
        let mid = 0.5 * road.length();
        let arrow = vec![at(road, mid - 4.0, 0.0), at(road, mid + 4.0, 0.0)];
        plot.draw(&PathElement::new(arrow, WHITE.stroke_width(2))).map_err(e)?;
        let head = vec![at(road, mid + 4.0, 0.0), at(road, mid + 1.5, 1.2), at(road, mid + 1.5, -1.2)];
        plot.draw(&Polygon::new(head, WHITE.filled())).map_err(e)?;
        if !carriageway.back {
            let side = road.drivable_half_width() + 4.0;
            let name = network.carriageway_name(i);
            plot.draw(&Text::new(name, at(road, mid, -side), label.clone())).map_err(e)?;
        }
    }
    for path in &network.connectors {
        let road = &path.connector.geometry;
        let line: Vec<(f32, f32)> = stations(road, 0.5).iter().map(|&s| at(road, s, 0.0)).collect();
        plot.draw(&PathElement::new(line, WHITE.mix(0.6).stroke_width(1))).map_err(e)?;
    }
    // Junction names, at the middle of their connectors.
    for (j, junction) in file.junctions.iter().enumerate() {
        let points: Vec<(f32, f32)> = network
            .connectors
            .iter()
            .filter(|p| p.junction == j)
            .map(|p| at(&p.connector.geometry, 0.5 * p.connector.geometry.length(), 0.0))
            .collect();
        let n = points.len().max(1) as f32;
        let centre = points.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0 / n, a.1 + p.1 / n));
        let text = ("sans-serif", 15).into_font().color(&RGBColor(120, 40, 0));
        plot.draw(&Text::new(format!("◆ {}", junction.name), centre, text)).map_err(e)?;
    }

    // The ego's route: along its lanes' centres, through the connectors between them.
    let spawn = &scenario.ego.spawn;
    let mut line = Vec::new();
    for (k, &c) in route.iter().enumerate() {
        let road = &network.carriageways[c].geometry;
        let d = road.lane_centre(spawn.lane.min(road.lanes() - 1));
        let from = if k == 0 { spawn.s } else { 0.0 };
        line.extend(stations(road, 1.0).into_iter().filter(|&s| s >= from).map(|s| at(road, s, d)));
        if let Some(&next) = route.get(k + 1) {
            let way = network.leaving(c).iter().find(|&&p| network.connectors[p].connector.to.road == next);
            if let Some(&p) = way {
                let g = &network.connectors[p].connector.geometry;
                line.extend(stations(g, 1.0).iter().map(|&s| at(g, s, 0.0)));
            }
        }
    }
    plot.draw(&PathElement::new(line.clone(), EGO.mix(0.55).stroke_width(5))).map_err(e)?;
    if let Some(&end) = line.last() {
        plot.draw(&Circle::new(end, 6, EGO.filled())).map_err(e)?;
        plot.draw(&Text::new("route end", (end.0, end.1), ("sans-serif", 15).into_font().color(&EGO)))
            .map_err(e)?;
    }
    let first = &network.carriageways[route[0]].geometry;
    let vehicle = &scenario.ego.vehicle;
    let pose = first.pose(first.wrap_s(spawn.s), first.lane_centre(spawn.lane.min(first.lanes() - 1)));
    plot.draw(&Polygon::new(rectangle(pose, vehicle.length, vehicle.width), EGO.filled())).map_err(e)?;
    plot.draw(&Text::new("ego", (pose.x + 3.0, pose.y + 3.0), ("sans-serif", 15).into_font().color(&EGO)))
        .map_err(e)?;

    for o in &scenario.obstacles {
        draw_obstacle(plot, crate::meshes::obstacle_road(scenario, network, o), o)?;
    }

    // Position triggers: a line across the road they name, where the route drives it.
    let event_label = ("sans-serif", 14).into_font().color(&EVENT);
    for event in &scenario.events {
        if let Trigger::EgoAt { s, road } = &event.when
            && let Some(road) = network.trigger_road(&route, road.as_deref())
        {
            let outer = road.drivable_half_width();
            plot.draw(&PathElement::new(
                vec![at(road, *s, -outer), at(road, *s, outer)],
                EVENT.stroke_width(3),
            ))
            .map_err(e)?;
            plot.draw(&Text::new(event.name.clone(), at(road, *s, outer + 4.0), event_label.clone()))
                .map_err(e)?;
        }
    }

    // Where NPCs enter (a triangle per lane at the start of each road no junction leads into),
    // and each junction approach with traffic lights (a light at the end of its lanes).
    if scenario.traffic.count > 0 {
        for c in network.entries() {
            let road = &network.carriageways[c].geometry;
            for lane in 0..road.lanes() {
                let d = road.lane_centre(lane);
                let mark = vec![at(road, 6.0, d), at(road, 1.0, d + 1.2), at(road, 1.0, d - 1.2)];
                plot.draw(&Polygon::new(mark, NPC.filled())).map_err(e)?;
            }
        }
    }
    for (k, path) in network.connectors.iter().enumerate() {
        if network.light(k, 0.0).is_none() {
            continue;
        }
        let from = path.connector.from;
        let road = &network.carriageways[from.road].geometry;
        let (s, d) = (road.length() - 1.0, road.lane_centre(from.lane));
        let line = vec![at(road, s, d - 0.5 * road.lane_width()), at(road, s, d + 0.5 * road.lane_width())];
        plot.draw(&PathElement::new(line, LIGHT.stroke_width(3))).map_err(e)?;
    }

    let npcs = format!("NPC entry ({} cars)", scenario.traffic.count);
    let lights = file.junctions.iter().any(|j| j.signals.is_some());
    let entries: [(&str, RGBColor, bool); 6] = [
        ("ego spawn and route", EGO, true),
        (&npcs, NPC, scenario.traffic.count > 0),
        ("stop line (lights)", LIGHT, lights),
        ("road (arrow: its way)", ASPHALT, true),
        ("junction (lines: connectors)", RGBColor(120, 40, 0), true),
        ("shoulder", SHOULDER, true),
    ];
    let mut x = frame.label_w as i32 + 20;
    for (name, colour, _) in entries.into_iter().filter(|e| e.2) {
        legend.draw(&Rectangle::new([(x, 8), (x + 14, 22)], colour.filled())).map_err(e)?;
        legend
            .draw(&Text::new(name.to_string(), (x + 20, 8), ("sans-serif", 14).into_font().color(&BLACK)))
            .map_err(e)?;
        x += 40 + 8 * name.len() as i32;
    }
    for (k, event) in scenario.events.iter().enumerate() {
        let y = (LEGEND_H + k as u32 * EVENT_LINE_H) as i32;
        let text = describe(event);
        let style = ("sans-serif", 14).into_font().color(&EVENT);
        legend.draw(&Text::new(text, (frame.label_w as i32 + 20, y), style)).map_err(e)?;
    }
    Ok(())
}

/// An obstacle's footprint in its kind's colour, and a dot: a 40 cm cone is smaller than a pixel
/// on a long road.
fn draw_obstacle<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Cartesian2d<RangedCoordf32, RangedCoordf32>>,
    road: &RoadGeometry,
    o: &Obstacle,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let d = o.lane.map_or(0.0, |lane| road.lane_centre(lane)) + o.offset;
    let size = o.size.unwrap_or_else(|| o.kind.default_size());
    let corners = rectangle(road.pose(road.wrap_s(o.s), d), size[0], size[1]);
    let colour = obstacle_colour(o.kind);
    let centre = at(road, o.s, d);
    plot.draw(&Circle::new(centre, 4, colour.filled())).map_err(e)?;
    plot.draw(&Circle::new(centre, 4, BLACK.stroke_width(1))).map_err(e)?;
    plot.draw(&Polygon::new(corners.clone(), colour.filled())).map_err(e)?;
    let mut outline = corners;
    outline.push(outline[0]);
    plot.draw(&PathElement::new(outline, BLACK.stroke_width(1))).map_err(e)
}

/// The strip under the map: the legend, and a line per event.
fn legend_height(scenario: &Scenario) -> u32 {
    LEGEND_H + scenario.events.len() as u32 * EVENT_LINE_H
}

/// An event in words: "lead_brakes: when the ego car reaches s = 90 m → NPC 0 stops".
pub fn describe(event: &Event) -> String {
    let when = match &event.when {
        Trigger::Time { seconds } => format!("at t = {seconds} s"),
        Trigger::EgoAt { s, road: None } => format!("when the ego car reaches s = {s} m"),
        Trigger::EgoAt { s, road: Some(road) } => format!("when the ego car reaches s = {s} m along {road}"),
        Trigger::Gap { npc, below } => format!("when NPC {npc} is less than {below} m ahead"),
        Trigger::TimeToCollision { npc, below } => {
            format!("when the time to collision with NPC {npc} drops below {below} s")
        }
    };
    let delay = if event.delay > 0.0 { format!(", {} s later", event.delay) } else { String::new() };
    let then: Vec<String> = event
        .then
        .iter()
        .map(|a| match a {
            EventAction::CutIn { npc, duration } => {
                format!("NPC {npc} cuts into the ego's lane ({duration} s)")
            }
            EventAction::Brake { npc, decel, to_speed } => {
                format!("NPC {npc} brakes at {decel} m/s² to {to_speed} m/s")
            }
            EventAction::Stop { npc } => format!("NPC {npc} stops"),
            EventAction::Obstacle(o) => format!("a {:?} appears at s = {} m", o.kind, o.s).to_lowercase(),
            EventAction::Look(_) => "the look changes".to_string(),
            EventAction::TargetSpeed { speed } => format!("the target speed becomes {speed} m/s"),
        })
        .collect();
    format!("{}: {when}{delay} → {}", event.name, then.join(", "))
}
