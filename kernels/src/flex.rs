//! Reaching the flex tensor behind a burn `Tensor`, for the kernels that work on its memory.

use burn::backend::flex::FlexTensor;
use burn::backend::{BackendTensor, DispatchTensor, DispatchTensorKind};
use burn::tensor::{Tensor, TensorData};
use std::borrow::Cow;

/// The flex tensor behind `t` (the caller checked that its device is flex).
pub(crate) fn flex_tensor<const D: usize>(t: Tensor<D>) -> FlexTensor {
    match t.into_dispatch().kind {
        DispatchTensorKind::Flex(BackendTensor::Float(t)) => t,
        _ => unreachable!("a flex tensor (checked by the caller)"),
    }
}

/// A flex tensor as a burn `Tensor`.
pub(crate) fn wrap<const D: usize>(t: FlexTensor) -> Tensor<D> {
    Tensor::from_dispatch(DispatchTensor {
        kind: DispatchTensorKind::Flex(BackendTensor::Float(t)),
        autodiff: Default::default(),
    })
}

/// The tensor's f32 values in row-major order (a copy only when its layout is not plain).
pub(crate) fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(slice) => slice.into(),
        None => t.to_contiguous().as_slice::<f32>().expect("f32, checked by the caller").to_vec().into(),
    }
}

/// `t` itself where nothing else holds its storage and it is laid out plainly, else a plain copy:
/// a tensor whose storage can be written in place.
pub(crate) fn owned(t: FlexTensor) -> FlexTensor {
    let elements = t.layout().num_elements();
    let plain = t.is_unique()
        && t.layout().contiguous_offsets() == Some((0, elements))
        && t.bytes().len() == 4 * elements;
    if plain {
        return t;
    }
    let copy = values(&t).into_owned();
    FlexTensor::from_data(TensorData::new(copy, t.layout().shape().clone()))
}
