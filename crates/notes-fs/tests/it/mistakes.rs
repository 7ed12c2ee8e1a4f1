//! Typos and unset shell variables: a rule that would select everything is refused.

use notes_fs::{DeletePlan, DeleteRule, Error};

use crate::{files, tree};

/// `-k "$UNSET"` once kept nothing and deleted every file.
#[test]
fn empty_or_dots_only_extensions_and_empty_globs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a.pdf", "b.txt", "c"]);
    let refused = |keep_ext: &[&str], patterns: &[&str]| {
        let rule = DeleteRule {
            keep_ext: keep_ext.iter().map(|s| s.to_string()).collect(),
            patterns: patterns.iter().map(|s| s.to_string()).collect(),
        };
        let err = DeletePlan::new(dir.path(), &rule).unwrap_err();
        assert!(matches!(err, Error::EmptyRule { .. }), "{err}");
    };
    refused(&[""], &[]);
    refused(&["."], &[]);
    refused(&[" "], &[]);
    refused(&["\t"], &[]);
    refused(&["..."], &[]);
    refused(&["pdf", ""], &[]);
    refused(&["tar.gz"], &[]);
    refused(&[], &[""]);
    refused(&["pdf"], &[""]);
    assert_eq!(files(dir.path()).len(), 3);
    // `.pdf` and `pdf` are the same extension, and fine.
    let rule = DeleteRule {
        keep_ext: vec![".pdf".into()],
        ..Default::default()
    };
    assert_eq!(DeletePlan::new(dir.path(), &rule).unwrap().files().len(), 2);
}

/// A new name over the file system's limit (255 bytes here), also one that only grows by
/// lowercasing (`İ` is 2 bytes, its lowercase 3), is a conflict of the plan: `apply` renames
/// nothing. Before, it passed the plan and `apply` stopped half-way ("File name too long").
#[test]
fn names_the_file_system_cannot_hold_are_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let grows = format!("{} x", "İ".repeat(126)); // 254 bytes, 380 lowercased
    assert_eq!(grows.len(), 254);
    let fine = format!("{} x", "A".repeat(250)); // lowercasing keeps its 252 bytes
    tree(dir.path(), &["a b", &grows, &fine]);
    let plan = notes_fs::RenamePlan::new(dir.path(), &Default::default()).unwrap();
    let too_long: Vec<_> = plan
        .conflicts()
        .iter()
        .filter_map(|c| match c {
            notes_fs::Conflict::TooLong {
                from, what, bytes, ..
            } => Some((from.file_name().unwrap().to_owned(), *what, *bytes)),
            _ => None,
        })
        .collect();
    assert_eq!(too_long, [(grows.clone().into(), "name", 380)]);
    let err = plan.apply(&dir.path().join("j"), false).unwrap_err();
    assert!(matches!(err, Error::Conflicts { count: 1 }), "{err}");
    assert!(dir.path().join("a b").exists() && dir.path().join(&grows).exists());
    assert!(
        plan.conflicts()[0]
            .to_string()
            .contains("380 bytes, over the limit of 255")
    );
}

/// A new path over `PATH_MAX` (which `undo` would have to open) is a conflict too.
#[cfg(target_os = "linux")]
#[test]
fn paths_the_system_cannot_take_are_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().to_path_buf();
    while deep.as_os_str().len() < 4000 {
        deep.push("d".repeat(200));
    }
    std::fs::create_dir_all(&deep).unwrap();
    let room = 4095 - deep.as_os_str().len() - 1; // bytes left for a name
    let name = format!("{} b", "a".repeat(room - 2)); // fits exactly
    std::fs::write(deep.join(&name), "").unwrap();
    let rule = notes_fs::RenameRule {
        replace: vec![(" ".into(), "___".into())],
        ..Default::default()
    };
    let options = notes_fs::RenameOptions { rule, dirs: false };
    let plan = notes_fs::RenamePlan::new(dir.path(), &options).unwrap();
    assert!(
        matches!(
            plan.conflicts(),
            [notes_fs::Conflict::TooLong {
                what: "path",
                limit: 4095,
                ..
            }]
        ),
        "{:?}",
        plan.conflicts()
    );
}

/// `notes delete / ...` or `notes rename / ...` (a typo, `$UNSET/`): the root of the file
/// system is refused before anything is walked, also through a link to it, as `rm -r /` is.
#[cfg(unix)]
#[test]
fn the_root_of_the_file_system_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("to-root");
    std::os::unix::fs::symlink("/", &link).unwrap();
    let rule = notes_fs::DeleteRule {
        patterns: vec!["*.no-such-extension".into()],
        ..Default::default()
    };
    for root in [std::path::Path::new("/"), std::path::Path::new("//"), &link] {
        let err = notes_fs::DeletePlan::new(root, &rule).unwrap_err();
        assert!(
            matches!(err, notes_fs::Error::FileSystemRoot { .. }),
            "{root:?}: {err}"
        );
        let err = notes_fs::RenamePlan::new(root, &Default::default()).unwrap_err();
        assert!(
            matches!(err, notes_fs::Error::FileSystemRoot { .. }),
            "{root:?}: {err}"
        );
    }
    // A directory below it is planned as usual.
    assert!(notes_fs::DeletePlan::new(dir.path(), &rule).is_ok());
}
