//! Acting inside a planned tree through directory handles, never through a path string
//! resolved again from the root: the defence against the race of CVE-2022-21658, where a
//! directory swapped for a link between the plan and the apply made a delete reach outside.
//!
//! A [`Cursor`] holds the chain of open directories from the root to the directory being
//! worked in. Each directory below the root is opened relative to its parent's handle with
//! `O_NOFOLLOW | O_DIRECTORY` (on Linux `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`
//! when the kernel has it, `openat` otherwise), and its identity (device, inode) must be the
//! one the plan recorded: a link, or another directory put in its place, is refused, and the
//! caller skips its subtree. The file itself is then unlinked or renamed relative to that
//! handle (`unlinkat`, `renameat2`), after its own identity is checked.
//!
//! Elsewhere than Unix the same checks are made on paths just before each step (best effort:
//! a swap in the instant between check and act is not excluded; see docs/delete-files.md).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The identity of a file: its device and inode (on Unix), so a replaced entry is told apart
/// from the one that was planned even under the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Id {
    dev: u64,
    ino: u64,
}

impl Id {
    /// The identity in `meta` (of the entry itself, when it came from `symlink_metadata`).
    #[cfg(unix)]
    pub(crate) fn of(meta: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Elsewhere there is no portable inode: every entry has the same identity, and only the
    /// kind of entry (directory, not a link) is checked.
    #[cfg(not(unix))]
    pub(crate) fn of(_: &fs::Metadata) -> Self {
        Self { dev: 0, ino: 0 }
    }

    #[cfg(unix)]
    // `st_dev` and `st_ino` are `u64` on Linux, narrower elsewhere.
    #[allow(clippy::unnecessary_cast)]
    fn of_stat(stat: &rustix::fs::Stat) -> Self {
        Self {
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
        }
    }
}

/// Why a step inside the tree was not taken.
#[derive(Debug)]
pub(crate) enum Refused {
    /// `path` (a directory on the way, or the entry itself) is not what the plan saw: a link
    /// now, another file, or gone. Its subtree is skipped.
    Changed(PathBuf),
    /// An operating-system call on `path` failed.
    Io(PathBuf, io::Error),
}

/// The directories of a plan, by path as walked, with their identities.
pub(crate) type Dirs = HashMap<PathBuf, Id>;

/// The chain of verified open directories from the root to the current one.
pub(crate) struct Cursor<'a> {
    dirs: &'a Dirs,
    #[cfg(unix)]
    stack: Vec<(PathBuf, std::os::fd::OwnedFd)>,
    #[cfg(not(unix))]
    stack: Vec<PathBuf>,
    /// Directories found changed: everything below them is refused without another look.
    changed: HashSet<PathBuf>,
}

impl<'a> Cursor<'a> {
    /// Opens `root` (following it if it is a link: the user named it) and checks it is the
    /// directory the plan walked.
    pub(crate) fn new(root: &Path, dirs: &'a Dirs) -> Result<Self, Refused> {
        let want = *dirs
            .get(root)
            .ok_or_else(|| Refused::Changed(root.to_path_buf()))?;
        #[cfg(unix)]
        {
            use rustix::fs::{CWD, Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(CWD, root, flags, Mode::empty())
                .map_err(|e| Refused::Io(root.to_path_buf(), e.into()))?;
            let stat =
                rustix::fs::fstat(&fd).map_err(|e| Refused::Io(root.to_path_buf(), e.into()))?;
            if Id::of_stat(&stat) != want {
                return Err(Refused::Changed(root.to_path_buf()));
            }
            Ok(Self {
                dirs,
                stack: vec![(root.to_path_buf(), fd)],
                changed: HashSet::new(),
            })
        }
        #[cfg(not(unix))]
        {
            let meta = fs::metadata(root).map_err(|e| Refused::Io(root.to_path_buf(), e))?;
            if !meta.is_dir() || Id::of(&meta) != want {
                return Err(Refused::Changed(root.to_path_buf()));
            }
            Ok(Self {
                dirs,
                stack: vec![root.to_path_buf()],
                changed: HashSet::new(),
            })
        }
    }

    /// The top of the stack's path.
    fn top(&self) -> &Path {
        #[cfg(unix)]
        return &self.stack[self.stack.len() - 1].0;
        #[cfg(not(unix))]
        return &self.stack[self.stack.len() - 1];
    }

    /// Moves the cursor to directory `dir` (a planned directory at or below the root),
    /// opening and checking each directory on the way down.
    fn enter(&mut self, dir: &Path) -> Result<(), Refused> {
        // Anything below a directory already found changed is refused at once.
        for ancestor in dir.ancestors() {
            if self.changed.contains(ancestor) {
                return Err(Refused::Changed(ancestor.to_path_buf()));
            }
        }
        while self.stack.len() > 1 && !dir.starts_with(self.top()) {
            self.stack.pop();
        }
        let rel = dir
            .strip_prefix(self.top())
            .map_err(|_| Refused::Changed(dir.to_path_buf()))?
            .to_path_buf();
        for component in rel.components() {
            let std::path::Component::Normal(name) = component else {
                return Err(Refused::Changed(dir.to_path_buf()));
            };
            let path = self.top().join(name);
            let Some(&want) = self.dirs.get(&path) else {
                // Not a directory of the plan: nothing of the plan can be below it.
                return Err(Refused::Changed(path));
            };
            match self.open_child(name, &path, want) {
                Ok(()) => {}
                Err(Refused::Changed(path)) => {
                    self.changed.insert(path.clone());
                    return Err(Refused::Changed(path));
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    #[cfg(unix)]
    fn open_child(&mut self, name: &std::ffi::OsStr, path: &Path, want: Id) -> Result<(), Refused> {
        let parent = &self.stack[self.stack.len() - 1].1;
        let fd = match open_dir_beneath(parent, name) {
            Ok(fd) => fd,
            // A link (ELOOP), a file (ENOTDIR), gone (ENOENT), or refused by openat2 (EXDEV).
            Err(e)
                if [
                    rustix::io::Errno::LOOP,
                    rustix::io::Errno::NOTDIR,
                    rustix::io::Errno::NOENT,
                    rustix::io::Errno::XDEV,
                ]
                .contains(&e) =>
            {
                return Err(Refused::Changed(path.to_path_buf()));
            }
            Err(e) => return Err(Refused::Io(path.to_path_buf(), e.into())),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| Refused::Io(path.to_path_buf(), e.into()))?;
        if Id::of_stat(&stat) != want {
            return Err(Refused::Changed(path.to_path_buf()));
        }
        self.stack.push((path.to_path_buf(), fd));
        Ok(())
    }

    #[cfg(not(unix))]
    fn open_child(
        &mut self,
        _name: &std::ffi::OsStr,
        path: &Path,
        want: Id,
    ) -> Result<(), Refused> {
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() && Id::of(&meta) == want => {
                self.stack.push(path.to_path_buf());
                Ok(())
            }
            Ok(_) => Err(Refused::Changed(path.to_path_buf())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(Refused::Changed(path.to_path_buf()))
            }
            Err(e) => Err(Refused::Io(path.to_path_buf(), e)),
        }
    }

    /// Checks that `path`'s directory is the planned one and that `path` itself is the
    /// planned entry (`want`, links not followed); then returns a handle to act on it.
    pub(crate) fn entry<'c>(&'c mut self, path: &Path, want: Id) -> Result<Entry<'c>, Refused> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(Refused::Changed(path.to_path_buf()));
        };
        self.enter(parent)?;
        let entry = Entry {
            #[cfg(unix)]
            dir: std::os::fd::AsFd::as_fd(&self.stack[self.stack.len() - 1].1),
            #[cfg(not(unix))]
            dir: std::marker::PhantomData,
            name: name.to_owned(),
            path: path.to_path_buf(),
        };
        match entry.identity() {
            Ok(Some(id)) if id == want => Ok(entry),
            Ok(_) => Err(Refused::Changed(path.to_path_buf())),
            Err(e) => Err(Refused::Io(path.to_path_buf(), e)),
        }
    }

    /// Forgets every open handle at or below `dir` (it was just renamed).
    pub(crate) fn forget(&mut self, dir: &Path) {
        while self.stack.len() > 1 && self.top().starts_with(dir) {
            self.stack.pop();
        }
    }
}

/// A directory opened by its path (for [`undo`](crate::undo), which has only the journal's
/// paths), to act on its entries by name.
pub(crate) struct Dir {
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
    #[cfg(not(unix))]
    path: PathBuf,
}

impl Dir {
    /// Opens directory `path`.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let path = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        #[cfg(unix)]
        {
            use rustix::fs::{CWD, Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            Ok(Self {
                fd: rustix::fs::openat(CWD, path, flags, Mode::empty())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {
                path: path.to_path_buf(),
            })
        }
    }

    /// Opens directory `path` below `root` (the tree a journal records): `root` is followed if
    /// it is a link (the user named it), every directory below it is opened relative to its
    /// parent's handle without following links, as a plan's apply does. A directory on the way
    /// that is now a link (to elsewhere, say) or not a directory is refused
    /// ([`io::ErrorKind::InvalidInput`], naming it), so an undo never acts outside the tree.
    pub(crate) fn open_beneath(root: &Path, path: &Path) -> io::Result<Self> {
        let refused = |what: &Path, why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} {why}", crate::Escaped(what)),
            )
        };
        let rel = path
            .strip_prefix(root)
            .map_err(|_| refused(path, "is not inside the journal's tree"))?;
        #[cfg(unix)]
        {
            let mut dir = Self::open(root)?;
            let mut at = root.to_path_buf();
            for component in rel.components() {
                let std::path::Component::Normal(name) = component else {
                    return Err(refused(
                        path,
                        "is not a plain path below the journal's tree",
                    ));
                };
                at.push(name);
                dir.fd = match open_dir_beneath(&dir.fd, name) {
                    Ok(fd) => fd,
                    Err(
                        rustix::io::Errno::LOOP
                        | rustix::io::Errno::NOTDIR
                        | rustix::io::Errno::XDEV,
                    ) => {
                        return Err(refused(
                            &at,
                            "is now a link or not a directory: refused, so nothing outside the tree is renamed",
                        ));
                    }
                    Err(e) => return Err(e.into()),
                };
            }
            Ok(dir)
        }
        #[cfg(not(unix))]
        {
            // Best effort elsewhere: each directory on the way is checked, then opened by path.
            let mut at = root.to_path_buf();
            for component in rel.components() {
                at.push(component);
                if fs::symlink_metadata(&at)?.file_type().is_symlink() {
                    return Err(refused(&at, "is now a link: refused"));
                }
            }
            Self::open(path)
        }
    }

    /// The entry `name` of the directory (which need not exist).
    pub(crate) fn entry(&self, name: &std::ffi::OsStr) -> Entry<'_> {
        Entry {
            #[cfg(unix)]
            dir: std::os::fd::AsFd::as_fd(&self.fd),
            #[cfg(not(unix))]
            dir: std::marker::PhantomData,
            name: name.to_owned(),
            #[cfg(unix)]
            path: PathBuf::from(name),
            #[cfg(not(unix))]
            path: self.path.join(name),
        }
    }
}

/// An entry in a verified directory, named relative to that directory's handle.
pub(crate) struct Entry<'c> {
    #[cfg(unix)]
    dir: std::os::fd::BorrowedFd<'c>,
    #[cfg(not(unix))]
    dir: std::marker::PhantomData<&'c ()>,
    name: std::ffi::OsString,
    path: PathBuf,
}

impl Entry<'_> {
    #[cfg(unix)]
    fn dir(&self) -> std::os::fd::BorrowedFd<'_> {
        self.dir
    }

    /// The identity of `name` in the directory (links not followed), `None` if there is none.
    fn identity_of(&self, name: &std::ffi::OsStr) -> io::Result<Option<Id>> {
        #[cfg(unix)]
        {
            match rustix::fs::statat(self.dir(), name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => Ok(Some(Id::of_stat(&stat))),
                Err(rustix::io::Errno::NOENT) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        #[cfg(not(unix))]
        {
            match fs::symlink_metadata(self.path.with_file_name(name)) {
                Ok(meta) => Ok(Some(Id::of(&meta))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        }
    }

    /// The entry's identity (links not followed), `None` if it does not exist.
    pub(crate) fn identity(&self) -> io::Result<Option<Id>> {
        self.identity_of(&self.name)
    }

    /// The entry's path as planned.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Unlinks the entry (a file or a link; never a directory).
    pub(crate) fn unlink(&self) -> io::Result<()> {
        #[cfg(unix)]
        return Ok(rustix::fs::unlinkat(
            self.dir(),
            &self.name,
            rustix::fs::AtFlags::empty(),
        )?);
        #[cfg(not(unix))]
        return fs::remove_file(&self.path);
    }

    /// True if `name` exists in the directory and is not this entry (a case-insensitive file
    /// system finds the entry itself under a case-only new name: that is not taken).
    pub(crate) fn taken(&self, name: &std::ffi::OsStr) -> io::Result<bool> {
        match self.identity_of(name)? {
            None => Ok(false),
            Some(other) => Ok(Some(other) != self.identity()?),
        }
    }

    /// Renames the entry to `name` in the same directory, never replacing an entry there,
    /// even one that appeared since the check: `renameat2(RENAME_NOREPLACE)` (Linux) or
    /// `renameatx_np(RENAME_EXCL)` (macOS); where the system lacks both, a hard link (which
    /// fails if the name exists) then the unlink of the old name; for a directory there, a
    /// check then a plain rename.
    pub(crate) fn rename_no_replace(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        let mine = self.identity()?;
        match self.identity_of(name)? {
            None => {}
            // A case-only rename on a case-insensitive file system: the name is this entry.
            Some(other) if Some(other) == mine => return self.rename_plain(name),
            Some(_) => return Err(io::Error::from(io::ErrorKind::AlreadyExists)),
        }
        #[cfg(unix)]
        {
            let dir = self.dir();
            #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
            {
                use rustix::fs::{RenameFlags, renameat_with};
                use rustix::io::Errno;
                match renameat_with(dir, &self.name, dir, name, RenameFlags::NOREPLACE) {
                    Ok(()) => return Ok(()),
                    // An old kernel, a seccomp filter or a file system without the flag.
                    Err(e)
                        if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP, Errno::OPNOTSUPP]
                            .contains(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let flags = rustix::fs::AtFlags::empty();
            match rustix::fs::linkat(dir, &self.name, dir, name, flags) {
                Ok(()) => {
                    return rustix::fs::unlinkat(dir, &self.name, flags).map_err(|err| {
                        // Both names point at the file: drop the new one so nothing changed.
                        let _ = rustix::fs::unlinkat(dir, name, flags);
                        err.into()
                    });
                }
                Err(rustix::io::Errno::EXIST) => {
                    return Err(io::Error::from(io::ErrorKind::AlreadyExists));
                }
                Err(_) => {}
            }
        }
        self.rename_plain(name)
    }

    /// A rename that replaces: only after the checks above.
    fn rename_plain(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        #[cfg(unix)]
        return Ok(rustix::fs::renameat(
            self.dir(),
            &self.name,
            self.dir(),
            name,
        )?);
        #[cfg(not(unix))]
        return fs::rename(&self.path, self.path.with_file_name(name));
    }
}

/// Opens directory `name` in `parent`, refusing a link: `openat2` with `RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS` where the kernel has it (Linux 5.6), `openat` with `O_NOFOLLOW`
/// otherwise (the same guarantee for a single name; the flag also refuses `..`).
#[cfg(unix)]
fn open_dir_beneath(
    parent: &std::os::fd::OwnedFd,
    name: &std::ffi::OsStr,
) -> rustix::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        static NO_OPENAT2: AtomicBool = AtomicBool::new(false);
        if !NO_OPENAT2.load(Ordering::Relaxed) {
            use rustix::fs::ResolveFlags;
            let resolve =
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            match rustix::fs::openat2(parent, name, flags, Mode::empty(), resolve) {
                // A kernel before 5.6, or a seccomp filter that does not know the call.
                Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {
                    NO_OPENAT2.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
    }
    rustix::fs::openat(parent, name, flags, Mode::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_replace_renames_never_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let at = |name: &str| tmp.path().join(name);
        fs::write(at("a"), "a").unwrap();
        fs::write(at("b"), "b").unwrap();
        let dir = Dir::open(tmp.path()).unwrap();
        let a = dir.entry("a".as_ref());
        let err = a.rename_no_replace("b".as_ref()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(at("a")).unwrap(), "a");
        assert_eq!(fs::read_to_string(at("b")).unwrap(), "b");
        a.rename_no_replace("c".as_ref()).unwrap();
        assert!(!at("a").exists() && fs::read_to_string(at("c")).unwrap() == "a");
        // Directories too.
        fs::create_dir(at("d")).unwrap();
        dir.entry("d".as_ref())
            .rename_no_replace("e".as_ref())
            .unwrap();
        assert!(at("e").is_dir());
        let err = dir
            .entry("e".as_ref())
            .rename_no_replace("b".as_ref())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_swapped_for_a_link_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(root.join("sub/f"), "").unwrap();
        fs::write(outside.join("f"), "").unwrap();
        let mut dirs = Dirs::new();
        for d in [&root, &root.join("sub")] {
            dirs.insert(d.clone(), Id::of(&fs::symlink_metadata(d).unwrap()));
        }
        let file = Id::of(&fs::symlink_metadata(root.join("sub/f")).unwrap());
        fs::rename(root.join("sub"), tmp.path().join("moved")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("sub")).unwrap();
        let mut cursor = Cursor::new(&root, &dirs).unwrap();
        assert!(matches!(
            cursor.entry(&root.join("sub/f"), file),
            Err(Refused::Changed(p)) if p == root.join("sub")
        ));
        // Another real directory in its place is refused too.
        fs::remove_file(root.join("sub")).unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("sub/f"), "").unwrap();
        let mut cursor = Cursor::new(&root, &dirs).unwrap();
        assert!(cursor.entry(&root.join("sub/f"), file).is_err());
        assert!(outside.join("f").exists());
    }
}
