//! The lidar: ranges against known distances (an obstacle ahead, the ground plane, open sky),
//! the fast scan against its definition bit for bit, noise drawn from the seed, and scans that
//! come back the same after a resume.

mod common;

use common::{from_text, shipped};
use lepton_sim::drivers::KeepLane;
use lepton_sim::lidar::{LidarBeams, noise_seed, scan, scan_every_collider};
use lepton_sim::scenario::{Lidar, Mount, Scenario};
use lepton_sim::{Env, VecEnv};
use std::sync::Arc;

/// A straight road, the ego in lane 0 at s = 10 heading along +x, a 2 × 2 × 1.5 m box
/// ahead in its lane at s = 40, with `lidar`.
fn boxed(lidar: &str) -> Arc<Scenario> {
    from_text(&format!(
        r#"Scenario(
            road: (segments: [Straight(length: 500.0)], lanes: 2, lane_width: 3.5),
            ego: (spawn: (s: 10.0, lane: 0, s_jitter: 0.0, offset_jitter: 0.0, heading_jitter: 0.0)),
            obstacles: [(kind: Box, s: 40.0, lane: 0, size: Some((2.0, 2.0, 1.5)))],
            lidar: Some({lidar}),
        )"#
    ))
}

fn with_lidar(scenario: &Scenario, lidar: Lidar) -> Arc<Scenario> {
    Arc::new(Scenario { lidar: Some(lidar), ..scenario.clone() })
}

/// Where the sensor is at the start of an episode: the ego's centre plus the mount (the car has
/// not pitched yet).
fn sensor_position(env: &Env) -> [f32; 3] {
    let ego = env.world().ego_state();
    let mount = &env.scenario().lidar.as_ref().unwrap().mount;
    let (c, s) = (ego.yaw.cos(), ego.yaw.sin());
    // Plane (x, y) forward = (c, s), left = (−s, c); world (x, up, −y).
    let [x, up, z] = ego.position;
    [x + c * mount.forward - s * mount.left, up + mount.up, z - (s * mount.forward + c * mount.left)]
}

#[test]
fn a_level_beam_straight_ahead_meets_the_box_at_its_near_face() {
    let scenario =
        boxed("(channels: 1, rays: 361, vertical_fov: (0.0, 0.0), mount: (forward: 1.0, up: 0.0))");
    let env = Env::new(scenario, 0);
    let scan = env.lidar_scan().expect("the scenario mounts a lidar");
    assert_eq!((scan.channels, scan.rays), (1, 361));
    let ahead = scan.ranges[180]; // the middle column of an odd sweep looks straight ahead
    let obstacle = &env.world().obstacles()[0];
    let near_face = obstacle.pose.x - 0.5 * obstacle.size[0];
    let expected = near_face - sensor_position(&env)[0];
    assert!((ahead - expected).abs() < 1e-3, "straight ahead {ahead} m, the box's face is {expected} m away");
    // Straight back nothing stands within 80 m at the sensor's height.
    assert_eq!(scan.ranges[0], 80.0);
    assert_eq!(scan.ranges[360], 80.0);
}

#[test]
fn downward_beams_meet_the_road_where_the_geometry_says() {
    let scenario = boxed("(channels: 16, rays: 8, vertical_fov: (-60.0, -5.0))");
    let env = Env::new(scenario.clone(), 0);
    let beams = env.lidar().unwrap();
    let scan = env.lidar_scan().unwrap();
    let height = sensor_position(&env)[1];
    // Column 7 looks back and a little right (−157.5°): no obstacle there, only the road.
    for (row, &elevation) in beams.elevations().iter().enumerate() {
        let expected = (height / (-elevation).sin()).min(80.0);
        let got = scan.ranges[row * 8 + 7];
        assert!(
            (got - expected).abs() <= 2e-3 * expected,
            "row {row} at {:.1}°: {got} m, the road is {expected} m away",
            elevation.to_degrees()
        );
    }
}

#[test]
fn upward_beams_hit_nothing_and_the_car_never_sees_itself() {
    // Beams above the horizon meet nothing on an open road: exactly the range.
    let up = Env::new(boxed("(channels: 4, rays: 90, vertical_fov: (5.0, 60.0), range: 50.0)"), 0);
    assert!(up.lidar_scan().unwrap().ranges.iter().all(|&r| r == 50.0));
    // Straight down from inside the car's body: the ego is left out, so the beams meet the road.
    let down = Env::new(boxed("(channels: 1, rays: 4, vertical_fov: (-89.0, -89.0), mount: (up: 0.0))"), 0);
    let height = sensor_position(&down)[1];
    for &r in &down.lidar_scan().unwrap().ranges {
        assert!(
            (r - height / 89f32.to_radians().sin()).abs() < 1e-3,
            "{r} m down to a road {height} m below"
        );
    }
}

/// Runs `scenario` with the keep-lane driver for `steps`, checking at each step that the fast
/// scan equals the definition bit for bit; returns how many returns hit something other than
/// the ground.
fn fast_equals_definition(scenario: Arc<Scenario>, steps: usize) -> usize {
    let mut env = Env::new(scenario.clone(), 3);
    let driver = KeepLane::new(12.0, scenario.ego.vehicle.max_steer, scenario.ego.vehicle.length);
    let beams = LidarBeams::new(scenario.lidar.as_ref().unwrap());
    let (mut fast, mut slow) = (vec![0.0; beams.len()], vec![0.0; beams.len()]);
    let mut seen = 0;
    let mut state = env.reset(Some(3)).0.state;
    for step in 0..steps {
        scan(env.world(), &beams, 9, &mut fast);
        scan_every_collider(env.world(), &beams, 9, &mut slow);
        let differ = fast.iter().zip(&slow).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differ, 0, "step {step}: {differ} of {} ranges differ from the definition", beams.len());
        seen += fast.iter().filter(|&&r| r < beams.spec().range).count();
        let next = env.step_control(driver.control(&state.driving));
        if next.terminated || next.truncated {
            state = env.reset(None).0.state;
        } else {
            state = next.obs.state;
        }
    }
    seen
}

#[test]
fn the_fast_scan_is_the_definition_bit_for_bit() {
    // Traffic in every direction, a full sweep with beams above and below the horizon.
    let lidar = Lidar { channels: 16, rays: 180, range: 60.0, noise: 0.0, ..Lidar::default() };
    assert!(fast_equals_definition(with_lidar(&shipped("highway"), lidar.clone()), 40) > 0);
    // Cones, boxes and barriers along a bend.
    assert!(fast_equals_definition(with_lidar(&shipped("obstacles"), lidar.clone()), 40) > 0);
    // A junction, cars crossing; partial sweeps forward and wider than half a turn.
    for fov in [90.0, 270.0, 359.0] {
        let partial = Lidar { horizontal_fov: fov, rays: 97, ..lidar.clone() };
        fast_equals_definition(with_lidar(&shipped("intersection"), partial), 25);
    }
    // Noise on: still the same bits, drawn from the same seed.
    let noisy = Lidar { noise: 0.05, mount: Mount { forward: 1.5, up: 0.3, left: -0.4 }, ..lidar };
    fast_equals_definition(with_lidar(&shipped("cut_in"), noisy), 25);
}

#[test]
fn the_cars_around_are_seen_at_their_distance() {
    // highway: NPCs ahead in the ego's lane; a level beam at each car's centre height.
    let lidar = Lidar {
        channels: 1,
        rays: 720,
        vertical_fov: (0.0, 0.0),
        mount: Mount { forward: 0.0, up: 0.0, left: 0.0 },
        ..Lidar::default()
    };
    let env = Env::new(with_lidar(&shipped("highway"), lidar), 1);
    let scan = env.lidar_scan().unwrap();
    let [sx, _, sz] = sensor_position(&env);
    let mut checked = 0;
    for k in 0..env.world().traffic().npcs.len() {
        let ([x, _, z], _) = env.world().npc_pose(k).unwrap();
        let (dx, dz) = (x - sx, z - sz);
        let centre = (dx * dx + dz * dz).sqrt();
        if centre > 70.0 {
            continue;
        }
        // The column looking at the car's centre: azimuth left-positive, plane y = −z.
        let azimuth = (-dz).atan2(dx) - env.world().ego_state().yaw;
        let column =
            ((std::f32::consts::PI - azimuth) / (std::f32::consts::TAU / 720.0)).floor() as usize % 720;
        let range = scan.ranges[column];
        // The return is the near side of the car: within its half-diagonal of its centre.
        let half_diagonal = 0.5 * (4.6f32.powi(2) + 1.9f32.powi(2)).sqrt() + 0.1;
        assert!(
            range <= centre && range >= centre - half_diagonal,
            "NPC {k} {centre} m away: the beam at it returns {range} m"
        );
        checked += 1;
    }
    assert!(checked > 0, "some NPC stands within range");
}

#[test]
fn an_events_obstacle_is_unseen_until_it_appears() {
    // emergency_brake's debris box appears at s = 230 in lane 1 once the ego reaches s = 170.
    let lidar =
        Lidar { channels: 1, rays: 360, vertical_fov: (-2.0, -2.0), range: 100.0, ..Lidar::default() };
    let scenario = with_lidar(&shipped("emergency_brake"), lidar);
    let mut env = Env::new(scenario.clone(), 0);
    let debris = env.world().obstacles().iter().position(|o| o.event.is_some()).expect("the debris");
    let pose = env.world().obstacles()[debris].pose;
    let place = |env: &mut Env, s: f32| {
        let mut at = env.road().pose(s, env.road().lane_centre(1));
        at.heading = env.road().pose(s, 0.0).heading;
        env.world_mut().teleport_ego(at, 0.0);
    };
    // 40 m short of it, before the trigger: the straight-ahead beams meet only the road.
    place(&mut env, 190.0);
    let ground = env.lidar_scan().unwrap().ranges[179];
    // Past the trigger: step once so the event fires, then look again from the same spot.
    env.world_mut().step(lepton_sim::Control { steer: 0.0, throttle: 0.0 });
    assert!(env.world().obstacles()[debris].present, "the debris has appeared");
    place(&mut env, 190.0);
    let seen = env.lidar_scan().unwrap().ranges[179];
    assert!(seen < ground, "the debris at x {} is seen: {seen} m, the road alone {ground} m", pose.x);
}

#[test]
fn noise_is_drawn_from_the_episode_and_step() {
    let noisy = |noise: f32| {
        let lidar = Lidar { channels: 32, rays: 90, noise, ..Lidar::default() };
        with_lidar(&shipped("lane_keep"), lidar)
    };
    let (clean, a, b) = (Env::new(noisy(0.0), 5), Env::new(noisy(0.1), 5), Env::new(noisy(0.1), 5));
    let (clean, a, b) = (clean.lidar_scan().unwrap(), a.lidar_scan().unwrap(), b.lidar_scan().unwrap());
    assert_eq!(a, b, "the same seed, the same noise");
    let errors: Vec<f32> =
        clean.ranges.iter().zip(&a.ranges).filter(|&(c, _)| *c < 80.0).map(|(c, n)| n - c).collect();
    let mean = errors.iter().sum::<f32>() / errors.len() as f32;
    let sd = (errors.iter().map(|e| (e - mean).powi(2)).sum::<f32>() / errors.len() as f32).sqrt();
    assert!(errors.len() > 500, "enough ground returns to judge: {}", errors.len());
    assert!(mean.abs() < 0.02 && (sd - 0.1).abs() < 0.015, "noise mean {mean}, sd {sd}, asked 0 and 0.1");
    // Beams that hit nothing stay at the range.
    assert!(clean.ranges.iter().zip(&a.ranges).all(|(c, n)| *c < 80.0 || *n == 80.0));
    // Each step draws afresh.
    assert_ne!(noise_seed(7, 0), noise_seed(7, 1));
    assert_ne!(noise_seed(7, 0), noise_seed(8, 0));
}

#[test]
fn observations_carry_scans_that_a_restored_env_repeats() {
    let lidar = Lidar { channels: 8, rays: 64, noise: 0.02, ..Lidar::default() };
    let scenario = with_lidar(&shipped("highway"), lidar);
    let mut envs = VecEnv::new(scenario.clone(), 2, 11);
    envs.reset(11);
    let steps: Vec<_> = (0..12).map(|t| envs.step(&[t % 3, (t + 1) % 3])).collect();
    let last = steps.last().unwrap();
    assert!(last.obs.iter().all(|o| o.lidar.as_ref().is_some_and(|r| r.len() == 8 * 64)));
    let mut restored = VecEnv::new(scenario.clone(), 2, 0);
    restored.restore(&envs.snapshot()).expect("a snapshot of the same scenario");
    let (a, b) = (envs.step(&[1, 2]), restored.step(&[1, 2]));
    assert_eq!(a.obs[0].lidar, b.obs[0].lidar);
    assert_eq!(a.obs[1].lidar, b.obs[1].lidar);
    // Without a lidar in the scenario, no rays are cast.
    let plain = Env::new(shipped("highway"), 0);
    assert!(plain.lidar_scan().is_none());
}
