//! Containers and encoders for written video: chosen from the output file's extension, using
//! whichever encoder of the installed GStreamer plugins fits (H.264 where the container
//! takes it and x264/openh264 is installed).

use std::path::Path;

use gstreamer as gst;
use gstreamer::prelude::*;

use super::make;
use crate::error::{Error, Result};

/// An output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// .mp4 / .m4v: H.264 (MPEG-4 part 2 without an H.264 encoder) and AAC.
    Mp4,
    /// .mov: as MP4, in a QuickTime file.
    Mov,
    /// .mkv: H.264 or VP8, and any audio the source has (copied).
    Matroska,
    /// .webm: VP8 and Opus/Vorbis.
    Webm,
}

/// The elements that turn raw frames into an encoded stream for a muxer.
#[derive(Debug)]
pub struct VideoEncoder {
    /// In order: the crop to an even size (when needed), the 4:2:0 caps, the encoder, its
    /// profile caps (High, for recorded clips) and parser.
    pub elements: Vec<gst::Element>,
    /// The size written, when the frames' odd size had to be cropped to an even one.
    pub cropped: Option<(u32, u32)>,
}

impl VideoEncoder {
    /// What the crop did, in words, for the user (`None` when nothing was cropped).
    pub fn crop_note(&self, size: (u32, u32)) -> Option<String> {
        self.cropped.map(|(w, h)| {
            let dropped = match (w != size.0, h != size.1) {
                (true, true) => "column and row",
                (true, false) => "column",
                _ => "row",
            };
            format!(
                "{}x{} has an odd side; written as {w}x{h} (its last {dropped} dropped), since 4:2:0 video needs even sizes",
                size.0, size.1
            )
        })
    }
}

/// x264's output pinned to the High profile (what 4:2:0 8-bit input gives; anything else
/// fails to negotiate instead of silently becoming a profile players refuse).
fn h264_high() -> Option<gst::Element> {
    let caps = make("capsfilter").ok()?;
    caps.set_property(
        "caps",
        gst::Caps::builder("video/x-h264")
            .field("profile", "high")
            .build(),
    );
    Some(caps)
}

impl Container {
    /// The container for a file name, from its extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("mp4" | "m4v") => Ok(Self::Mp4),
            Some("mov") => Ok(Self::Mov),
            Some("mkv") => Ok(Self::Matroska),
            Some("webm") => Ok(Self::Webm),
            other => Err(Error::Setting(format!(
                "{}: cannot write {} files; use .mp4, .mov, .mkv or .webm",
                path.display(),
                other.map_or("extension-less".to_string(), |e| format!(".{e}"))
            ))),
        }
    }

    /// The muxer element.
    pub fn muxer(self) -> Result<gst::Element> {
        match self {
            Self::Mp4 => make("mp4mux"),
            Self::Mov => make("qtmux"),
            Self::Matroska => make("matroskamux"),
            Self::Webm => make("webmmux"),
        }
    }

    /// Video encoder chain for frames of `size`: the first encoder installed of those the
    /// container takes, fed 4:2:0 (I420), the chroma layout every player and hardware decoder
    /// plays (videoconvert would otherwise hand RGB-derived 4:4:4 to x264, which browsers,
    /// QuickTime and phones refuse). 4:2:0 needs an even size: an odd width or height loses its
    /// last column or row, and [`VideoEncoder::cropped`] says so. `live` tunes for latency
    /// over compression.
    pub fn video_encoder(self, live: bool, size: (u32, u32)) -> Result<VideoEncoder> {
        let h264 = || -> Option<Vec<gst::Element>> {
            if let Ok(x264) = make("x264enc") {
                if live {
                    x264.set_property_from_str("tune", "zerolatency");
                    x264.set_property_from_str("speed-preset", "ultrafast");
                    x264.set_property("key-int-max", 60u32);
                } else {
                    // Constant quality: styled texture needs bits, whatever the source's rate.
                    x264.set_property_from_str("pass", "quant");
                    x264.set_property("quantizer", 20u32);
                    x264.set_property_from_str("speed-preset", "faster");
                }
                let mut chain = vec![x264];
                if !live {
                    // (Live's ultrafast preset gives Constrained Baseline, which plays anywhere.)
                    chain.push(h264_high()?);
                }
                chain.push(make("h264parse").ok()?);
                return Some(chain);
            }
            let open = make("openh264enc").ok()?;
            Some(vec![open, make("h264parse").ok()?])
        };
        let vp8 = || -> Option<Vec<gst::Element>> {
            let vp8 = make("vp8enc").ok()?;
            vp8.set_property("deadline", if live { 1i64 } else { 0i64 });
            vp8.set_property("target-bitrate", 4_000_000i32);
            Some(vec![vp8])
        };
        let encoder = match self {
            Self::Mp4 | Self::Mov => h264().or_else(|| Some(vec![make("avenc_mpeg4").ok()?])),
            Self::Matroska => h264().or_else(vp8),
            Self::Webm => vp8(),
        }
        .ok_or_else(|| {
            Error::Media(format!(
                "no video encoder for {self:?} is installed (x264enc: gstreamer1.0-plugins-ugly; vp8enc: gstreamer1.0-plugins-good)"
            ))
        })?;
        let even = (size.0 & !1, size.1 & !1);
        if even.0 == 0 || even.1 == 0 {
            return Err(Error::Media(format!(
                "a {}x{} video cannot be encoded: 4:2:0 needs at least 2x2 pixels",
                size.0, size.1
            )));
        }
        let mut elements = Vec::new();
        let cropped = (even != size).then_some(even);
        if cropped.is_some() {
            let crop = make("videocrop")?;
            crop.set_property("right", (size.0 - even.0) as i32);
            crop.set_property("bottom", (size.1 - even.1) as i32);
            elements.push(crop);
        }
        let i420 = make("capsfilter")?;
        i420.set_property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("format", "I420")
                .build(),
        );
        elements.push(i420);
        elements.extend(encoder);
        Ok(VideoEncoder { elements, cropped })
    }

    /// Audio encoder (after audioconvert ! audioresample), for sources whose audio the
    /// container cannot take as it is.
    pub fn audio_encoder(self) -> Result<gst::Element> {
        let names: &[&str] = match self {
            Self::Mp4 | Self::Mov => &["avenc_aac", "voaacenc", "fdkaacenc"],
            Self::Matroska | Self::Webm => &["opusenc", "vorbisenc"],
        };
        names.iter().find_map(|n| make(n).ok()).ok_or_else(|| {
            Error::Media(format!(
                "no audio encoder for {self:?} is installed (one of {}; gstreamer1.0-libav has avenc_aac)",
                names.join(", ")
            ))
        })
    }
}
