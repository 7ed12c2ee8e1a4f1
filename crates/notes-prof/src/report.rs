//! Sorting, restricting and printing a profile in pstats' layout.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::str::FromStr;
use std::time::Duration;

use regex::Regex;

use crate::stats::{Calls, Func, FuncStats, Stats};
use crate::{Error, Result};

/// A key of pstats' `sort_stats`. Numeric keys sort in decreasing order, names in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// `calls`, `ncalls`: call count.
    Calls,
    /// `cumulative`, `cumtime`: cumulative time.
    Cumulative,
    /// `time`, `tottime`: internal (own) time.
    Time,
    /// `pcalls`: primitive call count.
    PCalls,
    /// `filename`, `file`, `module`: file name.
    File,
    /// `line`: line number.
    Line,
    /// `name`: function name.
    Name,
    /// `nfl`: name, then file, then line.
    Nfl,
    /// `stdname`: the printed `file:line(name)`, as a string.
    StdName,
}

impl SortKey {
    /// Every name `FromStr` accepts (unambiguous prefixes are accepted too, as in pstats).
    pub const NAMES: &'static [&'static str] = &[
        "calls",
        "ncalls",
        "cumulative",
        "cumtime",
        "time",
        "tottime",
        "pcalls",
        "filename",
        "file",
        "module",
        "line",
        "name",
        "nfl",
        "stdname",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "calls" | "ncalls" => Self::Calls,
            "cumulative" | "cumtime" => Self::Cumulative,
            "time" | "tottime" => Self::Time,
            "pcalls" => Self::PCalls,
            "filename" | "file" | "module" => Self::File,
            "line" => Self::Line,
            "name" => Self::Name,
            "nfl" => Self::Nfl,
            "stdname" => Self::StdName,
            _ => return None,
        })
    }

    /// The description pstats prints after `Ordered by:`.
    pub fn description(self) -> &'static str {
        match self {
            Self::Calls => "call count",
            Self::Cumulative => "cumulative time",
            Self::Time => "internal time",
            Self::PCalls => "primitive call count",
            Self::File => "file name",
            Self::Line => "line number",
            Self::Name => "function name",
            Self::Nfl => "name/file/line",
            Self::StdName => "standard name",
        }
    }

    fn compare(self, (a, ra): (&Func, &FuncStats), (b, rb): (&Func, &FuncStats)) -> Ordering {
        let (x, y) = (&ra.calls, &rb.calls);
        match self {
            Self::Calls => y.ncalls.cmp(&x.ncalls),
            Self::Cumulative => y.cumtime.cmp(&x.cumtime),
            Self::Time => y.tottime.cmp(&x.tottime),
            Self::PCalls => y.pcalls.cmp(&x.pcalls),
            Self::File => a.file.cmp(&b.file),
            Self::Line => a.line.cmp(&b.line),
            Self::Name => a.name.cmp(&b.name),
            Self::Nfl => (&a.name, &a.file, a.line).cmp(&(&b.name, &b.file, b.line)),
            Self::StdName => a.std_string().cmp(&b.std_string()),
        }
    }
}

impl FromStr for SortKey {
    type Err = Error;

    /// A pstats key name, or an unambiguous prefix of one (`cum` is `cumulative`).
    fn from_str(s: &str) -> Result<Self> {
        if let Some(key) = Self::from_name(s) {
            return Ok(key);
        }
        let mut matches = Self::NAMES
            .iter()
            .filter(|name| !s.is_empty() && name.starts_with(s))
            .filter_map(|name| Self::from_name(name));
        match (matches.next(), matches.next()) {
            (Some(key), None) => Ok(key),
            (Some(key), Some(other)) if key == other && matches.all(|k| k == key) => Ok(key),
            _ => Err(Error::SortKey {
                key: s.to_owned(),
                expected: Self::NAMES.join(", "),
            }),
        }
    }
}

/// The widest name column `print_callers` and `print_callees` pad to. pstats pads every line to
/// the longest name; a hostile file with one huge name would make every line that long.
pub const MAX_NAME_WIDTH: usize = 4096;

/// One argument of pstats' `print_stats`: restrictions apply in order, each to the list the
/// previous one left.
#[derive(Debug, Clone)]
pub enum Restriction {
    /// Keep the first N rows (an integer argument).
    Top(usize),
    /// Keep this fraction of the rows, rounded (a float argument in `[0, 1)`).
    Fraction(f64),
    /// Keep rows whose `file:line(name)` matches this regular expression (a string argument).
    Pattern(Regex),
}

/// One line on what is wrong with a regex: `regex` draws a multi-line picture of the pattern
/// with a caret, which reads badly after `error: invalid restriction "(": `.
fn regex_problem(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    let last = last.strip_prefix("error: ").unwrap_or(last);
    format!("not a valid regex: {last}")
}

impl Restriction {
    /// A fraction restriction.
    ///
    /// # Errors
    /// [`Error::Restriction`] unless `0 <= fraction < 1`.
    pub fn fraction(fraction: f64) -> Result<Self> {
        if (0.0..1.0).contains(&fraction) {
            Ok(Self::Fraction(fraction))
        } else {
            Err(Error::Restriction {
                given: fraction.to_string(),
                why: "a fraction must be at least 0 and less than 1".into(),
            })
        }
    }

    /// A regular-expression restriction.
    ///
    /// # Errors
    /// [`Error::Restriction`] when `pattern` is not a valid regular expression.
    pub fn pattern(pattern: &str) -> Result<Self> {
        Regex::new(pattern)
            .map(Self::Pattern)
            .map_err(|err| Error::Restriction {
                given: pattern.to_owned(),
                why: regex_problem(&err),
            })
    }

    /// Applies the restriction; returns the new list (pstats' `eval_print_amount`).
    fn apply<'a>(&self, list: Vec<(&'a Func, &'a FuncStats)>) -> Vec<(&'a Func, &'a FuncStats)> {
        let mut list = list;
        match self {
            Self::Top(n) => list.truncate(*n),
            Self::Fraction(f) => {
                // `int(count * sel + .5)`, as pstats rounds.
                let keep = (list.len() as f64 * f + 0.5) as usize;
                list.truncate(keep);
            }
            Self::Pattern(re) => list.retain(|(func, _)| re.is_match(&func.std_string())),
        }
        list
    }
}

/// Python's `repr` of the restriction, as pstats prints it in `<...>`.
impl fmt::Display for Restriction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Top(n) => write!(f, "{n}"),
            Self::Fraction(x) => write!(f, "{x:?}"),
            Self::Pattern(re) => f.write_str(&python_repr(re.as_str())),
        }
    }
}

/// Python's `repr` of a string: single quotes unless the text has one and no double quote.
fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// How to order and cut a report: pstats' `sort_stats(*keys)`, `reverse_order()` and the
/// arguments of `print_stats(*restrictions)`.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Sort keys, most significant first; none keeps the profile's order and prints
    /// `Random listing order was used`, as pstats does before `sort_stats`.
    pub sort: Vec<SortKey>,
    /// Reverse the sorted order (pstats' `reverse_order`).
    pub reverse: bool,
    /// Restrictions, applied in order.
    pub restrictions: Vec<Restriction>,
}

/// A sorted, restricted view of a profile, printed like pstats (`Display` is `print_stats`).
#[derive(Debug)]
pub struct Report<'a> {
    stats: &'a Stats,
    rows: Vec<(&'a Func, &'a FuncStats)>,
    /// `Ordered by: ...` and `List reduced ...` lines.
    msg: String,
    /// The width of the name column for callers/callees.
    width: usize,
}

impl Stats {
    /// Sorts and restricts the rows (pstats' `sort_stats` then `get_print_list`).
    pub fn report(&self, options: &ReportOptions) -> Report<'_> {
        let mut rows: Vec<_> = self.funcs.iter().collect();
        let mut msg = String::new();
        if options.sort.is_empty() {
            msg.push_str("   Random listing order was used\n");
        } else {
            // A stable sort, as Python's, so ties keep the profile's order.
            rows.sort_by(|a, b| {
                options
                    .sort
                    .iter()
                    .map(|key| key.compare(*a, *b))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            });
            let names: Vec<_> = options.sort.iter().map(|k| k.description()).collect();
            let _ = writeln!(msg, "   Ordered by: {}", names.join(", "));
        }
        if options.reverse {
            rows.reverse();
        }
        for restriction in &options.restrictions {
            let before = rows.len();
            rows = restriction.apply(rows);
            if rows.len() != before {
                let _ = writeln!(
                    msg,
                    "   List reduced from {before} to {} due to restriction <{restriction}>",
                    rows.len()
                );
            }
        }
        // Widths count characters, as Python's `len` and `ljust` do.
        let chars = |f: &Func| f.to_string().chars().count();
        let names = if rows.len() < self.funcs.len() {
            rows.iter().map(|(f, _)| chars(f)).max()
        } else {
            self.funcs.keys().map(chars).max()
        };
        Report {
            stats: self,
            width: names.unwrap_or(0).min(MAX_NAME_WIDTH) + 2,
            rows,
            msg,
        }
    }
}

/// pstats' `f8`: `%8.3f` of seconds.
fn f8(d: Duration) -> String {
    format!("{:8.3}", d.as_secs_f64())
}

fn f8_div(d: Duration, n: u64) -> String {
    if n == 0 {
        " ".repeat(8)
    } else {
        format!("{:8.3}", d.as_secs_f64() / n as f64)
    }
}

/// `nc` or `nc/cc`.
fn ncalls(c: &Calls) -> String {
    if c.ncalls == c.pcalls {
        c.ncalls.to_string()
    } else {
        format!("{}/{}", c.ncalls, c.pcalls)
    }
}

impl<'a> Report<'a> {
    /// The rows left after sorting and restricting, in order.
    pub fn rows(&self) -> &[(&'a Func, &'a FuncStats)] {
        &self.rows
    }

    /// pstats' `print_callers`: each listed function and who called it.
    pub fn callers(&self) -> impl fmt::Display + '_ {
        CallList {
            report: self,
            callers: true,
        }
    }

    /// pstats' `print_callees`: each listed function and what it called.
    pub fn callees(&self) -> impl fmt::Display + '_ {
        CallList {
            report: self,
            callers: false,
        }
    }
}

/// `print_stats`.
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats;
        for source in &stats.sources {
            writeln!(f, "{source}")?;
        }
        if !stats.sources.is_empty() {
            writeln!(f)?;
        }
        // pstats' `top_level`: functions called by the old `jprofile` profiler's root.
        let root = Func::new("jprofile", 0, "profiler");
        for (func, row) in &stats.funcs {
            if row.callers.contains_key(&root) {
                write!(f, "         ")?;
                crate::stats::write_escaped(f, &func.name)?;
                writeln!(f)?;
            }
        }
        write!(f, "         {} function calls ", stats.total_calls())?;
        if stats.total_calls() != stats.prim_calls() {
            write!(f, "({} primitive calls) ", stats.prim_calls())?;
        }
        writeln!(f, "in {:.3} seconds", stats.total_time().as_secs_f64())?;
        writeln!(f)?;
        if self.rows.is_empty() {
            return Ok(());
        }
        writeln!(f, "{}", self.msg)?;
        writeln!(
            f,
            "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)"
        )?;
        for (func, row) in &self.rows {
            let c = &row.calls;
            writeln!(
                f,
                "{:>9} {} {} {} {} {func}",
                ncalls(c),
                f8(c.tottime),
                f8_div(c.tottime, c.ncalls),
                f8(c.cumtime),
                f8_div(c.cumtime, c.pcalls),
            )?;
        }
        writeln!(f)?;
        writeln!(f)
    }
}

struct CallList<'r, 'a> {
    report: &'r Report<'a>,
    callers: bool,
}

/// `print_callers` / `print_callees`.
impl fmt::Display for CallList<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.report;
        if report.rows.is_empty() {
            return Ok(());
        }
        writeln!(f, "{}", report.msg)?;
        let width = report.width;
        let (title, arrow) = if self.callers {
            ("was called by...", "<-")
        } else {
            ("called...", "->")
        };
        writeln!(f, "{:width$}{title}", "Function ")?;
        if report
            .stats
            .funcs
            .values()
            .any(|row| !row.callers.is_empty())
        {
            writeln!(f, "{:width$}    ncalls  tottime  cumtime", "")?;
        }
        let callees = if self.callers {
            Default::default()
        } else {
            report.stats.callees()
        };
        for (func, row) in &report.rows {
            write!(f, "{:width$}{arrow} ", func.to_string())?;
            let list: Vec<(&Func, &Calls)> = if self.callers {
                // pstats prints `sorted(call_dict.keys())`: by file, line, name.
                let mut list: Vec<_> = row.callers.iter().collect();
                list.sort_by(|a, b| a.0.cmp(b.0));
                list
            } else {
                callees
                    .get(func)
                    .map(|m| m.iter().map(|(k, v)| (*k, v)).collect())
                    .unwrap_or_default()
            };
            if list.is_empty() {
                writeln!(f)?;
                continue;
            }
            for (i, (other, calls)) in list.iter().enumerate() {
                let (indent, pad) = if i == 0 { (0, 7) } else { (width + 1, 9) };
                writeln!(
                    f,
                    "{:indent$}{:>pad$} {} {}  {other}",
                    "",
                    ncalls(calls),
                    f8(calls.tottime),
                    f8(calls.cumtime),
                )?;
            }
        }
        writeln!(f)?;
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_regex_is_explained_on_one_line() {
        let err = Restriction::pattern("(").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid restriction \"(\": not a valid regex: unclosed group"
        );
    }

    #[test]
    fn sort_keys_parse_like_pstats() {
        assert_eq!("cumtime".parse::<SortKey>().unwrap(), SortKey::Cumulative);
        assert_eq!("cum".parse::<SortKey>().unwrap(), SortKey::Cumulative);
        assert_eq!("tot".parse::<SortKey>().unwrap(), SortKey::Time);
        assert_eq!("mod".parse::<SortKey>().unwrap(), SortKey::File);
        // `c` could be calls or cumulative.
        let err = "c".parse::<SortKey>().unwrap_err().to_string();
        assert!(
            err.starts_with("unknown sort key \"c\": expected one of calls"),
            "{err}"
        );
        assert!("".parse::<SortKey>().is_err());
    }

    #[test]
    fn restrictions_print_as_python_reprs() {
        assert_eq!(Restriction::Top(15).to_string(), "15");
        assert_eq!(Restriction::fraction(0.5).unwrap().to_string(), "0.5");
        assert_eq!(
            Restriction::pattern("Notes on Python").unwrap().to_string(),
            "'Notes on Python'"
        );
        assert_eq!(
            Restriction::pattern("it's").unwrap().to_string(),
            "\"it's\""
        );
        assert!(Restriction::fraction(1.0).is_err());
        let err = Restriction::pattern("(").unwrap_err().to_string();
        assert!(err.starts_with("invalid restriction \"(\""), "{err}");
    }

    #[test]
    fn one_huge_name_does_not_widen_every_line() {
        let mut stats = Stats::new();
        let huge = Func::new("h.py", 1, "x".repeat(100_000));
        stats.record(huge.clone(), None, Calls::default());
        let main = Func::new("m.py", 1, "main");
        stats.record(main.clone(), None, Calls::default());
        for i in 0..50 {
            stats.record(
                Func::new("s.py", i, "f"),
                Some(main.clone()),
                Calls::default(),
            );
        }
        let report = stats.report(&ReportOptions::default());
        let text = report.callers().to_string();
        // Only the huge name's own line is long; the others pad to MAX_NAME_WIDTH at most.
        let long = text
            .lines()
            .filter(|l| l.len() > MAX_NAME_WIDTH + 100)
            .count();
        assert_eq!(long, 1, "{}", text.len());
    }
}
