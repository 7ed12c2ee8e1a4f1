//! Diagnostics on stderr through `tracing-subscriber`.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

use crate::cli::GlobalArgs;
use crate::output::ColorWhen;

/// Installs the global subscriber: `-q`/`-v` pick the level, otherwise `RUST_LOG`
/// (`warn`, `notes_algo=debug,info`, ...), otherwise warnings only.
/// With `--profile FILE`, a profiler layer sees every span of every level (the log filter
/// applies to the log layer only); the returned profiler holds the profile.
pub(crate) fn init(global: &GlobalArgs) -> Option<notes_prof::Profiler> {
    let (filter, bad_env) = filter(global.verbose, global.quiet, std::env::var("RUST_LOG").ok());
    let ansi = match global.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
        }
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .with_target(true);
    let profiler = global.profile.as_ref().map(|_| notes_prof::Profiler::new());
    // Only the first initialisation wins; a second call (tests) is harmless.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .with(profiler.as_ref().map(notes_prof::Profiler::layer))
        .try_init();
    if let Some((value, why)) = bad_env {
        tracing::warn!("ignoring RUST_LOG={value:?}: {why}");
    }
    profiler
}

/// The filter for the flags and the value of `RUST_LOG`; a malformed `RUST_LOG` is
/// returned with its parse error so it can be reported once logging works.
fn filter(verbose: u8, quiet: bool, env: Option<String>) -> (Targets, Option<(String, String)>) {
    let level = match (quiet, verbose) {
        (true, _) => Some(LevelFilter::ERROR),
        (false, 0) => None,
        (false, 1) => Some(LevelFilter::INFO),
        (false, 2) => Some(LevelFilter::DEBUG),
        (false, _) => Some(LevelFilter::TRACE),
    };
    let default = Targets::new().with_default(LevelFilter::WARN);
    if let Some(level) = level {
        return (Targets::new().with_default(level), None);
    }
    match env.filter(|value| !value.trim().is_empty()) {
        None => (default, None),
        Some(value) => match value.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(err) => (default, Some((value, err.to_string()))),
        },
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::filter;

    #[test]
    fn flags_override_the_environment() {
        let (targets, bad) = filter(2, false, Some("error".into()));
        assert!(bad.is_none());
        assert!(targets.would_enable("notes_algo", &Level::DEBUG));
        let (targets, _) = filter(0, true, Some("trace".into()));
        assert!(!targets.would_enable("notes_algo", &Level::WARN));
    }

    #[test]
    fn rust_log_is_used_without_flags_and_bad_values_are_reported() {
        let (targets, bad) = filter(0, false, Some("notes_algo=debug".into()));
        assert!(bad.is_none());
        assert!(targets.would_enable("notes_algo", &Level::DEBUG));
        assert!(!targets.would_enable("notes_fs", &Level::DEBUG));
        let (targets, bad) = filter(0, false, Some("notes_algo=loud".into()));
        assert!(bad.is_some());
        assert!(targets.would_enable("x", &Level::WARN));
        assert!(!targets.would_enable("x", &Level::INFO));
    }
}
