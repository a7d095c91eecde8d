//! How an agent explores around its greedy choice.
//!
//! ε-greedy draws a fresh random action for one step at a time. A manoeuvre that takes many steps
//! of the same action in a row (a lane change: a second of steering one way) is then almost never
//! tried: five actions and ten steps in a row is one chance in ten million. Temporally-extended
//! ε-greedy, εz-greedy (Dabney, Ostrovski & Barreto, "Temporally-Extended ε-Greedy Exploration",
//! ICLR 2021), keeps the rate ε but holds each random action for a duration drawn from a
//! heavy-tailed zeta distribution, P(n) ∝ n^−μ: mostly one or two steps, now and then tens.

use lepton_artifacts::InvalidField;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The exploration rule; its rate ε comes from the agent's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub enum Exploration {
    /// With probability ε a uniformly random action for this step.
    #[default]
    EpsilonGreedy,
    /// εz-greedy: when no random run is under way, with probability ε start one: a uniformly
    /// random action held for n steps, n ~ zeta(`mu`) on 1..=`max_steps`. A run ends early
    /// when the episode does.
    Temporal { mu: f64, max_steps: u32 },
}

impl Exploration {
    /// Checks the values; the message names the field under `path`.
    pub fn validate(&self, path: &str) -> Result<(), InvalidField> {
        if let Exploration::Temporal { mu, max_steps } = *self {
            if !(mu > 1.0 && mu <= 10.0) {
                return Err(InvalidField::new(format!("{path}.mu"), "must be in (1, 10]"));
            }
            if !(1..=10_000).contains(&max_steps) {
                return Err(InvalidField::new(format!("{path}.max_steps"), "must be 1 to 10000"));
            }
        }
        Ok(())
    }
}

/// A random action being held: `left` more steps of `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HeldAction {
    pub action: u32,
    pub left: u32,
}

/// The exploring half of acting, one slot per env (or per car of a multi-agent run).
#[derive(Debug, Clone, PartialEq)]
pub struct Explorer {
    /// The duration's cumulative distribution: `cdf[n − 1]` = P(duration ≤ n); empty for
    /// ε-greedy, whose random actions last one step.
    cdf: Vec<f64>,
    held: Vec<HeldAction>,
}

impl Explorer {
    pub fn new(rule: Exploration, slots: usize) -> Self {
        let cdf = match rule {
            Exploration::EpsilonGreedy => Vec::new(),
            Exploration::Temporal { mu, max_steps } => {
                let weights: Vec<f64> = (1..=max_steps).map(|n| (n as f64).powf(-mu)).collect();
                let total: f64 = weights.iter().sum();
                weights
                    .iter()
                    .scan(0.0, |sum, w| {
                        *sum += w / total;
                        Some(*sum)
                    })
                    .collect()
            }
        };
        Self { cdf, held: vec![HeldAction::default(); slots] }
    }

    /// Each slot's run under way (for checkpoints).
    pub fn held(&self) -> &[HeldAction] {
        &self.held
    }

    /// Puts back the runs of a checkpoint; the wrong number of slots is an error.
    pub fn restore(&mut self, held: Vec<HeldAction>) -> Result<(), String> {
        if held.len() != self.held.len() {
            return Err(format!("{} exploration runs saved for {} envs", held.len(), self.held.len()));
        }
        self.held = held;
        Ok(())
    }

    /// The action of every slot: `greedy[i]` unless exploring. `starts[i]` says that slot `i`
    /// begins an episode, which ends a run under way. ε-greedy makes two draws per slot, always,
    /// so its RNG stream does not depend on ε; εz-greedy draws the same two when no run is held,
    /// a third for the duration when it starts one, and none while one is held.
    pub fn act(
        &mut self,
        greedy: &[usize],
        starts: &[bool],
        epsilon: f64,
        actions: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<usize> {
        let mut chosen = Vec::with_capacity(greedy.len());
        for (i, &best) in greedy.iter().enumerate() {
            let held = &mut self.held[i];
            if starts.get(i).copied().unwrap_or(false) {
                *held = HeldAction::default();
            }
            if held.left > 0 {
                held.left -= 1;
                chosen.push(held.action as usize);
                continue;
            }
            let explore = rng.random::<f64>() < epsilon;
            let random = rng.random_range(0..actions);
            if !explore {
                chosen.push(best);
                continue;
            }
            if !self.cdf.is_empty() {
                let u = rng.random::<f64>();
                let duration = self.cdf.partition_point(|&p| p < u).min(self.cdf.len() - 1) + 1;
                *held = HeldAction { action: random as u32, left: duration as u32 - 1 };
            }
            chosen.push(random);
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn runs_of(rule: Exploration, epsilon: f64, steps: usize) -> Vec<usize> {
        // Greedy is action 0; every maximal run of one non-zero action is a random run (or
        // several of the same action back to back, rare with 50 actions).
        let mut explorer = Explorer::new(rule, 1);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut runs = Vec::new();
        let mut current = (0, 0);
        for _ in 0..steps {
            let a = explorer.act(&[0], &[false], epsilon, 50, &mut rng)[0];
            if a != 0 && a == current.0 {
                current.1 += 1;
            } else {
                if current.0 != 0 {
                    runs.push(current.1);
                }
                current = (a, 1);
            }
        }
        runs
    }

    #[test]
    fn epsilon_greedy_explores_one_step_at_a_time_at_rate_epsilon() {
        let runs = runs_of(Exploration::EpsilonGreedy, 0.1, 100_000);
        let random_steps: usize = runs.iter().sum();
        // 49 of 50 random actions differ from the greedy one.
        assert!((random_steps as f64 / 100_000.0 - 0.1 * 0.98).abs() < 0.005, "{random_steps}");
        assert!(runs.iter().filter(|&&n| n >= 3).count() < runs.len() / 100);
    }

    #[test]
    fn temporal_exploration_holds_actions_for_zeta_distributed_durations() {
        let rule = Exploration::Temporal { mu: 2.0, max_steps: 100 };
        let runs = runs_of(rule, 0.02, 200_000);
        let n = runs.len() as f64;
        // P(1) = 1/ζ(2) ≈ 0.608 (truncated at 100: 0.614); P(n ≥ 10) ≈ 0.06.
        let ones = runs.iter().filter(|&&k| k == 1).count() as f64 / n;
        assert!((ones - 0.614).abs() < 0.04, "{ones}");
        let long = runs.iter().filter(|&&k| k >= 10).count() as f64 / n;
        assert!((0.04..0.09).contains(&long), "{long}");
        assert!(runs.iter().all(|&k| k <= 100));
        assert!(runs.iter().any(|&k| k >= 40));
    }

    #[test]
    fn an_episode_start_ends_the_run_and_the_runs_restore() {
        let rule = Exploration::Temporal { mu: 1.01, max_steps: 1000 };
        let mut explorer = Explorer::new(rule, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // ε = 1 starts a run in both slots at once.
        let first = explorer.act(&[0, 0], &[false, false], 1.0, 9, &mut rng);
        let held = explorer.held().to_vec();
        assert_eq!(held.iter().map(|h| h.action as usize).collect::<Vec<_>>(), first);
        let mut copy = Explorer::new(rule, 2);
        copy.restore(held.clone()).unwrap();
        assert!(copy.restore(vec![HeldAction::default()]).is_err());
        let mut rng_copy = rng.clone();
        // Held runs repeat their action whatever ε and the greedy action say.
        let slot = (0..2).find(|&i| held[i].left > 0).expect("μ near 1 holds a run");
        let next = explorer.act(&[5, 5], &[false, false], 0.0, 9, &mut rng);
        assert_eq!(next[slot], first[slot]);
        assert_eq!(copy.act(&[5, 5], &[false, false], 0.0, 9, &mut rng_copy), next);
        // A new episode drops the run: with ε = 0 the greedy action comes back.
        assert_eq!(explorer.act(&[5, 5], &[true, true], 0.0, 9, &mut rng), vec![5, 5]);
    }

    #[test]
    fn bad_values_name_their_field() {
        let paper = Exploration::Temporal { mu: 2.0, max_steps: 100 };
        assert!(paper.validate("dqn.exploration").is_ok());
        let bad = Exploration::Temporal { mu: 1.0, max_steps: 10 }.validate("dqn.exploration");
        assert_eq!(bad.unwrap_err().field, "dqn.exploration.mu");
        let bad = Exploration::Temporal { mu: 2.0, max_steps: 0 }.validate("dqn.exploration");
        assert_eq!(bad.unwrap_err().field, "dqn.exploration.max_steps");
    }
}
