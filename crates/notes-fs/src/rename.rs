//! Bulk renames that are planned and validated before anything is touched, applied deepest
//! first with a journal, and undone from that journal.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::walk::{Warning, walk_all};
use crate::{Error, Result, journal};

/// How a name changes: each `(from, to)` replacement in order, then optional lowercasing
/// (Unicode, like Python's `str.lower`). Bytes that are not UTF-8 are kept as they are.
///
/// The default is the notes' rule: names containing a space get `' '` → `'_'` and lowercase.
///
/// ```
/// use std::ffi::OsStr;
/// let rule = notes_fs::RenameRule::default();
/// assert_eq!(rule.rename(OsStr::new("My File.TXT")).unwrap(), "my_file.txt");
/// assert_eq!(rule.rename(OsStr::new("NoSpace.TXT")), None);
/// let all = notes_fs::RenameRule { all: true, ..Default::default() };
/// assert_eq!(all.rename(OsStr::new("NoSpace.TXT")).unwrap(), "nospace.txt");
/// ```
#[derive(Debug, Clone)]
pub struct RenameRule {
    /// Replacements applied in order, each to every occurrence.
    pub replace: Vec<(String, String)>,
    /// Lowercase the name after the replacements.
    pub lowercase: bool,
    /// Apply the rule to every name; otherwise (the notes' behaviour) only to names that
    /// contain one of the `replace` sources.
    pub all: bool,
}

impl Default for RenameRule {
    fn default() -> Self {
        Self {
            replace: vec![(" ".to_owned(), "_".to_owned())],
            lowercase: true,
            all: false,
        }
    }
}

impl RenameRule {
    /// The new name for `name`, or `None` if the rule leaves it alone or does not change it.
    pub fn rename(&self, name: &OsStr) -> Option<OsString> {
        let bytes = name.as_encoded_bytes();
        let selected = self.all
            || self.replace.iter().any(|(from, _)| {
                !from.is_empty() && bytes.windows(from.len()).any(|w| w == from.as_bytes())
            });
        if !selected {
            return None;
        }
        let mut new = Vec::with_capacity(bytes.len());
        for chunk in bytes.utf8_chunks() {
            let mut text = chunk.valid().to_owned();
            for (from, to) in &self.replace {
                if !from.is_empty() {
                    text = text.replace(from.as_str(), to);
                }
            }
            if self.lowercase {
                text = text.to_lowercase();
            }
            new.extend_from_slice(text.as_bytes());
            new.extend_from_slice(chunk.invalid());
        }
        if new == bytes {
            return None;
        }
        bytes_to_os(new)
    }
}

#[cfg(unix)]
fn bytes_to_os(bytes: Vec<u8>) -> Option<OsString> {
    use std::os::unix::ffi::OsStringExt;
    Some(OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn bytes_to_os(bytes: Vec<u8>) -> Option<OsString> {
    // Elsewhere a name that is not Unicode is left alone.
    String::from_utf8(bytes).ok().map(OsString::from)
}

/// Options of [`RenamePlan::new`].
#[derive(Debug, Clone, Default)]
pub struct RenameOptions {
    /// How names change.
    pub rule: RenameRule,
    /// Rename directories too (files only by default).
    pub dirs: bool,
}

/// One planned rename, in the tree as it was when planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The current path.
    pub from: PathBuf,
    /// The new path (same directory, new name).
    pub to: PathBuf,
    /// Whether this rename is part of a [`Conflict`]; such a rename is never applied.
    pub conflicted: bool,
}

/// Why part of a plan cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conflict {
    /// Several sources would get the same name (`A B.txt` and `a b.txt` → `a_b.txt`).
    SameTarget {
        /// The shared new path.
        target: PathBuf,
        /// Every source that maps to it.
        sources: Vec<PathBuf>,
    },
    /// The new path already exists and is another file (checked by the file system, so a
    /// case-only difference counts on a case-insensitive one).
    TargetExists {
        /// The source.
        from: PathBuf,
        /// The existing path.
        to: PathBuf,
    },
    /// The rule produces a name that cannot be a file name.
    InvalidName {
        /// The source.
        from: PathBuf,
        /// The name produced.
        name: OsString,
        /// What is wrong with it.
        why: &'static str,
    },
}

impl std::fmt::Display for Conflict {
    /// Paths are quoted as [`Escaped`](crate::Escaped)'s alternate form shows them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::Escaped;
        match self {
            Conflict::SameTarget { target, sources } => {
                for (i, source) in sources.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{:#}", Escaped(source))?;
                }
                write!(f, " would all become {:#}", Escaped(target))
            }
            Conflict::TargetExists { from, to } => write!(
                f,
                "{:#} would replace the existing {:#}",
                Escaped(from),
                Escaped(to)
            ),
            Conflict::InvalidName { from, name, why } => write!(
                f,
                "{:#} would be named {:#}, which {why}",
                Escaped(from),
                Escaped(Path::new(name))
            ),
        }
    }
}

/// Every rename under a root, computed and validated before anything is touched.
///
/// The walk is the notes' (hidden entries included, ignore files not read), except that
/// `.git` is skipped by path component (not by substring: `not.github/` is renamed) and
/// symbolic links are renamed as links, never followed.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let root = dir.path();
/// for f in ["A B.txt", "a b.txt", "My Song.WAV"] {
///     std::fs::write(root.join(f), f)?;
/// }
/// let plan = notes_fs::RenamePlan::new(root, &Default::default())?;
/// assert_eq!(plan.conflicts().len(), 1); // A B.txt and a b.txt both want a_b.txt
/// let journal = dir.path().join("journal");
/// assert!(plan.apply(&journal, false).is_err()); // nothing is renamed
/// let done = plan.apply(&journal, true)?; // the conflicting pair keeps its names
/// assert_eq!(done.renamed, 1);
/// assert!(root.join("my_song.wav").exists());
/// notes_fs::undo(&journal)?;
/// assert!(root.join("My Song.WAV").exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RenamePlan {
    renames: Vec<Rename>,
    conflicts: Vec<Conflict>,
    warnings: Vec<Warning>,
    depths: Vec<usize>,
}

/// What [`RenamePlan::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Renames done (each recorded in the journal).
    pub renamed: usize,
    /// Conflicting renames left out.
    pub skipped: usize,
}

impl RenamePlan {
    /// Walks `root` and plans every rename that `options` asks for, with its conflicts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn new(root: &Path, options: &RenameOptions) -> Result<Self> {
        let mut warnings = Vec::new();
        let entries = walk_all(root, &mut warnings)?;
        let mut renames = Vec::new();
        let mut depths = Vec::new();
        let mut conflicts = Vec::new();
        let mut invalid = Vec::new();
        for entry in &entries {
            if entry.is_dir && !options.dirs {
                continue;
            }
            let Some(name) = entry.path.file_name() else {
                continue;
            };
            let Some(new) = options.rule.rename(name) else {
                continue;
            };
            if let Some(why) = invalid_name(&new) {
                invalid.push(renames.len());
                conflicts.push(Conflict::InvalidName {
                    from: entry.path.clone(),
                    name: new.clone(),
                    why,
                });
            }
            renames.push(Rename {
                to: entry.path.with_file_name(&new),
                from: entry.path.clone(),
                conflicted: false,
            });
            depths.push(entry.depth);
        }
        for i in invalid {
            renames[i].conflicted = true;
        }
        // Sorted by path, so plans print the same on every file system.
        let mut order: Vec<usize> = (0..renames.len()).collect();
        order.sort_by(|&a, &b| renames[a].from.cmp(&renames[b].from));
        let mut renames: Vec<Rename> = order.iter().map(|&i| renames[i].clone()).collect();
        let depths: Vec<usize> = order.iter().map(|&i| depths[i]).collect();
        // An invalid new name (empty, `..`, ...) is one conflict, already reported: its
        // target is not a real path, so it takes part in no other check.
        let invalid: Vec<bool> = renames.iter().map(|r| r.conflicted).collect();

        let fold = entries
            .iter()
            .find_map(|e| is_case_insensitive(&e.path))
            .unwrap_or(false);
        // Two sources onto one target (compared case-insensitively where the file system is).
        let mut by_target: HashMap<OsString, Vec<usize>> = HashMap::new();
        for (i, r) in renames.iter().enumerate() {
            if invalid[i] {
                continue;
            }
            let key = if fold {
                OsString::from(r.to.as_os_str().to_string_lossy().to_lowercase())
            } else {
                r.to.clone().into_os_string()
            };
            by_target.entry(key).or_default().push(i);
        }
        let mut groups: Vec<Vec<usize>> = by_target.into_values().filter(|g| g.len() > 1).collect();
        groups.sort();
        for group in groups {
            for &i in &group {
                renames[i].conflicted = true;
            }
            conflicts.push(Conflict::SameTarget {
                target: renames[group[0]].to.clone(),
                sources: group.iter().map(|&i| renames[i].from.clone()).collect(),
            });
        }
        // A target that exists already and is not the source itself.
        for (r, &invalid) in renames.iter_mut().zip(&invalid) {
            if !invalid && target_taken(&r.from, &r.to) {
                r.conflicted = true;
                conflicts.push(Conflict::TargetExists {
                    from: r.from.clone(),
                    to: r.to.clone(),
                });
            }
        }
        conflicts.sort_by(|a, b| conflict_source(a).cmp(conflict_source(b)));
        Ok(Self {
            renames,
            conflicts,
            warnings,
            depths,
        })
    }

    /// Every planned rename, sorted by path, conflicting ones included (marked).
    pub fn renames(&self) -> &[Rename] {
        &self.renames
    }

    /// Everything that stops the plan from being applied as a whole.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// Entries the walk could not read; they are not in the plan.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Applies the plan, deepest entries first so that no renamed directory hides a rename
    /// below it, recording each rename in a new `journal` file before doing it (see [`undo`]).
    ///
    /// A plan with conflicts renames nothing and returns [`Error::Conflicts`] unless
    /// `skip_conflicts`; then every rename involved in a conflict is left out and the rest is
    /// done. If a rename fails (or its target appeared since planning), applying stops with
    /// [`Error::Rename`], which says how many were done; the journal holds exactly those.
    /// Nothing to rename writes no journal.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn apply(&self, journal: &Path, skip_conflicts: bool) -> Result<Applied> {
        if !self.conflicts.is_empty() && !skip_conflicts {
            return Err(Error::Conflicts {
                count: self.conflicts.len(),
            });
        }
        let mut order: Vec<usize> = (0..self.renames.len())
            .filter(|&i| !self.renames[i].conflicted)
            .collect();
        let skipped = self.renames.len() - order.len();
        if order.is_empty() {
            return Ok(Applied {
                renamed: 0,
                skipped,
            });
        }
        order.sort_by_key(|&i| std::cmp::Reverse(self.depths[i]));
        let mut writer = journal::Writer::create(journal)?;
        let mut renamed = 0;
        for i in order {
            let Rename { from, to, .. } = &self.renames[i];
            let fail = |source: io::Error| Error::Rename {
                from: from.clone(),
                to: to.clone(),
                done: renamed,
                journal: journal.to_path_buf(),
                source,
            };
            // The journal holds absolute paths, so `undo` works from any directory.
            let (abs_from, abs_to) = (
                std::path::absolute(from).map_err(fail)?,
                std::path::absolute(to).map_err(fail)?,
            );
            if target_taken(from, to) {
                return Err(fail(io::Error::from(io::ErrorKind::AlreadyExists)));
            }
            writer.record(&abs_from, &abs_to)?;
            rename_no_replace(from, to).map_err(fail)?;
            renamed += 1;
        }
        writer.finish()?;
        Ok(Applied { renamed, skipped })
    }
}

/// What [`undo`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undone {
    /// Names restored.
    pub restored: usize,
    /// Journal entries whose rename had not happened (or was already undone).
    pub unchanged: usize,
}

/// Restores every name recorded in `journal` (written by [`RenamePlan::apply`]), last rename
/// first. Running it twice is harmless: entries already restored are counted as unchanged.
///
/// It never overwrites: if both the old and the new path exist, or neither does, it stops with
/// [`Error::Undo`], which says how many names were restored before.
#[tracing::instrument(level = "debug", skip_all)]
pub fn undo(journal: &Path) -> Result<Undone> {
    let pairs = journal::read(journal)?;
    let mut done = Undone {
        restored: 0,
        unchanged: 0,
    };
    for (from, to) in pairs.iter().rev() {
        let fail = |source: io::Error| Error::Undo {
            from: to.clone(),
            to: from.clone(),
            restored: done.restored,
            journal: journal.to_path_buf(),
            source,
        };
        let new_exists = fs::symlink_metadata(to).is_ok();
        let old_exists = fs::symlink_metadata(from).is_ok();
        match (new_exists, old_exists) {
            (false, true) => done.unchanged += 1,
            (false, false) => return Err(fail(io::Error::from(io::ErrorKind::NotFound))),
            (true, true) if !same_entry(from, to) => {
                return Err(fail(io::Error::from(io::ErrorKind::AlreadyExists)));
            }
            (true, _) => {
                rename_no_replace(to, from).map_err(fail)?;
                done.restored += 1;
            }
        }
    }
    Ok(done)
}

/// Renames `from` to `to` but never replaces an existing `to`, even one that appears after
/// the plan was checked: where the system has it, the check and the rename are one call
/// (`renameat2(RENAME_NOREPLACE)` on Linux, `renameatx_np(RENAME_EXCL)` on macOS); otherwise
/// a hard link (which fails if `to` exists) then the unlink of `from`; for directories on
/// such systems, a check then a plain rename. `to` naming `from` itself (a case-only rename
/// on a case-insensitive file system) is a plain rename.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    if fs::symlink_metadata(to).is_ok() {
        if same_entry(from, to) {
            return fs::rename(from, to);
        }
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    match rename_exclusive(from, to) {
        Ok(()) => return Ok(()),
        Err(Fallback::No(err)) => return Err(err),
        Err(Fallback::Unsupported) => {}
    }
    match link_then_unlink(from, to) {
        Ok(()) => return Ok(()),
        Err(Fallback::No(err)) => return Err(err),
        Err(Fallback::Unsupported) => {}
    }
    fs::rename(from, to)
}

/// Why a no-replace strategy did not rename: a real error, or a system that cannot do it.
#[derive(Debug)]
enum Fallback {
    No(io::Error),
    Unsupported,
}

#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn rename_exclusive(from: &Path, to: &Path) -> std::result::Result<(), Fallback> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        // An old kernel, a seccomp filter or a file system without the flag.
        Err(e) if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP, Errno::OPNOTSUPP].contains(&e) => {
            Err(Fallback::Unsupported)
        }
        Err(e) => Err(Fallback::No(e.into())),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn rename_exclusive(_: &Path, _: &Path) -> std::result::Result<(), Fallback> {
    Err(Fallback::Unsupported)
}

/// A rename as a hard link (atomic, failing if `to` exists) then an unlink of `from`.
/// Directories and file systems without hard links are `Unsupported`.
fn link_then_unlink(from: &Path, to: &Path) -> std::result::Result<(), Fallback> {
    match fs::hard_link(from, to) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(Fallback::No(e)),
        Err(_) => return Err(Fallback::Unsupported),
    }
    fs::remove_file(from).map_err(|err| {
        // Both names point at the file: drop the new one so nothing changed.
        let _ = fs::remove_file(to);
        Fallback::No(err)
    })
}

fn conflict_source(conflict: &Conflict) -> &Path {
    match conflict {
        Conflict::InvalidName { from, .. } | Conflict::TargetExists { from, .. } => from,
        Conflict::SameTarget { sources, .. } => &sources[0],
    }
}

/// Why `name` cannot be a file name, if it cannot.
fn invalid_name(name: &OsStr) -> Option<&'static str> {
    let bytes = name.as_encoded_bytes();
    if bytes.is_empty() {
        Some("is empty")
    } else if name == "." || name == ".." {
        Some("is reserved")
    } else if bytes.contains(&b'/') || (cfg!(windows) && bytes.contains(&b'\\')) {
        Some("contains a path separator")
    } else if bytes.contains(&0) {
        Some("contains a NUL byte")
    } else {
        None
    }
}

/// True if `to` exists and is not `from` itself (a case-only rename on a case-insensitive
/// file system finds `from` under the new name: that is not a conflict).
fn target_taken(from: &Path, to: &Path) -> bool {
    fs::symlink_metadata(to).is_ok() && !same_entry(from, to)
}

/// True if `a` and `b` name the same directory entry's file (links not followed).
fn same_entry(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        same_file::is_same_file(a, b).unwrap_or(false)
    }
}

/// Whether the file system holding `path` ignores case, if `path`'s name can tell (it must
/// contain an ASCII letter): the name with its case swapped must find the same file.
fn is_case_insensitive(path: &Path) -> Option<bool> {
    let name = path.file_name()?.to_str()?;
    if !name.bytes().any(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let swapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let other = path.with_file_name(swapped);
    Some(fs::symlink_metadata(&other).is_ok() && same_entry(path, &other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_matches_the_notes_and_rejects_bad_names() {
        let rule = RenameRule::default();
        let check = |name: &str, want: Option<&str>| {
            assert_eq!(
                rule.rename(OsStr::new(name)).as_deref(),
                want.map(OsStr::new),
                "{name}"
            );
        };
        check("A File.PDF", Some("a_file.pdf"));
        check("plain.txt", None);
        check("already_lower bad", Some("already_lower_bad"));
        let slash = RenameRule {
            replace: vec![(" ".into(), "/".into())],
            ..Default::default()
        };
        let new = slash.rename(OsStr::new("a b")).unwrap();
        assert_eq!(invalid_name(&new), Some("contains a path separator"));
        assert_eq!(invalid_name(OsStr::new("")), Some("is empty"));
        assert_eq!(invalid_name(OsStr::new("..")), Some("is reserved"));
        assert_eq!(invalid_name(OsStr::new("fine")), None);
    }

    #[test]
    fn no_replace_renames_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        fs::write(&a, "a").unwrap();
        fs::write(&b, "b").unwrap();
        let taken = |r: io::Result<()>| {
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
            assert_eq!(fs::read_to_string(&a).unwrap(), "a");
            assert_eq!(fs::read_to_string(&b).unwrap(), "b");
        };
        // Each strategy on its own, as if `b` had appeared after the existence check.
        taken(rename_no_replace(&a, &b));
        match rename_exclusive(&a, &b) {
            Err(Fallback::No(err)) => taken(Err(err)),
            Err(Fallback::Unsupported) => {}
            Ok(()) => panic!("renamed onto an existing file"),
        }
        match link_then_unlink(&a, &b) {
            Err(Fallback::No(err)) => taken(Err(err)),
            other => panic!("{other:?}"),
        }
        // And each renames when the target is free.
        link_then_unlink(&a, &c).unwrap();
        assert!(!a.exists() && fs::read_to_string(&c).unwrap() == "a");
        if rename_exclusive(&c, &a).is_ok() {
            assert!(!c.exists() && fs::read_to_string(&a).unwrap() == "a");
        } else {
            fs::rename(&c, &a).unwrap();
        }
        rename_no_replace(&a, &c).unwrap();
        assert!(!a.exists() && fs::read_to_string(&c).unwrap() == "a");
        // Directories fall through to the last strategy.
        fs::create_dir(dir.path().join("d")).unwrap();
        rename_no_replace(&dir.path().join("d"), &dir.path().join("e")).unwrap();
        assert!(dir.path().join("e").is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_bytes_are_kept() {
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(b"A\xff B");
        let new = RenameRule::default().rename(name).unwrap();
        assert_eq!(new.as_bytes(), b"a\xff_b");
    }
}
