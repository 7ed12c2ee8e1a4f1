//! Files `notes` writes: every one through `notes_fs::AtomicFile` (the workspace's one careful
//! writer: whole or not at all, `O_TMPFILE` on Linux so even a SIGKILL leaves nothing, file and
//! directory synced, mode 0666 less the umask), never over an existing file unless `--force`,
//! always with the same message. `-` names standard output where a command writes a stream
//! ([`write_output`]): the GNU convention, so a file named `-` is written as `./-`.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// The one refusal of every command that writes a file: `path` exists and `--force` was not
/// given.
pub(crate) fn refuse_existing(path: &Path, force: bool) -> anyhow::Result<()> {
    // A FIFO or device (`-o /dev/null`) is written into, as by the shell's `>`, not replaced.
    if !force
        && !is_stdout(path)
        && !notes_fs::is_stream(path)
        && std::fs::symlink_metadata(path).is_ok()
    {
        anyhow::bail!(already_exists(path));
    }
    Ok(())
}

fn already_exists(path: &Path) -> String {
    format!(
        "{} already exists; pass --force to replace it",
        notes_fs::Escaped(path)
    )
}

/// Writes `path` through `notes_fs::AtomicFile`, put in place only when `write` succeeded; an
/// existing `path` (even one that appears meanwhile) is kept unless `force`. Where the
/// temporary file has a name (no `O_TMPFILE`), it is removed if `notes` is interrupted.
pub(crate) fn write_atomically(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut BufWriter<&mut notes_fs::AtomicFile>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if is_stdout(path) {
        // Not a file called `-` made by surprise: this output is a file, said so.
        return Err(crate::exit::UsageError(
            "this output must be a file, not `-` (standard output); write ./- for a file named -"
                .into(),
        )
        .into());
    }
    refuse_existing(path, force)?;
    let mut file = notes_fs::AtomicFile::create(path, notes_fs::Replace::from_force(force))
        .map_err(|err| exists_or(err, path))?;
    let _cleanup = file.temp_path().map(interrupt::remove_on_interrupt);
    {
        let mut writer = BufWriter::with_capacity(1 << 20, &mut file);
        write(&mut writer)?;
        writer
            .flush()
            .with_context(|| format!("cannot write {}", notes_fs::Escaped(path)))?;
    }
    file.commit().map_err(|err| exists_or(err, path))?;
    Ok(())
}

/// The refusal's message for an `AlreadyExists` error, the error itself otherwise.
fn exists_or(err: std::io::Error, path: &Path) -> anyhow::Error {
    if err.kind() == std::io::ErrorKind::AlreadyExists {
        anyhow::anyhow!(already_exists(path))
    } else {
        err.into()
    }
}

/// Whether `path` is `-`, standard output for the commands that write through
/// [`write_output`].
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes to standard output when `path` is `-`, else to `path` as [`write_atomically`] does.
pub(crate) fn write_output(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if !is_stdout(path) {
        return write_atomically(path, force, |w| write(w));
    }
    let mut stdout = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    write(&mut stdout)?;
    stdout.flush().context("cannot write to standard output")?;
    Ok(())
}

/// Writes `bytes` to `path` (or standard output for `-`) as [`write_output`] does.
pub(crate) fn write_bytes(path: &Path, force: bool, bytes: &[u8]) -> anyhow::Result<()> {
    write_output(path, force, |w| Ok(w.write_all(bytes)?))
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
