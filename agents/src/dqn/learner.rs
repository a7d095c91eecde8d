//! The DQN learner, one update top to bottom:
//! 1. value the bootstrap observations with the target network (Double DQN: the online network
//!    picks the action, the target values it);
//! 2. y = R⁽ⁿ⁾ + γᵐ · Q_target(s_{t+m}, a*), with no bootstrap where the episode terminated
//!    (a truncated episode still bootstraps: time ran out, the task did not end);
//! 3. Huber(Q(s_t, a_t) − y), weighted by the importance weights, averaged;
//! 4. Adam step with gradient-norm clipping; new priorities |δ|;
//! 5. target network follows: a hard copy every C updates, or Polyak averaging every update.

use super::config::{DqnConfig, TargetUpdate};
use super::network::{FramesTooSmall, InputShape, QNetwork};
use crate::agent::UpdateStats;
use crate::replay::Batch;
use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use lepton_kernels::adam::FusedAdam;
use lepton_perception::cnn::model::number_parameters;
use std::collections::HashMap;

/// y for each sampled transition, from the bootstrap Q-values of the target network and, for
/// Double DQN, of the online network (both [batch × actions], row-major).
pub fn td_targets(
    batch: &Batch,
    actions: usize,
    target_next: &[f32],
    online_next: Option<&[f32]>,
) -> Vec<f32> {
    (0..batch.size)
        .map(|i| {
            let row = &target_next[i * actions..(i + 1) * actions];
            let chooser = online_next.map_or(row, |q| &q[i * actions..(i + 1) * actions]);
            let best = (0..actions).fold(0, |b, a| if chooser[a] > chooser[b] { a } else { b });
            batch.returns[i] + batch.discounts[i] * row[best]
        })
        .collect()
}

pub struct DqnLearner {
    pub online: QNetwork,
    pub target: QNetwork,
    pub optimizer: ModuleOptimizer,
    pub input: InputShape,
    pub actions: usize,
    pub config: DqnConfig,
    /// The plain device (inference); `online` lives on its autodiff twin.
    pub device: Device,
    pub updates: u64,
    /// The step size of the next update (the agent anneals it, see `DqnConfig::learning_rate_at`).
    pub learning_rate: f64,
    /// Where the updates' time went.
    pub profile: UpdateProfile,
}

/// The phases of one update, in order.
pub const UPDATE_PHASES: [&str; 7] =
    ["inputs", "target_next", "online_next", "forward_loss", "backward", "clip", "optimizer"];

/// Wall-clock seconds spent in each of [`UPDATE_PHASES`] over `updates` updates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateProfile {
    pub updates: u64,
    pub seconds: [f64; UPDATE_PHASES.len()],
}

impl UpdateProfile {
    /// Milliseconds per update in each phase.
    pub fn per_update_ms(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        let n = self.updates.max(1) as f64;
        UPDATE_PHASES.iter().zip(&self.seconds).map(move |(&name, &s)| (name, 1e3 * s / n))
    }
}

/// Charges the time since the last lap to a phase.
struct Laps<'a> {
    profile: &'a mut UpdateProfile,
    last: std::time::Instant,
}

impl Laps<'_> {
    fn lap(&mut self, phase: usize) {
        let now = std::time::Instant::now();
        self.profile.seconds[phase] += (now - self.last).as_secs_f64();
        self.last = now;
    }
}

impl DqnLearner {
    pub fn new(
        input: InputShape,
        actions: usize,
        config: &DqnConfig,
        device: &Device,
        seed: u64,
    ) -> Result<Self, FramesTooSmall> {
        device.seed(seed);
        let train_device = device.clone().autodiff();
        // Parameter ids numbered in order, so the same seed writes byte-identical checkpoints.
        let online = number_parameters(QNetwork::new(input, actions, &config.network, &train_device)?);
        let target = online.valid();
        Ok(Self {
            online,
            target,
            optimizer: Self::optimizer(config),
            input,
            actions,
            config: config.clone(),
            device: device.clone(),
            updates: 0,
            learning_rate: config.learning_rate,
            profile: UpdateProfile::default(),
        })
    }

    /// Adam (β = 0.9, 0.999, ε = 1e-8), fused into one pass per parameter on the CPU; gradients
    /// are clipped by their global norm in [`clip_global_norm`] before it.
    pub fn optimizer(_config: &DqnConfig) -> ModuleOptimizer {
        ModuleOptimizer::from(FusedAdam::new(0.9, 0.999, 1e-8))
    }

    fn tensor(&self, values: Vec<f32>, rows: usize, device: &Device) -> Tensor<2> {
        let cols = values.len() / rows.max(1);
        Tensor::from_data(TensorData::new(values, [rows, cols]), device)
    }

    /// Q-values of `n` observations (flat), greedy network, no gradients.
    pub fn q_values(&self, obs: Vec<f32>, n: usize) -> Vec<f32> {
        let x = self.tensor(obs, n, &self.device);
        self.online.valid().forward(x, self.input).into_data().try_to_vec::<f32>().expect("f32 Q-values")
    }

    /// One gradient step on `batch`; returns its statistics and |δ| per sample. The batch is taken
    /// by value: its observations become the input tensors without a copy.
    pub fn update(&mut self, batch: Batch) -> (UpdateStats, Vec<f32>) {
        let mut profile = std::mem::take(&mut self.profile);
        let mut laps = Laps { profile: &mut profile, last: std::time::Instant::now() };
        let result = self.update_timed(batch, &mut laps);
        profile.updates += 1;
        self.profile = profile;
        result
    }

    fn update_timed(&mut self, mut batch: Batch, laps: &mut Laps) -> (UpdateStats, Vec<f32>) {
        let n = batch.size;
        let train_device = self.device.clone().autodiff();
        let next = self.tensor(std::mem::take(&mut batch.next_obs), n, &self.device);
        let obs = self.tensor(std::mem::take(&mut batch.obs), n, &train_device);
        let batch = &batch;
        laps.lap(0);
        let target_next: Vec<f32> =
            self.target.forward(next.clone(), self.input).into_data().try_to_vec().expect("f32 Q-values");
        laps.lap(1);
        let online_next: Option<Vec<f32>> = self.config.double.then(|| {
            self.online.valid().forward(next, self.input).into_data().try_to_vec().expect("f32 Q-values")
        });
        laps.lap(2);
        let y = td_targets(batch, self.actions, &target_next, online_next.as_deref());

        let q = self.online.forward(obs, self.input);
        let mut mask = vec![0.0f32; n * self.actions];
        for (i, &a) in batch.actions.iter().enumerate() {
            mask[i * self.actions + a] = 1.0;
        }
        let mask = self.tensor(mask, n, &train_device);
        let chosen = (q.clone() * mask).sum_dim(1); // [n, 1]
        let y_t = self.tensor(y.clone(), n, &train_device);
        let td = chosen.clone() - y_t;
        let delta = self.config.huber_delta;
        let abs = td.clone().abs();
        // Huber: ½δ² inside |δ| ≤ d, d·(|δ| − ½d) outside, written with a clamp so it stays smooth.
        let quadratic = abs.clone().clamp_max(delta);
        let huber = quadratic.clone() * quadratic.clone() * 0.5 + (abs - quadratic) * delta;
        let weights = self.tensor(batch.weights.clone(), n, &train_device);
        let loss = (huber * weights).mean();

        let loss_value: f32 = loss.clone().into_scalar::<f32>();
        let td_values: Vec<f32> = td.into_data().try_to_vec().expect("f32 TD errors");
        let mean_q = {
            let q: Vec<f32> = chosen.into_data().try_to_vec().expect("f32");
            q.iter().sum::<f32>() / n.max(1) as f32
        };
        laps.lap(3);
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.online);
        laps.lap(4);
        clip_global_norm(&self.online, &mut grads, self.config.max_grad_norm);
        laps.lap(5);
        // The module is moved into the step, not cloned, so that Adam can write the parameters in
        // place (the target's copy stands in for the moment; nothing reads it).
        let online = std::mem::replace(&mut self.online, self.target.clone());
        self.online = self.optimizer.step(self.learning_rate, online, grads);
        self.updates += 1;
        self.follow_target();
        laps.lap(6);
        (UpdateStats { loss: loss_value, mean_q }, td_values.iter().map(|d| d.abs()).collect())
    }

    fn follow_target(&mut self) {
        match self.config.target_update {
            TargetUpdate::Hard { every } => {
                if self.updates.is_multiple_of(every) {
                    self.target = self.online.valid();
                }
            }
            TargetUpdate::Polyak { tau } => {
                let online = self.online.valid();
                let mut collect = Collect(HashMap::new());
                online.visit(&mut collect);
                let target = std::mem::replace(&mut self.target, online);
                self.target = target.map(&mut Blend { online: collect.0, tau });
            }
        }
    }
}

/// Rescales all gradients together so that their global L2 norm is at most `max_norm` (as
/// `torch.nn.utils.clip_grad_norm_` does), keeping their direction.
pub fn clip_global_norm(module: &QNetwork, grads: &mut GradientsParams, max_norm: f32) -> f32 {
    struct SumSquares<'a>(&'a GradientsParams, f64);
    impl ModuleVisitor for SumSquares<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.0.get::<D>(param.id) {
                self.1 += lepton_kernels::clip::sum_squares(&g);
            }
        }
    }
    struct Scale<'a>(&'a mut GradientsParams, f32);
    impl ModuleVisitor for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.0.remove::<D>(param.id) {
                self.0.register(param.id, lepton_kernels::clip::scale(g, self.1));
            }
        }
    }
    let mut sum = SumSquares(grads, 0.0);
    module.visit(&mut sum);
    let norm = sum.1.sqrt() as f32;
    if norm > max_norm && norm.is_finite() {
        module.visit(&mut Scale(grads, max_norm / norm));
    }
    norm
}

/// Gathers every float parameter, flattened, by id.
struct Collect(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id, param.val().flatten(0, D - 1));
    }
}

/// θ' ← τ·θ + (1 − τ)·θ' for each parameter present in `online` (same ids: the target is a copy).
struct Blend {
    online: HashMap<ParamId, Tensor<1>>,
    tau: f32,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(online) = self.online.get(&param.id).cloned() else { return param };
        let tau = self.tau;
        // One fused pass on the CPU (lepton-kernels), burn's three operations elsewhere.
        param.map(|target| lepton_kernels::blend::blend(target, online, tau))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(returns: Vec<f32>, discounts: Vec<f32>) -> Batch {
        Batch { size: returns.len(), returns, discounts, ..Default::default() }
    }

    #[test]
    fn targets_bootstrap_unless_terminated() {
        // Two actions; sample 0 bootstraps with γ=0.9, sample 1 terminated (discount 0).
        let b = batch(vec![1.0, 2.0], vec![0.9, 0.0]);
        let target_next = [3.0, 5.0, 100.0, 100.0];
        let y = td_targets(&b, 2, &target_next, None);
        assert_eq!(y, vec![1.0 + 0.9 * 5.0, 2.0]);
    }

    #[test]
    fn double_dqn_lets_the_online_network_choose() {
        let b = batch(vec![0.0], vec![0.5]);
        let target_next = [4.0, 10.0];
        let online_next = [7.0, 1.0]; // online prefers action 0
        assert_eq!(td_targets(&b, 2, &target_next, Some(&online_next)), vec![2.0]);
        assert_eq!(td_targets(&b, 2, &target_next, None), vec![5.0], "plain DQN takes the target's max");
    }

    #[test]
    fn n_step_discounts_come_from_the_buffer() {
        // A 3-step return R = 1 + γ + γ² with γ = 0.5 bootstraps with γ³; a truncated episode
        // still bootstraps (its discount is not zero).
        let b = batch(vec![1.75, 1.0], vec![0.125, 0.5]);
        let y = td_targets(&b, 1, &[8.0, 2.0], None);
        assert_eq!(y, vec![1.75 + 1.0, 1.0 + 1.0]);
    }

    #[test]
    fn clipping_rescales_all_gradients_to_the_global_norm() {
        let device = Device::flex().autodiff();
        let net = QNetwork::new(InputShape::Vector(3), 2, &Default::default(), &device).unwrap();
        let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, -2.0, 3.0], [1, 3]), &device);
        let loss = net.forward(x, InputShape::Vector(3)).sum() * 100.0;
        let mut grads = GradientsParams::from_grads(loss.backward(), &net);
        let before = clip_global_norm(&net, &mut grads, 0.5);
        assert!(before > 0.5, "the test needs a large gradient, got {before}");
        let after = clip_global_norm(&net, &mut grads, 1e9);
        assert!((after - 0.5).abs() < 1e-3, "global norm after clipping: {after}");
    }

    #[test]
    fn an_update_moves_q_toward_the_target_and_polyak_blends() {
        let device = Device::flex();
        let config = DqnConfig {
            learning_rate: 1e-2,
            target_update: TargetUpdate::Polyak { tau: 0.5 },
            double: false,
            ..DqnConfig::default()
        };
        let mut learner = DqnLearner::new(InputShape::Vector(3), 2, &config, &device, 7).unwrap();
        let b = Batch {
            size: 4,
            obs: vec![0.1, 0.2, 0.3, 0.5, 0.1, 0.0, 0.9, 0.9, 0.2, 0.0, 0.0, 1.0],
            next_obs: vec![0.0; 12],
            actions: vec![0, 1, 0, 1],
            returns: vec![5.0; 4],
            discounts: vec![0.0; 4],
            weights: vec![1.0; 4],
            slots: vec![0, 1, 2, 3],
        };
        let (first, _) = learner.update(b.clone());
        for _ in 0..200 {
            learner.update(b.clone());
        }
        let (last, td) = learner.update(b.clone());
        assert!(last.loss < 0.1 * first.loss, "loss {} → {}", first.loss, last.loss);
        assert!(td.iter().all(|d| *d < 1.0), "{td:?}");
        assert!((last.mean_q - 5.0).abs() < 1.0, "Q → 5, got {}", last.mean_q);
        // Polyak with τ = 0.5 keeps the target between its old self and the online network.
        let online = learner.q_values(b.obs.clone(), 4);
        let x = learner.tensor(b.obs.clone(), 4, &device);
        let target: Vec<f32> = learner.target.forward(x, learner.input).into_data().try_to_vec().unwrap();
        assert!(online.iter().zip(&target).any(|(o, t)| (o - t).abs() > 1e-6), "target lags");
        assert!(online.iter().zip(&target).all(|(o, t)| (o - t).abs() < 2.0));
    }
}
