//! Subcommands backed by `notes-algo`.

use std::io::{Read, Write};

use anyhow::Context;
use clap::{ArgGroup, Args, ValueEnum};
use serde_json::Value;

use crate::cli::UsageError;
use crate::output::Out;

/// Arguments of `notes flatten`.
#[derive(Debug, Args)]
pub(crate) struct FlattenArgs {
    /// A JSON list, or `-` to read JSON from stdin.
    #[arg(
        value_name = "JSON",
        help = "A JSON list such as '[[0, 1, [2]], 3]', or `-` to read JSON from stdin"
    )]
    input: String,
}

/// `notes flatten JSON`: prints the leaves as a list, `[0, 1, 2, 3]`.
#[tracing::instrument(skip_all)]
pub(crate) fn flatten(args: &FlattenArgs, out: &mut Out) -> anyhow::Result<()> {
    let (text, source) = if args.input == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read JSON from stdin")?;
        (text, "stdin")
    } else {
        (args.input.clone(), "the argument")
    };
    let nested = notes_algo::parse_json(&text).with_context(|| format!("cannot parse {source}"))?;
    let leaves = nested.flatten();
    if out.json {
        return out.json(&leaves);
    }
    writeln!(out, "{}", python_list(&leaves))?;
    Ok(())
}

/// Formats values the way Python prints a list: `[0, 1, 'a']` is written `[0, 1, "a"]`
/// (JSON scalars, `", "` separators), so the output is also valid JSON.
pub(crate) fn python_list(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// A limit typed as `100`, `1e9`, `10_000_000` or `2^32` (clap reports a bad one, exit 2).
fn number(text: &str) -> Result<u64, notes_algo::Error> {
    notes_algo::parse_u64(text)
}

/// The `--method` choices of `notes primes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodArg {
    /// Combinatorial (Meissel) above 1e8, the sieve below.
    Auto,
    /// Count the sieve's bits (time grows like N).
    Sieve,
    /// Meissel's formula (time about N^(2/3)).
    Combinatorial,
}

/// Arguments of `notes primes`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("mode").args(["n", "count", "nth", "range", "is_prime"]).required(true)),
    // So `-5` reaches the number parser and gets its "negative numbers are not allowed".
    allow_negative_numbers = true
)]
pub(crate) struct PrimesArgs {
    /// Print the primes below N, one per line (N may be 100, 1e9, 10_000_000 or 2^32).
    #[arg(value_name = "N", value_parser = number)]
    n: Option<u64>,

    /// Print π(N), how many primes are ≤ N.
    #[arg(long, value_name = "N", value_parser = number)]
    count: Option<u64>,

    /// Print the K-th prime (1-based: `--nth 1` is 2).
    #[arg(long, value_name = "K", value_parser = number)]
    nth: Option<u64>,

    /// Print the primes in [LO, HI), one per line.
    #[arg(long, num_args = 2, value_names = ["LO", "HI"], value_parser = number)]
    range: Option<Vec<u64>>,

    /// Print `true` if N is prime, else `false`.
    #[arg(long, value_name = "N", value_parser = number)]
    is_prime: Option<u64>,

    /// How --count and --nth count.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    method: MethodArg,

    /// Threads for sieving (default: one per core).
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
}

/// `notes primes N | --count N | --nth K | --range LO HI | --is-prime N`.
pub(crate) fn primes(args: &PrimesArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut options = notes_algo::PrimeOptions::default().method(match args.method {
        MethodArg::Auto => notes_algo::Method::Auto,
        MethodArg::Sieve => notes_algo::Method::Sieve,
        MethodArg::Combinatorial => notes_algo::Method::Combinatorial,
    });
    if let Some(t) = args.threads {
        options = options.threads(t as usize);
    }
    if let Some(n) = args.count {
        let pi = notes_algo::count_primes_with(n, &options)
            .with_context(|| format!("cannot count the primes up to {n}"))?;
        writeln!(out, "{pi}")?;
    } else if let Some(k) = args.nth {
        let p = notes_algo::nth_prime_with(k, &options)
            .with_context(|| format!("cannot find prime number {k}"))?;
        writeln!(out, "{p}")?;
    } else if let Some(n) = args.is_prime {
        writeln!(out, "{}", notes_algo::is_prime(n))?;
    } else if let Some(range) = &args.range {
        let (lo, hi) = (range[0], range[1]);
        if lo > hi {
            return Err(UsageError(format!(
                "--range {lo} {hi}: LO must not be above HI (the range is [LO, HI))"
            ))
            .into());
        }
        print_primes(notes_algo::primes_in(lo, hi), out)?;
    } else if let Some(n) = args.n {
        print_primes(notes_algo::primes_in(0, n), out)?;
    }
    Ok(())
}

/// Streams primes one per line, or as a JSON array with `--json`; memory stays bounded.
fn print_primes(primes: notes_algo::Primes, out: &mut Out) -> anyhow::Result<()> {
    if out.json {
        let mut first = true;
        write!(out, "[")?;
        for p in primes {
            write!(out, "{}\n  {p}", if first { "" } else { "," })?;
            first = false;
        }
        writeln!(out, "{}]", if first { "" } else { "\n" })?;
    } else {
        for p in primes {
            writeln!(out, "{p}")?;
        }
    }
    Ok(())
}

/// `notes permutations` prints at most this many lines without `--limit` or `--count`.
pub(crate) const MAX_PERMUTATION_LINES: u128 = 50_000_000;

/// Arguments of `notes permutations`.
#[derive(Debug, Args)]
pub(crate) struct PermutationsArgs {
    /// The text whose characters are permuted, e.g. 1234.
    #[arg(value_name = "TEXT")]
    text: String,

    /// Print each distinct arrangement once ("aab" gives 3, not 6), in sorted order.
    #[arg(long)]
    distinct: bool,

    /// Print how many permutations there are instead of listing them.
    #[arg(long, conflicts_with = "limit")]
    count: bool,

    /// Print at most the first K permutations.
    #[arg(long, value_name = "K", value_parser = number)]
    limit: Option<u64>,
}

/// `notes permutations TEXT [--distinct] [--count | --limit K]`.
pub(crate) fn permutations(args: &PermutationsArgs, out: &mut Out) -> anyhow::Result<()> {
    let chars: Vec<char> = args.text.chars().collect();
    let total = if args.distinct {
        notes_algo::count_distinct_permutations(&chars)
    } else {
        notes_algo::count_permutations(chars.len())
    };
    if args.count {
        let total =
            total.with_context(|| format!("cannot count the permutations of {:?}", args.text))?;
        writeln!(out, "{total}")?;
        return Ok(());
    }
    let lines = match args.limit {
        Some(k) => u128::from(k),
        None => match total {
            Ok(n) if n <= MAX_PERMUTATION_LINES => n,
            too_many => {
                let how_many = match too_many {
                    Ok(n) => n.to_string(),
                    Err(_) => "more than 2^128".to_owned(),
                };
                return Err(UsageError(format!(
                    "refusing to print {how_many} permutations of {:?} ({} characters): \
                     pass --limit K to print the first K, or --count to count them",
                    args.text,
                    chars.len()
                ))
                .into());
            }
        },
    };
    let mut line = String::new();
    let mut emit = |p: &[char], out: &mut Out, first: bool| -> std::io::Result<()> {
        line.clear();
        line.extend(p);
        if out.json {
            let quoted = serde_json::to_string(&line).map_err(std::io::Error::other)?;
            write!(out, "{}\n  {quoted}", if first { "[" } else { "," })
        } else {
            writeln!(out, "{line}")
        }
    };
    let mut printed = 0u128;
    if args.distinct {
        let mut perms = notes_algo::distinct_permutations(&chars);
        while printed < lines {
            let Some(p) = perms.next_slice() else { break };
            emit(p, out, printed == 0)?;
            printed += 1;
        }
    } else {
        let mut perms = notes_algo::permutations(&chars);
        while printed < lines {
            let Some(p) = perms.next_slice() else { break };
            emit(p, out, printed == 0)?;
            printed += 1;
        }
    }
    if out.json {
        writeln!(out, "{}]", if printed == 0 { "[" } else { "\n" })?;
    }
    Ok(())
}

/// Formats strings the way Python prints a list of them: `['12', '21']`.
pub(crate) fn python_str_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}
