//! Frames on the CPU: RGB images ↔ generator tensors, the strength blend with the input, and
//! colour preservation (keep the input's chroma, take the styled luminance). These are also the
//! CPU references for the GPU shaders.

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
        .to_vec()
        .expect("f32 tensor data");
    data.chunks(3 * h * w)
        .take(n)
        .map(|chunk| from_planar(chunk, w as u32, h as u32))
        .collect()
}

fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Rec. 601 luma of an RGB triple in [0, 1].
pub fn luma(rgb: [f32; 3]) -> f32 {
    0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
}

/// `strength * styled + (1 - strength) * input` for one pixel; with `preserve_color` the styled
/// pixel first takes the input's colour (its chroma), keeping only the styled luminance.
pub fn blend_pixel(
    input: [f32; 3],
    styled: [f32; 3],
    strength: f32,
    preserve_color: bool,
) -> [f32; 3] {
    let styled = if preserve_color {
        let shift = luma(styled) - luma(input);
        input.map(|c| c + shift)
    } else {
        styled
    };
    std::array::from_fn(|c| input[c] + strength * (styled[c] - input[c]))
}

/// Apply [`blend_pixel`] to whole images (same size), rounding back to 8 bits.
pub fn blend(input: &RgbImage, styled: &RgbImage, strength: f32, preserve_color: bool) -> RgbImage {
    assert_eq!(
        input.dimensions(),
        styled.dimensions(),
        "blend needs same-size images"
    );
    let mut out = input.clone();
    for (o, (i, s)) in out.pixels_mut().zip(input.pixels().zip(styled.pixels())) {
        let f = |p: &image::Rgb<u8>| p.0.map(|v| f32::from(v) / 255.0);
        o.0 = blend_pixel(f(i), f(s), strength, preserve_color).map(to_u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RgbImage {
        RgbImage::from_fn(5, 3, |x, y| {
            image::Rgb([(x * 50) as u8, (y * 100) as u8, 7])
        })
    }

    #[test]
    fn tensor_round_trip_is_exact() {
        let device = Device::flex();
        let image = sample();
        let back = tensor_to_images(image_to_tensor(&image, &device));
        assert_eq!(back, vec![image]);
    }

    #[test]
    fn strength_zero_is_the_input_and_one_is_the_styled_image() {
        let input = sample();
        let styled = RgbImage::from_pixel(5, 3, image::Rgb([200, 10, 90]));
        assert_eq!(blend(&input, &styled, 0.0, false), input);
        assert_eq!(blend(&input, &styled, 1.0, false), styled);
        let half = blend(&input, &styled, 0.5, false);
        assert_eq!(half.get_pixel(0, 0).0, [100, 5, 49]);
    }

    #[test]
    fn preserve_color_keeps_input_chroma_and_styled_luma() {
        let input = [0.6, 0.3, 0.2];
        let styled = [0.1, 0.9, 0.5];
        let out = blend_pixel(input, styled, 1.0, true);
        assert!((luma(out) - luma(styled)).abs() < 1e-6);
        // Chroma (differences between channels) is the input's.
        assert!(((out[0] - out[1]) - (input[0] - input[1])).abs() < 1e-6);
        assert!(((out[2] - out[1]) - (input[2] - input[1])).abs() < 1e-6);
    }
}
