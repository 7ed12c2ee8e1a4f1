//! `cargo xtask`: the workspace's automation (see `cargo xtask help`).
// xtask is a developer tool whose job is to print progress; the no-print rule is for libraries.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod bump;
mod ci;
mod e2e;
mod process;
mod registry;
mod release;
mod tidy;
mod workspace;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

const HELP: &str = "\
cargo xtask: automation for the notes workspace

USAGE:
    cargo xtask <COMMAND> [OPTIONS]

COMMANDS:
    ci [--long]             Every check CI runs (fmt, clippy, tests, docs, tidy, docs examples, workflows);
                            --long adds the slow tests (π(10^k) up to 10^19, minutes to an hour)
    tidy                    Dependency rules (a DAG with notes-cli on top), crate metadata, one-way
                            imports, module docs, per-site unsafe
    bench [--quick] [--no-install] [JOB...]
                            Every peer comparison the workspace claims, as one table on this machine
                            (jobs: primes, permutations, bwt, matmul, find, echo, profiler, timeout)
    versions                Each crate's local version and what the registry has (like `pip show`)
    bump <major|minor|patch|X.Y.Z[-pre]> [--allow-dirty]
                            Set the shared version, every sibling requirement, and date the CHANGELOG
    preflight               Every reason the crates cannot be published (metadata, names owned by others, ...)
    package [--allow-dirty] cargo package every crate (verified) and list the archives
    publish [--dry-run] [--allow-dirty] [--no-verify] [--no-tag] [--index-timeout SECS]
                            Preflight, then publish in dependency order, skipping what the registry
                            already has with our checksum (a rerun resumes), then tag vX.Y.Z
    install-check [--version V] [--debug]
                            cargo install notes-cli from the registry into a temp dir and run it
    release-e2e             The whole workflow against a local cargo-http-registry on 127.0.0.1
    help                    Print this message

COMMON OPTIONS:
    --registry NAME         A registry from Cargo's configuration instead of crates.io
    --root DIR              The workspace to work on (default: this one)
";

/// Options that take a value; every other `--flag` is a switch.
const VALUED: &[&str] = &["--registry", "--root", "--version", "--index-timeout"];

/// A command line split into positional arguments, switches and valued options.
struct Args {
    positional: Vec<String>,
    switches: Vec<String>,
    values: BTreeMap<String, String>,
}

impl Args {
    fn parse(raw: &[String], allowed: &[&str]) -> anyhow::Result<Self> {
        let mut args = Args {
            positional: Vec::new(),
            switches: Vec::new(),
            values: BTreeMap::new(),
        };
        let mut iter = raw.iter();
        while let Some(arg) = iter.next() {
            if !arg.starts_with("--") {
                args.positional.push(arg.clone());
                continue;
            }
            if !allowed.contains(&arg.as_str()) {
                bail!("unknown option `{arg}`; see `cargo xtask help`");
            }
            if VALUED.contains(&arg.as_str()) {
                let value = iter
                    .next()
                    .with_context(|| format!("{arg} needs a value"))?;
                args.values.insert(arg.clone(), value.clone());
            } else {
                args.switches.push(arg.clone());
            }
        }
        Ok(args)
    }

    fn has(&self, switch: &str) -> bool {
        self.switches.iter().any(|s| s == switch)
    }

    fn value(&self, option: &str) -> Option<&str> {
        self.values.get(option).map(String::as_str)
    }

    fn root(&self) -> PathBuf {
        self.value("--root")
            .map_or_else(workspace_root, PathBuf::from)
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = raw.split_first() else {
        print!("{HELP}");
        return ExitCode::from(2);
    };
    match dispatch(command, rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: &str, rest: &[String]) -> anyhow::Result<()> {
    match command {
        "ci" => {
            let args = Args::parse(rest, &["--long"])?;
            ci::run(&args.root(), args.has("--long"))
        }
        "tidy" => {
            let args = Args::parse(rest, &["--root"])?;
            tidy_command(&args.root())
        }
        "bench" => {
            let args = Args::parse(rest, &["--root", "--quick", "--no-install"])?;
            bench::run(
                &args.root(),
                &args.positional,
                args.has("--quick"),
                !args.has("--no-install"),
            )
        }
        "versions" => {
            let args = Args::parse(rest, &["--root", "--registry"])?;
            release::versions(&args.root(), args.value("--registry"))
        }
        "bump" => {
            let args = Args::parse(rest, &["--root", "--allow-dirty"])?;
            let [how] = args.positional.as_slice() else {
                bail!("usage: cargo xtask bump <major|minor|patch|X.Y.Z[-pre]> [--allow-dirty]");
            };
            let version = bump::bump(&args.root(), how, args.has("--allow-dirty"), &bump::today())?;
            println!(
                "bumped the workspace to {version}; review, commit, then `cargo xtask publish`"
            );
            Ok(())
        }
        "preflight" => {
            let args = Args::parse(rest, &["--root", "--registry"])?;
            let root = args.root();
            let registry = registry::Registry::open(args.value("--registry"), &root)?;
            let problems = release::preflight(&root, &registry)?;
            if problems.is_empty() {
                println!(
                    "preflight: every crate can be published to {}",
                    registry.label()
                );
                return Ok(());
            }
            for problem in &problems {
                eprintln!("preflight: {problem}");
            }
            bail!("{} preflight problem(s)", problems.len())
        }
        "package" => {
            let args = Args::parse(rest, &["--root", "--allow-dirty"])?;
            release::package(&args.root(), args.has("--allow-dirty"))
        }
        "publish" => {
            let args = Args::parse(
                rest,
                &[
                    "--root",
                    "--registry",
                    "--dry-run",
                    "--allow-dirty",
                    "--no-verify",
                    "--no-tag",
                    "--index-timeout",
                ],
            )?;
            let timeout = match args.value("--index-timeout") {
                Some(secs) => secs
                    .parse()
                    .with_context(|| format!("--index-timeout {secs}: not a number of seconds"))?,
                None => 300,
            };
            let options = release::PublishOptions {
                registry: args.value("--registry").map(str::to_owned),
                dry_run: args.has("--dry-run"),
                allow_dirty: args.has("--allow-dirty"),
                no_verify: args.has("--no-verify"),
                no_tag: args.has("--no-tag"),
                index_timeout: Duration::from_secs(timeout),
            };
            release::publish(&args.root(), &options).map(drop)
        }
        "install-check" => {
            let args = Args::parse(rest, &["--root", "--registry", "--version", "--debug"])?;
            release::install_check(
                &args.root(),
                args.value("--registry"),
                args.value("--version"),
                args.has("--debug"),
            )
        }
        "release-e2e" => {
            let args = Args::parse(rest, &["--root"])?;
            e2e::run(&args.root())
        }
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown command `{other}`; see `cargo xtask help`"),
    }
}

fn tidy_command(root: &std::path::Path) -> anyhow::Result<()> {
    let problems = tidy::check(root)?;
    if problems.is_empty() {
        println!(
            "tidy: dependency rules, crate metadata, one-way imports, module docs and unsafe sites hold"
        );
        return Ok(());
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    bail!("{} tidy problem(s) in {}", problems.len(), root.display())
}

/// The workspace root: the parent of this crate's manifest directory. `cargo run` sets
/// `CARGO_MANIFEST_DIR` at run time too; it is preferred over the compile-time value so that a
/// binary built from another checkout into a shared target directory still works on this one.
fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
