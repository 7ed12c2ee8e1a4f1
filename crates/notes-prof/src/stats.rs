//! pstats' data model: one row per function, with its callers, and the stats file format.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

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

/// The magic bytes that open a stats file.
pub const MAGIC: &[u8; 8] = b"\x93NPROF\r\n";
/// The version of the stats file format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Magic, version (u32 LE), payload length (u64 LE).
const HEADER_LEN: usize = 8 + 4 + 8;
/// The largest stats file [`Stats::load`] and [`Stats::from_bytes`] read, in bytes (256 MiB:
/// a profile of a large Python application is a few megabytes).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

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

    /// The profile as the bytes of a pstats file (Python's `marshal` of pstats' dict
    /// `(file, line, name) -> (cc, nc, tt, ct, callers)`), the format `cProfile -o` writes:
    /// `pstats.Stats(FILE)`, snakeviz, gprof2dot and tuna open it.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::pstats::to_bytes(self)
    }

    /// The profile in notes-prof's own earlier format: magic, format version, payload length and
    /// a JSON payload. [`Stats::from_bytes`] still reads it; new files are pstats files.
    pub fn to_notes_prof_bytes(&self) -> Vec<u8> {
        let payload = Payload {
            functions: self
                .funcs
                .iter()
                .map(|(func, row)| Row {
                    func: func.clone(),
                    calls: row.calls.into(),
                    callers: row
                        .callers
                        .iter()
                        .map(|(caller, calls)| Edge {
                            func: caller.clone(),
                            calls: (*calls).into(),
                        })
                        .collect(),
                })
                .collect(),
        };
        // Serialising plain structs of strings and integers to memory cannot fail.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let mut bytes = Vec::with_capacity(HEADER_LEN + json.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&json);
        bytes
    }

    /// Reads a profile from the bytes of a stats file: a pstats/cProfile file (any marshal
    /// version Python 3.8 to 3.14 writes) or a notes-prof file; `what` names the input in errors.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above [`MAX_FILE_BYTES`]; [`Error::Format`] when the bytes are not
    /// a profile, are truncated or damaged, or the rows are inconsistent (more primitive calls
    /// than calls, an edge from a function without a row, a negative or non-finite time).
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Self> {
        Self::read_from(bytes, what, MAX_FILE_BYTES)
    }

    /// Reads a profile from `input`, consuming at most `limit` bytes (checked before allocating).
    fn read_from(mut input: impl Read, what: &str, limit: u64) -> Result<Self> {
        let bad = |why: String| Error::Format {
            what: what.to_owned(),
            why,
        };
        let mut first = [0u8; 1];
        let got = input
            .read(&mut first)
            .map_err(|e| bad(format!("read error: {e}")))?;
        if got == 0 {
            return Err(bad("it is empty".into()));
        }
        let rest = input.take(limit);
        match first[0] {
            b'{' | 0xfb => crate::pstats::read(std::io::Read::chain(&first[..], rest), what, limit),
            0x93 => Self::read_notes_prof(std::io::Read::chain(&first[..], rest), what, limit),
            byte => Err(bad(format!(
                "it starts with byte 0x{byte:02x}, but a pstats/cProfile file starts with a \
                 marshalled dict ('{{', 0x7b or 0xfb) and a notes-prof file with 0x93"
            ))),
        }
    }

    fn read_notes_prof(mut input: impl Read, what: &str, limit: u64) -> Result<Self> {
        let bad = |why: String| Error::Format {
            what: what.to_owned(),
            why,
        };
        let mut header = Vec::with_capacity(HEADER_LEN);
        (&mut input)
            .take(HEADER_LEN as u64)
            .read_to_end(&mut header)
            .map_err(|e| bad(format!("read error: {e}")))?;
        if header.len() < MAGIC.len() || &header[..MAGIC.len()] != MAGIC {
            return Err(bad(
                "it does not start with the notes-prof magic bytes".into()
            ));
        }
        if header.len() < HEADER_LEN {
            return Err(bad(format!(
                "it is truncated: {} bytes, the header alone is {HEADER_LEN}",
                header.len()
            )));
        }
        let version = u32::from_le_bytes(header[8..12].try_into().unwrap_or_default());
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {version} is not supported (this build reads version {FORMAT_VERSION})"
            )));
        }
        let declared = u64::from_le_bytes(header[12..20].try_into().unwrap_or_default());
        if declared > limit.saturating_sub(HEADER_LEN as u64) {
            return Err(Error::TooLarge {
                what: what.to_owned(),
                limit,
            });
        }
        let mut payload = Vec::with_capacity(declared.min(1 << 20) as usize);
        (&mut input)
            .take(declared.saturating_add(1))
            .read_to_end(&mut payload)
            .map_err(|e| bad(format!("read error: {e}")))?;
        if declared != payload.len() as u64 {
            return Err(bad(format!(
                "the header announces {declared} payload bytes but {}{} follow (truncated or damaged)",
                payload.len(),
                if payload.len() as u64 > declared {
                    " or more"
                } else {
                    ""
                }
            )));
        }
        let payload: Payload = serde_json::from_slice(&payload)
            .map_err(|err| bad(format!("damaged payload: {err}")))?;
        let mut stats = Stats::new();
        for row in payload.functions {
            let calls = row
                .calls
                .into_calls()
                .map_err(|why| bad(format!("{}: {why}", row.func)))?;
            let mut callers = IndexMap::new();
            for edge in row.callers {
                let edge_calls = edge
                    .calls
                    .into_calls()
                    .map_err(|why| bad(format!("{} -> {}: {why}", edge.func, row.func)))?;
                if callers.insert(edge.func.clone(), edge_calls).is_some() {
                    return Err(bad(format!(
                        "{} lists caller {} twice",
                        row.func, edge.func
                    )));
                }
            }
            let func = row.func;
            if stats.funcs.contains_key(&func) {
                return Err(bad(format!("function {func} is listed twice")));
            }
            stats.funcs.insert(func, FuncStats { calls, callers });
        }
        stats.check(what)?;
        Ok(stats)
    }

    /// Every caller has a row.
    pub(crate) fn check(&self, what: &str) -> Result<()> {
        for (func, row) in &self.funcs {
            if let Some(caller) = row.callers.keys().find(|c| !self.funcs.contains_key(*c)) {
                return Err(Error::Format {
                    what: what.to_owned(),
                    why: format!("{func} is called by {caller}, which has no row"),
                });
            }
        }
        Ok(())
    }

    /// Writes the profile to a pstats file (see [`Stats::to_bytes`]), atomically (the
    /// workspace's one writer, `notes_fs::write_file`): a reader never sees half a profile, and
    /// an existing file is replaced.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes();
        notes_fs::write_file(path, notes_fs::Replace::Allowed, |w| w.write_all(&bytes)).map_err(
            |source| Error::Io {
                action: "write",
                path: path.to_owned(),
                source,
            },
        )
    }

    /// Reads a stats file: one that `python -m cProfile -o`, `Profile.dump_stats` or
    /// `pstats.Stats.dump_stats` wrote, or one written by notes-prof (either format). Like
    /// pstats, the report's first line then names the file and its modification time
    /// (`time.ctime`, local time). Files above [`MAX_FILE_BYTES`] are refused.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::TooLarge`] or [`Error::Format`]
    /// when it is not a valid stats file.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_limited(path, MAX_FILE_BYTES)
    }

    /// [`Stats::load`] with another size limit, in bytes.
    ///
    /// # Errors
    /// As [`Stats::load`].
    pub fn load_limited(path: &Path, limit: u64) -> Result<Self> {
        let io = |source| Error::Io {
            action: "read",
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let what = path.display().to_string();
        if meta.is_dir() {
            return Err(io(std::io::Error::other("it is a directory")));
        }
        if meta.len() > limit {
            return Err(Error::TooLarge { what, limit });
        }
        let mut stats = Self::read_from(std::io::BufReader::new(file), &what, limit)?;
        let modified = meta.modified().map_err(io)?;
        // A file name with a newline cannot forge report lines either.
        stats.sources = vec![format!(
            "{}    {}",
            ctime(modified),
            escaped(&path.display().to_string())
        )];
        Ok(stats)
    }
}

/// Python's `time.ctime` of a file time, in local time: `Tue Sep  6 12:12:24 2022`.
fn ctime(t: std::time::SystemTime) -> String {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::<chrono::Local>::from(t);
    format!(
        "{} {}{:3} {:02}:{:02}:{:02} {}",
        t.format("%a"),
        t.format("%b"),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}

/// What follows the marshalled dict of a pstats file that notes-prof wrote from a Rust run:
/// `\x93NPSTACK`, a u64 LE length and a JSON list of stack nodes. `marshal.load` reads one
/// object and leaves the rest, so pstats, snakeviz and gprof2dot are not disturbed.
const STACKS_MAGIC: &[u8; 8] = b"\x93NPSTACK";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StacksPayload {
    truncated: bool,
    nodes: Vec<RawNode>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    parent: Option<usize>,
    func: Func,
    calls: RawCalls,
}

impl Stats {
    pub(crate) fn write_stacks_trailer(&self, out: &mut Vec<u8>) {
        if self.stacks.is_empty() {
            return;
        }
        let payload = StacksPayload {
            truncated: self.stacks_truncated,
            nodes: self
                .stacks
                .iter()
                .map(|n| RawNode {
                    parent: n.parent,
                    func: n.func.clone(),
                    calls: n.calls.into(),
                })
                .collect(),
        };
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        out.extend_from_slice(STACKS_MAGIC);
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
    }

    /// Reads the stacks trailer, if there is one, from what follows the dict (at most `limit` bytes).
    pub(crate) fn read_stacks_trailer(
        &mut self,
        input: impl Read,
        what: &str,
        limit: u64,
    ) -> Result<()> {
        let bad = |why: String| Error::Format {
            what: what.to_owned(),
            why: format!("the stacks after the profile: {why}"),
        };
        let mut input = input.take(limit);
        let mut head = Vec::with_capacity(16);
        (&mut input)
            .take(16)
            .read_to_end(&mut head)
            .map_err(|e| bad(format!("read error: {e}")))?;
        if head.len() < 16 || &head[..8] != STACKS_MAGIC {
            // Nothing, or bytes that are not ours: ignored, as Python ignores them.
            return Ok(());
        }
        let declared = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
        if declared > limit.saturating_sub(16) {
            return Err(Error::TooLarge {
                what: what.to_owned(),
                limit,
            });
        }
        let mut json = Vec::with_capacity(declared.min(1 << 20) as usize);
        input
            .take(declared)
            .read_to_end(&mut json)
            .map_err(|e| bad(format!("read error: {e}")))?;
        if json.len() as u64 != declared {
            return Err(bad("truncated".into()));
        }
        let payload: StacksPayload =
            serde_json::from_slice(&json).map_err(|e| bad(format!("damaged: {e}")))?;
        let mut stacks = Vec::with_capacity(payload.nodes.len());
        for (i, node) in payload.nodes.into_iter().enumerate() {
            if node.parent.is_some_and(|p| p >= i) {
                return Err(bad(format!(
                    "node {i} has parent {:?}, not an earlier node",
                    node.parent
                )));
            }
            if !self.funcs.contains_key(&node.func) {
                return Err(bad(format!("node {i} is {}, which has no row", node.func)));
            }
            let calls = node
                .calls
                .into_calls()
                .map_err(|why| bad(format!("node {i}: {why}")))?;
            stacks.push(StackNode {
                parent: node.parent,
                func: node.func,
                calls,
            });
        }
        self.stacks = stacks;
        self.stacks_truncated = payload.truncated;
        Ok(())
    }
}

/// The stats file's payload.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    functions: Vec<Row>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    func: Func,
    calls: RawCalls,
    callers: Vec<Edge>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Edge {
    func: Func,
    calls: RawCalls,
}

/// Times as integer nanoseconds: exact, and simple for other tools.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalls {
    ncalls: u64,
    pcalls: u64,
    tottime_ns: u64,
    cumtime_ns: u64,
}

impl From<Calls> for RawCalls {
    fn from(c: Calls) -> Self {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Self {
            ncalls: c.ncalls,
            pcalls: c.pcalls,
            tottime_ns: ns(c.tottime),
            cumtime_ns: ns(c.cumtime),
        }
    }
}

impl RawCalls {
    fn into_calls(self) -> std::result::Result<Calls, String> {
        if self.pcalls > self.ncalls {
            return Err(format!(
                "{} primitive calls out of {} calls",
                self.pcalls, self.ncalls
            ));
        }
        Ok(Calls {
            ncalls: self.ncalls,
            pcalls: self.pcalls,
            tottime: Duration::from_nanos(self.tottime_ns),
            cumtime: Duration::from_nanos(self.cumtime_ns),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
