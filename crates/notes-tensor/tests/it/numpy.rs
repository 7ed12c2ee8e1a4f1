//! The printer against real numpy: `numpy_cases.py` writes arrays (`.npy`), options and numpy's
//! `print(a)`; every case must come out byte for byte. numpy is required (CI installs it).

use std::path::Path;
use std::process::Command;

use notes_tensor::{AnyArray, FloatMode, Legacy, PrintOptions, Sign, read_npy};

fn parse_options(text: &str) -> PrintOptions {
    let mut o = PrintOptions::default();
    for line in text.lines() {
        let (key, value) = line.split_once('=').expect("key=value");
        match key {
            "precision" => o.precision = value.parse().unwrap(),
            "threshold" => o.threshold = value.parse().unwrap(),
            "edgeitems" => o.edgeitems = value.parse().unwrap(),
            "linewidth" => o.linewidth = value.parse().unwrap(),
            "suppress" => o.suppress = value == "True",
            "nanstr" => o.nanstr = value.to_owned(),
            "infstr" => o.infstr = value.to_owned(),
            "sign" => {
                o.sign = match value {
                    "+" => Sign::Plus,
                    " " => Sign::Space,
                    _ => Sign::Minus,
                }
            }
            "floatmode" => {
                o.floatmode = match value {
                    "fixed" => FloatMode::Fixed,
                    "unique" => FloatMode::Unique,
                    "maxprec_equal" => FloatMode::MaxprecEqual,
                    _ => FloatMode::Maxprec,
                }
            }
            "legacy" => {
                o.legacy = match value {
                    "1.13" => Some(Legacy::V1_13),
                    "1.21" => Some(Legacy::V1_21),
                    "1.25" => Some(Legacy::V1_25),
                    "2.1" => Some(Legacy::V2_1),
                    "2.2" => Some(Legacy::V2_2),
                    other => panic!("unknown legacy mode {other}"),
                }
            }
            other => panic!("numpy_cases.py set an option this test does not know: {other}"),
        }
    }
    o
}

#[test]
fn printing_matches_numpy_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/numpy_cases.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (needed to compare with numpy): {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'numpy'"),
        "numpy is not installed, and this test compares with it: run `python3 -m pip install numpy`"
    );
    assert!(output.status.success(), "numpy_cases.py failed:\n{stderr}");
    let counts = String::from_utf8_lossy(&output.stdout).to_string();
    let (count, a2s_count) = counts.trim().split_once(' ').unwrap();
    let (count, a2s_count): (usize, usize) = (count.parse().unwrap(), a2s_count.parse().unwrap());
    assert!(count > 100, "numpy_cases.py wrote only {count} cases");
    let mut failures = Vec::new();
    for i in 0..count {
        let base = dir.path().join(format!("case_{i}"));
        let npy = base.with_extension("npy");
        let (array, order) =
            AnyArray::from_npy_bytes_with_order(&std::fs::read(&npy).unwrap(), &npy).unwrap();
        let options = parse_options(&std::fs::read_to_string(base.with_extension("opts")).unwrap());
        let expected = std::fs::read_to_string(base.with_extension("txt")).unwrap();
        // numpy_cases.py applies the options with np.printoptions, which normalizes them.
        let options = options.normalized();
        let got = array.format(&options);
        if got != expected {
            failures.push(format!(
                "case {i}: {} {:?} with {options:?}\nnumpy:\n{expected}\nnotes-tensor:\n{got}\n",
                array.dtype(),
                array.shape()
            ));
        }
        let expected = std::fs::read_to_string(base.with_extension("repr")).unwrap();
        let got = array.repr_in(order, &options);
        if got != expected {
            failures.push(format!(
                "repr of case {i}: {} ({order:?}) {:?} with {options:?}\nnumpy:\n{expected}\nnotes-tensor:\n{got}\n",
                array.dtype(),
                array.shape()
            ));
        }
    }
    assert!(
        a2s_count > 100,
        "numpy_cases.py wrote only {a2s_count} array2string cases"
    );
    for i in 0..a2s_count {
        let base = dir.path().join(format!("a2s_{i}"));
        let array = read_npy(&base.with_extension("npy")).unwrap();
        let options = parse_options(&std::fs::read_to_string(base.with_extension("opts")).unwrap());
        let options = options.normalized();
        let text = std::fs::read_to_string(base.with_extension("txt")).unwrap();
        let [separator, prefix, suffix, expected] = text.split('\0').collect::<Vec<_>>()[..] else {
            panic!("a2s_{i}.txt is not four NUL-separated fields");
        };
        let got = array.array2string(&options, separator, prefix, suffix);
        if got != expected {
            failures.push(format!(
                "array2string {i}: {} {:?} with {options:?}, {separator:?} {prefix:?} {suffix:?}\nnumpy:\n{expected}\nnotes-tensor:\n{got}\n",
                array.dtype(),
                array.shape()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
