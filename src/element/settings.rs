//! The element's properties: their specs (names, blurbs, ranges, when they may change) and the
//! `Settings` they are stored in.

use gstreamer::glib;
use gstreamer::prelude::*;

use super::DeviceProperty;
use crate::model::StyleChoice;
use crate::stylize::StyleOptions;

/// `strength` unless set.
pub const DEFAULT_STRENGTH: f64 = 1.0;
/// `preserve-color` unless set.
pub const DEFAULT_PRESERVE_COLOR: bool = false;
/// `max-size` unless set.
pub const DEFAULT_MAX_SIZE: u32 = 0;
/// `stability` unless set.
pub const DEFAULT_STABILITY: f64 = 0.0;

/// The `style` and `style-mix` properties as set, before they are parsed into a choice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StyleSelection {
    /// `style`.
    pub style: Option<String>,
    /// `style-mix`.
    pub style_mix: Option<String>,
}

impl StyleSelection {
    /// The style choice they make.
    pub fn choice(&self) -> crate::Result<StyleChoice> {
        StyleChoice::from_options(self.style.as_deref(), self.style_mix.as_deref())
    }
}

/// The property values.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `model`: a path or shipped name; `None` is the embedded model (or, with a style
    /// picture, the default arbitrary-style model).
    pub model: Option<String>,
    /// `style-image`: a picture to use as the style, with an arbitrary-style model.
    pub style_image: Option<String>,
    /// `style` and `style-mix`.
    pub style: StyleSelection,
    /// `strength`.
    pub strength: f64,
    /// `preserve-color`.
    pub preserve_color: bool,
    /// `device`.
    pub device: DeviceProperty,
    /// `max-size`.
    pub max_size: u32,
    /// `stability`.
    pub stability: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: None,
            style_image: None,
            style: StyleSelection::default(),
            strength: DEFAULT_STRENGTH,
            preserve_color: DEFAULT_PRESERVE_COLOR,
            device: DeviceProperty::default(),
            max_size: DEFAULT_MAX_SIZE,
            stability: DEFAULT_STABILITY,
        }
    }
}

impl Settings {
    /// The options the stylizer takes.
    pub fn options(&self) -> StyleOptions {
        StyleOptions {
            strength: self.strength as f32,
            preserve_color: self.preserve_color,
            max_size: self.max_size,
            stability: self.stability as f32,
        }
    }

    /// The model, for messages.
    pub fn model_name(&self) -> String {
        let model = self.model.as_deref();
        match &self.style_image {
            Some(picture) => format!(
                "{} with style picture {picture}",
                model.unwrap_or("the default arbitrary-style model")
            ),
            None => model.unwrap_or("the embedded default model").to_string(),
        }
    }

    /// Where the model comes from.
    pub fn source(&self) -> crate::Result<crate::model::ModelSource> {
        use crate::model::ModelSource;
        match &self.style_image {
            Some(picture) => {
                ModelSource::style_pictures(self.model.as_deref(), vec![picture.into()])
            }
            None => ModelSource::resolve(self.model.as_deref()),
        }
    }
}

impl Settings {
    /// Store a property value (its type was checked by GObject).
    pub fn set(&mut self, name: &str, value: &glib::Value) {
        let text = || {
            value
                .get::<Option<String>>()
                .expect("type checked upstream")
                .filter(|s| !s.is_empty())
        };
        match name {
            "model" => self.model = text(),
            "style-image" => self.style_image = text(),
            "style" => self.style.style = text(),
            "style-mix" => self.style.style_mix = text(),
            "strength" => self.strength = value.get().expect("type checked upstream"),
            "preserve-color" => self.preserve_color = value.get().expect("type checked upstream"),
            "device" => self.device = value.get().expect("type checked upstream"),
            "max-size" => self.max_size = value.get().expect("type checked upstream"),
            "stability" => self.stability = value.get().expect("type checked upstream"),
            other => unreachable!("no property {other}"),
        }
    }

    /// A property's value.
    pub fn get(&self, name: &str) -> glib::Value {
        match name {
            "model" => self.model.to_value(),
            "style-image" => self.style_image.to_value(),
            "style" => self.style.style.to_value(),
            "style-mix" => self.style.style_mix.to_value(),
            "strength" => self.strength.to_value(),
            "preserve-color" => self.preserve_color.to_value(),
            "device" => self.device.to_value(),
            "max-size" => self.max_size.to_value(),
            "stability" => self.stability.to_value(),
            other => unreachable!("no property {other}"),
        }
    }
}

/// The property specs, in the order gst-inspect lists them.
pub fn specs() -> Vec<glib::ParamSpec> {
    vec![
                glib::ParamSpecString::builder("model")
                    .nick("Model")
                    .blurb("Model file (.gsm) or shipped model name (see `ganstyle info`); unset: the embedded default model. Changing it while PLAYING loads the new model in the background and switches between frames")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("style-image")
                    .nick("Style picture")
                    .blurb("Any picture as the style, with an arbitrary-style model (`model`, or unset for the one scripts/fetch-assets.sh imports). Changing it while PLAYING computes the new style in the background and switches between frames; a picture that cannot be used is a warning and the previous style stays")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("style")
                    .nick("Style")
                    .blurb("Style name or index of a multi-style model; unset: the first style")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("style-mix")
                    .nick("Style mix")
                    .blurb("Blend the styles of a multi-style model: one weight per style, comma-separated, e.g. 0.7,0.3")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("strength")
                    .nick("Strength")
                    .blurb("How much of the style to apply: 0 is a passthrough (the network does not run), 1 fully styled. With style-image the style itself moves toward the video's own (taken from the first frame, and again after a seek or a format change): half the style, not a faded double image")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_STRENGTH)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("preserve-color")
                    .nick("Preserve colour")
                    .blurb("Keep the input's colours and take only the styled luminance")
                    .default_value(DEFAULT_PRESERVE_COLOR)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("device", DeviceProperty::default())
                    .nick("Device")
                    .blurb("Where the network runs: auto (a hardware GPU when wgpu finds one, else the CPU), cpu, gpu")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("active-device")
                    .nick("Active device")
                    .blurb("Where frames are processed once started (read-only): \"cpu, ganstyle runtime\" (ganstyle's own CPU kernels), or \"gpu (ADAPTER, API), WGSL frame kernels\" (the network on burn-wgpu, blending in WGSL); empty when stopped")
                    .read_only()
                    .build(),
                glib::ParamSpecUInt::builder("max-size")
                    .nick("Maximum size")
                    .blurb("Longest side in pixels at which the network runs; larger frames are processed smaller and scaled back up (live HD on a CPU). 0: native size")
                    .default_value(DEFAULT_MAX_SIZE)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("stability")
                    .nick("Stability")
                    .blurb("Temporal smoothing 0..1: where the input barely changed, lean the output towards the previous output (less flicker in static regions; moving regions are not blended, so they do not ghost)")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_STABILITY)
                    .mutable_playing()
                    .build(),
            ]
}
