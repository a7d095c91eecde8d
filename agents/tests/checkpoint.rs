//! A DQN agent written to a checkpoint and read back continues exactly: same Q-values, and the
//! same next update (so the optimiser state and the replay buffer came back too).

use burn::prelude::Device;
use lepton_agents::dqn::InputShape;
use lepton_agents::train::agent::Agent;
use lepton_agents::train::checkpoint::{self, TrainerState};
use lepton_agents::train::observe::{Encoded, Stack};
use lepton_agents::train::{AgentKind, RunConfig};
use lepton_perception::DrivingState;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn state(i: u32) -> Encoded {
    let s = DrivingState {
        lane_offset: (i as f32 * 0.37).sin(),
        speed: 5.0 + (i % 7) as f32,
        ..Default::default()
    };
    Encoded::State(s, s.to_vec().to_vec())
}

#[test]
fn a_dqn_checkpoint_round_trips_and_resumes_exactly() {
    let mut config = RunConfig { agent: AgentKind::Dqn, envs: 1, steps: 10_000, ..RunConfig::default() };
    config.dqn.learning_starts = 0;
    config.dqn.batch_size = 8;
    config.dqn.buffer_size = 1_000;
    config.dqn.train_frequency = 1;
    config.dqn.prioritized = true;
    config.dqn.network.hidden = vec![16];
    let device = Device::flex();
    let input = InputShape::Vector(DrivingState::LEN);
    let mut agent = Agent::new(&config, input, 3, &device).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for i in 0..60u32 {
        let end = i % 17 == 16;
        agent.observe(
            &config,
            0,
            &state(i),
            i % 17 == 0,
            (i % 3) as usize,
            0.1 * i as f32,
            end,
            false,
            &state(i + 1),
        );
        agent.train(&config, i as u64, i as u64 + 1, &mut rng);
    }
    let dir = std::env::temp_dir().join(format!("lepton-agent-ckpt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let trainer_state = TrainerState {
        step: 60,
        updates: agent.updates(),
        episodes: 3,
        rng: rng.clone(),
        best_eval: None,
        next_eval: 100,
        next_checkpoint: 120,
        next_log: 80,
    };
    agent.save(&dir, &trainer_state, true).unwrap();

    let mut restored = Agent::new(&config, input, 3, &device).unwrap();
    restored.load(&checkpoint::locate(&dir).unwrap(), true).unwrap();
    let mut rng2 = checkpoint::load_state(&dir).unwrap().rng;
    assert_eq!(restored.updates(), agent.updates());

    let probe: Vec<Encoded> = (100..104).map(state).collect();
    let stacks = vec![Stack::default(); probe.len()];
    let q = |a: &Agent| a.greedy(&a.inputs(&config, &probe, &stacks));
    assert_eq!(q(&agent), q(&restored));

    // The next updates match bit for bit: same samples (replay + RNG), same Adam moments.
    for i in 60..70u32 {
        for a in [&mut agent, &mut restored] {
            a.observe(&config, 0, &state(i), false, 1, 0.5, false, false, &state(i + 1));
        }
        let s1 = agent.train(&config, i as u64, i as u64 + 1, &mut rng).unwrap();
        let s2 = restored.train(&config, i as u64, i as u64 + 1, &mut rng2).unwrap();
        assert_eq!(s1.loss, s2.loss, "update {i}");
        assert_eq!(s1.mean_q, s2.mean_q);
    }
    std::fs::remove_dir_all(dir).unwrap();
}
