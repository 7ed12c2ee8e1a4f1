//! Bulk deletes that are a dry run until applied.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::at::{Cursor, Dirs, Id, Refused};
use crate::walk::{ExtensionSet, Problem, Warning, walk_all};
use crate::{Error, Result};

/// Which files a [`DeletePlan`] selects: those whose extension is not in `keep_ext` (when it is
/// not empty), and those whose name matches one of `patterns` (globs such as `*.tmp`).
/// At least one of the two must be given, and none may be empty: an empty or dots-only
/// extension, or an empty pattern, is [`Error::EmptyRule`] (an unset shell variable must not
/// turn into "delete everything").
#[derive(Debug, Clone, Default)]
pub struct DeleteRule {
    /// Extensions to keep (with or without the dot), compared as [`Path::extension`],
    /// ASCII case-insensitively: `pdf` keeps `A File.PDF` and not `report.pdf.bak`.
    pub keep_ext: Vec<String>,
    /// Globs matched against the file name (not the path): matching files are selected.
    pub patterns: Vec<String>,
}

/// One file to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doomed {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes when planned (of the link itself, for a symbolic link).
    pub size: u64,
}

/// How [`DeletePlan::apply`] removes files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Removal {
    /// Unlink them.
    #[default]
    Delete,
    /// Move them to the platform's trash (the `trash` crate), where they can be restored.
    #[cfg(feature = "trash")]
    Trash,
}

/// Every file under a root that a [`DeleteRule`] selects. Planning deletes nothing; only
/// [`apply`](Self::apply) does.
///
/// The walk is the notes' (hidden files included, ignore files not read) except that `.git`
/// is skipped by path component (`not.github/` is not skipped) and symbolic links are never
/// followed: a selected link is removed as a link, its target is untouched.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let root = dir.path();
/// for f in ["A File.PDF", "report.pdf.bak", "notes.txt"] {
///     std::fs::write(root.join(f), "x")?;
/// }
/// let rule = notes_fs::DeleteRule { keep_ext: vec!["pdf".into()], ..Default::default() };
/// let plan = notes_fs::DeletePlan::new(root, &rule)?;
/// let mut names: Vec<_> = plan.files().iter().map(|d| d.path.file_name().unwrap()).collect();
/// names.sort();
/// assert_eq!(names, ["notes.txt", "report.pdf.bak"]);
/// assert_eq!(plan.total_size(), 2);
/// assert_eq!(plan.apply(Default::default())?.deleted, 2);
/// assert!(root.join("A File.PDF").exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DeletePlan {
    root: PathBuf,
    files: Vec<Doomed>,
    /// The identity of each file, in the order of `files`.
    ids: Vec<Id>,
    /// The identity of every directory walked: `apply` acts only in these.
    dirs: Dirs,
    warnings: Vec<Warning>,
}

/// What [`DeletePlan::apply`] did.
#[derive(Debug, Default)]
pub struct Deleted {
    /// Files removed (or trashed).
    pub deleted: usize,
    /// Their total planned size in bytes.
    pub bytes: u64,
    /// Planned files that had already disappeared.
    pub warnings: Vec<Warning>,
}

impl DeletePlan {
    /// Walks `root` and selects the files `rule` asks for, sorted by path.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn new(root: &Path, rule: &DeleteRule) -> Result<Self> {
        if rule.keep_ext.is_empty() && rule.patterns.is_empty() {
            return Err(Error::NoDeleteRule);
        }
        refuse_file_system_root(root)?;
        for ext in &rule.keep_ext {
            if let Some(why) = unmatchable_extension(ext) {
                return Err(Error::EmptyRule {
                    what: "extension to keep",
                    given: ext.clone(),
                    why,
                });
            }
        }
        if let Some(pattern) = rule.patterns.iter().find(|p| p.is_empty()) {
            return Err(Error::EmptyRule {
                what: "pattern",
                given: pattern.clone(),
                why: "is empty",
            });
        }
        let keep = ExtensionSet::new(&rule.keep_ext, false);
        let mut globs = globset::GlobSetBuilder::new();
        for pattern in &rule.patterns {
            let glob = globset::Glob::new(pattern).map_err(|source| Error::BadPattern {
                pattern: pattern.clone(),
                source,
            })?;
            globs.add(glob);
        }
        let globs = globs.build().map_err(|source| Error::BadPattern {
            pattern: rule.patterns.join(" "),
            source,
        })?;
        let mut warnings = Vec::new();
        let mut files = Vec::new();
        let (entries, dirs) = walk_all(root, &mut warnings)?;
        for entry in entries {
            if entry.is_dir {
                continue;
            }
            let name = entry.path.file_name().unwrap_or(OsStr::new(""));
            let selected = (!keep.is_empty() && !keep.contains(entry.path.extension()))
                || globs.is_match(name);
            if !selected {
                continue;
            }
            match fs::symlink_metadata(&entry.path) {
                Ok(meta) if !meta.is_dir() => files.push((
                    Doomed {
                        path: entry.path,
                        size: meta.len(),
                    },
                    Id::of(&meta),
                )),
                Ok(_) => warnings.push(Warning {
                    path: entry.path,
                    problem: Problem::Changed,
                }),
                Err(err) => warnings.push(Warning::from_io(entry.path, err)),
            }
        }
        files.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        let (files, ids) = files.into_iter().unzip();
        Ok(Self {
            root: root.to_path_buf(),
            files,
            ids,
            dirs,
            warnings,
        })
    }

    /// The files selected, sorted by path.
    pub fn files(&self) -> &[Doomed] {
        &self.files
    }

    /// Their total size in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|d| d.size).sum()
    }

    /// Entries the walk could not read; they are not in the plan.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Removes every planned file, and nothing else, even if the tree changes meanwhile.
    ///
    /// Each file is removed relative to a handle of its directory, opened from the root's
    /// handle one directory at a time without following links (see the crate docs on races):
    /// a directory that is not the one the plan walked (replaced by a link to elsewhere, or
    /// by another directory) is skipped with everything below it, and a file that is not the
    /// one planned (replaced since) is skipped too; both are [`Problem::Changed`] warnings.
    /// A file that vanished is a [`Problem::Vanished`] warning. Any other failure stops with
    /// [`Error::Delete`] (or [`Error::Trash`]), which says how many files were removed before.
    ///
    /// [`Removal::Trash`] hands a path to the platform's trash, which resolves it again: each
    /// file is checked through the handles first, then its path is resolved once more and
    /// must still lead to that same directory and file, or the file is refused (a warning).
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn apply(&self, removal: Removal) -> Result<Deleted> {
        let mut done = Deleted::default();
        if self.files.is_empty() {
            return Ok(done);
        }
        let mut cursor = match Cursor::new(&self.root, &self.dirs) {
            Ok(cursor) => cursor,
            Err(Refused::Changed(path)) => {
                done.warnings.push(Warning {
                    path,
                    problem: Problem::Changed,
                });
                return Ok(done);
            }
            Err(Refused::Io(path, source)) => {
                return Err(Error::Delete {
                    path,
                    done: 0,
                    source,
                });
            }
        };
        let mut warned: Option<PathBuf> = None;
        for (doomed, &id) in self.files.iter().zip(&self.ids) {
            let path = &doomed.path;
            let fail = |source: io::Error, done: &Deleted| Error::Delete {
                path: path.clone(),
                done: done.deleted,
                source,
            };
            let entry = match cursor.entry(path, id) {
                Ok(entry) => entry,
                Err(Refused::Changed(changed)) => {
                    // One warning per changed directory, not one per file below it.
                    if warned.as_ref() != Some(&changed) {
                        let problem = if &changed == path
                            && fs::symlink_metadata(path)
                                .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
                        {
                            Problem::Vanished
                        } else {
                            Problem::Changed
                        };
                        done.warnings.push(Warning {
                            path: changed.clone(),
                            problem,
                        });
                        warned = Some(changed);
                    }
                    continue;
                }
                Err(Refused::Io(_, source)) => return Err(fail(source, &done)),
            };
            let result = match removal {
                Removal::Delete => entry.unlink().map_err(|source| fail(source, &done)),
                #[cfg(feature = "trash")]
                Removal::Trash => match trash_checked(&self.root, entry.path(), id) {
                    Ok(true) => trash::delete(path).map_err(|source| Error::Trash {
                        path: path.clone(),
                        done: done.deleted,
                        source: Box::new(source),
                    }),
                    Ok(false) => {
                        done.warnings.push(Warning {
                            path: path.clone(),
                            problem: Problem::Changed,
                        });
                        continue;
                    }
                    Err(source) => Err(fail(source, &done)),
                },
            };
            match result {
                Ok(()) => {
                    done.deleted += 1;
                    done.bytes += doomed.size;
                }
                Err(Error::Delete { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                    done.warnings.push(Warning::from_io(path.clone(), source));
                }
                Err(err) => return Err(err),
            }
        }
        Ok(done)
    }
}

/// Whether `path`, resolved as a path string (as the trash will resolve it), still leads to
/// the file `id` in a directory below `root` with no link on the way: every component below
/// the root is looked at without following links. What the trash does in the instant after
/// this check is beyond notes (docs/delete-files.md).
#[cfg(feature = "trash")]
fn trash_checked(root: &Path, path: &Path, id: Id) -> io::Result<bool> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(false);
    };
    let mut at = root.to_path_buf();
    let count = rel.components().count();
    for (i, component) in rel.components().enumerate() {
        let std::path::Component::Normal(name) = component else {
            return Ok(false);
        };
        at.push(name);
        let meta = match fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let last = i + 1 == count;
        if !last && (meta.file_type().is_symlink() || !meta.is_dir()) {
            return Ok(false);
        }
        if last && Id::of(&meta) != id {
            return Ok(false);
        }
    }
    Ok(true)
}

/// [`Error::FileSystemRoot`] when `root` is, or leads to, the root of the file system (a root
/// that cannot be resolved is left to the walk, which names the error).
pub(crate) fn refuse_file_system_root(root: &Path) -> Result<()> {
    match fs::canonicalize(root) {
        Ok(real) if real.parent().is_none() => Err(Error::FileSystemRoot {
            path: root.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Why no file can have extension `ext` (given with or without its dot), if none can: it is
/// empty or dots only, or holds a `.` or a path separator ([`Path::extension`] never does).
pub fn unmatchable_extension(ext: &str) -> Option<&'static str> {
    let bare = ext.strip_prefix('.').unwrap_or(ext);
    if bare.trim_matches('.').is_empty() {
        Some("is empty or only dots")
    } else if bare.trim().is_empty() {
        // `-k " "` (a quoted, unset variable with a space) keeps nothing real either.
        Some("is only white space")
    } else if bare.contains('.') {
        Some("contains a dot inside (an extension is what follows the last dot)")
    } else if bare.contains('/') || (cfg!(windows) && bare.contains('\\')) {
        Some("contains a path separator")
    } else {
        None
    }
}
