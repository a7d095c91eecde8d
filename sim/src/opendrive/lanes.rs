//! A road's lanes as Lepton sees them: how many driving lanes each way, one lane width, one
//! shoulder; and where an OpenDRIVE lane id falls among a section's driving lanes.
//!
//! Lepton numbers a direction's lanes from the right in the direction of travel, lane 0 the
//! outermost, and packs them against the centre line. OpenDRIVE numbers them outward from the
//! reference line, so the k-th driving lane out of n (its *rank*) is Lepton lane n − k.

use super::notes::Notes;
use super::xml::{Contact, Lane, Road, Section};

/// Width samples per lane section.
const SAMPLES: usize = 8;
/// Lane widths that differ by more than this (m) are noted.
const WIDTH_SPREAD: f64 = 0.1;
/// Lane width when no driving lane has a width record (m): Lepton's default.
const DEFAULT_WIDTH: f64 = 3.5;

/// What a road's lanes come to in Lepton.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Lanes {
    /// The most driving lanes right of the reference line (travelling along it) in any section.
    pub right: u32,
    /// The same left of it (travelling against it).
    pub left: u32,
    /// The length-weighted mean width of the driving lanes (m).
    pub width: f64,
    /// The length-weighted mean of the `shoulder` and `border` lanes just outside the driving
    /// lanes, both sides averaged (m).
    pub shoulder: f64,
}

/// The section at one end of a road: the first at its start, the last at its end.
pub(super) fn end_section(road: &Road, at: Contact) -> Option<&Section> {
    match at {
        Contact::Start => road.sections.iter().min_by(|a, b| a.s.total_cmp(&b.s)),
        Contact::End => road.sections.iter().max_by(|a, b| a.s.total_cmp(&b.s)),
    }
}

/// The sections from one end of the road to the other.
pub(super) fn sections_from(road: &Road, at: Contact) -> Vec<&Section> {
    let mut sections: Vec<&Section> = road.sections.iter().collect();
    sections.sort_by(|a, b| a.s.total_cmp(&b.s));
    if at == Contact::End {
        sections.reverse();
    }
    sections
}

/// A side's lanes ordered outward from the reference line.
fn outward(side: &[Lane]) -> Vec<&Lane> {
    let mut lanes: Vec<&Lane> = side.iter().collect();
    lanes.sort_by_key(|l| l.id.unsigned_abs());
    lanes
}

/// The rank of driving lane `id` among its side's driving lanes in `section` (1 nearest the
/// reference line); `None` when there is no such driving lane.
pub(super) fn rank(section: &Section, id: i32) -> Option<u32> {
    let side = if id > 0 { &section.left } else { &section.right };
    let driving: Vec<&Lane> = outward(side).into_iter().filter(|l| l.driving()).collect();
    let position = driving.iter().position(|l| l.id == id)?;
    u32::try_from(position + 1).ok()
}

/// Summarises a road's lanes over its length (`length`: where its last section ends), noting
/// what Lepton's one-width, fixed-count lanes cannot keep.
pub(super) fn summary(road: &Road, length: f64, notes: &mut Notes) -> Lanes {
    let on = Some(road.id.as_str());
    let mut sections: Vec<&Section> = road.sections.iter().collect();
    sections.sort_by(|a, b| a.s.total_cmp(&b.s));
    let extents: Vec<(f64, f64)> = (0..sections.len())
        .map(|i| {
            let start = sections[i].s;
            let end = sections.get(i + 1).map_or(length, |next| next.s);
            (start, end.max(start))
        })
        .collect();
    // Sections of no length say nothing about the road, unless all are.
    let counted: Vec<usize> = {
        let long: Vec<usize> = (0..sections.len()).filter(|&i| extents[i].1 > extents[i].0).collect();
        if long.is_empty() { (0..sections.len()).collect() } else { long }
    };
    let driving = |side: &[Lane]| side.iter().filter(|l| l.driving()).count() as u32;
    let counts: Vec<(u32, u32)> =
        counted.iter().map(|&i| (driving(&sections[i].right), driving(&sections[i].left))).collect();
    let right = counts.iter().map(|c| c.0).max().unwrap_or(0);
    let left = counts.iter().map(|c| c.1).max().unwrap_or(0);
    if counts.iter().any(|&c| c != (right, left)) {
        notes.count(
            "road whose driving lane count changes between lane sections",
            "roads whose driving lane count changes between lane sections",
            "given the largest count each way (a Lepton road keeps its lanes)",
            on,
        );
    }

    let (mut width_sum, mut width_length) = (0.0, 0.0);
    let (mut narrowest, mut widest) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut shoulder_sum, mut shoulder_length) = (0.0, 0.0);
    let mut packed = true;
    let mut left_out: Vec<(String, usize)> = Vec::new();
    for &i in &counted {
        let section = sections[i];
        let (start, end) = extents[i];
        let step = (end - start) / SAMPLES as f64;
        for side in [&section.right, &section.left] {
            let lanes = outward(side);
            let inner = lanes.iter().take_while(|l| l.driving()).count();
            let total = lanes.iter().filter(|l| l.driving()).count();
            packed &=
                inner == total && lanes.iter().take(total).all(|l| l.id.unsigned_abs() as usize <= total);
            // The shoulder: shoulder and border lanes just outside the outermost driving lane.
            let outermost = lanes.iter().rposition(|l| l.driving()).map_or(0, |p| p + 1);
            let shoulders: Vec<&&Lane> = lanes[outermost..]
                .iter()
                .take_while(|l| l.kind == "shoulder" || l.kind == "border")
                .collect();
            for k in 0..SAMPLES {
                let ds = (k as f64 + 0.5) * step;
                for lane in lanes.iter().filter(|l| l.driving()) {
                    let w = lane.width_at(ds);
                    width_sum += w * step;
                    width_length += step;
                    narrowest = narrowest.min(w);
                    widest = widest.max(w);
                }
                if total > 0 || !shoulders.is_empty() {
                    shoulder_sum += shoulders.iter().map(|l| l.width_at(ds)).sum::<f64>() * step;
                    shoulder_length += step;
                }
            }
        }
        for lane in section.left.iter().chain(&section.right).filter(|l| !l.driving()) {
            // Per kind, the most lanes of it in any one section.
            let in_section =
                section.left.iter().chain(&section.right).filter(|l| l.kind == lane.kind).count();
            match left_out.iter_mut().find(|(kind, _)| *kind == lane.kind) {
                Some((_, most)) => *most = (*most).max(in_section),
                None => left_out.push((lane.kind.clone(), in_section)),
            }
        }
    }
    for (kind, n) in left_out {
        let why = if kind == "shoulder" || kind == "border" {
            "made the road's shoulder (by the width next to the driving lanes), not Lepton lanes"
        } else {
            "not modelled: only driving lanes become Lepton lanes"
        };
        notes.add(&format!("{kind} lane"), &format!("{kind} lanes"), why, on, n);
    }
    if !packed {
        notes.count(
            "road with non-driving lanes between its reference line and driving lanes (a median?)",
            "roads with non-driving lanes between their reference line and driving lanes (a median?)",
            "laid with the driving lanes packed against the reference line",
            on,
        );
    }
    let mut width = if width_length > 0.0 { width_sum / width_length } else { DEFAULT_WIDTH };
    if widest - narrowest > WIDTH_SPREAD {
        notes.count(
            "road whose driving lanes vary in width by more than 0.1 m",
            "roads whose driving lanes vary in width by more than 0.1 m",
            "given the length-weighted mean width (a Lepton road has one lane width)",
            on,
        );
    }
    if !(0.5..=10.0).contains(&width) {
        let used = width.clamp(0.5, 10.0);
        notes.line(format!(
            "road {}: its driving lanes are {width:.2} m wide on average; Lepton lanes are {used} m here",
            road.id
        ));
        width = used;
    }
    let shoulder =
        if shoulder_length > 0.0 { (shoulder_sum / shoulder_length).clamp(0.0, 50.0) } else { 0.0 };
    Lanes { right, left, width, shoulder }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opendrive::xml::{Loc, Width};

    fn lane(id: i32, kind: &str, a: f64, b: f64) -> Lane {
        Lane {
            loc: Loc { line: 1, path: String::new() },
            id,
            kind: kind.into(),
            widths: vec![Width { s_offset: 0.0, a, b, c: 0.0, d: 0.0 }],
            predecessor: None,
            successor: None,
        }
    }

    fn section(s: f64, left: Vec<Lane>, right: Vec<Lane>) -> Section {
        Section { loc: Loc { line: 1, path: String::new() }, s, left, right }
    }

    fn road(sections: Vec<Section>) -> Road {
        Road {
            loc: Loc { line: 1, path: String::new() },
            id: "9".into(),
            name: None,
            length: 100.0,
            junction: None,
            left_hand: false,
            predecessor: None,
            successor: None,
            plan_view: Loc { line: 1, path: String::new() },
            geometries: Vec::new(),
            sections,
        }
    }

    #[test]
    fn counts_widths_and_shoulders_come_from_the_driving_lanes_and_their_neighbours() {
        // 0–40 m: a median (-1), two driving lanes, a 1 m shoulder, a sidewalk; one lane back.
        // 40–100 m: one driving lane each way, 3 m wide.
        let first = section(
            0.0,
            vec![lane(1, "driving", 3.0, 0.0), lane(2, "sidewalk", 2.0, 0.0)],
            vec![
                lane(-1, "median", 1.0, 0.0),
                lane(-2, "driving", 3.5, 0.0),
                lane(-3, "driving", 3.0, 0.025),
                lane(-4, "shoulder", 1.0, 0.0),
                lane(-5, "sidewalk", 2.0, 0.0),
            ],
        );
        let second = section(40.0, vec![lane(1, "driving", 3.0, 0.0)], vec![lane(-1, "driving", 3.0, 0.0)]);
        let mut notes = Notes::default();
        let road = road(vec![second.clone(), first.clone()]);
        let lanes = summary(&road, 100.0, &mut notes);
        assert_eq!((lanes.right, lanes.left), (2, 1));
        // Driving metres: 40 × (3.5 + 3.5 + 3) over 120 lane-metres, then 60 × 2 × 3 over 120.
        let expected = (40.0 * 10.0 + 120.0 * 3.0) / 240.0;
        assert!((lanes.width - expected).abs() < 1e-9, "{}", lanes.width);
        // Shoulder: 1 m on the right for 40 m of four sides-by-section, 0 elsewhere.
        assert!((lanes.shoulder - 40.0 / (2.0 * 40.0 + 2.0 * 60.0)).abs() < 1e-9, "{}", lanes.shoulder);
        assert_eq!(rank(&first, -2), Some(1));
        assert_eq!(rank(&first, -3), Some(2));
        assert_eq!(rank(&first, -4), None);
        assert_eq!(end_section(&road, Contact::Start).map(|s| s.s), Some(0.0));
        assert_eq!(end_section(&road, Contact::End).map(|s| s.s), Some(40.0));
        let notes = notes.finish();
        for expected in
            ["driving lane count changes", "vary in width", "a median", "2 sidewalk lanes", "1 median lane"]
        {
            assert!(notes.iter().any(|n| n.contains(expected)), "no {expected:?} in {notes:#?}");
        }
    }
}
