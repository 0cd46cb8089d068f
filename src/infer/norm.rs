//! Instance norm on a channels-last map, in place: per-channel statistics in one parallel pass,
//! then one pass that normalizes, scales and shifts, and ends with a ReLU or a residual add.

use rayon::prelude::*;

use super::map::Map;

/// Pixels per task.
const CHUNK: usize = 1024;

/// What the normalizing pass does last.
#[derive(Clone, Copy)]
pub enum Then<'a> {
    /// Nothing.
    Nothing,
    /// `max(0, ·)`.
    Relu,
    /// Add the same-size map (the skip connection of a residual block).
    Add(&'a Map),
}

/// Per channel: mean and biased variance over all pixels.
fn statistics(map: &Map) -> (Vec<f64>, Vec<f64>) {
    let c = map.channels;
    let sums = map
        .data
        .par_chunks(CHUNK * c)
        .map(|chunk| {
            let mut sum = vec![0.0f64; 2 * c];
            let (s, q) = sum.split_at_mut(c);
            for pixel in chunk.chunks_exact(c) {
                for ((s, q), &x) in s.iter_mut().zip(q.iter_mut()).zip(pixel) {
                    let x = f64::from(x);
                    *s += x;
                    *q += x * x;
                }
            }
            sum
        })
        .reduce(
            || vec![0.0; 2 * c],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
    let n = (map.width * map.height) as f64;
    let mean: Vec<f64> = sums[..c].iter().map(|s| s / n).collect();
    let var = sums[c..]
        .iter()
        .zip(&mean)
        .map(|(q, m)| (q / n - m * m).max(0.0))
        .collect();
    (mean, var)
}

/// `x ← gamma·(x − mean)/sqrt(var + epsilon) + beta` per channel, then `then`.
pub fn instance_norm(map: &mut Map, gamma: &[f32], beta: &[f32], epsilon: f64, then: Then) {
    let c = map.channels;
    assert_eq!(
        (gamma.len(), beta.len()),
        (c, c),
        "norm parameters per channel"
    );
    let (mean, var) = statistics(map);
    let scale: Vec<f32> = (0..c)
        .map(|i| (f64::from(gamma[i]) / (var[i] + epsilon).sqrt()) as f32)
        .collect();
    let shift: Vec<f32> = (0..c)
        .map(|i| (f64::from(beta[i]) - mean[i] * f64::from(scale[i])) as f32)
        .collect();
    let normalize = |dst: &mut [f32]| {
        for pixel in dst.chunks_exact_mut(c) {
            for ((x, a), b) in pixel.iter_mut().zip(&scale).zip(&shift) {
                *x = *x * a + b;
            }
        }
    };
    match then {
        Then::Add(skip) => {
            assert_eq!(skip.data.len(), map.data.len(), "residual map size");
            map.data
                .par_chunks_mut(CHUNK * c)
                .zip(skip.data.par_chunks(CHUNK * c))
                .for_each(|(dst, skip)| {
                    normalize(dst);
                    dst.iter_mut().zip(skip).for_each(|(x, s)| *x += s);
                });
        }
        Then::Relu => map.data.par_chunks_mut(CHUNK * c).for_each(|dst| {
            normalize(dst);
            dst.iter_mut().for_each(|x| *x = x.max(0.0));
        }),
        Then::Nothing => map.data.par_chunks_mut(CHUNK * c).for_each(normalize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_come_out_with_the_given_mean_and_spread() {
        let (w, h, c) = (33, 35, 3); // more than one chunk
        let data = (0..w * h * c)
            .map(|i| ((i * 7919) % 101) as f32 * (1.0 + (i % c) as f32) + 50.0)
            .collect();
        let mut map = Map {
            data,
            width: w,
            height: h,
            channels: c,
        };
        instance_norm(
            &mut map,
            &[1.0, 2.0, 0.5],
            &[0.0, -1.0, 3.0],
            1e-5,
            Then::Nothing,
        );
        let (mean, var) = statistics(&map);
        for (i, (want_mean, want_std)) in [(0.0, 1.0), (-1.0, 2.0), (3.0, 0.5)].iter().enumerate() {
            assert!((mean[i] - want_mean).abs() < 1e-4, "mean {i}: {}", mean[i]);
            assert!(
                (var[i].sqrt() - want_std).abs() < 1e-3,
                "std {i}: {}",
                var[i].sqrt()
            );
        }
    }

    #[test]
    fn relu_and_residual_endings() {
        let map = || Map {
            data: vec![1.0, 3.0, 5.0, 7.0],
            width: 2,
            height: 2,
            channels: 1,
        };
        let mut relu = map();
        instance_norm(&mut relu, &[1.0], &[0.0], 0.0, Then::Relu);
        assert_eq!(relu.data[0], 0.0);
        assert_eq!(relu.data[1], 0.0);
        assert!(relu.data[3] > 1.3);
        let skip = map();
        let mut added = map();
        instance_norm(&mut added, &[1.0], &[0.0], 0.0, Then::Add(&skip));
        let plain = {
            let mut m = map();
            instance_norm(&mut m, &[1.0], &[0.0], 0.0, Then::Nothing);
            m
        };
        for i in 0..4 {
            assert!((added.data[i] - plain.data[i] - skip.data[i]).abs() < 1e-6);
        }
    }
}
