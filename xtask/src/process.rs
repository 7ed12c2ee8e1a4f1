//! Running the tools xtask drives (cargo, git): one way to start them and report failure,
//! shared by every command (a leaf module: it imports nothing of xtask's own).

use std::process::Command;

use anyhow::{Context, bail};

/// The cargo that invoked us (`$CARGO`), so the same toolchain runs every step.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `command`, failing with its program, arguments and exit status.
pub(crate) fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!(
            "{:?} {:?} failed ({status})",
            command.get_program(),
            command.get_args().collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// Runs `command` and returns its standard output, failing with its standard error.
pub(crate) fn output(command: &mut Command) -> anyhow::Result<Vec<u8>> {
    let out = command
        .output()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} {:?} failed ({}): {}",
            command.get_program(),
            command.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}
