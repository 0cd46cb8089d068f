//! The built-in *style* patterns: mosaic (stained glass), ink hatching, pointillism, swirls.

use rand::Rng;
use std::f32::consts::{PI, TAU};

use super::canvas::*;
use super::content::{FbmParams, fbm_field};

// ---------------------------------------------------------------------------------------------
// Style: mosaic (stained glass)
// ---------------------------------------------------------------------------------------------

/// Saturated jewel tones of stained glass.
pub(super) const JEWELS: [Colour; 9] = [
    [0.72, 0.04, 0.10], // ruby
    [0.06, 0.16, 0.62], // sapphire
    [0.02, 0.48, 0.22], // emerald
    [0.96, 0.60, 0.06], // amber
    [0.44, 0.10, 0.60], // amethyst
    [0.04, 0.58, 0.64], // turquoise
    [0.98, 0.84, 0.22], // gold
    [0.10, 0.32, 0.86], // cobalt
    [0.85, 0.25, 0.05], // vermilion
];

/// Voronoi sites on a jittered grid, padded by two cells on every side.
pub(super) struct Sites {
    pub(super) cell: f32,
    pub(super) cols: i32,
    pub(super) rows: i32,
    pub(super) points: Vec<Vec2>,
    pub(super) colours: Vec<Colour>,
}

impl Sites {
    /// Padding in cells around the image, enough for the 5x5 neighbourhood search.
    const PAD: i32 = 2;

    pub(super) fn jittered<R: Rng + ?Sized>(
        width: u32,
        height: u32,
        cell: f32,
        rng: &mut R,
    ) -> Self {
        let cols = (width as f32 / cell).ceil() as i32 + 2 * Self::PAD;
        let rows = (height as f32 / cell).ceil() as i32 + 2 * Self::PAD;
        let mut points = Vec::with_capacity((cols * rows) as usize);
        let mut colours = Vec::with_capacity(points.capacity());
        for j in 0..rows {
            for i in 0..cols {
                let jitter = [rng.random_range(0.1..0.9), rng.random_range(0.1..0.9)];
                points.push([
                    (i - Self::PAD) as f32 * cell + jitter[0] * cell,
                    (j - Self::PAD) as f32 * cell + jitter[1] * cell,
                ]);
                let jewel = JEWELS[rng.random_range(0..JEWELS.len())];
                colours.push(scale(jewel, rng.random_range(0.8..1.1)));
            }
        }
        Self {
            cell,
            cols,
            rows,
            points,
            colours,
        }
    }

    /// Index of the grid cell containing coordinate `v`, kept where the 5x5 search fits.
    pub(super) fn grid_index(&self, v: f32, count: i32) -> i32 {
        (floor_i32(v / self.cell) + Self::PAD).clamp(Self::PAD, count - 1 - Self::PAD)
    }

    /// The nearest site to `p` and the distance from `p` to that site's cell border.
    pub(super) fn nearest_with_edge(&self, p: Vec2) -> (usize, f32) {
        let (ci, cj) = (
            self.grid_index(p[0], self.cols),
            self.grid_index(p[1], self.rows),
        );
        let mut candidates = [0usize; 25];
        for (k, slot) in candidates.iter_mut().enumerate() {
            let (di, dj) = (k as i32 % 5 - 2, k as i32 / 5 - 2);
            *slot = ((cj + dj) * self.cols + ci + di) as usize;
        }
        let distance2 = candidates.map(|i| dot(sub(p, self.points[i]), sub(p, self.points[i])));
        let best = (0..candidates.len())
            .min_by(|&a, &b| distance2[a].total_cmp(&distance2[b]))
            .unwrap_or(0);
        let (nearest, a) = (candidates[best], self.points[candidates[best]]);
        // Squared distance to the bisector of a and b: (|p - b|^2 - |p - a|^2)^2 / (4 |b - a|^2).
        let edge2 = (0..candidates.len())
            .filter(|&k| k != best)
            .map(|k| {
                let gap = distance2[k] - distance2[best];
                let n = sub(self.points[candidates[k]], a);
                gap * gap / (4.0 * dot(n, n)).max(1e-12)
            })
            .fold(f32::INFINITY, f32::min);
        let edge = edge2.sqrt();
        (nearest, edge)
    }
}

pub(super) fn mosaic<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let u = unit(width, height);
    let sites = Sites::jittered(width, height, (34.0 * u).max(2.0), rng);
    let lead_half = (2.6 * u).max(0.6);
    let (lead_dark, lead_sheen) = ([0.06, 0.05, 0.05], [0.2, 0.19, 0.18]);
    let texture = Noise::new(rng);
    let light = rotate([1.0, 0.0], rng.random_range(0.0..TAU));
    let freq = 0.06 / u;
    Canvas::from_fn(width, height, |p| {
        let (site, edge) = sites.nearest_with_edge(p);
        let mottle = 0.82 + 0.3 * texture.fbm(p[0] * freq, p[1] * freq, 3, 0.5);
        let glow = 1.0 + 0.12 * dot(sub(p, sites.points[site]), light) / sites.cell;
        let rim = lerp(0.6, 1.0, smoothstep(lead_half, lead_half + 5.0 * u, edge));
        let glass = scale(sites.colours[site], mottle * glow * rim);
        let sheen = 1.0 - (edge / lead_half).clamp(-1.0, 1.0).abs();
        let lead = mix(lead_dark, lead_sheen, sheen * sheen);
        mix(
            lead,
            glass,
            smoothstep(lead_half - 0.7, lead_half + 0.7, edge),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Style: ink hatching
// ---------------------------------------------------------------------------------------------

/// A smooth per-pixel tone field in `0..=1` (0 = paper white, 1 = darkest).
pub(super) struct ToneField {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) tone: Vec<f32>,
}

impl ToneField {
    pub(super) fn random<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Self {
        let params = FbmParams {
            frequency: 2.2 / width.max(height).max(1) as f32,
            octaves: 3,
            gain: 0.5,
            ridged: false,
        };
        let mut tone = fbm_field(width, height, params, rng);
        let light = rotate([1.0, 0.0], rng.random_range(0.0..TAU));
        let dim = width.max(height).max(1) as f32;
        for (i, t) in tone.iter_mut().enumerate() {
            let p = [(i % width as usize) as f32, (i / width as usize) as f32];
            *t += 0.35 * dot(p, light) / dim;
        }
        normalise(&mut tone);
        Self {
            width,
            height,
            tone,
        }
    }

    /// Tone at the pixel nearest to `p` (clamped to the image).
    pub(super) fn at(&self, p: Vec2) -> f32 {
        let x = (p[0].max(0.0) as u32).min(self.width - 1);
        let y = (p[1].max(0.0) as u32).min(self.height - 1);
        self.tone[y as usize * self.width as usize + x as usize]
    }
}

/// Geometry shared by all hatching layers.
pub(super) struct HatchPen {
    pub(super) spacing: f32,
    pub(super) stroke_length: f32,
    pub(super) half_width: f32,
    pub(super) wobble: f32,
    pub(super) curve: Noise,
    pub(super) curve_frequency: f32,
}

/// One family of parallel hatching strokes along `dir`, drawn where the tone exceeds
/// `threshold`.
pub(super) struct HatchLayer {
    pub(super) dir: Vec2,
    pub(super) threshold: f32,
    pub(super) salt: u32,
    /// Offset into the pen's curve noise, so layers bend independently.
    pub(super) lane: f32,
}

impl HatchLayer {
    /// Ink coverage of this layer at pixel `p`.
    pub(super) fn ink(&self, p: Vec2, pen: &HatchPen, tone: &ToneField) -> f32 {
        let [c, s] = self.dir;
        let (u, v) = (dot(p, [-s, c]), dot(p, self.dir));
        let line = floor_i32(u / pen.spacing);
        let shift = hash01(self.salt, line, i32::MIN) * pen.stroke_length;
        let stroke = floor_i32((v + shift) / pen.stroke_length);
        let r = |k: u32| hash01(self.salt.wrapping_add(k), line, stroke);
        let centre_u = (line as f32 + 0.5) * pen.spacing;
        let centre_v = (stroke as f32 + 0.5) * pen.stroke_length - shift;
        let centre = [c * centre_v - s * centre_u, s * centre_v + c * centre_u];
        if tone.at(centre) < self.threshold + (r(1) - 0.5) * 0.16 {
            return 0.0;
        }
        let along = v - centre_v;
        let ends = [
            (r(2) * 0.25 - 0.5) * pen.stroke_length,
            (0.5 - r(3) * 0.25) * pen.stroke_length,
        ];
        let taper =
            ((along - ends[0]).min(ends[1] - along) / (4.0 * pen.half_width)).clamp(0.0, 1.0);
        let bend = pen
            .curve
            .sample(v * pen.curve_frequency, self.lane + line as f32 * 0.61);
        let offset = u - centre_u - pen.wobble * bend - (r(4) - 0.5) * 0.05 * along;
        let half = pen.half_width * (0.7 + 0.5 * r(5)) * taper.sqrt();
        (1.0 - smoothstep(half - 0.5, half + 0.5, offset.abs())) * (0.75 + 0.25 * r(6))
    }
}

pub(super) fn ink_hatching<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let u = unit(width, height);
    let tone = ToneField::random(width, height, rng);
    let base = rng.random_range(0.35..0.95);
    let turns = [
        (0.0, 0.15),
        (PI / 2.0, 0.4),
        (PI / 4.0, 0.62),
        (-PI / 4.0, 0.82),
    ];
    let layers = turns.map(|(turn, threshold)| HatchLayer {
        dir: rotate([1.0, 0.0], base + turn),
        threshold,
        salt: rng.random(),
        lane: rng.random_range(0.0..256.0),
    });
    let pen = HatchPen {
        spacing: (5.5 * u).max(1.5),
        stroke_length: (42.0 * u).max(3.0),
        half_width: (0.8 * u).max(0.4),
        wobble: u,
        curve: Noise::new(rng),
        curve_frequency: 0.03 / u,
    };
    let paper_noise = Noise::new(rng);
    let paper = [0.96, 0.93, 0.84];
    let ink_colour = [0.09, 0.07, 0.11];
    let grain = 0.35 / u;
    Canvas::from_fn(width, height, |p| {
        let clear: f32 = layers
            .iter()
            .map(|layer| 1.0 - layer.ink(p, &pen, &tone))
            .product();
        let fibre = 1.0 + 0.025 * paper_noise.fbm(p[0] * grain * 0.1, p[1] * grain, 2, 0.5);
        mix(scale(paper, fibre), ink_colour, 0.95 * (1.0 - clear))
    })
}

// ---------------------------------------------------------------------------------------------
// Style: pointillism
// ---------------------------------------------------------------------------------------------

/// The smooth underlying colour field the dots follow: a hue and a value per position.
pub(super) struct ColourField {
    pub(super) hue: Noise,
    pub(super) value: Noise,
    pub(super) base_hue: f32,
    pub(super) hue_span: f32,
    pub(super) frequency: f32,
}

impl ColourField {
    pub(super) fn random<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Self {
        Self {
            hue: Noise::new(rng),
            value: Noise::new(rng),
            base_hue: rng.random(),
            hue_span: rng.random_range(0.3..0.5),
            frequency: 1.6 / width.max(height).max(1) as f32,
        }
    }

    /// Hue (turns) and value (`0..=1`) at `p`.
    pub(super) fn at(&self, p: Vec2) -> (f32, f32) {
        let (x, y) = (p[0] * self.frequency, p[1] * self.frequency);
        let hue = self.base_hue + self.hue_span * self.hue.fbm(x, y, 2, 0.5) * 1.5;
        let value = (0.5 + 1.5 * self.value.fbm(x + 31.7, y, 2, 0.5)).clamp(0.0, 1.0);
        (hue, value)
    }

    /// A pure, saturated dot colour for position `p`: mostly the local hue, sometimes its
    /// complement.
    pub(super) fn dot_colour<R: Rng + ?Sized>(&self, p: Vec2, rng: &mut R) -> Colour {
        let (hue, value) = self.at(p);
        let complement = if rng.random_bool(0.15) { 0.5 } else { 0.0 };
        hsv(
            hue + complement + rng.random_range(-0.05..0.05),
            rng.random_range(0.8..1.0),
            lerp(0.6, 1.0, value) * rng.random_range(0.88..1.0),
        )
    }
}

pub(super) fn pointillism<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let u = unit(width, height);
    let field = ColourField::random(width, height, rng);
    let mut canvas = Canvas::filled(width, height, [0.96, 0.93, 0.85]);
    let spacing = (6.0 * u).max(1.0);
    let cols = (width as f32 / spacing).ceil() as u32 + 1;
    let rows = (height as f32 / spacing).ceil() as u32 + 1;
    for _pass in 0..2 {
        for j in 0..rows {
            for i in 0..cols {
                let centre = [
                    (i as f32 + rng.random::<f32>() - 0.5) * spacing,
                    (j as f32 + rng.random::<f32>() - 0.5) * spacing,
                ];
                let radius = (2.7 * u * rng.random_range(0.8..1.2)).max(0.6);
                let colour = field.dot_colour(centre, rng);
                canvas.composite(Bounds::around(centre, radius + 1.0), colour, |p| {
                    coverage(length(sub(p, centre)) - radius, 1.0)
                });
            }
        }
    }
    canvas
}

// ---------------------------------------------------------------------------------------------
// Style: swirls
// ---------------------------------------------------------------------------------------------

/// Colour families for the swirl bands, dark to light.
pub(super) const SWIRL_PALETTES: [[Colour; 5]; 4] = [
    [
        [0.03, 0.06, 0.25],
        [0.08, 0.25, 0.65],
        [0.35, 0.60, 0.90],
        [0.95, 0.90, 0.55],
        [0.98, 0.75, 0.10],
    ],
    [
        [0.20, 0.02, 0.20],
        [0.70, 0.08, 0.15],
        [0.95, 0.40, 0.05],
        [0.99, 0.75, 0.20],
        [1.00, 0.95, 0.70],
    ],
    [
        [0.02, 0.15, 0.10],
        [0.05, 0.45, 0.30],
        [0.45, 0.75, 0.20],
        [0.95, 0.85, 0.25],
        [0.98, 0.97, 0.80],
    ],
    [
        [0.10, 0.02, 0.30],
        [0.50, 0.10, 0.60],
        [0.10, 0.55, 0.75],
        [0.70, 0.90, 0.85],
        [1.00, 0.98, 0.90],
    ],
];

/// A twirl distortion: points are rotated about `centre` by up to `angle`, fading with distance.
pub(super) struct Twirl {
    pub(super) centre: Vec2,
    pub(super) radius: f32,
    pub(super) angle: f32,
}

impl Twirl {
    pub(super) fn apply(&self, q: Vec2) -> Vec2 {
        let d = sub(q, self.centre);
        let turn = self.angle * (-dot(d, d) / (self.radius * self.radius)).exp();
        let r = rotate(d, turn);
        [self.centre[0] + r[0], self.centre[1] + r[1]]
    }
}

/// Flow coordinates for the swirl bands: straight bands along `dir`, domain-warped by noise and
/// twisted into spirals by a few twirls.
pub(super) struct FlowField {
    pub(super) dir: Vec2,
    pub(super) warp: [Noise; 2],
    pub(super) twirls: Vec<Twirl>,
}

impl FlowField {
    pub(super) fn random<R: Rng + ?Sized>(aspect: Vec2, rng: &mut R) -> Self {
        let twirls = (0..rng.random_range(2..5))
            .map(|_| Twirl {
                centre: [
                    rng.random_range(0.0..=aspect[0]),
                    rng.random_range(0.0..=aspect[1]),
                ],
                radius: rng.random_range(0.12..0.3),
                angle: rng.random_range(2.5..5.0) * if rng.random_bool(0.5) { 1.0 } else { -1.0 },
            })
            .collect();
        Self {
            dir: rotate([1.0, 0.0], rng.random_range(-0.5..0.5)),
            warp: [Noise::new(rng), Noise::new(rng)],
            twirls,
        }
    }

    /// `[across, along]` band coordinates at `q` (in units of the smaller image side).
    pub(super) fn at(&self, q: Vec2) -> Vec2 {
        let t = self.twirls.iter().fold(q, |p, twirl| twirl.apply(p));
        let w = [
            t[0] + 0.12 * self.warp[0].fbm(t[0] * 2.5, t[1] * 2.5, 3, 0.5),
            t[1] + 0.12 * self.warp[1].fbm(t[0] * 2.5, t[1] * 2.5, 3, 0.5),
        ];
        let [c, s] = self.dir;
        [dot(w, [-s, c]), dot(w, self.dir)]
    }
}

/// Colour of swirl band `k`: alternately from the dark and the light half of `palette`.
pub(super) fn band_colour(palette: &[Colour], salt: u32, k: i32) -> Colour {
    let t = 0.45 * hash01(salt, k, 0) + if k % 2 == 0 { 0.0 } else { 0.55 };
    gradient(palette, t)
}

pub(super) fn swirls<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let dim = width.min(height).max(1) as f32;
    let flow = FlowField::random([width as f32 / dim, height as f32 / dim], rng);
    let palette = SWIRL_PALETTES[rng.random_range(0..SWIRL_PALETTES.len())];
    let (streaks, salt) = (Noise::new(rng), rng.random());
    let bands = rng.random_range(8.0..11.0);
    Canvas::from_fn(width, height, |p| {
        let [across, along] = flow.at([p[0] / dim, p[1] / dim]);
        let x = across * bands;
        let k = floor_i32(x);
        let edge = smoothstep(0.9, 1.0, x - k as f32);
        let colour = mix(
            band_colour(&palette, salt, k),
            band_colour(&palette, salt, k + 1),
            edge,
        );
        let brush = streaks.fbm(x * 7.0, along * bands * 0.8, 2, 0.5);
        scale(colour, 0.9 + 0.35 * brush)
    })
}
