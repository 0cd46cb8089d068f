//! Runtime temporal smoothing for the element's `stability` property: where the input barely
//! changed since the previous frame, the output leans towards the previous output, so static
//! regions stop flickering; where the input moved, the new output is taken as it is, so moving
//! regions do not ghost.

use image::RgbImage;

use super::to_u8;

/// Input changes (largest channel difference, 0..1) at or below this count as sensor noise:
/// such a pixel is fully static.
pub const STATIC_BELOW: f32 = 3.0 / 255.0;
/// Input changes at or above this count as motion: the new output is used unchanged.
pub const MOVING_ABOVE: f32 = 24.0 / 255.0;

/// How static a pixel is (1 = unchanged, 0 = moving) from its input change `d` in 0..1.
pub fn staticness(d: f32) -> f32 {
    let t = ((d - STATIC_BELOW) / (MOVING_ABOVE - STATIC_BELOW)).clamp(0.0, 1.0);
    1.0 - t * t * (3.0 - 2.0 * t)
}

/// Blend `output` towards `prev_output` by `stability * staticness` per pixel, judged by how
/// much `input` differs from `prev_input`. All four images have the same size.
pub fn stabilize(
    prev_input: &RgbImage,
    input: &RgbImage,
    prev_output: &RgbImage,
    output: &mut RgbImage,
    stability: f32,
) {
    assert!(
        prev_input.dimensions() == input.dimensions()
            && prev_output.dimensions() == output.dimensions()
            && input.dimensions() == output.dimensions(),
        "stabilize needs same-size frames"
    );
    if stability <= 0.0 {
        return;
    }
    let pixels = prev_input
        .pixels()
        .zip(input.pixels())
        .zip(prev_output.pixels());
    for (o, ((pi, i), po)) in output.pixels_mut().zip(pixels) {
        o.0 = stabilize_pixel(pi.0, i.0, po.0, o.0, stability);
    }
}

/// [`stabilize`] for one pixel: `output` leaned towards `prev_output` by how little the input
/// changed from `prev_input`, times `stability` (0..1).
pub fn stabilize_pixel(
    prev_input: [u8; 3],
    input: [u8; 3],
    prev_output: [u8; 3],
    output: [u8; 3],
    stability: f32,
) -> [u8; 3] {
    let d = (0..3)
        .map(|c| f32::from(input[c].abs_diff(prev_input[c])) / 255.0)
        .fold(0.0, f32::max);
    let w = stability.min(1.0) * staticness(d);
    if w <= 0.0 {
        return output;
    }
    std::array::from_fn(|c| {
        let (new, old) = (
            f32::from(output[c]) / 255.0,
            f32::from(prev_output[c]) / 255.0,
        );
        to_u8(new + w * (old - new))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_pixels_keep_the_previous_output_and_moving_ones_take_the_new() {
        // Left column static, right column changed strongly.
        let prev_input = RgbImage::from_pixel(2, 1, image::Rgb([100, 100, 100]));
        let mut input = prev_input.clone();
        input.put_pixel(1, 0, image::Rgb([200, 30, 100]));
        let prev_output = RgbImage::from_pixel(2, 1, image::Rgb([10, 20, 30]));
        let new = RgbImage::from_pixel(2, 1, image::Rgb([50, 60, 70]));

        let mut out = new.clone();
        stabilize(&prev_input, &input, &prev_output, &mut out, 1.0);
        assert_eq!(
            out.get_pixel(0, 0).0,
            [10, 20, 30],
            "static: previous output"
        );
        assert_eq!(out.get_pixel(1, 0).0, [50, 60, 70], "moving: new output");

        let mut half = new.clone();
        stabilize(&prev_input, &input, &prev_output, &mut half, 0.5);
        assert_eq!(half.get_pixel(0, 0).0, [30, 40, 50]);

        let mut off = new.clone();
        stabilize(&prev_input, &input, &prev_output, &mut off, 0.0);
        assert_eq!(off, new);
    }

    #[test]
    fn staticness_falls_smoothly_from_noise_to_motion() {
        assert_eq!(staticness(0.0), 1.0);
        assert_eq!(staticness(STATIC_BELOW), 1.0);
        assert_eq!(staticness(MOVING_ABOVE), 0.0);
        let mid = staticness((STATIC_BELOW + MOVING_ABOVE) / 2.0);
        assert!((mid - 0.5).abs() < 1e-6);
        let samples: Vec<f32> = (0..=20).map(|i| staticness(i as f32 / 200.0)).collect();
        assert!(
            samples.windows(2).all(|w| w[1] <= w[0]),
            "monotone: {samples:?}"
        );
    }
}
