//! Known call trees: the counts are exact, the times obey pstats' invariants.

use std::time::Duration;

use notes_prof::{Calls, Func, Profiler, Stats};
use tracing::instrument;
use tracing_subscriber::prelude::*;

#[instrument]
fn fact(n: u64) -> u64 {
    if n <= 1 { 1 } else { n * fact(n - 1) }
}

#[instrument]
fn is_even(n: u32) -> bool {
    n == 0 || is_odd(n - 1)
}

#[instrument]
fn is_odd(n: u32) -> bool {
    n != 0 && is_even(n - 1)
}

#[instrument]
fn leaf() -> u64 {
    std::hint::black_box(7)
}

#[instrument]
fn worker() -> u64 {
    (0..3).map(|_| leaf()).sum()
}

#[instrument]
fn root() {
    assert_eq!(fact(5), 120);
    assert!(is_even(4));
    let span = tracing::info_span!("twice");
    span.in_scope(leaf);
    span.in_scope(leaf);
}

fn row<'a>(stats: &'a Stats, name: &str) -> &'a notes_prof::FuncStats {
    stats
        .functions()
        .find(|(f, _)| f.name == name)
        .unwrap_or_else(|| panic!("no row for {name}"))
        .1
}

fn func(stats: &Stats, name: &str) -> Func {
    stats
        .functions()
        .find(|(f, _)| f.name == name)
        .unwrap()
        .0
        .clone()
}

/// Times are kept in clock ticks and converted per row, rounding down: a sum of `rows`
/// conversions may be up to `rows` nanoseconds below the conversion of the sum.
fn assert_close(sum: Duration, total: Duration, rows: usize) {
    let slack = Duration::from_nanos(rows as u64);
    assert!(
        sum <= total + slack && total <= sum + slack,
        "{sum:?} vs {total:?}"
    );
}

fn counts(c: &Calls) -> (u64, u64) {
    (c.ncalls, c.pcalls)
}

/// Counts of the tree under `root`, the same for the subscriber and the layer.
fn check_tree(stats: &Stats) {
    assert_eq!(counts(&row(stats, "root").calls), (1, 1));
    assert_eq!(counts(&row(stats, "fact").calls), (5, 1));
    assert_eq!(counts(&row(stats, "is_even").calls), (3, 1));
    assert_eq!(counts(&row(stats, "is_odd").calls), (2, 1));
    assert_eq!(counts(&row(stats, "twice").calls), (2, 2));
    assert_eq!(counts(&row(stats, "leaf").calls), (2, 2));

    let fact = row(stats, "fact");
    assert_eq!(counts(&fact.callers[&func(stats, "root")]), (1, 1));
    // fact -> fact four times, nested: one primitive edge call.
    assert_eq!(counts(&fact.callers[&func(stats, "fact")]), (4, 1));
    let even = row(stats, "is_even");
    assert_eq!(counts(&even.callers[&func(stats, "is_odd")]), (2, 1));
    assert_eq!(
        counts(&row(stats, "leaf").callers[&func(stats, "twice")]),
        (2, 2)
    );
    assert_eq!(
        counts(&row(stats, "twice").callers[&func(stats, "root")]),
        (2, 2)
    );
    assert!(row(stats, "root").callers.is_empty());

    // Times: own time within cumulative time, and own times add up to the root's cumulative time.
    for (f, r) in stats.functions() {
        assert!(r.calls.tottime <= r.calls.cumtime, "{f}: {:?}", r.calls);
        for (caller, edge) in &r.callers {
            assert!(edge.tottime <= edge.cumtime, "{caller} -> {f}");
        }
    }
    assert_close(
        stats.total_time(),
        row(stats, "root").calls.cumtime,
        stats.len(),
    );
    assert_eq!(stats.total_calls(), 1 + 5 + 3 + 2 + 2 + 2);
    assert_eq!(stats.prim_calls(), 1 + 1 + 1 + 1 + 2 + 2);
}

#[test]
fn subscriber_counts_recursion_mutual_recursion_and_reentered_spans() {
    let (_, stats) = notes_prof::profile(root);
    check_tree(&stats);
}

#[test]
fn layer_on_a_registry_counts_the_same() {
    let profiler = Profiler::new();
    let subscriber = tracing_subscriber::registry().with(profiler.layer());
    tracing::subscriber::with_default(subscriber, root);
    check_tree(&profiler.stats());
}

#[test]
fn threads_aggregate_separately_and_merge() {
    let profiler = Profiler::new();
    std::thread::scope(|s| {
        for _ in 0..2 {
            let p = profiler.clone();
            s.spawn(move || tracing::subscriber::with_default(p, worker));
        }
    });
    let stats = profiler.stats();
    assert_eq!(counts(&row(&stats, "worker").calls), (2, 2));
    assert_eq!(counts(&row(&stats, "leaf").calls), (6, 6));
    assert_eq!(
        counts(&row(&stats, "leaf").callers[&func(&stats, "worker")]),
        (6, 6)
    );
    // Each thread's stack starts empty: no worker -> worker edge, two roots.
    assert!(row(&stats, "worker").callers.is_empty());
    assert_close(
        stats.total_time(),
        row(&stats, "worker").calls.cumtime,
        stats.len(),
    );
}

#[test]
fn a_span_created_on_one_thread_and_entered_on_another_is_counted() {
    let profiler = Profiler::new();
    let span = tracing::subscriber::with_default(profiler.clone(), || tracing::info_span!("moved"));
    std::thread::scope(|s| {
        s.spawn(|| span.in_scope(|| ()));
    });
    span.in_scope(|| ());
    assert_eq!(counts(&row(&profiler.stats(), "moved").calls), (2, 2));
}

#[test]
fn stopped_profilers_count_nothing_new_and_open_calls_are_left_out() {
    let profiler = Profiler::new();
    tracing::subscriber::with_default(profiler.clone(), || {
        leaf();
        let open = tracing::info_span!("open");
        let _entered = open.enter();
        profiler.stop();
        leaf();
        assert_eq!(profiler.stats().len(), 1);
    });
    assert_eq!(counts(&row(&profiler.stats(), "leaf").calls), (1, 1));
}

#[test]
fn profile_to_writes_a_stats_file_for_all_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.prof");
    let guard = notes_prof::profile_to(&path).unwrap();
    std::thread::spawn(worker).join().unwrap();
    let stats = guard.finish().unwrap();
    let loaded = Stats::load(&path).unwrap();
    assert_eq!(counts(&row(&loaded, "worker").calls), (1, 1));
    assert_eq!(loaded.get(&func(&stats, "leaf")).unwrap().calls.ncalls, 3);
    assert_eq!(loaded.sources().len(), 1);
    assert!(loaded.sources()[0].ends_with("out.prof"));
    // A second global subscriber cannot be installed.
    let err = notes_prof::profile_to(dir.path().join("again.prof")).unwrap_err();
    assert!(err.to_string().contains("already installed"), "{err}");
}

#[test]
fn times_are_measured() {
    #[instrument]
    fn sleepy() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, stats) = notes_prof::profile(sleepy);
    let c = row(&stats, "sleepy").calls;
    assert!(c.tottime >= Duration::from_millis(20), "{c:?}");
    assert!(c.cumtime < Duration::from_secs(5), "{c:?}");
}

#[test]
fn exact_stacks_count_every_path_and_survive_a_save() {
    let (_, stats) = notes_prof::profile(root);
    let stacks = stats.stacks();
    let path = |i: usize| {
        let mut names = vec![stacks[i].func.name.clone()];
        let mut p = stacks[i].parent;
        while let Some(j) = p {
            names.push(stacks[j].func.name.clone());
            p = stacks[j].parent;
        }
        names.reverse();
        names.join(";")
    };
    let calls = |p: &str| {
        let i = (0..stacks.len())
            .find(|&i| path(i) == p)
            .unwrap_or_else(|| panic!("no {p}"));
        (stacks[i].calls.ncalls, stacks[i].calls.pcalls)
    };
    assert_eq!(calls("root"), (1, 1));
    assert_eq!(calls("root;fact"), (1, 1));
    assert_eq!(calls("root;fact;fact;fact;fact;fact"), (1, 1));
    assert_eq!(calls("root;is_even;is_odd;is_even"), (1, 1));
    assert_eq!(calls("root;twice;leaf"), (2, 2));
    // 1 root + 5 fact levels + 5 even/odd levels + twice + leaf.
    assert_eq!(stacks.len(), 13);
    for node in stacks {
        assert!(node.parent.is_none_or(|p| p < stacks.len()));
        assert!(node.calls.tottime <= node.calls.cumtime);
    }
    let own: Duration = stacks.iter().map(|n| n.calls.tottime).sum();
    assert_close(own, stats.total_time(), stats.len() + stacks.len());
    let folded = stats.folded();
    assert!(folded.exact() && !folded.truncated());
    assert!(folded.title().contains("measured"));
    // Saved as a pstats file, the stacks follow the dict and load back.
    let again = Stats::from_bytes(&stats.to_bytes(), "p").unwrap();
    assert_eq!(again.stacks(), stacks);
    let mut stripped = again.clone();
    stripped.strip_dirs();
    assert_eq!(stripped.stacks().len(), stacks.len());
    assert_eq!(stripped.folded().lines().count(), folded.lines().count());
}

#[test]
fn without_stacks_counts_the_same_rows_and_no_paths() {
    let profiler = Profiler::without_stacks();
    tracing::subscriber::with_default(profiler.clone(), root);
    let stats = profiler.stats();
    check_tree(&stats);
    assert!(stats.stacks().is_empty());
    assert!(!stats.folded().exact());
}
