//! `ganstyle train`: make a new style.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use super::progress;
use crate::assets;
use crate::device::{self, DeviceChoice};
use crate::model::{Arch, TrainingInfo};
use crate::train::checkpoint::Checkpoint;
use crate::train::config::StyleSource;
use crate::train::losses::GanLoss;
use crate::train::{self, StepOutcome, TrainConfig, Trainer};

/// Train a generator for one or more style images.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle train --style my_painting.png --out models/my_style.gsm
  ganstyle train --style pattern:mosaic --out models/mosaic.gsm --steps 3000
  ganstyle train --style a.png --style b.png --out models/ab.gsm           # multi-style model
  ganstyle train --style a.png --style b.png --style-weight 1500,200 --out ab.gsm   # one weight per style
  ganstyle train --style a.png --content ~/.cache/ganstyle/photos/train --video clip.mp4 --out models/a.gsm
  ganstyle train --style a.png --vgg vgg16.pth --out models/a.gsm          # another VGG file
  ganstyle train --resume models/my_style.ckpt --steps 6000                # continue a run
  ganstyle train --init mosaic-m.gsm --style pattern:mosaic --out m.gsm    # fine-tune a model
  ganstyle train --init arbitrary.gsm --style-dir paintings/ --out tuned.gsm  # fine-tune an arbitrary-style model
  ganstyle train --style pattern:impasto --teacher arbitrary.gsm --teacher-weight 1e4 --out rt.gsm  # distil a real-time model

A style is an image file or pattern:NAME for a built-in pattern (mosaic, ink-hatching,
pointillism, swirls, impasto, watercolour). With --init of an arbitrary-style model the
transformer is fine-tuned across all the styles given (each step one of them, through the
model's own style heads, which do not change), and --out is again an arbitrary-style model that
takes any picture. Next to --out the run writes NAME.ckpt (checkpoint), NAME.samples.png
and NAME.losses.png. The loss network is the pretrained VGG16 that scripts/fetch-assets.sh puts in
~/.cache/ganstyle when it is there (on the CPU it runs on ganstyle's runtime), else a seeded random
network (low quality). The progress line gives each step's time: generator, loss network,
discriminator.")]
pub struct TrainArgs {
    /// Style image (repeat for a multi-style model), or pattern:NAME.
    #[arg(long = "style", value_name = "IMG")]
    pub styles: Vec<String>,
    /// Every picture in this folder as one more style (repeatable).
    #[arg(long = "style-dir", value_name = "DIR")]
    pub style_dirs: Vec<PathBuf>,
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
    #[arg(long, default_value_t = TrainConfig::VIDEO_FRAMES)]
    pub video_frames: usize,
    /// VGG16/VGG19 weights for the loss network: torchvision layout (.pth or safetensors) or a
    /// Keras HDF5 file [default: the cached VGG16 of scripts/fetch-assets.sh when present].
    #[arg(long, conflicts_with = "random_loss_network")]
    pub vgg: Option<PathBuf>,
    /// Train with the seeded random loss network even when VGG16 is cached (low quality).
    #[arg(long)]
    pub random_loss_network: bool,
    /// Optimizer steps [default: 2000; with --resume: the checkpoint's total].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Images per step.
    #[arg(long, default_value_t = TrainConfig::BATCH)]
    pub batch: usize,
    /// Training crop side in pixels (multiple of 8).
    #[arg(long, default_value_t = TrainConfig::SIZE)]
    pub size: u32,
    /// Shorter side the style image is scaled to.
    #[arg(long, default_value_t = TrainConfig::STYLE_SIZE)]
    pub style_size: u32,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Generator learning rate.
    #[arg(long, default_value_t = TrainConfig::LR)]
    pub lr: f64,
    /// Discriminator learning rate.
    #[arg(long, default_value_t = TrainConfig::LR_DISC)]
    pub lr_disc: f64,
    /// Content loss weight [default: 1 with VGG, 1 with the random network].
    #[arg(long)]
    pub content_weight: Option<f32>,
    /// Style loss weight, or one per style separated by commas (a multi-style model whose
    /// styles need different strengths) [default: 200 with VGG (its layers balanced), 1000 with
    /// the random network].
    #[arg(long, value_name = "W[,W...]", value_delimiter = ',')]
    pub style_weight: Vec<f32>,
    /// Adversarial loss weight [default: 50 with VGG, 0.05 with the random network].
    #[arg(long)]
    pub adversarial_weight: Option<f32>,
    /// Total-variation weight [default: 10 with VGG, 0.01 with the random network].
    #[arg(long)]
    pub tv_weight: Option<f32>,
    /// Temporal-consistency weight (0 turns it off) [default: 1e5 with VGG, 20 with the random network].
    #[arg(long)]
    pub temporal_weight: Option<f32>,
    /// Weight of the teacher's output as a target (mean squared pixel difference): the --teacher
    /// model's, else the --init model's, so fine-tuning for video keeps its look [default: 0, off].
    #[arg(long)]
    pub teacher_weight: Option<f32>,
    /// Weight of the teacher's texture statistics as a target (the Gram distance of each output
    /// to the teacher's output for the same input, on the style layers), which keeps its strokes
    /// and tiles without pinning where they fall [default: 0, off].
    #[arg(long)]
    pub teacher_style_weight: Option<f32>,
    /// A model to learn from (the teacher terms' target), of any architecture: distils a large
    /// network into this run's generator. An arbitrary-style model takes this run's style
    /// pictures; a fixed-style model must hold this run's styles.
    #[arg(long, value_name = "MODEL", conflicts_with = "resume")]
    pub teacher: Option<PathBuf>,
    /// Sum the style layers' Gram distances as they are, not each relative to its target: relu1_2's,
    /// orders of magnitude the largest, then decides, and the model learns colours rather than
    /// strokes (how models were trained before; for comparisons).
    #[arg(long)]
    pub unbalanced_style_layers: bool,
    /// Adversarial objective.
    #[arg(long, value_enum, default_value_t = GanLoss::Lsgan)]
    pub gan_loss: GanLoss,
    /// Largest global shift of synthetic motion, pixels.
    #[arg(long, default_value_t = TrainConfig::MAX_SHIFT)]
    pub max_shift: f32,
    /// Amplitude of synthetic local motion, pixels.
    #[arg(long, default_value_t = TrainConfig::LOCAL_MOTION)]
    pub local_motion: f32,
    /// Checkpoint every N steps.
    #[arg(long, default_value_t = TrainConfig::CHECKPOINT_EVERY)]
    pub checkpoint_every: u64,
    /// Sample grid and loss curve every N steps.
    #[arg(long, default_value_t = TrainConfig::SAMPLE_EVERY)]
    pub sample_every: u64,
    /// Start the generator from this model's weights (fine-tuning an imported or earlier
    /// model); --arch is taken from it, and --style must give one picture per style it holds.
    #[arg(long, value_name = "MODEL", conflicts_with = "resume")]
    pub init: Option<PathBuf>,
    /// Continue from a checkpoint (its settings are used; --steps may raise the total).
    #[arg(long, value_name = "CHECKPOINT")]
    pub resume: Option<PathBuf>,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Stop this many seconds after the command started (setting up included), at the step
    /// reached, writing the checkpoint and the model as at the end of a run: for a GPU lent for a
    /// while. The model records the steps; `--resume CHECKPOINT --steps N` continues.
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub time_limit: Option<f64>,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
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

fn config(args: &TrainArgs) -> anyhow::Result<TrainConfig> {
    let mut given = args.styles.clone();
    for picture in crate::model::style_picture::expand(&args.style_dirs)? {
        given.push(picture.display().to_string());
    }
    if given.is_empty() {
        bail!("give at least one --style IMG or --style-dir DIR (or --resume CHECKPOINT)");
    }
    let out = args
        .out
        .clone()
        .context("give --out FILE for the trained model")?;
    let styles = given
        .iter()
        .map(|s| StyleSource::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let vgg = match (&args.vgg, args.random_loss_network) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => None,
        (None, false) => {
            let cached = assets::vgg16();
            if cached.is_none() {
                eprintln!(
                    "warning: no pretrained VGG16 in {} (scripts/fetch-assets.sh fetches it): \
                     training with the seeded random loss network, styles will come out weak",
                    assets::cache_dir().display()
                );
            }
            cached
        }
    };
    let mut config = TrainConfig::new(styles, vgg, out);
    if !args.style_names.is_empty() {
        if args.style_names.len() != given.len() {
            bail!(
                "{} --style-name for {} styles: give one per style or none",
                args.style_names.len(),
                given.len()
            );
        }
        config.style_names = args.style_names.clone();
    }
    let w = &mut config.weights;
    for (weight, flag) in [
        (&mut w.content, args.content_weight),
        (&mut w.adversarial, args.adversarial_weight),
        (&mut w.tv, args.tv_weight),
        (&mut w.temporal, args.temporal_weight),
        (&mut w.teacher, args.teacher_weight),
        (&mut w.teacher_style, args.teacher_style_weight),
    ] {
        if let Some(value) = flag {
            *weight = value;
        }
    }
    match args.style_weight.as_slice() {
        [] => {}
        [shared] => config.weights.style = *shared,
        per_style => config.style_weights = per_style.to_vec(),
    }
    config.arch = args.arch;
    if let Some(init) = &args.init {
        config.arch = crate::train::start::Start::arch_of(init)?;
        config.init = Some(init.clone());
    }
    config.teacher = args.teacher.clone();
    config.content = args.content.clone();
    config.video = args.video.clone();
    config.video_frames = args.video_frames;
    config.steps = args.steps.unwrap_or(TrainConfig::STEPS);
    config.batch = args.batch;
    config.size = args.size;
    config.style_size = args.style_size;
    config.seed = args.seed;
    config.lr = args.lr;
    config.lr_disc = args.lr_disc;
    config.gan_loss = args.gan_loss;
    config.balance_style_layers = !args.unbalanced_style_layers;
    config.max_shift = args.max_shift;
    config.local_motion = args.local_motion;
    config.checkpoint_every = args.checkpoint_every;
    config.sample_every = args.sample_every;
    config.command = command_line();
    Ok(config)
}

/// Run the subcommand.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let deadline = args
        .time_limit
        .map(|s| std::time::Instant::now() + std::time::Duration::from_secs_f64(s));
    let (device, mut description) = device::select(args.device)?;
    if device == burn::tensor::Device::flex() {
        description = format!("{description}: {}, burn flex", device::cpu_description());
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
    if trainer.tunes_arbitrary_model() {
        eprintln!(
            "fine-tuning the arbitrary-style model {}: its transformer across these styles; the result takes any picture",
            c.init
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    let out = c.out.clone();
    let training = drive(trainer, deadline)?;
    let losses: Vec<String> = training
        .final_losses
        .iter()
        .map(|(k, v)| format!("{k} {v:.3e}"))
        .collect();
    println!(
        "wrote {} after {} steps ({:.0} s): {}",
        out.display(),
        training.steps,
        training.seconds,
        losses.join(", ")
    );
    Ok(())
}

/// Run (or continue) training to the configured step count, or until `deadline`, with a progress
/// bar, writing checkpoints, sample grids and loss curves on the way and the model file at the end.
fn drive(
    mut trainer: Trainer,
    deadline: Option<std::time::Instant>,
) -> anyhow::Result<TrainingInfo> {
    let mut config = trainer.config.clone();
    let bar = progress::bar(config.steps, "steps");
    bar.set_position(trainer.state.step);
    let samples = trainer.sample_inputs()?;
    while !trainer.finished() {
        let outcome = trainer.step()?;
        let step = trainer.state.step;
        match &outcome {
            StepOutcome::Updated(losses) => {
                let mut msg = trainer.last_step_times().describe();
                for (name, value) in losses {
                    let _ = write!(msg, " {name} {value:.3e}");
                }
                bar.set_message(msg);
            }
            StepOutcome::Skipped => progress::note(
                &bar,
                format!("step {step}: non-finite loss, step skipped, learning rate halved"),
            ),
            StepOutcome::RolledBack => progress::note(
                &bar,
                format!(
                    "step {step}: repeated non-finite losses, rolled back to the last checkpoint"
                ),
            ),
        }
        bar.set_position(step);
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) && !trainer.finished() {
            trainer.end_here();
            config.steps = step;
            progress::note(
                &bar,
                format!("time limit reached: ending the run at step {step}"),
            );
        }
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
    Ok(trainer.save_model(&config.out)?)
}
