//! Where a run's generator starts when it fine-tunes (`init`): a fixed-style model's weights,
//! or an arbitrary-style model's transformer made into a generator of the run's style pictures.
//! Fine-tuning an arbitrary-style model trains the transformer's convolutions across all those
//! pictures while its norm tables stay what the style heads make of each picture, so the
//! heads still fit the result and it takes any picture afterwards.

use std::path::Path;

use burn::tensor::Device;
use image::RgbImage;

use crate::error::{Error, Result};
use crate::model::arbitrary::{ArbitraryModel, norms_mut};
use crate::model::{AnyModel, Arch, Generator, Model, TrainingInfo, load_any};

/// A run's starting point.
pub enum Start {
    /// A fixed-style model: its generator, as it is.
    Fixed(Box<Model>),
    /// An arbitrary-style model, with its transformer as a generator of one style per style
    /// picture of the run (the heads' tables for each, frozen).
    Arbitrary {
        /// The model as loaded (boxed: it is much larger than a fixed-style model).
        model: Box<ArbitraryModel>,
        /// One style per picture; norm tables do not train.
        generator: Box<Generator>,
    },
}

impl Start {
    /// Load the model file `path` to start a run over `styles` (the run's style pictures, in
    /// style order) on `device`.
    pub fn load(path: &Path, styles: &[RgbImage], device: &Device) -> Result<Self> {
        let model = match load_any(path, device)? {
            AnyModel::Fixed(model) => return Ok(Start::Fixed(model)),
            AnyModel::Arbitrary(model) => model,
        };
        let vectors: Vec<Vec<f32>> = styles
            .iter()
            .map(|p| model.style_vector(p, device))
            .collect();
        let generator = freeze_norms(model.generator_for(&vectors, device));
        Ok(Start::Arbitrary {
            model,
            generator: Box::new(generator),
        })
    }

    /// The architecture of the model file at `path`, of either kind.
    pub fn arch_of(path: &Path) -> Result<Arch> {
        Ok(match load_any(path, &Device::flex())? {
            AnyModel::Fixed(model) => model.meta.generator.arch,
            AnyModel::Arbitrary(model) => model.meta.transformer.arch,
        })
    }

    /// The generator the run starts from, after checking that it fits a run of `arch` with
    /// `styles` styles (`names` say which, for the message).
    pub fn generator(&self, path: &Path, arch: Arch, names: &[String]) -> Result<Generator> {
        match self {
            Start::Fixed(model) => {
                let (have, styles) = (model.meta.generator.arch, model.meta.generator.styles);
                if (have, styles) != (arch, names.len()) {
                    return Err(Error::Setting(format!(
                        "{} is a {} model of {styles} style{}; this run trains a {} generator of {}: give --arch {} and one --style per style of the model ({})",
                        path.display(),
                        have.name(),
                        if styles == 1 { "" } else { "s" },
                        arch.name(),
                        names.len(),
                        have.name(),
                        model.meta.style_names.join(", ")
                    )));
                }
                Ok(model.generator.clone())
            }
            Start::Arbitrary { model, generator } => {
                let have = model.meta.transformer.arch;
                if have != arch {
                    return Err(Error::Setting(format!(
                        "{} is an arbitrary-style model of the {} architecture; this run trains {}: give --arch {}",
                        path.display(),
                        have.name(),
                        arch.name(),
                        have.name()
                    )));
                }
                Ok((**generator).clone())
            }
        }
    }

    /// Where the starting weights come from, with their licence.
    pub fn origin(&self) -> Option<String> {
        match self {
            Start::Fixed(model) => model.meta.origin.clone(),
            Start::Arbitrary { model, .. } => Some(model.meta.origin.clone()),
        }
    }

    /// The starting generator, frozen, as the teacher term's target.
    pub fn teacher(&self) -> Generator {
        use burn::module::Module;
        match self {
            Start::Fixed(model) => model.generator.clone().no_grad(),
            Start::Arbitrary { generator, .. } => (**generator).clone().no_grad(),
        }
    }

    /// This model (loaded from `path`) as the teacher of a run of `names` styles, of whatever
    /// architecture: an arbitrary-style model already holds the run's pictures; a fixed-style
    /// one must hold as many styles as the run.
    pub fn teacher_of_run(&self, path: &Path, names: &[String]) -> Result<Generator> {
        if let Start::Fixed(model) = self
            && model.meta.generator.styles != names.len()
        {
            let styles = model.meta.generator.styles;
            return Err(Error::Setting(format!(
                "the teacher {} holds {styles} style{} ({}); this run trains {} ({}): give an \
                 arbitrary-style model as the teacher (it takes the run's pictures) or one of \
                 the run's styles",
                path.display(),
                if styles == 1 { "" } else { "s" },
                model.meta.style_names.join(", "),
                names.len(),
                names.join(", ")
            )));
        }
        Ok(self.teacher())
    }

    /// The arbitrary-style model a run from this start makes of its `trained` generator: the
    /// trained convolutions, the original norm tables and heads. None for a fixed-style start.
    pub fn arbitrary_result(
        &self,
        trained: &Generator,
        training: TrainingInfo,
    ) -> Option<ArbitraryModel> {
        let Start::Arbitrary { model, .. } = self else {
            return None;
        };
        Some(model.with_convolutions_of(trained, training))
    }
}

/// `generator` with its conditional norms' tables out of training.
pub fn freeze_norms(mut generator: Generator) -> Generator {
    for norm in norms_mut(&mut generator) {
        norm.gamma = norm.gamma.clone().set_require_grad(false);
        norm.beta = norm.beta.clone().set_require_grad(false);
    }
    generator
}
