//! Integration tests of `notes-fs`: one test binary for the crate (fast linking).

mod disk;
mod find;
mod loss;
mod mistakes;
mod props;
mod races;

use std::fs;
use std::path::{Path, PathBuf};

/// Creates each file (with its own path as contents) and its parent directories under `root`.
pub(crate) fn tree(root: &Path, files: &[&str]) {
    for file in files {
        let path = root.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, file).unwrap();
    }
}

/// Every file under `root`, relative and sorted.
pub(crate) fn files(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir(root)
        .into_iter()
        .filter(|(_, is_dir)| !is_dir)
        .map(|(p, _)| p)
        .collect();
    out.sort();
    out
}

fn walkdir(root: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let rel = entry.path().strip_prefix(root).unwrap().to_path_buf();
            if kind.is_dir() {
                stack.push(entry.path());
            }
            out.push((rel, kind.is_dir()));
        }
    }
    out
}
