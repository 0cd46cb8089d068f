//! The GStreamer plugin `ganstyle` (`libgstganstyle.so`): registers the `ganstyle` element,
//! which restyles video with a trained style-transfer network. The element itself lives in the
//! engine library (`ganstyle::element`) so the CLI can link the very same element statically.
//!
//! ```text
//! GST_PLUGIN_PATH=target/debug gst-launch-1.0 videotestsrc ! videoconvert ! ganstyle ! videoconvert ! autovideosink
//! ```

// plugin_define! generates public items without doc comments.
#![allow(missing_docs)]

use gstreamer as gst;
use gstreamer::glib;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    ganstyle::element::register(Some(plugin))
}

gst::plugin_define!(
    ganstyle,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    env!("CARGO_PKG_VERSION"),
    // This crate's licence, MIT, as GStreamer's list of licences spells it.
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    // What GStreamer's own build says for a plugin with no published home.
    "Unknown package origin",
    // The date of the commit built (see build.rs).
    env!("GANSTYLE_RELEASE_DATE")
);
