//! Style pictures for arbitrary-style models: read with the usual size limit, and refused when
//! too small to carry a style.

use std::path::Path;

use image::RgbImage;

use crate::error::{Error, Result};

/// The shortest side a style picture may have.
pub const MIN_SIDE: u32 = 16;

/// Check that `picture` (read from `path`) is large enough to be a style.
pub fn check(picture: RgbImage, path: &Path) -> Result<RgbImage> {
    let (w, h) = picture.dimensions();
    if w.min(h) < MIN_SIDE {
        return Err(Error::Image {
            path: path.to_path_buf(),
            reason: format!(
                "{w}x{h} is too small for a style picture (both sides need at least {MIN_SIDE} pixels)"
            ),
        });
    }
    Ok(picture)
}

/// Read a style picture file; errors name the file.
pub fn load(path: &Path) -> Result<RgbImage> {
    check(crate::picture::load_image(path)?, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_missing_and_foreign_pictures_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let tiny = dir.path().join("tiny.png");
        RgbImage::new(15, 40).save(&tiny).unwrap();
        let err = load(&tiny).unwrap_err().to_string();
        assert!(err.contains("tiny.png") && err.contains("15x40"), "{err}");
        let ok = dir.path().join("ok.png");
        RgbImage::new(16, 16).save(&ok).unwrap();
        assert_eq!(load(&ok).unwrap().dimensions(), (16, 16));
        let text = dir.path().join("notes.jpg");
        std::fs::write(&text, "not a picture").unwrap();
        assert!(load(&text).unwrap_err().to_string().contains("notes.jpg"));
        let missing = dir.path().join("missing.png");
        assert!(
            load(&missing)
                .unwrap_err()
                .to_string()
                .contains("missing.png")
        );
    }
}
