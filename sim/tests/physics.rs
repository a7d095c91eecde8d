//! Physics sanity: the car drives a lap, accelerates and brakes plausibly, changes lanes, and every
//! way an episode can end ends it with its named reason.

mod common;

use common::{from_text, shipped};
use lepton_sim::drivers::KeepLane;
use lepton_sim::road::PlanePose;
use lepton_sim::{Control, EndReason, Env, Step};

/// Runs `control` until the episode ends or `max_steps` pass; returns every step.
fn drive(
    env: &mut Env,
    max_steps: usize,
    mut control: impl FnMut(&Step) -> Control,
    first: Step,
) -> Vec<Step> {
    let mut steps = vec![first];
    while steps.len() < max_steps {
        let last = steps.last().unwrap();
        if last.terminated || last.truncated {
            break;
        }
        let c = control(last);
        steps.push(env.step_control(c));
    }
    steps
}

const STRAIGHT: &str = r#"Scenario(
    road: (segments: [Straight(length: 2000.0)], lanes: 2, lane_width: 3.5),
    ego: (spawn: (s: 10.0, lane: 0)),
    episode: (max_steps: 5000, stuck_time: 3.0),
)"#;

#[test]
fn keep_lane_drives_a_full_lap_of_lane_keep_without_leaving_the_road() {
    let scenario = shipped("lane_keep");
    let driver = KeepLane::new(12.0, scenario.ego.vehicle.max_steer, scenario.ego.vehicle.length);
    for seed in [0, 1, 2] {
        let mut env = Env::new(scenario.clone(), seed);
        let mut state = env.reset(Some(seed)).0.state;
        let road_edge = env.road().drivable_half_width();
        let mut max_lane_offset: f32 = 0.0;
        let end = loop {
            let step = env.step(driver.act(&state.driving, env.controls()));
            let gt = step.info.ground_truth;
            assert!(gt.d.abs() < road_edge, "left the road at s {}: d {}", gt.s, gt.d);
            max_lane_offset = max_lane_offset.max(gt.driving.lane_offset.abs());
            state = step.obs.state;
            if let Some(end) = step.info.end {
                break (end, step.info);
            }
        };
        assert_eq!(end.0, EndReason::Success, "seed {seed}: {:?}", end.1);
        assert_eq!(end.1.laps, 1);
        assert!(max_lane_offset < 1.2, "seed {seed}: wandered {max_lane_offset} m from the lane centre");
    }
}

#[test]
fn full_throttle_on_a_straight_reaches_a_plausible_speed() {
    let mut env = Env::new(from_text(STRAIGHT), 0);
    let step_seconds = 0.02 * 4.0;
    let mut time_to_100_kmh = None;
    let mut speed = 0.0;
    for i in 1..=250 {
        // 20 s of full throttle
        let step = env.step_control(Control { steer: 0.0, throttle: 1.0 });
        speed = step.info.ground_truth.driving.speed;
        if speed >= 27.8 && time_to_100_kmh.is_none() {
            time_to_100_kmh = Some(i as f32 * step_seconds);
        }
        assert!(step.info.end.is_none(), "{:?}", step.info.end);
        assert!(step.info.ground_truth.driving.lane_offset.abs() < 0.3, "drifts sideways on a straight");
    }
    let t = time_to_100_kmh.expect("reaches 100 km/h within 20 s");
    assert!((6.0..=14.0).contains(&t), "0–100 km/h in {t} s");
    assert!((30.0..=55.0).contains(&speed), "speed after 20 s: {speed} m/s");
}

#[test]
fn brakes_stop_the_car_in_a_plausible_distance() {
    let scenario = from_text(
        r#"Scenario(
        road: (segments: [Straight(length: 500.0)]),
        ego: (spawn: (s: 10.0), start_speed: 20.0),
        episode: (stuck_time: 100.0),
    )"#,
    );
    let mut env = Env::new(scenario, 0);
    let start = env.reset(Some(0)).1.ground_truth.s;
    let mut stopped_at = None;
    for _ in 0..200 {
        let step = env.step_control(Control { steer: 0.0, throttle: -1.0 });
        if step.info.ground_truth.driving.speed < 0.05 {
            stopped_at = Some(step.info.ground_truth.s);
            break;
        }
    }
    let distance = stopped_at.expect("stops") - start;
    // 20 m/s at ≈ 0.8 g takes ≈ 25 m; allow for grip limits and rolling.
    assert!((15.0..=45.0).contains(&distance), "stopping distance from 72 km/h: {distance} m");
}

#[test]
fn steering_toward_the_next_lane_changes_lanes() {
    let scenario = from_text(STRAIGHT.replace("lane: 0)", "lane: 0), start_speed: 10.0").as_str());
    let driver = KeepLane::new(10.0, scenario.ego.vehicle.max_steer, scenario.ego.vehicle.length);
    let mut env = Env::new(scenario, 0);
    let mut state = env.reset(Some(0)).0.state;
    assert_eq!(state.lane, 0);
    let target = env.road().lane_centre(1);
    for _ in 0..60 {
        // The lane keeper, told how far it is from the centre of lane 1 instead of its own lane.
        let mut toward = state.driving;
        toward.lane_offset = state.d - target;
        let step = env.step_control(driver.control(&toward));
        assert!(step.info.end.is_none(), "{:?}", step.info.end);
        state = step.obs.state;
    }
    assert_eq!(state.lane, 1, "moved to the left lane");
    assert!((state.d - target).abs() < 0.3, "settled {} m from the lane centre", state.d - target);
    assert!(state.driving.heading_error.abs() < 0.05);
}

#[test]
fn driving_into_an_obstacle_ends_with_a_collision() {
    let scenario = from_text(
        r#"Scenario(
        road: (segments: [Straight(length: 200.0)]),
        ego: (spawn: (s: 10.0, lane: 0), start_speed: 5.0),
        obstacles: [(kind: Box, s: 40.0, lane: 0)],
    )"#,
    );
    let mut env = Env::new(scenario.clone(), 0);
    let first = env.reset(Some(0)).0;
    assert!(
        first.state.driving.gap_own < 30.0 && first.state.driving.gap_own > 20.0,
        "box seen ahead: {}",
        first.state.driving.gap_own
    );
    assert_eq!(first.state.driving.gap_left, 60.0, "left lane is clear");
    assert_eq!(first.state.driving.gap_right, 0.0, "there is no lane to the right");
    let mut last = None;
    for _ in 0..200 {
        let step = env.step_control(Control { steer: 0.0, throttle: 0.5 });
        if step.info.end.is_some() {
            last = Some(step);
            break;
        }
    }
    let step = last.expect("episode ends");
    assert_eq!(step.info.end, Some(EndReason::Collision));
    assert!(step.terminated && !step.truncated);
    assert_eq!(step.info.reward_terms.collision, scenario.reward.collision);
    assert!((step.info.ground_truth.s - 40.0).abs() < 4.0, "hit at s {}", step.info.ground_truth.s);
}

#[test]
fn steering_hard_off_the_road_ends_off_road() {
    let mut env = Env::new(from_text(STRAIGHT), 0);
    let first = env.step_control(Control { steer: 0.0, throttle: 0.5 });
    let steps = drive(&mut env, 300, |_| Control { steer: -0.6, throttle: 0.5 }, first);
    let last = steps.last().unwrap();
    assert_eq!(last.info.end, Some(EndReason::OffRoad));
    assert!(last.terminated);
    assert!(last.info.ground_truth.d < -env.road().drivable_half_width() + 0.5);
    assert_eq!(last.info.reward_terms.off_road, -10.0);
}

#[test]
fn standing_still_ends_stuck_and_the_time_limit_truncates() {
    let mut env = Env::new(from_text(STRAIGHT), 0);
    let first = env.step_control(Control { steer: 0.0, throttle: -1.0 });
    let steps = drive(&mut env, 500, |_| Control { steer: 0.0, throttle: -1.0 }, first);
    let last = steps.last().unwrap();
    assert_eq!(last.info.end, Some(EndReason::Stuck));
    assert!(last.truncated && !last.terminated);
    // 3 s of standing still at 0.08 s per step, after braking from rest.
    assert!((38..=45).contains(&steps.len()), "stuck after {} steps", steps.len());

    let short = from_text(r#"Scenario(ego: (start_speed: 10.0), episode: (max_steps: 7))"#);
    let mut env = Env::new(short, 0);
    let ends: Vec<_> = (0..7).map(|_| env.step_control(Control { steer: 0.0, throttle: 0.2 })).collect();
    assert!(ends[..6].iter().all(|s| s.info.end.is_none()));
    assert_eq!(ends[6].info.end, Some(EndReason::TimeLimit));
    assert!(ends[6].truncated && !ends[6].terminated);
}

#[test]
fn a_car_put_on_its_roof_ends_flipped() {
    let mut env = Env::new(from_text(STRAIGHT), 0);
    // Lift the car and roll it over: it lands on its roof.
    let world = env.world_mut();
    world.teleport_ego(PlanePose { x: 30.0, y: -1.75, heading: 0.0 }, 0.0);
    world.roll_ego_for_test(std::f32::consts::PI);
    let first = env.step_control(Control::default());
    let steps = drive(&mut env, 100, |_| Control::default(), first);
    let last = steps.last().unwrap();
    assert_eq!(last.info.end, Some(EndReason::Flipped));
    assert!(last.truncated);
}

#[test]
fn open_roads_succeed_at_their_end() {
    let scenario = from_text(
        r#"Scenario(road: (segments: [Straight(length: 60.0)]), ego: (spawn: (s: 5.0), start_speed: 10.0))"#,
    );
    let mut env = Env::new(scenario.clone(), 0);
    let first = env.step_control(Control { steer: 0.0, throttle: 0.5 });
    let steps = drive(&mut env, 200, |_| Control { steer: 0.0, throttle: 0.5 }, first);
    let last = steps.last().unwrap();
    assert_eq!(last.info.end, Some(EndReason::Success));
    assert!(last.terminated);
    assert_eq!(last.info.reward_terms.success, scenario.reward.success);
    assert!(last.info.progress > 54.0);
}

#[test]
fn npcs_follow_their_lanes_at_their_speeds_without_crashing_into_each_other() {
    let scenario = shipped("highway");
    let mut env = Env::new(scenario.clone(), 5);
    env.reset(Some(5));
    let lanes = env.road().lanes();
    let start_lanes: Vec<u32> = env.world().traffic().npcs.iter().map(|n| n.lane).collect();
    for _ in 0..300 {
        // The ego stays out of the way: it keeps to its lane at a modest speed.
        let step = env.step_control(Control { steer: 0.0, throttle: 0.0 });
        if step.info.end.is_some() {
            break;
        }
        let world = env.world();
        let road = world.road().clone();
        let npcs: Vec<_> = world.traffic().npcs.iter().filter(|n| n.active).collect();
        for n in &npcs {
            assert!(n.lane < lanes);
            assert!(n.speed >= 0.0 && n.speed <= scenario.traffic.speed.max + 0.5, "speed {}", n.speed);
            assert!(
                (n.d - road.lane_centre(n.lane)).abs() <= road.lane_width() + 0.1,
                "d {} lane {}",
                n.d,
                n.lane
            );
        }
        for (i, a) in npcs.iter().enumerate() {
            for b in &npcs[i + 1..] {
                let same_lane = (a.d - b.d).abs() < 1.8;
                if same_lane {
                    assert!(road.delta_s(a.s, b.s).abs() > 4.4, "NPCs overlap at s {} and {}", a.s, b.s);
                }
            }
        }
    }
    let changed = env.world().traffic().npcs.iter().zip(&start_lanes).filter(|(n, l)| n.lane != **l).count();
    assert!(changed > 0, "with lane_changes on, some NPC passes a slower one");
}
