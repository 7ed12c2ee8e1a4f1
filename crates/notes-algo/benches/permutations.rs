//! Permutations against their peers, side by side in one run: itertools (in process),
//! Python's itertools.permutations / more_itertools.distinct_permutations and the notes' own
//! `find_permutations` (python3, self-timed).
//!
//! Every contender consumes every permutation; the Rust ones fold each into the same checksum,
//! which reads every item and depends on its position and on the order of the permutations, so
//! nothing can be optimised away, and each contender's count and checksum must equal those of a
//! textbook `next_permutation` written in this file; Python only counts (as issue 3 states its
//! peer).
//! `cargo bench -p notes-algo --bench permutations`: medians of alternated rounds of each
//! contender's CPU time (this thread's, and Python's `time.thread_time`), and the ratio to the
//! first contender of each case. `NOTES_PERM_ONLY=a,b` runs only the contenders whose names
//! contain `a` or `b`.

// A benchmark binary's job is to print its results.
#![allow(clippy::print_stdout)]

#[path = "../../../xtask/bench-report.rs"]
mod report;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use itertools::Itertools;

const ROUNDS: usize = 5;

type Run<'a> = Box<dyn FnMut() -> Option<Duration> + 'a>;

fn case(title: &str, count: u64, mut contenders: Vec<(&str, Run<'_>)>) {
    if let Ok(only) = std::env::var("NOTES_PERM_ONLY") {
        contenders.retain(|(name, _)| only.split(',').any(|o| name.contains(o)));
        if contenders.is_empty() {
            return;
        }
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
        // Issue 3's targets: 4 times itertools' speed, 20 times Python's.
        let target = if name.starts_with("itertools") {
            Some(0.25)
        } else if name.starts_with("python3 itertools.permutations") {
            Some(0.05)
        } else {
            None
        };
        if let (Some(target), Some(m)) = (target, t.get(t.len() / 2)) {
            report::ratio(title, name, base, *m, target);
        }
    }
}

/// The checksum every Rust contender folds each permutation into (the same function for all):
/// it reads every symbol, weights it by its position and cannot fold to zero.
///
/// Each symbol is read by a volatile load, which the compiler can neither skip nor merge: every
/// permutation must be in memory in full, and the symbols that did not move since the last
/// one are read again. Four symbols at a time are rotated by 0, 16, 32 and 48 bits and
/// combined, each group of four is added to the rotated running value, and the total is added
/// to the accumulator rotated by one bit, so the order of the permutations counts too.
/// (Wider loads would be cheaper in principle, but a load that spans several recent narrow
/// stores cannot take its data from the store buffer on this CPU: measured, 64-bit reads over the
/// permuted `char`s cost 2.2 times this.)
#[inline]
fn mix<T: Symbol>(acc: u64, p: &[T]) -> u64 {
    let mut h = 0u64;
    let mut quads = p.chunks_exact(4);
    for q in &mut quads {
        let w = load(&q[0])
            ^ load(&q[1]).rotate_left(16)
            ^ load(&q[2]).rotate_left(32)
            ^ load(&q[3]).rotate_left(48);
        h = h.rotate_left(5).wrapping_add(w);
    }
    let w = match quads.remainder() {
        [] => 0,
        [a] => load(a),
        [a, b] => load(a) ^ load(b).rotate_left(16),
        [a, b, c, ..] => load(a) ^ load(b).rotate_left(16) ^ load(c).rotate_left(32),
    };
    acc.rotate_left(1)
        .wrapping_add(h.rotate_left(5).wrapping_add(w))
}

/// The symbols the benchmark permutes.
trait Symbol: Copy + Into<u64> {}
impl Symbol for u8 {}
impl Symbol for char {}

/// One symbol, read from memory as it is: a volatile read is never merged with its neighbours
/// into a wider load, never skipped, and its value is never assumed.
#[inline]
fn load<T: Symbol>(x: &T) -> u64 {
    // SAFETY: `x` is a valid, aligned reference to an initialised `T`.
    #[allow(unsafe_code)]
    let value = unsafe { std::ptr::read_volatile(x) };
    value.into()
}

/// The CPU time this thread has run so far (`CLOCK_THREAD_CPUTIME_ID`, as Python's
/// `time.thread_time`), or `None` off Linux.
///
/// The machine is shared: wall time also counts the time other processes hold the core,
/// which changed from run to run by up to 2×, so each contender is timed by its own CPU time.
/// (Not `/proc/thread-self/schedstat`: on this machine it advances in 4 ms ticks.)
#[cfg(target_os = "linux")]
fn cpu_time() -> Option<Duration> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Some(Duration::new(
        u64::try_from(t.tv_sec).ok()?,
        u32::try_from(t.tv_nsec).ok()?,
    ))
}

#[cfg(not(target_os = "linux"))]
fn cpu_time() -> Option<Duration> {
    None
}

/// What a contender must return: how many permutations it saw and their checksum.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Expect {
    count: u64,
    checksum: u64,
}

impl Expect {
    /// The count and checksum of a plain textbook `next_permutation` over `items` (sorted
    /// first), written here rather than taken from the crate, so every contender's result is
    /// checked against code it does not share: the same permutations, in the same order.
    fn reference<T: Symbol + Ord>(items: &[T]) -> Self {
        let mut v = items.to_vec();
        v.sort();
        let (mut count, mut checksum) = (1, mix(0, &v));
        while let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) {
            let j = (i..v.len())
                .rev()
                .find(|&j| v[j] > v[i - 1])
                .expect("v[i] qualifies");
            v.swap(i - 1, j);
            v[i..].reverse();
            count += 1;
            checksum = mix(checksum, &v);
        }
        assert_ne!(checksum, 0);
        Self { count, checksum }
    }
}

fn timed(f: impl FnOnce() -> (u64, u64), expect: Expect) -> Option<Duration> {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let (count, checksum) = f();
    let t = match (cpu, cpu_time()) {
        (Some(start), Some(end)) => end - start,
        _ => wall.elapsed(),
    };
    assert_eq!(black_box(Expect { count, checksum }), expect);
    Some(t)
}

/// The notes' own `find_permutations`, as the notes write it (comments left out).
const NOTES_FIND_PERMUTATIONS: &str = "
def find_permutations(s):
    prefix_choices_tuple_list = [(\"\", s)]
    for _ in range(len(s)):
        prefix_choices_tuple_list = [
            (prefix + choice, choice_list[:i] + choice_list[i+1:])
            for prefix, choice_list in prefix_choices_tuple_list
            for i, choice in enumerate(choice_list)
        ]
    perm_list = [prefix for prefix, _ in prefix_choices_tuple_list]
    return perm_list
";

/// Runs `setup`, then times `code` (an expression for the count) by Python's own CPU clock.
fn python(setup: &str, code: &str, expect: u64) -> Option<Duration> {
    let script = format!(
        "import time, itertools\n\
         {setup}\n\
         t = time.thread_time(); n = {code}; t = time.thread_time() - t\n\
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
    let achars: [char; 11] = chars.clone().try_into().expect("11 chars");
    let all = 39_916_800u64; // 11!
    let expect_all = Expect::reference(&chars);
    assert_eq!(expect_all.count, all);
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
                        expect_all,
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
                        expect_all,
                    )
                }),
            ),
            (
                "notes array_permutations(chars) (Iterator<[char; 11]>)",
                Box::new(|| {
                    timed(
                        || {
                            notes_algo::array_permutations(achars)
                                .fold((0, 0), |(n, sum), p| (n + 1, mix(sum, &p)))
                        },
                        expect_all,
                    )
                }),
            ),
            (
                "notes array_permutations(chars).fold_ref(..) (&[char; 11])",
                Box::new(|| {
                    timed(
                        || {
                            notes_algo::array_permutations(achars)
                                .fold_ref((0, 0), |(n, sum), p| (n + 1, mix(sum, p)))
                        },
                        expect_all,
                    )
                }),
            ),
            (
                "notes permutations(&chars).for_each_slice(..)",
                Box::new(|| {
                    timed(
                        || {
                            let (mut n, mut sum) = (0, 0);
                            notes_algo::permutations(&chars).for_each_slice(|p| {
                                n += 1;
                                sum = mix(sum, p);
                            });
                            (n, sum)
                        },
                        expect_all,
                    )
                }),
            ),
            (
                "notes array_permutations(chars) in a for loop (next())",
                Box::new(|| {
                    timed(
                        || {
                            let (mut n, mut sum) = (0, 0);
                            for p in notes_algo::array_permutations(achars) {
                                n += 1;
                                sum = mix(sum, &p);
                            }
                            (n, sum)
                        },
                        expect_all,
                    )
                }),
            ),
            (
                "notes array_permutations(chars), no checksum",
                Box::new(|| {
                    // Only for comparison with Python, which builds each permutation's tuple
                    // but reads none: each permutation is stored where `black_box` can see it,
                    // and nothing reads it.
                    timed(
                        || {
                            notes_algo::array_permutations(achars).fold((0, 1u64), |(n, sum), p| {
                                black_box(&p);
                                (n + 1, sum)
                            })
                        },
                        Expect {
                            checksum: 1,
                            ..expect_all
                        },
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
                        expect_all,
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
                        expect_all,
                    )
                }),
            ),
            (
                "python3 itertools.permutations (count only)",
                Box::new(|| {
                    python(
                        "",
                        &format!("sum(1 for _ in itertools.permutations({word:?}))"),
                        all,
                    )
                }),
            ),
        ],
    );

    let short = "abcdefghi";
    let short_chars: Vec<char> = short.chars().collect();
    let short_array: [char; 9] = short_chars.clone().try_into().expect("9 chars");
    let expect_short = Expect::reference(&short_chars);
    case(
        "all 9! permutations of \"abcdefghi\" (362,880) as strings, against the notes' own find_permutations",
        expect_short.count,
        vec![
            (
                "notes string_permutations(word) (Iterator<String>)",
                Box::new(|| {
                    timed(
                        || {
                            notes_algo::string_permutations(short)
                                .fold((0, 0), |(n, sum), p| (n + 1, mix(sum, p.as_bytes())))
                        },
                        expect_short,
                    )
                }),
            ),
            (
                "notes array_permutations(chars).fold_ref(..) (&[char; 9])",
                Box::new(|| {
                    timed(
                        || {
                            notes_algo::array_permutations(short_array)
                                .fold_ref((0, 0), |(n, sum), p| (n + 1, mix(sum, p)))
                        },
                        expect_short,
                    )
                }),
            ),
            (
                "python3 the notes' find_permutations (a list of strings)",
                Box::new(|| {
                    python(
                        NOTES_FIND_PERMUTATIONS,
                        &format!("len(find_permutations({short:?}))"),
                        expect_short.count,
                    )
                }),
            ),
            (
                "python3 itertools.permutations (count only)",
                Box::new(|| {
                    python(
                        "",
                        &format!("sum(1 for _ in itertools.permutations({short:?}))"),
                        expect_short.count,
                    )
                }),
            ),
        ],
    );

    let multiset = "aabbccddeeff";
    let distinct = 7_484_400u64;
    let expect_distinct = Expect::reference(multiset.as_bytes());
    assert_eq!(expect_distinct.count, distinct);
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
                        expect_distinct,
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
                        expect_distinct,
                    )
                }),
            ),
            (
                "python3 more_itertools.distinct_permutations",
                Box::new(|| {
                    python(
                        "",
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
