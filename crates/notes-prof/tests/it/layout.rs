//! The printed layout, byte for byte: a profile made by hand (exact times) and a real one
//! (times redacted).

use std::time::Duration;

use notes_prof::{Calls, Func, ReportOptions, Restriction, SortKey, Stats};

fn calls(n: u64, p: u64, tt_us: u64, ct_us: u64) -> Calls {
    Calls {
        ncalls: n,
        pcalls: p,
        tottime: Duration::from_micros(tt_us),
        cumtime: Duration::from_micros(ct_us),
    }
}

/// The notes' maths_test, with the numbers of the notes' first run.
fn maths_test() -> Stats {
    let dir = "/home/jake/Notes on Python/";
    let module = Func::new(format!("{dir}maths_test.py"), 1, "<module>");
    let f = Func::new(format!("{dir}maths_test.py"), 4, "f");
    let genexpr = Func::new(format!("{dir}maths_test.py"), 5, "<genexpr>");
    let g = Func::new(format!("{dir}maths_test.py"), 7, "g");
    let sum = Func::new("~", 0, "<built-in method builtins.sum>");
    let exec = Func::new("~", 0, "<built-in method builtins.exec>");
    let mut s = Stats::new();
    s.record(exec.clone(), None, calls(1, 1, 0, 166_000));
    s.record(exec.clone(), Some(exec.clone()), calls(7, 0, 0, 0));
    s.record(module.clone(), Some(exec), calls(1, 1, 100, 166_000));
    s.record(f.clone(), Some(module), calls(1, 1, 90, 157_000));
    s.record(genexpr.clone(), Some(f), calls(1001, 1001, 400, 152_000));
    s.record(g.clone(), Some(genexpr), calls(1000, 1000, 1_000, 152_000));
    s.record(sum, Some(g), calls(1003, 1003, 33_000, 152_000));
    s
}

#[test]
fn print_stats_matches_pstats() {
    let stats = maths_test();
    let options = ReportOptions {
        sort: vec![SortKey::Cumulative],
        restrictions: vec![
            Restriction::pattern("Notes on Python").unwrap(),
            Restriction::Top(3),
        ],
        ..ReportOptions::default()
    };
    let expected = "         3014 function calls (3007 primitive calls) in 0.035 seconds

   Ordered by: cumulative time
   List reduced from 6 to 4 due to restriction <'Notes on Python'>
   List reduced from 4 to 3 due to restriction <3>

   ncalls  tottime  percall  cumtime  percall filename:lineno(function)
        1    0.000    0.000    0.166    0.166 /home/jake/Notes on Python/maths_test.py:1(<module>)
        1    0.000    0.000    0.157    0.157 /home/jake/Notes on Python/maths_test.py:4(f)
     1001    0.000    0.000    0.152    0.000 /home/jake/Notes on Python/maths_test.py:5(<genexpr>)


";
    assert_eq!(stats.report(&options).to_string(), expected);
}

#[test]
fn strip_dirs_sort_by_several_keys_and_callers() {
    let mut stats = maths_test();
    stats.strip_dirs();
    let options = ReportOptions {
        sort: vec![SortKey::Calls, SortKey::Nfl],
        restrictions: vec![Restriction::fraction(0.5).unwrap()],
        ..ReportOptions::default()
    };
    let report = stats.report(&options);
    let expected = "         3014 function calls (3007 primitive calls) in 0.035 seconds

   Ordered by: call count, name/file/line
   List reduced from 6 to 3 due to restriction <0.5>

   ncalls  tottime  percall  cumtime  percall filename:lineno(function)
     1003    0.033    0.000    0.152    0.000 {built-in method builtins.sum}
     1001    0.000    0.000    0.152    0.000 maths_test.py:5(<genexpr>)
     1000    0.001    0.000    0.152    0.000 maths_test.py:7(g)


";
    assert_eq!(report.to_string(), expected);
    let callers = "   Ordered by: call count, name/file/line
   List reduced from 6 to 3 due to restriction <0.5>

Function                        was called by...
                                    ncalls  tottime  cumtime
{built-in method builtins.sum}  <-    1003    0.033    0.152  maths_test.py:7(g)
maths_test.py:5(<genexpr>)      <-    1001    0.000    0.152  maths_test.py:4(f)
maths_test.py:7(g)              <-    1000    0.001    0.152  maths_test.py:5(<genexpr>)


";
    assert_eq!(report.callers().to_string(), callers);
    let all = stats.report(&ReportOptions {
        sort: vec![SortKey::Name],
        ..ReportOptions::default()
    });
    let callees = all.callees().to_string();
    assert!(
        callees.contains(
            "{built-in method builtins.exec}  ->       1    0.000    0.166  maths_test.py:1(<module>)\n\
             \x20                                       7/0    0.000    0.000  {built-in method builtins.exec}\n"
        ),
        "{callees}"
    );
    assert!(
        callees.contains("{built-in method builtins.sum}   -> \n"),
        "{callees}"
    );
}

#[test]
fn unsorted_and_empty_reports() {
    let stats = maths_test();
    let text = stats.report(&ReportOptions::default()).to_string();
    assert!(
        text.contains("\n   Random listing order was used\n\n   ncalls"),
        "{text}"
    );
    let none = stats.report(&ReportOptions {
        restrictions: vec![Restriction::pattern("nothing matches").unwrap()],
        ..ReportOptions::default()
    });
    assert_eq!(
        none.to_string(),
        "         3014 function calls (3007 primitive calls) in 0.035 seconds\n\n"
    );
    let empty = Stats::new().report(&ReportOptions::default()).to_string();
    assert_eq!(empty, "         0 function calls in 0.000 seconds\n\n");
}

#[tracing::instrument]
fn g(x: u32) -> f64 {
    if x == 0 {
        0.0
    } else {
        f64::from(x - 1).sqrt() + g(x - 1)
    }
}

#[tracing::instrument]
fn f(x: u32) -> f64 {
    (0..x).map(g).sum()
}

/// Replaces the digits of the time columns with `X`, keeping the layout.
fn redact(text: &str) -> String {
    let re = regex::Regex::new(r"\d+\.\d{3}").unwrap();
    re.replace_all(text, |c: &regex::Captures<'_>| {
        "X".repeat(c[0].len()).replace("XXXX", "X.XX")
    })
    .into_owned()
}

#[test]
fn real_profile_layout_with_times_redacted() {
    let (_, mut stats) = notes_prof::profile(|| f(10));
    stats.strip_dirs();
    let text = stats
        .report(&ReportOptions {
            sort: vec![SortKey::Calls],
            ..ReportOptions::default()
        })
        .to_string();
    // `#[instrument]` spans carry the line of the attribute.
    let src = include_str!("layout.rs");
    let line_of = |item: &str| src.lines().position(|l| l.starts_with(item)).unwrap();
    let (g_line, f_line) = (line_of("fn g("), line_of("fn f("));
    let expected = format!(
        "         56 function calls (11 primitive calls) in X.XXX seconds

   Ordered by: call count

   ncalls  tottime  percall  cumtime  percall filename:lineno(function)
    55/10    X.XXX    X.XXX    X.XXX    X.XXX layout.rs:{g_line}(g)
        1    X.XXX    X.XXX    X.XXX    X.XXX layout.rs:{f_line}(f)


"
    );
    assert_eq!(redact(&text), expected, "{text}");
}
