//! The perception CNN: four strided convolutions and a hidden layer, sized for 64–96 px frames,
//! with one output per regression head (normalised) and one logit per lane-free flag; and the
//! optional segmentation head, a 1 × 1 convolution on the second convolution's features that
//! gives each cell of that grid (a quarter of the frame's side) a logit per semantic class.

use crate::labels::{FLAGS, REGRESSIONS};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use lepton_kernels::{conv2d, conv2d_relu, linear, linear_relu};

/// Shape and width of the network.
#[derive(Config, Debug, PartialEq)]
pub struct CnnConfig {
    /// Input channels (frame channels × stacked frames).
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    #[config(default = "[16, 32, 32, 64]")]
    pub conv_channels: [usize; 4],
    #[config(default = 128)]
    pub hidden: usize,
}

impl CnnConfig {
    /// Kernel, stride and padding of each convolution; the last one keeps its input's size, so
    /// frames down to 17 px still fit.
    const LAYERS: [(usize, usize, usize); 4] = [(5, 2, 0), (3, 2, 0), (3, 2, 0), (3, 1, 1)];

    /// Height and width after the last convolution, or `None` when the input is too small.
    pub fn feature_size(&self) -> Option<(usize, usize)> {
        let mut size = (self.height, self.width);
        for (kernel, stride, pad) in Self::LAYERS {
            let (h, w) = (size.0 + 2 * pad, size.1 + 2 * pad);
            if h < kernel || w < kernel {
                return None;
            }
            size = ((h - kernel) / stride + 1, (w - kernel) / stride + 1);
        }
        Some(size)
    }

    /// Outputs: the regression heads, then the flag logits.
    pub fn outputs() -> usize {
        REGRESSIONS.len() + FLAGS.len()
    }

    /// The segmentation head's grid (height, width): the second convolution's output.
    pub fn segmentation_grid(&self) -> (usize, usize) {
        let mut size = (self.height, self.width);
        for (kernel, stride, pad) in &Self::LAYERS[..2] {
            size = ((size.0 + 2 * pad - kernel) / stride + 1, (size.1 + 2 * pad - kernel) / stride + 1);
        }
        size
    }

    /// The input pixel (row or column) at the centre of grid cell `cell`'s receptive field:
    /// where its class label is read, and which pixels its prediction covers.
    pub fn cell_centre(cell: usize) -> usize {
        // conv1 (k5, s2) then conv2 (k3, s2): cell i sees conv1 cells 2i..2i+2, pixels 4i..4i+8.
        4 * cell + 4
    }

    /// The segmentation head for `classes` classes on the second convolution's channels.
    pub fn init_segmentation(&self, classes: usize, device: &Device) -> Conv2d {
        number_parameters(Conv2dConfig::new([self.conv_channels[1], classes], [1, 1]).init(device))
    }

    pub fn init(&self, device: &Device) -> PerceptionCnn {
        let (fh, fw) = self.feature_size().expect("input large enough for the CNN (checked by the caller)");
        let c = self.conv_channels;
        let ins = [self.channels, c[0], c[1], c[2]];
        let conv = |i: usize| {
            let (kernel, stride, pad) = Self::LAYERS[i];
            Conv2dConfig::new([ins[i], c[i]], [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .init(device)
        };
        let net = PerceptionCnn {
            conv1: conv(0),
            conv2: conv(1),
            conv3: conv(2),
            conv4: conv(3),
            hidden: LinearConfig::new(c[3] * fh * fw, self.hidden).init(device),
            output: LinearConfig::new(self.hidden, Self::outputs()).init(device),
        };
        number_parameters(net)
    }
}

/// `module` with its parameters' ids numbered 1, 2, 3, … in module order instead of drawn at
/// random as burn does: the same seed then writes byte-identical weights (and optimiser state,
/// which is keyed by these ids).
pub fn number_parameters<M: Module>(module: M) -> M {
    struct Numbering(u64);
    impl burn::module::ModuleMapper for Numbering {
        fn map_float<const D: usize>(
            &mut self,
            mut param: burn::module::Param<Tensor<D>>,
        ) -> burn::module::Param<Tensor<D>> {
            self.0 += 1;
            param.id = burn::module::ParamId::from(self.0);
            param
        }
    }
    module.map(&mut Numbering(0))
}

#[derive(Module, Debug)]
pub struct PerceptionCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    conv4: Conv2d,
    hidden: Linear,
    output: Linear,
}

impl PerceptionCnn {
    /// `input`: [batch, channels, height, width], already normalised. Returns [batch, outputs].
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        self.forward_with_features(input).0
    }

    /// [`PerceptionCnn::forward`], and the second convolution's activations
    /// (`[batch, conv_channels[1], grid height, grid width]`) that the segmentation head reads.
    pub fn forward_with_features(&self, input: Tensor<4>) -> (Tensor<2>, Tensor<4>) {
        let x = conv2d_relu(&self.conv1, input);
        let features = conv2d_relu(&self.conv2, x);
        let x = conv2d_relu(&self.conv3, features.clone());
        let x = conv2d_relu(&self.conv4, x);
        let x = x.flatten(1, 3);
        let x = linear_relu(&self.hidden, x);
        (linear(&self.output, x), features)
    }
}

/// The segmentation head's class logits over its grid: [batch, classes, grid height, grid width].
pub fn segment(head: &Conv2d, features: Tensor<4>) -> Tensor<4> {
    conv2d(head, features)
}
