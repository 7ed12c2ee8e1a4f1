//! The one careful writer of the workspace: every file `notes` and its libraries write goes
//! through [`AtomicFile`] (or [`write_file`]).
//!
//! A file appears whole or not at all: the bytes go to a temporary file in the target's
//! directory, are flushed to disk (`fsync`), then the file is put in place and the directory
//! is flushed too. On Linux the temporary file is an `O_TMPFILE`, which has no name until it
//! is linked into place (`linkat`), so a process killed with SIGKILL leaves nothing behind;
//! elsewhere (or on a file system without `O_TMPFILE`) it is a named file `.NAME.notes-tmp-*`,
//! removed when the writer is dropped, whose path [`AtomicFile::temp_path`] gives so a signal
//! handler can remove it too. A new file gets mode `0666` less the umask, as any program's
//! new file; a replaced file keeps its mode. Nothing is replaced unless asked
//! ([`Replace::Allowed`]); without it, a file that exists, even one that appears meanwhile, is
//! an [`io::ErrorKind::AlreadyExists`] error, and the check is the link itself (atomic).
//!
//! A path that is a FIFO or a character device (`/dev/null`, `/dev/stdout`, a named pipe) is
//! written into, as a shell's `>` does, never replaced: nothing is put in its place (it is a
//! stream, not a file, so it is neither atomic nor refused). A directory, a socket or a block
//! device is never replaced, with or without [`Replace::Allowed`].
//!
//! Errors are [`io::Error`]s whose message names the path, so any crate can wrap them in its
//! own error type.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

/// Whether [`AtomicFile`] may replace an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Never: an existing file is an `AlreadyExists` error and is left as it was.
    Never,
    /// Replace it atomically (readers see the old file or the new one), keeping its mode.
    Allowed,
}

impl Replace {
    /// [`Replace::Allowed`] if `force`, else [`Replace::Never`].
    pub fn from_force(force: bool) -> Self {
        if force { Self::Allowed } else { Self::Never }
    }
}

/// A file being written, invisible at its path until [`commit`](Self::commit).
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use std::io::Write;
/// use notes_fs::{AtomicFile, Replace};
/// let path = dir.path().join("out.txt");
/// let mut file = AtomicFile::create(&path, Replace::Never)?;
/// let mut rival = AtomicFile::create(&path, Replace::Never)?;
/// file.write_all(b"hello")?;
/// assert!(!path.exists()); // not there until committed
/// file.commit()?;
/// assert_eq!(std::fs::read(&path)?, b"hello");
/// // The rival, started before the file existed, is refused at its commit: nothing replaced.
/// rival.write_all(b"other")?;
/// assert_eq!(rival.commit().unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
/// assert_eq!(std::fs::read(&path)?, b"hello");
/// // Now that it exists, a new writer is refused at once.
/// assert!(AtomicFile::create(&path, Replace::Never).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    dir: PathBuf,
    replace: Replace,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// An unnamed `O_TMPFILE` (Linux).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Unnamed(fs::File),
    /// A named temporary file, removed on drop.
    Named(tempfile::NamedTempFile),
    /// A FIFO or character device, written into directly.
    Stream(fs::File),
}

/// What a writer does with what is at a path.
enum Existing {
    /// Nothing there, a regular file or a link to one, or a dangling link.
    File(Option<fs::Metadata>),
    /// A FIFO or character device: written into.
    Stream,
    /// Never replaced: what it is.
    Refused(&'static str),
}

fn existing(path: &Path) -> Existing {
    let Ok(meta) = fs::metadata(path) else {
        return Existing::File(None);
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return Existing::File(Some(meta));
    }
    if kind.is_dir() {
        return Existing::Refused("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() || kind.is_char_device() {
            return Existing::Stream;
        }
        if kind.is_block_device() {
            return Existing::Refused("a block device");
        }
        if kind.is_socket() {
            return Existing::Refused("a socket");
        }
    }
    Existing::Refused("not a regular file")
}

/// Whether `path` is a FIFO or a character device (`/dev/null`, `/dev/stdout`), which
/// [`AtomicFile`] writes into instead of replacing: a command that refuses to replace an
/// existing file need not refuse it.
pub fn is_stream(path: &Path) -> bool {
    matches!(existing(path), Existing::Stream)
}

/// An error naming `path`, of the kind of `err`.
fn named(action: &str, path: &Path, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot {action} {}: {err}", crate::Escaped(path)),
    )
}

impl AtomicFile {
    /// Starts writing `path`. With [`Replace::Never`], an existing `path` is refused at once
    /// (and again, atomically, at [`commit`](Self::commit)).
    pub fn create(path: &Path, replace: Replace) -> io::Result<Self> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if path.file_name().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file name", crate::Escaped(path)),
            ));
        }
        let existing = match existing(path) {
            Existing::File(meta) => meta,
            Existing::Stream => {
                let stream = fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| named("write to", path, e))?;
                return Ok(Self {
                    path: path.to_path_buf(),
                    dir,
                    replace,
                    inner: Inner::Stream(stream),
                });
            }
            Existing::Refused(what) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is {what}, not a file: it is never replaced",
                        crate::Escaped(path)
                    ),
                ));
            }
        };
        if replace == Replace::Never && fs::symlink_metadata(path).is_ok() {
            return Err(already_exists(path));
        }
        let inner = Self::temporary(&dir, path)?;
        let file = Self {
            path: path.to_path_buf(),
            dir,
            replace,
            inner,
        };
        if let Some(meta) = existing.filter(|m| m.is_file()) {
            // A replaced file keeps its permissions, as an editor's save does.
            file.as_file()
                .set_permissions(meta.permissions())
                .map_err(|e| named("set the permissions of the new", path, e))?;
        }
        Ok(file)
    }

    fn temporary(dir: &Path, path: &Path) -> io::Result<Inner> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::{CWD, Mode, OFlags};
            let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
            match rustix::fs::openat(CWD, dir, flags, Mode::from_raw_mode(0o666)) {
                Ok(fd) => return Ok(Inner::Unnamed(fs::File::from(fd))),
                // A file system (or kernel) without O_TMPFILE: a named file below.
                Err(
                    rustix::io::Errno::OPNOTSUPP
                    | rustix::io::Errno::ISDIR
                    | rustix::io::Errno::INVAL
                    | rustix::io::Errno::NOSYS,
                ) => {}
                Err(e) => return Err(named("create a temporary file in", dir, e.into())),
            }
        }
        let mut builder = tempfile::Builder::new();
        let mut prefix = OsString::from(".");
        prefix.push(path.file_name().unwrap_or_default());
        prefix.push(".notes-tmp-");
        builder.prefix(&prefix);
        // As any new file: 0666 less the umask (tempfile's own default is 0600).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = builder
            .tempfile_in(dir)
            .map_err(|e| named("create a temporary file in", dir, e))?;
        Ok(Inner::Named(tmp))
    }

    /// The file being written.
    pub fn as_file(&self) -> &fs::File {
        match &self.inner {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Inner::Unnamed(file) => file,
            Inner::Named(tmp) => tmp.as_file(),
            Inner::Stream(file) => file,
        }
    }

    /// The temporary file's path while it has one (never on Linux with `O_TMPFILE`): what a
    /// signal handler should remove if the process is interrupted before the commit.
    pub fn temp_path(&self) -> Option<&Path> {
        match &self.inner {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Inner::Unnamed(_) => None,
            Inner::Named(tmp) => Some(tmp.path()),
            Inner::Stream(_) => None,
        }
    }

    /// Flushes the file to disk and puts it in place at its path, then flushes the directory.
    pub fn commit(self) -> io::Result<()> {
        let path = &self.path;
        if let Inner::Stream(_) = self.inner {
            // Written as it went; a FIFO or device has nothing to sync or link.
            return Ok(());
        }
        self.as_file()
            .sync_all()
            .map_err(|e| named("write", path, e))?;
        match self.inner {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Inner::Unnamed(file) => link_unnamed(&file, &self.dir, path, self.replace)?,
            Inner::Stream(_) => {}
            Inner::Named(tmp) => {
                let persisted = match self.replace {
                    Replace::Allowed => tmp.persist(path),
                    Replace::Never => tmp.persist_noclobber(path),
                };
                persisted.map_err(|e| {
                    if e.error.kind() == io::ErrorKind::AlreadyExists {
                        already_exists(path)
                    } else {
                        named("move the finished file into place as", path, e.error)
                    }
                })?;
            }
        }
        sync_dir(&self.dir);
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut file = self.as_file();
        file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut file = self.as_file();
        file.write_all(buf)
            .map_err(|e| named("write", &self.path, e))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Formats that go back to patch what they wrote (a zip archive's headers) can seek in the
/// temporary file; nothing is visible at the path until [`AtomicFile::commit`].
impl Seek for AtomicFile {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let mut file = self.as_file();
        file.seek(pos)
    }
}

/// The error for a file that exists and may not be replaced.
fn already_exists(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} already exists", crate::Escaped(path)),
    )
}

/// Links the unnamed `file` into `dir` as `path`: directly when nothing may be replaced
/// (`linkat` fails if the name exists), else under a temporary name then renamed over it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn link_unnamed(file: &fs::File, dir: &Path, path: &Path, replace: Replace) -> io::Result<()> {
    let name = path.file_name().unwrap_or_default();
    let link = |to: &Path| -> io::Result<()> {
        use rustix::fs::{AtFlags, CWD};
        // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH on older kernels; /proc works for anyone.
        match rustix::fs::linkat(file, "", CWD, to, AtFlags::EMPTY_PATH) {
            Ok(()) => Ok(()),
            Err(rustix::io::Errno::EXIST) => Err(already_exists(path)),
            Err(_) => {
                use std::os::fd::AsRawFd;
                let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
                match rustix::fs::linkat(CWD, proc.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW) {
                    Ok(()) => Ok(()),
                    Err(rustix::io::Errno::EXIST) => Err(already_exists(path)),
                    Err(e) => Err(named(
                        "link the finished file into place as",
                        path,
                        e.into(),
                    )),
                }
            }
        }
    };
    match replace {
        Replace::Never => link(path),
        Replace::Allowed => {
            // A name of its own for a moment, then renamed over the old file (atomic).
            for attempt in 0..100u32 {
                let mut tmp = OsString::from(".");
                tmp.push(name);
                tmp.push(format!(
                    ".notes-tmp-{}-{attempt}-{}",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos())
                ));
                let tmp = dir.join(tmp);
                match link(&tmp) {
                    Ok(()) => {
                        return fs::rename(&tmp, path).map_err(|e| {
                            let _ = fs::remove_file(&tmp);
                            named("replace", path, e)
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
            }
            Err(named(
                "find a free temporary name beside",
                path,
                io::Error::from(io::ErrorKind::AlreadyExists),
            ))
        }
    }
}

/// Flushes `dir`'s entries to disk (so the new name survives a crash); best effort, as some
/// systems cannot open a directory for that.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `path` atomically with `write`, through an [`AtomicFile`] and a buffer: the whole
/// file or nothing, never over an existing file unless `replace` is [`Replace::Allowed`].
pub fn write_file(
    path: &Path,
    replace: Replace,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut file = AtomicFile::create(path, replace)?;
    {
        let mut buffered = io::BufWriter::with_capacity(1 << 16, &mut file);
        write(&mut buffered).map_err(|e| named("write", path, e))?;
        buffered.flush().map_err(|e| named("write", path, e))?;
    }
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn writes_whole_files_and_never_replaces_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_file(&path, Replace::Never, |w| w.write_all(b"one")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        let err = write_file(&path, Replace::Never, |w| w.write_all(b"two")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_file(&path, Replace::Allowed, |w| w.write_all(b"three")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        // A failed write leaves the old file and no temporary file.
        let failed = write_file(&path, Replace::Allowed, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"three");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_that_appears_meanwhile_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut file = AtomicFile::create(&path, Replace::Never).unwrap();
        file.write_all(b"mine").unwrap();
        fs::write(&path, "theirs").unwrap();
        assert_eq!(
            file.commit().unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(fs::read(&path).unwrap(), b"theirs");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn on_linux_the_temporary_file_has_no_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = AtomicFile::create(&dir.path().join("f"), Replace::Never).unwrap();
        // tmpfs and ext4 have O_TMPFILE; the test directory is on one of them.
        assert!(file.temp_path().is_none());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_follow_the_umask_and_replaced_ones_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_file(&path, Replace::Never, |w| w.write_all(b"x")).unwrap();
        // What any new file gets: 0666 less the umask (not tempfile's 0600).
        let plain = dir.path().join("plain");
        fs::write(&plain, "").unwrap();
        assert_eq!(mode(&path), mode(&plain));
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&path, Replace::Allowed, |w| w.write_all(b"y")).unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_written_into_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        // `--force` onto /dev/null renamed a regular file over the device node.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_file(&fifo, Replace::Allowed, |w| w.write_all(b"through")).unwrap();
        assert_eq!(reader.join().unwrap(), b"through");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert!(is_stream(&fifo) && is_stream(Path::new("/dev/null")));
        write_file(Path::new("/dev/null"), Replace::Never, |w| {
            w.write_all(b"x")
        })
        .unwrap();
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        // A directory is never replaced, even when allowed.
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let err = write_file(&sub, Replace::Allowed, |w| w.write_all(b"x")).unwrap_err();
        assert!(
            err.to_string().contains("is a directory, not a file"),
            "{err}"
        );
        assert!(sub.is_dir() && !is_stream(&sub) && !is_stream(&dir.path().join("none")));
    }
}
