//! `cargo xtask`: the workspace's automation (see `cargo xtask help`).
// xtask is a developer tool whose job is to print progress; the no-print rule is for libraries.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod ci;
mod publish;
mod tidy;

use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "\
cargo xtask: automation for the notes workspace

USAGE:
    cargo xtask <COMMAND>

COMMANDS:
    ci                  Run every check CI runs (fmt, clippy, tests, docs, tidy, workflows), stopping at the first failure
    tidy [--root DIR]   Check the dependency rules and crate metadata of the workspace at DIR (default: this one)
    publish [--dry-run] [--registry NAME]
                        Publish every publishable crate in dependency order (cargo publish --workspace)
    help                Print this message
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&workspace_root()),
        Some("tidy") => tidy_command(&args[1..]),
        Some("publish") => {
            publish::parse(&args[1..]).and_then(|options| publish::run(&workspace_root(), &options))
        }
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            return if args.is_empty() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
        Some(other) => Err(anyhow::anyhow!(
            "unknown command `{other}`; see `cargo xtask help`"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn tidy_command(args: &[String]) -> anyhow::Result<()> {
    let root = match args {
        [] => workspace_root(),
        [flag, dir] if flag == "--root" => PathBuf::from(dir),
        _ => anyhow::bail!("usage: cargo xtask tidy [--root DIR]"),
    };
    let problems = tidy::check(&root)?;
    if problems.is_empty() {
        println!("tidy: dependency rules and crate metadata hold");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    anyhow::bail!("{} tidy problem(s) in {}", problems.len(), root.display())
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The cargo that invoked us (`$CARGO`), so the same toolchain runs every step.
fn cargo() -> std::process::Command {
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
