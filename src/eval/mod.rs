//! `ganstyle eval`: quality and temporal-stability figures for a model — the stylization ratio
//! on photographs with the pretrained VGG16 ([`stylization`]) beside a colour-transfer baseline
//! ([`colour_transfer`]), content and style loss on procedural images, warping error (Lai et al.
//! 2018) on moving clips with known flow (pans and zooms over photographs; a pan, a zoom and a
//! moving object over procedural scenes) and optionally on a real clip with estimated flow, and
//! the generator's frame rate.

pub mod colour_transfer;
pub mod stylization;

use std::path::Path;
use std::time::Instant;

use image::RgbImage;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::error::{Error, Result};
use crate::flow::{self, Flow, LucasKanade, WarpPlan};
use crate::frame::{from_planar, image_to_tensor, to_planar};
use crate::procedural::{ContentKind, content_image};
use crate::stylize::Stylizer;
use crate::train::loss_net::LossNetwork;
use crate::train::losses;

/// A clip with the backward flow from each frame to the one before and its validity mask.
pub struct Clip {
    /// What it shows.
    pub name: String,
    /// Frames.
    pub frames: Vec<RgbImage>,
    /// For frame t ≥ 1: flow to frame t−1 and the mask of pixels to count.
    pub flows: Vec<(Flow, Vec<f32>)>,
}

/// Frames of the synthetic clips.
const CLIP_FRAMES: usize = 8;
/// Size of the synthetic clips.
const CLIP_SIZE: (usize, usize) = (160, 128);

/// The built-in synthetic clips: for two procedural scenes, a pan, a zoom and a moving object.
pub fn synthetic_clips() -> Vec<Clip> {
    let (w, h) = CLIP_SIZE;
    let mut clips = Vec::new();
    for (scene, kind) in [ContentKind::DeadLeaves, ContentKind::Shapes]
        .into_iter()
        .enumerate()
    {
        let mut rng = StdRng::seed_from_u64(1000 + scene as u64);
        let canvas = to_planar(&content_image(
            kind,
            (w + 40) as u32,
            (h + 40) as u32,
            &mut rng,
        ));
        let patch = to_planar(&content_image(
            ContentKind::FractalNoise,
            w as u32,
            h as u32,
            &mut rng,
        ));
        clips.push(pan(&canvas, w + 40, h + 40, format!("pan-{scene}")));
        clips.push(zoom(
            &crop(&canvas, w + 40, h + 40, 0, 0, w, h),
            format!("zoom-{scene}"),
        ));
        clips.push(moving_object(
            &crop(&canvas, w + 40, h + 40, 20, 20, w, h),
            &patch,
            format!("object-{scene}"),
        ));
    }
    clips
}

/// Clips made by moving a window over each photograph: a pan and a zoom, at the synthetic
/// clips' size (the photo scaled to cover it with a margin, centred).
pub fn photo_clips(photos: &[(String, RgbImage)]) -> Vec<Clip> {
    let (w, h) = CLIP_SIZE;
    let (cw, ch) = (w + 40, h + 40);
    photos
        .iter()
        .flat_map(|(name, photo)| {
            let canvas = to_planar(&cover(photo, cw as u32, ch as u32));
            [
                pan(&canvas, cw, ch, format!("pan-{name}")),
                zoom(&crop(&canvas, cw, ch, 20, 20, w, h), format!("zoom-{name}")),
            ]
        })
        .collect()
}

/// `image` scaled to cover `width`×`height` and cropped about its centre.
fn cover(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let scale = (width as f32 / image.width() as f32).max(height as f32 / image.height() as f32);
    let (sw, sh) = (
        ((image.width() as f32 * scale).ceil() as u32).max(width),
        ((image.height() as f32 * scale).ceil() as u32).max(height),
    );
    let scaled = image::imageops::resize(image, sw, sh, image::imageops::FilterType::Triangle);
    image::imageops::crop_imm(&scaled, (sw - width) / 2, (sh - height) / 2, width, height)
        .to_image()
}

fn crop(src: &[f32], sw: usize, sh: usize, x0: usize, y0: usize, w: usize, h: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(3 * w * h);
    for c in 0..3 {
        for y in 0..h {
            let row = c * sw * sh + (y0 + y) * sw + x0;
            out.extend_from_slice(&src[row..row + w]);
        }
    }
    out
}

fn image(planar: &[f32]) -> RgbImage {
    from_planar(planar, CLIP_SIZE.0 as u32, CLIP_SIZE.1 as u32)
}

/// A camera pan of 2 px right and 1 px down per frame: frame t(x) = frame t−1(x + (2, 1)).
fn pan(canvas: &[f32], cw: usize, ch: usize, name: String) -> Clip {
    let (w, h) = CLIP_SIZE;
    let frames = (0..CLIP_FRAMES)
        .map(|t| image(&crop(canvas, cw, ch, 2 * t, t, w, h)))
        .collect();
    let flow = Flow::uniform(w, h, 2.0, 1.0);
    let mask = WarpPlan::new(&flow).mask;
    Clip {
        name,
        frames,
        flows: vec![(flow, mask); CLIP_FRAMES - 1],
    }
}

/// A zoom in by 2 % per frame about the centre.
fn zoom(base: &[f32], name: String) -> Clip {
    let (w, h) = CLIP_SIZE;
    let frames = (0..CLIP_FRAMES)
        .map(|t| image(&WarpPlan::new(&Flow::zoom(w, h, 1.02f32.powi(t as i32))).apply(base, 3)))
        .collect();
    let flow = Flow::zoom(w, h, 1.02);
    let mask = WarpPlan::new(&flow).mask;
    Clip {
        name,
        frames,
        flows: vec![(flow, mask); CLIP_FRAMES - 1],
    }
}

/// A textured disc moving 3 px right and 2 px down per frame over a still background; the
/// background it uncovers is left out of the mask.
fn moving_object(background: &[f32], patch: &[f32], name: String) -> Clip {
    let (w, h) = CLIP_SIZE;
    let (vx, vy) = (3.0f32, 2.0f32);
    let radius = h as f32 / 4.0;
    let centre = |t: usize| {
        (
            w as f32 * 0.3 + vx * t as f32,
            h as f32 * 0.35 + vy * t as f32,
        )
    };
    let inside = |t: usize, x: usize, y: usize| {
        let (cx, cy) = centre(t);
        (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) <= radius * radius
    };
    let frames = (0..CLIP_FRAMES)
        .map(|t| {
            let mut f = background.to_vec();
            for y in 0..h {
                for x in 0..w {
                    if inside(t, x, y) {
                        let (px, py) = (x - (vx as usize * t), y - (vy as usize * t));
                        for c in 0..3 {
                            f[c * w * h + y * w + x] = patch[c * w * h + py * w + px];
                        }
                    }
                }
            }
            image(&f)
        })
        .collect();
    let flows = (1..CLIP_FRAMES)
        .map(|t| {
            let mut flow = Flow::zero(w, h);
            let mut mask = vec![1.0; w * h];
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    if inside(t, x, y) {
                        flow.u[i] = -vx;
                        flow.v[i] = -vy;
                    } else if inside(t - 1, x, y) {
                        mask[i] = 0.0; // uncovered background: nothing to compare with
                    }
                }
            }
            (flow, mask)
        })
        .collect();
    Clip {
        name,
        frames,
        flows,
    }
}

/// A real clip: up to `max_frames` frames, flow estimated by Lucas–Kanade, occlusions masked.
pub fn real_clip(path: &Path, max_frames: usize, short_side: u32) -> Result<Clip> {
    let frames: Vec<RgbImage> = crate::video::decode_frames(path, max_frames)?
        .iter()
        .map(|f| crate::picture::fit_short_side(f, short_side))
        .collect();
    if frames.len() < 2 {
        return Err(Error::Video {
            path: path.to_path_buf(),
            reason: "needs at least 2 frames".into(),
        });
    }
    let (w, h) = (frames[0].width() as usize, frames[0].height() as usize);
    let lk = LucasKanade::default();
    let luma: Vec<Vec<f32>> = frames
        .iter()
        .map(|f| flow::luminance(&to_planar(f), w, h))
        .collect();
    let flows = (1..frames.len())
        .map(|t| {
            let backward = lk.estimate(&luma[t], &luma[t - 1], w, h);
            let forward = lk.estimate(&luma[t - 1], &luma[t], w, h);
            let mask = flow::occlusion_mask(&backward, &forward);
            (backward, mask)
        })
        .collect();
    Ok(Clip {
        name: path.display().to_string(),
        frames,
        flows,
    })
}

/// Warping error of a sequence of frames: the mean over t of the masked mean squared
/// difference between frame t and frame t−1 warped by the flow, values in [0, 1].
pub fn warping_error(frames: &[RgbImage], flows: &[(Flow, Vec<f32>)]) -> f64 {
    let mut total = 0.0;
    for (t, (flow, mask)) in flows.iter().enumerate() {
        let current = to_planar(&frames[t + 1]);
        let plan = WarpPlan::new(flow);
        let warped = plan.apply(&to_planar(&frames[t]), 3);
        let plan_mask = &plan.mask;
        let n = mask.len();
        let (mut sum, mut count) = (0.0f64, 0.0f64);
        for i in 0..n {
            let m = f64::from(mask[i] * plan_mask[i]);
            for c in 0..3 {
                sum += m * f64::from(current[c * n + i] - warped[c * n + i]).powi(2);
            }
            count += 3.0 * m;
        }
        total += sum / count.max(1.0);
    }
    total / flows.len().max(1) as f64
}

/// Figures for one clip.
pub struct ClipResult {
    /// The clip's name.
    pub name: String,
    /// Warping error of the stylized clip.
    pub styled: f64,
    /// Warping error of the input clip itself (the floor set by interpolation and masking).
    pub input: f64,
}

/// Stylize every frame of a clip and measure its warping error.
pub fn evaluate_clip(stylizer: &mut Stylizer, clip: &Clip) -> Result<ClipResult> {
    let styled = clip
        .frames
        .iter()
        .map(|f| stylizer.stylize(f))
        .collect::<Result<Vec<RgbImage>>>()?;
    Ok(ClipResult {
        name: clip.name.clone(),
        styled: warping_error(&styled, &clip.flows),
        input: warping_error(&clip.frames, &clip.flows),
    })
}

/// Content and style loss of the stylizer's output on procedural images against `style`, with
/// the loss network `net` (on the CPU).
pub fn quality(stylizer: &mut Stylizer, net: &LossNetwork, style: &RgbImage) -> Result<(f64, f64)> {
    let device = burn::tensor::Device::flex();
    let targets = net.features(image_to_tensor(style, &device)).grams();
    let mut rng = StdRng::seed_from_u64(77);
    let (mut content, mut style_loss) = (0.0, 0.0);
    let kinds = ContentKind::ALL;
    for kind in kinds {
        let input = content_image(kind, 256, 256, &mut rng);
        let output = stylizer.stylize(&input)?;
        let fx = net.features(image_to_tensor(&input, &device));
        let fy = net.features(image_to_tensor(&output, &device));
        let c = fy.content;
        content +=
            f64::from(losses::mse(fy.maps[c].clone(), fx.maps[c].clone()).into_scalar::<f32>());
        style_loss += f64::from(losses::style_loss(&fy.maps, &targets).into_scalar::<f32>());
    }
    Ok((
        content / kinds.len() as f64,
        style_loss / kinds.len() as f64,
    ))
}

/// Milliseconds per frame of the network at `width`×`height` (median of `runs` after one warm-up).
pub fn time_network(stylizer: &mut Stylizer, width: u32, height: u32, runs: usize) -> Result<f64> {
    let mut rng = StdRng::seed_from_u64(5);
    let frame = content_image(ContentKind::Shapes, width, height, &mut rng);
    stylizer.network_output(&frame)?;
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        stylizer.network_output(&frame)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_clips_have_zero_warping_error_where_motion_is_integer() {
        for clip in synthetic_clips() {
            let error = warping_error(&clip.frames, &clip.flows);
            if clip.name.starts_with("zoom") {
                assert!(error < 2e-3, "{}: {error}", clip.name); // interpolation only
            } else {
                assert!(error < 1e-9, "{}: {error}", clip.name);
            }
        }
    }

    #[test]
    fn flicker_raises_the_warping_error() {
        let clip = &synthetic_clips()[0];
        let flickering: Vec<RgbImage> = clip
            .frames
            .iter()
            .enumerate()
            .map(|(t, f)| {
                let mut g = f.clone();
                let shift = if t % 2 == 0 { 30 } else { 0 };
                g.pixels_mut()
                    .for_each(|p| p.0 = p.0.map(|v| v.saturating_add(shift)));
                g
            })
            .collect();
        assert!(warping_error(&flickering, &clip.flows) > 5e-3);
    }
}
