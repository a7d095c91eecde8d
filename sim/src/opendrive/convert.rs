//! From the parsed file to a Lepton network scenario: roads outside junctions (merged where
//! they are linked end to start), their lanes, the junctions' connections (`junctions.rs`), and
//! what Lepton's validator would still refuse, left out with a note.

use super::geometry::{self, Pose, Seg, Shape, TOLERANCE_DEG, TOLERANCE_M, wrap};
use super::lanes::{self, Lanes};
use super::notes::Notes;
use super::xml::{self, Contact, Document, LinkTarget};
use super::{Fault, Imported, unique_name};
use crate::network::{Network as Laid, NetworkError};
use crate::scenario::{
    Ego, Episode, Junction, LaneEnd, Network, NetworkRoad, Place, Route, Scenario, Segment, Spawn, Success,
    parse_str, to_ron,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Lepton's limits on a network (see the scenario validator).
const MAX_ROADS: usize = 256;
const MAX_JUNCTIONS: usize = 256;
const MAX_CONNECTIONS: usize = 256;
const MAX_PLACE: f64 = 100_000.0;
/// Linked roads whose lane widths differ by more than this (m) are not merged.
const JOIN_WIDTH: f64 = 0.25;
/// Linked roads whose ends are farther apart than this (m, degrees) are not merged.
const JOIN_GAP_M: f64 = 1.0;
const JOIN_GAP_DEG: f64 = 5.0;
/// Roads shorter than this (m) are left out: nothing can drive on them.
const SHORTEST_ROAD: f64 = 0.01;
/// Farthest the ego spawns from its road's start (m).
const SPAWN_S: f64 = 10.0;

/// The import under way: the file, every road's shape and lanes, and the Lepton roads so far.
pub(super) struct Import<'d> {
    pub doc: &'d Document,
    /// Road ids to their index in `doc.roads`.
    pub index: HashMap<&'d str, usize>,
    pub shapes: Vec<Shape>,
    pub lanes: Vec<Lanes>,
    /// Where each OpenDRIVE road went: its Lepton road, and whether it is laid the other way.
    pub placed: Vec<Option<(usize, bool)>>,
    pub built: Vec<Built>,
    pub notes: Notes,
}

/// A Lepton road being made from one or more OpenDRIVE roads.
#[derive(Debug, Clone)]
pub(super) struct Built {
    pub name: String,
    pub lanes: u32,
    pub lanes_back: u32,
    pub start: Pose,
    pub segs: Vec<Seg>,
    pub width: f64,
    pub shoulder: f64,
}

/// The whole import: text to a validated scenario named `name`.
pub(super) fn convert(text: &str, name: &str) -> Result<Imported, Fault> {
    let mut notes = Notes::default();
    let doc = xml::read(text, &mut notes)?;
    let mut import = Import::new(&doc, notes)?;
    import.build_roads()?;
    if import.built.is_empty() {
        return Err(Fault::at(
            &doc.root,
            "no road outside a junction has a driving lane with any length: there is nothing to drive on",
        ));
    }
    let junctions = import.junctions()?;
    import.finish(junctions, name)
}

/// The pose at one end of a shape, heading along it.
pub(super) fn end_pose(shape: &Shape, at: Contact) -> Pose {
    match at {
        Contact::Start => shape.start,
        Contact::End => shape.end,
    }
}

/// The end of `shape` nearer to `point`.
pub(super) fn nearest_end(shape: &Shape, point: Pose) -> Contact {
    let (to_start, _) = shape.start.gap(&point);
    let (to_end, _) = shape.end.gap(&point);
    if to_end < to_start { Contact::End } else { Contact::Start }
}

impl<'d> Import<'d> {
    /// Indexes the file, checks that every link names something that exists, and lays out every
    /// road's reference line and lanes.
    fn new(doc: &'d Document, mut notes: Notes) -> Result<Self, Fault> {
        let mut index = HashMap::new();
        for (i, road) in doc.roads.iter().enumerate() {
            if index.insert(road.id.as_str(), i).is_some() {
                return Err(Fault::at(
                    &road.loc,
                    format!("another road has id {:?}: ids must be unique", road.id),
                ));
            }
        }
        let mut junctions = HashSet::new();
        for junction in &doc.junctions {
            if !junctions.insert(junction.id.as_str()) {
                return Err(Fault::at(
                    &junction.loc,
                    format!("another junction has id {:?}: ids must be unique", junction.id),
                ));
            }
        }
        for road in &doc.roads {
            if let Some(j) = &road.junction
                && !junctions.contains(j.as_str())
            {
                return Err(Fault::at(&road.loc, format!("junction={j:?} names no junction of the file")));
            }
            for link in [&road.predecessor, &road.successor].into_iter().flatten() {
                match &link.target {
                    LinkTarget::Road { id, .. } if !index.contains_key(id.as_str()) => {
                        return Err(Fault::at(
                            &link.loc,
                            format!("elementId={id:?} names no road of the file"),
                        ));
                    }
                    LinkTarget::Junction { id } if !junctions.contains(id.as_str()) => {
                        return Err(Fault::at(
                            &link.loc,
                            format!("elementId={id:?} names no junction of the file"),
                        ));
                    }
                    _ => {}
                }
            }
            if road.left_hand {
                return Err(Fault::at(
                    &road.loc,
                    "rule=\"LHT\": left-hand traffic is not supported (Lepton's two-way roads drive on the right)",
                ));
            }
        }
        let shapes = doc
            .roads
            .iter()
            .map(|road| geometry::road_shape(road, &mut notes))
            .collect::<Result<Vec<_>, _>>()?;
        let lanes = doc
            .roads
            .iter()
            .map(|road| {
                // A connecting road's lanes become connectors: nothing about them is noted.
                let mut scratch = Notes::default();
                let into = if road.junction.is_some() { &mut scratch } else { &mut notes };
                lanes::summary(road, road.length, into)
            })
            .collect();
        Ok(Self { doc, index, shapes, lanes, placed: vec![None; doc.roads.len()], built: Vec::new(), notes })
    }

    /// A road's (right, left) driving lanes with the road laid `reversed` or not: laid the other
    /// way, its left lanes are on the right and drive along it.
    fn oriented(&self, road: usize, reversed: bool) -> (u32, u32) {
        let lanes = &self.lanes[road];
        if reversed { (lanes.left, lanes.right) } else { (lanes.right, lanes.left) }
    }

    /// Makes the Lepton roads: every road outside junctions with driving lanes, chains of roads
    /// linked end to start merged into one.
    fn build_roads(&mut self) -> Result<(), Fault> {
        let doc = self.doc;
        let mut candidate = vec![false; doc.roads.len()];
        for (i, road) in doc.roads.iter().enumerate() {
            let id = Some(road.id.as_str());
            let lanes = &self.lanes[i];
            if road.junction.is_some() {
                self.notes.count(
                    "connecting road",
                    "connecting roads",
                    "replaced by Lepton's own connectors (two arcs from lane end to lane start)",
                    id,
                );
            } else if lanes.right + lanes.left == 0 {
                self.notes.count("road without driving lanes", "roads without driving lanes", "left out", id);
            } else if self.shapes[i].length < SHORTEST_ROAD {
                self.notes.count("road of no length", "roads of no length", "left out", id);
            } else {
                candidate[i] = true;
            }
        }
        let partners = self.partners(&candidate);
        let mut visited = vec![false; doc.roads.len()];
        let mut names = HashSet::new();
        for i in 0..doc.roads.len() {
            if !candidate[i] || visited[i] {
                continue;
            }
            let (mut parts, ring) = chain(i, &partners);
            for &(road, _) in &parts {
                visited[road] = true;
            }
            let ids = |parts: &[(usize, bool)]| {
                parts.iter().map(|&(r, _)| doc.roads[r].id.as_str()).collect::<Vec<_>>().join(", ")
            };
            if self.oriented(parts[0].0, parts[0].1).0 == 0 {
                // Lepton's lanes along a road come first: lay it from its other end.
                parts = parts.iter().rev().map(|&(r, reversed)| (r, !reversed)).collect();
                self.notes.count(
                    "road with driving lanes only left of its reference line",
                    "roads with driving lanes only left of their reference line",
                    "laid from the end, the way the lanes drive",
                    Some(&doc.roads[parts[0].0].id),
                );
            }
            if ring {
                self.notes.line(format!(
                    "roads {} form a ring without a junction: a Lepton road cannot close on itself, so the \
                     ring is open where road {} starts",
                    ids(&parts),
                    doc.roads[parts[0].0].id
                ));
            } else if parts.len() > 1 {
                self.notes.line(format!(
                    "roads {} are linked end to start without a junction: they are merged into one Lepton road",
                    ids(&parts)
                ));
            }
            let built = self.build(&parts, &mut names)?;
            for &(road, reversed) in &parts {
                self.placed[road] = Some((self.built.len(), reversed));
            }
            self.built.push(built);
        }
        Ok(())
    }

    /// Road ends linked directly to another road's end, both ways, where the two can be merged.
    fn partners(&mut self, candidate: &[bool]) -> HashMap<(usize, Contact), (usize, Contact)> {
        let doc = self.doc;
        // Each end's proposed partners, from its own link and from the other road's.
        let mut proposed: BTreeMap<(usize, Contact), Vec<(usize, Contact)>> = BTreeMap::new();
        let mut to_junction = HashSet::new();
        for (i, road) in doc.roads.iter().enumerate().filter(|(i, _)| candidate[*i]) {
            for (at, link) in [(Contact::Start, &road.predecessor), (Contact::End, &road.successor)] {
                let Some(link) = link else { continue };
                match &link.target {
                    LinkTarget::Junction { .. } => {
                        to_junction.insert((i, at));
                    }
                    LinkTarget::Road { id, contact } => {
                        let j = self.index[id.as_str()];
                        if !candidate[j] {
                            continue;
                        }
                        let there = contact
                            .unwrap_or_else(|| nearest_end(&self.shapes[j], end_pose(&self.shapes[i], at)));
                        if (i, at) == (j, there) {
                            continue;
                        }
                        proposed.entry((i, at)).or_default().push((j, there));
                        proposed.entry((j, there)).or_default().push((i, at));
                    }
                }
            }
        }
        for list in proposed.values_mut() {
            list.sort();
            list.dedup();
        }
        let mut partners = HashMap::new();
        for (&here, list) in &proposed {
            let name = |(r, at): (usize, Contact)| format!("road {} {}", doc.roads[r].id, at.word());
            if list.len() > 1 || to_junction.contains(&here) {
                let others: Vec<String> = list.iter().map(|&o| name(o)).collect();
                self.notes.line(format!(
                    "{} is linked to {}{}: the links disagree, so it is merged with none",
                    name(here),
                    others.join(" and "),
                    if to_junction.contains(&here) { " and to a junction" } else { "" }
                ));
                continue;
            }
            let there = list[0];
            if here > there {
                continue; // each pair once, from its lower end
            }
            if proposed.get(&there).map(Vec::as_slice) != Some(&[here][..]) || to_junction.contains(&there) {
                continue; // noted from the other end
            }
            match self.mergeable(here, there) {
                Ok(()) => {
                    partners.insert(here, there);
                    partners.insert(there, here);
                }
                Err(why) => self.notes.line(format!(
                    "roads {} and {} are linked end to start without a junction, but {why}: Lepton joins \
                     roads only at junctions, with room for a connector between them, so they are imported \
                     unjoined",
                    doc.roads[here.0].id, doc.roads[there.0].id
                )),
            }
        }
        partners
    }

    /// Whether two linked road ends can become one road: they meet, heading on, with the same
    /// driving lanes each way and about the same lane width.
    fn mergeable(&self, (i, at_i): (usize, Contact), (j, at_j): (usize, Contact)) -> Result<(), String> {
        // Leaving road i through `at_i` and entering road j through `at_j`.
        let leaving = match at_i {
            Contact::End => self.shapes[i].end,
            Contact::Start => self.shapes[i].start.turned(),
        };
        let entering = match at_j {
            Contact::Start => self.shapes[j].start,
            Contact::End => self.shapes[j].end.turned(),
        };
        let (m, rad) = leaving.gap(&entering);
        if m > JOIN_GAP_M || rad.to_degrees() > JOIN_GAP_DEG {
            return Err(format!("their ends are {m:.2} m and {:.1}° apart", rad.to_degrees()));
        }
        let along_i = self.oriented(i, at_i == Contact::Start);
        let along_j = self.oriented(j, at_j == Contact::End);
        if along_i != along_j {
            return Err(format!(
                "their driving lanes differ ({} + {} and {} + {} each way)",
                along_i.0, along_i.1, along_j.0, along_j.1
            ));
        }
        let (wi, wj) = (self.lanes[i].width, self.lanes[j].width);
        if (wi - wj).abs() > JOIN_WIDTH {
            return Err(format!("their lanes are {wi:.2} m and {wj:.2} m wide"));
        }
        Ok(())
    }

    /// One Lepton road from a chain of (road, reversed) parts.
    fn build(&mut self, parts: &[(usize, bool)], names: &mut HashSet<String>) -> Result<Built, Fault> {
        let doc = self.doc;
        let mut start = None;
        let mut pose: Option<Pose> = None;
        let mut segs = Vec::new();
        let (mut width, mut shoulder, mut length) = (0.0, 0.0, 0.0);
        for (k, &(road, reversed)) in parts.iter().enumerate() {
            let shape = if reversed { self.shapes[road].reversed() } else { self.shapes[road].clone() };
            if let Some(pose) = pose {
                let (m, rad) = pose.gap(&shape.start);
                if m > TOLERANCE_M || rad.to_degrees() > TOLERANCE_DEG {
                    self.notes.line(format!(
                        "road {} starts {m:.3} m and {:.2}° from where road {} ends; it is laid on from there",
                        doc.roads[road].id,
                        rad.to_degrees(),
                        doc.roads[parts[k - 1].0].id
                    ));
                }
            }
            let from = pose.unwrap_or(shape.start);
            start.get_or_insert(shape.start);
            pose = Some(geometry::lay(from, &shape.segs));
            segs.extend_from_slice(&shape.segs);
            width += self.lanes[road].width * shape.length;
            shoulder += self.lanes[road].shoulder * shape.length;
            length += shape.length;
        }
        let (first, reversed) = parts[0];
        let mut start = start.unwrap_or(self.shapes[first].start);
        let (lanes, lanes_back) = self.oriented(first, reversed);
        let (width, shoulder) = (width / length, shoulder / length);
        if lanes_back == 0 {
            // A one-way Lepton road's lanes lie either side of its centre line; OpenDRIVE's lie
            // right of the reference line: move the line to the middle of the lanes.
            let shift = -0.5 * lanes as f64 * width;
            start = start.shifted(shift);
            segs = geometry::offset(&segs, shift).map_err(|radius| {
                Fault::at(
                    &doc.roads[first].loc,
                    format!(
                        "a curve of radius {radius:.2} m is tighter than the middle of its lanes is from the \
                         reference line ({:.2} m): the lanes would fold",
                        -shift
                    ),
                )
            })?;
        }
        let road = &doc.roads[first];
        let name = unique_name(road.name.as_deref(), &format!("r{}", road.id), names);
        Ok(Built { name, lanes, lanes_back, start, segs, width, shoulder })
    }

    /// The scenario: Lepton's limits checked, coordinates moved into its bounds if need be, what
    /// cannot be laid left out, a route and spawn chosen, and the whole validated.
    fn finish(mut self, junctions: Vec<Junction>, name: &str) -> Result<Imported, Fault> {
        let root = &self.doc.root;
        if self.built.len() > MAX_ROADS {
            return Err(Fault::at(
                root,
                format!(
                    "{} roads to import: a Lepton network holds at most {MAX_ROADS} (import part of the map)",
                    self.built.len()
                ),
            ));
        }
        if junctions.len() > MAX_JUNCTIONS {
            return Err(Fault::at(
                root,
                format!(
                    "{} junctions to import: a Lepton network holds at most {MAX_JUNCTIONS}",
                    junctions.len()
                ),
            ));
        }
        if let Some(j) = junctions.iter().find(|j| j.connect.len() > MAX_CONNECTIONS) {
            return Err(Fault::at(
                root,
                format!(
                    "junction {} has {} connections: a Lepton junction holds at most {MAX_CONNECTIONS}",
                    j.name,
                    j.connect.len()
                ),
            ));
        }
        let shift = self.recentre()?;
        let roads = self
            .built
            .iter()
            .map(|b| NetworkRoad {
                name: b.name.clone(),
                start: Place {
                    x: (b.start.x - shift.0) as f32,
                    y: (b.start.y - shift.1) as f32,
                    heading: wrap(b.start.heading).to_degrees() as f32,
                },
                segments: geometry::to_segments(&b.segs),
                lanes: b.lanes,
                lanes_back: b.lanes_back,
                lane_width: b.width as f32,
                shoulder: b.shoulder as f32,
            })
            .collect();
        let mut network = Network { roads, junctions, ..Network::default() };
        repair(&mut network, &mut self.notes)?;

        // The ego starts on the longest road whose lanes lead into a junction, else the longest.
        let leads_on = |road: &NetworkRoad| {
            network
                .junctions
                .iter()
                .flat_map(|j| &j.connect)
                .any(|c| c.from.road == road.name && !c.from.back)
        };
        let first = longest(network.roads.iter().filter(|r| leads_on(r)))
            .or_else(|| longest(network.roads.iter()))
            .ok_or_else(|| Fault::Invalid("every road was left out: there is nothing to drive on".into()))?;
        let spawn = Spawn { s: (0.1 * road_length(first)).min(SPAWN_S as f32), lane: 0, ..Spawn::default() };
        let route = Route::Random { from: first.name.clone() };
        let scenario = Scenario {
            name: name.to_string(),
            network: Some(network),
            ego: Ego { route: Some(route), spawn, ..Ego::default() },
            episode: Episode { success: Some(Success::RoadEnd), ..Episode::default() },
            ..Scenario::default()
        };
        if let Err(error) = parse_str(&to_ron(&scenario), name) {
            return Err(Fault::Invalid(self.explain(&scenario, &error.to_string())));
        }
        Ok(Imported { scenario, notes: self.notes.finish() })
    }

    /// How far to move every road so the network lies within Lepton's ±100 km (0 when it does).
    fn recentre(&mut self) -> Result<(f64, f64), Fault> {
        let mut bounds = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for b in &self.built {
            for p in [b.start, geometry::lay(b.start, &b.segs)] {
                bounds = [bounds[0].min(p.x), bounds[1].min(p.y), bounds[2].max(p.x), bounds[3].max(p.y)];
            }
        }
        if bounds.iter().all(|v| v.abs() <= MAX_PLACE) {
            return Ok((0.0, 0.0));
        }
        let centre = |lo: f64, hi: f64| (0.5 * (lo + hi) / 1000.0).round() * 1000.0;
        let shift = (centre(bounds[0], bounds[2]), centre(bounds[1], bounds[3]));
        if bounds[2] - shift.0 > MAX_PLACE
            || shift.0 - bounds[0] > MAX_PLACE
            || bounds[3] - shift.1 > MAX_PLACE
            || shift.1 - bounds[1] > MAX_PLACE
        {
            return Err(Fault::Invalid(format!(
                "the roads span {:.0} km × {:.0} km: Lepton's world is 200 km across",
                (bounds[2] - bounds[0]) / 1000.0,
                (bounds[3] - bounds[1]) / 1000.0
            )));
        }
        self.notes.line(format!(
            "coordinates are moved by ({}, {}) m to lie within Lepton's ±100 km",
            -shift.0, -shift.1
        ));
        Ok(shift)
    }

    /// The validator's message, with the OpenDRIVE roads behind each Lepton road it names.
    fn explain(&self, scenario: &Scenario, message: &str) -> String {
        let mut text = message.to_string();
        let Some(network) = &scenario.network else { return text };
        for (i, road) in network.roads.iter().enumerate() {
            if message.contains(&format!("network.roads[{i}]")) {
                let ids: Vec<&str> = self
                    .placed
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.is_some_and(|(b, _)| self.built.get(b).is_some_and(|b| b.name == road.name))
                    })
                    .map(|(r, _)| self.doc.roads[r].id.as_str())
                    .collect();
                text.push_str(&format!(
                    "\n(network.roads[{i}], {:?}, is OpenDRIVE road {})",
                    road.name,
                    ids.join(", ")
                ));
            }
        }
        text
    }
}

/// The chain of roads linked end to start through `partners` that holds `road`, in order from
/// one end, each with whether it is laid against its own direction; and whether it is a ring.
fn chain(road: usize, partners: &HashMap<(usize, Contact), (usize, Contact)>) -> (Vec<(usize, bool)>, bool) {
    let entry = |(r, reversed): (usize, bool)| (r, if reversed { Contact::End } else { Contact::Start });
    let exit = |(r, reversed): (usize, bool)| (r, if reversed { Contact::Start } else { Contact::End });
    // Back to the first part: the part before leaves through the end that meets this one's entry.
    let mut first = (road, false);
    let mut ring = false;
    for _ in 0..=partners.len() {
        let Some(&(before, at)) = partners.get(&entry(first)) else { break };
        if before == road {
            ring = true;
            first = (road, false);
            break;
        }
        first = (before, at == Contact::Start);
    }
    let mut parts = vec![first];
    while let Some(&(next, at)) = partners.get(&exit(parts[parts.len() - 1])) {
        if parts.iter().any(|&(r, _)| r == next) {
            ring = true;
            break;
        }
        parts.push((next, at == Contact::End));
    }
    (parts, ring)
}

/// The longest road (the first of equals).
fn longest<'a>(roads: impl Iterator<Item = &'a NetworkRoad>) -> Option<&'a NetworkRoad> {
    roads.fold(None, |best, road| match best {
        Some(b) if road_length(b) >= road_length(road) => Some(b),
        _ => Some(road),
    })
}

fn road_length(road: &NetworkRoad) -> f32 {
    road.segments.iter().map(segment_length).sum()
}

fn segment_length(segment: &Segment) -> f32 {
    match *segment {
        Segment::Straight { length } => length,
        Segment::Arc { radius, angle } => radius * angle.to_radians().abs(),
    }
}

fn lane_words(end: &LaneEnd) -> String {
    format!("road {} lane {}{}", end.road, end.lane, if end.back { " back" } else { "" })
}

/// Leaves out what Lepton cannot lay: connections whose connector cannot be built, then roads
/// that overlap another without a junction (a bridge, say: Lepton's roads are flat), each noted.
fn repair(network: &mut Network, notes: &mut Notes) -> Result<(), Fault> {
    loop {
        match Laid::laid(network) {
            Err(NetworkError::Connector { path, error }) => {
                let found = connection_at(&path).and_then(|(j, k)| {
                    network
                        .junctions
                        .get_mut(j)
                        .filter(|junction| k < junction.connect.len())
                        .map(|junction| (junction, k))
                });
                let Some((junction, k)) = found else {
                    return Err(Fault::Invalid(format!("{path}: the connector cannot be laid: {error}")));
                };
                let connection = junction.connect.remove(k);
                notes.line(format!(
                    "junction {}: the connection from {} to {} is left out: {error}",
                    junction.name,
                    lane_words(&connection.from),
                    lane_words(&connection.to)
                ));
            }
            Err(error) => return Err(Fault::Invalid(format!("{}: {error}", error.path()))),
            Ok(laid) => {
                let Some(&(a, b, at)) = laid.overlaps().first() else { break };
                let (kept, dropped) = (network.roads[a].name.clone(), network.roads.remove(b).name);
                notes.line(format!(
                    "road {dropped} overlaps road {kept} near (x = {:.0}, y = {:.0}) without a junction joining \
                     them (a bridge? Lepton's roads are flat): road {dropped} is left out",
                    at.x, at.y
                ));
                for junction in &mut network.junctions {
                    junction.connect.retain(|c| c.from.road != dropped && c.to.road != dropped);
                }
            }
        }
        network.junctions.retain(|junction| {
            let keep = !junction.connect.is_empty();
            if !keep {
                notes.line(format!("junction {}: no connection is left, so it is left out", junction.name));
            }
            keep
        });
    }
    Ok(())
}

/// (j, k) of a path `network.junctions[j].connect[k]`.
fn connection_at(path: &str) -> Option<(usize, usize)> {
    let rest = path.strip_prefix("network.junctions[")?;
    let (j, rest) = rest.split_once("].connect[")?;
    let k = rest.strip_suffix(']')?;
    Some((j.parse().ok()?, k.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_follow_links_both_ways_and_find_rings() {
        // 0 end → 1 start, 1 end → 2 end (2 runs the other way).
        let mut partners = HashMap::new();
        for (a, b) in [((0, Contact::End), (1, Contact::Start)), ((1, Contact::End), (2, Contact::End))] {
            partners.insert(a, b);
            partners.insert(b, a);
        }
        assert_eq!(chain(1, &partners), (vec![(0, false), (1, false), (2, true)], false));
        // From road 2 the same chain runs the other way.
        assert_eq!(chain(2, &partners), (vec![(2, false), (1, true), (0, true)], false));
        // Closing 2's start onto 0's start makes a ring.
        partners.insert((2, Contact::Start), (0, Contact::Start));
        partners.insert((0, Contact::Start), (2, Contact::Start));
        let (parts, ring) = chain(1, &partners);
        assert!(ring);
        assert_eq!(parts, [(1, false), (2, true), (0, false)]);
        assert_eq!(connection_at("network.junctions[3].connect[12]"), Some((3, 12)));
        assert_eq!(connection_at("network.roads[3]"), None);
    }
}
