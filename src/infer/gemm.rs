//! The runtime's only door to the matrix-product kernels: the `gemm` crate (the one burn flex
//! uses), behind a safe function that checks every index it will touch. Also the matrix-product
//! ceiling that `ganstyle bench` compares the network against.

#![allow(unsafe_code)]

use std::time::Instant;

/// A read-only strided matrix over a slice: element `(r, c)` is `data[r * row_stride + c * col_stride]`.
/// Rows may overlap (a convolution reads each input pixel for several output pixels).
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows.
    pub row_stride: usize,
    /// Distance between columns.
    pub col_stride: usize,
}

impl<'a> View<'a> {
    /// A dense row-major `rows`×`cols` matrix at the start of `data`.
    pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    fn check(&self, what: &str) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(
                last < self.data.len(),
                "{what}: a {}x{} view reaches element {last} of {}",
                self.rows,
                self.cols,
                self.data.len()
            );
        }
    }
}

/// Whether one product may use every core (large products), or must stay on the calling thread
/// (the runtime splits a layer into rows and runs those in parallel instead).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Threads {
    /// One thread.
    One,
    /// All of rayon's threads.
    All,
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` with `accumulate`, row-major with rows `dst_stride`
/// apart. Panics (never reads or writes out of bounds) when the shapes do not fit the slices.
pub fn matmul(
    dst: &mut [f32],
    dst_stride: usize,
    lhs: View,
    rhs: View,
    accumulate: bool,
    threads: Threads,
) {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions differ");
    lhs.check("lhs");
    rhs.check("rhs");
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    if m == 0 || n == 0 {
        return;
    }
    assert!(n <= dst_stride, "dst rows overlap");
    let last = (m - 1) * dst_stride + n - 1;
    assert!(last < dst.len(), "dst: element {last} of {}", dst.len());
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_stride).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    let parallelism = match threads {
        Threads::One => gemm::Parallelism::None,
        Threads::All => gemm::Parallelism::Rayon(0),
    };
    // SAFETY: the asserts above bound every element gemm reads through `lhs` and `rhs` by
    // their slices, and every element it writes by `dst`, which we borrow mutably; strides are
    // non-negative and rows of `n ≤ dst_stride` values do not overlap.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_stride as isize,
            accumulate,
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

/// The matrix-product ceiling of this machine: GFLOP/s of the best of `repeats` dense
/// `n`×`n`×`n` f32 products on all threads (2·n³ floating-point operations each).
pub fn ceiling_gflops(n: usize, repeats: usize) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.25 - 0.5).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.25 - 0.5).collect();
    let mut c = vec![0.0f32; n * n];
    let mut best = f64::INFINITY;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        matmul(
            &mut c,
            n,
            View::dense(&a, n, n),
            View::dense(&b, n, n),
            false,
            Threads::All,
        );
        best = best.min(start.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_products_match_the_definition() {
        // lhs reads overlapping rows (stride 2, 3 columns), as a convolution does.
        let data: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let lhs = View {
            data: &data,
            rows: 4,
            cols: 3,
            row_stride: 2,
            col_stride: 1,
        };
        let weights = [1.0, -1.0, 0.5, 2.0, 0.0, 1.0];
        let rhs = View::dense(&weights, 3, 2);
        let mut dst = vec![100.0; 4 * 3];
        matmul(&mut dst, 3, lhs, rhs, false, Threads::One);
        for r in 0..4 {
            for c in 0..2 {
                let want: f32 = (0..3).map(|k| data[r * 2 + k] * weights[k * 2 + c]).sum();
                assert_eq!(dst[r * 3 + c], want, "({r}, {c})");
            }
            assert_eq!(dst[r * 3 + 2], 100.0, "the gap column is not written");
        }
        let before = dst.clone();
        matmul(&mut dst, 3, lhs, rhs, true, Threads::All);
        for (i, (after, before)) in dst.iter().zip(&before).enumerate() {
            let expected = if i % 3 == 2 { 100.0 } else { 2.0 * before };
            assert_eq!(*after, expected, "{i}");
        }
    }

    #[test]
    #[should_panic(expected = "lhs")]
    fn views_past_their_slice_are_refused() {
        let data = [0.0f32; 5];
        let lhs = View {
            data: &data,
            rows: 3,
            cols: 2,
            row_stride: 2,
            col_stride: 1,
        };
        let rhs = [0.0f32; 2];
        let mut dst = [0.0f32; 3];
        matmul(
            &mut dst,
            1,
            lhs,
            View::dense(&rhs, 2, 1),
            false,
            Threads::One,
        );
    }
}
