//! Subcommands backed by `notes-algo`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use crate::cli::algo::{BwtArgs, FlattenArgs, MethodArg, PermutationsArgs, PrimesArgs};
use crate::exit::UsageError;
use crate::files::write_atomically;
use crate::input;
use crate::output::Out;

/// `notes flatten` reads at most this many bytes of JSON from stdin or a file unless
/// `--max-input` says otherwise.
pub(crate) const DEFAULT_MAX_INPUT: u64 = 64 << 20;

/// `notes bwt -i PIPE` reads at most this many bytes of a pipe or device (which it must hold
/// in memory) unless `--max-input` says otherwise.
pub(crate) const DEFAULT_MAX_PIPE: u64 = 1 << 30;

/// `notes flatten JSON | - | -i FILE`: prints the leaves as a list, `[0, 1, 2, 3]`.
///
/// Memory is the input plus one leaf: the text is checked, then its leaves are parsed and
/// printed one at a time (nesting costs nothing), and stdin or a file beyond `--max-input`
/// is refused before it is read.
#[tracing::instrument(skip_all)]
pub(crate) fn flatten(args: &FlattenArgs, out: &mut Out) -> anyhow::Result<()> {
    let limit = args.max_input.unwrap_or(DEFAULT_MAX_INPUT);
    let (text, source) = match (&args.input, &args.file) {
        (Some(_), Some(_)) => {
            return Err(UsageError("give JSON, `-` or -i FILE, not two of them".into()).into());
        }
        (Some(dash), None) if dash == "-" => (
            input::read_text(Path::new("-"), limit, "--max-input SIZE")?,
            "stdin".to_owned(),
        ),
        (Some(json), None) => (json.clone(), "the argument".to_owned()),
        (None, Some(path)) => (
            input::read_text(path, limit, "--max-input SIZE")?,
            input::name(path),
        ),
        (None, None) => return Err(UsageError("give JSON, `-` or -i FILE".into()).into()),
    };
    // `exact`: integers beyond 64 bits keep their digits (serde_json's values would round them).
    let leaves = notes_algo::json_leaves(&text)
        .with_context(|| format!("cannot parse {source}"))?
        .exact();
    if out.json {
        return out.json(&Streamed(std::cell::RefCell::new(leaves)));
    }
    write!(out, "[")?;
    for (i, leaf) in leaves.enumerate() {
        if i > 0 {
            write!(out, ", ")?;
        }
        write!(out, "{leaf}")?;
    }
    writeln!(out, "]")?;
    Ok(())
}

/// A sequence serialized as it is drawn from its iterator (serde's `Serialize` takes `&self`).
struct Streamed<I>(std::cell::RefCell<I>);

impl<I: Iterator<Item = T>, T: serde::Serialize> serde::Serialize for Streamed<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.borrow_mut().by_ref())
    }
}

/// Warns on stderr before a count that will take more than a few seconds, with a rough estimate
/// from this machine's measurements (docs/benchmarks.md): on one thread the combinatorial method
/// (LMO with Deléglise–Rivat's easy leaves) took 0.137 s for π(1e13) and 2.53 s for 1e15, about
/// 4.3x per power of ten (4.4x assumed beyond, as the earlier LMO grew 4.6x up to 1e18); the
/// sieve took 0.85 s for 1e10 and grows linearly. Both run on every thread; a second thread
/// gained 1.9x at 1e15 on a quiet machine, so each thread beyond the first counts as 0.9 of one.
/// Counts within 2^24 of 2^64 are answered at once from the known π(2^64).
fn warn_if_slow(n: u64, method: MethodArg, threads: Option<u64>) {
    let near_top = n >= u64::MAX - (1 << 24);
    let x = n as f64;
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |t| t.get() as u64));
    let speedup = 1.0 + 0.9 * threads.saturating_sub(1) as f64;
    let seconds = match method {
        MethodArg::Sieve => 0.85 * x / 1e10,
        MethodArg::Auto | MethodArg::Combinatorial => 0.59 * 4.4f64.powf(x.log10() - 14.0),
    } / speedup;
    if seconds >= 10.0 && !near_top {
        let estimate = if seconds < 120.0 {
            format!("{seconds:.0} seconds")
        } else if seconds < 7200.0 {
            format!("{:.0} minutes", seconds / 60.0)
        } else {
            format!("{:.0} hours", seconds / 3600.0)
        };
        crate::output::warn(&format_args!(
            "counting the primes up to {n} will take roughly {estimate} here (Ctrl-C stops it)"
        ));
    }
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
        warn_if_slow(n, args.method, args.threads);
        let pi = notes_algo::count_primes_with(n, &options)
            .with_context(|| format!("cannot count the primes up to {n}"))?;
        writeln!(out, "{pi}")?;
    } else if let Some(k) = args.nth {
        // The k-th prime is about k ln k, and finding it costs about a count up to there; the
        // last 100,000 primes below 2^64 are found by counting down from the top, at once.
        if notes_algo::PRIMES_BELOW_2_POW_64.saturating_sub(k) >= 100_000 {
            let near = (k as f64 * (k as f64).ln().max(1.0)).min(u64::MAX as f64);
            warn_if_slow(near as u64, args.method, args.threads);
        }
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

/// Files at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_FROM_BYTES: u64 = 8 << 20;

/// `notes bwt TEXT`, `notes bwt --inverse --index I TEXT`, `notes bwt [--inverse] -i FILE -o OUT`.
pub(crate) fn bwt(args: &BwtArgs, out: &mut Out) -> anyhow::Result<()> {
    // The two modes' arguments do not mix; clap's `requires` lets some of these through.
    let usage = |what: &str| Err(UsageError(what.to_owned()).into());
    match (&args.input, &args.output) {
        (None, Some(_)) => return usage("-o OUT writes what -i FILE reads; TEXT is printed"),
        (Some(_), None) => return usage("-i FILE needs -o OUT, the file to write"),
        (Some(_), Some(_)) if args.text.is_some() => {
            return usage("give TEXT or -i FILE, not both");
        }
        (Some(_), Some(_)) if args.index.is_some() => {
            return usage("--index goes with --inverse TEXT; a container holds its own indexes");
        }
        _ => {}
    }
    if let (Some(input), Some(output)) = (&args.input, &args.output) {
        return if args.inverse {
            restore_file(input, output, args.force, out)
        } else {
            let options = notes_algo::BlockOptions::default()
                .block_size(args.block_size.unwrap_or(notes_algo::DEFAULT_BLOCK_SIZE));
            let limit = args.max_input.unwrap_or(DEFAULT_MAX_PIPE);
            transform_file(input, output, &options, args.force, limit, out)
        };
    }
    let text = args.text.as_deref().unwrap_or_default();
    if args.inverse {
        let Some(index) = args.index else {
            return Err(UsageError(
                "--inverse TEXT needs --index I, the index `notes bwt` printed".to_owned(),
            )
            .into());
        };
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        let restored = notes_algo::inverse_bwt(text, index)
            .with_context(|| format!("cannot invert {} with index {index}", quote_short(text)))?;
        if out.json {
            return out.json(&serde_json::json!({ "text": restored }));
        }
        writeln!(out, "{restored}")?;
    } else {
        let (last, index) = notes_algo::bwt(text);
        if out.json {
            return out.json(&serde_json::json!({ "last": last, "index": index }));
        }
        writeln!(out, "{last}")?;
        writeln!(out, "{index}")?;
    }
    Ok(())
}

/// `text` quoted for a message, its middle elided when it is long (a message should not
/// repeat a 100 KB input).
fn quote_short(text: &str) -> String {
    const KEEP: usize = 32;
    let chars = text.chars().count();
    if chars <= 2 * KEEP + 10 {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(KEEP).collect();
    let tail: String = text.chars().skip(chars - KEEP).collect();
    format!(
        "{head:?}...{tail:?} ({chars} characters)",
        head = head,
        tail = tail
    )
}

/// A progress bar on stderr for `total` bytes, hidden unless stderr is a terminal and the
/// work is large.
fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    if total < PROGRESS_FROM_BYTES || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {wide_bar} {bytes}/{total_bytes} ({eta} left)",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// `notes bwt -i FILE -o OUT [--block-size SIZE] [--force]`.
fn transform_file(
    input: &Path,
    output: &Path,
    options: &notes_algo::BlockOptions,
    force: bool,
    limit: u64,
    out: &mut Out,
) -> anyhow::Result<()> {
    // A regular file is streamed (memory holds one batch of blocks, not the whole file);
    // a pipe such as /dev/stdin has no length up front, so it is read whole.
    let mut file =
        std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", input.display()))?;
    let (len, data) = if meta.is_file() {
        (meta.len(), None)
    } else {
        let data = input::read_from(
            &mut file,
            limit,
            None,
            &input::name(input),
            "--max-input SIZE",
        )?;
        (data.len() as u64, Some(data))
    };
    let bar = progress_bar(len, "bwt");
    write_atomically(output, force, |w| {
        let mut progress = |done| bar.set_position(done);
        match &data {
            Some(data) => notes_algo::write_container(data, options, w, &mut progress),
            None => notes_algo::write_container_from(
                std::io::BufReader::with_capacity(1 << 20, file),
                len,
                options,
                w,
                &mut progress,
            ),
        }
        .with_context(|| {
            format!(
                "cannot transform {} into {}",
                input.display(),
                output.display()
            )
        })
    })?;
    bar.finish_and_clear();
    let blocks = len.div_ceil(options.get_block_size() as u64);
    let written = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    if out.json {
        return out.json(&serde_json::json!({
            "input": input, "output": output, "bytes": len, "container_bytes": written,
            "blocks": blocks,
        }));
    }
    writeln!(
        out,
        "{}: {len} bytes in {blocks} block{} -> {} ({written} bytes)",
        input.display(),
        if blocks == 1 { "" } else { "s" },
        output.display()
    )?;
    Ok(())
}

/// `notes bwt --inverse -i CONTAINER -o RESTORED [--force]`.
fn restore_file(input: &Path, output: &Path, force: bool, out: &mut Out) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size, "inverse bwt");
    let mut restored = 0;
    write_atomically(output, force, |w| {
        restored = notes_algo::read_container(
            std::io::BufReader::with_capacity(1 << 20, file),
            w,
            &mut |done| bar.set_position(done),
        )
        .with_context(|| format!("cannot restore {}", input.display()))?;
        Ok(())
    })?;
    bar.finish_and_clear();
    if out.json {
        return out.json(&serde_json::json!({
            "input": input, "output": output, "bytes": restored,
        }));
    }
    writeln!(
        out,
        "{}: restored {restored} bytes -> {}",
        input.display(),
        output.display()
    )?;
    Ok(())
}
