//! Permutations against their peers, side by side in one run: itertools (in process) and
//! Python's itertools.permutations / more_itertools.distinct_permutations (python3, self-timed).
//!
//! Every contender consumes every permutation; the Rust ones fold each into a checksum that
//! depends on every item and its position, so nothing can be optimised away.
//! `cargo bench -p notes-algo --bench permutations`: medians of alternated rounds, and the ratio
//! peer / notes (above 1 means notes is faster).

// A benchmark binary's job is to print its results.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use itertools::Itertools;

const ROUNDS: usize = 3;

type Run<'a> = Box<dyn FnMut() -> Option<Duration> + 'a>;

fn case(title: &str, count: u64, mut contenders: Vec<(&str, Run<'_>)>) {
    println!("## {title}");
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, (_, run)) in contenders.iter_mut().enumerate() {
            if let Some(t) = run() {
                times[i].push(t);
            }
        }
    }
    let base = {
        let t = &mut times[0];
        t.sort();
        t[t.len() / 2]
    };
    for ((name, _), t) in contenders.iter().zip(&mut times) {
        t.sort();
        match t.get(t.len() / 2) {
            Some(m) => println!(
                "  {name:<52} {:>9.1} ms {:>7.2} ns/perm   ratio {:>6.2}",
                m.as_secs_f64() * 1e3,
                m.as_secs_f64() * 1e9 / count as f64,
                m.as_secs_f64() / base.as_secs_f64()
            ),
            None => println!("  {name:<52} not available"),
        }
    }
}

/// A checksum over every item of a permutation, weighted by position: each item is rotated
/// by its position, so the sum differs between permutations; the items are independent of
/// each other (no long multiply chain), so the checksum costs little next to the permuting.
#[inline]
fn mix<T: Copy + Into<u64>>(acc: u64, p: &[T]) -> u64 {
    let mut local = 0u64;
    for (i, &x) in p.iter().enumerate() {
        local = local.wrapping_add(x.into().rotate_left(5 * i as u32 + 1));
    }
    (acc ^ local).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn timed(f: impl FnOnce() -> (u64, u64), count: u64) -> Option<Duration> {
    let start = Instant::now();
    let (n, sum) = f();
    let t = start.elapsed();
    assert_eq!(n, count);
    assert_ne!(black_box(sum), 0);
    Some(t)
}

fn python(code: &str, expect: u64) -> Option<Duration> {
    let script = format!(
        "import time, itertools\n\
         t = time.perf_counter(); n = {code}; t = time.perf_counter() - t\n\
         print(n); print(t)\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next()?.trim().parse::<u64>().ok()?, expect);
    Some(Duration::from_secs_f64(lines.next()?.trim().parse().ok()?))
}

fn main() {
    let word = "abcdefghijk";
    let bytes = word.as_bytes().to_vec();
    let chars: Vec<char> = word.chars().collect();
    let all = 39_916_800u64; // 11!
    case(
        "all 11! permutations of \"abcdefghijk\"",
        all,
        vec![
            (
                "notes next_permutation over bytes (in place)",
                Box::new(|| {
                    timed(
                        || {
                            let mut buf = bytes.clone();
                            let (mut n, mut sum) = (1, mix(0, &buf));
                            while notes_algo::next_permutation(&mut buf) {
                                n += 1;
                                sum = mix(sum, &buf);
                            }
                            (n, sum)
                        },
                        all,
                    )
                }),
            ),
            (
                "notes permutations(&chars).next_slice() (lending)",
                Box::new(|| {
                    timed(
                        || {
                            let mut it = notes_algo::permutations(&chars);
                            let (mut n, mut sum) = (0, 0);
                            while let Some(p) = it.next_slice() {
                                n += 1;
                                sum = mix(sum, p);
                            }
                            (n, sum)
                        },
                        all,
                    )
                }),
            ),
            (
                "notes permutations(&chars) as Iterator<Vec<char>>",
                Box::new(|| {
                    timed(
                        || {
                            notes_algo::permutations(&chars)
                                .fold((0, 0), |(n, sum), p| (n + 1, mix(sum, &p)))
                        },
                        all,
                    )
                }),
            ),
            (
                "itertools chars().permutations(11)",
                Box::new(|| {
                    timed(
                        || {
                            chars
                                .iter()
                                .copied()
                                .permutations(chars.len())
                                .fold((0, 0), |(n, sum), p| (n + 1, mix(sum, &p)))
                        },
                        all,
                    )
                }),
            ),
            (
                "python3 itertools.permutations (count only)",
                Box::new(|| {
                    python(
                        &format!("sum(1 for _ in itertools.permutations({word:?}))"),
                        all,
                    )
                }),
            ),
        ],
    );

    let multiset = "aabbccddeeff";
    let distinct = 7_484_400u64;
    let mbytes = multiset.as_bytes().to_vec();
    let mchars: Vec<char> = multiset.chars().collect();
    case(
        "distinct permutations of \"aabbccddeeff\" (7,484,400)",
        distinct,
        vec![
            (
                "notes next_permutation over bytes (in place)",
                Box::new(|| {
                    timed(
                        || {
                            let mut buf = mbytes.clone();
                            let (mut n, mut sum) = (1, mix(0, &buf));
                            while notes_algo::next_permutation(&mut buf) {
                                n += 1;
                                sum = mix(sum, &buf);
                            }
                            (n, sum)
                        },
                        distinct,
                    )
                }),
            ),
            (
                "notes distinct_permutations(&chars).next_slice()",
                Box::new(|| {
                    timed(
                        || {
                            let mut it = notes_algo::distinct_permutations(&mchars);
                            let (mut n, mut sum) = (0, 0);
                            while let Some(p) = it.next_slice() {
                                n += 1;
                                sum = mix(sum, p);
                            }
                            (n, sum)
                        },
                        distinct,
                    )
                }),
            ),
            (
                "python3 more_itertools.distinct_permutations",
                Box::new(|| {
                    python(
                        &format!(
                            "__import__('more_itertools') and sum(1 for _ in __import__('more_itertools').distinct_permutations({multiset:?}))"
                        ),
                        distinct,
                    )
                }),
            ),
        ],
    );
}
