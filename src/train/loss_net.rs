//! The feature ("loss") network behind the content and style losses: VGG16/19 from a file the
//! user gives (`--vgg`, torchvision layout), or, since nothing may be downloaded, a fixed
//! seeded random multi-scale convolutional extractor (random filters are known to capture
//! texture statistics: Ustyuzhaninov et al. 2017). Its weights come from a seed, so every run,
//! machine and model file agrees on it without storing it.

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

use super::vgg::Vgg;
use crate::error::Result;
use crate::model::discriminator::avg_pool2;

/// Feature maps of a batch at several depths.
pub struct Features {
    /// One map per style layer, finest first.
    pub maps: Vec<Tensor<4>>,
    /// Index in `maps` of the content layer.
    pub content: usize,
}

impl Features {
    /// The Gram matrix of each map (`[b, c, c]` per layer), detached: style targets.
    pub fn grams(self) -> Vec<Tensor<3>> {
        self.maps
            .into_iter()
            .map(|m| super::losses::gram(m).detach())
            .collect()
    }
}

/// A loss network.
#[derive(Debug)]
pub enum LossNetwork {
    /// The seeded random extractor.
    Random(RandomFeatures),
    /// A pretrained VGG from the user.
    Vgg(Vgg),
}

impl LossNetwork {
    /// The random extractor, or VGG when a file is given.
    pub fn new(vgg: Option<&Path>, device: &Device) -> Result<Self> {
        match vgg {
            Some(path) => Ok(LossNetwork::Vgg(Vgg::load(path, device)?)),
            None => Ok(LossNetwork::Random(RandomFeatures::new(device))),
        }
    }

    /// Features of images `[b, 3, h, w]` in [0, 1].
    pub fn features(&self, x: Tensor<4>) -> Features {
        match self {
            LossNetwork::Random(r) => r.features(x),
            LossNetwork::Vgg(v) => v.features(x),
        }
    }

    /// A name for model metadata and reports.
    pub fn describe(&self) -> String {
        match self {
            LossNetwork::Random(_) => "random-multiscale (seeded, no pretrained weights)".into(),
            LossNetwork::Vgg(v) => v.describe(),
        }
    }
}

/// Channels of the random extractor's stages; each stage after the first works at half the
/// previous size.
const RANDOM_CHANNELS: [usize; 4] = [32, 64, 96, 128];
/// Fixed seed of the random extractor's weights.
const RANDOM_SEED: u64 = 0x6761_6e73_7479_6c65;

/// Seeded random 3×3 conv + ReLU stages with 2× average pooling between them.
#[derive(Module, Debug)]
pub struct RandomFeatures {
    /// Weights per stage, `[cout, cin, 3, 3]`, He-scaled Gaussian.
    pub weights: Vec<Param<Tensor<4>>>,
    /// Biases per stage.
    pub biases: Vec<Param<Tensor<1>>>,
}

impl RandomFeatures {
    /// Build the extractor (the same weights every time).
    pub fn new(device: &Device) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(RANDOM_SEED);
        let mut cin = 3;
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for &cout in &RANDOM_CHANNELS {
            let std = (2.0 / (cin * 9) as f32).sqrt();
            let normal = Normal::new(0.0, std).expect("valid normal");
            let w: Vec<f32> = (0..cout * cin * 9)
                .map(|_| normal.sample(&mut rng))
                .collect();
            let b: Vec<f32> = (0..cout).map(|_| normal.sample(&mut rng) * 0.1).collect();
            weights.push(Param::from_tensor(Tensor::from_data(
                TensorData::new(w, [cout, cin, 3, 3]),
                device,
            )));
            biases.push(Param::from_tensor(Tensor::from_data(
                TensorData::new(b, [cout]),
                device,
            )));
            cin = cout;
        }
        Self { weights, biases }
    }

    fn features(&self, x: Tensor<4>) -> Features {
        let options = ConvOptions {
            stride: [1, 1],
            padding: [(1, 1); 2],
            dilation: [1, 1],
            groups: 1,
        };
        let mut y = x * 2.0 - 1.0;
        let mut maps = Vec::new();
        for (i, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            if i > 0 {
                y = avg_pool2(y);
            }
            y = activation::relu(conv2d(y, w.val(), Some(b.val()), options.clone()));
            maps.push(y.clone());
        }
        Features { maps, content: 1 }
    }
}

/// Run one torchvision-style conv (3×3, padding 1) + ReLU.
pub(crate) fn conv_relu(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    activation::relu(conv.forward(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution as D;

    #[test]
    fn random_extractor_is_deterministic_and_multiscale() {
        let device = Device::flex();
        let x = Tensor::<4>::random([1, 3, 32, 32], D::Default, &device);
        let a = RandomFeatures::new(&device).features(x.clone());
        let b = RandomFeatures::new(&device).features(x);
        let dims: Vec<_> = a.maps.iter().map(|m| m.dims()).collect();
        assert_eq!(
            dims,
            vec![
                [1, 32, 32, 32],
                [1, 64, 16, 16],
                [1, 96, 8, 8],
                [1, 128, 4, 4]
            ]
        );
        let first = |f: &Features| -> Vec<f32> { f.maps[3].to_data().try_to_vec::<f32>().unwrap() };
        assert_eq!(first(&a), first(&b));
        assert!(first(&a).iter().any(|v| *v > 0.0), "all features dead");
    }
}
