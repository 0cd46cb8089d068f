//! Arbitrary-style models (kind `arbitrary`): any picture becomes a style without training. A
//! [`StyleEncoder`] maps the picture to a style vector; per conditional instance norm of a
//! one-style transformer, a linear head maps the vector to that norm's scales and shifts.
//! [`ArbitraryModel::generator_for`] makes an ordinary [`Generator`] of one or more style
//! vectors, so every runtime (CPU, burn, GPU) and the element run it as they run any model;
//! [`ArbitraryModel::bake`] turns pictures into a fixed-style [`Model`] file.

use std::path::Path;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::file::{META_VERSION, ModelMeta, TrainingInfo, load_weights, weights_to_bytes};
use super::generator::{Generator, GeneratorConfig};
use super::style_encoder::{EncoderPlan, StyleEncoder};
use super::{Model, layers::CondInstanceNorm};
use crate::container::SectionFile;
use crate::error::{Error, ModelFileError, Result};

/// The `kind` section of an arbitrary-style model file.
pub const KIND: &[u8] = b"arbitrary";

/// What an arbitrary-style model file says besides its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArbitraryMeta {
    /// Metadata format version ([`META_VERSION`]).
    pub format_version: u32,
    /// The encoder's program.
    pub encoder: EncoderPlan,
    /// The transformer's shape (one style: the heads fill it).
    pub transformer: GeneratorConfig,
    /// Channels of each conditional norm, in the transformer's order (one head each).
    pub head_channels: Vec<usize>,
    /// Where the weights come from, with their licence.
    pub origin: String,
    /// The ganstyle version that wrote the file.
    pub written_by: String,
    /// How it was made (the import command, or a fine-tuning run).
    pub training: TrainingInfo,
}

/// The linear map from a style vector to one norm's scales and shifts.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleHead {
    /// `[channels, vector_len]` then `[channels]`: scales.
    pub gamma: (Vec<f32>, Vec<f32>),
    /// `[channels, vector_len]` then `[channels]`: shifts.
    pub beta: (Vec<f32>, Vec<f32>),
}

impl StyleHead {
    fn apply(map: &(Vec<f32>, Vec<f32>), vector: &[f32]) -> Vec<f32> {
        let (w, b) = map;
        b.iter()
            .enumerate()
            .map(|(c, b)| {
                b + w[c * vector.len()..][..vector.len()]
                    .iter()
                    .zip(vector)
                    .map(|(w, v)| w * v)
                    .sum::<f32>()
            })
            .collect()
    }

    fn channels(&self) -> usize {
        self.gamma.1.len()
    }
}

/// An arbitrary-style model, loaded.
#[derive(Debug, Clone)]
pub struct ArbitraryModel {
    /// Metadata.
    pub meta: ArbitraryMeta,
    /// Picture → style vector.
    pub encoder: StyleEncoder,
    /// The transformer; its norms' own scales and shifts are unused.
    pub transformer: Generator,
    /// One head per conditional norm of the transformer.
    pub heads: Vec<StyleHead>,
}

/// The transformer's conditional norms in a fixed order: residual blocks, decoder, output.
pub fn norms_mut(generator: &mut Generator) -> Vec<&mut CondInstanceNorm> {
    let mut out = Vec::new();
    for layer in &mut generator.encoder {
        out.extend(layer.norm.as_mut());
    }
    for block in &mut generator.residual {
        out.extend(block.first.norm.as_mut());
        out.extend(block.second.norm.as_mut());
    }
    for layer in &mut generator.decoder {
        out.extend(layer.norm.as_mut());
    }
    out.extend(generator.output.norm.as_mut());
    out
}

fn floats_to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bytes_to_floats(bytes: &[u8], what: &str) -> std::result::Result<Vec<f32>, ModelFileError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(ModelFileError::Truncated(format!(
            "{what}: {} bytes is not whole floats",
            bytes.len()
        )));
    }
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
        return Err(ModelFileError::NonFinite {
            tensor: format!("{what}[{bad}]"),
            count: values.iter().filter(|v| !v.is_finite()).count(),
        });
    }
    Ok(values)
}

impl ArbitraryModel {
    /// Check that the parts fit together (heads per norm, their sizes, the vector length).
    pub fn check(&self) -> std::result::Result<(), ModelFileError> {
        let mut transformer = self.transformer.clone();
        let norms = norms_mut(&mut transformer);
        let len = self.meta.encoder.vector_len;
        if norms.len() != self.heads.len() || self.meta.head_channels.len() != self.heads.len() {
            return Err(ModelFileError::Incompatible(format!(
                "{} style heads for {} conditional norms",
                self.heads.len(),
                norms.len()
            )));
        }
        for (i, (norm, head)) in norms.iter().zip(&self.heads).enumerate() {
            let c = norm.gamma.val().dims()[1];
            let fits = |m: &(Vec<f32>, Vec<f32>)| m.0.len() == c * len && m.1.len() == c;
            if head.channels() != c || !fits(&head.gamma) || !fits(&head.beta) {
                return Err(ModelFileError::Incompatible(format!(
                    "style head {i} does not map a {len}-number vector to {c} channels"
                )));
            }
        }
        Ok(())
    }

    /// The style vector of a picture.
    pub fn style_vector(&self, picture: &RgbImage, device: &Device) -> Vec<f32> {
        self.encoder.encode(picture, device)
    }

    /// A generator holding one style per vector (style `i` is `vectors[i]`).
    pub fn generator_for(&self, vectors: &[Vec<f32>], device: &Device) -> Generator {
        let mut generator = self.transformer.clone();
        generator.styles = vectors.len();
        for (norm, head) in norms_mut(&mut generator).into_iter().zip(&self.heads) {
            let c = head.channels();
            let table = |map: &(Vec<f32>, Vec<f32>)| {
                let rows: Vec<f32> = vectors
                    .iter()
                    .flat_map(|v| StyleHead::apply(map, v))
                    .collect();
                Param::from_tensor(Tensor::from_data(
                    TensorData::new(rows, [vectors.len(), c]),
                    device,
                ))
            };
            norm.gamma = table(&head.gamma);
            norm.beta = table(&head.beta);
        }
        generator
    }

    /// This model with the convolutions of `trained` (a generator of the same architecture and
    /// any number of styles, made from this one's transformer: a fine-tune, or a fixed-style
    /// model baked from such a fine-tune) and its own norm tables and heads, which is what a
    /// fine-tune that keeps the tables frozen makes; `training` says how `trained` was made.
    pub fn with_convolutions_of(&self, trained: &Generator, training: TrainingInfo) -> Self {
        let mut transformer = trained.clone();
        transformer.styles = 1;
        let mut own = self.transformer.clone();
        for (norm, own) in norms_mut(&mut transformer)
            .into_iter()
            .zip(norms_mut(&mut own))
        {
            // On the trained generator's device (a run's is its autodiff one).
            let device = norm.gamma.val().device();
            let table = |p: &Param<Tensor<2>>| {
                Param::from_tensor(Tensor::from_data(p.val().into_data(), &device))
            };
            norm.gamma = table(&own.gamma);
            norm.beta = table(&own.beta);
        }
        let mut result = self.clone();
        result.transformer = transformer;
        result.meta.written_by = format!("ganstyle {}", env!("CARGO_PKG_VERSION"));
        result.meta.training = training;
        result
    }

    /// [`Self::with_convolutions_of`] a fixed-style model file's generator, after checking that
    /// it has this transformer's architecture and was made from this model's family (it was
    /// baked from or fine-tuned from an arbitrary-style model: its origin is this one's).
    pub fn with_convolutions_of_model(&self, fixed: &Model, path: &Path) -> Result<Self> {
        let (have, want) = (fixed.meta.generator.arch, self.meta.transformer.arch);
        if have != want {
            return Err(Error::Setting(format!(
                "{} is a {} model; this arbitrary-style model's transformer is {}: its convolutions cannot come from there",
                path.display(),
                have.name(),
                want.name()
            )));
        }
        match fixed.meta.baked_from.as_deref() {
            Some(origin) if origin == self.meta.origin => {}
            Some(origin) => {
                return Err(Error::Setting(format!(
                    "{} was baked from another arbitrary-style model (origin {origin:?}; this model's is {:?}): its convolutions do not fit this model's style heads",
                    path.display(),
                    self.meta.origin
                )));
            }
            None => {
                return Err(Error::Setting(format!(
                    "{} was not baked from an arbitrary-style model (`ganstyle import MODEL --style …`), or was trained since: its convolutions do not fit this model's style heads",
                    path.display()
                )));
            }
        }
        Ok(self.with_convolutions_of(&fixed.generator, fixed.meta.training.clone()))
    }

    /// A fixed-style model of `pictures` (one style each, named by `names`), as a model file
    /// holds it; `command` says how it was made.
    pub fn bake(
        &self,
        names: Vec<String>,
        pictures: Vec<RgbImage>,
        command: String,
        device: &Device,
    ) -> Model {
        let vectors: Vec<Vec<f32>> = pictures
            .iter()
            .map(|p| self.style_vector(p, device))
            .collect();
        self.bake_vectors(names, &pictures, &vectors, command, device)
    }

    /// [`Self::bake`] with the pictures' style vectors already computed.
    fn bake_vectors(
        &self,
        names: Vec<String>,
        pictures: &[RgbImage],
        vectors: &[Vec<f32>],
        command: String,
        device: &Device,
    ) -> Model {
        let generator = self.generator_for(vectors, device);
        let style_images = pictures
            .iter()
            .map(|p| crate::picture::fit_short_side_at_most(p, 256))
            .collect();
        let mut config = self.meta.transformer.clone();
        config.styles = names.len();
        Model {
            meta: ModelMeta {
                format_version: META_VERSION,
                generator: config,
                style_names: names,
                written_by: format!("ganstyle {}", env!("CARGO_PKG_VERSION")),
                training: if self.meta.training.steps > 0 {
                    // Baked from a fine-tune: how the convolutions were trained, then the bake.
                    TrainingInfo {
                        command: format!("{}\nthen: {command}", self.meta.training.command),
                        ..self.meta.training.clone()
                    }
                } else {
                    TrainingInfo {
                        command,
                        loss_network: format!(
                            "none: style vectors of the pictures through an arbitrary-style model ({})",
                            self.meta.origin
                        ),
                        ..TrainingInfo::default()
                    }
                },
                origin: Some(self.meta.origin.clone()),
                baked_from: Some(self.meta.origin.clone()),
            },
            generator,
            style_images,
        }
    }

    /// Serialize to the bytes of a model file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut c = SectionFile::default();
        c.push("kind", KIND.to_vec());
        c.push(
            "meta",
            serde_json::to_vec_pretty(&self.meta)
                .map_err(|e| Error::Serialize(format!("model metadata: {e}")))?,
        );
        c.push("encoder", floats_to_bytes(&self.encoder.weights()));
        c.push("transformer", weights_to_bytes(&self.transformer)?);
        let mut heads = Vec::new();
        for h in &self.heads {
            for part in [&h.gamma.0, &h.gamma.1, &h.beta.0, &h.beta.1] {
                heads.extend(floats_to_bytes(part));
            }
        }
        c.push("heads", heads);
        Ok(c.to_bytes())
    }

    /// Save to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::files::write_atomic(path, &self.to_bytes()?)
    }

    /// Load an arbitrary-style model file.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        super::file::read_with(path, |c| Self::from_container(c, device))
    }

    /// Load from the bytes of a model file; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path, device: &Device) -> Result<Self> {
        super::file::bytes_with(bytes, origin, |c| Self::from_container(c, device))
    }

    pub(super) fn from_container(
        c: &SectionFile,
        device: &Device,
    ) -> std::result::Result<Self, ModelFileError> {
        let kind = c.get("kind")?;
        if kind != KIND {
            return Err(ModelFileError::WrongKind {
                found: String::from_utf8_lossy(kind).into_owned(),
                expected: "model of kind arbitrary, which style pictures need",
            });
        }
        let meta: ArbitraryMeta = super::file::parse_versioned(c.get("meta")?)?;
        if meta.transformer.styles != 1 || meta.encoder.vector_len == 0 {
            return Err(ModelFileError::Metadata(
                "an arbitrary-style transformer holds exactly one style table".into(),
            ));
        }
        // Sizes first: the metadata cannot make the loader allocate more than the file holds.
        let encoder_weights = bytes_to_floats(c.get("encoder")?, "encoder")?;
        let encoder = StyleEncoder::new(meta.encoder.clone(), &encoder_weights, device)
            .map_err(|e| ModelFileError::Incompatible(e.to_string()))?;
        let mut transformer = meta.transformer.init(device);
        load_weights(&mut transformer, c.get("transformer")?)?;
        let heads_flat = bytes_to_floats(c.get("heads")?, "heads")?;
        let len = meta.encoder.vector_len;
        let need: usize = meta
            .head_channels
            .iter()
            .map(|&ch| 2 * (ch * len + ch))
            .sum();
        if heads_flat.len() != need {
            return Err(ModelFileError::Incompatible(format!(
                "{} style-head values for the {need} the metadata declares",
                heads_flat.len()
            )));
        }
        let mut at = 0;
        let mut take = |n: usize| {
            let part = heads_flat[at..at + n].to_vec();
            at += n;
            part
        };
        let heads = meta
            .head_channels
            .iter()
            .map(|&ch| StyleHead {
                gamma: (take(ch * len), take(ch)),
                beta: (take(ch * len), take(ch)),
            })
            .collect();
        let model = Self {
            meta,
            encoder,
            transformer,
            heads,
        };
        model.check()?;
        Ok(model)
    }
}

/// Style pictures through an arbitrary-style model, with the model kept, so that a content
/// image's own style can join theirs later: with a strength below 1 the style moves toward the
/// content's own, Magenta's way of making half the style a half-way style rather than a faded
/// double image.
#[derive(Debug, Clone)]
pub struct PictureStyles {
    /// The model the vectors came from.
    pub model: ArbitraryModel,
    /// One style vector per picture, in style order.
    pub vectors: Vec<Vec<f32>>,
}

impl PictureStyles {
    /// The style vectors of `pictures`, and the fixed-style model they make (one style per
    /// picture, named by `names`; `command` says how it was made).
    pub fn bake(
        model: ArbitraryModel,
        names: Vec<String>,
        pictures: &[RgbImage],
        command: String,
        device: &Device,
    ) -> (Model, Self) {
        let vectors: Vec<Vec<f32>> = pictures
            .iter()
            .map(|p| model.style_vector(p, device))
            .collect();
        let baked = model.bake_vectors(names, pictures, &vectors, command, device);
        (baked, Self { model, vectors })
    }

    /// A generator with the pictures' styles, then `content`'s own as one more (the last).
    pub fn with_content(&self, content: &RgbImage, device: &Device) -> Generator {
        self.with_content_vector(self.model.style_vector(content, device), device)
    }

    /// [`Self::with_content`] from the content's style vector, computed already.
    pub fn with_content_vector(&self, content: Vec<f32>, device: &Device) -> Generator {
        let mut vectors = self.vectors.clone();
        vectors.push(content);
        self.model.generator_for(&vectors, device)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Arch;
    use crate::model::style_encoder::Step;

    /// A tiny model: a 2-step encoder to a 3-number vector, a seeded magenta transformer, and
    /// heads with distinct weights.
    pub(crate) fn tiny(device: &Device) -> ArbitraryModel {
        let plan = EncoderPlan {
            steps: vec![
                Step::Conv {
                    input: 0,
                    shape: [3, 3, 3, 3],
                    stride: 2,
                    pads: [0, 0, 1, 1],
                    groups: 1,
                    relu6: true,
                },
                Step::Mean { input: 1 },
            ],
            input_side: 16,
            vector_len: 3,
        };
        let weights: Vec<f32> = (0..84)
            .map(|i| ((i * 13 % 11) as f32 - 5.0) / 10.0)
            .collect();
        let encoder = StyleEncoder::new(plan.clone(), &weights, device).unwrap();
        let config = GeneratorConfig::new(Arch::Magenta, 1);
        let mut transformer = crate::model::seeded::seeded(config.init(device), 3);
        let head_channels: Vec<usize> = norms_mut(&mut transformer)
            .iter()
            .map(|n| n.gamma.val().dims()[1])
            .collect();
        let heads = head_channels
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let m = |k: usize| {
                    (
                        (0..c * 3)
                            .map(|j| ((i + j + k) % 7) as f32 / 10.0)
                            .collect(),
                        (0..c)
                            .map(|j| if k == 0 { 1.0 } else { (j % 3) as f32 / 5.0 })
                            .collect(),
                    )
                };
                StyleHead {
                    gamma: m(0),
                    beta: m(1),
                }
            })
            .collect();
        ArbitraryModel {
            meta: ArbitraryMeta {
                format_version: META_VERSION,
                encoder: plan,
                transformer: config,
                head_channels,
                origin: "test".into(),
                written_by: "test".into(),
                training: TrainingInfo::default(),
            },
            encoder,
            transformer,
            heads,
        }
    }

    fn picture(seed: u32) -> RgbImage {
        RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([
                (x * 5 + seed * 40) as u8,
                (y * 7) as u8,
                ((x ^ y) * 3 + seed) as u8,
            ])
        })
    }

    #[test]
    fn round_trips_through_its_file_and_refuses_damage() {
        let device = Device::flex();
        let model = tiny(&device);
        let bytes = model.to_bytes().unwrap();
        let back = ArbitraryModel::from_bytes(&bytes, Path::new("a.gsm"), &device).unwrap();
        assert_eq!(back.meta, model.meta);
        assert_eq!(back.heads, model.heads);
        assert_eq!(back.encoder.weights(), model.encoder.weights());
        let p = picture(1);
        assert_eq!(
            back.style_vector(&p, &device),
            model.style_vector(&p, &device)
        );

        // A fixed-style model file is not an arbitrary-style one, and the other way round.
        let baked = model.bake(vec!["p".into()], vec![p], "test".into(), &device);
        let err =
            ArbitraryModel::from_bytes(&baked.to_bytes().unwrap(), Path::new("m.gsm"), &device)
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("m.gsm") && err.contains("not a model of kind arbitrary"),
            "{err}"
        );
        let err = Model::from_bytes(&bytes, Path::new("a.gsm"), &device)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a.gsm") && err.contains("--style-image"),
            "{err}"
        );

        // Heads that do not fit the metadata.
        let mut c = SectionFile::from_bytes(&bytes).unwrap();
        let heads = c.sections.iter_mut().find(|(n, _)| n == "heads").unwrap();
        heads.1.truncate(heads.1.len() - 4);
        let err = ArbitraryModel::from_bytes(&c.to_bytes(), Path::new("a.gsm"), &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains("style-head values"), "{err}");
    }

    #[test]
    fn style_vectors_set_the_norm_tables_and_nothing_else() {
        let device = Device::flex();
        let model = tiny(&device);
        let v = [vec![0.5, -1.0, 2.0], vec![0.0, 0.0, 0.0]];
        let mut g = model.generator_for(&v, &device);
        assert_eq!(g.styles, 2);
        // The convolutions are the transformer's.
        let same = |a: &Generator, b: &Generator| {
            crate::infer::values(a.output.conv.weight.val())
                == crate::infer::values(b.output.conv.weight.val())
        };
        assert!(same(&g, &model.transformer));
        // Row 0 of the first norm: the head applied to v[0]; row 1 (a zero vector): the bias.
        let head = &model.heads[0];
        let c = head.channels();
        let gamma = crate::infer::values(norms_mut(&mut g)[0].gamma.val());
        for ch in 0..c {
            let w = &head.gamma.0[ch * 3..][..3];
            let want = head.gamma.1[ch] + w[0] * 0.5 - w[1] + w[2] * 2.0;
            assert!((gamma[ch] - want).abs() < 1e-5);
            assert!((gamma[c + ch] - head.gamma.1[ch]).abs() < 1e-6);
        }
        // Different pictures give different vectors, hence different outputs.
        let (a, b) = (picture(1), picture(5));
        let (va, vb) = (
            model.style_vector(&a, &device),
            model.style_vector(&b, &device),
        );
        assert_ne!(va, vb);
    }

    #[test]
    fn convolutions_from_a_model_baked_after_a_fine_tune_rebuild_that_fine_tune() {
        let device = Device::flex();
        let model = tiny(&device);
        // A "fine-tune": other convolutions (another seed), the same norm tables and heads.
        let mut trained = crate::model::seeded::seeded(model.meta.transformer.init(&device), 9);
        // Its norm tables differ too (as a multi-style training run's would), to be left out.
        for norm in norms_mut(&mut trained) {
            norm.gamma = Param::from_tensor(norm.gamma.val().mul_scalar(2.0));
            norm.beta = Param::from_tensor(norm.beta.val().add_scalar(0.5));
        }
        let info = TrainingInfo {
            command: "ganstyle train --init a.gsm".into(),
            steps: 600,
            ..TrainingInfo::default()
        };
        let tuned = model.with_convolutions_of(&trained, info.clone());
        // One style, and the model's own norm tables, every one with its shape and values
        // (not the trained generator's).
        assert_eq!(tuned.transformer.styles, 1);
        let tables = |g: &Generator| -> Vec<(Vec<usize>, Vec<f32>, Vec<f32>)> {
            norms_mut(&mut g.clone())
                .into_iter()
                .map(|n| {
                    let values = |p: &Param<Tensor<2>>| crate::infer::values(p.val());
                    (
                        n.gamma.val().dims().to_vec(),
                        values(&n.gamma),
                        values(&n.beta),
                    )
                })
                .collect()
        };
        let own = tables(&model.transformer);
        assert!(!own.is_empty());
        assert_eq!(tables(&tuned.transformer), own);
        assert_ne!(
            tables(&trained),
            own,
            "the test needs other tables in the fine-tune"
        );
        let pictures = vec![picture(1), picture(5)];
        let baked = tuned.bake(
            vec!["a".into(), "b".into()],
            pictures.clone(),
            "ganstyle import".into(),
            &device,
        );
        // The bake says how its convolutions were trained, then how it was made.
        assert_eq!(baked.meta.training.steps, 600);
        assert!(
            baked
                .meta
                .training
                .command
                .ends_with("then: ganstyle import")
        );

        let rebuilt = model
            .with_convolutions_of_model(&baked, Path::new("six.gsm"))
            .unwrap();
        assert_eq!(rebuilt.meta.training, baked.meta.training);
        let probe = |m: &ArbitraryModel| {
            let v: Vec<Vec<f32>> = pictures
                .iter()
                .map(|p| m.style_vector(p, &device))
                .collect();
            let x = Tensor::<4>::from_data(
                TensorData::new(
                    (0..3 * 16 * 16).map(|i| (i % 17) as f32 / 17.0).collect(),
                    [1, 3, 16, 16],
                ),
                &device,
            );
            let mix = Tensor::from_data(TensorData::new(vec![0.3, 0.7], [1, 2]), &device);
            crate::infer::values(m.generator_for(&v, &device).forward(x, mix))
        };
        assert_eq!(probe(&rebuilt), probe(&tuned));
        assert_ne!(probe(&rebuilt), probe(&model));

        // Refused, by file name: a model baked from another model or not baked, and one of
        // another architecture.
        let refusal = |fixed: &Model, name: &str| {
            model
                .with_convolutions_of_model(fixed, Path::new(name))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(baked.meta.baked_from.as_deref(), Some("test"));
        let mut foreign = baked;
        foreign.meta.baked_from = Some("another".into());
        let err = refusal(&foreign, "other.gsm");
        assert!(
            err.contains("other.gsm") && err.contains("another arbitrary-style model"),
            "{err}"
        );
        // Trained since the bake (training writes no baked_from), or never baked.
        foreign.meta.baked_from = None;
        let err = refusal(&foreign, "own.gsm");
        assert!(
            err.contains("own.gsm") && err.contains("not baked from"),
            "{err}"
        );
        let err = refusal(&Model::untrained(Arch::Fast, &device), "fast.gsm");
        assert!(
            err.contains("fast.gsm") && err.contains("fast model"),
            "{err}"
        );
    }
}
