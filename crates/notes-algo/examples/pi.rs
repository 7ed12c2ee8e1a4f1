//! π(x) with a chosen method on one thread, timed:
//! `cargo run --release -p notes-algo --example pi -- 1e12 [auto|sieve|combinatorial] [runs] [threads]`
//! prints π(x) and the fastest of `runs` (default 1) counts on `threads` threads (default 1).
//! Run it under `/usr/bin/time -v` for the peak memory of one count.

// An example binary's job is to print its result.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use notes_algo::{Method, PrimeOptions, count_primes_with};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(x) = args.next() else {
        eprintln!("usage: pi X [auto|sieve|combinatorial] [runs]");
        std::process::exit(2);
    };
    let x: u64 = match x.parse::<f64>() {
        Ok(v) if x.contains(['e', 'E', '.']) && (0.0..1.8e19).contains(&v) => v as u64,
        _ => x.parse().unwrap_or_else(|e| {
            eprintln!("pi: {x}: {e}");
            std::process::exit(2);
        }),
    };
    let method = match args.next().as_deref() {
        None | Some("combinatorial") => Method::Combinatorial,
        Some("auto") => Method::Auto,
        Some("sieve") => Method::Sieve,
        Some(other) => {
            eprintln!("pi: unknown method {other}");
            std::process::exit(2);
        }
    };
    let mut positive = |what: &str| match args.next().map(|r| r.parse::<u32>()) {
        None => 1,
        Some(Ok(r)) if r > 0 => r,
        Some(_) => {
            eprintln!("pi: {what} must be a positive integer");
            std::process::exit(2);
        }
    };
    let runs = positive("runs");
    let threads = positive("threads");
    let options = PrimeOptions::default()
        .method(method)
        .threads(threads as usize);
    let mut best = f64::INFINITY;
    let mut pi = 0;
    for _ in 0..runs {
        let t = Instant::now();
        pi = match count_primes_with(x, &options) {
            Ok(pi) => pi,
            Err(e) => {
                eprintln!("pi: {e}");
                std::process::exit(1);
            }
        };
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("pi({x}) = {pi} in {:.3} ms", best * 1e3);
}
