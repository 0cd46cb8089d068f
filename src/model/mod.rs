//! The networks and their files: the generator (`johnson`, `fast`, `magenta` and `magenta-lite`
//! architectures, conditional instance norm for multi-style models), the multi-scale
//! discriminator, and `.gsm` model files.

pub mod arbitrary;
pub mod discriminator;
pub mod file;
pub mod generator;
pub mod layers;
pub mod seeded;
pub mod style_choice;
pub mod style_encoder;
pub mod style_picture;

use std::path::{Path, PathBuf};

use burn::tensor::Device;

pub use file::{Model, ModelMeta, TrainingInfo};
pub use generator::{Arch, Generator, GeneratorConfig};
pub use style_choice::StyleChoice;

use crate::error::{Error, Result};

/// The extension of model files.
pub const EXTENSION: &str = "gsm";

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// A file on disk.
    File(PathBuf),
    /// The model embedded in the binary.
    Embedded,
    /// An arbitrary-style model with style pictures: one style per picture, made when loaded.
    StylePictures {
        /// The arbitrary-style model file.
        model: PathBuf,
        /// The pictures, in style order.
        pictures: Vec<PathBuf>,
    },
}

/// The file name (without extension) an arbitrary-style model is looked for under when none is
/// named: in the model folders, then in `~/.cache/ganstyle/models`, where
/// `scripts/fetch-assets.sh` imports it.
pub const ARBITRARY_NAME: &str = "arbitrary";

/// The default model built into the binary (`models/swirls.gsm`: magenta-lite, distilled from
/// Magenta's network; models/README.md), used when no model is given.
pub static EMBEDDED_MODEL: &[u8] = include_bytes!("../../models/swirls.gsm");

/// The name that selects the embedded model.
pub const EMBEDDED_NAME: &str = "default";

impl ModelSource {
    /// Resolve what the user typed after `--model`: a path to a file, the name of a shipped
    /// model (`mosaic` finds `models/mosaic.gsm`), or nothing / `default` for the embedded model.
    pub fn resolve(spec: Option<&str>) -> Result<Self> {
        let Some(spec) = spec.filter(|s| !s.is_empty() && *s != EMBEDDED_NAME) else {
            return Ok(ModelSource::Embedded);
        };
        let path = Path::new(spec);
        if path.exists() || spec.contains('/') || spec.ends_with(&format!(".{EXTENSION}")) {
            return Ok(ModelSource::File(path.to_path_buf()));
        }
        for dir in file::model_dirs() {
            let candidate = dir.join(format!("{spec}.{EXTENSION}"));
            if candidate.is_file() {
                return Ok(ModelSource::File(candidate));
            }
        }
        Err(Error::UnknownModel {
            name: spec.to_string(),
            shipped: shipped_names().join(", "),
        })
    }

    /// The pictures `pictures` as styles of an arbitrary-style model: `spec` names it as
    /// [`Self::resolve`] takes names, or is absent for the default one ([`ARBITRARY_NAME`]).
    pub fn style_pictures(spec: Option<&str>, pictures: Vec<PathBuf>) -> Result<Self> {
        if pictures.is_empty() {
            return Err(Error::Setting("no style picture given".into()));
        }
        let model = match spec.filter(|s| !s.is_empty()) {
            Some(spec) => match Self::resolve(Some(spec))? {
                ModelSource::File(path) => path,
                _ => {
                    return Err(Error::Setting(format!(
                        "style pictures need an arbitrary-style model, not {spec:?}"
                    )));
                }
            },
            None => default_arbitrary().ok_or_else(|| {
                Error::Setting(format!(
                    "no arbitrary-style model: {ARBITRARY_NAME}.gsm is in none of the model folders or {} (scripts/fetch-assets.sh imports it there)",
                    crate::assets::cache_dir().join("models").display()
                ))
            })?,
        };
        Ok(ModelSource::StylePictures { model, pictures })
    }

    /// The pictures' styles through the arbitrary-style model `model`, as a fixed-style model
    /// with what it takes to add a content image's own style later.
    fn bake_pictures(
        &self,
        model: &Path,
        pictures: &[PathBuf],
        device: &Device,
    ) -> Result<(Model, arbitrary::PictureStyles)> {
        let arbitrary = arbitrary::ArbitraryModel::load(model, device)?;
        let loaded = pictures
            .iter()
            .map(|p| style_picture::load(p))
            .collect::<Result<Vec<_>>>()?;
        let names = picture_names(pictures);
        Ok(arbitrary::PictureStyles::bake(
            arbitrary,
            names,
            &loaded,
            self.describe(),
            device,
        ))
    }

    /// Load the model onto `device`.
    pub fn load(&self, device: &Device) -> Result<Model> {
        Ok(self.load_styles(device)?.0)
    }

    /// Load the model onto `device`; for style pictures, also their styles as the
    /// arbitrary-style model made them (see [`arbitrary::PictureStyles`]).
    pub fn load_styles(
        &self,
        device: &Device,
    ) -> Result<(Model, Option<arbitrary::PictureStyles>)> {
        match self {
            ModelSource::StylePictures { model, pictures } => {
                let (baked, styles) = self.bake_pictures(model, pictures, device)?;
                Ok((baked, Some(styles)))
            }
            ModelSource::File(path) => Ok((Model::load(path, device)?, None)),
            ModelSource::Embedded => Ok((
                Model::from_bytes(
                    EMBEDDED_MODEL,
                    Path::new("<embedded default model>"),
                    device,
                )?,
                None,
            )),
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            ModelSource::File(path) => path.display().to_string(),
            ModelSource::Embedded => format!("{EMBEDDED_NAME} (embedded)"),
            ModelSource::StylePictures { model, pictures } => {
                let names: Vec<_> = pictures.iter().map(|p| p.display().to_string()).collect();
                format!("{} with style {}", model.display(), names.join(", "))
            }
        }
    }
}

/// A model file of either kind.
pub enum AnyModel {
    /// A fixed-style model.
    Fixed(Box<Model>),
    /// An arbitrary-style model.
    Arbitrary(Box<arbitrary::ArbitraryModel>),
}

/// Load the model file at `path`, of whichever kind it is, reading it once (errors name the
/// file).
pub fn load_any(path: &Path, device: &Device) -> Result<AnyModel> {
    file::read_with(path, |c| {
        Ok(if c.get("kind")? == arbitrary::KIND {
            AnyModel::Arbitrary(Box::new(arbitrary::ArbitraryModel::from_container(
                c, device,
            )?))
        } else {
            AnyModel::Fixed(Box::new(Model::from_container(c, device)?))
        })
    })
}

/// Style names for pictures: their file stems.
fn picture_names(pictures: &[PathBuf]) -> Vec<String> {
    pictures
        .iter()
        .map(|p| {
            p.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string())
        })
        .collect()
}

/// The default arbitrary-style model file, if there is one.
fn default_arbitrary() -> Option<PathBuf> {
    let name = format!("{ARBITRARY_NAME}.{EXTENSION}");
    file::model_dirs()
        .into_iter()
        .chain([crate::assets::cache_dir().join("models")])
        .map(|dir| dir.join(&name))
        .find(|p| p.is_file())
}

/// Names of the shipped models found in the model folders, plus the embedded one.
pub fn shipped_names() -> Vec<String> {
    let mut names = vec![EMBEDDED_NAME.to_string()];
    for dir in file::model_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == EXTENSION)
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && !names.iter().any(|n| n == stem)
            {
                names.push(stem.to_string());
            }
        }
    }
    names
}
