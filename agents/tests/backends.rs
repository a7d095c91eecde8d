//! The learner backends agree: from the same weights, one DQN update of the Nature CNN and one
//! forward pass of the perception CNN give the same numbers on burn flex (the reference),
//! libtorch on the CPU (feature `tch`) and wgpu (feature `wgpu`).
//!
//! Bounds (the README quotes them): the loss within 1e-6 (relative), TD errors within 1e-5, the
//! Q-values after the update and the CNN's outputs within 1e-5 of their largest magnitude.
//! Measured on lavapipe and libtorch 2.9 CPU: about 1e-8, 2e-8 and 7e-9.
//!
//! A build with `wgpu` needs a Vulkan adapter (lavapipe will do: `mesa-vulkan-drivers`); where
//! there is none, the tests fail rather than skip, unless `LEPTON_NO_WGPU_ADAPTER=1` says so.
#![cfg(any(feature = "tch", feature = "wgpu"))]

use burn::module::Module;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, TensorData};
use lepton_agents::dqn::{DqnConfig, DqnLearner, InputShape};
use lepton_agents::replay::Batch;
use lepton_perception::cnn::CnnConfig;
use lepton_perception::device::parse_device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The optional backends compiled into this test, each with its device.
fn other_devices() -> Vec<(&'static str, Device)> {
    let mut devices = Vec::new();
    #[cfg(feature = "tch")]
    devices.push(("tch-cpu", parse_device("tch-cpu").expect("tch-cpu")));
    #[cfg(feature = "wgpu")]
    match parse_device("wgpu") {
        Ok(device) => devices.push(("wgpu", device)),
        Err(e) if std::env::var_os("LEPTON_NO_WGPU_ADAPTER").is_some() => {
            eprintln!("wgpu not compared (LEPTON_NO_WGPU_ADAPTER is set): {e}")
        }
        Err(e) => panic!(
            "{e}\nthis build has wgpu but no adapter: install a Vulkan driver (lavapipe: \
             mesa-vulkan-drivers), or set LEPTON_NO_WGPU_ADAPTER=1 to test without it"
        ),
    }
    devices
}

fn record_bytes<M: Module>(module: &M) -> Vec<u8> {
    module.clone().into_record().into_bytes().expect("record bytes").to_vec()
}

fn load<M: Module>(module: M, bytes: &[u8]) -> M {
    module.try_load_record(ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).unwrap()).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

const INPUT: InputShape = InputShape::Frames { stack: 2, channels: 1, height: 44, width: 44 };
const ACTIONS: usize = 5;

fn config() -> DqnConfig {
    let mut config = DqnConfig { batch_size: 8, ..DqnConfig::default() };
    config.network.cnn_hidden = 64;
    config
}

fn batch(rng: &mut ChaCha8Rng) -> Batch {
    let n = 8;
    let mut values = |len: usize| (0..len).map(|_| rng.random::<f32>()).collect::<Vec<_>>();
    Batch {
        size: n,
        obs: values(n * INPUT.len()),
        next_obs: values(n * INPUT.len()),
        actions: (0..n).map(|i| i % ACTIONS).collect(),
        returns: (0..n).map(|i| i as f32 * 0.25 - 1.0).collect(),
        discounts: (0..n).map(|i| if i % 3 == 0 { 0.0 } else { 0.99 }).collect(),
        weights: vec![1.0; n],
        slots: (0..n).collect(),
    }
}

/// A learner on `device` holding `reference`'s online and target weights.
fn twin(reference: &DqnLearner, device: &Device) -> DqnLearner {
    let mut learner = DqnLearner::new(INPUT, ACTIONS, &config(), device, 7).unwrap();
    learner.online = load(learner.online, &record_bytes(&reference.online));
    learner.target = load(learner.target, &record_bytes(&reference.target));
    learner
}

#[test]
fn one_dqn_update_agrees_across_backends() {
    let devices = other_devices();
    assert!(
        !devices.is_empty() || cfg!(not(feature = "tch")),
        "tch-cpu is always available with feature tch"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let batch = batch(&mut rng);
    let probe = batch.obs.clone();
    let mut reference = DqnLearner::new(INPUT, ACTIONS, &config(), &Device::flex(), 7).unwrap();
    let copies: Vec<_> = devices.iter().map(|(name, d)| (*name, twin(&reference, d))).collect();
    let before = reference.q_values(probe.clone(), batch.size);
    let (stats, errors) = reference.update(batch.clone());
    let after = reference.q_values(probe.clone(), batch.size);
    assert!(max_abs_diff(&before, &after) > 1e-5, "the update changed nothing");
    for (name, mut learner) in copies {
        let start = learner.q_values(probe.clone(), batch.size);
        assert!(
            max_abs_diff(&before, &start) < 1e-4,
            "{name}: Q before the update differ by {}",
            max_abs_diff(&before, &start)
        );
        let (their_stats, their_errors) = learner.update(batch.clone());
        let end = learner.q_values(probe.clone(), batch.size);
        let scale = after.iter().map(|v| v.abs()).fold(1e-3, f32::max);
        let diff = max_abs_diff(&after, &end);
        eprintln!(
            "{name}: loss {} vs flex {}; Q after the update differ by {diff} (scale {scale})",
            their_stats.loss, stats.loss
        );
        assert!(
            (their_stats.loss - stats.loss).abs() <= 1e-6 * stats.loss.abs().max(1.0),
            "{name}: loss {} vs {}",
            their_stats.loss,
            stats.loss
        );
        assert!(max_abs_diff(&errors, &their_errors) < 1e-5, "{name}: TD errors differ");
        assert!(diff <= 1e-5 * scale, "{name}: Q after one update differ by {diff}");
    }
}

#[test]
fn one_perception_cnn_forward_pass_agrees_across_backends() {
    let cnn = CnnConfig::new(3, 48, 48);
    let reference = cnn.init(&Device::flex());
    let bytes = record_bytes(&reference);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let pixels: Vec<f32> = (0..4 * 3 * 48 * 48).map(|_| rng.random::<f32>()).collect();
    let input =
        |device: &Device| Tensor::<4>::from_data(TensorData::new(pixels.clone(), [4, 3, 48, 48]), device);
    let expected: Vec<f32> = reference.forward(input(&Device::flex())).into_data().try_to_vec().unwrap();
    for (name, device) in other_devices() {
        let net = load(cnn.init(&device), &bytes);
        let got: Vec<f32> = net.forward(input(&device)).into_data().try_to_vec().unwrap();
        let scale = expected.iter().map(|v| v.abs()).fold(1e-3, f32::max);
        let diff = max_abs_diff(&expected, &got);
        eprintln!("{name}: CNN outputs differ by {diff} (scale {scale})");
        assert!(diff <= 1e-5 * scale, "{name}: CNN outputs differ by {diff}");
    }
}
