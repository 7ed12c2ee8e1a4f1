//! The crate's one error type.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;

/// What can go wrong in `notes-tensor`. Every variant names the input it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operands of a multi-head product do not fit together; both shapes are named.
    #[error(
        "{op}: {what}: {left_name} has shape {} but {right_name} has shape {}",
        shape_text(left),
        shape_text(right)
    )]
    ShapeMismatch {
        /// The operation: `"heads_first"` or `"batched"`.
        op: &'static str,
        /// Which dimensions disagree, e.g. "the inner dimension d differs".
        what: &'static str,
        /// The first operand's name in the formula (`"w"` or `"x"`).
        left_name: &'static str,
        /// The first operand's shape.
        left: Vec<usize>,
        /// The second operand's name.
        right_name: &'static str,
        /// The second operand's shape.
        right: Vec<usize>,
    },
    /// An operand has the wrong number of dimensions for the requested form.
    #[error(
        "{op}: {name} must be {expected}-dimensional, but has shape {} ({other_name} has shape {})",
        shape_text(shape),
        shape_text(other)
    )]
    WrongNdim {
        /// The operation: `"heads_first"` or `"batched"`.
        op: &'static str,
        /// The operand's name (`"w"` or `"x"`).
        name: &'static str,
        /// The number of dimensions the form needs.
        expected: usize,
        /// The operand's actual shape.
        shape: Vec<usize>,
        /// The other operand's name.
        other_name: &'static str,
        /// The other operand's shape.
        other: Vec<usize>,
    },
    /// The output would have more elements than fit in memory's address space.
    #[error("{op}: the output shape {} has too many elements", shape_text(shape))]
    TooLarge {
        /// The operation.
        op: &'static str,
        /// The requested output shape (as far as it could be computed).
        shape: Vec<usize>,
    },
    /// The output could not be allocated (as numpy's "Unable to allocate" `MemoryError`).
    #[error(
        "{op}: cannot allocate {bytes} bytes for the output of shape {}",
        shape_text(shape)
    )]
    OutOfMemory {
        /// The operation.
        op: &'static str,
        /// The output shape.
        shape: Vec<usize>,
        /// The bytes it needs.
        bytes: usize,
    },
    /// A `.npy` file could not be opened, created or written.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: "open", "create", "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A `.npy` file's data could not be read after its header was (malformed, or followed by
    /// extra bytes).
    ///
    /// The message says what `ndarray-npy` found wrong once; its error is kept in `error`
    /// rather than returned as the source, because it already repeats its own cause.
    #[error("{} is not a readable .npy file: {error}", path.display())]
    ReadNpy {
        /// The file.
        path: PathBuf,
        /// What the `.npy` reader reported.
        error: ndarray_npy::ReadNpyError,
    },
    /// A `.npy` file's header is missing or malformed.
    ///
    /// The message says what is wrong in one plain sentence ("it does not start with numpy's
    /// magic string `\x93NUMPY`", "the file ends before its header does"); `ndarray-npy`'s error
    /// is kept in `error` rather than returned as the source, because it repeats its own cause.
    #[error("{} is not a .npy file: {}", path.display(), header_reason(error))]
    NpyHeader {
        /// The file.
        path: PathBuf,
        /// What the header parser reported.
        error: ndarray_npy::npy::header::ReadHeaderError,
    },
    /// A `.npy` file's header promises more data than the file holds.
    #[error("{} is truncated: its header says shape {} ({expected} bytes of data) but {actual} bytes follow", path.display(), shape_text(shape))]
    NpyTruncated {
        /// The file.
        path: PathBuf,
        /// The shape in the header.
        shape: Vec<usize>,
        /// The data size the header implies (saturated at `u128::MAX`).
        expected: u128,
        /// The data size present.
        actual: usize,
    },
    /// A `.npy` header is longer than [`MAX_HEADER_LEN`](crate::MAX_HEADER_LEN) bytes (refused
    /// before it is read, so a forged length cannot make the reader allocate gigabytes).
    #[error("{} is not a .npy file this reader accepts: its header would be {len} bytes long, more than the {max} allowed", path.display())]
    NpyHeaderTooLarge {
        /// The file.
        path: PathBuf,
        /// The header length the file claims.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A `.npy` header nests brackets more deeply than any numpy header does.
    #[error("{} is not a .npy file this reader accepts: its header nests brackets more than {max} deep", path.display())]
    NpyHeaderNesting {
        /// The file.
        path: PathBuf,
        /// The limit.
        max: usize,
    },
    /// A `.npy` header has more dimensions than numpy allows ([`MAX_DIMS`](crate::MAX_DIMS), 64).
    #[error("{} has {ndim} dimensions, but numpy allows at most {max}", path.display())]
    NpyTooManyDims {
        /// The file.
        path: PathBuf,
        /// The number of dimensions in the header.
        ndim: usize,
        /// The limit.
        max: usize,
    },
    /// The data a `.npy` header announces cannot be allocated (numpy's "Unable to allocate").
    #[error("{} announces {bytes} bytes of data (shape {}), more than can be allocated", path.display(), shape_text(shape))]
    NpyTooLarge {
        /// The file.
        path: PathBuf,
        /// The shape in the header.
        shape: Vec<usize>,
        /// The bytes it needs.
        bytes: u128,
    },
    /// A `.npy` file holds an element type this crate does not read (complex, strings, records...).
    #[error("{} holds elements of type {descr}; supported: bool, int8..int64, uint8..uint64, float32, float64", path.display())]
    NpyDtype {
        /// The file.
        path: PathBuf,
        /// The numpy type descriptor found in the header.
        descr: String,
    },
    /// An array could not be written as `.npy`.
    #[error("cannot write {} as .npy", path.display())]
    WriteNpy {
        /// The file.
        path: PathBuf,
        /// What the `.npy` writer reported.
        #[source]
        source: ndarray_npy::WriteNpyError,
    },
    /// A `.npz` file is not a zip archive this reader can read, or a member cannot be
    /// decompressed (bad data, a CRC mismatch, an unsupported compression or encryption).
    #[error("{} is not a readable .npz archive", path.display())]
    Npz {
        /// The file.
        path: PathBuf,
        /// What the zip reader reported.
        #[source]
        source: zip::result::ZipError,
    },
    /// A `.npz` member is missing or is not a `.npy` array.
    #[error("{} has no member {member}: {reason}", path.display())]
    NpzMember {
        /// The archive.
        path: PathBuf,
        /// The member's name or the key asked for.
        member: String,
        /// Why: "it is not a .npy file", "there is no such member", ...
        reason: &'static str,
    },
    /// A key given to `write_npz` cannot name a member.
    #[error("cannot write {} with the key {key:?}: {reason}", path.display())]
    NpzKey {
        /// The archive.
        path: PathBuf,
        /// The key.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// A `.npz` archive could not be written.
    #[error("cannot write {} as .npz", path.display())]
    WriteNpz {
        /// The archive.
        path: PathBuf,
        /// What the zip writer reported.
        #[source]
        source: zip::result::ZipError,
    },
    /// An array has an element type that the requested operation does not support.
    #[error("{} holds {dtype} elements, but {op} needs {expected}", path.display())]
    UnsupportedDtype {
        /// The file the array came from.
        path: PathBuf,
        /// The element type found, numpy-style (`"float32"`, `"bool"`, ...).
        dtype: &'static str,
        /// The operation.
        op: &'static str,
        /// What it accepts.
        expected: &'static str,
    },
    /// Two arrays given to one operation have different element types.
    #[error(
        "{op}: {left_name} holds {left} elements but {right_name} holds {right}; convert one of them"
    )]
    DtypeMismatch {
        /// The operation.
        op: &'static str,
        /// The first operand's name.
        left_name: &'static str,
        /// Its element type.
        left: &'static str,
        /// The second operand's name.
        right_name: &'static str,
        /// Its element type.
        right: &'static str,
    },
}

/// At most this many entries of a shape are printed in a message; longer shapes are elided.
const SHAPE_SHOWN: usize = 8;

/// A shape as `[3, 4]`, or `[1, 1, 1, 1, ..., 1, 1, 1, 1] (30000 dimensions)` when it is long,
/// so that an error about a hostile file stays one short line.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    if shape.len() <= SHAPE_SHOWN {
        return format!("{shape:?}");
    }
    let half = SHAPE_SHOWN / 2;
    let mut text = String::from("[");
    for s in &shape[..half] {
        let _ = write!(text, "{s}, ");
    }
    text.push_str("...");
    for s in &shape[shape.len() - half..] {
        let _ = write!(text, ", {s}");
    }
    let _ = write!(text, "] ({} dimensions)", shape.len());
    text
}

/// What is wrong with a `.npy` header, in one plain sentence.
fn header_reason(err: &ndarray_npy::npy::header::ReadHeaderError) -> String {
    use ndarray_npy::npy::header::{ParseHeaderError, ReadHeaderError};
    match err {
        ReadHeaderError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "the file ends before its header does".to_owned()
        }
        ReadHeaderError::Parse(ParseHeaderError::MagicString) => {
            "it does not start with numpy's magic string \\x93NUMPY".to_owned()
        }
        ReadHeaderError::Io(inner) => inner.to_string(),
        ReadHeaderError::Parse(inner) => format!("bad header: {inner}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_shapes_are_elided() {
        assert_eq!(shape_text(&[3, 4]), "[3, 4]");
        assert_eq!(shape_text(&[]), "[]");
        assert_eq!(shape_text(&[1; 8]), "[1, 1, 1, 1, 1, 1, 1, 1]");
        let long: Vec<usize> = (0..30_000).collect();
        assert_eq!(
            shape_text(&long),
            "[0, 1, 2, 3, ..., 29996, 29997, 29998, 29999] (30000 dimensions)"
        );
        let err = Error::TooLarge {
            op: "batched",
            shape: long,
        };
        assert!(err.to_string().len() < 120, "{err}");
    }
}
