//! Scaling images for `max-size` on the CPU: area averaging by an integer factor, bilinear, and
//! bicubic (Keys, a = −0.75), with the sampling of burn's `avg_pool2d` and `interpolate`
//! (half-pixel centres, edges clamped), so the CPU and GPU paths give the same picture.

use rayon::prelude::*;

use super::map::{Map, Pool};

/// Average each `factor`×`factor` block (the rows and columns left over are dropped).
pub fn area_down(src: &Map, factor: usize, pool: &Pool) -> Map {
    let c = src.channels;
    let (w, h) = (src.width / factor, src.height / factor);
    let mut out = pool.zeroed(w, h, c);
    let norm = 1.0 / (factor * factor) as f32;
    out.data
        .par_chunks_mut(w * c)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, pixel) in row.chunks_exact_mut(c).enumerate() {
                for dy in 0..factor {
                    for dx in 0..factor {
                        let s = src.pixel(x * factor + dx, y * factor + dy);
                        pixel.iter_mut().zip(s).for_each(|(p, s)| *p += s);
                    }
                }
                pixel.iter_mut().for_each(|p| *p *= norm);
            }
        });
    out
}

/// Source taps of one output coordinate along one axis.
type Taps = Vec<(usize, f32)>;

/// Half-pixel-centre source coordinate of output `o`.
fn source(o: usize, in_size: usize, out_size: usize) -> f64 {
    (o as f64 + 0.5) * (in_size as f64 / out_size as f64) - 0.5
}

fn linear_taps(in_size: usize, out_size: usize) -> Vec<Taps> {
    (0..out_size)
        .map(|o| {
            let s = source(o, in_size, out_size);
            let low = s.floor().max(0.0) as usize;
            let high = (low + 1).min(in_size - 1);
            let t = (s - low as f64).max(0.0) as f32;
            vec![(low, 1.0 - t), (high, t)]
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

fn cubic_taps(in_size: usize, out_size: usize) -> Vec<Taps> {
    (0..out_size)
        .map(|o| {
            let s = source(o, in_size, out_size);
            let base = s.floor() as isize;
            (-1..=2isize)
                .map(|offset| {
                    let index = (base + offset).clamp(0, in_size as isize - 1) as usize;
                    (index, cubic_weight(s - base as f64 - offset as f64) as f32)
                })
                .collect()
        })
        .collect()
}

/// Separable resampling: each output pixel is the weighted sum of `xs[x] × ys[y]` source pixels,
/// done as a pass along rows (into a map of the output's width) and then one along columns.
fn resample(src: &Map, xs: &[Taps], ys: &[Taps], pool: &Pool) -> Map {
    let c = src.channels;
    let mut wide = pool.zeroed(xs.len(), src.height, c);
    wide.data
        .par_chunks_mut(xs.len() * c)
        .enumerate()
        .for_each(|(y, row)| {
            for (pixel, x_taps) in row.chunks_exact_mut(c).zip(xs) {
                for &(sx, wx) in x_taps {
                    let s = src.pixel(sx, y);
                    pixel.iter_mut().zip(s).for_each(|(p, s)| *p += wx * s);
                }
            }
        });
    let mut out = pool.zeroed(xs.len(), ys.len(), c);
    let row_len = out.row_len();
    out.data
        .par_chunks_mut(row_len)
        .zip(ys)
        .for_each(|(row, y_taps)| {
            for &(sy, wy) in y_taps {
                let s = &wide.data[sy * row_len..][..row_len];
                row.iter_mut().zip(s).for_each(|(p, s)| *p += wy * s);
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
