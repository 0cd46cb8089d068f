//! Training new styles: data, loss networks, losses, the two-optimizer GAN loop, checkpoints
//! and the pictures of a run. [`Trainer`] takes one step at a time; the command line drives a
//! whole run (`ganstyle train`).

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod hdf5;
pub mod loss_net;
pub mod losses;
pub mod report;
pub mod trainer;
pub mod vgg;

pub use config::{LossWeights, TrainConfig};
pub use trainer::{StepOutcome, Trainer};
