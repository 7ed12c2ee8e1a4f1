//! `cargo xtask ci`: the one test command, as README and `.ci/run` state it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::process::cargo;

/// One CI step: a name and the command it runs.
struct Step {
    name: &'static str,
    command: Command,
}

/// Runs every step in order and stops at the first failure, naming it; `long` adds the
/// slow tests.
pub(crate) fn run(root: &Path, long: bool) -> anyhow::Result<()> {
    let mut steps = steps(root);
    if long {
        // Known π(10^k) up to 10^19 and n-th primes up to 10^15, optimised and on every core.
        let mut command = cargo();
        command.args([
            "test",
            "--release",
            "--locked",
            "-p",
            "notes-algo",
            "--features",
            "long-tests",
            "--test",
            "it",
            "--",
            "long::",
        ]);
        steps.push(Step {
            name: "long",
            command,
        });
    }
    let total = steps.len();
    let started = Instant::now();
    for (i, mut step) in steps.into_iter().enumerate() {
        println!(
            "==> [{}/{total}] {}: {}",
            i + 1,
            step.name,
            describe(&step.command)
        );
        let begun = Instant::now();
        let status = step.command.current_dir(root).status().with_context(|| {
            format!(
                "step `{}`: cannot start {}",
                step.name,
                describe(&step.command)
            )
        })?;
        if !status.success() {
            bail!("step `{}` failed ({status})", step.name);
        }
        println!(
            "    ok: {} in {:.1}s",
            step.name,
            begun.elapsed().as_secs_f64()
        );
    }
    for skipped in deny_check(root)? {
        println!("==> deny: skipped {skipped}");
    }
    if let Some(skipped) = workflows_check(root)? {
        println!("==> workflows: skipped ({skipped})");
    }
    println!(
        "xtask ci: all {total} steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn steps(root: &Path) -> Vec<Step> {
    let cargo_step = |name, args: &[&str]| {
        let mut command = cargo();
        command.args(args);
        Step { name, command }
    };
    let mut doc = cargo_step("doc", &["doc", "--workspace", "--no-deps", "--locked"]);
    doc.command.env("RUSTDOCFLAGS", "-Dwarnings");
    let mut tidy = Command::new(std::env::current_exe().unwrap_or_else(|_| "xtask".into()));
    tidy.args(["tidy", "--root"]).arg(root);
    vec![
        cargo_step("fmt", &["fmt", "--all", "--check"]),
        cargo_step(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
        cargo_step("test", &["test", "--workspace", "--locked"]),
        doc,
        Step {
            name: "tidy",
            command: tidy,
        },
        // The docs' `console` examples, run against the `notes` binary (already built by `test`).
        cargo_step(
            "docs-examples",
            &[
                "test",
                "-p",
                "notes-cli",
                "--locked",
                "--test",
                "it",
                "--",
                "docs_examples",
            ],
        ),
    ]
}

/// Supply chain, by cargo-deny with `deny.toml`: licences, sources and bans (duplicate versions
/// are warnings) always; advisories when the RustSec database can be fetched (it lives on
/// github.com, which some CI machines cannot reach: then that check is skipped, and said so).
/// Returns what was skipped; without cargo-deny everything is, unless `NOTES_CI_STRICT=1`.
fn deny_check(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut command = cargo();
    command.current_dir(root).args([
        "deny",
        "--all-features",
        "check",
        "bans",
        "licenses",
        "sources",
    ]);
    println!("==> deny: {}", describe(&command));
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) if deny_missing(&status) => {
            if std::env::var_os("NOTES_CI_STRICT").is_some() {
                bail!(
                    "step `deny`: cargo-deny is not installed (cargo install cargo-deny --locked)"
                );
            }
            return Ok(vec![
                "(cargo-deny is not installed; `cargo install cargo-deny --locked`)".into(),
            ]);
        }
        Ok(status) => bail!("step `deny` failed ({status})"),
        Err(err) => return Err(err).context("step `deny`: cannot run cargo"),
    }
    let fetched = cargo()
        .current_dir(root)
        .args(["deny", "fetch", "db"])
        .status()
        .is_ok_and(|s| s.success());
    if !fetched {
        return Ok(vec![
            "advisories (the RustSec advisory database on github.com cannot be fetched from \
             this machine; GitHub Actions runs them)"
                .into(),
        ]);
    }
    let mut advisories = cargo();
    advisories
        .current_dir(root)
        .args(["deny", "check", "--disable-fetch", "advisories"]);
    println!("==> deny: {}", describe(&advisories));
    let status = advisories
        .status()
        .context("step `deny`: cannot run cargo")?;
    if !status.success() {
        bail!("step `deny` (advisories) failed ({status})");
    }
    Ok(Vec::new())
}

/// Whether `cargo deny` failed because there is no cargo-deny (cargo's "no such command").
fn deny_missing(status: &std::process::ExitStatus) -> bool {
    status.code() == Some(101)
        && !cargo()
            .args(["deny", "--version"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// Validates `.github/workflows/*.yml` against GitHub's schema with `check-jsonschema`
/// (`pip install check-jsonschema`). Returns why it was skipped, if it was; with
/// `NOTES_CI_STRICT=1` (as `.ci/run` sets) a missing tool is an error instead.
fn workflows_check(root: &Path) -> anyhow::Result<Option<String>> {
    let dir = root.join(".github/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
        })
        .collect();
    files.sort();
    let mut command = Command::new("check-jsonschema");
    command
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(&files);
    println!("==> workflows: {}", describe(&command));
    match command.status() {
        Ok(status) if status.success() => Ok(None),
        Ok(status) => bail!("step `workflows` failed ({status})"),
        Err(err) if std::env::var_os("NOTES_CI_STRICT").is_some() => Err(err).context(
            "step `workflows`: cannot run check-jsonschema (pip install check-jsonschema)",
        ),
        Err(_) => Ok(Some(
            "check-jsonschema is not installed; `pip install check-jsonschema`".into(),
        )),
    }
}

fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program()).file_name().map_or_else(
        || command.get_program().to_string_lossy(),
        |name| name.to_string_lossy(),
    );
    let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
    let env: Vec<String> = command
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    let mut parts = env;
    parts.push(program.into_owned());
    parts.extend(args.into_iter().map(|a| a.into_owned()));
    parts.join(" ")
}
