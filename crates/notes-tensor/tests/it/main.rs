//! Integration tests of notes-tensor: one test binary for the crate (fast linking).

mod npz;
mod numpy;
