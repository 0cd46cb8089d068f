//! Procedural *content* images (training inputs): dead leaves, fractal noise, shapes, gradients.

use std::f32::consts::{PI, TAU};

use rand::Rng;

use super::canvas::*;

// ---------------------------------------------------------------------------------------------
// Content: dead leaves
// ---------------------------------------------------------------------------------------------

/// One disc of the dead-leaves model, with a slight linear shading across it.
pub(super) struct Leaf {
    pub(super) centre: Vec2,
    pub(super) radius: f32,
    pub(super) colour: Colour,
    pub(super) tilt: Vec2,
}

impl Leaf {
    pub(super) fn random<R: Rng + ?Sized>(
        rng: &mut R,
        size: Vec2,
        radii: Vec2,
        hues: &[f32],
    ) -> Self {
        let radius = power_law_radius(rng, radii[0], radii[1]);
        let centre = [
            rng.random_range(-radius..size[0] + radius),
            rng.random_range(-radius..size[1] + radius),
        ];
        let hue = hues[rng.random_range(0..hues.len())] + rng.random_range(-0.05..0.05);
        let colour = hsv(
            hue,
            rng.random_range(0.1..0.85),
            rng.random_range(0.08..1.0),
        );
        let tilt = rotate(
            [rng.random_range(0.0..0.25), 0.0],
            rng.random_range(0.0..TAU),
        );
        Self {
            centre,
            radius,
            colour,
            tilt,
        }
    }

    /// Colour and coverage at `p`.
    pub(super) fn shade(&self, p: Vec2) -> (Colour, f32) {
        let offset = sub(p, self.centre);
        let cover = coverage(length(offset) - self.radius, 1.0);
        let light = 1.0 + dot(offset, self.tilt) / self.radius;
        (scale(self.colour, light), cover)
    }
}

/// Sample a radius with density proportional to `r^-3` on `min..max` (inverse CDF).
pub(super) fn power_law_radius<R: Rng + ?Sized>(rng: &mut R, min: f32, max: f32) -> f32 {
    let (a, b) = (min.powi(-2), max.powi(-2));
    (a - rng.random::<f32>() * (a - b)).powf(-0.5)
}

/// Front-to-back compositing state for the dead-leaves model.
pub(super) struct LeafStack {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) colour: Vec<Colour>,
    pub(super) transmittance: Vec<f32>,
    pub(super) uncovered: usize,
}

impl LeafStack {
    pub(super) fn new(width: u32, height: u32) -> Self {
        let n = width as usize * height as usize;
        Self {
            width,
            height,
            colour: vec![[0.0; 3]; n],
            transmittance: vec![1.0; n],
            uncovered: n,
        }
    }

    /// Put `leaf` *behind* everything added so far.
    pub(super) fn add_behind(&mut self, leaf: &Leaf) {
        let bounds = Bounds::around(leaf.centre, leaf.radius + 1.0);
        let xs = pixel_span(bounds.min[0], bounds.max[0], self.width);
        for y in pixel_span(bounds.min[1], bounds.max[1], self.height) {
            for x in xs.clone() {
                let i = y as usize * self.width as usize + x as usize;
                if self.transmittance[i] > 0.0 {
                    let (colour, a) = leaf.shade([x as f32 + 0.5, y as f32 + 0.5]);
                    self.deposit(i, colour, a);
                }
            }
        }
    }

    pub(super) fn deposit(&mut self, i: usize, colour: Colour, alpha: f32) {
        let t = self.transmittance[i];
        let c = &mut self.colour[i];
        for (channel, value) in c.iter_mut().zip(colour) {
            *channel += t * alpha * value;
        }
        let remaining = t * (1.0 - alpha);
        self.transmittance[i] = if remaining < 1e-3 {
            self.uncovered -= 1;
            0.0
        } else {
            remaining
        };
    }

    /// Fill whatever is still visible with `background`.
    pub(super) fn finish(self, background: Colour) -> Canvas {
        let mut px = self.colour;
        for (c, t) in px.iter_mut().zip(self.transmittance) {
            *c = [
                c[0] + t * background[0],
                c[1] + t * background[1],
                c[2] + t * background[2],
            ];
        }
        Canvas {
            width: self.width,
            height: self.height,
            px,
        }
    }
}

pub(super) fn dead_leaves<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    const MAX_LEAVES: usize = 60_000;
    let dim = width.min(height).max(1) as f32;
    let r_min = (dim / 160.0).max(0.5);
    let radii = [r_min, (dim / 3.0).max(2.0 * r_min)];
    let size = [width as f32, height as f32];
    let hues: Vec<f32> = (0..rng.random_range(2..6)).map(|_| rng.random()).collect();
    let mut stack = LeafStack::new(width, height);
    for _ in 0..MAX_LEAVES {
        if stack.uncovered == 0 {
            break;
        }
        stack.add_behind(&Leaf::random(rng, size, radii, &hues));
    }
    stack.finish(any_colour(rng))
}

// ---------------------------------------------------------------------------------------------
// Content: fractal noise
// ---------------------------------------------------------------------------------------------

/// Parameters of one fBm field.
#[derive(Clone, Copy)]
pub(super) struct FbmParams {
    pub(super) frequency: f32,
    pub(super) octaves: u32,
    pub(super) gain: f32,
    pub(super) ridged: bool,
}

/// A `width * height` fBm field rescaled to `0..=1`.
pub(super) fn fbm_field<R: Rng + ?Sized>(
    width: u32,
    height: u32,
    params: FbmParams,
    rng: &mut R,
) -> Vec<f32> {
    let noise = Noise::new(rng);
    let offset = [rng.random_range(0.0..256.0), rng.random_range(0.0..256.0)];
    let mut values = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        for x in 0..width {
            let px = offset[0] + x as f32 * params.frequency;
            let py = offset[1] + y as f32 * params.frequency;
            let v = noise.fbm(px, py, params.octaves, params.gain);
            values.push(if params.ridged { -v.abs() } else { v });
        }
    }
    normalise(&mut values);
    values
}

pub(super) fn fractal_noise<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let frequency = rng.random_range(1.5..6.0) / width.max(height).max(1) as f32;
    // Stop before the finest octave's wavelength drops below two pixels.
    let max_octaves = (1.0 + (0.5 / frequency).log2()).max(1.0) as u32;
    let params = FbmParams {
        frequency,
        octaves: rng.random_range(4..=7).min(max_octaves),
        gain: rng.random_range(0.45..0.7),
        ridged: rng.random_bool(0.3),
    };
    let px = if rng.random_bool(0.5) {
        let channels: Vec<Vec<f32>> = (0..3)
            .map(|_| fbm_field(width, height, params, rng))
            .collect();
        (0..channels[0].len())
            .map(|i| [channels[0][i], channels[1][i], channels[2][i]])
            .collect()
    } else {
        let stops = random_stops(rng, 3..=5);
        let field = fbm_field(width, height, params, rng);
        field.into_iter().map(|t| gradient(&stops, t)).collect()
    };
    Canvas { width, height, px }
}

// ---------------------------------------------------------------------------------------------
// Content: geometric shapes
// ---------------------------------------------------------------------------------------------

/// A geometric primitive described by its signed distance function.
pub(super) enum Shape {
    Disc {
        centre: Vec2,
        radius: f32,
    },
    Rect {
        centre: Vec2,
        half: Vec2,
        angle: f32,
    },
    Triangle([Vec2; 3]),
    Line {
        a: Vec2,
        b: Vec2,
        half_width: f32,
    },
}

impl Shape {
    pub(super) fn random<R: Rng + ?Sized>(rng: &mut R, width: u32, height: u32) -> Self {
        let dim = width.min(height).max(1) as f32;
        let size = (dim / 40.0).max(1.0) * rng.random_range(1.0f32..13.0).powf(1.3);
        let centre = [
            rng.random_range(0.0..width.max(1) as f32),
            rng.random_range(0.0..height.max(1) as f32),
        ];
        let around = |rng: &mut R| {
            let offset = rotate(
                [size * rng.random_range(0.4..1.2), 0.0],
                rng.random_range(0.0..TAU),
            );
            [centre[0] + offset[0], centre[1] + offset[1]]
        };
        match rng.random_range(0..4) {
            0 => Shape::Disc {
                centre,
                radius: size * 0.7,
            },
            1 => Shape::Rect {
                centre,
                half: [
                    size * rng.random_range(0.2..1.0),
                    size * rng.random_range(0.2..1.0),
                ],
                angle: rng.random_range(0.0..PI),
            },
            2 => Shape::Triangle([around(rng), around(rng), around(rng)]),
            _ => Shape::Line {
                a: around(rng),
                b: around(rng),
                half_width: (dim / 200.0).max(0.5) * rng.random_range(1.0..4.0),
            },
        }
    }

    pub(super) fn bounds(&self) -> Bounds {
        match *self {
            Shape::Disc { centre, radius } => Bounds::around(centre, radius),
            Shape::Rect { centre, half, .. } => Bounds::around(centre, length(half)),
            Shape::Triangle(points) => Bounds::of_points(&points, 0.0),
            Shape::Line { a, b, half_width } => Bounds::of_points(&[a, b], half_width),
        }
    }

    /// Signed distance from `p` to the shape's outline, negative inside.
    pub(super) fn sdf(&self, p: Vec2) -> f32 {
        match *self {
            Shape::Disc { centre, radius } => length(sub(p, centre)) - radius,
            Shape::Rect {
                centre,
                half,
                angle,
            } => sd_box(rotate(sub(p, centre), -angle), half),
            Shape::Triangle(points) => sd_triangle(p, points),
            Shape::Line { a, b, half_width } => sd_segment(p, a, b) - half_width,
        }
    }
}

pub(super) fn sd_box(p: Vec2, half: Vec2) -> f32 {
    let d = [p[0].abs() - half[0], p[1].abs() - half[1]];
    length([d[0].max(0.0), d[1].max(0.0)]) + d[0].max(d[1]).min(0.0)
}

pub(super) fn sd_segment(p: Vec2, a: Vec2, b: Vec2) -> f32 {
    let (pa, ba) = (sub(p, a), sub(b, a));
    let h = (dot(pa, ba) / dot(ba, ba).max(1e-6)).clamp(0.0, 1.0);
    length([pa[0] - ba[0] * h, pa[1] - ba[1] * h])
}

pub(super) fn sd_triangle(p: Vec2, [p0, p1, p2]: [Vec2; 3]) -> f32 {
    let edges = [(p0, p1), (p1, p2), (p2, p0)];
    let e0 = sub(p1, p0);
    let e2 = sub(p0, p2);
    let orientation = (e0[0] * e2[1] - e0[1] * e2[0]).signum();
    let (dist2, side) = edges
        .iter()
        .map(|&(a, b)| {
            let (e, v) = (sub(b, a), sub(p, a));
            let h = (dot(v, e) / dot(e, e).max(1e-6)).clamp(0.0, 1.0);
            let q = [v[0] - e[0] * h, v[1] - e[1] * h];
            (dot(q, q), orientation * (v[0] * e[1] - v[1] * e[0]))
        })
        .fold((f32::INFINITY, f32::INFINITY), |(d, s), (qd, qs)| {
            (d.min(qd), s.min(qs))
        });
    -dist2.sqrt() * side.signum()
}

pub(super) fn shapes<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let background = linear_gradient_fn(width, height, rng);
    let mut canvas = Canvas::from_fn(width, height, background);
    for _ in 0..rng.random_range(15..40) {
        let shape = Shape::random(rng, width, height);
        let colour = any_colour(rng);
        let softness = if rng.random_bool(0.2) {
            rng.random_range(4.0..20.0) * unit(width, height)
        } else {
            1.0
        };
        let opacity = if rng.random_bool(0.25) {
            rng.random_range(0.4..0.9)
        } else {
            1.0
        };
        let bounds = shape.bounds();
        let grown = Bounds::of_points(&[bounds.min, bounds.max], softness);
        canvas.composite(grown, colour, |p| {
            opacity * coverage(shape.sdf(p), softness.max(1.0))
        });
    }
    canvas
}

// ---------------------------------------------------------------------------------------------
// Content: gradients and blobs
// ---------------------------------------------------------------------------------------------

/// A random linear gradient through 2-3 contrasting colours, as a function of pixel position.
pub(super) fn linear_gradient_fn<R: Rng + ?Sized>(
    width: u32,
    height: u32,
    rng: &mut R,
) -> impl Fn(Vec2) -> Colour {
    let stops = random_stops(rng, 2..=3);
    let direction = rotate([1.0, 0.0], rng.random_range(0.0..TAU));
    let corners = [
        [0.0, 0.0],
        [width as f32, 0.0],
        [0.0, height as f32],
        [width as f32, height as f32],
    ];
    let projections = corners.map(|c| dot(c, direction));
    let lo = projections.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = projections
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    move |p| gradient(&stops, (dot(p, direction) - lo) / (hi - lo).max(1e-6))
}

/// A random radial gradient through 2-3 contrasting colours, as a function of pixel position.
pub(super) fn radial_gradient_fn<R: Rng + ?Sized>(
    width: u32,
    height: u32,
    rng: &mut R,
) -> impl Fn(Vec2) -> Colour {
    let stops = random_stops(rng, 2..=3);
    let dim = width.max(height).max(1) as f32;
    let centre = [
        rng.random_range(-0.2..1.2) * width as f32,
        rng.random_range(-0.2..1.2) * height as f32,
    ];
    let radius = dim * rng.random_range(0.5..1.3);
    move |p| gradient(&stops, length(sub(p, centre)) / radius)
}

/// Composite a large, soft, elliptical Gaussian blob of random colour.
pub(super) fn add_blob<R: Rng + ?Sized>(canvas: &mut Canvas, rng: &mut R) {
    let (w, h) = (canvas.width as f32, canvas.height as f32);
    let dim = w.min(h).max(1.0);
    let centre = [
        rng.random_range(-0.1..1.1) * w,
        rng.random_range(-0.1..1.1) * h,
    ];
    let sigma = [
        dim * rng.random_range(0.06..0.3),
        dim * rng.random_range(0.06..0.3),
    ];
    let angle = rng.random_range(0.0..PI);
    let opacity = rng.random_range(0.5..1.0);
    let sharpness = rng.random_range(1.0..4.0);
    let colour = any_colour(rng);
    let bounds = Bounds::around(centre, 3.0 * sigma[0].max(sigma[1]));
    canvas.composite(bounds, colour, |p| {
        let q = rotate(sub(p, centre), -angle);
        let d2 = (q[0] / sigma[0]).powi(2) + (q[1] / sigma[1]).powi(2);
        opacity * (-0.5 * d2.powf(sharpness)).exp()
    });
}

pub(super) fn gradients<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let mut canvas = if rng.random_bool(0.5) {
        Canvas::from_fn(width, height, linear_gradient_fn(width, height, rng))
    } else {
        Canvas::from_fn(width, height, radial_gradient_fn(width, height, rng))
    };
    for _ in 0..rng.random_range(3..8) {
        add_blob(&mut canvas, rng);
    }
    canvas
}
