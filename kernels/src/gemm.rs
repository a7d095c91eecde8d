//! The one place that calls the `gemm` crate: matrices as slices with row and column strides.

use std::mem::MaybeUninit;

/// A read-only matrix view: element (i, j) is `data[i · row_stride + j · col_stride]`.
#[derive(Clone, Copy)]
pub struct Mat<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Mat<'a> {
    /// Rows of `cols` elements one after another.
    pub fn row_major(data: &'a [f32], cols: usize) -> Self {
        Self { data, row_stride: cols, col_stride: 1 }
    }

    /// Columns of `rows` elements one after another: the transpose of a row-major matrix with
    /// rows of `rows` elements.
    pub fn col_major(data: &'a [f32], rows: usize) -> Self {
        Self { data, row_stride: 1, col_stride: rows }
    }

    /// The largest index an `rows` × `cols` view reads, plus one.
    fn extent(&self, rows: usize, cols: usize) -> usize {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * self.row_stride + (cols - 1) * self.col_stride + 1
        }
    }
}

/// How a product meets its destination.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dst {
    /// `dst = lhs · rhs`.
    Write,
    /// `dst += lhs · rhs`.
    Add,
}

/// `dst [m × n] (=|+=) lhs [m × k] · rhs [k × n]`, `dst` row-major with rows `dst_row_stride`
/// apart. `parallel`: split the product over rayon's threads (for a product called alone;
/// products already running inside a parallel loop should not).
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_row_stride: usize,
    mode: Dst,
    lhs: Mat,
    rhs: Mat,
    parallel: bool,
) {
    // The bounds the unsafe call relies on.
    assert!(lhs.data.len() >= lhs.extent(m, k), "lhs too short for {m}×{k}");
    assert!(rhs.data.len() >= rhs.extent(k, n), "rhs too short for {k}×{n}");
    let dst_view = Mat { data: &[], row_stride: dst_row_stride, col_stride: 1 };
    assert!(dst.len() >= dst_view.extent(m, n), "dst too short for {m}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if mode == Dst::Write {
            dst.iter_mut().for_each(|v| *v = 0.0);
        }
        return;
    }
    // SAFETY: the asserts above keep every strided access inside its slice, and `dst` does not
    // alias the inputs (&mut vs &).
    unsafe { call_gemm(m, n, k, dst.as_mut_ptr(), dst_row_stride, mode == Dst::Add, lhs, rhs, parallel) }
}

/// `lhs [m × k] · rhs [k × n]` as a new row-major `m × n` matrix. The buffer is not zeroed first:
/// the product writes every element without reading it (`gemm` with `read_dst` false never
/// does), which spares a pass over the result and, for large ones, the zeroing of fresh pages.
pub fn product(m: usize, n: usize, k: usize, lhs: Mat, rhs: Mat, parallel: bool) -> Vec<f32> {
    if k == 0 || m == 0 || n == 0 {
        return vec![0.0; m * n];
    }
    assert!(lhs.data.len() >= lhs.extent(m, k), "lhs too short for {m}×{k}");
    assert!(rhs.data.len() >= rhs.extent(k, n), "rhs too short for {k}×{n}");
    let mut dst = Vec::<f32>::with_capacity(m * n);
    // SAFETY: the asserts keep every read inside `lhs` and `rhs`; `dst` has room for m × n
    // elements, all of which the call writes (read_dst false: none is read) before `set_len`.
    unsafe {
        call_gemm(m, n, k, dst.as_mut_ptr(), n, false, lhs, rhs, parallel);
        dst.set_len(m * n);
    }
    dst
}

/// `lhs [m × k] · rhs [k × n]` written into `dst`, an uninitialised dense row-major `m × n`
/// matrix (a slice of a buffer not zeroed first); returns it, every element written.
pub fn product_into<'a>(
    m: usize,
    n: usize,
    k: usize,
    dst: &'a mut [MaybeUninit<f32>],
    lhs: Mat,
    rhs: Mat,
    parallel: bool,
) -> &'a mut [f32] {
    assert_eq!(dst.len(), m * n, "dst of {m}×{n}");
    if k == 0 {
        dst.iter_mut().for_each(|v| {
            v.write(0.0);
        });
    } else if m > 0 && n > 0 {
        assert!(lhs.data.len() >= lhs.extent(m, k), "lhs too short for {m}×{k}");
        assert!(rhs.data.len() >= rhs.extent(k, n), "rhs too short for {k}×{n}");
        // SAFETY: the asserts keep every read inside `lhs` and `rhs`; `dst` holds m × n elements,
        // all written by the call (read_dst false: none is read); `&mut` excludes overlap.
        unsafe { call_gemm(m, n, k, dst.as_mut_ptr().cast(), n, false, lhs, rhs, parallel) }
    }
    // SAFETY: every element was written above.
    unsafe { std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast(), dst.len()) }
}

/// The one call into `gemm`: `dst (=|+=) lhs · rhs`, `dst` row-major with rows `dst_row_stride`
/// apart, read only when `read_dst`.
///
/// # Safety
/// `dst` must hold an `m × n` matrix at that stride, and `lhs` and `rhs` their `m × k` and `k × n`
/// views (the callers assert the views' extents); `dst` must not overlap them.
#[allow(clippy::too_many_arguments)]
unsafe fn call_gemm(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_row_stride: usize,
    read_dst: bool,
    lhs: Mat,
    rhs: Mat,
    parallel: bool,
) {
    let parallelism = if parallel { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    // SAFETY: as the caller promises.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_row_stride as isize,
            read_dst,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
