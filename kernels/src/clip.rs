//! The two halves of clipping gradients by their global norm, each one pass over a parameter's
//! gradient on burn-flex: burn's `g.powf_scalar(2).sum()` writes a fresh tensor and raises every
//! element to a float power, and `g * s` writes another; on the Nature CNN's 1.7 M gradients the
//! two cost more than a forward pass's first convolution. Elsewhere they are burn's operations.

use crate::flex::{flex_tensor, owned, values, wrap};
use burn::backend::DispatchDevice;
use burn::tensor::{DType, Tensor};
use rayon::prelude::*;

fn fused<const D: usize>(t: &Tensor<D>) -> bool {
    !crate::burns() && matches!(t.device().as_dispatch(), DispatchDevice::Flex(_)) && t.dtype() == DType::F32
}

/// Σ g², summed in f64 over fixed chunks added in order: the same bits on any number of threads.
pub fn sum_squares<const D: usize>(g: &Tensor<D>) -> f64 {
    if !fused(g) {
        return g.clone().powf_scalar(2.0).sum().into_scalar::<f32>() as f64;
    }
    let g = flex_tensor(g.clone());
    let values = values(&g);
    const CHUNK: usize = 1 << 14;
    let chunks: Vec<f64> = values
        .par_chunks(CHUNK)
        .map(|chunk| chunk.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>())
        .collect();
    chunks.iter().sum()
}

/// `g * factor`, in place where nothing else holds `g`'s storage.
pub fn scale<const D: usize>(g: Tensor<D>, factor: f32) -> Tensor<D> {
    if !fused(&g) {
        return g * factor;
    }
    let mut g = owned(flex_tensor(g));
    g.storage_mut::<f32>().par_iter_mut().for_each(|v| *v *= factor);
    wrap(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn fused_clipping_halves_match_burns_operations() {
        let device = Device::flex();
        let g = Tensor::<2>::random([300, 129], Distribution::Uniform(-1.0, 1.0), &device);
        let exact: f64 = g.to_data().iter::<f32>().map(|v| (v as f64) * (v as f64)).sum();
        assert!((sum_squares(&g) - exact).abs() < 1e-9 * exact, "{} vs {exact}", sum_squares(&g));
        let reference = (g.clone() * 0.25).into_data();
        let before = g.to_data();
        // `g` is still held here: the scaled copy must not write into it.
        assert_eq!(scale(g.clone(), 0.25).into_data(), reference);
        assert_eq!(g.to_data(), before);
        assert_eq!(scale(g, 0.25).into_data(), reference, "alone, in place");
    }
}
