//! Reading and writing files safely: model-like files read with a size limit and only when
//! they are regular files, outputs written atomically (a temporary file in the same folder,
//! fsync, rename), and the temporary files of unfinished outputs removed even on a quick exit.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, ModelFileError, Result};

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
        return Err(Error::NotAFolder {
            path: path.to_path_buf(),
            file: file.to_path_buf(),
        });
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
