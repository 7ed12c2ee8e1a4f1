//! Nanoseconds added per instrumented call: notes-prof against no subscriber, tracing-subscriber's
//! registry with a trivial layer, and tracing-timing, in one run, alternating contenders, medians.
//!
//! `cargo bench -p notes-prof --bench overhead`

#![allow(clippy::print_stdout)]

#[path = "../../../xtask/bench-report.rs"]
mod report;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tracing::Dispatch;
use tracing_subscriber::prelude::*;

const CALLS: u64 = 300_000;
const ROUNDS: usize = 21;

#[tracing::instrument(skip_all)]
fn work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// The cheapest useful layer: counts span entries in one shared atomic.
struct CountingLayer(AtomicU64);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountingLayer {
    fn on_enter(&self, _id: &tracing::span::Id, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A subscriber that does nothing with spans: the floor of tracing's own cost per span.
struct NullSubscriber;

impl tracing::Subscriber for NullSubscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

struct Contender {
    name: &'static str,
    make: fn() -> Dispatch,
}

const CONTENDERS: &[Contender] = &[
    Contender {
        name: "no subscriber",
        make: Dispatch::none,
    },
    Contender {
        name: "null subscriber (tracing's own cost)",
        make: || Dispatch::new(NullSubscriber),
    },
    Contender {
        name: "notes-prof Profiler (subscriber)",
        make: || Dispatch::new(notes_prof::Profiler::new()),
    },
    Contender {
        name: "notes-prof Profiler without stacks",
        make: || Dispatch::new(notes_prof::Profiler::without_stacks()),
    },
    Contender {
        name: "notes-prof ProfileLayer on registry",
        make: || {
            Dispatch::new(tracing_subscriber::registry().with(notes_prof::Profiler::new().layer()))
        },
    },
    Contender {
        name: "registry + trivial layer",
        make: || {
            Dispatch::new(tracing_subscriber::registry().with(CountingLayer(AtomicU64::new(0))))
        },
    },
    Contender {
        name: "tracing-timing",
        make: || {
            Dispatch::new(
                tracing_timing::Builder::default()
                    .build(|| tracing_timing::Histogram::new_with_max(1_000_000, 2).unwrap()),
            )
        },
    },
];

fn tight_loop() -> u64 {
    let mut acc = 0u64;
    for i in 0..CALLS {
        acc = acc.wrapping_add(work(i));
    }
    acc
}

/// ns per call on one thread.
fn one_thread(dispatch: &Dispatch) -> f64 {
    tracing::dispatcher::with_default(dispatch, || {
        let start = Instant::now();
        black_box(tight_loop());
        start.elapsed().as_nanos() as f64 / CALLS as f64
    })
}

/// ns per call per thread with two threads calling at once through the same subscriber.
fn two_threads(dispatch: &Dispatch) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| tracing::dispatcher::with_default(dispatch, || black_box(tight_loop())));
        }
    });
    start.elapsed().as_nanos() as f64 / CALLS as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut one = vec![Vec::new(); CONTENDERS.len()];
    let mut two = vec![Vec::new(); CONTENDERS.len()];
    for round in 0..ROUNDS {
        for (i, c) in CONTENDERS.iter().enumerate() {
            // A fresh subscriber per run, created and dropped outside the timed part.
            let dispatch = (c.make)();
            // Callsites cache their interest; recompute it for the dispatchers alive now, so
            // "no subscriber" really disables the span and the others do not pay for stale state.
            // (Inside `with_default`: with a single dispatcher tracing asks the current default.)
            tracing::dispatcher::with_default(&dispatch, tracing::callsite::rebuild_interest_cache);
            let (a, b) = if round % 2 == 0 {
                (one_thread(&dispatch), two_threads(&dispatch))
            } else {
                let b = two_threads(&dispatch);
                (one_thread(&dispatch), b)
            };
            one[i].push(a);
            two[i].push(b);
        }
    }
    let one: Vec<f64> = one.iter_mut().map(|v| median(v)).collect();
    let two: Vec<f64> = two.iter_mut().map(|v| median(v)).collect();
    let base = one[0];
    let prof_added = one[2] - base;
    println!("{CALLS} calls of an #[instrument] fn per run, median of {ROUNDS} alternated runs");
    println!(
        "| subscriber | ns/call, 1 thread | added ns/call | added vs notes-prof | ns/call/thread, 2 threads | 2 threads / 1 thread |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    // Issue 20: the Profiler (with exact stacks) adds at most 100 ns per instrumented call; and
    // less than the registry with a trivial layer and than tracing-timing.
    report::line(
        "profiler: ns added per instrumented call, 1 thread",
        "a budget of 100 ns",
        prof_added / 100.0,
        1.0,
    );
    for (i, c) in CONTENDERS.iter().enumerate() {
        if matches!(c.name, "registry + trivial layer" | "tracing-timing") {
            report::line(
                "profiler: ns added per instrumented call, 1 thread",
                c.name,
                prof_added / (one[i] - base),
                1.0,
            );
        }
    }
    for (i, c) in CONTENDERS.iter().enumerate() {
        let added = one[i] - base;
        let ratio = if i == 0 {
            "-".to_owned()
        } else {
            format!("{:.2}x", added / prof_added)
        };
        println!(
            "| {} | {:.1} | {:.1} | {} | {:.1} | {:.2} |",
            c.name,
            one[i],
            added,
            ratio,
            two[i],
            two[i] / one[i]
        );
    }
}
