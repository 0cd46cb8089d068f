//! Shared by the benches: an untrained model of any architecture (speed does not depend on the
//! weights), saved to a temporary file so pipelines can load it by path.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use ganstyle::model::{Arch, Model};

/// Save an untrained one-style model of `arch` into `dir` and return its path.
#[allow(dead_code)] // each bench uses part of this module
pub fn untrained_model(arch: Arch, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{}.gsm", arch.name()));
    Model::untrained(arch, &Device::flex())
        .save(&path)
        .expect("save the bench model");
    path
}
