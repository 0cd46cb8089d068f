//! `ganstyle bench --train-step`: how long one generator + discriminator update takes here, and
//! where the time goes, with the perceptual loss network on ganstyle's CPU runtime and inside
//! burn's autodiff graph.

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::Device;

use crate::assets::{self, PhotoSet};
use crate::procedural::StylePattern;
use crate::train::{StepOutcome, StepTimes, StyleSource, TrainConfig, Trainer};

/// What to time.
pub struct TrainStepBench {
    /// Crop size.
    pub size: u32,
    /// Crops per step.
    pub batch: usize,
    /// Steps timed after one warm-up step.
    pub steps: u32,
    /// The loss network's weights (`None`: the seeded random network).
    pub vgg: Option<PathBuf>,
    /// Where training runs.
    pub device: Device,
    /// The device in words.
    pub device_name: String,
}

/// The step time the training issue sets for batch 4 at 256×256 with VGG16 on two cores.
const TARGET_SECONDS: f64 = 3.0;

/// Time the steps and print a line per loss-network placement.
pub fn run(bench: &TrainStepBench) -> anyhow::Result<()> {
    let temp = tempfile::tempdir().context("temporary folder for the bench run")?;
    let content = assets::photos(PhotoSet::Train);
    println!(
        "training step: batch {}, {}x{} crops of {}, style mosaic, on {}",
        bench.batch,
        bench.size,
        bench.size,
        content.as_ref().map_or_else(
            || "procedural images".to_string(),
            |dir| format!("the photographs in {}", dir.display())
        ),
        bench.device_name
    );
    // The runtime path exists on the CPU only.
    let placements: &[bool] = if bench.device == Device::flex() {
        &[true, false]
    } else {
        &[false]
    };
    for &on_runtime in placements {
        let styles = vec![StyleSource::Pattern(StylePattern::Mosaic)];
        let mut config = TrainConfig::new(styles, bench.vgg.clone(), temp.path().join("b.gsm"));
        config.size = bench.size;
        config.batch = bench.batch;
        config.content = content.clone();
        config.loss_network_on_runtime = on_runtime;
        let mut trainer = Trainer::new(config, &bench.device)?;
        let mut times = Vec::new();
        for i in 0..=bench.steps {
            if let StepOutcome::Updated(_) = trainer.step()?
                && i > 0
            {
                times.push(trainer.last_step_times());
            }
        }
        let median = median_step(&mut times).context("every timed step was skipped")?;
        let mut label = trainer.loss_network_description();
        if !on_runtime {
            label.push_str(" in burn's autodiff graph");
        }
        println!("  {label}: {}", median.describe());
    }
    println!(
        "  (median of {} steps after one warm-up; the target for batch 4 at 256x256 with VGG16 is {TARGET_SECONDS} s a step)",
        bench.steps
    );
    Ok(())
}

/// The step of median total time.
fn median_step(times: &mut [StepTimes]) -> Option<StepTimes> {
    times.sort_by(|a, b| a.total().total_cmp(&b.total()));
    times.get(times.len() / 2).copied()
}
