//! Random weights that are the same on every run. burn draws initial weights from one
//! generator per process, shared by every thread, so `device.seed(n)` followed by `init` gives
//! different weights whenever another thread (a parallel test) draws in between.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `module` with every randomly initialized parameter drawn again from a generator seeded
/// with `seed`, uniform in ±1/√fan-in as burn's default initializer does (a bias takes the
/// fan-in of the convolution weight before it). Parameters that start constant (norm scales
/// and shifts, zero biases) stay as they are. Gradient tracking is kept.
///
/// Made for this project's modules: convolutions (4-d weights, each bias right after its
/// weight) and constant-initialized norms. A random parameter of one value would count as
/// constant and keep burn's draw; a random 2-d weight (a linear layer) would take the fan-in
/// of the convolution before it.
pub fn seeded<M: Module>(module: M, seed: u64) -> M {
    module.map(&mut Redraw {
        rng: StdRng::seed_from_u64(seed),
        fan_in: 1,
    })
}

struct Redraw {
    rng: StdRng,
    /// Fan-in of the last 4-d weight seen: biases come right after their weight.
    fan_in: usize,
}

impl ModuleMapper for Redraw {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|tensor| {
            let dims = tensor.dims();
            if D == 4 {
                self.fan_in = dims[1..].iter().product::<usize>().max(1);
            }
            let values = tensor
                .to_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("float parameters read back as f32");
            if values.windows(2).all(|pair| pair[0] == pair[1]) {
                return tensor;
            }
            let bound = 1.0 / (self.fan_in as f32).sqrt();
            let drawn: Vec<f32> = (0..values.len())
                .map(|_| self.rng.random_range(-bound..bound))
                .collect();
            let redrawn = Tensor::from_data(TensorData::new(drawn, dims), &tensor.device());
            if tensor.is_require_grad() {
                redrawn.require_grad()
            } else {
                redrawn
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;
    use crate::model::file::weights_to_bytes;
    use crate::model::{Arch, GeneratorConfig};

    #[test]
    fn the_same_seed_gives_the_same_weights_and_keeps_constant_parameters() {
        let device = Device::flex();
        let config = GeneratorConfig::new(Arch::Fast, 2);
        // Every tensor by name (the file's header also carries parameter ids, which differ).
        let values = |seed| {
            let bytes = weights_to_bytes(&seeded(config.init(&device), seed)).unwrap();
            let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let mut named: Vec<(String, Vec<u8>)> = file
                .tensors()
                .into_iter()
                .map(|(name, view)| (name, view.data().to_vec()))
                .collect();
            named.sort();
            named
        };
        assert_eq!(values(7), values(7));
        assert_ne!(values(7), values(8));

        let generator = seeded(config.init(&device), 7);
        let first = &generator.encoder[0];
        let gamma = first.norm.as_ref().unwrap().gamma.val();
        let gamma = gamma.into_data().try_into_vec::<f32>().unwrap();
        assert!(
            gamma.iter().all(|g| *g == 1.0),
            "norm scales start at 1: {gamma:?}"
        );
        let weight = first.conv.weight.val();
        let [_, cin, kh, kw] = weight.dims();
        let bound = 1.0 / ((cin * kh * kw) as f32).sqrt();
        let weight = weight.into_data().try_into_vec::<f32>().unwrap();
        assert!(weight.iter().all(|w| w.abs() <= bound));
        assert!(weight.iter().any(|w| w.abs() > 0.5 * bound));
    }
}
