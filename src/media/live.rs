//! Live: a source (webcam, test pattern, or a clip played as if it were a camera) through a
//! leaky queue and the `ganstyle` element to one or more outputs (preview window, v4l2loopback
//! virtual camera, RTMP/SRT stream, recording) behind a `tee`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use super::camera::{CameraRequest, Capture};
use super::encode::Container;
use super::{add_chain, link_decoded, link_err, make, refuse_existing, temp_beside};
use crate::error::{Error, Result};

/// Where frames come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A webcam through nokhwa.
    Camera(CameraRequest),
    /// GStreamer's test pattern, live.
    Test {
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// Frames per second.
        fps: u32,
    },
    /// A clip, decoded and paced to its own frame rate.
    File(PathBuf),
}

/// Where styled frames go.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A preview window.
    Window,
    /// A v4l2loopback device (virtual camera for OBS, browsers, video calls).
    V4l2(PathBuf),
    /// An RTMP stream (FLV, H.264).
    Rtmp(String),
    /// An SRT stream (MPEG-TS, H.264).
    Srt(String),
    /// A recording (container from the extension).
    File(PathBuf),
}

impl Output {
    /// Parse `--output`: `window`, `v4l2:/dev/videoN`, `rtmp://…`, `srt://…`, or a file name.
    pub fn parse(text: &str) -> Result<Self> {
        if text == "window" {
            Ok(Self::Window)
        } else if let Some(device) = text.strip_prefix("v4l2:") {
            Ok(Self::V4l2(PathBuf::from(device)))
        } else if text.starts_with("rtmp://") || text.starts_with("rtmps://") {
            Ok(Self::Rtmp(text.into()))
        } else if text.starts_with("srt://") {
            Ok(Self::Srt(text.into()))
        } else if text.contains("://") {
            Err(Error::Setting(format!(
                "output {text}: only rtmp:// and srt:// streams are supported"
            )))
        } else {
            let path = PathBuf::from(text);
            Container::from_path(&path)?;
            Ok(Self::File(path))
        }
    }
}

/// Why a v4l2loopback output cannot work, with the command that fixes it.
pub fn check_v4l2(device: &Path) -> Result<Option<String>> {
    const LOAD: &str =
        "sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=ganstyle exclusive_caps=1";
    if !device.exists() {
        return Err(Error::Media(format!(
            "{} does not exist: load v4l2loopback first ({LOAD}) and pass that device",
            device.display()
        )));
    }
    // Browsers and OBS list a loopback device as a camera only with exclusive_caps=1.
    let param = std::fs::read_to_string("/sys/module/v4l2loopback/parameters/exclusive_caps");
    let hint = match param {
        Ok(v) if v.split(',').any(|x| x.trim() == "Y" || x.trim() == "1") => None,
        Ok(_) => Some(format!(
            "v4l2loopback is loaded without exclusive_caps=1: browsers and OBS may not list {}; reload it with: sudo modprobe -r v4l2loopback && {LOAD}",
            device.display()
        )),
        Err(_) => Some(format!(
            "{} is not a v4l2loopback device that this machine reports; for a virtual camera load: {LOAD}",
            device.display()
        )),
    };
    Ok(hint)
}

/// Frame counters the status line reads.
#[derive(Debug, Default)]
pub struct Counters {
    /// Frames out of the source.
    pub captured: AtomicU64,
    /// Frames into the ganstyle element (the rest were dropped by the leaky queue).
    pub entered: AtomicU64,
    /// Frames out of the ganstyle element.
    pub styled: AtomicU64,
}

/// A built live pipeline.
pub struct Live {
    /// The pipeline.
    pub pipeline: gst::Pipeline,
    /// The `ganstyle` element (for live property changes).
    pub ganstyle: gst::Element,
    /// The leaky queue before it.
    queue: gst::Element,
    /// Frame counters.
    pub counters: Arc<Counters>,
    /// The camera capture thread, for a camera source.
    pub capture: Option<Capture>,
    /// Where frames come from, in words.
    pub source_description: String,
    /// What the user should know about the outputs (a virtual camera that is not set up as
    /// expected, a frame size cropped for the encoder), one line each.
    pub notes: Vec<String>,
    /// Recordings: the temporary file being written and its final name.
    recordings: Vec<(tempfile::NamedTempFile, PathBuf)>,
    stop: Arc<AtomicBool>,
}

impl Live {
    /// Build the pipeline. `frames` limits the run to that many styled frames (then EOS).
    pub fn build(
        source: &Source,
        outputs: &[Output],
        force: bool,
        frames: Option<u64>,
        configure: &dyn Fn(&gst::Element),
    ) -> Result<Self> {
        if outputs.is_empty() {
            return Err(Error::Media("no output".into()));
        }
        let pipeline = gst::Pipeline::new();
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());

        // Source → raw video at a known size.
        let (head, capture, description, size) = match source {
            Source::Test { width, height, fps } => {
                let src = make("videotestsrc")?;
                src.set_property("is-live", true);
                src.set_property_from_str("pattern", "smpte");
                let caps = caps_filter(*width, *height, Some(*fps))?;
                let chain = vec![src, caps];
                add_chain(&pipeline, &chain, "test source")?;
                let d = format!("test pattern {width}x{height} at {fps} fps");
                (chain[1].clone(), None, d, (*width, *height))
            }
            Source::File(path) => {
                let info = super::restyle::probe(path)?;
                let src = make("filesrc")?;
                src.set_property("location", path);
                let decode = make("decodebin")?;
                let convert = make("videoconvert")?;
                // Paced to the clip's timestamps, as a camera would deliver it.
                let pace = make("clocksync")?;
                add_chain(&pipeline, &[src, decode.clone()], "file source")?;
                add_chain(&pipeline, &[convert.clone(), pace.clone()], "file source")?;
                link_decoded(&decode, "video/", &convert);
                let d = format!("{} ({}x{})", path.display(), info.width, info.height);
                (pace, None, d, (info.width, info.height))
            }
            Source::Camera(request) => {
                let appsrc = gst_app::AppSrc::builder()
                    .is_live(true)
                    .format(gst::Format::Time)
                    .max_buffers(2)
                    .leaky_type(gst_app::AppLeakyType::Downstream)
                    .build();
                let capture = Capture::start(*request, appsrc.clone(), Arc::clone(&stop))?;
                appsrc.set_caps(Some(&capture.caps));
                let decode = make("decodebin")?;
                let convert = make("videoconvert")?;
                add_chain(
                    &pipeline,
                    &[appsrc.upcast(), decode.clone()],
                    "camera source",
                )?;
                pipeline.add(&convert).map_err(link_err("camera source"))?;
                link_decoded(&decode, "video/", &convert);
                let s = capture.caps.structure(0).expect("caps");
                let size = (
                    s.get::<i32>("width").unwrap_or(0) as u32,
                    s.get::<i32>("height").unwrap_or(0) as u32,
                );
                let d = format!("camera {}: {}", request.index, capture.description);
                (convert, Some(capture), d, size)
            }
        };

        // Count captured frames; stop after `frames` styled ones.
        let c = Arc::clone(&counters);
        head.static_pad("src").expect("a src pad").add_probe(
            gst::PadProbeType::BUFFER,
            move |_, _| {
                c.captured.fetch_add(1, Ordering::Relaxed);
                gst::PadProbeReturn::Ok
            },
        );

        // Leaky queue (late camera frames are dropped, not queued) → ganstyle → tee.
        let queue = make("queue")?;
        queue.set_property("max-size-buffers", 2u32);
        queue.set_property("max-size-time", 0u64);
        queue.set_property("max-size-bytes", 0u32);
        queue.set_property_from_str("leaky", "downstream");
        let convert = make("videoconvert")?;
        let ganstyle = make("ganstyle")?;
        configure(&ganstyle);
        let tee = make("tee")?;
        let chain = [queue.clone(), convert, ganstyle.clone(), tee.clone()];
        add_chain(&pipeline, &chain, "filter")?;
        head.link(&chain[0]).map_err(link_err("filter"))?;
        // Frames that leave the leaky queue go on to the filter: counted here, so that
        // captured − entered − waiting is what the queue dropped.
        let c = Arc::clone(&counters);
        queue.static_pad("src").expect("a src pad").add_probe(
            gst::PadProbeType::BUFFER,
            move |_, _| {
                c.entered.fetch_add(1, Ordering::Relaxed);
                gst::PadProbeReturn::Ok
            },
        );
        let c = Arc::clone(&counters);
        ganstyle.static_pad("src").expect("a src pad").add_probe(
            gst::PadProbeType::BUFFER,
            move |_, _| {
                let n = c.styled.fetch_add(1, Ordering::Relaxed) + 1;
                match frames {
                    Some(max) if n > max => gst::PadProbeReturn::Drop,
                    _ => gst::PadProbeReturn::Ok,
                }
            },
        );

        let mut recordings = Vec::new();
        let mut notes = Vec::new();
        for output in outputs {
            let branch = output_branch(output, size, force, &mut recordings, &mut notes)?;
            let mut chain = vec![make("queue")?];
            chain.extend(branch);
            add_chain(&pipeline, &chain, "output")?;
            tee.link(&chain[0]).map_err(link_err("output"))?;
        }

        Ok(Self {
            pipeline,
            ganstyle,
            queue,
            counters,
            capture,
            source_description: description,
            recordings,
            notes,
            stop,
        })
    }

    /// Frames the leaky queue dropped because the filter was busy (captured, not filtered,
    /// not waiting in the queue).
    pub fn queue_dropped(&self) -> u64 {
        let waiting = u64::from(self.queue.property::<u32>("current-level-buffers"));
        let c = &self.counters;
        c.captured
            .load(Ordering::Relaxed)
            .saturating_sub(c.entered.load(Ordering::Relaxed) + waiting)
    }

    /// Ask everything to end: the camera stops and EOS goes through the pipeline, so
    /// recordings get finalized. Wait for it with [`Self::finish`].
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if self.capture.is_none() {
            self.pipeline.send_event(gst::event::Eos::new());
        }
    }

    /// After EOS (or an error): stop the pipeline and rename complete recordings to their
    /// names. `complete` false (the pipeline failed before EOS) keeps them under the
    /// temporary name and reports where.
    pub fn finish(self, complete: bool) -> Result<Vec<PathBuf>> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        let capture_result = self.capture.map(Capture::join).transpose();
        let mut written = Vec::new();
        for (temp, path) in self.recordings {
            if complete {
                temp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
                written.push(path);
            } else {
                let (_, kept) = temp.keep().map_err(|e| Error::io(&path, e.error))?;
                crate::files::keep_partial_file(&kept);
                return Err(Error::Media(format!(
                    "the recording did not finish; what was written is in {}",
                    kept.display()
                )));
            }
        }
        if let Err(err) = capture_result {
            let kept = written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(if kept.is_empty() {
                err
            } else {
                Error::Camera(format!("{err}; the recording was finalized: {kept}"))
            });
        }
        Ok(written)
    }
}

fn caps_filter(width: u32, height: u32, fps: Option<u32>) -> Result<gst::Element> {
    let filter = make("capsfilter")?;
    let mut caps = gst::Caps::builder("video/x-raw")
        .field("width", width as i32)
        .field("height", height as i32);
    if let Some(fps) = fps {
        caps = caps.field("framerate", gst::Fraction::new(fps as i32, 1));
    }
    filter.set_property("caps", caps.build());
    Ok(filter)
}

/// The elements after the tee's queue for one output.
fn output_branch(
    output: &Output,
    (width, height): (u32, u32),
    force: bool,
    recordings: &mut Vec<(tempfile::NamedTempFile, PathBuf)>,
    notes: &mut Vec<String>,
) -> Result<Vec<gst::Element>> {
    let convert = make("videoconvert")?;
    let encoder = |container: Container, notes: &mut Vec<String>| {
        let encoder = container.video_encoder(true, (width, height))?;
        notes.extend(encoder.crop_note((width, height)));
        Ok::<_, Error>(encoder.elements)
    };
    Ok(match output {
        Output::Window => {
            // Without a display autovideosink falls through to DirectFB, which exits the
            // process: say so instead.
            let display = ["DISPLAY", "WAYLAND_DISPLAY"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
            if !display {
                return Err(Error::NoDisplay);
            }
            vec![convert, make("autovideosink")?]
        }
        Output::V4l2(device) => {
            notes.extend(check_v4l2(device)?);
            // What browsers and OBS accept: YUY2 at an even width.
            let scale = make("videoscale")?;
            let caps = make("capsfilter")?;
            caps.set_property(
                "caps",
                gst::Caps::builder("video/x-raw")
                    .field("format", "YUY2")
                    .field("width", (width / 2 * 2).max(2) as i32)
                    .field("height", height as i32)
                    .build(),
            );
            let sink = make("v4l2sink")?;
            sink.set_property("device", device);
            sink.set_property("sync", false);
            vec![convert, scale, caps, sink]
        }
        Output::Rtmp(url) => {
            let mut chain = vec![convert];
            chain.extend(encoder(Container::Mp4, notes)?);
            let mux = make("flvmux")?;
            mux.set_property("streamable", true);
            chain.push(mux);
            let sink = make("rtmp2sink").or_else(|_| make("rtmpsink"))?;
            sink.set_property("location", url);
            chain.push(sink);
            chain
        }
        Output::Srt(url) => {
            let mut chain = vec![convert];
            chain.extend(encoder(Container::Mp4, notes)?);
            chain.push(make("mpegtsmux")?);
            let sink = make("srtsink")?;
            sink.set_property("uri", url);
            chain.push(sink);
            chain
        }
        Output::File(path) => {
            refuse_existing(path, force)?;
            let container = Container::from_path(path)?;
            let temp = temp_beside(path)?;
            // A recording is the user's footage: a quick exit (second Ctrl-C) keeps what was
            // written, under the temporary name, rather than deleting it.
            crate::files::keep_partial_file(temp.path());
            let mut chain = vec![convert];
            chain.extend(encoder(container, notes)?);
            chain.push(container.muxer()?);
            let sink = make("filesink")?;
            sink.set_property("location", temp.path());
            chain.push(sink);
            recordings.push((temp, path.clone()));
            chain
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_parse_by_prefix_and_extension() {
        assert_eq!(Output::parse("window").unwrap(), Output::Window);
        assert_eq!(
            Output::parse("v4l2:/dev/video10").unwrap(),
            Output::V4l2("/dev/video10".into())
        );
        assert!(matches!(
            Output::parse("rtmp://h/live/k").unwrap(),
            Output::Rtmp(_)
        ));
        assert!(matches!(
            Output::parse("srt://h:9000").unwrap(),
            Output::Srt(_)
        ));
        assert_eq!(
            Output::parse("a/b.mkv").unwrap(),
            Output::File("a/b.mkv".into())
        );
        let err = Output::parse("http://x/y").unwrap_err().to_string();
        assert!(err.contains("rtmp://"), "{err}");
        let err = Output::parse("take.avi").unwrap_err().to_string();
        assert!(err.contains(".avi") && err.contains(".mp4"), "{err}");
    }

    #[test]
    fn a_missing_loopback_device_says_how_to_load_one() {
        let err = check_v4l2(Path::new("/dev/video-none"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("modprobe v4l2loopback") && err.contains("exclusive_caps=1"),
            "{err}"
        );
    }
}
