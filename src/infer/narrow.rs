//! Stride-1 convolutions with at most [`MAX_COUT`] output channels: the output layers (fast:
//! 3×3, 11 → 3; johnson: 9×9, 32 → 3). As a matrix product these have 3 columns, a shape that
//! fills gemm's register tiles poorly (the fast output layer took 7 ms of a 30 ms frame at
//! 640×480). Here the padded input is laid out as planes (`[channel][row][column]`), so the
//! same input channel of [`TILE`] neighbouring pixels is one contiguous load, and one output
//! channel's accumulators for a tile of pixels stay in registers across all `k·k·cin` taps
//! (one channel at a time: accumulators for all of them at once were left scalar by the
//! compiler). The row kernel is compiled for AVX2 + FMA as well, chosen at run time when the
//! CPU has them (the `multiversion` crate), so its loops vectorize 8 wide.

use multiversion::multiversion;
use rayon::prelude::*;

use super::map::{Map, Pool};

/// The most output channels this path takes.
pub const MAX_COUT: usize = 4;
/// Output pixels per register tile (32: 4.1 ms, 64: 4.0 ms, 128: 4.2 ms for the fast output
/// layer at 640×480, padding copy included).
const TILE: usize = 64;

/// Planes of a padded map: value `(x, y, c)` at `(c * height + y) * width + x`.
struct Planes<'a> {
    data: &'a [f32],
    width: usize,
    height: usize,
}

/// Reflection-pad `src` by `pad` into planes, after a nearest-neighbour 2× upsample when
/// `upsample`, with the channels of `extra` (already at the upsampled size) after its own:
/// [`super::conv::pad`] in planar layout. The returned map's data is planar.
fn pad_planar(src: &Map, extra: Option<&Map>, upsample: bool, pad: usize, pool: &Pool) -> Map {
    let scale = if upsample { 2 } else { 1 };
    let (w, h) = (src.width * scale, src.height * scale);
    let (wp, hp) = (w + 2 * pad, h + 2 * pad);
    let (c1, c2) = (src.channels, extra.map_or(0, |e| e.channels));
    let mut out = pool.map(wp, hp, c1 + c2);
    let reflect = |p: usize, n: usize| super::conv::reflect(p as isize - pad as isize, n);
    out.data
        .par_chunks_mut(wp)
        .enumerate()
        .for_each(|(i, row)| {
            let (c, py) = (i / hp, i % hp);
            let y = reflect(py, h);
            // The row's inside from the source pixels (each repeated `scale` times), then the
            // reflected edges from the inside.
            let (map, c, scale) = match c.checked_sub(c1) {
                None => (src, c, scale),
                Some(c) => (extra.expect("channels past c1 come from extra"), c, 1),
            };
            let line = &map.data[y / scale * map.row_len()..][..map.row_len()];
            let values = line.chunks_exact(map.channels).map(|pixel| pixel[c]);
            let inside = &mut row[pad..pad + w];
            if scale == 1 {
                inside.iter_mut().zip(values).for_each(|(d, v)| *d = v);
            } else {
                for (pair, v) in inside.chunks_exact_mut(2).zip(values) {
                    pair.fill(v);
                }
            }
            for px in (0..pad).chain(pad + w..wp) {
                row[px] = row[pad + reflect(px, w)];
            }
        });
    out
}

/// The convolution of `src` (see [`super::conv::Conv::run`]) with `weights` laid out
/// `[ky][kx][cin][cout]`, stride 1, `cout ≤ MAX_COUT`; no bias.
pub fn convolve(
    src: &Map,
    extra: Option<&Map>,
    upsample: bool,
    kernel: usize,
    cout: usize,
    weights: &[f32],
    pool: &Pool,
) -> Map {
    assert!((1..=MAX_COUT).contains(&cout), "at most {MAX_COUT} outputs");
    let padded = pad_planar(src, extra, upsample, kernel / 2, pool);
    let cin = padded.channels;
    assert_eq!(weights.len(), kernel * kernel * cin * cout, "weights");
    let planes = Planes {
        data: &padded.data,
        width: padded.width,
        height: padded.height,
    };
    // Taps in (ci, ky, kx) order, so consecutive taps read neighbouring values of one plane:
    // tap (ci, ky, kx) of output pixel (x, y) reads offsets[tap] + y·width + x.
    let plane = planes.width * planes.height;
    let taps: Vec<(usize, usize, usize)> = (0..cin)
        .flat_map(|ci| (0..kernel).flat_map(move |ky| (0..kernel).map(move |kx| (ci, ky, kx))))
        .collect();
    let offsets: Vec<usize> = taps
        .iter()
        .map(|&(ci, ky, kx)| ci * plane + ky * planes.width + kx)
        .collect();
    let weights: Vec<f32> = taps
        .iter()
        .flat_map(|&(ci, ky, kx)| &weights[((ky * kernel + kx) * cin + ci) * cout..][..cout])
        .copied()
        .collect();
    let (wo, ho) = (padded.width - kernel + 1, padded.height - kernel + 1);
    let mut out = pool.map(wo, ho, cout);
    out.data
        .par_chunks_mut(wo * cout)
        .enumerate()
        .for_each(|(oy, row)| output_row(&planes, &offsets, cout, &weights, oy, row));
    pool.recycle(padded);
    out
}

/// Output row `oy`, channels last.
#[multiversion(targets("x86_64+avx2+fma"))]
fn output_row(
    planes: &Planes,
    offsets: &[usize],
    cout: usize,
    weights: &[f32],
    oy: usize,
    row: &mut [f32],
) {
    let base = &planes.data[oy * planes.width..];
    match cout {
        1 => tiles::<1>(base, offsets, weights, row),
        2 => tiles::<2>(base, offsets, weights, row),
        3 => tiles::<3>(base, offsets, weights, row),
        _ => tiles::<4>(base, offsets, weights, row),
    }
}

/// [`output_row`] for `CO` output channels, reading tap `t` of pixel `x` at
/// `data[offsets[t] + x]`: whole tiles, then the last pixels one by one.
#[inline(always)]
fn tiles<const CO: usize>(data: &[f32], offsets: &[usize], weights: &[f32], row: &mut [f32]) {
    let wo = row.len() / CO;
    let whole = wo / TILE * TILE;
    for x0 in (0..whole).step_by(TILE) {
        for co in 0..CO {
            let mut acc = [0.0f32; TILE];
            for (&offset, w) in offsets.iter().zip(weights.chunks_exact(CO)) {
                let p: &[f32; TILE] = data[offset + x0..][..TILE].try_into().expect("TILE values");
                let w = w[co];
                for i in 0..TILE {
                    acc[i] += w * p[i];
                }
            }
            for (i, a) in acc.into_iter().enumerate() {
                row[(x0 + i) * CO + co] = a;
            }
        }
    }
    for x in whole..wo {
        let mut acc = [0.0f32; CO];
        for (&offset, w) in offsets.iter().zip(weights.chunks_exact(CO)) {
            let p = data[offset + x];
            for co in 0..CO {
                acc[co] += w[co] * p;
            }
        }
        row[x * CO..][..CO].copy_from_slice(&acc);
    }
}
