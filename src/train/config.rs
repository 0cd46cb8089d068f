//! Everything that defines a training run; stored in checkpoints so `--resume` continues the
//! very same run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::losses::GanLoss;
use crate::model::Arch;

/// Loss weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// Content (feature distance to the input).
    pub content: f32,
    /// Style (Gram matrices).
    pub style: f32,
    /// Adversarial (generator side).
    pub adversarial: f32,
    /// Total variation.
    pub tv: f32,
    /// Temporal consistency.
    pub temporal: f32,
}

impl LossWeights {
    /// By name, for model metadata.
    pub fn to_map(&self) -> BTreeMap<String, f32> {
        [
            ("content", self.content),
            ("style", self.style),
            ("adversarial", self.adversarial),
            ("tv", self.tv),
            ("temporal", self.temporal),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// A training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Style images, one per style (several make a multi-style model).
    pub styles: Vec<PathBuf>,
    /// Style names, in the same order.
    pub style_names: Vec<String>,
    /// Generator architecture.
    pub arch: Arch,
    /// Content image folder; procedural images when absent.
    pub content: Option<PathBuf>,
    /// A clip for real-motion temporal pairs (and content frames).
    pub video: Option<PathBuf>,
    /// How many frames of the clip to use.
    pub video_frames: usize,
    /// VGG16/19 file for the loss network; the seeded random extractor when absent.
    pub vgg: Option<PathBuf>,
    /// Total optimizer steps.
    pub steps: u64,
    /// Images per step.
    pub batch: usize,
    /// Training crop side, pixels.
    pub size: u32,
    /// Shorter side the style image is scaled to for its Gram targets and discriminator crops.
    pub style_size: u32,
    /// Seed of everything random.
    pub seed: u64,
    /// Generator learning rate.
    pub lr: f64,
    /// Discriminator learning rate.
    pub lr_disc: f64,
    /// Loss weights.
    pub weights: LossWeights,
    /// Adversarial objective.
    pub gan_loss: GanLoss,
    /// Largest global shift of synthetic motion, pixels.
    pub max_shift: f32,
    /// Amplitude of synthetic local motion, pixels.
    pub local_motion: f32,
    /// Write a checkpoint every this many steps.
    pub checkpoint_every: u64,
    /// Write the sample grid and loss curve every this many steps.
    pub sample_every: u64,
    /// The model file to write.
    pub out: PathBuf,
    /// The command line that started the run (for the model's metadata).
    pub command: String,
}

impl TrainConfig {
    /// The checkpoint path next to the output (`NAME.ckpt`).
    pub fn checkpoint_path(&self) -> PathBuf {
        self.out.with_extension("ckpt")
    }

    /// The sample-grid image path next to the output.
    pub fn samples_path(&self) -> PathBuf {
        self.out.with_extension("samples.png")
    }

    /// The loss-curve image path next to the output.
    pub fn losses_path(&self) -> PathBuf {
        self.out.with_extension("losses.png")
    }
}
