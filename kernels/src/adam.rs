//! Adam fused into one pass over each parameter on burn-flex: burn's `Adam` takes about ten
//! whole-tensor operations per parameter per step, each reading and writing a fresh tensor, which
//! for the Nature CNN's 1.7 M parameters cost more than its convolutions' arithmetic. This is the
//! same optimiser: the same state type (so checkpoints are interchangeable with burn's Adam), the
//! same f32 operations in the same order (so the same bits), in one loop. On other backends it is
//! burn's Adam itself.

use crate::flex::{flex_tensor, owned, values, wrap};
use burn::backend::DispatchDevice;
use burn::backend::flex::FlexTensor;
use burn::optim::{Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::tensor::{DType, Device, Tensor};
use rayon::prelude::*;

/// Adam without weight decay or AMSGrad (what Lepton's learners use), fused on flex.
#[derive(Clone)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    reference: Adam,
}

impl FusedAdam {
    pub fn new(beta_1: f32, beta_2: f32, epsilon: f32) -> Self {
        let reference =
            AdamConfig::new().with_beta_1(beta_1).with_beta_2(beta_2).with_epsilon(epsilon).build();
        Self { beta_1, beta_2, epsilon, reference }
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let fused = !crate::burns()
            && matches!(tensor.device().as_dispatch(), DispatchDevice::Flex(_))
            && tensor.dtype() == DType::F32
            && grad.dtype() == DType::F32
            && state.as_ref().is_none_or(|s| s.momentum.max_moment_2.is_none());
        if !fused {
            return self.reference.step(lr, tensor, grad, state);
        }
        // Written in place where this step holds the only reference (the moments, usually),
        // into one fresh buffer otherwise (the parameter, which the old module still holds).
        let (mut param, grad) = (owned(flex_tensor(tensor)), flex_tensor(grad));
        let grad = values(&grad);
        let zeros = || FlexTensor::zeros(param.layout().shape().clone(), DType::F32);
        let (time, mut m1, mut m2, first) = match state {
            Some(AdamState { momentum: s }) => {
                (s.time + 1, owned(flex_tensor(s.moment_1)), owned(flex_tensor(s.moment_2)), false)
            }
            None => (1, zeros(), zeros(), true),
        };
        let (b1, b2, f1, f2) = (self.beta_1, self.beta_2, 1.0 - self.beta_1, 1.0 - self.beta_2);
        // burn's order of operations, written out (adam.rs, AdaptiveMomentum::transform and
        // Adam::step): the same roundings give the same bits.
        let bias_correction2_sqrt = (1.0 - b2.powi(time as i32)).sqrt();
        let combined = bias_correction2_sqrt / (1.0 - b1.powi(time as i32));
        let eps = self.epsilon * bias_correction2_sqrt;
        let lr = lr as f32;
        const CHUNK: usize = 1 << 14;
        let (p, m1s, m2s) = (param.storage_mut::<f32>(), m1.storage_mut::<f32>(), m2.storage_mut::<f32>());
        p.par_chunks_mut(CHUNK)
            .zip(m1s.par_chunks_mut(CHUNK))
            .zip(m2s.par_chunks_mut(CHUNK))
            .zip(grad.par_chunks(CHUNK))
            .for_each(|(((p, m1), m2), g)| {
                // Indices into slices of one proven length: no bounds checks, so the loops run in
                // SIMD vectors (the same IEEE operations per element, so the same bits).
                let n = p.len();
                let (m1, m2, g) = (&mut m1[..n], &mut m2[..n], &g[..n]);
                if first {
                    for i in 0..n {
                        m1[i] = g[i] * f1;
                        m2[i] = (g[i] * g[i]) * f2;
                    }
                } else {
                    for i in 0..n {
                        m1[i] = m1[i] * b1 + g[i] * f1;
                        m2[i] = m2[i] * b2 + (g[i] * g[i]) * f2;
                    }
                }
                for i in 0..n {
                    let update = (m1[i] * combined) / (m2[i].sqrt() + eps);
                    p[i] -= update * lr;
                }
            });
        let momentum =
            AdaptiveMomentumState { time, moment_1: wrap(m1), moment_2: wrap(m2), max_moment_2: None };
        (wrap(param), Some(AdamState { momentum }))
    }

    fn to_device<const D: usize>(state: AdamState<D>, device: &Device) -> AdamState<D> {
        Adam::to_device(state, device)
    }
}
