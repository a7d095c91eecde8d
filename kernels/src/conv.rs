//! 2D convolution as it should be done for small batches of small images, on plain `f32` slices:
//! each sample unfolded into a matrix of patches (one row per output pixel, "im2row"), one product
//! by the `gemm` crate's tuned kernel per sample, written straight into the NCHW output. The
//! backward pass unfolds each sample again and takes two products on it: the weight gradient
//! summed over the batch, the input gradient folded back into the image.
//!
//! Samples run in parallel on rayon's pool; every sum is taken in an order that does not depend
//! on the number of threads, so results are the same bit for bit on any machine.

use crate::gemm::{Dst, Mat, matmul};
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

/// The forward pass: `y = conv(x, weight) + bias`, NCHW.
pub fn forward(s: &ConvShape, x: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    check(s, x.len(), weight.len());
    let (positions, patch, out) = (s.positions(), s.patch(), s.out_channels);
    let mut y = vec![0.0f32; s.output_len()];
    let weights = Mat::row_major(weight, patch);
    let sample = s.channels * s.height * s.width;
    x.par_chunks(sample).zip(y.par_chunks_mut(out * positions)).for_each_init(
        || vec![0.0f32; positions * patch],
        |rows, (x, y)| {
            unfold(s, x, rows);
            // y_b [out × positions] = W [out × patch] · rows_bᵀ [patch × positions]
            let rows = Mat::col_major(rows, patch);
            matmul(out, positions, patch, y, positions, Dst::Write, weights, rows, parallel_if(s.batch));
            if let Some(bias) = bias {
                for (plane, b) in y.chunks_exact_mut(positions).zip(bias) {
                    plane.iter_mut().for_each(|v| *v += b);
                }
            }
        },
    );
    y
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
    let (positions, patch, out) = (s.positions(), s.patch(), s.out_channels);
    let sample = s.channels * s.height * s.width;
    let per_group = s.batch.div_ceil(GROUPS).max(1);
    let mut dx = if input_grad { vec![0.0f32; s.input_len()] } else { Vec::new() };
    let weights = Mat::row_major(weight, patch);

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
            let mut rows = vec![0.0f32; positions * patch];
            let mut d_rows = if input_grad { vec![0.0f32; positions * patch] } else { Vec::new() };
            let (mut dw, mut db) = (vec![0.0f32; out * patch], vec![0.0f32; out]);
            for (i, (x, dy)) in x.chunks_exact(sample).zip(dy.chunks_exact(out * positions)).enumerate() {
                unfold(s, x, &mut rows);
                // dW += dy_b [out × positions] · rows_b [positions × patch]
                let (dy_b, rows_b) = (Mat::row_major(dy, positions), Mat::row_major(&rows, patch));
                matmul(out, patch, positions, &mut dw, patch, Dst::Add, dy_b, rows_b, false);
                for (g, plane) in db.iter_mut().zip(dy.chunks_exact(positions)) {
                    *g += plane.iter().sum::<f32>();
                }
                if let Some(dx) = dx.as_deref_mut() {
                    // d rows_b [positions × patch] = dy_bᵀ [positions × out] · W [out × patch]
                    let dy_t = Mat::col_major(dy, positions);
                    matmul(positions, patch, out, &mut d_rows, patch, Dst::Write, dy_t, weights, false);
                    fold(s, &d_rows, &mut dx[i * sample..][..sample]);
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
    (input_grad.then_some(dx), dw, db)
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

/// One sample's patches: row `oy · out_w + ox` holds the input under the kernel there, channel by
/// channel, kernel row by kernel row (the weight's OIHW order), zeros where it hangs over the edge.
fn unfold(s: &ConvShape, x: &[f32], rows: &mut [f32]) {
    let [out_h, out_w] = s.output().expect("checked");
    let (h, w) = (s.height as isize, s.width);
    let [kh, kw] = s.kernel;
    let patch = s.patch();
    for oy in 0..out_h {
        for ox in 0..out_w {
            let row = &mut rows[(oy * out_w + ox) * patch..][..patch];
            let x0 = (ox * s.stride[1]) as isize - s.padding[1] as isize;
            let inside = x0 >= 0 && x0 as usize + kw <= w;
            let mut segments = row.chunks_exact_mut(kw);
            for c in 0..s.channels {
                let plane = &x[c * s.height * w..][..s.height * w];
                for ky in 0..kh {
                    let dst = segments.next().expect("patch length");
                    let iy = (oy * s.stride[0] + ky) as isize - s.padding[0] as isize;
                    if iy < 0 || iy >= h {
                        dst.fill(0.0);
                        continue;
                    }
                    let line = &plane[iy as usize * w..][..w];
                    if inside {
                        copy_segment(dst, &line[x0 as usize..][..kw]);
                    } else {
                        for (kx, d) in dst.iter_mut().enumerate() {
                            let ix = x0 + kx as isize;
                            *d = if ix >= 0 && (ix as usize) < w { line[ix as usize] } else { 0.0 };
                        }
                    }
                }
            }
        }
    }
}

/// `dst.copy_from_slice(src)`, for the few floats of one kernel row: with the length known at
/// compile time the copy is a register move or two, not a call to `memcpy` (which cost a fifth of
/// an update when every kernel row was one).
#[inline(always)]
fn copy_segment(dst: &mut [f32], src: &[f32]) {
    fn fixed<const N: usize>(dst: &mut [f32], src: &[f32]) {
        let (dst, src): (&mut [f32; N], &[f32; N]) = (dst.try_into().unwrap(), src.try_into().unwrap());
        *dst = *src;
    }
    match dst.len() {
        3 => fixed::<3>(dst, src),
        4 => fixed::<4>(dst, src),
        5 => fixed::<5>(dst, src),
        8 => fixed::<8>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// The adjoint of [`unfold`]: adds each patch row back onto the input pixels it was read from.
fn fold(s: &ConvShape, rows: &[f32], dx: &mut [f32]) {
    let [out_h, out_w] = s.output().expect("checked");
    let (h, w) = (s.height as isize, s.width);
    let [kh, kw] = s.kernel;
    let patch = s.patch();
    for oy in 0..out_h {
        for ox in 0..out_w {
            let row = &rows[(oy * out_w + ox) * patch..][..patch];
            let x0 = (ox * s.stride[1]) as isize - s.padding[1] as isize;
            let mut segments = row.chunks_exact(kw);
            for c in 0..s.channels {
                let plane = &mut dx[c * s.height * w..][..s.height * w];
                for ky in 0..kh {
                    let src = segments.next().expect("patch length");
                    let iy = (oy * s.stride[0] + ky) as isize - s.padding[0] as isize;
                    if iy < 0 || iy >= h {
                        continue;
                    }
                    let line = &mut plane[iy as usize * w..][..w];
                    for (kx, v) in src.iter().enumerate() {
                        let ix = x0 + kx as isize;
                        if ix >= 0 && (ix as usize) < w {
                            line[ix as usize] += v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / (1 << 24) as f32
                    - 0.5
            })
            .collect()
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
        let y = forward(&s, &x, &w, Some(&b));
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
        let y = forward(&s, &x, &w, Some(&b));
        let (dx, dw, db) = backward(&s, &x, &w, &dy, true);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>();
        let (lhs, via_x, via_w, via_b) = (dot(&dy, &y), dot(&dx.unwrap(), &x), dot(&dw, &w), dot(&db, &b));
        // y is linear in x for fixed W and in W for fixed x: <dy, y − b> = <dx, x> = <dW, W>.
        assert!((lhs - via_b - via_x).abs() < 1e-4, "{lhs} − {via_b} vs {via_x}");
        assert!((lhs - via_b - via_w).abs() < 1e-4, "{lhs} − {via_b} vs {via_w}");
    }
}
