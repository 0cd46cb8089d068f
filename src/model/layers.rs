//! Building blocks of the generator: reflection-padded convolutions (full or depthwise-separable),
//! conditional instance norm (one scale/shift per style, mixed by a weight vector), residual blocks
//! and nearest-neighbour upsampling.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions, PadMode};
use burn::tensor::{Device, Tensor, activation};

/// Instance norm whose affine scale and shift are chosen per style: with `styles` rows of
/// parameters, a `[batch, styles]` mix vector blends them (a one-hot row picks one style).
#[derive(Module, Debug)]
pub struct CondInstanceNorm {
    /// Scales, `[styles, channels]`.
    pub gamma: Param<Tensor<2>>,
    /// Shifts, `[styles, channels]`.
    pub beta: Param<Tensor<2>>,
    /// Added to the variance for numerical stability.
    pub epsilon: f64,
}

impl CondInstanceNorm {
    /// A norm over `channels` channels holding `styles` parameter sets (scale 1, shift 0).
    pub fn new(channels: usize, styles: usize, device: &Device) -> Self {
        Self {
            gamma: Param::from_tensor(Tensor::ones([styles, channels], device)),
            beta: Param::from_tensor(Tensor::zeros([styles, channels], device)),
            epsilon: 1e-5,
        }
    }

    /// Normalize each channel of each image, then scale and shift by the mixed style parameters.
    pub fn forward(&self, x: Tensor<4>, mix: Tensor<2>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let flat = x.reshape([b, c, h * w]); // [b, c, h*w]
        let (var, mean) = flat.clone().var_mean_bias(2); // [b, c, 1] each
        let normalized = (flat - mean) / (var + self.epsilon).sqrt();
        let gamma = mix.clone().matmul(self.gamma.val()).reshape([b, c, 1]); // [b, c, 1]
        let beta = mix.matmul(self.beta.val()).reshape([b, c, 1]);
        (normalized * gamma + beta).reshape([b, c, h, w])
    }
}

/// What follows a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Conditional instance norm, then ReLU.
    NormRelu,
    /// Conditional instance norm only (end of a residual branch, or an output layer).
    Norm,
    /// Bias and ReLU, no norm (the encoder of the `magenta` architecture, whose batch norms
    /// were folded into the convolutions).
    Relu,
    /// Bias only (an output layer).
    Nothing,
}

/// Shape of one convolution layer.
#[derive(Debug, Clone, Copy)]
pub struct ConvSpec {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Square kernel size (odd).
    pub kernel: usize,
    /// Stride (1 or 2).
    pub stride: usize,
    /// Depthwise `kernel`×`kernel` then pointwise 1×1, instead of one full convolution.
    pub separable: bool,
    /// Norm and activation after the convolution.
    pub after: After,
}

impl ConvSpec {
    /// Multiply-accumulates for an output of `out_pixels` pixels.
    pub fn macs(&self, out_pixels: usize) -> usize {
        let k2 = self.kernel * self.kernel;
        let per_pixel = if self.separable {
            self.cin * k2 + self.cin * self.cout
        } else {
            self.cin * self.cout * k2
        };
        per_pixel * out_pixels
    }
}

/// Reflection padding, a convolution (full, or depthwise + pointwise) and what follows it.
#[derive(Module, Debug)]
pub struct ConvLayer {
    /// Depthwise convolution of a separable layer.
    pub depthwise: Option<Conv2d>,
    /// The full convolution, or the pointwise one of a separable layer.
    pub conv: Conv2d,
    /// Present unless the layer is an output layer.
    pub norm: Option<CondInstanceNorm>,
    /// Reflection padding on each side.
    pub pad: usize,
    /// Whether a ReLU ends the layer.
    pub relu: bool,
}

impl ConvLayer {
    /// Build a layer from its spec for a model of `styles` styles.
    pub fn new(spec: ConvSpec, styles: usize, device: &Device) -> Self {
        let k = spec.kernel;
        let (depthwise, conv) = if spec.separable {
            let dw = Conv2dConfig::new([spec.cin, spec.cin], [k, k])
                .with_stride([spec.stride, spec.stride])
                .with_groups(spec.cin)
                .init(device);
            let pw = Conv2dConfig::new([spec.cin, spec.cout], [1, 1]).init(device);
            (Some(dw), pw)
        } else {
            let full = Conv2dConfig::new([spec.cin, spec.cout], [k, k])
                .with_stride([spec.stride, spec.stride])
                .init(device);
            (None, full)
        };
        let norm = matches!(spec.after, After::NormRelu | After::Norm)
            .then(|| CondInstanceNorm::new(spec.cout, styles, device));
        Self {
            depthwise,
            conv,
            norm,
            pad: k / 2,
            relu: matches!(spec.after, After::NormRelu | After::Relu),
        }
    }

    /// `[b, cin, h, w]` → `[b, cout, h/stride, w/stride]`.
    pub fn forward(&self, x: Tensor<4>, mix: Tensor<2>) -> Tensor<4> {
        let p = self.pad;
        let mut y = if p > 0 {
            x.pad([(p, p), (p, p)], PadMode::Reflect)
        } else {
            x
        };
        if let Some(dw) = &self.depthwise {
            y = dw.forward(y);
        }
        y = self.conv.forward(y);
        if let Some(norm) = &self.norm {
            y = norm.forward(y, mix);
        }
        if self.relu { activation::relu(y) } else { y }
    }
}

/// Two same-size layers with a skip connection: `x + norm(conv(relu(norm(conv(x)))))`.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// First layer (norm + ReLU).
    pub first: ConvLayer,
    /// Second layer (norm only).
    pub second: ConvLayer,
}

impl ResidualBlock {
    /// A block of `channels` channels; `separable` picks depthwise-separable convolutions.
    pub fn new(channels: usize, separable: bool, styles: usize, device: &Device) -> Self {
        let spec = |after| ConvSpec {
            cin: channels,
            cout: channels,
            kernel: 3,
            stride: 1,
            separable,
            after,
        };
        Self {
            first: ConvLayer::new(spec(After::NormRelu), styles, device),
            second: ConvLayer::new(spec(After::Norm), styles, device),
        }
    }

    /// `[b, c, h, w]` → `[b, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>, mix: Tensor<2>) -> Tensor<4> {
        let y = self.first.forward(x.clone(), mix.clone());
        x + self.second.forward(y, mix)
    }
}

/// Nearest-neighbour 2× upsampling, `[b, c, h, w]` → `[b, c, 2h, 2w]`.
pub fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let mut options = InterpolateOptions::new(InterpolateMode::Nearest);
    options.output_size = Some([h * 2, w * 2]);
    interpolate(x, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn instance_norm_output_has_zero_mean_unit_variance_per_channel() {
        let device = Device::flex();
        let norm = CondInstanceNorm::new(2, 1, &device);
        let x = Tensor::<4>::random(
            [3, 2, 5, 7],
            burn::tensor::Distribution::Uniform(-4.0, 9.0),
            &device,
        );
        let y = norm.forward(x, Tensor::ones([3, 1], &device));
        let (var, mean) = y.reshape([3, 2, 35]).var_mean_bias(2);
        let mean: Vec<f32> = mean.into_data().try_to_vec::<f32>().unwrap();
        let var: Vec<f32> = var.into_data().try_to_vec::<f32>().unwrap();
        assert!(mean.iter().all(|m| m.abs() < 1e-4), "{mean:?}");
        assert!(var.iter().all(|v| (v - 1.0).abs() < 1e-3), "{var:?}");
    }

    #[test]
    fn style_mix_blends_the_style_parameters() {
        let device = Device::flex();
        let mut norm = CondInstanceNorm::new(1, 2, &device);
        norm.beta = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![2.0f32, 6.0], [2, 1]),
            &device,
        ));
        let x = Tensor::<4>::zeros([1, 1, 2, 2], &device);
        let mix = Tensor::from_data(TensorData::new(vec![0.25f32, 0.75], [1, 2]), &device);
        let y: Vec<f32> = norm
            .forward(x, mix)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // A constant input normalizes to 0, so the output is the mixed shift 0.25*2 + 0.75*6.
        assert!(y.iter().all(|v| (v - 5.0).abs() < 1e-5), "{y:?}");
    }

    #[test]
    fn layers_keep_or_halve_the_size() {
        let device = Device::flex();
        let spec = ConvSpec {
            cin: 3,
            cout: 4,
            kernel: 3,
            stride: 2,
            separable: true,
            after: After::NormRelu,
        };
        let layer = ConvLayer::new(spec, 1, &device);
        let y = layer.forward(
            Tensor::zeros([1, 3, 8, 6], &device),
            Tensor::ones([1, 1], &device),
        );
        assert_eq!(y.dims(), [1, 4, 4, 3]);
        assert_eq!(upsample2(y).dims(), [1, 4, 8, 6]);
    }
}
