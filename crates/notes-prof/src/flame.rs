//! Flame graphs: folded stacks (`root;caller;callee NANOSECONDS`, what inferno, speedscope and
//! flamegraph.pl read) and, with the `flame` feature, an interactive SVG drawn by `inferno`.
//!
//! A profile collected in Rust carries its exact call stacks ([`Stats::stacks`]): each stack's
//! own time is measured. A cProfile file has only caller→callee edges, so its stacks are built
//! from them as snakeviz does: from each root (a function nobody called, or the part of a
//! function's time its callers do not account for, as for `exec`), each callee gets the
//! cumulative time of its edge from the caller, scaled down when the callees add up to more
//! than the caller; a function already on the stack is not entered again. Those times are an
//! estimate, and the graph's title says so.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::stats::{Func, Stats, escaped};

/// At most this many stacks are built from edges (a graph of many paths would otherwise
/// grow exponentially).
pub const MAX_STACKS: usize = 200_000;
/// Stacks are at most this deep: deeper frames (a deep recursion) are counted in their
/// ancestor at this depth.
pub const MAX_DEPTH: usize = 128;
/// The folded stacks hold at most this many bytes of names (a few long names repeated on
/// many stacks would otherwise make the output far larger than the profile).
pub const MAX_FOLDED_BYTES: usize = 64 << 20;

/// Folded stacks of a profile: one line per stack, its frames from the root, and its own time
/// in nanoseconds. `Display` prints them in the folded format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// (frames joined with `;`, own time in ns), sorted by stack.
    lines: Vec<(String, u64)>,
    exact: bool,
    truncated: bool,
}

/// A frame's name in a folded line: escaped like reports, and without the `;` that separates
/// frames (it becomes `,`).
fn frame(f: &Func) -> String {
    escaped(&f.std_string()).replace(';', ",")
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Folded {
    /// Whether the stacks were measured (a Rust profile) rather than built from caller edges.
    pub fn exact(&self) -> bool {
        self.exact
    }

    /// Whether stacks were cut by [`MAX_STACKS`], [`MAX_DEPTH`] or [`MAX_FOLDED_BYTES`]
    /// (or the collector's [`crate::MAX_STACK_NODES`]).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The stacks and their own times in nanoseconds.
    pub fn lines(&self) -> impl Iterator<Item = (&str, u64)> {
        self.lines.iter().map(|(s, n)| (s.as_str(), *n))
    }

    /// The title a picture of these stacks should carry: it says how the stacks were obtained.
    pub fn title(&self) -> String {
        let mut title = if self.exact {
            "Flame graph: measured call stacks".to_owned()
        } else {
            "Flame graph built from caller edges, as snakeviz does (a cProfile file has no \
             stacks): times are estimates"
                .to_owned()
        };
        if self.truncated {
            title.push_str(&format!(
                " (truncated at {MAX_STACKS} stacks, {MAX_DEPTH} frames or {MAX_FOLDED_BYTES} bytes)"
            ));
        }
        title
    }

    /// Draws the stacks as an interactive SVG flame graph (click to zoom, Ctrl-F to search).
    ///
    /// # Errors
    /// [`crate::Error::Flame`] when `inferno` cannot draw or `out` cannot be written.
    #[cfg(feature = "flame")]
    pub fn write_svg(&self, title: Option<&str>, out: impl std::io::Write) -> crate::Result<()> {
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.map_or_else(|| self.title(), str::to_owned);
        options.count_name = "ns".into();
        options.name_type = "Function:".into();
        options.deterministic = true;
        let lines: Vec<String> = self.lines.iter().map(|(s, n)| format!("{s} {n}")).collect();
        if lines.is_empty() {
            return Err(crate::Error::Flame {
                why: "the profile has no time to draw".into(),
            });
        }
        inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), out)
            .map_err(|e| crate::Error::Flame { why: e.to_string() })
    }
}

/// The folded format: `frame;frame;frame NANOSECONDS` per line.
impl fmt::Display for Folded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (stack, n) in &self.lines {
            writeln!(f, "{stack} {n}")?;
        }
        Ok(())
    }
}

impl Stats {
    /// The profile's folded stacks: measured ones when the profile has them (collected in
    /// Rust), otherwise built from the caller edges as snakeviz does (see the module docs).
    pub fn folded(&self) -> Folded {
        if let Some(folded) = self.folded_exact() {
            return folded;
        }
        self.folded_from_edges()
    }

    fn folded_exact(&self) -> Option<Folded> {
        if self.stacks.is_empty() {
            return None;
        }
        let mut truncated = self.stacks_truncated;
        // For each node: the line it counts in (its own, or a shallower ancestor's when it is
        // too deep or the byte budget is spent), and its depth.
        let mut line_of: Vec<Option<usize>> = Vec::with_capacity(self.stacks.len());
        let mut depth: Vec<usize> = Vec::with_capacity(self.stacks.len());
        let mut paths: Vec<String> = Vec::new();
        let mut times: Vec<u64> = Vec::new();
        let mut bytes = 0usize;
        for node in &self.stacks {
            let parent = node.parent.filter(|&p| p < line_of.len());
            let d = parent.map_or(1, |p| depth[p] + 1);
            let parent_line = parent.and_then(|p| line_of[p]);
            let name = frame(&node.func);
            let own_line = if d > MAX_DEPTH || bytes >= MAX_FOLDED_BYTES {
                truncated = true;
                parent_line
            } else {
                let path = match parent_line {
                    Some(l) => format!("{};{name}", paths[l]),
                    None => name,
                };
                bytes = bytes.saturating_add(path.len());
                paths.push(path);
                times.push(0);
                Some(paths.len() - 1)
            };
            if let Some(l) = own_line {
                times[l] = times[l].saturating_add(ns(node.calls.tottime));
            }
            line_of.push(own_line);
            depth.push(d);
        }
        let mut lines: BTreeMap<String, u64> = BTreeMap::new();
        for (path, n) in paths.into_iter().zip(times) {
            if n > 0 {
                let e = lines.entry(path).or_default();
                *e = e.saturating_add(n);
            }
        }
        Some(Folded {
            lines: lines.into_iter().collect(),
            exact: true,
            truncated,
        })
    }

    fn folded_from_edges(&self) -> Folded {
        let callees = self.callees();
        // Roots: the time of a function that its callers do not account for (all of it for a
        // function nobody called, most of `exec`'s in a cProfile file: only imports call it).
        let mut roots: Vec<(&Func, f64)> = self
            .funcs
            .iter()
            .filter_map(|(f, row)| {
                let ct = row.calls.cumtime.as_secs_f64();
                let called: f64 = row.callers.values().map(|e| e.cumtime.as_secs_f64()).sum();
                let own = ct - called;
                (row.callers.is_empty() || (own >= 1e-6 && own >= ct * 0.01))
                    .then_some((f, own.max(0.0)))
            })
            .collect();
        if roots.is_empty() {
            // Everything is in a cycle: start from the function with the most cumulative time.
            roots.extend(
                self.funcs
                    .iter()
                    .max_by_key(|(_, row)| row.calls.cumtime)
                    .map(|(f, row)| (f, row.calls.cumtime.as_secs_f64())),
            );
        }
        let mut out = Builder {
            callees: &callees,
            lines: BTreeMap::new(),
            stacks: 0,
            bytes: 0,
            truncated: false,
            names: Vec::new(),
            on_stack: Vec::new(),
        };
        for (root, time) in roots {
            out.visit(root, time);
        }
        Folded {
            lines: out.lines.into_iter().filter(|(_, n)| *n > 0).collect(),
            exact: false,
            truncated: out.truncated,
        }
    }
}

struct Builder<'a> {
    callees: &'a BTreeMap<&'a Func, BTreeMap<&'a Func, crate::Calls>>,
    lines: BTreeMap<String, u64>,
    stacks: usize,
    bytes: usize,
    truncated: bool,
    names: Vec<String>,
    on_stack: Vec<&'a Func>,
}

impl<'a> Builder<'a> {
    /// Emits the stack ending in `func`, which ran for `time` seconds here, and its callees.
    fn visit(&mut self, func: &'a Func, time: f64) {
        if self.stacks >= MAX_STACKS
            || self.on_stack.len() >= MAX_DEPTH
            || self.bytes >= MAX_FOLDED_BYTES
        {
            self.truncated = true;
            return;
        }
        self.stacks += 1;
        self.names.push(frame(func));
        self.on_stack.push(func);
        let mut children: Vec<(&'a Func, f64)> = self
            .callees
            .get(func)
            .into_iter()
            .flatten()
            .filter(|(callee, _)| !self.on_stack.contains(callee))
            .map(|(callee, edge)| (*callee, edge.cumtime.as_secs_f64()))
            .collect();
        let sum: f64 = children.iter().map(|(_, t)| t).sum();
        if sum > time && sum > 0.0 {
            let scale = time / sum;
            for (_, t) in &mut children {
                *t *= scale;
            }
        }
        let inner: f64 = children.iter().map(|(_, t)| t).sum();
        let own = (time - inner).max(0.0);
        let stack = self.names.join(";");
        self.bytes = self.bytes.saturating_add(stack.len());
        let own_ns = Duration::try_from_secs_f64(own).map_or(0, ns);
        let entry = self.lines.entry(stack).or_default();
        *entry = entry.saturating_add(own_ns);
        for (child, t) in children {
            // Below a nanosecond there is nothing to draw.
            if t >= 1e-9 {
                self.visit(child, t);
            }
        }
        self.names.pop();
        self.on_stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Calls;

    fn ms(n: u64, tt: u64, ct: u64) -> Calls {
        Calls {
            ncalls: n,
            pcalls: n,
            tottime: Duration::from_millis(tt),
            cumtime: Duration::from_millis(ct),
        }
    }

    #[test]
    fn stacks_from_edges_split_the_callers_time() {
        let (main, f, g) = (
            Func::new("m.py", 1, "main"),
            Func::new("m.py", 4, "f"),
            Func::new("m.py", 7, "g;x\n"),
        );
        let mut s = Stats::new();
        s.record(main.clone(), None, ms(1, 10, 100));
        s.record(f.clone(), Some(main.clone()), ms(1, 30, 60));
        s.record(g.clone(), Some(f.clone()), ms(2, 30, 30));
        s.record(g.clone(), Some(main.clone()), ms(1, 10, 10));
        let folded = s.folded();
        assert!(!folded.exact());
        assert_eq!(
            folded.to_string(),
            "m.py:1(main) 30000000\n\
             m.py:1(main);m.py:4(f) 30000000\n\
             m.py:1(main);m.py:4(f);m.py:7(g,x\\n) 30000000\n\
             m.py:1(main);m.py:7(g,x\\n) 10000000\n"
        );
        assert!(
            folded
                .title()
                .contains("built from caller edges, as snakeviz does")
        );
    }

    #[test]
    fn recursion_and_dense_graphs_stay_bounded() {
        // A complete graph of 12 functions has 12! paths.
        let funcs: Vec<Func> = (0..12).map(|i| Func::new("x.py", i, "f")).collect();
        let mut s = Stats::new();
        s.record(Func::new("x.py", 99, "main"), None, ms(1, 0, 1000));
        for f in &funcs {
            s.record(
                f.clone(),
                Some(Func::new("x.py", 99, "main")),
                ms(1, 1, 100),
            );
            for g in &funcs {
                s.record(g.clone(), Some(f.clone()), ms(1, 1, 100));
            }
        }
        let folded = s.folded();
        assert!(folded.truncated());
        assert!(folded.lines().count() <= MAX_STACKS);
    }

    #[test]
    fn deep_measured_stacks_fold_into_their_ancestor() {
        let mut s = Stats::new();
        let f = Func::new("r.rs", 1, "f");
        s.record(f.clone(), None, ms(1000, 1000, 1000));
        for i in 0..1000usize {
            s.stacks.push(crate::StackNode {
                parent: i.checked_sub(1),
                func: f.clone(),
                calls: ms(1, 1, 1000 - i as u64),
            });
        }
        let folded = s.folded();
        assert!(folded.exact() && folded.truncated());
        assert_eq!(folded.lines().count(), MAX_DEPTH);
        let total: u64 = folded.lines().map(|(_, n)| n).sum();
        assert_eq!(total, 1000 * 1_000_000);
        let (deepest, n) = folded.lines().max_by_key(|(l, _)| l.len()).unwrap();
        assert_eq!(deepest.matches(';').count(), MAX_DEPTH - 1);
        assert_eq!(n, (1000 - MAX_DEPTH as u64 + 1) * 1_000_000);
    }
}
