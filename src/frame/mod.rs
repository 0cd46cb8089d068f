//! Frames on the CPU: RGB images ↔ generator tensors ([this module](self)), packed video
//! frames ↔ RGB images ([`packed`]), the strength blend and colour preservation ([`blend`]) and
//! runtime temporal smoothing ([`stability`]). These are also the CPU references for the GPU
//! shaders. [`finish`] does blend, stabilize and pack in one pass over a packed frame, for the
//! CPU frame path.

pub mod blend;
pub mod finish;
pub mod packed;
pub mod stability;

pub use blend::{blend, blend_pixel, luma};

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

/// An RGB image as a `[1, 3, h, w]` tensor with values in [0, 1].
pub fn image_to_tensor(image: &RgbImage, device: &Device) -> Tensor<4> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    Tensor::from_data(TensorData::new(to_planar(image), [1, 3, h, w]), device)
}

/// Several same-size RGB images as a `[n, 3, h, w]` tensor in [0, 1].
pub fn images_to_tensor(images: &[RgbImage], device: &Device) -> Tensor<4> {
    let (w, h) = (images[0].width() as usize, images[0].height() as usize);
    let data: Vec<f32> = images.iter().flat_map(to_planar).collect();
    Tensor::from_data(TensorData::new(data, [images.len(), 3, h, w]), device)
}

/// Planar (CHW) floats in [0, 1] from an interleaved RGB image.
pub fn to_planar(image: &RgbImage) -> Vec<f32> {
    let n = (image.width() * image.height()) as usize;
    let mut out = vec![0.0; 3 * n];
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * n + i] = f32::from(p[c]) / 255.0;
        }
    }
    out
}

/// An RGB image from planar floats (clamped to [0, 1], rounded).
pub fn from_planar(planar: &[f32], width: u32, height: u32) -> RgbImage {
    let n = (width * height) as usize;
    assert_eq!(
        planar.len(),
        3 * n,
        "planar buffer does not fit {width}x{height}"
    );
    RgbImage::from_fn(width, height, |x, y| {
        let i = (y * width + x) as usize;
        image::Rgb(std::array::from_fn(|c| to_u8(planar[c * n + i])))
    })
}

/// Images from a `[n, 3, h, w]` tensor in [0, 1].
pub fn tensor_to_images(tensor: Tensor<4>) -> Vec<RgbImage> {
    let [n, _, h, w] = tensor.dims();
    let data: Vec<f32> = tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data");
    data.chunks(3 * h * w)
        .take(n)
        .map(|chunk| from_planar(chunk, w as u32, h as u32))
        .collect()
}

/// A value in [0, 1] (clamped) as the nearest 8-bit level, halves rounded up.
///
/// Adding 0.5 and truncating is `round()` for these non-negative values, without the libm call
/// that `round()` compiles to on baseline x86-64 (no SSE4.1): it runs for every value of every
/// frame.
#[inline]
pub(crate) fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

/// A small 5×3 test image with distinct pixels.
#[cfg(test)]
pub(crate) fn sample() -> RgbImage {
    RgbImage::from_fn(5, 3, |x, y| {
        image::Rgb([(x * 50) as u8, (y * 100) as u8, 7])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_u8_rounds_to_the_nearest_level_and_clamps() {
        for level in 0..=255u8 {
            let v = f32::from(level) / 255.0;
            assert_eq!(to_u8(v), level);
            assert_eq!(to_u8(v + 0.49 / 255.0), level);
            if level > 0 {
                assert_eq!(to_u8(v - 0.49 / 255.0), level);
                assert_eq!(to_u8(v - 0.51 / 255.0), level - 1);
            }
        }
        assert_eq!((to_u8(-3.0), to_u8(7.0), to_u8(f32::NAN)), (0, 255, 0));
    }

    #[test]
    fn tensor_round_trip_is_exact() {
        let device = Device::flex();
        let image = sample();
        let back = tensor_to_images(image_to_tensor(&image, &device));
        assert_eq!(back, vec![image]);
    }
}
