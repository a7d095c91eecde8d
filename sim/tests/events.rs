//! Scripted events: they fire at their triggers, do what they say (an NPC stops, cuts in, an
//! obstacle appears, the target speed changes), once, and the same under the same seed — also
//! when an episode is rebuilt from a snapshot.

mod common;

use common::{from_text, shipped};
use lepton_sim::drivers::KeepLane;
use lepton_sim::{Control, Env, Step};
use std::sync::Arc;

/// Drives `env` with the scripted lane keeper for up to `steps` policy steps, stopping at the end
/// of the episode; returns every step.
fn drive(env: &mut Env, steps: usize, target_speed: f32) -> Vec<Step> {
    let driver =
        KeepLane::new(target_speed, env.scenario().ego.vehicle.max_steer, env.scenario().ego.vehicle.length);
    let mut out = Vec::new();
    let mut state = lepton_sim::GroundTruth::measure(env.world()).driving;
    for _ in 0..steps {
        let step = env.step_control(driver.control(&state));
        state = step.obs.state.driving;
        let done = step.terminated || step.truncated;
        out.push(step);
        if done {
            break;
        }
    }
    out
}

/// The index of the first step during which event `bit` happened.
fn step_of(steps: &[Step], bit: usize) -> Option<usize> {
    steps.iter().position(|s| s.info.events & (1 << bit) != 0)
}

#[test]
fn the_lead_car_stops_when_the_ego_car_reaches_the_mark_and_stays_stopped() {
    let scenario = shipped("emergency_brake");
    let mut env = Env::new(scenario.clone(), 11);
    let steps = drive(&mut env, 600, 12.0);
    let fired = step_of(&steps, 0).expect("lead_brakes happens");
    // It happens in the policy step during which the ego car passes s = 90 m.
    assert!(steps[fired].info.ground_truth.s >= 90.0, "{}", steps[fired].info.ground_truth.s);
    assert!(steps[fired - 1].info.ground_truth.s < 90.0 + 0.1);
    assert_eq!(steps.iter().filter(|s| s.info.events & 1 != 0).count(), 1, "once");

    // Rebuild the same episode and watch NPC 0: full speed before, standing still 2 s after.
    let mut env = Env::new(scenario, 11);
    let driver = KeepLane::new(12.0, 30.0, 4.4);
    let mut state = lepton_sim::GroundTruth::measure(env.world()).driving;
    let mut speeds = Vec::new();
    for _ in 0..fired + 40 {
        let step = env.step_control(driver.control(&state));
        state = step.obs.state.driving;
        speeds.push(env.world().traffic().npcs[0].speed);
    }
    assert!(speeds[fired - 1] > 11.0, "{speeds:?}");
    // 8 m/s²: at least 1 m/s slower within two more policy steps (0.16 s).
    assert!(speeds[fired + 2] < speeds[fired - 1] - 1.0, "braking hard: {speeds:?}");
    assert!(speeds[fired + 25..].iter().all(|&v| v == 0.0), "stopped and stays: {speeds:?}");
}

#[test]
fn an_obstacle_appears_only_when_its_event_happens() {
    let scenario = shipped("emergency_brake");
    let mut env = Env::new(scenario.clone(), 3);
    let placed = |env: &Env| env.world().obstacles().iter().filter(|o| o.present).count();
    assert_eq!(env.world().obstacles().len(), 1, "the debris exists from the start");
    assert_eq!(placed(&env), 0, "but is absent");
    // Put the car in the left lane at s = 160 m (past the stopped lead car) and coast on.
    let pose = env.road().pose(160.0, env.road().lane_centre(1));
    env.world_mut().teleport_ego(pose, 12.0);
    let mut gaps_left = Vec::new();
    let mut happened_at = None;
    for k in 0..40 {
        let step = env.step_control(Control { steer: 0.0, throttle: 0.0 });
        gaps_left.push(step.obs.state.driving.gap_own);
        if step.info.events & 0b10 != 0 {
            happened_at = Some(k);
            assert_eq!(placed(&env), 1);
        }
    }
    let k = happened_at.expect("debris happens at s = 170 m");
    assert!(gaps_left[..k].iter().all(|&g| g == lepton_sim::ground_truth::GAP_RANGE), "{gaps_left:?}");
    assert!(gaps_left[k] < 60.0, "the crate 60 m ahead in the ego's lane is seen: {gaps_left:?}");
}

#[test]
fn the_cutting_in_car_moves_into_the_egos_lane_then_brakes() {
    let scenario = shipped("cut_in");
    let mut env = Env::new(scenario.clone(), 2);
    let steps = drive(&mut env, 600, 14.0);
    let cut = step_of(&steps, 0).expect("cut_in happens");
    let brake = step_of(&steps, 1).expect("brake happens");
    // The brake waits 1.5 s: about 19 policy steps of 0.08 s.
    assert!((18..=20).contains(&(brake - cut)), "cut at {cut}, brake at {brake}");

    let mut env = Env::new(scenario.clone(), 2);
    let driver = KeepLane::new(14.0, 30.0, 4.4);
    let mut state = lepton_sim::GroundTruth::measure(env.world()).driving;
    let mut lateral = Vec::new();
    for _ in 0..brake + 30 {
        let step = env.step_control(driver.control(&state));
        state = step.obs.state.driving;
        let npc = &env.world().traffic().npcs[0];
        lateral.push((npc.d, npc.lane, npc.speed));
    }
    let lane0 = env.road().lane_centre(0);
    assert_eq!(lateral[cut - 1].1, 1, "in the left lane before");
    assert!(lateral[brake].0 - lane0 < 0.1, "in the ego's lane 1.5 s later: {:?}", lateral[brake]);
    assert!((lateral[brake + 29].2 - 6.0).abs() < 0.3, "down to 6 m/s: {:?}", lateral[brake + 29]);
    // The lane keeper sees it in its own lane once it is across.
    assert!(steps[brake].info.ground_truth.driving.gap_own < 20.0);
}

#[test]
fn a_target_speed_event_changes_the_speed_reward_from_then_on() {
    let scenario = from_text(
        r#"Scenario(
            ego: (start_speed: 10.0),
            reward: (progress: 0.0, lane_centre: 0.0, speed: 1.0, target_speed: 10.0),
            events: [(name: "slow", when: Time(seconds: 0.4), then: [TargetSpeed(speed: 5.0)])],
        )"#,
    );
    let mut env = Env::new(scenario, 0);
    let terms: Vec<(f32, f32, u64)> = (0..10)
        .map(|_| {
            let step = env.step_control(Control { steer: 0.0, throttle: 0.0 });
            (step.info.reward_terms.speed, step.obs.state.driving.speed, step.info.events)
        })
        .collect();
    let fired = terms.iter().position(|t| t.2 != 0).expect("slow happens");
    // Triggers are checked as a physics step starts: the one starting at 0.4 s is the first of
    // the 6th policy step (policy steps last 4 × 0.02 s).
    assert_eq!(fired, 5);
    for &(reward, speed, _) in &terms[..fired] {
        assert!((reward - (1.0 - (speed - 10.0).abs() / 10.0)).abs() < 1e-5);
    }
    for &(reward, speed, _) in &terms[fired + 1..] {
        assert!((reward - (1.0 - (speed - 5.0).abs() / 5.0).max(0.0)).abs() < 1e-5, "{reward} at {speed}");
    }
}

#[test]
fn events_are_the_same_under_the_same_seed_and_after_a_restore() {
    let scenario: Arc<_> = shipped("cut_in");
    let run = |seed| {
        let mut env = Env::new(scenario.clone(), seed);
        drive(&mut env, 600, 14.0).iter().map(|s| (s.info.events, s.info.position)).collect::<Vec<_>>()
    };
    let a = run(8);
    assert_eq!(a, run(8));
    assert!(a.iter().filter(|(e, _)| *e != 0).count() >= 2);

    // Snapshot just after the cut-in, before the brake: the restored env brakes on the same step.
    let mut env = Env::new(scenario.clone(), 8);
    let steps = drive(&mut env, 600, 14.0);
    let cut = step_of(&steps, 0).unwrap();
    let brake = step_of(&steps, 1).unwrap();
    let mut env = Env::new(scenario.clone(), 8);
    let before: Vec<Step> = drive(&mut env, cut + 3, 14.0);
    let snapshot = env.snapshot();
    let mut restored = Env::restore(scenario.clone(), &snapshot).expect("restores");
    assert_eq!(restored.world().events_happened(), 0b01);
    let mut state = before.last().unwrap().obs.state.driving;
    let driver = KeepLane::new(14.0, 30.0, 4.4);
    for (k, expected) in steps.iter().enumerate().take(brake + 1).skip(cut + 3) {
        let step = restored.step_control(driver.control(&state));
        state = step.obs.state.driving;
        assert_eq!(step.info.events, expected.info.events, "step {k}");
        assert_eq!(step.info.position, expected.info.position, "step {k}");
    }
}
