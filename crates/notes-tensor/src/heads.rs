//! The heads of one multi-head product shared out between the calling thread and rayon's
//! workers, so that a worker that is asleep, descheduled or slow to wake never delays a call.
//!
//! rayon's `par_iter` from a pool's thread splits the heads and offers half to the other
//! workers, but a worker asleep between calls must first be woken; on a virtual machine whose
//! idle vCPU has halted that takes tens of microseconds or more (the host must schedule the vCPU
//! again), a large part of a 150–500 µs product. OpenBLAS, numpy's peer, keeps its threads
//! spinning between calls. Here:
//!
//! - the calling thread starts on the heads at once and claims them one at a time from a shared
//!   counter, as does every helper when it starts, so a helper that starts late just finds fewer
//!   heads left (or none) and the call never waits for a helper to *start*, only for the heads
//!   helpers are already running;
//! - a helper that has run out of heads stays awake for [`STAY_WARM`], running any rayon work
//!   that arrives (the next call's helper jobs among it), and then goes back to rayon's idle
//!   loop, so back-to-back calls find their helpers running, as OpenBLAS's do;
//! - a helper that finds itself on the CPU its caller runs on moves to another CPU before it
//!   claims heads (see [`step_off`]): sharing one CPU, the two threads ran at the 1-thread rate.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a helper keeps looking for work after its last head (then rayon's own idle loop
/// takes over and puts it to sleep). Bounded CPU: at most this much spinning per worker after
/// each parallel product.
pub(crate) const STAY_WARM: Duration = Duration::from_micros(500);

/// The CPU the calling thread runs on, where the OS says (`None`: unknown).
fn current_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        Some(rustix::thread::sched_getcpu())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Moves this thread off `cpu` (its caller's) onto another CPU it may run on, leaving its
/// affinity as it was.
///
/// The kernel places a waking thread next to its waker when no CPU is idle (another process on
/// the other vCPU of a 2-vCPU VM), and does not move a thread that keeps running for
/// milliseconds (it is "cache hot"); so a pool's two workers stayed on one CPU for the pool's
/// lifetime, at the 1-thread rate, while numpy's threads shared the other CPU with the other
/// process and ran 1.6 times faster. Excluding `cpu` from the thread's affinity migrates it
/// at once; restoring the mask right after leaves it where it is now, free to move again. Costs
/// two system calls, only when the helper shares its caller's CPU; a mask of one CPU, or one
/// that does not hold `cpu`, is left alone.
fn step_off(cpu: usize) {
    #[cfg(target_os = "linux")]
    {
        use rustix::thread::{sched_getaffinity, sched_setaffinity};
        let Ok(mask) = sched_getaffinity(None) else {
            return;
        };
        if mask.count() < 2 || !mask.is_set(cpu) {
            return;
        }
        let mut elsewhere = mask;
        elsewhere.unset(cpu);
        if sched_setaffinity(None, &elsewhere).is_ok() {
            // Restoring cannot fail where setting a subset succeeded; if it did, the thread
            // would merely keep off one CPU.
            let _ = sched_setaffinity(None, &mask);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// The state the calling thread and its helpers share for one product.
struct Shared {
    /// The next unclaimed head.
    next: AtomicUsize,
    /// Heads finished.
    done: AtomicUsize,
    heads: usize,
    panicked: AtomicBool,
    /// The CPU the caller started on.
    caller_cpu: Option<usize>,
    /// The caller's task, its lifetime erased: dereferenced only for a claimed head (see
    /// [`Shared::work`]).
    task: *const (dyn Fn(usize) + Sync + 'static),
}

// SAFETY: `task` points to a `Sync` closure and is only dereferenced while the caller of
// `for_each_head` is still inside that call (see `Shared::work`); the rest is atomics.
#[allow(unsafe_code)]
unsafe impl Send for Shared {}
// SAFETY: as for `Send`: shared access is to atomics and to a `Sync` closure.
#[allow(unsafe_code)]
unsafe impl Sync for Shared {}

impl Shared {
    /// Claims and runs heads until none are left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.heads {
                return;
            }
            // SAFETY: head `i` is below `heads` and claimed by this thread alone, so `done`
            // cannot reach `heads` before this head's increment below; `for_each_head` returns
            // only after seeing `done == heads`, so the closure `task` points to is still alive.
            #[allow(unsafe_code)]
            let task = unsafe { &*self.task };
            if catch_unwind(AssertUnwindSafe(|| task(i))).is_err() {
                self.panicked.store(true, Ordering::Relaxed);
            }
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

thread_local! {
    /// Whether this thread is in a helper's stay-warm loop (a helper job run from inside it
    /// returns at once, so the loops do not nest).
    static WARM: Cell<bool> = const { Cell::new(false) };
    /// The CPU the caller of the last product this helper worked for started on.
    static CALLER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// A helper: runs heads, then stays awake for [`STAY_WARM`] running any work that arrives.
fn helper(shared: Arc<Shared>) {
    CALLER.with(|c| c.set(shared.caller_cpu));
    if let Some(cpu) = shared.caller_cpu
        && shared.next.load(Ordering::Relaxed) < shared.heads
        && current_cpu() == Some(cpu)
    {
        step_off(cpu);
    }
    shared.work();
    drop(shared);
    if WARM.with(Cell::get) {
        return;
    }
    WARM.with(|w| w.set(true));
    let mut deadline = Instant::now() + STAY_WARM;
    while Instant::now() < deadline {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => deadline = Instant::now() + STAY_WARM,
            // On the caller's CPU (or where the CPU is unknown), give it away to whoever wants
            // it, as OpenBLAS's idle threads do. Elsewhere, keep it: yielding handed the CPU to
            // another process for its whole time slice (milliseconds), so the next call's
            // helper job waited that long (the 300 µs joins of the bench's `wake` table).
            Some(rayon::Yield::Idle) => {
                let caller = CALLER.with(Cell::get);
                if caller.is_none() || current_cpu() == caller {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            None => break,
        }
    }
    WARM.with(|w| w.set(false));
}

/// Runs `task(i)` for every `i` in `0..heads`, on the calling thread and on up to
/// `rayon::current_num_threads() - 1` helpers of the current pool (the global one outside any).
///
/// # Panics
/// When `task` panicked for some head (after every head has finished).
pub(crate) fn for_each_head(heads: usize, task: &(dyn Fn(usize) + Sync)) {
    let threads = rayon::current_num_threads().min(heads);
    if threads <= 1 {
        (0..heads).for_each(task);
        return;
    }
    let task: *const (dyn Fn(usize) + Sync + '_) = task;
    // SAFETY: only the lifetime changes (same pointer, same vtable); `Shared::work` says why the
    // pointer is never dereferenced after this function returns.
    #[allow(unsafe_code)]
    let task = unsafe {
        std::mem::transmute::<
            *const (dyn Fn(usize) + Sync + '_),
            *const (dyn Fn(usize) + Sync + 'static),
        >(task)
    };
    let shared = Arc::new(Shared {
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        heads,
        panicked: AtomicBool::new(false),
        caller_cpu: current_cpu(),
        task,
    });
    for _ in 1..threads {
        let shared = Arc::clone(&shared);
        rayon::spawn(move || helper(shared));
    }
    shared.work();
    // Only heads that helpers are running now are left: wait for them.
    let mut spins = 0_u32;
    while shared.done.load(Ordering::Acquire) < heads {
        if spins < 4096 {
            spins += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    assert!(
        !shared.panicked.load(Ordering::Relaxed),
        "a head of the multi-head product panicked"
    );
}

/// Runs `run` on every item, items shared out as [`for_each_head`] shares heads.
pub(crate) fn par_heads<P: Send>(items: impl Iterator<Item = P>, run: impl Fn(P) + Sync) {
    let slots: Vec<Mutex<Option<P>>> = items.map(|p| Mutex::new(Some(p))).collect();
    for_each_head(slots.len(), &|i| {
        let item = slots[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(item) = item {
            run(item);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_head_runs_once_on_any_pool() {
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for heads in [0, 1, 2, 5, 64] {
                let counts: Vec<AtomicUsize> = (0..heads).map(|_| AtomicUsize::new(0)).collect();
                pool.install(|| {
                    for_each_head(heads, &|i| {
                        counts[i].fetch_add(1, Ordering::Relaxed);
                    });
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
            }
        }
        // From outside any pool (the global one).
        let counts: Vec<AtomicUsize> = (0..40).map(|_| AtomicUsize::new(0)).collect();
        for_each_head(40, &|i| {
            counts[i].fetch_add(1, Ordering::Relaxed);
        });
        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn step_off_leaves_the_cpu_and_keeps_the_affinity() {
        use rustix::thread::sched_getaffinity;
        let before = sched_getaffinity(None).unwrap();
        if before.count() < 2 {
            return; // nowhere else to go: step_off leaves the thread alone
        }
        for _ in 0..20 {
            let cpu = current_cpu().unwrap();
            step_off(cpu);
            assert_ne!(current_cpu(), Some(cpu));
            let after = sched_getaffinity(None).unwrap();
            assert!((0..1024).all(|c| after.is_set(c) == before.is_set(c)));
        }
    }

    #[test]
    fn a_panicking_head_is_reported_after_all_finished() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let ran = AtomicUsize::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.install(|| {
                for_each_head(16, &|i| {
                    ran.fetch_add(1, Ordering::Relaxed);
                    assert!(i != 7, "head 7");
                });
            });
        }));
        assert!(result.is_err());
        assert_eq!(ran.load(Ordering::Relaxed), 16);
    }
}
