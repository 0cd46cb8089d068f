//! The `ganstyle` GStreamer element (a `VideoFilter`): restyles every frame of a stream with a
//! trained model. Laid out as gst-plugins-rs lays out its elements: this file is the public
//! wrapper and registration, `imp.rs` the implementation.
//!
//! It lives in the engine library (not only in the plugin crate under `plugins/`) so that the
//! CLI can link it statically: the plugin crate depends on this library, and Cargo forbids the
//! cycle the other way round. `plugins/` registers it as `libgstganstyle.so`; the CLI calls
//! [`register_static`]. Both run this very element.

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

mod imp;
pub mod settings;
pub mod stats;

glib::wrapper! {
    /// The `ganstyle` element.
    pub struct Ganstyle(ObjectSubclass<imp::Ganstyle>)
        @extends gstreamer_video::VideoFilter, gstreamer_base::BaseTransform, gst::Element, gst::Object;
}

impl Ganstyle {
    /// Time this element has spent in the network itself since it started, on the CPU path
    /// (zero on the GPU frame path, where the network and the frame kernels overlap). With the
    /// frames' arrival times downstream it gives the element's own overhead.
    pub fn network_time(&self) -> std::time::Duration {
        use gstreamer::subclass::prelude::ObjectSubclassIsExt;
        self.imp().network_time()
    }
}

/// The `device` property's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstGanstyleDevice")]
pub enum DeviceProperty {
    /// A real GPU when wgpu finds one, else the CPU.
    #[default]
    #[enum_value(
        name = "Auto: a hardware GPU when wgpu finds one, else the CPU",
        nick = "auto"
    )]
    Auto,
    /// The CPU (ganstyle's runtime).
    #[enum_value(name = "CPU: ganstyle's own CPU runtime", nick = "cpu")]
    Cpu,
    /// burn-wgpu on the best adapter (a software one such as lavapipe counts).
    #[enum_value(name = "GPU: burn-wgpu on the best adapter wgpu finds", nick = "gpu")]
    Gpu,
}

impl From<DeviceProperty> for crate::device::DeviceChoice {
    fn from(d: DeviceProperty) -> Self {
        match d {
            DeviceProperty::Auto => Self::Auto,
            DeviceProperty::Cpu => Self::Cpu,
            DeviceProperty::Gpu => Self::Gpu,
        }
    }
}

/// Where the colour bytes sit in a frame of `format`, for the formats the element takes.
pub fn pixel_layout(
    format: gstreamer_video::VideoFormat,
) -> Option<crate::frame::packed::PixelLayout> {
    use crate::frame::packed::PixelLayout;
    use gstreamer_video::VideoFormat as F;
    match format {
        F::Rgba | F::Rgbx => Some(PixelLayout::RGBA),
        F::Bgra | F::Bgrx => Some(PixelLayout::BGRA),
        F::Rgb => Some(PixelLayout::RGB),
        F::Bgr => Some(PixelLayout::BGR),
        _ => None,
    }
}

/// The element's name in pipelines.
pub const ELEMENT_NAME: &str = "ganstyle";

/// Register the element with `plugin` (from `plugin_define!`), or with no plugin for static use.
pub fn register(plugin: Option<&gst::Plugin>) -> Result<(), glib::BoolError> {
    gst::Element::register(
        plugin,
        ELEMENT_NAME,
        gst::Rank::NONE,
        Ganstyle::static_type(),
    )
}

/// Initialise GStreamer and register the element in this process (idempotent), for the CLI and
/// tests that build pipelines without loading the plugin file.
pub fn register_static() -> Result<(), glib::BoolError> {
    gst::init().map_err(|err| glib::bool_error!("GStreamer failed to initialise: {err}"))?;
    let ours = Ganstyle::static_type();
    match gst::ElementFactory::find(ELEMENT_NAME) {
        Some(factory) if factory.element_type() == ours => Ok(()),
        // Not registered yet, or only the plugin file's copy: use this binary's element.
        _ => register(None),
    }
}
