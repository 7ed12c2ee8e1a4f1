//! `.npz` archives (`np.savez`, `np.savez_compressed`) in and out, member by member, with the
//! limits of the `.npy` reader applied to every member.

use std::fs;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use zip::ZipArchive;
use zip::write::SimpleFileOptions;

use crate::npy::{open_sized, read_npy_from};
use crate::{AnyArray, ByteOrder, Error};

/// How `write_npz` stores its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NpzCompression {
    /// Uncompressed, as `np.savez` writes.
    #[default]
    Stored,
    /// Deflated, as `np.savez_compressed` writes.
    Deflated,
}

/// A `.npz` archive open for reading, one member at a time (numpy's `NpzFile`).
///
/// Members are read on demand, so printing a large archive holds one array in memory at a
/// time. Every member is read as [`read_npy`](crate::read_npy) reads a file: its `.npy` header is
/// checked first, and only the data it announces is decompressed, after checking it against
/// the size the archive declares for the member (a zip bomb's members are refused before
/// they are inflated, and a member that inflates to more than it declares is an error).
pub struct NpzReader<R: Read + Seek> {
    archive: ZipArchive<R>,
    path: PathBuf,
}

impl<R: Read + Seek> std::fmt::Debug for NpzReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpzReader")
            .field("path", &self.path)
            .field("members", &self.archive.len())
            .finish()
    }
}

impl NpzReader<fs::File> {
    /// Opens the `.npz` file at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be opened, [`Error::Npz`] when it is not a zip archive.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = fs::File::open(path).map_err(|source| Error::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
        Self::new(file, path)
    }
}

impl<R: Read + Seek> NpzReader<R> {
    /// Reads the archive's directory from `reader`; `path` only names the input in errors.
    ///
    /// # Errors
    /// [`Error::Npz`] when it is not a zip archive.
    pub fn new(reader: R, path: &Path) -> Result<Self, Error> {
        let archive = ZipArchive::new(reader).map_err(|source| Error::Npz {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            archive,
            path: path.to_owned(),
        })
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.archive.len()
    }

    /// Whether the archive has no members.
    pub fn is_empty(&self) -> bool {
        self.archive.is_empty()
    }

    /// The members' keys in archive order, as numpy's `NpzFile.files`: each member's name with
    /// its `.npy` suffix removed.
    pub fn names(&self) -> Vec<String> {
        (0..self.archive.len())
            .map(|i| match self.archive.name_for_index(i) {
                Some(Ok(name)) => key(&name).to_owned(),
                _ => String::new(),
            })
            .collect()
    }

    /// Reads member `index`: its key (as in [`names`](Self::names)) and its array.
    ///
    /// # Errors
    /// [`Error::Npz`] when the member cannot be read (bad compression, CRC mismatch, encrypted),
    /// [`Error::NpzMember`] when it is not a `.npy` file, and the errors of
    /// [`read_npy`](crate::read_npy), naming the member, when its contents are bad.
    pub fn by_index(&mut self, index: usize) -> Result<(String, AnyArray), Error> {
        self.by_index_with_order(index)
            .map(|(key, array, _)| (key, array))
    }

    /// As [`by_index`](Self::by_index), with the byte order the member's dtype names (see
    /// [`AnyArray::from_npy_bytes_with_order`]), for [`AnyArray::repr_in`].
    ///
    /// # Errors
    /// As [`by_index`](Self::by_index).
    pub fn by_index_with_order(
        &mut self,
        index: usize,
    ) -> Result<(String, AnyArray, ByteOrder), Error> {
        let path = self.path.clone();
        let zip_error = |source| Error::Npz {
            path: path.clone(),
            source,
        };
        let mut file = self.archive.by_index(index).map_err(zip_error)?;
        let name = file.name().map_err(zip_error)?.into_owned();
        let member = PathBuf::from(format!("{} member {name}", path.display()));
        if file.is_dir() {
            return Err(Error::NpzMember {
                path,
                member: name,
                reason: "it is a directory",
            });
        }
        let declared = file.size();
        let (array, order) =
            read_npy_from(&mut file, Some(declared), &member).map_err(|err| match err {
                // A member that is not a .npy file: numpy's NpzFile would hand back its bytes.
                Error::NpyHeader { .. } => Error::NpzMember {
                    path: path.clone(),
                    member: name.clone(),
                    reason: "it is not a .npy file",
                },
                Error::Io { source, .. } => Error::Npz {
                    path: path.clone(),
                    source: zip::result::ZipError::Io(source),
                },
                other => other,
            })?;
        Ok((key(&name).to_owned(), array, order))
    }

    /// Reads the member with key `name` (`"x"` or `"x.npy"`), as numpy's `d[name]`.
    ///
    /// # Errors
    /// [`Error::NpzMember`] when there is no such member; see [`by_index`](Self::by_index).
    pub fn by_name(&mut self, name: &str) -> Result<AnyArray, Error> {
        let index = self
            .archive
            .index_for_name(name)
            .or_else(|| self.archive.index_for_name(&format!("{name}.npy")))
            .ok_or_else(|| Error::NpzMember {
                path: self.path.clone(),
                member: name.to_owned(),
                reason: "there is no such member",
            })?;
        self.by_index(index).map(|(_, array)| array)
    }
}

/// What [`load`] found: one array, or an archive to read member by member.
#[derive(Debug)]
pub enum Loaded {
    /// A `.npy` file's array, and the byte order its dtype names (for [`AnyArray::repr_in`]).
    Npy(AnyArray, ByteOrder),
    /// A `.npz` archive.
    Npz(NpzReader<fs::File>),
}

/// numpy's `np.load(path)`: a `.npz` archive or a `.npy` array, told apart by the first bytes
/// (a zip archive starts `PK\x03\x04`, or `PK\x05\x06` when empty), whatever the file's name.
/// The file is opened once, so a pipe (`/dev/stdin`) works for `.npy`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; see [`read_npy`](crate::read_npy) and
/// [`NpzReader::open`] for bad contents.
#[tracing::instrument(level = "debug", skip_all)]
pub fn load(path: &Path) -> Result<Loaded, Error> {
    let io = |source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let (mut file, len) = open_sized(path)?;
    let mut magic = Vec::with_capacity(4);
    (&mut file).take(4).read_to_end(&mut magic).map_err(io)?;
    if magic == b"PK\x03\x04" || magic == b"PK\x05\x06" {
        file.rewind().map_err(io)?;
        return NpzReader::new(file, path).map(Loaded::Npz);
    }
    read_npy_from(&mut magic.as_slice().chain(file), len, path)
        .map(|(array, order)| Loaded::Npy(array, order))
}

/// numpy's key for a member: its name without the `.npy` suffix.
fn key(name: &str) -> &str {
    name.strip_suffix(".npy").unwrap_or(name)
}

/// Reads every member of a `.npz` file, in archive order, as `(key, array)` pairs: what
/// `d = np.load(path); [(k, d[k]) for k in d.files]` gives.
///
/// ```no_run
/// for (key, array) in notes_tensor::read_npz(std::path::Path::new("arrays.npz"))? {
///     println!("{key}\n{}", array.format(&notes_tensor::PrintOptions::default()));
/// }
/// # Ok::<(), notes_tensor::Error>(())
/// ```
///
/// # Errors
/// See [`NpzReader::open`] and [`NpzReader::by_index`].
#[tracing::instrument(level = "debug", skip_all)]
pub fn read_npz(path: &Path) -> Result<Vec<(String, AnyArray)>, Error> {
    let mut npz = NpzReader::open(path)?;
    (0..npz.len()).map(|i| npz.by_index(i)).collect()
}

/// Writes `members` as a `.npz` archive to `writer`, as `np.savez(file, **members)` (or
/// `np.savez_compressed` with [`NpzCompression::Deflated`]) does: each array becomes the
/// member `key.npy`, with zip64 headers so members over 4 GiB work. `path` only names the
/// output in errors; the caller decides where the bytes go (an atomic file writer, say).
///
/// ```
/// use notes_tensor::{AnyArray, NpzCompression, NpzReader, write_npz};
/// let a = AnyArray::F64(ndarray::arr1(&[0.5, 0.25]).into_dyn());
/// let mut bytes = std::io::Cursor::new(Vec::new());
/// write_npz(&mut bytes, &[("a", &a)], NpzCompression::Deflated, "a.npz".as_ref())?;
/// bytes.set_position(0);
/// let mut npz = NpzReader::new(bytes, "a.npz".as_ref())?;
/// assert_eq!(npz.names(), ["a"]);
/// assert_eq!(npz.by_name("a")?, a);
/// # Ok::<(), notes_tensor::Error>(())
/// ```
///
/// # Errors
/// [`Error::NpzKey`] for an empty or repeated key, [`Error::WriteNpz`] or [`Error::WriteNpy`]
/// when writing fails.
#[tracing::instrument(level = "debug", skip_all)]
pub fn write_npz<W: Write + Seek>(
    writer: W,
    members: &[(&str, &AnyArray)],
    compression: NpzCompression,
    path: &Path,
) -> Result<(), Error> {
    for (i, (key, _)) in members.iter().enumerate() {
        let reason = if key.is_empty() {
            "keys must not be empty"
        } else if members[..i].iter().any(|(other, _)| other == key) {
            "keys must be unique"
        } else {
            continue;
        };
        return Err(Error::NpzKey {
            path: path.to_owned(),
            key: (*key).to_owned(),
            reason,
        });
    }
    let write_error = |source| Error::WriteNpz {
        path: path.to_owned(),
        source,
    };
    let method = match compression {
        NpzCompression::Stored => zip::CompressionMethod::Stored,
        NpzCompression::Deflated => zip::CompressionMethod::Deflated,
    };
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(true);
    let mut zip = zip::ZipWriter::new(writer);
    for (key, array) in members {
        zip.start_file(format!("{key}.npy"), options)
            .map_err(write_error)?;
        array.write_npy_to(&mut zip, path)?;
    }
    zip.finish().map_err(write_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn archive(members: &[(&str, &AnyArray)], compression: NpzCompression) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        write_npz(&mut bytes, members, compression, Path::new("t.npz")).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn round_trips_in_order() {
        let a = AnyArray::I32(ndarray::arr2(&[[1, 2], [3, 4]]).into_dyn());
        let b = AnyArray::Bool(ndarray::arr1(&[true, false]).into_dyn());
        for compression in [NpzCompression::Stored, NpzCompression::Deflated] {
            let bytes = archive(&[("z", &a), ("b", &b)], compression);
            let mut npz = NpzReader::new(Cursor::new(bytes), Path::new("t.npz")).unwrap();
            assert_eq!(npz.names(), ["z", "b"]);
            assert_eq!(npz.by_index(0).unwrap(), ("z".to_owned(), a.clone()));
            assert_eq!(npz.by_name("b.npy").unwrap(), b);
            let err = npz.by_name("c").unwrap_err();
            assert_eq!(
                err.to_string(),
                "t.npz has no member c: there is no such member"
            );
        }
    }

    #[test]
    fn bad_keys_are_refused() {
        let a = AnyArray::I64(ndarray::arr1(&[1]).into_dyn());
        let mut bytes = Cursor::new(Vec::new());
        let err = write_npz(
            &mut bytes,
            &[("a", &a), ("a", &a)],
            NpzCompression::Stored,
            Path::new("t.npz"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NpzKey { .. }), "{err}");
    }

    /// A deflated member declaring a small size but inflating to 16 MiB of zeros after a
    /// valid header, and one whose header announces more than it declares.
    #[test]
    fn a_member_is_read_only_as_far_as_its_header_and_size_agree() {
        let big = AnyArray::U8(ndarray::Array1::<u8>::zeros(16 << 20).into_dyn());
        let mut bytes = archive(&[("big", &big)], NpzCompression::Deflated);
        // Patch the declared uncompressed size (zip64 extra fields hold it: rewrite the
        // 8-byte little-endian 16 MiB wherever it appears) down to 1000.
        let size = (16_u64 << 20) + 128;
        let needle = size.to_le_bytes();
        let mut patched = 0;
        for i in 0..bytes.len().saturating_sub(8) {
            if bytes[i..i + 8] == needle {
                bytes[i..i + 8].copy_from_slice(&1000_u64.to_le_bytes());
                patched += 1;
            }
        }
        assert!(patched > 0, "the size was not found in the archive");
        let mut npz = NpzReader::new(Cursor::new(bytes), Path::new("bomb.npz")).unwrap();
        let err = npz.by_index(0).unwrap_err();
        assert!(
            matches!(err, Error::NpyTruncated { actual: 872, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("bomb.npz member big.npy is truncated"),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_a_mangled_archive(
            at in 0usize..400,
            byte in proptest::prelude::any::<u8>(),
            cut in 0usize..400,
            deflated in proptest::prelude::any::<bool>(),
        ) {
            let a = AnyArray::F64(ndarray::arr2(&[[1.5, 2.0], [3.0, 4.0]]).into_dyn());
            let compression = if deflated { NpzCompression::Deflated } else { NpzCompression::Stored };
            let mut bytes = archive(&[("a", &a), ("b", &a)], compression);
            let at = at % bytes.len();
            bytes[at] = byte;
            bytes.truncate(cut.max(1).min(bytes.len()));
            if let Ok(mut npz) = NpzReader::new(Cursor::new(bytes), Path::new("fuzz.npz")) {
                let _ = npz.names();
                for i in 0..npz.len() {
                    let _ = npz.by_index(i);
                }
            }
        }
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = NpzReader::new(
            Cursor::new(b"PK\x03\x04 not really".to_vec()),
            Path::new("g.npz"),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("g.npz is not a readable .npz archive"),
            "{err}"
        );
    }
}
