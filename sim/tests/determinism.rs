//! Same scenario and seed → the bit-identical trajectory; a different seed → a different one; env i
//! of a vector env with base seed S is the single env with seed S + i, whatever N and thread count.

mod common;

use common::shipped;
use lepton_sim::Reset;
use lepton_sim::{Env, Info, Observation, VecEnv};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// Everything observable about a step, as exact bit patterns.
fn fingerprint(obs: &Observation, reward: f32, terminated: bool, truncated: bool, info: &Info) -> Vec<u32> {
    let mut v: Vec<u32> = obs.state.to_array().iter().map(|x| x.to_bits()).collect();
    v.extend(info.position.iter().map(|x| x.to_bits()));
    v.extend([
        info.yaw.to_bits(),
        info.progress.to_bits(),
        reward.to_bits(),
        terminated as u32,
        truncated as u32,
    ]);
    v.push(info.end.map_or(99, |r| r as u32));
    v.push(info.episode_seed as u32);
    v
}

/// A single env driven by random actions drawn from `action_seed`, resetting with `reset(None)`.
fn single_trace(
    scenario: &Arc<lepton_sim::scenario::Scenario>,
    seed: u64,
    action_seed: u64,
    steps: usize,
) -> Vec<Vec<u32>> {
    let mut env = Env::new(scenario.clone(), seed);
    env.reset(Some(seed));
    let mut rng = ChaCha8Rng::seed_from_u64(action_seed);
    let mut trace = Vec::new();
    for _ in 0..steps {
        let step = env.step(rng.random_range(0..env.num_actions()));
        trace.push(fingerprint(&step.obs, step.reward, step.terminated, step.truncated, &step.info));
        if step.terminated || step.truncated {
            env.reset(None);
        }
    }
    trace
}

/// Env i's trace inside a vector env of `n` envs; env i's actions come from `action_seed + i`.
fn vector_traces(
    scenario: &Arc<lepton_sim::scenario::Scenario>,
    n: usize,
    base: u64,
    action_seed: u64,
    steps: usize,
) -> Vec<Vec<Vec<u32>>> {
    let mut envs = VecEnv::new(scenario.clone(), n, base);
    envs.reset(base);
    let mut rngs: Vec<_> = (0..n as u64).map(|i| ChaCha8Rng::seed_from_u64(action_seed + i)).collect();
    let mut traces = vec![Vec::new(); n];
    for _ in 0..steps {
        let actions: Vec<usize> = rngs.iter_mut().map(|r| r.random_range(0..envs.num_actions())).collect();
        let step = envs.step(&actions);
        for (i, trace) in traces.iter_mut().enumerate() {
            // The observation of the step itself: the final one when the episode ended.
            let obs = step.final_obs[i].as_ref().unwrap_or(&step.obs[i]);
            trace.push(fingerprint(
                obs,
                step.rewards[i],
                step.terminated[i],
                step.truncated[i],
                &step.infos[i],
            ));
        }
    }
    traces
}

fn episodes_in(trace: &[Vec<u32>]) -> usize {
    trace.iter().filter(|f| f[f.len() - 2] != 99).count()
}

#[test]
fn same_seed_same_trajectory_different_seed_different_trajectory() {
    for name in ["lane_keep", "highway", "tiny"] {
        let scenario = shipped(name);
        let a = single_trace(&scenario, 11, 5, 300);
        let b = single_trace(&scenario, 11, 5, 300);
        assert_eq!(a, b, "{name}: same seed, same actions");
        let c = single_trace(&scenario, 12, 5, 300);
        assert_ne!(a, c, "{name}: another seed gives another trajectory");
    }
}

#[test]
fn vector_env_i_equals_the_single_env_with_seed_s_plus_i() {
    let scenario = shipped("tiny");
    let steps = 260; // tiny's episodes last at most 100 steps: several auto-resets happen
    let vector = vector_traces(&scenario, 4, 40, 7, steps);
    for (i, trace) in vector.iter().enumerate() {
        let single = single_trace(&scenario, 40 + i as u64, 7 + i as u64, steps);
        assert!(episodes_in(&single) >= 2, "the test must cross episode boundaries");
        assert_eq!(trace, &single, "env {i}");
    }
}

#[test]
fn env_i_does_not_depend_on_the_number_of_envs_or_threads() {
    let scenario = shipped("highway");
    let small = vector_traces(&scenario, 2, 3, 1, 120);
    let large = vector_traces(&scenario, 8, 3, 1, 120);
    assert_eq!(small[0], large[0]);
    assert_eq!(small[1], large[1]);
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let serial = one_thread.install(|| vector_traces(&scenario, 8, 3, 1, 120));
    assert_eq!(serial, large);
}

#[test]
fn the_vector_env_reports_each_finished_episode_like_record_episode_statistics() {
    let mut envs = VecEnv::new(shipped("tiny"), 3, 11);
    envs.reset(11);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (mut returns, mut lengths) = (vec![0.0f32; 3], vec![0u32; 3]);
    let mut finished = 0;
    for _ in 0..400 {
        let actions: Vec<usize> = (0..3).map(|_| rng.random_range(0..envs.num_actions())).collect();
        let step = envs.step(&actions);
        for i in 0..3 {
            returns[i] += step.rewards[i];
            lengths[i] += 1;
            let ended = step.terminated[i] || step.truncated[i];
            assert_eq!(step.episodes[i].is_some(), ended);
            if let Some(episode) = step.episodes[i] {
                assert_eq!(episode.episode_return.to_bits(), returns[i].to_bits(), "the sum in step order");
                assert_eq!(episode.length, lengths[i]);
                assert_eq!(episode.length, step.infos[i].episode_step);
                assert_eq!(Some(episode.end), step.infos[i].end);
                (returns[i], lengths[i]) = (0.0, 0);
                finished += 1;
            }
        }
    }
    assert!(finished >= 6, "tiny's episodes are short ({finished} finished)");
    // A reset starts every tally over.
    envs.reset(12);
    let step = envs.step(&[0, 0, 0]);
    assert!(step.episodes.iter().all(Option::is_none));
}

#[test]
fn a_restored_snapshot_continues_bit_for_bit_with_traffic_and_episode_ends() {
    for name in ["highway", "tiny"] {
        let scenario = shipped(name);
        let mut envs = VecEnv::new(scenario.clone(), 3, 21);
        envs.reset(21);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut act = |envs: &VecEnv| -> Vec<usize> {
            (0..3).map(|_| rng.random_range(0..envs.num_actions())).collect()
        };
        for _ in 0..137 {
            let actions = act(&envs);
            envs.step(&actions);
        }
        // Through JSON, as a checkpoint stores it.
        let json = serde_json::to_string(&envs.snapshot()).unwrap();
        let mut restored = VecEnv::new(scenario.clone(), 3, 999);
        restored.restore(&serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(restored.returns_so_far(), envs.returns_so_far());
        let mut ended = 0;
        for _ in 0..150 {
            let actions = act(&envs);
            let (a, b) = (envs.step(&actions), restored.step(&actions));
            for i in 0..3 {
                let fa = fingerprint(&a.obs[i], a.rewards[i], a.terminated[i], a.truncated[i], &a.infos[i]);
                let fb = fingerprint(&b.obs[i], b.rewards[i], b.terminated[i], b.truncated[i], &b.infos[i]);
                assert_eq!(fa, fb, "{name} env {i}");
                assert_eq!(a.episodes[i], b.episodes[i]);
                ended += a.episodes[i].is_some() as usize;
            }
        }
        assert!(ended > 0 || name == "highway", "{name}: the test crosses episode ends");
        // A snapshot of another number of envs, or of an episode this scenario cannot have had,
        // is refused.
        let mut two = VecEnv::new(scenario.clone(), 2, 0);
        assert!(two.restore(&envs.snapshot()).unwrap_err().to_string().contains("3 envs"));
        let mut long = envs.snapshot();
        long.envs[0].controls = vec![[0.0, -1.0]; 100_000];
        assert!(restored.restore(&long).unwrap_err().to_string().contains("env 0"));
    }
}

/// With autoreset off, an ended env stays at its last step until the caller resets it, and that
/// reset (seeded or continuing the stream) gives exactly what a single env's reset gives.
#[test]
fn without_autoreset_the_caller_resets_and_the_trajectory_is_the_single_envs() {
    let scenario = shipped("tiny");
    let (seed, steps) = (7, 260);
    let single = single_trace(&scenario, seed, 11, steps);
    let mut envs = VecEnv::new(scenario.clone(), 1, seed);
    envs.set_autoreset(false);
    envs.reset(seed);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut trace = Vec::new();
    let mut ended = 0;
    for _ in 0..steps {
        let step = envs.step(&[rng.random_range(0..envs.num_actions())]);
        assert!(step.final_obs[0].is_none(), "no final observation: the observation is the last one");
        trace.push(fingerprint(
            &step.obs[0],
            step.rewards[0],
            step.terminated[0],
            step.truncated[0],
            &step.infos[0],
        ));
        if step.terminated[0] || step.truncated[0] {
            ended += 1;
            assert!(step.episodes[0].is_some(), "the episode's statistics are still reported");
            let (_, info) = envs.try_reset(Reset::These(&[(0, None)]), None).unwrap().remove(0);
            assert_eq!(info.episode_step, 0);
        }
    }
    assert!(ended >= 2, "the test covers resets ({ended})");
    assert_eq!(trace, single);
    // A seeded reset restarts the stream: the same first state as a fresh env with that seed.
    let (first, _) = envs.try_reset(Reset::These(&[(0, Some(99))]), None).unwrap().remove(0);
    let (fresh, _) = Env::new(scenario.clone(), 99).reset(Some(99));
    assert_eq!(first.state.to_array().map(f32::to_bits), fresh.state.to_array().map(f32::to_bits));
}
