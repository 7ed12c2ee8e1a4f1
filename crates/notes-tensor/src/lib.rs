#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Only to give zip's flate2 its pure-Rust backend (miniz_oxide).
use flate2 as _;

mod error;
mod heads;
mod matmul;
mod npy;
mod npz;
mod print;

pub use error::Error;
pub use matmul::{MultiHeadElement, batched, batched_into, heads_first};
pub use npy::{
    AnyArray, Form, MAX_DIMS, MAX_HEADER_LEN, multihead, read_npy, read_npy_with_order, write_npy,
};
pub use npz::{Loaded, NpzCompression, NpzReader, load, read_npz, write_npz};
pub use print::{
    ByteOrder, FloatMode, Legacy, NumpyDisplay, NumpyDisplayExt, NumpyElement, PrintOptions,
    PrintOptionsGuard, Sign, array2string, format_array, format_repr, format_repr_in,
    get_printoptions, printoptions, set_printoptions,
};
