//! `notes tensor print` on hostile and huge inputs, `.npz` archives, and numpy's repr.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

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

/// A version-2 `.npy` file of float64 with the given shape literal and data.
fn forge(shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let mut header = dict.into_bytes();
    while (12 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&u32::try_from(header.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn thirty_thousand_dimensions_are_a_clear_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let shape = format!("({})", "1, ".repeat(30_000));
    std::fs::write(dir.path().join("deep.npy"), forge(&shape, &[0; 8])).unwrap();
    let out = notes(dir.path(), &["tensor", "print", "deep.npy"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: deep.npy has 30000 dimensions, but numpy allows at most 64\n"
    );
}

#[test]
fn a_long_shape_in_an_error_is_elided() {
    let dir = tempfile::tempdir().unwrap();
    let shape = format!("({})", "2, ".repeat(64));
    std::fs::write(dir.path().join("t.npy"), forge(&shape, &[0; 8])).unwrap();
    let out = notes(dir.path(), &["tensor", "print", "t.npy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("(64 dimensions)"), "{err}");
    assert!(err.len() < 200, "{err}");
}

#[test]
fn dev_zero_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = notes(dir.path(), &["tensor", "print", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: /dev/zero is not a .npy file: it does not start with numpy's magic string \\x93NUMPY\n"
    );
}

#[test]
fn a_stream_shorter_than_its_header_says_is_read_only_as_far_as_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    // The header announces 8 GB; 1 MB follows on a pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["tensor", "print", "/dev/stdin"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&forge("(1000000000,)", &vec![0; 1 << 20]))
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("is truncated: its header says shape [1000000000] (8000000000 bytes of data) but 1048576 bytes follow"),
        "{err}"
    );
}

#[test]
fn a_forged_header_length_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&0xffff_fff0_u32.to_le_bytes());
    std::fs::write(dir.path().join("h.npy"), bytes).unwrap();
    let out = notes(dir.path(), &["tensor", "print", "h.npy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("header would be 4294967280 bytes long"), "{}", stderr(&out));
}
