use std::io;
use std::path::PathBuf;

/// What can go wrong in `notes-tensor`. Every variant names the input it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operands of a multi-head product do not fit together; both shapes are named.
    #[error("{op}: {what}: {left_name} has shape {left:?} but {right_name} has shape {right:?}")]
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
        "{op}: {name} must be {expected}-dimensional, but has shape {shape:?} ({other_name} has shape {other:?})"
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
    #[error("{op}: the output shape {shape:?} has too many elements")]
    TooLarge {
        /// The operation.
        op: &'static str,
        /// The requested output shape (as far as it could be computed).
        shape: Vec<usize>,
    },
    /// The output could not be allocated (as numpy's "Unable to allocate" `MemoryError`).
    #[error("{op}: cannot allocate {bytes} bytes for the output of shape {shape:?}")]
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
    #[error("{} is truncated: its header says shape {shape:?} ({expected} bytes of data) but {actual} bytes follow", path.display())]
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
