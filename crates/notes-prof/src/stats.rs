//! pstats' data model: one row per function, with its callers, and the stats file format.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

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

    /// The same function with the directories removed from its file name (pstats' `func_strip_path`).
    #[must_use]
    pub fn strip_dir(&self) -> Self {
        let base = self
            .file
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(self.file.as_str());
        Self::new(base, self.line, self.name.clone())
    }
}

/// pstats' `func_std_string`: `file:line(name)`, or `{name}` for pstats' built-ins
/// (file `~`, line 0, name in angle brackets).
impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file == "~" && self.line == 0 {
            if let Some(inner) = self
                .name
                .strip_prefix('<')
                .and_then(|n| n.strip_suffix('>'))
            {
                return write!(f, "{{{inner}}}");
            }
            return f.write_str(&self.name);
        }
        write!(f, "{}:{}({})", self.file, self.line, self.name)
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
    /// For each caller, the calls it made to this function.
    pub callers: BTreeMap<Func, Calls>,
}

impl FuncStats {
    fn add(&mut self, other: &FuncStats) {
        self.calls.add(&other.calls);
        for (caller, calls) in &other.callers {
            self.callers.entry(caller.clone()).or_default().add(calls);
        }
    }
}

/// A profile: what pstats' `Stats` holds (rows by function, with callers), plus the
/// names of the files it was loaded from for the report's first lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub(crate) funcs: BTreeMap<Func, FuncStats>,
    pub(crate) sources: Vec<String>,
}

/// The magic bytes that open a stats file.
pub const MAGIC: &[u8; 8] = b"\x93NPROF\r\n";
/// The version of the stats file format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Magic, version (u32 LE), payload length (u64 LE).
const HEADER_LEN: usize = 8 + 4 + 8;

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

    /// The rows, ordered by file, line and name.
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
        self.sources.extend(other.sources.iter().cloned());
        for (func, row) in &other.funcs {
            self.funcs.entry(func.clone()).or_default().add(row);
        }
    }

    /// Removes the directories from every file name (pstats' `strip_dirs`); rows (and
    /// edges) that then name the same function are merged.
    pub fn strip_dirs(&mut self) {
        let funcs = std::mem::take(&mut self.funcs);
        for (func, row) in funcs {
            let stripped = FuncStats {
                calls: row.calls,
                callers: BTreeMap::new(),
            };
            let target = self.funcs.entry(func.strip_dir()).or_default();
            target.add(&stripped);
            for (caller, calls) in row.callers {
                target
                    .callers
                    .entry(caller.strip_dir())
                    .or_default()
                    .add(&calls);
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

    /// The profile as the bytes of a stats file: magic, format version, payload length and a
    /// JSON payload (readable by any JSON tool after the 20-byte header).
    pub fn to_bytes(&self) -> Vec<u8> {
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

    /// Reads a profile from the bytes of a stats file; `what` names the input in errors.
    ///
    /// # Errors
    /// [`Error::Format`] when the magic, the version, the length or the payload is wrong,
    /// or when the rows are inconsistent (more primitive calls than calls, an edge from an
    /// unknown function, a function listed twice).
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Self> {
        let bad = |why: String| Error::Format {
            what: what.to_owned(),
            why,
        };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(bad(
                "it does not start with the notes-prof magic bytes".into()
            ));
        }
        if bytes.len() < HEADER_LEN {
            return Err(bad(format!(
                "it is truncated: {} bytes, the header alone is {HEADER_LEN}",
                bytes.len()
            )));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {version} is not supported (this build reads version {FORMAT_VERSION})"
            )));
        }
        let declared = u64::from_le_bytes(bytes[12..20].try_into().unwrap_or_default());
        let payload = &bytes[HEADER_LEN..];
        if declared != payload.len() as u64 {
            return Err(bad(format!(
                "the header announces {declared} payload bytes but {} follow (truncated or damaged)",
                payload.len()
            )));
        }
        let payload: Payload = serde_json::from_slice(payload)
            .map_err(|err| bad(format!("damaged payload: {err}")))?;
        let mut stats = Stats::new();
        for row in payload.functions {
            let calls = row
                .calls
                .into_calls()
                .map_err(|why| bad(format!("{}: {why}", row.func)))?;
            let mut callers = BTreeMap::new();
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
        for (func, row) in &stats.funcs {
            if let Some(caller) = row.callers.keys().find(|c| !stats.funcs.contains_key(*c)) {
                return Err(bad(format!(
                    "{func} is called by {caller}, which has no row"
                )));
            }
        }
        Ok(stats)
    }

    /// Writes the profile to a stats file, atomically (an existing file is replaced).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        // Atomically (the workspace's one writer): a crash never leaves half a stats file.
        let bytes = self.to_bytes();
        notes_fs::write_file(path, notes_fs::Replace::Allowed, |w| w.write_all(&bytes)).map_err(
            |source| Error::Io {
                action: "write",
                path: path.to_owned(),
                source,
            },
        )
    }

    /// Reads a stats file written by [`Stats::save`]. Like pstats, the report's first line
    /// then names the file and its modification time.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Format`] when it is not a valid stats file.
    pub fn load(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            action: "read",
            path: path.to_owned(),
            source,
        };
        let bytes = std::fs::read(path).map_err(io)?;
        let mut stats = Self::from_bytes(&bytes, &path.display().to_string())?;
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(io)?;
        let ctime =
            chrono::DateTime::<chrono::Local>::from(modified).format("%a %b %e %H:%M:%S %Y");
        stats.sources = vec![format!("{ctime}    {}", path.display())];
        Ok(stats)
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
    }

    #[test]
    fn damaged_files_are_errors() {
        let bytes = sample().to_bytes();
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
        let mut s = Stats::new();
        s.record(Func::new("a", 1, "a"), None, calls(1, 2, 0, 0));
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
