//! Training new styles: data, loss networks, losses, the two-optimizer GAN loop, checkpoints
//! and the pictures of a run. [`Trainer`] takes one step at a time; the command line drives a
//! whole run (`ganstyle train`).

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod hdf5;
pub mod loss_net;
pub mod losses;
pub mod objective;
pub mod perceptual;
pub mod report;
pub mod start;
pub mod step_times;
pub mod temporal_pairs;
pub mod trainer;
pub mod vgg;
pub mod vgg_cpu;

pub use config::{LossWeights, OptimizerConfig, StyleSource, TrainConfig};
pub use step_times::StepTimes;
pub use trainer::{StepOutcome, Trainer};
