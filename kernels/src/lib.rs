//! Lepton's CPU kernels for its networks: convolution as one unfolded patch matrix (space to depth
//! where the stride divides the kernel, in the matrix product's own layout) and a tuned product per
//! sample ([`conv`]), dense layers whose gradients read their operands transposed in place
//! ([`mod@linear`]), both with an optional fused ReLU, offered to burn as backend extensions with their
//! own backward passes ([`extension`]), so the networks stay burn modules and every other backend
//! keeps burn's own; and Adam, Polyak averaging and gradient clipping fused into single passes.

pub mod adam;
pub mod blend;
pub mod clip;
pub mod conv;
pub mod extension;
mod flex;
mod gemm;
pub mod linear;

use burn::backend::Dispatch;
use burn::backend::ops::ConvOptions;
use burn::nn::Linear;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use extension::{ConvBackend, LinearBackend};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whose kernels [`conv2d`], [`adam::FusedAdam`] and [`blend::blend`] run on the CPU: this crate's (the default) or
/// burn's own, the same functions, for measuring one against the other (`lepton bench train
/// --kernels burn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    #[default]
    Lepton,
    Burn,
}

static BURNS: AtomicBool = AtomicBool::new(false);

/// Chooses the kernels for the whole process.
pub fn use_kernels(kernels: Kernels) {
    BURNS.store(kernels == Kernels::Burn, Ordering::Relaxed);
}

pub(crate) fn burns() -> bool {
    BURNS.load(Ordering::Relaxed)
}

/// `conv.forward(x)`, the same function: on burn-flex (with autodiff or without) by this crate's
/// kernel, elsewhere by burn's.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv2d_then(conv, x, false)
}

/// `relu(conv.forward(x))`, the ReLU applied by the kernel as it writes the output (and its mask
/// applied to the gradient as the backward pass reads it) rather than as two more passes.
pub fn conv2d_relu(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv2d_then(conv, x, true)
}

fn conv2d_then(conv: &Conv2d, x: Tensor<4>, relu: bool) -> Tensor<4> {
    let (Some(bias), Some(padding), false) = (&conv.bias, explicit_padding(&conv.padding), burns()) else {
        let y = conv.forward(x);
        return if relu { burn::tensor::activation::relu(y) } else { y };
    };
    let options = ConvOptions::new_with_padding(conv.stride, padding, conv.dilation, conv.groups);
    Tensor::from_dispatch(<Dispatch as ConvBackend>::conv2d_with_bias(
        x.into_dispatch(),
        conv.weight.val().into_dispatch(),
        bias.val().into_dispatch(),
        options,
        relu,
    ))
}

/// `layer.forward(x)` for a batch of rows, the same function: on burn-flex by this crate's kernel,
/// elsewhere by burn's.
pub fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    linear_then(layer, x, false)
}

/// `relu(layer.forward(x))`, fused as in [`conv2d_relu`].
pub fn linear_relu(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    linear_then(layer, x, true)
}

fn linear_then(layer: &Linear, x: Tensor<2>, relu: bool) -> Tensor<2> {
    let (Some(bias), false) = (&layer.bias, burns()) else {
        let y = layer.forward(x);
        return if relu { burn::tensor::activation::relu(y) } else { y };
    };
    Tensor::from_dispatch(<Dispatch as LinearBackend>::linear_with_bias(
        x.into_dispatch(),
        layer.weight.val().into_dispatch(),
        bias.val().into_dispatch(),
        relu,
    ))
}

/// (begin, end) padding per axis where it does not depend on the input size.
fn explicit_padding(padding: &PaddingConfig2d) -> Option<[(usize, usize); 2]> {
    match *padding {
        PaddingConfig2d::Valid => Some([(0, 0), (0, 0)]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => Some([(top, bottom), (left, right)]),
        PaddingConfig2d::Same => None,
    }
}

/// Deterministic test inputs in [−0.5, 0.5), the same on every machine.
#[cfg(test)]
mod test_values {
    pub fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / (1 << 24) as f32
                    - 0.5
            })
            .collect()
    }
}
