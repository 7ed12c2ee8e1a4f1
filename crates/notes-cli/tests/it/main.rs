//! Integration tests of the `notes` binary: one test binary for the crate (fast linking).

mod algo;
mod bwt;
mod cli;
mod docs;
mod fs;
mod ipc;
mod proc;
mod prof;
mod tensor;
mod time;
