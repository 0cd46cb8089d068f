//! Importing networks made elsewhere: ONNX files ([`onnx`], over a small [`protobuf`] reader)
//! and the mapping of Magenta's arbitrary-style networks onto ganstyle's ([`magenta`]).

pub mod magenta;
pub mod onnx;
pub mod protobuf;

use std::path::Path;

use burn::tensor::Device;

use crate::error::{Error, Result};
use crate::model::arbitrary::ArbitraryModel;
use onnx::Graph;

/// Read and parse an ONNX file (size-limited like model files).
pub fn read_onnx(path: &Path) -> Result<Graph> {
    let bytes = crate::files::read_file(path)?;
    Graph::parse(&bytes).map_err(|e| Error::Import {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Magenta's arbitrary-style model from its style predictor and transformer ONNX files
/// (`arbitrary_predict.onnx`, `arbitrary_transform.onnx`); `command` is recorded in it.
pub fn magenta_arbitrary(
    predictor: &Path,
    transformer: &Path,
    command: String,
    device: &Device,
) -> Result<ArbitraryModel> {
    let (p, t) = (read_onnx(predictor)?, read_onnx(transformer)?);
    let blame = |path: &Path| {
        let path = path.to_path_buf();
        move |e: onnx::OnnxError| Error::Import {
            path,
            reason: e.to_string(),
        }
    };
    let encoder = magenta::style_encoder(&p, device).map_err(blame(predictor))?;
    magenta::arbitrary_model_with(encoder, &t, command, device).map_err(blame(transformer))
}
