//! The loader never panics, and what is saved loads back equal.

use std::time::Duration;

use notes_prof::{Calls, Func, Stats};
use proptest::prelude::*;

fn arb_func() -> impl Strategy<Value = Func> {
    ("[a-c/]{1,6}", 0u32..5, "[fg]{1,2}").prop_map(|(file, line, name)| Func::new(file, line, name))
}

fn arb_calls() -> impl Strategy<Value = Calls> {
    (
        0u64..1000,
        0u64..1000,
        // Up to 2**52 ns (52 days), float seconds keep every nanosecond.
        0u64..1 << 52,
        0u64..1 << 52,
    )
        .prop_map(|(a, b, tt, ct)| Calls {
            ncalls: a.max(b),
            pcalls: a.min(b),
            tottime: Duration::from_nanos(tt),
            cumtime: Duration::from_nanos(ct),
        })
}

pub(crate) fn arb_stats() -> impl Strategy<Value = Stats> {
    prop::collection::vec(
        (arb_func(), prop::option::of(arb_func()), arb_calls()),
        0..12,
    )
    .prop_map(|rows| {
        let mut s = Stats::new();
        for (func, caller, calls) in rows {
            if let Some(caller) = &caller {
                s.record(caller.clone(), None, Calls::default());
            }
            s.record(func, caller, calls);
        }
        s
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Stats::from_bytes(&bytes, "fuzz");
        let mut framed = notes_prof::MAGIC.to_vec();
        framed.extend_from_slice(&notes_prof::FORMAT_VERSION.to_le_bytes());
        framed.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        framed.extend_from_slice(&bytes);
        let _ = Stats::from_bytes(&framed, "fuzz");
    }

    #[test]
    fn arbitrary_marshal_after_a_dict_never_panics(
        tokens in prop::collection::vec(
            prop::sample::select(vec![
                &b"{"[..], b"0", b"N", b")\x03", b")\x05", b"\xa9\x03", b"(\x02\x00\x00\x00",
                b"z\x01a", b"\xfa\x01a", b"u\x01\x00\x00\x00a", b"i\x01\x00\x00\x00",
                b"i\xff\xff\xff\xff", b"g\x00\x00\x00\x00\x00\x00\xf0\x3f", b"r\x00\x00\x00\x00",
                b"r\x01\x00\x00\x00", b"l\x01\x00\x00\x00\x05\x00", b"f\x031.5", b"[\x01\x00\x00\x00",
                b"\x00", b"\xff",
            ]),
            0..64,
        ),
    ) {
        let mut bytes = vec![b'{'];
        for t in tokens {
            bytes.extend_from_slice(t);
        }
        if let Ok(stats) = Stats::from_bytes(&bytes, "p") {
            prop_assert_eq!(Stats::from_bytes(&stats.to_bytes(), "p").unwrap(), stats);
        }
    }

    #[test]
    fn saved_profiles_load_back_equal(stats in arb_stats()) {
        prop_assert_eq!(Stats::from_bytes(&stats.to_notes_prof_bytes(), "p").unwrap(), stats.clone());
        let bytes = stats.to_bytes();
        prop_assert_eq!(Stats::from_bytes(&bytes, "p").unwrap(), stats);
        // Any truncation is an error, not a panic and not a smaller profile.
        for cut in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
            if cut < bytes.len() {
                prop_assert!(Stats::from_bytes(&bytes[..cut], "p").is_err());
            }
        }
    }

    #[test]
    fn strip_dirs_and_add_keep_totals(stats in arb_stats()) {
        let mut stripped = stats.clone();
        stripped.strip_dirs();
        prop_assert_eq!(stripped.total_calls(), stats.total_calls());
        prop_assert_eq!(stripped.total_time(), stats.total_time());
        let mut doubled = stats.clone();
        doubled.add(&stats);
        prop_assert_eq!(doubled.total_calls(), stats.total_calls() * 2);
        prop_assert_eq!(doubled.len(), stats.len());
    }
}

#[test]
fn files_that_are_not_profiles_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "just text\n").unwrap();
    let err = Stats::load(&path).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "notes.txt is not a valid stats file: it starts with byte 0x6a, but a pstats/cProfile \
             file starts with a marshalled dict ('{', 0x7b or 0xfb) and a notes-prof file with 0x93"
        ),
        "{err}"
    );
    let err = Stats::load(&dir.path().join("missing.prof")).unwrap_err();
    assert!(err.to_string().starts_with("cannot read "), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn files_of_the_pure_python_profile_module_say_so() {
    // `python -m profile -o FILE` keys the profiled command by its code object: refused with
    // a reason that names the module and says what to use instead, never a panic.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("p.py"), "import json\n").unwrap();
    let run = std::process::Command::new("python3")
        .args(["-m", "profile", "-o", "p.prof", "p.py"])
        .current_dir(tmp.path())
        .output()
        .expect("python3 is needed by these tests (CI installs it)");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let err = Stats::load(&tmp.path().join("p.prof"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.prof"), "{err}");
    assert!(err.contains("a code object"), "{err}");
    assert!(err.contains("pure-Python `profile` module"), "{err}");
    assert!(err.contains("python -m cProfile -o FILE"), "{err}");
    // The same module's `runcall` names no code object, and its files load.
    let run = std::process::Command::new("python3")
        .args([
            "-c",
            "import profile\n\
             def g(n): return sum(range(n))\n\
             def f(): return [g(i) for i in range(50)]\n\
             p = profile.Profile(); p.runcall(f); p.dump_stats('r.prof')",
        ])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stats = Stats::load(&tmp.path().join("r.prof")).unwrap();
    assert!(
        stats
            .functions()
            .any(|(f, row)| f.name == "g" && row.calls.ncalls == 50)
    );
}
