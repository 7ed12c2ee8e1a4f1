//! The one line a benchmark prints per claim, for `cargo xtask bench`'s table: included by
//! every bench of the workspace with `#[path = "../../../xtask/bench-report.rs"] mod report;`,
//! so there is one implementation of the format (xtask/src/bench.rs reads it).

use std::time::Duration;

/// Prints `bench-result<TAB>job<TAB>peer<TAB>ratio<TAB>target`: `ratio` is notes' time over the
/// peer's (below 1: notes is faster), `target` the largest ratio the workspace claims for this
/// job against this peer (docs/benchmarks.md). Times measured side by side in one run.
#[allow(dead_code)]
pub(crate) fn ratio(job: &str, peer: &str, notes: Duration, peer_time: Duration, target: f64) {
    let ratio = notes.as_secs_f64() / peer_time.as_secs_f64().max(1e-12);
    line(job, peer, ratio, target);
}

/// Like [`ratio`] for a claim that is already a ratio (a throughput over the peer's, inverted
/// so that below 1 still means notes is faster), or a count where 0 is the target (survivors).
#[allow(dead_code)]
pub(crate) fn line(job: &str, peer: &str, ratio: f64, target: f64) {
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    #[allow(clippy::print_stdout)]
    {
        println!(
            "bench-result\t{}\t{}\t{ratio:.4}\t{target}",
            clean(job),
            clean(peer)
        );
    }
}
