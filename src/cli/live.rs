//! `ganstyle live`: a webcam (or a test source / clip) through the element, to a window, a
//! virtual camera, a stream or a file, with keyboard control and a status line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;

use super::StyleArgs;
use crate::media::bus_error;
use crate::media::camera::CameraRequest;
use crate::media::live::{Live, Output, Source};

/// Live style transfer.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle live                                        # default camera, embedded model, preview window
  ganstyle live --camera 1 --resolution 1280x720 --fps 30 --model mosaic --output v4l2:/dev/video10
  ganstyle live --output rtmp://localhost/live/key     # or --output recording.mp4
  ganstyle live --output window --output take1.mp4     # several outputs at once
  ganstyle live --source test --output out.mp4 --frames 300   # no camera needed; exactly 300 frames
  ganstyle live --source clip.mp4 --max-size 320       # a clip played as if it were a camera

Keys (terminal or preview window): n / right: next style, p / left: previous style,
+ / -: strength up / down, s: stability on / off, space: pause the filter, q / Esc: quit.
Ctrl-C ends cleanly: recordings are finalized.

A virtual camera needs v4l2loopback:
  sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=ganstyle exclusive_caps=1")]
pub struct LiveArgs {
    /// Camera index (see `ganstyle devices`).
    #[arg(long, default_value_t = 0)]
    pub camera: u32,
    /// Capture size, WIDTHxHEIGHT (the camera's closest mode is used).
    #[arg(long, default_value = "640x480", value_parser = parse_resolution)]
    pub resolution: (u32, u32),
    /// Capture frame rate.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Where frames come from: camera, test (a test pattern) or a clip's path.
    #[arg(long, default_value = "camera")]
    pub source: String,
    /// Where styled frames go: window, v4l2:/dev/videoN, rtmp://..., srt://..., or a file
    /// (.mp4, .mkv, .webm, .mov). Repeat for several.
    #[arg(long, short = 'o', default_value = "window")]
    pub output: Vec<String>,
    /// Stop after this many styled frames.
    #[arg(long)]
    pub frames: Option<u64>,
    /// Replace an existing recording.
    #[arg(long)]
    pub force: bool,
    /// Temporal smoothing 0..1 (less flicker in static regions).
    #[arg(long, default_value_t = 0.0)]
    pub stability: f64,
    /// Model and style options.
    #[command(flatten)]
    pub style: StyleArgs,
}

fn parse_resolution(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{text:?} is not WIDTHxHEIGHT, e.g. 1280x720"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=16384).contains(n))
            .ok_or_else(|| format!("{text:?}: {v:?} is not a size in pixels"))
    };
    Ok((parse(w)?, parse(h)?))
}

/// A live control, from a key in the terminal or the preview window.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Control {
    NextStyle,
    PreviousStyle,
    Stronger,
    Weaker,
    ToggleStability,
    TogglePause,
    Quit,
}

fn control_for(key: &str) -> Option<Control> {
    Some(match key {
        "n" | "Right" => Control::NextStyle,
        "p" | "Left" => Control::PreviousStyle,
        "+" | "=" | "plus" | "equal" | "Up" => Control::Stronger,
        "-" | "minus" | "Down" => Control::Weaker,
        "s" => Control::ToggleStability,
        " " | "space" => Control::TogglePause,
        "q" | "Escape" => Control::Quit,
        _ => return None,
    })
}

/// Terminal keys on a thread, in raw mode (restored when dropped).
struct Keyboard {
    raw: bool,
}

impl Keyboard {
    fn start(tx: mpsc::Sender<Control>) -> Self {
        use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, poll, read};
        if !std::io::stdin().is_terminal() || crossterm::terminal::enable_raw_mode().is_err() {
            return Self { raw: false };
        }
        std::thread::spawn(move || {
            loop {
                if !poll(Duration::from_millis(200)).unwrap_or(false) {
                    continue;
                }
                let Ok(Event::Key(key)) = read() else {
                    continue;
                };
                if key.kind != KeyEventKind::Press {
                    continue;
                }
                // Named as the preview window names keys, so both go through `control_for`.
                let name = match key.code {
                    // Raw mode turns Ctrl-C into a key: treat it as quit.
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        "q".to_string()
                    }
                    KeyCode::Char(c) => c.to_string(),
                    KeyCode::Right => "Right".into(),
                    KeyCode::Left => "Left".into(),
                    KeyCode::Up => "Up".into(),
                    KeyCode::Down => "Down".into(),
                    KeyCode::Esc => "Escape".into(),
                    _ => continue,
                };
                let control = control_for(&name);
                if let Some(c) = control
                    && tx.send(c).is_err()
                {
                    break;
                }
            }
        });
        Self { raw: true }
    }
}

impl Drop for Keyboard {
    fn drop(&mut self) {
        if self.raw {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// The filter's live settings, changed by controls.
struct Knobs {
    styles: Vec<String>,
    /// With style pictures, what n/p step through (the element's `style-image`).
    pictures: Vec<PathBuf>,
    style: usize,
    strength: f64,
    paused: bool,
    stability: f64,
    stability_on: f64,
}

impl Knobs {
    fn apply(&mut self, control: Control, element: &gst::Element) -> String {
        match control {
            Control::NextStyle | Control::PreviousStyle => {
                let n = self.pictures.len().max(self.styles.len());
                self.style = if control == Control::NextStyle {
                    (self.style + 1) % n
                } else {
                    (self.style + n - 1) % n
                };
                if let Some(picture) = self.pictures.get(self.style) {
                    // The element computes the new style in the background.
                    element.set_property("style-image", picture.display().to_string());
                    return format!("style picture {}", picture.display());
                }
                element.set_property("style-mix", None::<String>);
                element.set_property("style", Some(self.style.to_string()));
                format!("style {}", self.styles[self.style])
            }
            Control::Stronger | Control::Weaker => {
                let step = if control == Control::Stronger {
                    0.1
                } else {
                    -0.1
                };
                self.strength = ((self.strength + step) * 10.0).round().clamp(0.0, 10.0) / 10.0;
                self.paused = false;
                element.set_property("strength", self.strength);
                format!("strength {:.1}", self.strength)
            }
            Control::ToggleStability => {
                self.stability = if self.stability > 0.0 {
                    0.0
                } else {
                    self.stability_on
                };
                element.set_property("stability", self.stability);
                format!("stability {:.1}", self.stability)
            }
            Control::TogglePause => {
                self.paused = !self.paused;
                element.set_property("strength", if self.paused { 0.0 } else { self.strength });
                if self.paused {
                    "filter paused".into()
                } else {
                    "filter on".into()
                }
            }
            Control::Quit => "quitting".into(),
        }
    }
}

/// A key pressed in the preview window (a navigation message on the bus).
fn window_key(msg: &gst::Message) -> Option<Control> {
    let gst_video::NavigationMessage::Event(nav) = gst_video::NavigationMessage::parse(msg).ok()?;
    match gst_video::NavigationEvent::parse(&nav.event).ok()? {
        gst_video::NavigationEvent::KeyPress { key, .. } => control_for(key.as_str()),
        _ => None,
    }
}

/// Run `ganstyle live`.
pub fn run(args: LiveArgs) -> anyhow::Result<()> {
    let styles = args.style.validate()?;
    if !(0.0..=1.0).contains(&args.stability) {
        bail!("--stability {} is outside 0..1", args.stability);
    }
    crate::media::init()?;
    let outputs = args
        .output
        .iter()
        .map(|o| Output::parse(o))
        .collect::<crate::Result<Vec<_>>>()?;
    let (width, height) = args.resolution;
    let source = match args.source.as_str() {
        "camera" => Source::Camera(CameraRequest {
            index: args.camera,
            width,
            height,
            fps: args.fps,
        }),
        "test" => Source::Test {
            width,
            height,
            fps: args.fps,
        },
        path => Source::File(PathBuf::from(path)),
    };
    let interrupted = super::interrupt_flag();
    let stability = args.stability;
    let live = Live::build(&source, &outputs, args.force, args.frames, &|element| {
        args.style.configure(element);
        element.set_property("stability", stability);
    })?;
    for note in &live.notes {
        eprintln!("note: {note}");
    }
    let bus = live.pipeline.bus().expect("a pipeline has a bus");
    if live.pipeline.set_state(gst::State::Playing).is_err() {
        let reason = bus
            .pop_filtered(&[gst::MessageType::Error])
            .map(|m| bus_error(&m))
            .unwrap_or_else(|| "the pipeline did not start".into());
        let _ = live.finish(false);
        bail!("{reason}");
    }
    eprintln!(
        "live: {} -> {}; keys: n/p style, +/- strength, s stability, space pause, q quit",
        live.source_description,
        args.output.join(", ")
    );

    let (tx, keys) = mpsc::channel();
    let keyboard = Keyboard::start(tx);
    let pictures = args.style.pictures();
    let mut knobs = Knobs {
        styles,
        pictures,
        style: 0,
        strength: f64::from(args.style.strength),
        paused: false,
        stability,
        stability_on: if stability > 0.0 { stability } else { 0.5 },
    };
    let status_to_terminal = std::io::stderr().is_terminal();
    let (mut processing_ms, mut network_ms, mut dropped) = (0.0f64, 0.0f64, 0u64);
    let mut last = (Instant::now(), 0u64, 0u64);
    let mut stopping: Option<Instant> = None;
    let mut failure: Option<String> = None;
    let complete = loop {
        let quit = keys.try_iter().fold(false, |quit, control| {
            let said = knobs.apply(control, &live.ganstyle);
            eprintln!("{}{said}", if status_to_terminal { "\r\x1b[K" } else { "" });
            quit || control == Control::Quit
        });
        if stopping.is_none() && (quit || interrupted.load(Ordering::SeqCst)) {
            live.request_stop();
            stopping = Some(Instant::now());
        }
        let styled = live.counters.styled.load(Ordering::Relaxed);
        if stopping.is_none() && args.frames.is_some_and(|n| styled >= n) {
            live.request_stop();
            stopping = Some(Instant::now());
        }
        if stopping.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
            failure = Some("the pipeline did not drain within 10 s of stopping".into());
            break false;
        }
        if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) {
            match msg.view() {
                gst::MessageView::Eos(_) => break true,
                gst::MessageView::Error(_) => {
                    failure = Some(bus_error(&msg));
                    break false;
                }
                gst::MessageView::Element(e) => {
                    if let Some(s) = e.structure().filter(|s| s.name() == "ganstyle-stats") {
                        processing_ms = s.get("processing-ms").unwrap_or(processing_ms);
                        network_ms = s.get("network-ms").unwrap_or(network_ms);
                        dropped = s.get("total-dropped").unwrap_or(dropped);
                    } else if let Some(control) = window_key(&msg) {
                        let said = knobs.apply(control, &live.ganstyle);
                        eprintln!("{said}");
                        if control == Control::Quit && stopping.is_none() {
                            live.request_stop();
                            stopping = Some(Instant::now());
                        }
                    }
                }
                _ => {}
            }
        }
        if last.0.elapsed() >= Duration::from_secs(1) {
            let seconds = last.0.elapsed().as_secs_f64();
            let captured = live.counters.captured.load(Ordering::Relaxed);
            let styled = live.counters.styled.load(Ordering::Relaxed);
            let device: String = live.ganstyle.property("active-device");
            let dropped = dropped + live.queue_dropped();
            // The network's share, where the element can tell it apart (the CPU path).
            let network = if network_ms > 0.0 {
                format!(" (network {network_ms:.0})")
            } else {
                String::new()
            };
            let line = format!(
                "capture {:.1} fps | output {:.1} fps | processing {processing_ms:.0} ms{network} | dropped {dropped} | {device}",
                (captured - last.1) as f64 / seconds,
                (styled - last.2) as f64 / seconds,
            );
            if status_to_terminal {
                eprint!("\r\x1b[K{line}");
            } else {
                eprintln!("{line}");
            }
            last = (Instant::now(), captured, styled);
        }
    };
    drop(keyboard);
    if status_to_terminal {
        eprintln!();
    }
    let frames = live.counters.styled.load(Ordering::Relaxed);
    let frames = args.frames.map_or(frames, |max| frames.min(max));
    let result = live.finish(complete);
    for f in result.iter().flatten() {
        println!("wrote {} ({frames} frames)", f.display());
    }
    match (result, failure) {
        (Ok(_), None) => Ok(()),
        (Ok(_), Some(reason)) => bail!("{reason}"),
        (Err(err), None) => Err(err).context("live stopped"),
        (Err(err), Some(reason)) => bail!("{reason}; {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_style_pictures_n_and_p_step_through_them_on_the_element() {
        crate::media::init().unwrap();
        let element = gst::ElementFactory::make("ganstyle").build().unwrap();
        let pictures: Vec<PathBuf> = ["a.png", "b.png", "c.png"].map(PathBuf::from).to_vec();
        let mut knobs = Knobs {
            styles: vec!["a".into(), "b".into(), "c".into()],
            pictures: pictures.clone(),
            style: 0,
            strength: 1.0,
            paused: false,
            stability: 0.0,
            stability_on: 0.5,
        };
        let shown = |e: &gst::Element| e.property::<Option<String>>("style-image");
        assert!(knobs.apply(Control::NextStyle, &element).contains("b.png"));
        assert_eq!(shown(&element).as_deref(), Some("b.png"));
        knobs.apply(Control::PreviousStyle, &element);
        knobs.apply(Control::PreviousStyle, &element);
        assert_eq!(shown(&element).as_deref(), Some("c.png"), "p wraps around");
        // Without pictures, n/p pick the model's styles instead.
        knobs.pictures.clear();
        knobs.apply(Control::NextStyle, &element);
        assert_eq!(
            element.property::<Option<String>>("style").as_deref(),
            Some("0")
        );
    }
}
