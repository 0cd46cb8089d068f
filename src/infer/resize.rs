//! Scaling images for `max-size` on the CPU: area averaging by an integer factor, bilinear, and
//! bicubic (Keys, a = −0.75), with the sampling of burn's `avg_pool2d` and `interpolate`
//! (half-pixel centres, edges clamped), so the CPU and GPU paths give the same picture.

use rayon::prelude::*;

use super::map::{Map, Pool};
use super::source::Source;
use crate::frame::finish::StyledRows;

/// Average each `factor`×`factor` block of `src` (the rows and columns left over are dropped),
/// a row of blocks at a time ([`Source::area_row`]), so a packed frame is read in place.
pub fn area_down(src: &impl Source, factor: usize, pool: &Pool) -> Map {
    let (w, h) = (src.width() / factor, src.height() / factor);
    let mut out = pool.map(w, h, 3);
    out.data
        .par_chunks_mut(w * 3)
        .enumerate()
        .for_each_init(Vec::new, |line, (y, row)| {
            src.area_row(y, factor, row, line)
        });
    out
}

/// Source taps of one output coordinate along one axis: (index, weight).
type Taps<const N: usize> = [(usize, f32); N];

/// Half-pixel-centre source coordinate of output `o`.
fn source(o: usize, in_size: usize, out_size: usize) -> f64 {
    (o as f64 + 0.5) * (in_size as f64 / out_size as f64) - 0.5
}

fn linear_taps(in_size: usize, out_size: usize) -> Vec<Taps<2>> {
    (0..out_size)
        .map(|o| {
            let s = source(o, in_size, out_size);
            let low = s.floor().max(0.0) as usize;
            let high = (low + 1).min(in_size - 1);
            let t = (s - low as f64).max(0.0) as f32;
            [(low, 1.0 - t), (high, t)]
        })
        .collect()
}

fn cubic_weight(t: f64) -> f64 {
    let a = -0.75;
    let t = t.abs();
    if t < 1.0 {
        ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    } else if t < 2.0 {
        ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a
    } else {
        0.0
    }
}

fn cubic_taps(in_size: usize, out_size: usize) -> Vec<Taps<4>> {
    (0..out_size)
        .map(|o| {
            let s = source(o, in_size, out_size);
            let base = s.floor() as isize;
            std::array::from_fn(|k| {
                let offset = k as isize - 1;
                let index = (base + offset).clamp(0, in_size as isize - 1) as usize;
                (index, cubic_weight(s - base as f64 - offset as f64) as f32)
            })
        })
        .collect()
}

/// Separable resampling of an RGB map: each output pixel is the weighted sum of `xs[x] × ys[y]`
/// source pixels, done as a pass along rows (into a map of the output's width) and then one
/// along columns. Sums run in tap order.
fn resample<const N: usize>(src: &Map, xs: &[Taps<N>], ys: &[Taps<N>], pool: &Pool) -> Map {
    let wide = along_rows(src, xs, pool);
    let mut out = pool.map(xs.len(), ys.len(), 3);
    let row_len = out.row_len();
    out.data
        .par_chunks_mut(row_len)
        .zip(ys)
        .for_each(|(row, taps)| along_columns(&wide, taps, row));
    pool.recycle(wide);
    out
}

/// The pass along rows: `src`'s rows resampled to `xs.len()` pixels each.
fn along_rows<const N: usize>(src: &Map, xs: &[Taps<N>], pool: &Pool) -> Map {
    assert_eq!(src.channels, 3, "an RGB map");
    let phases = Phases::find(xs, src.width);
    let mut wide = pool.map(xs.len(), src.height, 3);
    wide.data
        .par_chunks_mut(xs.len() * 3)
        .zip(src.data.par_chunks(src.row_len()))
        .for_each_init(Vec::new, |scratch, (row, line)| match &phases {
            Some(phases) => phases.resample(line, xs, row, scratch),
            None => gather(line, xs, 0..xs.len(), row),
        });
    wide
}

/// Output pixels `outputs` of one row, each from its own taps.
fn gather<const N: usize>(
    line: &[f32],
    xs: &[Taps<N>],
    outputs: impl Iterator<Item = usize>,
    row: &mut [f32],
) {
    for o in outputs {
        let mut sum = [0.0f32; 3];
        for &(sx, weight) in &xs[o] {
            let s = &line[3 * sx..3 * sx + 3];
            sum = std::array::from_fn(|c| sum[c] + weight * s[c]);
        }
        row[3 * o..3 * o + 3].copy_from_slice(&sum);
    }
}

/// Taps that repeat. When the output is a whole multiple `factor` of the input (`max-size`
/// scaling back up by 2 is the usual case), output `factor·i + p` takes the same weights at
/// the same offsets from `i` for every `i` away from the edges, so the pass runs per phase `p`
/// as a few weighted sums of shifted, contiguous stretches of the row, which vectorize. Taps
/// that do not repeat exactly (the edges, where they are clamped) are gathered one by one;
/// the sums are the same as [`gather`]'s, to the bit.
struct Phases<const N: usize> {
    factor: usize,
    phases: Vec<Phase<N>>,
}

struct Phase<const N: usize> {
    /// Source offsets from `i`, one per tap.
    offsets: [isize; N],
    weights: [f32; N],
    /// The inputs `i` whose output `factor·i + p` has exactly these taps.
    regular: std::ops::Range<usize>,
}

impl<const N: usize> Phases<N> {
    fn find(xs: &[Taps<N>], in_width: usize) -> Option<Self> {
        let factor = xs.len() / in_width.max(1);
        if factor < 2 || xs.len() != factor * in_width {
            return None;
        }
        let middle = in_width / 2;
        let phases = (0..factor)
            .map(|p| {
                let taps = xs[factor * middle + p];
                let offsets = taps.map(|(sx, _)| sx as isize - middle as isize);
                let weights = taps.map(|(_, weight)| weight);
                let matches = |i: usize| {
                    xs[factor * i + p]
                        .iter()
                        .zip(offsets.iter().zip(&weights))
                        .all(|(&(sx, weight), (&offset, &want))| {
                            sx as isize == i as isize + offset && weight == want
                        })
                };
                let low = (0..middle)
                    .rev()
                    .find(|&i| !matches(i))
                    .map_or(0, |i| i + 1);
                let high = (middle..in_width)
                    .find(|&i| !matches(i))
                    .unwrap_or(in_width);
                Phase {
                    offsets,
                    weights,
                    regular: low..high,
                }
            })
            .collect();
        Some(Self { factor, phases })
    }

    fn resample(&self, line: &[f32], xs: &[Taps<N>], row: &mut [f32], scratch: &mut Vec<f32>) {
        let f = self.factor;
        for (p, phase) in self.phases.iter().enumerate() {
            let (low, high) = (phase.regular.start, phase.regular.end);
            let outputs = move |inputs: std::ops::Range<usize>| inputs.map(move |i| f * i + p);
            gather(line, xs, outputs(0..low), row);
            gather(line, xs, outputs(high..xs.len() / f), row);
            // Never empty (the middle input matches by construction), but an empty stretch
            // must not reach the slicing below.
            if high <= low {
                continue;
            }
            let values = 3 * (high - low);
            scratch.clear();
            scratch.resize(values, 0.0);
            for (&offset, &weight) in phase.offsets.iter().zip(&phase.weights) {
                let start = 3 * (low as isize + offset) as usize;
                accumulate(scratch, &line[start..start + values], weight);
            }
            for (i, pixel) in (low..high).zip(scratch.chunks_exact(3)) {
                let o = f * i + p;
                row[3 * o..3 * o + 3].copy_from_slice(pixel);
            }
        }
    }
}

/// `sum[i] += weight × values[i]`; compiled for AVX2 too (chosen at run time). A separate
/// multiply and add, as in [`gather`]: a fused `mul_add` would round differently.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn accumulate(sum: &mut [f32], values: &[f32], weight: f32) {
    for (s, v) in sum.iter_mut().zip(values) {
        *s += weight * v;
    }
}

/// One output row of the pass along columns: the weighted sum of `wide`'s rows at `taps`.
fn along_columns<const N: usize>(wide: &Map, taps: &Taps<N>, row: &mut [f32]) {
    let row_len = wide.row_len();
    let lines: [&[f32]; N] = taps.map(|(sy, _)| &wide.data[sy * row_len..][..row_len]);
    let weights = taps.map(|(_, weight)| weight);
    weighted_rows(&lines, &weights, &mut row[..row_len]);
}

/// `out[i] = Σₖ weights[k] × lines[k][i]`, summed in `k` order from zero; compiled for AVX2
/// too (chosen at run time). Separate multiplies and adds (no `mul_add`), so every build
/// gives the same values.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn weighted_rows<const N: usize>(lines: &[&[f32]; N], weights: &[f32; N], out: &mut [f32]) {
    let lines = lines.map(|line| &line[..out.len()]);
    for (i, o) in out.iter_mut().enumerate() {
        *o = (0..N).fold(0.0, |sum, k| sum + weights[k] * lines[k][i]);
    }
}

/// Bilinear resize to `width`×`height`.
pub fn bilinear(src: &Map, width: usize, height: usize, pool: &Pool) -> Map {
    let xs = linear_taps(src.width, width);
    let ys = linear_taps(src.height, height);
    resample(src, &xs, &ys, pool)
}

/// Bicubic resize to `width`×`height` in one go: the reference [`Upscale`] is tested against.
#[cfg(test)]
fn bicubic(src: &Map, width: usize, height: usize, pool: &Pool) -> Map {
    let xs = cubic_taps(src.width, width);
    let ys = cubic_taps(src.height, height);
    resample(src, &xs, &ys, pool)
}

/// A bicubic resize done halfway: the pass along rows is done, and each output row is made
/// when it is asked for ([`StyledRows::fill_row`]), so the last pass over the frame can take
/// the rows as it goes and the full-size result is never stored. The same values as
/// [`bicubic`].
#[derive(Debug)]
pub struct Upscale {
    /// `src` resampled along its rows: the output's width, the source's height.
    wide: Map,
    /// Taps along columns, one per output row.
    ys: Vec<Taps<4>>,
}

impl Upscale {
    /// `src` to be resized to `width`×`height`.
    pub fn bicubic(src: &Map, width: usize, height: usize, pool: &Pool) -> Self {
        let xs = cubic_taps(src.width, width);
        Self {
            wide: along_rows(src, &xs, pool),
            ys: cubic_taps(src.height, height),
        }
    }

    /// The buffer it holds, for the pool.
    pub fn into_buffer(self) -> Map {
        self.wide
    }
}

impl StyledRows for Upscale {
    fn size(&self) -> (usize, usize) {
        (self.wide.width, self.ys.len())
    }

    fn fill_row(&self, y: usize, out: &mut [f32]) {
        along_columns(&self.wide, &self.ys[y], out);
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::{avg_pool2d, interpolate};
    use burn::tensor::ops::{AvgPoolOptions, InterpolateMode, InterpolateOptions};
    use burn::tensor::{Device, Tensor};

    use super::*;

    fn noise(width: usize, height: usize) -> Map {
        Map {
            data: (0..width * height * 3)
                .map(|i| ((i * 7919 + 13) % 251) as f32 / 250.0)
                .collect(),
            width,
            height,
            channels: 3,
        }
    }

    fn assert_matches(map: &Map, tensor: Tensor<4>, what: &str) {
        let want = Map::from_tensor(tensor);
        assert_eq!((map.width, map.height), (want.width, want.height), "{what}");
        let worst = map.max_difference(&want);
        assert!(worst < 1e-5, "{what}: off by {worst}");
    }

    #[test]
    fn repeating_taps_give_the_gathered_sums_to_the_bit() {
        let pool = Pool::default();
        for (in_width, out_width) in [(16, 32), (9, 27), (10, 40), (1, 2), (7, 15), (12, 12)] {
            let src = noise(in_width, 3);
            for cubic in [true, false] {
                let wide = if cubic {
                    along_rows(&src, &cubic_taps(in_width, out_width), &pool)
                } else {
                    along_rows(&src, &linear_taps(in_width, out_width), &pool)
                };
                let mut want = vec![f32::NAN; 3 * out_width];
                for y in 0..3 {
                    let line = &src.data[y * src.row_len()..][..src.row_len()];
                    if cubic {
                        gather(
                            line,
                            &cubic_taps(in_width, out_width),
                            0..out_width,
                            &mut want,
                        );
                    } else {
                        gather(
                            line,
                            &linear_taps(in_width, out_width),
                            0..out_width,
                            &mut want,
                        );
                    }
                    let got = &wide.data[y * wide.row_len()..][..wide.row_len()];
                    assert_eq!(
                        got,
                        &want[..],
                        "{in_width} -> {out_width}, cubic {cubic}, row {y}"
                    );
                }
            }
        }
        // Doubling: every phase repeats away from the edges.
        let phases = Phases::find(&cubic_taps(100, 200), 100).unwrap();
        assert_eq!(phases.phases.len(), 2);
        for phase in &phases.phases {
            assert!(phase.regular.len() >= 96, "{:?}", phase.regular);
        }
    }

    #[test]
    fn scaling_matches_burns_pooling_and_interpolation() {
        let pool = Pool::default();
        let src = noise(23, 17);
        let resize = |mode, w: usize, h: usize| {
            interpolate(
                src.to_tensor(&Device::flex()),
                InterpolateOptions::new(mode)
                    .with_align_corners(false)
                    .with_output_size([h, w]),
            )
        };
        for (w, h) in [(10, 7), (41, 30), (23, 5)] {
            assert_matches(
                &bilinear(&src, w, h, &pool),
                resize(InterpolateMode::Bilinear, w, h),
                "bilinear",
            );
            let bicubic = bicubic(&src, w, h, &pool);
            assert_matches(&bicubic, resize(InterpolateMode::Bicubic, w, h), "bicubic");
            // Row by row, the same values exactly.
            let upscale = Upscale::bicubic(&src, w, h, &pool);
            assert_eq!(upscale.size(), (w, h));
            let mut row = vec![f32::NAN; 3 * w];
            for y in 0..h {
                upscale.fill_row(y, &mut row);
                assert_eq!(row, bicubic.data[3 * w * y..3 * w * (y + 1)], "row {y}");
            }
        }
        let pooled = avg_pool2d(
            src.to_tensor(&Device::flex()),
            AvgPoolOptions::new([3, 3]).with_stride([3, 3]),
        );
        assert_matches(&area_down(&src, 3, &pool), pooled, "area");
    }
}
