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
    use crate::frame::packed::PixelLayout;

    #[test]
    fn packed_frames_read_as_their_rgb_values_in_every_layout() {
        let image = RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8 * 40, y as u8 * 90, 200]));
        let want = to_map(&Packed::rgb(&image), &Pool::default());
        assert_eq!(
            want.pixel(4, 2),
            [160.0 / 255.0, 180.0 / 255.0, 200.0 / 255.0]
        );
        for layout in [PixelLayout::RGBA, PixelLayout::BGRA, PixelLayout::BGR] {
            let stride = 5 * layout.bytes + 3;
            let mut data = vec![7u8; stride * 3];
            for (x, y, p) in image.enumerate_pixels() {
                let at = y as usize * stride + x as usize * layout.bytes;
                for c in 0..3 {
                    data[at + layout.rgb[c]] = p[c];
                }
            }
            let geometry = FrameGeometry {
                width: 5,
                height: 3,
                stride,
                layout,
            };
            let got = to_map(&Packed::new(&data, geometry).unwrap(), &Pool::default());
            assert_eq!(got, want, "{layout:?}");
            assert!(
                Packed::new(&data[..stride * 2], geometry).is_err(),
                "too short"
            );
        }
    }
}
