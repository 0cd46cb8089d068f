//! Picture files: reading one as RGB with a limit on its declared size (checked before
//! anything is decoded), writing PNG atomically, and scaling to a short side.

use std::path::Path;

use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::error::{Error, Result};

/// The most pixels an image may have unless the caller allows more: 40 megapixels, above
/// 8K UHD (33 MP) and most cameras. Decoded, that is 120 MB of RGB.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;

/// Read an image file as RGB, refusing one that declares more than [`MAX_IMAGE_PIXELS`];
/// errors name the file.
pub fn load_image(path: &Path) -> Result<RgbImage> {
    load_image_within(path, MAX_IMAGE_PIXELS)
}

/// Read an image file as RGB. Its size is read from the header first: one that declares more
/// than `max_pixels` pixels is refused before anything is decoded (a small file can declare
/// gigabytes). The format comes from the contents, not the name.
pub fn load_image_within(path: &Path, max_pixels: u64) -> Result<RgbImage> {
    let refuse = |reason: String| Error::Image {
        path: path.to_path_buf(),
        reason,
    };
    let open = || {
        image::ImageReader::open(path)
            .map_err(|e| refuse(e.to_string()))?
            .with_guessed_format()
            .map_err(|e| refuse(e.to_string()))
    };
    let (width, height) = open()?
        .into_dimensions()
        .map_err(|e| refuse(e.to_string()))?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(Error::ImageTooLarge {
            path: path.to_path_buf(),
            width,
            height,
            limit: max_pixels,
        });
    }
    let mut reader = open()?;
    let mut limits = image::Limits::default();
    // The decoder's own buffers, with room for 16-bit channels and an alpha plane.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).max(1 << 26));
    reader.limits(limits);
    let image = reader.decode().map_err(|e| refuse(e.to_string()))?;
    Ok(image.to_rgb8())
}

/// Scale so the shorter side is `side` (keeping the aspect ratio).
pub fn fit_short_side(image: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let scale = side as f32 / w.min(h) as f32;
    let (nw, nh) = (
        ((w as f32 * scale).round() as u32).max(side),
        ((h as f32 * scale).round() as u32).max(side),
    );
    if (nw, nh) == (w, h) {
        image.clone()
    } else {
        imageops::resize(image, nw, nh, FilterType::Triangle)
    }
}

/// Scale down (never up) so the shorter side is at most `side`.
pub fn fit_short_side_at_most(image: &RgbImage, side: u32) -> RgbImage {
    if image.width().min(image.height()) > side {
        fit_short_side(image, side)
    } else {
        image.clone()
    }
}

/// Encode `image` as PNG and write it atomically.
pub fn save_png(path: &Path, image: &RgbImage) -> Result<()> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| Error::Image {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    crate::files::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_declaring_too_many_pixels_are_refused_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.png");
        RgbImage::new(300, 200).save(&path).unwrap();
        let err = load_image_within(&path, 50_000).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ImageTooLarge {
                    width: 300,
                    height: 200,
                    limit: 50_000,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("big.png"), "{err}");
        assert_eq!(
            load_image_within(&path, 60_000).unwrap().dimensions(),
            (300, 200)
        );
        // The format comes from the contents, not the name.
        let misnamed = dir.path().join("really-a-png.jpg");
        std::fs::copy(&path, &misnamed).unwrap();
        assert!(load_image(&misnamed).is_ok());
    }
}
