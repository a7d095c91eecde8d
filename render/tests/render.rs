//! Camera frames: not blank, seeded, synchronous (frame t shows the world after step t), the road
//! where it should be, both formats, and independent of how many envs share the renderer.
//!
//! Needs a Vulkan adapter: a GPU or Mesa's lavapipe (`mesa-vulkan-drivers`).

use lepton_render::camera_vec_env;
use lepton_sim::road::PlanePose;
use lepton_sim::scenario::{self, Scenario};
use lepton_sim::{Act, Reset};
use lepton_sim::{Frame, VecEnv};
use std::sync::{Arc, Mutex};

/// A shipped scenario by name.
fn shipped(name: &str) -> Arc<Scenario> {
    Arc::new(scenario::load_named(name).expect("shipped scenario is valid"))
}

/// A scenario from RON text (must be valid).
fn from_text(text: &str) -> Arc<Scenario> {
    Arc::new(scenario::parse_str(text, "<test>").unwrap_or_else(|e| panic!("{e}")))
}

/// Bevy apps are heavy: the tests in this file take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn camera_envs(scenario: &Arc<lepton_sim::scenario::Scenario>, n: usize, seed: u64) -> (VecEnv, Vec<Frame>) {
    let mut envs = camera_vec_env(scenario.clone(), n, seed).expect("an adapter (GPU or lavapipe)");
    let frames = envs.reset(seed).into_iter().map(|(o, _)| o.frame.expect("a frame")).collect();
    (envs, frames)
}

fn pixel(frame: &Frame, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * frame.width + x) * frame.channels as u32) as usize;
    if frame.channels == 3 {
        [frame.data[i], frame.data[i + 1], frame.data[i + 2]]
    } else {
        [frame.data[i]; 3]
    }
}

fn distinct_values(frame: &Frame) -> usize {
    let mut seen = std::collections::HashSet::new();
    for px in frame.data.chunks(frame.channels as usize) {
        seen.insert(px.to_vec());
    }
    seen.len()
}

#[test]
fn the_first_frame_is_a_real_picture_of_the_road() {
    let _turn = lock();
    let scenario = shipped("lane_keep");
    let (_, frames) = camera_envs(&scenario, 2, 3);
    for frame in &frames {
        assert_eq!((frame.width, frame.height, frame.channels), (84, 84, 3));
        assert_eq!(frame.data.len(), 84 * 84 * 3);
        assert!(distinct_values(frame) >= 4, "a blank or uniform frame: {} colours", distinct_values(frame));
        // Sky at the top, road at the bottom: they differ.
        assert_ne!(pixel(frame, 42, 2), pixel(frame, 42, 81));
    }
}

#[test]
fn different_seeds_give_different_frames_and_the_same_seed_the_same() {
    let _turn = lock();
    let scenario = shipped("lane_keep"); // randomised look and spawn jitter
    let (_, a) = camera_envs(&scenario, 3, 10);
    let (_, b) = camera_envs(&scenario, 3, 10);
    assert_eq!(a, b, "same seed, same frames");
    assert_ne!(a[0], a[1]);
    assert_ne!(a[1], a[2]);
}

#[test]
fn the_frame_of_step_t_shows_the_world_after_step_t() {
    let _turn = lock();
    let scenario = shipped("obstacles");
    let (mut envs, first) = camera_envs(&scenario, 1, 0);
    let mut previous = first[0].clone();
    for t in 0..5 {
        let step = envs.step(&[0]); // accelerate straight ahead
        let frame = step.obs[0].frame.clone().expect("a frame");
        // Rendering the world as it stands now, after the step, gives the same picture...
        let again = envs.render_frames().unwrap().remove(0);
        assert_eq!(frame, again, "step {t}: the observation's frame is not of the world after the step");
        // ...and the car moved, so it is not the previous step's picture.
        assert_ne!(frame, previous, "step {t}: the frame did not change");
        previous = frame;
    }
}

#[test]
fn a_car_in_its_lane_sees_road_below_and_a_car_on_the_grass_does_not() {
    let _turn = lock();
    let scenario = from_text(
        r#"Scenario(road: (segments: [Straight(length: 400.0)], lanes: 2, shoulder: 1.0), ego: (spawn: (s: 50.0, lane: 0)))"#,
    );
    let (mut envs, frames) = camera_envs(&scenario, 2, 0);
    let bottom_centre = |f: &Frame| pixel(f, f.width / 2, f.height - 2);
    let road = bottom_centre(&frames[0]);
    assert!(road[1] < road[0] + 12 && road[1] < road[2] + 12, "road is grey, not green: {road:?}");

    let grass_d = -(envs.envs()[1].road().drivable_half_width() + 15.0);
    let pose = envs.envs()[1].road().pose(50.0, grass_d);
    envs.env_mut(1).world_mut().teleport_ego(PlanePose { heading: pose.heading, ..pose }, 0.0);
    let frames = envs.render_frames().unwrap();
    let grass = bottom_centre(&frames[1]);
    assert!(grass[1] > grass[0] + 20 && grass[1] > grass[2] + 20, "grass is green: {grass:?}");
    assert_eq!(bottom_centre(&frames[0]), road, "env 0 did not move");
}

#[test]
fn grey_frames_are_the_luma_of_the_rgb_frames() {
    let _turn = lock();
    let rgb = shipped("tiny");
    let mut grey = (*rgb).clone();
    let mut rgb_scenario = (*rgb).clone();
    rgb_scenario.camera.format = lepton_sim::scenario::FrameFormat::Rgb;
    grey.camera.format = lepton_sim::scenario::FrameFormat::Grey;
    let (_, colour) = camera_envs(&Arc::new(rgb_scenario), 1, 5);
    let (_, luma) = camera_envs(&Arc::new(grey), 1, 5);
    let (c, g) = (&colour[0], &luma[0]);
    assert_eq!((c.channels, g.channels), (3, 1));
    assert_eq!((g.width, g.height), (32, 32));
    assert_eq!(g.data.len(), 32 * 32);
    for (i, px) in c.data.chunks_exact(3).enumerate() {
        assert_eq!(g.data[i], lepton_render::luma(px[0], px[1], px[2]));
    }
}

/// Env `i` of `n` envs seeded `seed` sees exactly what a single env seeded `seed + i` sees, at reset
/// and for `steps` steps of `action`.
fn assert_env_alone_matches(scenario: &str, n: usize, i: usize, seed: u64, action: usize, steps: usize) {
    let scenario = shipped(scenario);
    let (mut many, frames) = camera_envs(&scenario, n, seed);
    let (mut one, alone) = camera_envs(&scenario, 1, seed + i as u64);
    assert_eq!(frames[i], alone[0]);
    for _ in 0..steps {
        let a = many.step(&vec![action; n]).obs[i].frame.clone();
        let b = one.step(&[action]).obs[0].frame.clone();
        assert_eq!(a, b);
    }
}

#[test]
fn env_i_gives_the_same_frames_alone_and_among_eight() {
    let _turn = lock();
    assert_env_alone_matches("highway", 8, 3, 20, 0, 3);
}

#[test]
fn env_i_gives_the_same_frames_alone_and_in_a_later_row_among_64() {
    let _turn = lock();
    // Traffic in view, tiles in 8 rows: each tile's viewport and each car's view index must be right.
    assert_env_alone_matches("highway", 64, 37, 100, 1, 5);
}

#[test]
fn a_target_larger_than_the_adapter_allows_is_a_clear_error() {
    let _turn = lock();
    let mut scenario = (*shipped("tiny")).clone();
    scenario.camera.width = 1024;
    scenario.camera.height = 1024;
    // 33 × 33 tiles of 1024 pixels: wider than any adapter's largest texture.
    let error = match camera_vec_env(Arc::new(scenario), 33 * 33, 0) {
        Ok(_) => panic!("a 33,792-pixel-wide target was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("use fewer environments or smaller frames"), "{error}");
}

#[test]
fn rendering_never_changes_the_physics() {
    let _turn = lock();
    let scenario = shipped("highway");
    let mut with = camera_vec_env(scenario.clone(), 2, 4).unwrap();
    let mut without = VecEnv::new(scenario, 2, 4);
    with.reset(4);
    without.reset(4);
    for _ in 0..20 {
        let a = with.step(&[0, 3]);
        let b = without.step(&[0, 3]);
        for i in 0..2 {
            assert_eq!(a.infos[i].position, b.infos[i].position);
            assert_eq!(a.rewards[i].to_bits(), b.rewards[i].to_bits());
        }
    }
}

#[test]
fn an_event_obstacle_appears_in_the_frames_and_a_look_event_recolours_them() {
    let _turn = lock();
    let scenario = from_text(
        r#"Scenario(
            ego: (start_speed: 0.0),
            actions: (set: [(steer: 0.0, throttle: 0.0)], repeat: 5),
            events: [
                (name: "crate", when: Time(seconds: 0.2), then: [Obstacle((kind: Box, s: 22.0, lane: 0))]),
                (name: "dusk", when: Time(seconds: 0.4), then: [Look((sky: (0.9, 0.2, 0.1)))]),
            ],
        )"#,
    );
    let frames_of = |scenario: &Arc<lepton_sim::scenario::Scenario>| {
        let (mut envs, _) = camera_envs(scenario, 1, 0);
        (0..5).map(|_| envs.step(&[0]).obs[0].frame.clone().expect("a frame")).collect::<Vec<Frame>>()
    };
    let frames = frames_of(&scenario);
    let mut without = (*scenario).clone();
    without.events.clear();
    let plain = frames_of(&Arc::new(without));
    let changed =
        |a: &Frame, b: &Frame| a.data.chunks(3).zip(b.data.chunks(3)).filter(|(p, q)| p != q).count();
    // Steps of 0.1 s: the crate appears during step 2 (index), 12 m ahead of the parked car.
    assert_eq!(frames[..2], plain[..2], "nothing has happened yet");
    assert!(changed(&frames[2], &plain[2]) > 20, "the crate shows: {}", changed(&frames[2], &plain[2]));
    let [r, _, b] = pixel(&frames[4], 42, 2);
    let [r0, _, b0] = pixel(&frames[3], 42, 2);
    assert!(
        b0 > r0 && r > b,
        "the sky turns red at 0.4 s: {:?} → {:?}",
        pixel(&frames[3], 42, 2),
        pixel(&frames[4], 42, 2)
    );
}

#[test]
fn frames_written_into_the_callers_rows_are_the_frames_the_observations_carry() {
    let _turn = lock();
    let scenario = shipped("tiny");
    let n = 3;
    let mut attached = camera_vec_env(scenario.clone(), n, 9).unwrap();
    let mut written = camera_vec_env(scenario, n, 9).unwrap();
    let len = written.cameras().unwrap().frame_len();
    assert_eq!(len, 32 * 32);
    let (mut current, mut last) = (vec![0u8; n * len], vec![0u8; n * len]);
    let row = |rows: &[u8], i: usize| rows[i * len..(i + 1) * len].to_vec();

    let first = attached.reset(9);
    let mut rows = lepton_sim::FrameRows { current: &mut current, last: &mut last };
    let first_written = written.try_reset(Reset::All(9), Some(&mut rows)).unwrap();
    for i in 0..n {
        assert!(first_written[i].0.frame.is_none(), "the observations carry no frames of their own");
        assert_eq!(row(rows.current, i), first[i].0.frame.as_ref().unwrap().data);
    }
    // Env 0 steers off the road, env 1 drives into the cone, env 2 brakes until its time is up.
    let mut ends = 0;
    for _ in 0..150 {
        let actions = [5, 0, 2];
        let a = attached.step(&actions);
        let b = written.try_step(Act::Discrete(&actions), Some(&mut rows)).unwrap();
        assert_eq!(a.terminated, b.terminated);
        for i in 0..n {
            assert!(b.obs[i].frame.is_none() && b.final_obs[i].as_ref().is_none_or(|o| o.frame.is_none()));
            assert_eq!(row(rows.current, i), a.obs[i].frame.as_ref().unwrap().data, "env {i}'s frame");
            if let Some(last_obs) = &a.final_obs[i] {
                ends += 1;
                assert_eq!(row(rows.last, i), last_obs.frame.as_ref().unwrap().data, "env {i}'s last frame");
                assert_ne!(row(rows.last, i), row(rows.current, i), "a new episode starts elsewhere");
            }
        }
    }
    assert!(ends >= 3, "episodes ended {ends} times");

    // Resetting some envs writes their rows alone.
    let before = row(rows.current, 1);
    let some = attached.try_reset(Reset::These(&[(0, Some(3)), (2, None)]), None).unwrap();
    written.try_reset(Reset::These(&[(0, Some(3)), (2, None)]), Some(&mut rows)).unwrap();
    assert_eq!(row(rows.current, 0), some[0].0.frame.as_ref().unwrap().data);
    assert_eq!(row(rows.current, 2), some[1].0.frame.as_ref().unwrap().data);
    assert_eq!(row(rows.current, 1), before);
}

/// A straight road, the ego in lane 0 at s = 10, one NPC 15 m ahead in its lane, a box in the
/// other lane 25 m ahead.
const CAR_AHEAD: &str = r#"Scenario(
    road: (segments: [Straight(length: 400.0)], lanes: 2, lane_width: 3.5),
    ego: (spawn: (s: 10.0, lane: 0, s_jitter: 0.0, offset_jitter: 0.0, heading_jitter: 0.0)),
    obstacles: [(kind: Box, s: 35.0, lane: 1)],
    traffic: (count: 1, lanes: [0], start_gap: 15.0, speed: (min: 0.0, max: 0.0)),
    look: (randomise: (brightness: 0.0, colour: 0.0, sun_angle: 0.0)),
)"#;

#[test]
fn the_depth_camera_sees_the_road_where_the_camera_geometry_puts_it() {
    let _turn = lock();
    let scenario = shipped("lane_keep");
    let sensors = lepton_sim::CameraSensors::ALL;
    let mut envs = lepton_render::sensor_vec_env(scenario.clone(), 2, 4, sensors).expect("an adapter");
    let first = envs.reset(4);
    for (i, (obs, _)) in first.iter().enumerate() {
        let depth = obs.depth.as_ref().expect("the depth camera draws");
        assert_eq!(depth.len(), 84 * 84);
        // The image centre looks down the camera's axis, pitched 10° down onto the road.
        let poses = lepton_render::scene::Poses::of(envs.envs()[i].world(), scenario.traffic.count as usize);
        let camera = lepton_render::scene::mounted_camera(&poses.ego_ground_transform(), &scenario.camera);
        let axis = camera.rotation * bevy::math::Vec3::NEG_Z;
        let expected = (camera.translation.y - lepton_render::meshes::ROAD_HEIGHT) / -axis.y;
        // The four pixels around the centre, two rows either side of it: their mean is the centre's.
        let centre =
            (depth[41 * 84 + 41] + depth[41 * 84 + 42] + depth[42 * 84 + 41] + depth[42 * 84 + 42]) / 4.0;
        assert!(
            (centre - expected).abs() <= 0.02 * expected,
            "env {i}: depth {centre} m at the centre, the road is {expected} m down the axis"
        );
        // Nearer at the bottom of the frame than at the centre; the sky is far.
        assert!(depth[83 * 84 + 42] < centre && depth[42] > 100.0, "{} {}", depth[83 * 84 + 42], depth[42]);
        // The colour frame is the plain renderer's, bit for bit.
        let plain = camera_envs(&scenario, 2, 4).1;
        assert_eq!(obs.frame.as_ref().unwrap(), &plain[i]);
    }
}

#[test]
fn the_semantic_camera_names_the_car_ahead_a_vehicle_and_the_road_road() {
    use lepton_render::batch::Class;
    let _turn = lock();
    let scenario = from_text(CAR_AHEAD);
    let sensors = lepton_sim::CameraSensors::ALL;
    let mut envs = lepton_render::sensor_vec_env(scenario.clone(), 1, 0, sensors).expect("an adapter");
    let (obs, _) = envs.reset(0).remove(0);
    let (classes, depth) = (obs.semantic.expect("classes"), obs.depth.expect("depth"));
    let count = |class: Class| classes.iter().filter(|&&c| c == class as u8).count();
    for class in [Class::Road, Class::LaneMarking, Class::Vehicle, Class::Obstacle, Class::Sky, Class::Ground]
    {
        assert!(count(class) > 0, "{} is in view", class.name());
    }
    assert!(classes.iter().all(|&c| (c as usize) < Class::ALL.len()), "every pixel has a class");
    // The car ahead: 15 m from the ego's spawn, its back about 13 m from the camera.
    let world = envs.envs()[0].world();
    let ([npc_x, ..], _) = world.npc_pose(0).expect("the NPC");
    let ego_x = world.ego_state().position[0];
    let gap = npc_x - ego_x;
    let vehicle: Vec<f32> =
        classes.iter().zip(&depth).filter(|&(&c, _)| c == Class::Vehicle as u8).map(|(_, &d)| d).collect();
    assert!(vehicle.len() > 30, "the car covers pixels: {}", vehicle.len());
    for d in &vehicle {
        assert!(*d > gap - 4.0 && *d < gap + 4.0, "a vehicle pixel {d} m away, the car is {gap} m ahead");
    }
    // The bottom middle of the frame is road; the top row is sky.
    assert_eq!(classes[83 * 84 + 42], Class::Road as u8);
    assert!(classes[..84].iter().all(|&c| c == Class::Sky as u8));
}

#[test]
fn the_other_learning_cars_of_a_multi_agent_world_are_drawn() {
    use lepton_render::batch::Class;
    let _turn = lock();
    // Car 0 (the ego) 15 m behind car 1 in its lane; car 2 further back, out of view.
    let scenario = from_text(
        r#"Scenario(
            road: (segments: [Straight(length: 400.0)], lanes: 2, lane_width: 3.5),
            agents: [(spawn: (s: 10.0)), (spawn: (s: 25.0)), (spawn: (s: 1.0, lane: 1))],
            look: (randomise: (brightness: 0.0, colour: 0.0, sun_angle: 0.0)),
        )"#,
    );
    let sensors = lepton_sim::CameraSensors::ALL;
    let mut envs = lepton_render::sensor_vec_env(scenario.clone(), 1, 0, sensors).expect("an adapter");
    let (obs, _) = envs.reset(0).remove(0);
    let (classes, depth) = (obs.semantic.expect("classes"), obs.depth.expect("depth"));
    let world = envs.envs()[0].world();
    let gap = world.car_state(1).position[0] - world.ego_state().position[0];
    let vehicle: Vec<f32> =
        classes.iter().zip(&depth).filter(|&(&c, _)| c == Class::Vehicle as u8).map(|(_, &d)| d).collect();
    assert!(vehicle.len() > 30, "the car ahead covers pixels: {}", vehicle.len());
    for d in &vehicle {
        assert!(*d > gap - 4.0 && *d < gap + 4.0, "a vehicle pixel {d} m away, car 1 is {gap} m ahead");
    }
    // The poses the renderer reads: every other car, and none once it has left the world.
    let poses = lepton_render::scene::Poses::of(world, 0);
    assert_eq!(poses.others.len(), 2);
    assert!(poses.others.iter().all(Option::is_some));
}

#[test]
fn every_car_of_a_multi_agent_world_sees_through_its_own_camera() {
    use lepton_render::batch::Class;
    let _turn = lock();
    // Car 1 15 m behind car 0 in lane 0; car 2 beside car 1 in lane 1, nothing ahead of it.
    let scenario = from_text(
        r#"Scenario(
            road: (segments: [Straight(length: 400.0)], lanes: 2, lane_width: 3.5),
            agents: [(spawn: (s: 25.0)), (spawn: (s: 10.0)), (spawn: (s: 10.0, lane: 1))],
            episode: (max_steps: 30),
            look: (randomise: (brightness: 0.0, colour: 0.0, sun_angle: 0.0)),
        )"#,
    );
    let sensors = lepton_sim::CameraSensors::ALL;
    let mut envs =
        lepton_render::camera_multi_agent_vec_env(scenario.clone(), 2, 0, sensors).expect("an adapter");
    let first = envs.reset(Some(0)).unwrap();
    assert_eq!((first.len(), first[0].len()), (2, 3));
    let vehicle_at = |obs: &lepton_sim::Observation| -> Vec<f32> {
        let (classes, depth) = (obs.semantic.as_ref().unwrap(), obs.depth.as_ref().unwrap());
        classes.iter().zip(depth).filter(|&(&c, _)| c == Class::Vehicle as u8).map(|(_, &d)| d).collect()
    };
    for looks in &first {
        let [(lead, _), (follower, _), (beside, _)] = &looks[..] else { panic!("three cars") };
        assert!(lead.frame.is_some() && follower.frame.is_some() && beside.frame.is_some());
        // The follower sees the leader 15 m ahead (its back ~13 m from the camera).
        let seen = vehicle_at(follower);
        assert!(seen.len() > 30, "car 1 sees car 0: {} pixels", seen.len());
        assert!(seen.iter().all(|d| (11.0..17.0).contains(d)), "{seen:?}");
        // The leader has nothing ahead; the car beside sees at most car 0's corner, far off.
        assert!(vehicle_at(lead).is_empty(), "car 0 sees no car");
        assert_ne!(lead.frame, follower.frame);
    }
    // The same seed, the same frames; world 1 is its own world (seed + 1).
    let again = lepton_render::camera_multi_agent_vec_env(scenario.clone(), 2, 0, sensors)
        .unwrap()
        .reset(Some(0))
        .unwrap();
    assert_eq!(again[1][1].0.frame, first[1][1].0.frame);
    // Steps carry every car's frames; once the time limit ends the world, it resets with fresh frames.
    let mut reset_seen = false;
    for _ in 0..30 {
        let step = envs.step(&[1; 6]).unwrap();
        for world in &step.worlds {
            assert!(world.agents.iter().flatten().all(|a| a.obs.frame.is_some() && a.obs.depth.is_some()));
        }
        if let Some(looks) = &step.resets[0] {
            assert!(looks.iter().all(|(obs, info)| obs.frame.is_some() && info.episode_step == 0));
            reset_seen = true;
        }
    }
    assert!(reset_seen, "world 0 reset after its 30 steps");
}

#[test]
fn a_car_with_its_own_camera_view_sees_through_it() {
    use lepton_render::batch::Class;
    let _turn = lock();
    // Car 1 follows car 0 by 15 m; with a 30° field of view instead of 70° the car ahead fills
    // more of its frame. Car 0's view is the scenario's either way.
    let scenario = |view: &str| {
        from_text(&format!(
            r#"Scenario(
                road: (segments: [Straight(length: 400.0)], lanes: 2, lane_width: 3.5),
                agents: [(spawn: (s: 25.0)), (spawn: (s: 10.0){view})],
                look: (randomise: (brightness: 0.0, colour: 0.0, sun_angle: 0.0)),
            )"#
        ))
    };
    let views = |scenario| {
        let sensors = lepton_sim::CameraSensors { depth: false, semantic: true };
        let mut envs =
            lepton_render::camera_multi_agent_vec_env(scenario, 1, 0, sensors).expect("an adapter");
        envs.reset(Some(0)).unwrap().remove(0)
    };
    let (wide, narrow) = (views(scenario("")), views(scenario(", camera: (fov: 30.0)")));
    let vehicle = |obs: &lepton_sim::Observation| {
        obs.semantic.as_ref().unwrap().iter().filter(|&&c| c == Class::Vehicle as u8).count()
    };
    assert!(
        vehicle(&narrow[1].0) > 3 * vehicle(&wide[1].0),
        "{} vs {}",
        vehicle(&narrow[1].0),
        vehicle(&wide[1].0)
    );
    assert_eq!(narrow[0].0.frame, wide[0].0.frame, "car 0 keeps the scenario's camera");
}
