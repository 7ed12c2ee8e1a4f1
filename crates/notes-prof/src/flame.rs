//! Flame graphs: folded stacks (`root;caller;callee NANOSECONDS`, what inferno, speedscope and
//! flamegraph.pl read) and, with the `flame` feature, an interactive SVG drawn by `inferno`.
//!
//! A profile collected in Rust carries its exact call stacks ([`Stats::stacks`]): each stack's
//! own time is measured. A cProfile file has only caller→callee edges, so its stacks are built
//! from them, and built so that they account for the whole run: the folded stacks' times add
//! up to pstats' `total_tt`, and each function's parts to its `tottime`.
//!
//! - The roots are the functions nobody called, and those whose callers leave part of their
//!   cumulative time unaccounted for (`exec` in a cProfile file: only imports call it again).
//! - A path's weight is the product, along it, of each edge's share of the callee's cumulative
//!   time (its own time for the last edge): the gprof assumption that a function's time is
//!   spread over its callers as its edges say, whatever called those callers.
//! - A function already on the path is not entered again (recursion, mutual recursion, the
//!   nested `exec` of an import): its time goes to its other paths.
//! - Each function's own time is split over the paths that reach it in proportion to their
//!   weights, rounded so that the parts add up to the whole.
//! - Paths are placed heaviest first, at most [`MAX_STACKS`] of them, [`MAX_DEPTH`] frames deep
//!   and [`MAX_FOLDED_BYTES`] of names. A function left out by those bounds counts in the
//!   heaviest path of its nearest caller that was kept (the truncated path's last frame), so
//!   the total still holds.
//!
//! snakeviz and tuna draw a tree from the roots down instead, each callee sized by its edge's
//! cumulative time (tuna stops at a function with several callers; snakeviz does not enter a
//! function already on the path), which leaves out the time below a recursion such as an
//! import's. The times on a path are estimates either way, and the graph's title says so.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::stats::{Func, Stats, escaped};

/// At most this many paths are built from edges, the heaviest first (a graph of many paths
/// would otherwise grow exponentially); the time of what is cut counts in the paths kept.
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
             stacks): each function's own time is split over its call paths by its edges, \
             so the paths are estimates and the total is the profile's"
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
    /// Rust), otherwise built from the caller edges (see the module docs): their times add up
    /// to [`Stats::total_time`], and each function's to its own time.
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
        Edges::new(self).fold()
    }
}

/// A share of a function's time, or zero when there is nothing to share.
fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 && part.is_finite() {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A cProfile file's caller edges, by function index, for building stacks from them.
struct Edges<'a> {
    stats: &'a Stats,
    /// Each function's own time in nanoseconds and cumulative time in seconds.
    tt_ns: Vec<u64>,
    ct: Vec<f64>,
    /// For each caller: (callee, share of the callee's own time, share of its cumulative
    /// time) made through this edge.
    callees: Vec<Vec<(usize, f64, f64)>>,
    /// (function, share of own time, share of cumulative time) for the roots.
    roots: Vec<(usize, f64, f64)>,
}

/// One node of the stack tree built from edges: a path from a root.
struct Node {
    parent: Option<usize>,
    func: usize,
    depth: usize,
    bytes: usize,
}

/// A path waiting to be placed in the tree, heaviest (the time it stands for) first.
struct Pending {
    weight: f64,
    seq: usize,
    parent: Option<usize>,
    func: usize,
    mass: f64,
    own: f64,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.weight
            .total_cmp(&other.weight)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// At most this many paths wait to be placed (each placed path queues its callees).
const MAX_PENDING: usize = 4 * MAX_STACKS;

impl<'a> Edges<'a> {
    fn new(stats: &'a Stats) -> Self {
        let n = stats.funcs.len();
        let mut tt_ns = Vec::with_capacity(n);
        let mut ct = Vec::with_capacity(n);
        let mut callees: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (i, (_, row)) in stats.funcs.iter().enumerate() {
            let f_tt = row.calls.tottime.as_secs_f64();
            let f_ct = row.calls.cumtime.as_secs_f64();
            tt_ns.push(ns(row.calls.tottime));
            ct.push(f_ct);
            let edge_tt: f64 = row.callers.values().map(|e| e.tottime.as_secs_f64()).sum();
            let edge_ct: f64 = row.callers.values().map(|e| e.cumtime.as_secs_f64()).sum();
            // Shares of the function's time: each edge's part of the whole (the function's
            // own figure, or the edges' sum when recursion counts time twice), the rest for
            // calls from outside the profile.
            let (tt_whole, ct_whole) = (f_tt.max(edge_tt), f_ct.max(edge_ct));
            let mut has_callers = false;
            for (caller, e) in &row.callers {
                let Some(c) = stats.funcs.get_index_of(caller) else {
                    continue;
                };
                let (e_tt, e_ct) = (e.tottime.as_secs_f64(), e.cumtime.as_secs_f64());
                callees[c].push((i, share(e_tt, tt_whole), share(e_ct, ct_whole)));
                has_callers = true;
            }
            // A root: nobody called it, or its callers leave part of its time unaccounted
            // for (most of `exec`'s in a cProfile file: only imports call it).
            let own_ct = f_ct - edge_ct;
            if !has_callers {
                roots.push((i, 1.0, 1.0));
            } else if own_ct >= 1e-6 && own_ct >= f_ct * 0.01 {
                roots.push((i, share(f_tt - edge_tt, tt_whole), share(own_ct, ct_whole)));
            }
        }
        if roots.is_empty() {
            // Everything is in a cycle: start from the function with the most cumulative time.
            if let Some(i) = (0..n).max_by(|&a, &b| ct[a].total_cmp(&ct[b])) {
                roots.push((i, 1.0, 1.0));
            }
        }
        Self {
            stats,
            tt_ns,
            ct,
            callees,
            roots,
        }
    }

    fn fold(&self) -> Folded {
        let names: Vec<String> = self.stats.funcs.keys().map(frame).collect();
        let n = names.len();
        let mut nodes: Vec<Node> = Vec::new();
        // For each function: its nodes and the weight of each for the function's own time.
        let mut occurrences: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        let mut truncated = false;
        let mut bytes = 0usize;
        let mut heap = std::collections::BinaryHeap::new();
        let mut seq = 0usize;
        for &(f, own, mass) in &self.roots {
            heap.push(Pending {
                weight: mass * self.ct[f],
                seq,
                parent: None,
                func: f,
                mass,
                own,
            });
            seq += 1;
        }
        while let Some(p) = heap.pop() {
            let (depth, path_bytes) = match p.parent {
                Some(q) => (nodes[q].depth + 1, nodes[q].bytes + 1 + names[p.func].len()),
                None => (1, names[p.func].len()),
            };
            if nodes.len() >= MAX_STACKS || bytes.saturating_add(path_bytes) > MAX_FOLDED_BYTES {
                truncated = true;
                break;
            }
            bytes += path_bytes;
            let id = nodes.len();
            nodes.push(Node {
                parent: p.parent,
                func: p.func,
                depth,
                bytes: path_bytes,
            });
            occurrences[p.func].push((id, p.own));
            for &(callee, tt_share, ct_share) in &self.callees[p.func] {
                // A function already on the path is not entered again (recursion): its time
                // goes to its other paths.
                let mut on_path = Some(id);
                let mut seen = false;
                while let Some(q) = on_path {
                    if nodes[q].func == callee {
                        seen = true;
                        break;
                    }
                    on_path = nodes[q].parent;
                }
                if seen {
                    continue;
                }
                if depth >= MAX_DEPTH || heap.len() >= MAX_PENDING {
                    truncated = true;
                    continue;
                }
                let mass = p.mass * ct_share;
                heap.push(Pending {
                    weight: mass * self.ct[callee],
                    seq,
                    parent: Some(id),
                    func: callee,
                    mass,
                    own: p.mass * tt_share,
                });
                seq += 1;
            }
        }
        if !heap.is_empty() {
            truncated = true;
        }
        // Each function's own time, split over its paths in proportion to their weights
        // (rounded so that the parts add up to the whole).
        let mut own_ns: Vec<u64> = vec![0; nodes.len()];
        let anchors = self.anchors(&occurrences);
        let mut extra: Vec<(usize, u64)> = Vec::new();
        for f in 0..n {
            let total = self.tt_ns[f];
            if total == 0 {
                continue;
            }
            let occ = &occurrences[f];
            let sum: f64 = occ.iter().map(|(_, w)| w).sum();
            if sum > 0.0 && sum.is_finite() {
                let (mut cum, mut given) = (0.0f64, 0u64);
                for (k, &(node, w)) in occ.iter().enumerate() {
                    cum += w;
                    let upto = if k + 1 == occ.len() {
                        total
                    } else {
                        ((total as f64 * (cum / sum)).round() as u64).min(total)
                    };
                    let part = upto.saturating_sub(given);
                    given = given.max(upto);
                    own_ns[node] = own_ns[node].saturating_add(part);
                }
            } else if let Some(&(node, _)) = occ.first() {
                own_ns[node] = own_ns[node].saturating_add(total);
            } else {
                // Cut by the bounds: the time goes to the heaviest path of the nearest
                // caller that has one (the truncated path's last frame).
                match anchors[f] {
                    Some(node) => own_ns[node] = own_ns[node].saturating_add(total),
                    None => extra.push((f, total)),
                }
            }
        }
        let mut lines: BTreeMap<String, u64> = BTreeMap::new();
        let mut frames: Vec<&str> = Vec::new();
        for (id, &t) in own_ns.iter().enumerate() {
            if t == 0 {
                continue;
            }
            frames.clear();
            let mut at = Some(id);
            while let Some(q) = at {
                frames.push(&names[nodes[q].func]);
                at = nodes[q].parent;
            }
            frames.reverse();
            let e = lines.entry(frames.join(";")).or_default();
            *e = e.saturating_add(t);
        }
        for (f, t) in extra {
            let e = lines.entry(names[f].clone()).or_default();
            *e = e.saturating_add(t);
        }
        Folded {
            lines: lines.into_iter().filter(|(_, n)| *n > 0).collect(),
            exact: false,
            truncated,
        }
    }

    /// For each function left out of the tree, the first (heaviest) node of its nearest
    /// caller in the tree: one breadth-first walk down the edges from the functions placed,
    /// the heaviest first, so that a long chain of cut functions costs no more than its edges.
    fn anchors(&self, occurrences: &[Vec<(usize, f64)>]) -> Vec<Option<usize>> {
        let mut anchor: Vec<Option<usize>> = occurrences
            .iter()
            .map(|o| o.first().map(|&(node, _)| node))
            .collect();
        let mut placed: Vec<usize> = (0..anchor.len()).filter(|&f| anchor[f].is_some()).collect();
        placed.sort_by_key(|&f| anchor[f]);
        let mut queue = std::collections::VecDeque::from(placed);
        while let Some(g) = queue.pop_front() {
            for &(c, _, _) in &self.callees[g] {
                if anchor[c].is_none() {
                    anchor[c] = anchor[g];
                    queue.push_back(c);
                }
            }
        }
        anchor
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
            "m.py:1(main) 10000000\n\
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
        // What the bounds cut is still counted: the stacks hold every function's own time.
        let total: u64 = folded.lines().map(|(_, n)| n).sum();
        assert_eq!(total, ns(s.total_time()));
    }

    #[test]
    fn functions_below_the_depth_bound_count_in_the_last_frame() {
        // A chain of 50 000 calls: the frames below MAX_DEPTH are cut, and their time goes to
        // the deepest frame kept (found in one walk: a search per cut function took minutes).
        const N: u32 = 50_000;
        let funcs: Vec<Func> = (0..N).map(|i| Func::new("c.py", i, "f")).collect();
        let mut s = Stats::new();
        s.record(funcs[0].clone(), None, ms(1, 1, u64::from(N)));
        for i in 1..N as usize {
            s.record(
                funcs[i].clone(),
                Some(funcs[i - 1].clone()),
                ms(1, 1, u64::from(N) - i as u64),
            );
        }
        let folded = s.folded();
        assert!(folded.truncated());
        let total: u64 = folded.lines().map(|(_, n)| n).sum();
        assert_eq!(total, u64::from(N) * 1_000_000);
        let (deepest, n) = folded.lines().max_by_key(|(l, _)| l.len()).unwrap();
        assert_eq!(deepest.matches(';').count(), MAX_DEPTH - 1);
        assert_eq!(n, (u64::from(N) - MAX_DEPTH as u64 + 1) * 1_000_000);
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
