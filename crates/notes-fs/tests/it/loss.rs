//! The four ways the notes' Python snippets lose data or skip work, each shown not to happen.

use std::fs;
use std::path::Path;

use notes_fs::{Conflict, DeletePlan, DeleteRule, RenameOptions, RenamePlan, RenameRule};

use crate::{files, tree};

/// (1) Renaming top-down during `os.walk` makes the walk miss the renamed subtree.
#[test]
fn renaming_directories_never_loses_a_subtree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(
        &root,
        &[
            "Top Dir/Mid Dir/Deep File.txt",
            "Top Dir/Other File.txt",
            "Top Dir/Mid Dir/Low Dir/x y.md",
        ],
    );
    let options = RenameOptions {
        dirs: true,
        ..Default::default()
    };
    let plan = RenamePlan::new(&root, &options).unwrap();
    assert!(plan.conflicts().is_empty());
    assert_eq!(plan.renames().len(), 6);
    let applied = plan.apply(&dir.path().join("journal"), false).unwrap();
    assert_eq!(applied.renamed, 6);
    assert_eq!(
        files(&root),
        [
            "top_dir/mid_dir/deep_file.txt",
            "top_dir/mid_dir/low_dir/x_y.md",
            "top_dir/other_file.txt",
        ]
        .map(Path::new)
    );
    // Contents follow their files.
    assert_eq!(
        fs::read_to_string(root.join("top_dir/mid_dir/deep_file.txt")).unwrap(),
        "Top Dir/Mid Dir/Deep File.txt"
    );
    notes_fs::undo(&dir.path().join("journal")).unwrap();
    assert_eq!(
        files(&root),
        [
            "Top Dir/Mid Dir/Deep File.txt",
            "Top Dir/Mid Dir/Low Dir/x y.md",
            "Top Dir/Other File.txt",
        ]
        .map(Path::new)
    );
}

/// (2) `".git" not in root` also skips `not.github/` and `my.gitconfig.d/`.
#[test]
fn only_git_itself_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(
        root,
        &[
            ".git/a b.txt",
            "sub/.git/c d.txt",
            "not.github/e f.txt",
            "my.gitconfig.d/g h.txt",
            ".gitignore x",
        ],
    );
    let plan = RenamePlan::new(root, &RenameOptions::default()).unwrap();
    let mut from: Vec<_> = plan
        .renames()
        .iter()
        .map(|r| r.from.strip_prefix(root).unwrap().to_path_buf())
        .collect();
    from.sort();
    assert_eq!(
        from,
        [
            ".gitignore x",
            "my.gitconfig.d/g h.txt",
            "not.github/e f.txt"
        ]
        .map(Path::new)
    );

    let rule = DeleteRule {
        keep_ext: vec!["pdf".into()],
        ..Default::default()
    };
    let plan = DeletePlan::new(root, &rule).unwrap();
    let doomed: Vec<_> = plan
        .files()
        .iter()
        .map(|d| d.path.strip_prefix(root).unwrap().to_path_buf())
        .collect();
    assert_eq!(
        doomed,
        [
            ".gitignore x",
            "my.gitconfig.d/g h.txt",
            "not.github/e f.txt"
        ]
        .map(Path::new)
    );
    plan.apply(notes_fs::Removal::Delete).unwrap();
    assert_eq!(
        files(root),
        [".git/a b.txt", "sub/.git/c d.txt"].map(Path::new)
    );
}

/// (3) `".pdf" not in filename` keeps `report.pdf.bak` and deletes `A File.PDF`.
#[test]
fn extensions_are_real_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(
        root,
        &["A File.PDF", "report.pdf.bak", "b.pdf", "pdf", ".pdf"],
    );
    let rule = DeleteRule {
        keep_ext: vec!["pdf".into()],
        ..Default::default()
    };
    let plan = DeletePlan::new(root, &rule).unwrap();
    assert_eq!(
        plan.total_size(),
        (".pdf".len() + "pdf".len() + "report.pdf.bak".len()) as u64
    );
    // Planning deletes nothing.
    assert_eq!(files(root).len(), 5);
    let done = plan.apply(notes_fs::Removal::Delete).unwrap();
    assert_eq!(done.deleted, 3);
    assert_eq!(files(root), ["A File.PDF", "b.pdf"].map(Path::new));
}

/// (4) Two names mapping to one make the second rename fail or overwrite the first.
#[test]
fn colliding_names_are_reported_and_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(
        &root,
        &["A B.txt", "a b.txt", "c_d.txt", "C D.txt", "fine one.txt"],
    );
    let plan = RenamePlan::new(&root, &RenameOptions::default()).unwrap();
    let conflicts = plan.conflicts();
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    assert!(
        conflicts
            .iter()
            .any(|c| matches!(c, Conflict::SameTarget { sources, .. } if sources.len() == 2))
    );
    assert!(
        conflicts
            .iter()
            .any(|c| matches!(c, Conflict::TargetExists { to, .. } if to.ends_with("c_d.txt")))
    );

    let journal = dir.path().join("journal");
    let err = plan.apply(&journal, false).unwrap_err();
    assert!(
        matches!(err, notes_fs::Error::Conflicts { count: 2 }),
        "{err}"
    );
    assert!(!journal.exists());
    let before = files(&root);
    assert_eq!(before.len(), 5);

    let applied = plan.apply(&journal, true).unwrap();
    assert_eq!((applied.renamed, applied.skipped), (1, 3));
    assert_eq!(
        files(&root),
        ["A B.txt", "C D.txt", "a b.txt", "c_d.txt", "fine_one.txt"].map(Path::new)
    );
    for f in ["A B.txt", "a b.txt", "c_d.txt", "C D.txt"] {
        assert_eq!(fs::read_to_string(root.join(f)).unwrap(), f);
    }
}

/// A target that appears between planning and applying stops the apply, overwriting nothing.
#[test]
fn a_target_that_appears_later_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(&root, &["a a.txt", "b b.txt"]);
    let plan = RenamePlan::new(&root, &RenameOptions::default()).unwrap();
    fs::write(root.join("b_b.txt"), "precious").unwrap();
    let journal = dir.path().join("journal");
    let err = plan.apply(&journal, false).unwrap_err();
    let notes_fs::Error::Rename { done, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(
        fs::read_to_string(root.join("b_b.txt")).unwrap(),
        "precious"
    );
    // Undo restores exactly what was done before the failure.
    let undone = notes_fs::undo(&journal).unwrap();
    assert_eq!(undone.restored, done);
    assert_eq!(
        files(&root),
        ["a a.txt", "b b.txt", "b_b.txt"].map(Path::new)
    );
}

#[test]
fn invalid_names_are_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a b"]);
    let options = RenameOptions {
        rule: RenameRule {
            replace: vec![(" ".into(), "/".into())],
            ..Default::default()
        },
        ..Default::default()
    };
    let plan = RenamePlan::new(dir.path(), &options).unwrap();
    assert!(matches!(plan.conflicts(), [Conflict::InvalidName { .. }]));
    assert!(plan.renames()[0].conflicted);

    // An empty name and `..` are one conflict each, not also "would replace the existing"
    // directory their target path resolves to.
    for to in ["", ".."] {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path(), &["abc", "x"]);
        let options = RenameOptions {
            rule: RenameRule {
                replace: vec![("abc".into(), to.into())],
                ..Default::default()
            },
            ..Default::default()
        };
        let plan = RenamePlan::new(dir.path(), &options).unwrap();
        assert!(
            matches!(plan.conflicts(), [Conflict::InvalidName { .. }]),
            "{to:?}: {:?}",
            plan.conflicts()
        );
    }
}

#[test]
fn bad_journals_and_rules_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    fs::write(&path, "not a journal\n").unwrap();
    let err = notes_fs::undo(&path).unwrap_err().to_string();
    assert!(
        err.contains("is not a valid rename journal: line 1"),
        "{err}"
    );
    fs::write(&path, "notes-rename-journal 1\nonly-one-path\n").unwrap();
    let err = notes_fs::undo(&path).unwrap_err().to_string();
    assert!(
        err.ends_with("line 2: expected two paths separated by a tab"),
        "{err}"
    );

    let err = DeletePlan::new(dir.path(), &DeleteRule::default()).unwrap_err();
    assert!(matches!(err, notes_fs::Error::NoDeleteRule));
    let rule = DeleteRule {
        patterns: vec!["a[".into()],
        ..Default::default()
    };
    let err = DeletePlan::new(dir.path(), &rule).unwrap_err().to_string();
    assert_eq!(err, "invalid pattern \"a[\"");
}

#[test]
fn patterns_select_by_name_and_vanished_files_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, &["x.tmp", "sub/y.tmp", "keep.txt"]);
    let rule = DeleteRule {
        patterns: vec!["*.tmp".into()],
        ..Default::default()
    };
    let plan = DeletePlan::new(root, &rule).unwrap();
    assert_eq!(plan.files().len(), 2);
    fs::remove_file(root.join("x.tmp")).unwrap();
    let done = plan.apply(notes_fs::Removal::Delete).unwrap();
    assert_eq!(done.deleted, 1);
    assert_eq!(done.warnings.len(), 1);
    assert!(
        done.warnings[0]
            .to_string()
            .ends_with("x.tmp vanished after being listed")
    );
    assert_eq!(files(root), ["keep.txt"].map(Path::new));
}
