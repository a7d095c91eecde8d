//! The convolution and fully connected kernels as burn backend extensions: on flex (with or
//! without autodiff) they run [`crate::conv`] and [`mod@crate::linear`] forward and backward; on every
//! other backend (libtorch, wgpu) they are burn's own `conv2d` and `linear`, autodiff included.

// burn marks its libtorch backend deprecated; Lepton still offers it (`--device tch-cpu|tch-cuda`).
#![allow(deprecated)]

use crate::conv::{self, ConvShape};
use crate::flex::values;
use crate::linear::{self, LinearShape};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, ConvOptions, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::{DType, TensorData};
use std::borrow::Cow;
use std::marker::PhantomData;

/// `conv2d` with a bias, as burn defines it.
#[backend_extension(Flex, Autodiff, LibTorch: cfg(feature = "tch"), Cube: cfg(feature = "wgpu"))]
pub trait ConvBackend: Backend {
    fn conv2d_with_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let y = Self::conv2d(x, weight, Some(bias), options);
        if relu { Self::relu(y) } else { y }
    }
}

#[cfg(feature = "tch")]
impl ConvBackend for burn::backend::LibTorch {}
#[cfg(feature = "tch")]
impl<C: CheckpointStrategy> ConvBackend for Autodiff<burn::backend::LibTorch, C> {}
#[cfg(feature = "wgpu")]
impl ConvBackend for burn::backend::Cube {}
#[cfg(feature = "wgpu")]
impl<C: CheckpointStrategy> ConvBackend for Autodiff<burn::backend::Cube, C> {}

/// The kernel's shape for a flex convolution it can run: f32, no groups or dilation, the same
/// padding on both sides of each axis.
fn kernel_shape(x: &FlexTensor, weight: &FlexTensor, options: &ConvOptions<2>) -> Option<ConvShape> {
    let plain = x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && options.groups == 1
        && options.dilation == [1, 1]
        && options.padding.iter().all(|(begin, end)| begin == end);
    let (xs, ws) = (x.layout().shape(), weight.layout().shape());
    if !plain || xs.num_dims() != 4 || ws.num_dims() != 4 || xs[1] != ws[1] {
        return None;
    }
    let shape = ConvShape {
        batch: xs[0],
        channels: xs[1],
        height: xs[2],
        width: xs[3],
        out_channels: ws[0],
        kernel: [ws[2], ws[3]],
        stride: options.stride,
        padding: options.padding.map(|(begin, _)| begin),
    };
    shape.output().map(|_| shape)
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl ConvBackend for Flex {
    fn conv2d_with_bias(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FlexTensor {
        let Some(s) = kernel_shape(&x, &weight, &options) else {
            let y = Flex::conv2d(x, weight, Some(bias), options);
            return if relu { Flex::relu(y) } else { y };
        };
        let y = conv::forward(&s, &values(&x), &values(&weight), Some(&values(&bias)), relu);
        tensor(y, s.output_dims())
    }
}

/// A layer kernel as the autodiff op sees it: its backward pass and the shapes of its tensors.
trait Layer: Copy + std::fmt::Debug + Send + Sync + 'static {
    fn output_dims(&self) -> Vec<usize>;
    /// The dimensions of the input, weight and bias (and so of their gradients).
    fn dims(&self) -> [Vec<usize>; 3];
    /// (input gradient if `input_grad`, weight gradient, bias gradient).
    fn backward(&self, x: &[f32], weight: &[f32], dy: &[f32], input_grad: bool) -> Grads;
}

type Grads = (Option<Vec<f32>>, Vec<f32>, Vec<f32>);

impl Layer for ConvShape {
    fn output_dims(&self) -> Vec<usize> {
        let [h, w] = self.output().expect("checked by kernel_shape");
        vec![self.batch, self.out_channels, h, w]
    }

    fn dims(&self) -> [Vec<usize>; 3] {
        [
            vec![self.batch, self.channels, self.height, self.width],
            vec![self.out_channels, self.channels, self.kernel[0], self.kernel[1]],
            vec![self.out_channels],
        ]
    }

    fn backward(&self, x: &[f32], weight: &[f32], dy: &[f32], input_grad: bool) -> Grads {
        conv::backward(self, x, weight, dy, input_grad)
    }
}

impl Layer for LinearShape {
    fn output_dims(&self) -> Vec<usize> {
        vec![self.batch, self.output]
    }

    fn dims(&self) -> [Vec<usize>; 3] {
        [vec![self.batch, self.input], vec![self.input, self.output], vec![self.output]]
    }

    fn backward(&self, x: &[f32], weight: &[f32], dy: &[f32], input_grad: bool) -> Grads {
        linear::backward(self, x, weight, dy, input_grad)
    }
}

/// What a layer's backward pass needs: the shape, the input and the weight, and the output where a
/// ReLU was fused into it (its gradient passes where the output is positive).
#[derive(Clone)]
struct Saved<S> {
    shape: S,
    x: FlexTensor,
    weight: FlexTensor,
    relu_output: Option<FlexTensor>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Saved<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved").field("shape", &self.shape).finish_non_exhaustive()
    }
}

/// The output gradient `dy`, zero where a fused ReLU's output `y` is not positive (burn's mask).
fn through_relu<'a>(dy: &'a FlexTensor, y: Option<&FlexTensor>) -> Cow<'a, [f32]> {
    let dy = values(dy);
    match y {
        Some(y) => dy.iter().zip(values(y).iter()).map(|(g, y)| if *y > 0.0 { *g } else { 0.0 }).collect(),
        None => dy,
    }
}

#[derive(Debug)]
struct LayerBackward<S>(PhantomData<S>);

impl<S: Layer> Backward<Flex, 3> for LayerBackward<S> {
    type State = Saved<S>;

    fn backward(self, ops: Ops<Saved<S>, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let Saved { shape, x, weight, relu_output } = ops.state;
        let dy = through_relu(&dy, relu_output.as_ref());
        let (dx, dw, db) = shape.backward(&values(&x), &values(&weight), &dy, node_x.is_some());
        let [x_dims, w_dims, b_dims] = shape.dims();
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<Flex>(node.id, tensor(dx, x_dims));
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, tensor(dw, w_dims));
        }
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, tensor(db, b_dims));
        }
    }
}

/// A layer kernel's autodiff op: `forward` on the values of `x`, the weight and the bias, tracked
/// with what its backward pass needs where a gradient is wanted.
fn tracked<S: Layer, C: CheckpointStrategy>(
    shape: S,
    [x, weight, bias]: [FloatTensor<Autodiff<Flex, C>>; 3],
    relu: bool,
    forward: impl FnOnce(&[f32], &[f32], &[f32]) -> Vec<f32>,
) -> FloatTensor<Autodiff<Flex, C>> {
    let prep = LayerBackward::<S>(PhantomData)
        .prepare::<C>([x.node(), weight.node(), bias.node()])
        .compute_bound()
        .stateful();
    let (xv, wv, bv) = (values(x.primitive()), values(weight.primitive()), values(bias.primitive()));
    let y = tensor(forward(&xv, &wv, &bv), shape.output_dims());
    match prep {
        OpsKind::Tracked(prep) => {
            // Clones of flex tensors share their storage: nothing is copied here.
            let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
            prep.finish(Saved { shape, x, weight, relu_output: relu.then(|| y.clone()) }, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

impl<C: CheckpointStrategy> ConvBackend for Autodiff<Flex, C> {
    fn conv2d_with_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let Some(s) = kernel_shape(x.primitive(), weight.primitive(), &options) else {
            let y = Self::conv2d(x, weight, Some(bias), options);
            return if relu { Self::relu(y) } else { y };
        };
        tracked::<_, C>(s, [x, weight, bias], relu, |x, w, b| conv::forward(&s, x, w, Some(b), relu))
    }
}

/// `linear` with a bias, as burn defines it (`x · W + b`, `W` of shape `[d_input, d_output]`).
#[backend_extension(Flex, Autodiff, LibTorch: cfg(feature = "tch"), Cube: cfg(feature = "wgpu"))]
pub trait LinearBackend: Backend {
    fn linear_with_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let y = Self::linear(x, weight, Some(bias));
        if relu { Self::relu(y) } else { y }
    }
}

#[cfg(feature = "tch")]
impl LinearBackend for burn::backend::LibTorch {}
#[cfg(feature = "tch")]
impl<C: CheckpointStrategy> LinearBackend for Autodiff<burn::backend::LibTorch, C> {}
#[cfg(feature = "wgpu")]
impl LinearBackend for burn::backend::Cube {}
#[cfg(feature = "wgpu")]
impl<C: CheckpointStrategy> LinearBackend for Autodiff<burn::backend::Cube, C> {}

/// The kernel's shape for a flex layer it can run: f32, a 2D input.
fn linear_shape(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor) -> Option<LinearShape> {
    let (xs, ws, bs) = (x.layout().shape(), weight.layout().shape(), bias.layout().shape());
    let plain = [x, weight, bias].iter().all(|t| t.dtype() == DType::F32)
        && xs.num_dims() == 2
        && ws.num_dims() == 2
        && bs.num_dims() == 1
        && xs[1] == ws[0]
        && bs[0] == ws[1];
    plain.then(|| LinearShape { batch: xs[0], input: xs[1], output: ws[1] })
}

impl LinearBackend for Flex {
    fn linear_with_bias(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, relu: bool) -> FlexTensor {
        let Some(s) = linear_shape(&x, &weight, &bias) else {
            let y = Flex::linear(x, weight, Some(bias));
            return if relu { Flex::relu(y) } else { y };
        };
        let y = linear::forward(&s, &values(&x), &values(&weight), Some(&values(&bias)), relu);
        tensor(y, s.output_dims())
    }
}

impl<C: CheckpointStrategy> LinearBackend for Autodiff<Flex, C> {
    fn linear_with_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let Some(s) = linear_shape(x.primitive(), weight.primitive(), bias.primitive()) else {
            let y = Self::linear(x, weight, Some(bias));
            return if relu { Self::relu(y) } else { y };
        };
        tracked::<_, C>(s, [x, weight, bias], relu, |x, w, b| linear::forward(&s, x, w, Some(b), relu))
    }
}
