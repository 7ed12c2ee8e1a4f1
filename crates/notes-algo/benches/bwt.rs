//! The BWT against its peers on a 100 MB English-like text, side by side in one run:
//! libsais (the `libsais` crate, sentinel BWT and unBWT), libdivsufsort (`pydivsufsort`,
//! python3) and rust-bio (`suffix_array` + `bwt`, `invert_bwt`, built from the standalone
//! project in `benches/peers/bio-bwt`, so that bio never enters notes-algo's dependencies).
//! The outputs are in different forms (sentinel vs rotation), so only time and memory are
//! compared. notes runs each way twice: `bwt_bytes` / `inverse_bwt_bytes` (input borrowed,
//! output a new vector) and `bwt_bytes_in_place` / `inverse_bwt_bytes_in_place` (what
//! `notes bwt` does with each block).
//!
//! Every measurement runs in its own child process (this binary with `--child`), so its
//! peak memory (`VmHWM`, or `ru_maxrss` for Python) is its own; contenders alternate within
//! each round and the medians are reported, with the ratio peer / notes (above 1 means notes
//! is faster) and the peak in bytes per input byte.
//!
//! `cargo bench -p notes-algo --bench bwt`; `BWT_BENCH_MB` (default 100) sets the size,
//! `BWT_BENCH_ROUNDS` (default 3) the rounds, `BWT_BENCH_GROUPS` (default `forward,inverse`)
//! which halves run. rust-bio is slow (about 10 times libsais), so it runs in the first round
//! only; without cargo or network the bench says so and goes on without it. The text is an order-1 word Markov chain
//! trained on /usr/share/common-licenses and driven by a fixed xorshift seed, so it is the same
//! on every run on the same machine.

// A benchmark binary's job is to print its results.
#![allow(clippy::print_stdout)]

#[path = "../../../xtask/bench-report.rs"]
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use libsais::BwtConstruction;

const PYTHON: &str = r#"
import resource, sys, time
import numpy as np
import pydivsufsort as p
mode, path = sys.argv[1], sys.argv[2]
if mode == "bwt":
    data = np.fromfile(path, dtype=np.uint8)
    t = time.perf_counter()
    idx, out = p.bw_transform(data)
    secs = time.perf_counter() - t
    out.tofile(path + ".dss.bwt")
    open(path + ".dss.idx", "w").write(str(idx))
else:
    data = np.fromfile(path + ".dss.bwt", dtype=np.uint8)
    idx = int(open(path + ".dss.idx").read())
    t = time.perf_counter()
    out = p.inverse_bw_transform(idx, data)
    secs = time.perf_counter() - t
    assert len(out) == len(data)
print(secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "--child" {
        child(&args[2], Path::new(&args[3]));
        return;
    }
    let mb: usize = env_number("BWT_BENCH_MB", 100);
    let rounds: usize = env_number("BWT_BENCH_ROUNDS", 3);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bwt-bench");
    std::fs::create_dir_all(&dir).expect("cannot create the bench directory");
    let file = dir.join(format!("english-{mb}mb.txt"));
    if std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) != (mb * 1_000_000) as u64 {
        std::fs::write(&file, english(mb * 1_000_000)).expect("cannot write the text");
    }
    let n = (mb * 1_000_000) as f64;
    println!("# BWT of {} ({mb} MB), {rounds} rounds", file.display());
    let groups = std::env::var("BWT_BENCH_GROUPS").unwrap_or_else(|_| "forward,inverse".into());
    let python = python_ok();
    let bio = if groups.contains("forward") || groups.contains("inverse") {
        build_bio()
    } else {
        None
    };
    let available = |name: &str| {
        (!name.starts_with("py") || python) && (!name.starts_with("bio") || bio.is_some())
    };
    let forward: &[&str] = &[
        "notes-bwt",
        "notes-in-place",
        "libsais-bwt",
        "py-bwt",
        "bio-bwt",
    ];
    let backward: &[&str] = &[
        "notes-inverse",
        "notes-inv-in-place",
        "libsais-unbwt",
        "py-inverse",
        "bio-inverse",
    ];
    if groups.contains("inverse") {
        // Produce each contender's transform once, so the inverses have input from the start.
        for prep in ["notes-bwt", "libsais-bwt", "py-bwt", "bio-bwt"] {
            if available(prep) {
                run(prep, &file, bio.as_deref());
            }
        }
    }
    for (label, group) in [("forward", forward), ("inverse", backward)] {
        if !groups.contains(label) {
            continue;
        }
        let mut results: Vec<Vec<(f64, f64)>> = vec![Vec::new(); group.len()];
        for round in 0..rounds {
            for (i, name) in group.iter().enumerate() {
                if !available(name) || (name.starts_with("bio") && round > 0) {
                    continue;
                }
                results[i].push(run(name, &file, bio.as_deref()));
            }
        }
        let medians: Vec<Option<(f64, f64)>> = results
            .iter_mut()
            .map(|r| {
                r.sort_by(|a, b| a.0.total_cmp(&b.0));
                let secs = r.get(r.len() / 2)?.0;
                let peak = r.iter().map(|x| x.1).fold(0.0, f64::max);
                Some((secs, peak))
            })
            .collect();
        let base = medians[0].map_or(f64::NAN, |m| m.0);
        for (name, m) in group.iter().zip(&medians) {
            match m {
                Some((secs, peak_kb)) => println!(
                    "  {name:<18} {secs:>8.2} s   peak {:>7.0} MB = {:>5.2} bytes/byte   peer/notes {:>5.2}",
                    peak_kb * 1024.0 / 1e6,
                    peak_kb * 1024.0 / n,
                    secs / base
                ),
                None if name.starts_with("py") => {
                    println!("  {name:<18} not available (python3 -m pip install pydivsufsort)")
                }
                None => println!("  {name:<18} not available (see the message above)"),
            }
            // The BWT's target: at most 1.3 times libsais' time, each way.
            if name.starts_with("libsais")
                && let Some((secs, _)) = m
            {
                report::line(&format!("BWT {label}, {mb} MB"), name, base / secs, 1.3);
            }
        }
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn python_ok() -> bool {
    Command::new("python3")
        .args(["-c", "import numpy, pydivsufsort"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Builds the rust-bio peer (`benches/peers/bio-bwt`, its own workspace) in release mode
/// under this target directory; returns its binary, or `None` with a message if cargo
/// cannot build it (no network for the first download, say).
fn build_bio() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/bio-bwt/Cargo.toml");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../peers");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .is_ok_and(|s| s.success());
    let bin = target.join("release/bio-bwt");
    if built && bin.exists() {
        Some(bin)
    } else {
        println!(
            "  rust-bio skipped: cargo could not build {}",
            manifest.display()
        );
        None
    }
}

/// Runs one measurement in a child process; returns (seconds, peak KiB).
fn run(name: &str, file: &Path, bio: Option<&Path>) -> (f64, f64) {
    let output = if let (Some(mode), Some(bio)) = (name.strip_prefix("bio-"), bio) {
        let mode = if mode == "bwt" { "bwt" } else { "inverse" };
        Command::new(bio).arg(mode).arg(file).output()
    } else if let Some(mode) = name.strip_prefix("py-") {
        let mode = if mode == "bwt" { "bwt" } else { "inverse" };
        Command::new("python3")
            .args(["-c", PYTHON, mode])
            .arg(file)
            .output()
    } else {
        Command::new(std::env::current_exe().expect("no current exe"))
            .args(["--child", name])
            .arg(file)
            .output()
    }
    .expect("cannot run a child");
    assert!(
        output.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text
        .split_whitespace()
        .map(|x| x.parse::<f64>().unwrap_or(f64::NAN));
    (
        parts.next().unwrap_or(f64::NAN),
        parts.next().unwrap_or(f64::NAN),
    )
}

/// Peak resident memory of this process in KiB (what `/proc` calls kB).
fn peak_kb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN)
}

fn child(name: &str, file: &Path) {
    let with = |ext: &str| PathBuf::from(format!("{}.{ext}", file.display()));
    let secs = match name {
        "notes-bwt" => {
            let text = std::fs::read(file).expect("read");
            let start = Instant::now();
            let (last, index) = notes_algo::bwt_bytes(&text);
            let secs = start.elapsed().as_secs_f64();
            drop(text);
            std::fs::write(with("notes.bwt"), &last).expect("write");
            std::fs::write(with("notes.idx"), index.to_string()).expect("write");
            secs
        }
        "notes-in-place" => {
            let mut text = std::fs::read(file).expect("read");
            let start = Instant::now();
            let index = notes_algo::bwt_bytes_in_place(&mut text);
            let secs = start.elapsed().as_secs_f64();
            assert!(index < text.len());
            secs
        }
        "notes-inverse" => {
            let last = std::fs::read(with("notes.bwt")).expect("read");
            let index: usize = std::fs::read_to_string(with("notes.idx"))
                .expect("read")
                .parse()
                .expect("index");
            let start = Instant::now();
            let text = notes_algo::inverse_bwt_bytes(&last, index).expect("a valid BWT");
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(text.len(), last.len());
            secs
        }
        "notes-inv-in-place" => {
            let mut last = std::fs::read(with("notes.bwt")).expect("read");
            let index: usize = std::fs::read_to_string(with("notes.idx"))
                .expect("read")
                .parse()
                .expect("index");
            let start = Instant::now();
            notes_algo::inverse_bwt_bytes_in_place(&mut last, index).expect("a valid BWT");
            start.elapsed().as_secs_f64()
        }
        "libsais-bwt" => {
            let text = std::fs::read(file).expect("read");
            let start = Instant::now();
            let bwt = BwtConstruction::for_text(&text)
                .with_owned_temporary_array_buffer32()
                .single_threaded()
                .run()
                .expect("libsais bwt");
            let secs = start.elapsed().as_secs_f64();
            std::fs::write(with("libsais.bwt"), bwt.bwt()).expect("write");
            std::fs::write(with("libsais.idx"), bwt.primary_index().to_string()).expect("write");
            secs
        }
        "libsais-unbwt" => {
            let last = std::fs::read(with("libsais.bwt")).expect("read");
            let index: usize = std::fs::read_to_string(with("libsais.idx"))
                .expect("read")
                .parse()
                .expect("index");
            let n = last.len();
            // SAFETY: the last column and primary index are libsais' own output for this text.
            #[allow(unsafe_code)]
            let bwt: libsais::bwt::Bwt<'_, u8, libsais::typestate::OwnedBuffer> =
                unsafe { libsais::bwt::Bwt::from_parts(last, index) };
            let start = Instant::now();
            let text = bwt
                .unbwt()
                .with_owned_temporary_array_buffer32()
                .single_threaded()
                .run()
                .expect("libsais unbwt");
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(text.as_slice().len(), n);
            secs
        }
        other => panic!("unknown child {other}"),
    };
    println!("{secs} {}", peak_kb());
}

/// English-like text: an order-1 word Markov chain over the licenses' words, deterministic.
fn english(len: usize) -> Vec<u8> {
    let mut corpus = String::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir("/usr/share/common-licenses")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    for p in paths {
        corpus.push_str(&std::fs::read_to_string(p).unwrap_or_default());
        corpus.push(' ');
    }
    if corpus.split_whitespace().count() < 100 {
        corpus = "the quick brown fox jumps over the lazy dog and the cat sat on the mat while \
                  a bird sang in the tree of the old house by the river "
            .repeat(10);
    }
    let words: Vec<&str> = corpus.split_whitespace().collect();
    let mut vocab: Vec<&str> = words.clone();
    vocab.sort_unstable();
    vocab.dedup();
    let id = |w: &str| vocab.binary_search(&w).unwrap_or(0);
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); vocab.len()];
    for pair in words.windows(2) {
        next[id(pair[0])].push(id(pair[1]));
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(len + 64);
    let mut w = 0;
    let mut line = 0;
    while out.len() < len {
        let choices = &next[w];
        w = if choices.is_empty() {
            (rand() % vocab.len() as u64) as usize
        } else {
            choices[(rand() % choices.len() as u64) as usize]
        };
        out.extend_from_slice(vocab[w].as_bytes());
        line += vocab[w].len() + 1;
        if line > 72 {
            out.push(b'\n');
            line = 0;
        } else {
            out.push(b' ');
        }
    }
    out.truncate(len);
    out
}
