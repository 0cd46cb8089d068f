//! Convolutions on channels-last maps. The input is first reflection-padded into one buffer (the
//! nearest 2× upsample and the concatenated input image of the last layer happen in that same
//! copy), then each kernel row `ky` is one matrix product that reads the padded map in place:
//! the `k` neighbouring pixels of an output pixel are `k·cin` consecutive values, so the
//! product's left matrix is the padded map with a row stride of `stride·cin` (no im2col copy).
//! Stride-1 layers do this for bands of several output rows at once; layers with very few input
//! channels (the first) gather each row's windows into a small buffer first.
//!
//! Stride-1 layers with at most eight output channels (the first and last layers) go to
//! [`narrow`]; a 3×3 layer after a nearest 2× upsample (the decoders) goes to [`subpixel`].
//!
//! Depthwise-separable layers skip the padded copy: the depthwise taps read the source through
//! row and column index maps (reflection and upsampling folded in), and each row's depthwise
//! result goes straight into its pointwise product while it is still in cache.

use multiversion::multiversion;
use rayon::prelude::*;

use super::gemm::{Threads, View, matmul};
use super::map::{Map, Pool};
use super::{narrow, subpixel};

/// Below this many values per kernel row (`kernel · cin`), a row's windows are gathered first.
const GATHER_BELOW: usize = 32;
/// Output positions per product of a stride-1 band.
const BAND_PIXELS: usize = 4096;

/// One convolution, its weights laid out for the products.
#[derive(Debug, Clone)]
pub struct Conv {
    /// Square kernel size.
    pub kernel: usize,
    /// Stride (1 or 2).
    pub stride: usize,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Depthwise taps of a separable layer, `[ky][kx][cin]`; its bias is folded into `bias`.
    pub depthwise: Option<Vec<f32>>,
    /// `[ky][kx][cin][cout]` for a full convolution, `[cin][cout]` for the pointwise half.
    pub weights: Vec<f32>,
    /// One per output channel.
    pub bias: Vec<f32>,
}

/// Index into `0..n` of position `i` after reflection at both ends (`n ≥ 2` or `i` inside).
pub(super) fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let i = if i < 0 { -i } else { i };
    let i = if i >= n { 2 * (n - 1) - i } else { i };
    i.clamp(0, n - 1) as usize
}

/// Reflection-pad `src` by `pad` on each side, after a nearest-neighbour 2× upsample when
/// `upsample`; each padded pixel also gets the channels of `extra` (already at the upsampled
/// size) after its own.
pub fn pad(src: &Map, extra: Option<&Map>, upsample: bool, pad: usize, pool: &Pool) -> Map {
    let scale = if upsample { 2 } else { 1 };
    let (w, h) = (src.width * scale, src.height * scale);
    if let Some(extra) = extra {
        assert_eq!((extra.width, extra.height), (w, h), "concatenated map size");
    }
    let (c1, c2) = (src.channels, extra.map_or(0, |e| e.channels));
    let mut out = pool.map(w + 2 * pad, h + 2 * pad, c1 + c2);
    let xs: Vec<usize> = (0..out.width)
        .map(|px| reflect(px as isize - pad as isize, w))
        .collect();
    let row_len = out.row_len();
    out.data
        .par_chunks_mut(row_len)
        .enumerate()
        .for_each(|(py, row)| {
            let y = reflect(py as isize - pad as isize, h);
            for (pixel, &x) in row.chunks_exact_mut(c1 + c2).zip(&xs) {
                pixel[..c1].copy_from_slice(src.pixel(x / scale, y / scale));
                if let Some(extra) = extra {
                    pixel[c1..].copy_from_slice(extra.pixel(x, y));
                }
            }
        });
    out
}

/// Source coordinates of the padded, upsampled positions `0..size + 2·pad` along one axis.
fn index_map(size: usize, pad: usize, scale: usize) -> Vec<usize> {
    (0..size * scale + 2 * pad)
        .map(|p| reflect(p as isize - pad as isize, size * scale) / scale)
        .collect()
}

impl Conv {
    /// "9x9 s1 3→8 → 640x480" (with "dw" for a depthwise-separable layer) for an output map.
    pub fn describe(&self, out: &Map) -> String {
        let (k, s) = (self.kernel, self.stride);
        let dw = if self.depthwise.is_some() { " dw" } else { "" };
        let (cin, cout, w, h) = (self.cin, self.cout, out.width, out.height);
        format!("{k}x{k}{dw} s{s} {cin}→{cout} → {w}x{h}")
    }

    /// Multiply-adds of this convolution for an output map.
    pub fn macs(&self, out: &Map) -> u64 {
        let per_pixel = match self.depthwise {
            Some(_) => self.kernel * self.kernel * self.cin + self.cin * self.cout,
            None => self.kernel * self.kernel * self.cin * self.cout,
        };
        (out.width * out.height * per_pixel) as u64
    }

    /// Output size for a padded input of `width`×`height`.
    fn output_size(&self, width: usize, height: usize) -> (usize, usize) {
        let k = self.kernel;
        (
            (width - k) / self.stride + 1,
            (height - k) / self.stride + 1,
        )
    }

    /// Convolve `src` with reflection padding (after a nearest 2× upsample when `upsample`,
    /// with the channels of `extra` appended to each pixel). No bias is added: a norm cancels
    /// it, and the output layer adds it in its final pass.
    pub fn run(&self, src: &Map, extra: Option<&Map>, upsample: bool, pool: &Pool) -> Map {
        match &self.depthwise {
            Some(taps) => {
                assert!(extra.is_none(), "separable layers take one input");
                self.separable(src, taps, upsample, pool)
            }
            None if upsample && extra.is_none() && self.kernel == 3 && self.stride == 1 => {
                subpixel::convolve(src, &self.weights, self.cout, pool)
            }
            None if self.stride == 1 && self.cout <= narrow::MAX_COUT => narrow::convolve(
                src,
                extra,
                upsample,
                self.kernel,
                self.cout,
                &self.weights,
                pool,
            ),
            None => {
                let padded = pad(src, extra, upsample, self.kernel / 2, pool);
                let out = self.full(&padded, pool);
                pool.recycle(padded);
                out
            }
        }
    }

    /// The full convolution of a padded map (no bias added).
    pub(crate) fn full(&self, padded: &Map, pool: &Pool) -> Map {
        assert_eq!(padded.channels, self.cin, "input channels");
        let (wo, ho) = self.output_size(padded.width, padded.height);
        let mut out = pool.map(wo, ho, self.cout);
        if self.kernel * self.cin < GATHER_BELOW {
            self.gathered_rows(padded, &mut out);
        } else if self.stride == 1 {
            self.bands(padded, &mut out);
        } else {
            self.strided_rows(padded, &mut out);
        }
        out
    }

    /// Few input channels: gather each output pixel's k×k window (k·k·cin values) of a row into
    /// one buffer, then one product per row.
    fn gathered_rows(&self, padded: &Map, out: &mut Map) {
        let (k, s, cin, cout) = (self.kernel, self.stride, self.cin, self.cout);
        let (wo, kc, padded_row) = (out.width, k * cin, padded.row_len());
        out.data
            .par_chunks_mut(wo * cout)
            .enumerate()
            .for_each_init(Vec::new, |window, (oy, row)| {
                window.resize(wo * k * kc, 0.0);
                for ox in 0..wo {
                    for ky in 0..k {
                        let start = (s * oy + ky) * padded_row + s * ox * cin;
                        window[(ox * k + ky) * kc..][..kc]
                            .copy_from_slice(&padded.data[start..start + kc]);
                    }
                }
                let lhs = View::dense(window, wo, k * kc);
                let rhs = View::dense(&self.weights, k * kc, cout);
                matmul(row, cout, lhs, rhs, false, Threads::One);
            });
    }

    /// Stride 2: per output row and kernel row, one product reading the padded row in place
    /// (rows `2·cin` apart, `k·cin` consecutive values each).
    fn strided_rows(&self, padded: &Map, out: &mut Map) {
        let (k, s, cin, cout) = (self.kernel, self.stride, self.cin, self.cout);
        let (wo, kc, padded_row) = (out.width, k * cin, padded.row_len());
        out.data
            .par_chunks_mut(wo * cout)
            .enumerate()
            .for_each(|(oy, row)| {
                for ky in 0..k {
                    let lhs = View {
                        data: &padded.data[(s * oy + ky) * padded_row..],
                        rows: wo,
                        cols: kc,
                        row_stride: s * cin,
                        col_stride: 1,
                    };
                    let rhs = View::dense(&self.weights[ky * kc * cout..][..kc * cout], kc, cout);
                    matmul(row, cout, lhs, rhs, ky > 0, Threads::One);
                }
            });
    }

    /// Stride 1: a band of output rows is one product per kernel row. Output pixel `(x, y)`
    /// reads from padded pixel `(x, y + ky)` on, so consecutive padded pixels serve as the
    /// product's rows across row ends too; the `k − 1` positions per row that straddle a row
    /// end are computed and dropped.
    fn bands(&self, padded: &Map, out: &mut Map) {
        let (k, cin, cout) = (self.kernel, self.cin, self.cout);
        let (wo, ho, wp) = (out.width, out.height, padded.width);
        let (kc, padded_row) = (k * cin, padded.row_len());
        // About BAND_PIXELS positions per product, and at least 8 bands for the threads.
        let band = (BAND_PIXELS / wp).clamp(1, ho.div_ceil(8).max(1));
        out.data
            .par_chunks_mut(band * wo * cout)
            .enumerate()
            .for_each_init(Vec::new, |buffer, (b, rows)| {
                let r = rows.len() / (wo * cout);
                let m = (r - 1) * wp + wo;
                buffer.resize(m * cout, 0.0);
                for ky in 0..k {
                    let lhs = View {
                        data: &padded.data[(b * band + ky) * padded_row..],
                        rows: m,
                        cols: kc,
                        row_stride: cin,
                        col_stride: 1,
                    };
                    let rhs = View::dense(&self.weights[ky * kc * cout..][..kc * cout], kc, cout);
                    matmul(buffer, cout, lhs, rhs, ky > 0, Threads::One);
                }
                for (i, row) in rows.chunks_exact_mut(wo * cout).enumerate() {
                    row.copy_from_slice(&buffer[i * wp * cout..][..wo * cout]);
                }
            });
    }

    /// A depthwise-separable layer: per output row, the depthwise taps (read from `src` through
    /// index maps) into a row buffer, then that row's pointwise product.
    fn separable(&self, src: &Map, taps: &[f32], upsample: bool, pool: &Pool) -> Map {
        assert_eq!(src.channels, self.cin, "input channels");
        let (k, s, c, cout) = (self.kernel, self.stride, self.cin, self.cout);
        let scale = if upsample { 2 } else { 1 };
        let xs = index_map(src.width, k / 2, scale);
        let ys = index_map(src.height, k / 2, scale);
        let (wo, ho) = self.output_size(xs.len(), ys.len());
        let mut out = pool.map(wo, ho, cout);
        let rows = Rows {
            src,
            taps,
            xs: &xs,
            ys: &ys,
            kernel: k,
            stride: s,
        };
        out.data
            .par_chunks_mut(wo * cout)
            .enumerate()
            .for_each_init(Vec::new, |depthwise, (oy, row)| {
                depthwise.resize(wo * c, 0.0);
                depthwise_row(&rows, oy, depthwise);
                let lhs = View::dense(depthwise, wo, c);
                let rhs = View::dense(&self.weights, c, cout);
                matmul(row, cout, lhs, rhs, false, Threads::One);
            });
        out
    }
}

/// What a depthwise row reads.
struct Rows<'a> {
    src: &'a Map,
    taps: &'a [f32],
    xs: &'a [usize],
    ys: &'a [usize],
    kernel: usize,
    stride: usize,
}

/// Depthwise output row `oy` into `out`; compiled for AVX2 + FMA too, chosen at run time.
#[multiversion(targets("x86_64+avx2+fma"))]
fn depthwise_row(rows: &Rows, oy: usize, out: &mut [f32]) {
    match rows.src.channels {
        8 => rows.depthwise::<8>(oy, out),
        16 => rows.depthwise::<16>(oy, out),
        32 => rows.depthwise::<32>(oy, out),
        64 => rows.depthwise::<64>(oy, out),
        128 => rows.depthwise::<128>(oy, out),
        _ => rows.depthwise_any(oy, out),
    }
}

impl Rows<'_> {
    /// Output row `oy` for `C` channels (a constant, so the accumulator lives in registers).
    #[inline(always)]
    fn depthwise<const C: usize>(&self, oy: usize, out: &mut [f32]) {
        let (k, s) = (self.kernel, self.stride);
        let row_len = self.src.row_len();
        for (ox, dst) in out.chunks_exact_mut(C).enumerate() {
            let mut acc = [0.0f32; C];
            for ky in 0..k {
                let row = &self.src.data[self.ys[s * oy + ky] * row_len..][..row_len];
                for kx in 0..k {
                    let x = self.xs[s * ox + kx];
                    let pixel: &[f32; C] = row[x * C..x * C + C].try_into().expect("C values");
                    let w: &[f32; C] = self.taps[(ky * k + kx) * C..][..C]
                        .try_into()
                        .expect("C taps");
                    for i in 0..C {
                        acc[i] += pixel[i] * w[i];
                    }
                }
            }
            dst.copy_from_slice(&acc);
        }
    }

    /// Output row `oy` for any number of channels.
    #[inline(always)]
    fn depthwise_any(&self, oy: usize, out: &mut [f32]) {
        let (k, s, c) = (self.kernel, self.stride, self.src.channels);
        out.fill(0.0);
        for (ox, acc) in out.chunks_exact_mut(c).enumerate() {
            for ky in 0..k {
                for kx in 0..k {
                    let pixel = self.src.pixel(self.xs[s * ox + kx], self.ys[s * oy + ky]);
                    let w = &self.taps[(ky * k + kx) * c..][..c];
                    for ((a, x), w) in acc.iter_mut().zip(pixel).zip(w) {
                        *a += x * w;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(width: usize, height: usize, channels: usize) -> Map {
        Map {
            data: (0..width * height * channels)
                .map(|i| ((i * 37) % 23) as f32 * 0.1 - 1.0)
                .collect(),
            width,
            height,
            channels,
        }
    }

    /// The definition, one output value at a time.
    fn reference(conv: &Conv, src: &Map) -> Map {
        let p = conv.kernel / 2;
        let (k, s) = (conv.kernel, conv.stride);
        let (wo, ho) = (
            (src.width + 2 * p - k) / s + 1,
            (src.height + 2 * p - k) / s + 1,
        );
        let mut data = Vec::new();
        for oy in 0..ho {
            for ox in 0..wo {
                for co in 0..conv.cout {
                    let mut sum = 0.0f64;
                    for ky in 0..k {
                        for kx in 0..k {
                            let y = reflect((s * oy + ky) as isize - p as isize, src.height);
                            let x = reflect((s * ox + kx) as isize - p as isize, src.width);
                            for ci in 0..conv.cin {
                                let v = f64::from(src.pixel(x, y)[ci]);
                                let w = match &conv.depthwise {
                                    Some(taps) => {
                                        f64::from(taps[(ky * k + kx) * conv.cin + ci])
                                            * f64::from(conv.weights[ci * conv.cout + co])
                                    }
                                    None => f64::from(
                                        conv.weights
                                            [((ky * k + kx) * conv.cin + ci) * conv.cout + co],
                                    ),
                                };
                                sum += v * w;
                            }
                        }
                    }
                    data.push(sum as f32);
                }
            }
        }
        Map {
            data,
            width: wo,
            height: ho,
            channels: conv.cout,
        }
    }

    fn conv(kernel: usize, stride: usize, cin: usize, cout: usize, separable: bool) -> Conv {
        let values = |n: usize, seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i + seed) * 53) % 17) as f32 * 0.05 - 0.4)
                .collect()
        };
        Conv {
            kernel,
            stride,
            cin,
            cout,
            depthwise: separable.then(|| values(kernel * kernel * cin, 3)),
            weights: if separable {
                values(cin * cout, 1)
            } else {
                values(kernel * kernel * cin * cout, 1)
            },
            bias: vec![0.0; cout],
        }
    }

    #[test]
    fn every_kind_of_layer_matches_the_definition() {
        let pool = Pool::default();
        // (kernel, stride, cin, cout, separable): gathered windows (small cin), in-place rows,
        // stride 2, 9x9 kernels, and separable layers at both strides.
        for (k, s, cin, cout, sep) in [
            (3, 1, 3, 5, false),
            (9, 1, 3, 4, false),
            (3, 2, 3, 16, false),
            (3, 1, 24, 7, false),
            (3, 1, 11, 3, false),
            (9, 1, 32, 3, false),
            (3, 2, 32, 8, false),
            (3, 1, 16, 8, true),
            (3, 2, 8, 4, true),
            (3, 1, 5, 3, true),
        ] {
            let conv = conv(k, s, cin, cout, sep);
            let src = ramp(12, 10, cin);
            let got = conv.run(&src, None, false, &pool);
            let want = reference(&conv, &src);
            assert_eq!(
                (got.width, got.height, got.channels),
                (want.width, want.height, cout)
            );
            let worst = got.max_difference(&want);
            assert!(
                worst < 1e-4,
                "k{k} s{s} {cin}->{cout} sep {sep}: off by {worst}"
            );
        }
    }

    #[test]
    fn narrow_layers_match_the_definition_across_whole_tiles() {
        // 150 pixels wide: whole tiles (of 128 or 64, then of 16) and a remainder.
        let pool = Pool::default();
        for cout in 1..=narrow::MAX_COUT {
            for (k, cin) in [(3, 8), (9, 3)] {
                let conv = conv(k, 1, cin, cout, false);
                let src = ramp(150, 7, cin);
                let got = conv.run(&src, None, false, &pool);
                let worst = got.max_difference(&reference(&conv, &src));
                assert!(worst < 1e-4, "k{k} {cin}->{cout}: off by {worst}");
            }
        }
    }

    #[test]
    fn upsampling_inside_a_layer_equals_upsampling_first() {
        let pool = Pool::default();
        let src = ramp(5, 4, 16);
        let mut big = pool.map(10, 8, 16);
        for y in 0..8 {
            for x in 0..10 {
                let start = (y * 10 + x) * 16;
                big.data[start..start + 16].copy_from_slice(src.pixel(x / 2, y / 2));
            }
        }
        for separable in [false, true] {
            let conv = conv(3, 1, 16, 4, separable);
            let fused = conv.run(&src, None, true, &pool);
            let plain = conv.run(&big, None, false, &pool);
            assert_eq!((fused.width, fused.height), (10, 8));
            let worst = fused.max_difference(&plain);
            assert!(worst < 1e-5, "separable {separable}: off by {worst}");
        }
    }

    #[test]
    fn padding_reflects_upsamples_and_appends() {
        let pool = Pool::default();
        let src = Map {
            data: vec![1.0, 2.0, 3.0, 4.0], // 2x2, one channel
            width: 2,
            height: 2,
            channels: 1,
        };
        let extra = ramp(4, 4, 1);
        let padded = pad(&src, Some(&extra), true, 1, &pool);
        assert_eq!((padded.width, padded.height, padded.channels), (6, 6, 2));
        // Upsampled row 0 is 1 1 2 2; reflection by 1 gives 1 1 1 2 2 2... at x = -1 -> 1.
        let row0: Vec<f32> = (0..6).map(|x| padded.pixel(x, 1)[0]).collect();
        assert_eq!(row0, [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
        // Padded row 0 reflects upsampled row 1 (still the source's first row).
        assert_eq!(padded.pixel(3, 0)[0], 2.0);
        assert_eq!(padded.pixel(3, 5)[0], 4.0);
        assert_eq!(padded.pixel(0, 0)[1], extra.pixel(1, 1)[0]);
        assert_eq!(padded.pixel(5, 2)[1], extra.pixel(2, 1)[0]);
    }
}
