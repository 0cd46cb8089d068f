//! The pieces the generators draw with: small maths and colour helpers, seeded gradient noise,
//! and the floating-point canvas with anti-aliased coverage.

use std::ops::{Range, RangeInclusive};

use image::{Rgb, RgbImage};
use rand::Rng;

// ---------------------------------------------------------------------------------------------
// Small maths and colour helpers
// ---------------------------------------------------------------------------------------------

/// An (sRGB-encoded) RGB colour with channels nominally in `0.0..=1.0`.
pub(super) type Colour = [f32; 3];

/// A 2-D point or vector.
pub(super) type Vec2 = [f32; 2];

pub(super) fn sub(a: Vec2, b: Vec2) -> Vec2 {
    [a[0] - b[0], a[1] - b[1]]
}

pub(super) fn dot(a: Vec2, b: Vec2) -> f32 {
    a[0] * b[0] + a[1] * b[1]
}

pub(super) fn length(a: Vec2) -> f32 {
    dot(a, a).sqrt()
}

/// Rotate `a` by `angle` radians.
pub(super) fn rotate(a: Vec2, angle: f32) -> Vec2 {
    let (s, c) = angle.sin_cos();
    [a[0] * c - a[1] * s, a[0] * s + a[1] * c]
}

pub(super) fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

pub(super) fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

pub(super) fn mix(a: Colour, b: Colour, t: f32) -> Colour {
    [
        lerp(a[0], b[0], t),
        lerp(a[1], b[1], t),
        lerp(a[2], b[2], t),
    ]
}

pub(super) fn scale(c: Colour, k: f32) -> Colour {
    [c[0] * k, c[1] * k, c[2] * k]
}

/// HSV to RGB; `h` in turns (wraps), `s` and `v` in `0..=1`.
pub(super) fn hsv(h: f32, s: f32, v: f32) -> Colour {
    let h6 = h.rem_euclid(1.0) * 6.0;
    let channel = |n: f32| {
        let k = (n + h6) % 6.0;
        v - v * s * k.min(4.0 - k).clamp(0.0, 1.0)
    };
    [channel(5.0), channel(3.0), channel(1.0)]
}

/// Piecewise-linear interpolation through evenly spaced colour `stops`, `t` in `0..=1`.
pub(super) fn gradient(stops: &[Colour], t: f32) -> Colour {
    let last = stops.len() - 1;
    let x = t.clamp(0.0, 1.0) * last as f32;
    let i = (x as usize).min(last.saturating_sub(1));
    mix(stops[i], stops[(i + 1).min(last)], x - i as f32)
}

/// `x.floor() as i32` without a libm call (saturating outside the `i32` range).
pub(super) fn floor_i32(x: f32) -> i32 {
    let t = x as i32;
    t - i32::from((t as f32) > x)
}

/// Scale factor for feature sizes: 1.0 for a 256-pixel smaller side.
pub(super) fn unit(width: u32, height: u32) -> f32 {
    width.min(height).max(1) as f32 / 256.0
}

/// A random colour; `dark` chooses a low or a high value so that successive picks contrast.
pub(super) fn random_colour<R: Rng + ?Sized>(rng: &mut R, dark: bool) -> Colour {
    let value = if dark {
        rng.random_range(0.05..0.45)
    } else {
        rng.random_range(0.6..1.0)
    };
    hsv(rng.random(), rng.random_range(0.1..0.9), value)
}

/// A random colour, dark or light with equal probability.
pub(super) fn any_colour<R: Rng + ?Sized>(rng: &mut R) -> Colour {
    let dark = rng.random_bool(0.5);
    random_colour(rng, dark)
}

/// A random number (within `count`) of colour stops alternating between dark and light.
pub(super) fn random_stops<R: Rng + ?Sized>(
    rng: &mut R,
    count: RangeInclusive<usize>,
) -> Vec<Colour> {
    let first_dark = rng.random_bool(0.5);
    (0..rng.random_range(count))
        .map(|i| random_colour(rng, (i % 2 == 0) == first_dark))
        .collect()
}

/// Integer hash of three values to a float in `0..1`, for per-stroke randomness without state.
pub(super) fn hash01(seed: u32, a: i32, b: i32) -> f32 {
    let mix32 = |mut h: u32| {
        h ^= h >> 16;
        h = h.wrapping_mul(0x7FEB_352D);
        h ^= h >> 15;
        h = h.wrapping_mul(0x846C_A68B);
        h ^ (h >> 16)
    };
    let h = mix32(mix32(mix32(seed) ^ a as u32) ^ b as u32);
    (h >> 8) as f32 / (1u32 << 24) as f32
}

// ---------------------------------------------------------------------------------------------
// Gradient noise
// ---------------------------------------------------------------------------------------------

/// Seeded 2-D gradient (Perlin) noise with values roughly in `-1..=1`.
pub(super) struct Noise {
    pub(super) perm: [u8; 512],
}

impl Noise {
    pub(super) fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut table: [u8; 256] = std::array::from_fn(|i| i as u8);
        for i in (1..table.len()).rev() {
            table.swap(i, rng.random_range(0..=i));
        }
        Self {
            perm: std::array::from_fn(|i| table[i & 255]),
        }
    }

    pub(super) fn corner(&self, x: usize, y: usize, dx: f32, dy: f32) -> f32 {
        const GRADIENTS: [Vec2; 8] = [
            [1.0, 1.0],
            [-1.0, 1.0],
            [1.0, -1.0],
            [-1.0, -1.0],
            [1.0, 0.0],
            [-1.0, 0.0],
            [0.0, 1.0],
            [0.0, -1.0],
        ];
        let h = self.perm[self.perm[x] as usize + y];
        dot(GRADIENTS[usize::from(h & 7)], [dx, dy])
    }

    pub(super) fn sample(&self, x: f32, y: f32) -> f32 {
        let (xf, yf) = (floor_i32(x), floor_i32(y));
        let (xi, yi) = ((xf & 255) as usize, (yf & 255) as usize);
        let (dx, dy) = (x - xf as f32, y - yf as f32);
        let fade = |t: f32| t * t * t * (t * (t * 6.0 - 15.0) + 10.0);
        let (u, v) = (fade(dx), fade(dy));
        let bottom = lerp(
            self.corner(xi, yi, dx, dy),
            self.corner(xi + 1, yi, dx - 1.0, dy),
            u,
        );
        let top = lerp(
            self.corner(xi, yi + 1, dx, dy - 1.0),
            self.corner(xi + 1, yi + 1, dx - 1.0, dy - 1.0),
            u,
        );
        lerp(bottom, top, v)
    }

    /// Fractional Brownian motion: `octaves` octaves, amplitude ratio `gain`, normalised so the
    /// result stays roughly in `-1..=1`. Octaves are rotated and shifted to hide lattice axes.
    pub(super) fn fbm(&self, x: f32, y: f32, octaves: u32, gain: f32) -> f32 {
        let (mut p, mut amp, mut sum, mut norm) = ([x, y], 1.0, 0.0, 0.0);
        for _ in 0..octaves {
            sum += amp * self.sample(p[0], p[1]);
            norm += amp;
            amp *= gain;
            p = rotate([p[0] * 2.0, p[1] * 2.0], 0.6);
            p = [p[0] + 17.3, p[1] - 9.1];
        }
        sum / norm
    }
}

/// Rescale `values` in place to span `0..=1` exactly (constant input becomes all zeros).
pub(super) fn normalise(values: &mut [f32]) {
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = (hi - lo).max(1e-6);
    for v in values {
        *v = (*v - lo) / range;
    }
}

// ---------------------------------------------------------------------------------------------
// Floating-point canvas
// ---------------------------------------------------------------------------------------------

/// An axis-aligned rectangle in pixel coordinates.
#[derive(Clone, Copy)]
pub(super) struct Bounds {
    pub(super) min: Vec2,
    pub(super) max: Vec2,
}

impl Bounds {
    /// The square around `centre` with half side `radius`.
    pub(super) fn around(centre: Vec2, radius: f32) -> Self {
        Self {
            min: [centre[0] - radius, centre[1] - radius],
            max: [centre[0] + radius, centre[1] + radius],
        }
    }

    /// Smallest bounds containing all `points`, grown by `margin`.
    pub(super) fn of_points(points: &[Vec2], margin: f32) -> Self {
        let fold = |f: fn(f32, f32) -> f32, init: f32, axis: usize| {
            points.iter().fold(init, |acc, p| f(acc, p[axis]))
        };
        Self {
            min: [
                fold(f32::min, f32::INFINITY, 0) - margin,
                fold(f32::min, f32::INFINITY, 1) - margin,
            ],
            max: [
                fold(f32::max, f32::NEG_INFINITY, 0) + margin,
                fold(f32::max, f32::NEG_INFINITY, 1) + margin,
            ],
        }
    }
}

/// Pixel index range `lo..hi` overlapping the float interval, clamped to `0..size`.
pub(super) fn pixel_span(lo: f32, hi: f32, size: u32) -> Range<u32> {
    let clamp = |v: f32| v.clamp(0.0, size as f32) as u32;
    clamp(lo.floor() - 1.0)..clamp(hi.ceil() + 1.0)
}

/// A floating-point RGB working buffer; pixel `(x, y)` has its centre at `(x + 0.5, y + 0.5)`.
pub(super) struct Canvas {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) px: Vec<Colour>,
}

impl Canvas {
    pub(super) fn from_fn(width: u32, height: u32, mut f: impl FnMut(Vec2) -> Colour) -> Self {
        let mut px = Vec::with_capacity(width as usize * height as usize);
        for y in 0..height {
            for x in 0..width {
                px.push(f([x as f32 + 0.5, y as f32 + 0.5]));
            }
        }
        Self { width, height, px }
    }

    pub(super) fn filled(width: u32, height: u32, colour: Colour) -> Self {
        Self::from_fn(width, height, |_| colour)
    }

    /// Blend `colour` over the pixels inside `bounds` with per-pixel opacity `alpha(centre)`.
    pub(super) fn composite(
        &mut self,
        bounds: Bounds,
        colour: Colour,
        alpha: impl Fn(Vec2) -> f32,
    ) {
        let xs = pixel_span(bounds.min[0], bounds.max[0], self.width);
        for y in pixel_span(bounds.min[1], bounds.max[1], self.height) {
            let row = y as usize * self.width as usize;
            for x in xs.clone() {
                let a = alpha([x as f32 + 0.5, y as f32 + 0.5]);
                if a > 0.0 {
                    let p = &mut self.px[row + x as usize];
                    *p = mix(*p, colour, a.min(1.0));
                }
            }
        }
    }

    pub(super) fn into_image(self) -> RgbImage {
        let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        let width = self.width as usize;
        RgbImage::from_fn(self.width, self.height, |x, y| {
            let c = self.px[y as usize * width + x as usize];
            Rgb([to_u8(c[0]), to_u8(c[1]), to_u8(c[2])])
        })
    }
}

/// Anti-aliased coverage of a signed distance `d` (negative inside) with edge width `softness`.
pub(super) fn coverage(d: f32, softness: f32) -> f32 {
    (0.5 - d / softness).clamp(0.0, 1.0)
}
