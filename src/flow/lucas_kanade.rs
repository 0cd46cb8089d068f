//! The coarse-to-fine dense Lucas–Kanade flow estimator ([`LucasKanade`]) on image pyramids,
//! and the luminance it works on.

use super::{Flow, bilinear_taps, dot, pixels};

/// Rec. 601 luma of a planar RGB image (3 planes) -> one plane.
///
/// Panics when `rgb` does not hold three `width x height` planes.
pub fn luminance(rgb: &[f32], width: usize, height: usize) -> Vec<f32> {
    let n = width * height;
    assert_eq!(
        rgb.len(),
        3 * n,
        "RGB buffer does not hold 3 planes of {width}x{height}"
    );
    let (r, gb) = rgb.split_at(n);
    let (g, b) = gb.split_at(n);
    r.iter()
        .zip(g)
        .zip(b)
        .map(|((r, g), b)| 0.299 * r + 0.587 * g + 0.114 * b)
        .collect()
}

/// Parameters of the estimator.
#[derive(Debug, Clone, Copy)]
pub struct LucasKanade {
    /// Maximum number of pyramid levels (fewer are used for small frames; 0 acts as 1).
    pub levels: usize,
    /// Warp-and-solve iterations per pyramid level.
    pub iterations: usize,
    /// Radius r of the box filter that, applied twice, forms the tent-shaped window the 2x2 system
    /// is averaged over (reaching `2r` pixels from the centre; 0 means a single pixel).
    pub window_radius: usize,
}

impl Default for LucasKanade {
    /// Four levels, three iterations per level, window radius 2 (a 9x9 tent).
    fn default() -> Self {
        Self {
            levels: 4,
            iterations: 3,
            window_radius: 2,
        }
    }
}

/// Added to the diagonal of the (window-averaged) structure tensor, so flat regions get ~0 flow.
const REGULARIZATION: f64 = 1e-4;
/// Largest per-iteration update in each axis, in pixels of the current level.
const MAX_STEP: f32 = 2.0;
/// The coarsest pyramid level keeps at least this many pixels along its shorter side.
const MIN_LEVEL_SIZE: usize = 16;

impl LucasKanade {
    /// Coarse-to-fine (image pyramid, 2x downsampling with a small blur) dense Lucas-Kanade with iterative
    /// warping at each level. Inputs are single grey planes of equal size. Returns the backward flow F with
    /// target(x) ≈ source(x + F(x)). Windowed sums through box filters / integral images so cost is O(pixels)
    /// per iteration. Regularize the 2x2 system (add a small epsilon to the diagonal) so flat regions give ~0
    /// flow, never NaN. Must work for any size down to 1x1 (fewer pyramid levels when small).
    ///
    /// The window is a tent (two box-filter passes), each iteration moves a pixel's flow by at most
    /// 2 pixels per axis of its level, and flows are kept pointing inside the frame. Pyramid levels
    /// stop before the shorter side drops below 16 pixels.
    ///
    /// Panics when either plane does not hold `width * height` values.
    pub fn estimate(&self, target: &[f32], source: &[f32], width: usize, height: usize) -> Flow {
        let n = width * height;
        assert_eq!(
            target.len(),
            n,
            "target plane does not fit {width}x{height}"
        );
        assert_eq!(
            source.len(),
            n,
            "source plane does not fit {width}x{height}"
        );
        let levels = self.pyramid_levels(width, height);
        let targets = pyramid(Plane::new(width, height, target.to_vec()), levels);
        let sources = pyramid(Plane::new(width, height, source.to_vec()), levels);
        let coarsest = &targets[levels - 1];
        let mut flow = Flow::zero(coarsest.width, coarsest.height);
        for level in (0..levels).rev() {
            let (t, s) = (&targets[level], &sources[level]);
            if level + 1 < levels {
                flow = upsample_flow(&flow, t.width, t.height);
            }
            for _ in 0..self.iterations {
                self.refine(&mut flow, t, s);
            }
        }
        flow
    }

    /// How many pyramid levels a `width x height` frame gets (at least 1).
    fn pyramid_levels(&self, width: usize, height: usize) -> usize {
        let (mut levels, mut side) = (1, width.min(height));
        while levels < self.levels && side >= 2 * MIN_LEVEL_SIZE {
            side = side.div_ceil(2);
            levels += 1;
        }
        levels
    }

    /// One Lucas–Kanade step: warp the source by `flow`, then solve the windowed 2x2 system per
    /// pixel for a new flow and move towards it (at most `MAX_STEP` per axis, never past the frame).
    ///
    /// Every pixel j of the window contributes the linearized constraint ∇_j·F = ∇_j·F_j - It_j,
    /// i.e. its residual is transported to the centre's flow F rather than taken at its own F_j.
    /// This keeps the pixels' estimates decoupled (errors at the border do not creep inwards).
    fn refine(&self, flow: &mut Flow, target: &Plane, source: &Plane) {
        let warped = source.warp(flow);
        let terms = constraint_terms(target, &warped, flow);
        let (w, h, r) = (target.width, target.height, self.window_radius);
        let [xx, xy, yy, bx, by] = terms.map(|p| tent_mean(&p, w, h, r));
        for (i, (x, y)) in pixels(w, h).enumerate() {
            let current = (flow.u[i], flow.v[i]);
            let (u, v) = solve([xx[i], xy[i], yy[i]], [bx[i], by[i]], current);
            let u = current.0 + (u - current.0).clamp(-MAX_STEP, MAX_STEP);
            let v = current.1 + (v - current.1).clamp(-MAX_STEP, MAX_STEP);
            flow.u[i] = u.clamp(-(x as f32), (w - 1 - x) as f32);
            flow.v[i] = v.clamp(-(y as f32), (h - 1 - y) as f32);
        }
    }
}

/// Per-pixel products Ix², IxIy, Iy², Ix·c, Iy·c with c = ∇·F - It, the gradient averaged over
/// target and warped source (symmetric, more robust) and It = warped - target.
fn constraint_terms(target: &Plane, warped: &Plane, flow: &Flow) -> [Vec<f32>; 5] {
    let n = target.width * target.height;
    let mut terms: [Vec<f32>; 5] = std::array::from_fn(|_| Vec::with_capacity(n));
    for (i, (x, y)) in pixels(target.width, target.height).enumerate() {
        let (tx, ty) = target.gradient(x, y);
        let (wx, wy) = warped.gradient(x, y);
        let (ix, iy) = (0.5 * (tx + wx), 0.5 * (ty + wy));
        let c = ix * flow.u[i] + iy * flow.v[i] - (warped.data[i] - target.data[i]);
        for (term, value) in terms
            .iter_mut()
            .zip([ix * ix, ix * iy, iy * iy, ix * c, iy * c])
        {
            term.push(value);
        }
    }
    terms
}

/// Solves the regularized system ([xx xy; xy yy] + εI) F = b + ε·current, which pulls the solution
/// towards the current estimate where the window has no texture. The determinant is always > 0.
fn solve(tensor: [f64; 3], b: [f64; 2], current: (f32, f32)) -> (f32, f32) {
    let [xx, xy, yy] = tensor;
    let (a, c) = (xx + REGULARIZATION, yy + REGULARIZATION);
    let bx = b[0] + REGULARIZATION * f64::from(current.0);
    let by = b[1] + REGULARIZATION * f64::from(current.1);
    let det = a * c - xy * xy;
    (
        ((c * bx - xy * by) / det) as f32,
        ((a * by - xy * bx) / det) as f32,
    )
}

/// Weighted means over a tent (triangular) window reaching `2r` pixels: two box-filter passes.
/// Unlike a single box, its frequency response is non-negative; the iteration is markedly more
/// stable and accurate with it.
fn tent_mean(data: &[f32], width: usize, height: usize, r: usize) -> Vec<f64> {
    let once = box_mean(data.iter().map(|&d| f64::from(d)), width, height, r);
    box_mean(once.into_iter(), width, height, r)
}

/// Means over the `(2r+1)²` window (truncated at the borders) via an integral image, O(pixels).
fn box_mean(data: impl Iterator<Item = f64>, width: usize, height: usize, r: usize) -> Vec<f64> {
    let stride = width + 1;
    let mut integral = vec![0.0f64; stride * (height + 1)];
    let mut row = 0.0;
    for (d, (x, y)) in data.zip(pixels(width, height)) {
        row = if x == 0 { d } else { row + d };
        integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row;
    }
    pixels(width, height)
        .map(|(x, y)| {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(width));
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(height));
            let sum = integral[y1 * stride + x1]
                - integral[y0 * stride + x1]
                - integral[y1 * stride + x0]
                + integral[y0 * stride + x0];
            sum / ((x1 - x0) * (y1 - y0)) as f64
        })
        .collect()
}

/// The coarse flow resampled onto a `width x height` grid twice as fine, displacements doubled.
fn upsample_flow(coarse: &Flow, width: usize, height: usize) -> Flow {
    Flow::from_fn(width, height, |x, y| {
        let (u, v) = coarse.sample(x as f32 / 2.0, y as f32 / 2.0);
        (2.0 * u, 2.0 * v)
    })
}

/// `levels` planes, each a blurred 2x downsampling of the previous one.
fn pyramid(base: Plane, levels: usize) -> Vec<Plane> {
    let mut planes = Vec::with_capacity(levels);
    let mut current = base;
    for _ in 1..levels {
        let next = current.downsample();
        planes.push(current);
        current = next;
    }
    planes.push(current);
    planes
}

/// One grey image plane.
struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    fn new(width: usize, height: usize, data: Vec<f32>) -> Self {
        Self {
            width,
            height,
            data,
        }
    }

    /// The pixel at `(x, y)` with coordinates clamped into the frame.
    fn at(&self, x: isize, y: isize) -> f32 {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.data[y * self.width + x]
    }

    /// Central-difference gradient with clamped borders.
    fn gradient(&self, x: usize, y: usize) -> (f32, f32) {
        let (x, y) = (x as isize, y as isize);
        let gx = 0.5 * (self.at(x + 1, y) - self.at(x - 1, y));
        let gy = 0.5 * (self.at(x, y + 1) - self.at(x, y - 1));
        (gx, gy)
    }

    /// Separable binomial [1 4 6 4 1]/16 blur along x then y, clamped borders.
    fn blur(&self) -> Self {
        let horizontal = self.filtered(|p, x, y, k| p.at(x + k, y));
        horizontal.filtered(|p, x, y, k| p.at(x, y + k))
    }

    /// Applies the binomial kernel with `tap(plane, x, y, offset)` reading the neighbours.
    fn filtered(&self, tap: impl Fn(&Self, isize, isize, isize) -> f32) -> Self {
        const KERNEL: [f32; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];
        let data = pixels(self.width, self.height)
            .map(|(x, y)| {
                (-2..=2)
                    .zip(KERNEL)
                    .map(|(k, w)| w * tap(self, x as isize, y as isize, k))
                    .sum()
            })
            .collect();
        Self::new(self.width, self.height, data)
    }

    /// Blur, then keep every other pixel: coarse (X, Y) sits on fine (2X, 2Y).
    fn downsample(&self) -> Self {
        let blurred = self.blur();
        let (width, height) = (self.width.div_ceil(2), self.height.div_ceil(2));
        let data = pixels(width, height)
            .map(|(x, y)| blurred.data[2 * y * self.width + 2 * x])
            .collect();
        Self::new(width, height, data)
    }

    /// The plane sampled at x + flow(x), bilinear, positions clamped into the frame.
    fn warp(&self, flow: &Flow) -> Self {
        let data = pixels(self.width, self.height)
            .enumerate()
            .map(|(i, (x, y))| {
                let (idx, w) = bilinear_taps(
                    x as f32 + flow.u[i],
                    y as f32 + flow.v[i],
                    self.width,
                    self.height,
                );
                dot(&self.data, idx, w)
            })
            .collect();
        Self::new(self.width, self.height, data)
    }
}
