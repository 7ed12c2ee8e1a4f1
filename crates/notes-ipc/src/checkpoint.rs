//! The context-manager note in Rust: a guard that saves its data when it goes out of scope,
//! and, when asked, on Ctrl-C, SIGTERM and SIGHUP and every so often.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{Error, Result, pickle, store};

/// How a [`Checkpoint`] writes its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// A `notes-ipc` data file (bincode), read back with [`store::load`](crate::store::load).
    #[default]
    Native,
    /// A Python pickle, read back with `pickle.load` (or [`pickle::load`](crate::pickle::load)).
    Pickle,
}

/// A callback told about a failed save (the path and the error).
pub type OnError = Box<dyn FnMut(&Path, &crate::Error) + Send>;

/// Holds the data an experiment collects and saves it to a file when dropped: on a normal
/// return, on an early `?` return and while a panic unwinds, like the notes' `__exit__`
/// that pickles the data although `main` raised.
///
/// The guard dereferences to the data. A failed save in `drop` never panics (that would
/// abort during an unwind): it is logged with `tracing::error!` and handed to the
/// [`on_error`](Checkpoint::on_error) callback. Call [`finish`](Checkpoint::finish) to save
/// and get the error instead.
///
/// A process that aborts (`panic = "abort"`, `SIGKILL`, `std::process::exit`) runs no
/// destructors, so nothing is saved then. A signal (Ctrl-C's `SIGINT`, a scheduler's
/// `SIGTERM`, `SIGHUP` when the terminal closes) ends a Rust process without running
/// destructors either, unlike Python, where Ctrl-C raises `KeyboardInterrupt` and
/// `__exit__` runs. [`on_signals`](Checkpoint::on_signals) opts in to saving then.
///
/// # Consistent snapshots
///
/// In signal mode a thread waits for the signals; it must not read the data while the
/// program changes it. So the guard keeps a *snapshot*: the data already encoded as the
/// file's bytes, behind a lock. [`update`](Checkpoint::update) changes the data and then
/// replaces the snapshot under that lock; [`save`](Checkpoint::save) does too. On a signal
/// the thread takes the lock (waiting for an update in progress to finish), writes the
/// snapshot atomically, and exits the process with status 128 + the signal's number (130
/// for `SIGINT`, 143 for `SIGTERM`, 129 for `SIGHUP`), as an interrupted program does. The
/// file therefore holds the state after the last `update` (or `save`): changes made
/// through `DerefMut` since then are not in it. Each `update` encodes the whole value, so
/// batch small changes when the data is large.
pub struct Checkpoint<T: Serialize> {
    data: T,
    path: PathBuf,
    format: Format,
    on_error: Option<OnError>,
    done: bool,
    every: Option<Duration>,
    last_save: std::cell::Cell<Instant>,
    signals: Option<SignalSaver>,
}

/// The signal thread of [`Checkpoint::on_signals`] and the snapshot it writes.
struct SignalSaver {
    snapshot: Arc<Mutex<Vec<u8>>>,
    #[cfg(unix)]
    handle: signal_hook::iterator::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SignalSaver {
    fn drop(&mut self) {
        // Closing ends the thread's loop and unregisters the handlers: the signals get
        // their default action again.
        #[cfg(unix)]
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<T: Serialize> Checkpoint<T> {
    /// A guard that will save `data` to `path` as a [`Format::Native`] file.
    pub fn new(path: impl Into<PathBuf>, data: T) -> Self {
        Self {
            data,
            path: path.into(),
            format: Format::Native,
            on_error: None,
            done: false,
            every: None,
            last_save: std::cell::Cell::new(Instant::now()),
            signals: None,
        }
    }

    /// A guard that will save `data` to `path` as a Python pickle.
    pub fn pickle(path: impl Into<PathBuf>, data: T) -> Self {
        Self::new(path, data).format(Format::Pickle)
    }

    /// Chooses the file format.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Sets a callback for a save that fails in `drop`.
    #[must_use]
    pub fn on_error(mut self, callback: impl FnMut(&Path, &crate::Error) + Send + 'static) -> Self {
        self.on_error = Some(Box::new(callback));
        self
    }

    /// The file the data is saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Also saves the data every `period`, checked at each [`update`](Checkpoint::update)
    /// (the guard has no thread of its own that could read the data while it changes).
    #[must_use]
    pub fn save_every(mut self, period: Duration) -> Self {
        self.every = Some(period);
        self
    }

    /// Saves the last consistent state (see [Consistent snapshots](Checkpoint#consistent-snapshots))
    /// when the process receives `SIGINT`, `SIGTERM` or `SIGHUP`, then exits with status
    /// 128 + the signal's number. The handlers are removed when the guard is dropped.
    ///
    /// # Errors
    /// [`Error::Io`] when the handlers cannot be installed (or, off Unix, always);
    /// [`Error::Encode`] when the data cannot be encoded.
    pub fn on_signals(mut self) -> Result<Self> {
        let snapshot = Arc::new(Mutex::new(self.encode()?));
        self.signals = Some(self.start_signal_thread(snapshot)?);
        Ok(self)
    }

    #[cfg(unix)]
    fn start_signal_thread(&self, snapshot: Arc<Mutex<Vec<u8>>>) -> Result<SignalSaver> {
        use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(Error::io("install the SIGINT, SIGTERM and SIGHUP handlers"))?;
        let handle = signals.handle();
        let (path, shared) = (self.path.clone(), Arc::clone(&snapshot));
        let thread = std::thread::Builder::new()
            .name("checkpoint-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    // Holding the lock, no update can replace the snapshot half-way.
                    let bytes = shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    match store::write_atomic(&path, &bytes) {
                        Ok(()) => tracing::info!(path = %path.display(), signal, "checkpoint saved on a signal"),
                        Err(err) => tracing::error!(path = %path.display(), signal, "cannot save the checkpoint: {err}"),
                    }
                    // What an interrupted program reports to its shell and scheduler; the
                    // library exits only in this mode, which the caller asked for.
                    #[allow(clippy::exit)]
                    std::process::exit(128 + signal);
                }
            })
            .map_err(Error::io("start the checkpoint's signal thread"))?;
        Ok(SignalSaver {
            snapshot,
            handle,
            thread: Some(thread),
        })
    }

    #[cfg(not(unix))]
    fn start_signal_thread(&self, _snapshot: Arc<Mutex<Vec<u8>>>) -> Result<SignalSaver> {
        Err(Error::Io {
            action: "install signal handlers".into(),
            source: std::io::Error::from(std::io::ErrorKind::Unsupported),
        })
    }

    /// Changes the data with `change`, then refreshes the snapshot that a signal saves (in
    /// signal mode) and saves the file if [`save_every`](Checkpoint::save_every)'s period
    /// has passed. Returns what `change` returns.
    ///
    /// # Errors
    /// Those of [`save`](Checkpoint::save); the change itself is kept either way.
    pub fn update<R>(&mut self, change: impl FnOnce(&mut T) -> R) -> Result<R> {
        let out = change(&mut self.data);
        if self
            .every
            .is_some_and(|every| self.last_save.get().elapsed() >= every)
        {
            self.save()?;
        } else if self.signals.is_some() {
            self.publish(self.encode()?);
        }
        Ok(out)
    }

    fn encode(&self) -> Result<Vec<u8>> {
        match self.format {
            Format::Native => store::to_bytes(&self.data),
            Format::Pickle => pickle::to_vec(&self.data),
        }
    }

    fn publish(&self, bytes: Vec<u8>) {
        if let Some(signals) = &self.signals {
            *signals
                .snapshot
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = bytes;
        }
    }

    /// Saves the data now (atomically); the guard still saves again when dropped.
    pub fn save(&self) -> Result<()> {
        let bytes = self.encode()?;
        store::write_atomic(&self.path, &bytes)?;
        self.last_save.set(Instant::now());
        self.publish(bytes);
        Ok(())
    }

    /// Saves the data and disarms the guard, so that dropping it saves nothing more; returns
    /// the save's error, if any.
    pub fn finish(mut self) -> Result<()> {
        self.done = true;
        self.save()
    }
}

impl<T: Serialize> Deref for Checkpoint<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: Serialize> DerefMut for Checkpoint<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T: Serialize> Drop for Checkpoint<T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let unwinding = std::thread::panicking();
        let saved = self.save();
        // Only now may a signal have its default action again.
        self.signals = None;
        match saved {
            Ok(()) => tracing::info!(
                path = %self.path.display(),
                unwinding,
                "checkpoint saved"
            ),
            Err(err) => {
                tracing::error!(path = %self.path.display(), unwinding, "cannot save the checkpoint: {err}");
                if let Some(callback) = &mut self.on_error {
                    callback(&self.path, &err);
                }
            }
        }
    }
}

impl<T: Serialize + std::fmt::Debug> std::fmt::Debug for Checkpoint<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn saves_on_drop_and_on_unwind_and_reports_failures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        {
            let mut data = Checkpoint::new(&path, vec![1u32]);
            data.push(2);
        }
        assert_eq!(store::load::<Vec<u32>>(&path).unwrap(), [1, 2]);

        let unwound = std::panic::catch_unwind(|| {
            let mut data = Checkpoint::new(&path, vec![3u32]);
            data.push(4);
            panic!("the body failed");
        });
        assert!(unwound.is_err());
        assert_eq!(store::load::<Vec<u32>>(&path).unwrap(), [3, 4]);

        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let missing = dir.path().join("no such dir").join("data.bin");
        drop(Checkpoint::new(&missing, 5u8).on_error(move |path, err| {
            sink.lock()
                .unwrap()
                .push(format!("{}: {err}", path.display()));
        }));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].contains("no such dir"), "{}", seen[0]);

        let guard = Checkpoint::new(&missing, 6u8);
        assert!(guard.finish().is_err());
    }

    #[test]
    fn updates_save_every_period_and_keep_the_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.pkl");
        let mut data = Checkpoint::pickle(&path, Vec::<u32>::new()).save_every(Duration::ZERO);
        assert_eq!(
            data.update(|v| {
                v.push(7);
                v.len()
            })
            .unwrap(),
            1
        );
        assert_eq!(
            pickle::load_as::<Vec<u32>>(&path, &Default::default()).unwrap(),
            [7]
        );
        let mut rare = Checkpoint::pickle(dir.path().join("rare.pkl"), 0u8)
            .save_every(Duration::from_secs(3600));
        rare.update(|v| *v = 1).unwrap();
        assert!(!dir.path().join("rare.pkl").exists());
        drop(rare);
        assert!(dir.path().join("rare.pkl").exists());
    }
}
