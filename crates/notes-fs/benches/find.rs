//! `notes find` against fd and GNU find on a synthetic tree, side by side in one run.
//!
//! ```sh
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
    let fd = ["fd", "fdfind"].into_iter().find(|b| installed(b));
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
        }
        if let Some(fd) = fd {
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

/// A contender that runs a command and counts the lines it prints.
fn command(bin: &str, args: &[&str]) -> Contender {
    let name = format!(
        "{} {}",
        Path::new(bin).file_name().unwrap().to_string_lossy(),
        args.join(" ")
    );
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
    let base = medians
        .iter()
        .zip(contenders)
        .position(|(_, (name, _))| name.starts_with("fd"))
        .map(|i| medians[i]);
    for ((name, _), (median, count)) in contenders.iter().zip(medians.iter().zip(&counts)) {
        let ratio = base.map_or(String::new(), |b| {
            format!("  {:.2}x fd", median.as_secs_f64() / b.as_secs_f64())
        });
        println!("{:>9.1?}  {count:>7} paths{ratio}  {name}", median);
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
