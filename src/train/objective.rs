//! The perceptual half of the generator's objective: content and Gram style losses on the loss
//! network, with their gradient reaching the generator's output.
//!
//! Two ways to get there, one definition ([`super::losses`]): on burn's autodiff graph (any
//! device, any loss network), or, for VGG on the CPU, on the project's runtime ([`CpuVgg`]),
//! whose gradient enters burn's graph through a surrogate term `Σ y·g − (Σ y·g).detach()` that
//! is zero in value and has gradient `g`.

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

use super::loss_net::LossNetwork;
use super::losses;
use super::perceptual::{self, PerceptualWeights, StyleTargets};
use super::vgg_cpu::CpuVgg;
use crate::error::Result;
use crate::frame::to_planar;

/// The loss network with each style's Gram targets, where the losses are computed.
pub enum Perceptual {
    /// On burn's autodiff graph.
    Graph {
        /// The network.
        net: LossNetwork,
        /// Per style, the Gram target per layer, `[1, c, c]`.
        targets: Vec<Vec<Tensor<3>>>,
        /// Per style, the weight of each layer's Gram distance.
        layer_weights: Vec<Vec<f32>>,
    },
    /// VGG on the CPU runtime, gradient handed to the graph.
    Runtime {
        /// The network, for its name.
        net: LossNetwork,
        /// Its layers on the runtime.
        vgg: Box<CpuVgg>,
        /// Per style, the Gram target and weight of each tap.
        targets: Vec<StyleTargets>,
    },
}

/// A batch's content and style terms.
pub struct Terms {
    /// `w_content·content + w_style·style` for the backward pass (its value may be zero: use
    /// `value`).
    pub tensor: Tensor<1>,
    /// Its value.
    pub value: f32,
    /// The content loss, unweighted.
    pub content: f32,
    /// The style loss, unweighted.
    pub style: f32,
    /// The teacher-style loss, unweighted, when it is on.
    pub teacher_style: Option<f32>,
    /// Seconds spent in the loss network when it ran on its own (the runtime path); `None`
    /// when it ran inside burn's graph, timed with the generator.
    pub seconds: Option<f64>,
}

impl Perceptual {
    /// The loss network for `styles` (images already scaled as training wants them): the CPU
    /// runtime for VGG on the CPU when `runtime`, burn's graph otherwise. With `balance`, each
    /// layer's Gram distance counts relative to its target's size
    /// ([`losses::style_layer_weights`]), else all count 1.
    pub fn new(
        net: LossNetwork,
        styles: &[RgbImage],
        device: &Device,
        runtime: bool,
        balance: bool,
    ) -> Self {
        let on_cpu = device.clone().without_autodiff() == Device::flex();
        match net {
            LossNetwork::Vgg(vgg) if on_cpu && runtime => {
                let cpu = Box::new(CpuVgg::new(&vgg));
                let targets = styles
                    .iter()
                    .map(|img| {
                        let (w, h) = (img.width() as usize, img.height() as usize);
                        StyleTargets::new(&cpu, &to_planar(img), w, h, balance)
                    })
                    .collect();
                Perceptual::Runtime {
                    net: LossNetwork::Vgg(vgg),
                    vgg: cpu,
                    targets,
                }
            }
            net => {
                let targets: Vec<Vec<Tensor<3>>> = styles
                    .iter()
                    .map(|img| {
                        net.features(crate::frame::image_to_tensor(img, device))
                            .grams()
                    })
                    .collect();
                let layer_weights = targets
                    .iter()
                    .map(|grams| {
                        let mean_squares: Vec<f64> = grams
                            .iter()
                            .map(|g| f64::from(g.clone().square().mean().into_scalar::<f32>()))
                            .collect();
                        losses::style_layer_weights(&mean_squares, balance)
                    })
                    .collect();
                Perceptual::Graph {
                    net,
                    targets,
                    layer_weights,
                }
            }
        }
    }

    /// The loss network's name, and where it runs.
    pub fn describe(&self) -> String {
        match self {
            Perceptual::Graph { net, .. } => net.describe(),
            Perceptual::Runtime { net, .. } => {
                format!("{} on ganstyle's CPU runtime", net.describe())
            }
        }
    }

    /// The network itself.
    pub fn network(&self) -> &LossNetwork {
        match self {
            Perceptual::Graph { net, .. } | Perceptual::Runtime { net, .. } => net,
        }
    }

    /// Content and style terms of outputs `y` (`[b, 3, h, w]`, on the graph) for inputs `x` and
    /// style `style`; with `teacher` (the starting model's outputs for `x`) and a teacher-style
    /// weight, also the Gram distance of each output to its teacher's.
    pub fn terms(
        &self,
        style: usize,
        x: &Tensor<4>,
        y: &Tensor<4>,
        teacher: Option<&Tensor<4>>,
        weights: PerceptualWeights,
    ) -> Result<Terms> {
        let teacher = teacher.filter(|_| weights.teacher_style > 0.0);
        match self {
            Perceptual::Graph {
                net,
                targets,
                layer_weights,
            } => {
                let fy = net.features(y.clone());
                let fx = net.features(x.clone());
                let c = fy.content;
                let content = losses::mse(fy.maps[c].clone(), fx.maps[c].clone().detach());
                let style_loss =
                    losses::weighted_style_loss(&fy.maps, &targets[style], &layer_weights[style]);
                let (content_value, style_value): (f32, f32) = (
                    content.clone().into_scalar(),
                    style_loss.clone().into_scalar(),
                );
                let mut tensor =
                    content * f64::from(weights.content) + style_loss * f64::from(weights.style);
                let mut teacher_style = None;
                if let Some(teacher) = teacher {
                    // Each image's own Gram targets, `[b, c, c]` per layer.
                    let grams = net.features(teacher.clone().detach()).grams();
                    let loss = losses::weighted_style_loss(&fy.maps, &grams, &layer_weights[style]);
                    teacher_style = Some(loss.clone().into_scalar());
                    tensor = tensor + loss * f64::from(weights.teacher_style);
                }
                Ok(Terms {
                    value: tensor.clone().into_scalar(),
                    tensor,
                    content: content_value,
                    style: style_value,
                    teacher_style,
                    seconds: None,
                })
            }
            Perceptual::Runtime { vgg, targets, .. } => {
                let [b, _, h, w] = y.dims();
                let device = y.device();
                let outputs = crate::infer::values(y.clone().detach());
                let inputs = crate::infer::values(x.clone().detach());
                let teachers = teacher.map(|t| crate::infer::values(t.clone().detach()));
                let started = Instant::now();
                let batch = perceptual::Batch {
                    outputs: &outputs,
                    inputs: &inputs,
                    teachers: teachers.as_deref(),
                    width: w,
                    height: h,
                };
                let result = perceptual::perceptual(vgg, batch, &targets[style], 1, weights);
                let seconds = started.elapsed().as_secs_f64();
                let gradient =
                    Tensor::<4>::from_data(TensorData::new(result.gradient, [b, 3, h, w]), &device);
                let surrogate = (y.clone() * gradient).sum();
                let tensor = surrogate.clone() - surrogate.detach();
                Ok(Terms {
                    tensor,
                    value: weights.content * result.content
                        + weights.style * result.style
                        + weights.teacher_style * result.teacher_style,
                    content: result.content,
                    style: result.style,
                    teacher_style: teacher.map(|_| result.teacher_style),
                    seconds: Some(seconds),
                })
            }
        }
    }
}
