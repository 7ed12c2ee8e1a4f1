//! The context-manager note in Rust: a guard that saves its data when it goes out of scope.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Result, pickle, store};

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
/// destructors, so nothing is saved then.
pub struct Checkpoint<T: Serialize> {
    data: T,
    path: PathBuf,
    format: Format,
    on_error: Option<OnError>,
    done: bool,
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

    /// Saves the data now (atomically); the guard still saves again when dropped.
    pub fn save(&self) -> Result<()> {
        match self.format {
            Format::Native => store::save(&self.path, &self.data),
            Format::Pickle => pickle::save(&self.path, &self.data),
        }
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
        match self.save() {
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
}
