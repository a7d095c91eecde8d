//! The environment API in a few lines: one env driven by the keep-lane driver for an episode, then
//! a vector env of 16 worlds stepped in parallel. Run with
//! `cargo run --release -p lepton-sim --example env_api`.

use lepton_sim::drivers::KeepLane;
use lepton_sim::{Env, VecEnv, scenario};
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/lane_keep.ron");
    let scenario = Arc::new(scenario::load(path.as_ref())?);

    let mut env = Env::new(scenario.clone(), 7);
    let (mut obs, _info) = env.reset(Some(7));
    let vehicle = &scenario.ego.vehicle;
    let driver = KeepLane::new(12.0, vehicle.max_steer, vehicle.length);
    let mut episode_return = 0.0;
    let end = loop {
        let step = env.step(driver.act(&obs.state.driving, env.controls()));
        episode_return += step.reward;
        obs = step.obs;
        if step.terminated || step.truncated {
            break step.info;
        }
    };
    println!(
        "one episode: {:?} after {} steps, {:.0} m, return {episode_return:.2}",
        end.end.expect("an ended episode has a reason"),
        end.episode_step,
        end.progress
    );

    let mut envs = VecEnv::new(scenario, 16, 100);
    envs.reset(100);
    let mut ended = 0;
    for _ in 0..200 {
        let batch = envs.step(&[0; 16]); // action 0: straight ahead, throttle 0.6
        ended += batch.final_obs.iter().filter(|o| o.is_some()).count();
    }
    println!("16 envs × 200 steps of action 0: {ended} episodes ended and were reset");
    Ok(())
}
