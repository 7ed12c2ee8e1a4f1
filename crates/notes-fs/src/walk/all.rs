//! The walk of the rename and delete plans: everything, `.git` skipped by path component,
//! links never followed, with every directory's identity for the plan's apply to check.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Warning, check_root};
use crate::{Error, Result};

/// One entry of a [`walk_all`]: its path, whether it is a directory, and its depth (root = 0).
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: PathBuf,
    pub(crate) is_dir: bool,
    pub(crate) depth: usize,
}

/// Everything under `root` as the notes walk it (hidden entries included, ignore files not
/// read) except `.git` by path component, links never followed, the root itself excluded;
/// with the identity of every directory walked (the root included), which applying a plan
/// checks before it acts in that directory (see `at.rs`).
pub(crate) fn walk_all(
    root: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<(Vec<Entry>, crate::at::Dirs)> {
    check_root(root)?;
    let mut dirs = crate::at::Dirs::new();
    let meta = fs::metadata(root).map_err(Error::io("walk", root))?;
    dirs.insert(root.to_path_buf(), crate::at::Id::of(&meta));
    let mut entries = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    for entry in walk {
        match entry {
            Ok(entry) => {
                let is_dir = entry.file_type().is_dir();
                if is_dir {
                    match entry.metadata() {
                        Ok(meta) if meta.is_dir() => {
                            dirs.insert(entry.path().to_path_buf(), crate::at::Id::of(&meta));
                        }
                        // Replaced since it was listed: its contents are not planned.
                        Ok(_) => continue,
                        Err(err) => {
                            warnings.push(Warning::from_walkdir(err, root));
                            continue;
                        }
                    }
                }
                entries.push(Entry {
                    is_dir,
                    depth: entry.depth(),
                    path: entry.into_path(),
                });
            }
            Err(err) => warnings.push(Warning::from_walkdir(err, root)),
        }
    }
    Ok((entries, dirs))
}
