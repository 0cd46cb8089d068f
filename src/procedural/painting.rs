//! The painting-genre style patterns: oil impasto (thick, lit, bristle-streaked brush strokes
//! laid along a flow field, large to small) and watercolour (transparent washes glazed over
//! grainy paper, pigment pooling at their edges and settling into the grain).

use rand::Rng;
use std::f32::consts::{PI, TAU};

use super::canvas::*;

// ---------------------------------------------------------------------------------------------
// Style: oil impasto
// ---------------------------------------------------------------------------------------------

/// Oil palettes of impressionist landscapes, dark to light.
const OIL_PALETTES: [[Colour; 5]; 3] = [
    // Water and sky: ultramarine, cobalt, viridian, lilac, cream.
    [
        [0.08, 0.12, 0.35],
        [0.15, 0.33, 0.62],
        [0.16, 0.50, 0.46],
        [0.62, 0.55, 0.78],
        [0.96, 0.90, 0.72],
    ],
    // A field at dusk: burnt umber, crimson, cadmium orange, ochre, Naples yellow.
    [
        [0.25, 0.12, 0.07],
        [0.60, 0.12, 0.12],
        [0.90, 0.45, 0.10],
        [0.80, 0.62, 0.25],
        [0.98, 0.88, 0.55],
    ],
    // A garden: sap green, olive, emerald, rose, white.
    [
        [0.10, 0.25, 0.10],
        [0.35, 0.45, 0.15],
        [0.10, 0.55, 0.35],
        [0.88, 0.45, 0.55],
        [0.97, 0.95, 0.88],
    ],
];

/// One brush stroke: a slightly bent band, round where the loaded brush lands, breaking into
/// dry bristle marks where it lifts.
struct Stroke {
    centre: Vec2,
    /// Unit vector along the stroke, from where it lands to where it lifts.
    dir: Vec2,
    half_length: f32,
    half_width: f32,
    /// Sideways bend at the ends, in half widths.
    bend: f32,
    colour: Colour,
    /// Offset into the bristle noise, so strokes differ.
    lane: f32,
}

/// What a brush leaves: bristle grooves, ragged edges and lighting, shared by every stroke.
struct Brush {
    bristles: Noise,
    /// Unit vector the light comes from.
    light: Vec2,
    unit: f32,
}

impl Brush {
    /// The stroke's paint at `p`: its colour there (lit and grooved) and its opacity.
    fn paint(&self, stroke: &Stroke, p: Vec2) -> (Colour, f32) {
        let d = sub(p, stroke.centre);
        let perp = [-stroke.dir[1], stroke.dir[0]];
        let a = dot(d, stroke.dir) / stroke.half_length; // -1 (lands) ..= 1 (lifts)
        let b = dot(d, perp) / stroke.half_width - stroke.bend * a * a;
        if a.abs() > 1.3 || b.abs() > 1.6 {
            return ([0.0; 3], 0.0);
        }
        let along = a * stroke.half_length / self.unit;
        let ragged = 0.18 * self.bristles.sample(along * 0.15, stroke.lane);
        let taper = (1.0 - a * a).max(0.0).sqrt();
        let width = (0.7 + 0.3 * taper) + ragged;
        let softness = 1.2 / stroke.half_width;
        let mut alpha = coverage(b.abs() - width, softness) * coverage(a.abs() - 1.0, 0.15);
        // Many bristles across the stroke: grooves in the paint, and gaps where it runs dry.
        let streak = self.bristles.sample(b * 7.0 + stroke.lane, along * 0.04);
        let dry = smoothstep(0.35, 1.0, a);
        alpha *= 1.0 - dry * smoothstep(-0.05, 0.25, streak);
        // A ridge of paint across the band, lit from one side; a heap where the brush lifts.
        let across = (b / width).clamp(-1.0, 1.0);
        let side = dot(self.light, perp);
        let heap = (-((a - 0.8) / 0.18).powi(2)).exp();
        let shade =
            1.0 + 0.32 * across * side + 0.22 * heap * dot(self.light, stroke.dir) + 0.14 * streak;
        (scale(stroke.colour, shade), alpha)
    }
}

pub(super) fn impasto<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let u = unit(width, height);
    let palette = OIL_PALETTES[rng.random_range(0..OIL_PALETTES.len())];
    let (tone, flow) = (Noise::new(rng), Noise::new(rng));
    let brush = Brush {
        bristles: Noise::new(rng),
        light: rotate([1.0, 0.0], rng.random_range(0.0..TAU)),
        unit: u,
    };
    let dim = width.max(height).max(1) as f32;
    let (tone_frequency, flow_frequency) = (2.2 / dim, 1.4 / dim);
    let mut canvas = Canvas::filled(width, height, scale(gradient(&palette, 0.4), 0.7));
    let area = width as f32 * height as f32;
    // Broad strokes cover the ground; smaller ones follow, fewer each pass.
    for (length, breadth, cover) in [(44.0, 14.0, 2.2), (28.0, 9.0, 1.2), (16.0, 5.5, 0.7)] {
        let (half_length, half_width) = ((0.5 * length * u).max(1.5), (0.5 * breadth * u).max(0.8));
        let count = (cover * area / (4.0 * half_length * half_width)).ceil() as usize;
        for _ in 0..count {
            let centre = [
                rng.random_range(-half_length..width as f32 + half_length),
                rng.random_range(-half_length..height as f32 + half_length),
            ];
            let (x, y) = (centre[0] * flow_frequency, centre[1] * flow_frequency);
            let angle = PI * 1.6 * flow.fbm(x, y, 3, 0.5) + rng.random_range(-0.2..0.2);
            let t = (0.5
                + 0.9
                    * tone.fbm(
                        centre[0] * tone_frequency,
                        centre[1] * tone_frequency,
                        3,
                        0.5,
                    ))
            .clamp(0.0, 1.0);
            // Now and then a stroke of the opposite end of the palette, as painters accent.
            let t = if rng.random_bool(0.08) { 1.0 - t } else { t };
            let t = (t + rng.random_range(-0.12..0.12)).clamp(0.0, 1.0);
            let stroke = Stroke {
                centre,
                dir: rotate([1.0, 0.0], angle),
                half_length: half_length * rng.random_range(0.75..1.25),
                half_width: half_width * rng.random_range(0.8..1.2),
                bend: rng.random_range(-0.5..0.5),
                colour: scale(gradient(&palette, t), rng.random_range(0.9..1.06)),
                lane: rng.random_range(0.0..256.0),
            };
            let reach = stroke.half_length * 1.3 + stroke.half_width * 1.6;
            paint_stroke(&mut canvas, Bounds::around(centre, reach), |p| {
                brush.paint(&stroke, p)
            });
        }
    }
    canvas
}

/// Blend paint over the pixels inside `bounds`; `paint(centre)` gives colour and opacity.
fn paint_stroke(canvas: &mut Canvas, bounds: Bounds, paint: impl Fn(Vec2) -> (Colour, f32)) {
    let xs = pixel_span(bounds.min[0], bounds.max[0], canvas.width);
    for y in pixel_span(bounds.min[1], bounds.max[1], canvas.height) {
        let row = y as usize * canvas.width as usize;
        for x in xs.clone() {
            let (colour, alpha) = paint([x as f32 + 0.5, y as f32 + 0.5]);
            if alpha > 0.0 {
                let p = &mut canvas.px[row + x as usize];
                *p = mix(*p, colour, alpha.min(1.0));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Style: watercolour
// ---------------------------------------------------------------------------------------------

/// What a full-strength wash of each pigment leaves on white paper (transmittance).
const PIGMENTS: [Colour; 8] = [
    [0.22, 0.32, 0.78], // ultramarine
    [0.72, 0.36, 0.20], // burnt sienna
    [0.40, 0.62, 0.24], // sap green
    [0.82, 0.20, 0.36], // alizarin crimson
    [0.90, 0.70, 0.28], // yellow ochre
    [0.30, 0.64, 0.86], // cerulean
    [0.36, 0.40, 0.50], // Payne's grey
    [0.62, 0.28, 0.62], // quinacridone violet
];

/// One wash: a roughly round, wobbly-edged pool of one pigment.
struct Wash {
    centre: Vec2,
    radius: f32,
    pigment: Colour,
    /// Pigment concentration in the middle of the wash, 0..1.
    density: f32,
    /// Unit vector along which the wash fades (wet into wet), and by how much.
    fade: Vec2,
    fade_amount: f32,
    /// Unit vector of the long axis, and how much shorter the other axis is (0..1].
    axis: Vec2,
    squash: f32,
    edge: Noise,
}

impl Wash {
    /// Pigment concentration at `p` (0 outside), darker at the rim where pigment pools.
    fn concentration(&self, p: Vec2, unit: f32) -> f32 {
        let d = sub(p, self.centre);
        let [c, s] = self.axis;
        let r = length([dot(d, [c, s]), dot(d, [-s, c]) / self.squash]);
        let n = if r > 0.0 {
            [d[0] / r, d[1] / r]
        } else {
            [1.0, 0.0]
        };
        let wobble = self.edge.fbm(n[0] * 1.2 + 9.0, n[1] * 1.2 + 9.0, 3, 0.45);
        let fine = self.edge.sample(p[0] * 0.05 / unit, p[1] * 0.05 / unit);
        let boundary = self.radius * (1.0 + 0.4 * wobble) + 1.5 * unit * fine;
        let inside = boundary - r;
        if inside <= -1.5 {
            return 0.0;
        }
        let rim = (-inside.max(0.0) / (5.0 * unit)).exp();
        let fade = 1.0 - self.fade_amount * (0.5 + 0.5 * dot(d, self.fade) / self.radius);
        let body = self.density * fade.clamp(0.0, 1.0);
        (body + 0.45 * self.density * rim) * coverage(-inside, 1.5)
    }
}

pub(super) fn watercolour<R: Rng + ?Sized>(width: u32, height: u32, rng: &mut R) -> Canvas {
    let u = unit(width, height);
    let dim = width.min(height).max(1) as f32;
    let grain = Noise::new(rng);
    let paper = [0.97, 0.95, 0.90];
    let grain_at = |p: Vec2| grain.fbm(p[0] * 0.3 / u, p[1] * 0.3 / u, 3, 0.6);
    let mut canvas = Canvas::from_fn(width, height, |p| scale(paper, 1.0 + 0.035 * grain_at(p)));
    // A limited palette, as a painter sets out: four pigments.
    let mut pigments = PIGMENTS;
    for i in (1..pigments.len()).rev() {
        pigments.swap(i, rng.random_range(0..=i));
    }
    let count = rng.random_range(12..18);
    for k in 0..count {
        // Large pale washes first, smaller and stronger ones glazed over them.
        let late = k as f32 / count as f32;
        let radius = dim * rng.random_range(0.1..0.32) * (1.2 - 0.6 * late);
        let wash = Wash {
            centre: [
                rng.random_range(-0.1..1.1) * width as f32,
                rng.random_range(-0.1..1.1) * height as f32,
            ],
            radius,
            pigment: pigments[rng.random_range(0..4)],
            density: rng.random_range(0.35..0.6) + 0.35 * late,
            fade: rotate([1.0, 0.0], rng.random_range(0.0..TAU)),
            fade_amount: rng.random_range(0.2..0.8),
            axis: rotate([1.0, 0.0], rng.random_range(0.0..TAU)),
            squash: rng.random_range(0.45..1.0),
            edge: Noise::new(rng),
        };
        let bounds = Bounds::around(wash.centre, 1.4 * radius + 4.0 * u);
        let xs = pixel_span(bounds.min[0], bounds.max[0], width);
        for y in pixel_span(bounds.min[1], bounds.max[1], height) {
            let row = y as usize * width as usize;
            for x in xs.clone() {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                let c = wash.concentration(p, u);
                if c > 0.0 {
                    // Pigment settles into the paper's hollows.
                    let c = (c * (1.0 - 0.4 * grain_at(p))).clamp(0.0, 1.0);
                    let px = &mut canvas.px[row + x as usize];
                    *px = std::array::from_fn(|i| px[i] * lerp(1.0, wash.pigment[i], c));
                }
            }
        }
    }
    canvas
}
