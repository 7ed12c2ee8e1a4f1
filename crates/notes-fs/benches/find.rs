//! `notes find` against fd 10 (the issue's peer), Debian's fd 8.6 (`fdfind`) and GNU find on a
//! synthetic tree, side by side in one run.
//!
//! ```sh
//! cargo install fd-find --locked                  # fd 10 in ~/.cargo/bin; optional
//! cargo build --release -p notes-cli
//! cargo bench -p notes-fs --bench find            # 100k files; NOTES_FS_BENCH_FILES=500000 for more
//! ```
//!
//! The tree (kept in `target/notes-fs-bench-<files>` and reused, so the cache is warm) holds
//! directories of 10 files (a third `.wav`, some `.WAV`), hidden directories, nested
//! `.gitignore` files and a `.git` directory with `.wav` decoys. Each contender runs
//! `ROUNDS` times, alternating, and the medians are compared. Every contender of a mode must
//! find the same number of paths, or the run stops: the ratios compare the same work.

// A benchmark reports on the terminal: that is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../../xtask/bench-report.rs"]
mod report;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ROUNDS: usize = 7;

/// A named run that returns how many paths it found.
type Contender = (String, Box<dyn Fn() -> usize>);

fn main() {
    let files: usize = std::env::var("NOTES_FS_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let root = target.join(format!("notes-fs-bench-{files}"));
    if !root.join(".done").exists() {
        let start = Instant::now();
        build_tree(&root, files);
        fs::write(root.join(".done"), "").unwrap();
        eprintln!("built {} in {:.1?}", root.display(), start.elapsed());
    }
    let notes = target.join("release/notes");
    // fd 10 from `cargo install` (~/.cargo/bin/fd) and Debian's fdfind, whichever are there.
    let cargo_fd = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map(|c| c.join("bin/fd"))
        .filter(|p| p.exists())
        .map(|p| p.to_str().expect("a UTF-8 fd path").to_owned());
    let fds: Vec<String> = cargo_fd
        .into_iter()
        .chain(["fdfind".to_owned()])
        .filter(|b| installed(b))
        .collect();
    let root_s = root.to_str().expect("a UTF-8 bench path");

    for unrestricted in [false, true] {
        let mode = if unrestricted {
            "unrestricted (-u)"
        } else {
            "respecting ignores"
        };
        let mut contenders: Vec<Contender> = Vec::new();
        for threads in [1, 2] {
            let options = notes_fs::FindOptions {
                unrestricted,
                threads,
                ..Default::default()
            };
            let r = root.clone();
            contenders.push((
                format!("notes_fs::find, threads: {threads}"),
                Box::new(move || notes_fs::find(&r, &["wav"], &options).unwrap().paths.len()),
            ));
        }
        let u = if unrestricted { vec!["-u"] } else { vec![] };
        if notes.exists() {
            let mut args = vec!["find", "-e", "wav"];
            args.extend(&u);
            args.push(root_s);
            contenders.push(command(notes.to_str().unwrap(), &args));
            if unrestricted {
                // The serial walk, chosen explicitly (the default is one thread per core).
                args.splice(3..3, ["-j", "1"]);
                contenders.push(command(notes.to_str().unwrap(), &args));
            }
        }
        for fd in &fds {
            let mut args = vec!["-e", "wav"];
            args.extend(&u);
            args.extend([".", root_s]);
            contenders.push(command(fd, &args));
        }
        if unrestricted {
            contenders.push(command(
                "find",
                &[root_s, "-iname", "*.wav", "-not", "-type", "d"],
            ));
        }
        run(mode, &contenders);
    }
}

fn installed(bin: &str) -> bool {
    Command::new(bin).arg("--version").output().is_ok()
}

/// The first line of `bin --version` (`fd 10.3.0`), or the binary's name.
fn version(bin: &str) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| Path::new(bin).file_name().unwrap().to_string_lossy().into())
}

/// A contender that runs a command and counts the lines it prints.
fn command(bin: &str, args: &[&str]) -> Contender {
    let shown = Path::new(bin).file_name().unwrap().to_string_lossy();
    let name = if shown.starts_with("fd") {
        // fd and fdfind: name the version, the ratios are taken against each.
        format!("{} ({shown}) {}", version(bin), args.join(" "))
    } else {
        format!("{shown} {}", args.join(" "))
    };
    let bin = bin.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let run = move || {
        let out = Command::new(&bin)
            .args(&args)
            .output()
            .expect("run contender");
        assert!(out.status.success(), "{bin} failed");
        out.stdout.iter().filter(|&&b| b == b'\n').count()
    };
    (name, Box::new(run))
}

fn run(mode: &str, contenders: &[Contender]) {
    let mut times = vec![Vec::new(); contenders.len()];
    let mut counts = vec![0; contenders.len()];
    // One warm-up round, then alternate.
    for round in 0..=ROUNDS {
        for (i, (_, f)) in contenders.iter().enumerate() {
            let start = Instant::now();
            counts[i] = f();
            if round > 0 {
                times[i].push(start.elapsed());
            }
        }
    }
    println!("## {mode}: median of {ROUNDS} alternated runs");
    let medians: Vec<Duration> = times.iter_mut().map(|t| median(t)).collect();
    // Every fd present is a base: "fd 10.5.0" -> "fd 10.5", "fdfind 8.6.0" -> "fd 8.6".
    let bases: Vec<(String, Duration)> = contenders
        .iter()
        .zip(&medians)
        .filter(|((name, _), _)| name.starts_with("fd"))
        .map(|((name, _), &m)| {
            let version = name.split_whitespace().nth(1).unwrap_or("?");
            let short: Vec<&str> = version.split('.').take(2).collect();
            (format!("fd {}", short.join(".")), m)
        })
        .collect();
    for ((name, _), (median, count)) in contenders.iter().zip(medians.iter().zip(&counts)) {
        let ratios: String = bases
            .iter()
            .map(|(fd, b)| format!("  {:.2}x {fd}", median.as_secs_f64() / b.as_secs_f64()))
            .collect();
        println!("{:>9.1?}  {count:>7} paths{ratios}  {name}", median);
        // Issue 17: `notes find` at most 0.8 times fd 10.5's time, in both modes.
        if name.starts_with("notes find") && !name.contains("-j 1") {
            for (fd, b) in &bases {
                let target = if fd.starts_with("fd 10") { 0.8 } else { 1.0 };
                report::line(
                    &format!("find {mode}"),
                    fd,
                    median.as_secs_f64() / b.as_secs_f64(),
                    target,
                );
            }
        }
    }
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "the contenders disagree on the number of paths: {counts:?}"
    );
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Writes `files` files in directories of ten, three levels deep, with hidden directories,
/// nested `.gitignore` files and a `.git` directory full of `.wav` decoys.
fn build_tree(root: &Path, files: usize) {
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root.join(".git/objects")).unwrap();
    for i in 0..200 {
        fs::write(root.join(format!(".git/objects/decoy{i}.wav")), "").unwrap();
    }
    fs::write(root.join(".gitignore"), "*.tmp\nbuild/\n").unwrap();
    let dirs = files.div_ceil(10);
    for d in 0..dirs {
        let dir: PathBuf = match d % 20 {
            0 => root.join(format!("a{}/.hidden{}", d / 400, d % 400)),
            1 => root.join(format!("a{}/b{}/build", d / 400, (d / 20) % 20)),
            _ => root.join(format!("a{}/b{}/c{}", d / 400, (d / 20) % 20, d % 20)),
        };
        fs::create_dir_all(&dir).unwrap();
        if d % 50 == 2 {
            fs::write(dir.join(".gitignore"), "ignored*\n").unwrap();
        }
        for f in 0..10 {
            let name = match f {
                0 | 1 => format!("track{f}.wav"),
                2 => format!("LOUD{f}.WAV"),
                3 => format!("ignored{f}.wav"),
                4 => format!("scratch{f}.tmp"),
                5 => format!("x{f}.wav.txt"),
                _ => format!("notes{f}.txt"),
            };
            fs::write(dir.join(name), "").unwrap();
        }
    }
}
