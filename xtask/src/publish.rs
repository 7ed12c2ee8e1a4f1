//! `cargo xtask publish`: publish every publishable crate of the workspace in dependency order.
//!
//! Cargo (1.90+) orders a workspace publish itself and, with `--dry-run`, verifies dependents
//! against the packages it has just built rather than against the registry.

use std::path::Path;

use anyhow::{Context, bail};

use crate::cargo;

/// Options of `cargo xtask publish`.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Package and verify, but upload nothing.
    pub(crate) dry_run: bool,
    /// Publish to this registry (from `.cargo/config.toml`) instead of crates.io.
    pub(crate) registry: Option<String>,
}

pub(crate) fn run(root: &Path, options: &Options) -> anyhow::Result<()> {
    let mut command = cargo();
    command
        .current_dir(root)
        .args(["publish", "--workspace", "--locked", "--exclude", "xtask"]);
    if options.dry_run {
        command.arg("--dry-run");
    }
    if let Some(registry) = &options.registry {
        command.args(["--registry", registry]);
    }
    println!("==> {command:?}");
    let status = command.status().context("cannot run cargo publish")?;
    if !status.success() {
        bail!("cargo publish failed ({status})");
    }
    Ok(())
}

/// Parses `[--dry-run] [--registry NAME]`.
pub(crate) fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dry-run" => options.dry_run = true,
            "--registry" => {
                options.registry = Some(
                    args.next()
                        .context("--registry needs a registry name")?
                        .clone(),
                );
            }
            other => bail!(
                "unknown option `{other}`; usage: cargo xtask publish [--dry-run] [--registry NAME]"
            ),
        }
    }
    Ok(options)
}
