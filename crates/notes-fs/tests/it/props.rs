//! Property tests on random small trees: renames lose nothing and undo exactly; deletes remove
//! exactly the plan and nothing under `.git`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use notes_fs::{DeletePlan, DeleteRule, RenameOptions, RenamePlan, RenameRule};
use proptest::prelude::*;

/// What a tree holds: each entry's relative path and what it is.
type Snapshot = BTreeMap<PathBuf, Node>;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

fn snapshot(root: &Path) -> Snapshot {
    let mut out = Snapshot::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let meta = fs::symlink_metadata(&path).unwrap();
            let node = if meta.file_type().is_symlink() {
                Node::Link(fs::read_link(&path).unwrap())
            } else if meta.is_dir() {
                stack.push(path.clone());
                Node::Dir
            } else {
                Node::File(fs::read(&path).unwrap())
            };
            out.insert(rel, node);
        }
    }
    out
}

/// The multiset of what files and links hold (directories are only containers).
fn contents(snap: &Snapshot) -> Vec<Node> {
    let mut out: Vec<Node> = snap
        .values()
        .filter(|n| **n != Node::Dir)
        .cloned()
        .collect();
    out.sort();
    out
}

fn name() -> impl Strategy<Value = OsString> {
    let plain = prop::sample::select(vec![
        "a b",
        "A B",
        "a_b",
        "A_B",
        "x y.txt",
        "X Y.txt",
        "x_y.txt",
        "dir one",
        "Dir One",
        "c.PDF",
        "c.pdf.bak",
        ".git",
        "not.github",
        "z",
    ])
    .prop_map(OsString::from);
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        prop_oneof![
            8 => plain,
            1 => Just(OsString::from_vec(b"Bad\xff Name".to_vec())),
        ]
    }
    #[cfg(not(unix))]
    plain
}

#[derive(Debug, Clone)]
struct Spec {
    path: Vec<OsString>,
    // Links are only made on Unix; elsewhere the flag is generated but not used.
    #[cfg_attr(not(unix), allow(dead_code))]
    link: bool,
    contents: u8,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(name(), 1..4),
        prop::bool::weighted(0.15),
        any::<u8>(),
    )
        .prop_map(|(path, link, contents)| Spec {
            path,
            link,
            contents,
        })
}

/// Builds the tree; entries whose path runs through an existing file are left out.
fn build(root: &Path, specs: &[Spec]) {
    for (i, spec) in specs.iter().enumerate() {
        let path: PathBuf = spec.path.iter().collect();
        let path = root.join(path);
        if fs::create_dir_all(path.parent().unwrap()).is_err()
            || fs::symlink_metadata(&path).is_ok()
        {
            continue;
        }
        #[cfg(unix)]
        if spec.link {
            // Links point at a sibling name, present or not: they are renamed as links.
            std::os::unix::fs::symlink(format!("target {}", spec.contents), &path).unwrap();
            continue;
        }
        fs::write(&path, format!("{i}:{}", spec.contents)).unwrap();
    }
}

fn options(dirs: bool, lowercase: bool, all: bool) -> RenameOptions {
    RenameOptions {
        rule: RenameRule {
            lowercase,
            all,
            ..Default::default()
        },
        dirs,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rename_loses_nothing_and_undo_restores_exactly(
        specs in prop::collection::vec(spec(), 1..12),
        dirs: bool,
        lowercase: bool,
        all: bool,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        build(&root, &specs);
        let before = snapshot(&root);
        let plan = RenamePlan::new(&root, &options(dirs, lowercase, all)).unwrap();
        prop_assert!(plan.warnings().is_empty());
        let journal = dir.path().join("journal");
        let applied = plan.apply(&journal, true).unwrap();
        let after = snapshot(&root);
        prop_assert_eq!(contents(&after), contents(&before));
        prop_assert_eq!(after.len(), before.len());
        // Nothing in .git is renamed (it moves only with a renamed parent directory), and every
        // conflicting entry kept its name.
        for r in plan.renames() {
            prop_assert!(!r.from.strip_prefix(&root).unwrap().components().any(|c| c.as_os_str() == ".git"));
        }
        if !dirs {
            for (path, node) in &before {
                if path.components().any(|c| c.as_os_str() == ".git") {
                    prop_assert_eq!(after.get(path), Some(node));
                }
            }
        }
        // (With directories renamed too, a conflicting file moves with its parent.)
        for r in plan.renames().iter().filter(|r| r.conflicted && !dirs) {
            prop_assert!(fs::symlink_metadata(&r.from).is_ok(), "{} lost", r.from.display());
        }
        // A second plan has nothing left to do that the first could do.
        if applied.skipped == 0 {
            let again = RenamePlan::new(&root, &options(dirs, lowercase, all)).unwrap();
            prop_assert!(again.renames().is_empty(), "{:?}", again.renames());
        }
        if applied.renamed > 0 {
            let undone = notes_fs::undo(&journal).unwrap();
            prop_assert_eq!(undone.restored, applied.renamed);
        }
        prop_assert_eq!(snapshot(&root), before);
    }

    #[test]
    fn delete_removes_exactly_the_plan(specs in prop::collection::vec(spec(), 1..12), keep_pdf: bool) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        build(root, &specs);
        let before = snapshot(root);
        let rule = if keep_pdf {
            DeleteRule { keep_ext: vec!["pdf".into()], ..Default::default() }
        } else {
            DeleteRule { patterns: vec!["*.txt".into(), "z".into()], ..Default::default() }
        };
        let plan = DeletePlan::new(root, &rule).unwrap();
        let planned: Vec<PathBuf> = plan
            .files()
            .iter()
            .map(|d| d.path.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        prop_assert_eq!(snapshot(root), before.clone(), "planning changed the tree");
        let done = plan.apply(notes_fs::Removal::Delete).unwrap();
        prop_assert_eq!(done.deleted, planned.len());
        let mut expected = before.clone();
        for path in &planned {
            prop_assert!(!path.components().any(|c| c.as_os_str() == ".git"));
            prop_assert!(expected.remove(path).is_some_and(|n| n != Node::Dir));
        }
        prop_assert_eq!(snapshot(root), expected);
    }
}
