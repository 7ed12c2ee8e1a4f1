#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod call;
mod command;
mod detach;
mod error;
#[cfg(target_os = "linux")]
mod reaper;
#[cfg(not(target_os = "linux"))]
#[path = "reaper_none.rs"]
mod reaper;
mod run;
mod startup;
mod status;

pub use call::{call_with_timeout, init};
pub use command::command_line;
pub use detach::{Detached, spawn_detached};
pub use error::{Error, Result};
pub use run::{Forward, Limit, Outcome, run, run_streaming, run_text, run_with_timeout};
pub use status::{Signal, Status};
