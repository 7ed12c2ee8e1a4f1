//! Comparing two profiles function by function: what the notes do by hand with timestamped reports.

use std::fmt;
use std::time::Duration;

use crate::stats::{Calls, Func, Stats};

/// One function in either profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    /// The function.
    pub func: Func,
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

/// Compares two profiles (merge each side with [`Stats::add`] first to compare several runs).
pub fn diff(before: &Stats, after: &Stats) -> Diff {
    let mut rows: Vec<DiffRow> = before
        .functions()
        .map(|(func, row)| DiffRow {
            func: func.clone(),
            before: Some(row.calls),
            after: after.get(func).map(|r| r.calls),
        })
        .collect();
    rows.extend(
        after
            .functions()
            .filter(|(func, _)| before.get(func).is_none())
            .map(|(func, row)| DiffRow {
                func: func.clone(),
                before: None,
                after: Some(row.calls),
            }),
    );
    rows.sort_by(|a, b| {
        b.delta_secs()
            .abs()
            .total_cmp(&a.delta_secs().abs())
            .then_with(|| a.func.cmp(&b.func))
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
        // The function column's header stands over the function names.
        let header = text.lines().find(|l| l.contains("filename:")).unwrap();
        let row = text.lines().find(|l| l.ends_with("m.rs:4(f)")).unwrap();
        assert_eq!(header.find("filename"), row.find("m.rs"), "{text}");
    }
}
