//! Shared by the benches: an untrained model of any architecture (speed does not depend on the
//! weights), saved to a temporary file so pipelines can load it by path.

use std::path::PathBuf;

use burn::tensor::Device;
use ganstyle::model::file::META_VERSION;
use ganstyle::model::{Arch, GeneratorConfig, Model, ModelMeta};

/// Save an untrained one-style model of `arch` into `dir` and return its path.
pub fn untrained_model(arch: Arch, dir: &std::path::Path) -> PathBuf {
    let config = GeneratorConfig::new(arch, 1);
    let model = Model {
        meta: ModelMeta {
            format_version: META_VERSION,
            generator: config.clone(),
            style_names: vec!["untrained".into()],
            written_by: "benches".into(),
            training: Default::default(),
        },
        generator: config.init(&Device::flex()),
        style_images: vec![image::RgbImage::new(8, 8)],
    };
    let path = dir.join(format!("{}.gsm", arch.name()));
    model.save(&path).expect("save the bench model");
    path
}
