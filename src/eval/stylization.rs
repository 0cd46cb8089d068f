//! How much an output looks like its style: with a pretrained VGG16, the style loss is the mean
//! over relu1_2, relu2_2, relu3_3 and relu4_3 of the squared Frobenius distance between the
//! Gram matrices (G = F Fᵀ / (C·H·W)) of the picture and of the style image, and the
//! **stylization ratio** is the output's style loss over the input photo's (1 = no closer to
//! the style than the photo was). Ratios are combined over photos by their geometric mean. The
//! per-layer ratios are reported too, since relu1_2's distance is orders of magnitude larger
//! than the others' and so dominates the mean: "mean over layers" averages the four ratios,
//! which only falls when the deeper layers (texture, strokes) change as well as the colours.
//! Content loss is the mean squared difference of relu3_3 features of output and photo.

use burn::tensor::{Device, Tensor};
use image::RgbImage;

use crate::frame::image_to_tensor;
use crate::train::losses::gram;
use crate::train::vgg::Vgg;

/// The layers measured, in [`Vgg::features`] order.
pub const LAYERS: [&str; 4] = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"];
/// The layer of the content loss (index in [`LAYERS`]).
const CONTENT_LAYER: usize = 2;
/// Short side the style image is measured at.
pub const STYLE_SIDE: u32 = 256;

/// The style image's Gram matrices, one per layer.
pub struct StyleTarget {
    grams: Vec<Tensor<3>>,
}

impl StyleTarget {
    /// Gram matrices of `style` (already scaled as it should be measured).
    pub fn new(net: &Vgg, style: &RgbImage) -> Self {
        let device = Device::flex();
        let grams = net
            .features(image_to_tensor(style, &device))
            .maps
            .into_iter()
            .map(gram)
            .collect();
        Self { grams }
    }

    /// Squared Frobenius distance to the style's Gram matrix at each layer, and the picture's
    /// relu3_3 features (for the content loss).
    fn distances(&self, net: &Vgg, picture: &RgbImage) -> ([f64; 4], Tensor<4>) {
        let maps = net.features(image_to_tensor(picture, &Device::flex())).maps;
        let content = maps[CONTENT_LAYER].clone();
        let mut out = [0.0; 4];
        for (i, (map, target)) in maps.into_iter().zip(&self.grams).enumerate() {
            let d = (gram(map) - target.clone()).square().sum();
            out[i] = f64::from(d.into_scalar::<f32>());
        }
        (out, content)
    }
}

/// One output against its photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Style loss of the output over style loss of the photo.
    pub ratio: f64,
    /// The same ratio at each layer.
    pub layer_ratios: [f64; 4],
    /// Mean squared difference of relu3_3 features, output against photo.
    pub content: f64,
}

impl Figures {
    /// The mean of the per-layer ratios.
    pub fn mean_layer_ratio(&self) -> f64 {
        self.layer_ratios.iter().sum::<f64>() / 4.0
    }
}

/// Style loss from per-layer distances.
pub fn style_loss(distances: &[f64; 4]) -> f64 {
    distances.iter().sum::<f64>() / 4.0
}

/// The figures of `outputs` (several restylings of one photo: the model's, a baseline's) against
/// the photo itself.
pub fn measure(
    net: &Vgg,
    target: &StyleTarget,
    photo: &RgbImage,
    outputs: &[&RgbImage],
) -> Vec<Figures> {
    let (before, photo_features) = target.distances(net, photo);
    outputs
        .iter()
        .map(|output| {
            let (after, features) = target.distances(net, output);
            let content = (features - photo_features.clone()).square().mean();
            Figures {
                ratio: style_loss(&after) / style_loss(&before).max(f64::MIN_POSITIVE),
                layer_ratios: std::array::from_fn(|l| after[l] / before[l].max(f64::MIN_POSITIVE)),
                content: f64::from(content.into_scalar::<f32>()),
            }
        })
        .collect()
}

/// Figures over several photos: geometric means of the ratios, arithmetic mean of the
/// content loss.
pub fn combine(figures: &[Figures]) -> Figures {
    let geometric = |f: &dyn Fn(&Figures) -> f64| {
        let n = figures.len().max(1) as f64;
        (figures
            .iter()
            .map(|x| f(x).max(f64::MIN_POSITIVE).ln())
            .sum::<f64>()
            / n)
            .exp()
    };
    Figures {
        ratio: geometric(&|f| f.ratio),
        layer_ratios: std::array::from_fn(|l| geometric(&|f| f.layer_ratios[l])),
        content: figures.iter().map(|f| f.content).sum::<f64>() / figures.len().max(1) as f64,
    }
}

/// The geometric mean over photos of each photo's mean-over-layers ratio.
pub fn combined_mean_layer_ratio(figures: &[Figures]) -> f64 {
    let n = figures.len().max(1) as f64;
    (figures
        .iter()
        .map(|f| f.mean_layer_ratio().max(f64::MIN_POSITIVE).ln())
        .sum::<f64>()
        / n)
        .exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use image::Rgb;

    /// A small random VGG16 (the maths does not need trained weights).
    fn net() -> Vgg {
        let mut vgg = Vgg::new(16, &Device::flex());
        vgg.convs.iter_mut().for_each(|c| {
            let dims = c.weight.dims();
            c.weight = burn::module::Param::from_tensor(Tensor::random(
                dims,
                Distribution::Uniform(-0.05, 0.05),
                &Device::flex(),
            ));
        });
        vgg
    }

    fn picture(seed: u32) -> RgbImage {
        RgbImage::from_fn(32, 32, |x, y| {
            Rgb([
                ((x * 7 + seed * 31) % 256) as u8,
                ((y * 5 + x * seed) % 256) as u8,
                ((x ^ y) * 8 % 256) as u8,
            ])
        })
    }

    #[test]
    fn the_style_image_itself_scores_zero_and_the_photo_one() {
        let net = net();
        let (style, photo) = (picture(3), picture(9));
        let target = StyleTarget::new(&net, &style);
        let figures = measure(&net, &target, &photo, &[&photo, &style]);
        assert!((figures[0].ratio - 1.0).abs() < 1e-9, "{:?}", figures[0]);
        assert!(
            figures[0]
                .layer_ratios
                .iter()
                .all(|r| (r - 1.0).abs() < 1e-9)
        );
        assert!(figures[0].content.abs() < 1e-12);
        assert!(figures[1].ratio < 1e-6, "{:?}", figures[1]);
        assert!(figures[1].content > 0.0);
    }

    #[test]
    fn gram_distance_is_the_squared_frobenius_norm_of_the_difference() {
        // Gram of a [1, 2, 1, 2] map [[1, 2], [3, 4]]: F Fᵀ / (2·1·2) = [[5, 11], [11, 25]] / 4.
        let f =
            Tensor::<1>::from_floats([1.0, 2.0, 3.0, 4.0], &Device::flex()).reshape([1, 2, 1, 2]);
        let g: Vec<f32> = gram(f).into_data().try_to_vec().unwrap();
        assert_eq!(g, vec![1.25, 2.75, 2.75, 6.25]);
        assert_eq!(style_loss(&[4.0, 0.0, 2.0, 2.0]), 2.0);
    }

    #[test]
    fn ratios_combine_by_geometric_mean() {
        let f = |r: f64| Figures {
            ratio: r,
            layer_ratios: [r, r, 1.0, 1.0],
            content: r,
        };
        let c = combine(&[f(0.5), f(0.02)]);
        assert!((c.ratio - 0.1).abs() < 1e-12, "{c:?}");
        assert!((c.layer_ratios[0] - 0.1).abs() < 1e-12 && c.layer_ratios[3] == 1.0);
        assert!((c.content - 0.26).abs() < 1e-12);
        // Per photo: (0.5 + 0.5 + 1 + 1) / 4 = 0.75 and (0.02 + 0.02 + 2) / 4 = 0.51.
        let m = combined_mean_layer_ratio(&[f(0.5), f(0.02)]);
        assert!((m - (0.75f64 * 0.51).sqrt()).abs() < 1e-12, "{m}");
    }
}
