//! The driving state read straight from the simulator: what perception must learn to see.

use crate::world::World;
use serde::Serialize;

/// Gaps are reported up to this distance (m); "nothing ahead" reads as this value.
pub const GAP_RANGE: f32 = 60.0;
/// How far ahead `curvature_ahead` looks (m).
pub const CURVATURE_LOOKAHEAD: f32 = 20.0;

/// The ego car's driving situation: what perception must learn to see and what agents act on.
/// The one definition of the state: named fields, their order as a vector ([`DrivingState::NAMES`],
/// [`DrivingState::to_vec`]) and their typical magnitudes ([`DrivingState::SCALE`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct DrivingState {
    /// Lateral offset from the centre of the nearest lane (m, positive left).
    pub lane_offset: f32,
    /// Car heading minus road heading (radians, positive = pointing left of the road).
    pub heading_error: f32,
    /// Forward speed (m/s), as odometry would measure it.
    pub speed: f32,
    /// Signed road curvature `CURVATURE_LOOKAHEAD` metres ahead (1/m, positive turns left).
    pub curvature_ahead: f32,
    /// Bumper-to-bumper distance to the nearest obstacle or car ahead in the ego's lane (m),
    /// capped at `GAP_RANGE`.
    pub gap_own: f32,
    /// The same in the lane to the left; 0 when there is no lane to the left.
    pub gap_left: f32,
    /// The same in the lane to the right; 0 when there is no lane to the right.
    pub gap_right: f32,
}

impl DrivingState {
    /// Field names in the order of [`DrivingState::to_vec`].
    pub const NAMES: [&'static str; 7] =
        ["lane_offset", "heading_error", "speed", "curvature_ahead", "gap_own", "gap_left", "gap_right"];
    /// Length of [`DrivingState::to_vec`].
    pub const LEN: usize = Self::NAMES.len();
    /// Typical magnitude of each field, so a network's inputs are of order one.
    pub const SCALE: [f32; Self::LEN] = [2.0, 0.5, 20.0, 0.05, 60.0, 60.0, 60.0];

    /// The index of field `name` in [`DrivingState::to_vec`].
    pub const fn index(name: &str) -> usize {
        let mut i = 0;
        while i < Self::LEN {
            if str_eq(Self::NAMES[i], name) {
                return i;
            }
            i += 1;
        }
        panic!("not a DrivingState field")
    }

    /// The state as a fixed-order vector (see [`DrivingState::NAMES`]).
    pub fn to_vec(&self) -> [f32; Self::LEN] {
        [
            self.lane_offset,
            self.heading_error,
            self.speed,
            self.curvature_ahead,
            self.gap_own,
            self.gap_left,
            self.gap_right,
        ]
    }

    /// The state of a fixed-order vector (the inverse of [`DrivingState::to_vec`]).
    pub fn from_vec(v: [f32; Self::LEN]) -> Self {
        let [lane_offset, heading_error, speed, curvature_ahead, gap_own, gap_left, gap_right] = v;
        Self { lane_offset, heading_error, speed, curvature_ahead, gap_own, gap_left, gap_right }
    }

    /// [`DrivingState::to_vec`] divided by [`DrivingState::SCALE`], appended to `out`.
    pub fn write_scaled(&self, out: &mut Vec<f32>) {
        out.extend(self.to_vec().iter().zip(Self::SCALE).map(|(x, k)| x / k));
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Ground truth of the ego car: its driving state, and where it is on the road.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GroundTruth {
    #[serde(flatten)]
    pub driving: DrivingState,
    /// The lane the car is nearest to (0 = rightmost).
    pub lane: u32,
    /// Arc length along the road (m).
    pub s: f32,
    /// Lateral offset from the road centre line (m).
    pub d: f32,
}

impl GroundTruth {
    /// The learnable state as a fixed-order vector (lane, s and d are bookkeeping, not included).
    pub fn to_array(&self) -> [f32; DrivingState::LEN] {
        self.driving.to_vec()
    }

    /// Reads the state of `world`'s ego car.
    pub fn measure(world: &World) -> Self {
        Self::measure_of(world, 0)
    }

    /// [`GroundTruth::measure`] for learning car `car` of a multi-agent world: the other
    /// learning cars count as traffic in its gaps.
    pub fn measure_of(world: &World, car: usize) -> Self {
        let ego = world.car_state(car);
        // The road or connector the car is on: on a network, the part of its route it drives now.
        let (on, road) = (world.on_of(car), world.edge_of(car));
        let lane = road.nearest_lane(ego.road.d);
        let lane_offset = ego.road.d - road.lane_centre(lane);
        let heading_error = crate::road::wrap_angle(ego.yaw - ego.road.heading);

        // Gaps: everything ahead, per lane it overlaps.
        let ego_half_length = 0.5 * world.ego_length();
        let mut gaps = vec![GAP_RANGE; road.lanes() as usize];
        let mut note = |s: f32, d: f32, length: f32, width: f32| {
            let ahead = road.delta_s(ego.road.s, s);
            if ahead <= 0.0 {
                return;
            }
            let gap = (ahead - ego_half_length - 0.5 * length).clamp(0.0, GAP_RANGE);
            for (k, best) in gaps.iter_mut().enumerate() {
                let centre = road.lane_centre(k as u32);
                if (d - centre).abs() < 0.5 * (road.lane_width() + width) - 0.05 {
                    *best = best.min(gap);
                }
            }
        };
        for o in world.obstacles().iter().filter(|o| o.present && o.edge == on) {
            note(o.s, o.d, o.size[0], o.size[1]);
        }
        // The other learning cars on the same road or connector.
        for other in (0..world.car_count()).filter(|&k| k != car && world.car_present(k)) {
            let (edge, at) = world.car_road(other);
            if edge == on {
                note(at.s, at.d, world.ego_length(), world.ego_width());
            }
        }
        let npc_size = world.npc_size();
        for n in world.traffic().npcs.iter().filter(|n| n.active) {
            note(n.s, n.d, npc_size[0], npc_size[1]);
        }
        if let Some(traffic) = world.network_traffic() {
            // On a network: the NPCs on the road or connector the car is on.
            let found = traffic.gaps(world.network(), on, ego.road.s, lane, GAP_RANGE);
            for (slot, k) in [(0usize, lane as i64), (1, lane as i64 + 1), (2, lane as i64 - 1)] {
                if let (Some(gap), true) = (found[slot], k >= 0 && k < gaps.len() as i64) {
                    gaps[k as usize] = gaps[k as usize].min(gap);
                }
            }
        }
        let gap_in = |k: i64| if k < 0 || k >= gaps.len() as i64 { 0.0 } else { gaps[k as usize] };
        Self {
            driving: DrivingState {
                lane_offset,
                heading_error,
                speed: ego.speed,
                curvature_ahead: world.curvature_ahead_of(car, CURVATURE_LOOKAHEAD),
                gap_own: gap_in(lane as i64),
                gap_left: gap_in(lane as i64 + 1),
                gap_right: gap_in(lane as i64 - 1),
            },
            lane,
            s: ego.road.s,
            d: ego.road.d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_keeps_its_order_by_name_and_round_trips() {
        let state = DrivingState::from_vec([0.1, 0.2, 3.0, 0.04, 5.0, 6.0, 0.0]);
        assert_eq!(state.speed, 3.0);
        assert_eq!(DrivingState::from_vec(state.to_vec()), state);
        for (i, name) in DrivingState::NAMES.iter().enumerate() {
            assert_eq!(DrivingState::index(name), i);
        }
        let mut scaled = Vec::new();
        state.write_scaled(&mut scaled);
        assert_eq!(scaled[4], 5.0 / 60.0);
        let truth = GroundTruth { driving: state, lane: 1, s: 2.0, d: 3.0 };
        assert_eq!(truth.to_array(), state.to_vec());
    }
}
