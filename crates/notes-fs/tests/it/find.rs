//! `find`: fd-like and os.walk-like semantics, warnings instead of silent drops.

use std::fs;
use std::path::{Path, PathBuf};

use notes_fs::{Event, FindOptions, Problem, find, find_each};

use crate::tree;

fn names(root: &Path, exts: &[&str], options: &FindOptions) -> Vec<PathBuf> {
    let options = FindOptions {
        sort: true,
        ..options.clone()
    };
    let found = find(root, exts, &options).unwrap();
    assert!(found.warnings.is_empty(), "{:?}", found.warnings);
    found
        .paths
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
        .collect()
}

fn sample(root: &Path) {
    tree(
        root,
        &[
            "a.wav",
            "B.WAV",
            "x.wav.txt",
            ".hidden/h.wav",
            ".dot.wav",
            "sub/deep/d.wav",
            "ignored/i.wav",
            "skip.wav",
            ".git/objects/o.wav",
            ".gitignore",
        ],
    );
    fs::write(root.join(".gitignore"), "ignored/\nskip.wav\n").unwrap();
}

#[test]
fn default_is_like_fd_and_unrestricted_like_os_walk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sample(root);
    // The .gitignore applies only inside a git repository, as with fd.
    fs::create_dir_all(root.join(".git")).unwrap();
    let default = names(root, &["wav"], &FindOptions::default());
    assert_eq!(default, ["B.WAV", "a.wav", "sub/deep/d.wav"].map(Path::new));

    let hidden = FindOptions {
        hidden: true,
        ..Default::default()
    };
    let got = names(root, &[".wav"], &hidden);
    assert!(got.contains(&PathBuf::from(".hidden/h.wav")));
    assert!(got.contains(&PathBuf::from(".dot.wav")));
    assert!(!got.contains(&PathBuf::from("skip.wav")));

    let no_ignore = FindOptions {
        no_ignore: true,
        ..Default::default()
    };
    let got = names(root, &["wav"], &no_ignore);
    assert_eq!(got.len(), 5, "{got:?}");

    let all = FindOptions {
        unrestricted: true,
        ..Default::default()
    };
    let got = names(root, &["wav"], &all);
    assert_eq!(got.len(), 8, "{got:?}");
    let exact = FindOptions {
        unrestricted: true,
        case_sensitive: true,
        max_depth: Some(1),
        ..Default::default()
    };
    assert_eq!(
        names(root, &["wav"], &exact),
        [".dot.wav", "a.wav", "skip.wav"].map(Path::new)
    );
}

#[test]
fn absolute_and_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a.wav"]);
    let rel = Path::new(dir.path().file_name().unwrap());
    let parent = dir.path().parent().unwrap();
    let options = FindOptions {
        absolute: true,
        ..Default::default()
    };
    // A relative root gives relative paths; `absolute` gives absolute ones.
    let found = find(&parent.join(rel), &["wav"], &options).unwrap();
    assert!(found.paths[0].is_absolute());
    assert_eq!(found.paths[0], dir.path().join("a.wav"));
}

#[test]
fn a_root_that_is_not_a_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = find(&dir.path().join("none"), &["x"], &FindOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cannot walk "), "{err}");
    tree(dir.path(), &["f"]);
    let err = find(&dir.path().join("f"), &["x"], &FindOptions::default()).unwrap_err();
    assert!(matches!(err, notes_fs::Error::NotADirectory { .. }));
}

#[test]
fn a_directory_vanishing_mid_walk_is_a_warning() {
    // Links followed or not: a vanished directory is no dangling link.
    for (unrestricted, follow_links) in [(false, false), (true, false), (false, true), (true, true)]
    {
        let unrestricted_and_follow = (unrestricted, follow_links);
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path(), &["d1/a.wav", "d2/b.wav", "kept.wav"]);
        let options = FindOptions {
            unrestricted,
            follow_links,
            // In order, so the second directory is removed before it is read.
            threads: 1,
            ..Default::default()
        };
        let mut matches = Vec::new();
        let mut warnings = Vec::new();
        let mut removed = None;
        find_each(dir.path(), &["wav"], &options, |event| match event {
            // Both directories are listed before either is entered: entering the first,
            // remove the second, which the walker then fails to open.
            Event::Seen(p) if removed.is_none() => {
                let other = if p.ends_with("d1") { "d2" } else { "d1" };
                fs::remove_dir_all(dir.path().join(other)).unwrap();
                removed = Some(dir.path().join(other));
            }
            Event::Match(p) => matches.push(p.to_path_buf()),
            Event::Warning(w) => warnings.push(w),
            _ => {}
        })
        .unwrap();
        assert_eq!(matches.len(), 2, "{unrestricted_and_follow:?}: {matches:?}");
        assert_eq!(
            warnings.len(),
            1,
            "{unrestricted_and_follow:?}: {warnings:?}"
        );
        assert!(matches!(warnings[0].problem, Problem::Vanished));
        assert_eq!(Some(&warnings[0].path), removed.as_ref());
    }
}

#[cfg(unix)]
#[test]
fn unreadable_directories_are_warnings_not_silent() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["locked/a.wav", "open/b.wav"]);
    let locked = dir.path().join("locked");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    // Root can read it anyway; then the file must be found, otherwise a warning must say so.
    let readable = fs::read_dir(&locked).is_ok();
    for unrestricted in [false, true] {
        let options = FindOptions {
            unrestricted,
            sort: true,
            ..Default::default()
        };
        let found = find(dir.path(), &["wav"], &options).unwrap();
        if readable {
            assert_eq!(found.paths.len(), 2);
        } else {
            assert_eq!(found.paths, [dir.path().join("open/b.wav")]);
            assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
            assert!(matches!(found.warnings[0].problem, Problem::Unreadable(_)));
            assert!(found.warnings[0].to_string().starts_with("cannot read "));
        }
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn link_loops_are_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["d/a.wav"]);
    std::os::unix::fs::symlink(dir.path().join("d"), dir.path().join("d/back")).unwrap();
    for unrestricted in [false, true] {
        let options = FindOptions {
            unrestricted,
            follow_links: true,
            ..Default::default()
        };
        let found = find(dir.path(), &["wav"], &options).unwrap();
        assert_eq!(found.paths.len(), 1, "{unrestricted}: {:?}", found.paths);
        assert!(
            found
                .warnings
                .iter()
                .any(|w| matches!(w.problem, Problem::Loop { .. })),
            "{unrestricted}: {:?}",
            found.warnings
        );
        // Not following, the link is an entry like any other and nothing loops.
        let options = FindOptions {
            unrestricted,
            ..Default::default()
        };
        let found = find(dir.path(), &["wav"], &options).unwrap();
        assert_eq!((found.paths.len(), found.warnings.len()), (1, 0));
    }
}

#[cfg(unix)]
#[test]
fn dangling_links_are_files_when_links_are_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, &["real.wav", "d/inner.wav", "file"]);
    symlink("nowhere", root.join("dangling.wav")).unwrap();
    symlink("nowhere", root.join("d/dangling.txt")).unwrap();
    symlink("nowhere", root.join(".hidden.wav")).unwrap();
    // Below a file: ENOTDIR rather than ENOENT, and just as dangling.
    symlink("file/below", root.join("below.wav")).unwrap();
    // Every walker used with links followed (walkdir serial; ignore serial and parallel),
    // links not followed (the getdents walkers) for comparison.
    for follow_links in [true, false] {
        for unrestricted in [false, true] {
            for hidden in [false, true] {
                for threads in [1, 2] {
                    let options = FindOptions {
                        follow_links,
                        unrestricted,
                        hidden,
                        threads,
                        sort: true,
                        ..Default::default()
                    };
                    let case = format!("{options:?}");
                    let found = find(root, &["wav"], &options).unwrap();
                    assert!(found.warnings.is_empty(), "{case}: {:?}", found.warnings);
                    let mut want = vec!["below.wav", "d/inner.wav", "dangling.wav", "real.wav"];
                    if unrestricted || hidden {
                        want.insert(0, ".hidden.wav");
                    }
                    let got: Vec<_> = found
                        .paths
                        .iter()
                        .map(|p| p.strip_prefix(root).unwrap())
                        .collect();
                    assert_eq!(
                        got,
                        want.iter().map(Path::new).collect::<Vec<_>>(),
                        "{case}"
                    );
                    // Every file, the dangling link without the extension too.
                    let all = find(root, &[] as &[&str], &options).unwrap();
                    assert!(
                        all.paths.contains(&root.join("d/dangling.txt")),
                        "{case}: {:?}",
                        all.paths
                    );
                }
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn non_utf8_names_are_found() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname.wav");
    fs::write(dir.path().join(name), "").unwrap();
    let found = find(dir.path(), &["wav"], &FindOptions::default()).unwrap();
    assert_eq!(found.paths, [dir.path().join(name)]);
}
