//! The perception CNN: four strided convolutions and a hidden layer, sized for 64–96 px frames,
//! with one output per regression head (normalised) and one logit per lane-free flag.

use crate::labels::{FLAGS, REGRESSIONS};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

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
            relu: Relu::new(),
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
    relu: Relu,
}

impl PerceptionCnn {
    /// `input`: [batch, channels, height, width], already normalised. Returns [batch, outputs].
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        let x = self.relu.forward(conv_as_matmul(&self.conv1, input, CnnConfig::LAYERS[0]));
        let x = self.relu.forward(self.conv2.forward(x));
        let x = self.relu.forward(self.conv3.forward(x));
        let x = self.relu.forward(self.conv4.forward(x));
        let x = x.flatten(1, 3);
        let x = self.relu.forward(self.hidden.forward(x));
        self.output.forward(x)
    }
}

/// `conv` (no padding, square kernel) as one matrix product over every output pixel of the batch:
/// the input unfolded into [batch · out_h · out_w, channels · k · k] patches times the kernel.
/// The same function as `conv.forward`, faster on burn-flex for a first layer with few channels,
/// where flex's direct small-channel path does strided 5×5 kernels slowly (measured below).
fn conv_as_matmul(conv: &Conv2d, x: Tensor<4>, (kernel, stride, pad): (usize, usize, usize)) -> Tensor<4> {
    debug_assert_eq!(pad, 0, "unpadded layers only");
    let [batch, channels, _, _] = x.dims();
    let weight = conv.weight.val();
    let out = weight.dims()[0];
    // [B, C, OH, OW, k, k]: zero-copy strided views.
    let patches: Tensor<6> = x.unfold::<5, _>(2, kernel, stride).unfold::<6, _>(3, kernel, stride);
    let [_, _, out_h, out_w, _, _] = patches.dims();
    let rows =
        patches.permute([0, 2, 3, 1, 4, 5]).reshape([batch * out_h * out_w, channels * kernel * kernel]);
    let mut y = rows.matmul(weight.reshape([out, channels * kernel * kernel]).transpose());
    if let Some(bias) = &conv.bias {
        y = y + bias.val().unsqueeze_dim(0);
    }
    y.reshape([batch, out_h, out_w, out]).permute([0, 3, 1, 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn the_first_layer_as_a_matrix_product_is_the_same_convolution_forward_and_backward() {
        let device = Device::flex().autodiff();
        let config = CnnConfig::new(3, 33, 41);
        let net = config.init(&device);
        let x = Tensor::<4>::random([2, 3, 33, 41], Distribution::Uniform(0.0, 1.0), &device);
        let direct = net.conv1.forward(x.clone());
        let product = conv_as_matmul(&net.conv1, x, CnnConfig::LAYERS[0]);
        assert_eq!(direct.dims(), [2, 16, 15, 19]);
        assert_eq!(product.dims(), direct.dims());
        let gap = (direct.clone() - product.clone()).abs().max().into_scalar::<f32>();
        assert!(gap < 1e-5, "forward differs by {gap}");

        let weight_grad = |y: Tensor<4>| {
            let grads = (y.clone() * y).sum().backward();
            net.conv1.weight.grad(&grads).expect("a gradient").into_data().try_to_vec::<f32>().unwrap()
        };
        let (a, b) = (weight_grad(direct), weight_grad(product));
        let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        let gap = a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(gap <= 1e-5 * scale, "weight gradients differ by {gap} (scale {scale})");
    }
}
