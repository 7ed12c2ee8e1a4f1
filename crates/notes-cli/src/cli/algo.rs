//! The arguments of `notes primes`, `flatten`, `permutations` and `bwt` (notes-algo), as clap
//! derive types: parsing only, the handlers in `cmd::algo` consume them.

use std::path::PathBuf;

use clap::{ArgGroup, Args, ValueEnum};

/// Arguments of `notes flatten`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").args(["input", "file"]).required(true)))]
pub(crate) struct FlattenArgs {
    /// A JSON list, or `-` to read JSON from stdin.
    #[arg(
        value_name = "JSON",
        help = "A JSON list such as '[[0, 1, [2]], 3]', or `-` to read JSON from stdin"
    )]
    pub(crate) input: Option<String>,

    /// Read the JSON from this file.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,

    /// Refuse stdin or a file larger than this: 64Mi (default), 1G, 500k, ... (k, M, G are
    /// powers of 1000; Ki, Mi, Gi of 1024).
    #[arg(long, value_name = "SIZE", value_parser = byte_count)]
    pub(crate) max_input: Option<u64>,
}

/// A limit typed as `100`, `1e9`, `10_000_000` or `2^32` (clap reports a bad one, exit 2).
pub(crate) fn number(text: &str) -> Result<u64, notes_algo::Error> {
    notes_algo::parse_u64(text)
}

/// The `--method` choices of `notes primes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodArg {
    /// Combinatorial above 4e6, the sieve below.
    Auto,
    /// Count the sieve's bits (time grows like N).
    Sieve,
    /// Meissel's formula below 1e10, Lagarias-Miller-Odlyzko above (time about N^(2/3), a few MB).
    Combinatorial,
}

/// Arguments of `notes permutations`.
#[derive(Debug, Args)]
pub(crate) struct PermutationsArgs {
    /// The text whose characters are permuted, e.g. 1234.
    #[arg(value_name = "TEXT")]
    pub(crate) text: String,

    /// Print each distinct arrangement once ("aab" gives 3, not 6), in sorted order.
    #[arg(long)]
    pub(crate) distinct: bool,

    /// Print how many permutations there are instead of listing them.
    #[arg(long, conflicts_with = "limit")]
    pub(crate) count: bool,

    /// Print at most the first K permutations.
    #[arg(long, value_name = "K", value_parser = number)]
    pub(crate) limit: Option<u64>,
}

/// Arguments of `notes bwt`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").args(["text", "input"]).required(true)))]
pub(crate) struct BwtArgs {
    /// The text to transform, or with --inverse the last column to restore.
    #[arg(value_name = "TEXT")]
    pub(crate) text: Option<String>,

    /// Restore the original: from TEXT and --index, or from the container given with -i.
    #[arg(long)]
    pub(crate) inverse: bool,

    /// The index printed by `notes bwt TEXT` (for --inverse TEXT).
    #[arg(long, value_name = "I", requires = "inverse", requires = "text", value_parser = number)]
    pub(crate) index: Option<u64>,

    /// Transform this file (any bytes) into a block container, or with --inverse read a container.
    #[arg(short = 'i', long = "input", value_name = "FILE", requires = "output")]
    pub(crate) input: Option<PathBuf>,

    /// Where -i writes the container (or the restored file); never replaced without --force.
    #[arg(short = 'o', long = "output", value_name = "OUT", requires = "input")]
    pub(crate) output: Option<PathBuf>,

    /// For -i from a pipe or device (read into memory, having no length up front), refuse more
    /// than this: 1Gi (default), 100M, ... (a regular file is streamed and has no limit).
    #[arg(long, value_name = "SIZE", value_parser = byte_count, requires = "input")]
    pub(crate) max_input: Option<u64>,

    /// Block size for -i: 900k (default, as bzip2), 100k, 4M, 1Mi, or `whole` for one block.
    #[arg(long, value_name = "SIZE", value_parser = block_size, conflicts_with_all = ["inverse", "text"])]
    pub(crate) block_size: Option<usize>,

    /// Replace OUT if it already exists.
    #[arg(long, requires = "output")]
    pub(crate) force: bool,
}

/// A block size: a number with an optional k/M/G (powers of 1000) or Ki/Mi/Gi (of 1024)
/// suffix, or `whole`.
pub(crate) fn block_size(text: &str) -> Result<usize, String> {
    if text.eq_ignore_ascii_case("whole") {
        return Ok(usize::MAX);
    }
    let value = byte_count(text).map_err(|e| format!("{e}, or `whole`"))?;
    let value = usize::try_from(value).map_err(|_| format!("{text:?} is too large"))?;
    if value == 0 {
        return Err("a block holds at least 1 byte".to_owned());
    }
    Ok(value)
}

/// A number of bytes with an optional k/M/G (powers of 1000) or Ki/Mi/Gi (of 1024) suffix.
pub(crate) fn byte_count(text: &str) -> Result<u64, String> {
    let units = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1_000),
        ("K", 1_000),
        ("M", 1_000_000),
        ("m", 1_000_000),
        ("G", 1_000_000_000),
        ("g", 1_000_000_000),
    ];
    let (digits, unit) = units
        .iter()
        .find_map(|&(suffix, unit)| text.strip_suffix(suffix).map(|d| (d, unit)))
        .unwrap_or((text, 1u64));
    notes_algo::parse_u64(digits)
        .map_err(|e| {
            format!(
                "{e}; a size is a number of bytes with an optional k, M, G (powers of \
                 1000) or Ki, Mi, Gi (powers of 1024), like 900k or 4Mi"
            )
        })?
        .checked_mul(unit)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Arguments of `notes primes`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("mode").args(["n", "count", "nth", "range", "is_prime"]).required(true)),
    // So `-5` reaches the number parser and gets its "negative numbers are not allowed".
    allow_negative_numbers = true
)]
pub(crate) struct PrimesArgs {
    /// Print the primes below N (N excluded), one per line; N may be 100, 1e9, 10_000_000, 2^32.
    #[arg(value_name = "N", value_parser = number)]
    pub(crate) n: Option<u64>,

    /// Print π(N), how many primes are ≤ N (N included: `--count 7` is 4, `notes primes 7` lists 3).
    #[arg(long, value_name = "N", value_parser = number)]
    pub(crate) count: Option<u64>,

    /// Print the K-th prime (1-based: `--nth 1` is 2).
    #[arg(long, value_name = "K", value_parser = number)]
    pub(crate) nth: Option<u64>,

    /// Print the primes in [LO, HI), one per line.
    #[arg(long, num_args = 2, value_names = ["LO", "HI"], value_parser = number)]
    pub(crate) range: Option<Vec<u64>>,

    /// Print `true` if N is prime, else `false`.
    #[arg(long, value_name = "N", value_parser = number)]
    pub(crate) is_prime: Option<u64>,

    /// How --count and --nth count.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub(crate) method: MethodArg,

    /// Threads for sieving and counting (default: one per core).
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) threads: Option<u64>,
}
