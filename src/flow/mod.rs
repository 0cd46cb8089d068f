//! Optical flow for temporal consistency: dense backward flow fields ([`Flow`]), precomputed
//! bilinear backward warps ([`WarpPlan`]), smooth random motion for synthetic frame pairs
//! ([`synthetic_flow`]), a coarse-to-fine dense Lucas–Kanade estimator ([`LucasKanade`]) and
//! forward–backward occlusion masks ([`occlusion_mask`]).
//!
//! The temporal-consistency loss (training) and the warping-error evaluation build on these.
//! Images are planar `f32` (channel-major CHW, row-major within a channel) with values in [0, 1].

mod lucas_kanade;

use rand::Rng;

pub use lucas_kanade::{LucasKanade, luminance};

/// Dense backward optical flow: for each pixel x of the *target* frame, the matching position in the
/// *source* frame is x + (u(x), v(x)) (u horizontal, v vertical, in pixels).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Horizontal displacement per target pixel, row-major, `width * height` values.
    pub u: Vec<f32>,
    /// Vertical displacement per target pixel, row-major, `width * height` values.
    pub v: Vec<f32>,
}

impl Flow {
    /// The identity flow (no motion).
    pub fn zero(width: usize, height: usize) -> Self {
        Self::uniform(width, height, 0.0, 0.0)
    }

    /// The same displacement `(du, dv)` at every pixel (a global shift).
    pub fn uniform(width: usize, height: usize, du: f32, dv: f32) -> Self {
        let n = width * height;
        Self {
            width,
            height,
            u: vec![du; n],
            v: vec![dv; n],
        }
    }

    /// Flow of a zoom by `scale` about the frame centre, for target pixels (target = source scaled up
    /// by `scale`): target pixel x shows source position c + (x - c) / scale.
    ///
    /// Panics unless `scale` is finite and positive.
    pub fn zoom(width: usize, height: usize, scale: f32) -> Self {
        assert!(
            scale.is_finite() && scale > 0.0,
            "zoom scale must be finite and positive, got {scale}"
        );
        let k = 1.0 / scale - 1.0;
        let cx = (width as f32 - 1.0) / 2.0;
        let cy = (height as f32 - 1.0) / 2.0;
        Self::from_fn(width, height, |x, y| {
            ((x as f32 - cx) * k, (y as f32 - cy) * k)
        })
    }

    /// A flow with the displacement `f(x, y)` at each pixel.
    fn from_fn(width: usize, height: usize, mut f: impl FnMut(usize, usize) -> (f32, f32)) -> Self {
        let (u, v) = pixels(width, height).map(|(x, y)| f(x, y)).unzip();
        Self {
            width,
            height,
            u,
            v,
        }
    }

    /// Panics with a clear message when the vectors do not match the frame size.
    fn check(&self) {
        let n = self.width * self.height;
        assert!(
            self.u.len() == n && self.v.len() == n,
            "flow vectors ({} u, {} v) do not fit {}x{}",
            self.u.len(),
            self.v.len(),
            self.width,
            self.height
        );
    }

    /// The displacement at a real-valued position, bilinear, clamped to the frame.
    fn sample(&self, x: f32, y: f32) -> (f32, f32) {
        let (idx, w) = bilinear_taps(x, y, self.width, self.height);
        (dot(&self.u, idx, w), dot(&self.v, idx, w))
    }
}

/// A precomputed bilinear backward warp: four source taps and weights per target pixel, plus a validity mask.
/// taps hold flat pixel indices (y*width+x) into one channel plane, clamped into the frame; weights sum to 1
/// for valid pixels. mask[i] = 1.0 where the source position lies inside [0, width-1] x [0, height-1], else 0.0
/// (and then all 4 weights are 0).
#[derive(Debug, Clone)]
pub struct WarpPlan {
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Source pixel indices: top-left, top-right, bottom-left, bottom-right neighbour.
    pub taps: [Vec<u32>; 4],
    /// Bilinear weights matching `taps`.
    pub weights: [Vec<f32>; 4],
    /// 1.0 where the source position is inside the frame, else 0.0.
    pub mask: Vec<f32>,
}

impl WarpPlan {
    /// Precomputes the backward warp of `flow`.
    ///
    /// Panics when the flow vectors do not fit its size or the frame has more than `u32::MAX` pixels.
    pub fn new(flow: &Flow) -> Self {
        flow.check();
        let (width, height) = (flow.width, flow.height);
        let n = width * height;
        assert!(
            u32::try_from(n).is_ok(),
            "{width}x{height} frame is too large for u32 tap indices"
        );
        let mut taps: [Vec<u32>; 4] = std::array::from_fn(|_| Vec::with_capacity(n));
        let mut weights: [Vec<f32>; 4] = std::array::from_fn(|_| Vec::with_capacity(n));
        let mut mask = Vec::with_capacity(n);
        for (i, (x, y)) in pixels(width, height).enumerate() {
            let (sx, sy) = (x as f32 + flow.u[i], y as f32 + flow.v[i]);
            let inside = in_frame(sx, sy, width, height);
            let (idx, w) = bilinear_taps(sx, sy, width, height);
            for k in 0..4 {
                taps[k].push(idx[k] as u32);
                weights[k].push(if inside { w[k] } else { 0.0 });
            }
            mask.push(if inside { 1.0 } else { 0.0 });
        }
        Self {
            width,
            height,
            taps,
            weights,
            mask,
        }
    }

    /// Warp a planar image with `channels` planes: out(x) = src(x + flow(x)), bilinear; 0 where mask is 0.
    ///
    /// Panics when `src` does not hold `channels` planes of the plan's size.
    pub fn apply(&self, src: &[f32], channels: usize) -> Vec<f32> {
        let n = self.width * self.height;
        assert_eq!(
            src.len(),
            channels * n,
            "source does not hold {channels} planes of {}x{}",
            self.width,
            self.height
        );
        (0..channels)
            .flat_map(|c| {
                let plane = &src[c * n..(c + 1) * n];
                (0..n).map(move |i| self.warped_pixel(plane, i))
            })
            .collect()
    }

    /// The warped value of target pixel `i` from one source plane.
    fn warped_pixel(&self, plane: &[f32], i: usize) -> f32 {
        if self.mask[i] == 0.0 {
            return 0.0;
        }
        (0..4)
            .map(|k| self.weights[k][i] * plane[self.taps[k][i] as usize])
            .sum()
    }
}

/// Control-grid cells per axis of the local motion in [`synthetic_flow`].
const GRID_CELLS: usize = 4;

/// Smooth random flow for synthetic motion: a global shift of up to `max_shift` pixels in each axis plus
/// low-frequency local motion of amplitude up to `local_amplitude` pixels (random vectors on a coarse grid of
/// about 4x4 cells, bicubic or bilinear upsampled so it is smooth).
///
/// The grid is upsampled bilinearly with smoothstep-eased coordinates: the field is C¹ and, being a
/// convex combination of the grid vectors, never exceeds `max_shift + local_amplitude` per axis.
pub fn synthetic_flow<R: rand::Rng + ?Sized>(
    width: usize,
    height: usize,
    max_shift: f32,
    local_amplitude: f32,
    rng: &mut R,
) -> Flow {
    let (shift_u, shift_v) = (symmetric(rng, max_shift), symmetric(rng, max_shift));
    let nodes = GRID_CELLS + 1;
    let grid_u: Vec<f32> = (0..nodes * nodes)
        .map(|_| symmetric(rng, local_amplitude))
        .collect();
    let grid_v: Vec<f32> = (0..nodes * nodes)
        .map(|_| symmetric(rng, local_amplitude))
        .collect();
    Flow::from_fn(width, height, |x, y| {
        let gx = ease(grid_coord(x, width));
        let gy = ease(grid_coord(y, height));
        let (idx, w) = bilinear_taps(gx, gy, nodes, nodes);
        (
            shift_u + dot(&grid_u, idx, w),
            shift_v + dot(&grid_v, idx, w),
        )
    })
}

/// Uniform in [-|amplitude|, |amplitude|).
fn symmetric<R: Rng + ?Sized>(rng: &mut R, amplitude: f32) -> f32 {
    (rng.random::<f32>() * 2.0 - 1.0) * amplitude.abs()
}

/// Position of pixel `i` of an axis of `len` pixels on the control grid, in [0, GRID_CELLS].
fn grid_coord(i: usize, len: usize) -> f32 {
    if len <= 1 {
        0.0
    } else {
        i as f32 * GRID_CELLS as f32 / (len - 1) as f32
    }
}

/// Replaces the fractional part of `t` by its smoothstep, so bilinear interpolation becomes C¹.
fn ease(t: f32) -> f32 {
    let f = t.fract();
    t.floor() + f * f * (3.0 - 2.0 * f)
}

/// Forward-backward consistency occlusion mask: 1.0 where following `forward` (target->source) then `backward`
/// (source->target) returns within a tolerance (|a+b|^2 <= 0.01(|a|^2+|b|^2) + 0.5, the Sundaram et al. rule)
/// and the source position is inside the frame, else 0.0. `forward` is defined on the target grid, `backward`
/// on the source grid (sample it bilinearly at x + forward(x)).
///
/// Panics when the two flows differ in size or their vectors do not fit it.
pub fn occlusion_mask(forward: &Flow, backward: &Flow) -> Vec<f32> {
    forward.check();
    backward.check();
    assert!(
        forward.width == backward.width && forward.height == backward.height,
        "forward flow is {}x{} but backward flow is {}x{}",
        forward.width,
        forward.height,
        backward.width,
        backward.height
    );
    let (width, height) = (forward.width, forward.height);
    pixels(width, height)
        .enumerate()
        .map(|(i, (x, y))| {
            let a = (forward.u[i], forward.v[i]);
            let (sx, sy) = (x as f32 + a.0, y as f32 + a.1);
            let visible = in_frame(sx, sy, width, height) && consistent(a, backward.sample(sx, sy));
            if visible { 1.0 } else { 0.0 }
        })
        .collect()
}

/// The Sundaram et al. forward–backward rule: |a+b|² <= 0.01(|a|²+|b|²) + 0.5.
fn consistent(a: (f32, f32), b: (f32, f32)) -> bool {
    let round_trip = (a.0 + b.0).powi(2) + (a.1 + b.1).powi(2);
    let magnitude = a.0 * a.0 + a.1 * a.1 + b.0 * b.0 + b.1 * b.1;
    round_trip <= 0.01 * magnitude + 0.5
}

/// Pixel coordinates `(x, y)` in row-major order.
fn pixels(width: usize, height: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..height).flat_map(move |y| (0..width).map(move |x| (x, y)))
}

/// Whether `(sx, sy)` lies in [0, width-1] x [0, height-1] (false for NaN).
fn in_frame(sx: f32, sy: f32, width: usize, height: usize) -> bool {
    (0.0..=(width as f32 - 1.0)).contains(&sx) && (0.0..=(height as f32 - 1.0)).contains(&sy)
}

/// Flat indices and weights of the four bilinear neighbours of `(sx, sy)`, clamped into the frame
/// (top-left, top-right, bottom-left, bottom-right). The frame must be at least 1x1.
fn bilinear_taps(sx: f32, sy: f32, width: usize, height: usize) -> ([usize; 4], [f32; 4]) {
    let (x0, x1, fx) = axis_taps(sx, width);
    let (y0, y1, fy) = axis_taps(sy, height);
    let idx = [
        y0 * width + x0,
        y0 * width + x1,
        y1 * width + x0,
        y1 * width + x1,
    ];
    let w = [
        (1.0 - fx) * (1.0 - fy),
        fx * (1.0 - fy),
        (1.0 - fx) * fy,
        fx * fy,
    ];
    (idx, w)
}

/// Lower and upper neighbour along one axis of `len >= 1` pixels and the fraction towards the upper.
fn axis_taps(s: f32, len: usize) -> (usize, usize, f32) {
    let last = len - 1;
    let s = if s.is_nan() {
        0.0
    } else {
        s.clamp(0.0, last as f32)
    };
    let i0 = (s.floor() as usize).min(last);
    let i1 = (i0 + 1).min(last);
    (i0, i1, (s - i0 as f32).max(0.0))
}

/// Weighted sum of four taps of `plane`.
fn dot(plane: &[f32], idx: [usize; 4], w: [f32; 4]) -> f32 {
    idx.iter().zip(w).map(|(&i, w)| w * plane[i]).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::f32::consts::TAU;

    /// A deterministic pseudo-random planar image with values in [0, 1).
    fn random_image(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..len).map(|_| rng.random::<f32>()).collect()
    }

    /// A smooth texture (sum of random plane waves, wavelengths 6–48 px) sampled exactly at
    /// x + flow(x), so `texture(flow)(x) = texture(zero)(x + flow(x))` with no interpolation error.
    fn texture(flow: &Flow, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        let waves: Vec<(f32, f32, f32)> = (0..8)
            .map(|_| {
                let angle = rng.random_range(0.0..TAU);
                let k = TAU / rng.random_range(6.0..48.0);
                (k * angle.cos(), k * angle.sin(), rng.random_range(0.0..TAU))
            })
            .collect();
        pixels(flow.width, flow.height)
            .enumerate()
            .map(|(i, (x, y))| {
                let (x, y) = (x as f32 + flow.u[i], y as f32 + flow.v[i]);
                0.5 + waves
                    .iter()
                    .map(|(kx, ky, phase)| 0.06 * (kx * x + ky * y + phase).sin())
                    .sum::<f32>()
            })
            .collect()
    }

    /// Mean end-point error between `flow` and `expected`, over pixels at least `margin` from the border.
    fn interior_error(flow: &Flow, expected: &Flow, margin: usize) -> f32 {
        let (w, h) = (flow.width, flow.height);
        let errors: Vec<f32> = pixels(w, h)
            .enumerate()
            .filter(|(_, (x, y))| {
                (margin..w - margin).contains(x) && (margin..h - margin).contains(y)
            })
            .map(|(i, _)| (flow.u[i] - expected.u[i]).hypot(flow.v[i] - expected.v[i]))
            .collect();
        errors.iter().sum::<f32>() / errors.len() as f32
    }

    #[test]
    fn integer_shift_matches_source_slice() {
        let (w, h) = (7, 5);
        let src = random_image(2 * w * h, 1);
        let plan = WarpPlan::new(&Flow::uniform(w, h, 2.0, 1.0));
        let out = plan.apply(&src, 2);
        for (c, (x, y)) in (0..2).flat_map(|c| pixels(w, h).map(move |p| (c, p))) {
            let i = y * w + x;
            let inside = x + 2 < w && y + 1 < h;
            assert_eq!(
                plan.mask[i],
                if inside { 1.0 } else { 0.0 },
                "mask at {x},{y}"
            );
            let expected = if inside {
                src[c * w * h + (y + 1) * w + x + 2]
            } else {
                0.0
            };
            assert_eq!(out[c * w * h + i], expected, "channel {c} at {x},{y}");
        }
    }

    #[test]
    fn zero_flow_is_identity() {
        let (w, h) = (6, 4);
        let src = random_image(3 * w * h, 2);
        let plan = WarpPlan::new(&Flow::zero(w, h));
        assert!(plan.mask.iter().all(|&m| m == 1.0));
        assert_eq!(plan.apply(&src, 3), src);
    }

    #[test]
    fn invalid_pixels_have_zero_weights_and_in_frame_taps() {
        let (w, h) = (4, 3);
        let plan = WarpPlan::new(&Flow::uniform(w, h, -10.0, 0.5));
        assert!(plan.mask.iter().all(|&m| m == 0.0));
        assert!(plan.weights.iter().flatten().all(|&x| x == 0.0));
        assert!(plan.taps.iter().flatten().all(|&t| (t as usize) < w * h));
    }

    #[test]
    fn subpixel_shift_of_ramp_is_exact() {
        let (w, h) = (8, 6);
        let ramp = |x: f32, y: f32| 0.05 * x + 0.03 * y + 0.1;
        let src: Vec<f32> = pixels(w, h)
            .map(|(x, y)| ramp(x as f32, y as f32))
            .collect();
        let (du, dv) = (0.25, 0.6);
        let plan = WarpPlan::new(&Flow::uniform(w, h, du, dv));
        let out = plan.apply(&src, 1);
        for (i, (x, y)) in pixels(w, h).enumerate() {
            if x + 1 < w && y + 1 < h {
                let sum: f32 = plan.weights.iter().map(|wk| wk[i]).sum();
                assert!((sum - 1.0).abs() < 1e-6);
                let expected = ramp(x as f32 + du, y as f32 + dv);
                assert!(
                    (out[i] - expected).abs() < 1e-6,
                    "{x},{y}: {} vs {expected}",
                    out[i]
                );
            } else {
                assert_eq!(plan.mask[i], 0.0);
            }
        }
    }

    #[test]
    fn zoom_flow_points_towards_centre() {
        let flow = Flow::zoom(5, 3, 2.0);
        assert_eq!((flow.u[7], flow.v[7]), (0.0, 0.0));
        assert_eq!((flow.u[0], flow.v[0]), (1.0, 0.5));
        assert_eq!((flow.u[14], flow.v[14]), (-1.0, -0.5));
    }

    #[test]
    fn luminance_uses_rec601_weights() {
        let rgb = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let y = luminance(&rgb, 2, 1);
        assert!((y[0] - 0.299).abs() < 1e-6 && (y[1] - 0.587).abs() < 1e-6);
    }

    #[test]
    fn lk_recovers_global_subpixel_shift() {
        let (w, h) = (64, 64);
        let truth = Flow::uniform(w, h, 1.5, -0.75);
        let source = texture(&Flow::zero(w, h), 3);
        let target = texture(&truth, 3);
        let flow = LucasKanade::default().estimate(&target, &source, w, h);
        let error = interior_error(&flow, &truth, 8);
        assert!(error < 0.1, "mean interior end-point error {error}");
    }

    #[test]
    fn lk_recovers_smooth_synthetic_motion() {
        let (w, h) = (96, 80);
        let truth = synthetic_flow(w, h, 2.0, 1.5, &mut StdRng::seed_from_u64(5));
        let source = texture(&Flow::zero(w, h), 4);
        let target = texture(&truth, 4);
        let flow = LucasKanade::default().estimate(&target, &source, w, h);
        let error = interior_error(&flow, &truth, 8);
        assert!(error < 0.25, "mean interior end-point error {error}");
    }

    #[test]
    fn lk_recovers_large_shift_through_pyramid() {
        let (w, h) = (128, 128);
        let truth = Flow::uniform(w, h, 5.0, -3.5);
        let source = texture(&Flow::zero(w, h), 8);
        let target = texture(&truth, 8);
        let flow = LucasKanade::default().estimate(&target, &source, w, h);
        let error = interior_error(&flow, &truth, 16);
        assert!(error < 0.1, "mean interior end-point error {error}");
    }

    #[test]
    fn lk_gives_zero_flow_for_identical_and_flat_frames() {
        let (w, h) = (32, 24);
        let image = texture(&Flow::zero(w, h), 6);
        let flow = LucasKanade::default().estimate(&image, &image, w, h);
        assert!(flow.u.iter().chain(&flow.v).all(|d| d.abs() < 1e-6));
        let flat = LucasKanade::default().estimate(&vec![0.3; w * h], &vec![0.7; w * h], w, h);
        assert!(flat.u.iter().chain(&flat.v).all(|d| d.abs() < 1e-6));
    }

    #[test]
    fn lk_handles_tiny_frames() {
        let lk = LucasKanade::default();
        for (w, h) in [(1, 1), (3, 5), (5, 3), (1, 7), (40, 30)] {
            let flow = lk.estimate(&random_image(w * h, 7), &random_image(w * h, 8), w, h);
            assert_eq!((flow.width, flow.height, flow.u.len()), (w, h, w * h));
            assert!(flow.u.iter().chain(&flow.v).all(|d| d.is_finite()));
            assert!(
                WarpPlan::new(&flow).mask.iter().all(|&m| m == 1.0),
                "{w}x{h} points outside"
            );
        }
        let degenerate = LucasKanade {
            levels: 0,
            iterations: 1,
            window_radius: 0,
        };
        let flow = degenerate.estimate(&random_image(12, 9), &random_image(12, 10), 4, 3);
        assert!(flow.u.iter().chain(&flow.v).all(|d| d.is_finite()));
    }

    #[test]
    fn occlusion_mask_of_consistent_pair_is_one_inside() {
        let (w, h) = (6, 5);
        let mask = occlusion_mask(
            &Flow::uniform(w, h, 2.0, 1.0),
            &Flow::uniform(w, h, -2.0, -1.0),
        );
        for (i, (x, y)) in pixels(w, h).enumerate() {
            let inside = x + 2 < w && y + 1 < h;
            assert_eq!(mask[i], if inside { 1.0 } else { 0.0 }, "{x},{y}");
        }
    }

    #[test]
    fn occlusion_mask_is_zero_where_backward_disagrees() {
        let (w, h) = (8, 8);
        let forward = Flow::uniform(w, h, 1.0, 0.0);
        let mut backward = Flow::uniform(w, h, -1.0, 0.0);
        for (i, (x, _)) in pixels(w, h).enumerate() {
            if x >= 4 {
                backward.u[i] = 3.0;
            }
        }
        let mask = occlusion_mask(&forward, &backward);
        for (i, (x, y)) in pixels(w, h).enumerate() {
            let expected = if x + 1 < 4 { 1.0 } else { 0.0 };
            assert_eq!(mask[i], expected, "{x},{y}");
        }
    }

    #[test]
    fn synthetic_flow_is_deterministic_smooth_and_bounded() {
        let (w, h) = (64, 48);
        let (max_shift, amplitude) = (3.0, 2.0);
        let make =
            |seed| synthetic_flow(w, h, max_shift, amplitude, &mut StdRng::seed_from_u64(seed));
        let flow = make(11);
        assert_eq!(flow, make(11));
        assert_ne!(flow, make(12));
        let bound = max_shift + amplitude;
        assert!(flow.u.iter().chain(&flow.v).all(|d| d.abs() <= bound));
        // Smoothstep slope is at most 1.5 per cell; grid values differ by at most 2 * amplitude.
        let cell = (h - 1) as f32 / GRID_CELLS as f32;
        let max_step = 1.5 * 2.0 * amplitude / cell;
        for (i, (x, y)) in pixels(w, h).enumerate() {
            for j in [(x + 1 < w).then_some(i + 1), (y + 1 < h).then_some(i + w)]
                .into_iter()
                .flatten()
            {
                assert!((flow.u[i] - flow.u[j]).abs() <= max_step);
                assert!((flow.v[i] - flow.v[j]).abs() <= max_step);
            }
        }
        let spread = flow.u.iter().fold(f32::MIN, |m, &d| m.max(d))
            - flow.u.iter().fold(f32::MAX, |m, &d| m.min(d));
        assert!(spread > 0.1, "local motion missing: spread {spread}");
    }
}
