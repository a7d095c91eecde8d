//! A junction's connections. Each `laneLink` is followed from the incoming road's lane into its
//! connecting road, across the connecting road's lane sections, to the lane of the road at its
//! far end; the two lane ends become a Lepton connection (from the lane that ends to the lane
//! that starts). The connecting road's own shape is not kept: Lepton lays a connector of two
//! arcs between the lane ends.

use super::convert::{Import, end_pose, nearest_end};
use super::lanes::{end_section, rank, sections_from};
use super::xml::{Connection as Link, Contact, Junction as Source, LinkTarget};
use super::{Fault, unique_name};
use crate::scenario::{Connection, Junction, LaneEnd};
use std::collections::HashSet;

/// What happens to traffic in a lane at one end of its road.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// The lane ends there: traffic leaves the road (a connection's `from`).
    Leaves,
    /// The lane starts there: traffic enters the road (a connection's `to`).
    Enters,
}

const LEFT_OUT: &str = "left out";

impl Import<'_> {
    /// Every junction with at least one connection Lepton can use.
    pub(super) fn junctions(&mut self) -> Result<Vec<Junction>, Fault> {
        let doc = self.doc;
        let mut seen = HashSet::new();
        let mut names = HashSet::new();
        let mut junctions = Vec::new();
        for junction in &doc.junctions {
            let mut connect = Vec::new();
            for link in &junction.connections {
                for connection in self.connections(junction, link)? {
                    // Connections are often written from both roads' sides: each pair once.
                    if seen.insert(connection.clone()) {
                        connect.push(connection);
                    }
                }
            }
            if connect.is_empty() {
                self.notes.count(
                    "junction without a connection between driving lanes",
                    "junctions without a connection between driving lanes",
                    LEFT_OUT,
                    None,
                );
                continue;
            }
            let name = unique_name(junction.name.as_deref(), &format!("j{}", junction.id), &mut names);
            junctions.push(Junction { name, connect, ..Junction::default() });
        }
        Ok(junctions)
    }

    /// The Lepton connections of one `connection` element.
    fn connections(&mut self, junction: &Source, link: &Link) -> Result<Vec<Connection>, Fault> {
        let doc = self.doc;
        let road_named = |attribute: &str, id: &str| {
            self.index
                .get(id)
                .copied()
                .ok_or_else(|| Fault::at(&link.loc, format!("{attribute}={id:?} names no road of the file")))
        };
        let incoming = road_named("incomingRoad", &link.incoming)?;
        let Some(connecting) = &link.connecting else {
            self.notes.count(
                "direct junction connection (linkedRoad)",
                "direct junction connections (linkedRoad)",
                "left out: the roads meet end to start, and Lepton joins roads only through a connector",
                None,
            );
            return Ok(Vec::new());
        };
        let connecting = road_named("connectingRoad", connecting)?;
        let via = &doc.roads[connecting];
        let from_road = &doc.roads[incoming];
        if via.junction.is_none() || from_road.junction.is_some() {
            self.notes.count(
                "junction connection that is not from an ordinary road through a connecting road",
                "junction connections that are not from an ordinary road through a connecting road",
                LEFT_OUT,
                Some(&from_road.id),
            );
            return Ok(Vec::new());
        }

        // Which ends meet: the incoming road's end that links to this junction, and the
        // connecting road's end the file names; by distance where the file does not say.
        let (shape_in, shape_via) = (&self.shapes[incoming], &self.shapes[connecting]);
        let linked: Vec<Contact> =
            [(Contact::Start, &from_road.predecessor), (Contact::End, &from_road.successor)]
                .into_iter()
                .filter(|(_, l)| {
                    l.as_ref().is_some_and(|l| l.target == LinkTarget::Junction { id: junction.id.clone() })
                })
                .map(|(at, _)| at)
                .collect();
        let (at_in, at_via) = match (linked.as_slice(), link.contact) {
            ([at], Some(c)) => (*at, c),
            ([at], None) => (*at, nearest_end(shape_via, end_pose(shape_in, *at))),
            (_, Some(c)) => (nearest_end(shape_in, end_pose(shape_via, c)), c),
            (_, None) => {
                let ends = [Contact::Start, Contact::End];
                let pairs = ends.iter().flat_map(|&a| ends.iter().map(move |&b| (a, b)));
                let gap = |(a, b): (Contact, Contact)| end_pose(shape_in, a).gap(&end_pose(shape_via, b)).0;
                pairs.min_by(|&p, &q| gap(p).total_cmp(&gap(q))).unwrap_or((Contact::End, Contact::Start))
            }
        };
        let far = at_via.other();
        let onward = match far {
            Contact::End => &via.successor,
            Contact::Start => &via.predecessor,
        };
        let Some(LinkTarget::Road { id, contact }) = onward.as_ref().map(|l| &l.target) else {
            self.notes.count(
                "junction connection whose connecting road leads to no road",
                "junction connections whose connecting road leads to no road",
                LEFT_OUT,
                Some(&via.id),
            );
            return Ok(Vec::new());
        };
        let outgoing = self.index[id.as_str()];
        let at_out = contact.unwrap_or_else(|| nearest_end(&self.shapes[outgoing], end_pose(shape_via, far)));
        let to_road = &doc.roads[outgoing];

        let section_in = end_section(from_road, at_in);
        let sections_via = sections_from(via, at_via);
        let section_out = end_section(to_road, at_out);
        let mut connections = Vec::new();
        'links: for lane_link in &link.lane_links {
            let lane_in = section_in.and_then(|s| s.lane(lane_link.from)).ok_or_else(|| {
                Fault::at(
                    &lane_link.loc,
                    format!("road {} has no lane {} at its {}", from_road.id, lane_link.from, at_in.word()),
                )
            })?;
            let first_via = sections_via.first().and_then(|s| s.lane(lane_link.to)).ok_or_else(|| {
                Fault::at(
                    &lane_link.loc,
                    format!(
                        "connecting road {} has no lane {} at its {}",
                        via.id,
                        lane_link.to,
                        at_via.word()
                    ),
                )
            })?;
            // Through the connecting road's sections, in the order the link runs through them.
            let mut lane_via = first_via;
            for next in sections_via.iter().skip(1) {
                let step = if at_via == Contact::Start { &lane_via.successor } else { &lane_via.predecessor };
                lane_via = match step {
                    Some((id, loc)) => next.lane(*id).ok_or_else(|| {
                        Fault::at(
                            loc,
                            format!("road {} has no lane {id} in its lane section at s = {}", via.id, next.s),
                        )
                    })?,
                    // Unlinked: the lane of the same id goes on, if there is one.
                    None => match next.lane(lane_via.id) {
                        Some(lane) => lane,
                        None => {
                            self.notes.count(
                                "junction lane link whose connecting lane stops inside its road",
                                "junction lane links whose connecting lane stops inside its road",
                                LEFT_OUT,
                                Some(&via.id),
                            );
                            continue 'links;
                        }
                    },
                };
            }
            let step = if far == Contact::End { &lane_via.successor } else { &lane_via.predecessor };
            let Some((id_out, loc_out)) = step else {
                self.notes.count(
                    "junction lane link whose connecting lane links to no lane beyond it",
                    "junction lane links whose connecting lane links to no lane beyond it",
                    LEFT_OUT,
                    Some(&via.id),
                );
                continue;
            };
            let lane_out = section_out.and_then(|s| s.lane(*id_out)).ok_or_else(|| {
                Fault::at(
                    loc_out,
                    format!("road {} has no lane {id_out} at its {}", to_road.id, at_out.word()),
                )
            })?;
            if !(lane_in.driving() && first_via.driving() && lane_out.driving()) {
                self.notes.count(
                    "junction lane link between non-driving lanes",
                    "junction lane links between non-driving lanes",
                    LEFT_OUT,
                    None,
                );
                continue;
            }
            let ends =
                (self.lane_end(incoming, at_in, lane_link.from), self.lane_end(outgoing, at_out, *id_out));
            let (Some((a, flow_a)), Some((b, flow_b))) = ends else {
                self.notes.count(
                    "junction lane link into a road that is not imported",
                    "junction lane links into roads that are not imported",
                    LEFT_OUT,
                    None,
                );
                continue;
            };
            match (flow_a, flow_b) {
                (Flow::Leaves, Flow::Enters) => connections.push(Connection { from: a, to: b }),
                (Flow::Enters, Flow::Leaves) => connections.push(Connection { from: b, to: a }),
                _ => self.notes.count(
                    "junction lane link against its lanes' directions of travel",
                    "junction lane links against their lanes' directions of travel",
                    LEFT_OUT,
                    Some(&via.id),
                ),
            }
        }
        Ok(connections)
    }

    /// Lane `id` at end `at` of OpenDRIVE road `road` as a Lepton lane, and whether traffic leaves
    /// or enters the road there; `None` when the road or lane is not imported.
    fn lane_end(&self, road: usize, at: Contact, id: i32) -> Option<(LaneEnd, Flow)> {
        let (built, reversed) = self.placed[road]?;
        let rank = rank(end_section(&self.doc.roads[road], at)?, id)?;
        let built = &self.built[built];
        // Right lanes drive along the reference line (right-hand traffic); laid the other way,
        // the left ones do.
        let along = (id < 0) != reversed;
        let lane = if along { built.lanes.checked_sub(rank)? } else { built.lanes_back.checked_sub(rank)? };
        let flow = if (id < 0) == (at == Contact::End) { Flow::Leaves } else { Flow::Enters };
        Some((LaneEnd { road: built.name.clone(), lane, back: !along }, flow))
    }
}
