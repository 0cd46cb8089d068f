//! What the runtime reads a frame from: a float map, or 8-bit pixels read in place (a packed
//! video frame as GStreamer hands it over, or an RGB image). The network's padded input is
//! filled straight from the source, so a frame is converted once, in parallel rows.

use image::RgbImage;
use rayon::prelude::*;

use super::map::{Map, Pool};
use crate::error::Result;
use crate::frame::packed::FrameGeometry;

/// RGB pixels the network can read, row by row.
pub trait Source: Sync {
    /// Width in pixels.
    fn width(&self) -> usize;
    /// Height in pixels.
    fn height(&self) -> usize;
    /// Row `y` as RGB values in [0, 1] into `out` (`3 * width` values).
    fn read_row(&self, y: usize, out: &mut [f32]);

    /// Row `y` of the source averaged over `factor`×`factor` blocks (the columns left over
    /// dropped) into `out` (`3 * (width / factor)` values); `line` is scratch. The `factor`
    /// rows are summed value by value, then each block's pixels.
    fn area_row(&self, y: usize, factor: usize, out: &mut [f32], line: &mut Vec<f32>) {
        let row_len = 3 * self.width();
        line.clear();
        line.resize(2 * row_len, 0.0);
        let (sums, row) = line.split_at_mut(row_len);
        for dy in 0..factor {
            self.read_row(y * factor + dy, row);
            sums.iter_mut().zip(&*row).for_each(|(sum, v)| *sum += v);
        }
        let scale = 1.0 / (factor * factor) as f32;
        block_sums::<3>(sums, factor, out, [0, 1, 2], scale);
    }
}

impl Source for Map {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn read_row(&self, y: usize, out: &mut [f32]) {
        assert_eq!(self.channels, 3, "an RGB map");
        out.copy_from_slice(&self.data[y * self.row_len()..][..self.row_len()]);
    }
}

/// 8-bit pixels in one of the packed layouts, with a row stride.
#[derive(Debug, Clone, Copy)]
pub struct Packed<'a> {
    data: &'a [u8],
    geometry: FrameGeometry,
}

impl<'a> Packed<'a> {
    /// A packed frame; an error when `geometry` does not fit `data`.
    pub fn new(data: &'a [u8], geometry: FrameGeometry) -> Result<Self> {
        geometry.check(data.len())?;
        Ok(Self { data, geometry })
    }

    /// An RGB image's pixels.
    pub fn rgb(image: &'a RgbImage) -> Self {
        Self {
            data: image.as_raw(),
            geometry: FrameGeometry::rgb(image.width(), image.height()),
        }
    }
}

impl Source for Packed<'_> {
    fn width(&self) -> usize {
        self.geometry.width as usize
    }

    fn height(&self) -> usize {
        self.geometry.height as usize
    }

    fn read_row(&self, y: usize, out: &mut [f32]) {
        let layout = self.geometry.layout;
        let row = &self.data[y * self.geometry.stride..][..self.width() * layout.bytes];
        match layout.bytes {
            4 => read_pixels::<4>(row, out, layout.rgb),
            _ => read_pixels::<3>(row, out, layout.rgb),
        }
    }

    /// The block's 8-bit levels summed as they are (whole numbers below 2²⁴ for any factor up
    /// to 256, so exact in f32) and scaled once: first the `factor` rows byte by byte (a
    /// plain vectorizable loop), then each block's pixels.
    fn area_row(&self, y: usize, factor: usize, out: &mut [f32], line: &mut Vec<f32>) {
        let layout = self.geometry.layout;
        let row_bytes = self.width() * layout.bytes;
        line.clear();
        line.resize(row_bytes, 0.0);
        for dy in 0..factor {
            let at = (y * factor + dy) * self.geometry.stride;
            add_levels(line, &self.data[at..][..row_bytes]);
        }
        let scale = 1.0 / (255 * factor * factor) as f32;
        match (layout.bytes, factor) {
            (4, 2) => block_sums::<4>(line, 2, out, layout.rgb, scale),
            (3, 2) => block_sums::<3>(line, 2, out, layout.rgb, scale),
            (4, f) => block_sums::<4>(line, f, out, layout.rgb, scale),
            (_, f) => block_sums::<3>(line, f, out, layout.rgb, scale),
        }
    }
}

/// `sums[i] += levels[i]`; compiled for AVX2 too (chosen at run time).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn add_levels(sums: &mut [f32], levels: &[u8]) {
    for (sum, &level) in sums.iter_mut().zip(levels) {
        *sum += f32::from(level);
    }
}

/// Each output pixel of `out`: the sum of its block of `factor` pixels of `sums` (`BYTES`
/// values each, colours at `rgb`), times `scale`. Inlined, so a constant `factor` (2, the
/// usual case) gets its own loop.
#[inline(always)]
fn block_sums<const BYTES: usize>(
    sums: &[f32],
    factor: usize,
    out: &mut [f32],
    rgb: [usize; 3],
    scale: f32,
) {
    for (pixel, block) in out
        .chunks_exact_mut(3)
        .zip(sums.chunks_exact(BYTES * factor))
    {
        let mut total = [0.0f32; 3];
        for px in block.chunks_exact(BYTES) {
            total = std::array::from_fn(|c| total[c] + px[rgb[c]]);
        }
        pixel.copy_from_slice(&total.map(|t| t * scale));
    }
}

/// `UNIT[v]` = `v / 255`: the 8-bit levels as values in [0, 1].
const UNIT: [f32; 256] = {
    let mut table = [0.0; 256];
    let mut v = 0;
    while v < 256 {
        table[v] = v as f32 / 255.0;
        v += 1;
    }
    table
};

/// Pixels of `BYTES` bytes each, colour bytes at `rgb`, as RGB values in [0, 1].
fn read_pixels<const BYTES: usize>(row: &[u8], out: &mut [f32], [r, g, b]: [usize; 3]) {
    for (px, rgb) in row.chunks_exact(BYTES).zip(out.chunks_exact_mut(3)) {
        rgb[0] = UNIT[usize::from(px[r])];
        rgb[1] = UNIT[usize::from(px[g])];
        rgb[2] = UNIT[usize::from(px[b])];
    }
}

/// `source` as a map (from `pool`).
pub fn to_map(source: &impl Source, pool: &Pool) -> Map {
    let (w, h) = (source.width(), source.height());
    let mut map = pool.map(w, h, 3);
    map.data
        .par_chunks_mut(3 * w)
        .take(h)
        .enumerate()
        .for_each(|(y, row)| source.read_row(y, row));
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::packed::{PixelLayout, pack};

    /// `image` packed in `layout`, each row `pad` bytes longer than its pixels, every other
    /// byte `fill`.
    fn packed(
        image: &RgbImage,
        layout: PixelLayout,
        pad: usize,
        fill: u8,
    ) -> (Vec<u8>, FrameGeometry) {
        let geometry = FrameGeometry {
            width: image.width(),
            height: image.height(),
            stride: image.width() as usize * layout.bytes + pad,
            layout,
        };
        let mut data = vec![fill; geometry.stride * image.height() as usize];
        pack(image, &mut data, &geometry).unwrap();
        (data, geometry)
    }

    #[test]
    fn packed_frames_average_blocks_as_their_float_values_do() {
        use crate::infer::resize::area_down;
        let image = RgbImage::from_fn(13, 9, |x, y| {
            image::Rgb([
                (x * 19 + y * 7) as u8,
                (x * y * 5) as u8,
                255 - (x * 11) as u8,
            ])
        });
        let pool = Pool::default();
        let floats = to_map(&Packed::rgb(&image), &pool);
        for layout in [
            PixelLayout::RGBA,
            PixelLayout::BGRA,
            PixelLayout::RGB,
            PixelLayout::BGR,
        ] {
            let (data, geometry) = packed(&image, layout, 2, 99);
            let packed = Packed::new(&data, geometry).unwrap();
            for factor in [2, 3, 4] {
                let want = area_down(&floats, factor, &pool);
                let got = area_down(&packed, factor, &pool);
                assert_eq!((got.width, got.height), (13 / factor, 9 / factor));
                let worst = got.max_difference(&want);
                assert!(worst < 1e-6, "{layout:?} factor {factor}: off by {worst}");
            }
        }
    }

    #[test]
    fn packed_frames_read_as_their_rgb_values_in_every_layout() {
        let image = RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8 * 40, y as u8 * 90, 200]));
        let want = to_map(&Packed::rgb(&image), &Pool::default());
        assert_eq!(
            want.pixel(4, 2),
            [160.0 / 255.0, 180.0 / 255.0, 200.0 / 255.0]
        );
        for layout in [PixelLayout::RGBA, PixelLayout::BGRA, PixelLayout::BGR] {
            let (data, geometry) = packed(&image, layout, 3, 7);
            let stride = geometry.stride;
            let got = to_map(&Packed::new(&data, geometry).unwrap(), &Pool::default());
            assert_eq!(got, want, "{layout:?}");
            assert!(
                Packed::new(&data[..stride * 2], geometry).is_err(),
                "too short"
            );
        }
    }
}
