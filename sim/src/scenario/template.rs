//! The commented template printed by `lepton scenario new`.

/// A commented scenario named `name` that passes `lepton scenario check`.
///
/// Every section is present with its main fields; anything left out of a real file takes the
/// default shown in the comments (`lepton scenario show FILE` prints them all).
pub fn template(name: &str) -> String {
    TEMPLATE.replace("{name}", &ron_string(name))
}

/// The kinds of template `lepton scenario new --template KIND` writes: the one-road loop with
/// every section, and the road networks, which are the shipped scenarios of the same names.
pub const TEMPLATES: &[&str] = &["loop", "merge", "intersection", "roundabout"];

/// The commented template of kind `kind` (one of [`TEMPLATES`]) for a scenario named `name`.
pub fn template_of(kind: &str, name: &str) -> Option<String> {
    if kind == "loop" {
        return Some(template(name));
    }
    let (_, text) = super::SHIPPED.iter().find(|(k, _)| TEMPLATES.contains(k) && *k == kind)?;
    let named = format!("    name: {},", ron_string(kind));
    Some(text.replacen(&named, &format!("    name: {},", ron_string(name)), 1))
}

/// `text` as a quoted RON string literal, escaped.
fn ron_string(text: &str) -> String {
    ron::to_string(text).expect("a string always serialises")
}

const TEMPLATE: &str = r#"// A Lepton scenario. Units: metres, seconds, kilograms, newtons; angles in degrees.
// Road coordinates: `s` is the distance along the road's centre line from its start, lateral
// offsets are positive to the left, lanes are numbered from the right (lane 0 is the rightmost).
// Every field may be left out; it then takes the default given in its comment.
Scenario(
    name: {name},
    seed: 0, // base seed: spawn jitter, traffic and look randomisation are drawn from it

    road: (
        // Segments laid end to end from the origin: Straight(length) or Arc(radius, angle);
        // a positive angle turns left. This one is a 120 m × 60 m loop with 40 m corners.
        segments: [
            Straight(length: 120.0),
            Arc(radius: 40.0, angle: 90.0),
            Straight(length: 60.0),
            Arc(radius: 40.0, angle: 90.0),
            Straight(length: 120.0),
            Arc(radius: 40.0, angle: 90.0),
            Straight(length: 60.0),
            Arc(radius: 40.0, angle: 90.0),
        ],
        lanes: 2,          // 1 to 8, all one way (default 2)
        lane_width: 3.5,   // m (default 3.5)
        shoulder: 1.0,     // m of drivable shoulder beyond the outer lanes (default 1.0)
        closed: true,      // a loop: the last segment must end where the first starts (default false)
        friction: 1.0,     // tyre grip, 1.0 = dry asphalt (default 1.0)
        markings: Standard, // Standard (dashed between lanes), Solid or None
    ),

    ego: (
        // Start position, with uniform per-episode jitter: ± m along the road, ± m across the
        // lane, ± degrees of heading.
        spawn: (s: 10.0, lane: 0, s_jitter: 0.0, offset_jitter: 0.2, heading_jitter: 2.0),
        start_speed: 5.0, // m/s (default 0.0)
        vehicle: (
            mass: 1200.0,         // kg
            engine_force: 4000.0, // N at the wheels, full throttle, low speed
            engine_power: 60.0,   // kW: the force falls off as power / speed
            brake_force: 10000.0, // N at full brake
            max_steer: 30.0,      // degrees of front-wheel angle at full lock (at most 60)
            steer_rate: 180.0,    // degrees per second the wheels turn toward the command
            length: 4.4,          // m
            width: 1.8,           // m
        ),
    ),

    // Static obstacles by road coordinates: kind Cone, Box or Barrier; `s` along the road; `lane`
    // (optional: without it `offset` is from the road centre); `offset` in m, positive left;
    // `size` (optional) as (length, width, height) in m.
    obstacles: [
        (kind: Cone, s: 150.0, lane: 1),
        (kind: Box, s: 300.0, lane: 0, offset: -0.5, size: (1.0, 1.0, 1.0)),
    ],

    traffic: (
        count: 2,                        // NPC cars (default 0, at most 200)
        lanes: [1],                      // lanes they start in; [] = all lanes
        speed: (min: 6.0, max: 10.0),    // desired speed, m/s, drawn per NPC and episode
        spacing: 40.0,                   // m between consecutive NPCs
        spacing_jitter: 5.0,             // ± m on each NPC's start
        start_gap: 30.0,                 // m from the ego spawn to the first NPC
        lane_changes: false,             // whether NPCs overtake by changing lanes
        idm: (max_accel: 1.5, comfort_decel: 2.0, time_headway: 1.5, min_gap: 2.0), // m/s², m/s², s, m
    ),

    actions: (
        // The discrete actions: steer -1 (full right) to 1 (full left); throttle -1 (full
        // brake) to 1 (full throttle), 0 coasts. The agent picks one by index.
        set: [
            (steer: 0.0, throttle: 0.6),
            (steer: 0.0, throttle: 0.0),
            (steer: 0.0, throttle: -0.8),
            (steer: 0.3, throttle: 0.3),
            (steer: -0.3, throttle: 0.3),
        ],
        repeat: 4, // physics steps per action: one policy step lasts repeat × episode.dt seconds
    ),

    camera: (
        width: 84,                 // pixels, 8 to 1024
        height: 84,                // pixels, 8 to 1024
        fov: 70.0,                 // vertical field of view, degrees
        mount: (forward: 0.5, up: 1.4, left: 0.0), // m from the car's centre on the ground
        pitch: -10.0,              // degrees, negative looks down
        format: Rgb,               // Rgb or Grey
    ),

    // A spinning lidar on the car: a range image of channels × rays metres every step. Uncomment
    // to mount one (`lidar: Some(())` takes every default shown here).
    // lidar: Some((
    //     channels: 32, rays: 360, range: 80.0,  // beams, rays per sweep, metres
    //     vertical_fov: (-30.0, 10.0),           // lowest and highest beam, degrees
    //     horizontal_fov: 360.0,                 // degrees, centred straight ahead
    //     mount: (forward: 0.5, up: 1.4, left: 0.0),
    //     noise: 0.0,                            // standard deviation of each return, m
    // )),

    // Each step's reward is the sum of these weights times their terms.
    reward: (
        progress: 0.1,       // × metres driven along the road this step
        lane_centre: -0.1,   // × metres from the nearest lane centre
        speed: 0.0,          // × speed score in [0, 1], best at target_speed
        target_speed: 12.0,  // m/s
        collision: -10.0,    // once, on hitting an obstacle or a car
        off_road: -10.0,     // once, on leaving the road beyond the shoulder
        step: 0.0,           // every step
        success: 10.0,       // once, on reaching the goal
    ),

    episode: (
        dt: 0.02,          // physics step, s (at most 0.1)
        max_steps: 1000,   // time limit in policy steps; reaching it truncates the episode
        success: Laps(1),  // Laps(n) on a closed road, RoadEnd on an open one, Distance(m) or Never
        end_on: (collision: true, off_road: true, flipped: true, stuck: true),
        stuck_time: 5.0,   // s below stuck_speed before the episode counts as stuck
        stuck_speed: 0.5,  // m/s
    ),

    look: (
        // Linear RGB colours, each channel in [0, 1].
        sky: (0.45, 0.65, 0.9),
        ground: (0.2, 0.4, 0.15),
        road: (0.18, 0.18, 0.2),
        shoulder: (0.35, 0.33, 0.3),
        marking: (0.95, 0.95, 0.9),
        sun_elevation: 50.0,     // degrees above the horizon, 0 to 90
        sun_azimuth: 30.0,       // degrees counter-clockwise from +x
        sun_brightness: 10000.0, // lux
        // Per-episode jitter: ± fraction of brightness, ± per colour channel, ± degrees of sun.
        randomise: (brightness: 0.2, colour: 0.05, sun_angle: 15.0),
    ),

    // Scripted events: when a trigger first fires, the actions happen `delay` s later, once an
    // episode. Triggers: Time(seconds), EgoAt(s) (on a network EgoAt(road, s)), Gap(npc, below:
    // metres ahead), TimeToCollision(npc, below: seconds). Actions: CutIn(npc, duration),
    // Brake(npc, decel, to_speed), Stop(npc), Obstacle((kind, s, lane, offset, size)),
    // Look((sky, ..., sun_brightness)), TargetSpeed(speed). NPCs are numbered in spawn order:
    // 0 starts traffic.start_gap ahead.
    events: [
        (
            name: "lead_brakes",
            when: TimeToCollision(npc: 0, below: 4.0),
            delay: 0.5,
            then: [Brake(npc: 0, decel: 5.0, to_speed: 3.0)],
        ),
        (
            name: "dusk",
            when: EgoAt(s: 200.0),
            then: [Look((sky: (0.8, 0.45, 0.3), sun_elevation: 10.0, sun_brightness: 3000.0))],
        ),
    ],
)
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Problem, Success, parse_str};

    #[test]
    fn the_template_is_a_valid_scenario() {
        for name in ["loop", "a \"quoted\" name, {name}", "żółw 🐢"] {
            let text = template(name);
            let scenario = parse_str(&text, "template").unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(scenario.name, name);
            assert_eq!(scenario.episode.success, Some(Success::Laps(1)));
            assert!(scenario.road.closed && scenario.traffic.count == 2);
        }
    }

    #[test]
    fn every_network_template_is_a_valid_scenario_with_a_route() {
        for kind in &TEMPLATES[1..] {
            let text = template_of(kind, &format!("my {kind}")).unwrap();
            let scenario = parse_str(&text, kind).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(scenario.name, format!("my {kind}"));
            assert!(scenario.network.is_some() && scenario.ego.route.is_some(), "{kind}");
            assert_eq!(scenario.episode.success, Some(Success::RoadEnd));
        }
        assert_eq!(template_of("loop", "x"), Some(template("x")));
        assert_eq!(template_of("cloverleaf", "x"), None);
    }

    #[test]
    fn names_are_escaped() {
        // Names the validator rejects still parse: the only problem is the name's meaning.
        for name in ["", "a/b", "back\\slash", "line\nbreak"] {
            let error = parse_str(&template(name), "template").expect_err(name);
            assert!(
                matches!(&error.problems[..], [Problem::Field(p)] if p.path == "name"),
                "{name:?}: {error}"
            );
        }
    }

    #[test]
    fn every_section_is_in_the_template() {
        let text = template("sections");
        for section in [
            "road:",
            "ego:",
            "obstacles:",
            "traffic:",
            "actions:",
            "camera:",
            "reward:",
            "episode:",
            "look:",
            "seed:",
        ] {
            assert!(text.contains(section), "{section} is missing");
        }
    }
}
