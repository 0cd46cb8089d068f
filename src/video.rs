//! Decoding video clips into RGB frames with GStreamer (`uridecodebin ! videoconvert ! appsink`),
//! for training on real clips and for evaluating on them.

use std::path::Path;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use image::RgbImage;

use crate::error::{Error, Result};

/// The `file://` URI of a clip, or an error naming the file when it is missing, not a file or
/// unreadable.
pub fn file_uri(path: &Path) -> Result<String> {
    let fail = |reason: String| Error::Video {
        path: path.to_path_buf(),
        reason,
    };
    if !path.exists() {
        return Err(fail("not found".into()));
    }
    if !path.is_file() {
        return Err(fail("not a file".into()));
    }
    std::fs::File::open(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    let absolute = std::fs::canonicalize(path).map_err(|e| fail(e.to_string()))?;
    gst::glib::filename_to_uri(&absolute, None)
        .map(|u| u.to_string())
        .map_err(|e| fail(e.to_string()))
}

/// Decode up to `max_frames` frames of the clip at `path` (at its own size, square pixels).
pub fn decode_frames(path: &Path, max_frames: usize) -> Result<Vec<RgbImage>> {
    let fail = |reason: String| Error::Video {
        path: path.to_path_buf(),
        reason,
    };
    let uri = file_uri(path)?;
    gst::init().map_err(|e| fail(format!("GStreamer did not start: {e}")))?;
    let description = format!(
        "uridecodebin uri=\"{uri}\" ! videoconvert ! videoscale ! video/x-raw,format=RGB,pixel-aspect-ratio=1/1 ! appsink name=sink sync=false"
    );
    let pipeline = gst::parse::launch(&description)
        .map_err(|e| fail(format!("cannot build a decoder: {e}")))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| fail("not a pipeline".into()))?;
    let sink = pipeline
        .by_name("sink")
        .and_then(|s| s.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| fail("no appsink".into()))?;
    let result = pull_frames(&pipeline, &sink, max_frames).map_err(fail);
    // Best effort: the frames are already copied out.
    let _ = pipeline.set_state(gst::State::Null);
    let frames = result?;
    if frames.is_empty() {
        return Err(fail("no video frames (is there a video stream?)".into()));
    }
    Ok(frames)
}

fn pull_frames(
    pipeline: &gst::Pipeline,
    sink: &gst_app::AppSink,
    max_frames: usize,
) -> std::result::Result<Vec<RgbImage>, String> {
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| bus_error(pipeline).unwrap_or_else(|| "cannot start decoding".into()))?;
    let mut frames = Vec::new();
    while frames.len() < max_frames {
        match sink.try_pull_sample(gst::ClockTime::from_seconds(30)) {
            Some(sample) => frames.push(sample_to_image(&sample)?),
            None => {
                if let Some(error) = bus_error(pipeline) {
                    return Err(error);
                }
                if sink.is_eos() || !frames.is_empty() {
                    break;
                }
                return Err("timed out waiting for a frame".into());
            }
        }
    }
    Ok(frames)
}

fn bus_error(pipeline: &gst::Pipeline) -> Option<String> {
    let bus = pipeline.bus()?;
    while let Some(message) = bus.pop() {
        if let gst::MessageView::Error(err) = message.view() {
            return Some(err.error().to_string());
        }
    }
    None
}

fn sample_to_image(sample: &gst::Sample) -> std::result::Result<RgbImage, String> {
    let caps = sample.caps().ok_or("a frame without caps")?;
    let info = gst_video::VideoInfo::from_caps(caps).map_err(|e| e.to_string())?;
    let buffer = sample.buffer().ok_or("a sample without a buffer")?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
        .map_err(|e| e.to_string())?;
    let (w, h) = (info.width(), info.height());
    let stride = info.stride()[0] as usize;
    let data = frame.plane_data(0).map_err(|e| e.to_string())?;
    let mut image = RgbImage::new(w, h);
    for (y, row) in image.rows_mut().enumerate() {
        let line = &data[y * stride..y * stride + 3 * w as usize];
        for (pixel, rgb) in row.zip(line.chunks_exact(3)) {
            pixel.0 = [rgb[0], rgb[1], rgb[2]];
        }
    }
    Ok(image)
}
