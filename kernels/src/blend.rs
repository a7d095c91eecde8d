//! Polyak averaging of a target network, θ' ← τ·θ + (1 − τ)·θ', in one pass per parameter on
//! burn-flex (burn's tensor operations take three passes and two fresh tensors), written in place
//! where the target holds the only reference. The same f32 operations in the same order as
//! `target * (1 − τ) + online * τ`, so the same bits.

use crate::flex::{flex_tensor, owned, values, wrap};
use burn::backend::DispatchDevice;
use burn::tensor::{DType, Tensor};

/// `target * (1 − tau) + online * tau`, element by element (`online` reshaped to `target`).
pub fn blend<const D: usize>(target: Tensor<D>, online: Tensor<1>, tau: f32) -> Tensor<D> {
    let fused = !crate::burns()
        && matches!(target.device().as_dispatch(), DispatchDevice::Flex(_))
        && matches!(online.device().as_dispatch(), DispatchDevice::Flex(_))
        && target.dtype() == DType::F32
        && online.dtype() == DType::F32
        && target.shape().num_elements() == online.shape().num_elements();
    if !fused {
        let dims = target.dims();
        return target * (1.0 - tau) + online.reshape(dims) * tau;
    }
    let mut target = owned(flex_tensor(target));
    let online = flex_tensor(online);
    let online = values(&online);
    let keep = 1.0 - tau;
    for (t, o) in target.storage_mut::<f32>().iter_mut().zip(online.iter()) {
        *t = *t * keep + *o * tau;
    }
    wrap(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn the_fused_blend_is_burns_bit_for_bit_and_leaves_the_online_network_alone() {
        let device = Device::flex();
        let target = Tensor::<2>::random([37, 53], Distribution::Uniform(-1.0, 1.0), &device);
        let online = Tensor::<1>::random([37 * 53], Distribution::Uniform(-1.0, 1.0), &device);
        let tau = 0.005;
        let reference = target.clone() * (1.0 - tau) + online.clone().reshape([37, 53]) * tau;
        let before = online.to_data();
        // `target` is shared with the line above: the fused blend must not write into it.
        let fused = blend(target.clone(), online.clone(), tau);
        assert_eq!(
            fused.to_data().try_to_vec::<f32>().unwrap(),
            reference.to_data().try_to_vec::<f32>().unwrap()
        );
        assert_eq!(online.to_data(), before);
        // And alone, in place.
        let alone = blend(target.clone().add_scalar(0.0), online, tau);
        assert_eq!(
            alone.into_data().try_to_vec::<f32>().unwrap(),
            reference.into_data().try_to_vec::<f32>().unwrap()
        );
    }
}
