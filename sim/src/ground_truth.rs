//! The driving state read straight from the simulator: what perception must learn to see.

use crate::world::World;
use serde::Serialize;

/// Gaps are reported up to this distance (m); "nothing ahead" reads as this value.
pub const GAP_RANGE: f32 = 60.0;
/// How far ahead `curvature_ahead` looks (m).
pub const CURVATURE_LOOKAHEAD: f32 = 20.0;

/// Ground-truth driving state of the ego car.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GroundTruth {
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
    /// The lane the car is nearest to (0 = rightmost).
    pub lane: u32,
    /// Arc length along the road (m).
    pub s: f32,
    /// Lateral offset from the road centre line (m).
    pub d: f32,
}

impl GroundTruth {
    /// Names of the entries of [`GroundTruth::to_array`], in order.
    pub const NAMES: [&'static str; 7] =
        ["lane_offset", "heading_error", "speed", "curvature_ahead", "gap_own", "gap_left", "gap_right"];

    /// The learnable state as a fixed-order vector (lane, s and d are bookkeeping, not included).
    pub fn to_array(&self) -> [f32; 7] {
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

    /// Reads the state of `world`'s ego car.
    pub fn measure(world: &World) -> Self {
        let ego = world.ego_state();
        let road = &world.road;
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
        for o in world.obstacles() {
            note(o.s, o.d, o.size[0], o.size[1]);
        }
        let npc_size = world.npc_size();
        for n in world.traffic().npcs.iter().filter(|n| n.active) {
            note(n.s, n.d, npc_size[0], npc_size[1]);
        }
        let gap_in = |k: i64| if k < 0 || k >= gaps.len() as i64 { 0.0 } else { gaps[k as usize] };
        Self {
            lane_offset,
            heading_error,
            speed: ego.speed,
            curvature_ahead: road.curvature(ego.road.s + CURVATURE_LOOKAHEAD),
            gap_own: gap_in(lane as i64),
            gap_left: gap_in(lane as i64 + 1),
            gap_right: gap_in(lane as i64 - 1),
            lane,
            s: ego.road.s,
            d: ego.road.d,
        }
    }
}
