//! Training data: content images (a folder of the user's, frames of clips, or procedural
//! images when nothing is given), style images, and the pairs for the temporal loss.

use std::path::{Path, PathBuf};

use image::RgbImage;
use image::imageops::{self, FilterType};
use rand::Rng;

use crate::error::{Error, Result};
use crate::procedural;

/// Where content images come from.
pub enum ContentSource {
    /// Seeded procedural images (dead leaves, fractal noise, shapes, gradients).
    Procedural,
    /// Image files found under a folder.
    Folder(Vec<PathBuf>),
    /// Frames decoded from clips (consecutive frames also give real motion pairs).
    Frames(Vec<RgbImage>),
}

impl ContentSource {
    /// A short description for logs and metadata.
    pub fn describe(&self) -> String {
        match self {
            ContentSource::Procedural => {
                "procedural (dead leaves, fractal noise, shapes, gradients)".into()
            }
            ContentSource::Folder(files) => format!("{} images", files.len()),
            ContentSource::Frames(frames) => format!("{} video frames", frames.len()),
        }
    }

    /// One `size`×`size` content image.
    pub fn sample<R: Rng>(&self, size: u32, rng: &mut R) -> Result<RgbImage> {
        match self {
            ContentSource::Procedural => Ok(procedural::random_content(size, size, rng)),
            ContentSource::Folder(files) => {
                let path = &files[rng.random_range(0..files.len())];
                Ok(random_crop(&load_image(path)?, size, rng))
            }
            ContentSource::Frames(frames) => Ok(random_crop(
                &frames[rng.random_range(0..frames.len())],
                size,
                rng,
            )),
        }
    }
}

/// All image files (png, jpg, jpeg) under `dir`, recursively, sorted.
pub fn find_images(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(Error::Data(format!(
            "content folder {} does not exist or is not a folder",
            dir.display()
        )));
    }
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_image(&path) {
                found.push(path);
            }
        }
    }
    if found.is_empty() {
        return Err(Error::Data(format!(
            "no images (png, jpg) under {}",
            dir.display()
        )));
    }
    found.sort();
    Ok(found)
}

fn is_image(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
}

/// Read an image file as RGB; errors name the file.
pub fn load_image(path: &Path) -> Result<RgbImage> {
    let image = image::open(path).map_err(|e| Error::Image {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(image.to_rgb8())
}

/// A style image: an image file, or `pattern:NAME` for a built-in procedural pattern (rendered
/// at 512×512 with seed 1, as `ganstyle pattern NAME` writes it).
pub fn load_style(spec: &Path) -> Result<RgbImage> {
    let text = spec.to_string_lossy();
    match text.strip_prefix("pattern:") {
        Some(name) => {
            let pattern = procedural::StylePattern::from_name(name).ok_or_else(|| {
                let known: Vec<_> = procedural::StylePattern::ALL
                    .iter()
                    .map(|p| p.name())
                    .collect();
                Error::Data(format!(
                    "unknown pattern {name:?} (known: {})",
                    known.join(", ")
                ))
            })?;
            Ok(pattern.render(512, 512, 1))
        }
        None => load_image(spec),
    }
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

/// A random `size`×`size` crop, after scaling the shorter side to between `size` and 1.5×`size`.
pub fn random_crop<R: Rng>(image: &RgbImage, size: u32, rng: &mut R) -> RgbImage {
    let side = rng.random_range(size..=size + size / 2);
    crop_at(&fit_short_side(image, side), size, rng)
}

/// A random `size`×`size` window of an image at least that large.
pub fn crop_at<R: Rng>(image: &RgbImage, size: u32, rng: &mut R) -> RgbImage {
    let (w, h) = image.dimensions();
    let x = rng.random_range(0..=w - size);
    let y = rng.random_range(0..=h - size);
    imageops::crop_imm(image, x, y, size, size).to_image()
}

/// The same random `size`×`size` window of two consecutive frames.
pub fn crop_pair<R: Rng>(
    a: &RgbImage,
    b: &RgbImage,
    size: u32,
    rng: &mut R,
) -> (RgbImage, RgbImage) {
    let (a, b) = (fit_short_side(a, size), fit_short_side(b, size));
    let (w, h) = a.dimensions();
    let x = rng.random_range(0..=w - size);
    let y = rng.random_range(0..=h - size);
    (
        imageops::crop_imm(&a, x, y, size, size).to_image(),
        imageops::crop_imm(&b, x, y, size, size).to_image(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn an_empty_folder_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let err = find_images(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("no images") && err.contains(&dir.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn images_are_found_recursively() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        RgbImage::new(4, 4)
            .save(dir.path().join("sub/a.png"))
            .unwrap();
        RgbImage::new(4, 4).save(dir.path().join("b.PNG")).unwrap();
        assert_eq!(find_images(dir.path()).unwrap().len(), 2);
    }

    #[test]
    fn crops_have_the_requested_size() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let image = RgbImage::new(40, 25);
        assert_eq!(random_crop(&image, 16, &mut rng).dimensions(), (16, 16));
        let (a, b) = crop_pair(&image, &image, 32, &mut rng);
        assert_eq!((a.dimensions(), b.dimensions()), ((32, 32), (32, 32)));
    }
}
