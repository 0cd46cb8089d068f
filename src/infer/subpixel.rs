//! A nearest-neighbour 2× upsample followed by a 3×3 convolution (the decoder layers of the
//! johnson and magenta architectures), as four 2×2 convolutions of the source map, one per
//! output phase: 4/9 of the multiply-adds, and no upsampled copy.
//!
//! Along each axis, output position `2i + d` of the upsampled map's 3×3 window reads upsampled
//! positions `2i + d − 1 ..= 2i + d + 1`, that is source pixels
//! - `d = 0`: `i − 1` (tap 0) and `i` (taps 1 and 2);
//! - `d = 1`: `i` (taps 0 and 1) and `i + 1` (tap 2).
//!
//! So each phase `(dx, dy)` is a 2×2 convolution with those taps summed. The reflection padding
//! of the upsampled map reads the source's edge pixel again at both ends (upsampled position −1
//! reflects to 1, which is source pixel 0), so the source is padded by one edge-replicated
//! pixel, and phase `d`'s window starts `d` pixels into the padded source.
//!
//! Folding the taps changes the order of the sums, so the four phases of a constant map differ
//! by rounding, where upsampling first gives exactly equal values. Instance norm divides by a
//! map's spread, so on a flat frame (a black frame at a stream's start) the next norms would
//! blow that rounding up into visible noise: a constant source map gets a constant output,
//! computed once.
//!
//! Each phase of a band of source rows is one matrix product per kernel row that reads the
//! padded source in place, as [`super::conv`]'s stride-1 bands do; the band's results are then
//! interleaved into the output rows.

use rayon::prelude::*;

use super::gemm::{Threads, View, matmul};
use super::map::{Map, Pool};

/// Source positions per product of a band.
const BAND_PIXELS: usize = 4096;

/// Which 3×3 taps land on the two source pixels of phase `d` (see the module docs).
const FOLD: [[&[usize]; 2]; 2] = [[&[0], &[1, 2]], [&[0, 1], &[2]]];

/// The 2×2 weights `[ky][kx][cin][cout]` of phase `(dx, dy)` from 3×3 weights `[ky][kx][cin][cout]`.
fn phase_weights(weights: &[f32], cin: usize, cout: usize, dx: usize, dy: usize) -> Vec<f32> {
    let block = cin * cout;
    let mut out = vec![0.0; 4 * block];
    for (ky, rows) in FOLD[dy].iter().enumerate() {
        for (kx, cols) in FOLD[dx].iter().enumerate() {
            let dst = &mut out[(ky * 2 + kx) * block..][..block];
            for &ty in *rows {
                for &tx in *cols {
                    let src = &weights[(ty * 3 + tx) * block..][..block];
                    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                }
            }
        }
    }
    out
}

/// The pixel that every pixel of `src` equals, if there is one.
fn constant_pixel(src: &Map) -> Option<&[f32]> {
    let c = src.channels;
    let first = src.data.get(..c)?;
    src.data
        .par_chunks(c * 4096)
        .all(|chunk| chunk.chunks_exact(c).all(|p| p == first))
        .then_some(first)
}

/// The `width`×`height` output of the 3×3 convolution of a constant map: every pixel is
/// `pixel` through all nine taps.
fn constant(
    pixel: &[f32],
    width: usize,
    height: usize,
    weights: &[f32],
    cout: usize,
    pool: &Pool,
) -> Map {
    let mut value = vec![0.0f32; cout];
    for tap in weights.chunks_exact(pixel.len() * cout) {
        for (x, w) in pixel.iter().zip(tap.chunks_exact(cout)) {
            value.iter_mut().zip(w).for_each(|(v, w)| *v += x * w);
        }
    }
    let mut out = pool.map(width, height, cout);
    out.data.par_chunks_mut(cout * 4096).for_each(|chunk| {
        chunk
            .chunks_exact_mut(cout)
            .for_each(|p| p.copy_from_slice(&value))
    });
    out
}

/// Pad `src` by one edge-replicated pixel on each side.
fn pad_edges(src: &Map, pool: &Pool) -> Map {
    let (w, h, c) = (src.width, src.height, src.channels);
    let mut out = pool.map(w + 2, h + 2, c);
    let row_len = out.row_len();
    out.data
        .par_chunks_mut(row_len)
        .enumerate()
        .for_each(|(py, row)| {
            let line = &src.data[py.saturating_sub(1).min(h - 1) * src.row_len()..][..w * c];
            row[c..(w + 1) * c].copy_from_slice(line);
            row[..c].copy_from_slice(&line[..c]);
            row[(w + 1) * c..].copy_from_slice(&line[(w - 1) * c..]);
        });
    out
}

/// The 3×3 convolution (weights `[ky][kx][cin][cout]`, stride 1, reflection padding, no bias)
/// of `src` upsampled 2× by nearest neighbour: the same values as
/// [`super::conv::Conv::run`] with `upsample`, from 4/9 of its multiply-adds.
pub fn convolve(src: &Map, weights: &[f32], cout: usize, pool: &Pool) -> Map {
    let (w, h, cin) = (src.width, src.height, src.channels);
    assert_eq!(weights.len(), 9 * cin * cout, "3x3 weights");
    if let Some(pixel) = constant_pixel(src) {
        return constant(pixel, 2 * w, 2 * h, weights, cout, pool);
    }
    let phases: Vec<Vec<f32>> = (0..4)
        .map(|p| phase_weights(weights, cin, cout, p % 2, p / 2))
        .collect();
    let padded = pad_edges(src, pool);
    let (wp, padded_row, kc) = (w + 2, padded.row_len(), 2 * cin);
    let mut out = pool.map(2 * w, 2 * h, cout);
    let out_row = out.row_len();
    // About BAND_PIXELS source positions per product, and at least 8 bands for the threads.
    let band = (BAND_PIXELS / wp).clamp(1, h.div_ceil(8).max(1));
    out.data
        .par_chunks_mut(2 * band * out_row)
        .enumerate()
        .for_each_init(Vec::new, |buffer, (b, rows)| {
            // Source rows j0..j0 + r make output rows 2·j0..2·(j0 + r).
            let r = rows.len() / (2 * out_row);
            let m = (r - 1) * wp + w;
            buffer.resize(m * cout, 0.0);
            for (p, phase) in phases.iter().enumerate() {
                let (dx, dy) = (p % 2, p / 2);
                for ky in 0..2 {
                    let lhs = View {
                        data: &padded.data[(b * band + dy + ky) * padded_row + dx * cin..],
                        rows: m,
                        cols: kc,
                        row_stride: cin,
                        col_stride: 1,
                    };
                    let rhs = View::dense(&phase[ky * kc * cout..][..kc * cout], kc, cout);
                    matmul(buffer, cout, lhs, rhs, ky > 0, Threads::One);
                }
                // Position x of band row i is output pixel (2x + dx, 2i + dy).
                for i in 0..r {
                    let row = &mut rows[(2 * i + dy) * out_row..][..out_row];
                    let values = &buffer[i * wp * cout..][..w * cout];
                    for (x, v) in values.chunks_exact(cout).enumerate() {
                        row[(2 * x + dx) * cout..][..cout].copy_from_slice(v);
                    }
                }
            }
        });
    pool.recycle(padded);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::conv::{Conv, pad};

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i + seed) * 53) % 17) as f32 * 0.05 - 0.4)
            .collect()
    }

    /// The general path: an upsampled, reflection-padded copy, then the 3x3 products.
    fn upsampled_then_convolved(src: &Map, weights: &[f32], cout: usize, pool: &Pool) -> Map {
        let conv = Conv {
            kernel: 3,
            stride: 1,
            cin: src.channels,
            cout,
            depthwise: None,
            weights: weights.to_vec(),
            bias: vec![0.0; cout],
        };
        conv.full(&pad(src, None, true, 1, pool), pool)
    }

    #[test]
    fn four_phases_equal_upsampling_then_convolving() {
        let pool = Pool::default();
        // One-pixel and odd sizes, several bands with a shorter last one, few and many channels.
        for (w, h, cin, cout) in [
            (1, 1, 2, 3),
            (1, 5, 3, 2),
            (7, 3, 8, 5),
            (13, 21, 16, 8),
            (9, 10, 32, 16),
        ] {
            let src = Map {
                data: values(w * h * cin, 7),
                width: w,
                height: h,
                channels: cin,
            };
            let weights = values(9 * cin * cout, 1);
            let want = upsampled_then_convolved(&src, &weights, cout, &pool);
            let got = convolve(&src, &weights, cout, &pool);
            assert_eq!(
                (got.width, got.height, got.channels),
                (2 * w, 2 * h, cout),
                "{w}x{h} {cin}->{cout}"
            );
            let worst = got.max_difference(&want);
            assert!(worst < 1e-4, "{w}x{h} {cin}->{cout}: off by {worst}");
        }
    }

    #[test]
    fn a_constant_map_stays_exactly_constant() {
        let pool = Pool::default();
        let (cin, cout) = (16, 8);
        let src = Map {
            data: [0.3f32, -1.7, 0.01, 2.5].repeat(4 * 9 * 7),
            width: 9,
            height: 7,
            channels: cin,
        };
        let weights = values(9 * cin * cout, 3);
        let got = convolve(&src, &weights, cout, &pool);
        let first = &got.data[..cout];
        assert!(
            got.data.chunks_exact(cout).all(|p| p == first),
            "every pixel the same"
        );
        // And the value of the general path, to rounding.
        let want = upsampled_then_convolved(&src, &weights, cout, &pool);
        let worst = got.max_difference(&want);
        assert!(worst < 1e-4, "off by {worst}");
    }

    #[test]
    fn folded_taps_keep_every_weight_once_per_phase() {
        // Each phase sums all nine taps once: with weights 1..9 every phase totals 45.
        let weights: Vec<f32> = (1..=9).map(|t| t as f32).collect();
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let phase = phase_weights(&weights, 1, 1, dx, dy);
            assert_eq!(phase.iter().sum::<f32>(), 45.0, "phase ({dx}, {dy})");
        }
        // Phase (0, 0): the top-left source pixel gets tap (0, 0) only.
        assert_eq!(
            phase_weights(&weights, 1, 1, 0, 0),
            [1.0, 2.0 + 3.0, 4.0 + 7.0, 5.0 + 6.0 + 8.0 + 9.0]
        );
    }
}
