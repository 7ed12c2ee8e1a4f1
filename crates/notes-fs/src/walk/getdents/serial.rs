//! The serial unrestricted walk on Linux, with the fewest system calls: each directory is
//! opened relative to its parent's descriptor (no path lookup from the root) and read with
//! `getdents64` into one reused buffer, without the `fstat` that `opendir` adds. Entries come
//! in walkdir's order (depth first, a directory before its contents, each directory's entries
//! in the order the kernel lists them); links are not followed (walkdir does that walk).

use std::ffi::OsStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, RawDir};

use crate::walk::Warning;

/// Directories this deep or deeper are opened by path and closed once read, so a deep tree
/// never holds more than this many descriptors.
pub(crate) const OPEN_DEPTH: usize = 64;

/// What the walk hands on: an entry (its path, and whether it is a directory) or a warning.
pub(crate) type Visit<'a> = dyn FnMut(Result<(&Path, bool), Warning>) + 'a;

/// One directory being walked: its descriptor (kept to open its subdirectories), its
/// entries, and the next one to report.
struct Frame {
    fd: Option<OwnedFd>,
    depth: usize,
    entries: std::vec::IntoIter<(PathBuf, bool)>,
}

/// Walks everything under `root` (the root itself excluded, descending at most `max_depth`
/// levels), calling `visit` with `Ok((path, is_dir))` in walk order and with a warning for each
/// entry that could not be read.
pub(crate) fn walk(root: &Path, max_depth: Option<usize>, visit: &mut Visit<'_>) {
    if max_depth == Some(0) {
        return;
    }
    let mut buf = vec![MaybeUninit::<u8>::uninit(); 32 * 1024];
    let mut stack = Vec::new();
    // The root is followed if it is a link, as walkdir does.
    match open(None, root, true) {
        Ok(fd) => push(&mut stack, fd, root, 0, &mut buf, visit),
        Err(err) => visit(Err(Warning::from_io(root.to_path_buf(), err))),
    }
    while let Some(frame) = stack.last_mut() {
        let Some((path, is_dir)) = frame.entries.next() else {
            stack.pop();
            continue;
        };
        let depth = frame.depth + 1;
        visit(Ok((&path, is_dir)));
        if !is_dir || max_depth.is_some_and(|m| depth >= m) {
            continue;
        }
        match open(frame.fd.as_ref(), &path, false) {
            Ok(fd) => push(&mut stack, fd, &path, depth, &mut buf, visit),
            Err(err) => visit(Err(Warning::from_io(path, err))),
        }
    }
}

/// Opens directory `path`, relative to its parent's descriptor when there is one.
pub(crate) fn open(parent: Option<&OwnedFd>, path: &Path, follow: bool) -> io::Result<OwnedFd> {
    let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    if !follow {
        // A directory replaced by a link since it was listed is not entered.
        flags |= OFlags::NOFOLLOW;
    }
    let fd = match (parent, path.file_name()) {
        (Some(parent), Some(name)) => rustix::fs::openat(parent, name, flags, Mode::empty()),
        _ => rustix::fs::openat(CWD, path, flags, Mode::empty()),
    };
    Ok(fd?)
}

/// Reads the directory `fd` (at `path`, `depth`) and pushes it as a frame.
fn push(
    stack: &mut Vec<Frame>,
    fd: OwnedFd,
    path: &Path,
    depth: usize,
    buf: &mut [MaybeUninit<u8>],
    visit: &mut Visit<'_>,
) {
    let mut entries = Vec::new();
    let mut dir = RawDir::new(&fd, buf);
    while let Some(next) = dir.next() {
        let raw = match next {
            Ok(raw) => raw,
            Err(err) => {
                visit(Err(Warning::from_io(path.to_path_buf(), err.into())));
                break;
            }
        };
        let name = raw.file_name();
        let bytes = name.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let child = path.join(OsStr::from_bytes(bytes));
        let is_dir = match raw.file_type() {
            FileType::Directory => true,
            // File systems that do not fill in the type: ask, without following links.
            FileType::Unknown => match rustix::fs::statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => FileType::from_raw_mode(stat.st_mode) == FileType::Directory,
                Err(err) => {
                    visit(Err(Warning::from_io(child, err.into())));
                    continue;
                }
            },
            _ => false,
        };
        entries.push((child, is_dir));
    }
    // Below OPEN_DEPTH the descriptor is kept to open the subdirectories relative to it.
    let fd = (depth < OPEN_DEPTH).then_some(fd);
    stack.push(Frame {
        fd,
        depth,
        entries: entries.into_iter(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything walkdir reports without following links, in its order.
    fn walkdir_entries(root: &Path, max_depth: Option<usize>) -> Vec<(PathBuf, bool)> {
        let mut walk = walkdir::WalkDir::new(root).min_depth(1);
        if let Some(m) = max_depth {
            walk = walk.max_depth(m);
        }
        walk.into_iter()
            .map(|e| e.unwrap())
            .map(|e| (e.path().to_path_buf(), e.file_type().is_dir()))
            .collect()
    }

    fn entries(root: &Path, max_depth: Option<usize>) -> Vec<(PathBuf, bool)> {
        let mut got = Vec::new();
        walk(root, max_depth, &mut |step| {
            let (path, is_dir) = step.unwrap();
            got.push((path.to_path_buf(), is_dir));
        });
        got
    }

    #[test]
    fn same_entries_and_order_as_walkdir() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a b/.hidden/deep")).unwrap();
        std::fs::create_dir_all(root.join("c")).unwrap();
        for f in ["x.wav", "a b/y.WAV", "a b/.hidden/deep/z.wav", "c/.dot"] {
            std::fs::write(root.join(f), "").unwrap();
        }
        std::fs::write(root.join(OsStr::from_bytes(b"c/caf\xe9.wav")), "").unwrap();
        // A link to a directory is an entry, not entered; a link to its own ancestor too.
        std::os::unix::fs::symlink(root.join("a b"), root.join("c/link")).unwrap();
        std::os::unix::fs::symlink(root, root.join("c/up")).unwrap();
        // Depth 0 is the root alone, which is not reported (as fd and the ignore walk have it).
        assert_eq!(entries(root, Some(0)), []);
        for max_depth in [None, Some(1), Some(2), Some(3)] {
            let got = entries(root, max_depth);
            assert_eq!(got, walkdir_entries(root, max_depth), "{max_depth:?}");
        }
        assert_eq!(entries(root, None).len(), 11);
    }

    #[test]
    fn deep_trees_do_not_hold_a_descriptor_per_level() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().to_path_buf();
        for _ in 0..OPEN_DEPTH + 20 {
            deep.push("d");
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("leaf.wav"), "").unwrap();
        let got = entries(dir.path(), None);
        assert_eq!(got, walkdir_entries(dir.path(), None));
        assert_eq!(got.last().unwrap().0, deep.join("leaf.wav"));
    }

    #[test]
    fn a_vanished_root_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let mut warnings = Vec::new();
        walk(&gone, None, &mut |step| {
            if let Err(w) = step {
                warnings.push(w);
            }
        });
        assert_eq!(warnings.len(), 1);
        assert!(matches!(warnings[0].problem, crate::Problem::Vanished));
    }
}
