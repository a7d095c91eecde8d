//! Q-networks: an MLP on the perception state or the Nature CNN on stacked frames, each ending in
//! a plain linear head or a dueling head (Q = V + A − mean A).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::s;
use lepton_kernels::{conv2d_relu, linear, linear_relu};
use serde::{Deserialize, Serialize};

/// What the network reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum InputShape {
    /// A state vector of this length.
    Vector(usize),
    /// `stack` frames of `height` × `width` × `channels`, channel-major.
    Frames { stack: usize, channels: usize, height: usize, width: usize },
    /// The ego's scaled driving state ([`EGO_FEATURES`] values), then `count` object-list rows
    /// of [`ROW_FEATURES`] values, presence first.
    Vehicles { count: usize },
}

/// Values of the ego's part of a [`InputShape::Vehicles`] input.
pub const EGO_FEATURES: usize = lepton_perception::DrivingState::LEN;
/// Values per object-list row of a [`InputShape::Vehicles`] input.
pub const ROW_FEATURES: usize = lepton_sim::vehicle_list::ROW;

impl InputShape {
    pub fn len(&self) -> usize {
        match *self {
            InputShape::Vector(n) => n,
            InputShape::Frames { stack, channels, height, width } => stack * channels * height * width,
            InputShape::Vehicles { count } => EGO_FEATURES + count * ROW_FEATURES,
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
    /// On an object list (`--perception vehicles`): the ego attends over the listed objects
    /// (Leurent & Mercat 2019) before `hidden`; without it the list is flattened into the MLP.
    pub attention: Option<AttentionConfig>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self { hidden: vec![128, 128], cnn_hidden: 512, dueling: true, attention: None }
    }
}

/// The ego-attention layer's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttentionConfig {
    /// Width of every embedding (ego, rows, keys, values); a multiple of `heads`.
    pub width: usize,
    /// Attention heads, each over `width / heads` features.
    pub heads: usize,
}

impl Default for AttentionConfig {
    /// The social-attention DQN's shape: 64 features, 2 heads.
    fn default() -> Self {
        Self { width: 64, heads: 2 }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.layers {
            x = linear_relu(layer, x);
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
        let x = conv2d_relu(&self.conv1, x);
        let x = conv2d_relu(&self.conv2, x);
        let x = conv2d_relu(&self.conv3, x);
        linear_relu(&self.fc, x.flatten(1, 3))
    }
}

/// Ego attention (Leurent & Mercat, "Social Attention for Autonomous Decision-Making in Dense
/// Traffic", 2019): the ego and every listed object are embedded by two small MLPs; the ego's
/// query attends over the keys of all of them (itself included), absent rows masked out; the
/// heads' values are combined and averaged with the ego's embedding.
#[derive(Module, Debug)]
pub struct EgoAttention {
    ego: Mlp,
    others: Mlp,
    query: Linear,
    key: Linear,
    value: Linear,
    combine: Linear,
    #[module(skip)]
    heads: usize,
    /// The MLP that reads the attended ego (`hidden`).
    after: Mlp,
}

impl EgoAttention {
    fn new(config: &AttentionConfig, after: Mlp, device: &Device) -> Self {
        let w = config.width;
        let embed = |inputs: usize| Mlp {
            layers: vec![LinearConfig::new(inputs, w).init(device), LinearConfig::new(w, w).init(device)],
        };
        let projection = || LinearConfig::new(w, w).with_bias(false).init(device);
        Self {
            ego: embed(EGO_FEATURES),
            others: embed(ROW_FEATURES),
            query: projection(),
            key: projection(),
            value: projection(),
            combine: LinearConfig::new(w, w).init(device),
            heads: config.heads,
            after,
        }
    }

    /// `input`: [batch, EGO_FEATURES + count · ROW_FEATURES] → the features of `after`.
    fn forward(&self, input: Tensor<2>, count: usize) -> Tensor<2> {
        let batch = input.dims()[0];
        let device = input.device();
        let ego = self.ego.forward(input.clone().slice(s![.., 0..EGO_FEATURES]));
        let rows = input.slice(s![.., EGO_FEATURES..]).reshape([batch * count, ROW_FEATURES]);
        // Who is there: the ego always, a row when its presence is above ½. No key may be
        // attended where nothing is listed.
        let presence = Tensor::cat(
            vec![Tensor::ones([batch, 1], &device), rows.clone().slice(s![.., 0..1]).reshape([batch, count])],
            1,
        );
        let absent = presence.lower_elem(0.5).reshape([batch, count + 1, 1, 1]);
        let width = ego.dims()[1];
        let others = self.others.forward(rows).reshape([batch, count, width]);
        let entities = Tensor::cat(vec![ego.clone().reshape([batch, 1, width]), others], 1);

        // Heads side by side: [batch, entity, head, feature]. Each score is one query's dot
        // product with one key, done as a broadcast product and a sum: a batch of 1 × d by d × n
        // matrix products would cost more in calls than in arithmetic.
        let (heads, per_head) = (self.heads, width / self.heads);
        let n = count + 1;
        let keys = self.key.forward(entities.clone()).reshape([batch, n, heads, per_head]);
        let values = self.value.forward(entities).reshape([batch, n, heads, per_head]);
        let query = self.query.forward(ego.clone()).reshape([batch, 1, heads, per_head]);
        let scores = (keys * query).sum_dim(3) / (per_head as f64).sqrt();
        let weights = softmax(scores.mask_fill(absent.expand([batch, n, heads, 1]), -1e9), 1);
        let attended = (values * weights).sum_dim(1).reshape([batch, width]);
        self.after.forward((self.combine.forward(attended) + ego) / 2.0)
    }
}

// One torso per network, built once: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Torso {
    Mlp(Mlp),
    Nature(NatureCnn),
    Attention(EgoAttention),
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
        let mlp = |inputs: usize| {
            let mut layers = Vec::new();
            let mut width = inputs;
            for &h in &config.hidden {
                layers.push(LinearConfig::new(width, h).init(device));
                width = h;
            }
            (Mlp { layers }, width)
        };
        let (torso, features) = match (input, &config.attention) {
            (InputShape::Vehicles { .. }, Some(attention)) => {
                let (after, width) = mlp(attention.width);
                (Torso::Attention(EgoAttention::new(attention, after, device)), width)
            }
            (InputShape::Vector(_) | InputShape::Vehicles { .. }, _) => {
                let (mlp, width) = mlp(input.len());
                (Torso::Mlp(mlp), width)
            }
            (InputShape::Frames { stack, channels, height, width }, _) => {
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
        let mlp = |n: usize| {
            let (mut flops, mut width) = (0, n);
            for &h in &config.hidden {
                flops += dense(width, h);
                width = h;
            }
            (flops, width)
        };
        let (mut flops, features) = match (input, &config.attention) {
            (InputShape::Vehicles { count }, Some(a)) => {
                let w = a.width;
                // Embeddings, keys and values of every entity, the ego's query, scores and
                // weighted values, the combination.
                let entities = (count + 1) as u64;
                let embed = dense(EGO_FEATURES, w)
                    + dense(w, w)
                    + count as u64 * (dense(ROW_FEATURES, w) + dense(w, w));
                let attend =
                    entities * 2 * dense(w, w) + dense(w, w) + 2 * entities * 2 * w as u64 + dense(w, w);
                let (after, width) = mlp(w);
                (embed + attend + after, width)
            }
            (InputShape::Vector(_) | InputShape::Vehicles { .. }, _) => mlp(input.len()),
            (InputShape::Frames { stack, channels, height, width }, _) => {
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
            (Torso::Attention(attention), InputShape::Vehicles { count }) => attention.forward(input, count),
            (Torso::Attention(_), _) => panic!("an attention torso needs an object list"),
            (Torso::Nature(cnn), InputShape::Frames { stack, channels, height, width }) => {
                let batch = input.dims()[0];
                cnn.forward(input.reshape([batch, stack * channels, height, width]))
            }
            (Torso::Nature(_), _) => panic!("a CNN torso needs frame input"),
        };
        match &self.head {
            Head::Plain(layer) => linear(layer, features),
            Head::Dueling(d) => {
                let value = linear(&d.value, features.clone());
                let advantage = linear(&d.advantage, features);
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

    /// An ego-attention network over `count` rows, and an input of `batch` random lists whose
    /// rows from `present` on are absent.
    fn attention_case(count: usize, present: usize) -> (QNetwork, Vec<f32>, InputShape) {
        let device = Device::flex();
        let config = NetworkConfig {
            hidden: vec![32],
            attention: Some(AttentionConfig { width: 16, heads: 4 }),
            ..NetworkConfig::default()
        };
        let shape = InputShape::Vehicles { count };
        let net = QNetwork::new(shape, 5, &config, &device).unwrap();
        let mut values: Vec<f32> = (0..shape.len()).map(|i| ((i * 37 % 23) as f32 / 11.0) - 1.0).collect();
        for row in 0..count {
            values[EGO_FEATURES + row * ROW_FEATURES] = if row < present { 1.0 } else { 0.0 };
        }
        (net, values, shape)
    }

    fn q(net: &QNetwork, values: &[f32], shape: InputShape) -> Vec<f32> {
        let input = Tensor::<1>::from_floats(values, &Device::flex()).reshape([1, shape.len()]);
        net.forward(input, shape).into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn the_ego_ignores_absent_rows_and_the_order_of_the_present_ones() {
        let (net, values, shape) = attention_case(5, 3);
        let before = q(&net, &values, shape);
        // Whatever an absent row holds, the Q-values do not move.
        let mut junk = values.clone();
        for v in &mut junk[EGO_FEATURES + 3 * ROW_FEATURES + 1..] {
            *v = 7.5;
        }
        junk[EGO_FEATURES + 4 * ROW_FEATURES] = 0.2; // presence below ½
        assert_eq!(q(&net, &junk, shape), before);
        // Swapping two present rows changes nothing but the order of a sum.
        let mut swapped = values.clone();
        let (a, b) = (EGO_FEATURES, EGO_FEATURES + 2 * ROW_FEATURES);
        for k in 0..ROW_FEATURES {
            swapped.swap(a + k, b + k);
        }
        let after = q(&net, &swapped, shape);
        assert!(before.iter().zip(&after).all(|(x, y)| (x - y).abs() < 1e-5), "{before:?} {after:?}");
        // A present row does count.
        let mut moved = values.clone();
        moved[EGO_FEATURES + 1] += 0.5;
        assert_ne!(q(&net, &moved, shape), before);
        // With nothing listed the ego attends to itself alone: finite values.
        let (net, empty, shape) = attention_case(4, 0);
        assert!(q(&net, &empty, shape).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn an_object_list_without_attention_is_flattened_into_the_mlp() {
        let config = NetworkConfig { hidden: vec![64], dueling: false, ..NetworkConfig::default() };
        let shape = InputShape::Vehicles { count: 8 };
        assert_eq!(shape.len(), 7 + 8 * 7);
        assert_eq!(QNetwork::forward_flops(shape, &config, 5), 2 * (63 * 64 + 64 * 5));
        let net = QNetwork::new(shape, 5, &config, &Device::flex()).unwrap();
        assert!(matches!(net.torso, Torso::Mlp(_)));
        let attention = NetworkConfig { attention: Some(AttentionConfig::default()), ..config };
        assert!(QNetwork::forward_flops(shape, &attention, 5) > 2 * 9 * 64 * 64);
    }
}
