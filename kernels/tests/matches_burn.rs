//! The kernels compute burn's functions: outputs and the gradients of input, weight and bias equal
//! burn's reference `Conv2d` and `Linear` (flex) within 1e-5 of their scale, for every layer shape
//! the shipped networks use (Nature CNN, perception CNN, MLP heads) and for odd sizes, paddings and
//! strides.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

struct Case {
    name: &'static str,
    batch: usize,
    channels: [usize; 2],
    size: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: usize,
}

const fn case(
    name: &'static str,
    batch: usize,
    channels: [usize; 2],
    size: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Case {
    Case {
        name,
        batch,
        channels,
        size: [size, size],
        kernel: [kernel, kernel],
        stride: [stride, stride],
        padding,
    }
}

const CASES: &[Case] = &[
    // DQN's Nature CNN on 4×84×84 stacks, batch 32.
    case("nature conv1", 32, [4, 32], 84, 8, 4, 0),
    case("nature conv2", 32, [32, 64], 20, 4, 2, 0),
    case("nature conv3", 32, [64, 64], 9, 3, 1, 0),
    // The perception CNN on 3×96×96 frames (its last layer keeps its size).
    case("perception conv1", 8, [3, 16], 96, 5, 2, 0),
    case("perception conv2", 8, [16, 32], 46, 3, 2, 0),
    case("perception conv3", 8, [32, 32], 22, 3, 2, 0),
    case("perception conv4", 8, [32, 64], 10, 3, 1, 1),
    // One sample (acting), odd sizes, rectangles, wide padding.
    case("one sample", 1, [4, 32], 84, 8, 4, 0),
    Case {
        name: "odd rectangle",
        batch: 3,
        channels: [5, 7],
        size: [13, 10],
        kernel: [3, 2],
        stride: [2, 3],
        padding: 2,
    },
    case("kernel the size of the input", 2, [3, 4], 5, 5, 1, 0),
];

fn flat(t: Tensor<4>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Largest difference, relative to the largest magnitude of the reference.
fn gap(reference: &[f32], ours: &[f32]) -> f32 {
    assert_eq!(reference.len(), ours.len());
    let scale = reference.iter().fold(1e-12f32, |m, v| m.max(v.abs()));
    reference.iter().zip(ours).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale
}

fn layer(c: &Case, device: &Device) -> Conv2d {
    Conv2dConfig::new(c.channels, c.kernel)
        .with_stride(c.stride)
        .with_padding(PaddingConfig2d::Explicit(c.padding, c.padding, c.padding, c.padding))
        .init(device)
}

#[test]
fn forward_and_backward_match_burns_convolution() {
    let device = Device::flex().autodiff();
    for c in CASES {
        let conv = layer(c, &device);
        let dims = [c.batch, c.channels[0], c.size[0], c.size[1]];
        let x = Tensor::<4>::random(dims, Distribution::Uniform(-1.0, 1.0), &device).require_grad();
        let reference = conv.forward(x.clone());
        let ours = lepton_kernels::conv2d(&conv, x.clone());
        assert_eq!(ours.dims(), reference.dims(), "{}", c.name);
        let forward = gap(&flat(reference.clone()), &flat(ours.clone()));
        assert!(forward <= 1e-5, "{}: outputs differ by {forward} of their scale", c.name);

        // A loss that weighs every output differently, so each gradient entry is checked.
        let weights = Tensor::<4>::random(reference.dims(), Distribution::Uniform(-1.0, 1.0), &device);
        let grads_of = |y: Tensor<4>| {
            let grads = (y * weights.clone()).sum().backward();
            let dx = flat(x.grad(&grads).expect("input gradient"));
            let dw = flat(conv.weight.grad(&grads).expect("weight gradient"));
            let db = conv.bias.as_ref().unwrap().grad(&grads).expect("bias gradient");
            (dx, dw, db.into_data().try_to_vec::<f32>().unwrap())
        };
        let (rx, rw, rb) = grads_of(reference);
        let (ox, ow, ob) = grads_of(ours);
        for (what, r, o) in [("input", rx, ox), ("weight", rw, ow), ("bias", rb, ob)] {
            let g = gap(&r, &o);
            assert!(g <= 1e-5, "{}: {what} gradients differ by {g} of their scale", c.name);
        }
    }
}

#[test]
fn without_autodiff_and_without_gradients_to_the_input_it_is_the_same_function() {
    let c = &CASES[0];
    for device in [Device::flex(), Device::flex().autodiff()] {
        let conv = layer(c, &device);
        let x = Tensor::<4>::random([2, 4, 84, 84], Distribution::Uniform(0.0, 1.0), &device);
        let g = gap(&flat(conv.forward(x.clone())), &flat(lepton_kernels::conv2d(&conv, x.clone())));
        assert!(g <= 1e-5, "{g}");
        if device.is_autodiff() {
            // The frames need no gradient; the weight still gets its own.
            let grads = lepton_kernels::conv2d(&conv, x.clone()).sum().backward();
            assert!(x.grad(&grads).is_none());
            assert!(conv.weight.grad(&grads).is_some());
        }
    }
}

#[test]
fn the_same_inputs_give_the_same_bits() {
    let device = Device::flex().autodiff();
    let c = &CASES[1];
    let conv = layer(c, &device);
    let x = Tensor::<4>::random([32, 32, 20, 20], Distribution::Uniform(0.0, 1.0), &device);
    let run = || {
        let grads = lepton_kernels::conv2d(&conv, x.clone()).powf_scalar(2.0).sum().backward();
        flat(conv.weight.grad(&grads).unwrap())
    };
    assert_eq!(run(), run());
}

#[test]
fn the_fully_connected_kernel_matches_burns_linear_forward_and_backward() {
    use burn::nn::LinearConfig;
    let device = Device::flex().autodiff();
    // (batch, in, out): the Nature CNN's hidden layer and head, the MLP's, the perception
    // CNN's hidden layer, one row (acting), odd sizes.
    for (batch, d_in, d_out) in
        [(32, 3136, 512), (32, 512, 9), (256, 7, 64), (64, 1600, 128), (1, 3136, 512), (3, 5, 7)]
    {
        let name = format!("linear {batch} × {d_in} → {d_out}");
        let layer = LinearConfig::new(d_in, d_out).init(&device);
        let x = Tensor::<2>::random([batch, d_in], Distribution::Uniform(-1.0, 1.0), &device).require_grad();
        let (reference, ours) = (layer.forward(x.clone()), lepton_kernels::linear(&layer, x.clone()));
        let flat2 = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
        let forward = gap(&flat2(reference.clone()), &flat2(ours.clone()));
        assert!(forward <= 1e-5, "{name}: outputs differ by {forward} of their scale");
        let weights = Tensor::<2>::random([batch, d_out], Distribution::Uniform(-1.0, 1.0), &device);
        let grads_of = |y: Tensor<2>| {
            let grads = (y * weights.clone()).sum().backward();
            let dx = flat2(x.grad(&grads).expect("input gradient"));
            let dw = flat2(layer.weight.grad(&grads).expect("weight gradient"));
            let db = layer.bias.as_ref().unwrap().grad(&grads).expect("bias gradient");
            (dx, dw, db.into_data().try_to_vec::<f32>().unwrap())
        };
        let (rx, rw, rb) = grads_of(reference);
        let (ox, ow, ob) = grads_of(ours);
        for (what, r, o) in [("input", rx, ox), ("weight", rw, ow), ("bias", rb, ob)] {
            let g = gap(&r, &o);
            assert!(g <= 1e-5, "{name}: {what} gradients differ by {g} of their scale");
        }
    }
}

#[test]
fn the_fused_relu_is_burns_relu_after_the_layer_forward_and_backward() {
    use burn::nn::LinearConfig;
    use burn::tensor::activation::relu;
    let device = Device::flex().autodiff();
    let c = &CASES[1];
    let conv = layer(c, &device);
    let x = Tensor::<4>::random([4, 32, 20, 20], Distribution::Uniform(-1.0, 1.0), &device).require_grad();
    let (reference, ours) = (relu(conv.forward(x.clone())), lepton_kernels::conv2d_relu(&conv, x.clone()));
    assert!(gap(&flat(reference.clone()), &flat(ours.clone())) <= 1e-5);
    let grads_of = |y: Tensor<4>| {
        let grads = (y.clone() * y).sum().backward();
        (flat(x.grad(&grads).unwrap()), flat(conv.weight.grad(&grads).unwrap()))
    };
    let ((rx, rw), (ox, ow)) = (grads_of(reference), grads_of(ours));
    assert!(gap(&rx, &ox) <= 1e-5 && gap(&rw, &ow) <= 1e-5);

    let fc = LinearConfig::new(300, 40).init(&device);
    let x = Tensor::<2>::random([8, 300], Distribution::Uniform(-1.0, 1.0), &device).require_grad();
    let flat2 = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    let (reference, ours) = (relu(fc.forward(x.clone())), lepton_kernels::linear_relu(&fc, x.clone()));
    let zeros = flat2(ours.clone()).iter().filter(|v| **v == 0.0).count();
    assert!(zeros > 40 && zeros < 280, "the test needs both signs, got {zeros} of 320 zeros");
    assert!(gap(&flat2(reference.clone()), &flat2(ours.clone())) <= 1e-5);
    let grads_of = |y: Tensor<2>| {
        let grads = (y.clone() * y).sum().backward();
        (flat2(x.grad(&grads).unwrap()), flat2(fc.weight.grad(&grads).unwrap()))
    };
    let ((rx, rw), (ox, ow)) = (grads_of(reference), grads_of(ours));
    assert!(gap(&rx, &ox) <= 1e-5 && gap(&rw, &ow) <= 1e-5);
}
