//! Bulk renames that are planned and validated before anything is touched, applied deepest
//! first with a journal, and undone from that journal.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::at::{Cursor, Dirs, Id, Refused};
use crate::walk::{Problem, Warning, walk_all};
use crate::{Error, Result, at, journal};

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
    /// The new name, or the new path, is longer than the file system (or the system) can
    /// hold: a name over `statvfs`'s `f_namemax` bytes (255 on most), or an absolute path
    /// over `PATH_MAX` (which `undo` would need).
    TooLong {
        /// The source.
        from: PathBuf,
        /// The new path.
        to: PathBuf,
        /// `"name"` or `"path"`.
        what: &'static str,
        /// Its length in bytes.
        bytes: usize,
        /// The most bytes allowed.
        limit: usize,
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
            Conflict::TooLong {
                from,
                to,
                what,
                bytes,
                limit,
            } => write!(
                f,
                "{:#} would become {:#}, whose {what} is {bytes} bytes, over the limit of {limit}",
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
    root: PathBuf,
    renames: Vec<Rename>,
    conflicts: Vec<Conflict>,
    warnings: Vec<Warning>,
    depths: Vec<usize>,
    /// The identity of each source when planned (`None`: it could not be read).
    ids: Vec<Option<Id>>,
    /// The identity of every directory walked: `apply` acts only in these.
    dirs: Dirs,
}

/// What [`RenamePlan::apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Renames done (each recorded in the journal).
    pub renamed: usize,
    /// Conflicting renames left out.
    pub skipped: usize,
    /// Renames not done because the entry, or a directory above it, changed since the plan
    /// (a [`Problem::Changed`](crate::Problem::Changed) warning each).
    pub warnings: Vec<Warning>,
}

impl RenamePlan {
    /// Walks `root` and plans every rename that `options` asks for, with its conflicts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn new(root: &Path, options: &RenameOptions) -> Result<Self> {
        crate::delete::refuse_file_system_root(root)?;
        let mut warnings = Vec::new();
        let (entries, dirs) = walk_all(root, &mut warnings)?;
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
        // Names and paths too long for the file system: one `statvfs` per directory.
        let mut limits: HashMap<PathBuf, usize> = HashMap::new();
        let named_badly: std::collections::HashSet<usize> = invalid.iter().copied().collect();
        for (i, r) in renames.iter().enumerate() {
            if named_badly.contains(&i) {
                continue;
            }
            let dir = r.to.parent().unwrap_or(Path::new("."));
            let name_max = *limits
                .entry(dir.to_path_buf())
                .or_insert_with(|| name_max(dir));
            let name = r.to.file_name().map_or(0, |n| n.as_encoded_bytes().len());
            let path = std::path::absolute(&r.to).map_or(0, |p| p.as_os_str().len());
            let too_long = if name > name_max {
                Some(("name", name, name_max))
            } else if path > PATH_MAX {
                Some(("path", path, PATH_MAX))
            } else {
                None
            };
            if let Some((what, bytes, limit)) = too_long {
                invalid.push(i);
                conflicts.push(Conflict::TooLong {
                    from: r.from.clone(),
                    to: r.to.clone(),
                    what,
                    bytes,
                    limit,
                });
            }
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
        let ids = renames
            .iter()
            .map(|r| fs::symlink_metadata(&r.from).ok().map(|m| Id::of(&m)))
            .collect();
        Ok(Self {
            root: root.to_path_buf(),
            renames,
            conflicts,
            warnings,
            depths,
            ids,
            dirs,
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
    /// [`Error::Rename`], which says how many were done. Nothing to rename writes no journal.
    ///
    /// Renames go in batches: a batch's entries are written to the journal and flushed to
    /// disk (`fsync`) before any of its renames happens, so a crash, a kill or a full disk
    /// never leaves a rename that the journal does not hold. (The journal may hold entries
    /// of the stopped batch that were not done: [`undo`] counts them as unchanged.)
    ///
    /// Each rename happens relative to a handle of its directory, opened from the root's
    /// handle one directory at a time without following links, and only if that directory
    /// and the entry are the ones the plan saw: an entry whose directory was replaced (by a
    /// link to elsewhere, say) is not renamed, and is a [`Problem::Changed`] warning in
    /// [`Applied::warnings`].
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
        let mut applied = Applied {
            skipped: self.renames.len() - order.len(),
            ..Applied::default()
        };
        if order.is_empty() {
            return Ok(applied);
        }
        order.sort_by_key(|&i| std::cmp::Reverse(self.depths[i]));
        let fail = |from: &Path, to: &Path, done: usize, source: io::Error| Error::Rename {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
            done,
            journal: journal.to_path_buf(),
            source,
        };
        let mut cursor = match Cursor::new(&self.root, &self.dirs) {
            Ok(cursor) => cursor,
            Err(Refused::Changed(path)) => {
                applied.warnings.push(Warning {
                    path,
                    problem: Problem::Changed,
                });
                return Ok(applied);
            }
            Err(Refused::Io(path, source)) => return Err(fail(&path, &path, 0, source)),
        };
        let root =
            std::path::absolute(&self.root).map_err(Error::io("make absolute", &self.root))?;
        // Created with the first entry: a plan whose renames were all refused writes none.
        let mut writer: Option<journal::Writer> = None;
        let mut batch = Vec::with_capacity(JOURNAL_BATCH);
        // Directories already warned about: one warning each, not one per entry below them.
        let mut warned = std::collections::HashSet::new();
        for chunk in order.chunks(JOURNAL_BATCH) {
            // Check and record the batch, make the records durable, then rename.
            batch.clear();
            for &i in chunk {
                let Rename { from, to, .. } = &self.renames[i];
                let Some(id) = self.ids[i] else {
                    applied.warnings.push(Warning {
                        path: from.clone(),
                        problem: Problem::Changed,
                    });
                    continue;
                };
                let new_name = to.file_name().unwrap_or_default();
                let entry = match cursor.entry(from, id) {
                    Ok(entry) => entry,
                    Err(Refused::Changed(path)) => {
                        warn_changed(&mut applied.warnings, &mut warned, path);
                        continue;
                    }
                    Err(Refused::Io(_, source)) => {
                        return Err(fail(from, to, applied.renamed, source));
                    }
                };
                match entry.taken(new_name) {
                    Ok(false) => {}
                    Ok(true) => {
                        let source = io::Error::from(io::ErrorKind::AlreadyExists);
                        return Err(fail(from, to, applied.renamed, source));
                    }
                    Err(source) => return Err(fail(from, to, applied.renamed, source)),
                }
                // The journal holds absolute paths, so `undo` works from any directory.
                let (abs_from, abs_to) = match (std::path::absolute(from), std::path::absolute(to))
                {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(source), _) | (_, Err(source)) => {
                        return Err(fail(from, to, applied.renamed, source));
                    }
                };
                let writer = match &mut writer {
                    Some(writer) => writer,
                    None => writer.insert(journal::Writer::create(journal, &root)?),
                };
                writer.record(&abs_from, &abs_to);
                batch.push((i, id));
            }
            if let Some(writer) = &mut writer {
                writer.commit()?;
            }
            for &(i, id) in &batch {
                let Rename { from, to, .. } = &self.renames[i];
                let new_name = to.file_name().unwrap_or_default();
                let entry = match cursor.entry(from, id) {
                    Ok(entry) => entry,
                    Err(Refused::Changed(path)) => {
                        warn_changed(&mut applied.warnings, &mut warned, path);
                        continue;
                    }
                    Err(Refused::Io(_, source)) => {
                        return Err(fail(from, to, applied.renamed, source));
                    }
                };
                entry
                    .rename_no_replace(new_name)
                    .map_err(|source| fail(from, to, applied.renamed, source))?;
                if self.dirs.contains_key(from) {
                    cursor.forget(from);
                }
                applied.renamed += 1;
            }
        }
        Ok(applied)
    }
}

/// Adds a [`Problem::Changed`] warning for `path` unless one was given already (`warned`):
/// a directory swapped for a link is one warning, however many entries were below it.
fn warn_changed(
    warnings: &mut Vec<Warning>,
    warned: &mut std::collections::HashSet<PathBuf>,
    path: PathBuf,
) {
    if warned.insert(path.clone()) {
        warnings.push(Warning {
            path,
            problem: Problem::Changed,
        });
    }
}

/// Renames per journal flush: a flush per rename would double the time of a big rename.
const JOURNAL_BATCH: usize = 256;

/// What [`undo`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undone {
    /// Names restored.
    pub restored: usize,
    /// Journal entries whose rename had not happened (or was already undone).
    pub unchanged: usize,
    /// The line number of a last line cut short (by a full disk or a kill while it was
    /// written): its rename never happened, and it was left out.
    pub torn_line: Option<usize>,
}

/// Restores every name recorded in `journal` (written by [`RenamePlan::apply`]), last rename
/// first. Running it twice is harmless: entries already restored are counted as unchanged.
///
/// A journal whose last line is cut short (its disk filled, or the process was killed while
/// writing it) is accepted: that entry's rename never happened, since each batch of entries is
/// on disk before its renames start. [`Undone::torn_line`] says so.
///
/// It never overwrites: if both the old and the new path exist, or neither does, it stops with
/// [`Error::Undo`], which names the path and says how many names were restored before.
/// Below the tree the journal records, directories are opened without following links, so a
/// directory swapped for a link since the apply stops the undo (naming it) instead of leading
/// it outside the tree.
#[tracing::instrument(level = "debug", skip_all)]
pub fn undo(journal: &Path) -> Result<Undone> {
    let journal::Journal {
        pairs,
        torn: torn_line,
        root,
    } = journal::read(journal)?;
    let mut done = Undone {
        restored: 0,
        unchanged: 0,
        torn_line,
    };
    for (from, to) in pairs.iter().rev() {
        let fail = |source: io::Error| Error::Undo {
            from: to.clone(),
            to: from.clone(),
            restored: done.restored,
            journal: journal.to_path_buf(),
            source,
        };
        let why = |kind: io::ErrorKind, what: String| fail(io::Error::new(kind, what));
        let (Some(dir), Some(old_name), Some(new_name)) =
            (to.parent(), from.file_name(), to.file_name())
        else {
            return Err(why(io::ErrorKind::InvalidData, "not a file's path".into()));
        };
        if from.parent() != Some(dir) {
            return Err(why(
                io::ErrorKind::InvalidData,
                "the journal names two directories for one rename".into(),
            ));
        }
        // Below the tree the journal records, no link is followed: a directory swapped for
        // a link since the apply cannot lead the undo outside (older journals have no root).
        let opened = match &root {
            Some(root) => at::Dir::open_beneath(root, dir),
            None => at::Dir::open(dir),
        };
        let dir = match opened {
            Ok(dir) => dir,
            Err(err) => {
                return Err(why(
                    err.kind(),
                    format!("cannot open its directory {}: {err}", crate::Escaped(dir)),
                ));
            }
        };
        let new = dir.entry(new_name);
        let old = dir.entry(old_name);
        let (new_id, old_id) = match (new.identity(), old.identity()) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(err), _) | (_, Err(err)) => return Err(fail(err)),
        };
        match (new_id, old_id) {
            (None, Some(_)) => done.unchanged += 1,
            (None, None) => {
                return Err(why(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} is missing (and {} does not exist either)",
                        crate::Escaped(to),
                        crate::Escaped(from)
                    ),
                ));
            }
            (Some(a), Some(b)) if a != b => {
                return Err(why(
                    io::ErrorKind::AlreadyExists,
                    format!("{} already exists", crate::Escaped(from)),
                ));
            }
            (Some(_), _) => {
                new.rename_no_replace(old_name).map_err(|err| {
                    if err.kind() == io::ErrorKind::AlreadyExists {
                        why(
                            err.kind(),
                            format!("{} already exists", crate::Escaped(from)),
                        )
                    } else {
                        fail(err)
                    }
                })?;
                done.restored += 1;
            }
        }
    }
    Ok(done)
}

fn conflict_source(conflict: &Conflict) -> &Path {
    match conflict {
        Conflict::InvalidName { from, .. }
        | Conflict::TargetExists { from, .. }
        | Conflict::TooLong { from, .. } => from,
        Conflict::SameTarget { sources, .. } => &sources[0],
    }
}

/// The longest path, in bytes, a system call takes (`PATH_MAX` less its NUL).
const PATH_MAX: usize = if cfg!(any(target_os = "linux", target_os = "android")) {
    4095
} else if cfg!(windows) {
    32_766
} else {
    1023
};

/// The longest name, in bytes, the file system holding `dir` takes (`statvfs`'s
/// `f_namemax`); 255, the common value, where it cannot be asked.
fn name_max(dir: &Path) -> usize {
    #[cfg(unix)]
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(stat) = rustix::fs::statvfs(dir)
            && stat.f_namemax > 0
        {
            return usize::try_from(stat.f_namemax).unwrap_or(usize::MAX);
        }
    }
    let _ = dir;
    255
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

    #[cfg(unix)]
    #[test]
    fn non_utf8_bytes_are_kept() {
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(b"A\xff B");
        let new = RenameRule::default().rename(name).unwrap();
        assert_eq!(new.as_bytes(), b"a\xff_b");
    }
}
