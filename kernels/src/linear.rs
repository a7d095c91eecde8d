//! A fully connected layer on plain `f32` slices, `y = x · W + b` with burn's `[d_input,
//! d_output]` weight, forward and backward, each gradient one product by the `gemm` crate's kernel
//! reading its operands transposed in place. burn-flex's own backward copies the transposed
//! weight and input first: on the Nature CNN's 3136 × 512 layer that made its backward pass cost
//! ten times its forward pass.

use crate::gemm::{Mat, product};

/// `batch` rows of `input` features in, `output` features out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearShape {
    pub batch: usize,
    pub input: usize,
    pub output: usize,
}

/// `y [batch × output] = x [batch × input] · W [input × output] + b`, and with `relu` `max(y, 0)`.
pub fn forward(s: &LinearShape, x: &[f32], weight: &[f32], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
    check(s, x.len(), weight.len());
    let (x, w) = (Mat::row_major(x, s.input), Mat::row_major(weight, s.output));
    let mut y = product(s.batch, s.output, s.input, x, w, true);
    if let Some(bias) = bias {
        for row in y.chunks_exact_mut(s.output) {
            row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
        }
    }
    if relu {
        y.iter_mut().for_each(|v| *v = v.max(0.0));
    }
    y
}

/// Gradients of [`forward`]: (input gradient if `input_grad`, weight gradient, bias gradient).
/// The bias gradient sums the batch in order, the products never split a sum across threads:
/// the same bits on any machine.
pub fn backward(
    s: &LinearShape,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    input_grad: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    check(s, x.len(), weight.len());
    assert_eq!(dy.len(), s.batch * s.output, "output gradient of {s:?}");
    let dy_m = Mat::row_major(dy, s.output);
    let dx = input_grad.then(|| {
        // dx [batch × input] = dy [batch × output] · Wᵀ [output × input]
        let w_t = Mat::col_major(weight, s.output);
        product(s.batch, s.input, s.output, dy_m, w_t, true)
    });
    // dW [input × output] = xᵀ [input × batch] · dy [batch × output]
    let x_t = Mat::col_major(x, s.input);
    let dw = product(s.input, s.output, s.batch, x_t, dy_m, true);
    let mut db = vec![0.0f32; s.output];
    for row in dy.chunks_exact(s.output) {
        db.iter_mut().zip(row).for_each(|(g, v)| *g += v);
    }
    (dx, dw, db)
}

fn check(s: &LinearShape, x: usize, weight: usize) {
    assert_eq!(x, s.batch * s.input, "input of {s:?}");
    assert_eq!(weight, s.input * s.output, "weight of {s:?}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_values::values;

    #[test]
    fn forward_and_backward_match_the_definition() {
        let s = LinearShape { batch: 3, input: 7, output: 5 };
        let (x, w, b, dy) = (values(21, 1), values(35, 2), values(5, 3), values(15, 4));
        let y = forward(&s, &x, &w, Some(&b), false);
        let (dx, dw, db) = backward(&s, &x, &w, &dy, true);
        let dx = dx.unwrap();
        for n in 0..3 {
            for o in 0..5 {
                let r: f64 =
                    b[o] as f64 + (0..7).map(|i| x[n * 7 + i] as f64 * w[i * 5 + o] as f64).sum::<f64>();
                assert!((y[n * 5 + o] as f64 - r).abs() < 1e-5);
            }
            for i in 0..7 {
                let r: f64 = (0..5).map(|o| dy[n * 5 + o] as f64 * w[i * 5 + o] as f64).sum();
                assert!((dx[n * 7 + i] as f64 - r).abs() < 1e-5);
            }
        }
        for i in 0..7 {
            for o in 0..5 {
                let r: f64 = (0..3).map(|n| x[n * 7 + i] as f64 * dy[n * 5 + o] as f64).sum();
                assert!((dw[i * 5 + o] as f64 - r).abs() < 1e-5);
            }
        }
        for o in 0..5 {
            let r: f32 = (0..3).map(|n| dy[n * 5 + o]).sum();
            assert!((db[o] - r).abs() < 1e-6);
        }
    }
}
