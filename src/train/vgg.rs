//! VGG16 / VGG19 feature layers loaded from a user's torchvision file (safetensors or PyTorch
//! `.pth`, keys `features.N.weight` / `features.N.bias`), for the classic perceptual losses:
//! style at relu1_2, relu2_2, relu3_3/3_4, relu4_3/4_4; content at relu2_2.

use std::path::Path;

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::store::{KeyRemapper, ModuleSnapshot, ModuleStore, PytorchStore, SafetensorsStore};
use burn::tensor::{Device, Tensor};

use super::loss_net::{Features, conv_relu};
use crate::error::{Error, ModelFileError, Result};

/// Convolutions per block (the blocks are separated by 2× max pooling).
fn blocks(variant: usize) -> [usize; 5] {
    if variant == 19 {
        [2, 2, 4, 4, 4]
    } else {
        [2, 2, 3, 3, 3]
    }
}

/// VGG's convolutional layers.
#[derive(Module, Debug)]
pub struct Vgg {
    /// The 13 (VGG16) or 16 (VGG19) 3×3 convolutions, in order.
    pub convs: Vec<Conv2d>,
    /// 16 or 19.
    pub variant: usize,
}

impl Vgg {
    /// A VGG with fresh random weights (`variant` 16 or 19).
    pub fn new(variant: usize, device: &Device) -> Self {
        let mut cin = 3;
        let mut convs = Vec::new();
        for (block, &count) in blocks(variant).iter().enumerate() {
            let cout = [64, 128, 256, 512, 512][block];
            for _ in 0..count {
                convs.push(
                    Conv2dConfig::new([cin, cout], [3, 3])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(device),
                );
                cin = cout;
            }
        }
        Self { convs, variant }
    }

    /// Load from a torchvision VGG16/19 file (`vgg16-*.pth`, or the same keys in safetensors).
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let refuse = |reason: String| Error::model(path, ModelFileError::Incompatible(reason));
        let bytes = crate::container::read_file(path)?;
        let remap = KeyRemapper::new()
            .add_pattern(r"^features\.", "convs.")
            .expect("valid pattern");
        if bytes.starts_with(b"PK\x03\x04") {
            let store = PytorchStore::from_file(path)
                .map_indices_contiguous(true)
                .remap(remap)
                .allow_partial(true);
            Self::from_store(store, device).map_err(refuse)
        } else {
            let store = SafetensorsStore::from_bytes(Some(bytes))
                .map_indices_contiguous(true)
                .remap(remap)
                .allow_partial(true);
            Self::from_store(store, device).map_err(refuse)
        }
    }

    fn from_store<S: ModuleStore>(
        mut store: S,
        device: &Device,
    ) -> std::result::Result<Self, String> {
        let names = store
            .keys()
            .map_err(|e| format!("not a readable VGG file: {e}"))?;
        let convs = names
            .iter()
            .filter(|n| n.starts_with("convs.") && n.ends_with(".weight"))
            .count();
        let variant = match convs {
            13 => 16,
            16 => 19,
            n => {
                return Err(format!(
                    "not a torchvision VGG16/VGG19: {n} convolution weights under features.*"
                ));
            }
        };
        let mut vgg = Vgg::new(variant, device);
        let result = vgg.load_from(&mut store).map_err(|e| e.to_string())?;
        if !result.missing.is_empty() || !result.errors.is_empty() {
            return Err(format!(
                "missing {:?}, refused {:?}",
                result.missing.first(),
                result.errors.first()
            ));
        }
        Ok(vgg)
    }

    /// A name for reports.
    pub fn describe(&self) -> String {
        format!("vgg{}", self.variant)
    }

    /// Features of `[b, 3, h, w]` images in [0, 1] (ImageNet-normalized inside).
    pub fn features(&self, x: Tensor<4>) -> Features {
        let device = x.device();
        let mean = Tensor::<1>::from_floats([0.485, 0.456, 0.406], &device).reshape([1, 3, 1, 1]);
        let std = Tensor::<1>::from_floats([0.229, 0.224, 0.225], &device).reshape([1, 3, 1, 1]);
        let mut y = (x - mean) / std;
        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        let mut maps = Vec::new();
        let mut convs = self.convs.iter();
        for (block, &count) in blocks(self.variant).iter().take(4).enumerate() {
            if block > 0 {
                y = pool.forward(y);
            }
            for conv in convs.by_ref().take(count) {
                y = conv_relu(conv, y);
            }
            maps.push(y.clone());
        }
        Features { maps, content: 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use safetensors::tensor::{Dtype, TensorView};

    /// Write random conv weights in torchvision's `features.N` naming (ReLU and pooling layers
    /// take indices too, so the conv indices have gaps) and return the values of each conv weight.
    fn write_torchvision(path: &Path, blocks: &[usize], channels: &[usize]) -> Vec<Vec<f32>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut index = 0;
        let mut cin = 3;
        let mut tensors = Vec::new();
        let mut weights = Vec::new();
        for (b, &count) in blocks.iter().enumerate() {
            for _ in 0..count {
                let cout = channels[b];
                let w: Vec<f32> = (0..cout * cin * 9)
                    .map(|_| rng.random_range(-0.1..0.1))
                    .collect();
                let bias: Vec<f32> = (0..cout).map(|_| rng.random_range(-0.1..0.1)).collect();
                tensors.push((
                    format!("features.{index}.weight"),
                    vec![cout, cin, 3, 3],
                    w.clone(),
                ));
                tensors.push((format!("features.{index}.bias"), vec![cout], bias));
                weights.push(w);
                index += 2; // conv, relu
                cin = cout;
            }
            index += 1; // pool
        }
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
            .into_iter()
            .map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
            .collect();
        let views: Vec<(String, TensorView)> = bytes
            .iter()
            .map(|(n, s, b)| {
                (
                    n.clone(),
                    TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
                )
            })
            .collect();
        std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
        weights
    }

    #[test]
    fn torchvision_vgg16_weights_load_into_the_right_layers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vgg16.safetensors");
        let written = write_torchvision(&path, &[2, 2, 3, 3, 3], &[64, 128, 256, 512, 512]);
        let vgg = Vgg::load(&path, &Device::flex()).unwrap();
        assert_eq!(vgg.variant, 16);
        for i in [0, 4, 9, 12] {
            let loaded: Vec<f32> = vgg.convs[i]
                .weight
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert_eq!(loaded, written[i], "conv {i}");
        }
        let features = vgg.features(Tensor::zeros([1, 3, 32, 32], &Device::flex()));
        let dims: Vec<_> = features.maps.iter().map(|m| m.dims()).collect();
        assert_eq!(
            dims,
            vec![
                [1, 64, 32, 32],
                [1, 128, 16, 16],
                [1, 256, 8, 8],
                [1, 512, 4, 4]
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_vgg_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.safetensors");
        write_torchvision(&path, &[1, 1], &[4, 4]);
        let err = Vgg::load(&path, &Device::flex()).unwrap_err().to_string();
        assert!(
            err.contains("small.safetensors") && err.contains("not a torchvision VGG16/VGG19"),
            "{err}"
        );
    }
}
