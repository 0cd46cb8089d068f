//! Scaling images for `max-size` on the CPU: area averaging by an integer factor, bilinear, and
//! bicubic (Keys, a = −0.75), with the sampling of burn's `avg_pool2d` and `interpolate`
//! (half-pixel centres, edges clamped), so the CPU and GPU paths give the same picture.

use rayon::prelude::*;

use super::map::{Map, Pool};
use super::source::Source;

/// Average each `factor`×`factor` block of `src` (the rows and columns left over are dropped),
/// reading the source a row at a time, so a packed frame is read in place.
pub fn area_down(src: &impl Source, factor: usize, pool: &Pool) -> Map {
    let (w, h) = (src.width() / factor, src.height() / factor);
    let line_len = 3 * src.width();
    let mut out = pool.map(w, h, 3);
    let norm = 1.0 / (factor * factor) as f32;
    out.data.par_chunks_mut(w * 3).enumerate().for_each_init(
        || vec![0.0; line_len],
        |line, (y, row)| {
            row.fill(0.0);
            for dy in 0..factor {
                src.read_row(y * factor + dy, line);
                for (pixel, block) in row.chunks_exact_mut(3).zip(line.chunks_exact(3 * factor)) {
                    for s in block.chunks_exact(3) {
                        pixel[0] += s[0];
                        pixel[1] += s[1];
                        pixel[2] += s[2];
                    }
                }
            }
            row.iter_mut().for_each(|p| *p *= norm);
        },
    );
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
/// along columns. Sums run in tap order, from zero.
fn resample<const N: usize>(src: &Map, xs: &[Taps<N>], ys: &[Taps<N>], pool: &Pool) -> Map {
    assert_eq!(src.channels, 3, "an RGB map");
    let mut wide = pool.map(xs.len(), src.height, 3);
    wide.data
        .par_chunks_mut(xs.len() * 3)
        .zip(src.data.par_chunks(src.row_len()))
        .for_each(|(row, line)| {
            for (pixel, taps) in row.chunks_exact_mut(3).zip(xs) {
                let mut sum = [0.0f32; 3];
                for &(sx, weight) in taps {
                    let s = &line[3 * sx..3 * sx + 3];
                    sum = std::array::from_fn(|c| sum[c] + weight * s[c]);
                }
                pixel.copy_from_slice(&sum);
            }
        });
    let mut out = pool.map(xs.len(), ys.len(), 3);
    let row_len = out.row_len();
    out.data
        .par_chunks_mut(row_len)
        .zip(ys)
        .for_each(|(row, taps)| {
            let lines: [&[f32]; N] = taps.map(|(sy, _)| &wide.data[sy * row_len..][..row_len]);
            let weights = taps.map(|(_, weight)| weight);
            for (i, p) in row.iter_mut().enumerate() {
                *p = (0..N).fold(0.0, |sum, k| sum + weights[k] * lines[k][i]);
            }
        });
    pool.recycle(wide);
    out
}

/// Bilinear resize to `width`×`height`.
pub fn bilinear(src: &Map, width: usize, height: usize, pool: &Pool) -> Map {
    let xs = linear_taps(src.width, width);
    let ys = linear_taps(src.height, height);
    resample(src, &xs, &ys, pool)
}

/// Bicubic resize to `width`×`height`.
pub fn bicubic(src: &Map, width: usize, height: usize, pool: &Pool) -> Map {
    let xs = cubic_taps(src.width, width);
    let ys = cubic_taps(src.height, height);
    resample(src, &xs, &ys, pool)
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
            assert_matches(
                &bicubic(&src, w, h, &pool),
                resize(InterpolateMode::Bicubic, w, h),
                "bicubic",
            );
        }
        let pooled = avg_pool2d(
            src.to_tensor(&Device::flex()),
            AvgPoolOptions::new([3, 3]).with_stride([3, 3]),
        );
        assert_matches(&area_down(&src, 3, &pool), pooled, "area");
    }
}
