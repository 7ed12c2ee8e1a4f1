//! Stats files: the formats notes-prof reads (pstats files as cProfile and pstats write them,
//! and its own earlier format), told apart by their first bytes, and what it writes (pstats);
//! `Stats::load`, `save`, `from_bytes` and `to_bytes`.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::stats::{Calls, Func, FuncStats, StackNode, Stats, escaped};
use crate::{Error, Result};

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
    pub(crate) fn read_from(mut input: impl Read, what: &str, limit: u64) -> Result<Self> {
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
