//! pstats' data model: one row per function, with its callers (the file formats are in
//! `file.rs` and `pstats.rs`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A function as pstats names it: `file:line(name)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Func {
    /// The source file of the span's callsite, as `file!()` gave it.
    pub file: String,
    /// The line of the callsite (0 when unknown).
    pub line: u32,
    /// The span's name (the function's name for `#[tracing::instrument]`).
    pub name: String,
}

impl Func {
    /// A function from its three parts.
    pub fn new(file: impl Into<String>, line: u32, name: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line,
            name: name.into(),
        }
    }

    /// The same function with the directories removed from its file name (pstats'
    /// `func_strip_path`: `os.path.basename`, so `/` on Unix and also `\\` and `C:` on Windows).
    #[must_use]
    pub fn strip_dir(&self) -> Self {
        let seps: &[char] = if cfg!(windows) {
            &['/', '\\', ':']
        } else {
            &['/']
        };
        let base = self.file.rsplit(seps).next().unwrap_or(self.file.as_str());
        Self::new(base, self.line, self.name.clone())
    }

    /// pstats' `func_std_string`, unescaped: `file:line(name)`, or `{name}` for built-ins
    /// (file `~`, line 0, name in angle brackets). Regex restrictions and the `stdname` sort
    /// use this form, as pstats does; reports print [`Func`]'s `Display`, which escapes.
    pub fn std_string(&self) -> String {
        if self.file == "~" && self.line == 0 {
            if let Some(inner) = self
                .name
                .strip_prefix('<')
                .and_then(|n| n.strip_suffix('>'))
            {
                return format!("{{{inner}}}");
            }
            return self.name.clone();
        }
        format!("{}:{}({})", self.file, self.line, self.name)
    }
}

/// Writes `s` with control characters, line and paragraph separators and bidirectional
/// overrides escaped (`\n`, `\x1b`, `\u2028`): a name from a hostile stats file cannot start
/// a new report line, move the cursor or reorder what is shown. Everything else (backslashes
/// in Windows paths included) prints as it is, so ordinary names print as pstats prints them.
pub(crate) fn write_escaped(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    for c in s.chars() {
        match c {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if c.is_control() && u32::from(c) < 0x100 => write!(out, "\\x{:02x}", u32::from(c))?,
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}') =>
            {
                write!(out, "\\u{:04x}", u32::from(c))?;
            }
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// The escaped form of `s` (see [`Func`]'s `Display`).
pub(crate) fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let _ = write_escaped(&mut out, s);
    out
}

/// pstats' `func_std_string` (see [`Func::std_string`]) with control characters escaped.
impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.std_string();
        if f.width().is_some() {
            // Padding applies to the escaped text.
            return f.pad(&escaped(&text));
        }
        write_escaped(f, &text)
    }
}

/// Call counts and times, for a function or for one caller→callee edge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calls {
    /// All calls (pstats' `nc`).
    pub ncalls: u64,
    /// Primitive calls: calls made while the function was not already running on that thread (`cc`).
    pub pcalls: u64,
    /// Own time: the time spent in the function minus the time spent in the functions it called.
    pub tottime: Duration,
    /// Cumulative time, counted only when the outermost recursion level returns.
    pub cumtime: Duration,
}

impl Calls {
    /// Adds `other` to `self` (saturating).
    pub fn add(&mut self, other: &Calls) {
        self.ncalls = self.ncalls.saturating_add(other.ncalls);
        self.pcalls = self.pcalls.saturating_add(other.pcalls);
        self.tottime = self.tottime.saturating_add(other.tottime);
        self.cumtime = self.cumtime.saturating_add(other.cumtime);
    }
}

/// One row of a profile: a function's totals and who called it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuncStats {
    /// The function's totals.
    pub calls: Calls,
    /// For each caller, the calls it made to this function, in the file's order.
    pub callers: IndexMap<Func, Calls>,
}

impl FuncStats {
    /// pstats' `add_func_stats`: totals summed, callers of both, summed where both have one.
    fn add(&mut self, other: &FuncStats) {
        self.calls.add(&other.calls);
        for (caller, calls) in &other.callers {
            self.callers.entry(caller.clone()).or_default().add(calls);
        }
    }
}

/// A profile: what pstats' `Stats` holds (rows by function, with callers, in the order of
/// the file or of first call), plus the names of the files it was loaded from for the
/// report's first lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub(crate) funcs: IndexMap<Func, FuncStats>,
    pub(crate) sources: Vec<String>,
    /// The measured call-stack tree (Rust profiles); empty when only edges are known.
    pub(crate) stacks: Vec<StackNode>,
    /// Paths were left out of `stacks` (a thread reached `MAX_STACK_NODES`).
    pub(crate) stacks_truncated: bool,
}

/// One node of a Rust profile's call-stack tree: a function reached through one exact path
/// from a root, with the calls made through that path (own and cumulative time included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackNode {
    /// The node of the caller (an index into [`Stats::stacks`], always smaller than this
    /// node's own), or `None` at the top of a thread's stack.
    pub parent: Option<usize>,
    /// The function.
    pub func: Func,
    /// Calls through this path.
    pub calls: Calls,
}

/// The most stack paths a thread records (a deep, wide recursion would otherwise grow without
/// bound); calls beyond it are still counted in the rows, and the stacks are marked truncated.
pub const MAX_STACK_NODES: usize = 1 << 20;

impl Stats {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `calls` of `func` made by `caller` (`None` for a call at the top of a thread's stack).
    /// The function's totals grow by `calls`, and so does the caller edge.
    pub fn record(&mut self, func: Func, caller: Option<Func>, calls: Calls) {
        let row = self.funcs.entry(func).or_default();
        row.calls.add(&calls);
        if let Some(caller) = caller {
            row.callers.entry(caller).or_default().add(&calls);
        }
    }

    /// The row of `func`, created empty if missing (the collector fills totals and edges separately).
    pub(crate) fn row_mut(&mut self, func: Func) -> &mut FuncStats {
        self.funcs.entry(func).or_default()
    }

    /// The measured call-stack tree, parents before children (empty for a profile read from a
    /// cProfile file, which has only caller edges; see [`Stats::folded`]).
    pub fn stacks(&self) -> &[StackNode] {
        &self.stacks
    }

    /// Adds `calls` to the stack node `func` under `parent` (created when missing) and returns
    /// its index. `parent` must be an index returned before.
    pub(crate) fn stack_node(
        &mut self,
        index: &mut HashMap<(Option<usize>, Func), usize>,
        parent: Option<usize>,
        func: Func,
        calls: &Calls,
    ) -> usize {
        match index.get(&(parent, func.clone())) {
            Some(&i) => {
                self.stacks[i].calls.add(calls);
                i
            }
            None => {
                self.stacks.push(StackNode {
                    parent,
                    func: func.clone(),
                    calls: *calls,
                });
                index.insert((parent, func), self.stacks.len() - 1);
                self.stacks.len() - 1
            }
        }
    }

    /// An index of the stack tree by (parent, function), for [`Stats::stack_node`].
    pub(crate) fn stack_index(&self) -> HashMap<(Option<usize>, Func), usize> {
        self.stacks
            .iter()
            .enumerate()
            .map(|(i, n)| ((n.parent, n.func.clone()), i))
            .collect()
    }

    /// Merges `nodes` (parents before children) into the stack tree, mapping each function.
    fn merge_stacks(&mut self, nodes: &[StackNode], map: impl Fn(&Func) -> Func) {
        let mut index = self.stack_index();
        let mut local: Vec<usize> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let parent = node.parent.and_then(|p| local.get(p).copied());
            let i = self.stack_node(&mut index, parent, map(&node.func), &node.calls);
            local.push(i);
        }
    }

    /// The rows, in the file's order (pstats' dict order; first call for a Rust profile):
    /// a report without a sort key, and ties in a sort, keep this order.
    pub fn functions(&self) -> impl ExactSizeIterator<Item = (&Func, &FuncStats)> {
        self.funcs.iter()
    }

    /// The row of one function.
    pub fn get(&self, func: &Func) -> Option<&FuncStats> {
        self.funcs.get(func)
    }

    /// The first lines of a report: `<mtime>    <path>` for each file this profile was loaded from.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.funcs.len()
    }

    /// All calls of all functions.
    pub fn total_calls(&self) -> u64 {
        self.funcs
            .values()
            .fold(0u64, |n, f| n.saturating_add(f.calls.ncalls))
    }

    /// All primitive calls.
    pub fn prim_calls(&self) -> u64 {
        self.funcs
            .values()
            .fold(0u64, |n, f| n.saturating_add(f.calls.pcalls))
    }

    /// The total time: the sum of every function's own time (pstats' `total_tt`).
    pub fn total_time(&self) -> Duration {
        self.funcs
            .values()
            .fold(Duration::ZERO, |t, f| t.saturating_add(f.calls.tottime))
    }

    /// Adds another profile to this one (pstats' `add`): the rows of a function present in
    /// both are summed, edge by edge.
    pub fn add(&mut self, other: &Stats) {
        // Measured stacks stay only if both sides have them (or one side is empty).
        if other.stacks.is_empty() && !other.is_empty() {
            self.stacks.clear();
        } else if !self.stacks.is_empty() || self.is_empty() {
            self.merge_stacks(&other.stacks, Func::clone);
        }
        self.stacks_truncated |= other.stacks_truncated;
        self.sources.extend(other.sources.iter().cloned());
        for (func, row) in &other.funcs {
            self.funcs.entry(func.clone()).or_default().add(row);
        }
    }

    /// Removes the directories from every file name (pstats' `strip_dirs`); rows that then
    /// name the same function are merged, their callers summed. As in pstats, when two callers
    /// of one row strip to the same name, the row keeps the last one's figures (pstats
    /// replaces rather than adds them): the totals of every row are unchanged either way.
    pub fn strip_dirs(&mut self) {
        let stacks = std::mem::take(&mut self.stacks);
        self.merge_stacks(&stacks, Func::strip_dir);
        let funcs = std::mem::take(&mut self.funcs);
        for (func, row) in funcs {
            let mut callers = IndexMap::with_capacity(row.callers.len());
            for (caller, calls) in row.callers {
                callers.insert(caller.strip_dir(), calls);
            }
            let stripped = FuncStats {
                calls: row.calls,
                callers,
            };
            match self.funcs.entry(func.strip_dir()) {
                indexmap::map::Entry::Occupied(mut e) => e.get_mut().add(&stripped),
                indexmap::map::Entry::Vacant(e) => {
                    e.insert(stripped);
                }
            }
        }
    }

    /// For each function, the functions it called and the calls it made to each (pstats' `all_callees`).
    pub fn callees(&self) -> BTreeMap<&Func, BTreeMap<&Func, Calls>> {
        let mut all: BTreeMap<&Func, BTreeMap<&Func, Calls>> = BTreeMap::new();
        for (func, row) in &self.funcs {
            for (caller, calls) in &row.callers {
                all.entry(caller).or_default().insert(func, *calls);
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn calls(n: u64, p: u64, tt: u64, ct: u64) -> Calls {
        Calls {
            ncalls: n,
            pcalls: p,
            tottime: Duration::from_millis(tt),
            cumtime: Duration::from_millis(ct),
        }
    }

    fn sample() -> Stats {
        let mut s = Stats::new();
        let main = Func::new("src/main.rs", 1, "main");
        let f = Func::new("src/a/maths.rs", 4, "f");
        let g = Func::new("src/b/maths.rs", 4, "f");
        s.record(main.clone(), None, calls(1, 1, 1, 10));
        s.record(f, Some(main.clone()), calls(3, 1, 2, 4));
        s.record(g, Some(main), calls(2, 2, 3, 3));
        s
    }

    #[test]
    fn bytes_round_trip() {
        let s = sample();
        assert_eq!(Stats::from_bytes(&s.to_bytes(), "x").unwrap(), s);
        assert_eq!(Stats::from_bytes(&s.to_notes_prof_bytes(), "x").unwrap(), s);
    }

    #[test]
    fn damaged_pstats_files_are_errors() {
        let bytes = sample().to_bytes();
        for cut in 0..bytes.len() {
            let err = Stats::from_bytes(&bytes[..cut], "p.prof").unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("p.prof is not a valid stats file: "),
                "{err}"
            );
        }
        for i in 0..bytes.len() {
            for b in [0u8, 0x7f, 0xff, b'0', b'r', b'{'] {
                let mut damaged = bytes.clone();
                damaged[i] = b;
                // An error or a profile, never a panic.
                let _ = Stats::from_bytes(&damaged, "p");
            }
        }
    }

    #[test]
    fn a_size_limit_stops_endless_input() {
        // A dict of `None: None` forever: refused at the limit, not read to the end.
        let endless = std::io::Read::chain(&b"{"[..], std::io::repeat(b'N'));
        let err = Stats::read_from(endless, "endless", 1 << 16).unwrap_err();
        assert_eq!(
            err.to_string(),
            "endless is larger than the limit of 65536 bytes for a stats file"
        );
        let legacy = sample().to_notes_prof_bytes();
        let err = Stats::read_from(&legacy[..], "small", 30).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    }

    #[test]
    fn damaged_notes_prof_files_are_errors() {
        let bytes = sample().to_notes_prof_bytes();
        for cut in [0, 5, 12, 19, 20, bytes.len() - 1] {
            let err = Stats::from_bytes(&bytes[..cut], "p.prof").unwrap_err();
            assert!(
                err.to_string().starts_with("p.prof is not a valid"),
                "{err}"
            );
        }
        let mut wrong_version = bytes.clone();
        wrong_version[8] = 9;
        let err = Stats::from_bytes(&wrong_version, "p")
            .unwrap_err()
            .to_string();
        assert!(err.contains("format version 9"), "{err}");
        let mut flipped = bytes;
        let last = flipped.len() - 1;
        flipped[last] = b'x';
        assert!(Stats::from_bytes(&flipped, "p").is_err());
    }

    #[test]
    fn inconsistent_rows_are_errors() {
        let mut s = Stats::new();
        s.record(
            Func::new("a", 1, "a"),
            Some(Func::new("b", 1, "b")),
            calls(1, 1, 0, 0),
        );
        let err = Stats::from_bytes(&s.to_bytes(), "p")
            .unwrap_err()
            .to_string();
        assert!(err.contains("which has no row"), "{err}");
        let err = Stats::from_bytes(&s.to_notes_prof_bytes(), "p")
            .unwrap_err()
            .to_string();
        assert!(err.contains("which has no row"), "{err}");
        let mut s = Stats::new();
        s.record(Func::new("a", 1, "a"), None, calls(1, 2, 0, 0));
        let err = Stats::from_bytes(&s.to_notes_prof_bytes(), "p")
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 primitive calls out of 1"), "{err}");
        let err = Stats::from_bytes(&s.to_bytes(), "p")
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 primitive calls out of 1"), "{err}");
    }

    #[test]
    fn strip_dirs_merges_colliding_rows_and_edges() {
        let mut s = sample();
        s.strip_dirs();
        assert_eq!(s.len(), 2);
        let f = s.get(&Func::new("maths.rs", 4, "f")).unwrap();
        assert_eq!(f.calls, calls(5, 3, 5, 7));
        assert_eq!(
            f.callers[&Func::new("main.rs", 1, "main")],
            calls(5, 3, 5, 7)
        );
    }

    #[test]
    fn add_sums_rows() {
        let mut s = sample();
        s.add(&sample());
        assert_eq!(s.total_calls(), 12);
        assert_eq!(s.prim_calls(), 8);
        assert_eq!(s.total_time(), Duration::from_millis(12));
    }

    #[test]
    fn builtins_print_like_pstats() {
        assert_eq!(
            Func::new("~", 0, "<built-in method exec>").to_string(),
            "{built-in method exec}"
        );
        assert_eq!(Func::new("a.rs", 3, "f").to_string(), "a.rs:3(f)");
    }
}
