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
            other => Err(Error::Invalid(format!(
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

    /// Video encoder chain (encoder, then parser where one is needed): the first one installed
    /// of those the container takes. `live` tunes for latency over compression.
    pub fn video_encoder(self, live: bool) -> Result<Vec<gst::Element>> {
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
                return Some(vec![x264, make("h264parse").ok()?]);
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
        let chain = match self {
            Self::Mp4 | Self::Mov => h264().or_else(|| Some(vec![make("avenc_mpeg4").ok()?])),
            Self::Matroska => h264().or_else(vp8),
            Self::Webm => vp8(),
        };
        chain.ok_or_else(|| {
            Error::Invalid(format!(
                "no video encoder for {self:?} is installed (x264enc: gstreamer1.0-plugins-ugly; vp8enc: gstreamer1.0-plugins-good)"
            ))
        })
    }

    /// Audio encoder (after audioconvert ! audioresample), for sources whose audio the
    /// container cannot take as it is.
    pub fn audio_encoder(self) -> Result<gst::Element> {
        let names: &[&str] = match self {
            Self::Mp4 | Self::Mov => &["avenc_aac", "voaacenc", "fdkaacenc"],
            Self::Matroska | Self::Webm => &["opusenc", "vorbisenc"],
        };
        names.iter().find_map(|n| make(n).ok()).ok_or_else(|| {
            Error::Invalid(format!(
                "no audio encoder for {self:?} is installed (one of {}; gstreamer1.0-libav has avenc_aac)",
                names.join(", ")
            ))
        })
    }
}
