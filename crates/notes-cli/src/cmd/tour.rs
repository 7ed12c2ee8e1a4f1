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
        name: "multihead",
        title: "Multi-headed matrix multiplication",
        command: "notes tensor demo  (notes_tensor::heads_first(&w, &x))",
        run: |ctx| super::tensor::heads_first_example(ctx.out),
    },
    Section {
        name: "multihead-batched",
        title: "Multi-headed matrix multiplication (transposed, with a batch dimension)",
        command: "notes tensor demo  (notes_tensor::batched(&x, &w))",
        run: |ctx| super::tensor::batched_example(ctx.out),
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
        name: "print-options",
        title: "Set `numpy` print options (including preventing `numpy` from wrapping lines)",
        command: "notes tensor print x.npy --precision 3 --linewidth 10000 --suppress --threshold 10000",
        run: |ctx| {
            // The notes print np.random.normal(size=[3, 15]); these are the values they show.
            #[rustfmt::skip]
            let values = [
                -0.351, -0.593, 1.616, 0.333, -1.238, -0.166, -1.251, -0.084, -0.562, 2.429, 0.715, 0.676, 1.393, -0.69, -0.992,
                -0.674, -0.276, 2.243, -2.216, -0.595, -0.246, -1.241, -0.282, -1.07, -0.183, -0.193, 0.028, -0.365, -0.602, -0.893,
                -0.105, -0.082, 0.305, -0.207, 0.369, 0.655, -1.292, -0.629, -0.275, -0.492, -1.085, 0.064, 0.037, 0.428, 0.126,
            ];
            let x = ndarray::Array::from_vec(values.to_vec()).into_shape_with_order((3, 15))?;
            let path = ctx.dir.join("x.npy");
            notes_tensor::write_npy(&path, &x)?;
            let options = notes_tensor::PrintOptions {
                precision: 3,
                linewidth: 10000,
                suppress: true,
                threshold: 10000,
                ..notes_tensor::PrintOptions::default()
            };
            writeln!(
                ctx.out,
                "{}",
                notes_tensor::read_npy(&path)?.format(&options)
            )?;
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
