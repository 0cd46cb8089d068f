//! VGG's feature layers on the project's CPU runtime (the `gemm` kernels behind
//! [`crate::infer`]), forward and backward to the input only.
//!
//! The loss network is fixed, so a training step needs the gradient with respect to the
//! generator's output and nothing else: burn's autodiff would also form every weight gradient
//! (a third of the work) and its convolutions run at a fraction of the kernels' speed. Here the
//! backward pass of a 3×3 same convolution is the same convolution of the output gradient with
//! the kernel flipped in both axes and its channel axes swapped, on the same band products as
//! the forward pass; ReLU and 2×2 max pooling route the gradient through masks kept from the
//! forward pass. [`Vgg::features`] (burn) stays the definition; the tests hold this path to it.

use rayon::prelude::*;

use super::vgg::{CAFFE_MEAN_BGR, InputConvention, Vgg};
use crate::infer::conv::Conv;
use crate::infer::map::{Map, Pool};
/// torchvision's input mean and deviation, RGB.
const TORCHVISION_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const TORCHVISION_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// One 3×3 convolution (+ bias, ReLU), optionally after a 2×2 max pool.
#[derive(Debug, Clone)]
struct Layer {
    /// The layer's convolution, weights `[ky][kx][cin][cout]` (its bias is added after it).
    forward: Conv,
    /// The kernel flipped in both axes with its channel axes swapped, `[ky][kx][cout][cin]`:
    /// the convolution that maps an output gradient to the input gradient.
    backward: Conv,
    /// Whether a 2×2 max pool comes first (the first layer of blocks 2 to 4).
    pooled: bool,
}

/// VGG through its fourth block (relu4_3 for VGG16, relu4_4 for VGG19) on the CPU runtime.
#[derive(Debug, Clone)]
pub struct CpuVgg {
    layers: Vec<Layer>,
    /// Index into `layers` of each tap, the last ReLU of blocks 1 to 4.
    taps: [usize; 4],
    input: InputConvention,
}

/// What the forward pass of one image keeps for the backward pass: the (post-ReLU) output of
/// every layer it ran.
#[derive(Debug)]
pub struct Trace {
    outputs: Vec<Map>,
    width: usize,
    height: usize,
}

impl Trace {
    /// The feature map at tap `tap` (0 = relu1_2 … 3 = relu4_3); the pass must have reached it.
    pub fn tap<'a>(&'a self, vgg: &CpuVgg, tap: usize) -> &'a Map {
        &self.outputs[vgg.taps[tap]]
    }

    /// How many taps the pass reached.
    pub fn taps_reached(&self, vgg: &CpuVgg) -> usize {
        vgg.taps
            .iter()
            .take_while(|&&t| t < self.outputs.len())
            .count()
    }
}

impl CpuVgg {
    /// The first four blocks of a loaded VGG, weights laid out for the products.
    pub fn new(vgg: &Vgg) -> Self {
        let per_block = super::vgg::blocks(vgg.variant);
        let mut layers = Vec::new();
        let mut taps = [0; 4];
        let mut convs = vgg.convs.iter();
        for (block, &count) in per_block.iter().take(4).enumerate() {
            for j in 0..count {
                let conv = convs.next().expect("VGG has its block's convolutions");
                let (forward, bias, [cout, cin, k, _]) = crate::infer::full_weights(conv);
                assert_eq!(k, 3, "VGG convolutions are 3x3");
                let mut backward = vec![0.0; forward.len()];
                for ky in 0..3 {
                    for kx in 0..3 {
                        for ci in 0..cin {
                            for co in 0..cout {
                                backward[((ky * 3 + kx) * cout + co) * cin + ci] =
                                    forward[(((2 - ky) * 3 + 2 - kx) * cin + ci) * cout + co];
                            }
                        }
                    }
                }
                let conv = |cin, cout, weights, bias| Conv {
                    kernel: 3,
                    stride: 1,
                    cin,
                    cout,
                    depthwise: None,
                    weights,
                    bias,
                };
                layers.push(Layer {
                    forward: conv(cin, cout, forward, bias),
                    backward: conv(cout, cin, backward, vec![0.0; cin]),
                    pooled: block > 0 && j == 0,
                });
            }
            taps[block] = layers.len() - 1;
        }
        Self {
            layers,
            taps,
            input: vgg.input,
        }
    }

    /// Channels at each tap.
    pub fn tap_channels(&self) -> [usize; 4] {
        self.taps.map(|t| self.layers[t].forward.cout)
    }

    /// Run one image, planar RGB in [0, 1] (`[3, height, width]`), through tap `through`
    /// (0 = relu1_2 … 3 = relu4_3).
    pub fn forward(&self, planar: &[f32], width: usize, height: usize, through: usize) -> Trace {
        assert_eq!(planar.len(), 3 * width * height, "planar RGB image size");
        let x = self.normalize(planar, width, height);
        let last = self.taps[through];
        let mut outputs: Vec<Map> = Vec::with_capacity(last + 1);
        for (i, layer) in self.layers[..=last].iter().enumerate() {
            let pooled;
            let input = match (i, layer.pooled) {
                (0, _) => &x,
                (_, true) => {
                    pooled = max_pool(&outputs[i - 1]);
                    &pooled
                }
                (_, false) => &outputs[i - 1],
            };
            let out = convolve(input, &layer.forward, Epilogue::BiasRelu);
            outputs.push(out);
        }
        Trace {
            outputs,
            width,
            height,
        }
    }

    /// The gradient with respect to the planar RGB input (`[3, height, width]`, in [0, 1]
    /// units) of a loss whose gradients at the taps are `tap_grads` (`None`: zero; each the
    /// shape of its tap's map).
    pub fn backward(&self, trace: &Trace, mut tap_grads: [Option<Map>; 4]) -> Vec<f32> {
        let mut grad: Option<Map> = None;
        for i in (0..trace.outputs.len()).rev() {
            if let Some(t) = self.taps.iter().position(|&l| l == i)
                && let Some(g) = tap_grads[t].take()
            {
                assert_eq!(
                    (g.width, g.height, g.channels),
                    (
                        trace.outputs[i].width,
                        trace.outputs[i].height,
                        trace.outputs[i].channels
                    ),
                    "gradient at tap {t}"
                );
                grad = Some(match grad {
                    Some(mut sum) => {
                        sum.data.iter_mut().zip(&g.data).for_each(|(a, b)| *a += b);
                        sum
                    }
                    None => g,
                });
            }
            let Some(mut g) = grad.take() else {
                continue;
            };
            // Through the ReLU: only where the output was positive.
            g.data
                .par_iter_mut()
                .zip(&trace.outputs[i].data)
                .for_each(|(g, &y)| {
                    if y <= 0.0 {
                        *g = 0.0;
                    }
                });
            let layer = &self.layers[i];
            let d_input = convolve(&g, &layer.backward, Epilogue::None);
            grad = Some(if layer.pooled {
                max_pool_backward(&trace.outputs[i - 1], &d_input)
            } else {
                d_input
            });
        }
        let (w, h) = (trace.width, trace.height);
        match grad {
            Some(g) => self.input_gradient(&g),
            None => vec![0.0; 3 * w * h],
        }
    }

    /// RGB in [0, 1], planar, to what the weights expect, channels last.
    fn normalize(&self, planar: &[f32], width: usize, height: usize) -> Map {
        let n = width * height;
        let mut data = vec![0.0; 3 * n];
        for (i, pixel) in data.chunks_exact_mut(3).enumerate() {
            for (c, v) in pixel.iter_mut().enumerate() {
                *v = match self.input {
                    InputConvention::Torchvision => {
                        (planar[c * n + i] - TORCHVISION_MEAN[c]) / TORCHVISION_STD[c]
                    }
                    // Channel c of the network's input is BGR: RGB channel 2 − c.
                    InputConvention::Caffe => planar[(2 - c) * n + i] * 255.0 - CAFFE_MEAN_BGR[c],
                };
            }
        }
        Map {
            data,
            width,
            height,
            channels: 3,
        }
    }

    /// A gradient with respect to the normalized input, as one with respect to planar RGB in [0, 1].
    fn input_gradient(&self, g: &Map) -> Vec<f32> {
        let n = g.width * g.height;
        let mut planar = vec![0.0; 3 * n];
        for (i, pixel) in g.data.chunks_exact(3).enumerate() {
            for (c, v) in pixel.iter().enumerate() {
                match self.input {
                    InputConvention::Torchvision => planar[c * n + i] = v / TORCHVISION_STD[c],
                    InputConvention::Caffe => planar[(2 - c) * n + i] = v * 255.0,
                }
            }
        }
        planar
    }
}

/// What a convolution does after its products.
#[derive(Clone, Copy, PartialEq)]
enum Epilogue {
    /// Nothing (the input-gradient convolutions).
    None,
    /// Add the bias, then ReLU.
    BiasRelu,
}

/// A 3×3 convolution with zero padding 1 (the output the size of the input), on the runtime's
/// convolution kernels.
fn convolve(src: &Map, conv: &Conv, epilogue: Epilogue) -> Map {
    let mut out = conv.full(&zero_pad(src), &Pool::default());
    if epilogue == Epilogue::BiasRelu {
        out.data.par_chunks_mut(conv.cout).for_each(|pixel| {
            for (v, b) in pixel.iter_mut().zip(&conv.bias) {
                *v = (*v + b).max(0.0);
            }
        });
    }
    out
}

/// `src` with a border of one zero pixel.
fn zero_pad(src: &Map) -> Map {
    let (w, h, c) = (src.width + 2, src.height + 2, src.channels);
    let mut out = Map {
        data: vec![0.0; w * h * c],
        width: w,
        height: h,
        channels: c,
    };
    let row = src.row_len();
    out.data
        .par_chunks_mut(w * c)
        .skip(1)
        .take(src.height)
        .enumerate()
        .for_each(|(y, dst)| dst[c..c + row].copy_from_slice(&src.data[y * row..][..row]));
    out
}

/// 2×2 max pooling with stride 2 (an odd last row or column is dropped, as burn's pool does).
fn max_pool(src: &Map) -> Map {
    let (w, h, c) = (src.width / 2, src.height / 2, src.channels);
    let mut out = Map {
        data: vec![0.0; w * h * c],
        width: w,
        height: h,
        channels: c,
    };
    out.data
        .par_chunks_mut(w * c)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, pixel) in row.chunks_exact_mut(c).enumerate() {
                let taps = [
                    src.pixel(2 * x, 2 * y),
                    src.pixel(2 * x + 1, 2 * y),
                    src.pixel(2 * x, 2 * y + 1),
                    src.pixel(2 * x + 1, 2 * y + 1),
                ];
                for (ch, v) in pixel.iter_mut().enumerate() {
                    *v = taps.iter().map(|t| t[ch]).fold(f32::NEG_INFINITY, f32::max);
                }
            }
        });
    out
}

/// The gradient through [`max_pool`] of `src`: each pooled value's gradient goes to the first
/// position of its window that holds the maximum.
fn max_pool_backward(src: &Map, grad: &Map) -> Map {
    let c = src.channels;
    let mut out = Map {
        data: vec![0.0; src.data.len()],
        width: src.width,
        height: src.height,
        channels: c,
    };
    let row_len = src.row_len();
    // Two source rows per pooled row.
    out.data
        .par_chunks_mut(2 * row_len)
        .take(grad.height)
        .enumerate()
        .for_each(|(y, rows)| {
            for x in 0..grad.width {
                let g = grad.pixel(x, y);
                let positions = [
                    (2 * x, 2 * y),
                    (2 * x + 1, 2 * y),
                    (2 * x, 2 * y + 1),
                    (2 * x + 1, 2 * y + 1),
                ];
                for ch in 0..c {
                    let (mut best, mut at) = (f32::NEG_INFINITY, 0);
                    for (k, &(px, py)) in positions.iter().enumerate() {
                        let v = src.pixel(px, py)[ch];
                        if v > best {
                            (best, at) = (v, k);
                        }
                    }
                    let (px, py) = positions[at];
                    rows[(py - 2 * y) * row_len + px * c + ch] += g[ch];
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::tensor::{Device, Tensor, TensorData};
    use rand::{Rng, SeedableRng};

    /// VGG16 at its real widths with seeded He-scaled weights (small images keep it cheap).
    fn small_vgg(convention: InputConvention) -> Vgg {
        let device = Device::flex();
        let mut vgg = Vgg::new(16, &device);
        vgg.input = convention;
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for conv in &mut vgg.convs {
            let [cout, cin, _, _] = conv.weight.dims();
            let scale = (2.0 / (9.0 * cin as f32)).sqrt();
            let w: Vec<f32> = (0..cout * cin * 9)
                .map(|_| rng.random_range(-1.0..1.0) * scale)
                .collect();
            let b: Vec<f32> = (0..cout).map(|_| rng.random_range(-0.1..0.1)).collect();
            conv.weight = burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(w, [cout, cin, 3, 3]),
                &device,
            ));
            conv.bias = Some(burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(b, [cout]),
                &device,
            )));
        }
        vgg
    }

    fn image(width: usize, height: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..3 * width * height)
            .map(|_| rng.random_range(0.0..1.0))
            .collect()
    }

    fn planar_of(map: &Map) -> Vec<f32> {
        let n = map.width * map.height;
        let mut out = vec![0.0; map.data.len()];
        for (i, pixel) in map.data.chunks_exact(map.channels).enumerate() {
            for (c, v) in pixel.iter().enumerate() {
                out[c * n + i] = *v;
            }
        }
        out
    }

    fn close(got: &[f32], want: &[f32], tolerance: f32, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: sizes");
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        let worst = got
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            worst <= tolerance * scale,
            "{what}: off by {worst} (largest value {scale})"
        );
    }

    #[test]
    fn features_match_burns_vgg_at_every_tap() {
        // 20x14: odd sizes after pooling (7 -> 3) exercise the dropped row and column.
        let (w, h) = (20, 14);
        for convention in [InputConvention::Caffe, InputConvention::Torchvision] {
            let vgg = small_vgg(convention);
            let cpu = CpuVgg::new(&vgg);
            let x = image(w, h, 1);
            let trace = cpu.forward(&x, w, h, 3);
            assert_eq!(trace.taps_reached(&cpu), 4);
            let burn = vgg.features(Tensor::from_data(
                TensorData::new(x.clone(), [1, 3, h, w]),
                &Device::flex(),
            ));
            for (tap, map) in burn.maps.into_iter().enumerate() {
                let want: Vec<f32> = map.into_data().try_to_vec().unwrap();
                let got = planar_of(trace.tap(&cpu, tap));
                close(&got, &want, 1e-4, &format!("{convention:?} tap {tap}"));
            }
        }
    }

    #[test]
    fn input_gradient_matches_burns_autodiff() {
        // The loss Σ_t <R_t, F_t(x)> for fixed random R_t: its gradient at tap t is R_t.
        let (w, h) = (18, 12);
        let device = Device::flex().autodiff();
        for convention in [InputConvention::Caffe, InputConvention::Torchvision] {
            let vgg = small_vgg(convention);
            let cpu = CpuVgg::new(&vgg);
            let x = image(w, h, 2);
            let trace = cpu.forward(&x, w, h, 3);
            let mut rng = rand::rngs::StdRng::seed_from_u64(4);
            // Tap 1 gets no gradient: the pass must carry the deeper ones through it.
            let grads: [Option<Map>; 4] = std::array::from_fn(|t| {
                (t != 1).then(|| {
                    let m = trace.tap(&cpu, t);
                    Map {
                        data: (0..m.data.len())
                            .map(|_| rng.random_range(-1.0..1.0))
                            .collect(),
                        ..m.clone()
                    }
                })
            });
            let got = cpu.backward(&trace, grads.clone());

            let vgg = vgg.to_device(&device);
            let input =
                Tensor::<4>::from_data(TensorData::new(x, [1, 3, h, w]), &device).require_grad();
            let features = vgg.features(input.clone());
            let loss = features
                .maps
                .into_iter()
                .zip(&grads)
                .filter_map(|(f, g)| {
                    let g = g.as_ref()?;
                    let r = Tensor::<4>::from_data(
                        TensorData::new(planar_of(g), [1, g.channels, g.height, g.width]),
                        &device,
                    );
                    Some((f * r).sum())
                })
                .reduce(|a, b| a + b)
                .unwrap();
            let gradients = loss.backward();
            let want: Vec<f32> = input
                .grad(&gradients)
                .unwrap()
                .into_data()
                .try_to_vec()
                .unwrap();
            close(&got, &want, 1e-3, &format!("{convention:?} input gradient"));
        }
    }

    #[test]
    fn a_pass_that_stops_early_and_gets_no_gradient_gives_zero() {
        let vgg = small_vgg(InputConvention::Caffe);
        let cpu = CpuVgg::new(&vgg);
        let x = image(8, 8, 3);
        let trace = cpu.forward(&x, 8, 8, 1);
        assert_eq!(trace.taps_reached(&cpu), 2);
        let g = cpu.backward(&trace, [None, None, None, None]);
        assert_eq!(g, vec![0.0; 3 * 64]);
    }

    #[test]
    fn max_pool_gradient_goes_to_the_maximum() {
        let src = Map {
            data: vec![1.0, 5.0, 2.0, 3.0, 0.0, -1.0, 4.0, 4.0],
            width: 4,
            height: 2,
            channels: 1,
        };
        let pooled = max_pool(&src);
        assert_eq!(pooled.data, vec![5.0, 4.0]);
        let grad = Map {
            data: vec![10.0, 20.0],
            ..pooled
        };
        let back = max_pool_backward(&src, &grad);
        // 5.0 at (1, 0); the tie of 4.0s at (2, 1) and (3, 1) goes to the first.
        assert_eq!(back.data, vec![0.0, 10.0, 0.0, 0.0, 0.0, 0.0, 20.0, 0.0]);
    }
}
