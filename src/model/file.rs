//! Model files (`.gsm`): the generator's weights (safetensors) plus metadata (format version,
//! architecture, style names, how it was trained), in the checksummed [`SectionFile`]. Loading
//! validates everything and names the file and the reason when it refuses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::StyleChoice;
use super::generator::{Generator, GeneratorConfig};
use crate::container::SectionFile;
use crate::error::{Error, ModelFileError, Result, printable};

/// The metadata format version this build writes and reads.
pub const META_VERSION: u32 = 1;
/// The `kind` section of a model file.
const KIND: &[u8] = b"model";

/// How a model was trained (all of it informational).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// The exact command line that produced the model.
    pub command: String,
    /// Optimizer steps taken.
    pub steps: u64,
    /// Loss weights used, by name.
    pub loss_weights: BTreeMap<String, f32>,
    /// Running averages of the losses at the end, by name.
    pub final_losses: BTreeMap<String, f32>,
    /// The feature network for content and style losses ("random-multiscale" or a VGG file).
    pub loss_network: String,
    /// Training size (square side, pixels).
    pub size: usize,
    /// Wall-clock seconds of training.
    pub seconds: f64,
    /// The device it was trained on.
    pub device: String,
}

/// Everything a model file says besides the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Metadata format version ([`META_VERSION`]).
    pub format_version: u32,
    /// The generator's shape.
    pub generator: GeneratorConfig,
    /// One name per style, in conditional-norm order.
    pub style_names: Vec<String>,
    /// The ganstyle version that wrote the file.
    pub written_by: String,
    /// How it was trained.
    pub training: TrainingInfo,
    /// Where imported weights come from, with their licence (absent for ganstyle's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// For a model baked from an arbitrary-style model (`ganstyle import MODEL --style …`):
    /// that model's origin. Its transformer convolutions are then that model's, unchanged,
    /// which `import --convolutions-from` relies on; training writes a model without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baked_from: Option<String>,
}

/// A generator with its metadata.
#[derive(Debug)]
pub struct Model {
    /// Metadata.
    pub meta: ModelMeta,
    /// The network.
    pub generator: Generator,
    /// The style images it was trained on (short side at most 256), one per style.
    pub style_images: Vec<RgbImage>,
}

impl Model {
    /// A one-style model of `arch` with freshly initialized (untrained) weights: for speed
    /// measurements, which do not depend on the weights.
    pub fn untrained(arch: super::Arch, device: &Device) -> Self {
        let config = GeneratorConfig::new(arch, 1);
        Self {
            meta: ModelMeta {
                format_version: META_VERSION,
                generator: config.clone(),
                style_names: vec!["untrained".into()],
                written_by: format!("ganstyle {} (untrained)", env!("CARGO_PKG_VERSION")),
                training: TrainingInfo::default(),
                origin: None,
                baked_from: None,
            },
            generator: config.init(device),
            style_images: vec![RgbImage::new(8, 8)],
        }
    }

    /// Serialize to the bytes of a model file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(container(self)?.to_bytes())
    }

    /// Save to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        container(self)?.write_atomic(path)
    }

    /// Load a model file onto `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        read_with(path, |c| Self::from_container(c, device))
    }

    /// Load from the bytes of a model file; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path, device: &Device) -> Result<Self> {
        bytes_with(bytes, origin, |c| Self::from_container(c, device))
    }

    pub(super) fn from_container(
        container: &SectionFile,
        device: &Device,
    ) -> std::result::Result<Self, ModelFileError> {
        let kind = container.get("kind")?;
        if kind == super::arbitrary::KIND {
            return Err(ModelFileError::NeedsStylePicture);
        }
        if kind != KIND {
            return Err(ModelFileError::WrongKind {
                found: String::from_utf8_lossy(kind).into_owned(),
                expected: "model",
            });
        }
        let meta = parse_meta(container.get("meta")?)?;
        let weights = container.get("weights")?;
        check_declared_size(&meta.generator, tensor_bytes(weights))?;
        let mut generator = meta.generator.init(device);
        load_weights(&mut generator, weights)?;
        let style_images = (0..meta.style_names.len())
            .map(|i| {
                let bytes = container.get(&format!("style.{i}"))?;
                image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
                    .map(|img| img.to_rgb8())
                    .map_err(|e| ModelFileError::Metadata(format!("style image {i}: {e}")))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Model {
            meta,
            generator,
            style_images,
        })
    }

    /// The style-weight vector for a choice of style, validated against this model.
    pub fn style_mix(&self, choice: &StyleChoice) -> Result<Vec<f32>> {
        choice.weights(&self.meta.style_names)
    }
}

/// Read the section file at `path` and build from it; errors name the file.
pub(crate) fn read_with<T>(
    path: &Path,
    build: impl FnOnce(&SectionFile) -> std::result::Result<T, ModelFileError>,
) -> Result<T> {
    let container = SectionFile::read(path)?;
    build(&container).map_err(|reason| Error::model(path, reason))
}

/// Build from the bytes of a section file; `origin` names them in errors.
pub(crate) fn bytes_with<T>(
    bytes: &[u8],
    origin: &Path,
    build: impl FnOnce(&SectionFile) -> std::result::Result<T, ModelFileError>,
) -> Result<T> {
    SectionFile::from_bytes(bytes)
        .and_then(|c| build(&c))
        .map_err(|reason| Error::model(origin, reason))
}

fn container(model: &Model) -> Result<SectionFile> {
    if model.style_images.len() != model.meta.style_names.len() {
        return Err(Error::Setting(
            "one style image per style is needed to save a model".into(),
        ));
    }
    let mut c = SectionFile::default();
    c.push("kind", KIND.to_vec());
    c.push(
        "meta",
        serde_json::to_vec_pretty(&model.meta)
            .map_err(|e| Error::Serialize(format!("model metadata: {e}")))?,
    );
    c.push("weights", weights_to_bytes(&model.generator)?);
    for (i, image) in model.style_images.iter().enumerate() {
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| Error::Serialize(format!("encoding style image {i}: {e}")))?;
        c.push(&format!("style.{i}"), png);
    }
    Ok(c)
}

/// The generator's weights as safetensors bytes.
pub fn weights_to_bytes<M: ModuleSnapshot>(module: &M) -> Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None);
    module
        .save_into(&mut store)
        .map_err(|e| Error::Serialize(format!("weights: {e}")))?;
    store
        .get_bytes()
        .map_err(|e| Error::Serialize(format!("weights: {e}")))
}

/// The bytes of tensor data in safetensors bytes (after the 8-byte header length and the
/// header); 0 when the bytes are too short to say.
fn tensor_bytes(bytes: &[u8]) -> usize {
    let Some(header) = bytes.get(..8) else {
        return 0;
    };
    let header = u64::from_le_bytes(header.try_into().expect("8 bytes"));
    (bytes.len() as u64).saturating_sub(header.saturating_add(8)) as usize
}

/// An architecture's parameter count as a fixed part plus a part per style (the conditional
/// norms' scales and shifts), measured once per process on one- and two-style generators,
/// which are small: model loads (the element's among them) do not pay for it again.
fn parameter_split(arch: super::Arch) -> (u64, u64) {
    static SPLITS: std::sync::OnceLock<[(u64, u64); 4]> = std::sync::OnceLock::new();
    let splits = SPLITS.get_or_init(|| {
        super::Arch::ALL.map(|arch| {
            let count = |styles| {
                GeneratorConfig::new(arch, styles)
                    .init(&Device::flex())
                    .num_params() as u64
            };
            let (one, two) = (count(1), count(2));
            (2 * one - two, two - one)
        })
    });
    let index = super::Arch::ALL.iter().position(|&a| a == arch);
    splits[index.expect("every architecture is in Arch::ALL")]
}

/// Refuse metadata that declares a generator larger than the weights the file holds, before
/// anything of that size is allocated (a few bytes of metadata could otherwise ask for
/// gigabytes).
fn check_declared_size(
    config: &GeneratorConfig,
    weight_bytes: usize,
) -> std::result::Result<(), ModelFileError> {
    // `weight_bytes` counts tensor data only.
    let (fixed, per_style) = parameter_split(config.arch);
    let needed = fixed.saturating_add(per_style.saturating_mul(config.styles as u64));
    let needed_bytes = needed.saturating_mul(std::mem::size_of::<f32>() as u64);
    if needed_bytes > weight_bytes as u64 {
        return Err(ModelFileError::Incompatible(format!(
            "the metadata declares {} styles of the {} architecture, which need {needed_bytes} bytes of weights; the file holds {weight_bytes}",
            config.styles,
            config.arch.name()
        )));
    }
    Ok(())
}

/// Refuse safetensors bytes with a NaN or infinite value, naming the first such tensor (in
/// name order): such weights give unstyled or black frames without any other sign.
pub fn check_finite(bytes: &[u8]) -> std::result::Result<(), ModelFileError> {
    use safetensors::Dtype;
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| ModelFileError::Incompatible(format!("unreadable weights: {e}")))?;
    let mut names = tensors.names();
    names.sort();
    for name in names {
        let view = tensors
            .tensor(name)
            .map_err(|e| ModelFileError::Incompatible(format!("unreadable weights: {e}")))?;
        let data = view.data();
        let half = |mask: u16| {
            data.chunks_exact(2)
                .filter(|b| u16::from_le_bytes([b[0], b[1]]) & mask == mask)
                .count()
        };
        let count = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .filter(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite())
                .count(),
            Dtype::F64 => data
                .chunks_exact(8)
                .filter(|b| !f64::from_le_bytes((*b).try_into().expect("8 bytes")).is_finite())
                .count(),
            Dtype::F16 => half(0x7c00),
            Dtype::BF16 => half(0x7f80),
            _ => 0,
        };
        if count > 0 {
            return Err(ModelFileError::NonFinite {
                tensor: printable(name),
                count,
            });
        }
    }
    Ok(())
}

/// Apply safetensors bytes to `module`, refusing missing, extra, mis-shaped or non-finite
/// tensors.
pub fn load_weights<M: ModuleSnapshot>(
    module: &mut M,
    bytes: &[u8],
) -> std::result::Result<(), ModelFileError> {
    check_finite(bytes)?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes.to_vec())).allow_partial(true);
    let result = module
        .load_from(&mut store)
        .map_err(|e| ModelFileError::Incompatible(e.to_string()))?;
    let mut problems = Vec::new();
    if !result.missing.is_empty() {
        let names: Vec<_> = result
            .missing
            .iter()
            .map(|(p, _)| p.as_str())
            .take(3)
            .collect();
        problems.push(format!(
            "{} tensors missing ({}…)",
            result.missing.len(),
            names.join(", ")
        ));
    }
    if !result.unused.is_empty() {
        problems.push(format!(
            "{} unexpected tensors ({}…)",
            result.unused.len(),
            result.unused[0]
        ));
    }
    if !result.errors.is_empty() {
        problems.push(format!(
            "{} tensors refused ({:?})",
            result.errors.len(),
            result.errors[0]
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ModelFileError::Incompatible(problems.join("; ")))
    }
}

/// Metadata JSON of format [`META_VERSION`], refused by version first (a file from another
/// format gets that said, not a field-by-field complaint).
pub(crate) fn parse_versioned<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> std::result::Result<T, ModelFileError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ModelFileError::Metadata(printable(&e.to_string())))?;
    let version = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as u32;
    if version != META_VERSION {
        return Err(ModelFileError::Version {
            found: version,
            supported: META_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| ModelFileError::Metadata(printable(&e.to_string())))
}

fn parse_meta(bytes: &[u8]) -> std::result::Result<ModelMeta, ModelFileError> {
    let meta: ModelMeta = parse_versioned(bytes)?;
    if meta.generator.styles == 0 || meta.style_names.len() != meta.generator.styles {
        return Err(ModelFileError::Metadata(format!(
            "{} style names for {} styles",
            meta.style_names.len(),
            meta.generator.styles
        )));
    }
    Ok(meta)
}

/// Where shipped models are looked for, in order: `$GANSTYLE_MODELS`, `./models`, and the
/// `models` folder of the source tree this binary was built from.
pub fn model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("GANSTYLE_MODELS") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(PathBuf::from("models"));
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Arch;
    use crate::model::generator::GeneratorConfig;
    use burn::tensor::{Distribution, Tensor};

    fn model(arch: Arch, styles: usize) -> Model {
        let device = Device::flex();
        Model {
            meta: ModelMeta {
                format_version: META_VERSION,
                generator: GeneratorConfig::new(arch, styles),
                style_names: (0..styles).map(|i| format!("s{i}")).collect(),
                written_by: "test".into(),
                training: TrainingInfo::default(),
                origin: None,
                baked_from: None,
            },
            generator: GeneratorConfig::new(arch, styles).init(&device),
            style_images: (0..styles)
                .map(|i| RgbImage::from_pixel(4, 4, image::Rgb([i as u8, 9, 9])))
                .collect(),
        }
    }

    fn error_of(bytes: &[u8]) -> String {
        Model::from_bytes(bytes, Path::new("x.gsm"), &Device::flex())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn save_then_load_is_bit_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gsm");
        let original = model(Arch::Fast, 2);
        original.save(&path).unwrap();
        let loaded = Model::load(&path, &Device::flex()).unwrap();
        assert_eq!(loaded.meta, original.meta);
        assert_eq!(loaded.style_images, original.style_images);
        let (wa, wb) = (
            weights_to_bytes(&loaded.generator).unwrap(),
            weights_to_bytes(&original.generator).unwrap(),
        );
        let (ta, tb) = (
            safetensors::SafeTensors::deserialize(&wa).unwrap(),
            safetensors::SafeTensors::deserialize(&wb).unwrap(),
        );
        assert_eq!(ta.len(), tb.len());
        for name in ta.names() {
            assert_eq!(
                ta.tensor(name).unwrap().data(),
                tb.tensor(name).unwrap().data(),
                "{name}"
            );
        }
        let x = Tensor::<4>::random([1, 3, 16, 16], Distribution::Default, &Device::flex());
        let mix = Tensor::from_floats([[0.3, 0.7]], &Device::flex());
        let a: Vec<f32> = original
            .generator
            .forward(x.clone(), mix.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let b: Vec<f32> = loaded
            .generator
            .forward(x, mix)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn missing_truncated_corrupt_and_foreign_files_are_refused_by_name() {
        let missing = Model::load(Path::new("/nonexistent/m.gsm"), &Device::flex())
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("/nonexistent/m.gsm") && missing.contains("not found"),
            "{missing}"
        );
        let bytes = model(Arch::Fast, 1).to_bytes().unwrap();
        assert!(error_of(&bytes[..bytes.len() / 2]).contains("truncated"));
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        assert!(error_of(&flipped).contains("corrupt"));
        assert!(error_of(b"\x89PNG\r\n\x1a\n0000").contains("PNG image"));
        assert!(error_of(b"").contains("empty file"));
    }

    #[test]
    fn incompatible_weights_and_wrong_kinds_are_refused() {
        // Metadata claiming johnson over fast weights.
        let fast = model(Arch::Fast, 1);
        let mut c = SectionFile::from_bytes(&fast.to_bytes().unwrap()).unwrap();
        let mut meta = fast.meta.clone();
        meta.generator.arch = Arch::Johnson;
        c.sections[1].1 = serde_json::to_vec(&meta).unwrap();
        assert!(
            error_of(&c.to_bytes()).contains("do not match the architecture"),
            "{}",
            error_of(&c.to_bytes())
        );
        // A newer metadata version.
        meta.generator.arch = Arch::Fast;
        meta.format_version = META_VERSION + 1;
        c.sections[1].1 = serde_json::to_vec(&meta).unwrap();
        assert!(error_of(&c.to_bytes()).contains("format version"));
        // A checkpoint is not a model.
        c.sections[0].1 = b"checkpoint".to_vec();
        assert!(error_of(&c.to_bytes()).contains("not a model"));
    }

    #[test]
    fn non_finite_weights_are_refused_naming_the_tensor() {
        let good = model(Arch::Fast, 1);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut c = SectionFile::from_bytes(&good.to_bytes().unwrap()).unwrap();
            assert_eq!(c.sections[2].0, "weights");
            let weights = &mut c.sections[2].1;
            let (name, offset) = {
                let tensors = safetensors::SafeTensors::deserialize(weights).unwrap();
                let name = tensors.names().into_iter().max().unwrap().to_string();
                let data = tensors.tensor(&name).unwrap().data().as_ptr();
                (name, data as usize - weights.as_ptr() as usize)
            };
            weights[offset + 4..offset + 8].copy_from_slice(&bad.to_le_bytes());
            let err = error_of(&c.to_bytes());
            assert!(
                err.contains("x.gsm") && err.contains(&name) && err.contains("1 non-finite"),
                "{err}"
            );
        }
    }

    #[test]
    fn metadata_declaring_more_styles_than_the_weights_hold_is_refused() {
        let one = model(Arch::Fast, 1);
        let mut c = SectionFile::from_bytes(&one.to_bytes().unwrap()).unwrap();
        let mut meta = one.meta.clone();
        meta.generator.styles = 1_000_000;
        meta.style_names = (0..1_000_000).map(|i| i.to_string()).collect();
        c.sections[1].1 = serde_json::to_vec(&meta).unwrap();
        let err = error_of(&c.to_bytes());
        assert!(
            err.contains("declares 1000000 styles") && err.contains("the file holds"),
            "{err}"
        );
        // One style more than the weights hold is caught too.
        meta.generator.styles = 2;
        meta.style_names = vec!["a".into(), "b".into()];
        c.sections[1].1 = serde_json::to_vec(&meta).unwrap();
        assert!(error_of(&c.to_bytes()).contains("declares 2 styles"));
    }

    #[test]
    fn pipes_devices_folders_and_huge_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.gsm");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a pipe with no writer would block forever: it must be refused first.
        let err = Model::load(&fifo, &Device::flex()).unwrap_err().to_string();
        assert!(
            err.contains("pipe.gsm") && err.contains("named pipe"),
            "{err}"
        );
        let err = Model::load(Path::new("/dev/zero"), &Device::flex())
            .unwrap_err()
            .to_string();
        assert!(err.contains("/dev/zero") && err.contains("device"), "{err}");
        let err = Model::load(dir.path(), &Device::flex())
            .unwrap_err()
            .to_string();
        assert!(err.contains("folder"), "{err}");
        let huge = dir.path().join("huge.gsm");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(crate::files::MAX_FILE_BYTES + 1)
            .unwrap();
        let err = Model::load(&huge, &Device::flex()).unwrap_err().to_string();
        assert!(err.contains("huge.gsm") && err.contains("limit"), "{err}");
    }

    #[test]
    fn a_crafted_kind_is_quoted_and_cut_in_the_error() {
        let mut c = SectionFile::from_bytes(&model(Arch::Fast, 1).to_bytes().unwrap()).unwrap();
        c.sections[0].1 = [b"\x1b]0;pwned\x07".as_slice(), &[b'A'; 65_000]].concat();
        let err = error_of(&c.to_bytes());
        assert!(err.len() < 300, "{} characters", err.len());
        assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
        assert!(err.contains("more characters"), "{err}");
    }
}
