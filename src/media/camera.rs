//! Webcams through nokhwa (its native V4L2 backend on Linux), feeding an `appsrc`. Frames go
//! to GStreamer in the camera's own format (YUY2, NV12, GRAY8, RGB, BGR or JPEG), which the
//! pipeline converts; nokhwa's own decoders are not used.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gstreamer as gst;
use gstreamer_app as gst_app;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};

use crate::error::{Error, Result};

/// A camera as nokhwa lists it.
#[derive(Debug, Clone)]
pub struct CameraEntry {
    /// Index for `--camera`.
    pub index: String,
    /// Its name.
    pub name: String,
    /// Driver and bus details.
    pub description: String,
}

/// The cameras nokhwa finds (none is not an error here).
pub fn list() -> Result<Vec<CameraEntry>> {
    let found = nokhwa::query(ApiBackend::Auto)
        .map_err(|e| Error::Camera(format!("could not list cameras: {e}")))?;
    Ok(found
        .into_iter()
        .map(|c| CameraEntry {
            index: c.index().to_string(),
            name: c.human_name(),
            description: c.description().to_string(),
        })
        .collect())
}

/// Which camera and what to ask of it.
#[derive(Debug, Clone, Copy)]
pub struct CameraRequest {
    /// Index (`ganstyle devices` lists them).
    pub index: u32,
    /// Resolution and rate to ask for (the closest the camera offers is used).
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
}

/// The "no such camera" message: what was found, how to pick another, and the test source.
fn not_found(request: &CameraRequest, reason: &str) -> Error {
    let found = match list() {
        Ok(list) if list.is_empty() => "no cameras were found".to_string(),
        Ok(list) => format!(
            "cameras found: {}",
            list.iter()
                .map(|c| format!("{} ({})", c.index, c.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => e.to_string(),
    };
    Error::CameraNotFound {
        index: request.index,
        reason: reason.to_string(),
        found,
    }
}

fn caps_for(format: &CameraFormat) -> gst::Caps {
    let (w, h, fps) = (
        format.width() as i32,
        format.height() as i32,
        format.frame_rate() as i32,
    );
    let raw = |f: &str| {
        gst::Caps::builder("video/x-raw")
            .field("format", f)
            .field("width", w)
            .field("height", h)
            .field("framerate", gst::Fraction::new(fps, 1))
            .build()
    };
    match format.format() {
        FrameFormat::MJPEG => gst::Caps::builder("image/jpeg")
            .field("width", w)
            .field("height", h)
            .field("framerate", gst::Fraction::new(fps, 1))
            .build(),
        FrameFormat::YUYV => raw("YUY2"),
        FrameFormat::NV12 => raw("NV12"),
        FrameFormat::GRAY => raw("GRAY8"),
        FrameFormat::RAWRGB => raw("RGB"),
        FrameFormat::RAWBGR => raw("BGR"),
    }
}

/// The running time at which a frame was captured: now on the pipeline clock, less the age of
/// the frame by the driver's (wall-clock) capture timestamp when it has one. None before the
/// pipeline has a clock.
fn running_time_of(appsrc: &gst_app::AppSrc, captured: Option<Duration>) -> Option<gst::ClockTime> {
    use gst::prelude::*;
    let (clock, base) = (appsrc.clock()?, appsrc.base_time()?);
    let now = clock.time().checked_sub(base)?;
    let age = captured
        .and_then(|t| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .ok()?
                .checked_sub(t)
        })
        .filter(|age| *age < Duration::from_secs(1)) // a clock jump, not a real delay
        .unwrap_or_default();
    Some(now.saturating_sub(gst::ClockTime::from_nseconds(age.as_nanos() as u64)))
}

/// A capture thread pushing camera frames into an appsrc.
pub struct Capture {
    /// The caps of what it pushes (set them on the appsrc).
    pub caps: gst::Caps,
    /// The camera's name and the format it delivers.
    pub description: String,
    thread: JoinHandle<Result<()>>,
}

impl Capture {
    /// Open the camera and start pushing its frames into `appsrc` (timestamped with the
    /// driver's capture time)
    /// until `stop` is set or the camera fails. Then the appsrc
    /// gets EOS, so recordings are finalized either way.
    pub fn start(
        request: CameraRequest,
        appsrc: gst_app::AppSrc,
        stop: Arc<AtomicBool>,
    ) -> Result<Self> {
        let (opened_tx, opened_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ganstyle-camera".into())
            .spawn(move || -> Result<()> {
                let wanted = CameraFormat::new_from(
                    request.width,
                    request.height,
                    FrameFormat::YUYV,
                    request.fps,
                );
                let formats = [
                    FrameFormat::YUYV,
                    FrameFormat::MJPEG,
                    FrameFormat::NV12,
                    FrameFormat::GRAY,
                    FrameFormat::RAWRGB,
                    FrameFormat::RAWBGR,
                ];
                let requested =
                    RequestedFormat::with_formats(RequestedFormatType::Closest(wanted), &formats);
                let opened = nokhwa::Camera::new(CameraIndex::Index(request.index), requested)
                    .and_then(|mut camera| camera.open_stream().map(|()| camera));
                let mut camera = match opened {
                    Ok(camera) => camera,
                    Err(e) => {
                        let _ = opened_tx.send(Err(not_found(&request, &e.to_string())));
                        return Ok(());
                    }
                };
                let format = camera.camera_format();
                let description = format!("{} ({format})", camera.info().human_name());
                let _ = opened_tx.send(Ok((caps_for(&format), description)));
                let result = loop {
                    if stop.load(Ordering::SeqCst) {
                        break Ok(());
                    }
                    let frame = match camera.frame() {
                        Ok(frame) => frame,
                        Err(e) => {
                            break Err(Error::Camera(format!(
                                "camera {} stopped delivering frames: {e}",
                                request.index
                            )));
                        }
                    };
                    // Timestamped with the driver's capture time, in the pipeline's running
                    // time; frames that arrive before the pipeline runs are skipped.
                    let Some(pts) = running_time_of(&appsrc, frame.capture_timestamp()) else {
                        continue;
                    };
                    let mut buffer = gst::Buffer::from_slice(frame.buffer().to_vec());
                    buffer.get_mut().expect("a new buffer").set_pts(pts);
                    if appsrc.push_buffer(buffer).is_err() {
                        break Ok(()); // the pipeline is shutting down
                    }
                };
                let _ = camera.stop_stream();
                let _ = appsrc.end_of_stream();
                result
            })
            .map_err(|e| Error::Camera(format!("could not start the capture thread: {e}")))?;
        match opened_rx.recv() {
            Ok(Ok((caps, description))) => Ok(Self {
                caps,
                description,
                thread,
            }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(Error::Camera(
                "the capture thread ended before opening".into(),
            )),
        }
    }

    /// Whether the thread is still capturing.
    pub fn is_running(&self) -> bool {
        !self.thread.is_finished()
    }

    /// Wait for the thread; its error if the camera failed.
    pub fn join(self) -> Result<()> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(Error::Camera("the capture thread panicked".into())))
    }
}
