//! `notes bwt` on files: byte-exact round trips, no silent overwrite, clear errors.

use std::path::Path;
use std::process::{Command, Output};

fn notes(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run notes")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn files_round_trip_byte_for_byte_over_block_sizes() {
    let dir = tempfile::tempdir().unwrap();
    // Binary data with every byte value, runs and a periodic tail.
    let mut data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    data.extend(std::iter::repeat_n(0u8, 5000));
    data.extend(b"^BANANA|".repeat(999));
    std::fs::write(dir.path().join("in.bin"), &data).unwrap();
    for (i, size) in ["900k", "1000", "7", "whole", "1Ki"].iter().enumerate() {
        let packed = format!("c{i}.nbwt");
        let back = format!("back{i}.bin");
        let out = notes(
            dir.path(),
            &["bwt", "-i", "in.bin", "-o", &packed, "--block-size", size],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = notes(
            dir.path(),
            &["bwt", "--inverse", "-i", &packed, "-o", &back],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            std::fs::read(dir.path().join(&back)).unwrap() == data,
            "block size {size}"
        );
    }
}

#[test]
fn an_existing_output_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "^BANANA|").unwrap();
    std::fs::write(dir.path().join("out.nbwt"), "precious").unwrap();
    let out = notes(dir.path(), &["bwt", "-i", "in.txt", "-o", "out.nbwt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("out.nbwt already exists; pass --force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("out.nbwt")).unwrap(),
        b"precious"
    );
    let out = notes(
        dir.path(),
        &["bwt", "-i", "in.txt", "-o", "out.nbwt", "--force"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        &std::fs::read(dir.path().join("out.nbwt")).unwrap()[..4],
        b"NBWT"
    );
}

#[test]
fn a_file_that_is_not_a_container_names_the_magic_bytes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plain.txt"), "hello").unwrap();
    let out = notes(
        dir.path(),
        &["bwt", "--inverse", "-i", "plain.txt", "-o", "x"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot restore plain.txt: not a BWT container: expected the magic bytes \"NBWT\" (4e 42 57 54), found 68 65 6c 6c"),
        "{err}"
    );
    // Nothing is left behind: no output, no temporary file.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1);
}

#[test]
fn a_corrupt_block_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "abracadabra").unwrap();
    let out = notes(dir.path(), &["bwt", "-i", "in.txt", "-o", "c.nbwt"]);
    assert!(out.status.success());
    let mut c = std::fs::read(dir.path().join("c.nbwt")).unwrap();
    let last = c.len() - 1;
    c[last] = b'z';
    std::fs::write(dir.path().join("c.nbwt"), &c).unwrap();
    let out = notes(dir.path(), &["bwt", "--inverse", "-i", "c.nbwt", "-o", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("block 0"), "{}", stderr(&out));
}

#[test]
fn damage_that_still_inverts_is_caught_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "^BANANA|").unwrap();
    let out = notes(dir.path(), &["bwt", "-i", "in.txt", "-o", "c.nbwt"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut c = std::fs::read(dir.path().join("c.nbwt")).unwrap();
    // Index 6 -> 5: still a valid BWT (of a rotation), so only the CRC-32 can tell.
    c[21] = 5;
    std::fs::write(dir.path().join("c.nbwt"), &c).unwrap();
    let out = notes(dir.path(), &["bwt", "--inverse", "-i", "c.nbwt", "-o", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot restore c.nbwt: corrupt BWT container: block 0 (at byte 21): the restored bytes have CRC-32"),
        "{err}"
    );
    assert!(!dir.path().join("x").exists());
}

#[cfg(unix)]
#[test]
fn an_endless_device_stops_at_the_input_limit() {
    // A pipe or device is read into memory: /dev/zero grew until memory ran out.
    let dir = tempfile::tempdir().unwrap();
    let out = notes(
        dir.path(),
        &[
            "bwt",
            "-i",
            "/dev/zero",
            "-o",
            "c.nbwt",
            "--max-input",
            "1Mi",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/dev/zero holds more bytes than the input limit of 1048576 bytes"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("c.nbwt").exists());
    let out = notes(dir.path(), &["bwt", "-i", "/dev/null", "-o", "-"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.path().join("-").exists());
}

#[test]
fn a_pipe_as_input_is_read_whole() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["bwt", "-i", "/dev/stdin", "-o", "c.nbwt"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"^BANANA|").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = notes(
        dir.path(),
        &["bwt", "--inverse", "-i", "c.nbwt", "-o", "back"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.path().join("back")).unwrap(), b"^BANANA|");
}

#[test]
fn arguments_of_the_two_modes_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "banana").unwrap();
    assert!(
        notes(dir.path(), &["bwt", "-i", "in.txt", "-o", "c.nbwt"])
            .status
            .success()
    );
    for (args, says) in [
        (
            &["bwt", "-o", "x.out", "banana"][..],
            "-o OUT writes what -i FILE reads",
        ),
        (
            &[
                "bwt",
                "--inverse",
                "-i",
                "c.nbwt",
                "-o",
                "y.out",
                "--index",
                "3",
            ],
            "--index goes with --inverse TEXT",
        ),
    ] {
        let out = notes(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert!(!dir.path().join("x.out").exists() && !dir.path().join("y.out").exists());
}

#[cfg(unix)]
#[test]
fn outputs_get_the_umask_mode_and_a_replaced_file_keeps_its_own() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "banana").unwrap();
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    // The test process's umask applies to both files alike.
    std::fs::write(dir.path().join("plain"), "").unwrap();
    assert!(
        notes(dir.path(), &["bwt", "-i", "in.txt", "-o", "c.nbwt"])
            .status
            .success()
    );
    assert_eq!(mode("c.nbwt"), mode("plain"));
    let shared = dir.path().join("shared.nbwt");
    std::fs::write(&shared, "").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = notes(
        dir.path(),
        &["bwt", "-i", "in.txt", "-o", "shared.nbwt", "--force"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode("shared.nbwt"), 0o640);
}

/// An interrupted run (Ctrl-C, and `kill -9`, which no handler sees) leaves no file behind: on
/// Linux the output is written to an unnamed `O_TMPFILE` and linked into place when complete.
/// Before, SIGKILL left a hidden `.notes-bwt-*` file as big as the output.
#[cfg(target_os = "linux")]
#[test]
fn an_interrupted_run_leaves_no_temporary_file() {
    for signal in ["-INT", "-KILL"] {
        let dir = tempfile::tempdir().unwrap();
        // Enough work to be interrupted midway: 4 MB in blocks of 1 byte.
        let text: Vec<u8> = (0..4_000_000u32)
            .map(|i| b"abcdefgh "[(i * 7 % 9) as usize])
            .collect();
        std::fs::write(dir.path().join("in.txt"), text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
            .args(["bwt", "-i", "in.txt", "-o", "out.nbwt", "--block-size", "1"])
            .current_dir(dir.path())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the output is being written (an unnamed file among its descriptors, or a
        // named temporary file where the file system has no O_TMPFILE), then interrupt.
        let start = std::time::Instant::now();
        let fds = format!("/proc/{}/fd", child.id());
        let writing = || {
            let unnamed = std::fs::read_dir(&fds).is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path())
                        .is_ok_and(|target| target.to_string_lossy().ends_with("(deleted)"))
                })
            });
            unnamed
                || std::fs::read_dir(dir.path()).unwrap().any(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with(".out.nbwt.notes-tmp-")
                })
        };
        while !writing() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("finished before it could be interrupted: {status}");
            }
            assert!(start.elapsed() < std::time::Duration::from_secs(10));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        assert!(!status.success());
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "in.txt")
            .collect();
        assert!(left.is_empty(), "{signal}: left behind: {left:?}");
    }
}
