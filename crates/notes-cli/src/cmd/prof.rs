//! `notes prof`: print and compare profiles written by `notes --profile FILE` or `notes_prof::profile_to`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use notes_prof::{Calls, Func, ReportOptions, Stats};
use serde::Serialize;

use crate::cli::prof::{DiffArgs, FlameArgs, ProfArgs, ProfCommand, ShowArgs};
use crate::exit::UsageError;
use crate::files::write_atomically;
use crate::output::Out;

fn load(path: &Path) -> anyhow::Result<Stats> {
    Stats::load(path).context("cannot load the profile")
}

/// `notes prof show|diff`.
pub(crate) fn run(args: &ProfArgs, out: &mut Out) -> anyhow::Result<()> {
    match &args.command {
        ProfCommand::Show(args) => show(args, out),
        ProfCommand::Diff(args) => diff(args, out),
        ProfCommand::Flame(args) => flame(args, out),
    }
}

/// One row of `notes --json prof show`.
#[derive(Serialize)]
struct JsonRow<'a> {
    function: String,
    file: &'a str,
    line: u32,
    name: &'a str,
    ncalls: u64,
    pcalls: u64,
    tottime: f64,
    cumtime: f64,
    callers: Vec<JsonEdge>,
    /// With `--callees` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    callees: Option<Vec<JsonEdge>>,
}

impl JsonEdge {
    fn new(func: &Func, calls: &Calls) -> Self {
        Self {
            function: func.to_string(),
            ncalls: calls.ncalls,
            pcalls: calls.pcalls,
            tottime: calls.tottime.as_secs_f64(),
            cumtime: calls.cumtime.as_secs_f64(),
        }
    }
}

#[derive(Serialize)]
struct JsonEdge {
    function: String,
    ncalls: u64,
    pcalls: u64,
    tottime: f64,
    cumtime: f64,
}

/// `notes prof show FILE...`.
#[tracing::instrument(skip_all)]
fn show(args: &ShowArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut stats = Stats::new();
    for file in &args.files {
        stats.add(&load(file)?);
    }
    if args.strip_dirs {
        stats.strip_dirs();
    }
    let restrictions = args.restrictions.clone();
    let options = ReportOptions {
        sort: if args.unsorted {
            Vec::new()
        } else {
            args.sort.clone()
        },
        reverse: args.reverse,
        restrictions,
    };
    let report = stats.report(&options);
    if out.json {
        if args.save_report {
            return Err(UsageError(
                "--save-report writes the text report; it cannot be combined with --json".into(),
            )
            .into());
        }
        let callees = args.callees.then(|| stats.callees());
        let rows: Vec<JsonRow<'_>> = report
            .rows()
            .iter()
            .map(|(func, row)| JsonRow {
                function: func.to_string(),
                file: &func.file,
                line: func.line,
                name: &func.name,
                ncalls: row.calls.ncalls,
                pcalls: row.calls.pcalls,
                tottime: row.calls.tottime.as_secs_f64(),
                cumtime: row.calls.cumtime.as_secs_f64(),
                callers: row
                    .callers
                    .iter()
                    .map(|(caller, c)| JsonEdge::new(caller, c))
                    .collect(),
                callees: callees.as_ref().map(|all| {
                    all.get(func)
                        .into_iter()
                        .flatten()
                        .map(|(callee, c)| JsonEdge::new(callee, c))
                        .collect()
                }),
            })
            .collect();
        return out.json(&rows);
    }
    let text = if args.callers {
        report.callers().to_string()
    } else if args.callees {
        report.callees().to_string()
    } else {
        report.to_string()
    };
    if args.save_report {
        let name = save_new(&report_file_name(&chrono::Local::now())?, &text)?;
        writeln!(out, "report saved to {name}")?;
    } else {
        write!(out, "{text}")?;
    }
    Ok(())
}

/// The notes' `.profile $(date '+%Y-%m-%d %H-%M-%S').txt`, stamped by notes-time.
fn report_file_name(now: &chrono::DateTime<chrono::Local>) -> anyhow::Result<String> {
    Ok(format!(
        ".profile {}.txt",
        notes_time::stamp(now, "%Y-%m-%d %H-%M-%S")?
    ))
}

/// Writes `text` (atomically, as every file `notes` writes) to a file named `name` that does
/// not exist yet, or else `-2`, `-3`, ... put before the extension (a second report in the
/// same second must not replace the first); returns the name used.
fn save_new(name: &str, text: &str) -> anyhow::Result<String> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let free = (1..=1000)
        .map(|n| {
            if n == 1 {
                name.to_owned()
            } else {
                format!("{stem}-{n}.{ext}")
            }
        })
        .find(|candidate| !Path::new(candidate).exists())
        .with_context(|| {
            format!("cannot save the report: {name:?} and 999 numbered variants all exist")
        })?;
    // Not forced: a file that appears meanwhile is not replaced either.
    write_atomically(Path::new(&free), false, |w| {
        w.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {free:?}"))
    })?;
    Ok(free)
}

/// `notes prof flame FILE... -o OUT [--folded]`.
#[tracing::instrument(skip_all)]
fn flame(args: &FlameArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut stats = Stats::new();
    for file in &args.files {
        stats.add(&load(file)?);
    }
    if args.strip_dirs {
        stats.strip_dirs();
    }
    let folded = stats.folded();
    let render = |w: &mut dyn Write| -> anyhow::Result<()> {
        if args.folded {
            write!(w, "{folded}")?;
        } else {
            folded.write_svg(args.title.as_deref(), w)?;
        }
        Ok(())
    };
    if args.output.as_os_str() == "-" {
        let mut bytes = Vec::new();
        render(&mut bytes)?;
        out.write_all(&bytes)?;
        return Ok(());
    }
    write_atomically(&args.output, args.force, |w| {
        render(w).with_context(|| format!("cannot write {}", args.output.display()))
    })?;
    let kind = if args.folded {
        "folded stacks"
    } else {
        "flame graph"
    };
    let how = if folded.exact() {
        "measured stacks"
    } else {
        "stacks built from caller edges"
    };
    if out.json {
        return out.json(&serde_json::json!({
            "output": args.output,
            "folded": args.folded,
            "exact": folded.exact(),
            "truncated": folded.truncated(),
            "stacks": folded.lines().count(),
        }));
    }
    writeln!(
        out,
        "{kind} of {} stacks ({how}{}) written to {}",
        folded.lines().count(),
        if folded.truncated() {
            ", truncated"
        } else {
            ""
        },
        args.output.display()
    )?;
    Ok(())
}

/// `notes prof diff BEFORE AFTER`.
#[tracing::instrument(skip_all)]
fn diff(args: &DiffArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut before = load(&args.before)?;
    let mut after = load(&args.after)?;
    if args.strip_dirs {
        before.strip_dirs();
        after.strip_dirs();
    }
    let mut diff = notes_prof::diff_with(&before, &after, args.exact);
    if let Some(n) = args.limit {
        diff = diff.limit(n);
    }
    if out.json {
        #[derive(Serialize)]
        struct Row {
            function: String,
            /// The second profile's function, when paired under another name.
            #[serde(skip_serializing_if = "Option::is_none")]
            function_after: Option<String>,
            /// same, file-and-name, name or unmatched.
            matched: &'static str,
            ncalls_before: Option<u64>,
            ncalls_after: Option<u64>,
            cumtime_before: Option<f64>,
            cumtime_after: Option<f64>,
            delta: f64,
            ratio: Option<f64>,
        }
        let rows: Vec<Row> = diff
            .rows()
            .iter()
            .map(|r| Row {
                function: r.func.to_string(),
                function_after: r.after_func.as_ref().map(ToString::to_string),
                matched: match r.matched {
                    notes_prof::Match::Same => "same",
                    notes_prof::Match::FileAndName => "file-and-name",
                    notes_prof::Match::Name => "name",
                    _ => "unmatched",
                },
                ncalls_before: r.before.map(|c| c.ncalls),
                ncalls_after: r.after.map(|c| c.ncalls),
                cumtime_before: r.before.map(|c| c.cumtime.as_secs_f64()),
                cumtime_after: r.after.map(|c| c.cumtime.as_secs_f64()),
                delta: r.delta_secs(),
                ratio: r.ratio(),
            })
            .collect();
        return out.json(&rows);
    }
    write!(out, "{diff}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::report_file_name;

    #[test]
    fn report_names_follow_the_notes() {
        let t = chrono::Local
            .with_ymd_and_hms(2022, 9, 6, 12, 13, 24)
            .unwrap();
        assert_eq!(
            report_file_name(&t).unwrap(),
            ".profile 2022-09-06 12-13-24.txt"
        );
    }
}
