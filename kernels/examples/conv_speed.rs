//! The Nature CNN's three convolutions at batch 32 on burn-flex, burn's own against this crate's,
//! forward (no autodiff) and forward + backward (weight, bias and, past the first layer, input
//! gradients): `cargo run --release -p lepton-kernels --example conv_speed`.
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use std::time::Instant;

/// The fastest of `reps` calls (after one warm-up): the least disturbed by a shared machine.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// (in, size, out, kernel, stride, padding).
type Layer = (usize, usize, usize, usize, usize, usize);

fn main() {
    // The machine's matrix-product rate, the reference for the convolutions' GFLOP/s.
    let n = 1024;
    let a = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), &Device::flex());
    let dt = time(5, || {
        std::hint::black_box(a.clone().matmul(a.clone()).into_data());
    });
    println!("matmul 1024²: {:.0} GFLOP/s", 2.0 * (n * n * n) as f64 / dt / 1e9);
    // The Nature CNN at batch 32, or with `perception` as the argument the perception CNN on
    // 3×84×84 frames at batch 64.
    let perception = std::env::args().any(|a| a == "perception");
    let (layers, batch): (&[Layer], usize) = if perception {
        (&[(3, 84, 16, 5, 2, 0), (16, 40, 32, 3, 2, 0), (32, 19, 32, 3, 2, 0), (32, 9, 64, 3, 1, 1)], 64)
    } else {
        (&[(4, 84, 32, 8, 4, 0), (32, 20, 64, 4, 2, 0), (64, 9, 64, 3, 1, 0)], 32)
    };
    let (mut totals, reps) = ([0.0f64; 4], 20);
    for &(c, size, o, k, s, p) in layers {
        let plain = Device::flex();
        let train = plain.clone().autodiff();
        let conv: Conv2d = Conv2dConfig::new([c, o], [k, k])
            .with_stride([s, s])
            .with_padding(burn::nn::PaddingConfig2d::Explicit(p, p, p, p))
            .init(&train);
        let infer = conv.clone().valid();
        let x = Tensor::<4>::random([batch, c, size, size], Distribution::Uniform(0.0, 1.0), &plain);
        let xt = Tensor::<4>::from_data(x.to_data(), &train);
        let first = layers[0].0 == c;
        let xt = if first { xt } else { xt.require_grad() };
        let out = ((size + 2 * p - k) / s + 1).pow(2);
        let flops = 2.0 * (batch * o * out * c * k * k) as f64;
        let backward_flops = if first { flops } else { 2.0 * flops };
        let f = [
            time(reps, || {
                std::hint::black_box(infer.forward(x.clone()).into_data());
            }),
            time(reps, || {
                std::hint::black_box(lepton_kernels::conv2d(&infer, x.clone()).into_data());
            }),
            time(reps, || {
                std::hint::black_box(conv.forward(xt.clone()).sum().backward());
            }),
            time(reps, || {
                std::hint::black_box(lepton_kernels::conv2d(&conv, xt.clone()).sum().backward());
            }),
        ];
        for (t, v) in totals.iter_mut().zip(&f) {
            *t += v;
        }
        println!(
            "conv {c}→{o} k{k}/{s} on {size}²: forward burn {:.2} ms, ours {:.2} ms ({:.0} GFLOP/s); \
             forward+backward burn {:.2} ms, ours {:.2} ms ({:.0} GFLOP/s)",
            f[0] * 1e3,
            f[1] * 1e3,
            flops / f[1] / 1e9,
            f[2] * 1e3,
            f[3] * 1e3,
            (flops + backward_flops) / f[3] / 1e9
        );
    }
    println!(
        "all layers: forward {:.2}× ({:.2} → {:.2} ms), forward+backward {:.2}× ({:.2} → {:.2} ms)",
        totals[0] / totals[1],
        totals[0] * 1e3,
        totals[1] * 1e3,
        totals[2] / totals[3],
        totals[2] * 1e3,
        totals[3] * 1e3
    );
}
