//! Throughput of the `ganstyle` element in a real pipeline: 640×480 `videotestsrc` → ganstyle →
//! `fakesink`, on the CPU (the element runs ganstyle's CPU runtime there), with the fast and the
//! johnson architecture. Each sample runs the whole pipeline (start-up and model load included)
//! for a fixed number of frames; criterion reports frames per second ("elem/s").
//! `ganstyle bench` gives the steady-state figure without start-up.
//!
//! `cargo bench --bench element`

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ganstyle::model::Arch;
use gstreamer as gst;
use gstreamer::prelude::*;

mod common;

fn run_pipeline(model: &str, frames: u32) -> Duration {
    let description = format!(
        "videotestsrc num-buffers={frames} ! video/x-raw,width=640,height=480,format=RGBx ! \
         ganstyle device=cpu model={model} ! fakesink"
    );
    let pipeline = gst::parse::launch(&description).expect("pipeline");
    let bus = pipeline.bus().expect("bus");
    let start = Instant::now();
    pipeline.set_state(gst::State::Playing).expect("playing");
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::NONE,
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("EOS or error");
    let took = start.elapsed();
    pipeline.set_state(gst::State::Null).expect("null");
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("pipeline failed: {} ({:?})", e.error(), e.debug());
    }
    took
}

fn element(c: &mut Criterion) {
    ganstyle::element::register_static().expect("register ganstyle");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("element_640x480_cpu");
    group.sample_size(10);
    for (arch, frames) in [(Arch::Fast, 30u32), (Arch::Johnson, 3)] {
        let model = common::untrained_model(arch, dir.path());
        let model = model.to_str().expect("utf-8 path").to_string();
        group.throughput(Throughput::Elements(u64::from(frames)));
        group.measurement_time(Duration::from_secs(if arch == Arch::Fast {
            40
        } else {
            90
        }));
        group.bench_function(arch.name(), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run_pipeline(&model, frames)).sum())
        });
    }
    group.finish();
}

criterion_group!(benches, element);
criterion_main!(benches);
