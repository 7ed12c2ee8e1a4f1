//! notes-tensor's multi-head products against numpy (OpenBLAS), side by side in one run.
//!
//! `cargo bench -p notes-tensor --bench multihead [-- big|tiny|wake|placement]` (all tables
//! without an argument; `wake` measures how soon a second rayon worker joins a call, and
//! `placement` which CPU each worker of a 2-thread pool runs on, round by round: the causes of
//! missing 2-thread scaling on a virtual machine)
//!
//! For each element type and thread count (1 and 2: rayon's pool here, OPENBLAS_NUM_THREADS for
//! numpy), rounds alternate this crate and a numpy process; each reports the median time per
//! call over its repetitions, and the table shows the median over rounds. numpy's best of two
//! forms is the peer: `np.matmul(x[:, None, None, :], w)` (one matmul per head, broadcast) and one
//! GEMM against `w` prepacked as `(d, m*n)`. numpy must be installed (`pip install numpy`).

// A benchmark's output is its table on stdout.
#![allow(clippy::print_stdout)]

#[path = "../../../xtask/bench-report.rs"]
mod report;

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use ndarray::{Array, Array1, Array2, Array3};

const ROUNDS: usize = 5;

/// Peak GFLOP/s per core for 4-byte (f32) elements at the nominal clock: 2 FMA pipes × SIMD
/// lanes × 2 flops per FMA × the `cpu MHz` of /proc/cpuinfo (nominal: boost runs higher, so a
/// kernel can exceed 100%). 512-bit vectors where the CPU has AVX-512F, else 256-bit; Zen 5
/// server cores and recent Xeons execute 512-bit FMAs at full width.
fn peak_f32() -> f64 {
    let mhz = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("cpu MHz"))
                .and_then(|l| l.split(':').nth(1))
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN);
    #[cfg(target_arch = "x86_64")]
    let lanes = if std::arch::is_x86_feature_detected!("avx512f") {
        16.0
    } else {
        8.0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let lanes = f64::NAN;
    2.0 * lanes * 2.0 * mhz / 1000.0
}

const NUMPY: &str = r#"
import sys, time
import numpy as np
dtype, b, m, d, n, reps, form = sys.argv[1], *map(int, sys.argv[2:7]), sys.argv[7]
rng = np.random.default_rng(0)
if dtype == "int64":
    x = rng.integers(-100, 100, size=(b, d)).astype(dtype)
    w = rng.integers(-100, 100, size=(m, d, n)).astype(dtype)
else:
    x = rng.normal(size=(b, d)).astype(dtype)
    w = rng.normal(size=(m, d, n)).astype(dtype)
def med(f):
    f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]
if form == "tiny-heads-first":
    x1 = x.reshape(1, d, 1)
    w1 = rng.integers(0, 60, size=(m, n, d)).astype(dtype)
    k = 10000
    def f():
        for _ in range(k):
            (w1 @ x1).squeeze(-1)
    print(med(f) / k)
elif form == "tiny-batched":
    x4 = x.reshape(b, 1, 1, d)
    def f():
        for _ in range(10000):
            (x4 @ w).squeeze(-2)
    print(med(f) / 10000)
else:
    x4 = x[:, None, None, :]
    broadcast = med(lambda: np.matmul(x4, w).squeeze(-2))
    wp = np.ascontiguousarray(w.transpose(1, 0, 2).reshape(d, m * n))
    gemm = med(lambda: (x @ wp).reshape(b, m, n))
    print(min(broadcast, gemm))
"#;

fn numpy_seconds(
    dtype: &str,
    dims: (usize, usize, usize, usize),
    reps: usize,
    form: &str,
    threads: usize,
) -> f64 {
    let (b, m, d, n) = dims;
    let out = Command::new("python3")
        .args(["-c", NUMPY, dtype])
        .args([b, m, d, n, reps].map(|v| v.to_string()))
        .arg(form)
        .env("OPENBLAS_NUM_THREADS", threads.to_string())
        .env("OMP_NUM_THREADS", threads.to_string())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "numpy side failed (pip install numpy):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("numpy printed seconds")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time_median(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut ts = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f();
        ts.push(t.elapsed().as_secs_f64());
    }
    median(ts)
}

trait Gen: notes_tensor::MultiHeadElement {
    const NAME: &'static str;
    /// Peak flops per cycle relative to f32's (NaN: no floating-point peak).
    const PEAK: f64;
    fn make(i: usize) -> Self;
}

impl Gen for f32 {
    const NAME: &'static str = "float32";
    const PEAK: f64 = 1.0;
    fn make(i: usize) -> Self {
        ((i * 7919) % 201) as f32 / 100.0 - 1.0
    }
}

impl Gen for f64 {
    const NAME: &'static str = "float64";
    const PEAK: f64 = 0.5;
    fn make(i: usize) -> Self {
        ((i * 7919) % 201) as f64 / 100.0 - 1.0
    }
}

impl Gen for i64 {
    const NAME: &'static str = "int64";
    const PEAK: f64 = f64::NAN;
    fn make(i: usize) -> Self {
        ((i * 7919) % 201) as i64 - 100
    }
}

fn big<T: Gen>() {
    let (b, m, d, n) = (64, 16, 512, 64);
    let flops = 2.0 * (b * m * d * n) as f64;
    let x: Array2<T> = Array::from_shape_fn((b, d), |(i, k)| T::make(i * d + k));
    let w: Array3<T> =
        Array::from_shape_fn((m, d, n), |(i, k, j)| T::make(i * d * n + k * n + j + 3));
    let mut out = Array3::<T>::default((b, m, n));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            ours.push(pool.install(|| {
                time_median(30, || {
                    notes_tensor::batched_into(black_box(&x), black_box(&w), out.view_mut())
                        .unwrap();
                })
            }));
            theirs.push(numpy_seconds(T::NAME, (b, m, d, n), 30, "big", threads));
        }
        let (ours, theirs) = (median(ours), median(theirs));
        let (g_ours, g_np) = (flops / ours / 1e9, flops / theirs / 1e9);
        let peak = T::PEAK * peak_f32() * threads as f64;
        // Issue 21: at least numpy's speed with 1 and with 2 threads.
        report::line(
            &format!(
                "matmul {} b=64 m=16 d=512 n=64, {threads} thread(s)",
                T::NAME
            ),
            &format!("numpy (OpenBLAS, {threads} thread(s))"),
            ours / theirs,
            1.0,
        );
        println!(
            "| {} | {threads} | {g_ours:.1} | {g_np:.1} | {:.2}x | {} | {} |",
            T::NAME,
            theirs / ours,
            pct(g_ours / peak),
            pct(g_np / peak),
        );
    }
}

fn pct(f: f64) -> String {
    if f.is_nan() {
        "-".to_owned()
    } else {
        format!("{:.0}%", f * 100.0)
    }
}

fn tiny() {
    // The notes' two examples, int64 and float64, per call (numpy single-threaded).
    let calls: u32 = 10_000;
    for dtype in ["int64", "float64"] {
        let (mut hf, mut hf_np, mut bt, mut bt_np) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            if dtype == "int64" {
                let x: Array1<i64> = Array::from_iter((0..5).rev().map(|p| 100_i64.pow(p)));
                let w = Array::from_iter(0..60_i64)
                    .into_shape_with_order((3, 4, 5))
                    .unwrap();
                hf.push(
                    time_median(11, || {
                        for _ in 0..calls {
                            black_box(
                                notes_tensor::heads_first(black_box(&w), black_box(&x)).unwrap(),
                            );
                        }
                    }) / f64::from(calls),
                );
                let x = Array::from_iter(0..6_i64)
                    .into_shape_with_order((2, 3))
                    .unwrap();
                let w = Array::from_iter(0..60_i64)
                    .into_shape_with_order((5, 3, 4))
                    .unwrap();
                bt.push(
                    time_median(11, || {
                        for _ in 0..calls {
                            black_box(notes_tensor::batched(black_box(&x), black_box(&w)).unwrap());
                        }
                    }) / f64::from(calls),
                );
            } else {
                let x: Array1<f64> = Array::from_iter((0..5).map(f64::from));
                let w = Array::from_iter((0..60).map(f64::from))
                    .into_shape_with_order((3, 4, 5))
                    .unwrap();
                hf.push(
                    time_median(11, || {
                        for _ in 0..calls {
                            black_box(
                                notes_tensor::heads_first(black_box(&w), black_box(&x)).unwrap(),
                            );
                        }
                    }) / f64::from(calls),
                );
                let x = Array::from_iter((0..6).map(f64::from))
                    .into_shape_with_order((2, 3))
                    .unwrap();
                let w = Array::from_iter((0..60).map(f64::from))
                    .into_shape_with_order((5, 3, 4))
                    .unwrap();
                bt.push(
                    time_median(11, || {
                        for _ in 0..calls {
                            black_box(notes_tensor::batched(black_box(&x), black_box(&w)).unwrap());
                        }
                    }) / f64::from(calls),
                );
            }
            hf_np.push(numpy_seconds(
                dtype,
                (1, 3, 5, 4),
                11,
                "tiny-heads-first",
                1,
            ));
            bt_np.push(numpy_seconds(dtype, (2, 5, 3, 4), 11, "tiny-batched", 1));
        }
        for (name, ours, theirs) in [
            ("heads_first (3, 4, 5) @ (5,)", median(hf), median(hf_np)),
            ("batched (2, 3) @ (5, 3, 4)", median(bt), median(bt_np)),
        ] {
            // The notes' tiny shapes: at least 10 times numpy's speed per call.
            report::line(
                &format!("matmul {name} {dtype}"),
                "numpy",
                ours / theirs,
                0.1,
            );
            println!(
                "| {name} | {dtype} | {:.0} ns | {:.0} ns | {:.1}x |",
                ours * 1e9,
                theirs * 1e9,
                theirs / ours
            );
        }
    }
}

fn main() {
    // cargo passes `--bench`; any other argument picks a table.
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |table: &str| picked.is_empty() || picked.iter().any(|a| a == table);
    if run("big") {
        println!("b=64, m=16, d=512, n=64 (batched); median of {ROUNDS} alternated rounds");
        println!(
            "peak at the nominal clock: {:.1} GFLOP/s f32, {:.1} f64 per core",
            peak_f32(),
            peak_f32() / 2.0
        );
        println!(
            "| dtype | threads | notes-tensor GFLOP/s | numpy GFLOP/s | speed-up | notes-tensor % of peak | numpy % of peak |"
        );
        println!("|---|---|---|---|---|---|---|");
        big::<f32>();
        big::<f64>();
        big::<i64>();
        println!();
    }
    if run("wake") {
        wake();
    }
    if run("placement") {
        placement();
    }
    if run("tiny") {
        println!("The notes' tiny shapes, time per call");
        println!("| call | dtype | notes-tensor | numpy | speed-up |");
        println!("|---|---|---|---|---|");
        tiny();
    }
}

/// How soon the second worker of a 2-thread rayon pool starts a job offered at the start of a
/// 300 µs call, after the pool sat idle for a while: with `rayon::join` (the worker must be
/// woken if it fell asleep) and with `batched_into` just before (its helpers stay awake
/// between calls). A late start is time the second core does not help; past 300 µs the caller
/// ran the job itself.
fn wake() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    let spin = |us: u64| {
        let t = Instant::now();
        while t.elapsed() < Duration::from_micros(us) {
            std::hint::spin_loop();
        }
    };
    let (b, m, d, n) = (64, 16, 512, 64);
    let x: Array2<f32> = Array::from_shape_fn((b, d), |(i, k)| f32::make(i * d + k));
    let w: Array3<f32> = Array::from_shape_fn((m, d, n), |(i, k, j)| f32::make(i + k + j));
    let mut out = Array3::<f32>::default((b, m, n));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    println!(
        "Second rayon worker's start in a 300 us call (median / 90th percentile of 200 calls)"
    );
    println!("| before the call | idle before | start |");
    println!("|---|---|---|");
    for warm in [false, true] {
        for idle_us in [0_u64, 50, 200, 1000] {
            let mut lat: Vec<f64> = pool.install(|| {
                (0..200)
                    .map(|_| {
                        if warm {
                            notes_tensor::batched_into(&x, &w, out.view_mut()).unwrap();
                        }
                        spin(idle_us);
                        let start = Arc::new(AtomicU64::new(0));
                        let base = Instant::now();
                        let s = Arc::clone(&start);
                        rayon::join(
                            || spin(300),
                            move || s.store(base.elapsed().as_nanos() as u64, Ordering::SeqCst),
                        );
                        start.load(Ordering::SeqCst) as f64 / 1000.0
                    })
                    .collect()
            });
            lat.sort_by(f64::total_cmp);
            println!(
                "| {} | {idle_us} us | {:.1} / {:.1} us |",
                if warm {
                    "a batched_into call"
                } else {
                    "nothing"
                },
                lat[lat.len() / 2],
                lat[lat.len() * 9 / 10]
            );
        }
    }
    println!();
}

/// The CPU each thread of this process whose name starts with `prefix` last ran on (field 39 of
/// `/proc/self/task/TID/stat`), by thread id.
fn cpus_of(prefix: &str) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let named = std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.starts_with(prefix));
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        // The fields after the command name, which is in parentheses and may hold spaces.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let cpu = rest.split_whitespace().nth(36).and_then(|f| f.parse().ok());
        let tid = task.file_name().to_string_lossy().parse().ok();
        if let (true, Some(cpu), Some(tid)) = (named, cpu, tid) {
            out.push((tid, cpu));
        }
    }
    out.sort_unstable();
    out
}

/// Rounds as `big` runs them (a pause, as while numpy runs, then 31 back-to-back f32 calls in
/// one `install`), with the CPU of each of the 2-thread pool's workers after every call: the
/// calls where both were on one CPU, and the round's median GFLOP/s.
fn placement() {
    let (b, m, d, n) = (64, 16, 512, 64);
    let flops = 2.0 * (b * m * d * n) as f64;
    let x: Array2<f32> = Array::from_shape_fn((b, d), |(i, k)| f32::make(i * d + k));
    let w: Array3<f32> = Array::from_shape_fn((m, d, n), |(i, k, j)| f32::make(i + k + j));
    let mut out = Array3::<f32>::default((b, m, n));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .thread_name(|i| format!("mh-worker-{i}"))
        .build()
        .unwrap();
    println!("2-thread pool, f32 b=64 m=16 d=512 n=64: 31 calls per round after a 200 ms pause");
    println!("| round | calls with both workers on one CPU | median GFLOP/s |");
    println!("|---|---|---|");
    for round in 0..12 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (times, same): (Vec<f64>, Vec<bool>) = pool.install(|| {
            (0..31)
                .map(|_| {
                    let t = Instant::now();
                    notes_tensor::batched_into(black_box(&x), black_box(&w), out.view_mut())
                        .unwrap();
                    let t = t.elapsed().as_secs_f64();
                    let cpus = cpus_of("mh-worker-");
                    (t, cpus.len() == 2 && cpus[0].1 == cpus[1].1)
                })
                .unzip()
        });
        println!(
            "| {round} | {} of 31 | {:.1} |",
            same.iter().filter(|&&s| s).count(),
            flops / median(times) / 1e9
        );
    }
    println!();
}
