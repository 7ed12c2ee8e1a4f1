//! Files `notes` writes: atomically, never over an existing file unless asked, and without
//! leaving a temporary file behind when interrupted.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Writes `path` through a temporary file in its directory, renamed into place only when
/// `write` succeeded; an existing `path` is kept unless `force`. The temporary file is named
/// `temp_prefix` and random characters.
pub(crate) fn write_atomically(
    path: &Path,
    force: bool,
    temp_prefix: &str,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if !force && path.exists() {
        anyhow::bail!(
            "{} already exists; pass --force to replace it",
            path.display()
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(temp_prefix);
    // As any new file: 0666 less the umask (tempfile's own default is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let _cleanup = interrupt::remove_on_interrupt(tmp.path());
    if force {
        // A replaced file keeps its permissions, as an editor's save does.
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = tmp.as_file().set_permissions(meta.permissions());
        }
    }
    {
        let mut writer = BufWriter::with_capacity(1 << 20, tmp.as_file());
        write(&mut writer)?;
        writer
            .flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    let persisted = if force {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    persisted.map_err(|e| e.error).with_context(|| {
        format!(
            "cannot move the finished file into place as {}",
            path.display()
        )
    })?;
    Ok(())
}

/// Removal of temporary files when `notes` is interrupted (SIGINT, SIGTERM, SIGHUP): the
/// finished file appears atomically, and an interrupted run leaves no half-written one behind.
mod interrupt {
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, PoisonError};

    /// The temporary files being written.
    static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    /// Removes `path` from the pending list when dropped (the file was renamed or deleted).
    pub(super) struct Pending(PathBuf);

    impl Drop for Pending {
        fn drop(&mut self) {
            let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
            pending.retain(|p| *p != self.0);
        }
    }

    /// Registers `path` for removal if a terminating signal arrives before the guard drops.
    pub(super) fn remove_on_interrupt(path: &Path) -> Pending {
        install();
        PENDING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.to_owned());
        Pending(path.to_owned())
    }

    /// A thread that waits for the signals, removes the pending files, then lets the signal
    /// end the process as it would have (so the shell sees 130 for Ctrl-C).
    #[cfg(unix)]
    // The signal's default action ends the process; `exit` is the fallback should raising
    // it fail, as the interrupted command must not go on.
    #[allow(clippy::exit)]
    fn install() {
        use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
        use std::sync::Once;

        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("notes-cleanup".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        let pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
                        for path in pending.iter() {
                            let _ = std::fs::remove_file(path);
                        }
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                        std::process::exit(128 + signal);
                    }
                });
        });
    }

    #[cfg(not(unix))]
    fn install() {}
}
