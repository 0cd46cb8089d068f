//! The strength blend with the input and colour preservation (keep the input's chroma, take the
//! styled luminance): the CPU reference for `shaders/blend.wgsl`.

use image::RgbImage;

use super::to_u8;

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
    use crate::frame::sample;

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
