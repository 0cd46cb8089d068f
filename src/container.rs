//! The one on-disk container behind model files and training checkpoints: magic bytes, a format
//! version, named sections, and a CRC-32 over everything, written atomically (temporary file in
//! the same folder, fsync, rename) so a crash never leaves a half-written file under the name.
//!
//! Layout (little-endian): `b"GANSTYLE"`, `u32` version, `u32` section count, then per section a
//! `u16` name length, the UTF-8 name, a `u64` length and the bytes; last, a `u32` CRC-32 of all
//! bytes before it.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, ModelFileError, Result};

/// The first bytes of every ganstyle file.
pub const MAGIC: &[u8; 8] = b"GANSTYLE";
/// The container version this build writes and reads.
pub const VERSION: u32 = 1;

/// Named byte sections, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Container {
    /// `(name, bytes)` pairs.
    pub sections: Vec<(String, Vec<u8>)>,
}

impl Container {
    /// Add a section.
    pub fn push(&mut self, name: &str, bytes: Vec<u8>) {
        self.sections.push((name.to_string(), bytes));
    }

    /// The bytes of section `name`.
    pub fn get(&self, name: &str) -> std::result::Result<&[u8], ModelFileError> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| ModelFileError::Metadata(format!("section {name:?} is missing")))
    }

    /// Serialize to bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        for (name, bytes) in &self.sections {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parse bytes, checking magic, version, lengths and checksum.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, ModelFileError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelFileError::Foreign(sniff(bytes)));
        }
        let mut reader = Reader {
            bytes,
            pos: MAGIC.len(),
        };
        let version = reader.u32()?;
        if version != VERSION {
            return Err(ModelFileError::Version {
                found: version,
                supported: VERSION,
            });
        }
        if bytes.len() < MAGIC.len() + 12 {
            return Err(ModelFileError::Truncated(format!(
                "only {} bytes",
                bytes.len()
            )));
        }
        let count = reader.u32()?;
        let mut container = Container::default();
        for _ in 0..count {
            let name_len = reader.u16()? as usize;
            let name = String::from_utf8(reader.take(name_len)?.to_vec())
                .map_err(|_| ModelFileError::Metadata("a section name is not UTF-8".into()))?;
            let len = reader.u64()? as usize;
            container.push(&name, reader.take(len)?.to_vec());
        }
        if reader.pos + 4 > bytes.len() {
            return Err(ModelFileError::Truncated("the checksum is missing".into()));
        }
        let stored = u32::from_le_bytes(
            bytes[reader.pos..reader.pos + 4]
                .try_into()
                .expect("4 bytes"),
        );
        let computed = crc32fast::hash(&bytes[..reader.pos]);
        if stored != computed {
            return Err(ModelFileError::Corrupt { stored, computed });
        }
        if reader.pos + 4 != bytes.len() {
            return Err(ModelFileError::Metadata(format!(
                "{} unexpected bytes after the checksum",
                bytes.len() - reader.pos - 4
            )));
        }
        Ok(container)
    }

    /// Read and parse `path`; errors name the file.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes).map_err(|reason| Error::model(path, reason))
    }

    /// Write to `path` atomically.
    pub fn write_atomic(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes())
    }
}

/// The largest model-like file read: above any real one (ganstyle models are a few MB;
/// torchvision's whole VGG19 file, classifier included, is 548 MB), far below what would hurt
/// the machine.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Read a model-like file (a model, checkpoint or VGG file); errors name the file and say
/// whether it is missing, unreadable, not a regular file (a pipe would block, a device never
/// end) or too large.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    read_limited(path, MAX_FILE_BYTES).map_err(|reason| Error::model(path, reason))
}

fn read_limited(path: &Path, limit: u64) -> std::result::Result<Vec<u8>, ModelFileError> {
    use std::io::Read;
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ModelFileError::NotFound
        } else {
            ModelFileError::Unreadable(e)
        }
    };
    // Checked before opening: opening a named pipe blocks until something writes to it.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ModelFileError::NotAFile(kind_of(&meta)));
    }
    if meta.len() > limit {
        return Err(ModelFileError::TooLarge {
            bytes: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The size can change after the check: never read past the limit.
    std::fs::File::open(path)
        .map_err(io)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ModelFileError::TooLarge {
            bytes: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// What a non-regular file is, for the error message.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    if meta.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

/// Refuse to write over an existing `path` unless `force` ([`Error::Exists`]).
pub fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(Error::Exists(path.to_path_buf()));
    }
    Ok(())
}

/// Paths of temporary files that may still be on disk, for a quick exit to remove.
#[derive(Debug, Default)]
struct PartialFiles {
    paths: std::sync::Mutex<Vec<std::path::PathBuf>>,
}

impl PartialFiles {
    const fn new() -> Self {
        Self {
            paths: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn paths(&self) -> std::sync::MutexGuard<'_, Vec<std::path::PathBuf>> {
        match self.paths.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn add(&self, path: &Path) {
        let mut paths = self.paths();
        // Renamed or dropped ones are gone from disk; forget them so the list stays short.
        paths.retain(|p| p.exists());
        paths.push(path.to_path_buf());
    }

    fn keep(&self, path: &Path) {
        self.paths().retain(|p| p != path);
    }

    fn remove_all(&self) {
        for path in self.paths().drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Temporary files made by [`temp_beside`] and not yet renamed to their names.
static PARTIAL_FILES: PartialFiles = PartialFiles::new();

/// Delete every temporary file [`temp_beside`] made that is still there: for a process that
/// exits at once (a second Ctrl-C) and so runs no destructors. Files already renamed to their
/// names are not touched.
pub fn remove_partial_files() {
    PARTIAL_FILES.remove_all();
}

/// A temporary file kept on purpose (a recording that did not finish) is no longer partial:
/// [`remove_partial_files`] leaves it alone.
pub fn keep_partial_file(path: &Path) {
    PARTIAL_FILES.keep(path);
}

/// The folder `path` goes in, made if needed; an error that says so when a part of the way
/// is a file.
fn folder_for(path: &Path) -> Result<&Path> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Some(file) = dir.ancestors().find(|a| a.is_file()) {
        return Err(Error::Invalid(format!(
            "cannot write {}: {} is a file, not a folder",
            path.display(),
            file.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    Ok(dir)
}

/// A new temporary file in `path`'s folder (made if needed), to be renamed onto `path` once
/// complete; deleted when dropped before that, or by [`remove_partial_files`] on a quick exit.
/// It keeps `path`'s extension, so tools that go by the name see the right kind of file.
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = folder_for(path)?;
    let suffix = path
        .extension()
        .map(|e| format!(".partial.{}", e.to_string_lossy()))
        .unwrap_or_else(|| ".partial".into());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ganstyle-").suffix(&suffix);
    // Like any file the user writes (0666 less the umask), not tempfile's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let temp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    PARTIAL_FILES.add(temp.path());
    Ok(temp)
}

/// Write `bytes` to `path` through a temporary file in the same folder, fsync'ed, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// A guess at what a foreign file is, for the error message.
fn sniff(bytes: &[u8]) -> &'static str {
    let starts = |prefix: &[u8]| bytes.starts_with(prefix);
    if bytes.is_empty() {
        "empty file"
    } else if starts(b"\x89PNG") {
        "PNG image"
    } else if starts(b"\xff\xd8\xff") {
        "JPEG image"
    } else if starts(b"PK\x03\x04") {
        "zip archive, e.g. a PyTorch .pth file"
    } else if starts(b"\x7fELF") {
        "program"
    } else if bytes.len() > 9 && bytes[8] == b'{' {
        "safetensors file"
    } else if bytes.iter().take(64).all(|b| b.is_ascii()) {
        "text file"
    } else {
        "file of unknown type"
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], ModelFileError> {
        // Leave room for the trailing checksum.
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e + 4 <= self.bytes.len())
            .ok_or_else(|| {
                ModelFileError::Truncated(format!(
                    "needs at least {} bytes, has {}",
                    self.pos.saturating_add(n).saturating_add(4),
                    self.bytes.len()
                ))
            })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u16(&mut self) -> std::result::Result<u16, ModelFileError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn u32(&mut self) -> std::result::Result<u32, ModelFileError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> std::result::Result<u64, ModelFileError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Container {
        let mut c = Container::default();
        c.push("meta", b"{\"a\":1}".to_vec());
        c.push("weights", (0..=255).collect());
        c
    }

    #[test]
    fn round_trip_is_exact() {
        let c = sample();
        assert_eq!(Container::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() {
            assert!(
                Container::from_bytes(&bytes[..len]).is_err(),
                "accepted {len} bytes"
            );
        }
    }

    #[test]
    fn a_flipped_bit_is_caught_by_the_checksum() {
        let mut bytes = sample().to_bytes();
        let n = bytes.len();
        bytes[n - 20] ^= 0x10;
        assert!(matches!(
            Container::from_bytes(&bytes),
            Err(ModelFileError::Corrupt { .. })
        ));
    }

    #[test]
    fn foreign_files_are_named() {
        let png = Container::from_bytes(b"\x89PNG\r\n\x1a\n....").unwrap_err();
        assert!(png.to_string().contains("PNG image"), "{png}");
        let mut newer = sample().to_bytes();
        newer[8] = 9;
        assert!(matches!(
            Container::from_bytes(&newer),
            Err(ModelFileError::Version { found: 9, .. })
        ));
    }

    #[test]
    fn a_path_under_a_regular_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "text").unwrap();
        let err = temp_beside(&file.join("deeper/out.png"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("out.png") && err.contains("notes.txt is a file, not a folder"),
            "{err}"
        );
    }

    #[test]
    fn a_quick_exit_removes_partial_files_but_not_finished_or_kept_ones() {
        let dir = tempfile::tempdir().unwrap();
        let list = PartialFiles::new();
        let partial = temp_beside(&dir.path().join("a.mp4")).unwrap();
        let finished = temp_beside(&dir.path().join("b.mp4")).unwrap();
        let kept = temp_beside(&dir.path().join("c.mkv")).unwrap();
        for temp in [&partial, &finished, &kept] {
            list.add(temp.path());
        }
        let (partial_path, kept_path) = (partial.path().to_path_buf(), kept.path().to_path_buf());
        finished.persist(dir.path().join("b.mp4")).unwrap();
        let (_, kept_path_on_disk) = kept.keep().unwrap();
        list.keep(&kept_path);
        // As on exit(): no destructor runs for `partial`.
        std::mem::forget(partial);
        list.remove_all();
        assert!(!partial_path.exists());
        assert!(dir.path().join("b.mp4").exists());
        assert!(kept_path_on_disk.exists());
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gsm");
        sample().write_atomic(&path).unwrap();
        sample().write_atomic(&path).unwrap();
        assert_eq!(Container::read(&path).unwrap(), sample());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
