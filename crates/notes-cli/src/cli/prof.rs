//! The arguments of `notes prof show`, `prof diff` and `prof flame` (notes-prof), as clap derive
//! types: parsing only, the handlers in `cmd::prof` consume them.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use notes_prof::{Restriction, SortKey};

/// Arguments of `notes prof`.
#[derive(Debug, Args)]
pub(crate) struct ProfArgs {
    #[command(subcommand)]
    pub(crate) command: ProfCommand,
}

/// The `notes prof` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ProfCommand {
    /// Print a profile like pstats' print_stats (or its callers or callees).
    Show(ShowArgs),
    /// Compare two profiles function by function, largest change in cumulative time first.
    Diff(DiffArgs),
    /// Draw a profile as an interactive SVG flame graph (or write its folded stacks).
    Flame(FlameArgs),
}

/// Arguments of `notes prof flame`.
#[derive(Debug, Args)]
pub(crate) struct FlameArgs {
    /// The stats file (several are merged).
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<PathBuf>,

    /// Where to write the SVG (or, with --folded, the folded stacks); `-` for stdout. Never
    /// replaced without --force.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub(crate) output: PathBuf,

    /// Write folded stacks (`frame;frame;frame NANOSECONDS`, read by inferno, speedscope and
    /// flamegraph.pl) instead of an SVG.
    #[arg(long)]
    pub(crate) folded: bool,

    /// Remove directories from file names first.
    #[arg(long)]
    pub(crate) strip_dirs: bool,

    /// The picture's title (by default it says whether the stacks were measured or, for a
    /// cProfile file, built from caller edges).
    #[arg(long, value_name = "TEXT", conflicts_with = "folded")]
    pub(crate) title: Option<String>,

    /// Replace OUT if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Arguments of `notes prof show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The stats file (several are merged, like pstats' add).
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<PathBuf>,

    /// Sort key, repeat for ties: calls, cumulative, time, pcalls, filename, line, name, nfl, stdname
    /// (and pstats' aliases ncalls, cumtime, tottime, file, module; unambiguous prefixes work).
    #[arg(long, value_name = "KEY", default_value = "cumulative", value_parser = parse_sort_key)]
    pub(crate) sort: Vec<SortKey>,

    /// Keep the file's order instead of sorting (pstats' print_stats without sort_stats,
    /// "Random listing order was used").
    #[arg(long, conflicts_with = "sort")]
    pub(crate) unsorted: bool,

    /// Reverse the sorted order.
    #[arg(long)]
    pub(crate) reverse: bool,

    /// Keep functions whose `file:line(function)` matches this regex. --filter, --fraction and
    /// --limit repeat and apply in the order given, as pstats' print_stats(*restrictions).
    #[arg(long, value_name = "REGEX", value_parser = parse_pattern)]
    pub(crate) filter: Vec<Restriction>,

    /// Keep this fraction of the list, in [0, 1).
    #[arg(long, value_name = "F", value_parser = parse_fraction)]
    pub(crate) fraction: Vec<Restriction>,

    /// Keep the first N functions.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Vec<usize>,

    /// Remove directories from file names, merging functions that then collide.
    #[arg(long)]
    pub(crate) strip_dirs: bool,

    /// Print who called each function (pstats' print_callers).
    #[arg(long, conflicts_with = "callees")]
    pub(crate) callers: bool,

    /// Print what each function called (pstats' print_callees).
    #[arg(long)]
    pub(crate) callees: bool,

    /// Write the report to `.profile YYYY-mm-dd HH-MM-SS.txt` instead of stdout (with `-2`,
    /// `-3`, ... before `.txt` when that file exists: nothing is overwritten).
    #[arg(long)]
    pub(crate) save_report: bool,

    /// `--filter`, `--fraction` and `--limit` merged in the order they stand on the command
    /// line, as pstats' `print_stats(*restrictions)` applies them (filled in by [`parse`]).
    ///
    /// [`parse`]: crate::cli::parse
    #[arg(skip)]
    pub(crate) restrictions: Vec<Restriction>,
}

/// Where `prof show`'s `--filter`, `--fraction` and `--limit` values stand on the command
/// line: clap's derive types keep the values of each flag, its matches their positions.
#[derive(Debug, Default)]
pub(crate) struct RestrictionOrder {
    filter: Vec<usize>,
    fraction: Vec<usize>,
    limit: Vec<usize>,
}

/// Reads the positions of `prof show`'s restrictions from the matches of the command line.
pub(crate) fn restriction_order(matches: &clap::ArgMatches) -> RestrictionOrder {
    let Some(show) = matches
        .subcommand_matches("prof")
        .and_then(|m| m.subcommand_matches("show"))
    else {
        return RestrictionOrder::default();
    };
    let positions = |id: &str| -> Vec<usize> {
        show.indices_of(id)
            .map(Iterator::collect)
            .unwrap_or_default()
    };
    RestrictionOrder {
        filter: positions("filter"),
        fraction: positions("fraction"),
        limit: positions("limit"),
    }
}

impl ProfArgs {
    /// Merges `prof show`'s restrictions into [`ShowArgs::restrictions`] in command-line
    /// order (filters, then fractions, then limits where positions are missing).
    pub(crate) fn apply_restriction_order(&mut self, order: &RestrictionOrder) {
        let ProfCommand::Show(show) = &mut self.command else {
            return;
        };
        let limits: Vec<Restriction> = show.limit.iter().map(|&n| Restriction::Top(n)).collect();
        let mut all: Vec<(usize, Restriction)> = Vec::new();
        for (list, given, fallback) in [
            (&show.filter, &order.filter, 0),
            (&show.fraction, &order.fraction, 1 << 20),
            (&limits, &order.limit, 2 << 20),
        ] {
            let positions: Vec<usize> = if given.len() == list.len() {
                given.clone()
            } else {
                (fallback..fallback + list.len()).collect()
            };
            all.extend(positions.into_iter().zip(list.iter().cloned()));
        }
        all.sort_by_key(|&(position, _)| position);
        show.restrictions = all.into_iter().map(|(_, r)| r).collect();
    }
}

/// Arguments of `notes prof diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The profile before the change.
    pub(crate) before: PathBuf,
    /// The profile after the change.
    pub(crate) after: PathBuf,
    /// Show only the N largest changes.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    /// Remove directories from file names in both profiles first.
    #[arg(long)]
    pub(crate) strip_dirs: bool,
    /// Pair only functions with the same file:line(function); by default functions are also
    /// paired by name across files of the same stem and by unique name, so that a Python run
    /// compares with its Rust port.
    #[arg(long)]
    pub(crate) exact: bool,
}

pub(crate) fn parse_sort_key(s: &str) -> Result<SortKey, String> {
    s.parse().map_err(|err: notes_prof::Error| err.to_string())
}

/// A bad `--filter` is a usage error (exit 2), reported by clap with the flag's name.
pub(crate) fn parse_pattern(s: &str) -> Result<Restriction, String> {
    Restriction::pattern(s).map_err(|err| err.to_string())
}

pub(crate) fn parse_fraction(s: &str) -> Result<Restriction, String> {
    let fraction: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number (expected a fraction in [0, 1))"))?;
    Restriction::fraction(fraction).map_err(|err| err.to_string())
}
