//! The feed-forward generator: one pass restyles a frame. Three architectures share the layer
//! types: `johnson` (Johnson et al. 2016); `fast`, a real-time variant with about 1.3 GMAC per
//! 640×480 frame (stride-2 encoder to 1/8 size, depthwise-separable residual blocks, and the
//! input image fed to the last convolution so fine detail survives the bottleneck); and
//! `magenta`, the transformer network of Magenta's arbitrary style transfer (Ghiasi et al. 2017:
//! 8/16/32 channels, five residual blocks at 1/4 size, 3.85 GMAC at 640×480), whose weights
//! `ganstyle import` brings in; and `magenta-lite`, that layout made cheap enough for live video
//! on a CPU (3×3 end convolutions, separable residual blocks, the input fed to the last layer).

use burn::module::Module;
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor, activation};
use serde::{Deserialize, Serialize};

use super::layers::{After, ConvLayer, ConvSpec, ResidualBlock, upsample2};

/// Generator architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// Johnson et al. 2016: 9×9 end convolutions, 128-channel residual blocks at 1/4 size.
    Johnson,
    /// Real-time: 1/8-size bottleneck, depthwise-separable residual blocks (~1.3 GMAC at 640×480).
    Fast,
    /// Magenta's arbitrary-style transformer (Ghiasi et al. 2017): 9×9 end convolutions,
    /// 32-channel residual blocks at 1/4 size, pixels in [0, 1] in and `sigmoid` out.
    Magenta,
    /// Magenta's layout made cheap: a 1/4-size bottleneck of five separable 32-channel residual
    /// blocks, 16 channels at half size and 8 at full size (full convolutions, where fast's are
    /// separable), 3×3 end convolutions and the input fed to the last one (~1.2 GMAC at 640×480).
    MagentaLite,
}

impl Arch {
    /// Lower-case name, as in model files and flags.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Johnson => "johnson",
            Arch::Fast => "fast",
            Arch::Magenta => "magenta",
            Arch::MagentaLite => "magenta-lite",
        }
    }

    /// Every architecture.
    pub const ALL: [Arch; 4] = [Arch::Johnson, Arch::Fast, Arch::Magenta, Arch::MagentaLite];

    /// How pixels enter and leave the network.
    pub fn pixels(self) -> PixelConvention {
        match self {
            Arch::Johnson | Arch::Fast | Arch::MagentaLite => PixelConvention::SIGNED,
            Arch::Magenta => PixelConvention::UNIT,
        }
    }
}

/// How pixels in [0, 1] enter the network (`v · scale + offset`) and leave it
/// (`sigmoid(gain · v)` of the last layer's output `v`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelConvention {
    /// Input scale.
    pub scale: f32,
    /// Input offset.
    pub offset: f32,
    /// Output gain inside the sigmoid.
    pub gain: f32,
}

impl PixelConvention {
    /// In [-1, 1], out `sigmoid(2v)` (a tanh rescaled to [0, 1]): ganstyle's own networks.
    pub const SIGNED: Self = Self {
        scale: 2.0,
        offset: -1.0,
        gain: 2.0,
    };
    /// In [0, 1] as is, out `sigmoid(v)`: Magenta's networks.
    pub const UNIT: Self = Self {
        scale: 1.0,
        offset: 0.0,
        gain: 1.0,
    };

    /// A pixel value in [0, 1] as the network takes it (for runtimes other than burn).
    pub fn input(self, v: f32) -> f32 {
        v * self.scale + self.offset
    }

    /// The output activation for one value (for runtimes other than burn).
    pub fn output(self, v: f32) -> f32 {
        1.0 / (1.0 + (-self.gain * v).exp())
    }
}

/// Everything that fixes the generator's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    /// The architecture.
    pub arch: Arch,
    /// How many styles the conditional instance norms hold.
    pub styles: usize,
}

/// The layer plan of an architecture: encoder, residual blocks, decoder (each after a 2×
/// upsample) and output layer.
struct Plan {
    encoder: Vec<ConvSpec>,
    residual_channels: usize,
    residual_blocks: usize,
    separable_residuals: bool,
    decoder: Vec<ConvSpec>,
    output: ConvSpec,
    /// Whether the input image is concatenated to the output layer's input.
    skip_input: bool,
}

fn conv(cin: usize, cout: usize, kernel: usize, stride: usize, after: After) -> ConvSpec {
    ConvSpec {
        cin,
        cout,
        kernel,
        stride,
        separable: false,
        after,
    }
}

impl Arch {
    fn plan(self) -> Plan {
        use After::*;
        match self {
            Arch::Johnson => Plan {
                encoder: vec![
                    conv(3, 32, 9, 1, NormRelu),
                    conv(32, 64, 3, 2, NormRelu),
                    conv(64, 128, 3, 2, NormRelu),
                ],
                residual_channels: 128,
                residual_blocks: 5,
                separable_residuals: false,
                decoder: vec![conv(128, 64, 3, 1, NormRelu), conv(64, 32, 3, 1, NormRelu)],
                output: conv(32, 3, 9, 1, Nothing),
                skip_input: false,
            },
            Arch::Fast => Plan {
                encoder: vec![
                    conv(3, 16, 3, 2, NormRelu),
                    conv(16, 32, 3, 2, NormRelu),
                    conv(32, 64, 3, 2, NormRelu),
                ],
                residual_channels: 64,
                residual_blocks: 4,
                separable_residuals: true,
                decoder: vec![
                    conv(64, 32, 3, 1, NormRelu),
                    conv(32, 16, 3, 1, NormRelu),
                    ConvSpec {
                        separable: true,
                        ..conv(16, 8, 3, 1, NormRelu)
                    },
                ],
                output: conv(8 + 3, 3, 3, 1, Nothing),
                skip_input: true,
            },
            Arch::Magenta => Plan {
                encoder: vec![
                    conv(3, 8, 9, 1, Relu),
                    conv(8, 16, 3, 2, Relu),
                    conv(16, 32, 3, 2, Relu),
                ],
                residual_channels: 32,
                residual_blocks: 5,
                separable_residuals: false,
                decoder: vec![conv(32, 16, 3, 1, NormRelu), conv(16, 8, 3, 1, NormRelu)],
                output: conv(8, 3, 9, 1, Norm),
                skip_input: false,
            },
            Arch::MagentaLite => Plan {
                encoder: vec![conv(3, 16, 3, 2, NormRelu), conv(16, 32, 3, 2, NormRelu)],
                residual_channels: 32,
                residual_blocks: 5,
                separable_residuals: true,
                decoder: vec![conv(32, 16, 3, 1, NormRelu), conv(16, 8, 3, 1, NormRelu)],
                output: conv(8 + 3, 3, 3, 1, Nothing),
                skip_input: true,
            },
        }
    }
}

impl GeneratorConfig {
    /// A config for `arch` with `styles` styles.
    pub fn new(arch: Arch, styles: usize) -> Self {
        Self { arch, styles }
    }

    /// Build the generator with freshly initialized weights.
    pub fn init(&self, device: &Device) -> Generator {
        let plan = self.arch.plan();
        let layers = |specs: &[ConvSpec]| {
            specs
                .iter()
                .map(|s| ConvLayer::new(*s, self.styles, device))
                .collect::<Vec<_>>()
        };
        Generator {
            encoder: layers(&plan.encoder),
            residual: (0..plan.residual_blocks)
                .map(|_| {
                    ResidualBlock::new(
                        plan.residual_channels,
                        plan.separable_residuals,
                        self.styles,
                        device,
                    )
                })
                .collect(),
            decoder: layers(&plan.decoder),
            output: ConvLayer::new(plan.output, self.styles, device),
            skip_input: plan.skip_input,
            unit_pixels: self.arch.pixels() == PixelConvention::UNIT,
            styles: self.styles,
        }
    }

    /// Multiply-accumulate operations of one forward pass at `width`×`height` (after the padding
    /// to the architecture's alignment), counting convolutions exactly.
    pub fn macs(&self, width: usize, height: usize) -> usize {
        let plan = self.arch.plan();
        let (w, h) = padded_size(width, height);
        let mut pixels = w * h;
        let mut total = 0;
        for spec in &plan.encoder {
            pixels /= spec.stride * spec.stride;
            total += spec.macs(pixels);
        }
        let block = ConvSpec {
            cin: plan.residual_channels,
            cout: plan.residual_channels,
            kernel: 3,
            stride: 1,
            separable: plan.separable_residuals,
            after: After::Norm,
        };
        total += 2 * plan.residual_blocks * block.macs(pixels);
        for spec in &plan.decoder {
            if pixels < w * h {
                pixels *= 4;
            }
            total += spec.macs(pixels);
        }
        total + plan.output.macs(w * h)
    }
}

/// Frames are padded (edge replication) to a multiple of this and to at least [`MIN_SIDE`].
pub const ALIGN: usize = 8;
/// The smallest side the network runs at; smaller frames are padded up to it.
pub const MIN_SIDE: usize = 16;

/// The size a `width`×`height` frame is padded to before the network runs.
pub fn padded_size(width: usize, height: usize) -> (usize, usize) {
    let side = |s: usize| s.max(MIN_SIDE).div_ceil(ALIGN) * ALIGN;
    (side(width), side(height))
}

/// The generator network. Input and output are RGB in [0, 1].
#[derive(Module, Debug)]
pub struct Generator {
    /// Stride-2 (and, for johnson, a first stride-1) layers.
    pub encoder: Vec<ConvLayer>,
    /// Residual blocks at the bottleneck.
    pub residual: Vec<ResidualBlock>,
    /// Layers each after a 2× upsample (while below full size).
    pub decoder: Vec<ConvLayer>,
    /// Last convolution to RGB.
    pub output: ConvLayer,
    /// Whether the input image is concatenated to the output layer's input.
    pub skip_input: bool,
    /// Whether pixels follow [`PixelConvention::UNIT`] (else [`PixelConvention::SIGNED`]).
    pub unit_pixels: bool,
    /// How many styles the model holds.
    pub styles: usize,
}

impl Generator {
    /// Restyle `x`, `[b, 3, h, w]` in [0, 1], of any size ≥ 1×1, with the style weights `mix`,
    /// `[b, styles]`. Pads to the architecture's alignment, runs, and crops back.
    pub fn forward(&self, x: Tensor<4>, mix: Tensor<2>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let (pw, ph) = padded_size(w, h);
        let padded = if (pw, ph) == (w, h) {
            x
        } else {
            x.pad([(0, ph - h), (0, pw - w)], PadMode::Edge)
        };
        let y = self.forward_aligned(padded, mix);
        let b = y.dims()[0];
        if (pw, ph) == (w, h) {
            y
        } else {
            y.slice([0..b, 0..3, 0..h, 0..w])
        }
    }

    /// How pixels enter and leave this network.
    pub fn pixels(&self) -> PixelConvention {
        if self.unit_pixels {
            PixelConvention::UNIT
        } else {
            PixelConvention::SIGNED
        }
    }

    /// The network proper, on a frame already padded to [`padded_size`]: `[b, 3, h, w]` → `[b, 3, h, w]`.
    fn forward_aligned(&self, x: Tensor<4>, mix: Tensor<2>) -> Tensor<4> {
        let [_, _, h, _] = x.dims();
        let px = self.pixels();
        let input = x.clone();
        let mut y = x * px.scale + px.offset; // [b, 3, h, w]
        for layer in &self.encoder {
            y = layer.forward(y, mix.clone()); // [b, c, h/s, w/s]
        }
        for block in &self.residual {
            y = block.forward(y, mix.clone());
        }
        for layer in &self.decoder {
            if y.dims()[2] < h {
                y = upsample2(y);
            }
            y = layer.forward(y, mix.clone());
        }
        if self.skip_input {
            y = Tensor::cat(vec![y, input * px.scale + px.offset], 1); // [b, c + 3, h, w]
        }
        activation::sigmoid(self.output.forward(y, mix) * px.gain) // [b, 3, h, w] in [0, 1]
    }

    /// Number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_architecture_meets_its_compute_budget() {
        let macs = GeneratorConfig::new(Arch::Fast, 1).macs(640, 480);
        assert!(
            macs <= 1_500_000_000,
            "fast generator needs {macs} MAC at 640x480"
        );
        let johnson = GeneratorConfig::new(Arch::Johnson, 1).macs(640, 480);
        assert!(johnson > 20 * macs, "johnson {johnson} vs fast {macs}");
    }

    #[test]
    fn magenta_mac_count_matches_the_count_by_hand() {
        // Per output pixel of the full-size map: 9x9 3->8 (1944), 3x3 8->16 and 16->32 at 1/4
        // and 1/16 (288 each), ten 3x3 32->32 at 1/16 (5760), 3x3 32->16 at 1/4 and 16->8 at
        // full size (1152 each), 9x9 8->3 (1944): 12 528 MAC a pixel.
        let macs = GeneratorConfig::new(Arch::Magenta, 1).macs(640, 480);
        assert_eq!(macs, 12_528 * 640 * 480);
    }

    #[test]
    fn magenta_lite_mac_count_matches_the_count_by_hand_and_the_fast_budget() {
        // Per output pixel of the full-size map: 3x3 3->16 at 1/4 (108), 3x3 16->32 at 1/16
        // (288), ten separable 32->32 at 1/16 (10 x (288 + 1024) / 16 = 820), 3x3 32->16 at 1/4
        // and 16->8 at full size (1152 each), 3x3 (8 + 3)->3 (297): 3817 MAC a pixel.
        let macs = GeneratorConfig::new(Arch::MagentaLite, 1).macs(640, 480);
        assert_eq!(macs, 3817 * 640 * 480);
        assert!(macs <= 1_500_000_000, "{macs}");
    }

    #[test]
    fn johnson_mac_count_matches_the_published_figure() {
        // 47.2 GMAC per 640x480 frame, counted by hand for the Johnson network (shared/STACK.md).
        let macs = GeneratorConfig::new(Arch::Johnson, 1).macs(640, 480) as f64;
        assert!((macs / 1e9 - 47.2).abs() < 0.1, "{macs}");
    }

    #[test]
    fn any_size_comes_back_at_that_size_in_unit_range() {
        let device = Device::flex();
        for arch in Arch::ALL {
            let generator = GeneratorConfig::new(arch, 2).init(&device);
            for (w, h) in [(1, 1), (3, 5), (17, 9)] {
                let x =
                    Tensor::<4>::random([1, 3, h, w], burn::tensor::Distribution::Default, &device);
                let mix = Tensor::from_floats([[0.5, 0.5]], &device);
                let y = generator.forward(x, mix);
                assert_eq!(y.dims(), [1, 3, h, w]);
                let values: Vec<f32> = y.into_data().try_to_vec::<f32>().unwrap();
                assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
            }
        }
    }

    #[test]
    fn padded_sizes_are_aligned_and_large_enough() {
        assert_eq!(padded_size(1, 1), (16, 16));
        assert_eq!(padded_size(641, 479), (648, 480));
    }
}
