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
    while !(12 + header.len() + 1).is_multiple_of(64) {
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
    assert!(
        stderr(&out).contains("header would be 4294967280 bytes long"),
        "{}",
        stderr(&out)
    );
}

fn python(dir: &Path, code: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .current_dir(dir)
        .output()
        .expect("python3 runs (numpy is needed: python3 -m pip install numpy)");
    assert!(
        out.status.success(),
        "python3 failed (is numpy installed?): {}",
        stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn print_npz_prints_every_member_as_numpy_does() {
    let dir = tempfile::tempdir().unwrap();
    let expected = python(
        dir.path(),
        r#"
import numpy as np
rng = np.random.default_rng(3)
np.savez("a.npz", w=np.arange(24.0).reshape(2, 3, 4) / 7, flags=np.array([True, False]),
         n=rng.integers(-1000, 1000, size=(5, 40)), e=np.zeros((0, 2), dtype="f4"))
np.savez_compressed("c.npz", np.arange(3000), np.array(2.5))
for name in ["a.npz", "c.npz"]:
    d = np.load(name)
    with np.printoptions(precision=2, linewidth=50, sign="+"):
        for k in d.files:
            print(k)
            print(d[k])
"#,
    );
    let mut got = String::new();
    for name in ["a.npz", "c.npz"] {
        let out = notes(
            dir.path(),
            &[
                "tensor",
                "print",
                name,
                "--precision",
                "2",
                "--linewidth",
                "50",
                "--sign",
                "+",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        got.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    assert_eq!(got, expected);
    let out = notes(dir.path(), &["--json", "tensor", "print", "c.npz"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["key"], "arr_0");
    assert_eq!(json[1]["text"], "2.5");
}

#[test]
fn multihead_writes_an_npz_numpy_loads_and_never_replaces_silently() {
    let dir = tempfile::tempdir().unwrap();
    python(
        dir.path(),
        "import numpy as np\nnp.save('x.npy', np.ones((2, 3)))\nnp.save('w.npy', np.ones((4, 3, 5)))",
    );
    let args = ["tensor", "multihead", "--x", "x.npy", "--w", "w.npy", "-o"];
    let out = notes(
        dir.path(),
        &[&args[..], &["y.npz", "--compressed"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let loaded = python(
        dir.path(),
        "import numpy, zipfile\nd = numpy.load('y.npz')\nprint(d.files, d['y'].shape, d['y'].sum())\nprint(zipfile.ZipFile('y.npz').infolist()[0].compress_type)",
    );
    assert_eq!(loaded, "['y'] (2, 4, 5) 120.0\n8\n");
    let out = notes(dir.path(), &[&args[..], &["y.npz"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("y.npz already exists; pass --force"),
        "{}",
        stderr(&out)
    );
    let out = notes(dir.path(), &[&args[..], &["y.npz", "--force"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = notes(
        dir.path(),
        &[&args[..], &["y.npy", "--compressed"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("y.npy").exists());
}

#[test]
fn hostile_npz_members_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A member with 30,000 dimensions, a member that is not .npy, and a member whose header
    // announces 8 TB.
    let deep = forge(&format!("({})", "1, ".repeat(30_000)), &[0; 8]);
    let lie = forge("(1000000000000,)", &[0; 8]);
    std::fs::write(dir.path().join("deep.bin"), deep).unwrap();
    std::fs::write(dir.path().join("lie.bin"), lie).unwrap();
    python(
        dir.path(),
        r#"
import zipfile
for name, member, data in [("deep.npz", "d.npy", open("deep.bin", "rb").read()),
                           ("text.npz", "t.txt", b"hello"),
                           ("lie.npz", "l.npy", open("lie.bin", "rb").read())]:
    with zipfile.ZipFile(name, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, data)
"#,
    );
    for (name, message) in [
        (
            "deep.npz",
            "error: deep.npz member d.npy has 30000 dimensions, but numpy allows at most 64\n",
        ),
        (
            "text.npz",
            "error: text.npz has no member t.txt: it is not a .npy file\n",
        ),
    ] {
        let out = notes(dir.path(), &["tensor", "print", name]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stderr(&out), message);
    }
    let out = notes(dir.path(), &["tensor", "print", "lie.npz"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: lie.npz member l.npy is truncated"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn print_repr_names_a_big_endian_dtype_as_numpy_does() {
    let dir = tempfile::tempdir().unwrap();
    let expected = python(
        dir.path(),
        "import numpy as np\n\
         a = np.arange(3, dtype='>i4'); b = np.array([0.5, 0.25], dtype='>f8')\n\
         np.save('a.npy', a); np.savez('ab.npz', a=a, b=b)\n\
         print(repr(a)); print('a'); print(repr(a)); print('b'); print(repr(b))\n",
    );
    let mut got = String::new();
    for file in ["a.npy", "ab.npz"] {
        let out = notes(dir.path(), &["tensor", "print", "--repr", file]);
        assert!(out.status.success(), "{}", stderr(&out));
        got.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    assert_eq!(got, expected);
    assert!(
        expected.starts_with("array([0, 1, 2], dtype='>i4')\n"),
        "{expected}"
    );
}
