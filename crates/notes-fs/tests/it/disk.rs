//! A full disk and a damaged journal: every rename done can be undone, and undo's errors name
//! the path.

use std::fs;
use std::path::Path;

use notes_fs::{Error, RenamePlan};

use crate::files;

/// A small tmpfs mounted for one test, unmounted when dropped.
#[cfg(target_os = "linux")]
struct Tmpfs(std::path::PathBuf);

#[cfg(target_os = "linux")]
impl Tmpfs {
    /// Mounts a tmpfs of `size` bytes at `dir`, if this process may (root): `None` otherwise.
    fn mount(dir: &Path, size: usize) -> Option<Self> {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir.to_path_buf()))
    }
}

#[cfg(target_os = "linux")]
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// The journal's disk fills during `--apply`: apply stops, and undo restores every name that
/// was changed, accepting the half-written last line. Before, undo refused the whole journal.
#[cfg(target_os = "linux")]
#[test]
fn a_full_journal_disk_loses_no_name() {
    let dir = tempfile::tempdir().unwrap();
    let (root, small) = (dir.path().join("root"), dir.path().join("small"));
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&small).unwrap();
    let Some(_mount) = Tmpfs::mount(&small, 200 * 1024) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    // About 300 bytes a journal line: 2000 renames need ~600 kB, the disk has 200 kB.
    let long = "x".repeat(120);
    for i in 0..2000 {
        fs::write(root.join(format!("{long} {i}")), i.to_string()).unwrap();
    }
    let before = files(&root);
    let plan = RenamePlan::new(&root, &Default::default()).unwrap();
    let journal = small.join("journal");
    let err = plan.apply(&journal, false).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Io {
                action: "write journal",
                ..
            }
        ),
        "{err}"
    );
    let renamed = files(&root)
        .iter()
        .filter(|p| p.to_string_lossy().contains('_'))
        .count();
    assert!(renamed > 0 && renamed < 2000, "{renamed}");
    let undone = notes_fs::undo(&journal).unwrap();
    assert_eq!(undone.restored, renamed);
    assert_eq!(files(&root), before);
    // Every file kept its contents.
    for i in [0, 999, 1999] {
        let path = root.join(format!("{long} {i}"));
        assert_eq!(fs::read_to_string(path).unwrap(), i.to_string());
    }
}

/// Undo's errors say which path is missing or already there ("entity not found" before).
#[test]
fn undo_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("A B"), "").unwrap();
    let plan = RenamePlan::new(&root, &Default::default()).unwrap();
    let journal = dir.path().join("journal");
    plan.apply(&journal, false).unwrap();
    // The original name taken by a new file.
    fs::write(root.join("A B"), "new").unwrap();
    let err = notes_fs::undo(&journal).unwrap_err();
    let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(
        text.contains(&format!("{} already exists", root.join("A B").display())),
        "{text}"
    );
    // Both names gone.
    fs::remove_file(root.join("A B")).unwrap();
    fs::remove_file(root.join("a_b")).unwrap();
    let err = notes_fs::undo(&journal).unwrap_err();
    let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(
        text.contains(&format!("{} is missing", root.join("a_b").display())),
        "{text}"
    );
    assert!(Path::new(&journal).exists());
}
