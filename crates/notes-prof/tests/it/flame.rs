//! Flame graphs of real cProfile files (written by python3 here): the folded stacks account
//! for the whole run, each function's own time split over its paths.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use notes_prof::Stats;

/// Profiles `script` with `python3 -m cProfile` in `dir`, and returns the file's path and, from
/// pstats itself, `total_tt` and each function's tottime (by `func_std_string`, in seconds),
/// and the own time of `callee` made through each caller.
fn cprofile(dir: &Path, script: &str) -> (std::path::PathBuf, f64, BTreeMap<String, f64>) {
    std::fs::write(dir.join("s.py"), script).unwrap();
    let run = Command::new("python3")
        .args(["-m", "cProfile", "-o", "s.prof", "s.py"])
        .current_dir(dir)
        .output()
        .expect("python3 is needed by these tests (CI installs it)");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let read = Command::new("python3")
        .args([
            "-c",
            "import json, pstats\n\
             s = pstats.Stats('s.prof')\n\
             print(repr(s.total_tt))\n\
             print(json.dumps({pstats.func_std_string(k): v[2] for k, v in s.stats.items()}))",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let out = String::from_utf8(read.stdout).unwrap();
    let (total, per) = out.split_once('\n').unwrap();
    (
        dir.join("s.prof"),
        total.trim().parse().unwrap(),
        serde_json::from_str(per).unwrap(),
    )
}

/// The folded stacks' total, and the own time of each leaf frame, in nanoseconds.
fn folded(path: &Path) -> (String, u64, BTreeMap<String, u64>) {
    let stats = Stats::load(path).unwrap();
    let folded = stats.folded();
    assert!(!folded.exact());
    let mut total = 0u64;
    let mut per: BTreeMap<String, u64> = BTreeMap::new();
    for (stack, n) in folded.lines() {
        total += n;
        let leaf = stack.rsplit(';').next().unwrap();
        *per.entry(leaf.to_owned()).or_default() += n;
    }
    (folded.to_string(), total, per)
}

/// The stacks add up to pstats' total_tt, and each function's parts to its tottime (within
/// the rounding of each function's seconds to nanoseconds).
fn assert_accounts_for_the_run(script: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let (path, total_tt, tottime) = cprofile(tmp.path(), script);
    let (text, total, per) = folded(&path);
    let slack = tottime.len() as f64 + 1.0;
    assert!(
        (total as f64 - total_tt * 1e9).abs() <= slack,
        "folded stacks sum to {total} ns, pstats' total_tt is {} ns\n{text}",
        total_tt * 1e9
    );
    for (func, tt) in &tottime {
        let got = per.get(func.as_str()).copied().unwrap_or(0);
        assert!(
            (got as f64 - tt * 1e9).abs() <= 1.0,
            "{func}: {got} ns in the folded stacks, tottime {} ns\n{text}",
            tt * 1e9
        );
    }
    text
}

#[test]
fn stacks_of_an_import_account_for_the_whole_run() {
    // Imports run module bodies through `exec` again, inside importlib's own recursion: the
    // stacks built from edges used to cover about a tenth of the time.
    let text = assert_accounts_for_the_run("import json\njson.dumps({'a': [1, 2, 3]})\n");
    assert!(text.contains("_compile_info"), "{text}");
}

#[test]
fn stacks_of_recursion_account_for_the_whole_run() {
    assert_accounts_for_the_run(
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nfib(18)\n",
    );
}

#[test]
fn stacks_of_mutual_recursion_account_for_the_whole_run() {
    let text = assert_accounts_for_the_run(
        "def even(n):\n    return True if n == 0 else odd(n - 1)\n\n\
         def odd(n):\n    return False if n == 0 else even(n - 1)\n\n\
         for i in range(300):\n    even(i)\n",
    );
    // A function is not entered again on its own path.
    assert!(!text.contains("(even);s.py:4(odd);s.py:1(even)"), "{text}");
}

#[test]
fn a_function_called_from_two_callers_is_split_by_its_edges() {
    let script = "def work(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n\n\
                  def cheap():\n    return work(2000)\n\n\
                  def costly():\n    return work(200000)\n\n\
                  for _ in range(3):\n    cheap()\n    costly()\n";
    let text = assert_accounts_for_the_run(script);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.py"), script).unwrap();
    let (path, _, _) = cprofile(tmp.path(), script);
    let edges = Command::new("python3")
        .args([
            "-c",
            "import pstats\n\
             s = pstats.Stats('s.prof').stats\n\
             w = [v for k, v in s.items() if k[2] == 'work'][0]\n\
             for k, e in w[4].items():\n    print(k[2], e[2])",
        ])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let edges = String::from_utf8(edges.stdout).unwrap();
    let edge = |name: &str| -> f64 {
        edges
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap()
    };
    let (folded, _, _) = self::folded(&path);
    let line = |caller: &str| -> u64 {
        folded
            .lines()
            .find(|l| l.contains(&format!("({caller});")) && l.contains("(work) "))
            .and_then(|l| l.rsplit_once(' ')?.1.parse().ok())
            .unwrap_or_else(|| panic!("no {caller};work line in\n{folded}\n{text}"))
    };
    for caller in ["cheap", "costly"] {
        assert!(
            (line(caller) as f64 - edge(caller) * 1e9).abs() <= 2.0,
            "{caller};work: {} ns, its edge {} s\n{folded}",
            line(caller),
            edge(caller)
        );
    }
}

proptest::proptest! {
    /// Whatever the edges say (cycles, callers missing, times that disagree), the stacks
    /// built from them hold every function's own time, and nothing else.
    #[test]
    fn stacks_from_edges_hold_every_functions_own_time(stats in crate::loader::arb_stats()) {
        let folded = stats.folded();
        let mut per: BTreeMap<String, u64> = BTreeMap::new();
        for (stack, n) in folded.lines() {
            *per.entry(stack.rsplit(';').next().unwrap().to_owned()).or_default() += n;
        }
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for (func, row) in stats.functions() {
            let ns = u64::try_from(row.calls.tottime.as_nanos()).unwrap();
            if ns > 0 {
                *want.entry(func.to_string().replace(';', ",")).or_default() += ns;
            }
        }
        let total: u64 = folded.lines().map(|(_, n)| n).sum();
        proptest::prop_assert_eq!(total, u64::try_from(stats.total_time().as_nanos()).unwrap());
        proptest::prop_assert_eq!(per, want);
    }
}
