//! Continuous control: `actions.continuous` in the file, `[steer, throttle]` per step, clipped into
//! the file's ranges, the same through `Env` and `VecEnv`, and refused by field when malformed.

mod common;

use common::{from_text, shipped};
use lepton_sim::scenario::{self, Scenario};
use lepton_sim::{Act, Env, Reset, VecEnv};
use std::sync::Arc;

/// lane_keep with continuous actions in these ranges.
fn continuous(steer: (f32, f32), throttle: (f32, f32)) -> Arc<Scenario> {
    let mut scenario = (*shipped("lane_keep")).clone();
    scenario.actions.continuous = Some(scenario::ContinuousActions { steer, throttle });
    Arc::new(scenario)
}

/// The ego's (lateral offset, speed) after `steps` steps of `action` from seed 5.
fn drive(scenario: &Arc<Scenario>, action: [f32; 2], steps: usize) -> (f32, f32, Vec<[f32; 3]>) {
    let mut env = Env::new(scenario.clone(), 5);
    env.reset(Some(5));
    let mut path = Vec::new();
    let mut last = None;
    for _ in 0..steps {
        let step = env.step_continuous(action);
        path.push(env.world().ego_state().position);
        last = Some(step.obs.state.driving);
        if step.terminated || step.truncated {
            break;
        }
    }
    let state = last.expect("at least one step");
    (state.lane_offset, state.speed, path)
}

#[test]
fn steering_and_throttle_do_what_they_say() {
    let scenario = continuous((-1.0, 1.0), (-1.0, 1.0));
    let (left, _, _) = drive(&scenario, [0.3, 0.3], 6);
    let (right, _, _) = drive(&scenario, [-0.3, 0.3], 6);
    let (straight, _, _) = drive(&scenario, [0.0, 0.3], 6);
    assert!(
        left > straight + 0.3 && right < straight - 0.3,
        "left {left}, straight {straight}, right {right}"
    );
    let (_, fast, _) = drive(&scenario, [0.0, 1.0], 10);
    let (_, coasting, _) = drive(&scenario, [0.0, 0.0], 10);
    let (_, braked, _) = drive(&scenario, [0.0, -1.0], 10);
    assert!(fast > coasting + 1.0 && braked < coasting - 1.0, "{fast} {coasting} {braked}");
}

#[test]
fn actions_are_clipped_into_the_files_ranges() {
    let scenario = continuous((-0.2, 0.2), (-0.5, 0.4));
    let (_, _, clipped) = drive(&scenario, [1.0, 1.0], 12);
    let (_, _, at_the_edge) = drive(&scenario, [0.2, 0.4], 12);
    assert_eq!(clipped, at_the_edge, "beyond the range is the range's end, bit for bit");
    let (_, _, nan) = drive(&scenario, [f32::NAN, 0.4], 12);
    let (_, _, zero) = drive(&scenario, [0.0, 0.4], 12);
    assert_eq!(nan, zero, "a steer that is not a number counts as 0");
    let (_, _, inside) = drive(&scenario, [0.1, 0.4], 12);
    assert_ne!(inside, at_the_edge);
}

#[test]
fn the_vector_env_steps_as_each_env_alone() {
    let scenario = continuous((-0.5, 0.5), (-1.0, 1.0));
    let actions = [[0.1, 0.6], [-0.4, 0.2], [0.0, -0.3]];
    let mut envs = VecEnv::new(scenario.clone(), 3, 11);
    envs.try_reset(Reset::All(11), None).unwrap();
    let mut singles: Vec<Env> = (0..3).map(|i| Env::new(scenario.clone(), 11 + i)).collect();
    for (i, env) in singles.iter_mut().enumerate() {
        env.reset(Some(11 + i as u64));
    }
    for _ in 0..20 {
        let step = envs.try_step(Act::Continuous(&actions), None).unwrap();
        for (i, env) in singles.iter_mut().enumerate() {
            let alone = env.step_continuous(actions[i]);
            assert_eq!(step.rewards[i], alone.reward);
            // An env whose episode ended is reset in the same step; its last observation is kept.
            let last = step.final_obs[i].as_ref().unwrap_or(&step.obs[i]);
            assert_eq!(last.state.driving, alone.obs.state.driving);
            if alone.terminated || alone.truncated {
                let (first, _) = env.reset(None);
                assert_eq!(step.obs[i].state.driving, first.state.driving);
            }
        }
    }
}

#[test]
fn continuous_actions_read_from_a_file_with_default_ranges() {
    let text = std::fs::read_to_string(common::scenarios_dir().join("tiny.ron")).unwrap();
    let with = text.replacen("Scenario(", "Scenario(\n    actions: (continuous: (steer: (-0.4, 0.4))),", 1);
    let scenario = from_text(&with);
    let continuous = scenario.actions.continuous.expect("continuous");
    assert_eq!((continuous.low(), continuous.high()), ([-0.4, -1.0], [0.4, 1.0]));
    assert_eq!(scenario.actions.repeat, 4, "the rest of actions keeps its defaults");
    // Written back, the ranges survive; a discrete scenario writes no `continuous`.
    let again = scenario::parse_str(&scenario::to_ron(&scenario), "<again>").unwrap();
    assert_eq!(again.actions, scenario.actions);
    assert!(!scenario::to_ron(&shipped("tiny")).contains("continuous"));

    let reversed = with.replace("(-0.4, 0.4)", "(0.4, -0.4)");
    let error = scenario::parse_str(&reversed, "tiny.ron").unwrap_err().to_string();
    assert!(error.contains("actions.continuous.steer") && error.contains("not a range"), "{error}");
}
