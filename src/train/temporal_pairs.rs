//! The frame pairs behind the temporal-consistency loss: consecutive crops of a real clip with
//! the optical flow between them (Lucas–Kanade, occlusions masked), or a content batch moved by
//! synthetic motion.

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use image::RgbImage;
use rand::Rng;
use rand::rngs::StdRng;

use super::data;
use super::losses::BatchWarp;
use crate::error::{Error, Result};
use crate::flow::{self, LucasKanade, WarpPlan};
use crate::frame::to_planar;

/// Consecutive frames of a clip, cropped alike.
pub struct FramePairs {
    /// The earlier frame of each pair.
    pub previous: Vec<RgbImage>,
    /// The later frame of each pair.
    pub current: Vec<RgbImage>,
}

/// `batch` pairs of consecutive frames of `frames`, each pair cropped to `size` at one place.
pub fn frame_pairs(
    frames: &[RgbImage],
    batch: usize,
    size: u32,
    rng: &mut StdRng,
) -> Result<FramePairs> {
    if frames.len() < 2 {
        return Err(Error::Data(
            "the clip needs at least 2 frames for temporal pairs".into(),
        ));
    }
    let (mut previous, mut current) = (Vec::new(), Vec::new());
    for _ in 0..batch {
        let t = rng.random_range(1..frames.len());
        let (p, c) = data::crop_pair(&frames[t - 1], &frames[t], size, rng);
        previous.push(p);
        current.push(c);
    }
    Ok(FramePairs { previous, current })
}

impl FramePairs {
    /// The backward flow of each pair as a warp (`current(x) ≈ previous(x + flow(x))`) and
    /// where it is not occluded (forward-backward check), `[b, 1, h, w]`.
    pub fn warp(&self, device: &Device) -> (BatchWarp, Tensor<4>) {
        let lk = LucasKanade::default();
        let (w, h) = (
            self.current[0].width() as usize,
            self.current[0].height() as usize,
        );
        let mut plans = Vec::new();
        let mut occlusion = Vec::new();
        for (p, c) in self.previous.iter().zip(&self.current) {
            let (yp, yc) = (
                flow::luminance(&to_planar(p), w, h),
                flow::luminance(&to_planar(c), w, h),
            );
            let backward = lk.estimate(&yc, &yp, w, h);
            let forward = lk.estimate(&yp, &yc, w, h);
            occlusion.extend(flow::occlusion_mask(&backward, &forward));
            plans.push(WarpPlan::new(&backward));
        }
        let occlusion = Tensor::from_data(
            TensorData::new(occlusion, [self.previous.len(), 1, h, w]),
            device,
        );
        (BatchWarp::new(&plans, device), occlusion)
    }
}

/// Synthetic motion for a batch `[b, 3, h, w]`: one random flow per image (global shift up to
/// `max_shift` pixels plus local motion of amplitude `local_motion`).
pub fn synthetic_warp(
    dims: [usize; 4],
    max_shift: f32,
    local_motion: f32,
    rng: &mut StdRng,
    device: &Device,
) -> BatchWarp {
    let [b, _, h, w] = dims;
    let plans: Vec<WarpPlan> = (0..b)
        .map(|_| WarpPlan::new(&flow::synthetic_flow(w, h, max_shift, local_motion, rng)))
        .collect();
    BatchWarp::new(&plans, device)
}

/// `x` moved by `warp`, with a little sensor noise (σ = 0.01), in [0, 1]; off the graph.
pub fn moved(warp: &BatchWarp, x: &Tensor<4>) -> Tensor<4> {
    let noise = Tensor::random(x.dims(), Distribution::Normal(0.0, 0.01), &x.device());
    (warp.apply(x.clone().detach()) + noise).clamp(0.0, 1.0)
}
