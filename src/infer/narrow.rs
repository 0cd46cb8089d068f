//! Stride-1 convolutions with at most [`MAX_COUT`] output channels: the first and last layers
//! (magenta: 9×9, 3 → 8 and 8 → 3; fast: 3×3, 11 → 3; johnson: 9×9, 32 → 3). As matrix
//! products these have 3 to 8 columns, a shape that fills gemm's register tiles poorly (at
//! 640×480 magenta's 9×9 layers ran at 37 % of the machine's matrix-product ceiling through
//! gemm, against 70 % for its 32-channel layers). Here the padded input is laid out as planes
//! (`[channel][row][column]`), so the same input channel of a tile of neighbouring pixels is one
//! contiguous load, and one output channel's accumulators for that tile stay in registers across
//! all `k·k·cin` taps, fused multiply-adds where the CPU has them. The row kernel is compiled
//! for AVX-512 and AVX2 as well, chosen at run time (the `multiversion` crate).

use multiversion::multiversion;
use rayon::prelude::*;

use super::map::{Map, Pool};

/// The most output channels this path takes.
pub const MAX_COUT: usize = 8;

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

/// Output row `oy`, channels last. Compiled for AVX-512 and for AVX2 (both with FMA) as well
/// as plain x86-64, chosen at run time, with a tile width per target: 8 vector accumulators
/// (AVX-512: 128 pixels, AVX2: 64), enough independent multiply-adds to hide their latency.
/// (Two output rows at a time, sharing the padded rows they both read, measured no faster:
/// the compiler folds each load into its multiply-add either way.)
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn output_row(
    planes: &Planes,
    offsets: &[usize],
    cout: usize,
    weights: &[f32],
    oy: usize,
    row: &mut [f32],
) {
    use multiversion::target::target_cfg_f;
    let base = &planes.data[oy * planes.width..];
    let fma = target_cfg_f!(target_feature = "fma");
    if target_cfg_f!(target_feature = "avx512f") {
        row_of::<128>(base, offsets, cout, weights, row, fma);
    } else {
        row_of::<64>(base, offsets, cout, weights, row, fma);
    }
}

/// [`output_row`] with tiles of `T` pixels, for each number of output channels.
#[inline(always)]
fn row_of<const T: usize>(
    base: &[f32],
    offsets: &[usize],
    cout: usize,
    weights: &[f32],
    row: &mut [f32],
    fma: bool,
) {
    match cout {
        1 => channels::<1, T>(base, offsets, weights, row, fma),
        2 => channels::<2, T>(base, offsets, weights, row, fma),
        3 => channels::<3, T>(base, offsets, weights, row, fma),
        4 => channels::<4, T>(base, offsets, weights, row, fma),
        5 => channels::<5, T>(base, offsets, weights, row, fma),
        6 => channels::<6, T>(base, offsets, weights, row, fma),
        7 => channels::<7, T>(base, offsets, weights, row, fma),
        _ => channels::<8, T>(base, offsets, weights, row, fma),
    }
}

/// `acc + w·p`, fused where the target has FMA (a call to the C library's `fmaf` where it
/// does not would be far slower than the two operations).
#[inline(always)]
fn madd(acc: f32, w: f32, p: f32, fma: bool) -> f32 {
    if fma { w.mul_add(p, acc) } else { acc + w * p }
}

/// [`output_row`] for `CO` output channels, reading tap `t` of pixel `x` at
/// `data[offsets[t] + x]`: whole tiles of `T` pixels, then of 16 (320 pixels are two tiles
/// of 128 and four of 16, not 64 pixels one by one), then the last pixels one by one.
#[inline(always)]
fn channels<const CO: usize, const T: usize>(
    data: &[f32],
    offsets: &[usize],
    weights: &[f32],
    row: &mut [f32],
    fma: bool,
) {
    let x = tiles::<CO, T>(data, offsets, weights, row, 0, fma);
    let x = tiles::<CO, 16>(data, offsets, weights, row, x, fma);
    for x in x..row.len() / CO {
        let mut acc = [0.0f32; CO];
        for (&offset, w) in offsets.iter().zip(weights.chunks_exact(CO)) {
            let p = data[offset + x];
            for co in 0..CO {
                acc[co] = madd(acc[co], w[co], p, fma);
            }
        }
        row[x * CO..][..CO].copy_from_slice(&acc);
    }
}

/// Tiles of `T` pixels of [`channels`] from pixel `from` on, while whole ones fit; returns
/// the first pixel left. One output channel at a time: its `T` accumulators stay in registers
/// across all taps (accumulators for all channels at once were left scalar by the compiler).
/// Every pixel gets the same operations in the same order, however it is reached, so a constant
/// map gives exactly equal values (see [`super::subpixel`] on why that matters).
#[inline(always)]
fn tiles<const CO: usize, const T: usize>(
    data: &[f32],
    offsets: &[usize],
    weights: &[f32],
    row: &mut [f32],
    from: usize,
    fma: bool,
) -> usize {
    let wo = row.len() / CO;
    let end = from + (wo - from) / T * T;
    for x0 in (from..end).step_by(T) {
        for co in 0..CO {
            let mut acc = [0.0f32; T];
            for (&offset, w) in offsets.iter().zip(weights.chunks_exact(CO)) {
                let p: &[f32; T] = data[offset + x0..][..T].try_into().expect("T values");
                let w = w[co];
                for i in 0..T {
                    acc[i] = madd(acc[i], w, p[i], fma);
                }
            }
            for (i, a) in acc.into_iter().enumerate() {
                row[(x0 + i) * CO + co] = a;
            }
        }
    }
    end
}
