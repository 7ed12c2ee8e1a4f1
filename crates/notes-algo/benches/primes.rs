//! Primes against their peers, side by side in one run: primal (in process), primesieve and
//! primecount (their CLIs, when installed; the time they report themselves, so process start-up
//! is not counted) and the notes' numpy sieve (python3 with numpy, when installed).
//!
//! `cargo bench -p notes-algo --bench primes [-- quick]`: each case alternates the contenders
//! `ROUNDS` times and prints medians and the ratio peer / notes (above 1 means notes is faster).

// A benchmark binary's job is to print its results.
#![allow(clippy::print_stdout)]

#[path = "../../../xtask/bench-report.rs"]
mod report;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use notes_algo::{Method, PrimeOptions};

const ROUNDS: usize = 5;

/// A contender: a name and a run that returns its own measured time (or `None` if unavailable).
type Run<'a> = Box<dyn FnMut() -> Option<Duration> + 'a>;

fn time<T>(f: impl FnOnce() -> T) -> Option<Duration> {
    let start = Instant::now();
    black_box(f());
    Some(start.elapsed())
}

/// Runs each contender `ROUNDS` times, alternating, and prints medians and ratios to the first.
fn case(title: &str, mut contenders: Vec<(&str, Run<'_>)>) {
    // `-- only WORDS`: run only the cases whose title contains WORDS.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "only")
        && args.get(i + 1).is_some_and(|w| !title.contains(w.as_str()))
    {
        return;
    }
    println!("## {title}");
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, (_, run)) in contenders.iter_mut().enumerate() {
            if let Some(t) = run() {
                times[i].push(t);
            }
        }
    }
    let medians: Vec<Option<Duration>> = times
        .iter_mut()
        .map(|t| {
            t.sort();
            t.get(t.len() / 2).copied()
        })
        .collect();
    let base = medians[0];
    for ((name, _), m) in contenders.iter().zip(&medians) {
        match (m, base) {
            (Some(m), Some(b)) => println!(
                "  {name:<44} {:>10.3} ms   ratio {:>6.2}",
                m.as_secs_f64() * 1e3,
                m.as_secs_f64() / b.as_secs_f64()
            ),
            _ => println!("  {name:<44} not available"),
        }
        // Issue 22's targets: the sieve within 1.05 of primesieve's time, the combinatorial
        // count and the n-th prime at most primecount's, at the same thread count.
        let target = if name.starts_with("primesieve") {
            Some(1.05)
        } else if name.starts_with("primecount") {
            Some(1.0)
        } else {
            None
        };
        if let (Some(target), Some(m), Some(b)) = (target, m, base) {
            report::ratio(title, name, b, *m, target);
        }
    }
}

/// Runs a peer's CLI and reads the seconds it reports (`Seconds: x` or a bare number on the
/// last line of `--time` output); `None` when the program is missing or fails.
fn cli_time(program: &str, args: &[&str], expect: u64) -> Option<Duration> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut answer = None;
    let mut secs = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Seconds:") {
            secs = rest.trim().parse::<f64>().ok();
        } else if let Some((_, v)) = line.split_once(':') {
            if let Ok(v) = v.trim().parse::<u64>() {
                answer = Some(v);
            }
        } else if let Ok(v) = line.parse::<u64>() {
            answer = Some(v);
        }
    }
    assert_eq!(answer, Some(expect), "{program} {args:?} printed {text}");
    secs.map(Duration::from_secs_f64)
}

fn python_numpy(n: u64) -> Option<Duration> {
    let script = format!(
        "import time, numpy as np\n\
         def get_primes(p_max):\n\
         \x20   sieve = np.ones(p_max)\n\
         \x20   sieve[:2] = 0\n\
         \x20   for i in range(p_max):\n\
         \x20       if sieve[i] == 1:\n\
         \x20           sieve[2*i::i] = 0\n\
         \x20   prime_array = np.arange(p_max)[sieve == 1]\n\
         \x20   return prime_array\n\
         t = time.perf_counter(); p = get_primes({n}); t = time.perf_counter() - t\n\
         print(len(p)); print(t)\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let secs: f64 = text.lines().nth(1)?.trim().parse().ok()?;
    Some(Duration::from_secs_f64(secs))
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let sieve = |t| PrimeOptions::default().method(Method::Sieve).threads(t);
    println!(
        "notes-algo primes benchmark: {} threads available, medians of {ROUNDS} alternated rounds\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let big: &[(u64, &str, u64)] = if quick {
        &[(1_000_000_000, "1e9", 50_847_534)]
    } else {
        &[
            (1_000_000_000, "1e9", 50_847_534),
            (10_000_000_000, "1e10", 455_052_511),
        ]
    };
    for &(n, s, pi) in big {
        for t in [1usize, 2] {
            let ts = format!("-t{t}");
            let mut contenders: Vec<(&str, Run<'_>)> = vec![
                (
                    "notes count_primes_with(Sieve)",
                    Box::new(move || {
                        time(|| {
                            assert_eq!(notes_algo::count_primes_with(n, &sieve(t)).unwrap(), pi)
                        })
                    }),
                ),
                (
                    "primesieve --count (CLI self-timed)",
                    Box::new(move || cli_time("primesieve", &[s, "--count", &ts, "--time"], pi)),
                ),
            ];
            if t == 1 {
                contenders.push((
                    "primal StreamingSieve::prime_pi",
                    Box::new(move || {
                        time(|| {
                            assert_eq!(primal::StreamingSieve::prime_pi(n as usize), pi as usize)
                        })
                    }),
                ));
            }
            case(
                &format!("count primes below {s}, {t} thread(s)"),
                contenders,
            );
        }
    }

    let n = 100_000_000u64;
    case(
        "list primes below 1e8 into a Vec<u64>",
        vec![
            (
                "notes primes_below (all cores)",
                Box::new(move || time(|| notes_algo::primes_below(n))),
            ),
            (
                "notes primes_in_with(threads 1)",
                Box::new(move || time(|| notes_algo::primes_in_with(0, n, &sieve(1)).unwrap())),
            ),
            (
                "primal Sieve::new(n).primes_from(0).collect",
                Box::new(move || {
                    time(|| {
                        primal::Sieve::new(n as usize)
                            .primes_from(0)
                            .map(|p| p as u64)
                            .collect::<Vec<u64>>()
                    })
                }),
            ),
        ],
    );

    let k = 100_000_000u64;
    case(
        "nth prime, k = 1e8 (2,038,074,743)",
        vec![
            (
                "notes nth_prime",
                Box::new(move || {
                    time(|| assert_eq!(notes_algo::nth_prime(k).unwrap(), 2_038_074_743))
                }),
            ),
            (
                "notes nth_prime_with(Sieve, threads 1)",
                Box::new(move || {
                    time(|| {
                        assert_eq!(
                            notes_algo::nth_prime_with(k, &sieve(1)).unwrap(),
                            2_038_074_743
                        )
                    })
                }),
            ),
            (
                "primal StreamingSieve::nth_prime",
                Box::new(move || {
                    time(|| {
                        assert_eq!(primal::StreamingSieve::nth_prime(k as usize), 2_038_074_743)
                    })
                }),
            ),
        ],
    );

    let comb = |t| {
        PrimeOptions::default()
            .method(Method::Combinatorial)
            .threads(t)
    };
    let counts: &[(u64, &str, u64)] = &[
        (10_000_000_000u64, "1e10", 455_052_511u64),
        (1_000_000_000_000, "1e12", 37_607_912_018),
        (10_000_000_000_000, "1e13", 346_065_536_839),
        (100_000_000_000_000, "1e14", 3_204_941_750_802),
        // Known values beyond the test suite's reach (seconds per count): checked here.
        (1_000_000_000_000_000, "1e15", 29_844_570_422_669),
    ];
    let counts = if quick { &counts[..2] } else { counts };
    for &(n, s, pi) in counts {
        for t in [1usize, 2] {
            let ts = format!("-t{t}");
            case(
                &format!("π({s}) by a combinatorial method, {t} thread(s)"),
                vec![
                    (
                        "notes count_primes_with(Combinatorial)",
                        Box::new(move || {
                            time(|| {
                                assert_eq!(notes_algo::count_primes_with(n, &comb(t)).unwrap(), pi)
                            })
                        }),
                    ),
                    (
                        "primecount (CLI self-timed)",
                        Box::new(move || cli_time("primecount", &[s, &ts, "--time"], pi)),
                    ),
                ],
            );
        }
    }

    let nths: &[(u64, &str, u64)] = &[
        (1_000_000_000_000, "1e12", 29_996_224_275_833),
        (1_000_000_000_000_000, "1e15", 37_124_508_045_065_437),
    ];
    let nths = if quick { &nths[..1] } else { nths };
    for &(k, s, p) in nths {
        for t in [1usize, 2] {
            let ts = format!("-t{t}");
            case(
                &format!("nth prime, k = {s}, {t} thread(s)"),
                vec![
                    (
                        "notes nth_prime_with(Auto)",
                        Box::new(move || {
                            let options = PrimeOptions::default().threads(t);
                            time(|| assert_eq!(notes_algo::nth_prime_with(k, &options).unwrap(), p))
                        }),
                    ),
                    (
                        "primecount --nth-prime (CLI self-timed)",
                        Box::new(move || {
                            cli_time("primecount", &["--nth-prime", s, &ts, "--time"], p)
                        }),
                    ),
                ],
            );
        }
    }

    let n = 10_000_000u64;
    case(
        "the notes' numpy sieve, primes below 1e7",
        vec![
            (
                "notes primes_below",
                Box::new(move || time(|| notes_algo::primes_below(n))),
            ),
            (
                "python3 numpy get_primes (self-timed)",
                Box::new(move || python_numpy(n)),
            ),
        ],
    );
}
