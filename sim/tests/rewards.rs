//! Each reward term, as the environment computes it, responds to the event it documents.

mod common;

use common::from_text;
use lepton_sim::{Control, Env};

const SCENARIO: &str = r#"Scenario(
    road: (segments: [Straight(length: 1000.0)], lanes: 2, lane_width: 3.5),
    ego: (spawn: (s: 10.0, lane: 0), start_speed: 10.0),
    reward: (progress: 0.5, lane_centre: -2.0, speed: 3.0, target_speed: 10.0,
             collision: -7.0, off_road: -11.0, step: -0.25, success: 13.0),
)"#;

#[test]
fn progress_term_is_weight_times_metres_gained() {
    let mut env = Env::new(from_text(SCENARIO), 0);
    let before = env.reset(Some(0)).1.progress;
    let step = env.step_control(Control { steer: 0.0, throttle: 0.3 });
    let gained = step.info.progress - before;
    assert!(gained > 0.5, "moved {gained} m");
    assert!((step.info.reward_terms.progress - 0.5 * gained).abs() < 1e-5);
}

#[test]
fn lane_centre_term_is_weight_times_distance_from_the_lane_centre() {
    let mut env = Env::new(from_text(SCENARIO), 0);
    let mut biggest: f32 = 0.0;
    for _ in 0..20 {
        let step = env.step_control(Control { steer: 0.1, throttle: 0.2 });
        let offset = step.info.ground_truth.driving.lane_offset.abs();
        assert!((step.info.reward_terms.lane_centre - -2.0 * offset).abs() < 1e-5);
        biggest = biggest.max(offset);
    }
    assert!(biggest > 0.3, "the test must actually leave the lane centre ({biggest} m)");
}

#[test]
fn speed_term_peaks_at_the_target_speed() {
    let mut env = Env::new(from_text(SCENARIO), 0);
    let at_target = env.step_control(Control { steer: 0.0, throttle: 0.3 });
    let v = at_target.info.ground_truth.driving.speed;
    assert!((v - 10.0).abs() < 0.5, "speed {v}");
    assert!(at_target.info.reward_terms.speed > 2.8);
    for _ in 0..15 {
        env.step_control(Control { steer: 0.0, throttle: -1.0 });
    }
    let slow = env.step_control(Control { steer: 0.0, throttle: -1.0 });
    assert!(slow.info.ground_truth.driving.speed < 3.0);
    assert!(slow.info.reward_terms.speed < 1.0);
}

#[test]
fn step_term_is_paid_every_step_and_the_reward_is_the_sum() {
    let mut env = Env::new(from_text(SCENARIO), 0);
    for _ in 0..5 {
        let step = env.step_control(Control { steer: 0.05, throttle: 0.5 });
        assert_eq!(step.info.reward_terms.step, -0.25);
        assert_eq!(step.info.reward_terms.collision, 0.0);
        assert_eq!(step.info.reward_terms.off_road, 0.0);
        assert_eq!(step.info.reward_terms.success, 0.0);
        assert!((step.reward - step.info.reward_terms.total()).abs() < 1e-6);
    }
}

#[test]
fn off_road_term_is_paid_when_leaving_the_road() {
    let mut env = Env::new(from_text(SCENARIO), 0);
    let mut last = None;
    for _ in 0..100 {
        let step = env.step_control(Control { steer: -0.5, throttle: 0.3 });
        if step.info.end.is_some() {
            last = Some(step);
            break;
        }
        assert_eq!(step.info.reward_terms.off_road, 0.0);
    }
    let step = last.expect("leaves the road");
    assert_eq!(step.info.reward_terms.off_road, -11.0);
}
