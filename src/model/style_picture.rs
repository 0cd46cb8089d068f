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

/// The pictures a list of paths names: a file stands for itself, a folder for the pictures in
/// it (png, jpg, jpeg, webp, bmp; not its subfolders), in name order.
pub fn expand(paths: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut found: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        ["png", "jpg", "jpeg", "webp", "bmp"]
                            .contains(&e.to_ascii_lowercase().as_str())
                    })
            })
            .collect();
        if found.is_empty() {
            return Err(Error::Image {
                path: path.clone(),
                reason: "a folder with no pictures (png, jpg, jpeg, webp, bmp) in it".into(),
            });
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
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
