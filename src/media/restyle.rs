//! Restyling a recorded clip: `filesrc ! parsebin`; the video stream is decoded, sent through
//! the `ganstyle` element and encoded; the audio stream is copied into the new container as it
//! is (or decoded and re-encoded when the container cannot take it). Everything is written to
//! a temporary file beside the output that is renamed only on success, so a failed or
//! interrupted run never leaves a half file under the final name.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_pbutils as gst_pbutils;

use super::encode::Container;
use super::{
    add_chain, bus_error, carries, link_decoded, link_err, make, refuse_existing, temp_beside,
    unbounded_queue,
};
use crate::error::{Error, Result};
use crate::video::file_uri;

/// What the discoverer found in a clip.
#[derive(Debug, Clone)]
pub struct ClipInfo {
    /// Frame size of the first video stream.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// Frames per second (None for variable or unknown rates).
    pub fps: Option<f64>,
    /// Duration.
    pub duration: Option<gst::ClockTime>,
    /// Whether there is an audio stream.
    pub has_audio: bool,
}

impl ClipInfo {
    /// Frames to expect (from duration and rate), for progress bars.
    pub fn frames(&self) -> Option<u64> {
        let seconds = self.duration?.nseconds() as f64 / 1e9;
        Some((seconds * self.fps?).round() as u64)
    }
}

fn video_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Video {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Inspect a clip with GStreamer's discoverer: an error names the file and says what is wrong
/// (missing, unreadable, not a video GStreamer can play, no video stream).
pub fn probe(path: &Path) -> Result<ClipInfo> {
    let uri = file_uri(path)?;
    super::init()?;
    let discoverer = gst_pbutils::Discoverer::new(gst::ClockTime::from_seconds(20))
        .map_err(|e| video_error(path, format!("GStreamer's discoverer: {e}")))?;
    let info = discoverer
        .discover_uri(&uri)
        .map_err(|e| video_error(path, format!("not a clip GStreamer can play: {e}")))?;
    let video = info.video_streams();
    let Some(v) = video.iter().find(|v| !v.is_image()).or(video.first()) else {
        return Err(video_error(path, "no video stream"));
    };
    let rate = v.framerate();
    let fps = (rate.numer() > 0 && rate.denom() > 0)
        .then(|| f64::from(rate.numer()) / f64::from(rate.denom()));
    Ok(ClipInfo {
        width: v.width(),
        height: v.height(),
        fps,
        duration: info.duration(),
        has_audio: !info.audio_streams().is_empty(),
    })
}

/// A finished restyle.
#[derive(Debug, Clone)]
pub struct Restyled {
    /// Video frames written.
    pub frames: u64,
    /// Whether the audio was copied (false: re-encoded, or there was none).
    pub audio_copied: bool,
    /// Whether the clip had audio.
    pub has_audio: bool,
    /// Set when an odd frame size was cropped to an even one for the encoder: what was done.
    pub crop_note: Option<String>,
}

/// Options for one clip.
pub struct RestyleJob<'a> {
    /// The clip.
    pub input: &'a Path,
    /// Where the styled clip goes (its extension picks the container).
    pub output: &'a Path,
    /// Replace an existing output.
    pub force: bool,
    /// Sets the `ganstyle` element's properties.
    pub configure: &'a dyn Fn(&gst::Element),
    /// Called about ten times a second with the frames restyled so far.
    pub progress: &'a dyn Fn(u64),
    /// Set (by a Ctrl-C handler) to abandon the run; the output is then not written.
    pub cancel: &'a AtomicBool,
}

/// Restyle one clip. Resolution, frame rate, frame count and timestamps are kept (the element
/// changes frames in place).
pub fn restyle_clip(job: &RestyleJob) -> Result<Restyled> {
    let RestyleJob { input, output, .. } = *job;
    let info = probe(input)?;
    let container = Container::from_path(output)?;
    refuse_existing(output, job.force)?;
    let temp = temp_beside(output)?;
    let built = build(
        input,
        (info.width, info.height),
        temp.path(),
        container,
        job.configure,
    )?;
    let result = run(&built, job);
    let _ = built.pipeline.set_state(gst::State::Null);
    let frames = result?;
    if built.audio_linked.load(Ordering::SeqCst) != info.has_audio {
        return Err(video_error(
            input,
            "its audio stream could not be carried over",
        ));
    }
    if job.force {
        temp.persist(output)
    } else {
        temp.persist_noclobber(output)
    }
    .map_err(|e| Error::io(output, e.error))?;
    Ok(Restyled {
        frames,
        audio_copied: built.audio_copied.load(Ordering::SeqCst),
        has_audio: info.has_audio,
        crop_note: built.crop_note.clone(),
    })
}

struct Built {
    pipeline: gst::Pipeline,
    frames: Arc<AtomicU64>,
    video_linked: Arc<AtomicBool>,
    audio_linked: Arc<AtomicBool>,
    audio_copied: Arc<AtomicBool>,
    input: PathBuf,
    crop_note: Option<String>,
}

fn build(
    input: &Path,
    size: (u32, u32),
    temp: &Path,
    container: Container,
    configure: &dyn Fn(&gst::Element),
) -> Result<Built> {
    let pipeline = gst::Pipeline::new();
    let src = make("filesrc")?;
    src.set_property("location", input);
    let parse = make("parsebin")?;
    let mux = container.muxer()?;
    let sink = make("filesink")?;
    sink.set_property("location", temp);

    // The video chain, linked to the decoder once its pad appears.
    let video_queue = make("queue")?;
    let decode = make("decodebin")?;
    let convert_in = make("videoconvert")?;
    let ganstyle = make("ganstyle")?;
    configure(&ganstyle);
    let convert_out = make("videoconvert")?;
    let mut chain = vec![convert_in.clone(), ganstyle.clone(), convert_out];
    let encoder = container.video_encoder(false, size)?;
    let crop_note = encoder.crop_note(size);
    chain.extend(encoder.elements);
    chain.push(make("queue")?);

    add_chain(&pipeline, &[src, parse.clone()], "source")?;
    add_chain(&pipeline, &[video_queue.clone(), decode.clone()], "decoder")?;
    add_chain(&pipeline, &chain, "video chain")?;
    add_chain(&pipeline, &[mux.clone(), sink], "file")?;
    let last = chain.last().expect("a chain");
    last.link_pads(None, &mux, Some("video_%u"))
        .map_err(link_err("muxer video"))?;
    link_decoded(&decode, "video/", &convert_in);

    let frames = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&frames);
    ganstyle
        .static_pad("src")
        .expect("ganstyle has a src pad")
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            counter.fetch_add(1, Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        });

    let video_linked = Arc::new(AtomicBool::new(false));
    let audio_linked = Arc::new(AtomicBool::new(false));
    let audio_copied = Arc::new(AtomicBool::new(false));
    let weak_pipeline = pipeline.downgrade();
    let weak_mux = mux.downgrade();
    let queue_sink = video_queue.static_pad("sink").expect("a sink pad");
    let (v, a, c) = (
        Arc::clone(&video_linked),
        Arc::clone(&audio_linked),
        Arc::clone(&audio_copied),
    );
    parse.connect_pad_added(move |_, pad| {
        let (Some(pipeline), Some(mux)) = (weak_pipeline.upgrade(), weak_mux.upgrade()) else {
            return;
        };
        let linked = if carries(pad, "video/") && !v.swap(true, Ordering::SeqCst) {
            pad.link(&queue_sink).is_ok()
        } else if carries(pad, "audio/") && !a.swap(true, Ordering::SeqCst) {
            match link_audio(&pipeline, &mux, pad, container) {
                Ok(copied) => {
                    c.store(copied, Ordering::SeqCst);
                    true
                }
                Err(err) => {
                    gst::element_error!(mux, gst::StreamError::Encode, ("{err}"));
                    a.store(false, Ordering::SeqCst);
                    false
                }
            }
        } else {
            false
        };
        if !linked {
            discard(&pipeline, pad); // subtitles, further streams
        }
    });

    Ok(Built {
        pipeline,
        frames,
        video_linked,
        audio_linked,
        audio_copied,
        input: input.to_path_buf(),
        crop_note,
    })
}

/// Send a stream nowhere (an unlinked pad would stop the demuxer).
fn discard(pipeline: &gst::Pipeline, pad: &gst::Pad) {
    if let Ok(sink) = make("fakesink") {
        sink.set_property("sync", false);
        if pipeline.add(&sink).is_ok() {
            let _ = sink.sync_state_with_parent();
            let _ = pad.link(&sink.static_pad("sink").expect("a sink pad"));
        }
    }
}

/// Link the audio stream to the muxer: as it is when the muxer takes its caps, else through a
/// decoder and the container's audio encoder. Returns whether it was copied.
fn link_audio(
    pipeline: &gst::Pipeline,
    mux: &gst::Element,
    pad: &gst::Pad,
    container: Container,
) -> Result<bool> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let template = mux
        .pad_template("audio_%u")
        .ok_or_else(|| Error::Media(format!("{container:?} takes no audio")))?;
    let copy = template.caps().can_intersect(&caps);
    // queue ! mux, or queue ! decodebin ~ audioconvert ! audioresample ! encoder ! queue ! mux.
    // The first queue is unbounded: the demuxer feeds video and audio from one thread, and the
    // video encoder's look-ahead keeps seconds of video from the muxer, so the muxer waits for
    // video while the audio piles up. A bounded audio queue would fill, block the demuxer, and
    // the run would hang (it did on clips whose audio spans the video).
    let queue = unbounded_queue()?;
    let (chains, tail) = if copy {
        (vec![vec![queue.clone()]], queue.clone())
    } else {
        let decode = make("decodebin")?;
        let encode = vec![
            make("audioconvert")?,
            make("audioresample")?,
            container.audio_encoder()?,
            make("queue")?,
        ];
        link_decoded(&decode, "audio/", &encode[0]);
        let tail = encode[3].clone();
        (vec![vec![queue.clone(), decode], encode], tail)
    };
    for chain in &chains {
        add_chain(pipeline, chain, "audio")?;
    }
    let mux_pad = mux
        .request_pad_simple("audio_%u")
        .ok_or_else(|| Error::Media("the muxer gave no audio pad".into()))?;
    tail.link_pads(None, mux, Some(mux_pad.name().as_str()))
        .map_err(link_err("audio to muxer"))?;
    for element in chains.iter().flatten() {
        element
            .sync_state_with_parent()
            .map_err(link_err("audio"))?;
    }
    pad.link(&queue.static_pad("sink").expect("a sink pad"))
        .map_err(|e| Error::Media(format!("could not link the audio: {e}")))?;
    Ok(copy)
}

/// Play until EOS, an error or cancellation; the frames restyled.
fn run(built: &Built, job: &RestyleJob) -> Result<u64> {
    let fail = |reason: String| video_error(&built.input, reason);
    let bus = built.pipeline.bus().expect("a pipeline has a bus");
    built.pipeline.set_state(gst::State::Playing).map_err(|_| {
        match bus.pop_filtered(&[gst::MessageType::Error]) {
            Some(msg) => fail(bus_error(&msg)),
            None => fail("the pipeline did not start".into()),
        }
    })?;
    loop {
        (job.progress)(built.frames.load(Ordering::Relaxed));
        if job.cancel.load(Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(_) => return Err(fail(bus_error(&msg))),
            _ => {}
        }
    }
    let frames = built.frames.load(Ordering::Relaxed);
    if !built.video_linked.load(Ordering::SeqCst) || frames == 0 {
        return Err(fail("no video frames were decoded".into()));
    }
    (job.progress)(frames);
    Ok(frames)
}
