//! Speed measurements for `ganstyle bench` (and the numbers in the README): the network alone on
//! each engine, and the `ganstyle` element in a real pipeline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor, TensorData};
use gstreamer as gst;
use gstreamer::prelude::*;

use crate::element::Ganstyle;
use crate::error::{Error, Result};
use crate::infer::CpuGenerator;
use crate::infer::map::Map;
use crate::model::Generator;

/// Times of the measured frames.
#[derive(Debug, Clone)]
pub struct Timing {
    /// How many frames were timed (after the warm-up).
    pub frames: usize,
    /// Median time per frame.
    pub median: Duration,
}

impl Timing {
    /// Milliseconds per frame (median).
    pub fn ms(&self) -> f64 {
        self.median.as_secs_f64() * 1e3
    }

    /// Frames per second (from the median).
    pub fn fps(&self) -> f64 {
        1.0 / self.median.as_secs_f64()
    }

    fn of(mut times: Vec<Duration>) -> Self {
        times.sort();
        Self {
            frames: times.len(),
            median: times[times.len() / 2],
        }
    }
}

/// Run `frame` `warmup` times untimed, then time it until both `min_frames` frames and
/// `min_time` have passed.
pub fn time_frames(
    warmup: usize,
    min_frames: usize,
    min_time: Duration,
    mut frame: impl FnMut(),
) -> Timing {
    for _ in 0..warmup {
        frame();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < min_frames.max(1) || start.elapsed() < min_time {
        let t = Instant::now();
        frame();
        times.push(t.elapsed());
    }
    Timing::of(times)
}

/// A test image in [0, 1]: smooth gradients with some texture (speed does not depend on it).
pub fn test_image(width: usize, height: usize) -> Map {
    let mut data = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let t = ((x * 7 + y * 13) % 29) as f32 / 29.0;
            data.extend([
                x as f32 / width as f32,
                y as f32 / height as f32,
                0.5 * t + 0.25,
            ]);
        }
    }
    Map {
        data,
        width,
        height,
        channels: 3,
    }
}

/// What runs the network.
pub enum Engine<'a> {
    /// ganstyle's CPU runtime ([`crate::infer`]).
    Runtime(&'a CpuGenerator),
    /// burn, on the generator's device (flex on the CPU, wgpu on a GPU).
    Burn(&'a Generator, &'a Device),
}

/// Time the network alone at `width`×`height` with the style weights `mix`. burn frames end
/// with the output read back to the host (so GPU work is finished).
pub fn network(
    engine: &Engine,
    width: usize,
    height: usize,
    mix: &[f32],
    warmup: usize,
    min_time: Duration,
) -> Timing {
    let image = test_image(width, height);
    match engine {
        Engine::Runtime(runtime) => time_frames(warmup, 3, min_time, || {
            // Output buffers go back to the pool, as the element's do.
            runtime.recycle(std::hint::black_box(runtime.forward(&image, mix)));
        }),
        Engine::Burn(generator, device) => {
            let x = image.to_tensor(device);
            let mix =
                Tensor::<2>::from_data(TensorData::new(mix.to_vec(), [1, mix.len()]), *device);
            time_frames(warmup, 3, min_time, || {
                let y = generator.forward(x.clone(), mix.clone());
                std::hint::black_box(y.into_data());
            })
        }
    }
}

/// One stage of the runtime's forward pass, timed over many frames ([`layers`]).
#[derive(Debug, Clone)]
pub struct StageTiming {
    /// The stage ([`crate::infer::LayerTime::name`]).
    pub name: String,
    /// Its convolution and output size, if it is a layer.
    pub shape: Option<String>,
    /// Its multiply-adds.
    pub macs: u64,
    /// Median time over the frames.
    pub median: Duration,
}

/// Time each stage of the runtime's forward pass at `width`×`height`: `warmup` frames
/// untimed, then frames until both 3 frames and `min_time` have passed; the median per stage.
pub fn layers(
    runtime: &CpuGenerator,
    width: usize,
    height: usize,
    mix: &[f32],
    warmup: usize,
    min_time: Duration,
) -> Vec<StageTiming> {
    let image = test_image(width, height);
    let mut frames: Vec<Vec<crate::infer::LayerTime>> = Vec::new();
    time_frames(warmup, 3, min_time, || {
        let (out, times) = runtime.profile(&image, mix);
        runtime.recycle(out);
        frames.push(times);
    });
    // The warm-up frames are the first ones.
    let timed = &frames[warmup.min(frames.len() - 1)..];
    (0..timed[0].len())
        .map(|i| {
            let mut times: Vec<Duration> = timed.iter().map(|f| f[i].time).collect();
            times.sort();
            let stage = &timed[0][i];
            StageTiming {
                name: stage.name.clone(),
                shape: stage.shape.clone(),
                macs: stage.macs,
                median: times[times.len() / 2],
            }
        })
        .collect()
}

/// What an element measurement runs.
#[derive(Debug, Clone)]
pub struct ElementRun {
    /// The element's `model` property.
    pub model: String,
    /// The element's `device` property (`cpu`, `gpu`, `auto`).
    pub device: String,
    /// Frame size.
    pub width: u32,
    /// Frame size.
    pub height: u32,
    /// The element's `max-size` property.
    pub max_size: u32,
    /// Frames through the element before timing starts (model load, first-frame setup).
    pub warmup: u32,
    /// Frames timed.
    pub frames: u32,
}

/// The element in a pipeline: its frames, and how much of their time was its own.
#[derive(Debug, Clone)]
pub struct ElementTiming {
    /// Time between frames arriving downstream.
    pub frames: Timing,
    /// The share of the timed frames' total time the element spent outside the network
    /// (conversion, scaling, blending, copies), measured inside the element on the same
    /// frames; `None` on the GPU frame path, where the two overlap.
    pub overhead: Option<f64>,
}

/// Run `videotestsrc ! video/x-raw,format=RGBx,… ! ganstyle ! fakesink` as fast as it goes and
/// time the frames arriving at the sink after the warm-up: the whole element per frame
/// (conversion, network, blending, copies), as a pipeline sees it.
pub fn element(run: &ElementRun) -> Result<ElementTiming> {
    crate::media::init()?;
    let total = run.warmup + run.frames + 1;
    let description = format!(
        "videotestsrc num-buffers={total} ! video/x-raw,format=RGBx,width={},height={},framerate=30/1 ! \
         ganstyle name=g ! fakesink name=sink sync=false",
        run.width, run.height
    );
    let pipeline = gst::parse::launch(&description)
        .map_err(|e| Error::Media(format!("bench pipeline: {e}")))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| Error::Media("bench pipeline is not a pipeline".into()))?;
    let element = pipeline
        .by_name("g")
        .and_then(|e| e.downcast::<Ganstyle>().ok())
        .ok_or_else(|| Error::Media("the bench pipeline has no ganstyle element".into()))?;
    element.set_property("model", &run.model);
    element.set_property_from_str("device", &run.device);
    element.set_property("max-size", run.max_size);
    // Per frame at the sink: when it arrived, and the element's network time so far.
    let arrivals = Arc::new(Mutex::new(Vec::<(Instant, Duration)>::new()));
    let sink_pad = pipeline
        .by_name("sink")
        .and_then(|s| s.static_pad("sink"))
        .expect("fakesink has a sink pad");
    let seen = arrivals.clone();
    sink_pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        let arrival = (Instant::now(), element.network_time());
        seen.lock().unwrap_or_else(|e| e.into_inner()).push(arrival);
        gst::PadProbeReturn::Ok
    });
    let bus = pipeline.bus().expect("pipelines have a bus");
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| Error::Media("the bench pipeline did not start".into()))?;
    let message = bus.timed_pop_filtered(
        gst::ClockTime::NONE,
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    let _ = pipeline.set_state(gst::State::Null);
    if let Some(message) = message
        && let gst::MessageView::Error(err) = message.view()
    {
        return Err(Error::Media(format!(
            "bench pipeline failed: {}",
            err.error()
        )));
    }
    let arrivals = arrivals.lock().unwrap_or_else(|e| e.into_inner());
    let timed = &arrivals[(run.warmup as usize).min(arrivals.len())..];
    let (Some(first), Some(last)) = (timed.first(), timed.last()) else {
        return Err(Error::Media("no frames reached the sink".into()));
    };
    if timed.len() < 2 {
        return Err(Error::Media(format!(
            "only {} frames reached the sink",
            arrivals.len()
        )));
    }
    let (elapsed, network) = (last.0 - first.0, last.1 - first.1);
    Ok(ElementTiming {
        frames: Timing::of(timed.windows(2).map(|w| w[1].0 - w[0].0).collect()),
        overhead: (!network.is_zero()).then(|| 1.0 - network.as_secs_f64() / elapsed.as_secs_f64()),
    })
}
