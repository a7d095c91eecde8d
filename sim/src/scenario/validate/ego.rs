//! The ego car: where it spawns and the vehicle it drives.

use super::*;

pub(super) fn ego(c: &mut Checker, ego: &Ego, road: &RoadFacts) {
    let spawn = &ego.spawn;
    along_road(c, "ego.spawn.s", spawn.s, road);
    c.lane("ego.spawn.lane", spawn.lane, road.lanes);
    c.in_range("ego.spawn.s_jitter", spawn.s_jitter, 0.0, 1000.0);
    c.in_range("ego.spawn.offset_jitter", spawn.offset_jitter, 0.0, 10.0);
    c.in_range("ego.spawn.heading_jitter", spawn.heading_jitter, 0.0, 180.0);
    c.in_range("ego.start_speed", ego.start_speed, 0.0, MAX_SPEED);

    let v = &ego.vehicle;
    c.positive("ego.vehicle.mass", v.mass, 100_000.0);
    c.positive("ego.vehicle.engine_force", v.engine_force, 1_000_000.0);
    c.positive("ego.vehicle.engine_power", v.engine_power, 10_000.0);
    c.positive("ego.vehicle.brake_force", v.brake_force, 1_000_000.0);
    c.positive("ego.vehicle.max_steer", v.max_steer, 60.0);
    c.positive("ego.vehicle.steer_rate", v.steer_rate, 3600.0);
    c.positive("ego.vehicle.length", v.length, 30.0);
    c.positive("ego.vehicle.width", v.width, 10.0);
}
