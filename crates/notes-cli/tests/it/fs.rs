//! `notes find`, `notes rename` and `notes delete` on real trees: what they change and print.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn notes_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tree(root: &Path, files: &[&str]) {
    for file in files {
        let path = root.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, file).unwrap();
    }
}

#[test]
fn find_writes_a_file_or_nul_separated_paths() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a b.wav", "sub/c.WAV", "d.txt"]);
    let out = notes_in(
        dir.path(),
        &["find", "-e", "wav", "-s", "-o", "filenames.txt"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let list = fs::read_to_string(dir.path().join("filenames.txt")).unwrap();
    assert_eq!(list, "a b.wav\nsub/c.WAV\n");
    let out = notes_in(dir.path(), &["find", "-e", "wav", "-s", "-0", "--absolute"]);
    let want = format!(
        "{}\0{}\0",
        dir.path().join("a b.wav").display(),
        dir.path().join("sub/c.WAV").display()
    );
    assert_eq!(text(&out.stdout), want);
}

#[test]
fn find_output_dash_is_standard_output() {
    // `-o -` wrote a file named `-`; as in GNU tools, `-` is standard output (`./-` a file).
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a.wav", "b.txt"]);
    let out = notes_in(dir.path(), &["find", "-e", "wav", "-o", "-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "a.wav\n");
    assert!(!dir.path().join("-").exists());
    let out = notes_in(dir.path(), &["find", "-e", "wav", "-o", "./-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(fs::read_to_string(dir.path().join("-")).unwrap(), "a.wav\n");
}

#[cfg(unix)]
#[test]
fn outputs_onto_devices_and_fifos_write_into_them() {
    use std::os::unix::fs::FileTypeExt;
    // `-o DEVICE --force` renamed a regular file over the device node (it replaced /dev/null).
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a.wav"]);
    std::os::unix::fs::symlink("/dev/null", dir.path().join("null")).unwrap();
    for args in [&["-o", "null"][..], &["-o", "null", "--force"]] {
        let mut all = vec!["find", "-e", "wav"];
        all.extend_from_slice(args);
        let out = notes_in(dir.path(), &all);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let link = fs::symlink_metadata(dir.path().join("null")).unwrap();
        assert!(link.file_type().is_symlink(), "{args:?} replaced the link");
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let out = notes_in(dir.path(), &["find", "-e", "wav", "-o", "fifo", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(reader.join().unwrap(), b"a.wav\n");
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // A directory is never replaced.
    fs::create_dir(dir.path().join("sub")).unwrap();
    let out = notes_in(dir.path(), &["find", "-e", "wav", "-o", "sub", "--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is a directory, not a file"),
        "{}",
        text(&out.stderr)
    );
    assert!(dir.path().join("sub").is_dir());
}

/// `notes find` run by `script` on a pseudo-terminal (util-linux), with `redirect` after it:
/// what the terminal got. None when `script` is not installed.
#[cfg(target_os = "linux")]
fn find_on_a_terminal(root: &Path, redirect: &str) -> Option<String> {
    let notes = env!("CARGO_BIN_EXE_notes");
    let command = format!("'{notes}' find '{}' -e wav {redirect}", root.display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .ok()?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    Some(text(&out.stdout))
}

#[cfg(target_os = "linux")]
#[test]
fn find_on_a_terminal_draws_no_progress_for_a_quick_walk() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a.wav", "b.txt", "sub/c.wav", "sub/d.txt"]);
    // Stderr alone on the terminal: the walk is done long before a progress line would show.
    let Some(terminal) = find_on_a_terminal(dir.path(), "> /dev/null") else {
        return;
    };
    assert_eq!(terminal, "");
    // Paths on the terminal too: only the paths.
    let mut lines: Vec<_> = find_on_a_terminal(dir.path(), "")
        .unwrap()
        .lines()
        .map(|line| line.trim_end_matches('\r').to_owned())
        .collect();
    lines.sort();
    let root = dir.path().display();
    assert_eq!(
        lines,
        [format!("{root}/a.wav"), format!("{root}/sub/c.wav")]
    );
}

#[test]
fn rename_applies_then_undoes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    tree(&root, &["My Dir/Some File.txt", "Other One.md", ".git/x y"]);
    let journal = dir.path().join("j.journal");
    let journal = journal.to_str().unwrap();
    let out = notes_in(
        dir.path(),
        &["rename", "tree", "--dirs", "--apply", "--journal", journal],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with(&format!(
        "renamed 3; undo with: notes rename --undo {journal}\n"
    )));
    assert!(root.join("my_dir/some_file.txt").exists());
    assert!(root.join(".git/x y").exists());
    // The journal exists now: a second apply must not overwrite it.
    let out = notes_in(
        dir.path(),
        &["rename", "tree", "--all", "--apply", "--journal", journal],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "nothing to rename\n");
    let out = notes_in(dir.path(), &["rename", "--undo", journal]);
    assert_eq!(
        text(&out.stdout),
        "restored 3 name(s), 0 unchanged (already restored, or never renamed)\n"
    );
    assert!(root.join("My Dir/Some File.txt").exists());
    let out = notes_in(dir.path(), &["rename", "--undo", "no-such.journal"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: cannot read journal no-such.journal: "));
}

#[test]
fn delete_is_a_dry_run_until_applied() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    tree(
        &root,
        &[
            "A File.PDF",
            "report.pdf.bak",
            ".git/config",
            "not.github/x",
        ],
    );
    let out = notes_in(dir.path(), &["delete", "tree", "--keep-ext", "pdf"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "tree/not.github/x\ntree/report.pdf.bak\ndry run: 2 file(s), 26 B, would be deleted; pass --apply to delete\n"
    );
    assert!(root.join("report.pdf.bak").exists());
    let out = notes_in(dir.path(), &["delete", "tree", "-k", "pdf", "--apply"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("deleted: 2 file(s), 26 B\n"));
    assert!(!root.join("report.pdf.bak").exists());
    assert!(root.join("A File.PDF").exists() && root.join(".git/config").exists());
}

#[test]
fn delete_with_trash_but_without_apply_is_a_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    tree(&root, &["old.tmp", "keep.pdf"]);
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["delete", "tree", "-k", "pdf", "--trash"])
        .current_dir(dir.path())
        .env("XDG_DATA_HOME", &data)
        .env("HOME", dir.path())
        .output()
        .expect("run notes");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "tree/old.tmp\ndry run: 1 file(s), 7 B, would be moved to the trash; pass --apply to move them\n"
    );
    assert!(root.join("old.tmp").exists() && root.join("keep.pdf").exists());
    assert!(!data.exists());
}

#[cfg(target_os = "linux")]
#[test]
fn delete_can_move_files_to_the_trash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    tree(&root, &["old.tmp", "keep.txt"]);
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["delete", "tree", "--glob", "*.tmp", "--apply", "--trash"])
        .current_dir(dir.path())
        .env("XDG_DATA_HOME", &data)
        .env("HOME", dir.path())
        .output()
        .expect("run notes");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("moved to the trash: 1 file(s), 7 B\n"));
    assert!(!root.join("old.tmp").exists());
    assert!(root.join("keep.txt").exists());
    assert!(data.join("Trash/files/old.tmp").exists());
}

#[cfg(unix)]
#[test]
fn names_with_control_characters_or_bad_bytes_show_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    fs::create_dir(&root).unwrap();
    for name in [
        &b"ctl\x01 name.txt"[..],
        b"bad\xff name.txt",
        b"two\nlines x",
    ] {
        fs::write(root.join(std::ffi::OsStr::from_bytes(name)), "x").unwrap();
    }
    let out = notes_in(dir.path(), &["rename", "tree"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "$'tree/bad\\xff name.txt' -> $'tree/bad\\xff_name.txt'\n\
         $'tree/ctl\\x01 name.txt' -> $'tree/ctl\\x01_name.txt'\n\
         $'tree/two\\nlines x' -> $'tree/two\\nlines_x'\n\
         dry run: 3 rename(s) planned; pass --apply to rename\n"
    );
    let out = notes_in(dir.path(), &["delete", "tree", "-k", "pdf"]);
    assert!(text(&out.stdout).starts_with(
        "$'tree/bad\\xff name.txt'\n$'tree/ctl\\x01 name.txt'\n$'tree/two\\nlines x'\n"
    ));
    // A conflict between such names shows them too.
    fs::write(
        root.join(std::ffi::OsStr::from_bytes(b"CTL\x01 NAME.txt")),
        "y",
    )
    .unwrap();
    let out = notes_in(dir.path(), &["rename", "tree"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "conflict: $'tree/CTL\\x01 NAME.txt', $'tree/ctl\\x01 name.txt' would all become $'tree/ctl\\x01_name.txt'"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn undo_works_from_another_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    tree(&root, &["A B.txt", "Sub Dir/C D.txt"]);
    let journal = dir.path().join("j.journal");
    let out = notes_in(
        &root,
        &[
            "rename",
            "--dirs",
            "--apply",
            "--journal",
            journal.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(root.join("sub_dir/c_d.txt").exists());
    let elsewhere = tempfile::tempdir().unwrap();
    let out = notes_in(
        elsewhere.path(),
        &["rename", "--undo", journal.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "restored 3 name(s), 0 unchanged (already restored, or never renamed)\n"
    );
    assert!(root.join("A B.txt").exists() && root.join("Sub Dir/C D.txt").exists());
}

/// The race of CVE-2022-21658 from the command line: while `notes delete --apply` runs, another
/// process keeps swapping a directory of the root for a link to a directory outside it.
/// Nothing outside is deleted (before the fix, most of it was).
#[cfg(unix)]
#[test]
fn delete_under_a_concurrent_swap_stays_inside_the_root() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const N: usize = 4000;
    let dir = tempfile::tempdir().unwrap();
    let (root, outside, moved) = (
        dir.path().join("root"),
        dir.path().join("outside"),
        dir.path().join("moved"),
    );
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    for i in 0..N {
        fs::write(root.join(format!("sub/{i}.tmp")), "").unwrap();
        fs::write(outside.join(format!("{i}.tmp")), "").unwrap();
    }
    let (go, stop) = (AtomicBool::new(false), AtomicBool::new(false));
    let status = std::thread::scope(|scope| {
        scope.spawn(|| {
            let sub = root.join("sub");
            // The swaps start once the plan is made (its first line printed).
            while !go.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            for _ in 0..1_000_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                fs::rename(&sub, &moved).unwrap();
                std::os::unix::fs::symlink(&outside, &sub).unwrap();
                std::thread::yield_now();
                fs::remove_file(&sub).unwrap();
                fs::rename(&moved, &sub).unwrap();
                std::thread::yield_now();
            }
        });
        let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
            .args(["delete", "root", "-g", "*.tmp", "--apply"])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines =
            std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
        lines.next();
        go.store(true, Ordering::Relaxed);
        lines.for_each(drop);
        let status = child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        status
    });
    assert!(status.success());
    let left = fs::read_dir(&outside).unwrap().count();
    assert_eq!(
        left,
        N,
        "{} file(s) outside the root were deleted",
        N - left
    );
}

/// An unset shell variable as `--keep-ext` or `--glob` is a usage error (exit 2), nothing
/// deleted: before, `-k ""` kept nothing and deleted every file.
#[test]
fn delete_refuses_empty_extensions_and_globs() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["a.pdf", "b.txt"]);
    for args in [
        &["-k", ""][..],
        &["-k", "."],
        &["-k", ".."],
        &["-k", "pdf", "-k", ""],
        &["-g", ""],
        &["-k", "pdf", "-g", ""],
    ] {
        let mut all = vec!["delete", "."];
        all.extend_from_slice(args);
        all.push("--apply");
        let out = notes_in(dir.path(), &all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("--"), "{}", text(&out.stderr));
        assert!(dir.path().join("a.pdf").exists() && dir.path().join("b.txt").exists());
    }
}

/// `notes rename` with its state directory at `state`, in `dir`.
fn rename_with_state(dir: &Path, state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .arg("rename")
        .args(args)
        .current_dir(dir)
        .env("XDG_STATE_HOME", state)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notes")
}

/// Journals go to the state directory, never the working directory, with names that do not
/// collide (two applies in the same second from one directory used to fail: File exists);
/// `--undo` alone undoes the latest journal of the tree given, then the one before.
#[test]
fn journals_live_in_the_state_directory_and_undo_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let journals = state.join("notes/rename");
    tree(dir.path(), &["t/A B", "u/C D"]);
    let out = rename_with_state(dir.path(), &state, &["t", "--apply"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&journals.display().to_string()));
    fs::write(dir.path().join("t/E F"), "").unwrap();
    // Two more at once, from the same directory, in the same second.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| rename_with_state(dir.path(), &state, &["u", "--apply"]));
        let b = rename_with_state(dir.path(), &state, &["t", "--apply"]);
        (a.join().unwrap(), b)
    });
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert!(b.status.success(), "{}", text(&b.stderr));
    assert_eq!(fs::read_dir(&journals).unwrap().count(), 3);
    // Nothing but the trees in the working directory.
    let mut here: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    here.sort();
    assert_eq!(here, ["state", "t", "u"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&journals).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    // The latest for t is the one that renamed `E F`; u's own journal is left alone.
    let out = rename_with_state(&dir.path().join("t"), &state, &["--undo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("recent journals in"),
        "{}",
        text(&out.stdout)
    );
    assert!(dir.path().join("t/E F").exists() && dir.path().join("t/a_b").exists());
    assert!(dir.path().join("u/c_d").exists());
    // Again: one further back (a directory given to --undo is the tree).
    let out = rename_with_state(dir.path(), &state, &["--undo", "t"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("t/A B").exists());
    assert!(dir.path().join("u/c_d").exists());
    // Nothing left for t.
    let out = rename_with_state(dir.path(), &state, &["t", "--undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("none of the journals"),
        "{}",
        text(&out.stderr)
    );
    // --journal FILE still works both ways.
    let journal = dir.path().join("mine.journal");
    let j = journal.to_str().unwrap();
    let out = rename_with_state(dir.path(), &state, &["u", "--undo", "--journal", j]);
    assert!(!out.status.success());
    let out = rename_with_state(dir.path(), &state, &["t", "--apply", "--journal", j]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rename_with_state(dir.path(), &state, &["--undo", j]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("t/A B").exists());
}

/// Without XDG_STATE_HOME, journals go to ~/.local/state/notes/rename.
#[cfg(unix)]
#[test]
fn journals_default_to_the_home_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &["t/A B"]);
    let out = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["rename", "t", "--apply"])
        .current_dir(dir.path())
        .env_remove("XDG_STATE_HOME")
        .env("HOME", dir.path().join("home"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let journals = dir.path().join("home/.local/state/notes/rename");
    assert_eq!(fs::read_dir(journals).unwrap().count(), 1);
}

/// Every command that writes a file refuses to replace one unless `--force`, with the same
/// message, and creates it with mode 0666 less the umask. Before, `find -o` and
/// `pickle from-json -o` created 0600 files and `pickle to-json -o`, `pickle from-json -o`
/// and `tensor multihead --output` silently replaced existing files.
#[test]
fn every_output_file_is_refused_unless_forced_with_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    for (from, to) in [
        ("multihead-matmul.in/x.npy", "x.npy"),
        ("multihead-matmul.in/w.npy", "w.npy"),
        ("pickle.in/experiment.pkl", "experiment.pkl"),
        ("pickle.in/run.json", "run.json"),
    ] {
        fs::copy(docs.join(from), dir.path().join(to)).unwrap();
    }
    fs::write(dir.path().join("a.wav"), "").unwrap();
    let commands: [&[&str]; 5] = [
        &["find", "-e", "wav", "-o", "OUT"],
        &["pickle", "to-json", "experiment.pkl", "-o", "OUT"],
        &["pickle", "from-json", "run.json", "-o", "OUT"],
        &[
            "tensor",
            "multihead",
            "--x",
            "x.npy",
            "--w",
            "w.npy",
            "-o",
            "OUT",
        ],
        &["bwt", "-i", "run.json", "-o", "OUT"],
    ];
    for (i, command) in commands.iter().enumerate() {
        let out_name = format!("out{i}");
        let args: Vec<&str> = command
            .iter()
            .map(|&a| if a == "OUT" { out_name.as_str() } else { a })
            .collect();
        let out_path = dir.path().join(&out_name);
        // A new file: written, with the mode any new file gets.
        let run = notes_in(dir.path(), &args);
        assert!(run.status.success(), "{args:?}: {}", text(&run.stderr));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            fs::write(&plain, "").unwrap();
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&out_path), mode(&plain), "{args:?}");
            fs::remove_file(plain).unwrap();
        }
        // An existing file: refused, kept, one message.
        fs::write(&out_path, "precious").unwrap();
        let run = notes_in(dir.path(), &args);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        assert_eq!(
            text(&run.stderr),
            format!("error: {out_name} already exists; pass --force to replace it\n"),
            "{args:?}"
        );
        assert_eq!(fs::read_to_string(&out_path).unwrap(), "precious");
        // --force replaces it.
        let mut forced = args.clone();
        forced.push("--force");
        let run = notes_in(dir.path(), &forced);
        assert!(run.status.success(), "{forced:?}: {}", text(&run.stderr));
        assert_ne!(fs::read(&out_path).unwrap(), b"precious");
    }
    // No temporary file anywhere.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

/// `notes find --json` keeps every byte of a name that is not UTF-8 (an object with its
/// bytes), so a script can act on what it printed; before, such bytes became U+FFFD.
#[cfg(unix)]
#[test]
fn find_json_encodes_non_utf8_names_losslessly() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"bad\xff name.wav");
    fs::write(dir.path().join(bad), "").unwrap();
    fs::write(dir.path().join("good.wav"), "").unwrap();
    let out = notes_in(dir.path(), &["--json", "find", "-e", "wav", "-s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bytes: Vec<u8> = b"bad\xff name.wav".to_vec();
    assert_eq!(json, serde_json::json!([{ "bytes": bytes }, "good.wav"]));
}

/// `notes extract` on an endless input stops at its limit with an error naming the input.
#[cfg(unix)]
#[test]
fn extract_stops_at_its_input_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = notes_in(dir.path(), &["extract", "/dev/zero", "--max-bytes", "1000"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: /dev/zero is longer than 1000 bytes, the --max-bytes limit: nothing was extracted\n"
    );
    fs::write(dir.path().join("t.txt"), "a = b;").unwrap();
    let out = notes_in(
        dir.path(),
        &[
            "extract",
            "t.txt",
            "--prefix",
            "= ",
            "--suffix",
            ";",
            "--max-bytes",
            "6",
        ],
    );
    assert_eq!(text(&out.stdout), "b\n");
    // `-` is standard input (it read a file named `-`), within the same limit.
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "printf 'a = b;' | \"$0\" extract - --prefix '= ' --suffix ';'",
        ])
        .arg(env!("CARGO_BIN_EXE_notes"))
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "b\n", "{}", text(&out.stderr));
    let out = std::process::Command::new("sh")
        .args(["-c", "yes | \"$0\" extract - --max-bytes 100"])
        .arg(env!("CARGO_BIN_EXE_notes"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("stdin holds more bytes than the input limit of 100"));
}

/// `notes delete / ...` and `notes rename / ...` (a typo, or `"$UNSET"/`) are refused before
/// anything is walked, as `rm -r /` is.
#[test]
fn delete_and_rename_refuse_the_root_of_the_file_system() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["delete", "/", "-g", "*.no-such-extension", "--apply"][..],
        &["delete", "/", "-k", "pdf"],
        &["rename", "/", "--apply"],
    ] {
        let out = notes_in(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert_eq!(
            text(&out.stderr),
            "error: / is the root of the file system: refused (name a directory below it)\n",
            "{args:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }
}
