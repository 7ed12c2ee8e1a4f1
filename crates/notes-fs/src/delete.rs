//! Bulk deletes that are a dry run until applied.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::walk::{ExtensionSet, Warning, walk_all};
use crate::{Error, Result};

/// Which files a [`DeletePlan`] selects: those whose extension is not in `keep_ext` (when it is
/// not empty), and those whose name matches one of `patterns` (globs such as `*.tmp`).
/// At least one of the two must be given.
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
    files: Vec<Doomed>,
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
        for entry in walk_all(root, &mut warnings)? {
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
                Ok(meta) => files.push(Doomed {
                    path: entry.path,
                    size: meta.len(),
                }),
                Err(err) => warnings.push(Warning::from_io(entry.path, err)),
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Self { files, warnings })
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

    /// Removes every planned file. A file that vanished since planning is a warning; any other
    /// failure stops with [`Error::Delete`] (or [`Error::Trash`]), which says how many files
    /// were removed before it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn apply(&self, removal: Removal) -> Result<Deleted> {
        let mut done = Deleted::default();
        for doomed in &self.files {
            let path = &doomed.path;
            let result = match removal {
                Removal::Delete => fs::remove_file(path).map_err(|source| Error::Delete {
                    path: path.clone(),
                    done: done.deleted,
                    source,
                }),
                #[cfg(feature = "trash")]
                Removal::Trash => {
                    if fs::symlink_metadata(path).is_err() {
                        Err(Error::Delete {
                            path: path.clone(),
                            done: done.deleted,
                            source: io::Error::from(io::ErrorKind::NotFound),
                        })
                    } else {
                        trash::delete(path).map_err(|source| Error::Trash {
                            path: path.clone(),
                            done: done.deleted,
                            source: Box::new(source),
                        })
                    }
                }
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
