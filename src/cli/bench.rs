//! `ganstyle bench`: how fast a model runs here, the network alone and through the element,
//! against the matrix-product ceiling this machine reaches.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::parse_size;
use crate::device::{self, DeviceChoice};
use crate::infer::{CpuGenerator, gemm};
use crate::model::{Arch, Model, ModelSource, StyleChoice};
use crate::speed::{self, ElementRun, Engine};
use crate::stylize::network_size;
use crate::train::TrainConfig;

/// What runs the network on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// ganstyle's CPU runtime (what the element and the CLI use on the CPU).
    Runtime,
    /// burn's own CPU backend (flex), for comparison.
    Burn,
}

/// Measure ms/frame, fps, GFLOP/s and the share of this machine's matrix-product ceiling.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle bench                                  # the default model at 640x480 on the CPU
  ganstyle bench --arch johnson --size 640x480 --size 1280x720
  ganstyle bench --arch fast --backend burn       # burn flex instead of the runtime
  ganstyle bench --model magenta-six --device gpu --size 1920x1080
  ganstyle bench --style-image painting.jpg --max-size 400   # the arbitrary-style model, and its switch time
  ganstyle bench --model magenta-six-video --layers   # where a frame's time goes, layer by layer
  ganstyle bench --train-step                     # one training step (batch 4, 256x256, VGG16) and its split

GFLOP counts the convolutions' multiply-adds (2 FLOP each) at the size the network runs at, as
the layers define them: a 3x3 layer after an upsample runs as four 2x2 layers (4/9 of its
multiply-adds), so its GFLOP/s in --layers is what the plain layer would need to match.
The ceiling is the best of three 2048x2048x2048 f32 matrix products on all threads, measured
first in the same run (same kernels as the network's: the gemm crate). The element figure is
videotestsrc ! ganstyle ! fakesink as fast as it runs, per frame after a warm-up; its overhead
is the share of those frames' time the element spent outside the network (conversion, scaling,
blending, copies), timed inside the element on the same frames. On the GPU frame path, where
the network overlaps the frame kernels, it is compared with the network timed alone instead.")]
pub struct BenchArgs {
    /// Model file or shipped name (default: the embedded default model).
    #[arg(long, short = 'm', conflicts_with = "arch")]
    pub model: Option<String>,
    /// An untrained model of this architecture instead (speed does not depend on the weights).
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// A style picture for an arbitrary-style model (--model, or the one scripts/setup.sh
    /// imports): also times the switch to it, as the element's style-image makes it.
    #[arg(long, value_name = "IMG", conflicts_with = "arch")]
    pub style_image: Option<std::path::PathBuf>,
    /// Frame size, WxH; repeat for several.
    #[arg(long = "size", value_parser = parse_size, default_value = "640x480")]
    pub sizes: Vec<(u32, u32)>,
    /// Where the network runs.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// What runs the network on the CPU.
    #[arg(long, value_enum, default_value_t = Backend::Runtime)]
    pub backend: Backend,
    /// Longest side the network runs at (as the element's max-size; 0 = native).
    #[arg(long, default_value_t = 0)]
    pub max_size: u32,
    /// Seconds to time the network at each size (at least 3 frames).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Frames timed through the element (0 skips the element).
    #[arg(long, default_value_t = 60)]
    pub element_frames: u32,
    /// Also time each layer of the network (the CPU runtime only): median ms, GFLOP/s and the
    /// share of the ceiling per layer, at each size.
    #[arg(long)]
    pub layers: bool,
    /// Time training steps instead of the network: generator, loss network and discriminator,
    /// with the loss network on ganstyle's CPU runtime and in burn's autodiff graph.
    #[arg(long)]
    pub train_step: bool,
    /// Crop size of the timed training steps.
    #[arg(long, default_value_t = TrainConfig::SIZE, requires = "train_step")]
    pub train_size: u32,
    /// Crops per timed training step.
    #[arg(long, default_value_t = TrainConfig::BATCH, requires = "train_step")]
    pub train_batch: usize,
    /// Training steps timed (after one warm-up step).
    #[arg(long, default_value_t = 2, requires = "train_step")]
    pub train_steps: u32,
    /// Loss network for the training steps (default: the cached VGG16 when fetched).
    #[arg(long, value_name = "FILE", requires = "train_step")]
    pub vgg: Option<std::path::PathBuf>,
}

/// Run the subcommand.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.seconds.is_nan() || args.seconds <= 0.0 {
        bail!("--seconds must be positive");
    }
    let (device, device_name) = device::select(args.device)?;
    if args.train_step {
        if args.train_steps == 0 {
            bail!("--train-steps must be at least 1");
        }
        let vgg = args.vgg.clone().or_else(crate::assets::vgg16);
        if vgg.is_none() {
            eprintln!(
                "warning: no pretrained VGG16 (run scripts/fetch-assets.sh or pass --vgg): timing the seeded random loss network"
            );
        }
        return super::bench_train::run(&super::bench_train::TrainStepBench {
            size: args.train_size,
            batch: args.train_batch,
            steps: args.train_steps,
            vgg,
            device,
            device_name,
        });
    }
    let on_cpu = device == burn::tensor::Device::flex();
    // The runtime is CPU-only: on a GPU, burn-wgpu runs the network.
    let backend = if on_cpu { args.backend } else { Backend::Burn };
    if args.layers && backend != Backend::Runtime {
        bail!(
            "--layers times the CPU runtime's layers: use it with --device cpu --backend runtime"
        );
    }

    // The model: a file or shipped name, or an untrained one of an architecture (saved to a
    // temporary file for the element).
    let temp = tempfile::tempdir().context("temporary folder for the bench model")?;
    let (model, element_model, label) = match args.arch {
        Some(arch) => {
            let model = Model::untrained(arch, &device);
            let path = temp.path().join(format!("{}.gsm", arch.name()));
            model.save(&path)?;
            (
                model,
                path.display().to_string(),
                format!("untrained {}", arch.name()),
            )
        }
        None => match &args.style_image {
            Some(picture) => {
                let source =
                    ModelSource::style_pictures(args.model.as_deref(), vec![picture.clone()])?;
                // What a style-image change costs the element (off its streaming thread).
                let started = std::time::Instant::now();
                let model = source.load(&device)?;
                println!(
                    "style switch: {:.0} ms (read the model and the picture, encode it, set the norms)",
                    started.elapsed().as_secs_f64() * 1e3
                );
                // The element runs the baked model: the same network as with style-image.
                let path = temp.path().join("baked.gsm");
                model.save(&path)?;
                (model, path.display().to_string(), source.describe())
            }
            None => {
                let source = ModelSource::resolve(args.model.as_deref())?;
                let model = source.load(&device)?;
                let spec = args.model.clone().unwrap_or_else(|| "default".into());
                (model, spec, source.describe())
            }
        },
    };
    let config = model.meta.generator.clone();
    let mix = model.style_mix(&StyleChoice::Default)?;
    let runtime = (backend == Backend::Runtime).then(|| CpuGenerator::new(&model.generator));
    let engine = match &runtime {
        Some(runtime) => Engine::Runtime(runtime),
        None => Engine::Burn(&model.generator, &device),
    };

    let threads = rayon::current_num_threads();
    println!(
        "model:   {label} ({} architecture, {} parameters)",
        config.arch.name(),
        model.generator.parameter_count()
    );
    println!(
        "device:  {device_name}, {} ({threads} CPU threads)",
        match backend {
            Backend::Runtime => "ganstyle CPU runtime",
            Backend::Burn if on_cpu => "burn flex",
            Backend::Burn => "burn wgpu",
        }
    );
    let ceiling = gemm::ceiling_gflops(2048, 3);
    println!(
        "ceiling: {ceiling:.1} GFLOP/s (2048³ f32 matrix product, {threads} threads, best of 3)"
    );
    println!();
    println!(
        "{:<11} {:<11} {:>9} {:>7} {:>11} {:>8} {:>8} | {:>13} {:>7} {:>9}",
        "frame",
        "network at",
        "ms/frame",
        "fps",
        "GFLOP/frame",
        "GFLOP/s",
        "ceiling",
        "element ms",
        "fps",
        "overhead"
    );
    let warmup = if on_cpu { 2 } else { 5 };
    for &(w, h) in &args.sizes {
        let (nw, nh) = network_size(w, h, args.max_size).unwrap_or((w, h));
        let timing = speed::network(
            &engine,
            nw as usize,
            nh as usize,
            &mix,
            warmup,
            Duration::from_secs_f64(args.seconds),
        );
        let gflop = 2.0 * config.macs(nw as usize, nh as usize) as f64 / 1e9;
        let gflops = gflop / timing.median.as_secs_f64();
        let element = if args.element_frames == 0 {
            None
        } else {
            Some(speed::element(&ElementRun {
                model: element_model.clone(),
                device: args.device.name().into(),
                width: w,
                height: h,
                max_size: args.max_size,
                warmup: warmup as u32 + 1,
                frames: args.element_frames,
            })?)
        };
        let element_columns = match &element {
            Some(e) => {
                // Measured inside the element on the same frames; on the GPU frame path (where
                // the network overlaps the frame kernels) against the network timed alone.
                let overhead = e.overhead.or_else(|| {
                    let comparable = backend == Backend::Runtime || !on_cpu;
                    comparable.then(|| (e.frames.ms() - timing.ms()) / e.frames.ms())
                });
                let overhead =
                    overhead.map_or_else(|| "-".into(), |o| format!("{:.1}%", 100.0 * o));
                format!(
                    "{:>13.1} {:>7.1} {overhead:>9}",
                    e.frames.ms(),
                    e.frames.fps()
                )
            }
            None => format!("{:>13} {:>7} {:>9}", "-", "-", "-"),
        };
        println!(
            "{:<11} {:<11} {:>9.2} {:>7.1} {:>11.2} {:>8.1} {:>7.0}% | {element_columns}",
            format!("{w}x{h}"),
            format!("{nw}x{nh}"),
            timing.ms(),
            timing.fps(),
            gflop,
            gflops,
            100.0 * gflops / ceiling,
        );
    }
    if let (true, Some(runtime)) = (args.layers, &runtime) {
        for &(w, h) in &args.sizes {
            let (nw, nh) = network_size(w, h, args.max_size).unwrap_or((w, h));
            let stages = speed::layers(
                runtime,
                nw as usize,
                nh as usize,
                &mix,
                warmup,
                Duration::from_secs_f64(args.seconds),
            );
            print_stages(&format!("{nw}x{nh}"), &stages, ceiling);
        }
    }
    Ok(())
}

/// The per-layer table of `--layers`.
fn print_stages(size: &str, stages: &[speed::StageTiming], ceiling: f64) {
    let total: f64 = stages.iter().map(|s| s.median.as_secs_f64()).sum();
    println!();
    println!(
        "layers at {size} (median per layer; the sum is {:.2} ms)",
        total * 1e3
    );
    println!(
        "{:<18} {:<26} {:>8} {:>6} {:>7} {:>8} {:>8}",
        "stage", "convolution", "ms", "share", "GMAC", "GFLOP/s", "ceiling"
    );
    for stage in stages {
        let seconds = stage.median.as_secs_f64();
        let gmac = stage.macs as f64 / 1e9;
        let (gmac_column, rate_columns) = if stage.macs == 0 {
            ("-".to_string(), format!("{:>8} {:>8}", "-", "-"))
        } else {
            let gflops = 2.0 * gmac / seconds;
            (
                format!("{gmac:.3}"),
                format!("{gflops:>8.1} {:>7.0}%", 100.0 * gflops / ceiling),
            )
        };
        println!(
            "{:<18} {:<26} {:>8.2} {:>5.1}% {gmac_column:>7} {rate_columns}",
            stage.name,
            stage.shape.as_deref().unwrap_or("-"),
            seconds * 1e3,
            100.0 * seconds / total,
        );
    }
}
