//! pstats files: the marshalled dict `(file, line, name) -> (cc, nc, tt, ct, callers)` that
//! `cProfile` (`-o`, `Profile.dump_stats`) and `pstats.Stats.dump_stats` write, with
//! `callers` a dict `(file, line, name) -> (nc, cc, tt, ct)` (or a call count, from the
//! pure-Python `profile` module). Times are float seconds.

use std::io::Read;
use std::time::Duration;

use indexmap::IndexMap;

use crate::marshal::{Reader, Value, Writer};
use crate::stats::{Calls, Func, FuncStats, Stats};
use crate::{Error, Result};

/// Work allowed to turn the decoded objects into rows, in bytes of names copied: references
/// let a small file name one long string many times, so this is bounded too.
fn budget(consumed: u64) -> u64 {
    // A real cProfile file needs about 2.5 times its size; 8 times leaves room for long names.
    (16 << 20) + consumed.saturating_mul(8)
}

/// Reads a pstats file from `input` (at most `limit` bytes).
pub(crate) fn read(input: impl Read, what: &str, limit: u64) -> Result<Stats> {
    let mut reader = Reader::new(input, limit);
    let value = match reader.read() {
        Ok(v) => v,
        Err(e) if e.limit_reached => {
            return Err(Error::TooLarge {
                what: what.to_owned(),
                limit,
            });
        }
        Err(e) => {
            return Err(Error::Format {
                what: what.to_owned(),
                why: format!("bad marshal data at byte {}: {}", e.offset, e.why),
            });
        }
    };
    let consumed = reader.offset();
    let mut conv = Convert {
        left: budget(consumed),
    };
    let mut stats = conv.stats(&value).map_err(|why| Error::Format {
        what: what.to_owned(),
        why,
    })?;
    stats.check(what)?;
    // Python ignores what follows the dict; notes-prof keeps measured stacks there.
    stats.read_stacks_trailer(reader.into_inner(), what, limit.saturating_sub(consumed))?;
    Ok(stats)
}

struct Convert {
    left: u64,
}

type R<T> = std::result::Result<T, String>;

impl Convert {
    fn charge(&mut self, n: u64) -> R<()> {
        if n > self.left {
            return Err(
                "it names more functions and callers than a file of its size can hold \
                        (back-references repeated beyond the work limit)"
                    .into(),
            );
        }
        self.left -= n;
        Ok(())
    }

    fn stats(&mut self, value: &Value) -> R<Stats> {
        let Value::Dict(pairs) = value else {
            return Err(format!(
                "it holds a {}, not the dict of functions of a pstats/cProfile file",
                value.type_name()
            ));
        };
        let mut stats = Stats::new();
        for (key, value) in pairs.iter() {
            let func = self
                .func(key)
                .map_err(|why| format!("a function key: {why}"))?;
            let row = self.row(value).map_err(|why| format!("{func}: {why}"))?;
            // As a Python dict: a key given twice keeps its first place and its last value.
            stats.funcs.insert(func, row);
        }
        Ok(stats)
    }

    fn func(&mut self, key: &Value) -> R<Func> {
        let items = tuple(key, 3, "(file, line, name)")?;
        let (Value::Str(file), line, Value::Str(name)) = (&items[0], &items[1], &items[2]) else {
            return Err(format!(
                "expected (str, int, str), found ({}, {}, {})",
                items[0].type_name(),
                items[1].type_name(),
                items[2].type_name()
            ));
        };
        let line = match line {
            Value::Int(n) => {
                u32::try_from(*n).map_err(|_| format!("line number {n} out of range"))?
            }
            other => return Err(format!("the line number is a {}", other.type_name())),
        };
        self.charge(file.len() as u64 + name.len() as u64 + 48)?;
        Ok(Func::new(&**file, line, &**name))
    }

    fn row(&mut self, value: &Value) -> R<FuncStats> {
        let items = tuple(value, 5, "(cc, nc, tt, ct, callers)")?;
        let totals = calls(&items[1], &items[0], &items[2], &items[3])?;
        let Value::Dict(pairs) = &items[4] else {
            return Err(format!("callers is a {}, not a dict", items[4].type_name()));
        };
        let mut callers = IndexMap::with_capacity(pairs.len().min(1024));
        for (key, value) in pairs.iter() {
            let caller = self.func(key).map_err(|why| format!("a caller: {why}"))?;
            let edge = match value {
                Value::Tuple(_) => {
                    let e = tuple(value, 4, "(nc, cc, tt, ct)")?;
                    calls(&e[0], &e[1], &e[2], &e[3])
                }
                // The `profile` module's callers: a call count, no times.
                Value::Int(_) => calls(value, value, &Value::Int(0), &Value::Int(0)),
                other => Err(format!("a caller's figures are a {}", other.type_name())),
            }
            .map_err(|why| format!("caller {caller}: {why}"))?;
            self.charge(32)?;
            callers.insert(caller, edge);
        }
        Ok(FuncStats {
            calls: totals,
            callers,
        })
    }
}

fn tuple<'v>(value: &'v Value, n: usize, shape: &str) -> R<&'v [Value]> {
    match value {
        Value::Tuple(items) if items.len() == n => Ok(items),
        Value::Tuple(items) => Err(format!(
            "a tuple of {} items where {shape} was expected",
            items.len()
        )),
        other => Err(format!(
            "a {} where {shape} was expected",
            other.type_name()
        )),
    }
}

fn count(v: &Value, what: &str) -> R<u64> {
    match v {
        Value::Int(n) => u64::try_from(*n).map_err(|_| format!("{what} is negative ({n})")),
        Value::BigInt => Err(format!("{what} is too large")),
        other => Err(format!("{what} is a {}, not an int", other.type_name())),
    }
}

fn seconds(v: &Value, what: &str) -> R<Duration> {
    let x = match v {
        Value::Float(x) => *x,
        Value::Int(n) => *n as f64,
        other => return Err(format!("{what} is a {}, not a number", other.type_name())),
    };
    if x == 0.0 {
        // Includes -0.0.
        return Ok(Duration::ZERO);
    }
    Duration::try_from_secs_f64(x).map_err(|_| {
        format!("{what} {x} s is not a duration (negative, infinite, NaN or too large)")
    })
}

fn calls(nc: &Value, cc: &Value, tt: &Value, ct: &Value) -> R<Calls> {
    let calls = Calls {
        ncalls: count(nc, "the call count")?,
        pcalls: count(cc, "the primitive call count")?,
        tottime: seconds(tt, "tottime")?,
        cumtime: seconds(ct, "cumtime")?,
    };
    if calls.pcalls > calls.ncalls {
        return Err(format!(
            "{} primitive calls out of {} calls",
            calls.pcalls, calls.ncalls
        ));
    }
    Ok(calls)
}

fn write_func(w: &mut Writer, f: &Func) {
    w.tuple(3);
    w.str(&f.file);
    w.int(i64::from(f.line));
    w.str(&f.name);
}

/// The profile as a pstats file (marshal version 4, without back-references).
pub(crate) fn to_bytes(stats: &Stats) -> Vec<u8> {
    let mut w = Writer::default();
    w.dict_start();
    for (func, row) in &stats.funcs {
        write_func(&mut w, func);
        let c = &row.calls;
        w.tuple(5);
        w.uint(c.pcalls);
        w.uint(c.ncalls);
        w.float(c.tottime.as_secs_f64());
        w.float(c.cumtime.as_secs_f64());
        w.dict_start();
        for (caller, e) in &row.callers {
            write_func(&mut w, caller);
            w.tuple(4);
            w.uint(e.ncalls);
            w.uint(e.pcalls);
            w.float(e.tottime.as_secs_f64());
            w.float(e.cumtime.as_secs_f64());
        }
        w.dict_end();
    }
    w.dict_end();
    let mut out = w.out;
    stats.write_stacks_trailer(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_survive_float_seconds() {
        for ns in [0u64, 1, 420, 999_999_999, 1_000_000_001, 86_400_000_000_123] {
            let d = Duration::from_nanos(ns);
            assert_eq!(
                seconds(&Value::Float(d.as_secs_f64()), "t").unwrap(),
                d,
                "{ns}"
            );
        }
        assert!(seconds(&Value::Float(-1e-9), "t").is_err());
        assert!(seconds(&Value::Float(f64::NAN), "t").is_err());
        assert!(seconds(&Value::Float(f64::INFINITY), "t").is_err());
    }

    #[test]
    fn shapes_are_checked() {
        let s = |b: &[u8]| read(b, "p", 1 << 20).unwrap_err().to_string();
        assert!(
            s(b"N").contains("holds a None, not the dict"),
            "{}",
            s(b"N")
        );
        // {(): None}
        let e = s(b"{)\x00N0");
        assert!(
            e.contains("a tuple of 0 items where (file, line, name)"),
            "{e}"
        );
    }
}
