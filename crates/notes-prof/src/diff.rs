//! Comparing two profiles function by function: what the notes do by hand with timestamped
//! reports, and a Python run against its Rust port.
//!
//! Functions are matched in three passes, each over what the previous left unmatched:
//! 1. the same `file:line(name)`: the same function of the same program;
//! 2. the same name in a file of the same stem (`maths_test.py` and `maths_test.rs`, or one
//!    file's function that moved to another line), the nearest line first;
//! 3. the same name, when exactly one unmatched function on each side has it (`f` in
//!    `maths_test.py` and `f` in `src/main.rs`).
//!
//! Names compare by their last segment (`maths::f`, `Class.f` and `f` are all `f`); Python's
//! built-ins (`{built-in method builtins.sum}`) match only themselves.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::stats::{Calls, Func, Stats};

/// How a function of one profile was paired with one of the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Match {
    /// The same `file:line(name)`.
    Same,
    /// The same name in files of the same stem (a port, or a function that moved).
    FileAndName,
    /// The same name, unique on both sides.
    Name,
    /// Only in one profile.
    Unmatched,
}

/// One function in either profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    /// The function (as the first profile names it, when it is there).
    pub func: Func,
    /// The function of the second profile it was paired with, when it is named differently.
    pub after_func: Option<Func>,
    /// How the two were paired.
    pub matched: Match,
    /// Its totals before (`None`: it did not run).
    pub before: Option<Calls>,
    /// Its totals after (`None`: it no longer runs).
    pub after: Option<Calls>,
}

impl DiffRow {
    /// Cumulative time after minus before, in seconds.
    pub fn delta_secs(&self) -> f64 {
        secs(self.after) - secs(self.before)
    }

    /// Cumulative time after divided by before (`None` when the function is new or took no time before).
    pub fn ratio(&self) -> Option<f64> {
        let before = secs(self.before);
        (self.before.is_some() && self.after.is_some() && before > 0.0)
            .then(|| secs(self.after) / before)
    }
}

fn secs(c: Option<Calls>) -> f64 {
    c.map_or(0.0, |c| c.cumtime.as_secs_f64())
}

/// The per-function comparison of two profiles, largest change in cumulative time first.
/// `Display` prints the totals and a table; [`Diff::limit`] keeps the first rows.
#[derive(Debug, Clone)]
pub struct Diff {
    rows: Vec<DiffRow>,
    total: usize,
    totals: [(u64, Duration); 2],
}

fn is_builtin(f: &Func) -> bool {
    f.file == "~" && f.line == 0
}

/// The name's last segment: `a::b::f`, `C.f` and `f` are `f`.
fn short_name(f: &Func) -> &str {
    let n = f.name.rsplit("::").next().unwrap_or(&f.name);
    if n.starts_with('<') {
        // `<module>`, `<genexpr>`, `<lambda>`: no qualifier to strip.
        return n;
    }
    n.rsplit('.').next().unwrap_or(n)
}

/// The file name without directories and extension: `src/maths_test.rs` is `maths_test`.
fn stem(f: &Func) -> &str {
    let base = f.file.rsplit(['/', '\\']).next().unwrap_or(&f.file);
    base.split_once('.').map_or(base, |(s, _)| s)
}

/// Compares two profiles (merge each side with [`Stats::add`] first to compare several runs),
/// pairing functions as the module documentation describes.
pub fn diff(before: &Stats, after: &Stats) -> Diff {
    diff_with(before, after, false)
}

/// [`diff`] with only the first pass (the same `file:line(name)`) when `exact`.
pub fn diff_with(before: &Stats, after: &Stats, exact: bool) -> Diff {
    let b: Vec<(&Func, &Calls)> = before.functions().map(|(f, r)| (f, &r.calls)).collect();
    let a: Vec<(&Func, &Calls)> = after.functions().map(|(f, r)| (f, &r.calls)).collect();
    // pair[i] = (index in `a`, how)
    let mut pair: Vec<Option<(usize, Match)>> = vec![None; b.len()];
    let mut taken = vec![false; a.len()];
    let index: HashMap<&Func, usize> = a.iter().enumerate().map(|(i, (f, _))| (*f, i)).collect();
    for (i, (f, _)) in b.iter().enumerate() {
        if let Some(&j) = index.get(f) {
            pair[i] = Some((j, Match::Same));
            taken[j] = true;
        }
    }
    if !exact {
        // Pass 2: same stem and name, nearest line first (indexed: no quadratic scan).
        let mut by_key: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (j, (g, _)) in a.iter().enumerate() {
            if !taken[j] && !is_builtin(g) {
                by_key.entry((stem(g), short_name(g))).or_default().push(j);
            }
        }
        let mut candidates: Vec<(u32, usize, usize)> = Vec::new();
        for (i, (f, _)) in b.iter().enumerate() {
            if pair[i].is_some() || is_builtin(f) {
                continue;
            }
            // Bounded: a name shared by very many functions is not worth pairing by line.
            for &j in by_key
                .get(&(stem(f), short_name(f)))
                .into_iter()
                .flatten()
                .take(64)
            {
                candidates.push((f.line.abs_diff(a[j].0.line), i, j));
            }
        }
        candidates.sort_unstable();
        for (_, i, j) in candidates {
            if pair[i].is_none() && !taken[j] {
                pair[i] = Some((j, Match::FileAndName));
                taken[j] = true;
            }
        }
        // Pass 3: a name unique among the unmatched on both sides.
        let mut by_name_b: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (f, _)) in b.iter().enumerate() {
            if pair[i].is_none() && !is_builtin(f) {
                by_name_b.entry(short_name(f)).or_default().push(i);
            }
        }
        let mut by_name_a: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, (g, _)) in a.iter().enumerate() {
            if !taken[j] && !is_builtin(g) {
                by_name_a.entry(short_name(g)).or_default().push(j);
            }
        }
        for (name, is) in &by_name_b {
            if let (&[i], Some(&[j])) = (&is[..], by_name_a.get(name).map(Vec::as_slice)) {
                pair[i] = Some((j, Match::Name));
                taken[j] = true;
            }
        }
    }
    let mut rows: Vec<DiffRow> = b
        .iter()
        .zip(&pair)
        .map(|((f, calls), p)| DiffRow {
            func: (*f).clone(),
            after_func: p.and_then(|(j, m)| (m != Match::Same).then(|| a[j].0.clone())),
            matched: p.map_or(Match::Unmatched, |(_, m)| m),
            before: Some(**calls),
            after: p.map(|(j, _)| *a[j].1),
        })
        .collect();
    rows.extend(
        a.iter()
            .zip(&taken)
            .filter(|(_, t)| !**t)
            .map(|((f, calls), _)| DiffRow {
                func: (*f).clone(),
                after_func: None,
                matched: Match::Unmatched,
                before: None,
                after: Some(**calls),
            }),
    );
    rows.sort_by(|x, y| {
        y.delta_secs()
            .abs()
            .total_cmp(&x.delta_secs().abs())
            .then_with(|| x.func.cmp(&y.func))
    });
    Diff {
        total: rows.len(),
        rows,
        totals: [
            (before.total_calls(), before.total_time()),
            (after.total_calls(), after.total_time()),
        ],
    }
}

impl Diff {
    /// Keeps the `n` largest changes.
    #[must_use]
    pub fn limit(mut self, n: usize) -> Self {
        self.rows.truncate(n);
        self
    }

    /// The rows, largest change first.
    pub fn rows(&self) -> &[DiffRow] {
        &self.rows
    }

    /// Total calls before and after.
    pub fn total_calls(&self) -> (u64, u64) {
        (self.totals[0].0, self.totals[1].0)
    }

    /// Total time (sum of own times) before and after.
    pub fn total_time(&self) -> (Duration, Duration) {
        (self.totals[0].1, self.totals[1].1)
    }
}

fn ncalls(c: Option<Calls>) -> String {
    match c {
        None => "-".into(),
        Some(c) if c.ncalls == c.pcalls => c.ncalls.to_string(),
        Some(c) => format!("{}/{}", c.ncalls, c.pcalls),
    }
}

fn cumtime(c: Option<Calls>) -> String {
    c.map_or_else(|| "-".into(), |c| format!("{:.3}", c.cumtime.as_secs_f64()))
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (calls0, calls1) = self.total_calls();
        let (t0, t1) = self.total_time();
        write!(
            f,
            "         {calls0} -> {calls1} function calls in {:.3} -> {:.3} seconds",
            t0.as_secs_f64(),
            t1.as_secs_f64()
        )?;
        if t0 > Duration::ZERO {
            write!(f, " ({:.2}x)", t1.as_secs_f64() / t0.as_secs_f64())?;
        }
        writeln!(f)?;
        writeln!(f)?;
        if self.rows.is_empty() {
            return Ok(());
        }
        writeln!(f, "   Ordered by: largest change in cumulative time")?;
        if self.rows.len() != self.total {
            writeln!(
                f,
                "   List reduced from {} to {} due to restriction <{}>",
                self.total,
                self.rows.len(),
                self.rows.len()
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>9} {:>8} {:>8} {:>8} {:>8} {:>12}",
            "ncalls", "ncalls", "cumtime", "cumtime", "delta", "ratio"
        )?;
        writeln!(
            f,
            "{:>9} {:>8} {:>8} {:>8} {:>8} {:>12}    filename:lineno(function)",
            "before", "after", "before", "after", "cumtime", "after/before"
        )?;
        for row in &self.rows {
            let ratio = match (row.before, row.after, row.ratio()) {
                (None, _, _) => "new".to_owned(),
                (_, None, _) => "gone".to_owned(),
                (_, _, Some(r)) => format!("{r:.2}x"),
                (_, _, None) => "-".to_owned(),
            };
            writeln!(
                f,
                "{:>9} {:>8} {:>8} {:>8} {:>+8.3} {:>12}    {}",
                ncalls(row.before),
                ncalls(row.after),
                cumtime(row.before),
                cumtime(row.after),
                row.delta_secs(),
                ratio,
                row.func
            )?;
            if let Some(other) = &row.after_func {
                // The second profile's name, on its own line, under the first's.
                writeln!(f, "{:60}= {other}", "")?;
            }
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(n: u64, ct_ms: u64) -> Calls {
        Calls {
            ncalls: n,
            pcalls: n,
            tottime: Duration::from_millis(ct_ms),
            cumtime: Duration::from_millis(ct_ms),
        }
    }

    #[test]
    fn largest_change_first_with_new_and_gone_functions() {
        let (f, g, h) = (
            Func::new("m.rs", 4, "f"),
            Func::new("m.rs", 7, "g"),
            Func::new("m.rs", 9, "h"),
        );
        let mut before = Stats::new();
        before.record(f.clone(), None, calls(1, 100));
        before.record(g.clone(), None, calls(1000, 40));
        let mut after = Stats::new();
        after.record(f.clone(), None, calls(1, 50));
        after.record(h.clone(), None, calls(3, 45));
        let d = diff(&before, &after);
        let order: Vec<_> = d.rows().iter().map(|r| r.func.name.as_str()).collect();
        assert_eq!(order, ["f", "h", "g"]);
        assert_eq!(d.rows()[0].ratio(), Some(0.5));
        let text = d.clone().limit(2).to_string();
        assert!(
            text.contains("List reduced from 3 to 2 due to restriction <2>"),
            "{text}"
        );
        assert!(
            text.contains(
                "        1        1    0.100    0.050   -0.050        0.50x    m.rs:4(f)"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "        -        3        -    0.045   +0.045          new    m.rs:9(h)"
            ),
            "{text}"
        );
        // Pass 1 only pairs identical functions; f and g differ.
        assert_eq!(
            d.rows().iter().filter(|r| r.matched == Match::Same).count(),
            1
        );
        // The function column's header stands over the function names.
        let header = text.lines().find(|l| l.contains("filename:")).unwrap();
        let row = text.lines().find(|l| l.ends_with("m.rs:4(f)")).unwrap();
        assert_eq!(header.find("filename"), row.find("m.rs"), "{text}");
    }

    #[test]
    fn a_port_pairs_by_stem_and_name_then_by_unique_name() {
        let mut py = Stats::new();
        let pf = Func::new("/home/j/Notes on Python/maths_test.py", 4, "f");
        let pg = Func::new("/home/j/Notes on Python/maths_test.py", 7, "g");
        let gen5 = Func::new("/home/j/Notes on Python/maths_test.py", 5, "<genexpr>");
        let gen8 = Func::new("/home/j/Notes on Python/maths_test.py", 8, "<genexpr>");
        let sd = Func::new("/usr/lib/python3.11/statistics.py", 907, "stdev");
        let sum = Func::new("~", 0, "<built-in method builtins.sum>");
        for f in [&pf, &pg, &gen5, &gen8, &sd, &sum] {
            py.record(f.clone(), None, calls(1, 10));
        }
        let mut rs = Stats::new();
        let rf = Func::new("src/maths_test.rs", 30, "maths_test::f");
        let rg = Func::new("src/maths_test.rs", 40, "g");
        let rg2 = Func::new("src/other.rs", 7, "g");
        let rsd = Func::new("src/stats.rs", 1, "Stats.stdev");
        let rsum = Func::new("src/stats.rs", 9, "sum");
        for f in [&rf, &rg, &rg2, &rsd, &rsum] {
            rs.record(f.clone(), None, calls(1, 5));
        }
        let d = diff(&py, &rs);
        let pairing = |f: &Func| {
            let row = d.rows().iter().find(|r| &r.func == f).unwrap();
            (row.matched, row.after_func.clone())
        };
        assert_eq!(pairing(&pf), (Match::FileAndName, Some(rf)));
        // g is in two Rust files: the one of the same stem wins.
        assert_eq!(pairing(&pg), (Match::FileAndName, Some(rg)));
        assert_eq!(pairing(&sd), (Match::Name, Some(rsd)));
        // A built-in matches only itself; a name used twice is not guessed.
        assert_eq!(pairing(&sum), (Match::Unmatched, None));
        assert_eq!(pairing(&gen5), (Match::Unmatched, None));
        assert_eq!(d.rows().len(), 6 + 2);
    }
}
