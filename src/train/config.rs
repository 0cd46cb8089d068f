//! Everything that defines a training run, with its defaults and its one validation; stored
//! in checkpoints so `--resume` continues the very same run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::losses::GanLoss;
use crate::error::{Error, Result};
use crate::model::Arch;
use crate::procedural::StylePattern;

/// Where a style's image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StyleSource {
    /// An image file.
    File(PathBuf),
    /// A built-in procedural pattern, rendered at 512×512 (`pattern:NAME`).
    Pattern(StylePattern),
}

impl StyleSource {
    /// `pattern:NAME` for a built-in pattern (refused when unknown), else a file path.
    pub fn parse(spec: &str) -> Result<Self> {
        match spec.strip_prefix("pattern:") {
            Some(name) => StylePattern::from_name(name)
                .map(StyleSource::Pattern)
                .ok_or_else(|| {
                    let known: Vec<_> = StylePattern::ALL.iter().map(|p| p.name()).collect();
                    Error::Data(format!(
                        "unknown pattern {:?} (known: {})",
                        crate::error::printable(name),
                        known.join(", ")
                    ))
                }),
            None => Ok(StyleSource::File(PathBuf::from(spec))),
        }
    }

    /// The style image.
    pub fn load(&self) -> Result<RgbImage> {
        match self {
            StyleSource::File(path) => crate::picture::load_image(path),
            StyleSource::Pattern(pattern) => Ok(pattern.render(512, 512, 1)),
        }
    }

    /// A name for the style: the pattern's, or the file's stem.
    pub fn default_name(&self) -> String {
        match self {
            StyleSource::Pattern(p) => p.name().to_string(),
            StyleSource::File(path) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
        }
    }

    /// The file, when the style is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            StyleSource::File(path) => Some(path),
            StyleSource::Pattern(_) => None,
        }
    }
}

impl fmt::Display for StyleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StyleSource::File(path) => write!(f, "{}", path.display()),
            StyleSource::Pattern(p) => write!(f, "pattern:{}", p.name()),
        }
    }
}

impl TryFrom<String> for StyleSource {
    type Error = Error;
    fn try_from(spec: String) -> Result<Self> {
        Self::parse(&spec)
    }
}

impl From<StyleSource> for String {
    fn from(source: StyleSource) -> String {
        source.to_string()
    }
}

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
    /// Closeness to the starting model's own output (with `init`): the mean squared pixel
    /// difference, so fine-tuning for video keeps the look it started from. 0: off.
    #[serde(default)]
    pub teacher: f32,
    /// Closeness of the output's Gram matrices to those of the starting model's output for the
    /// same input (with `init`), on the style layers with the style's layer weights: the
    /// starting model's texture statistics without its texture's exact positions, which a
    /// temporal fine-tune has to be free to move. 0: off.
    #[serde(default)]
    pub teacher_style: f32,
}

impl LossWeights {
    /// The defaults for a loss network. VGG's features are on Caffe's 0..255 scale; content is
    /// the mean squared feature difference at relu2_2 (a few hundred for a recognisable
    /// stylization at 128 px), style the sum over four layers of the mean squared Gram
    /// difference, each relative to its target when the layers are balanced (about 90 for an
    /// untrained generator, 2 to 4 once colours match), so style 200 makes the two trade evenly
    /// (Johnson et al.'s 5, for unbalanced layers, lets relu1_2 decide alone). The pixel-space
    /// terms (TV, adversarial, temporal) are scaled to count beside them. The seeded random
    /// network's features are near unit scale.
    pub fn defaults(vgg: bool) -> Self {
        if vgg {
            Self {
                content: 1.0,
                style: 200.0,
                adversarial: 50.0,
                tv: 10.0,
                temporal: 1e5,
                teacher: 0.0,
                teacher_style: 0.0,
            }
        } else {
            Self {
                content: 1.0,
                style: 1000.0,
                adversarial: 0.05,
                tv: 0.01,
                temporal: 20.0,
                teacher: 0.0,
                teacher_style: 0.0,
            }
        }
    }

    /// By name, for model metadata.
    pub fn to_map(&self) -> BTreeMap<String, f32> {
        [
            ("content", self.content),
            ("style", self.style),
            ("adversarial", self.adversarial),
            ("tv", self.tv),
            ("temporal", self.temporal),
            ("teacher", self.teacher),
            ("teacher_style", self.teacher_style),
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
    pub styles: Vec<StyleSource>,
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
    /// One style weight per style, in the styles' order, in place of `weights.style` (a
    /// multi-style model whose styles need different strengths); empty: `weights.style` for all.
    #[serde(default)]
    pub style_weights: Vec<f32>,
    /// Both networks' optimizer (each gets its own, with these settings).
    #[serde(default)]
    pub optimizer: OptimizerConfig,
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
    /// With VGG on the CPU: run the loss network on ganstyle's runtime (forward and input
    /// gradient, several times faster) rather than on burn's graph.
    #[serde(default = "yes")]
    pub loss_network_on_runtime: bool,
    /// Count each style layer's Gram distance relative to its target's size, so that relu1_2
    /// (colours, the largest Gram entries) does not drown the layers that carry strokes and
    /// textures. Runs checkpointed before this setting existed continue without it.
    #[serde(default)]
    pub balance_style_layers: bool,
    /// Start the generator from this model file's weights instead of fresh ones (fine-tuning:
    /// an imported or earlier model); its architecture and style count must be the run's.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Where the starting weights come from, with their licence (from the `init` model).
    #[serde(default)]
    pub origin: Option<String>,
    /// The teacher terms' model, when it is not `init`: a model file of any architecture whose
    /// output for each input is the target (distilling a large network into a small one). An
    /// arbitrary-style model takes the run's style pictures; a fixed-style one must hold the
    /// run's styles, in its order.
    #[serde(default)]
    pub teacher: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

/// Adam's settings for both networks' optimizers; the learning rates are the run's own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// Decay of the first moment (0.5, as GANs are usually trained, not Adam's 0.9).
    pub beta_1: f32,
    /// Decay of the second moment.
    pub beta_2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            beta_1: 0.5,
            beta_2: 0.999,
            epsilon: 1e-8,
        }
    }
}

impl OptimizerConfig {
    /// A fresh optimizer with these settings.
    pub fn init(&self) -> burn::optim::ModuleOptimizer {
        burn::optim::AdamConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
            .init()
    }
}

impl TrainConfig {
    /// Steps of a new run.
    pub const STEPS: u64 = 2000;
    /// Images per step.
    pub const BATCH: usize = 4;
    /// Training crop side.
    pub const SIZE: u32 = 256;
    /// Short side of the style image.
    pub const STYLE_SIZE: u32 = 256;
    /// Frames of a training clip.
    pub const VIDEO_FRAMES: usize = 300;
    /// Generator learning rate (Adam: see [`OptimizerConfig`]).
    pub const LR: f64 = 1e-3;
    /// Discriminator learning rate.
    pub const LR_DISC: f64 = 2e-4;
    /// Largest global shift of synthetic motion.
    pub const MAX_SHIFT: f32 = 4.0;
    /// Amplitude of synthetic local motion.
    pub const LOCAL_MOTION: f32 = 2.0;
    /// Checkpoint interval.
    pub const CHECKPOINT_EVERY: u64 = 100;
    /// Sample-grid interval.
    pub const SAMPLE_EVERY: u64 = 200;

    /// A run with every default: the fast architecture on procedural content, the loss network
    /// `vgg` (the seeded random one when `None`) with its default weights; style names from the
    /// sources.
    pub fn new(styles: Vec<StyleSource>, vgg: Option<PathBuf>, out: PathBuf) -> Self {
        Self {
            style_names: styles.iter().map(StyleSource::default_name).collect(),
            styles,
            arch: Arch::Fast,
            content: None,
            video: None,
            video_frames: Self::VIDEO_FRAMES,
            weights: LossWeights::defaults(vgg.is_some()),
            style_weights: Vec::new(),
            optimizer: OptimizerConfig::default(),
            vgg,
            steps: Self::STEPS,
            batch: Self::BATCH,
            size: Self::SIZE,
            style_size: Self::STYLE_SIZE,
            seed: 0,
            lr: Self::LR,
            lr_disc: Self::LR_DISC,
            gan_loss: GanLoss::Lsgan,
            max_shift: Self::MAX_SHIFT,
            local_motion: Self::LOCAL_MOTION,
            checkpoint_every: Self::CHECKPOINT_EVERY,
            sample_every: Self::SAMPLE_EVERY,
            out,
            command: String::new(),
            loss_network_on_runtime: true,
            balance_style_layers: true,
            init: None,
            origin: None,
            teacher: None,
        }
    }

    /// Everything a run needs of its settings, checked before anything is loaded.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Setting(m));
        if self.styles.is_empty() {
            return bad("at least one style image is needed".into());
        }
        if self.style_names.len() != self.styles.len() {
            return bad(format!(
                "{} style names for {} styles: one name per style",
                self.style_names.len(),
                self.styles.len()
            ));
        }
        if self.size < 32 || !self.size.is_multiple_of(8) {
            return bad(format!(
                "the training size {} must be a multiple of 8, at least 32",
                self.size
            ));
        }
        if self.batch == 0 {
            return bad("the batch must hold at least 1 image".into());
        }
        for (what, value) in [
            ("the step count", self.steps),
            ("the checkpoint interval", self.checkpoint_every),
            ("the sample interval", self.sample_every),
        ] {
            if value == 0 {
                return bad(format!("{what} must be at least 1"));
            }
        }
        let o = &self.optimizer;
        if !((0.0..1.0).contains(&o.beta_1) && (0.0..1.0).contains(&o.beta_2) && o.epsilon > 0.0) {
            return bad(format!(
                "optimizer settings out of range: beta_1 {} and beta_2 {} must be in [0, 1), epsilon {} above 0",
                o.beta_1, o.beta_2, o.epsilon
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite() && self.lr_disc > 0.0 && self.lr_disc.is_finite())
        {
            return bad("learning rates must be positive".into());
        }
        let w = &self.weights;
        if [
            w.content,
            w.style,
            w.adversarial,
            w.tv,
            w.temporal,
            w.teacher,
            w.teacher_style,
        ]
        .iter()
        .any(|v| !v.is_finite() || *v < 0.0)
        {
            return bad("loss weights must be finite and ≥ 0".into());
        }
        if !self.style_weights.is_empty() && self.style_weights.len() != self.styles.len() {
            return bad(format!(
                "{} style weights for {} styles: give one weight, or one per style",
                self.style_weights.len(),
                self.styles.len()
            ));
        }
        if self
            .style_weights
            .iter()
            .any(|v| !v.is_finite() || *v < 0.0)
        {
            return bad("style weights must be finite and ≥ 0".into());
        }
        let taught = w.teacher > 0.0 || w.teacher_style > 0.0;
        if taught && self.init.is_none() && self.teacher.is_none() {
            return bad(
                "a teacher weight needs a teacher: a teacher model, or a starting model (init)"
                    .into(),
            );
        }
        if !taught && let Some(teacher) = &self.teacher {
            return bad(format!(
                "the teacher {} counts for nothing: give a teacher weight or a teacher-style weight",
                teacher.display()
            ));
        }
        if !(self.max_shift.is_finite() && self.local_motion.is_finite())
            || self.max_shift < 0.0
            || self.local_motion < 0.0
        {
            return bad("motion amplitudes must be finite and ≥ 0".into());
        }
        Ok(())
    }

    /// The style loss's weight for style `style` (an index into `styles`).
    pub fn style_weight(&self, style: usize) -> f32 {
        self.style_weights
            .get(style)
            .copied()
            .unwrap_or(self.weights.style)
    }

    /// The loss weights by name, for the model's metadata: with one weight per style, those
    /// (`style.NAME`) in place of `style`.
    pub fn weights_by_name(&self) -> BTreeMap<String, f32> {
        let mut map = self.weights.to_map();
        if !self.style_weights.is_empty() {
            map.remove("style");
            for (name, weight) in self.style_names.iter().zip(&self.style_weights) {
                map.insert(format!("style.{name}"), *weight);
            }
        }
        map
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_sources_parse_once_and_round_trip_through_checkpoints() {
        let pattern = StyleSource::parse("pattern:mosaic").unwrap();
        assert_eq!(pattern, StyleSource::Pattern(StylePattern::Mosaic));
        assert_eq!(pattern.default_name(), "mosaic");
        let file = StyleSource::parse("art/starry night.jpg").unwrap();
        assert_eq!(file.default_name(), "starry night");
        assert_eq!(file.path(), Some(Path::new("art/starry night.jpg")));
        let err = StyleSource::parse("pattern:cubism-but-wrong")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown pattern") && err.contains("mosaic"),
            "{err}"
        );
        for source in [pattern, file] {
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(serde_json::from_str::<StyleSource>(&json).unwrap(), source);
        }
        // Checkpoints written before the enum stored plain paths: they still read.
        let old: StyleSource = serde_json::from_str("\"pattern:swirls\"").unwrap();
        assert_eq!(old, StyleSource::Pattern(StylePattern::Swirls));
    }

    #[test]
    fn defaults_validate_and_each_bad_setting_is_named() {
        let styles = vec![StyleSource::Pattern(StylePattern::Mosaic)];
        let config = TrainConfig::new(styles, None, PathBuf::from("m.gsm"));
        config.validate().unwrap();
        assert_eq!(config.style_names, ["mosaic"]);
        assert_eq!(config.weights, LossWeights::defaults(false));
        let vgg = TrainConfig::new(config.styles.clone(), Some("v.h5".into()), "m.gsm".into());
        assert_eq!(vgg.weights.style, 200.0, "VGG gets its own balance");
        assert!(
            vgg.balance_style_layers,
            "new runs balance the style layers"
        );
        let old: TrainConfig = {
            let mut json = serde_json::to_value(&vgg).unwrap();
            json.as_object_mut().unwrap().remove("balance_style_layers");
            serde_json::from_value(json).unwrap()
        };
        assert!(
            !old.balance_style_layers,
            "checkpoints from before continue unbalanced"
        );
        type Spoil = fn(&mut TrainConfig);
        let cases: [(Spoil, &str); 9] = [
            (|c| c.styles.clear(), "at least one style"),
            (|c| c.style_names.push("x".into()), "one name per style"),
            (|c| c.size = 100, "multiple of 8"),
            (|c| c.checkpoint_every = 0, "checkpoint interval"),
            (|c| c.lr = f64::NAN, "learning rates"),
            (|c| c.weights.temporal = -1.0, "loss weights"),
            (|c| c.optimizer.beta_1 = 1.0, "optimizer settings"),
            (
                |c| c.style_weights = vec![1.0, 2.0],
                "2 style weights for 1 styles",
            ),
            (
                |c| c.style_weights = vec![f32::INFINITY],
                "style weights must be finite",
            ),
        ];
        for (spoil, expected) in cases {
            let mut bad = config.clone();
            spoil(&mut bad);
            let err = bad.validate().unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn one_style_weight_per_style_replaces_the_shared_one_in_use_and_in_the_metadata() {
        let styles = vec![
            StyleSource::Pattern(StylePattern::Mosaic),
            StyleSource::Pattern(StylePattern::Swirls),
        ];
        let mut config = TrainConfig::new(styles, Some("v.h5".into()), "m.gsm".into());
        assert_eq!(
            (config.style_weight(0), config.style_weight(1)),
            (200.0, 200.0)
        );
        assert_eq!(config.weights_by_name()["style"], 200.0);
        config.style_weights = vec![1500.0, 800.0];
        config.validate().unwrap();
        assert_eq!(
            (config.style_weight(0), config.style_weight(1)),
            (1500.0, 800.0)
        );
        let names = config.weights_by_name();
        assert!(!names.contains_key("style"), "{names:?}");
        assert_eq!(
            (names["style.mosaic"], names["style.swirls"]),
            (1500.0, 800.0)
        );
        // Checkpoints from before the setting continue with the shared weight.
        let mut json = serde_json::to_value(&config).unwrap();
        json.as_object_mut().unwrap().remove("style_weights");
        let old: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old.style_weight(1), 200.0);
    }
}
