//! Training new styles: data, loss networks, losses, the two-optimizer GAN loop, checkpoints
//! and the pictures of a run. [`run`] drives a whole run with a progress bar.

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod hdf5;
pub mod loss_net;
pub mod losses;
pub mod report;
pub mod trainer;
pub mod vgg;

use std::fmt::Write as _;

pub use config::{LossWeights, TrainConfig};
pub use trainer::{StepOutcome, Trainer};

use crate::error::Result;

/// Run (or continue) training to the configured step count, writing checkpoints, sample grids
/// and loss curves on the way and the model file at the end. Returns the trained model.
pub fn run(mut trainer: Trainer) -> Result<crate::model::Model> {
    let config = trainer.config.clone();
    let bar = crate::progress::bar(config.steps, "steps");
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
            report::save_grid(&config.samples_path(), &trainer.sample_rows(&samples))?;
            report::save_loss_curve(&config.losses_path(), &trainer.state)?;
        }
    }
    bar.finish_and_clear();
    let model = trainer.model();
    model.save(&config.out)?;
    Ok(model)
}
