//! `.npz` archives against real numpy: archives `np.savez` and `np.savez_compressed` write are
//! read and printed as numpy prints them, and archives `write_npz` writes load in numpy.

use std::path::Path;
use std::process::Command;

use notes_tensor::{AnyArray, NpzCompression, PrintOptions, read_npz, write_npz};

fn python(code: &str, args: &[&Path]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (needed to compare with numpy): {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'numpy'"),
        "numpy is not installed, and this test compares with it: run `python3 -m pip install numpy`"
    );
    assert!(output.status.success(), "python3 failed:\n{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

const WRITE: &str = r#"
import sys
import numpy as np
rng = np.random.default_rng(7)
arrays = {
    "zeta": np.arange(60).reshape(3, 4, 5),
    "f32": (rng.normal(size=(4, 6)) * 1e3).astype("f4"),
    "flags": rng.random(9) > 0.5,
    "empty": np.zeros((0, 3), dtype="u2"),
    "scalar": np.array(1e16),
    "big": rng.normal(size=(2000,)),
    "i1": np.array([-128, 0, 127], dtype="i1"),
}
np.savez(sys.argv[1], **arrays)
np.savez_compressed(sys.argv[2], *arrays.values())
for name in sys.argv[1:3]:
    d = np.load(name)
    with np.printoptions(precision=3, linewidth=60):
        for k in d.files:
            print(k)
            print(d[k])
"#;

fn printed(members: &[(String, AnyArray)], options: &PrintOptions) -> String {
    let mut text = String::new();
    for (key, array) in members {
        text.push_str(key);
        text.push('\n');
        text.push_str(&array.format(options));
        text.push('\n');
    }
    text
}

#[test]
fn numpy_archives_read_and_print_as_numpy_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let (stored, deflated) = (dir.path().join("s.npz"), dir.path().join("c.npz"));
    let expected = python(WRITE, &[&stored, &deflated]);
    let options = PrintOptions {
        precision: 3,
        linewidth: 60,
        ..PrintOptions::default()
    };
    let stored = read_npz(&stored).unwrap();
    let deflated = read_npz(&deflated).unwrap();
    assert_eq!(stored.len(), 7);
    // savez_compressed of positional arrays names them arr_0, arr_1, ...
    assert_eq!(deflated[6].0, "arr_6");
    assert_eq!(
        format!(
            "{}{}",
            printed(&stored, &options),
            printed(&deflated, &options)
        ),
        expected
    );
}

#[test]
fn archives_we_write_load_in_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let a = AnyArray::F32(ndarray::arr2(&[[1.5_f32, -2.0], [3.25, 4.0]]).into_dyn());
    let b = AnyArray::U64(ndarray::arr1(&[u64::MAX, 0]).into_dyn());
    let c = AnyArray::Bool(ndarray::Array3::from_elem((2, 0, 3), true).into_dyn());
    let members = [("a", &a), ("b", &b), ("c c", &c)];
    for (name, compression) in [
        ("s.npz", NpzCompression::Stored),
        ("c.npz", NpzCompression::Deflated),
    ] {
        let path = dir.path().join(name);
        let file = std::fs::File::create(&path).unwrap();
        write_npz(file, &members, compression, &path).unwrap();
        let text = python(
            r#"
import sys, zipfile
import numpy as np
d = np.load(sys.argv[1])
print(d.files)
print(repr(d["a"]), repr(d["b"]), repr(d["c c"]))
with zipfile.ZipFile(sys.argv[1]) as z:
    print([i.compress_type for i in z.infolist()])
"#,
            &[&path],
        );
        let method = if compression == NpzCompression::Stored {
            0
        } else {
            8
        };
        assert_eq!(
            text,
            format!(
                "['a', 'b', 'c c']\n{} {} {}\n[{method}, {method}, {method}]\n",
                a.repr(&PrintOptions::default()),
                b.repr(&PrintOptions::default()),
                c.repr(&PrintOptions::default())
            )
        );
        assert_eq!(
            read_npz(&path).unwrap(),
            vec![
                ("a".to_owned(), a.clone()),
                ("b".to_owned(), b.clone()),
                ("c c".to_owned(), c.clone())
            ]
        );
    }
}

/// numpy's repr of big-endian arrays in a `.npz` and in a `.npy`, through `load`: the byte order
/// comes from each member's header (`dtype='>i4'`, even `'>i8'` and `'>f8'`).
#[test]
fn big_endian_members_repr_as_numpy_does() {
    let dir = tempfile::tempdir().unwrap();
    let (npz, npy) = (dir.path().join("be.npz"), dir.path().join("be.npy"));
    let expected = python(
        r#"
import sys
import numpy as np
arrays = {"i4": np.arange(3, dtype=">i4"), "i8": np.arange(4, dtype=">i8"),
          "f8": np.array([0.5, 0.25], dtype=">f8"), "u1": np.arange(2, dtype=">u1"),
          "little": np.arange(2, dtype="<i2"), "empty": np.zeros((0, 2), dtype=">f4")}
np.savez(sys.argv[1], **arrays)
np.save(sys.argv[2], np.arange(6, dtype=">u2").reshape(2, 3))
for k, a in arrays.items():
    print(k)
    print(repr(a))
print(repr(np.load(sys.argv[2])))
"#,
        &[&npz, &npy],
    );
    let options = PrintOptions::default();
    let mut got = String::new();
    let notes_tensor::Loaded::Npz(mut archive) = notes_tensor::load(&npz).unwrap() else {
        panic!("be.npz did not load as an archive");
    };
    for i in 0..archive.len() {
        let (key, array, order) = archive.by_index_with_order(i).unwrap();
        got.push_str(&format!("{key}\n{}\n", array.repr_in(order, &options)));
    }
    let notes_tensor::Loaded::Npy(array, order) = notes_tensor::load(&npy).unwrap() else {
        panic!("be.npy did not load as an array");
    };
    got.push_str(&array.repr_in(order, &options));
    got.push('\n');
    assert_eq!(got, expected);
}
