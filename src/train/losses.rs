//! Training losses: content (feature distance), style (Gram matrices, size-normalized), total
//! variation, adversarial (least-squares or hinge) and temporal consistency (masked distance
//! between a stylized warped frame and the warped stylized frame; ReCoNet's luminance-aware
//! output-level loss for real clips). Warping here is differentiable: bilinear taps gathered
//! from a precomputed [`WarpPlan`].

use burn::tensor::{Device, Int, Tensor, TensorData, activation};
use serde::{Deserialize, Serialize};

use crate::flow::WarpPlan;

/// Gram matrices of feature maps `[b, c, h, w]` → `[b, c, c]`, divided by `c·h·w`.
pub fn gram(features: Tensor<4>) -> Tensor<3> {
    let [b, c, h, w] = features.dims();
    let flat = features.reshape([b, c, h * w]);
    flat.clone().matmul(flat.swap_dims(1, 2)) / ((c * h * w) as f64)
}

/// Mean squared error between two tensors of equal shape (a scalar, shape `[1]`).
pub fn mse<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Tensor<1> {
    (a - b).square().mean()
}

/// Style loss: the sum over layers of the squared distance between each image's Gram matrix
/// and the target Gram matrix (`[1, c, c]` per layer, broadcast over the batch).
pub fn style_loss(features: &[Tensor<4>], targets: &[Tensor<3>]) -> Tensor<1> {
    weighted_style_loss(features, targets, &vec![1.0; targets.len()])
}

/// [`style_loss`] with a weight per layer: `Σ_l w_l · mean((G_l − T_l)²)`.
pub fn weighted_style_loss(
    features: &[Tensor<4>],
    targets: &[Tensor<3>],
    layer_weights: &[f32],
) -> Tensor<1> {
    assert_eq!(targets.len(), layer_weights.len(), "one weight per layer");
    features
        .iter()
        .zip(targets)
        .zip(layer_weights)
        .map(|((f, t), w)| {
            let g = gram(f.clone());
            let [b, c, _] = g.dims();
            mse(g, t.clone().expand([b, c, c])) * f64::from(*w)
        })
        .reduce(|a, b| a + b)
        .expect("at least one style layer")
}

/// Layer weights that make each layer's Gram distance relative to its target: 1 / the mean
/// squared entry of the target Gram matrix (`mean_squares`, one per layer). Unbalanced, the
/// first layer's term is orders of magnitude larger than the deeper ones' (its Gram entries are),
/// so training matches colours and low-level statistics and leaves strokes and textures out.
///
/// A layer whose target is (nearly) empty, as a small crop's deepest layer can be, counts as if
/// its target had [`MIN_BALANCED_SHARE`] of the largest layer's mean square, so its weight stays
/// finite; with every target empty, all weights are 1.
pub fn balanced_layer_weights(mean_squares: &[f64]) -> Vec<f32> {
    let largest = mean_squares.iter().copied().fold(0.0, f64::max);
    if !(largest > 0.0 && largest.is_finite()) {
        return vec![1.0; mean_squares.len()];
    }
    let floor = largest * MIN_BALANCED_SHARE;
    mean_squares
        .iter()
        .map(|&m| (1.0 / m.max(floor)) as f32)
        .collect()
}

/// See [`balanced_layer_weights`].
pub const MIN_BALANCED_SHARE: f64 = 1e-9;

/// The weight of each style layer: [`balanced_layer_weights`] when `balance`, else 1 for all.
pub fn style_layer_weights(mean_squares: &[f64], balance: bool) -> Vec<f32> {
    if balance {
        balanced_layer_weights(mean_squares)
    } else {
        vec![1.0; mean_squares.len()]
    }
}

/// Anisotropic total variation: mean absolute difference between neighbouring pixels.
pub fn total_variation(x: Tensor<4>) -> Tensor<1> {
    let [b, c, h, w] = x.dims();
    let dy =
        x.clone().slice([0..b, 0..c, 1..h, 0..w]) - x.clone().slice([0..b, 0..c, 0..h - 1, 0..w]);
    let dx = x.clone().slice([0..b, 0..c, 0..h, 1..w]) - x.slice([0..b, 0..c, 0..h, 0..w - 1]);
    dy.abs().mean() + dx.abs().mean()
}

/// The adversarial objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GanLoss {
    /// Least-squares GAN (Mao et al.): targets 1 for real, 0 for fake.
    Lsgan,
    /// Hinge loss (as in SN-GAN / BigGAN).
    Hinge,
}

impl GanLoss {
    /// Lower-case name, as in model metadata and flags.
    pub fn name(self) -> &'static str {
        match self {
            GanLoss::Lsgan => "lsgan",
            GanLoss::Hinge => "hinge",
        }
    }

    /// The discriminator's loss on score maps for real and (detached) fake images, averaged over scales.
    pub fn discriminator(self, real: &[Tensor<4>], fake: &[Tensor<4>]) -> Tensor<1> {
        let per_scale = real.iter().zip(fake).map(|(r, f)| match self {
            GanLoss::Lsgan => (r.clone() - 1.0).square().mean() + f.clone().square().mean(),
            GanLoss::Hinge => {
                activation::relu(-r.clone() + 1.0).mean() + activation::relu(f.clone() + 1.0).mean()
            }
        });
        average(per_scale)
    }

    /// The generator's loss on the discriminator's score maps of its outputs.
    pub fn generator(self, fake: &[Tensor<4>]) -> Tensor<1> {
        average(fake.iter().map(|f| match self {
            GanLoss::Lsgan => (f.clone() - 1.0).square().mean(),
            GanLoss::Hinge => -f.clone().mean(),
        }))
    }
}

fn average(terms: impl Iterator<Item = Tensor<1>>) -> Tensor<1> {
    let (sum, n) = terms.fold((None::<Tensor<1>>, 0), |(acc, n), t| {
        (Some(acc.map_or(t.clone(), |a| a + t)), n + 1)
    });
    sum.expect("at least one scale") / n as f64
}

/// Warping plans of a batch as tensors, ready for [`BatchWarp::apply`].
#[derive(Debug, Clone)]
pub struct BatchWarp {
    /// Flat source indices per tap, `[b, 1, h*w]`.
    taps: [Tensor<3, Int>; 4],
    /// Bilinear weights per tap, `[b, 1, h*w]`.
    weights: [Tensor<3>; 4],
    /// Validity mask, `[b, 1, h, w]`.
    pub mask: Tensor<4>,
    height: usize,
    width: usize,
}

impl BatchWarp {
    /// Tensors for one plan per batch item (all the same size).
    pub fn new(plans: &[WarpPlan], device: &Device) -> Self {
        let (w, h) = (plans[0].width, plans[0].height);
        let n = w * h;
        let b = plans.len();
        let taps = std::array::from_fn(|k| {
            let data: Vec<i64> = plans
                .iter()
                .flat_map(|p| p.taps[k].iter().map(|&t| i64::from(t)))
                .collect();
            Tensor::from_data(TensorData::new(data, [b, 1, n]), device)
        });
        let weights = std::array::from_fn(|k| {
            let data: Vec<f32> = plans
                .iter()
                .flat_map(|p| p.weights[k].iter().copied())
                .collect();
            Tensor::from_data(TensorData::new(data, [b, 1, n]), device)
        });
        let mask: Vec<f32> = plans.iter().flat_map(|p| p.mask.iter().copied()).collect();
        let mask = Tensor::from_data(TensorData::new(mask, [b, 1, h, w]), device);
        Self {
            taps,
            weights,
            mask,
            height: h,
            width: w,
        }
    }

    /// Warp `x`, `[b, c, h, w]`: `out(p) = x(p + flow(p))`, bilinear, zero where the mask is 0.
    /// Differentiable with respect to `x`.
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        assert_eq!(
            (h, w),
            (self.height, self.width),
            "warp plan size differs from the tensor"
        );
        let flat = x.reshape([b, c, h * w]);
        let mut out: Option<Tensor<3>> = None;
        for k in 0..4 {
            let index = self.taps[k].clone().expand([b, c, h * w]);
            let term = flat.clone().gather(2, index) * self.weights[k].clone();
            out = Some(match out {
                Some(o) => o + term,
                None => term,
            });
        }
        out.expect("four taps").reshape([b, c, h, w])
    }
}

/// Masked mean squared difference: `Σ mask·(a−b)² / (Σ mask · c)`, mask `[b, 1, h, w]`.
pub fn masked_mse(a: Tensor<4>, b: Tensor<4>, mask: Tensor<4>) -> Tensor<1> {
    let c = a.dims()[1];
    let weighted = (a - b).square() * mask.clone();
    weighted.sum() / (mask.sum() * c as f64 + 1e-8)
}

/// Rec. 601 luma of `[b, 3, h, w]` → `[b, 1, h, w]`.
pub fn luma(x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    let weights = Tensor::<1>::from_floats([0.299, 0.587, 0.114], &device).reshape([1, 3, 1, 1]);
    (x * weights).sum_dim(1)
}

/// Synthetic-motion temporal loss: `stylize(warp(I))` against `warp(stylize(I))`, masked where
/// the warp leaves the frame.
pub fn temporal_synthetic(
    stylized_warped: Tensor<4>,
    stylized: Tensor<4>,
    warp: &BatchWarp,
) -> Tensor<1> {
    masked_mse(stylized_warped, warp.apply(stylized), warp.mask.clone())
}

/// ReCoNet's output-level temporal loss for consecutive frames: the change of the output,
/// `O_t − W(O_{t−1})`, should equal the luminance change of the input, `Y(I_t) − Y(W(I_{t−1}))`,
/// where the flow is valid and not occluded (`warp.mask` combined with `occlusion`).
pub fn temporal_video(
    output: Tensor<4>,
    previous_output: Tensor<4>,
    input: Tensor<4>,
    previous_input: Tensor<4>,
    warp: &BatchWarp,
    occlusion: Tensor<4>,
) -> Tensor<1> {
    let output_change = output - warp.apply(previous_output);
    let input_change = luma(input) - luma(warp.apply(previous_input));
    let [b, c, h, w] = output_change.dims();
    masked_mse(
        output_change,
        input_change.expand([b, c, h, w]),
        warp.mask.clone() * occlusion,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Flow, WarpPlan};
    use burn::tensor::Distribution;

    fn device() -> Device {
        Device::flex()
    }

    #[test]
    fn gram_of_a_constant_image_is_the_outer_product_of_the_values() {
        let values = [0.5f32, 2.0, -1.0];
        let data: Vec<f32> = values
            .iter()
            .flat_map(|v| std::iter::repeat_n(*v, 12))
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(data, [1, 3, 3, 4]), &device());
        let g: Vec<f32> = gram(x).into_data().try_to_vec::<f32>().unwrap();
        for i in 0..3 {
            for j in 0..3 {
                // sum over 12 pixels of v_i v_j, divided by c·h·w = 36
                let expected = values[i] * values[j] * 12.0 / 36.0;
                assert!((g[i * 3 + j] - expected).abs() < 1e-6, "{g:?}");
            }
        }
    }

    #[test]
    fn balanced_style_terms_do_not_depend_on_a_layers_scale() {
        // Two layers with the same pattern of features, the second 30× larger (as relu1_2's are
        // larger than relu4_3's): unbalanced, its term is 30⁴ times the first's; balanced, equal.
        let d = device();
        let small_f = Tensor::<4>::random([1, 4, 5, 5], Distribution::Default, &d);
        let small_t = Tensor::<4>::random([1, 4, 5, 5], Distribution::Default, &d);
        let features = [small_f.clone(), small_f * 30.0];
        let targets = [gram(small_t.clone()), gram(small_t * 30.0)];
        let term = |i: usize, w: f32| -> f32 {
            weighted_style_loss(&features[i..=i], &targets[i..=i], &[w]).into_scalar()
        };
        let ratio = term(1, 1.0) / term(0, 1.0);
        assert!((ratio / 30f32.powi(4) - 1.0).abs() < 1e-3, "{ratio}");
        let mean_squares: Vec<f64> = targets
            .iter()
            .map(|t| f64::from(t.clone().square().mean().into_scalar::<f32>()))
            .collect();
        let w = balanced_layer_weights(&mean_squares);
        let (a, b) = (term(0, w[0]), term(1, w[1]));
        assert!(a > 0.0 && (a / b - 1.0).abs() < 1e-3, "{a} vs {b}");
        // Both layers together are the sum of their terms; unit weights are `style_loss`.
        let both: f32 = weighted_style_loss(&features, &targets, &w).into_scalar();
        assert!((both / (a + b) - 1.0).abs() < 1e-4);
        let plain: f32 = style_loss(&features, &targets).into_scalar();
        assert!((plain / (term(0, 1.0) + term(1, 1.0)) - 1.0).abs() < 1e-4);
        assert_eq!(
            balanced_layer_weights(&[0.0]),
            [1.0],
            "an all-zero target keeps weight 1"
        );
        // An empty layer beside a full one: finite, at the floor.
        let w = balanced_layer_weights(&[4.0, 0.0, 1e-300]);
        assert_eq!(w[0], 0.25);
        assert!(w[1].is_finite() && w[1] == w[2] && (w[1] / 2.5e8 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn tensor_warp_by_an_integer_shift_matches_a_slice() {
        let x = Tensor::<4>::random([2, 3, 6, 7], Distribution::Default, &device());
        let plan = WarpPlan::new(&Flow::uniform(7, 6, 2.0, 1.0));
        let warp = BatchWarp::new(&[plan.clone(), plan], &device());
        let warped = warp.apply(x.clone());
        let inner = warped.slice([0..2, 0..3, 0..5, 0..5]);
        let expected = x.slice([0..2, 0..3, 1..6, 2..7]);
        let diff: f32 = (inner - expected).abs().max().into_scalar();
        assert!(diff < 1e-6, "{diff}");
        let mask: Vec<f32> = warp.mask.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(
            mask.iter().filter(|m| **m == 0.0).count(),
            2 * (7 + 2 * 5) // one column of 7, two rows of 5, per image
        );
    }

    #[test]
    fn tensor_warp_agrees_with_the_cpu_warp() {
        let (w, h) = (9, 5);
        let src: Vec<f32> = (0..3 * w * h)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let flow = Flow {
            width: w,
            height: h,
            u: (0..w * h).map(|i| (i % 7) as f32 * 0.3 - 0.9).collect(),
            v: vec![0.4; w * h],
        };
        let plan = WarpPlan::new(&flow);
        let cpu = plan.apply(&src, 3);
        let x = Tensor::<4>::from_data(TensorData::new(src, [1, 3, h, w]), &device());
        let gpu: Vec<f32> = BatchWarp::new(&[plan], &device())
            .apply(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (a, b) in cpu.iter().zip(&gpu) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn temporal_loss_is_zero_for_the_identity_flow_and_positive_for_a_change() {
        let x = Tensor::<4>::random([1, 3, 8, 8], Distribution::Default, &device());
        let identity = BatchWarp::new(&[WarpPlan::new(&Flow::zero(8, 8))], &device());
        let zero: f32 = temporal_synthetic(x.clone(), x.clone(), &identity).into_scalar();
        assert!(zero.abs() < 1e-10, "{zero}");
        let other = Tensor::<4>::random([1, 3, 8, 8], Distribution::Default, &device());
        let changed: f32 = temporal_synthetic(other, x, &identity).into_scalar();
        assert!(changed > 1e-3, "{changed}");
    }

    #[test]
    fn video_loss_ignores_a_global_brightness_change_of_the_input() {
        let prev = Tensor::<4>::random([1, 3, 8, 8], Distribution::Default, &device());
        let cur = prev.clone() + 0.1;
        let warp = BatchWarp::new(&[WarpPlan::new(&Flow::zero(8, 8))], &device());
        let ones = Tensor::ones([1, 1, 8, 8], &device());
        // Output follows the input's luminance change exactly: no penalty.
        let loss: f32 = temporal_video(
            cur.clone(),
            prev.clone(),
            cur.clone(),
            prev.clone(),
            &warp,
            ones.clone(),
        )
        .into_scalar();
        assert!(loss < 1e-10, "{loss}");
        // Output frozen while the input brightened: penalized.
        let frozen: f32 =
            temporal_video(prev.clone(), prev.clone(), cur, prev, &warp, ones).into_scalar();
        assert!((frozen - 0.01).abs() < 1e-4, "{frozen}");
    }

    #[test]
    fn lsgan_and_hinge_losses_prefer_the_right_answers() {
        let d = device();
        let high = vec![Tensor::<4>::ones([1, 1, 2, 2], &d)];
        let low = vec![Tensor::<4>::zeros([1, 1, 2, 2], &d) - 1.0];
        for loss in [GanLoss::Lsgan, GanLoss::Hinge] {
            let good: f32 = loss.discriminator(&high, &low).into_scalar();
            let bad: f32 = loss.discriminator(&low, &high).into_scalar();
            assert!(good < bad, "{loss:?}: {good} vs {bad}");
            let fooled: f32 = loss.generator(&high).into_scalar();
            let caught: f32 = loss.generator(&low).into_scalar();
            assert!(fooled < caught, "{loss:?}");
        }
    }

    #[test]
    fn total_variation_is_zero_for_flat_images_only() {
        let flat = Tensor::<4>::ones([1, 3, 4, 4], &device());
        assert_eq!(total_variation(flat).into_scalar::<f32>(), 0.0);
        let noisy = Tensor::<4>::random([1, 3, 4, 4], Distribution::Default, &device());
        assert!(total_variation(noisy).into_scalar::<f32>() > 0.0);
    }
}
