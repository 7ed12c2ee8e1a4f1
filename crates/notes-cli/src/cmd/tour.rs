//! `notes tour`: the notes replayed in Rust, one titled section per implemented note, on
//! embedded inputs, in a temporary directory and on loopback only.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::Args;
use clap::builder::PossibleValuesParser;

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
        name: "profiling",
        title: "Profiling Python code",
        command: "notes_prof::profile(|| f(100)), then strip_dirs and sort by calls; notes prof show FILE",
        run: |ctx| {
            let (value, mut stats) = notes_prof::profile(|| maths_f(100));
            stats.strip_dirs();
            let options = notes_prof::ReportOptions {
                sort: vec![notes_prof::SortKey::Calls],
                ..Default::default()
            };
            writeln!(ctx.out, "f(100) = {value:.3}")?;
            write!(ctx.out, "{}", stats.report(&options))?;
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
];

/// The notes' `maths_test.py`: `f(x)` is the standard deviation of `g(i)` for `i` below `x`,
/// `g(x)` the sum of the square roots below `x`, written recursively here so that its calls
/// show as `total/primitive`.
#[tracing::instrument(name = "f", skip_all)]
fn maths_f(x: u32) -> f64 {
    let values: Vec<f64> = (0..x).map(maths_g).collect();
    stdev(&values)
}

#[tracing::instrument(name = "g", skip_all)]
fn maths_g(x: u32) -> f64 {
    if x == 0 {
        0.0
    } else {
        f64::from(x - 1).sqrt() + maths_g(x - 1)
    }
}

/// Python's `statistics.stdev`: the sample standard deviation.
#[tracing::instrument(skip_all)]
fn stdev(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `notes tour [--list] [SECTION...]`.
#[tracing::instrument(skip_all)]
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
