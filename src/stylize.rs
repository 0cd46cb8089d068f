//! Restyling frames with a loaded model: the one object the CLI (and the element) hold. It owns
//! the model on its device and the style weights, runs the network at most at `max_size`
//! (scaling down and back up around it), and blends with the input by `strength`.

use std::time::{Duration, Instant};

use burn::tensor::module::{avg_pool2d, interpolate};
use burn::tensor::ops::{AvgPoolOptions, InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

use crate::error::{Error, Result};
use crate::frame;
use crate::frame::finish::{Mixing, Previous, Styled, finish};
use crate::frame::packed::{self, FrameGeometry};
use crate::infer::CpuGenerator;
use crate::infer::source::Packed;
use crate::model::{Model, ModelSource, StyleChoice};

/// How to apply a style.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleOptions {
    /// 0 = the input unchanged (the network is not run), 1 = fully styled.
    pub strength: f32,
    /// Keep the input's colours, take only the styled luminance.
    pub preserve_color: bool,
    /// Longest side the network runs at (0 = native size).
    pub max_size: u32,
}

impl Default for StyleOptions {
    fn default() -> Self {
        Self {
            strength: 1.0,
            preserve_color: false,
            max_size: 0,
        }
    }
}

impl StyleOptions {
    /// Check ranges.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.strength) {
            return Err(Error::Invalid(format!(
                "strength {} is outside 0..1",
                self.strength
            )));
        }
        Ok(())
    }
}

/// The size the network runs at for a `w`×`h` frame when `max_size` (the longest side, 0 = no
/// limit) makes it smaller; `None` when the frame is run at its own size.
pub fn network_size(w: u32, h: u32, max_size: u32) -> Option<(u32, u32)> {
    let longest = w.max(h);
    (max_size > 0 && longest > max_size).then(|| {
        let scale = max_size as f32 / longest as f32;
        (
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        )
    })
}

/// A model loaded on a device, ready to restyle frames.
pub struct Stylizer {
    model: Model,
    device: Device,
    mix: Vec<f32>,
    /// The network compiled for the CPU runtime, when the device is the CPU.
    cpu: Option<CpuGenerator>,
    /// How the style is applied.
    pub options: StyleOptions,
}

impl Stylizer {
    /// Load `source` on `device` with a style choice.
    pub fn new(
        source: &ModelSource,
        device: Device,
        choice: &StyleChoice,
        options: StyleOptions,
    ) -> Result<Self> {
        let model = source.load(&device)?;
        Self::from_model(model, device, choice, options)
    }

    /// Wrap an already loaded model.
    pub fn from_model(
        model: Model,
        device: Device,
        choice: &StyleChoice,
        options: StyleOptions,
    ) -> Result<Self> {
        options.validate()?;
        let mix = model.style_mix(choice)?;
        let cpu = (device == Device::flex()).then(|| CpuGenerator::new(&model.generator));
        Ok(Self {
            model,
            device,
            mix,
            cpu,
            options,
        })
    }

    /// Whether frames go through the CPU runtime ([`crate::infer`]) rather than burn.
    pub fn uses_cpu_runtime(&self) -> bool {
        self.cpu.is_some()
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Change the style.
    pub fn set_style(&mut self, choice: &StyleChoice) -> Result<()> {
        self.mix = self.model.style_mix(choice)?;
        Ok(())
    }

    /// The device the model is on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let n = self.mix.len();
        let mix = Tensor::from_data(TensorData::new(self.mix.clone(), [1, n]), &self.device);
        self.model.generator.forward(x, mix)
    }

    /// The network's output for `image` at its own size (no `max_size`, no blending).
    pub fn network(&self, image: &RgbImage) -> RgbImage {
        if let Some(cpu) = &self.cpu {
            return cpu.restyle(image, &self.mix);
        }
        let y = self.forward(frame::image_to_tensor(image, &self.device));
        frame::tensor_to_images(y).pop().expect("one image")
    }

    /// The styled frame for `x` (`[1, 3, h, w]` in [0, 1] on the model's device) at the same
    /// size, without blending. With `max_size` the network runs on a smaller copy (area
    /// averaged, then bilinear) and its output is scaled back up (bicubic), all on the device.
    /// [`Self::restyle_frame`] off the CPU and the element's GPU frame path go through here.
    pub fn styled_tensor(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let Some((sw, sh)) = self.network_size(w as u32, h as u32) else {
            return self.forward(x);
        };
        let factor = (w / sw as usize).min(h / sh as usize);
        let x = if factor >= 2 {
            avg_pool2d(
                x,
                AvgPoolOptions::new([factor, factor]).with_stride([factor, factor]),
            )
        } else {
            x
        };
        let resize = |t, size: [usize; 2], mode| {
            let options = InterpolateOptions::new(mode)
                .with_align_corners(false)
                .with_output_size(size);
            interpolate(t, options)
        };
        let small = resize(x, [sh as usize, sw as usize], InterpolateMode::Bilinear);
        resize(self.forward(small), [h, w], InterpolateMode::Bicubic)
    }

    /// The size the network runs at for a `w`×`h` frame, when `max_size` makes it smaller.
    fn network_size(&self, w: u32, h: u32) -> Option<(u32, u32)> {
        network_size(w, h, self.options.max_size)
    }

    /// Restyle one image with the current options.
    pub fn stylize(&self, image: &RgbImage) -> RgbImage {
        let mut out = image.clone();
        let geometry = FrameGeometry::rgb(image.width(), image.height());
        self.restyle_frame(&mut out, &geometry, 0.0, &mut None, false)
            .map(drop)
            .expect("an image's own geometry fits it");
        out
    }

    /// Restyle a packed frame in place with the current options, then, with `stability` above
    /// 0, lean static pixels towards `previous` when the frame `follows` it (see
    /// [`crate::frame::finish`]). On the CPU the frame is read straight into the network and
    /// finished in one pass; elsewhere it goes through an RGB image on the model's device.
    /// Returns the time spent in the network: on the CPU its forward pass alone; elsewhere the
    /// upload, the network (with any `max-size` scaling) and the download.
    pub fn restyle_frame(
        &self,
        frame: &mut [u8],
        geometry: &FrameGeometry,
        stability: f32,
        previous: &mut Option<Previous>,
        follows: bool,
    ) -> Result<Duration> {
        let o = &self.options;
        if o.strength == 0.0 {
            *previous = None;
            return Ok(Duration::ZERO);
        }
        let mixing = Mixing {
            strength: o.strength,
            preserve_color: o.preserve_color,
            stability,
        };
        let size = self.network_size(geometry.width, geometry.height);
        match &self.cpu {
            Some(cpu) => {
                let source = Packed::new(frame, *geometry)?;
                let (output, network) = cpu.styled(&source, &self.mix, size);
                let done = finish(
                    frame,
                    geometry,
                    output.as_styled(),
                    mixing,
                    previous,
                    follows,
                );
                cpu.recycle(output.into_buffer());
                done.map(|()| network)
            }
            None => {
                let input = packed::unpack(frame, geometry)?;
                let started = Instant::now();
                let x = frame::image_to_tensor(&input, &self.device);
                let styled = frame::tensor_to_images(self.styled_tensor(x))
                    .pop()
                    .expect("one image");
                let network = started.elapsed();
                finish(
                    frame,
                    geometry,
                    Styled::Bytes(styled.as_raw()),
                    mixing,
                    previous,
                    follows,
                )
                .map(|()| network)
            }
        }
    }
}
