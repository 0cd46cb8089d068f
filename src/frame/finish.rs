//! The last pass of the CPU frame path, over a packed frame in place: for every pixel, the
//! network's output rounded to 8 bits, blended with the input by `strength` (and
//! `preserve-color`), leaned towards the previous frame's output by `stability`, and written
//! over the input. One parallel pass over the frame replaces unpack → blend → stabilize → pack;
//! the result is the same byte for byte (tested).

use image::RgbImage;
use multiversion::multiversion;
use rayon::prelude::*;

use super::blend::blend_pixel;
use super::packed::FrameGeometry;
use super::stability::stabilize_pixel;
use super::to_u8;
use crate::error::{Error, Result};

/// The network's output at the frame's size, RGB rows without padding.
#[derive(Clone, Copy)]
pub enum Styled<'a> {
    /// Values in [0, 1] (the CPU runtime's output map).
    Floats(&'a [f32]),
    /// 8-bit values (an [`RgbImage`]'s bytes).
    Bytes(&'a [u8]),
    /// Values in [0, 1], made a row at a time as the pass reaches them (an upscale's last
    /// step, so the full-size output is never stored).
    Rows(&'a dyn StyledRows),
}

/// An output that makes its rows on demand, from any thread.
pub trait StyledRows: Sync {
    /// Width and height in pixels.
    fn size(&self) -> (usize, usize);
    /// Row `y` into `out`: `3 * width` RGB values, in [0, 1] up to rounding and overshoot
    /// (they are clamped when rounded to 8 bits).
    fn fill_row(&self, y: usize, out: &mut [f32]);
}

impl Styled<'_> {
    /// Whether it is the output for a `width`×`height` frame; if not, what it is instead.
    fn check(&self, width: usize, height: usize) -> std::result::Result<(), String> {
        let values = match self {
            Styled::Floats(v) => v.len(),
            Styled::Bytes(v) => v.len(),
            Styled::Rows(rows) => {
                let (w, h) = rows.size();
                return ((w, h) == (width, height))
                    .then_some(())
                    .ok_or_else(|| format!("{w}x{h} styled rows"));
            }
        };
        (values == 3 * width * height)
            .then_some(())
            .ok_or_else(|| format!("{values} styled values"))
    }
}

/// How the output is mixed with the input and the previous frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mixing {
    /// 0 = the input, 1 = the network's output.
    pub strength: f32,
    /// Keep the input's colours, take the styled luminance.
    pub preserve_color: bool,
    /// How far static pixels lean towards the previous output (0 = not at all).
    pub stability: f32,
}

impl Mixing {
    /// Whether the output is the network's output as it is (strength 1, no colour
    /// preservation), before any `stability`.
    fn styled_only(&self) -> bool {
        self.strength == 1.0 && !self.preserve_color
    }
}

/// The previous frame's input and finished output, kept for `stability`.
#[derive(Debug, Clone, PartialEq)]
pub struct Previous {
    /// What came in.
    pub input: RgbImage,
    /// What went out.
    pub output: RgbImage,
}

/// What a frame path keeps between frames for `stability`: the last frame's input and output,
/// and whether the next frame follows it (same look, nothing forgotten, last finish succeeded).
#[derive(Debug, Default)]
pub struct FrameHistory {
    previous: Option<Previous>,
    follows: bool,
}

impl FrameHistory {
    /// [`finish`] with this history; the next frame follows this one when it succeeded.
    pub fn finish(
        &mut self,
        frame: &mut [u8],
        geometry: &FrameGeometry,
        styled: Styled,
        mixing: Mixing,
    ) -> Result<()> {
        let done = finish(
            frame,
            geometry,
            styled,
            mixing,
            &mut self.previous,
            self.follows,
        );
        self.follows = done.is_ok();
        done
    }

    /// The next frame starts afresh (a new look, a seek, a discontinuity).
    pub fn forget(&mut self) {
        self.follows = false;
    }
}

/// Finish `frame` (packed, `geometry`) in place from the network's output `styled`. With
/// `stability` above 0, pixels lean towards `previous` when the frame `follows` it (same look,
/// same size), and `previous` becomes this frame's input and output; with 0 it is dropped.
pub fn finish(
    frame: &mut [u8],
    geometry: &FrameGeometry,
    styled: Styled,
    mixing: Mixing,
    previous: &mut Option<Previous>,
    follows: bool,
) -> Result<()> {
    geometry.check(frame.len())?;
    let (w, h) = (geometry.width, geometry.height);
    if let Err(what) = styled.check(w as usize, h as usize) {
        return Err(Error::Frame(format!("{what} do not fit a {w}x{h} frame")));
    }
    if mixing.stability <= 0.0 {
        *previous = None;
    }
    let keep = mixing.stability > 0.0;
    let stabilize = keep
        && follows
        && previous
            .as_ref()
            .is_some_and(|p| p.input.dimensions() == (w, h));
    if keep && !stabilize {
        // Sized buffers to record into; their contents are not read.
        let reuse = previous.take().filter(|p| p.input.dimensions() == (w, h));
        *previous = Some(reuse.unwrap_or_else(|| Previous {
            input: RgbImage::new(w, h),
            output: RgbImage::new(w, h),
        }));
    }

    let row_bytes = w as usize * geometry.layout.bytes;
    let plain = mixing.styled_only();
    let used = geometry.used_len(frame.len());
    let rows = frame[..used]
        .par_chunks_mut(geometry.stride)
        .take(h as usize);
    let kept = previous.as_mut().map(|p| {
        let row = 3 * w as usize;
        p.input
            .par_chunks_mut(row)
            .zip(p.output.par_chunks_mut(row))
    });
    let row = |y: usize,
               pixels: &mut [u8],
               kept: Option<(&mut [u8], &mut [u8])>,
               scratch: &mut Vec<f32>| {
        let pixels = &mut pixels[..row_bytes];
        let span = 3 * y * w as usize..3 * (y + 1) * w as usize;
        let values = match styled {
            Styled::Bytes(v) => {
                let styled = v[span].chunks_exact(3).map(|p| [p[0], p[1], p[2]]);
                return finish_row(pixels, geometry, styled, mixing, kept, stabilize);
            }
            Styled::Floats(v) => &v[span],
            Styled::Rows(rows) => {
                scratch.resize(span.len(), 0.0);
                rows.fill_row(y, scratch);
                &scratch[..]
            }
        };
        if plain && kept.is_none() {
            store_plain(pixels, geometry.layout.bytes, geometry.layout.rgb, values);
        } else {
            let styled = values
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]].map(to_u8));
            finish_row(pixels, geometry, styled, mixing, kept, stabilize);
        }
    };
    match kept {
        Some(kept) => rows
            .zip(kept)
            .enumerate()
            .for_each_init(Vec::new, |scratch, (y, (pixels, (i, o)))| {
                row(y, pixels, Some((i, o)), scratch)
            }),
        None => rows
            .enumerate()
            .for_each_init(Vec::new, |scratch, (y, pixels)| {
                row(y, pixels, None, scratch)
            }),
    }
    Ok(())
}

/// The default settings' row (strength 1, no colour preservation, no `stability`): the
/// network's output rounded into the frame. The same bytes as [`finish_row`] gives, with the
/// pixel size a constant and, for the four layouts, the colour offsets too (literal arguments
/// of an always-inlined loop), so the loop is tight; compiled for AVX2 too (chosen at run
/// time).
#[multiversion(targets("x86_64+avx2+fma"))]
fn store_plain(pixels: &mut [u8], bytes: usize, rgb: [usize; 3], values: &[f32]) {
    match (bytes, rgb) {
        (4, [0, 1, 2]) => store::<4>(pixels, [0, 1, 2], values),
        (4, [2, 1, 0]) => store::<4>(pixels, [2, 1, 0], values),
        (3, [0, 1, 2]) => store::<3>(pixels, [0, 1, 2], values),
        (3, [2, 1, 0]) => store::<3>(pixels, [2, 1, 0], values),
        (4, rgb) => store::<4>(pixels, rgb, values),
        (_, rgb) => store::<3>(pixels, rgb, values),
    }
}

#[inline(always)]
fn store<const BYTES: usize>(pixels: &mut [u8], [r, g, b]: [usize; 3], values: &[f32]) {
    for (px, v) in pixels.chunks_exact_mut(BYTES).zip(values.chunks_exact(3)) {
        px[r] = to_u8(v[0]);
        px[g] = to_u8(v[1]);
        px[b] = to_u8(v[2]);
    }
}

/// One row: `pixels` packed, `kept` the previous input and output rows (read when `stabilize`,
/// then overwritten with this frame's).
fn finish_row(
    pixels: &mut [u8],
    geometry: &FrameGeometry,
    styled: impl Iterator<Item = [u8; 3]>,
    mixing: Mixing,
    kept: Option<(&mut [u8], &mut [u8])>,
    stabilize: bool,
) {
    let [r, g, b] = geometry.layout.rgb;
    let plain = mixing.styled_only();
    let unit = |p: [u8; 3]| p.map(|v| f32::from(v) / 255.0);
    let mut kept = kept.map(|(i, o)| (i.chunks_exact_mut(3), o.chunks_exact_mut(3)));
    for (px, s) in pixels.chunks_exact_mut(geometry.layout.bytes).zip(styled) {
        let input = [px[r], px[g], px[b]];
        let mut out = if plain {
            s
        } else {
            blend_pixel(unit(input), unit(s), mixing.strength, mixing.preserve_color).map(to_u8)
        };
        if let Some((ins, outs)) = kept.as_mut() {
            let (prev_in, prev_out) = (ins.next().expect("row"), outs.next().expect("row"));
            if stabilize {
                let old = |p: &[u8]| [p[0], p[1], p[2]];
                out = stabilize_pixel(old(prev_in), input, old(prev_out), out, mixing.stability);
            }
            prev_in.copy_from_slice(&input);
            prev_out.copy_from_slice(&out);
        }
        [px[r], px[g], px[b]] = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::blend::blend;
    use crate::frame::packed::{PixelLayout, pack, unpack};
    use crate::frame::stability::stabilize;

    fn picture(w: u32, h: u32, seed: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = |k: u32| ((x * 37 + y * 91 + k * 53 + seed * 17) % 256) as u8;
            image::Rgb([v(0), v(1), v(2)])
        })
    }

    fn mixing(strength: f32, preserve_color: bool, stability: f32) -> Mixing {
        Mixing {
            strength,
            preserve_color,
            stability,
        }
    }

    /// Flat values served as rows.
    struct RowsOf<'a>(&'a [f32], usize, usize);

    impl StyledRows for RowsOf<'_> {
        fn size(&self) -> (usize, usize) {
            (self.1, self.2)
        }

        fn fill_row(&self, y: usize, out: &mut [f32]) {
            out.copy_from_slice(&self.0[3 * self.1 * y..][..3 * self.1]);
        }
    }

    /// The unfused path this pass replaces: unpack, blend, stabilize, pack.
    fn reference(
        frame: &mut [u8],
        geometry: &FrameGeometry,
        styled: &RgbImage,
        mixing: Mixing,
        previous: Option<&Previous>,
    ) -> Previous {
        let input = unpack(frame, geometry).unwrap();
        let mut output = blend(&input, styled, mixing.strength, mixing.preserve_color);
        if let Some(p) = previous {
            stabilize(&p.input, &input, &p.output, &mut output, mixing.stability);
        }
        pack(&output, frame, geometry).unwrap();
        Previous { input, output }
    }

    #[test]
    fn equals_unpack_blend_stabilize_pack_in_every_layout() {
        let (w, h) = (7, 5);
        for layout in [
            PixelLayout::RGBA,
            PixelLayout::BGRA,
            PixelLayout::RGB,
            PixelLayout::BGR,
        ] {
            let geometry = FrameGeometry {
                width: w,
                height: h,
                stride: w as usize * layout.bytes + 5,
                layout,
            };
            for mixing in [
                mixing(1.0, false, 0.0),
                mixing(0.6, true, 0.0),
                mixing(0.8, false, 0.7),
            ] {
                let mut previous = None;
                let mut want_previous = None;
                for frame_no in 0..3 {
                    // A frame whose top rows stay still (stabilized) while the rest moves.
                    let mut frame: Vec<u8> = (0..geometry.stride * h as usize)
                        .map(|i| {
                            if i < 2 * geometry.stride {
                                i as u8
                            } else {
                                (i * 7 + frame_no * 29) as u8
                            }
                        })
                        .collect();
                    let mut want = frame.clone();
                    let mut by_rows = frame.clone();
                    let styled = picture(w, h, frame_no as u32);
                    let floats: Vec<f32> = styled
                        .as_raw()
                        .iter()
                        .map(|&v| f32::from(v) / 255.0)
                        .collect();
                    let mut rows_previous = previous.clone();
                    finish(
                        &mut frame,
                        &geometry,
                        Styled::Floats(&floats),
                        mixing,
                        &mut previous,
                        true,
                    )
                    .unwrap();
                    // The same values handed over a row at a time.
                    let rows = RowsOf(&floats, w as usize, h as usize);
                    finish(
                        &mut by_rows,
                        &geometry,
                        Styled::Rows(&rows),
                        mixing,
                        &mut rows_previous,
                        true,
                    )
                    .unwrap();
                    assert_eq!(by_rows, frame, "{layout:?} {mixing:?} frame {frame_no}");
                    assert_eq!(rows_previous, previous);
                    let kept = reference(
                        &mut want,
                        &geometry,
                        &styled,
                        mixing,
                        want_previous.as_ref(),
                    );
                    want_previous = (mixing.stability > 0.0).then_some(kept);
                    assert_eq!(frame, want, "{layout:?} {mixing:?} frame {frame_no}");
                    assert_eq!(
                        previous, want_previous,
                        "{layout:?} {mixing:?} frame {frame_no}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_frame_that_does_not_follow_is_not_stabilized_but_starts_the_history() {
        let geometry = FrameGeometry::rgb(4, 3);
        let mixing = mixing(1.0, false, 1.0);
        let input = picture(4, 3, 1);
        let styled = picture(4, 3, 2);
        let mut previous = Some(Previous {
            input: input.clone(),
            output: picture(4, 3, 3),
        });
        let mut frame = input.as_raw().clone();
        finish(
            &mut frame,
            &geometry,
            Styled::Bytes(styled.as_raw()),
            mixing,
            &mut previous,
            false,
        )
        .unwrap();
        assert_eq!(frame, *styled.as_raw(), "not leaned towards the old output");
        assert_eq!(
            previous,
            Some(Previous {
                input: input.clone(),
                output: styled.clone()
            })
        );

        // The same input again, following: fully static, so the previous output comes back.
        let mut again = input.as_raw().clone();
        let other = picture(4, 3, 4);
        finish(
            &mut again,
            &geometry,
            Styled::Bytes(other.as_raw()),
            mixing,
            &mut previous,
            true,
        )
        .unwrap();
        assert_eq!(again, *styled.as_raw());
    }

    #[test]
    fn mismatched_sizes_are_errors_not_panics() {
        let geometry = FrameGeometry::rgb(4, 3);
        let mixing = mixing(1.0, false, 0.0);
        let mut frame = vec![0u8; 36];
        let short = vec![0u8; 30];
        let err = finish(
            &mut frame,
            &geometry,
            Styled::Bytes(&short),
            mixing,
            &mut None,
            false,
        );
        assert!(err.unwrap_err().to_string().contains("30 styled values"));
        let values = vec![0.5f32; 3 * 4 * 2];
        let err = finish(
            &mut frame,
            &geometry,
            Styled::Rows(&RowsOf(&values, 4, 2)),
            mixing,
            &mut None,
            false,
        );
        assert!(err.unwrap_err().to_string().contains("4x2 styled rows"));
        let err = finish(
            &mut frame[..20],
            &geometry,
            Styled::Bytes(&short),
            mixing,
            &mut None,
            false,
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("does not fit in 20 bytes")
        );
    }
}
