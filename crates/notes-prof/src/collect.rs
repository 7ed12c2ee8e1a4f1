//! Collecting a profile from `tracing` spans: a dedicated [`Profiler`] subscriber (the fast path)
//! and a [`ProfileLayer`] to combine with other layers on a `tracing_subscriber` registry.
//!
//! Accounting follows CPython's `_lsprof`: each thread keeps its own stack of entered spans and
//! its own table per callsite, so threads never contend; tables are merged into [`Stats`] when
//! asked. A call starts when a span is entered and ends when it is exited (a span entered twice
//! is two calls, like a generator resumed twice under cProfile). The caller is the span below on
//! the thread's stack, not the span's parent.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::{Interest, Subscriber};
use tracing_core::{Event, Metadata};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::stats::{Calls, Func, Stats};
use crate::{Error, Result};

/// Hashes pointers and small integers: one multiply and a fold, enough for keys that are
/// already unique (callsite addresses, index pairs). std's SipHash costs more than the rest of a call.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^ (h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }

    fn write_usize(&mut self, n: usize) {
        self.0 ^= n as u64;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

const NO_EDGE: u32 = u32::MAX;

/// What `_lsprof` keeps per function and per caller→callee edge.
#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    calls: u64,
    recursive_calls: u64,
    /// Own time, clock ticks.
    inline_ticks: u64,
    /// Time counted when the outermost level returns, clock ticks.
    total_ticks: u64,
}

impl Counter {
    fn finish(&mut self, total: u64, inline: u64, outermost: bool) {
        if outermost {
            self.total_ticks += total;
        } else {
            self.recursive_calls += 1;
        }
        self.inline_ticks += inline;
        self.calls += 1;
    }

    fn calls(&self, nanos: impl Fn(u64) -> u64) -> Calls {
        Calls {
            ncalls: self.calls,
            pcalls: self.calls - self.recursive_calls,
            tottime: Duration::from_nanos(nanos(self.inline_ticks)),
            cumtime: Duration::from_nanos(nanos(self.total_ticks)),
        }
    }
}

#[derive(Debug)]
struct Frame {
    /// The span id (layer) or callsite address (subscriber) that will exit this frame.
    key: u64,
    func: u32,
    edge: u32,
    /// The stack path (node of the thread's call tree), or `NO_EDGE` beyond the node limit.
    node: u32,
    /// The last function this frame called, with its edge and node.
    last_child: Option<(u32, u32, u32)>,
    start: u64,
    /// Time spent in callees, to subtract from this frame's own time.
    children: u64,
}

/// One thread's counters for one profiler: written by that thread, read when the profile is
/// taken. The lock is uncontended except at that moment, and taken once per call (on exit).
#[derive(Debug, Default)]
struct Counters {
    funcs: Vec<(&'static Metadata<'static>, Counter)>,
    /// (caller, callee, counter).
    edges: Vec<(u32, u32, Counter)>,
    /// The call tree: (parent node or `NO_EDGE`, function, counter), parents first.
    nodes: Vec<(u32, u32, Counter)>,
    /// Paths were not recorded because the tree reached `MAX_STACK_NODES`.
    nodes_truncated: bool,
}

impl Counters {
    fn add_to(&self, stats: &mut Stats, nanos: impl Fn(u64) -> u64) {
        let func = |i: u32| {
            let meta = self.funcs[i as usize].0;
            Func::new(
                meta.file().unwrap_or("<unknown>"),
                meta.line().unwrap_or(0),
                meta.name(),
            )
        };
        for (i, (_, counter)) in self.funcs.iter().enumerate() {
            if counter.calls > 0 {
                stats
                    .row_mut(func(i as u32))
                    .calls
                    .add(&counter.calls(&nanos));
            }
        }
        for (caller, callee, counter) in &self.edges {
            if counter.calls > 0 {
                stats
                    .row_mut(func(*callee))
                    .callers
                    .entry(func(*caller))
                    .or_default()
                    .add(&counter.calls(&nanos));
            }
        }
        let mut index = stats.stack_index();
        let mut global: Vec<usize> = Vec::with_capacity(self.nodes.len());
        for (parent, f, counter) in &self.nodes {
            let parent = (*parent != NO_EDGE).then(|| global[*parent as usize]);
            global.push(stats.stack_node(&mut index, parent, func(*f), &counter.calls(&nanos)));
        }
        stats.stacks_truncated |= self.nodes_truncated;
    }
}

/// What only the owning thread touches: no lock. Indexes match [`Counters`].
#[derive(Debug, Default)]
struct ThreadState {
    by_callsite: FastMap<usize, u32>,
    /// The last callsite looked up: a loop calling one function hits it every time.
    last: Option<(usize, u32)>,
    /// Open activations per function and per edge on this thread's stack (the recursion level).
    func_levels: Vec<u32>,
    by_edge: FastMap<u64, u32>,
    edge_levels: Vec<u32>,
    /// (parent node, function) -> node of the call tree.
    by_node: FastMap<u64, u32>,
    stack: Vec<Frame>,
    /// Stack paths are not recorded (`Profiler::without_stacks`).
    no_stacks: bool,
    /// Callsites this thread already published to the profiler's callsite map.
    published: FastMap<usize, ()>,
    last_published: usize,
}

impl ThreadState {
    fn func_index(
        &mut self,
        callsite: usize,
        counters: &Mutex<Counters>,
        meta: impl FnOnce() -> Option<&'static Metadata<'static>>,
    ) -> Option<u32> {
        if let Some((c, i)) = self.last
            && c == callsite
        {
            return Some(i);
        }
        let index = match self.by_callsite.get(&callsite) {
            Some(&i) => i,
            None => {
                let meta = meta()?;
                let mut counters = lock(counters);
                let i = u32::try_from(counters.funcs.len()).ok()?;
                counters.funcs.push((meta, Counter::default()));
                self.func_levels.push(0);
                self.by_callsite.insert(callsite, i);
                i
            }
        };
        self.last = Some((callsite, index));
        Some(index)
    }

    fn edge_index(&mut self, caller: u32, callee: u32, counters: &Mutex<Counters>) -> u32 {
        let key = u64::from(caller) << 32 | u64::from(callee);
        if let Some(&i) = self.by_edge.get(&key) {
            return i;
        }
        let mut counters = lock(counters);
        let i = counters.edges.len() as u32;
        counters.edges.push((caller, callee, Counter::default()));
        self.edge_levels.push(0);
        self.by_edge.insert(key, i);
        i
    }

    fn node_index(&mut self, parent: u32, func: u32, counters: &Mutex<Counters>) -> u32 {
        let key = u64::from(parent) << 32 | u64::from(func);
        if let Some(&i) = self.by_node.get(&key) {
            return i;
        }
        let mut counters = lock(counters);
        if counters.nodes.len() >= crate::stats::MAX_STACK_NODES {
            counters.nodes_truncated = true;
            return NO_EDGE;
        }
        let i = counters.nodes.len() as u32;
        counters.nodes.push((parent, func, Counter::default()));
        self.by_node.insert(key, i);
        i
    }

    fn enter(
        &mut self,
        key: u64,
        func: u32,
        counters: &Mutex<Counters>,
        now: impl FnOnce() -> u64,
    ) {
        self.func_levels[func as usize] += 1;
        let (edge, node) = match self.stack.last() {
            Some(parent) => {
                // A loop calling one function from one caller hits the caller's cache:
                // no hashing for the edge or the stack path.
                let (edge, node) = match parent.last_child {
                    Some((f, edge, node)) if f == func => (edge, node),
                    _ => {
                        let (parent_func, parent_node) = (parent.func, parent.node);
                        let edge = self.edge_index(parent_func, func, counters);
                        let node = if parent_node == NO_EDGE {
                            // Below a path that was not recorded, nothing is.
                            NO_EDGE
                        } else {
                            self.node_index(parent_node, func, counters)
                        };
                        if let Some(parent) = self.stack.last_mut() {
                            parent.last_child = Some((func, edge, node));
                        }
                        (edge, node)
                    }
                };
                self.edge_levels[edge as usize] += 1;
                (edge, node)
            }
            None if self.no_stacks => (NO_EDGE, NO_EDGE),
            None => (NO_EDGE, self.node_index(NO_EDGE, func, counters)),
        };
        self.stack.push(Frame {
            key,
            func,
            edge,
            node,
            last_child: None,
            // The clock is read last on entry and first on exit, so the profiler's own work
            // is charged to the caller rather than to the function being measured.
            start: now(),
            children: 0,
        });
    }

    fn exit(&mut self, key: u64, now: u64, counters: &Mutex<Counters>) {
        // Usually the top frame; spans exited out of order close the frames above them too.
        let Some(pos) = self.stack.iter().rposition(|f| f.key == key) else {
            return;
        };
        let mut counters = lock(counters);
        while self.stack.len() > pos {
            let Some(frame) = self.stack.pop() else { break };
            let total = now.saturating_sub(frame.start);
            let inline = total.saturating_sub(frame.children);
            if let Some(parent) = self.stack.last_mut() {
                parent.children += total;
            }
            let level = &mut self.func_levels[frame.func as usize];
            *level -= 1;
            counters.funcs[frame.func as usize]
                .1
                .finish(total, inline, *level == 0);
            if frame.edge != NO_EDGE {
                let level = &mut self.edge_levels[frame.edge as usize];
                *level -= 1;
                counters.edges[frame.edge as usize]
                    .2
                    .finish(total, inline, *level == 0);
            }
            if frame.node != NO_EDGE {
                // A path is on the stack at most once: every call through it is outermost.
                counters.nodes[frame.node as usize]
                    .2
                    .finish(total, inline, true);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the counters leaves numbers that are still valid.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What a thread keeps for one live profiler.
#[derive(Debug)]
struct Local {
    profiler: u64,
    counters: Arc<Mutex<Counters>>,
    state: RefCell<ThreadState>,
}

thread_local! {
    /// This thread's state for each live profiler (almost always one).
    static LOCALS: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug)]
struct Shared {
    id: u64,
    clock: quanta::Clock,
    running: AtomicBool,
    /// Whether threads record stack paths.
    stacks: bool,
    threads: Mutex<Vec<Arc<Mutex<Counters>>>>,
    /// Callsites of the spans created so far, for threads that enter a span another thread created.
    callsites: RwLock<FastMap<usize, &'static Metadata<'static>>>,
}

impl Shared {
    /// Raw clock ticks. `quanta` reads the CPU's time-stamp counter (far cheaper than
    /// `std::time::Instant::now`: two reads per call were most of the profiler's overhead) and
    /// falls back to the OS clock where the TSC is unreliable. Ticks become nanoseconds only
    /// when the profile is taken, so the hot path does no scaling.
    fn now(&self) -> u64 {
        self.clock.raw()
    }

    /// Runs `f` on this thread's state for this profiler, creating it on first use.
    fn with_local<R>(&self, f: impl FnOnce(&Local, &mut ThreadState) -> R) -> Option<R> {
        // `try_with`: during thread teardown the state may already be gone; the call is then not counted.
        LOCALS
            .try_with(|locals| {
                {
                    // The fast path holds a shared borrow only: `f` never re-enters tracing.
                    let locals = locals.borrow();
                    if let Some(local) = locals.iter().find(|l| l.profiler == self.id) {
                        return f(local, &mut local.state.borrow_mut());
                    }
                }
                let mut locals = locals.borrow_mut();
                // Drop the state of profilers that are gone (only this thread still holds it).
                locals.retain(|l| Arc::strong_count(&l.counters) > 1);
                let counters = Arc::new(Mutex::new(Counters::default()));
                lock(&self.threads).push(Arc::clone(&counters));
                locals.push(Local {
                    profiler: self.id,
                    counters,
                    state: RefCell::new(ThreadState {
                        no_stacks: !self.stacks,
                        ..ThreadState::default()
                    }),
                });
                let local = &locals[locals.len() - 1];
                f(local, &mut local.state.borrow_mut())
            })
            .ok()
    }

    /// Makes sure `meta` can be found by its address from any thread.
    fn publish(&self, meta: &'static Metadata<'static>) {
        let callsite = std::ptr::from_ref(meta) as usize;
        self.with_local(|_, state| {
            if state.last_published == callsite {
                return;
            }
            state.last_published = callsite;
            if state.published.insert(callsite, ()).is_none() {
                self.callsites
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(callsite, meta);
            }
        });
    }

    fn resolve(&self, callsite: usize) -> Option<&'static Metadata<'static>> {
        self.callsites
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&callsite)
            .copied()
    }

    fn enter(
        &self,
        key: u64,
        callsite: usize,
        meta: impl FnOnce() -> Option<&'static Metadata<'static>>,
    ) {
        if !self.running.load(Ordering::Relaxed) {
            return;
        }
        self.with_local(|local, state| {
            if let Some(func) = state.func_index(callsite, &local.counters, meta) {
                state.enter(key, func, &local.counters, || self.now());
            }
        });
    }

    fn exit(&self, key: u64) {
        let now = self.now();
        self.with_local(|local, state| state.exit(key, now, &local.counters));
    }

    fn stats(&self) -> Stats {
        let mut stats = Stats::new();
        for table in lock(&self.threads).iter() {
            lock(table).add_to(&mut stats, |ticks| self.clock.delta_as_nanos(0, ticks));
        }
        stats
    }
}

/// A profiler: a `tracing` subscriber that turns spans into a [`Stats`] profile.
///
/// Use it as the subscriber itself (`tracing::subscriber::with_default`, `set_global_default`:
/// the fastest way), or get a [`ProfileLayer`] with [`Profiler::layer`] to add to a
/// `tracing_subscriber::registry()` next to other layers. Clones share the same profile.
#[derive(Debug, Clone)]
pub struct Profiler {
    shared: Arc<Shared>,
}

impl Default for Profiler {
    fn default() -> Self {
        Self::new()
    }
}

impl Profiler {
    /// A profiler that is running: every span entered from now on is counted, with its exact
    /// stack path ([`Stats::stacks`], for flame graphs).
    pub fn new() -> Self {
        Self::with_stacks(true)
    }

    /// A profiler that records rows and caller edges only, as cProfile does: no stack paths
    /// (flame graphs are then built from the edges).
    pub fn without_stacks() -> Self {
        Self::with_stacks(false)
    }

    fn with_stacks(stacks: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                clock: quanta::Clock::new(),
                running: AtomicBool::new(true),
                stacks,
                threads: Mutex::new(Vec::new()),
                callsites: RwLock::new(FastMap::default()),
            }),
        }
    }

    /// A layer that feeds this profiler, for a `tracing_subscriber` registry.
    pub fn layer(&self) -> ProfileLayer {
        ProfileLayer {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops counting new calls (calls already running still finish and count).
    pub fn stop(&self) {
        self.shared.running.store(false, Ordering::Relaxed);
    }

    /// The profile so far, merged over all threads. Calls that have not returned yet are not in it.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }
}

impl Subscriber for Profiler {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.is_span()
    }

    /// The id is the callsite's address: a profile needs no per-span state, so creating a
    /// span allocates nothing and entering it needs no lookup beyond this thread's table.
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let meta = span.metadata();
        self.shared.publish(meta);
        Id::from_u64(std::ptr::from_ref(meta) as u64)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, _event: &Event<'_>) {}

    fn enter(&self, span: &Id) {
        let key = span.into_u64();
        let callsite = key as usize;
        self.shared
            .enter(key, callsite, || self.shared.resolve(callsite));
    }

    fn exit(&self, span: &Id) {
        self.shared.exit(span.into_u64());
    }
}

/// A `tracing_subscriber` layer that feeds a [`Profiler`] (see [`Profiler::layer`]).
#[derive(Debug, Clone)]
pub struct ProfileLayer {
    shared: Arc<Shared>,
}

impl<S> Layer<S> for ProfileLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(meta) = ctx.metadata(id) {
            self.shared
                .enter(id.into_u64(), std::ptr::from_ref(meta) as usize, || {
                    Some(meta)
                });
        }
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        self.shared.exit(id.into_u64());
    }
}

/// Runs `f` with a profiler as this thread's subscriber and returns its result and the profile
/// (spans entered on other threads are not seen; use [`profile_to`] or a [`Profiler`] for them).
pub fn profile<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    let profiler = Profiler::new();
    let result =
        tracing_core::dispatcher::with_default(&tracing_core::Dispatch::new(profiler.clone()), f);
    profiler.stop();
    (result, profiler.stats())
}

/// Profiles the whole process, every thread, until the guard is dropped or finished, then writes
/// a stats file: `python -m cProfile -o FILE` for Rust.
///
/// ```no_run
/// # fn main() -> Result<(), notes_prof::Error> {
/// let profile = notes_prof::profile_to("out.prof")?;
/// // ... run the instrumented code ...
/// profile.finish()?; // or drop it, which writes the file and ignores errors
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::SubscriberSet`] when the process already has a global `tracing` subscriber
/// (then add [`Profiler::layer`] to it instead).
pub fn profile_to(path: impl AsRef<Path>) -> Result<ProfileGuard> {
    let path = path.as_ref().to_owned();
    let profiler = Profiler::new();
    if tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(profiler.clone()))
        .is_err()
    {
        return Err(Error::SubscriberSet { path });
    }
    Ok(ProfileGuard {
        profiler,
        path: Some(path),
    })
}

/// Returned by [`profile_to`]: stops profiling and writes the stats file when finished or dropped.
#[derive(Debug)]
#[must_use = "profiling stops when the guard is dropped"]
pub struct ProfileGuard {
    profiler: Profiler,
    path: Option<PathBuf>,
}

impl ProfileGuard {
    /// The profiler, to look at the profile so far.
    pub fn profiler(&self) -> &Profiler {
        &self.profiler
    }

    /// Stops profiling, writes the stats file and returns the profile.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn finish(mut self) -> Result<Stats> {
        self.write()
    }

    fn write(&mut self) -> Result<Stats> {
        self.profiler.stop();
        let stats = self.profiler.stats();
        if let Some(path) = self.path.take() {
            stats.save(&path)?;
        }
        Ok(stats)
    }
}

impl Drop for ProfileGuard {
    fn drop(&mut self) {
        // A library does not print: call `finish` to see a write error.
        let _ = self.write();
    }
}
