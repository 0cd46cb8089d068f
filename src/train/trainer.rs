//! The GAN training loop: per step, a generator update on content + style + adversarial + TV +
//! temporal losses, then a discriminator update on style crops against the (detached) outputs;
//! two Adam optimizers; a NaN/inf guard that skips a bad step, halves the learning rate and,
//! after repeated failures, rolls back to the last checkpoint.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::checkpoint::{Checkpoint, Networks, TrainState};
use super::config::TrainConfig;
use super::data::{self, ContentSource};
use super::loss_net::LossNetwork;
use super::losses;
use super::objective::Perceptual;
use super::perceptual::PerceptualWeights;
use super::start::{Start, freeze_norms};
use super::step_times::StepTimes;
use super::temporal_pairs;
use crate::error::{Error, Result};
use crate::frame::images_to_tensor;
use crate::model::discriminator::DiscriminatorConfig;
use crate::model::{GeneratorConfig, Model, ModelMeta, TrainingInfo};

/// Consecutive non-finite steps after which the run rolls back to its last checkpoint.
const ROLLBACK_AFTER: u32 = 5;

/// Loss values of one step, by name.
pub type StepLosses = BTreeMap<String, f32>;

/// What became of a step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// Both networks were updated.
    Updated(StepLosses),
    /// A loss was NaN or infinite: no update, learning rate halved.
    Skipped,
    /// Too many bad steps: the run went back to its last checkpoint.
    RolledBack,
}

/// A training run in progress.
pub struct Trainer {
    /// The run's settings.
    pub config: TrainConfig,
    /// Progress so far.
    pub state: TrainState,
    /// The device as the model's metadata names it (e.g. "cpu: AMD EPYC, 2 threads, burn flex").
    pub device_description: String,
    device: Device,
    nets: Networks,
    /// The model the run started from (`init`), if any.
    start: Option<Start>,
    /// The teacher (the `teacher` model, else the starting model), frozen, when a teacher term
    /// is on.
    teacher: Option<crate::model::Generator>,
    /// The loss network with each style's Gram targets.
    perceptual: Perceptual,
    /// Per style, the image the discriminator sees as real (scaled to `style_size`).
    style_images: Vec<RgbImage>,
    content: ContentSource,
    /// Frames of the `--video` clip, for real-motion temporal pairs.
    clip: Option<Vec<RgbImage>>,
    bad_streak: u32,
    started: Instant,
    last_times: StepTimes,
}

impl Trainer {
    /// Start a run: load styles and content, build fresh networks on `device` (autodiff is
    /// added here); the generator starts from `config.init`'s weights when that is set.
    pub fn new(mut config: TrainConfig, device: &Device) -> Result<Self> {
        let device = device.clone().autodiff();
        device.seed(config.seed);
        config.validate()?;
        let style_images = load_style_images(&config)?;
        let start = match &config.init {
            Some(path) => Some(Start::load(path, &style_images, &device)?),
            None => None,
        };
        let generator = match (&start, &config.init) {
            (Some(start), Some(path)) => {
                config.origin = start.origin();
                start.generator(path, config.arch, &config.style_names)?
            }
            _ => GeneratorConfig::new(config.arch, config.styles.len()).init(&device),
        };
        let nets = Networks {
            generator,
            discriminator: DiscriminatorConfig::default().init(&device),
            generator_optimizer: config.optimizer.init(),
            discriminator_optimizer: config.optimizer.init(),
        };
        Self::assemble(
            config,
            TrainState::default(),
            nets,
            device,
            style_images,
            start,
        )
    }

    /// Continue the run saved in `checkpoint`, optionally with a new total step count.
    pub fn resume(checkpoint: Checkpoint, steps: Option<u64>, device: &Device) -> Result<Self> {
        let device = device.clone().autodiff();
        let mut config = checkpoint.config.clone();
        if let Some(steps) = steps {
            config.steps = steps;
        }
        let o = config.optimizer;
        let nets = checkpoint.networks(&device, o.init(), o.init())?;
        config.validate()?;
        let style_images = load_style_images(&config)?;
        let start = match &config.init {
            Some(path) => Some(Start::load(path, &style_images, &device)?),
            None => None,
        };
        Self::assemble(config, checkpoint.state, nets, device, style_images, start)
    }

    fn assemble(
        mut config: TrainConfig,
        state: TrainState,
        mut nets: Networks,
        device: Device,
        style_images: Vec<RgbImage>,
        start: Option<Start>,
    ) -> Result<Self> {
        let taught = config.weights.teacher > 0.0 || config.weights.teacher_style > 0.0;
        let teacher = match (&config.teacher, &start) {
            _ if !taught => None,
            (Some(path), _) => {
                let teacher = Start::load(path, &style_images, &device)?;
                if config.init.is_none() && config.origin.is_none() {
                    config.origin = Some(format!(
                        "trained here, taught by {}{}",
                        path.display(),
                        teacher
                            .origin()
                            .map(|o| format!(" (whose weights: {o})"))
                            .unwrap_or_default()
                    ));
                }
                Some(teacher.teacher_of_run(path, &config.style_names)?)
            }
            (None, Some(start)) => Some(start.teacher()),
            (None, None) => None,
        };
        if let Some(Start::Arbitrary { .. }) = &start {
            nets.generator = freeze_norms(nets.generator);
        }
        let loss_net = LossNetwork::new(config.vgg.as_deref(), &device)?;
        let perceptual = Perceptual::new(
            loss_net,
            &style_images,
            &device,
            config.loss_network_on_runtime,
            config.balance_style_layers,
        );
        let clip = match &config.video {
            Some(path) => Some(crate::video::decode_frames(path, config.video_frames)?),
            None => None,
        };
        let content = match (&config.content, &clip) {
            (Some(dir), _) => ContentSource::photos(&data::find_images(dir)?, config.size)?,
            (None, Some(frames)) => ContentSource::Frames(frames.clone()),
            (None, None) => ContentSource::Procedural,
        };
        Ok(Self {
            device_description: format!("{:?}", device.clone().without_autodiff()),
            config,
            state,
            device,
            nets,
            start,
            teacher,
            perceptual,
            style_images,
            content,
            clip,
            bad_streak: 0,
            started: Instant::now(),
            last_times: StepTimes::default(),
        })
    }

    /// Where the last updated step's time went.
    pub fn last_step_times(&self) -> StepTimes {
        self.last_times
    }

    /// Whether the run has reached its step count.
    pub fn finished(&self) -> bool {
        self.state.step >= self.config.steps
    }

    /// End the run at the step it has reached: its step count becomes this one, so the
    /// checkpoint and model say how far it went (a later `--resume --steps N` continues it).
    pub fn end_here(&mut self) {
        self.config.steps = self.state.step;
    }

    /// The content source in use (for the log).
    pub fn content_description(&self) -> String {
        self.content.describe()
    }

    /// The loss network in use (for the log).
    pub fn loss_network_description(&self) -> String {
        self.perceptual.describe()
    }

    fn rng(&self, salt: u64) -> StdRng {
        let mixed = self.config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ self.state.step.wrapping_mul(0xD1B5_4A32_D192_ED03)
            ^ salt;
        StdRng::seed_from_u64(mixed)
    }

    /// One generator + discriminator update.
    pub fn step(&mut self) -> Result<StepOutcome> {
        let mut rng = self.rng(0);
        let style = rng.random_range(0..self.config.styles.len());
        let started = Instant::now();
        let losses = self.generator_losses(style, &mut rng)?;
        let total_value = losses.value;
        if !total_value.is_finite() {
            return self.bad_step();
        }
        let grads = GradientsParams::from_grads(losses.total.backward(), &self.nets.generator);
        let lr = self.config.lr * self.state.lr_scale;
        let nets = &mut self.nets;
        nets.generator = nets
            .generator_optimizer
            .step(lr, nets.generator.clone(), grads);
        let generator_done = Instant::now();

        let d_loss = self.discriminator_loss(style, losses.output.detach(), &mut rng);
        let d_value: f32 = d_loss.clone().into_scalar();
        if !d_value.is_finite() {
            return self.bad_step();
        }
        let grads = GradientsParams::from_grads(d_loss.backward(), &self.nets.discriminator);
        let lr_disc = self.config.lr_disc * self.state.lr_scale;
        let nets = &mut self.nets;
        nets.discriminator =
            nets.discriminator_optimizer
                .step(lr_disc, nets.discriminator.clone(), grads);
        let network = losses.loss_network_seconds;
        self.last_times = StepTimes {
            generator: (generator_done - started).as_secs_f64() - network.unwrap_or(0.0),
            loss_network: network,
            discriminator: generator_done.elapsed().as_secs_f64(),
        };

        let mut values = losses.values;
        values.insert("total".into(), total_value);
        values.insert("discriminator".into(), d_value);
        self.bad_streak = 0;
        // Recover the learning rate slowly after a back-off.
        self.state.lr_scale = (self.state.lr_scale * 1.01).min(1.0);
        self.state.step += 1;
        self.state.record(&values);
        Ok(StepOutcome::Updated(values))
    }

    fn bad_step(&mut self) -> Result<StepOutcome> {
        self.bad_streak += 1;
        self.state.lr_scale *= 0.5;
        self.state.skipped += 1;
        if self.bad_streak < ROLLBACK_AFTER {
            self.state.step += 1;
            return Ok(StepOutcome::Skipped);
        }
        let path = self.config.checkpoint_path();
        if !path.exists() {
            return Err(Error::Diverged(ROLLBACK_AFTER));
        }
        let checkpoint = Checkpoint::load(&path)?;
        let o = self.config.optimizer;
        self.nets = checkpoint.networks(&self.device, o.init(), o.init())?;
        if let Some(Start::Arbitrary { .. }) = &self.start {
            self.nets.generator = freeze_norms(self.nets.generator.clone());
        }
        let lr_scale = self.state.lr_scale;
        self.state = checkpoint.state;
        self.state.lr_scale = lr_scale;
        self.bad_streak = 0;
        Ok(StepOutcome::RolledBack)
    }

    fn mix(&self, style: usize, batch: usize) -> Tensor<2> {
        let n = self.config.styles.len();
        let data: Vec<f32> = (0..batch)
            .flat_map(|_| (0..n).map(move |j| if j == style { 1.0 } else { 0.0 }))
            .collect();
        Tensor::from_data(TensorData::new(data, [batch, n]), &self.device)
    }

    fn generator_losses(&self, style: usize, rng: &mut StdRng) -> Result<GeneratorLosses> {
        let (b, size) = (self.config.batch, self.config.size);
        let w = &self.config.weights;
        let mix = self.mix(style, b);
        let pairs = match &self.clip {
            Some(frames) => Some(temporal_pairs::frame_pairs(frames, b, size, rng)?),
            None => None,
        };
        let images = match &pairs {
            Some(pairs) => pairs.current.clone(),
            None => (0..b)
                .map(|_| self.content.sample(size, rng))
                .collect::<Result<Vec<_>>>()?,
        };
        let x = images_to_tensor(&images, &self.device); // [b, 3, s, s]
        let y = self.nets.generator.forward(x.clone(), mix.clone()); // [b, 3, s, s]
        // The starting model's own outputs, when a teacher term is on.
        let taught = self
            .teacher
            .as_ref()
            .map(|teacher| teacher.forward(x.clone(), mix.clone()).detach()); // [b, 3, s, s]
        let perceptual = self.perceptual.terms(
            style,
            &x,
            &y,
            taught.as_ref(),
            PerceptualWeights {
                content: w.content,
                style: self.config.style_weight(style),
                teacher_style: w.teacher_style,
            },
        )?;
        let tv = losses::total_variation(y.clone());
        let adversarial = self
            .config
            .gan_loss
            .generator(&self.nets.discriminator.forward(y.clone()));
        let temporal = (w.temporal > 0.0).then(|| match &pairs {
            Some(pairs) => {
                let (warp, occlusion) = pairs.warp(&self.device);
                let x_prev = images_to_tensor(&pairs.previous, &self.device);
                let y_prev = self.nets.generator.forward(x_prev.clone(), mix.clone());
                losses::temporal_video(y.clone(), y_prev, x.clone(), x_prev, &warp, occlusion)
            }
            None => {
                let warp = temporal_pairs::synthetic_warp(
                    x.dims(),
                    self.config.max_shift,
                    self.config.local_motion,
                    rng,
                    &self.device,
                );
                let y_moved = self
                    .nets
                    .generator
                    .forward(temporal_pairs::moved(&warp, &x), mix.clone());
                losses::temporal_synthetic(y_moved, y.clone(), &warp)
            }
        });
        let mut values = StepLosses::new();
        values.insert("content".into(), perceptual.content);
        values.insert("style".into(), perceptual.style);
        values.insert("tv".into(), tv.clone().into_scalar());
        values.insert("adversarial".into(), adversarial.clone().into_scalar());
        let mut rest = tv * f64::from(w.tv) + adversarial * f64::from(w.adversarial);
        if let Some(t) = temporal {
            values.insert("temporal".into(), t.clone().into_scalar());
            rest = rest + t * f64::from(w.temporal);
        }
        if let Some(teacher_style) = perceptual.teacher_style {
            values.insert("teacher_style".into(), teacher_style);
        }
        if let Some(target) = taught.filter(|_| w.teacher > 0.0) {
            let t = losses::mse(y.clone(), target);
            values.insert("teacher".into(), t.clone().into_scalar());
            rest = rest + t * f64::from(w.teacher);
        }
        let value = perceptual.value + rest.clone().into_scalar::<f32>();
        Ok(GeneratorLosses {
            total: perceptual.tensor + rest,
            value,
            output: y,
            values,
            loss_network_seconds: perceptual.seconds,
        })
    }

    fn discriminator_loss(&self, style: usize, fake: Tensor<4>, rng: &mut StdRng) -> Tensor<1> {
        let crops: Vec<RgbImage> = (0..self.config.batch)
            .map(|_| data::crop_at(&self.style_images[style], self.config.size, rng))
            .collect();
        let real = images_to_tensor(&crops, &self.device);
        let real_scores = self.nets.discriminator.forward(real);
        let fake_scores = self.nets.discriminator.forward(fake);
        self.config
            .gan_loss
            .discriminator(&real_scores, &fake_scores)
    }

    /// Save a checkpoint (atomically) at the configured path.
    pub fn save_checkpoint(&mut self) -> Result<()> {
        self.state.seconds += self.started.elapsed().as_secs_f64();
        self.started = Instant::now();
        Checkpoint::save(
            &self.config.checkpoint_path(),
            &self.config,
            &self.state,
            &self.nets,
        )
    }

    /// Stylize `images` with every style, for the sample grid: rows of input then one column per style.
    pub fn sample_rows(&self, images: &[RgbImage]) -> Vec<Vec<RgbImage>> {
        let x = images_to_tensor(images, &self.device).detach();
        let mut rows: Vec<Vec<RgbImage>> = images.iter().map(|i| vec![i.clone()]).collect();
        for style in 0..self.config.styles.len() {
            let y = self
                .nets
                .generator
                .forward(x.clone(), self.mix(style, images.len()))
                .detach();
            for (row, image) in rows.iter_mut().zip(crate::frame::tensor_to_images(y)) {
                row.push(image);
            }
        }
        rows
    }

    /// Fixed content images for the sample grid (the same every time for this seed).
    pub fn sample_inputs(&self) -> Result<Vec<RgbImage>> {
        let mut rng = StdRng::seed_from_u64(self.config.seed ^ 0x5A5A);
        (0..4)
            .map(|_| self.content.sample(self.config.size, &mut rng))
            .collect()
    }

    /// Write what the run has trained to `path` (atomically): a fixed-style model, or, when it
    /// fine-tunes an arbitrary-style model, one of that kind. Returns how it was trained.
    pub fn save_model(&self, path: &std::path::Path) -> Result<TrainingInfo> {
        let model = self.model();
        let arbitrary = self.start.as_ref().and_then(|start| {
            start.arbitrary_result(&model.generator, model.meta.training.clone())
        });
        match arbitrary {
            Some(arbitrary) => arbitrary.save(path)?,
            None => model.save(path)?,
        }
        Ok(model.meta.training)
    }

    /// Whether the run fine-tunes an arbitrary-style model (its result is one).
    pub fn tunes_arbitrary_model(&self) -> bool {
        matches!(self.start, Some(Start::Arbitrary { .. }))
    }

    /// The trained model, with its metadata (as a fixed-style model of the run's styles, also
    /// when the run fine-tunes an arbitrary-style model: see [`Self::save_model`]).
    pub fn model(&self) -> Model {
        let mut training = TrainingInfo {
            command: self.config.command.clone(),
            steps: self.state.step,
            loss_weights: self.config.weights_by_name(),
            final_losses: self.state.recent_means(100),
            loss_network: format!(
                "{}{}",
                self.perceptual.network().describe(),
                if self.config.balance_style_layers {
                    ", style layers balanced"
                } else {
                    ""
                }
            ),
            size: self.config.size as usize,
            seconds: self.state.seconds + self.started.elapsed().as_secs_f64(),
            device: self.device_description.clone(),
        };
        training.final_losses.retain(|_, v| v.is_finite());
        let generator = self.nets.generator.valid();
        Model {
            meta: ModelMeta {
                format_version: crate::model::file::META_VERSION,
                generator: GeneratorConfig::new(self.config.arch, self.config.styles.len()),
                style_names: self.config.style_names.clone(),
                written_by: format!("ganstyle {}", env!("CARGO_PKG_VERSION")),
                training,
                origin: self.config.origin.clone(),
                baked_from: None,
            },
            generator,
            style_images: self
                .style_images
                .iter()
                .map(|img| crate::picture::fit_short_side_at_most(img, 256))
                .collect(),
        }
    }
}

/// The run's style images, scaled for the discriminator and the style targets.
fn load_style_images(config: &TrainConfig) -> Result<Vec<RgbImage>> {
    config
        .styles
        .iter()
        .map(|source| {
            source
                .load()
                .map(|img| crate::picture::fit_short_side(&img, config.style_size.max(config.size)))
        })
        .collect()
}

struct GeneratorLosses {
    /// What the backward pass starts from (its value may differ: see [`Terms`]).
    total: Tensor<1>,
    /// The weighted sum of the losses.
    value: f32,
    output: Tensor<4>,
    values: StepLosses,
    /// Seconds in the loss network, when it ran outside burn's graph.
    loss_network_seconds: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::discriminator::Discriminator;
    use crate::model::seeded::seeded;
    use crate::model::{Arch, Generator};
    use crate::procedural::{ContentKind, StylePattern, content_image};
    use crate::train::OptimizerConfig;
    use crate::train::losses::GanLoss;

    fn fixed_batch(device: &Device) -> Tensor<4> {
        let mut rng = StdRng::seed_from_u64(9);
        let images: Vec<RgbImage> = [ContentKind::DeadLeaves, ContentKind::Shapes]
            .iter()
            .map(|k| content_image(*k, 32, 32, &mut rng))
            .collect();
        images_to_tensor(&images, device)
    }

    #[test]
    fn generator_steps_on_a_fixed_batch_lower_its_loss() {
        let device = Device::flex().autodiff();
        let mut generator = seeded(GeneratorConfig::new(Arch::Fast, 1).init(&device), 1);
        let net = LossNetwork::new(None, &device).unwrap();
        let style = crate::frame::image_to_tensor(&StylePattern::Mosaic.render(64, 64, 1), &device);
        let targets = net.features(style).grams();
        let x = fixed_batch(&device);
        let mix = Tensor::ones([2, 1], &device);
        let loss = |g: &Generator| {
            let y = g.forward(x.clone(), mix.clone());
            let (fy, fx) = (net.features(y), net.features(x.clone()));
            losses::mse(fy.maps[1].clone(), fx.maps[1].clone().detach())
                + losses::style_loss(&fy.maps, &targets) * 30.0
        };
        let mut optim = OptimizerConfig::default().init();
        let first: f32 = loss(&generator).into_scalar();
        for _ in 0..8 {
            let grads = GradientsParams::from_grads(loss(&generator).backward(), &generator);
            generator = optim.step(2e-3, generator, grads);
        }
        let last: f32 = loss(&generator).into_scalar();
        // 0.15 to 0.33 of the first loss for seeds 1 to 10.
        assert!(last < 0.5 * first, "generator loss {first} -> {last}");
    }

    #[test]
    fn discriminator_steps_lower_its_loss() {
        let device = Device::flex().autodiff();
        let mut d = seeded(DiscriminatorConfig::default().init(&device), 2);
        let real =
            crate::frame::image_to_tensor(&StylePattern::Pointillism.render(32, 32, 1), &device);
        let fake = fixed_batch(&device).slice([0..1, 0..3, 0..32, 0..32]);
        let loss = |d: &Discriminator| {
            GanLoss::Lsgan.discriminator(&d.forward(real.clone()), &d.forward(fake.clone()))
        };
        let mut optim = OptimizerConfig::default().init();
        let first: f32 = loss(&d).into_scalar();
        for _ in 0..5 {
            let grads = GradientsParams::from_grads(loss(&d).backward(), &d);
            d = optim.step(2e-3, d, grads);
        }
        let last: f32 = loss(&d).into_scalar();
        // 0.43 to 0.69 of the first loss for seeds 1 to 10.
        assert!(last < 0.8 * first, "discriminator loss {first} -> {last}");
    }

    /// A one-style trainer at 32 px on the CPU with the seeded random loss network, writing
    /// into `dir`.
    fn tiny_trainer(dir: &std::path::Path) -> Trainer {
        let styles = vec![super::super::StyleSource::Pattern(StylePattern::Mosaic)];
        let mut config = TrainConfig::new(styles, None, dir.join("t.gsm"));
        config.size = 32;
        config.batch = 1;
        config.style_size = 64;
        Trainer::new(config, &Device::flex()).unwrap()
    }

    #[test]
    fn a_fine_tune_starts_from_its_init_model_and_the_teacher_term_measures_drift_from_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = tiny_trainer(dir.path());
        for _ in 0..2 {
            first.step().unwrap();
        }
        let init = dir.path().join("init.gsm");
        // As if baked from an arbitrary-style model: a fine-tune is no longer that bake.
        let mut baked = first.model();
        baked.meta.baked_from = Some("Magenta".into());
        baked.save(&init).unwrap();

        let styles = vec![super::super::StyleSource::Pattern(StylePattern::Mosaic)];
        let mut config = TrainConfig::new(styles, None, dir.path().join("ft.gsm"));
        config.size = 32;
        config.batch = 1;
        config.style_size = 64;
        config.init = Some(init.clone());
        config.weights.teacher = 1000.0;
        config.weights.teacher_style = 500.0;
        let mut tuned = Trainer::new(config.clone(), &Device::flex()).unwrap();
        // Before any update the generator is its teacher: no drift, in pixels or in Grams.
        let losses = tuned
            .generator_losses(0, &mut StdRng::seed_from_u64(4))
            .unwrap();
        assert!(losses.values["teacher"] < 1e-10, "{:?}", losses.values);
        assert!(
            losses.values["teacher_style"] < 1e-10,
            "{:?}",
            losses.values
        );
        let probe = |g: &Generator| {
            let x = Tensor::<4>::ones([1, 3, 16, 16], &Device::flex()) * 0.4;
            crate::infer::values(g.forward(x, Tensor::ones([1, 1], &Device::flex())))
        };
        assert_eq!(
            probe(&tuned.model().generator),
            probe(&first.model().generator)
        );
        for _ in 0..3 {
            tuned.step().unwrap();
        }
        let losses = tuned
            .generator_losses(0, &mut StdRng::seed_from_u64(4))
            .unwrap();
        assert!(losses.values["teacher"] > 0.0, "{:?}", losses.values);
        assert!(losses.values["teacher_style"] > 0.0, "{:?}", losses.values);
        assert_eq!(tuned.model().meta.baked_from, None);
        // Without init, either teacher weight is refused; so is an init of another shape.
        let mut no_init = config.clone();
        no_init.init = None;
        assert!(Trainer::new(no_init.clone(), &Device::flex()).is_err());
        no_init.weights.teacher = 0.0;
        let err = Trainer::new(no_init, &Device::flex())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("teacher"), "{err}");
        let mut two = config;
        two.styles
            .push(super::super::StyleSource::Pattern(StylePattern::Swirls));
        two.style_names.push("swirls".into());
        let err = Trainer::new(two, &Device::flex())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("init.gsm") && err.contains("1 style"), "{err}");
    }

    #[test]
    fn a_teacher_of_another_architecture_is_the_target_of_a_fresh_run() {
        let dir = tempfile::tempdir().unwrap();
        let styles = vec![super::super::StyleSource::Pattern(StylePattern::Mosaic)];
        let small = |out: &str| {
            let mut config = TrainConfig::new(styles.clone(), None, dir.path().join(out));
            config.size = 32;
            config.batch = 1;
            config.style_size = 64;
            config
        };
        // The teacher: a johnson model of the run's one style.
        let mut johnson = small("johnson.gsm");
        johnson.arch = Arch::Johnson;
        let mut teacher_run = Trainer::new(johnson, &Device::flex()).unwrap();
        teacher_run.step().unwrap();
        let teacher = dir.path().join("johnson.gsm");
        teacher_run.model().save(&teacher).unwrap();

        // A fast student learning only from it.
        let mut config = small("student.gsm");
        config.teacher = Some(teacher.clone());
        config.weights = super::super::LossWeights {
            teacher: 1.0,
            content: 0.0,
            style: 0.0,
            adversarial: 0.0,
            tv: 0.0,
            temporal: 0.0,
            teacher_style: 0.0,
        };
        let mut student = Trainer::new(config.clone(), &Device::flex()).unwrap();
        let probe = |g: &Generator| {
            let x = content_image(ContentKind::Shapes, 16, 16, &mut StdRng::seed_from_u64(3));
            let x = crate::frame::image_to_tensor(&x, &Device::flex());
            crate::infer::values(g.forward(x, Tensor::ones([1, 1], &Device::flex())))
        };
        let loaded = Model::load(&teacher, &Device::flex()).unwrap();
        assert_eq!(
            probe(student.teacher.as_ref().unwrap()),
            probe(&loaded.generator),
            "the teacher is the johnson model"
        );
        let distance = |t: &Trainer| {
            t.generator_losses(0, &mut StdRng::seed_from_u64(9))
                .unwrap()
                .values["teacher"]
        };
        let before = distance(&student);
        for _ in 0..8 {
            student.step().unwrap();
        }
        let after = distance(&student);
        assert!(after < before, "teacher distance {before} -> {after}");
        let origin = student.model().meta.origin.unwrap_or_default();
        assert!(origin.contains("johnson.gsm"), "{origin}");

        // It must hold the run's styles; and a teacher that counts for nothing is refused.
        let mut two = config.clone();
        two.styles
            .push(super::super::StyleSource::Pattern(StylePattern::Swirls));
        two.style_names.push("swirls".into());
        let err = Trainer::new(two, &Device::flex())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("johnson.gsm") && err.contains("1 style"),
            "{err}"
        );
        let mut idle = config;
        idle.weights.teacher = 0.0;
        let err = Trainer::new(idle, &Device::flex())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("counts for nothing"), "{err}");
    }

    #[test]
    fn fine_tuning_an_arbitrary_model_trains_its_convolutions_and_keeps_its_heads() {
        use crate::model::arbitrary::{ArbitraryModel, norms_mut};
        let dir = tempfile::tempdir().unwrap();
        let device = Device::flex();
        let init = dir.path().join("arbitrary.gsm");
        let original = crate::model::arbitrary::tests::tiny(&device);
        original.save(&init).unwrap();
        let styles = vec![
            super::super::StyleSource::Pattern(StylePattern::Mosaic),
            super::super::StyleSource::Pattern(StylePattern::Swirls),
        ];
        let mut config = TrainConfig::new(styles, None, dir.path().join("tuned.gsm"));
        (config.size, config.batch, config.style_size) = (32, 1, 64);
        config.arch = Arch::Magenta;
        config.init = Some(init.clone());
        config.lr = 1e-2;
        let mut trainer = Trainer::new(config.clone(), &device).unwrap();
        assert!(trainer.tunes_arbitrary_model());
        let tables = |g: &Generator| -> Vec<Vec<f32>> {
            let mut g = g.clone();
            norms_mut(&mut g)
                .iter()
                .flat_map(|n| {
                    [
                        crate::infer::values(n.gamma.val()),
                        crate::infer::values(n.beta.val()),
                    ]
                })
                .collect()
        };
        let conv = |g: &Generator| crate::infer::values(g.output.conv.weight.val());
        let start = trainer.model().generator;
        for _ in 0..2 {
            trainer.step().unwrap();
        }
        let trained = trainer.model().generator;
        assert_eq!(tables(&trained), tables(&start), "norm tables trained");
        assert_ne!(conv(&trained), conv(&start), "convolutions did not train");

        // Through a checkpoint and back, the tables stay out of training.
        trainer.save_checkpoint().unwrap();
        let checkpoint = Checkpoint::load(&config.checkpoint_path()).unwrap();
        let mut resumed = Trainer::resume(checkpoint, Some(4), &device).unwrap();
        resumed.step().unwrap();
        assert_eq!(tables(&resumed.model().generator), tables(&start));

        // The result is an arbitrary-style model again: the original heads and norms, the
        // trained convolutions; its generator for the run's pictures is the trained one.
        let out = dir.path().join("tuned.gsm");
        resumed.save_model(&out).unwrap();
        let tuned = ArbitraryModel::load(&out, &device).unwrap();
        assert_eq!(tuned.heads, original.heads);
        assert_eq!(tables(&tuned.transformer), tables(&original.transformer));
        let trained = resumed.model().generator;
        assert_eq!(conv(&tuned.transformer), conv(&trained));
        assert!(tuned.meta.training.steps == 3, "{:?}", tuned.meta.training);
        let vectors: Vec<Vec<f32>> = resumed
            .style_images
            .iter()
            .map(|p| tuned.style_vector(p, &device))
            .collect();
        let (made, want) = (
            tables(&tuned.generator_for(&vectors, &device)),
            tables(&trained),
        );
        for (a, b) in made.iter().flatten().zip(want.iter().flatten()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // A fixed-style reader refuses it with the hint to give a style picture.
        assert!(crate::model::Model::load(&out, &device).is_err());
    }

    #[test]
    fn generator_losses_are_the_weighted_sum_of_their_terms() {
        let dir = tempfile::tempdir().unwrap();
        let mut trainer = tiny_trainer(dir.path());
        let losses = trainer
            .generator_losses(0, &mut StdRng::seed_from_u64(3))
            .unwrap();
        let v = &losses.values;
        let names: Vec<&str> = v.keys().map(String::as_str).collect();
        assert_eq!(names, ["adversarial", "content", "style", "temporal", "tv"]);
        assert!(v.values().all(|x| x.is_finite() && *x >= 0.0), "{v:?}");
        let w = trainer.config.weights.clone();
        let weighted = w.content * v["content"]
            + w.style * v["style"]
            + w.adversarial * v["adversarial"]
            + w.tv * v["tv"]
            + w.temporal * v["temporal"];
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * a.abs().max(b.abs());
        assert!(
            close(losses.value, weighted),
            "{} vs {weighted}",
            losses.value
        );
        // On burn's graph the tensor the backward pass starts from has that value too.
        assert!(close(losses.total.into_scalar(), losses.value));
        assert_eq!(losses.output.dims(), [1, 3, 32, 32]);

        // The same draw with the temporal term off: no temporal loss, the rest unchanged.
        trainer.config.weights.temporal = 0.0;
        let without = trainer
            .generator_losses(0, &mut StdRng::seed_from_u64(3))
            .unwrap();
        assert!(!without.values.contains_key("temporal"));
        assert!(close(without.value, weighted - w.temporal * v["temporal"]));
        assert!(close(without.values["content"], v["content"]));
    }

    #[test]
    fn each_style_of_a_run_counts_its_own_style_weight() {
        let dir = tempfile::tempdir().unwrap();
        let styles = vec![
            super::super::StyleSource::Pattern(StylePattern::Mosaic),
            super::super::StyleSource::Pattern(StylePattern::Swirls),
        ];
        let mut config = TrainConfig::new(styles, None, dir.path().join("t.gsm"));
        (config.size, config.batch, config.style_size) = (32, 1, 64);
        config.style_weights = vec![10.0, 5000.0];
        let trainer = Trainer::new(config, &Device::flex()).unwrap();
        let w = trainer.config.weights.clone();
        for (style, style_weight) in [(0, 10.0), (1, 5000.0)] {
            let losses = trainer
                .generator_losses(style, &mut StdRng::seed_from_u64(3))
                .unwrap();
            let v = &losses.values;
            let weighted = w.content * v["content"]
                + style_weight * v["style"]
                + w.adversarial * v["adversarial"]
                + w.tv * v["tv"]
                + w.temporal * v["temporal"];
            assert!(
                (losses.value - weighted).abs() <= 1e-4 * weighted.abs(),
                "style {style}: {} vs {weighted}",
                losses.value
            );
        }
    }

    #[test]
    fn non_finite_losses_skip_the_step_then_roll_back_to_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut trainer = tiny_trainer(dir.path());
        assert!(matches!(trainer.step().unwrap(), StepOutcome::Updated(_)));
        trainer.save_checkpoint().unwrap();
        // The generator's output on a fixed input identifies its weights (serialized bytes do
        // not: the order of tensors in a file is not fixed).
        let probe: Vec<f32> = (0..3 * 16 * 16).map(|i| (i % 17) as f32 / 17.0).collect();
        let output = |trainer: &Trainer| -> Vec<f32> {
            let x = Tensor::<4>::from_data(
                TensorData::new(probe.clone(), [1, 3, 16, 16]),
                &trainer.device,
            );
            let y = trainer.nets.generator.forward(x, trainer.mix(0, 1));
            y.into_data().try_to_vec::<f32>().unwrap()
        };
        let saved = output(&trainer);
        assert!(matches!(trainer.step().unwrap(), StepOutcome::Updated(_)));
        let second = output(&trainer);
        assert_ne!(second, saved);

        // A NaN weight poisons every loss from here on.
        trainer.config.weights.tv = f32::NAN;
        let lr_before = trainer.state.lr_scale;
        for k in 1..ROLLBACK_AFTER {
            assert!(matches!(trainer.step().unwrap(), StepOutcome::Skipped));
            assert_eq!(
                trainer.state.step,
                2 + u64::from(k),
                "a skipped step counts"
            );
            assert_eq!(trainer.state.skipped, u64::from(k));
            assert_eq!(trainer.state.lr_scale, lr_before * 0.5f64.powi(k as i32));
        }
        assert!(matches!(trainer.step().unwrap(), StepOutcome::RolledBack));
        assert_eq!(trainer.state.step, 1, "back at the checkpoint's step");
        // The generator is the checkpoint's again, exactly, not the one the second step made.
        assert_eq!(output(&trainer), saved);
        assert_eq!(
            trainer.state.lr_scale,
            lr_before * 0.5f64.powi(ROLLBACK_AFTER as i32),
            "the learning rate stays backed off"
        );

        // Healthy again: steps update from the checkpoint on.
        trainer.config.weights.tv = 10.0;
        assert!(matches!(trainer.step().unwrap(), StepOutcome::Updated(_)));
    }

    #[test]
    fn non_finite_losses_before_any_checkpoint_stop_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut trainer = tiny_trainer(dir.path());
        trainer.config.weights.adversarial = f32::INFINITY;
        for _ in 1..ROLLBACK_AFTER {
            assert!(matches!(trainer.step().unwrap(), StepOutcome::Skipped));
        }
        let err = trainer.step().unwrap_err();
        assert!(matches!(err, Error::Diverged(ROLLBACK_AFTER)), "{err}");
    }
}
