//! The library's error type: every failure a user can cause names the thing at fault and why.

use std::path::PathBuf;

/// Errors from the ganstyle engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file could not be used.
    #[error("model file {path}: {reason}")]
    Model {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: ModelFileError,
    },
    /// A model name that is neither a file nor a shipped model.
    #[error("no model named {name:?}: not a file, and not a shipped model (shipped: {shipped})")]
    UnknownModel {
        /// What the user asked for.
        name: String,
        /// The shipped names, comma-separated.
        shipped: String,
    },
    /// A style that the model does not hold.
    #[error("style {asked:?} is not in this model (it holds: {available})")]
    UnknownStyle {
        /// What the user asked for.
        asked: String,
        /// The model's style names, comma-separated.
        available: String,
    },
    /// A bad style-mix vector.
    #[error("style mix {0}")]
    BadStyleMix(String),
    /// An image that could not be read or written.
    #[error("image {path}: {reason}")]
    Image {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An image larger than the caller allows, refused before it was decoded.
    #[error(
        "image {path}: {width}x{height} is {} pixels, over the limit of {limit}",
        u64::from(*width) * u64::from(*height)
    )]
    ImageTooLarge {
        /// The file.
        path: PathBuf,
        /// Its declared width.
        width: u32,
        /// Its declared height.
        height: u32,
        /// The limit, in pixels.
        limit: u64,
    },
    /// A video clip that could not be decoded.
    #[error("video {path}: {reason}")]
    Video {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Training data that cannot be used (an empty folder, say).
    #[error("training data: {0}")]
    Data(String),
    /// A network file that cannot be imported.
    #[error("importing {path}: {reason}")]
    Import {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A checkpoint that cannot be used.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A compute device that cannot be had.
    #[error("device: {0}")]
    Device(String),
    /// A bad setting or option (out of range, inconsistent, unsupported).
    #[error("{0}")]
    Setting(String),
    /// A frame whose bytes do not fit its declared geometry, or that a frame path cannot take.
    #[error("frame: {0}")]
    Frame(String),
    /// GStreamer, a pipeline, or an element or encoder it needs.
    #[error("{0}")]
    Media(String),
    /// Something the library made could not be serialized (a model, checkpoint, image).
    #[error("serializing: {0}")]
    Serialize(String),
    /// An output path with a regular file where a folder must be.
    #[error("cannot write {}: {} is a file, not a folder", path.display(), file.display())]
    NotAFolder {
        /// The output asked for.
        path: std::path::PathBuf,
        /// The file in the way.
        file: std::path::PathBuf,
    },
    /// An output that exists and may not be replaced.
    #[error("{} exists", .0.display())]
    Exists(PathBuf),
    /// A preview window was asked for on a machine with no display.
    #[error("no display for the preview window (DISPLAY and WAYLAND_DISPLAY are unset)")]
    NoDisplay,
    /// No GPU adapter at all, not even a software one.
    #[error(
        "no GPU adapter found by wgpu: install a Vulkan driver (mesa-vulkan-drivers gives a software one) or run on the CPU"
    )]
    NoGpu,
    /// The camera asked for could not be opened.
    #[error("camera {index} could not be opened ({reason}); {found}")]
    CameraNotFound {
        /// Its index.
        index: u32,
        /// Why.
        reason: String,
        /// What cameras there are, in words.
        found: String,
    },
    /// Training kept producing non-finite losses before any checkpoint to roll back to.
    #[error(
        "training diverged ({0} non-finite steps in a row) before the first checkpoint; a lower learning rate may help"
    )]
    Diverged(u32),
    /// Stopped by the user (Ctrl-C) before it finished.
    #[error("interrupted")]
    Interrupted,
    /// A camera could not be used.
    #[error("camera: {0}")]
    Camera(String),
    /// Plain I/O, with the path it concerned.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// The file is not there.
    #[error("not found")]
    NotFound,
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Unreadable(std::io::Error),
    /// A pipe, device, folder or socket where a file was expected.
    #[error("not a regular file (a {0})")]
    NotAFile(&'static str),
    /// Larger than any model-like file can be.
    #[error("{bytes} bytes, over the {limit}-byte limit for model files")]
    TooLarge {
        /// The file's size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A weight that is NaN or infinite: the network would give unstyled or black frames.
    #[error("tensor {tensor} holds {count} non-finite values (NaN or infinity)")]
    NonFinite {
        /// The tensor's name.
        tensor: String,
        /// How many of its values are not finite.
        count: usize,
    },
    /// Not a ganstyle file at all.
    #[error("not a ganstyle model (wrong magic bytes; a {0}?)")]
    Foreign(&'static str),
    /// Shorter than its header says.
    #[error("truncated: {0}")]
    Truncated(String),
    /// The checksum does not match: the bytes were damaged.
    #[error("corrupt: checksum mismatch (stored {stored:08x}, computed {computed:08x})")]
    Corrupt {
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// Written by a newer or older, incompatible format.
    #[error("format version {found} is not supported (this build reads version {supported})")]
    Version {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The metadata is malformed (text quoted from the file goes through [`printable`]).
    #[error("bad metadata: {0}")]
    Metadata(String),
    /// The weights do not fit the architecture the metadata describes.
    #[error("weights do not match the architecture: {0}")]
    Incompatible(String),
    /// An arbitrary-style model was given where a fixed-style one was expected.
    #[error(
        "this is an arbitrary-style model: give it a style picture (--style-image, or the element's style-image property)"
    )]
    NeedsStylePicture,
    /// A checkpoint was given where a model was expected, or the other way round.
    #[error("this is a {}, not a {expected}", printable(found))]
    WrongKind {
        /// What the file is.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// The most characters of text read from a file that an error message shows.
const SHOWN_CHARS: usize = 200;

/// Text that came from a file, fit for an error message: control characters escaped (no raw
/// terminal escapes reach the user's terminal) and cut to [`SHOWN_CHARS`] characters, with how
/// much was left out.
pub fn printable(text: &str) -> String {
    let mut out = String::new();
    for (shown, c) in text.chars().enumerate() {
        if shown == SHOWN_CHARS {
            let rest = text.chars().count() - shown;
            out.push_str(&format!("… ({rest} more characters)"));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A model-file error about `path`.
    pub fn model(path: impl Into<PathBuf>, reason: ModelFileError) -> Self {
        Error::Model {
            path: path.into(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_files_is_escaped_and_cut() {
        assert_eq!(printable("model"), "model");
        assert_eq!(printable("a\x1b[2Jb\n"), "a\\u{1b}[2Jb\\n");
        let long = "x".repeat(65_000);
        let shown = printable(&long);
        assert!(shown.starts_with(&"x".repeat(SHOWN_CHARS)), "{shown}");
        assert!(shown.ends_with(&format!("({} more characters)", 65_000 - SHOWN_CHARS)));
        assert!(shown.len() < SHOWN_CHARS + 40, "{}", shown.len());
        let kind = ModelFileError::WrongKind {
            found: format!("\x07{long}"),
            expected: "model",
        };
        let message = kind.to_string();
        assert!(
            message.len() < SHOWN_CHARS + 80 && !message.contains('\x07'),
            "{message}"
        );
    }
}
