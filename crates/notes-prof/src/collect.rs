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
use std::time::{Duration, Instant};

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
    /// Own time, nanoseconds.
    inline_ns: u64,
    /// Time counted when the outermost level returns, nanoseconds.
    total_ns: u64,
    /// How many activations are open on this thread's stack.
    level: u32,
}

impl Counter {
    fn finish(&mut self, total: u64, inline: u64) {
        self.level -= 1;
        if self.level == 0 {
            self.total_ns += total;
        } else {
            self.recursive_calls += 1;
        }
        self.inline_ns += inline;
        self.calls += 1;
    }

    fn calls(&self) -> Calls {
        Calls {
            ncalls: self.calls,
            pcalls: self.calls - self.recursive_calls,
            tottime: Duration::from_nanos(self.inline_ns),
            cumtime: Duration::from_nanos(self.total_ns),
        }
    }
}

#[derive(Debug)]
struct Frame {
    /// The span id (layer) or callsite address (subscriber) that will exit this frame.
    key: u64,
    func: u32,
    edge: u32,
    start_ns: u64,
    /// Time spent in callees, to subtract from this frame's own time.
    children_ns: u64,
}

/// One thread's tables for one profiler.
#[derive(Debug, Default)]
struct ThreadTable {
    by_callsite: FastMap<usize, u32>,
    /// The last callsite looked up: a loop calling one function hits it every time.
    last: Option<(usize, u32)>,
    funcs: Vec<(&'static Metadata<'static>, Counter)>,
    by_edge: FastMap<u64, u32>,
    edges: Vec<(u32, u32, Counter)>,
    stack: Vec<Frame>,
}

impl ThreadTable {
    fn func_index(
        &mut self,
        callsite: usize,
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
                let i = u32::try_from(self.funcs.len()).ok()?;
                self.funcs.push((meta()?, Counter::default()));
                self.by_callsite.insert(callsite, i);
                i
            }
        };
        self.last = Some((callsite, index));
        Some(index)
    }

    fn edge_index(&mut self, caller: u32, callee: u32) -> u32 {
        let key = u64::from(caller) << 32 | u64::from(callee);
        let next = self.edges.len() as u32;
        let i = *self.by_edge.entry(key).or_insert(next);
        if i == next {
            self.edges.push((caller, callee, Counter::default()));
        }
        i
    }

    fn enter(&mut self, key: u64, func: u32, now: u64) {
        self.funcs[func as usize].1.level += 1;
        let edge = match self.stack.last() {
            Some(parent) => {
                let e = self.edge_index(parent.func, func);
                self.edges[e as usize].2.level += 1;
                e
            }
            None => NO_EDGE,
        };
        self.stack.push(Frame {
            key,
            func,
            edge,
            start_ns: now,
            children_ns: 0,
        });
    }

    fn exit(&mut self, key: u64, now: u64) {
        // Usually the top frame; spans exited out of order close the frames above them too.
        let Some(pos) = self.stack.iter().rposition(|f| f.key == key) else {
            return;
        };
        while self.stack.len() > pos {
            let Some(frame) = self.stack.pop() else { break };
            let total = now.saturating_sub(frame.start_ns);
            let inline = total.saturating_sub(frame.children_ns);
            if let Some(parent) = self.stack.last_mut() {
                parent.children_ns += total;
            }
            self.funcs[frame.func as usize].1.finish(total, inline);
            if frame.edge != NO_EDGE {
                self.edges[frame.edge as usize].2.finish(total, inline);
            }
        }
    }

    fn add_to(&self, stats: &mut Stats) {
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
                stats.row_mut(func(i as u32)).calls.add(&counter.calls());
            }
        }
        for (caller, callee, counter) in &self.edges {
            if counter.calls > 0 {
                stats
                    .row_mut(func(*callee))
                    .callers
                    .entry(func(*caller))
                    .or_default()
                    .add(&counter.calls());
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a table leaves counts that are still valid numbers.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's table for each live profiler (almost always one).
    static TABLES: RefCell<Vec<(u64, Arc<Mutex<ThreadTable>>)>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug)]
struct Shared {
    id: u64,
    epoch: Instant,
    running: AtomicBool,
    threads: Mutex<Vec<Arc<Mutex<ThreadTable>>>>,
    /// Callsites seen by `register_callsite`, for threads that enter a span another thread created.
    callsites: RwLock<FastMap<usize, &'static Metadata<'static>>>,
}

impl Shared {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Runs `f` on this thread's table, creating it on first use.
    fn with_table(&self, f: impl FnOnce(&mut ThreadTable)) {
        // `try_with`: during thread teardown the table may already be gone; the call is then not counted.
        let _ = TABLES.try_with(|tables| {
            let table = {
                let mut tables = tables.borrow_mut();
                match tables.iter().find(|(id, _)| *id == self.id) {
                    Some((_, t)) => Arc::clone(t),
                    None => {
                        // Drop tables of profilers that are gone (only this thread holds them).
                        tables.retain(|(_, t)| Arc::strong_count(t) > 1);
                        let t = Arc::new(Mutex::new(ThreadTable::default()));
                        lock(&self.threads).push(Arc::clone(&t));
                        tables.push((self.id, Arc::clone(&t)));
                        t
                    }
                }
            };
            f(&mut lock(&table));
        });
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
        self.with_table(|t| {
            if let Some(func) = t.func_index(callsite, meta) {
                // The clock is read last on entry and first on exit, so the profiler's own work
                // is charged to the caller rather than to the function being measured.
                t.enter(key, func, self.now());
            }
        });
    }

    fn exit(&self, key: u64) {
        let now = self.now();
        self.with_table(|t| t.exit(key, now));
    }

    fn stats(&self) -> Stats {
        let mut stats = Stats::new();
        for table in lock(&self.threads).iter() {
            lock(table).add_to(&mut stats);
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
    /// A profiler that is running: every span entered from now on is counted.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                epoch: Instant::now(),
                running: AtomicBool::new(true),
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
            let mut callsites = self
                .shared
                .callsites
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            callsites.insert(std::ptr::from_ref(meta) as usize, meta);
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
        let callsite = std::ptr::from_ref(meta) as usize;
        // Make sure a thread that enters this span can resolve its callsite, even if
        // `register_callsite` ran before this profiler existed.
        let known = self
            .shared
            .callsites
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&callsite);
        if !known {
            self.register_callsite(meta);
        }
        Id::from_u64(callsite as u64)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, _event: &Event<'_>) {}

    fn enter(&self, span: &Id) {
        let key = span.into_u64();
        let callsite = key as usize;
        self.shared.enter(key, callsite, || {
            self.shared
                .callsites
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&callsite)
                .copied()
        });
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
