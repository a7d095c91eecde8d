//! The fused Adam is burn's Adam: the same parameters, bit for bit, after several steps, and
//! optimiser state that burn's Adam takes over (checkpoints are interchangeable).

use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Distribution;
use lepton_kernels::adam::FusedAdam;

fn params(net: &Linear) -> Vec<f32> {
    let mut v = net.weight.val().into_data().try_to_vec::<f32>().unwrap();
    v.extend(net.bias.as_ref().unwrap().val().into_data().try_to_vec::<f32>().unwrap());
    v
}

fn train(mut net: Linear, optimizer: &mut ModuleOptimizer, x: &Tensor<2>, steps: usize) -> Linear {
    for step in 0..steps {
        let y = net.forward(x.clone());
        let loss = (y.clone() * y).mean() + net.weight.val().sum() * 0.01;
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optimizer.step(1e-2 / (1 + step) as f64, net, grads);
    }
    net
}

#[test]
fn fused_adam_takes_the_same_steps_as_burns_adam_bit_for_bit() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let net: Linear = LinearConfig::new(300, 70).init(&device);
    let x = Tensor::<2>::random([16, 300], Distribution::Uniform(-1.0, 1.0), &device);
    let mut burns = AdamConfig::new().with_epsilon(1e-8).init();
    let mut fused = ModuleOptimizer::from(FusedAdam::new(0.9, 0.999, 1e-8));
    let a = train(net.clone(), &mut burns, &x, 5);
    let b = train(net.clone(), &mut fused, &x, 5);
    assert_ne!(params(&a), params(&net), "training moved the parameters");
    assert_eq!(params(&a), params(&b));

    // Burn's Adam resumes from the fused one's state, and the other way round.
    let mut resumed_burns =
        AdamConfig::new().with_epsilon(1e-8).init().from_bytes(fused.into_bytes().unwrap()).unwrap();
    let mut resumed_fused = ModuleOptimizer::from(FusedAdam::new(0.9, 0.999, 1e-8))
        .from_bytes(burns.into_bytes().unwrap())
        .unwrap();
    let c = train(a.clone(), &mut resumed_burns, &x, 3);
    let d = train(b.clone(), &mut resumed_fused, &x, 3);
    assert_eq!(params(&c), params(&d));
}
