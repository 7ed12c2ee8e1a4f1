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

/// The optional second line: `# root ` and the tree renamed (escaped as entries are). An
/// entry is an absolute path and never starts with `#`.
const ROOT_LINE: &[u8] = b"# root ";

/// Where journals go by default: `$XDG_STATE_HOME/notes/rename` (an absolute
/// `XDG_STATE_HOME` only, as the XDG spec says; on every system), else
/// `~/.local/state/notes/rename`; on macOS `~/Library/Application Support/notes/rename`, on
/// Windows `%LOCALAPPDATA%\notes\rename`.
/// `None` when no home directory is known.
pub fn journal_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = if let Some(state) = var("XDG_STATE_HOME") {
        state
    } else if cfg!(windows) {
        var("LOCALAPPDATA")?
    } else if cfg!(target_vendor = "apple") {
        var("HOME")?.join("Library/Application Support")
    } else {
        var("HOME")?.join(".local/state")
    };
    Some(base.join("notes").join("rename"))
}

/// A new journal path in `dir` (created, private to the user, if missing), unique even for
/// two runs in the same second from the same directory: `notes-rename-<UTC time>-<pid>-<n>.journal`.
/// [`RenamePlan::apply`](crate::RenamePlan::apply) creates it (never over an existing file).
pub fn new_journal_path(dir: &Path) -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(Error::io("create journal directory", dir))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = utc_stamp(now.as_secs());
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "notes-rename-{stamp}-{}-{:09}{n}.journal",
            std::process::id(),
            now.subsec_nanos()
        );
        let path = dir.join(name);
        if fs::symlink_metadata(&path).is_err() {
            return Ok(path);
        }
    }
}

/// `YYYYMMDDTHHMMSSZ` for Unix time `secs` (the civil-from-days algorithm).
fn utc_stamp(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A journal found by [`journals`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JournalInfo {
    /// Its path.
    pub path: PathBuf,
    /// The tree that was renamed (absolute), if the journal records it.
    pub root: Option<PathBuf>,
    /// How many renames it records.
    pub entries: usize,
    /// When it was last written.
    pub modified: std::time::SystemTime,
}

/// The journals (`*.journal`) in `dir`, newest first; a missing `dir` has none. Files that
/// are not journals are left out.
pub fn journals(dir: &Path) -> Result<Vec<JournalInfo>> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Error::io("read journal directory", dir)(err)),
    };
    let mut found = Vec::new();
    for entry in listing.flatten() {
        let path = entry.path();
        if path.extension() != Some(std::ffi::OsStr::new("journal")) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let Ok(journal) = read(&path) else {
            continue;
        };
        found.push(JournalInfo {
            path,
            root: journal.root,
            entries: journal.pairs.len(),
            modified: meta.modified().unwrap_or(std::time::UNIX_EPOCH),
        });
    }
    found.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.path.cmp(&a.path)));
    Ok(found)
}

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
    pub(crate) fn create(path: &Path, root: &Path) -> Result<Self> {
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
        writer.pending.extend_from_slice(ROOT_LINE);
        escape(root, &mut writer.pending);
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

/// A journal as read: its `(from, to)` pairs, the root it records, and the number of its
/// torn last line if it has one.
pub(crate) struct Journal {
    pub(crate) pairs: Vec<(PathBuf, PathBuf)>,
    pub(crate) root: Option<PathBuf>,
    pub(crate) torn: Option<usize>,
}

/// The largest journal `read` accepts: 1 GiB, some four million renames of long paths. A
/// larger file (or an endless one, such as `/dev/zero` given as `--journal`) is refused
/// before it is read, or as soon as the limit is passed.
pub(crate) const MAX_JOURNAL: u64 = 1 << 30;

/// Reads all of the journal at `path`, at most [`MAX_JOURNAL`] bytes.
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let too_big = || Error::TooBig {
        path: path.to_path_buf(),
        limit: MAX_JOURNAL,
    };
    let file = fs::File::open(path).map_err(Error::io("read journal", path))?;
    let size = file.metadata().map_err(Error::io("read journal", path))?;
    if size.is_file() && size.len() > MAX_JOURNAL {
        return Err(too_big());
    }
    let mut file = file.take(MAX_JOURNAL + 1);
    // The header first: what is not a journal (`/dev/zero`, a binary) is refused at once
    // rather than after a gigabyte; `read` says why.
    let mut bytes = Vec::with_capacity(HEADER.len());
    (&mut file)
        .take(HEADER.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(Error::io("read journal", path))?;
    if !HEADER.as_bytes().starts_with(&bytes) {
        return Ok(bytes);
    }
    file.read_to_end(&mut bytes)
        .map_err(Error::io("read journal", path))?;
    if bytes.len() as u64 > MAX_JOURNAL {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads a journal's `(from, to)` pairs in the order they were applied, and the number of
/// a last line cut short (no newline at its end), which is left out: its rename never
/// happened (each batch is on disk before its renames start).
pub(crate) fn read(path: &Path) -> Result<Journal> {
    let bytes = read_bounded(path)?;
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
            Ok(Journal {
                pairs: Vec::new(),
                root: None,
                torn: Some(1),
            })
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
    let mut root = None;
    for (i, line) in lines.iter().enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        if let Some(text) = line.strip_prefix(ROOT_LINE) {
            root = Some(unescape(text).ok_or_else(|| bad(i + 1, "bad %XX escape"))?);
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
    Ok(Journal { pairs, root, torn })
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
        assert_eq!(read(&path).unwrap().torn, None);
        // Cut anywhere inside the second entry: the first is kept, the cut one left out.
        for cut in ["/b/p", "/b/p q\t/b/p_", "/b/p q\t"] {
            fs::write(&path, format!("{whole}{cut}")).unwrap();
            let journal = read(&path).unwrap();
            assert_eq!(journal.pairs.len(), 1, "{cut:?}");
            assert_eq!(journal.torn, Some(3));
        }
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(1_764_000_000), "20251124T160000Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
        // Cut inside the header: nothing to undo, said so.
        fs::write(&path, &HEADER[..5]).unwrap();
        let journal = read(&path).unwrap();
        assert!(journal.pairs.is_empty() && journal.torn == Some(1));
        // A damaged line that is not the last is still an error.
        fs::write(&path, format!("{HEADER}\nno tab\n/a\t/b\n")).unwrap();
        assert!(read(&path).is_err());
        fs::write(&path, "not a journal").unwrap();
        assert!(read(&path).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_is_not_read_whole() {
        // `--journal /dev/zero` was read until memory ran out.
        let Err(err) = read(Path::new("/dev/zero")) else {
            panic!("/dev/zero read as a journal");
        };
        assert!(err.to_string().contains("header"), "{err}");
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
