//! The rename journal: one `from<TAB>to` line per rename, written before the rename happens,
//! so `undo` can restore every name even after a crash.
//!
//! Paths are bytes (non-UTF-8 names survive): `%`, control characters and bytes that are not
//! UTF-8 are written as `%XX`, everything else as is, so the file stays readable.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The first line of every journal.
pub(crate) const HEADER: &str = "notes-rename-journal 1";

pub(crate) fn escape(path: &Path, out: &mut Vec<u8>) {
    let bytes = path.as_os_str().as_encoded_bytes();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '%' || c.is_control() {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    write!(out, "%{b:02X}").expect("writing to a Vec");
                }
            } else {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        for b in chunk.invalid() {
            write!(out, "%{b:02X}").expect("writing to a Vec");
        }
    }
}

pub(crate) fn unescape(text: &[u8]) -> Option<PathBuf> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            let hex = std::str::from_utf8(text.get(i + 1..i + 3)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            bytes.push(text[i]);
            i += 1;
        }
    }
    bytes_to_path(bytes)
}

#[cfg(unix)]
fn bytes_to_path(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn bytes_to_path(bytes: Vec<u8>) -> Option<PathBuf> {
    // Elsewhere only UTF-8 names round-trip through a journal.
    String::from_utf8(bytes)
        .ok()
        .map(|s| PathBuf::from(OsString::from(s)))
}

/// An open journal that each rename is appended to before it happens.
#[derive(Debug)]
pub(crate) struct Writer {
    file: fs::File,
    path: PathBuf,
    /// Lines recorded and not yet written.
    pending: Vec<u8>,
}

impl Writer {
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(Error::io("create journal", path))?;
        let mut writer = Self {
            file,
            path: path.to_path_buf(),
            pending: Vec::new(),
        };
        writer.pending.extend_from_slice(HEADER.as_bytes());
        writer.pending.push(b'\n');
        writer.commit()?;
        // The journal's name must survive a crash too.
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(dir) = fs::File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(writer)
    }

    /// Adds a rename to the pending batch (written by [`commit`](Self::commit)).
    pub(crate) fn record(&mut self, from: &Path, to: &Path) {
        escape(from, &mut self.pending);
        self.pending.push(b'\t');
        escape(to, &mut self.pending);
        self.pending.push(b'\n');
    }

    /// Writes the pending batch and flushes it to disk: only then may its renames happen.
    pub(crate) fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file
            .write_all(&self.pending)
            .and_then(|()| self.file.sync_data())
            .map_err(Error::io("write journal", &self.path))?;
        self.pending.clear();
        Ok(())
    }
}

/// A journal's `(from, to)` pairs, and the number of its torn last line if it has one.
pub(crate) type Journal = (Vec<(PathBuf, PathBuf)>, Option<usize>);

/// Reads a journal's `(from, to)` pairs in the order they were applied, and the number of
/// a last line cut short (no newline at its end), which is left out: its rename never
/// happened (each batch is on disk before its renames start).
pub(crate) fn read(path: &Path) -> Result<Journal> {
    let bytes = fs::read(path).map_err(Error::io("read journal", path))?;
    let bad = |line: usize, why: &'static str| Error::BadJournal {
        path: path.to_path_buf(),
        line,
        why,
    };
    let complete = bytes.ends_with(b"\n");
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // What follows the last newline: empty in a whole journal, a torn line otherwise.
    let tail = lines.pop().unwrap_or_default();
    if lines.is_empty() {
        // Not even the header is complete: a journal torn before its first entry, or not one.
        return if !tail.is_empty() && HEADER.as_bytes().starts_with(tail) {
            Ok((Vec::new(), Some(1)))
        } else {
            Err(bad(
                1,
                "it does not start with the notes-rename-journal header",
            ))
        };
    }
    if lines[0] != HEADER.as_bytes() {
        return Err(bad(
            1,
            "it does not start with the notes-rename-journal header",
        ));
    }
    let torn = (!complete).then_some(lines.len() + 1);
    let mut pairs = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split(|&b| b == b'\t');
        let (Some(from), Some(to), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(i + 1, "expected two paths separated by a tab"));
        };
        let from = unescape(from).ok_or_else(|| bad(i + 1, "bad %XX escape"))?;
        let to = unescape(to).ok_or_else(|| bad(i + 1, "bad %XX escape"))?;
        pairs.push((from, to));
    }
    Ok((pairs, torn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_escapes() {
        for name in ["plain", "a b\tc\nd%e", "ünï çødé", "100%"] {
            let mut out = Vec::new();
            escape(Path::new(name), &mut out);
            assert!(!out.contains(&b'\t') && !out.contains(&b'\n'));
            assert_eq!(unescape(&out).unwrap(), Path::new(name));
        }
        assert_eq!(unescape(b"%4"), None);
        assert_eq!(unescape(b"%zz"), None);
    }

    #[test]
    fn a_torn_last_line_is_left_out_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let whole = format!("{HEADER}\n/a/x y\t/a/x_y\n");
        fs::write(&path, &whole).unwrap();
        assert_eq!(read(&path).unwrap().1, None);
        // Cut anywhere inside the second entry: the first is kept, the cut one left out.
        for cut in ["/b/p", "/b/p q\t/b/p_", "/b/p q\t"] {
            fs::write(&path, format!("{whole}{cut}")).unwrap();
            let (pairs, torn) = read(&path).unwrap();
            assert_eq!(pairs.len(), 1, "{cut:?}");
            assert_eq!(torn, Some(3));
        }
        // Cut inside the header: nothing to undo, said so.
        fs::write(&path, &HEADER[..5]).unwrap();
        assert_eq!(read(&path).unwrap(), (vec![], Some(1)));
        // A damaged line that is not the last is still an error.
        fs::write(&path, format!("{HEADER}\nno tab\n/a\t/b\n")).unwrap();
        assert!(read(&path).is_err());
        fs::write(&path, "not a journal").unwrap();
        assert!(read(&path).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(b"bad\xff name"));
        let mut out = Vec::new();
        escape(path, &mut out);
        assert_eq!(out, b"bad%FF name");
        assert_eq!(unescape(&out).unwrap(), path);
    }
}
