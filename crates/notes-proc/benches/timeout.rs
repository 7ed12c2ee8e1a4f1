//! Deadline overshoot, survivors and spawn cost of notes-proc against its peers (PEERS.md):
//! GNU timeout, process_control and std.
//!
//! Run with `cargo bench -p notes-proc --bench timeout` (Linux: survivors are counted in /proc).
//! Rounds alternate between the contenders; medians are printed, with ratios. Two trees: one
//! whose background `sleep` stays in the process group, one with a `setsid` grandchild too.

// A benchmark exists to print its table.
#![allow(clippy::print_stdout)]

#[path = "../../../xtask/bench-report.rs"]
mod report;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process_control::{ChildExt, Control};

const SCRIPT: &str = "sleep 3 & echo started; sleep 3";
/// A grandchild that leaves the process group (and the session); its output goes elsewhere
/// so that it does not hold the pipes (GNU timeout under `output()` would wait for it).
const SETSID_SCRIPT: &str = "setsid sleep 3 >/dev/null 2>&1 & sleep 3 & echo started; sleep 3";
const LIMIT: Duration = Duration::from_millis(200);
const DEADLINE_ROUNDS: usize = 7;
const SPAWN_ROUNDS: usize = 300;
/// Set in the environment of every command the deadline rounds start: the survivors are the
/// `sleep 3` processes that have it (with our pid), and nobody else's.
const MARK: &str = "NOTES_PROC_BENCH_MARK";

thread_local! {
    static SCRIPT_NOW: std::cell::Cell<&'static str> = const { std::cell::Cell::new(SCRIPT) };
}

fn sh() -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", SCRIPT_NOW.get()])
        .env(MARK, std::process::id().to_string());
    cmd
}

/// Pids of the scripts' `sleep 3` processes (marked with [`MARK`]), wherever they went.
fn sleepers() -> Vec<i32> {
    let mark = format!("{MARK}={}", std::process::id());
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline != b"sleep\x003\x00" {
            continue;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if !environ.split(|&b| b == 0).any(|var| var == mark.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if !zombie {
            pids.push(pid);
        }
    }
    pids
}

/// Counts the survivors of one round (after 50 ms), then kills them so rounds stay apart.
fn survivors() -> usize {
    std::thread::sleep(Duration::from_millis(50));
    let pids = sleepers();
    for pid in &pids {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    pids.len()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

struct Contender {
    name: &'static str,
    run: fn() -> (bool, Vec<u8>),
    walls: Vec<Duration>,
    survivors: usize,
    partial: usize,
}

fn notes_proc_run() -> (bool, Vec<u8>) {
    let outcome = notes_proc::run_with_timeout(&mut sh(), &notes_proc::Limit::new(LIMIT)).unwrap();
    (outcome.timed_out, outcome.stdout)
}

fn gnu_timeout() -> (bool, Vec<u8>) {
    let out = Command::new("timeout")
        .arg(format!("{}", LIMIT.as_secs_f64()))
        .args(["sh", "-c", SCRIPT_NOW.get()])
        .env(MARK, std::process::id().to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.code() == Some(124), out.stdout)
}

fn process_control() -> (bool, Vec<u8>) {
    let child = sh()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    match child
        .controlled_with_output()
        .time_limit(LIMIT)
        .terminate_for_timeout()
        .wait()
        .unwrap()
    {
        Some(out) => (false, out.stdout),
        None => (true, Vec::new()),
    }
}

fn deadline(script: &'static str) {
    SCRIPT_NOW.set(script);
    println!(
        "## deadline: `sh -c '{script}'`, limit {} ms, output piped, {DEADLINE_ROUNDS} alternated rounds",
        LIMIT.as_millis()
    );
    let mut contenders = [
        (
            "notes-proc run_with_timeout (init(): subreaper helper)",
            notes_proc_run as fn() -> (bool, Vec<u8>),
        ),
        ("GNU timeout 0.2 (std output())", gnu_timeout),
        ("process_control terminate_for_timeout", process_control),
    ]
    .map(|(name, run)| Contender {
        name,
        run,
        walls: Vec::new(),
        survivors: 0,
        partial: 0,
    });
    survivors();
    for _ in 0..DEADLINE_ROUNDS {
        for c in &mut contenders {
            let start = Instant::now();
            let (timed_out, stdout) = (c.run)();
            c.walls.push(start.elapsed());
            assert!(
                timed_out || c.name.starts_with("process_control"),
                "{} did not time out",
                c.name
            );
            if stdout == b"started\n" {
                c.partial += 1;
            }
            c.survivors += survivors();
        }
    }
    println!(
        "| contender | median wall | median overshoot | max overshoot | survivors | partial output kept |"
    );
    println!("|---|---|---|---|---|---|");
    for c in &mut contenders {
        let max = *c.walls.iter().max().unwrap();
        let med = median(&mut c.walls);
        println!(
            "| {} | {:.1} ms | {:.2} ms | {:.2} ms | {} in {DEADLINE_ROUNDS} rounds | {}/{DEADLINE_ROUNDS} |",
            c.name,
            med.as_secs_f64() * 1e3,
            (med.saturating_sub(LIMIT)).as_secs_f64() * 1e3,
            (max.saturating_sub(LIMIT)).as_secs_f64() * 1e3,
            c.survivors,
            c.partial,
        );
    }
    // Issue 18: at most 10 ms over the deadline and no survivor, the setsid escape included;
    // the survivors are compared with GNU timeout's (0 for notes is the target, whatever the
    // peer's count).
    let ours = &contenders[0];
    let overshoot = |c: &Contender| {
        let mut walls = c.walls.clone();
        median(&mut walls).saturating_sub(LIMIT).as_secs_f64()
    };
    let tree = if script == SETSID_SCRIPT {
        "setsid grandchild"
    } else {
        "one group"
    };
    report::line(
        &format!("timeout: median overshoot, {tree}"),
        "a budget of 10 ms",
        overshoot(ours) / 0.010,
        1.0,
    );
    for peer in &contenders[1..] {
        report::line(
            &format!(
                "timeout: survivors in {DEADLINE_ROUNDS} rounds, {tree} (notes: {})",
                ours.survivors
            ),
            &format!("{} ({} survivors)", peer.name, peer.survivors),
            ours.survivors as f64,
            0.0,
        );
    }
}

fn spawn_cost() {
    println!("\n## spawn cost: `true`, {SPAWN_ROUNDS} alternated rounds, median per run");
    let mut std_times = Vec::new();
    let mut run_times = Vec::new();
    let mut limit_times = Vec::new();
    let mut pc_times = Vec::new();
    let mut gnu_times = Vec::new();
    let limit = notes_proc::Limit::new(Duration::from_secs(10));
    for _ in 0..SPAWN_ROUNDS {
        let start = Instant::now();
        let out = Command::new("true").output().unwrap();
        std_times.push(start.elapsed());
        assert!(out.status.success());

        let start = Instant::now();
        notes_proc::run(&mut Command::new("true")).unwrap();
        run_times.push(start.elapsed());

        let start = Instant::now();
        let outcome = notes_proc::run_with_timeout(&mut Command::new("true"), &limit).unwrap();
        limit_times.push(start.elapsed());
        assert!(outcome.status.success());

        // The peers with the same 10 s limit: process_control's output with a time limit, and
        // GNU timeout running `true` (two execs: timeout, then true).
        let start = Instant::now();
        let child = Command::new("true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child
            .controlled_with_output()
            .time_limit(Duration::from_secs(10))
            .terminate_for_timeout()
            .wait()
            .unwrap()
            .expect("true ends in time");
        pc_times.push(start.elapsed());
        assert!(out.status.success());

        let start = Instant::now();
        let out = Command::new("timeout")
            .args(["10", "true"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        gnu_times.push(start.elapsed());
        assert!(out.status.success());
    }
    let base = median(&mut std_times);
    println!("| contender | median | ratio to std |");
    println!("|---|---|---|");
    for (name, times) in [
        ("std Command::output()", &mut std_times),
        ("notes_proc::run", &mut run_times),
        (
            "notes_proc::run_with_timeout (10 s, helper)",
            &mut limit_times,
        ),
        ("process_control output, time_limit 10 s", &mut pc_times),
        ("GNU timeout 10 true (std output())", &mut gnu_times),
    ] {
        let med = median(times);
        if name == "notes_proc::run" {
            // Issue 18: `run` at most 1.2 times std's `output()` for a spawn of `true`.
            report::ratio("run: spawn `true`", "std Command::output()", med, base, 1.2);
        }
        println!(
            "| {name} | {:.0} µs | {:.2}x |",
            med.as_secs_f64() * 1e6,
            med.as_secs_f64() / base.as_secs_f64()
        );
    }
}

fn main() {
    // As a program using call_with_timeout or the subreaper helper must: first in main.
    notes_proc::init();
    deadline(SCRIPT);
    println!();
    deadline(SETSID_SCRIPT);
    spawn_cost();
}
