#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod error;
mod flatten;

pub use error::Error;
pub use flatten::{Leaves, List, Nested};
#[cfg(feature = "json")]
pub use flatten::{flatten_json, parse_json};
