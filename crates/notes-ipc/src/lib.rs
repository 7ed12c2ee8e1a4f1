#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod checkpoint;
mod codec;
mod depth;
pub mod echo;
mod error;
pub mod frame;
pub mod pickle;
pub mod store;

pub use checkpoint::{Checkpoint, Format, OnError};
pub use error::{Error, Result};
pub use frame::{read_frame, recv, recv_with, send, write_frame};

/// The default maximum of a frame body or file: 16 MiB.
pub const DEFAULT_MAX_LEN: usize = 16 << 20;

/// The default maximum nesting depth of decoded data: 128 levels.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Bounds on what decoding untrusted bytes may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest frame body, file body or pickle accepted, in bytes
    /// (default [`DEFAULT_MAX_LEN`]). Checked before anything is allocated.
    pub max_len: usize,
    /// The deepest nesting accepted (default [`DEFAULT_MAX_DEPTH`]): sequences, maps, enums,
    /// options and newtypes each count one level.
    pub max_depth: usize,
    /// The most memory that decoding a pickle, or printing or converting what it holds,
    /// may take, in bytes (default [`DEFAULT_MEMORY_FACTOR`] times `max_len`): each value
    /// is charged before it is made, shared parts once while decoding and each time they
    /// appear when printed or converted.
    pub max_memory: usize,
}

/// The default [`Limits::max_memory`] is this many times [`Limits::max_len`]: a pickle of
/// small items takes about 16 times its size once decoded (a 2-byte `int` becomes a 40-byte
/// slot and a 32-byte value).
pub const DEFAULT_MEMORY_FACTOR: usize = 16;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_len: DEFAULT_MAX_LEN,
            max_depth: DEFAULT_MAX_DEPTH,
            max_memory: DEFAULT_MAX_LEN * DEFAULT_MEMORY_FACTOR,
        }
    }
}

impl Limits {
    /// These limits with another maximum length, and the memory budget that goes with it
    /// ([`DEFAULT_MEMORY_FACTOR`] times `max_len`).
    pub fn with_max_len(self, max_len: usize) -> Self {
        Self {
            max_len,
            max_memory: max_len.saturating_mul(DEFAULT_MEMORY_FACTOR),
            ..self
        }
    }

    /// These limits with another memory budget ([`Limits::max_memory`]).
    pub fn with_max_memory(self, max_memory: usize) -> Self {
        Self { max_memory, ..self }
    }

    /// The default limits with another maximum depth.
    pub fn with_max_depth(self, max_depth: usize) -> Self {
        Self { max_depth, ..self }
    }
}
