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
    /// A bad setting (out of range, inconsistent).
    #[error("{0}")]
    Invalid(String),
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
    /// The metadata is malformed.
    #[error("bad metadata: {0}")]
    Metadata(String),
    /// The weights do not fit the architecture the metadata describes.
    #[error("weights do not match the architecture: {0}")]
    Incompatible(String),
    /// A checkpoint was given where a model was expected, or the other way round.
    #[error("this is a {found}, not a {expected}")]
    WrongKind {
        /// What the file is.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
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
