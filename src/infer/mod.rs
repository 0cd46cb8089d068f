//! The CPU inference runtime: the generator compiled for frame-by-frame use on the CPU.
//!
//! burn flex runs the network as a chain of general tensor operations (planar layout, a
//! layout change around every convolution, padding, norm and upsampling each a full pass
//! with a fresh buffer). This runtime runs the same weights with the same arithmetic, built for
//! one thing:
//! - channels-last maps throughout, buffers recycled from frame to frame ([`map`]);
//! - convolutions as matrix products that read reflection-padded rows in place, with the
//!   upsample and the input concatenation done by the padding copy ([`conv`]); the output
//!   layers (3 to 8 channels) as a direct kernel on planes, vectorized for AVX-512 and AVX2
//!   ([`narrow`]); a 3×3 layer after a 2× upsample as four 2×2 layers of its input ([`subpixel`]);
//! - instance norm folded to one scale and shift per channel, with its ReLU or residual add in
//!   the same pass, and conv biases that a norm would cancel dropped ([`norm`]);
//! - `max-size` scaling on the same maps ([`resize`]);
//! - frames read straight from their packed 8-bit pixels into the network's input ([`source`]).
//!
//! [`CpuGenerator::forward`] equals [`Generator::forward`] to float rounding (tested for both
//! architectures); the element and the CLI use it whenever the model runs on the CPU.

pub mod conv;
pub mod gemm;
pub mod map;
pub mod narrow;
pub mod norm;
pub mod resize;
pub mod source;
pub mod subpixel;

use std::time::{Duration, Instant};

use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use image::RgbImage;
use rayon::prelude::*;

use crate::frame::finish::Styled;
use crate::model::Generator;
use crate::model::generator::{PixelConvention, padded_size};
use crate::model::layers::{CondInstanceNorm, ConvLayer};
use conv::Conv;
use map::{Map, Pool};
use norm::{Then, instance_norm};
use source::{Packed, Source};

/// Values per task when converting between bytes and floats.
const CONVERT_CHUNK: usize = 64 * 1024;

/// Conditional instance norm parameters, one row per style.
#[derive(Debug, Clone)]
struct Norm {
    /// `[styles][channels]`.
    gamma: Vec<f32>,
    /// `[styles][channels]`.
    beta: Vec<f32>,
    epsilon: f64,
}

impl Norm {
    /// Scale and shift per channel for the style weights `mix`.
    fn mixed(&self, mix: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let channels = self.gamma.len() / mix.len();
        let blend = |rows: &[f32]| {
            (0..channels)
                .map(|c| {
                    mix.iter()
                        .enumerate()
                        .map(|(s, m)| m * rows[s * channels + c])
                        .sum()
                })
                .collect()
        };
        (blend(&self.gamma), blend(&self.beta))
    }
}

/// One stage of a timed forward pass ([`CpuGenerator::profile`]).
#[derive(Debug, Clone)]
pub struct LayerTime {
    /// "input", "encoder 1", "residual 2a", "decoder 1", "output", "output conversion".
    pub name: String,
    /// The layer's convolution and output size ("9x9 s1 3→8 → 640x480"); none for conversions.
    pub shape: Option<String>,
    /// Its multiply-adds.
    pub macs: u64,
    /// Its time, norm and activation included.
    pub time: Duration,
}

/// What a forward pass tells about each stage: its name, its layer's convolution and output
/// map (none for the conversions), and how long it took.
type Probe<'a> = dyn FnMut(String, Option<(&Conv, &Map)>, Duration) + 'a;

/// One compiled layer: convolution, then norm and ReLU when present.
#[derive(Debug, Clone)]
struct Layer {
    conv: Conv,
    norm: Option<Norm>,
    relu: bool,
}

/// The network's output for a frame, at the frame's size.
#[derive(Debug)]
pub enum Output {
    /// The network ran at the frame's size.
    Full(Map),
    /// The network ran on a smaller copy; its rows come upscaled as they are read.
    Upscaled(resize::Upscale),
}

impl Output {
    /// The output as the frame's last pass reads it.
    pub fn as_styled(&self) -> Styled<'_> {
        match self {
            Output::Full(map) => Styled::Floats(&map.data),
            Output::Upscaled(upscale) => Styled::Rows(upscale),
        }
    }

    /// The buffer it holds, for [`CpuGenerator::recycle`].
    pub fn into_buffer(self) -> Map {
        match self {
            Output::Full(map) => map,
            Output::Upscaled(upscale) => upscale.into_buffer(),
        }
    }
}

/// The generator, compiled for the CPU. Holds its own buffer pool: keep one per stream.
#[derive(Debug)]
pub struct CpuGenerator {
    encoder: Vec<Layer>,
    residual: Vec<[Layer; 2]>,
    decoder: Vec<Layer>,
    output: Layer,
    skip_input: bool,
    pixels: PixelConvention,
    styles: usize,
    pool: Pool,
}

/// A tensor's values as f32, in burn's order (weights, or a map read back from burn).
pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}

/// `[cout, cin, k, k]` weights (and bias) of a full convolution as `[ky][kx][cin][cout]`.
pub(crate) fn full_weights(conv: &Conv2d) -> (Vec<f32>, Vec<f32>, [usize; 4]) {
    let [cout, cin, k, _] = conv.weight.val().dims();
    let w = values(conv.weight.val());
    let mut out = vec![0.0; w.len()];
    for co in 0..cout {
        for ci in 0..cin {
            for ky in 0..k {
                for kx in 0..k {
                    out[((ky * k + kx) * cin + ci) * cout + co] =
                        w[((co * cin + ci) * k + ky) * k + kx];
                }
            }
        }
    }
    let bias = conv
        .bias
        .as_ref()
        .map_or_else(|| vec![0.0; cout], |b| values(b.val()));
    (out, bias, [cout, cin, k, conv.stride[0]])
}

fn compile_norm(norm: &CondInstanceNorm) -> Norm {
    Norm {
        gamma: values(norm.gamma.val()),
        beta: values(norm.beta.val()),
        epsilon: norm.epsilon,
    }
}

fn compile(layer: &ConvLayer) -> Layer {
    let conv = match &layer.depthwise {
        None => {
            let (weights, bias, [cout, cin, kernel, stride]) = full_weights(&layer.conv);
            Conv {
                kernel,
                stride,
                cin,
                cout,
                depthwise: None,
                weights,
                bias,
            }
        }
        Some(depthwise) => {
            // Depthwise [cin, 1, k, k] → taps [ky][kx][cin]; its bias goes through the
            // pointwise weights into the layer's bias.
            let [cin, _, k, _] = depthwise.weight.val().dims();
            let w = values(depthwise.weight.val());
            let mut taps = vec![0.0; w.len()];
            for c in 0..cin {
                for t in 0..k * k {
                    taps[t * cin + c] = w[c * k * k + t];
                }
            }
            let dw_bias = depthwise
                .bias
                .as_ref()
                .map_or_else(|| vec![0.0; cin], |b| values(b.val()));
            let (weights, mut bias, [cout, ..]) = full_weights(&layer.conv);
            for (co, b) in bias.iter_mut().enumerate() {
                *b += (0..cin)
                    .map(|ci| weights[ci * cout + co] * dw_bias[ci])
                    .sum::<f32>();
            }
            Conv {
                kernel: k,
                stride: depthwise.stride[0],
                cin,
                cout,
                depthwise: Some(taps),
                weights,
                bias,
            }
        }
    };
    Layer {
        conv,
        norm: layer.norm.as_ref().map(compile_norm),
        relu: layer.relu,
    }
}

impl CpuGenerator {
    /// Compile `generator`'s current weights.
    pub fn new(generator: &Generator) -> Self {
        Self {
            encoder: generator.encoder.iter().map(compile).collect(),
            residual: generator
                .residual
                .iter()
                .map(|b| [compile(&b.first), compile(&b.second)])
                .collect(),
            decoder: generator.decoder.iter().map(compile).collect(),
            output: compile(&generator.output),
            skip_input: generator.skip_input,
            pixels: generator.pixels(),
            styles: generator.styles,
            pool: Pool::default(),
        }
    }

    /// Pad, convolve, normalize (with the layer's ReLU, or adding `skip`); a layer without a
    /// norm adds its bias (and its ReLU).
    fn layer(
        &self,
        layer: &Layer,
        src: &Map,
        upsample: bool,
        extra: Option<&Map>,
        skip: Option<&Map>,
        mix: &[f32],
    ) -> Map {
        let mut out = layer.conv.run(src, extra, upsample, &self.pool);
        if let Some(norm) = &layer.norm {
            let (gamma, beta) = norm.mixed(mix);
            let then = match (skip, layer.relu) {
                (Some(skip), _) => Then::Add(skip),
                (None, true) => Then::Relu,
                (None, false) => Then::Nothing,
            };
            instance_norm(&mut out, &gamma, &beta, norm.epsilon, then);
        } else {
            let bias = &layer.conv.bias;
            let relu = layer.relu;
            out.data
                .par_chunks_mut(CONVERT_CHUNK * bias.len())
                .for_each(|chunk| {
                    for pixel in chunk.chunks_exact_mut(bias.len()) {
                        for (v, b) in pixel.iter_mut().zip(bias) {
                            *v += b;
                            if relu {
                                *v = v.max(0.0);
                            }
                        }
                    }
                });
        }
        out
    }

    /// Restyle `image` (RGB in [0, 1], any size ≥ 1×1) with the style weights `mix` (one per
    /// style): the same result as [`Generator::forward`].
    pub fn forward(&self, image: &impl Source, mix: &[f32]) -> Map {
        self.run(image, mix, &mut |_, _, _| {})
    }

    /// [`Self::forward`], timing each stage: the input conversion, every layer (its
    /// convolution with the norm and activation after it) and the final conversion.
    pub fn profile(&self, image: &impl Source, mix: &[f32]) -> (Map, Vec<LayerTime>) {
        let mut times = Vec::new();
        let out = self.run(image, mix, &mut |name, layer, elapsed| {
            times.push(LayerTime {
                name,
                shape: layer.map(|(conv, out)| conv.describe(out)),
                macs: layer.map_or(0, |(conv, out)| conv.macs(out)),
                time: elapsed,
            });
        });
        (out, times)
    }

    /// The forward pass, telling `probe` each stage's name, its layer and output map, and how
    /// long it took.
    fn run(&self, image: &impl Source, mix: &[f32], probe: &mut Probe) -> Map {
        assert_eq!(mix.len(), self.styles, "one weight per style");
        let started = Instant::now();
        let (w, h) = (image.width(), image.height());
        let (pw, ph) = padded_size(w, h);
        // Edge-replicated to the aligned size, scaled as the network takes pixels.
        let px = self.pixels;
        let mut input = self.pool.map(pw, ph, 3);
        input
            .data
            .par_chunks_mut(pw * 3)
            .enumerate()
            .for_each(|(y, row)| {
                let (inside, outside) = row.split_at_mut(w * 3);
                image.read_row(y.min(h - 1), inside);
                inside.iter_mut().for_each(|v| *v = px.input(*v));
                let last = &inside[(w - 1) * 3..];
                outside
                    .chunks_exact_mut(3)
                    .for_each(|p| p.copy_from_slice(last));
            });
        probe("input".into(), None, started.elapsed());

        // Each layer, timed for the probe.
        let mut layer = |name: String,
                         layer: &Layer,
                         src: &Map,
                         upsample: bool,
                         extra: Option<&Map>,
                         skip: Option<&Map>| {
            let started = Instant::now();
            let out = self.layer(layer, src, upsample, extra, skip, mix);
            probe(name, Some((&layer.conv, &out)), started.elapsed());
            out
        };
        let mut y: Option<Map> = None;
        let advance = |y: &mut Option<Map>, next: Map| {
            if let Some(old) = y.replace(next) {
                self.pool.recycle(old);
            }
        };
        for (i, l) in self.encoder.iter().enumerate() {
            let x = y.as_ref().unwrap_or(&input);
            let next = layer(format!("encoder {}", i + 1), l, x, false, None, None);
            advance(&mut y, next);
        }
        for (i, [first, second]) in self.residual.iter().enumerate() {
            let x = y.as_ref().unwrap_or(&input);
            let t = layer(format!("residual {}a", i + 1), first, x, false, None, None);
            let next = layer(
                format!("residual {}b", i + 1),
                second,
                &t,
                false,
                None,
                Some(x),
            );
            self.pool.recycle(t);
            advance(&mut y, next);
        }
        for (i, l) in self.decoder.iter().enumerate() {
            let x = y.as_ref().unwrap_or(&input);
            let next = layer(
                format!("decoder {}", i + 1),
                l,
                x,
                x.height < ph,
                None,
                None,
            );
            advance(&mut y, next);
        }
        let x = y.as_ref().unwrap_or(&input);
        let extra = self.skip_input.then_some(&input);
        let raw = layer("output".into(), &self.output, x, false, extra, None);
        if let Some(old) = y {
            self.pool.recycle(old);
        }
        self.pool.recycle(input);

        // The output activation, cropped back to the input's size.
        let started = Instant::now();
        let mut out = self.pool.map(w, h, 3);
        out.data
            .par_chunks_mut(w * 3)
            .enumerate()
            .for_each(|(y, row)| {
                let src = &raw.data[y * pw * 3..][..w * 3];
                for (dst, src) in row.chunks_exact_mut(3).zip(src.chunks_exact(3)) {
                    for c in 0..3 {
                        dst[c] = px.output(src[c]);
                    }
                }
            });
        self.pool.recycle(raw);
        probe("output conversion".into(), None, started.elapsed());
        out
    }

    /// The network's output for `source` at the source's size, in [0, 1]. With
    /// `network_size` the network runs at that smaller size (area average by the whole factor,
    /// then bilinear) and its output is scaled back up bicubically, as
    /// [`crate::stylize::host::styled_tensor`] does with burn; the last step of that
    /// upscale is left to whoever reads the rows. Also returns the time the network's forward
    /// pass took (the rest is conversion and scaling). Give its buffer back with
    /// `recycle(output.into_buffer())` for the next frame to reuse.
    pub fn styled(
        &self,
        source: &impl Source,
        mix: &[f32],
        network_size: Option<(u32, u32)>,
    ) -> (Output, Duration) {
        let Some((sw, sh)) = network_size else {
            let started = Instant::now();
            let styled = self.forward(source, mix);
            return (Output::Full(styled), started.elapsed());
        };
        let (w, h) = (source.width(), source.height());
        let (sw, sh) = (sw as usize, sh as usize);
        let factor = (w / sw).min(h / sh);
        let pooled = if factor >= 2 {
            resize::area_down(source, factor, &self.pool)
        } else {
            source::to_map(source, &self.pool)
        };
        // Area averaging often lands on the network's size already.
        let small = if (pooled.width, pooled.height) == (sw, sh) {
            pooled
        } else {
            let small = resize::bilinear(&pooled, sw, sh, &self.pool);
            self.pool.recycle(pooled);
            small
        };
        let started = Instant::now();
        let styled_small = self.forward(&small, mix);
        let network = started.elapsed();
        let styled = resize::Upscale::bicubic(&styled_small, w, h, &self.pool);
        self.pool.recycle(small);
        self.pool.recycle(styled_small);
        (Output::Upscaled(styled), network)
    }

    /// Give back a map this runtime returned ([`Self::forward`], [`Output::into_buffer`]), for
    /// the next frame to reuse.
    pub fn recycle(&self, map: Map) {
        self.pool.recycle(map);
    }

    /// The network's output for an 8-bit image at its own size, rounded back to 8 bits.
    pub fn forward_image(&self, image: &RgbImage, mix: &[f32]) -> RgbImage {
        let styled = self.forward(&Packed::rgb(image), mix);
        let mut bytes = vec![0u8; styled.data.len()];
        bytes
            .par_chunks_mut(CONVERT_CHUNK)
            .zip(styled.data.par_chunks(CONVERT_CHUNK))
            .for_each(|(d, s)| {
                d.iter_mut()
                    .zip(s)
                    .for_each(|(d, s)| *d = crate::frame::to_u8(*s));
            });
        self.pool.recycle(styled);
        RgbImage::from_raw(image.width(), image.height(), bytes).expect("w*h*3 bytes")
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;
    use crate::model::{Arch, GeneratorConfig};

    /// Seeded random weights, then seeded jitter on every parameter (norm scales and shifts
    /// included, which start as 1 and 0).
    fn randomized(arch: Arch, styles: usize) -> Generator {
        use burn::module::{Module, ModuleMapper, Param};
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        struct Jitter(StdRng);
        impl ModuleMapper for Jitter {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                param.map(|tensor| {
                    let noise: Vec<f32> = (0..tensor.shape().num_elements())
                        .map(|_| self.0.random_range(-0.2..0.2))
                        .collect();
                    let noise = TensorData::new(noise, tensor.shape());
                    tensor.clone() + Tensor::from_data(noise, &tensor.device())
                })
            }
        }
        crate::model::seeded::seeded(GeneratorConfig::new(arch, styles).init(&Device::flex()), 5)
            .map(&mut Jitter(StdRng::seed_from_u64(6)))
    }

    fn image(width: usize, height: usize) -> Map {
        Map {
            data: (0..width * height * 3)
                .map(|i| ((i * 7919 + (i / 3) * 31) % 256) as f32 / 255.0)
                .collect(),
            width,
            height,
            channels: 3,
        }
    }

    fn burn_forward(generator: &Generator, image: &Map, mix: &[f32]) -> Map {
        let device = Device::flex();
        let mix = Tensor::from_data(TensorData::new(mix.to_vec(), [1, mix.len()]), &device);
        Map::from_tensor(generator.forward(image.to_tensor(&device), mix))
    }

    #[test]
    fn every_architecture_matches_burns_forward() {
        for (arch, styles, mix, sizes) in [
            (
                Arch::Fast,
                2,
                vec![0.3, 0.7],
                vec![(40, 24), (19, 13), (1, 1)],
            ),
            (Arch::Johnson, 1, vec![1.0], vec![(24, 16)]),
            (Arch::Magenta, 2, vec![0.6, 0.4], vec![(36, 20), (5, 3)]),
            (Arch::MagentaLite, 1, vec![1.0], vec![(40, 24)]),
        ] {
            let generator = randomized(arch, styles);
            let runtime = CpuGenerator::new(&generator);
            for (w, h) in sizes {
                let input = image(w, h);
                let want = burn_forward(&generator, &input, &mix);
                // Twice: the second run reuses the first one's buffers.
                for run in 0..2 {
                    let got = runtime.forward(&input, &mix);
                    assert_eq!((got.width, got.height), (w, h));
                    let worst = got.max_difference(&want);
                    assert!(worst < 2e-4, "{arch:?} {w}x{h} run {run}: off by {worst}");
                }
            }
        }
    }

    #[test]
    fn a_flat_frame_comes_out_flat() {
        // Instance norm divides by each map's spread: a rounding difference between pixels of
        // a constant map would come out as noise on a flat (say black) frame.
        for arch in Arch::ALL {
            let runtime = CpuGenerator::new(&randomized(arch, 1));
            let flat = Map {
                data: [0.2f32, 0.5, 0.9].repeat(150 * 21),
                width: 150,
                height: 21,
                channels: 3,
            };
            let out = runtime.forward(&flat, &[1.0]);
            let first = &out.data[..3];
            let worst = out
                .data
                .chunks_exact(3)
                .flat_map(|p| p.iter().zip(first).map(|(a, b)| (a - b).abs()))
                .fold(0.0, f32::max);
            assert!(worst < 1e-6, "{arch:?}: pixels differ by up to {worst}");
        }
    }

    #[test]
    fn style_weights_change_the_result() {
        let generator = randomized(Arch::Fast, 2);
        let runtime = CpuGenerator::new(&generator);
        let input = image(16, 16);
        let a = runtime.forward(&input, &[1.0, 0.0]);
        let b = runtime.forward(&input, &[0.0, 1.0]);
        let differ = a
            .data
            .iter()
            .zip(&b.data)
            .filter(|(a, b)| (*a - *b).abs() > 1e-3)
            .count();
        assert!(differ > 100, "{differ} values differ");
    }
}
