//! 2D convolution as it should be done for small batches of small images, on plain `f32` slices:
//! each sample unfolded into a matrix of patches (one row per output pixel, "im2row"), one product
//! by the `gemm` crate's tuned kernel per sample, written straight into the NCHW output. The
//! backward pass unfolds each sample again and takes two products on it: the weight gradient
//! summed over the batch, the input gradient folded back into the image.
//!
//! Samples run in parallel on rayon's pool; every sum is taken in an order that does not depend
//! on the number of threads, so results are the same bit for bit on any machine.

use crate::gemm::{Dst, Mat, matmul, product_into};
use rayon::prelude::*;

/// One 2D convolution: NCHW input, OIHW weight, zero padding, no groups or dilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_channels: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl ConvShape {
    /// Output height and width, or `None` when the kernel does not fit the padded input.
    pub fn output(&self) -> Option<[usize; 2]> {
        let side = |i: usize, size: usize| {
            let padded = size + 2 * self.padding[i];
            (padded >= self.kernel[i] && self.stride[i] > 0)
                .then(|| (padded - self.kernel[i]) / self.stride[i] + 1)
        };
        Some([side(0, self.height)?, side(1, self.width)?])
    }

    /// Input height (axis 0) or width (axis 1).
    fn size(&self, axis: usize) -> usize {
        [self.height, self.width][axis]
    }

    /// Output pixels per sample.
    pub fn positions(&self) -> usize {
        self.output().map_or(0, |[h, w]| h * w)
    }

    /// Length of one patch: one row of the patch matrix, one row of the flattened weight.
    pub fn patch(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    pub fn input_len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }

    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.positions()
    }

    pub fn weight_len(&self) -> usize {
        self.out_channels * self.patch()
    }

    /// Multiply-adds of the forward pass, times two.
    pub fn forward_flops(&self) -> u64 {
        2 * (self.output_len() * self.patch()) as u64
    }
}

/// The convolution rewritten with stride 1 ("space to depth") where the stride divides the
/// kernel: the zero-padded input is cut into stride × stride blocks whose pixels become channels,
/// and the kernel likewise. An 8 × 8 kernel at stride 4 on 4 × 84 × 84 becomes a 2 × 2 kernel at
/// stride 1 on 64 × 21 × 21: the same products, but each row of its patch matrix is a run of
/// neighbouring pixels, copied whole. Where the stride does not divide the kernel (3 × 3 at stride
/// 2) the blocks would add products by zero (16 taps for 9), so the input stays as it is (padded)
/// and the patch rows are read at the stride.
///
/// The patch matrix is kept transposed, `patch × positions`, one row per (channel, kernel row,
/// kernel column) holding that tap under every output pixel: the layout the matrix product's
/// micro-kernel reads directly, so the patches are written once and not packed again.
#[derive(Debug, Clone, Copy)]
struct Plan {
    s: ConvShape,
    /// Output height and width.
    out: [usize; 2],
    /// Channels, height and width of the space-to-depth input.
    depth: [usize; 3],
    /// Space-to-depth block height and width: the stride where it divides the kernel, else 1.
    factor: [usize; 2],
    /// The stride that remains after space to depth (1 where the factor is the stride).
    step: [usize; 2],
    /// Kernel height and width after space to depth.
    kernel: [usize; 2],
    /// Length of one patch after space to depth.
    patch: usize,
    /// Output pixels per sample.
    positions: usize,
    /// Row length of the patch matrix: `positions` rounded up to whole SIMD vectors, the padding
    /// columns zero, so that the product reads it in place.
    row: usize,
}

impl Plan {
    fn new(s: &ConvShape) -> Self {
        let out = s.output().expect("checked");
        let factor = [0, 1].map(|i| if s.kernel[i].is_multiple_of(s.stride[i]) { s.stride[i] } else { 1 });
        let step = [0, 1].map(|i| s.stride[i] / factor[i]);
        let kernel = [0, 1].map(|i| s.kernel[i] / factor[i]);
        // Enough rows and columns for every output pixel's kernel, and for the whole padded input.
        let side = |i: usize| {
            ((out[i] - 1) * step[i] + kernel[i]).max((s.size(i) + 2 * s.padding[i]).div_ceil(factor[i]))
        };
        let depth = [s.channels * factor[0] * factor[1], side(0), side(1)];
        let positions = out[0] * out[1];
        Self {
            s: *s,
            out,
            depth,
            factor,
            step,
            kernel,
            patch: depth[0] * kernel[0] * kernel[1],
            positions,
            row: positions.next_multiple_of(LANES),
        }
    }

    /// Space to depth is the identity: blocks of one pixel, no padding.
    fn direct(&self) -> bool {
        self.factor == [1, 1] && self.s.padding == [0, 0]
    }

    fn depth_len(&self) -> usize {
        self.depth.iter().product()
    }

    /// One sample's input, space to depth: channel `(c · sy + ry) · sx + rx`, pixel (y, x) holds
    /// the padded input's pixel (y · sy + ry, x · sx + rx) of channel c, zero outside it, where
    /// (sy, sx) is the block (the factor).
    fn space_to_depth(&self, x: &[f32], d: &mut [f32]) {
        let s = &self.s;
        let ([sy, sx], [py, px], [_, dh, dw]) = (self.factor, s.padding, self.depth);
        // Only input pixels are written: the padding around them stays as the buffer began, zero.
        for c in 0..s.channels {
            let plane = &x[c * s.height * s.width..][..s.height * s.width];
            for (iy, src) in plane.chunks_exact(s.width).enumerate() {
                let (y, ry) = ((iy + py) / sy, (iy + py) % sy);
                for rx in 0..sx {
                    let line = &mut d[(((c * sy + ry) * sx + rx) * dh + y) * dw..][..dw];
                    // Columns x with 0 ≤ x · sx + rx − px < width.
                    let first = px.saturating_sub(rx).div_ceil(sx);
                    let end = (s.width + px).saturating_sub(rx).div_ceil(sx).min(dw);
                    if first < end {
                        let src = src[first * sx + rx - px..].iter().step_by(sx);
                        line[first..end].iter_mut().zip(src).for_each(|(v, s)| *v = *s);
                    }
                }
            }
        }
    }

    /// The adjoint of [`Self::space_to_depth`]: each input pixel's gradient read back from its one place.
    fn depth_to_space(&self, d: &[f32], dx: &mut [f32]) {
        let s = &self.s;
        let ([sy, sx], [py, px], [_, dh, dw]) = (self.factor, s.padding, self.depth);
        for c in 0..s.channels {
            let plane = &mut dx[c * s.height * s.width..][..s.height * s.width];
            for (iy, dst) in plane.chunks_exact_mut(s.width).enumerate() {
                let (y, ry) = ((iy + py) / sy, (iy + py) % sy);
                for rx in 0..sx {
                    let line = &d[(((c * sy + ry) * sx + rx) * dh + y) * dw..][..dw];
                    // The columns of `space_to_depth`, read back.
                    let first = px.saturating_sub(rx).div_ceil(sx);
                    let end = (s.width + px).saturating_sub(rx).div_ceil(sx).min(dw);
                    if first < end {
                        let dst = dst[first * sx + rx - px..].iter_mut().step_by(sx);
                        dst.zip(&line[first..end]).for_each(|(v, g)| *v = *g);
                    }
                }
            }
        }
    }

    /// The weight, space to depth: `out × patch`, zeros where the kernel does not reach.
    fn depth_weight(&self, w: &[f32]) -> Vec<f32> {
        if self.direct() {
            return w.to_vec();
        }
        let mut d = vec![0.0f32; self.s.out_channels * self.patch];
        for (tap, at) in self.taps().into_iter().enumerate() {
            for (o, row) in d.chunks_exact_mut(self.patch).enumerate() {
                row[at] = w[o * self.s.patch() + tap];
            }
        }
        d
    }

    /// The adjoint of [`Self::depth_weight`], from its gradient kept transposed, `patch × out`.
    fn weight_gradient_of_depth(&self, d_t: &[f32]) -> Vec<f32> {
        let (out, patch) = (self.s.out_channels, self.s.patch());
        let mut w = vec![0.0f32; self.s.weight_len()];
        for (tap, at) in self.taps().into_iter().enumerate() {
            for (o, g) in d_t[at * out..][..out].iter().enumerate() {
                w[o * patch + tap] = *g;
            }
        }
        w
    }

    /// For each weight of one output channel (OIHW order), its index in the space-to-depth patch.
    fn taps(&self) -> Vec<usize> {
        let s = &self.s;
        let ([sy, sx], [kh, kw]) = (self.factor, self.kernel);
        let mut taps = Vec::with_capacity(s.patch());
        for c in 0..s.channels {
            for ky in 0..s.kernel[0] {
                for kx in 0..s.kernel[1] {
                    let channel = (c * sy + ky % sy) * sx + kx % sx;
                    taps.push((channel * kh + ky / sy) * kw + kx / sx);
                }
            }
        }
        taps
    }

    /// The transposed patch matrix of one space-to-depth sample: row (c, ky, kx) holds, at
    /// column `oy · out_w + ox`, pixel (oy · step + ky, ox · step + kx) of channel c. Padding columns are left
    /// as they are (zero from the start).
    fn unfold(&self, d: &[f32], u: &mut [f32]) {
        let ([_, dh, dw], [kh, kw], [_, ow], [step_y, step_x]) =
            (self.depth, self.kernel, self.out, self.step);
        for (tap, row) in u.chunks_exact_mut(self.row).enumerate() {
            let (c, ky, kx) = (tap / (kh * kw), tap / kw % kh, tap % kw);
            let plane = &d[c * dh * dw..][..dh * dw];
            for (oy, dst) in row[..self.positions].chunks_exact_mut(ow).enumerate() {
                let src = &plane[(oy * step_y + ky) * dw + kx..];
                if step_x == 1 {
                    copy_short(dst, &src[..ow]);
                } else {
                    dst.iter_mut().zip(src.iter().step_by(step_x)).for_each(|(a, b)| *a = *b);
                }
            }
        }
    }

    /// The adjoint of [`Self::unfold`]: adds each tap's row back onto the pixels it was read from.
    fn fold(&self, u: &[f32], d: &mut [f32]) {
        let ([_, dh, dw], [kh, kw], [_, ow], [step_y, step_x]) =
            (self.depth, self.kernel, self.out, self.step);
        for (tap, row) in u.chunks_exact(self.row).enumerate() {
            let (c, ky, kx) = (tap / (kh * kw), tap / kw % kh, tap % kw);
            let plane = &mut d[c * dh * dw..][..dh * dw];
            for (oy, src) in row[..self.positions].chunks_exact(ow).enumerate() {
                let dst = plane[(oy * step_y + ky) * dw + kx..].iter_mut().step_by(step_x);
                dst.zip(src).for_each(|(a, b)| *a += b);
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for runs of a few floats (an output row, 7 to 20 of them in the
/// shipped networks): in fixed blocks, without the call to `memmove` that a copy of unknown
/// length becomes, which cost more than the copying itself.
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let src = &src[..dst.len()];
    let (mut dst, mut src) = (dst.chunks_exact_mut(8), src.chunks_exact(8));
    for (d, s) in (&mut dst).zip(&mut src) {
        let (d, s): (&mut [f32; 8], &[f32; 8]) = (d.try_into().unwrap(), s.try_into().unwrap());
        *d = *s;
    }
    for (d, s) in dst.into_remainder().iter_mut().zip(src.remainder()) {
        *d = *s;
    }
}

/// Columns of the patch matrix are padded to a multiple of this (the widest SIMD vector of f32).
const LANES: usize = 16;

/// The forward pass: `y = conv(x, weight) + bias`, NCHW, and with `relu` `max(y, 0)`, applied to
/// each sample while its output is still in cache.
pub fn forward(s: &ConvShape, x: &[f32], weight: &[f32], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
    check(s, x.len(), weight.len());
    let plan = Plan::new(s);
    let (positions, out) = (plan.positions, s.out_channels);
    // Not zeroed first: each sample's output is written whole below before it is read.
    let mut y = Vec::<f32>::with_capacity(s.output_len());
    let weights = plan.depth_weight(weight);
    let weights = Mat::row_major(&weights, plan.patch);
    let sample = s.channels * s.height * s.width;
    let spare = &mut y.spare_capacity_mut()[..s.output_len()];
    x.par_chunks(sample).zip(spare.par_chunks_mut(out * positions)).for_each_init(
        || Scratch::new(&plan, false),
        |scratch, (x, y)| {
            let d = depth(&plan, x, &mut scratch.depth);
            plan.unfold(d, &mut scratch.patches);
            // y_b [out × positions] = W [out × patch] · U [patch × positions]
            let u = Mat::row_major(&scratch.patches, plan.row);
            let parallel = parallel_if(s.batch);
            let y = if plan.row == positions {
                product_into(out, positions, plan.patch, y, weights, u, parallel)
            } else {
                // The padded width keeps the product reading the patches in place.
                let wide = &mut scratch.wide;
                matmul(out, plan.row, plan.patch, wide, plan.row, Dst::Write, weights, u, parallel);
                for (plane, line) in y.chunks_exact_mut(positions).zip(wide.chunks_exact(plan.row)) {
                    plane.iter_mut().zip(&line[..positions]).for_each(|(v, w)| {
                        v.write(*w);
                    });
                }
                // SAFETY: every element of this sample's output was written just above.
                unsafe { std::slice::from_raw_parts_mut(y.as_mut_ptr().cast::<f32>(), y.len()) }
            };
            finish(y, positions, bias, relu);
        },
    );
    // SAFETY: the loop wrote every sample's output, all of `output_len`.
    unsafe { y.set_len(s.output_len()) };
    y
}

/// Adds each channel's bias to its plane of `positions` values in `y` and, with `relu`, clamps
/// at zero: one pass over a sample's output while it is still in cache.
fn finish(y: &mut [f32], positions: usize, bias: Option<&[f32]>, relu: bool) {
    match (bias, relu) {
        (Some(bias), true) => {
            for (plane, b) in y.chunks_exact_mut(positions).zip(bias) {
                plane.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
            }
        }
        (Some(bias), false) => {
            for (plane, b) in y.chunks_exact_mut(positions).zip(bias) {
                plane.iter_mut().for_each(|v| *v += b);
            }
        }
        (None, true) => y.iter_mut().for_each(|v| *v = v.max(0.0)),
        (None, false) => {}
    }
}

/// One thread's working memory, reused from sample to sample.
struct Scratch {
    /// The space-to-depth sample (empty where it is the input itself).
    depth: Vec<f32>,
    /// The transposed patch matrix, `patch × row`, its padding columns zero.
    patches: Vec<f32>,
    /// A product `out × row` (forward) or the patches' gradient `patch × row` (backward).
    wide: Vec<f32>,
}

impl Scratch {
    fn new(plan: &Plan, backward: bool) -> Self {
        let depth = if plan.direct() { 0 } else { plan.depth_len() };
        let wide = if backward { plan.patch } else { plan.s.out_channels } * plan.row;
        Self { depth: vec![0.0; depth], patches: vec![0.0; plan.patch * plan.row], wide: vec![0.0; wide] }
    }
}

/// The sample `x`, space to depth (in `buffer`, unless that is `x` itself).
fn depth<'a>(plan: &Plan, x: &'a [f32], buffer: &'a mut [f32]) -> &'a [f32] {
    if plan.direct() {
        return x;
    }
    plan.space_to_depth(x, buffer);
    buffer
}

/// Gradients of [`forward`]: (input gradient if `input_grad`, weight gradient, bias gradient),
/// from the input `x` and the output gradient `dy` (NCHW).
///
/// Each sample's patches are unfolded again here, next to their use, rather than kept from the
/// forward pass: a sample's patches fit in cache, a batch's do not. The batch is cut into a fixed
/// number of groups that run in parallel, each summing its samples' weight gradients, and the
/// groups' sums are added in order, so the result does not depend on the number of threads.
pub fn backward(
    s: &ConvShape,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    input_grad: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    check(s, x.len(), weight.len());
    assert_eq!(dy.len(), s.output_len(), "output gradient of {s:?}");
    let plan = Plan::new(s);
    let (positions, patch, out) = (plan.positions, plan.patch, s.out_channels);
    let sample = s.channels * s.height * s.width;
    let per_group = s.batch.div_ceil(GROUPS).max(1);
    let mut dx = if input_grad { vec![0.0f32; s.input_len()] } else { Vec::new() };
    let weights = plan.depth_weight(weight);

    let groups = s.batch.div_ceil(per_group);
    let dx_groups: Vec<Option<&mut [f32]>> = if input_grad {
        dx.chunks_mut(sample * per_group).map(Some).collect()
    } else {
        (0..groups).map(|_| None).collect()
    };
    let group_sums: Vec<(Vec<f32>, Vec<f32>)> = x
        .par_chunks(sample * per_group)
        .zip(dy.par_chunks(out * positions * per_group))
        .zip(dx_groups)
        .map(|((x, dy), mut dx)| {
            let mut scratch = Scratch::new(&plan, input_grad);
            let mut d_depth = if input_grad { vec![0.0f32; plan.depth_len()] } else { Vec::new() };
            let (mut dw, mut db) = (vec![0.0f32; out * patch], vec![0.0f32; out]);
            for (i, (x, dy)) in x.chunks_exact(sample).zip(dy.chunks_exact(out * positions)).enumerate() {
                let d = depth(&plan, x, &mut scratch.depth);
                plan.unfold(d, &mut scratch.patches);
                // dWᵀ [patch × out] += U [patch × positions] · dy_bᵀ [positions × out]: transposed,
                // so that the product reads the patches in place.
                let (u, dy_t) = (Mat::row_major(&scratch.patches, plan.row), Mat::col_major(dy, positions));
                matmul(patch, out, positions, &mut dw, out, Dst::Add, u, dy_t, false);
                let dy_b = Mat::row_major(dy, positions);
                for (g, plane) in db.iter_mut().zip(dy.chunks_exact(positions)) {
                    *g += lanes_sum(plane);
                }
                if let Some(dx) = dx.as_deref_mut() {
                    // dU [patch × positions] = Wᵀ [patch × out] · dy_b [out × positions]
                    let w_t = Mat::col_major(&weights, patch);
                    let du = &mut scratch.wide;
                    matmul(patch, positions, out, du, plan.row, Dst::Write, w_t, dy_b, false);
                    let dx = &mut dx[i * sample..][..sample];
                    if plan.direct() {
                        // `dx` starts zero, and each sample's part is folded into once.
                        plan.fold(du, dx);
                    } else {
                        d_depth.fill(0.0);
                        plan.fold(du, &mut d_depth);
                        plan.depth_to_space(&d_depth, dx);
                    }
                }
            }
            (dw, db)
        })
        .collect();

    let (mut dw, mut db) = (vec![0.0f32; out * patch], vec![0.0f32; out]);
    for (gw, gb) in &group_sums {
        dw.iter_mut().zip(gw).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
    }
    (input_grad.then_some(dx), plan.weight_gradient_of_depth(&dw), db)
}

/// The sum of `values` in eight running sums (one SIMD vector) added at the end, in a fixed order:
/// one long chain of dependent additions is eight times slower.
fn lanes_sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = values.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += v);
    }
    lanes.iter().sum::<f32>() + tail
}

/// The batch is summed in this many groups, whatever the number of threads.
const GROUPS: usize = 8;

fn check(s: &ConvShape, x: usize, weight: usize) {
    assert!(s.output().is_some(), "the kernel of {s:?} does not fit its input");
    assert_eq!(x, s.input_len(), "input of {s:?}");
    assert_eq!(weight, s.weight_len(), "weight of {s:?}");
}

/// With fewer samples than threads, the product itself runs in parallel instead.
fn parallel_if(batch: usize) -> bool {
    batch < rayon::current_num_threads()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_values::values;

    /// The convolution by its definition, in f64.
    fn naive(s: &ConvShape, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f64> {
        let [oh, ow] = s.output().unwrap();
        let mut y = vec![0.0; s.output_len()];
        for b in 0..s.batch {
            for o in 0..s.out_channels {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut sum = bias[o] as f64;
                        for c in 0..s.channels {
                            for ky in 0..s.kernel[0] {
                                for kx in 0..s.kernel[1] {
                                    let iy = (oy * s.stride[0] + ky) as isize - s.padding[0] as isize;
                                    let ix = (ox * s.stride[1] + kx) as isize - s.padding[1] as isize;
                                    if iy < 0 || ix < 0 || iy as usize >= s.height || ix as usize >= s.width {
                                        continue;
                                    }
                                    let xi = ((b * s.channels + c) * s.height + iy as usize) * s.width
                                        + ix as usize;
                                    let wi = ((o * s.channels + c) * s.kernel[0] + ky) * s.kernel[1] + kx;
                                    sum += x[xi] as f64 * weight[wi] as f64;
                                }
                            }
                        }
                        y[((b * s.out_channels + o) * oh + oy) * ow + ox] = sum;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn forward_matches_the_definition_with_padding_and_odd_sizes() {
        let s = ConvShape {
            batch: 3,
            channels: 2,
            height: 7,
            width: 9,
            out_channels: 5,
            kernel: [3, 2],
            stride: [2, 1],
            padding: [1, 2],
        };
        let (x, w, b) = (values(s.input_len(), 1), values(s.weight_len(), 2), values(5, 3));
        let y = forward(&s, &x, &w, Some(&b), false);
        let reference = naive(&s, &x, &w, &b);
        for (a, r) in y.iter().zip(&reference) {
            assert!((*a as f64 - r).abs() < 1e-5, "{a} vs {r}");
        }
    }

    #[test]
    fn backward_is_the_adjoint_of_forward() {
        // <dy, conv(x)> = <dx, x> + <dW, W> + <db, b>: for a bilinear map with bias, the
        // gradients of the sum of dy ⊙ y with respect to x and W pair back to twice that value
        // minus the bias part, checked here against the forward pass with f64 sums.
        let s = ConvShape {
            batch: 2,
            channels: 3,
            height: 8,
            width: 6,
            out_channels: 4,
            kernel: [3, 3],
            stride: [1, 2],
            padding: [1, 1],
        };
        let (x, w, b) = (values(s.input_len(), 4), values(s.weight_len(), 5), values(4, 6));
        let dy = values(s.output_len(), 7);
        let y = forward(&s, &x, &w, Some(&b), false);
        let (dx, dw, db) = backward(&s, &x, &w, &dy, true);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>();
        let (lhs, via_x, via_w, via_b) = (dot(&dy, &y), dot(&dx.unwrap(), &x), dot(&dw, &w), dot(&db, &b));
        // y is linear in x for fixed W and in W for fixed x: <dy, y − b> = <dx, x> = <dW, W>.
        assert!((lhs - via_b - via_x).abs() < 1e-4, "{lhs} − {via_b} vs {via_x}");
        assert!((lhs - via_b - via_w).abs() < 1e-4, "{lhs} − {via_b} vs {via_w}");
    }
}
