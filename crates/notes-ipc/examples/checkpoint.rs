//! The notes' context manager with Ctrl-C: appends an item to a list every 10 ms until
//! interrupted, then saves the list as a pickle.
//!
//! ```sh
//! cargo run -p notes-ipc --example checkpoint -- items.pkl
//! # Ctrl-C (or kill -TERM): exits 130 (143), and items.pkl holds [0, 1, 2, ...]
//! python3 -c 'import pickle; print(pickle.load(open("items.pkl", "rb"))[-3:])'
//! ```
//!
//! The list is also saved every second, and after 10 minutes the example stops by itself
//! and saves on the way out (the guard's `Drop`), so a forgotten run does not go on forever.
//! Telling the user what happens is this binary's job, hence the one allow below.
#![allow(clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use notes_ipc::Checkpoint;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        eprintln!("usage: checkpoint FILE");
        return ExitCode::from(2);
    };
    match run(path.into()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: std::path::PathBuf) -> notes_ipc::Result<()> {
    let mut items = Checkpoint::pickle(&path, Vec::<u64>::new())
        .save_every(Duration::from_secs(1))
        .on_signals()?;
    eprintln!(
        "appending to {} every 10 ms; Ctrl-C saves and stops",
        path.display()
    );
    let start = Instant::now();
    for i in 0.. {
        if start.elapsed() > Duration::from_secs(600) {
            break;
        }
        items.update(|list| list.push(i))?;
        std::thread::sleep(Duration::from_millis(10));
    }
    items.finish()
}
