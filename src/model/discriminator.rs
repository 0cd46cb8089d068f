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

/// A convolution whose weight is divided by its largest singular value, estimated by a few
/// power iterations from a fixed start vector (no running state, so it saves and resumes as
/// plain weights). Gradients flow through the singular value estimate, as in Miyato et al.
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

/// Power iterations per forward pass.
const POWER_ITERATIONS: usize = 10;

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
        let mut u = Tensor::<2>::ones([o, 1], &w.device()) / (o as f64).sqrt(); // [o, 1]
        let mut v = fixed.clone().transpose().matmul(u.clone()); // [n, 1]
        for _ in 0..POWER_ITERATIONS {
            v = normalize(fixed.clone().transpose().matmul(u));
            u = normalize(fixed.clone().matmul(v.clone()));
        }
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
    use burn::tensor::Distribution;

    #[test]
    fn spectral_normalization_gives_unit_largest_singular_value() {
        let device = Device::flex();
        let conv = SpectralConv::new(4, 6, 3, 1, &device);
        let w = conv.normalized_weight().reshape([6, 36]);
        // Largest singular value by many power iterations on W^T W.
        let gram = w.clone().transpose().matmul(w);
        let mut v = Tensor::<2>::random([36, 1], Distribution::Default, &device);
        for _ in 0..200 {
            v = normalize(gram.clone().matmul(v));
        }
        let sigma2: f32 = v.clone().transpose().matmul(gram.matmul(v)).into_scalar();
        // Power iteration underestimates the norm, so the normalized weight has sigma >= 1, and close to it.
        let sigma = sigma2.sqrt();
        assert!((0.999..1.1).contains(&sigma), "sigma = {sigma}");
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
