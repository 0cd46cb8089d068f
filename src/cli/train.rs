//! `ganstyle train`: make a new style.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use super::progress;
use crate::device::{self, DeviceChoice};
use crate::model::{Arch, Model};
use crate::train::checkpoint::Checkpoint;
use crate::train::losses::GanLoss;
use crate::train::{self, LossWeights, StepOutcome, TrainConfig, Trainer};

/// Steps of a new run when --steps is not given.
const DEFAULT_STEPS: u64 = 2000;

/// Train a generator for one or more style images.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle train --style my_painting.png --out models/my_style.gsm
  ganstyle train --style pattern:mosaic --out models/mosaic.gsm --steps 3000
  ganstyle train --style a.png --style b.png --out models/duo.gsm          # multi-style model
  ganstyle train --style a.png --content photos/ --video clip.mp4 --vgg vgg16.pth --out models/a.gsm
  ganstyle train --resume models/my_style.ckpt --steps 6000                # continue a run

A style is an image file or pattern:NAME for a built-in pattern (mosaic, ink-hatching,
pointillism, swirls). Next to --out the run writes NAME.ckpt (checkpoint), NAME.samples.png
and NAME.losses.png.")]
pub struct TrainArgs {
    /// Style image (repeat for a multi-style model), or pattern:NAME.
    #[arg(long = "style", value_name = "IMG")]
    pub styles: Vec<String>,
    /// Name of each style (default: the file stem or pattern name).
    #[arg(long = "style-name", value_name = "NAME")]
    pub style_names: Vec<String>,
    /// The model file to write.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Generator architecture.
    #[arg(long, value_enum, default_value_t = Arch::Fast)]
    pub arch: Arch,
    /// Folder of content images (searched recursively); procedural images when absent.
    #[arg(long)]
    pub content: Option<PathBuf>,
    /// A clip for the temporal loss on real motion (flow estimated by Lucas–Kanade).
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Frames of the clip to use.
    #[arg(long, default_value_t = 300)]
    pub video_frames: usize,
    /// VGG16/VGG19 weights for the loss network: torchvision layout (.pth or safetensors) or a
    /// Keras HDF5 file such as the VGG16 scripts/fetch-assets.sh fetches; without it a fixed
    /// seeded random multi-scale network is used.
    #[arg(long)]
    pub vgg: Option<PathBuf>,
    /// Optimizer steps [default: 2000; with --resume: the checkpoint's total].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Images per step.
    #[arg(long, default_value_t = 4)]
    pub batch: usize,
    /// Training crop side in pixels (multiple of 8).
    #[arg(long, default_value_t = 128)]
    pub size: u32,
    /// Shorter side the style image is scaled to.
    #[arg(long, default_value_t = 256)]
    pub style_size: u32,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Generator learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Discriminator learning rate.
    #[arg(long, default_value_t = 2e-4)]
    pub lr_disc: f64,
    /// Content loss weight.
    #[arg(long, default_value_t = 1.0)]
    pub content_weight: f32,
    /// Style loss weight.
    #[arg(long, default_value_t = 1000.0)]
    pub style_weight: f32,
    /// Adversarial loss weight.
    #[arg(long, default_value_t = 0.05)]
    pub adversarial_weight: f32,
    /// Total-variation weight.
    #[arg(long, default_value_t = 0.01)]
    pub tv_weight: f32,
    /// Temporal-consistency weight (0 turns it off).
    #[arg(long, default_value_t = 20.0)]
    pub temporal_weight: f32,
    /// Adversarial objective.
    #[arg(long, value_enum, default_value_t = GanLoss::Lsgan)]
    pub gan_loss: GanLoss,
    /// Largest global shift of synthetic motion, pixels.
    #[arg(long, default_value_t = 4.0)]
    pub max_shift: f32,
    /// Amplitude of synthetic local motion, pixels.
    #[arg(long, default_value_t = 2.0)]
    pub local_motion: f32,
    /// Checkpoint every N steps.
    #[arg(long, default_value_t = 100)]
    pub checkpoint_every: u64,
    /// Sample grid and loss curve every N steps.
    #[arg(long, default_value_t = 200)]
    pub sample_every: u64,
    /// Continue from a checkpoint (its settings are used; --steps may raise the total).
    #[arg(long, value_name = "CHECKPOINT")]
    pub resume: Option<PathBuf>,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
}

/// The command line as typed, for the model's metadata.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut parts = vec!["ganstyle".to_string()];
    parts.extend(
        args.into_iter()
            .skip(1)
            .map(|a| if a.contains(' ') { format!("'{a}'") } else { a }),
    );
    parts.join(" ")
}

fn style_name(spec: &str) -> String {
    spec.strip_prefix("pattern:")
        .map(str::to_string)
        .unwrap_or_else(|| {
            std::path::Path::new(spec)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| spec.to_string())
        })
}

fn config(args: &TrainArgs) -> anyhow::Result<TrainConfig> {
    if args.styles.is_empty() {
        bail!("give at least one --style IMG (or --resume CHECKPOINT)");
    }
    let out = args
        .out
        .clone()
        .context("give --out FILE for the trained model")?;
    let names = if args.style_names.is_empty() {
        args.styles.iter().map(|s| style_name(s)).collect()
    } else if args.style_names.len() == args.styles.len() {
        args.style_names.clone()
    } else {
        bail!(
            "{} --style-name for {} --style: give one per style or none",
            args.style_names.len(),
            args.styles.len()
        );
    };
    for (flag, value) in [
        ("--steps", args.steps.unwrap_or(DEFAULT_STEPS)),
        ("--checkpoint-every", args.checkpoint_every),
        ("--sample-every", args.sample_every),
    ] {
        if value == 0 {
            bail!("{flag} must be at least 1");
        }
    }
    Ok(TrainConfig {
        styles: args.styles.iter().map(PathBuf::from).collect(),
        style_names: names,
        arch: args.arch,
        content: args.content.clone(),
        video: args.video.clone(),
        video_frames: args.video_frames,
        vgg: args.vgg.clone(),
        steps: args.steps.unwrap_or(DEFAULT_STEPS),
        batch: args.batch,
        size: args.size,
        style_size: args.style_size,
        seed: args.seed,
        lr: args.lr,
        lr_disc: args.lr_disc,
        weights: LossWeights {
            content: args.content_weight,
            style: args.style_weight,
            adversarial: args.adversarial_weight,
            tv: args.tv_weight,
            temporal: args.temporal_weight,
        },
        gan_loss: args.gan_loss,
        max_shift: args.max_shift,
        local_motion: args.local_motion,
        checkpoint_every: args.checkpoint_every,
        sample_every: args.sample_every,
        out,
        command: command_line(),
    })
}

/// Run the subcommand.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let (device, mut description) = device::select(args.device)?;
    if device == burn::tensor::Device::flex() {
        description.push_str(", burn flex");
    }
    let mut trainer = match &args.resume {
        Some(path) => {
            let checkpoint = Checkpoint::load(path)?;
            let steps = args.steps;
            eprintln!(
                "resuming {} at step {} of {}",
                path.display(),
                checkpoint.state.step,
                steps.unwrap_or(checkpoint.config.steps)
            );
            Trainer::resume(checkpoint, steps, &device)?
        }
        None => Trainer::new(config(&args)?, &device)?,
    };
    trainer.device_description = description.clone();
    let c = &trainer.config;
    eprintln!(
        "training {} ({} style{}: {}) on {description}; content: {}; loss network: {}",
        c.arch.name(),
        c.styles.len(),
        if c.styles.len() == 1 { "" } else { "s" },
        c.style_names.join(", "),
        trainer.content_description(),
        trainer.loss_network_description()
    );
    let out = c.out.clone();
    let model = drive(trainer)?;
    let losses: Vec<String> = model
        .meta
        .training
        .final_losses
        .iter()
        .map(|(k, v)| format!("{k} {v:.3e}"))
        .collect();
    println!(
        "wrote {} after {} steps ({:.0} s): {}",
        out.display(),
        model.meta.training.steps,
        model.meta.training.seconds,
        losses.join(", ")
    );
    Ok(())
}

/// Run (or continue) training to the configured step count with a progress bar, writing
/// checkpoints, sample grids and loss curves on the way and the model file at the end.
fn drive(mut trainer: Trainer) -> anyhow::Result<Model> {
    let config = trainer.config.clone();
    let bar = progress::bar(config.steps, "steps");
    bar.set_position(trainer.state.step);
    let samples = trainer.sample_inputs()?;
    while !trainer.finished() {
        let outcome = trainer.step()?;
        let step = trainer.state.step;
        match &outcome {
            StepOutcome::Updated(losses) => {
                let mut msg = String::new();
                for (name, value) in losses {
                    let _ = write!(msg, "{name} {value:.3e} ");
                }
                bar.set_message(msg);
            }
            StepOutcome::Skipped => bar.println(format!(
                "step {step}: non-finite loss, step skipped, learning rate halved"
            )),
            StepOutcome::RolledBack => bar.println(format!(
                "step {step}: repeated non-finite losses, rolled back to the last checkpoint"
            )),
        }
        bar.set_position(step);
        let done = trainer.finished();
        if step.is_multiple_of(config.checkpoint_every) || done {
            trainer.save_checkpoint()?;
            if bar.is_hidden() {
                // No terminal (a log file, CI): one line per checkpoint instead of the bar.
                eprintln!(
                    "step {step}/{} ({:.0} s): {}",
                    config.steps,
                    trainer.state.seconds,
                    bar.message()
                );
            }
        }
        if step.is_multiple_of(config.sample_every) || done {
            train::report::save_grid(&config.samples_path(), &trainer.sample_rows(&samples))?;
            train::report::save_loss_curve(&config.losses_path(), &trainer.state)?;
        }
    }
    bar.finish_and_clear();
    let model = trainer.model();
    model.save(&config.out)?;
    Ok(model)
}
