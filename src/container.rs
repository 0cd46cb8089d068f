//! The one on-disk format behind model files and training checkpoints, [`SectionFile`]: magic
//! bytes, a format version, named sections, and a CRC-32 over everything, written atomically
//! ([`crate::files::write_atomic`]) so a crash never leaves a half-written file under the name.
//!
//! Layout (little-endian): `b"GANSTYLE"`, `u32` version, `u32` section count, then per section a
//! `u16` name length, the UTF-8 name, a `u64` length and the bytes; last, a `u32` CRC-32 of all
//! bytes before it.

use std::path::Path;

use crate::error::{Error, ModelFileError, Result};
use crate::files::{read_file, write_atomic};

/// The first bytes of every ganstyle file.
pub const MAGIC: &[u8; 8] = b"GANSTYLE";
/// The container version this build writes and reads.
pub const VERSION: u32 = 1;

/// Named byte sections, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectionFile {
    /// `(name, bytes)` pairs.
    pub sections: Vec<(String, Vec<u8>)>,
}

impl SectionFile {
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
        let mut container = SectionFile::default();
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

    fn sample() -> SectionFile {
        let mut c = SectionFile::default();
        c.push("meta", b"{\"a\":1}".to_vec());
        c.push("weights", (0..=255).collect());
        c
    }

    #[test]
    fn round_trip_is_exact() {
        let c = sample();
        assert_eq!(SectionFile::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() {
            assert!(
                SectionFile::from_bytes(&bytes[..len]).is_err(),
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
            SectionFile::from_bytes(&bytes),
            Err(ModelFileError::Corrupt { .. })
        ));
    }

    #[test]
    fn foreign_files_are_named() {
        let png = SectionFile::from_bytes(b"\x89PNG\r\n\x1a\n....").unwrap_err();
        assert!(png.to_string().contains("PNG image"), "{png}");
        let mut newer = sample().to_bytes();
        newer[8] = 9;
        assert!(matches!(
            SectionFile::from_bytes(&newer),
            Err(ModelFileError::Version { found: 9, .. })
        ));
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gsm");
        sample().write_atomic(&path).unwrap();
        sample().write_atomic(&path).unwrap();
        assert_eq!(SectionFile::read(&path).unwrap(), sample());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
