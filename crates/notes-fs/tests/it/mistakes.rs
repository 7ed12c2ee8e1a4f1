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
