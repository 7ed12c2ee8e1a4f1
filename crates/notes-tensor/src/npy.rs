//! `.npy` files in and out (via `ndarray-npy`), with the element type read from the file.

use std::fs;
use std::path::Path;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, Ix1, Ix2, Ix3};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyExt, WritableElement, WriteNpyExt};

use crate::{Error, MultiHeadElement, NumpyElement, PrintOptions, format_array};

/// An array read from a `.npy` file, whatever its element type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnyArray {
    /// `bool`.
    Bool(ArrayD<bool>),
    /// `int8`.
    I8(ArrayD<i8>),
    /// `int16`.
    I16(ArrayD<i16>),
    /// `int32`.
    I32(ArrayD<i32>),
    /// `int64`.
    I64(ArrayD<i64>),
    /// `uint8`.
    U8(ArrayD<u8>),
    /// `uint16`.
    U16(ArrayD<u16>),
    /// `uint32`.
    U32(ArrayD<u32>),
    /// `uint64`.
    U64(ArrayD<u64>),
    /// `float32`.
    F32(ArrayD<f32>),
    /// `float64`.
    F64(ArrayD<f64>),
}

macro_rules! each {
    ($self:expr, $a:ident => $body:expr) => {
        match $self {
            AnyArray::Bool($a) => $body,
            AnyArray::I8($a) => $body,
            AnyArray::I16($a) => $body,
            AnyArray::I32($a) => $body,
            AnyArray::I64($a) => $body,
            AnyArray::U8($a) => $body,
            AnyArray::U16($a) => $body,
            AnyArray::U32($a) => $body,
            AnyArray::U64($a) => $body,
            AnyArray::F32($a) => $body,
            AnyArray::F64($a) => $body,
        }
    };
}

/// Which form of the multi-head product to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `y = (w @ x).squeeze(-1)` with `w: (m, n, d)`, `x: (d,)`: see [`heads_first`](crate::heads_first).
    HeadsFirst,
    /// `y = (x @ w).squeeze(-2)` with `x: (b, d)`, `w: (m, d, n)`: see [`batched`](crate::batched).
    Batched,
}

impl AnyArray {
    /// numpy's name for the element type (`"float32"`, `"int64"`, ...).
    pub fn dtype(&self) -> &'static str {
        fn name<A: NumpyElement>(_: &ArrayD<A>) -> &'static str {
            A::DTYPE
        }
        each!(self, a => name(a))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// numpy's `print(a)` of the array (see [`format_array`]).
    pub fn format(&self, options: &PrintOptions) -> String {
        each!(self, a => format_array(a, options))
    }

    /// Writes the array as a `.npy` file numpy can load.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be created, [`Error::WriteNpy`] when writing fails.
    pub fn write_npy(&self, path: &Path) -> Result<(), Error> {
        each!(self, a => write_npy(path, a))
    }

    /// Writes the array in `.npy` format to `writer` (for a caller that opens the file its own
    /// way); `path` only names the output in errors.
    ///
    /// # Errors
    /// [`Error::WriteNpy`] when writing fails.
    pub fn write_npy_to(&self, writer: impl std::io::Write, path: &Path) -> Result<(), Error> {
        each!(self, a => a.write_npy(writer)).map_err(|source| Error::WriteNpy {
            path: path.to_owned(),
            source,
        })
    }

    /// Parses the bytes of a `.npy` file; `path` only names the input in errors.
    ///
    /// Never allocates more than the data the bytes actually hold.
    ///
    /// # Errors
    /// [`Error::NpyHeader`], [`Error::NpyDtype`], [`Error::NpyTruncated`] or [`Error::ReadNpy`].
    pub fn from_npy_bytes(bytes: &[u8], path: &Path) -> Result<Self, Error> {
        let mut rest = bytes;
        let header = Header::from_reader(&mut rest).map_err(|error| Error::NpyHeader {
            path: path.to_owned(),
            error,
        })?;
        // The descriptor is a Python literal: '<f8' for the types read here.
        let descr = header
            .type_descriptor
            .to_string()
            .trim_matches(['\'', '"'])
            .to_owned();
        let kind = descr.trim_start_matches(['<', '>', '|', '=']);
        let item_size: u128 = match kind {
            "b1" | "?" | "i1" | "u1" | "b" | "B" => 1,
            "i2" | "u2" => 2,
            "i4" | "u4" | "f4" => 4,
            "i8" | "u8" | "f8" => 8,
            _ => {
                return Err(Error::NpyDtype {
                    path: path.to_owned(),
                    descr,
                });
            }
        };
        // ndarray-npy allocates the whole array before reading, so a header that lies about
        // the shape must be caught here.
        let expected = header
            .shape
            .iter()
            .try_fold(item_size, |acc, &s| acc.checked_mul(s as u128))
            .unwrap_or(u128::MAX);
        if expected > rest.len() as u128 {
            return Err(Error::NpyTruncated {
                path: path.to_owned(),
                shape: header.shape,
                expected,
                actual: rest.len(),
            });
        }
        fn read<A: ndarray_npy::ReadableElement>(
            bytes: &[u8],
            path: &Path,
        ) -> Result<ArrayD<A>, Error> {
            ArrayD::<A>::read_npy(bytes).map_err(|error| Error::ReadNpy {
                path: path.to_owned(),
                error,
            })
        }
        Ok(match kind {
            "b1" | "?" => Self::Bool(read(bytes, path)?),
            "i1" | "b" => Self::I8(read(bytes, path)?),
            "u1" | "B" => Self::U8(read(bytes, path)?),
            "i2" => Self::I16(read(bytes, path)?),
            "u2" => Self::U16(read(bytes, path)?),
            "i4" => Self::I32(read(bytes, path)?),
            "u4" => Self::U32(read(bytes, path)?),
            "f4" => Self::F32(read(bytes, path)?),
            "i8" => Self::I64(read(bytes, path)?),
            "u8" => Self::U64(read(bytes, path)?),
            _ => Self::F64(read(bytes, path)?),
        })
    }
}

/// Reads a `.npy` file of any supported element type.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; see [`AnyArray::from_npy_bytes`] for bad contents.
#[tracing::instrument(level = "debug", skip_all)]
pub fn read_npy(path: &Path) -> Result<AnyArray, Error> {
    let bytes = fs::read(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    AnyArray::from_npy_bytes(&bytes, path)
}

/// Writes an array as a `.npy` file numpy can load.
///
/// # Errors
/// [`Error::Io`] when the file cannot be created, [`Error::WriteNpy`] when writing fails.
#[tracing::instrument(level = "debug", skip_all)]
pub fn write_npy<A, S, D>(path: &Path, array: &ArrayBase<S, D>) -> Result<(), Error>
where
    A: WritableElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    // Atomically (the workspace's one writer): a crash or a kill never leaves half a file.
    let io = |action| {
        move |source| Error::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let mut file =
        notes_fs::AtomicFile::create(path, notes_fs::Replace::Allowed).map_err(io("create"))?;
    let mut writer = std::io::BufWriter::new(&mut file);
    array
        .write_npy(&mut writer)
        .map_err(|source| Error::WriteNpy {
            path: path.to_owned(),
            source,
        })?;
    std::io::Write::flush(&mut writer).map_err(io("write"))?;
    drop(writer);
    file.commit().map_err(io("write"))
}

/// Runs a multi-head product on two arrays read from `.npy` files (both float32, both float64,
/// both int32 or both int64), checking their dimensions.
///
/// # Errors
/// [`Error::DtypeMismatch`], [`Error::UnsupportedDtype`] (with `x_path` or `w_path` named),
/// [`Error::WrongNdim`] or [`Error::ShapeMismatch`].
pub fn multihead(x: &AnyArray, w: &AnyArray, form: Form, x_path: &Path) -> Result<AnyArray, Error> {
    fn run<A: MultiHeadElement>(
        x: &ArrayD<A>,
        w: &ArrayD<A>,
        form: Form,
    ) -> Result<ArrayD<A>, Error> {
        let op = match form {
            Form::HeadsFirst => "heads_first",
            Form::Batched => "batched",
        };
        let wrong = |name, expected| {
            let (shape, other_name, other) = if name == "w" {
                (w.shape(), "x", x.shape())
            } else {
                (x.shape(), "w", w.shape())
            };
            Error::WrongNdim {
                op,
                name,
                expected,
                shape: shape.to_vec(),
                other_name,
                other: other.to_vec(),
            }
        };
        let w3 = w
            .view()
            .into_dimensionality::<Ix3>()
            .map_err(|_| wrong("w", 3))?;
        Ok(match form {
            Form::HeadsFirst => {
                let x1 = x
                    .view()
                    .into_dimensionality::<Ix1>()
                    .map_err(|_| wrong("x", 1))?;
                crate::heads_first(&w3, &x1)?.into_dyn()
            }
            Form::Batched => {
                let x2 = x
                    .view()
                    .into_dimensionality::<Ix2>()
                    .map_err(|_| wrong("x", 2))?;
                crate::batched(&x2, &w3)?.into_dyn()
            }
        })
    }
    let op = "the multi-head product";
    match (x, w) {
        (AnyArray::F32(x), AnyArray::F32(w)) => Ok(AnyArray::F32(run(x, w, form)?)),
        (AnyArray::F64(x), AnyArray::F64(w)) => Ok(AnyArray::F64(run(x, w, form)?)),
        (AnyArray::I32(x), AnyArray::I32(w)) => Ok(AnyArray::I32(run(x, w, form)?)),
        (AnyArray::I64(x), AnyArray::I64(w)) => Ok(AnyArray::I64(run(x, w, form)?)),
        (x, w) if x.dtype() != w.dtype() => Err(Error::DtypeMismatch {
            op,
            left_name: "x",
            left: x.dtype(),
            right_name: "w",
            right: w.dtype(),
        }),
        (x, _) => Err(Error::UnsupportedDtype {
            path: x_path.to_owned(),
            dtype: x.dtype(),
            op,
            expected: "float32, float64, int32 or int64",
        }),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::arr2;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let a = arr2(&[[1.5_f32, 2.0], [3.0, -4.0]]);
        write_npy(&path, &a).unwrap();
        let back = read_npy(&path).unwrap();
        assert_eq!(back, AnyArray::F32(a.into_dyn()));
        assert_eq!(back.dtype(), "float32");
    }

    #[test]
    fn a_lying_header_is_refused_before_allocating() {
        let mut bytes = Vec::new();
        ndarray::Array1::<f64>::zeros(1)
            .write_npy(&mut bytes)
            .unwrap();
        // Claim 999999999999 elements, keeping the header's length (its padding shrinks).
        let text = String::from_utf8(bytes[10..].to_vec()).unwrap_or_default();
        let header_end = text.find('\n').unwrap();
        let lie = text[..header_end].replace("(1,)", "(999999999999,)");
        let lie = format!("{:<header_end$}", lie.trim_end());
        let mut forged = bytes[..10].to_vec();
        forged.extend_from_slice(lie.as_bytes());
        forged.extend_from_slice(&bytes[10 + header_end..]);
        assert_eq!(forged.len(), bytes.len());
        let err = AnyArray::from_npy_bytes(&forged, Path::new("x.npy")).unwrap_err();
        assert!(matches!(err, Error::NpyTruncated { .. }), "{err}");
        assert!(err.to_string().starts_with("x.npy is truncated"), "{err}");
    }

    /// The whole error chain, as `notes` prints it.
    fn chain(err: &dyn std::error::Error) -> String {
        let mut text = err.to_string();
        let mut next = err.source();
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }

    #[test]
    fn a_file_that_is_not_npy_is_named_once_with_one_reason() {
        let err = AnyArray::from_npy_bytes(b"hello\n", Path::new("x.npy")).unwrap_err();
        assert_eq!(
            chain(&err),
            "x.npy is not a .npy file: it does not start with numpy's magic string \\x93NUMPY"
        );
        // The reason is in the variant's own message, with ndarray-npy's error kept beside it.
        assert!(std::error::Error::source(&err).is_none());
        assert!(matches!(
            err,
            Error::NpyHeader {
                error: ndarray_npy::npy::header::ReadHeaderError::Parse(
                    ndarray_npy::npy::header::ParseHeaderError::MagicString
                ),
                ..
            }
        ));
        let err = AnyArray::from_npy_bytes(b"", Path::new("e.npy")).unwrap_err();
        assert_eq!(
            chain(&err),
            "e.npy is not a .npy file: the file ends before its header does"
        );
        let mut bytes = Vec::new();
        ndarray::Array1::<f64>::zeros(2)
            .write_npy(&mut bytes)
            .unwrap();
        bytes.push(0);
        let err = AnyArray::from_npy_bytes(&bytes, Path::new("t.npy")).unwrap_err();
        let text = chain(&err);
        assert_eq!(text.matches("extra bytes").count(), 1, "{text}");
        assert!(matches!(
            err,
            Error::ReadNpy {
                error: ndarray_npy::ReadNpyError::ExtraBytes(1),
                ..
            }
        ));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = AnyArray::from_npy_bytes(&bytes, Path::new("fuzz.npy"));
        }

        #[test]
        fn never_panics_on_a_mangled_header(cut in 0usize..140, byte in any::<u8>(), at in 0usize..140) {
            let mut bytes = Vec::new();
            ndarray::Array2::<i64>::zeros((3, 4)).write_npy(&mut bytes).unwrap();
            let at = at % bytes.len();
            bytes[at] = byte;
            bytes.truncate(cut.max(1).min(bytes.len()));
            let _ = AnyArray::from_npy_bytes(&bytes, Path::new("fuzz.npy"));
        }
    }
}
