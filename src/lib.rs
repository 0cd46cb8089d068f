//! ganstyle: video and camera style transfer. A feed-forward generator (burn) restyles each
//! frame in one pass; it is trained GAN-style with content, style, adversarial and temporal
//! losses so video does not flicker.
//!
//! Data path: [`frame`] (images ↔ tensors, blending) → [`model`] (generator, model files) →
//! [`stylize`] (the object that restyles frames). Training lives in [`train`], evaluation in
//! [`eval`], the command line in [`cli`] (the features `train` and `cli`, both on by default;
//! the GStreamer plugin takes neither).

pub mod assets;
#[cfg(feature = "cli")]
pub mod cli;
pub mod container;
pub mod device;
pub mod element;
pub mod error;
#[cfg(feature = "train")]
pub mod eval;
pub mod files;
pub mod flow;
pub mod frame;
pub mod gpu;
pub mod import;
pub mod infer;
pub mod media;
pub mod model;
pub mod picture;
pub mod procedural;
pub mod speed;
pub mod stylize;
#[cfg(feature = "train")]
pub mod train;
pub mod video;

pub use error::{Error, Result};
