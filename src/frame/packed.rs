//! Packed video frames (the byte layouts GStreamer hands the element: RGBA, BGRA, RGBx, BGRx,
//! RGB, BGR, with a row stride) ↔ RGB images. Packing writes only the colour bytes, so alpha (or
//! the padding byte) stays as it came in.

use image::RgbImage;

use crate::error::{Error, Result};

/// Where the colour bytes sit in one packed pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelLayout {
    /// Bytes per pixel (3 or 4).
    pub bytes: usize,
    /// Offsets of red, green and blue inside a pixel.
    pub rgb: [usize; 3],
}

impl PixelLayout {
    /// RGBA or RGBx.
    pub const RGBA: Self = Self {
        bytes: 4,
        rgb: [0, 1, 2],
    };
    /// BGRA or BGRx.
    pub const BGRA: Self = Self {
        bytes: 4,
        rgb: [2, 1, 0],
    };
    /// Packed 24-bit RGB.
    pub const RGB: Self = Self {
        bytes: 3,
        rgb: [0, 1, 2],
    };
    /// Packed 24-bit BGR.
    pub const BGR: Self = Self {
        bytes: 3,
        rgb: [2, 1, 0],
    };
}

/// A packed frame's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGeometry {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Bytes from one row to the next (at least `width * layout.bytes`).
    pub stride: usize,
    /// The pixel layout.
    pub layout: PixelLayout,
}

impl FrameGeometry {
    /// An unpadded RGB frame (an [`RgbImage`]'s layout).
    pub fn rgb(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            stride: 3 * width as usize,
            layout: PixelLayout::RGB,
        }
    }

    /// Whether a buffer of `len` bytes holds a frame of this geometry (an error naming the
    /// size and stride when not).
    pub fn check(&self, len: usize) -> Result<()> {
        let row = self.width as usize * self.layout.bytes;
        let needed = match self.height {
            0 => 0,
            h => self.stride * (h as usize - 1) + row,
        };
        if self.width == 0 || self.height == 0 || self.stride < row || len < needed {
            return Err(Error::Frame(format!(
                "a {}x{} frame with stride {} does not fit in {len} bytes",
                self.width, self.height, self.stride
            )));
        }
        Ok(())
    }

    /// How many of a buffer's `len` bytes the frame covers: whole rows of `stride`, the last
    /// one possibly cut short by the end of the buffer.
    pub fn used_len(&self, len: usize) -> usize {
        (self.stride * self.height as usize).min(len)
    }

    fn rows<'a>(&self, data: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
        let row = self.width as usize * self.layout.bytes;
        (0..self.height as usize).map(move |y| &data[y * self.stride..y * self.stride + row])
    }
}

/// The RGB image in a packed frame.
pub fn unpack(data: &[u8], geometry: &FrameGeometry) -> Result<RgbImage> {
    geometry.check(data.len())?;
    let [r, g, b] = geometry.layout.rgb;
    let mut out = Vec::with_capacity(3 * (geometry.width * geometry.height) as usize);
    for row in geometry.rows(data) {
        for px in row.chunks_exact(geometry.layout.bytes) {
            out.extend_from_slice(&[px[r], px[g], px[b]]);
        }
    }
    Ok(RgbImage::from_raw(geometry.width, geometry.height, out).expect("sized buffer"))
}

/// Write `image` into a packed frame of the same size, leaving other bytes (alpha) untouched.
pub fn pack(image: &RgbImage, data: &mut [u8], geometry: &FrameGeometry) -> Result<()> {
    geometry.check(data.len())?;
    if image.dimensions() != (geometry.width, geometry.height) {
        return Err(Error::Frame(format!(
            "a {}x{} image does not fit a {}x{} frame",
            image.width(),
            image.height(),
            geometry.width,
            geometry.height
        )));
    }
    let [r, g, b] = geometry.layout.rgb;
    let row_bytes = geometry.width as usize * geometry.layout.bytes;
    for (y, src) in image.rows().enumerate() {
        let start = y * geometry.stride;
        let dst = &mut data[start..start + row_bytes];
        for (px, p) in dst.chunks_exact_mut(geometry.layout.bytes).zip(src) {
            px[r] = p[0];
            px[g] = p[1];
            px[b] = p[2];
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(layout: PixelLayout, stride_pad: usize) -> FrameGeometry {
        FrameGeometry {
            width: 3,
            height: 2,
            stride: 3 * layout.bytes + stride_pad,
            layout,
        }
    }

    #[test]
    fn bgra_with_padded_stride_unpacks_to_rgb_and_packs_back_keeping_alpha() {
        let g = geometry(PixelLayout::BGRA, 4);
        // Row 0: three BGRA pixels and 4 padding bytes; row 1 likewise.
        let mut data: Vec<u8> = (0..g.stride * 2).map(|i| i as u8).collect();
        let image = unpack(&data, &g).unwrap();
        assert_eq!(image.get_pixel(0, 0).0, [2, 1, 0]);
        assert_eq!(
            image.get_pixel(2, 1).0,
            [g.stride as u8 + 10, g.stride as u8 + 9, g.stride as u8 + 8]
        );
        let original = data.clone();
        let inverted = RgbImage::from_fn(3, 2, |x, y| {
            image::Rgb(image.get_pixel(x, y).0.map(|v| 255 - v))
        });
        pack(&inverted, &mut data, &g).unwrap();
        assert_eq!(unpack(&data, &g).unwrap(), inverted);
        // Alpha bytes (offset 3 of each pixel) and stride padding are untouched.
        for y in 0..2 {
            for x in 0..3 {
                let i = y * g.stride + x * 4 + 3;
                assert_eq!(data[i], original[i]);
            }
            for i in y * g.stride + 12..(y + 1) * g.stride {
                assert_eq!(data[i], original[i]);
            }
        }
    }

    #[test]
    fn every_layout_round_trips() {
        for layout in [
            PixelLayout::RGBA,
            PixelLayout::BGRA,
            PixelLayout::RGB,
            PixelLayout::BGR,
        ] {
            let g = geometry(layout, 1);
            let image =
                RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8 * 80, y as u8 * 120, 33]));
            let mut data = vec![7u8; g.stride * 2];
            pack(&image, &mut data, &g).unwrap();
            assert_eq!(unpack(&data, &g).unwrap(), image, "{layout:?}");
            assert_eq!(
                data[layout.rgb[2]], 33,
                "{layout:?}: blue where the layout says"
            );
        }
    }

    #[test]
    fn a_short_buffer_is_an_error_not_a_panic() {
        let g = geometry(PixelLayout::RGB, 0);
        assert!(unpack(&[0; 10], &g).is_err());
        let image = RgbImage::new(4, 2);
        assert!(pack(&image, &mut [0; 64], &g).is_err());
    }
}
