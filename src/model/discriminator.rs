//! The discriminator: a multi-scale PatchGAN (one patch critic per scale: the image, then 2×
//! average-pooled copies), every convolution spectrally normalized so the critic stays
//! 1-Lipschitz-ish and the GAN does not blow up.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, activation};
use serde::{Deserialize, Serialize};

/// Shape of the discriminator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscriminatorConfig {
    /// Number of scales (critics), each at half the size of the previous one.
    pub scales: usize,
    /// Channels of each critic's first layer (doubled at each stride-2 layer).
    pub channels: usize,
}

impl Default for DiscriminatorConfig {
    fn default() -> Self {
        Self {
            scales: 2,
            channels: 32,
        }
    }
}

/// A convolution whose weight is divided by its largest singular value, estimated afresh at
/// every forward pass (no running power-iteration state, so it saves and resumes as plain
/// weights). Gradients flow through the singular value estimate, as in Miyato et al.
#[derive(Module, Debug)]
pub struct SpectralConv {
    /// `[out, in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// `[out]`.
    pub bias: Param<Tensor<1>>,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
}

/// Squarings of `W Wᵀ` per forward pass: as many power iterations as `2^GRAM_SQUARINGS`
/// (64), for the price of six `[out, out]` products. Ten plain power iterations from the
/// all-ones vector left some weights up to 12 % over unit norm (a start nearly orthogonal to
/// the top singular vector, or close singular values).
const GRAM_SQUARINGS: usize = 6;

impl SpectralConv {
    /// A `kernel`×`kernel` convolution from `cin` to `cout` channels.
    pub fn new(cin: usize, cout: usize, kernel: usize, stride: usize, device: &Device) -> Self {
        let fan_in = cin * kernel * kernel;
        let weight = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        }
        .init_with(
            [cout, cin, kernel, kernel],
            Some(fan_in),
            Some(cout * kernel * kernel),
            device,
        );
        Self {
            weight,
            bias: Param::from_tensor(Tensor::zeros([cout], device)),
            stride,
            padding: kernel / 2,
        }
    }

    /// The weight divided by its estimated spectral norm.
    pub fn normalized_weight(&self) -> Tensor<4> {
        let w = self.weight.val();
        let [o, i, kh, kw] = w.dims();
        let matrix = w.clone().reshape([o, i * kh * kw]); // [o, n]
        let fixed = matrix.clone().detach();
        // (W Wᵀ)^64, rescaled after every squaring: close to a multiple of u₁u₁ᵀ, so each of
        // its columns points along the top left singular vector u₁. The largest column is the
        // one least spoiled by rounding.
        // Rescaled from the start, so tiny or huge weights neither underflow nor overflow.
        let mut gram = normalize(fixed.clone().matmul(fixed.clone().transpose())); // [o, o]
        for _ in 0..GRAM_SQUARINGS {
            gram = normalize(gram.clone().matmul(gram));
        }
        let largest = gram.clone().square().sum_dim(0).argmax(1).reshape([1]); // [1]
        let u = normalize(gram.select(1, largest)); // [o, 1]
        // One last power step makes u and v a matching pair.
        let v = normalize(fixed.clone().transpose().matmul(u)); // [n, 1]
        let u = normalize(fixed.matmul(v.clone())); // [o, 1]
        let sigma = u.transpose().matmul(matrix.matmul(v)).reshape([1, 1, 1, 1]); // [1,1,1,1]
        w / (sigma + 1e-8)
    }

    /// `[b, in, h, w]` → `[b, out, h/stride, w/stride]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let p = self.padding;
        let options = ConvOptions {
            stride: [self.stride; 2],
            padding: [(p, p); 2],
            dilation: [1, 1],
            groups: 1,
        };
        conv2d(x, self.normalized_weight(), Some(self.bias.val()), options)
    }
}

/// `v` divided by its Frobenius norm.
fn normalize(v: Tensor<2>) -> Tensor<2> {
    let norm = v.clone().square().sum().sqrt().reshape([1, 1]);
    v / (norm + 1e-12)
}

/// One PatchGAN critic: three stride-2 layers, one stride-1 layer, a 1-channel score map.
#[derive(Module, Debug)]
pub struct PatchCritic {
    /// Convolutions, leaky ReLU between them.
    pub layers: Vec<SpectralConv>,
}

impl PatchCritic {
    fn new(channels: usize, device: &Device) -> Self {
        let c = channels;
        Self {
            layers: vec![
                SpectralConv::new(3, c, 3, 2, device),
                SpectralConv::new(c, 2 * c, 3, 2, device),
                SpectralConv::new(2 * c, 4 * c, 3, 2, device),
                SpectralConv::new(4 * c, 4 * c, 3, 1, device),
                SpectralConv::new(4 * c, 1, 3, 1, device),
            ],
        }
    }

    /// `[b, 3, h, w]` → `[b, 1, h/8, w/8]` realism scores per patch.
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |y, (i, layer)| {
            let y = layer.forward(y);
            if i < last {
                activation::leaky_relu(y, 0.2)
            } else {
                y
            }
        })
    }
}

impl DiscriminatorConfig {
    /// Build the discriminator with fresh weights.
    pub fn init(&self, device: &Device) -> Discriminator {
        Discriminator {
            critics: (0..self.scales)
                .map(|_| PatchCritic::new(self.channels, device))
                .collect(),
        }
    }
}

/// Multi-scale PatchGAN discriminator.
#[derive(Module, Debug)]
pub struct Discriminator {
    /// One critic per scale, finest first.
    pub critics: Vec<PatchCritic>,
}

impl Discriminator {
    /// Score maps, one per scale, for images `[b, 3, h, w]` in [0, 1].
    pub fn forward(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut scaled = x * 2.0 - 1.0;
        let mut scores = Vec::with_capacity(self.critics.len());
        for (i, critic) in self.critics.iter().enumerate() {
            if i > 0 {
                scaled = avg_pool2(scaled);
            }
            scores.push(critic.forward(scaled.clone()));
        }
        scores
    }
}

/// 2×2 average pooling, `[b, c, h, w]` → `[b, c, h/2, w/2]` (an odd last row/column is dropped).
pub fn avg_pool2(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let (h2, w2) = (h / 2, w / 2);
    x.slice([0..b, 0..c, 0..h2 * 2, 0..w2 * 2])
        .reshape([b * c * h2, 2, w2, 2])
        .mean_dim(3)
        .mean_dim(1)
        .reshape([b, c, h2, w2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Largest singular value of a row-major `rows`×`cols` matrix, in f64, by 2000 power
    /// iterations on `AᵀA` from a start that is not orthogonal to anything in particular.
    fn reference_sigma(a: &[f32], rows: usize, cols: usize) -> f64 {
        let mut v: Vec<f64> = (0..cols).map(|k| 1.0 + 0.37 * (k as f64).sin()).collect();
        let mut sigma2 = 0.0;
        for _ in 0..2000 {
            let av: Vec<f64> = (0..rows)
                .map(|r| (0..cols).map(|c| a[r * cols + c] as f64 * v[c]).sum())
                .collect();
            let atav: Vec<f64> = (0..cols)
                .map(|c| (0..rows).map(|r| a[r * cols + c] as f64 * av[r]).sum())
                .collect();
            let norm = atav.iter().map(|x| x * x).sum::<f64>().sqrt();
            sigma2 = norm / v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = atav.iter().map(|x| x / norm).collect();
        }
        sigma2.sqrt()
    }

    fn conv_with_weight(values: Vec<f32>, shape: [usize; 4], device: &Device) -> SpectralConv {
        let mut conv = SpectralConv::new(shape[1], shape[0], shape[2], 1, device);
        conv.weight = Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device));
        conv
    }

    #[test]
    fn spectral_normalization_gives_unit_largest_singular_value() {
        let device = Device::flex();
        let mut rng = StdRng::seed_from_u64(11);
        // The critic's shapes in miniature: wide, square-ish, a single output row.
        let shapes = [[6, 4, 3, 3], [8, 3, 3, 3], [16, 8, 3, 3], [1, 16, 3, 3]];
        for shape in shapes {
            let (rows, cols) = (shape[0], shape[1] * shape[2] * shape[3]);
            for trial in 0..25 {
                let scale = rng.random_range(0.01..10.0f32);
                let values: Vec<f32> = (0..rows * cols)
                    .map(|_| scale * rng.random_range(-1.0..1.0f32))
                    .collect();
                let w = conv_with_weight(values, shape, &device).normalized_weight();
                let normalized: Vec<f32> = w.into_data().try_to_vec::<f32>().unwrap();
                let sigma = reference_sigma(&normalized, rows, cols);
                assert!(
                    (sigma - 1.0).abs() < 2e-3,
                    "{shape:?} trial {trial}: largest singular value {sigma} after normalizing"
                );
            }
        }
    }

    #[test]
    fn tiny_and_large_weights_are_normalized_too() {
        let device = Device::flex();
        let mut rng = StdRng::seed_from_u64(12);
        let shape = [8, 3, 3, 3];
        for scale in [1e-4f32, 1e-2, 1e3, 1e6] {
            let values: Vec<f32> = (0..8 * 27)
                .map(|_| scale * rng.random_range(-1.0..1.0f32))
                .collect();
            let w = conv_with_weight(values, shape, &device).normalized_weight();
            let normalized: Vec<f32> = w.into_data().try_to_vec::<f32>().unwrap();
            let sigma = reference_sigma(&normalized, 8, 27);
            assert!(
                (sigma - 1.0).abs() < 2e-3,
                "scale {scale}: largest singular value {sigma}"
            );
        }
        // Far below any trained weight, the 1e-8 that guards against a zero weight starts to
        // count; the weight must still not be scaled past unit norm.
        let values: Vec<f32> = (0..8 * 27)
            .map(|_| 1e-7 * rng.random_range(-1.0..1.0f32))
            .collect();
        let w = conv_with_weight(values, shape, &device).normalized_weight();
        let normalized: Vec<f32> = w.into_data().try_to_vec::<f32>().unwrap();
        let sigma = reference_sigma(&normalized, 8, 27);
        assert!((0.9..1.0).contains(&sigma), "scale 1e-7: {sigma}");
    }

    #[test]
    fn a_top_direction_orthogonal_to_the_all_ones_vector_is_found() {
        // Left singular vectors are the columns of a 4×4 Hadamard matrix; the largest singular
        // value (2.0) belongs to (1, -1, 1, -1)/2, the next (1.8) to (1, 1, 1, 1)/2. Power
        // iteration started from the all-ones vector, as this estimator once did, never leaves
        // the second direction and leaves the weight 11 % too large.
        let device = Device::flex();
        let (rows, cols) = (4usize, 9usize);
        let hadamard = [
            [1.0f32, 1.0, 1.0, 1.0],
            [1.0, -1.0, 1.0, -1.0],
            [1.0, 1.0, -1.0, -1.0],
            [1.0, -1.0, -1.0, 1.0],
        ];
        let singular = [2.0f32, 1.8, 0.5, 0.1];
        let direction = [1, 0, 2, 3];
        let mut a = vec![0.0f32; rows * cols];
        for (c, (&sigma, &d)) in singular.iter().zip(&direction).enumerate() {
            for r in 0..rows {
                a[r * cols + c] = sigma * hadamard[d][r] / 2.0;
            }
        }
        assert!((reference_sigma(&a, rows, cols) - 2.0).abs() < 1e-4);
        let conv = conv_with_weight(a, [rows, 1, 3, 3], &device);
        let normalized: Vec<f32> = conv
            .normalized_weight()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let sigma = reference_sigma(&normalized, rows, cols);
        assert!(
            (sigma - 1.0).abs() < 2e-3,
            "largest singular value {sigma} after normalizing"
        );
    }

    #[test]
    fn one_score_map_per_scale() {
        let device = Device::flex();
        let d = DiscriminatorConfig::default().init(&device);
        let scores = d.forward(Tensor::zeros([2, 3, 64, 32], &device));
        assert_eq!(scores.len(), 2);
        assert_eq!(scores[0].dims(), [2, 1, 8, 4]);
        assert_eq!(scores[1].dims(), [2, 1, 4, 2]);
    }

    #[test]
    fn average_pooling_averages_blocks() {
        let device = Device::flex();
        let x = Tensor::<4>::from_floats([[[[1.0, 3.0, 5.0], [5.0, 7.0, 9.0]]]], &device);
        let y: Vec<f32> = avg_pool2(x).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(y, vec![4.0]);
    }
}
