//! Restyling frames with a loaded model: the one object the CLI (and the element) hold. It owns
//! the model on its device and the style weights, runs the network at most at `max_size`
//! (scaling down and back up around it), and blends with the input by `strength`.

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::error::{Error, Result};
use crate::frame;
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

/// A model loaded on a device, ready to restyle frames.
pub struct Stylizer {
    model: Model,
    device: Device,
    mix: Vec<f32>,
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
        options.validate()?;
        let model = source.load(&device)?;
        let mix = model.style_mix(choice)?;
        Ok(Self {
            model,
            device,
            mix,
            options,
        })
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
        Ok(Self {
            model,
            device,
            mix,
            options,
        })
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

    /// The network's output for `image` at its own size (no `max_size`, no blending).
    pub fn network(&self, image: &RgbImage) -> RgbImage {
        let x = frame::image_to_tensor(image, &self.device);
        let n = self.mix.len();
        let mix = Tensor::from_data(TensorData::new(self.mix.clone(), [1, n]), &self.device);
        let y = self.model.generator.forward(x, mix);
        frame::tensor_to_images(y).pop().expect("one image")
    }

    /// Restyle one image with the current options.
    pub fn stylize(&self, image: &RgbImage) -> RgbImage {
        let o = &self.options;
        if o.strength == 0.0 {
            return image.clone();
        }
        let (w, h) = image.dimensions();
        let longest = w.max(h);
        let styled = if o.max_size > 0 && longest > o.max_size {
            let scale = o.max_size as f32 / longest as f32;
            let (sw, sh) = (
                ((w as f32 * scale).round() as u32).max(1),
                ((h as f32 * scale).round() as u32).max(1),
            );
            let small = self.network(&imageops::resize(image, sw, sh, FilterType::Triangle));
            imageops::resize(&small, w, h, FilterType::CatmullRom)
        } else {
            self.network(image)
        };
        if o.strength == 1.0 && !o.preserve_color {
            styled
        } else {
            frame::blend(image, &styled, o.strength, o.preserve_color)
        }
    }
}
