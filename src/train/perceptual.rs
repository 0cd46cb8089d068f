//! The perceptual losses of a training step (content and Gram style, as defined in
//! [`super::losses`]) computed on the CPU VGG ([`CpuVgg`]) together with their gradient with
//! respect to the generator's output, which the trainer hands to burn's autodiff.
//!
//! Same definitions as the burn path: style = Σ over taps of the mean over the batch and the
//! c×c entries of (G − T)², with G = Fᵀ F / (c·h·w); content = the mean of (F_y − F_x)² at the
//! content tap. The teacher-style term is the same Gram distance with, per image, the Grams of
//! another output (a starting model's, for the same input) as its target.

use rayon::prelude::*;

use super::losses;
use super::vgg_cpu::{CpuVgg, Trace};
use crate::infer::gemm::{Threads, View, matmul};
use crate::infer::map::Map;

/// The Gram matrix `Fᵀ F / (c·h·w)` of a channels-last map, `c×c` row-major.
pub fn gram(map: &Map) -> Vec<f32> {
    let (n, c) = (map.width * map.height, map.channels);
    let mut g = vec![0.0; c * c];
    let transposed = View {
        data: &map.data,
        rows: c,
        cols: n,
        row_stride: 1,
        col_stride: c,
    };
    matmul(
        &mut g,
        c,
        transposed,
        View::dense(&map.data, n, c),
        false,
        Threads::One,
    );
    let scale = 1.0 / (c * n) as f32;
    g.iter_mut().for_each(|v| *v *= scale);
    g
}

/// A style's Gram target at each tap, and how much each tap's term counts.
#[derive(Debug, Clone)]
pub struct StyleTargets {
    /// `c×c` per tap.
    pub grams: Vec<Vec<f32>>,
    /// The weight of each tap's Gram distance.
    pub layer_weights: Vec<f32>,
}

impl StyleTargets {
    /// The targets of one style image (planar RGB in [0, 1]); with `balance`, each tap's
    /// distance counts relative to its target ([`losses::style_layer_weights`]), else all count 1.
    pub fn new(vgg: &CpuVgg, planar: &[f32], width: usize, height: usize, balance: bool) -> Self {
        let grams = tap_grams(vgg, &vgg.forward(planar, width, height, 3));
        let mean_squares: Vec<f64> = grams.iter().map(|g| mean_square(g)).collect();
        Self {
            layer_weights: losses::style_layer_weights(&mean_squares, balance),
            grams,
        }
    }
}

/// The Gram matrix at each of the four taps of a trace.
fn tap_grams(vgg: &CpuVgg, trace: &Trace) -> Vec<Vec<f32>> {
    (0..4).map(|t| gram(trace.tap(vgg, t))).collect()
}

/// The mean of the squared values.
fn mean_square(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        / values.len().max(1) as f64
}

/// Loss weights of the perceptual terms.
#[derive(Debug, Clone, Copy)]
pub struct PerceptualWeights {
    /// Content.
    pub content: f32,
    /// Style.
    pub style: f32,
    /// Teacher style: the Gram distance to each image's teacher output (0: off).
    pub teacher_style: f32,
}

/// One batch of generator outputs, planar `[b, 3, height, width]` in [0, 1], with the inputs
/// they came from and, for the teacher-style term, the teacher's outputs for the same inputs.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The generator's outputs.
    pub outputs: &'a [f32],
    /// Its inputs (the content targets).
    pub inputs: &'a [f32],
    /// The teacher's outputs, when the teacher-style term is on.
    pub teachers: Option<&'a [f32]>,
    /// Width of each image.
    pub width: usize,
    /// Height of each image.
    pub height: usize,
}

/// A batch's perceptual losses and their weighted gradient.
#[derive(Debug, Clone)]
pub struct Perceptual {
    /// The style loss (unweighted).
    pub style: f32,
    /// The content loss (unweighted).
    pub content: f32,
    /// The teacher-style loss (unweighted; 0 when off).
    pub teacher_style: f32,
    /// `∂(w_content·content + w_style·style + w_teacher_style·teacher_style) / ∂outputs`,
    /// planar `[b, 3, h, w]`.
    pub gradient: Vec<f32>,
}

/// The perceptual losses of a batch's outputs against its inputs (content), `targets` (style,
/// one Gram matrix and weight per tap) and, when given, each image's teacher output (teacher
/// style, with the same tap weights); content at tap `content_tap`.
pub fn perceptual(
    vgg: &CpuVgg,
    batch: Batch<'_>,
    targets: &StyleTargets,
    content_tap: usize,
    weights: PerceptualWeights,
) -> Perceptual {
    let (width, height) = (batch.width, batch.height);
    let image = 3 * width * height;
    let outputs = batch.outputs;
    assert_eq!(outputs.len(), batch.inputs.len(), "one input per output");
    assert!(
        image > 0 && outputs.len().is_multiple_of(image),
        "planar batch size"
    );
    assert_eq!(targets.grams.len(), 4, "one Gram target per tap");
    assert_eq!(targets.layer_weights.len(), 4, "one weight per tap");
    let teachers = batch.teachers.filter(|_| weights.teacher_style > 0.0);
    if let Some(t) = teachers {
        assert_eq!(t.len(), outputs.len(), "one teacher output per output");
    }
    let b = outputs.len() / image;
    let per_image: Vec<Share> = (0..b)
        .into_par_iter()
        .map(|i| {
            let range = i * image..(i + 1) * image;
            let fy = vgg.forward(&outputs[range.clone()], width, height, 3);
            let fx = vgg.forward(&batch.inputs[range.clone()], width, height, content_tap);
            let teacher_grams =
                teachers.map(|t| tap_grams(vgg, &vgg.forward(&t[range], width, height, 3)));
            let targets = ImageTargets {
                style: targets,
                teacher: teacher_grams,
                content_tap,
            };
            one_image(vgg, &fy, &fx, b, &targets, weights)
        })
        .collect();
    let sum = |share: fn(&Share) -> f64| per_image.iter().map(share).sum::<f64>() as f32;
    Perceptual {
        style: sum(|s| s.style),
        content: sum(|s| s.content),
        teacher_style: sum(|s| s.teacher_style),
        gradient: per_image
            .iter()
            .flat_map(|s| s.gradient.iter().copied())
            .collect(),
    }
}

/// What one image's output is measured against.
struct ImageTargets<'a> {
    /// The style's Gram targets and tap weights (the teacher term uses the same weights).
    style: &'a StyleTargets,
    /// The Grams of this image's teacher output, per tap, when the teacher-style term is on.
    teacher: Option<Vec<Vec<f32>>>,
    /// The content tap.
    content_tap: usize,
}

/// One image's share of the batch's losses (already divided by the batch's size) and its
/// gradient.
struct Share {
    style: f64,
    content: f64,
    teacher_style: f64,
    gradient: Vec<f32>,
}

/// `Σ (G − T)² · per_entry`, with `(G − T) · scale` added to `d_gram` (its weighted gradient,
/// as [`one_image`] sets `scale`).
fn gram_distance(g: &[f32], target: &[f32], per_entry: f64, scale: f32, d_gram: &mut [f32]) -> f64 {
    let mut loss = 0.0;
    for ((d, g), t) in d_gram.iter_mut().zip(g).zip(target) {
        let diff = g - t;
        loss += f64::from(diff) * f64::from(diff) * per_entry;
        *d += diff * scale;
    }
    loss
}

fn one_image(
    vgg: &CpuVgg,
    fy: &Trace,
    fx: &Trace,
    batch: usize,
    targets: &ImageTargets<'_>,
    weights: PerceptualWeights,
) -> Share {
    let (mut style, mut content, mut teacher_style) = (0.0f64, 0.0f64, 0.0f64);
    let content_tap = targets.content_tap;
    let grads: [Option<Map>; 4] = std::array::from_fn(|t| {
        let f = fy.tap(vgg, t);
        let (n, c) = (f.width * f.height, f.channels);
        let target = &targets.style.grams[t];
        assert_eq!(target.len(), c * c, "Gram target of tap {t}");
        let g = gram(f);
        // d/dG of w·Σ(G − T)² / (b·c²) is 2w(G − T)/(b·c²); through G = FᵀF/(c·n), with G
        // symmetric, dF = F · 2·dG / (c·n).
        let per_entry = f64::from(targets.style.layer_weights[t]) / (batch * c * c) as f64;
        let scale = |w: f32| (w as f64 * 4.0 * per_entry / (c * n) as f64) as f32;
        let mut d_gram = vec![0.0; c * c];
        style += gram_distance(&g, target, per_entry, scale(weights.style), &mut d_gram);
        if let Some(teacher) = &targets.teacher {
            let scale = scale(weights.teacher_style);
            teacher_style += gram_distance(&g, &teacher[t], per_entry, scale, &mut d_gram);
        }
        let mut d_features = vec![0.0; n * c];
        matmul(
            &mut d_features,
            c,
            View::dense(&f.data, n, c),
            View::dense(&d_gram, c, c),
            false,
            Threads::One,
        );
        if t == content_tap {
            let x = fx.tap(vgg, t);
            let per_value = 1.0 / (batch * n * c) as f64;
            let scale = (2.0 * per_value * weights.content as f64) as f32;
            for ((d, y), x) in d_features.iter_mut().zip(&f.data).zip(&x.data) {
                let diff = y - x;
                content += f64::from(diff) * f64::from(diff) * per_value;
                *d += diff * scale;
            }
        }
        Some(Map {
            data: d_features,
            width: f.width,
            height: f.height,
            channels: c,
        })
    });
    Share {
        style,
        content,
        teacher_style,
        gradient: vgg.backward(fy, grads),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::vgg::{InputConvention, Vgg};
    use burn::module::Module;
    use burn::tensor::{Device, Tensor, TensorData};
    use rand::{Rng, SeedableRng};

    #[test]
    fn gram_matches_the_burn_definition() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let (w, h, c) = (5, 3, 4);
        let map = Map {
            data: (0..w * h * c)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect(),
            width: w,
            height: h,
            channels: c,
        };
        let tensor = map.to_tensor(&Device::flex());
        let want: Vec<f32> = losses::gram(tensor).into_data().try_to_vec().unwrap();
        let got = gram(&map);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn losses_and_gradient_match_burns_autodiff() {
        let device = Device::flex().autodiff();
        let mut vgg = Vgg::new(16, &Device::flex());
        vgg.input = InputConvention::Caffe;
        let cpu = CpuVgg::new(&vgg);
        let (w, h, b) = (16, 12, 2);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut random =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(0.0..1.0)).collect() };
        let (y, x, teacher, style) = (
            random(b * 3 * w * h),
            random(b * 3 * w * h),
            random(b * 3 * w * h),
            random(3 * w * h),
        );
        // Balanced, so the four taps' terms count with four different weights.
        let targets = StyleTargets::new(&cpu, &style, w, h, true);
        assert!(
            targets
                .layer_weights
                .iter()
                .all(|w| w.is_finite() && *w > 0.0)
        );
        let weights = PerceptualWeights {
            content: 2.0,
            style: 1e3,
            teacher_style: 300.0,
        };
        let batch = Batch {
            outputs: &y,
            inputs: &x,
            teachers: Some(&teacher),
            width: w,
            height: h,
        };
        let got = perceptual(&cpu, batch, &targets, 1, weights);

        let vgg = vgg.to_device(&device);
        let tensor = |v: &[f32], n: usize| {
            Tensor::<4>::from_data(TensorData::new(v.to_vec(), [n, 3, h, w]), &device)
        };
        let yt = tensor(&y, b).require_grad();
        let fy = vgg.features(yt.clone());
        let fx = vgg.features(tensor(&x, b));
        let gram_targets = vgg.features(tensor(&style, 1)).grams();
        let content = losses::mse(fy.maps[1].clone(), fx.maps[1].clone().detach());
        let style_loss =
            losses::weighted_style_loss(&fy.maps, &gram_targets, &targets.layer_weights);
        // The teacher term: each image's own Gram targets, `[b, c, c]`, the same tap weights.
        let teacher_grams = vgg.features(tensor(&teacher, b)).grams();
        let teacher_loss =
            losses::weighted_style_loss(&fy.maps, &teacher_grams, &targets.layer_weights);
        let want_content: f32 = content.clone().into_scalar();
        let want_style: f32 = style_loss.clone().into_scalar();
        let want_teacher: f32 = teacher_loss.clone().into_scalar();
        let total = content * f64::from(weights.content)
            + style_loss * f64::from(weights.style)
            + teacher_loss * f64::from(weights.teacher_style);
        let grads = total.backward();
        let want: Vec<f32> = yt.grad(&grads).unwrap().into_data().try_to_vec().unwrap();

        let relative = |a: f32, b: f32| (a - b).abs() / b.abs().max(1e-12);
        assert!(
            relative(got.content, want_content) < 1e-3,
            "content {} vs {want_content}",
            got.content
        );
        assert!(
            relative(got.style, want_style) < 1e-3,
            "style {} vs {want_style}",
            got.style
        );
        assert!(
            want_teacher > 0.0 && relative(got.teacher_style, want_teacher) < 1e-3,
            "teacher style {} vs {want_teacher}",
            got.teacher_style
        );
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = got
            .gradient
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            scale > 0.0 && worst < 2e-3 * scale,
            "gradient off by {worst} of {scale}"
        );
    }
}
