//! A concurrent process changing the tree between the plan and its apply (the race of
//! CVE-2022-21658): nothing outside the root is ever deleted or renamed.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use notes_fs::{DeletePlan, DeleteRule, Problem, RenamePlan};

use crate::files;

fn glob(pattern: &str) -> DeleteRule {
    DeleteRule {
        patterns: vec![pattern.into()],
        ..Default::default()
    }
}

/// `root/sub` (with `n` files `*.tmp`) and `outside` (the same names), side by side.
fn two_trees(dir: &Path, n: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let (root, outside) = (dir.join("root"), dir.join("outside"));
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    for i in 0..n {
        fs::write(root.join(format!("sub/f{i} x.tmp")), "in").unwrap();
        fs::write(outside.join(format!("f{i} x.tmp")), "out").unwrap();
    }
    (root, outside)
}

/// Between the plan and the apply, `root/sub` becomes a link to `outside`: apply deletes
/// nothing through it, and says which directory changed.
#[test]
fn delete_never_follows_a_directory_swapped_for_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = two_trees(dir.path(), 20);
    let plan = DeletePlan::new(&root, &glob("*.tmp")).unwrap();
    assert_eq!(plan.files().len(), 20);
    fs::rename(root.join("sub"), dir.path().join("moved")).unwrap();
    symlink(&outside, root.join("sub")).unwrap();
    let done = plan.apply(Default::default()).unwrap();
    assert_eq!(done.deleted, 0);
    assert_eq!(
        files(&outside).len(),
        20,
        "files outside the root were deleted"
    );
    assert_eq!(files(&dir.path().join("moved")).len(), 20);
    assert_eq!(done.warnings.len(), 1, "{:?}", done.warnings);
    assert!(matches!(done.warnings[0].problem, Problem::Changed));
    assert_eq!(done.warnings[0].path, root.join("sub"));
    // Another directory put in its place (no link at all) is refused as well.
    fs::remove_file(root.join("sub")).unwrap();
    fs::create_dir(root.join("sub")).unwrap();
    fs::write(root.join("sub/f0 x.tmp"), "new").unwrap();
    let done = plan.apply(Default::default()).unwrap();
    assert_eq!(done.deleted, 0);
    assert!(root.join("sub/f0 x.tmp").exists());
}

/// The same with renames: nothing outside is renamed.
#[test]
fn rename_never_follows_a_directory_swapped_for_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = two_trees(dir.path(), 5);
    let plan = RenamePlan::new(&root, &Default::default()).unwrap();
    assert_eq!(plan.renames().len(), 5);
    fs::rename(root.join("sub"), dir.path().join("moved")).unwrap();
    symlink(&outside, root.join("sub")).unwrap();
    let applied = plan.apply(&dir.path().join("journal"), false).unwrap();
    assert_eq!(applied.renamed, 0);
    assert!(outside.join("f0 x.tmp").exists());
    assert!(!outside.join("f0_x.tmp").exists());
    // One warning for the directory that changed, not one per entry below it (as delete).
    assert_eq!(applied.warnings.len(), 1, "{:?}", applied.warnings);
    assert!(matches!(applied.warnings[0].problem, Problem::Changed));
    assert_eq!(applied.warnings[0].path, root.join("sub"));
}

/// A file replaced since the plan (another file under the same name) is not deleted.
#[test]
fn delete_skips_a_file_replaced_since_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _) = two_trees(dir.path(), 2);
    let plan = DeletePlan::new(&root, &glob("*.tmp")).unwrap();
    let path = root.join("sub/f0 x.tmp");
    // Written beside it and renamed over it, so it cannot reuse the old inode number.
    let new = root.join("new");
    fs::write(&new, "a new file the plan never showed").unwrap();
    fs::rename(&new, &path).unwrap();
    let done = plan.apply(Default::default()).unwrap();
    assert_eq!(done.deleted, 1);
    assert!(path.exists());
    assert!(matches!(done.warnings[0].problem, Problem::Changed));
}

/// The race itself: another thread keeps swapping `root/sub` and a link to `outside` while
/// the apply runs, on a tree big enough for the swap to land mid-apply.
#[test]
fn delete_under_a_concurrent_swap_stays_inside() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = two_trees(dir.path(), 3000);
    let plan = DeletePlan::new(&root, &glob("*.tmp")).unwrap();
    let stop = AtomicBool::new(false);
    let moved = dir.path().join("moved");
    let done = std::thread::scope(|scope| {
        scope.spawn(|| {
            let sub = root.join("sub");
            // Bounded: the apply takes far less than this many swaps.
            for _ in 0..100_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                fs::rename(&sub, &moved).unwrap();
                symlink(&outside, &sub).unwrap();
                std::thread::yield_now();
                fs::remove_file(&sub).unwrap();
                fs::rename(&moved, &sub).unwrap();
            }
        });
        let done = plan.apply(Default::default());
        stop.store(true, Ordering::Relaxed);
        done
    })
    .unwrap();
    assert_eq!(
        files(&outside).len(),
        3000,
        "files outside the root were deleted"
    );
    // Every file is either deleted or still inside, and the counts agree.
    assert_eq!(done.deleted + files(&root).len(), 3000);
}

/// Between the apply and its undo, `root/sub` becomes a link to `outside`, which holds files
/// under the new names: the undo stops at the link, naming it, and renames nothing outside.
#[test]
fn undo_never_follows_a_directory_swapped_for_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = two_trees(dir.path(), 3);
    let journal = dir.path().join("journal");
    let plan = RenamePlan::new(&root, &Default::default()).unwrap();
    assert_eq!(plan.apply(&journal, false).unwrap().renamed, 3);
    for i in 0..3 {
        fs::rename(
            outside.join(format!("f{i} x.tmp")),
            outside.join(format!("f{i}_x.tmp")),
        )
        .unwrap();
    }
    fs::rename(root.join("sub"), dir.path().join("moved")).unwrap();
    symlink(&outside, root.join("sub")).unwrap();
    let err = notes_fs::undo(&journal).unwrap_err();
    let why = std::error::Error::source(&err).map(|e| e.to_string());
    assert!(
        why.as_deref()
            .is_some_and(|why| why.contains("sub is now a link or not a directory")),
        "{err}: {why:?}"
    );
    for i in 0..3 {
        assert!(
            outside.join(format!("f{i}_x.tmp")).exists(),
            "renamed outside"
        );
        assert!(
            !outside.join(format!("f{i} x.tmp")).exists(),
            "renamed outside"
        );
    }
    // Put back, the undo restores every name.
    fs::remove_file(root.join("sub")).unwrap();
    fs::rename(dir.path().join("moved"), root.join("sub")).unwrap();
    assert_eq!(notes_fs::undo(&journal).unwrap().restored, 3);
    assert!(root.join("sub/f0 x.tmp").exists());
}
