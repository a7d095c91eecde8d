//! Q-networks: an MLP on the perception state or the Nature CNN on stacked frames, each ending in
//! a plain linear head or a dueling head (Q = V + A − mean A).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::prelude::*;
use lepton_kernels::conv2d;
use serde::{Deserialize, Serialize};

/// What the network reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum InputShape {
    /// A state vector of this length.
    Vector(usize),
    /// `stack` frames of `height` × `width` × `channels`, channel-major.
    Frames { stack: usize, channels: usize, height: usize, width: usize },
}

impl InputShape {
    pub fn len(&self) -> usize {
        match *self {
            InputShape::Vector(n) => n,
            InputShape::Frames { stack, channels, height, width } => stack * channels * height * width,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Network shape, part of the agent's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Hidden layer widths of the MLP (state input).
    pub hidden: Vec<usize>,
    /// Width of the Nature CNN's fully connected layer (frame input).
    pub cnn_hidden: usize,
    /// Dueling head (separate value and advantage streams).
    pub dueling: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self { hidden: vec![128, 128], cnn_hidden: 512, dueling: true }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    relu: Relu,
}

impl Mlp {
    fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.layers {
            x = self.relu.forward(layer.forward(x));
        }
        x
    }
}

/// Mnih et al. (2015): 32 8×8/4, 64 4×4/2, 64 3×3/1, then a fully connected layer.
#[derive(Module, Debug)]
pub struct NatureCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    fc: Linear,
    relu: Relu,
}

impl NatureCnn {
    const LAYERS: [(usize, usize, usize); 3] = [(32, 8, 4), (64, 4, 2), (64, 3, 1)];

    /// Spatial size after the convolutions, or `None` if the frame is too small (< 36 px).
    pub fn feature_size(height: usize, width: usize) -> Option<(usize, usize)> {
        let mut size = (height, width);
        for (_, k, s) in Self::LAYERS {
            if size.0 < k || size.1 < k {
                return None;
            }
            size = ((size.0 - k) / s + 1, (size.1 - k) / s + 1);
        }
        Some(size)
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.relu.forward(conv2d(&self.conv1, x));
        let x = self.relu.forward(conv2d(&self.conv2, x));
        let x = self.relu.forward(conv2d(&self.conv3, x));
        self.relu.forward(self.fc.forward(x.flatten(1, 3)))
    }
}

// One torso per network, built once: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Torso {
    Mlp(Mlp),
    Nature(NatureCnn),
}

#[derive(Module, Debug)]
pub struct DuelingHead {
    value: Linear,
    advantage: Linear,
}

#[derive(Module, Debug)]
pub enum Head {
    Plain(Linear),
    Dueling(DuelingHead),
}

/// Frames smaller than the Nature CNN's receptive field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("frames of {width}x{height} are too small for the Nature CNN (36 px at least)")]
pub struct FramesTooSmall {
    pub width: usize,
    pub height: usize,
}

#[derive(Module, Debug)]
pub struct QNetwork {
    torso: Torso,
    head: Head,
}

impl QNetwork {
    pub fn new(
        input: InputShape,
        actions: usize,
        config: &NetworkConfig,
        device: &Device,
    ) -> Result<Self, FramesTooSmall> {
        let (torso, features) = match input {
            InputShape::Vector(n) => {
                let mut layers = Vec::new();
                let mut width = n;
                for &h in &config.hidden {
                    layers.push(LinearConfig::new(width, h).init(device));
                    width = h;
                }
                (Torso::Mlp(Mlp { layers, relu: Relu::new() }), width)
            }
            InputShape::Frames { stack, channels, height, width } => {
                let (fh, fw) =
                    NatureCnn::feature_size(height, width).ok_or(FramesTooSmall { width, height })?;
                let ins = [stack * channels, 32, 64];
                let conv = |i: usize| {
                    let (out, k, s) = NatureCnn::LAYERS[i];
                    Conv2dConfig::new([ins[i], out], [k, k]).with_stride([s, s]).init(device)
                };
                let cnn = NatureCnn {
                    conv1: conv(0),
                    conv2: conv(1),
                    conv3: conv(2),
                    fc: LinearConfig::new(64 * fh * fw, config.cnn_hidden).init(device),
                    relu: Relu::new(),
                };
                (Torso::Nature(cnn), config.cnn_hidden)
            }
        };
        let head = if config.dueling {
            Head::Dueling(DuelingHead {
                value: LinearConfig::new(features, 1).init(device),
                advantage: LinearConfig::new(features, actions).init(device),
            })
        } else {
            Head::Plain(LinearConfig::new(features, actions).init(device))
        };
        Ok(Self { torso, head })
    }

    /// Floating-point operations of one sample's forward pass (a multiply-add counts two; the
    /// activations and biases, a few per mille, are left out). Backward costs about twice this.
    pub fn forward_flops(input: InputShape, config: &NetworkConfig, actions: usize) -> u64 {
        let dense = |i: usize, o: usize| 2 * (i * o) as u64;
        let (mut flops, features) = match input {
            InputShape::Vector(n) => {
                let (mut flops, mut width) = (0, n);
                for &h in &config.hidden {
                    flops += dense(width, h);
                    width = h;
                }
                (flops, width)
            }
            InputShape::Frames { stack, channels, height, width } => {
                let (mut flops, mut size, mut c) = (0, (height, width), stack * channels);
                for (out, k, s) in NatureCnn::LAYERS {
                    size = ((size.0.saturating_sub(k)) / s + 1, (size.1.saturating_sub(k)) / s + 1);
                    flops += dense(c * k * k, out) * (size.0 * size.1) as u64;
                    c = out;
                }
                (flops + dense(c * size.0 * size.1, config.cnn_hidden), config.cnn_hidden)
            }
        };
        flops += dense(features, actions) + if config.dueling { dense(features, 1) } else { 0 };
        flops
    }

    /// `input`: [batch, input length] flat; frames are reshaped to [batch, stack·C, H, W].
    pub fn forward(&self, input: Tensor<2>, shape: InputShape) -> Tensor<2> {
        let features = match (&self.torso, shape) {
            (Torso::Mlp(mlp), _) => mlp.forward(input),
            (Torso::Nature(cnn), InputShape::Frames { stack, channels, height, width }) => {
                let batch = input.dims()[0];
                cnn.forward(input.reshape([batch, stack * channels, height, width]))
            }
            (Torso::Nature(_), InputShape::Vector(_)) => panic!("a CNN torso needs frame input"),
        };
        match &self.head {
            Head::Plain(linear) => linear.forward(features),
            Head::Dueling(d) => {
                let value = d.value.forward(features.clone());
                let advantage = d.advantage.forward(features);
                let mean = advantage.clone().mean_dim(1);
                advantage - mean + value
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nature_cnn_costs_18_7_mflop_per_frame_stack() {
        let input = InputShape::Frames { stack: 4, channels: 1, height: 84, width: 84 };
        let config = NetworkConfig { dueling: false, ..NetworkConfig::default() };
        assert_eq!(config.cnn_hidden, 512);
        // conv1 2·(4·8·8·32)·20², conv2 2·(32·4·4·64)·9², conv3 2·(64·3·3·64)·7², fc 2·3136·512,
        // head 2·512·9.
        let expected = 6_553_600 + 5_308_416 + 3_612_672 + 3_211_264 + 9_216;
        assert_eq!(QNetwork::forward_flops(input, &config, 9), expected);
        let dueling = NetworkConfig { dueling: true, ..config };
        assert_eq!(QNetwork::forward_flops(input, &dueling, 9), expected + 2 * 512);
        let mlp = NetworkConfig { hidden: vec![64, 64], dueling: false, ..NetworkConfig::default() };
        assert_eq!(QNetwork::forward_flops(InputShape::Vector(7), &mlp, 3), 2 * (7 * 64 + 64 * 64 + 64 * 3));
    }
}
