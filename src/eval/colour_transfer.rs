//! The colour-transfer baseline of `ganstyle eval` (Reinhard et al. 2001, in CIELAB): each
//! channel of the photo is shifted and scaled to the style image's mean and standard deviation.
//! It changes colours and nothing else, so a model that scores no better than it is a colour
//! grade, not a style.

use image::{Rgb, RgbImage};

/// The photo with the style image's colour statistics.
pub fn reinhard(photo: &RgbImage, style: &RgbImage) -> RgbImage {
    let (from, to) = (statistics(photo), statistics(style));
    let mut out = RgbImage::new(photo.width(), photo.height());
    for (o, p) in out.pixels_mut().zip(photo.pixels()) {
        let lab = srgb_to_lab(p.0);
        let moved: [f32; 3] = std::array::from_fn(|c| {
            // A flat channel (deviation 0) takes the style's mean.
            let scale = if from.1[c] > 1e-6 {
                to.1[c] / from.1[c]
            } else {
                0.0
            };
            (lab[c] - from.0[c]) * scale + to.0[c]
        });
        *o = Rgb(lab_to_srgb(moved));
    }
    out
}

/// Mean and standard deviation of each Lab channel.
fn statistics(image: &RgbImage) -> ([f32; 3], [f32; 3]) {
    let n = f64::from(image.width() * image.height()).max(1.0);
    let (mut sum, mut square) = ([0f64; 3], [0f64; 3]);
    for p in image.pixels() {
        let lab = srgb_to_lab(p.0);
        for c in 0..3 {
            sum[c] += f64::from(lab[c]);
            square[c] += f64::from(lab[c]).powi(2);
        }
    }
    let mean: [f64; 3] = std::array::from_fn(|c| sum[c] / n);
    (
        mean.map(|m| m as f32),
        std::array::from_fn(|c| (square[c] / n - mean[c].powi(2)).max(0.0).sqrt() as f32),
    )
}

/// D65 white, XYZ.
const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

fn srgb_to_lab(rgb: [u8; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(|v| {
        let v = f32::from(v) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    });
    let xyz = [
        0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b,
        0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b,
        0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b,
    ];
    let f = |t: f32| {
        if t > 216.0 / 24_389.0 {
            t.cbrt()
        } else {
            (24_389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let [fx, fy, fz] = std::array::from_fn(|i| f(xyz[i] / WHITE[i]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

fn lab_to_srgb(lab: [f32; 3]) -> [u8; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let (fx, fz) = (fy + lab[1] / 500.0, fy - lab[2] / 200.0);
    let inverse = |f: f32| {
        if f.powi(3) > 216.0 / 24_389.0 {
            f.powi(3)
        } else {
            (116.0 * f - 16.0) * 27.0 / 24_389.0
        }
    };
    let [x, y, z] = [inverse(fx) * WHITE[0], inverse(fy), inverse(fz) * WHITE[2]];
    let linear = [
        3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z,
        -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z,
        0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z,
    ];
    linear.map(|v| {
        let v = v.clamp(0.0, 1.0);
        let s = if v <= 0.003_130_8 {
            12.92 * v
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        };
        (s * 255.0).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_round_trips_every_grey_and_the_primaries() {
        for v in 0..=255u8 {
            assert_eq!(lab_to_srgb(srgb_to_lab([v, v, v])), [v, v, v]);
        }
        for rgb in [[255, 0, 0], [0, 255, 0], [0, 0, 255], [12, 200, 99]] {
            assert_eq!(lab_to_srgb(srgb_to_lab(rgb)), rgb);
        }
        // White is L 100, a = b = 0.
        let white = srgb_to_lab([255, 255, 255]);
        assert!(
            (white[0] - 100.0).abs() < 0.01 && white[1].abs() < 0.01,
            "{white:?}"
        );
    }

    #[test]
    fn a_constant_photo_takes_the_style_images_mean_colour() {
        let photo = RgbImage::from_pixel(8, 6, Rgb([30, 160, 90]));
        let style = RgbImage::from_fn(10, 10, |x, _| {
            if x % 2 == 0 {
                Rgb([200, 40, 40])
            } else {
                Rgb([220, 60, 20])
            }
        });
        let out = reinhard(&photo, &style);
        let mean = statistics(&style).0;
        for p in out.pixels() {
            assert_eq!(p.0, lab_to_srgb(mean));
        }
    }

    #[test]
    fn a_photo_transferred_to_its_own_colours_is_unchanged_and_the_stats_move() {
        let photo = RgbImage::from_fn(16, 16, |x, y| Rgb([(x * 15) as u8, (y * 15) as u8, 80]));
        let same = reinhard(&photo, &photo);
        let off = photo
            .pixels()
            .zip(same.pixels())
            .flat_map(|(a, b)| (0..3).map(move |c| a.0[c].abs_diff(b.0[c])))
            .max()
            .unwrap();
        assert!(off <= 1, "{off} levels off");
        let style = RgbImage::from_fn(16, 16, |x, _| Rgb([250, 200 - x as u8 * 3, 10]));
        let (want, got) = (statistics(&style), statistics(&reinhard(&photo, &style)));
        for c in 0..3 {
            assert!(
                (want.0[c] - got.0[c]).abs() < 1.5,
                "mean {c}: {want:?} {got:?}"
            );
        }
    }
}
