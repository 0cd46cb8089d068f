//! Training checkpoints: config, progress, both networks and both optimizer states in one
//! checksummed, atomically written file, so a killed run resumes where it was.

use std::collections::BTreeMap;
use std::path::Path;

use burn::optim::ModuleOptimizer;
use burn::tensor::Bytes;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use crate::container::SectionFile;
use crate::error::{Error, ModelFileError, Result, printable};
use crate::model::discriminator::{Discriminator, DiscriminatorConfig};
use crate::model::file::{load_weights, weights_to_bytes};
use crate::model::{Generator, GeneratorConfig};

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Steps taken (including skipped ones).
    pub step: u64,
    /// Steps skipped for non-finite losses.
    pub skipped: u64,
    /// Current learning-rate multiplier (halved after a bad step, recovering slowly).
    pub lr_scale: f64,
    /// Training seconds so far.
    pub seconds: f64,
    /// Per loss name, its value at each recorded step.
    pub history: BTreeMap<String, Vec<f32>>,
    /// The step of each history entry.
    pub history_steps: Vec<u64>,
}

impl Default for TrainState {
    fn default() -> Self {
        Self {
            step: 0,
            skipped: 0,
            lr_scale: 1.0,
            seconds: 0.0,
            history: BTreeMap::new(),
            history_steps: Vec::new(),
        }
    }
}

impl TrainState {
    /// Append one step's losses to the history.
    pub fn record(&mut self, losses: &BTreeMap<String, f32>) {
        let n = self.history_steps.len();
        for (name, value) in losses {
            let series = self.history.entry(name.clone()).or_default();
            series.resize(n, f32::NAN);
            series.push(*value);
        }
        self.history_steps.push(self.step);
    }

    /// Mean of each loss over its last `n` finite entries.
    pub fn recent_means(&self, n: usize) -> BTreeMap<String, f32> {
        self.history
            .iter()
            .map(|(name, series)| {
                let recent: Vec<f32> = series
                    .iter()
                    .rev()
                    .filter(|v| v.is_finite())
                    .take(n)
                    .copied()
                    .collect();
                (
                    name.clone(),
                    recent.iter().sum::<f32>() / recent.len().max(1) as f32,
                )
            })
            .collect()
    }
}

const KIND: &[u8] = b"checkpoint";

/// The two networks of a run and their optimizers: what a checkpoint holds besides settings
/// and progress.
pub struct Networks {
    /// The generator being trained.
    pub generator: Generator,
    /// The discriminator it is trained against.
    pub discriminator: Discriminator,
    /// The generator's optimizer (its Adam moments).
    pub generator_optimizer: ModuleOptimizer,
    /// The discriminator's optimizer.
    pub discriminator_optimizer: ModuleOptimizer,
}

/// A loaded checkpoint.
pub struct Checkpoint {
    /// The run's settings.
    pub config: TrainConfig,
    /// Its progress.
    pub state: TrainState,
    container: SectionFile,
}

impl Checkpoint {
    /// Write a checkpoint atomically.
    pub fn save(
        path: &Path,
        config: &TrainConfig,
        state: &TrainState,
        networks: &Networks,
    ) -> Result<()> {
        let json = |v: &dyn erased::Json| v.to_json();
        let optim = |o: &ModuleOptimizer| {
            o.into_bytes()
                .map(|b| b.to_vec())
                .map_err(|e| Error::Serialize(format!("optimizer state: {e}")))
        };
        let mut c = SectionFile::default();
        c.push("kind", KIND.to_vec());
        c.push("config", json(config)?);
        c.push("state", json(state)?);
        c.push("generator", weights_to_bytes(&networks.generator)?);
        c.push("discriminator", weights_to_bytes(&networks.discriminator)?);
        c.push("generator_optimizer", optim(&networks.generator_optimizer)?);
        c.push(
            "discriminator_optimizer",
            optim(&networks.discriminator_optimizer)?,
        );
        c.write_atomic(path)
    }

    /// Read and validate a checkpoint file.
    pub fn load(path: &Path) -> Result<Self> {
        let container = SectionFile::read(path).map_err(|e| match e {
            Error::Model { path, reason } => Error::Checkpoint {
                path,
                reason: reason.to_string(),
            },
            other => other,
        })?;
        let refuse = |reason: String| Error::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let kind = container.get("kind").map_err(|e| refuse(e.to_string()))?;
        if kind != KIND {
            return Err(refuse(format!(
                "this is a {}, not a checkpoint",
                printable(&String::from_utf8_lossy(kind))
            )));
        }
        let parse = |name: &str| -> Result<serde_json::Value> {
            let bytes = container.get(name).map_err(|e| refuse(e.to_string()))?;
            serde_json::from_slice(bytes)
                .map_err(|e| refuse(format!("bad {name}: {}", printable(&e.to_string()))))
        };
        let config = serde_json::from_value(parse("config")?)
            .map_err(|e| refuse(format!("bad config: {}", printable(&e.to_string()))))?;
        let state = serde_json::from_value(parse("state")?)
            .map_err(|e| refuse(format!("bad state: {}", printable(&e.to_string()))))?;
        Ok(Self {
            config,
            state,
            container,
        })
    }

    /// Rebuild both networks on `device`, and restore their saved states into the optimizers
    /// given.
    pub fn networks(
        &self,
        device: &Device,
        generator_optimizer: ModuleOptimizer,
        discriminator_optimizer: ModuleOptimizer,
    ) -> Result<Networks> {
        let path = self.config.checkpoint_path();
        let refuse = |reason: ModelFileError| Error::Checkpoint {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let mut generator =
            GeneratorConfig::new(self.config.arch, self.config.styles.len()).init(device);
        load_weights(
            &mut generator,
            self.container.get("generator").map_err(refuse)?,
        )
        .map_err(refuse)?;
        let mut discriminator = DiscriminatorConfig::default().init(device);
        load_weights(
            &mut discriminator,
            self.container.get("discriminator").map_err(refuse)?,
        )
        .map_err(refuse)?;
        let optim = |o: ModuleOptimizer, name: &str| -> Result<ModuleOptimizer> {
            let bytes = self.container.get(name).map_err(refuse)?;
            o.from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
                .map_err(|e| Error::Checkpoint {
                    path: path.clone(),
                    reason: format!("bad {name}: {e}"),
                })
        };
        Ok(Networks {
            generator,
            discriminator,
            generator_optimizer: optim(generator_optimizer, "generator_optimizer")?,
            discriminator_optimizer: optim(discriminator_optimizer, "discriminator_optimizer")?,
        })
    }
}

mod erased {
    //! JSON serialization behind a trait object, so `save` can treat config and state alike.
    use crate::error::{Error, Result};

    pub trait Json {
        fn to_json(&self) -> Result<Vec<u8>>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Result<Vec<u8>> {
            serde_json::to_vec(self).map_err(|e| Error::Serialize(format!("training state: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_series_aligned_and_means_skip_gaps() {
        let mut state = TrainState::default();
        state.record(&BTreeMap::from([("a".to_string(), 1.0)]));
        state.step = 1;
        state.record(&BTreeMap::from([
            ("a".to_string(), 3.0),
            ("b".to_string(), 5.0),
        ]));
        assert_eq!(state.history["b"].len(), 2);
        assert!(state.history["b"][0].is_nan());
        let means = state.recent_means(10);
        assert_eq!(means["a"], 2.0);
        assert_eq!(means["b"], 5.0);
    }
}
