//! `notes prof` against Python's own cProfile and pstats: the notes' four commands print byte
//! for byte what pstats prints, what `notes --profile` writes opens in pstats with the same
//! totals, and hostile stats files are refused or printed harmlessly.

use std::path::Path;
use std::process::{Command, Output};

/// The notes' `maths_test.py` (profiling section).
const MATHS_TEST: &str = r#"import math
import statistics

def f(x):
    return statistics.stdev(g(i) for i in range(x))

def g(x):
    return sum(math.sqrt(i) for i in range(x))

if __name__ == "__main__":
    f(1000)
"#;

fn notes(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notes")
}

fn python(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("python3")
        .args(args)
        .current_dir(dir)
        .env("TZ", "UTC")
        .output()
        .expect("python3 is needed by these tests (CI installs it)");
    assert!(
        out.status.success(),
        "python3 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `Notes on Python` directory holding maths_test.py and the profile its cProfile command
/// writes, run by its full path as in the notes.
fn profiled() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Notes on Python");
    std::fs::create_dir(&dir).unwrap();
    let script = dir.join("maths_test.py");
    std::fs::write(&script, MATHS_TEST).unwrap();
    python(
        &dir,
        &[
            "-m",
            "cProfile",
            "-o",
            ".profile_output.bin",
            script.to_str().unwrap(),
        ],
    );
    (tmp, dir)
}

/// Runs `pstats.Stats(FILE); <code>` and `notes prof show FILE <args>` and compares stdout bytes.
fn same_as_pstats(dir: &Path, file: &str, code: &str, args: &[&str]) {
    let py = python(
        dir,
        &[
            "-c",
            &format!("import pstats; p = pstats.Stats({file:?}); {code}"),
        ],
    );
    let mut full = vec!["prof", "show", file];
    full.extend_from_slice(args);
    let ours = notes(dir, &full);
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    assert_eq!(
        text(&ours.stdout),
        text(&py.stdout),
        "notes {full:?} differs from pstats' {code}"
    );
    assert_eq!(ours.stdout, py.stdout);
}

#[test]
fn the_notes_four_commands_print_what_pstats_prints() {
    let (_tmp, dir) = profiled();
    let file = ".profile_output.bin";
    same_as_pstats(
        &dir,
        file,
        "p.sort_stats('cumtime'); p.print_stats(15)",
        &["--sort", "cumtime", "--limit", "15"],
    );
    same_as_pstats(
        &dir,
        file,
        "p.sort_stats('cumtime'); p.print_stats('Notes on Python', 10)",
        &[
            "--sort",
            "cumtime",
            "--filter",
            "Notes on Python",
            "--limit",
            "10",
        ],
    );
    same_as_pstats(
        &dir,
        file,
        "p.strip_dirs(); p.sort_stats('cumtime'); p.print_stats(10)",
        &["--strip-dirs", "--sort", "cumtime", "--limit", "10"],
    );
    same_as_pstats(
        &dir,
        file,
        "p.sort_stats('cumtime'); p.print_callers()",
        &["--sort", "cumtime", "--callers"],
    );
}

#[test]
fn every_sort_key_restriction_order_and_call_list_match_pstats() {
    let (_tmp, dir) = profiled();
    let file = ".profile_output.bin";
    for key in [
        "calls",
        "cumulative",
        "time",
        "pcalls",
        "filename",
        "line",
        "name",
        "nfl",
        "stdname",
    ] {
        same_as_pstats(
            &dir,
            file,
            &format!("p.sort_stats({key:?}); p.print_stats()"),
            &["--sort", key],
        );
    }
    same_as_pstats(
        &dir,
        file,
        "p.print_stats(12)",
        &["--unsorted", "--limit", "12"],
    );
    // Restrictions apply in the order given.
    same_as_pstats(
        &dir,
        file,
        "p.sort_stats('time', 'name'); p.print_stats(20, 'maths', 0.5)",
        &[
            "--sort",
            "time",
            "--sort",
            "name",
            "--limit",
            "20",
            "--filter",
            "maths",
            "--fraction",
            "0.5",
        ],
    );
    same_as_pstats(
        &dir,
        file,
        "p.sort_stats('calls'); p.reverse_order(); p.print_stats(0.1)",
        &["--sort", "calls", "--reverse", "--fraction", "0.1"],
    );
    same_as_pstats(
        &dir,
        file,
        "p.strip_dirs(); p.sort_stats('cumtime'); p.print_callers(25)",
        &[
            "--strip-dirs",
            "--sort",
            "cumtime",
            "--callers",
            "--limit",
            "25",
        ],
    );
    same_as_pstats(
        &dir,
        file,
        "p.sort_stats('tottime'); p.print_callees()",
        &["--sort", "tottime", "--callees"],
    );
    same_as_pstats(
        &dir,
        file,
        "p.strip_dirs(); p.sort_stats('cumtime'); p.print_callees('sum')",
        &[
            "--strip-dirs",
            "--sort",
            "cumtime",
            "--callees",
            "--filter",
            "sum",
        ],
    );
}

#[test]
fn every_marshal_version_and_pstats_dump_stats_files_are_read() {
    let (_tmp, dir) = profiled();
    python(
        &dir,
        &[
            "-c",
            "import marshal, os, pstats\n\
             d = marshal.load(open('.profile_output.bin', 'rb'))\n\
             for v in range(marshal.version + 1):\n\
             \x20   with open(f'v{v}.prof', 'wb') as f: marshal.dump(d, f, v)\n\
             p = pstats.Stats('.profile_output.bin'); p.strip_dirs(); p.dump_stats('dumped.prof')\n",
        ],
    );
    for v in 0..=4 {
        let file = format!("v{v}.prof");
        same_as_pstats(
            &dir,
            &file,
            "p.sort_stats('cumtime'); p.print_callers(12)",
            &["--callers", "--limit", "12"],
        );
    }
    same_as_pstats(
        &dir,
        "dumped.prof",
        "p.sort_stats('name'); p.print_stats()",
        &["--sort", "name"],
    );
    // Several files are added as pstats.Stats(a, b) adds them, header lines included.
    let py = python(
        &dir,
        &[
            "-c",
            "import pstats; p = pstats.Stats('v4.prof', 'dumped.prof'); \
             p.sort_stats('calls'); p.print_callers(30)",
        ],
    );
    let ours = notes(
        &dir,
        &[
            "prof",
            "show",
            "v4.prof",
            "dumped.prof",
            "--sort",
            "calls",
            "--callers",
            "--limit",
            "30",
        ],
    );
    assert_eq!(text(&ours.stdout), text(&py.stdout));
}

#[test]
fn what_notes_profile_writes_opens_in_pstats_with_the_same_totals() {
    let dir = tempfile::tempdir().unwrap();
    let out = notes(
        dir.path(),
        &["--profile", "rust.prof", "flatten", "[[1], [2, [3]]]"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // pstats reads it and prints exactly what notes prints.
    same_as_pstats(
        dir.path(),
        "rust.prof",
        "p.sort_stats('cumtime'); p.print_stats()",
        &[],
    );
    same_as_pstats(
        dir.path(),
        "rust.prof",
        "p.sort_stats('cumtime'); p.print_callees()",
        &["--callees"],
    );
    let py = python(
        dir.path(),
        &[
            "-c",
            "import pstats; p = pstats.Stats('rust.prof'); \
             print(p.total_calls, p.prim_calls, len(p.stats), \
             sorted(f[2] for f in p.stats))",
        ],
    );
    let py = text(&py.stdout);
    assert!(
        py.contains("'flatten'") && py.contains("'json_leaves'"),
        "{py}"
    );
    let json = notes(dir.path(), &["--json", "prof", "show", "rust.prof"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let calls: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ncalls"].as_u64().unwrap())
        .sum();
    assert!(
        py.starts_with(&format!(
            "{calls} {calls} {} [",
            rows.as_array().unwrap().len()
        )),
        "{py} vs {calls} calls"
    );
}

#[test]
fn endless_and_huge_inputs_stop_at_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = notes(dir.path(), &["prof", "show", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(
            "error: cannot load the profile: /dev/zero is not a valid stats file: it starts with byte 0x00"
        ),
        "{}",
        text(&out.stderr)
    );
    // A sparse file beyond the limit is refused before it is read.
    let big = dir.path().join("big.prof");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(notes_prof::MAX_FILE_BYTES + 1)
        .unwrap();
    let out = notes(dir.path(), &["prof", "show", "big.prof"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: cannot load the profile: big.prof is larger than the limit of {} bytes for a stats file\n",
            notes_prof::MAX_FILE_BYTES
        )
    );
}

#[test]
fn hostile_names_cannot_forge_report_lines() {
    let dir = tempfile::tempdir().unwrap();
    python(
        dir.path(),
        &[
            "-c",
            "import marshal\n\
             evil = ('x.py', 1, 'f)\\n        1    9.000    9.000    9.000    9.000 forged.py:1(g)\\x1b[2J\\u2028')\n\
             ok = ('y.py', 2, 'ok')\n\
             d = {evil: (1, 1, 0.5, 0.5, {ok: (1, 1, 0.5, 0.5)}), ok: (1, 1, 0.25, 0.75, {})}\n\
             marshal.dump(d, open('evil.prof', 'wb'))\n",
        ],
    );
    for args in [
        &["prof", "show", "evil.prof"][..],
        &["prof", "show", "evil.prof", "--callers"],
        &["prof", "show", "evil.prof", "--callees"],
        &["prof", "diff", "evil.prof", "evil.prof"],
    ] {
        let out = notes(dir.path(), args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let report = text(&out.stdout);
        assert!(
            !report.contains('\x1b') && !report.contains('\u{2028}'),
            "{report}"
        );
        assert!(
            !report
                .lines()
                .any(|l| l.trim_start().starts_with("1    9.000")),
            "{args:?} printed a forged line:\n{report}"
        );
        assert!(
            report.contains(r"x.py:1(f)\n        1    9.000"),
            "{args:?}:\n{report}"
        );
        assert!(report.contains(r"forged.py:1(g)\x1b[2J\u2028"), "{report}");
    }
}

#[test]
fn damaged_pstats_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "list.prof",
            b"[\x00\x00\x00\x00",
            "it starts with byte 0x5b",
        ),
        (
            "none.prof",
            b"{NN0",
            "a function key: a None where (file, line, name) was expected",
        ),
        ("open.prof", b"{N", "bad marshal data at byte 2: truncated"),
        (
            "cut.prof",
            b"{)\x03z\x04a.py",
            "bad marshal data at byte 9: truncated",
        ),
        (
            "shape.prof",
            b"{)\x03z\x04a.pyi\x01\x00\x00\x00z\x01fN0",
            "a.py:1(f): a None where (cc, nc, tt, ct, callers) was expected",
        ),
        (
            "self.prof",
            b"\xfb\xa9\x01r\x00\x00\x00\x00N0",
            "back-reference 0 points to an object that contains it",
        ),
    ];
    for (name, bytes, why) in cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let out = notes(dir.path(), &["prof", "show", name]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: cannot load the profile: {name} is not a valid stats file: "
            )) && stderr.contains(why),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn repeated_back_references_cannot_blow_up_memory() {
    // One 60 KB file name, then 100 000 rows whose keys and callers all refer back to it:
    // the decoded objects share it, and turning them into rows stops at the work limit.
    let mut bytes = vec![b'{'];
    let long = "d/".repeat(30_000);
    bytes.push(b')' | 0x80);
    bytes.push(3);
    bytes.push(b'a' | 0x80);
    bytes.extend_from_slice(&(long.len() as i32).to_le_bytes());
    bytes.extend_from_slice(long.as_bytes());
    bytes.extend_from_slice(b"i\x01\x00\x00\x00z\x01f");
    bytes.extend_from_slice(
        b")\x05i\x01\x00\x00\x00i\x01\x00\x00\x00i\x00\x00\x00\x00i\x00\x00\x00\x00{0",
    );
    for line in 2..100_000i32 {
        bytes.extend_from_slice(b")\x03r\x01\x00\x00\x00i");
        bytes.extend_from_slice(&line.to_le_bytes());
        bytes.extend_from_slice(b"z\x01f)\x05i\x01\x00\x00\x00i\x01\x00\x00\x00i\x00\x00\x00\x00i\x00\x00\x00\x00{r\x00\x00\x00\x00)\x04i\x01\x00\x00\x00i\x01\x00\x00\x00i\x00\x00\x00\x00i\x00\x00\x00\x000");
    }
    bytes.push(b'0');
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refs.prof"), &bytes).unwrap();
    let out = notes(dir.path(), &["prof", "show", "refs.prof"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("beyond the work limit"), "{stderr}");
}

#[test]
fn diff_pairs_a_python_run_with_its_rust_port() {
    use notes_prof::{Calls, Func, Stats};
    use std::time::Duration;
    let (_tmp, dir) = profiled();
    let ms = |n: u64, t: u64| Calls {
        ncalls: n,
        pcalls: n,
        tottime: Duration::from_millis(t),
        cumtime: Duration::from_millis(t),
    };
    let mut rust = Stats::new();
    let f = Func::new("src/maths_test.rs", 12, "maths_test::f");
    let g = Func::new("src/maths_test.rs", 20, "g");
    let stdev = Func::new("src/stats.rs", 3, "stdev");
    rust.record(f.clone(), None, ms(1, 30));
    rust.record(g, Some(f.clone()), ms(1000, 20));
    rust.record(stdev, Some(f), ms(1, 1));
    rust.save(&dir.join("rust.prof")).unwrap();
    let out = notes(
        &dir,
        &["--json", "prof", "diff", ".profile_output.bin", "rust.prof"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["function"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no {name} in {rows:#}"))
            .clone()
    };
    let f = find("maths_test.py:4(f)");
    assert_eq!(f["matched"], "file-and-name");
    assert_eq!(f["function_after"], "src/maths_test.rs:12(maths_test::f)");
    assert_eq!(f["ncalls_after"], 1);
    assert_eq!(find("maths_test.py:7(g)")["ncalls_after"], 1000);
    let stdev = find("(stdev)");
    assert_eq!(stdev["matched"], "name");
    assert_eq!(stdev["function_after"], "src/stats.rs:3(stdev)");
    assert_eq!(
        find("{built-in method builtins.sum}")["matched"],
        "unmatched"
    );
    let text_out = notes(&dir, &["prof", "diff", ".profile_output.bin", "rust.prof"]);
    let report = text(&text_out.stdout);
    assert!(
        report.contains(&format!("{:60}= src/maths_test.rs:12(maths_test::f)\n", "")),
        "{report}"
    );
    let exact = notes(
        &dir,
        &[
            "--json",
            "prof",
            "diff",
            ".profile_output.bin",
            "rust.prof",
            "--exact",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&exact.stdout).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["matched"] == "unmatched")
    );
}

#[test]
fn flame_graphs_of_a_cprofile_file_say_they_are_built_from_edges() {
    let (_tmp, dir) = profiled();
    let out = notes(
        &dir,
        &[
            "prof",
            "flame",
            ".profile_output.bin",
            "-o",
            "flame.svg",
            "--strip-dirs",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(stacks built from caller edges) written to flame.svg"),
        "{}",
        text(&out.stdout)
    );
    let svg = std::fs::read_to_string(dir.join("flame.svg")).unwrap();
    assert!(svg.starts_with("<?xml"), "{}", &svg[..100]);
    assert!(svg.contains("built from caller edges, as snakeviz does"));
    assert!(svg.contains("maths_test.py:7(g)"));
    // Never replaced without --force.
    let again = notes(
        &dir,
        &["prof", "flame", ".profile_output.bin", "-o", "flame.svg"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already exists; pass --force"));
    let folded = notes(
        &dir,
        &[
            "prof",
            "flame",
            ".profile_output.bin",
            "-o",
            "-",
            "--folded",
            "--strip-dirs",
        ],
    );
    let folded = text(&folded.stdout);
    let mut total = 0u64;
    for line in folded.lines() {
        let (stack, n) = line.rsplit_once(' ').unwrap();
        total += n.parse::<u64>().unwrap();
        assert!(!stack.is_empty());
    }
    // g's stack, through the generator that calls it.
    assert!(
        folded.contains("maths_test.py:4(f);statistics.py:"),
        "{folded}"
    );
    // The stacks account for the whole run: they add up to pstats' total_tt (within the
    // rounding of each function's seconds to nanoseconds).
    let py = python(
        &dir,
        &[
            "-c",
            "import pstats; s = pstats.Stats('.profile_output.bin'); \
             print(s.total_tt, len(s.stats))",
        ],
    );
    let py = text(&py.stdout);
    let (total_tt, funcs) = py.trim().split_once(' ').unwrap();
    let (total_tt, funcs): (f64, f64) = (total_tt.parse().unwrap(), funcs.parse().unwrap());
    assert!(
        (total as f64 - total_tt * 1e9).abs() <= funcs + 1.0,
        "{total} ns vs total_tt {total_tt} s"
    );
}

#[test]
fn flame_graphs_of_a_rust_run_use_measured_stacks() {
    let dir = tempfile::tempdir().unwrap();
    let out = notes(
        dir.path(),
        &["--profile", "rust.prof", "flatten", "[[1], [2, [3]]]"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The stacks after the dict do not disturb pstats.
    python(
        dir.path(),
        &[
            "-c",
            "import pstats; pstats.Stats('rust.prof').print_stats()",
        ],
    );
    let out = notes(
        dir.path(),
        &["prof", "flame", "rust.prof", "-o", "flame.svg"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(measured stacks) written to flame.svg"));
    let svg = std::fs::read_to_string(dir.path().join("flame.svg")).unwrap();
    assert!(svg.contains("Flame graph: measured call stacks"));
    let folded = notes(
        dir.path(),
        &["prof", "flame", "rust.prof", "-o", "-", "--folded"],
    );
    let folded = text(&folded.stdout);
    assert!(
        folded
            .lines()
            .any(|l| l.contains("(notes);") && l.contains("(json_leaves) ")),
        "{folded}"
    );
}

#[test]
fn unicode_names_ties_and_colliding_callers_print_as_pstats_does() {
    let dir = tempfile::tempdir().unwrap();
    python(
        dir.path(),
        &[
            "-c",
            "import marshal\n\
             a = ('/tmp/é/ünï.py', 3, 'fü'); b = ('/tmp/b.py', 1, 'main')\n\
             c = ('~', 0, '<built-in method builtins.len>')\n\
             x1 = ('/a/x.py', 1, 'f'); x2 = ('/b/x.py', 1, 'f')\n\
             d = {b: (1, 1, 0.25, 1.0, {}),\n\
             \x20    a: (2, 3, 0.5, 0.75, {b: (3, 2, 0.5, 0.75)}),\n\
             \x20    c: (5, 5, 0.0625, 0.0625, {a: (2, 2, 0.0625, 0.0625), x1: (1, 1, 0.0, 0.0), x2: (2, 2, 0.0, 0.0)}),\n\
             \x20    x1: (1, 1, 0.1875, 0.1875, {b: (1, 1, 0.1875, 0.1875)}),\n\
             \x20    x2: (2, 2, 0.3125, 0.3125, {b: (2, 2, 0.3125, 0.3125)})}\n\
             marshal.dump(d, open('odd.prof', 'wb'))\n",
        ],
    );
    for (code, args) in [
        (
            "p.sort_stats('time'); p.print_stats()",
            &["--sort", "time"][..],
        ),
        (
            "p.sort_stats('time'); p.print_callers()",
            &["--sort", "time", "--callers"],
        ),
        (
            "p.sort_stats('name'); p.print_callees()",
            &["--sort", "name", "--callees"],
        ),
        (
            "p.strip_dirs(); p.sort_stats('calls'); p.print_callers()",
            &["--strip-dirs", "--sort", "calls", "--callers"],
        ),
        (
            "p.strip_dirs(); p.sort_stats('stdname'); p.print_callees()",
            &["--strip-dirs", "--sort", "stdname", "--callees"],
        ),
    ] {
        same_as_pstats(dir.path(), "odd.prof", code, args);
    }
}

/// `--profile FILE` writes a file like every other output: an existing one is refused with the
/// same message before the command runs, and `notes --profile FILE --force` replaces it.
#[test]
fn an_existing_profile_is_not_replaced_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.prof"), "precious").unwrap();
    let refused = notes(dir.path(), &["--profile", "run.prof", "stamp", "x"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert_eq!(
        text(&refused.stderr),
        "error: run.prof already exists; pass --force to replace it\n"
    );
    // The command did not run: it printed nothing.
    assert!(refused.stdout.is_empty(), "{refused:?}");
    assert_eq!(
        std::fs::read(dir.path().join("run.prof")).unwrap(),
        b"precious"
    );
    let forced = notes(
        dir.path(),
        &["--profile", "run.prof", "--force", "stamp", "x"],
    );
    assert!(forced.status.success(), "{forced:?}");
    let bytes = std::fs::read(dir.path().join("run.prof")).unwrap();
    assert_eq!(
        bytes.first(),
        Some(&b'{'),
        "a pstats file (a marshalled dict)"
    );
}
