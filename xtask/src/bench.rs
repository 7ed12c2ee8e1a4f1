//! `cargo xtask bench [--quick] [--no-install] [JOB...]`: every peer comparison the workspace
//! claims, run side by side on this machine, as one table (job, peer, ratio, target, met) under
//! the CPU model and thread count. Each job is a crate's benchmark, which prints one
//! `bench-result` line per claim (`xtask/bench-report.rs`); peers are located on `PATH` or
//! installed as `../shared/PEERS.md` says. Benchmarks are not tests: `cargo xtask ci` never runs
//! this.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::process::cargo;

/// A peer program a job compares against, and how PEERS.md installs it.
struct Peer {
    /// The program looked for on `PATH`.
    program: &'static str,
    /// The install command, run when the program is missing (unless `--no-install`).
    install: &'static [&'static str],
}

const PRIMESIEVE: Peer = Peer {
    program: "primesieve",
    install: &["apt-get", "install", "-y", "primesieve"],
};
const PRIMECOUNT: Peer = Peer {
    program: "primecount",
    install: &["apt-get", "install", "-y", "primecount"],
};
const FD: Peer = Peer {
    program: "fd",
    install: &["cargo", "install", "fd-find", "--locked"],
};
const IPERF3: Peer = Peer {
    program: "iperf3",
    install: &["apt-get", "install", "-y", "iperf3"],
};
const NUMPY: Peer = Peer {
    program: "python3",
    install: &["python3", "-m", "pip", "install", "numpy"],
};

/// One benchmark run: a crate's bench target with arguments, in the quick set or not.
struct Job {
    name: &'static str,
    package: &'static str,
    bench: &'static str,
    /// Arguments after `--` for the full run and for `--quick`.
    args: &'static [&'static str],
    quick_args: Option<&'static [&'static str]>,
    peers: &'static [Peer],
    /// The notes binary is one of the contenders (built in release first).
    needs_cli: bool,
}

const JOBS: &[Job] = &[
    Job {
        name: "primes",
        package: "notes-algo",
        bench: "primes",
        args: &[],
        quick_args: Some(&["quick"]),
        peers: &[PRIMESIEVE, PRIMECOUNT, NUMPY],
        needs_cli: false,
    },
    Job {
        name: "permutations",
        package: "notes-algo",
        bench: "permutations",
        args: &[],
        quick_args: None,
        peers: &[NUMPY],
        needs_cli: false,
    },
    Job {
        name: "bwt",
        package: "notes-algo",
        bench: "bwt",
        args: &[],
        quick_args: None,
        peers: &[NUMPY],
        needs_cli: false,
    },
    Job {
        name: "matmul",
        package: "notes-tensor",
        bench: "multihead",
        args: &[],
        quick_args: Some(&["tiny"]),
        peers: &[NUMPY],
        needs_cli: false,
    },
    Job {
        name: "find",
        package: "notes-fs",
        bench: "find",
        args: &[],
        quick_args: Some(&[]),
        peers: &[FD],
        needs_cli: true,
    },
    Job {
        name: "echo",
        package: "notes-ipc",
        bench: "echo",
        args: &[],
        quick_args: Some(&["round-trip"]),
        peers: &[IPERF3],
        needs_cli: false,
    },
    Job {
        name: "profiler",
        package: "notes-prof",
        bench: "overhead",
        args: &[],
        quick_args: Some(&[]),
        peers: &[],
        needs_cli: false,
    },
    Job {
        name: "timeout",
        package: "notes-proc",
        bench: "timeout",
        args: &[],
        quick_args: Some(&[]),
        peers: &[],
        needs_cli: false,
    },
];

/// One claim measured: a `bench-result` line.
#[derive(Debug, PartialEq)]
struct Row {
    job: String,
    peer: String,
    ratio: f64,
    target: f64,
}

/// Runs the jobs picked by `names` (all, or the quick set) and prints the table.
pub(crate) fn run(root: &Path, names: &[String], quick: bool, install: bool) -> anyhow::Result<()> {
    for name in names {
        if !JOBS.iter().any(|j| j.name == name) {
            let known: Vec<&str> = JOBS.iter().map(|j| j.name).collect();
            bail!("no bench job `{name}`; the jobs are {}", known.join(", "));
        }
    }
    let jobs: Vec<&Job> = JOBS
        .iter()
        .filter(|j| {
            if names.is_empty() {
                !quick || j.quick_args.is_some()
            } else {
                names.iter().any(|n| n == j.name)
            }
        })
        .collect();
    let machine = format!(
        "{}, {} threads",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("xtask bench on {machine}");
    if jobs.iter().any(|j| j.needs_cli) {
        crate::process::run(cargo().current_dir(root).args([
            "build",
            "--release",
            "--locked",
            "-p",
            "notes-cli",
        ]))?;
    }
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for job in &jobs {
        for peer in job.peers {
            locate(peer, install);
        }
        let args = if quick {
            job.quick_args.unwrap_or(job.args)
        } else {
            job.args
        };
        let started = Instant::now();
        println!(
            "==> {}: cargo bench -p {} --bench {} -- {}",
            job.name,
            job.package,
            job.bench,
            args.join(" ")
        );
        match run_job(root, job, args) {
            Ok(mut found) => {
                println!(
                    "    {} claims in {:.0}s",
                    found.len(),
                    started.elapsed().as_secs_f64()
                );
                rows.append(&mut found);
            }
            Err(err) => {
                println!("    failed: {err:#}");
                failed.push(job.name);
            }
        }
    }
    println!();
    print!("{}", table(&machine, &rows));
    if !failed.is_empty() {
        bail!("bench jobs failed: {}", failed.join(", "));
    }
    Ok(())
}

/// Runs one job, passing its output through and collecting its `bench-result` lines.
fn run_job(root: &Path, job: &Job, args: &[&str]) -> anyhow::Result<Vec<Row>> {
    let mut child = cargo()
        .current_dir(root)
        .args([
            "bench",
            "--locked",
            "-p",
            job.package,
            "--bench",
            job.bench,
            "--",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo bench")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut rows = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read the bench's output")?;
        match parse_line(&line) {
            Some(row) => rows.push(row),
            None => println!("    {line}"),
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo bench exited with {status}");
    }
    Ok(rows)
}

fn parse_line(line: &str) -> Option<Row> {
    let mut fields = line.strip_prefix("bench-result\t")?.split('\t');
    let job = fields.next()?.to_owned();
    let peer = fields.next()?.to_owned();
    let ratio = fields.next()?.parse().ok()?;
    let target = fields.next()?.parse().ok()?;
    Some(Row {
        job,
        peer,
        ratio,
        target,
    })
}

/// The table: one row per claim, `met` when the ratio is at or below the target.
fn table(machine: &str, rows: &[Row]) -> String {
    let mut out = format!("{machine}\n");
    let job_w = rows.iter().map(|r| r.job.len()).max().unwrap_or(3).max(3);
    let peer_w = rows.iter().map(|r| r.peer.len()).max().unwrap_or(4).max(4);
    out.push_str(&format!(
        "{:<job_w$}  {:<peer_w$}  {:>8}  {:>8}  met\n",
        "job", "peer", "ratio", "target"
    ));
    for row in rows {
        let met = if row.ratio <= row.target { "yes" } else { "no" };
        out.push_str(&format!(
            "{:<job_w$}  {:<peer_w$}  {:>8.3}  {:>8}  {met}\n",
            row.job,
            row.peer,
            row.ratio,
            format!("≤ {}", row.target)
        ));
    }
    let met = rows.iter().filter(|r| r.ratio <= r.target).count();
    out.push_str(&format!(
        "{met} of {} targets met (ratio: notes' time / the peer's, below 1 means notes is faster)\n",
        rows.len()
    ));
    out
}

/// Finds `peer` on PATH, or installs it with its documented command (best effort: a job whose
/// peer stays missing reports it as unavailable itself).
fn locate(peer: &Peer, install: bool) {
    if on_path(peer.program) {
        return;
    }
    if !install {
        println!("    peer {} is missing (--no-install)", peer.program);
        return;
    }
    println!(
        "    installing peer {}: {}",
        peer.program,
        peer.install.join(" ")
    );
    if peer.install[0] == "apt-get" {
        let _ = Command::new("apt-get")
            .arg("update")
            .stdout(Stdio::null())
            .status();
    }
    let status = Command::new(peer.install[0])
        .args(&peer.install[1..])
        .status();
    if !status.is_ok_and(|s| s.success()) {
        println!(
            "    could not install {}; its rows will be missing",
            peer.program
        );
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The CPU model as `lscpu` names it (`/proc/cpuinfo`'s `model name`).
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_parse_and_tabulate() {
        let row =
            parse_line("bench-result\tpi(1e13) t2\tprimecount -t2\t0.9300\t1").expect("parses");
        assert_eq!(
            row,
            Row {
                job: "pi(1e13) t2".into(),
                peer: "primecount -t2".into(),
                ratio: 0.93,
                target: 1.0
            }
        );
        assert!(parse_line("  notes 1.0 ms ratio 1.0").is_none());
        assert!(parse_line("bench-result\tjob\tpeer\tnot-a-number\t1").is_none());
        let missed = Row {
            ratio: 1.3,
            ..parse_line("bench-result\tfind\tfd 10\t1\t0.8").unwrap()
        };
        let text = table("AMD EPYC, 2 threads", &[row, missed]);
        assert!(text.starts_with("AMD EPYC, 2 threads\n"), "{text}");
        assert!(
            text.contains("pi(1e13) t2  primecount -t2     0.930       ≤ 1  yes\n"),
            "{text}"
        );
        assert!(
            text.contains("find         fd 10              1.300     ≤ 0.8  no\n"),
            "{text}"
        );
        assert!(text.ends_with("1 of 2 targets met (ratio: notes' time / the peer's, below 1 means notes is faster)\n"), "{text}");
    }
}
