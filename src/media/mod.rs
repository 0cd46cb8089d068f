//! GStreamer pipelines around the `ganstyle` element: restyling recorded clips ([`restyle`]),
//! live sources to live outputs ([`live`]), and the containers and encoders they write
//! ([`encode`]).

#[cfg(feature = "camera")]
pub mod camera;
pub mod encode;
#[cfg(feature = "camera")]
pub mod live;
pub mod restyle;

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::error::{Error, Result};
pub use crate::files::{refuse_existing, temp_beside};

/// Start GStreamer and register this build's `ganstyle` element (so the CLI runs the very
/// element it was built with, whatever plugin copies are installed).
pub fn init() -> Result<()> {
    gst::init().map_err(|e| Error::Media(format!("GStreamer did not start: {e}")))?;
    crate::element::register_static()
        .map_err(|e| Error::Media(format!("could not register the ganstyle element: {e}")))
}

/// The Debian package that has a GStreamer element, for messages.
fn package_of(factory: &str) -> &'static str {
    match factory {
        "x264enc" => "gstreamer1.0-plugins-ugly",
        "avenc_aac" | "avenc_mpeg4" => "gstreamer1.0-libav",
        "rtmpsink" | "rtmp2sink" | "srtsink" | "openh264enc" | "h264parse" | "mpegtsmux" => {
            "gstreamer1.0-plugins-bad"
        }
        "v4l2sink" | "v4l2src" | "vp8enc" | "mp4mux" | "qtmux" | "matroskamux" | "webmmux"
        | "flvmux" | "autovideosink" => "gstreamer1.0-plugins-good",
        _ => "gstreamer1.0-plugins-base",
    }
}

/// A new element from `factory`, or an error naming the missing element and its package.
pub fn make(factory: &str) -> Result<gst::Element> {
    gst::ElementFactory::make(factory).build().map_err(|_| {
        Error::Media(format!(
            "the GStreamer element {factory} is not installed (package {})",
            package_of(factory)
        ))
    })
}

/// A queue with no limits of its own. For a branch that shares its demuxer with a branch that
/// holds data back (an encoder's look-ahead holds seconds of video before the muxer sees any):
/// a bounded queue here fills, blocks the demuxer, and the muxer then waits forever on the
/// other branch. What it holds is bounded by that other branch's latency.
pub(crate) fn unbounded_queue() -> Result<gst::Element> {
    let queue = make("queue")?;
    queue.set_property("max-size-buffers", 0u32);
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 0u64);
    Ok(queue)
}

/// An error message from the bus as one line: what failed, in which element, and GStreamer's
/// debug detail.
pub fn bus_error(msg: &gst::Message) -> String {
    let gst::MessageView::Error(err) = msg.view() else {
        return "unexpected message".into();
    };
    let source = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
    let mut text = format!("{} (in {source})", err.error());
    if let Some(debug) = err.debug() {
        let debug = debug.trim();
        if !debug.is_empty() {
            text.push_str(&format!(": {debug}"));
        }
    }
    text
}

/// An error for a pipeline that could not be assembled (`what` says which part).
pub(crate) fn link_err(what: &str) -> impl Fn(gst::glib::BoolError) -> Error + '_ {
    move |e| Error::Media(format!("could not build the pipeline ({what}): {e}"))
}

/// Add `chain` to `pipeline` and link it in order.
pub(crate) fn add_chain(
    pipeline: &gst::Pipeline,
    chain: &[gst::Element],
    what: &str,
) -> Result<()> {
    pipeline.add_many(chain).map_err(link_err(what))?;
    gst::Element::link_many(chain).map_err(link_err(what))
}

/// Whether a pad carries `prefix` media (`"video/"`, `"audio/"`), by its caps.
pub(crate) fn carries(pad: &gst::Pad, prefix: &str) -> bool {
    pad.current_caps()
        .unwrap_or_else(|| pad.query_caps(None))
        .structure(0)
        .is_some_and(|s| s.name().starts_with(prefix))
}

/// When `decodebin` exposes its first `prefix` stream, link it to `target`'s sink pad.
pub(crate) fn link_decoded(decodebin: &gst::Element, prefix: &'static str, target: &gst::Element) {
    let sink = target.static_pad("sink").expect("a sink pad");
    decodebin.connect_pad_added(move |_, pad| {
        if carries(pad, prefix) && !sink.is_linked() {
            let _ = pad.link(&sink);
        }
    });
}
