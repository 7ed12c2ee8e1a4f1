//! Data files: a small self-describing header, a bincode body, atomic writes.
//!
//! Layout: 8 magic bytes `\x89NIPC\r\n\x1a` (the PNG trick: a high byte, then line endings
//! and a DOS end-of-file that any text-mode mangling changes), a format byte (1 = bincode 2,
//! standard configuration), a version byte (1), the body length as a big-endian u64, the body.

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Limits, Result, codec};

/// The first bytes of every data file.
pub const MAGIC: [u8; 8] = *b"\x89NIPC\r\n\x1a";
/// The format byte of bincode bodies.
pub const FORMAT_BINCODE: u8 = 1;
/// The version this build writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the body.
pub const HEADER_LEN: usize = MAGIC.len() + 2 + 8;

/// Encodes `value` as the bytes of a data file (header and body).
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let body = codec::encode(value)?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_BINCODE);
    out.push(VERSION);
    out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes the bytes of a data file, within `limits`. Errors name `<bytes>` as the file.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8], limits: &Limits) -> Result<T> {
    from_bytes_at(bytes, limits, Path::new("<bytes>"))
}

fn from_bytes_at<T: DeserializeOwned>(bytes: &[u8], limits: &Limits, path: &Path) -> Result<T> {
    let not = |what| Error::NotADataFile {
        path: path.to_path_buf(),
        what,
    };
    if bytes.is_empty() {
        return Err(not("it is empty"));
    }
    if !bytes.starts_with(&MAGIC) {
        return Err(if MAGIC.starts_with(bytes) {
            not("it is truncated inside the header")
        } else if bytes[0] == 0x80 || bytes.starts_with(b"(") {
            not("it looks like a Python pickle: use notes_ipc::pickle::load")
        } else {
            not("unknown magic bytes")
        });
    }
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Err(not("it is truncated inside the header"));
    };
    let (format, version) = (header[8], header[9]);
    if format != FORMAT_BINCODE || version != VERSION {
        return Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            format,
            version,
        });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&header[10..18]);
    let expected = u64::from_be_bytes(len);
    let body = &bytes[HEADER_LEN..];
    if (body.len() as u64) < expected {
        return Err(Error::TruncatedFile {
            path: path.to_path_buf(),
            expected,
            got: body.len() as u64,
        });
    }
    if body.len() as u64 > expected {
        return Err(Error::InFile {
            path: path.to_path_buf(),
            source: Box::new(Error::Decode(format!(
                "{} bytes of trailing data after the {expected}-byte body",
                body.len() as u64 - expected
            ))),
        });
    }
    codec::decode(body, limits).map_err(|err| err.in_file(path))
}

/// Saves `value` to `path` atomically: the data goes to a temporary file in the same
/// directory, is flushed to disk, and is renamed over `path`, so readers see the old file
/// or the new one, never half of one.
#[tracing::instrument(level = "debug", skip_all)]
pub fn save<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, &to_bytes(value)?)
}

/// Loads a value saved by [`save`], with the default [`Limits`].
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T> {
    load_with(path, &Limits::default())
}

/// Loads a value saved by [`save`]; files over `limits.max_len` (plus the header) are refused
/// before being read.
#[tracing::instrument(level = "debug", skip_all)]
pub fn load_with<T: DeserializeOwned>(path: &Path, limits: &Limits) -> Result<T> {
    let bytes = read_bounded(path, limits.max_len.saturating_add(HEADER_LEN), 0)?;
    from_bytes_at(&bytes, limits, path)
}

/// Reads a whole file of at most `max` bytes.
pub(crate) fn read_bounded(path: &Path, max: usize, spare: usize) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(Error::file("open", path))?;
    let too_large = |source: Error| Error::InFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    // A regular file's size is known: refused before a byte is read.
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > max as u64
    {
        return Err(too_large(Error::FrameTooLarge {
            len: meta.len(),
            max,
        }));
    }
    // One allocation of the file's size (not past the limit) and `spare` bytes more, rather
    // than doubling from a small one.
    let size = file.metadata().map_or(0, |m| m.len()).min(max as u64 + 1) as usize;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(size.saturating_add(spare))
        .map_err(|err| Error::file("read", path)(std::io::Error::other(err)))?;
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::file("read", path))?;
    if bytes.len() > max {
        // A pipe or device (`/dev/zero`): its length is unknown, only that it is too long.
        return Err(too_large(Error::InputTooLarge { max }));
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // The workspace's one atomic writer (O_TMPFILE on Linux, file and directory synced).
    notes_fs::write_file(path, notes_fs::Replace::Allowed, |w| w.write_all(bytes))
        .map_err(Error::file("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        save(&path, &vec![1u8, 2, 3, 5]).unwrap();
        assert_eq!(load::<Vec<u8>>(&path).unwrap(), [1, 2, 3, 5]);

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let err = load::<Vec<u8>>(&path).unwrap_err().to_string();
        assert!(
            err.contains("truncated") && err.contains("data.bin"),
            "{err}"
        );

        std::fs::write(&path, b"\x80\x04K\x01.").unwrap();
        let err = load::<u8>(&path).unwrap_err().to_string();
        assert!(err.contains("Python pickle"), "{err}");

        let mut other = bytes.clone();
        other[9] = 7;
        std::fs::write(&path, &other).unwrap();
        let err = load::<Vec<u8>>(&path).unwrap_err().to_string();
        assert!(err.contains("version 7"), "{err}");

        assert!(matches!(
            load::<u8>(&dir.path().join("missing")),
            Err(Error::File { .. })
        ));
    }
}
