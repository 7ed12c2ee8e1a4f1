//! `notes tour`: the notes replayed in Rust, one titled section per implemented note, on
//! embedded inputs, in a temporary directory and on loopback only.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use clap::builder::PossibleValuesParser;
use notes_time::Clock;

use crate::output::Out;

/// Arguments of `notes tour`.
#[derive(Debug, Args)]
pub(crate) struct TourArgs {
    /// Run only these sections, in the order given (see --list).
    #[arg(value_name = "SECTION", value_parser = PossibleValuesParser::new(SECTIONS.iter().map(|s| s.name)))]
    sections: Vec<String>,

    /// List the sections (name and note) instead of running them.
    #[arg(long, conflicts_with = "sections")]
    list: bool,
}

/// What a section can use: the output and a scratch directory that is removed afterwards.
struct Ctx<'a> {
    out: &'a mut Out,
    dir: &'a Path,
}

/// One note of the seed, replayed.
struct Section {
    /// Short name for `notes tour NAME`.
    name: &'static str,
    /// The note's heading in the seed.
    title: &'static str,
    /// The `notes` command (or library call) that does the same job, shown as a `#` comment line.
    command: &'static str,
    run: fn(&mut Ctx<'_>) -> anyhow::Result<()>,
}

/// The sections in the order of the notes.
const SECTIONS: &[Section] = &[
    Section {
        name: "eta",
        title: "Print estimated finish time of experiments",
        command: "notes eta --complete \"6h  1m 10s\" --current \"4h 51m 24s\" --done 3 --total 5",
        run: |ctx| {
            let complete = notes_time::ConciseDuration::parse("6h  1m 10s")?;
            let current = notes_time::ConciseDuration::parse("4h 51m 24s")?;
            let eta = notes_time::Eta::new(complete, current, 3, 5)?;
            let finish = eta.finish(&notes_time::SystemClock)?;
            writeln!(ctx.out, "Time left (current) = {}", eta.current_remaining)?;
            writeln!(ctx.out, "Time left (total)   = {}", eta.total_remaining)?;
            writeln!(
                ctx.out,
                "Estimated finish    = {}",
                finish.format(notes_time::WALL_CLOCK_FORMAT)
            )?;
            Ok(())
        },
    },
    Section {
        name: "primes",
        title: "Make a list of prime numbers",
        command: "notes primes 100",
        run: |ctx| {
            let p = notes_algo::primes_below(100);
            writeln!(ctx.out, "{p:?}")?;
            Ok(())
        },
    },
    Section {
        name: "timestamped-filename",
        title: "Get a timestamped filename",
        command: "notes stamp Output.txt",
        run: |ctx| {
            // One reading of the clock, so both lines show the same instant.
            let clock = notes_time::FixedClock(notes_time::SystemClock.now());
            writeln!(ctx.out, "{}", clock.0.format("%Y-%m-%d %H:%M:%S%.6f"))?;
            let options = notes_time::StampOptions::default();
            let name = notes_time::timestamped_name_with("Output.txt", &options, &clock)?;
            writeln!(ctx.out, "{name}")?;
            Ok(())
        },
    },
    Section {
        name: "source-dir",
        title: "Get the directory name of the current source file",
        command: "notes_fs::source_dir!()",
        run: |ctx| {
            writeln!(
                ctx.out,
                "CURRENT_DIR = {}",
                notes_fs::source_dir!().display()
            )?;
            Ok(())
        },
    },
    Section {
        name: "create-dir",
        title: "Create a directory if it doesn't exist",
        command: "notes_fs::ensure_dir(dir)",
        run: |ctx| {
            let dir = ctx.dir.join("results").join("run 1");
            for _ in 0..2 {
                let created = notes_fs::ensure_dir(&dir)?;
                let what = if created { "created" } else { "already there" };
                writeln!(ctx.out, "ensure_dir(\"results/run 1\") -> {what}")?;
            }
            Ok(())
        },
    },
    Section {
        name: "clean-filename",
        title: "Clean up a filename string",
        command: "notes clean-filename 'hello/world:!\\.txt'",
        run: |ctx| {
            writeln!(
                ctx.out,
                "{}",
                notes_fs::clean_filename("hello/world:!\\.txt", notes_fs::DEFAULT_ALLOWED)
            )?;
            Ok(())
        },
    },
    Section {
        name: "text-file",
        title: "Writing to and reading from a text file",
        command: "notes_fs::{write_text, read_text, write_ints, read_ints}",
        run: |ctx| {
            let path = ctx.dir.join(".temp.txt");
            let x = 12345;
            notes_fs::write_text(&path, &x.to_string())?;
            let y: i64 = notes_fs::read_text(&path)?
                .trim()
                .parse()
                .context("reading back .temp.txt")?;
            writeln!(ctx.out, "{x} {y} {}", python_bool(x == y))?;
            let x = [1, 2, 3, 4, 5];
            notes_fs::write_ints(&path, &x)?;
            let y = notes_fs::read_ints(&path)?;
            writeln!(ctx.out, "{x:?} {y:?} {}", python_bool(x[..] == y[..]))?;
            Ok(())
        },
    },
    Section {
        name: "extract",
        title: "Extract a substring from a file",
        command: "notes extract FILE --prefix '<title>' --suffix '</title>'",
        run: |ctx| {
            let path = ctx.dir.join("page.html");
            notes_fs::write_text(&path, "<html><title>Notes on Python</title></html>\n")?;
            let title = notes_fs::extract_between(&path, Some("<title>"), Some("</title>"))?;
            writeln!(ctx.out, "{title}")?;
            Ok(())
        },
    },
    Section {
        name: "run-command",
        title: "Run a command using `subprocess` and parse its output to STDOUT",
        command: "notes run -- notes tour --list",
        run: |ctx| {
            // The notes list /dev/serial/by-id/, which most machines lack; `notes` itself
            // exists wherever the tour runs.
            let exe = std::env::current_exe().context("cannot locate the notes executable")?;
            let lines = notes_proc::run(Command::new(exe).args(["tour", "--list"]))?;
            let names: Vec<String> = lines
                .iter()
                .filter_map(|line| line.split_whitespace().next())
                .map(|name| format!("'{name}'"))
                .collect();
            writeln!(ctx.out, "List of tour sections:\n\n[{}]", names.join(", "))?;
            Ok(())
        },
    },
    Section {
        name: "call-with-timeout",
        title: "Call a function with a timeout using `multiprocessing`",
        command: "notes_proc::call_with_timeout(f, x, timeout)  # test.py, 1 s steps -> 250 ms, 4 s -> 900 ms",
        run: |ctx| {
            let timeout = Duration::from_millis(900);
            for (i, x) in [2, 6].into_iter().enumerate() {
                if i > 0 {
                    writeln!(ctx.out)?;
                }
                // The child prints to the same standard output: flush ours first to keep order.
                ctx.out.flush()?;
                let result = notes_proc::call_with_timeout(count_slowly, x, timeout)?;
                let shown = result.map_or_else(|| "None".to_owned(), |r| r.to_string());
                writeln!(ctx.out, "{shown}")?;
            }
            Ok(())
        },
    },
    Section {
        name: "flatten",
        title: "Recursively flatten a list of irregularly nested lists",
        command: "notes flatten '[[0, 1, [2, [3, 4]], 5], 6, [[7]], 8, [[9, 10, 11]], 12, [[13], [14]], 15]'",
        run: |ctx| {
            let x = "[[0, 1, [2, [3, 4]], 5], 6, [[7]], 8, [[9, 10, 11]], 12, [[13], [14]], 15]";
            let range = format!(
                "[{}]",
                (0..16)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            writeln!(ctx.out, "{x}")?;
            for input in [x, range.as_str()] {
                let leaves = notes_algo::parse_json(input)?.flatten();
                writeln!(ctx.out, "{}", super::algo::python_list(&leaves))?;
            }
            Ok(())
        },
    },
    Section {
        name: "permutations",
        title: "Find all permutations of a string",
        command: "notes permutations 1234",
        run: |ctx| {
            let perms: Vec<String> = notes_algo::string_permutations("1234").collect();
            writeln!(ctx.out, "{}", super::algo::python_str_list(&perms))?;
            Ok(())
        },
    },
    Section {
        name: "bwt",
        title: "Burrows–Wheeler transform (BWT)",
        command: "notes bwt '^BANANA|'; notes bwt --inverse --index 6 'BNN^AA|A'",
        run: |ctx| {
            let (s, i) = notes_algo::bwt("^BANANA|");
            writeln!(ctx.out, "{s}")?;
            let s = notes_algo::inverse_bwt(&s, i)?;
            writeln!(ctx.out, "{s}")?;
            Ok(())
        },
    },
];

/// The notes' `f(x)`: prints 0, 1, ..., x - 1, one per step, then returns 42. It runs in the
/// child process `call_with_timeout` starts, so it writes to the real standard output.
fn count_slowly(x: u64) -> u64 {
    let mut stdout = std::io::stdout();
    for i in 0..x {
        // A closed stdout only loses the demo's numbers; the return value still matters.
        let _ = writeln!(stdout, "{i}").and_then(|()| stdout.flush());
        std::thread::sleep(Duration::from_millis(250));
    }
    42
}

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `notes tour [--list] [SECTION...]`.
pub(crate) fn run(args: &TourArgs, out: &mut Out) -> anyhow::Result<()> {
    if args.list {
        let width = SECTIONS.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for section in SECTIONS {
            writeln!(out, "{:width$}  {}", section.name, section.title)?;
        }
        return Ok(());
    }
    let chosen: Vec<&Section> = if args.sections.is_empty() {
        SECTIONS.iter().collect()
    } else {
        args.sections
            .iter()
            .filter_map(|name| SECTIONS.iter().find(|s| s.name == name))
            .collect()
    };
    let scratch = tempfile::Builder::new()
        .prefix("notes-tour-")
        .tempdir()
        .context("cannot create the tour's temporary directory")?;
    for (i, section) in chosen.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        out.heading(&format!("== {} ==", section.title))?;
        writeln!(out, "# {}", section.command)?;
        let mut ctx = Ctx {
            out,
            dir: scratch.path(),
        };
        (section.run)(&mut ctx)
            .with_context(|| format!("tour section `{}` failed", section.name))?;
    }
    scratch
        .close()
        .context("cannot remove the tour's temporary directory")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SECTIONS;

    #[test]
    fn section_names_are_unique_and_kebab_case() {
        let mut names: Vec<_> = SECTIONS.iter().map(|s| s.name).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SECTIONS.len());
    }
}
