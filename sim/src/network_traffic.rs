//! NPC traffic on a road network (issue 26): kinematic cars that enter at the network's open
//! ends, take a random way at each junction, follow whatever is ahead on their way with the
//! Intelligent Driver Model, change lanes when their lane leads nowhere (MOBIL's safety test), and
//! yield at junctions.
//!
//! Junctions are kept safe by *locks*: two connectors of a junction from different lanes conflict
//! when their paths come within a car's width of each other (they cross, or merge into one lane),
//! and a car may enter a connector only while no car — NPC or ego — is on one that conflicts with
//! it. Cars on connectors that leave one lane follow each other until their paths part.
//! Who gets the lock is priority and gap acceptance: a car from a road without the right of way
//! (`junction.priority` names the roads that have it) waits unless it can clear its connector
//! [`ACCEPT_TIME`] before any car with it reaches a conflicting one (gap acceptance); between
//! equals, the one that has waited longer goes first. At a junction with traffic lights a car
//! asks for its connector only on green, or on amber when it is too close to stop. A car that is
//! not granted its connector stops at the end of its road.

use crate::network::{CONFLICT_DISTANCE, Edge, Network};
use crate::road::{RoadGeometry, plane_to_world, wrap_angle};
use crate::scenario::{Idm, Traffic as TrafficConfig};
use crate::signals::Light;
use crate::traffic::{LATERAL_SPEED, NPC_SIZE, SAFE_BRAKING, attach_npc_collider, idm_accel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapier3d::prelude::*;

/// A car without the right of way enters only if every car with it that is due at a conflicting
/// connector arrives this many seconds after the entering car has cleared its connector (s).
pub const ACCEPT_TIME: f32 = 1.5;
/// How far ahead along its way an NPC looks for a car to follow (m).
const LOOKAHEAD: f32 = 80.0;
/// A car asks for its connector this far before its road ends, beyond its braking distance (m).
const REQUEST_MARGIN: f32 = 10.0;
/// The deceleration a car plans its stop at a road's end with (m/s²).
const STOP_DECEL: f32 = 2.5;
/// An entering car needs this much free road at the start of its lane (m).
const ENTRY_CLEARANCE: f32 = 15.0;

/// One NPC on the network.
#[derive(Debug, Clone)]
pub struct NetNpc {
    pub body: RigidBodyHandle,
    /// The road or connector it is on.
    pub edge: Edge,
    /// Its lane on a road (0 on a connector), the one it drives in or changes into.
    pub lane: u32,
    pub s: f32,
    pub d: f32,
    pub speed: f32,
    pub desired_speed: f32,
    /// False while it waits off the map to enter.
    pub active: bool,
    /// The connector it takes where its road ends; `None` where its road leads nowhere.
    pub next: Option<usize>,
    /// Whether it holds the lock of `next` (or of the connector it is on).
    pub granted: bool,
    /// Seconds it has been refused its connector on this approach (it slows or stops meanwhile).
    pub waiting: f32,
}

/// Where a learning car is, as NPCs see it.
#[derive(Debug, Clone, Copy)]
pub struct EgoOnNetwork {
    pub edge: Edge,
    pub s: f32,
    pub d: f32,
    pub speed: f32,
    pub length: f32,
}

/// A car on the network, as others follow it.
#[derive(Debug, Clone, Copy)]
struct User {
    active: bool,
    edge: Edge,
    s: f32,
    d: f32,
    speed: f32,
    length: f32,
}

/// The NPCs of a network world.
#[derive(Debug, Clone)]
pub struct NetworkTraffic {
    pub npcs: Vec<NetNpc>,
    idm: Idm,
    speed: (f32, f32),
    /// Carriageways no connector leads into: where cars enter.
    entries: Vec<usize>,
    /// Route choices and entries during the episode, seeded from the world's seed.
    rng: ChaCha8Rng,
}

impl NetworkTraffic {
    /// `config.count` NPCs placed on the entry roads, away from the ego car and each other.
    pub fn spawn(
        physics: &mut PhysicsWorld,
        network: &Network,
        config: &TrafficConfig,
        cars: &[EgoOnNetwork],
        rng: &mut impl Rng,
    ) -> Self {
        let mut traffic = Self {
            npcs: Vec::with_capacity(config.count as usize),
            idm: config.idm.clone(),
            speed: (config.speed.min, config.speed.max),
            entries: network.entries(),
            rng: ChaCha8Rng::seed_from_u64(rng.next_u64()),
        };
        for _ in 0..config.count {
            let body =
                physics.insert_body(RigidBodyBuilder::kinematic_position_based().enabled(false).build());
            attach_npc_collider(physics, body);
            traffic.npcs.push(NetNpc {
                body,
                edge: Edge::Carriageway(0),
                lane: 0,
                s: 0.0,
                d: 0.0,
                speed: 0.0,
                desired_speed: 0.0,
                active: false,
                next: None,
                granted: false,
                waiting: 0.0,
            });
        }
        // Spread over the entry roads: a few tries each for a free place, else it enters later.
        for index in 0..traffic.npcs.len() {
            for _ in 0..8 {
                let &entry = pick(&traffic.entries, &mut traffic.rng).expect("a network has roads");
                let road = &network.carriageways[entry].geometry;
                let s = traffic.rng.random_range(0.0..(road.length() - 5.0).max(0.1));
                if traffic.enter(physics, network, index, entry, s, cars) {
                    break;
                }
            }
        }
        traffic
    }

    /// Places NPC `index` on `carriageway` at `s` in a random lane when nothing is within
    /// [`ENTRY_CLEARANCE`] of it there; false when the place is taken.
    fn enter(
        &mut self,
        physics: &mut PhysicsWorld,
        network: &Network,
        index: usize,
        carriageway: usize,
        s: f32,
        cars: &[EgoOnNetwork],
    ) -> bool {
        let road = &network.carriageways[carriageway].geometry;
        let lane = self.rng.random_range(0..road.lanes());
        let d = road.lane_centre(lane);
        let edge = Edge::Carriageway(carriageway);
        let taken = self.users(cars).iter().any(|u| {
            u.active && u.edge == edge && (u.s - s).abs() < ENTRY_CLEARANCE && occupies(road, u.d, lane)
        });
        if taken {
            return false;
        }
        let desired_speed = if self.speed.1 > self.speed.0 {
            self.rng.random_range(self.speed.0..=self.speed.1)
        } else {
            self.speed.0
        };
        let next = self.choose_next(network, carriageway, lane);
        let npc = &mut self.npcs[index];
        *npc = NetNpc {
            edge,
            lane,
            s,
            d,
            speed: desired_speed,
            desired_speed,
            active: true,
            next,
            granted: false,
            waiting: 0.0,
            ..npc.clone()
        };
        let body = &mut physics.bodies[npc.body];
        body.set_enabled(true);
        body.set_position(pose(road, s, d, 0.0), true);
        true
    }

    /// A random connector leaving `carriageway`, from `lane` where one leaves from it, else from
    /// the lane nearest it (the car will change lanes to reach it).
    fn choose_next(&mut self, network: &Network, carriageway: usize, lane: u32) -> Option<usize> {
        let leaving = network.leaving(carriageway);
        let nearest =
            leaving.iter().map(|&k| network.connectors[k].connector.from.lane.abs_diff(lane)).min()?;
        let options: Vec<usize> = leaving
            .iter()
            .copied()
            .filter(|&k| network.connectors[k].connector.from.lane.abs_diff(lane) == nearest)
            .collect();
        pick(&options, &mut self.rng).copied()
    }

    /// Every NPC (inactive ones marked) and, last, the learning cars.
    fn users(&self, cars: &[EgoOnNetwork]) -> Vec<User> {
        self.npcs
            .iter()
            .map(user)
            .chain(cars.iter().map(|car| User {
                active: true,
                edge: car.edge,
                s: car.s,
                d: car.d,
                speed: car.speed,
                length: car.length,
            }))
            .collect()
    }

    /// Advances every NPC by `dt`: junction locks, lane changes, IDM, moving on at the ends of
    /// roads and connectors, entering anew where a way ended, and the bodies' kinematic targets.
    pub fn step(
        &mut self,
        physics: &mut PhysicsWorld,
        network: &Network,
        cars: &[EgoOnNetwork],
        time: f32,
        dt: f32,
    ) {
        // Where everyone is, kept up to date as each NPC moves (locks look at it).
        let mut users = self.users(cars);
        for index in 0..self.npcs.len() {
            if !self.npcs[index].active {
                // Its way ended: it enters again at the start of an entry road when that is free.
                let entry = (!self.entries.is_empty())
                    .then(|| self.entries[self.rng.random_range(0..self.entries.len())]);
                if let Some(entry) = entry
                    && self.enter(physics, network, index, entry, 0.0, cars)
                {
                    users[index] = user(&self.npcs[index]);
                }
                continue;
            }
            let me = self.npcs[index].clone();
            let geometry = network.geometry(me.edge);
            let mut leader = self.leader(network, &users, &me);

            // At a road's end: the lock of the next connector, or a stop at the line.
            let mut waiting = me.waiting;
            let mut granted = me.granted;
            if let (Edge::Carriageway(_), Some(next)) = (me.edge, me.next) {
                let to_end = geometry.length() - me.s;
                let lane_ok = network.connectors[next].connector.from.lane == me.lane
                    && (me.d - geometry.lane_centre(me.lane)).abs() < 0.3;
                let stopping = me.speed * me.speed / (2.0 * STOP_DECEL);
                // Lights: go on green; on amber only when too close to stop; never on red. A
                // car granted its connector on green that can still stop when it turns stops.
                let light = network.light(next, time);
                let can_stop = to_end > stopping + 1.0;
                let light_allows = match light {
                    None | Some(Light::Green) => true,
                    Some(Light::Amber) => !can_stop,
                    Some(Light::Red) => false,
                };
                if granted && !light_allows && can_stop {
                    granted = false;
                }
                if !granted && lane_ok && to_end < stopping + REQUEST_MARGIN {
                    granted = light_allows && self.may_enter(network, &users, index, next, cars);
                    if !granted {
                        waiting += dt;
                    }
                }
                if !granted {
                    let stop = (to_end - 0.5 * NPC_SIZE[0] - 0.5, 0.0);
                    leader = Some(leader.map_or(stop, |l| if l.0 < stop.0 { l } else { stop }));
                }
            }
            let mut accel = idm_accel(&self.idm, me.speed, me.desired_speed, leader);
            if !granted && me.next.is_some() && matches!(me.edge, Edge::Carriageway(_)) {
                // Never creep over the line.
                let to_line = geometry.length() - me.s - 0.5 * NPC_SIZE[0];
                if to_line < 0.5 {
                    accel = accel.min(-8.0);
                }
            }

            // A lane that leads nowhere: change toward the connector's lane when it is safe.
            let mut lane = me.lane;
            if let (Edge::Carriageway(_), Some(next)) = (me.edge, me.next) {
                let want = network.connectors[next].connector.from.lane;
                let settled = (me.d - geometry.lane_centre(me.lane)).abs() < 0.1;
                if want != me.lane && settled {
                    let step = if want > me.lane { me.lane + 1 } else { me.lane - 1 };
                    if self.safe_change(geometry, &users, index, step) {
                        lane = step;
                    }
                }
            }

            let npc = &mut self.npcs[index];
            npc.lane = lane;
            npc.waiting = waiting;
            npc.granted = granted;
            npc.speed = (npc.speed + accel * dt).max(0.0);
            let target_d =
                if matches!(npc.edge, Edge::Connector(_)) { 0.0 } else { geometry.lane_centre(lane) };
            let lateral = (target_d - npc.d).clamp(-LATERAL_SPEED * dt, LATERAL_SPEED * dt);
            npc.d += lateral;
            npc.s += npc.speed * dt;
            if npc.s >= geometry.length() {
                match (npc.edge, npc.next) {
                    (Edge::Carriageway(_), Some(next)) if npc.granted => {
                        npc.s -= geometry.length();
                        npc.edge = Edge::Connector(next);
                        npc.lane = 0;
                        npc.d = 0.0;
                    }
                    (Edge::Carriageway(_), Some(_)) => {
                        // Not granted: held at the line (IDM's stop falls short of it).
                        npc.s = geometry.length() - 1e-3;
                        npc.speed = 0.0;
                    }
                    (Edge::Carriageway(_), None) => {
                        npc.active = false;
                        physics.bodies[npc.body].set_enabled(false);
                        users[index].active = false;
                        continue;
                    }
                    (Edge::Connector(k), _) => {
                        let to = network.connectors[k].connector.to;
                        npc.s -= geometry.length();
                        npc.edge = Edge::Carriageway(to.road);
                        npc.lane = to.lane;
                        npc.d = network.carriageways[to.road].geometry.lane_centre(to.lane);
                        npc.granted = false;
                        npc.waiting = 0.0;
                        let (road, lane) = (to.road, to.lane);
                        let next = self.choose_next(network, road, lane);
                        self.npcs[index].next = next;
                    }
                }
            }
            let npc = &self.npcs[index];
            users[index] = user(npc);
            let geometry = network.geometry(npc.edge);
            let yaw = (lateral / dt).atan2(npc.speed.max(0.1));
            physics.bodies[npc.body].set_next_kinematic_position(pose(geometry, npc.s, npc.d, yaw));
        }
    }

    /// Whether NPC `index` may enter connector `next` now: nothing on a conflicting connector,
    /// no car with the right of way due at one, and no equal that has waited longer.
    fn may_enter(
        &self,
        network: &Network,
        users: &[User],
        index: usize,
        next: usize,
        cars: &[EgoOnNetwork],
    ) -> bool {
        let conflicting = &network.conflicts[next];
        let on_conflict = users
            .iter()
            .any(|u| u.active && matches!(u.edge, Edge::Connector(k) if conflicting.contains(&k)));
        if on_conflict {
            return false;
        }
        // A learning car on its way to a conflicting connector, close: it is not made to wait.
        for ego in cars {
            if let Edge::Carriageway(c) = ego.edge {
                let road = &network.carriageways[c].geometry;
                let due = (road.length() - ego.s) / ego.speed.max(0.5);
                let leads = network.leaving(c).iter().any(|k| conflicting.contains(k));
                if leads && due < 0.5 * ACCEPT_TIME && road.length() - ego.s < 20.0 {
                    return false;
                }
            }
        }
        let mine = &self.npcs[index];
        let my_priority = network.priority[next];
        // How long it takes to clear the connector, accelerating from its speed now.
        let clear = {
            let distance = network.connectors[next].connector.geometry.length()
                + NPC_SIZE[0]
                + (mine.s - network.geometry(mine.edge).length()).abs();
            let (v, a) = (mine.speed, self.idm.max_accel.max(0.1));
            (-v + (v * v + 2.0 * a * distance).sqrt()) / a
        };
        self.npcs.iter().enumerate().all(|(j, other)| {
            if j == index || !other.active {
                return true;
            }
            match (other.edge, other.next) {
                (Edge::Carriageway(c), Some(theirs)) if conflicting.contains(&theirs) => {
                    if other.granted {
                        return false;
                    }
                    let to_end = network.carriageways[c].geometry.length() - other.s;
                    let due = to_end / other.speed.max(0.5);
                    match (network.priority[theirs], my_priority) {
                        (true, false) => due > clear + ACCEPT_TIME,
                        (false, true) => true,
                        // Equals: first come, first served (then the lower index).
                        _ => {
                            let before = other.waiting > mine.waiting
                                || (other.waiting == mine.waiting && other.waiting > 0.0 && j < index);
                            !before
                        }
                    }
                }
                // Coming out of a connector onto a short road that may lead into a conflicting
                // connector with the right of way (a roundabout's ring): due when it gets there.
                (Edge::Connector(k), _) if !my_priority => {
                    let road = network.connectors[k].connector.to.road;
                    let leads =
                        network.leaving(road).iter().any(|x| conflicting.contains(x) && network.priority[*x]);
                    let ahead = network.connectors[k].connector.geometry.length() - other.s
                        + network.carriageways[road].geometry.length();
                    !leads || ahead / other.speed.max(0.5) > clear + ACCEPT_TIME
                }
                _ => true,
            }
        })
    }

    /// The nearest car ahead of `me` on its way (its lane on this road, then its connector and the
    /// lane that connector leads into): (bumper-to-bumper gap, its speed).
    fn leader(&self, network: &Network, users: &[User], me: &NetNpc) -> Option<(f32, f32)> {
        let mut best: Option<(f32, f32)> = None;
        let mut consider = |gap: f32, speed: f32| {
            if gap < LOOKAHEAD && best.is_none_or(|b| gap < b.0) {
                best = Some((gap, speed));
            }
        };
        let here = network.geometry(me.edge);
        let half = 0.5 * NPC_SIZE[0];
        // (edge, lane or None for a connector, metres from me to that edge's start)
        let mut way: Vec<(Edge, Option<u32>, f32)> = vec![(me.edge, Some(me.lane), -me.s)];
        match (me.edge, me.next) {
            (Edge::Carriageway(_), Some(k)) => {
                let to = network.connectors[k].connector.to;
                let after = here.length() - me.s;
                way.push((Edge::Connector(k), None, after));
                way.push((
                    Edge::Carriageway(to.road),
                    Some(to.lane),
                    after + network.connectors[k].connector.geometry.length(),
                ));
            }
            (Edge::Connector(k), _) => {
                let to = network.connectors[k].connector.to;
                way[0].1 = None;
                way.push((Edge::Carriageway(to.road), Some(to.lane), here.length() - me.s));
            }
            _ => {}
        }
        // Cars on connectors leaving the same lane are ahead on this way until their paths part.
        let mine = match (me.edge, me.next) {
            (Edge::Connector(k), _) => Some((k, -me.s)),
            (Edge::Carriageway(_), Some(k)) => Some((k, here.length() - me.s)),
            _ => None,
        };
        if let Some((k, offset)) = mine {
            let path = &network.connectors[k].connector;
            for u in users.iter().filter(|u| u.active) {
                let Edge::Connector(other) = u.edge else { continue };
                let theirs = &network.connectors[other].connector;
                if other == k || theirs.from != path.from || offset + u.s <= 1e-3 {
                    continue;
                }
                let (a, b) = (path.geometry.pose(u.s, 0.0), theirs.geometry.pose(u.s, 0.0));
                if (a.x - b.x).hypot(a.y - b.y) < CONFLICT_DISTANCE {
                    consider(offset + u.s - half - 0.5 * u.length, u.speed);
                }
            }
        }
        for u in users.iter().filter(|u| u.active) {
            for &(edge, lane, offset) in &way {
                if u.edge != edge {
                    continue;
                }
                let ahead = offset + u.s;
                if ahead <= 1e-3 {
                    continue;
                }
                let in_lane = match (edge, lane) {
                    (Edge::Carriageway(_), Some(lane)) => occupies(network.geometry(edge), u.d, lane),
                    _ => true,
                };
                if in_lane {
                    consider(ahead - half - 0.5 * u.length, u.speed);
                }
            }
        }
        best
    }

    /// MOBIL's safety test for a change into `lane`: room beside, and the car that would follow
    /// need not brake harder than [`SAFE_BRAKING`].
    fn safe_change(&self, road: &RoadGeometry, users: &[User], index: usize, lane: u32) -> bool {
        let me = &self.npcs[index];
        let others = users.iter().enumerate().filter(|&(j, u)| j != index && u.active && u.edge == me.edge);
        others.map(|(_, u)| u).filter(|u| occupies(road, u.d, lane)).all(|u| {
            let apart = u.s - me.s;
            let gap = apart.abs() - 0.5 * (u.length + NPC_SIZE[0]);
            if gap < 2.0 {
                return false;
            }
            apart > 0.0 || idm_accel(&self.idm, u.speed, u.speed, Some((gap, me.speed))) > -SAFE_BRAKING
        })
    }

    /// Gaps ahead of the ego car (on `edge` at (s, d), in `lane`) in its lane and those beside
    /// it: (own, left, right), each `None` when nothing is within `range`.
    pub fn gaps(&self, network: &Network, edge: Edge, s: f32, lane: u32, range: f32) -> [Option<f32>; 3] {
        let road = network.geometry(edge);
        let mut gaps = [None; 3];
        for n in self.npcs.iter().filter(|n| n.active && n.edge == edge) {
            let gap = n.s - s - 0.5 * (NPC_SIZE[0] + NPC_SIZE[0]);
            if n.s <= s || gap > range {
                continue;
            }
            for (slot, k) in [(0, lane as i64), (1, lane as i64 + 1), (2, lane as i64 - 1)] {
                if k >= 0 && (k as u32) < road.lanes() && occupies(road, n.d, k as u32) {
                    let best: &mut Option<f32> = &mut gaps[slot];
                    *best = Some(best.map_or(gap.max(0.0), |b: f32| b.min(gap.max(0.0))));
                }
            }
        }
        gaps
    }

    /// The footprints of two active NPCs overlapping where at least one of them is in a junction
    /// (on a connector): the soak test's count. Each pair once.
    pub fn junction_overlaps(&self, network: &Network) -> usize {
        let corners: Vec<Option<([[f32; 2]; 4], bool)>> = self
            .npcs
            .iter()
            .map(|n| {
                n.active.then(|| {
                    let p = network.geometry(n.edge).pose(n.s, n.d);
                    (footprint(p.x, p.y, p.heading), matches!(n.edge, Edge::Connector(_)))
                })
            })
            .collect();
        let mut count = 0;
        for i in 0..corners.len() {
            for j in i + 1..corners.len() {
                if let (Some((a, a_in)), Some((b, b_in))) = (corners[i], corners[j])
                    && (a_in || b_in)
                    && rectangles_overlap(&a, &b)
                {
                    count += 1;
                }
            }
        }
        count
    }
}

fn user(n: &NetNpc) -> User {
    User { active: n.active, edge: n.edge, s: n.s, d: n.d, speed: n.speed, length: NPC_SIZE[0] }
}

fn pick<'a, T>(items: &'a [T], rng: &mut impl Rng) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.random_range(0..items.len())])
}

/// Whether a car at lateral offset `d` occupies `lane`.
fn occupies(road: &RoadGeometry, d: f32, lane: u32) -> bool {
    (d - road.lane_centre(lane)).abs() < 0.5 * (road.lane_width() + NPC_SIZE[1]) - 0.2
}

fn pose(road: &RoadGeometry, s: f32, d: f32, yaw_offset: f32) -> Pose {
    let p = road.pose(s, d);
    Pose::from_parts(
        Vector::from(plane_to_world(p.x, p.y, 0.0)),
        Rotation::from_rotation_y(wrap_angle(p.heading + yaw_offset)),
    )
}

/// The corners of an NPC's footprint at (x, y) heading `heading`.
fn footprint(x: f32, y: f32, heading: f32) -> [[f32; 2]; 4] {
    let (c, s) = (heading.cos(), heading.sin());
    let (hl, hw) = (0.5 * NPC_SIZE[0], 0.5 * NPC_SIZE[1]);
    [(hl, hw), (-hl, hw), (-hl, -hw), (hl, -hw)].map(|(u, v)| [x + u * c - v * s, y + u * s + v * c])
}

/// Separating-axis test of two convex quadrilaterals.
fn rectangles_overlap(a: &[[f32; 2]; 4], b: &[[f32; 2]; 4]) -> bool {
    for shape in [a, b] {
        for i in 0..4 {
            let (p, q) = (shape[i], shape[(i + 1) % 4]);
            let axis = [q[1] - p[1], p[0] - q[0]];
            let project = |r: &[[f32; 2]; 4]| {
                r.iter()
                    .map(|v| v[0] * axis[0] + v[1] * axis[1])
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |m, x| (m.0.min(x), m.1.max(x)))
            };
            let (a0, a1) = project(a);
            let (b0, b1) = project(b);
            if a1 < b0 || b1 < a0 {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footprints_overlap_when_they_touch_and_not_when_apart() {
        let a = footprint(0.0, 0.0, 0.0);
        assert!(rectangles_overlap(&a, &footprint(4.0, 1.0, 0.3)));
        assert!(!rectangles_overlap(&a, &footprint(5.0, 0.0, 0.0)));
        assert!(!rectangles_overlap(&a, &footprint(0.0, 2.0, 0.0)));
        // Crossing at right angles, centres 3 m apart diagonally: overlapping corners.
        assert!(rectangles_overlap(&a, &footprint(2.0, 2.0, std::f32::consts::FRAC_PI_2)));
    }
}
