//! Training data: content images (a folder of the user's, frames of clips, or procedural
//! images when nothing is given), style images, and the pairs for the temporal loss.

use std::path::{Path, PathBuf};

use image::RgbImage;
use rand::Rng;

use crate::error::{Error, Result};
use image::imageops;

use crate::picture::{fit_short_side, fit_short_side_at_most, load_image};
use crate::procedural;

/// Where content images come from.
pub enum ContentSource {
    /// Seeded procedural images (dead leaves, fractal noise, shapes, gradients).
    Procedural,
    /// Photographs (or any images) from a folder, decoded once when training starts.
    Photos(Vec<RgbImage>),
    /// Image files of a folder too large to hold decoded, read when sampled.
    Files(Vec<PathBuf>),
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
            ContentSource::Photos(images) => format!("{} images", images.len()),
            ContentSource::Files(files) => format!("{} images, read as sampled", files.len()),
            ContentSource::Frames(frames) => format!("{} video frames", frames.len()),
        }
    }

    /// One `size`×`size` content image.
    pub fn sample<R: Rng>(&self, size: u32, rng: &mut R) -> Result<RgbImage> {
        match self {
            ContentSource::Procedural => Ok(procedural::random_content(size, size, rng)),
            ContentSource::Photos(images) => Ok(flip_half(
                random_crop(&images[rng.random_range(0..images.len())], size, rng),
                rng,
            )),
            ContentSource::Files(files) => {
                let image = load_image(&files[rng.random_range(0..files.len())])?;
                Ok(flip_half(random_crop(&image, size, rng), rng))
            }
            ContentSource::Frames(frames) => Ok(random_crop(
                &frames[rng.random_range(0..frames.len())],
                size,
                rng,
            )),
        }
    }
}

/// Mirrored left to right half the time.
fn flip_half<R: Rng>(image: RgbImage, rng: &mut R) -> RgbImage {
    if rng.random_bool(0.5) {
        imageops::flip_horizontal(&image)
    } else {
        image
    }
}

/// Folders with more images than this are read as sampled, not held decoded (at twice the
/// training size of 256, about 1 MB each).
pub const MAX_DECODED_IMAGES: usize = 1000;

impl ContentSource {
    /// Decode every image in `paths` once (more than [`MAX_DECODED_IMAGES`]: read each when
    /// sampled instead), scaled down so its short side is at most twice the
    /// training size: samples are random crops after scaling the short side to between 1 and
    /// 1.5 times the training size, so nothing is lost, and a folder of large photographs is
    /// not held at full resolution.
    pub fn photos(paths: &[PathBuf], size: u32) -> Result<Self> {
        if paths.len() > MAX_DECODED_IMAGES {
            return Ok(Self::Files(paths.to_vec()));
        }
        paths
            .iter()
            .map(|p| Ok(fit_short_side_at_most(&load_image(p)?, 2 * size)))
            .collect::<Result<Vec<_>>>()
            .map(Self::Photos)
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
    fn photos_are_decoded_once_scaled_down_and_sampled_with_flips() {
        let dir = tempfile::tempdir().unwrap();
        // Left half black, right half white: a flip shows as a white left edge.
        let image = RgbImage::from_fn(400, 200, |x, _| {
            if x < 200 {
                image::Rgb([0, 0, 0])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let path = dir.path().join("photo.png");
        image.save(&path).unwrap();
        let source = ContentSource::photos(std::slice::from_ref(&path), 32).unwrap();
        // The file is not read again: removing it changes nothing.
        std::fs::remove_file(&path).unwrap();
        let ContentSource::Photos(images) = &source else {
            panic!("not photos")
        };
        assert_eq!(images[0].dimensions(), (128, 64));
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let (mut flipped, mut straight) = (0, 0);
        for _ in 0..40 {
            let crop = source.sample(64, &mut rng).unwrap();
            assert_eq!(crop.dimensions(), (64, 64));
            let (left, right) = (crop.get_pixel(0, 32).0[0], crop.get_pixel(63, 32).0[0]);
            match (left, right) {
                (0, 255) => straight += 1,
                (255, 0) => flipped += 1,
                _ => {} // a crop inside one half
            }
        }
        assert!(
            flipped > 0 && straight > 0,
            "{flipped} flipped, {straight} not"
        );
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
