//! # ganstyle
//!
//! Restyles every video frame with a trained feed-forward style-transfer network.
//!
//! ```text
//! gst-launch-1.0 videotestsrc ! videoconvert ! ganstyle model=mosaic strength=0.7 ! videoconvert ! autovideosink
//! ```
//!
//! Caps: RGBA, BGRA, RGBx, BGRx, RGB, BGR in and out (same format and size), any size from
//! 1×1 up, any framerate. Frames are changed in place, so timestamps and metadata are kept;
//! alpha is passed through.
//!
//! The model loads in `start()` (an error there names the file and stops the pipeline). Setting
//! `model` while PLAYING loads the new model on a helper thread and switches to it between
//! frames; a model that fails to load then is reported as a warning and the old one stays.
//! `style`, `style-mix`, `strength`, `preserve-color`, `max-size` and `stability` apply from the
//! next frame. `strength=0` is a passthrough: the network does not run. With `style-image`,
//! a strength below 1 moves the style toward the video's own, taken from the first frame (and
//! again after a seek or new caps), rather than blending the output with the input. In a live
//! pipeline that frame's style is computed on a helper thread, and the frames until it is there
//! (a few, at video rates) are blended by the strength instead.
//!
//! Live use: QoS is on (late frames are dropped before the network runs), the latency query is
//! answered with the measured processing time, and about once a second the element posts an
//! element message `ganstyle-stats` with `fps`, `processing-ms` (of which `network-ms` in the
//! network itself), `dropped`, `total-frames` and `total-dropped`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Instant;

use burn::tensor::Device;
use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::prelude::*;
use gstreamer_base::subclass::base_transform::GenerateOutputSuccess;
use gstreamer_base::subclass::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use gstreamer_video::subclass::prelude::*;

use super::settings::{self, DEFAULT_STRENGTH, Settings, StyleSelection};
use super::stats::Stats;
use crate::frame::packed::FrameGeometry;
use crate::stylize::Stylizer;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "ganstyle",
        gst::DebugColorFlags::empty(),
        Some("Style transfer element"),
    )
});

const FORMATS: [gst_video::VideoFormat; 6] = [
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgra,
    gst_video::VideoFormat::Rgbx,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Bgr,
];

/// A model loaded off the streaming thread, waiting to be switched to between frames.
struct Reload {
    generation: u64,
    name: String,
    result: crate::Result<Stylizer>,
}

struct State {
    /// The model on its device, with its frame path; it keeps the previous frame for
    /// `stability` itself.
    stylizer: Stylizer,
    /// The `model` generation this stylizer came from (see `Ganstyle::generation`).
    generation: u64,
    /// The `style`/`style-mix` last applied to the stylizer (or refused).
    applied_style: StyleSelection,
}

/// The element.
pub struct Ganstyle {
    settings: Mutex<Settings>,
    /// Boxed: burn's modules and devices need an alignment GObject's private data can't give.
    state: Mutex<Option<Box<State>>>,
    /// The device chosen in `start()`, for models loaded while PLAYING (boxed, as `state`).
    device: Mutex<Option<Box<Device>>>,
    /// Bumped on every `model` change and on stop; a load whose generation is not newer than
    /// the running model's is ignored.
    generation: AtomicU64,
    reload: Arc<Mutex<Option<Reload>>>,
    stats: Mutex<Stats>,
    /// The `active-device` property: where the running model and frame path are.
    active_device: Mutex<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while a lock was held is already reported as an element error; the data is
    // still consistent enough to shut down with.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn load(settings: &Settings, device: Device) -> crate::Result<Stylizer> {
    let source = settings.source()?;
    Stylizer::new(
        &source,
        device,
        &settings.style.choice()?,
        settings.options(),
    )
}

impl Ganstyle {
    /// Load the model named by the current `model` setting on a helper thread.
    fn start_reload(&self, settings: Settings) {
        let Some(device) = lock(&self.device).as_deref().cloned() else {
            return; // Not started: start() loads it.
        };
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let slot = Arc::clone(&self.reload);
        let name = settings.model_name();
        gst::info!(CAT, imp = self, "loading {name} in the background");
        let spawned = std::thread::Builder::new()
            .name("ganstyle-load".into())
            .spawn(move || {
                // The style may belong to the old model: load with the default, apply later.
                let plain = Settings {
                    style: StyleSelection::default(),
                    ..settings
                };
                let result = load(&plain, device);
                let mut slot = lock(&slot);
                if slot.as_ref().is_none_or(|r| r.generation < generation) {
                    *slot = Some(Reload {
                        generation,
                        name,
                        result,
                    });
                }
            });
        if let Err(err) = spawned {
            gst::element_imp_warning!(
                self,
                gst::CoreError::Thread,
                ("Could not start a thread to load the model: {err}")
            );
        }
    }

    /// Switch to a model loaded in the background, if one is ready.
    fn apply_reload(&self, state: &mut State) {
        let Some(reload) = lock(&self.reload).take() else {
            return;
        };
        if reload.generation <= state.generation {
            return;
        }
        state.generation = reload.generation;
        match reload.result {
            Ok(stylizer) => {
                gst::info!(CAT, imp = self, "switched to {}", reload.name);
                state.stylizer = stylizer;
                state.applied_style = StyleSelection::default();
            }
            Err(err) => gst::element_imp_warning!(
                self,
                gst::ResourceError::OpenRead,
                (
                    "Failed to load model {}: {err}; keeping the previous model",
                    reload.name
                )
            ),
        }
    }

    /// Apply a changed `style`/`style-mix`; a bad one is a warning and the old style stays.
    fn apply_style(&self, state: &mut State, settings: &Settings) {
        if state.applied_style == settings.style {
            return;
        }
        let result = settings
            .style
            .choice()
            .and_then(|choice| state.stylizer.set_style(&choice));
        if let Err(err) = result {
            gst::element_imp_warning!(
                self,
                gst::LibraryError::Settings,
                ("Style not changed: {err}")
            );
        }
        state.applied_style = settings.style.clone();
    }

    /// Restyle one mapped frame in place with the current settings.
    fn process_frame(
        &self,
        frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<(), gst::FlowError> {
        let settings = lock(&self.settings).clone();
        let mut guard = lock(&self.state);
        let state = guard.as_mut().ok_or(gst::FlowError::Flushing)?;
        self.apply_reload(state);
        self.apply_style(state, &settings);
        // The property specs hold every value in range.
        let options = settings.options();
        if options.strength == 0.0 {
            // Passthrough switched on between frames: nothing to do, and the next styled
            // frame does not follow the last one.
            state.stylizer.forget_previous();
            return Ok(());
        }
        state.stylizer.set_options(options).map_err(|err| {
            gst::element_imp_error!(self, gst::LibraryError::Settings, ("{err}"));
            gst::FlowError::Error
        })?;
        if state.stylizer.needs_content_style() {
            // A live stream cannot wait for the style encoder; a file can, and then comes out
            // the same every time.
            let mut query = gst::query::Latency::new();
            let live = self.obj().sink_pad().peer_query(&mut query) && query.result().0;
            state.stylizer.encode_content_off_thread(live);
        }

        let geometry = FrameGeometry {
            width: frame.width(),
            height: frame.height(),
            stride: frame.plane_stride()[0] as usize,
            layout: super::pixel_layout(frame.format()).ok_or(gst::FlowError::NotNegotiated)?,
        };
        let data = frame.plane_data_mut(0).map_err(|err| {
            gst::element_imp_error!(self, gst::StreamError::Failed, ("Unmappable frame: {err}"));
            gst::FlowError::Error
        })?;
        let started = Instant::now();
        let network = state
            .stylizer
            .restyle_frame(data, &geometry)
            .map_err(|err| {
                gst::element_imp_error!(
                    self,
                    gst::StreamError::Failed,
                    ("Restyling failed ({}): {err}", state.stylizer.path_name())
                );
                gst::FlowError::Error
            })?;
        drop(guard);

        let latency_changed = {
            let mut stats = lock(&self.stats);
            stats.processed(started.elapsed(), network);
            stats.latency_changed()
        };
        if latency_changed {
            let _ = self
                .obj()
                .post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        }
        Ok(())
    }

    /// Time spent in the network since the element started (see [`Stats::network_total`]).
    pub(super) fn network_time(&self) -> std::time::Duration {
        lock(&self.stats).network_total()
    }

    fn post_stats(&self) {
        let Some(report) = lock(&self.stats).report(Instant::now()) else {
            return;
        };
        let structure = gst::Structure::builder("ganstyle-stats")
            .field("fps", report.fps)
            .field("processing-ms", report.processing_ms)
            .field("network-ms", report.network_ms)
            .field("dropped", report.dropped)
            .field("total-frames", report.total_frames)
            .field("total-dropped", report.total_dropped)
            .build();
        let _ = self.obj().post_message(
            gst::message::Element::builder(structure)
                .src(&*self.obj())
                .build(),
        );
    }
}

#[glib::object_subclass]
impl ObjectSubclass for Ganstyle {
    const NAME: &'static str = "GstGanstyle";
    type Type = super::Ganstyle;
    type ParentType = gst_video::VideoFilter;

    fn new() -> Self {
        Self {
            settings: Mutex::new(Settings::default()),
            state: Mutex::new(None),
            device: Mutex::new(None),
            generation: AtomicU64::new(0),
            reload: Arc::new(Mutex::new(None)),
            stats: Mutex::new(Stats::new(Instant::now())),
            active_device: Mutex::new(String::new()),
        }
    }
}

impl ObjectImpl for Ganstyle {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(settings::specs);
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = lock(&self.settings);
        let before = (settings.model.clone(), settings.style_image.clone());
        settings.set(pspec.name(), value);
        let after = settings.clone();
        drop(settings);
        match pspec.name() {
            "model" | "style-image"
                if (after.model.clone(), after.style_image.clone()) != before =>
            {
                self.start_reload(after)
            }
            "strength" => self.obj().set_passthrough(after.strength == 0.0),
            _ => {}
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        if pspec.name() == "active-device" {
            return lock(&self.active_device).to_value();
        }
        lock(&self.settings).get(pspec.name())
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_qos(true);
        obj.set_passthrough(DEFAULT_STRENGTH == 0.0);
    }
}

impl GstObjectImpl for Ganstyle {}

impl ElementImpl for Ganstyle {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Style transfer",
                "Filter/Effect/Video",
                "Restyles video with a trained feed-forward style-transfer network (ganstyle)",
                "The ganstyle developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_video::VideoCapsBuilder::new()
                .format_list(FORMATS)
                .build();
            [gst::PadDirection::Src, gst::PadDirection::Sink]
                .into_iter()
                .map(|direction| {
                    let name = if direction == gst::PadDirection::Src {
                        "src"
                    } else {
                        "sink"
                    };
                    gst::PadTemplate::new(name, direction, gst::PadPresence::Always, &caps)
                        .expect("valid pad template")
                })
                .collect()
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for Ganstyle {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = lock(&self.settings).clone();
        let (device, description) = crate::device::select(settings.device.into())
            .map_err(|err| gst::error_msg!(gst::LibraryError::Init, ("{err}")))?;
        let stylizer = load(&settings, device.clone()).map_err(|err| {
            let kind = match err {
                crate::Error::Setting(_) => gst::ResourceError::Settings,
                _ => gst::ResourceError::OpenRead,
            };
            gst::error_msg!(
                kind,
                ("Failed to load model {}: {err}", settings.model_name()),
                ["device: {description}"]
            )
        })?;
        gst::info!(
            CAT,
            imp = self,
            "loaded {} on {description}",
            settings.model_name()
        );
        *lock(&self.active_device) = format!("{description}, {}", stylizer.path_name());
        *lock(&self.device) = Some(Box::new(device));
        *lock(&self.reload) = None;
        *lock(&self.stats) = Stats::new(Instant::now());
        *lock(&self.state) = Some(Box::new(State {
            stylizer,
            generation: self.generation.load(Ordering::SeqCst),
            applied_style: settings.style,
        }));
        self.obj().set_passthrough(settings.strength == 0.0);
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *lock(&self.state) = None;
        *lock(&self.device) = None;
        lock(&self.active_device).clear();
        *lock(&self.reload) = None;
        Ok(())
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        if direction == gst::PadDirection::Src
            && let gst::QueryViewMut::Latency(q) = query.view_mut()
        {
            // Upstream's latency plus the time this element holds a frame.
            let sink = self.obj().sink_pad().clone();
            if !sink.peer_query(q.query_mut()) {
                return false;
            }
            let (live, min, max) = q.result();
            let ours = gst::ClockTime::from_nseconds(lock(&self.stats).latency().as_nanos() as u64);
            gst::debug!(CAT, imp = self, "adding {ours} of latency");
            q.set(live, min + ours, max.map(|m| m + ours));
            return true;
        }
        BaseTransformImplExt::parent_query(self, direction, query)
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::FlushStop(_) = event.view()
            && let Some(state) = lock(&self.state).as_mut()
        {
            state.stylizer.forget_previous(); // after a seek the previous frame is no reference
        }
        self.parent_sink_event(event)
    }

    fn submit_input_buffer(
        &self,
        is_discont: bool,
        inbuf: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        // BaseTransform's QoS check happens here: a late frame is dropped (and its QoS message
        // posted) before `generate_output` is ever called for it, so it is counted here.
        let result = self.parent_submit_input_buffer(is_discont, inbuf);
        if result == Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED) {
            lock(&self.stats).frame_dropped();
            self.post_stats();
        }
        result
    }

    fn generate_output(&self) -> Result<GenerateOutputSuccess, gst::FlowError> {
        let result = self.parent_generate_output();
        match &result {
            Ok(GenerateOutputSuccess::Buffer(_)) => lock(&self.stats).frame_out(),
            Ok(GenerateOutputSuccess::Dropped) => lock(&self.stats).frame_dropped(),
            _ => {}
        }
        self.post_stats();
        result
    }
}

impl VideoFilterImpl for Ganstyle {
    fn set_info(
        &self,
        incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        outcaps: &gst::Caps,
        out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        if super::pixel_layout(in_info.format()).is_none() || in_info.format() != out_info.format()
        {
            return Err(gst::loggable_error!(
                CAT,
                "ganstyle takes RGBA, BGRA, RGBx, BGRx, RGB or BGR (same in and out), not {incaps} -> {outcaps}"
            ));
        }
        if let Some(state) = lock(&self.state).as_mut() {
            state.stylizer.forget_previous();
        }
        gst::debug!(CAT, imp = self, "configured for {incaps}");
        self.parent_set_info(incaps, in_info, outcaps, out_info)
    }

    fn transform_frame_ip(
        &self,
        frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.process_frame(frame)?;
        Ok(gst::FlowSuccess::Ok)
    }
}
