//! The warnings of a walk: what was wrong with an entry that the walk went on without. A leaf
//! module: every walker reports through it, and it depends on none of them.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What was wrong with one entry of a walk that went on without it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// The entry could not be read (a directory without permission, for instance).
    Unreadable(io::Error),
    /// The entry disappeared between being listed and being looked at.
    Vanished,
    /// A followed symbolic link leads back to `ancestor`; it was not entered.
    Loop {
        /// The directory the link points back to.
        ancestor: PathBuf,
    },
    /// Since the plan was made, the entry (or a directory above it) was replaced: by a link,
    /// by another file or directory, or it was moved away. Nothing at or below it was
    /// touched.
    Changed,
}

/// A problem that did not stop a walk: the entry was skipped, and the caller is told.
#[derive(Debug)]
pub struct Warning {
    /// The entry concerned (the root when the walker could not tell).
    pub path: PathBuf,
    /// What was wrong with it.
    pub problem: Problem,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = crate::Escaped(&self.path);
        match &self.problem {
            Problem::Unreadable(err) => write!(f, "cannot read {path}: {err}"),
            Problem::Vanished => write!(f, "{path} vanished after being listed"),
            Problem::Changed => write!(
                f,
                "{path} changed since the plan was made (replaced, moved or now a link); skipped, with everything below it"
            ),
            Problem::Loop { ancestor } => write!(
                f,
                "{path} is a link back to {}; not followed again",
                crate::Escaped(ancestor)
            ),
        }
    }
}

impl Warning {
    pub(crate) fn from_io(path: PathBuf, err: io::Error) -> Self {
        let problem = if err.kind() == io::ErrorKind::NotFound {
            Problem::Vanished
        } else {
            Problem::Unreadable(err)
        };
        Self { path, problem }
    }

    pub(crate) fn from_walkdir(err: walkdir::Error, root: &Path) -> Self {
        let path = err.path().unwrap_or(root).to_path_buf();
        if let Some(ancestor) = err.loop_ancestor() {
            return Self {
                path,
                problem: Problem::Loop {
                    ancestor: ancestor.to_path_buf(),
                },
            };
        }
        let io = err
            .into_io_error()
            .unwrap_or_else(|| io::Error::other("walk error"));
        Self::from_io(path, io)
    }

    /// Flattens `ignore`'s nested error into warnings (it wraps paths, depths and lists).
    pub(crate) fn from_ignore(err: ignore::Error, path: &Path, out: &mut Vec<Warning>) {
        match err {
            ignore::Error::WithPath { path, err } => Self::from_ignore(*err, &path, out),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                Self::from_ignore(*err, path, out);
            }
            ignore::Error::Partial(errs) => {
                for err in errs {
                    Self::from_ignore(err, path, out);
                }
            }
            ignore::Error::Loop { ancestor, child } => out.push(Self {
                path: child,
                problem: Problem::Loop { ancestor },
            }),
            ignore::Error::Io(err) => out.push(Self::from_io(path.to_path_buf(), err)),
            other => out.push(Self {
                path: path.to_path_buf(),
                problem: Problem::Unreadable(io::Error::other(other.to_string())),
            }),
        }
    }
}
