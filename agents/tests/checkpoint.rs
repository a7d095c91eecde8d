//! A DQN agent written to a checkpoint and read back continues exactly: same Q-values, and the
//! same next update (so the optimiser state and the replay buffer came back too).

use burn::prelude::Device;
use lepton_agents::dqn::DqnConfig;
use lepton_agents::run::checkpoint::{self, TrainerState};
use lepton_agents::{Agent, AgentConfig, Experience};
use lepton_perception::{DrivingState, Percept, PerceptShape};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn state(i: u32) -> Percept {
    let s = DrivingState {
        lane_offset: (i as f32 * 0.37).sin(),
        speed: 5.0 + (i % 7) as f32,
        ..Default::default()
    };
    Percept::State(s)
}

fn step(agent: &mut dyn Agent, i: u32, start: bool, action: usize, reward: f32, end: bool) {
    let (now, next) = (state(i), state(i + 1));
    agent.observe(
        0,
        &Experience {
            percept: &now,
            episode_start: start,
            action,
            reward,
            terminated: end,
            truncated: false,
            next: &next,
        },
    );
}

#[test]
fn a_dqn_checkpoint_round_trips_and_resumes_exactly() {
    let mut dqn = DqnConfig {
        learning_starts: 0,
        batch_size: 8,
        buffer_size: 1_000,
        train_frequency: 1,
        prioritized: true,
        ..DqnConfig::default()
    };
    dqn.network.hidden = vec![16];
    let config = AgentConfig::Dqn(dqn);
    let device = Device::flex();
    let build = || config.build(PerceptShape::State, 3, 1, 10_000, 0, &device).unwrap();
    let mut agent = build();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for i in 0..60u32 {
        step(agent.as_mut(), i, i % 17 == 0, (i % 3) as usize, 0.1 * i as f32, i % 17 == 16);
        agent.train(i as u64, i as u64 + 1, &mut rng);
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
        metrics_rows: 0,
    };
    checkpoint::save_agent(&dir, &trainer_state, agent.as_ref(), true, &[]).unwrap();

    let mut restored = build();
    let opened = checkpoint::Checkpoint::open(&checkpoint::locate(&dir).unwrap()).unwrap();
    opened.load_agent(restored.as_mut(), true).unwrap();
    let mut rng2 = opened.state.rng.clone();
    assert_eq!(restored.updates(), agent.updates());

    let probe: Vec<Percept> = (100..104).map(state).collect();
    assert_eq!(agent.q_values(&probe), restored.q_values(&probe));
    assert_eq!(agent.greedy(&probe), restored.greedy(&probe));

    // The next updates match bit for bit: same samples (replay + RNG), same Adam moments.
    for i in 60..70u32 {
        for a in [&mut agent, &mut restored] {
            step(a.as_mut(), i, false, 1, 0.5, false);
        }
        let s1 = agent.train(i as u64, i as u64 + 1, &mut rng).unwrap();
        let s2 = restored.train(i as u64, i as u64 + 1, &mut rng2).unwrap();
        assert_eq!(s1.loss, s2.loss, "update {i}");
        assert_eq!(s1.mean_q, s2.mean_q);
    }
    std::fs::remove_dir_all(dir).unwrap();
}
