//! `.npy` files in and out (via `ndarray-npy`), with the element type read from the file.

use std::fs;
use std::io::Read;
use std::path::Path;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, Ix1, Ix2, Ix3};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyExt, WritableElement, WriteNpyExt};

use crate::{ByteOrder, Error, MultiHeadElement, NumpyElement, PrintOptions, format_array};

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

    /// numpy's `repr(a)` of the array (see [`format_repr`](crate::format_repr)).
    pub fn repr(&self, options: &PrintOptions) -> String {
        each!(self, a => crate::format_repr(a, options))
    }

    /// numpy's `repr(a)` of the array as it was in byte order `order` (`dtype='>i4'` when that
    /// is not the native order; see [`format_repr_in`](crate::format_repr_in)).
    pub fn repr_in(&self, order: ByteOrder, options: &PrintOptions) -> String {
        each!(self, a => crate::format_repr_in(a, order, options))
    }

    /// numpy's `np.array2string(a, separator=, prefix=, suffix=)` of the array (see
    /// [`array2string`](crate::array2string)).
    pub fn array2string(
        &self,
        options: &PrintOptions,
        separator: &str,
        prefix: &str,
        suffix: &str,
    ) -> String {
        each!(self, a => crate::array2string(a, options, separator, prefix, suffix))
    }

    /// Writes the array as a `.npy` file numpy can load.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be created, [`Error::WriteNpy`] when writing fails.
    pub fn write_npy(&self, path: &Path) -> Result<(), Error> {
        each!(self, a => write_npy(path, a))
    }

    /// Writes the array in `.npy` format to `writer`; `path` only names the output in errors.
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
    /// Never allocates more than the data the bytes actually hold: the header's length is
    /// checked against [`MAX_HEADER_LEN`], its dimensions against [`MAX_DIMS`] and the size
    /// its shape implies against the bytes present, before anything is allocated for them.
    ///
    /// # Errors
    /// [`Error::NpyHeader`], [`Error::NpyHeaderTooLarge`], [`Error::NpyTooManyDims`],
    /// [`Error::NpyDtype`], [`Error::NpyTruncated`] or [`Error::ReadNpy`].
    pub fn from_npy_bytes(bytes: &[u8], path: &Path) -> Result<Self, Error> {
        Self::from_npy_bytes_with_order(bytes, path).map(|(array, _)| array)
    }

    /// As [`from_npy_bytes`](Self::from_npy_bytes), with the byte order the file's dtype
    /// names (its values are converted to native order): what [`repr_in`](Self::repr_in)
    /// needs to print the array as numpy prints the array it was (`dtype='>i4'`).
    ///
    /// ```
    /// use notes_tensor::{AnyArray, ByteOrder, PrintOptions};
    /// // np.save of np.arange(3, dtype='>i4')
    /// let mut npy = b"\x93NUMPY\x01\x00v\x00".to_vec();
    /// let header = "{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }";
    /// npy.extend(format!("{header:<117}\n").bytes());
    /// npy.extend([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    /// let (a, order) = AnyArray::from_npy_bytes_with_order(&npy, "a.npy".as_ref())?;
    /// assert_eq!(order, ByteOrder::Big);
    /// let repr = a.repr_in(order, &PrintOptions::default());
    /// # if ByteOrder::NATIVE == ByteOrder::Little {
    /// assert_eq!(repr, "array([0, 1, 2], dtype='>i4')");
    /// # }
    /// # Ok::<(), notes_tensor::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_npy_bytes`](Self::from_npy_bytes).
    pub fn from_npy_bytes_with_order(
        bytes: &[u8],
        path: &Path,
    ) -> Result<(Self, ByteOrder), Error> {
        let parsed = parse_header(bytes, path)?;
        let order = parsed.order;
        let (kind, expected) = (parsed.kind, parsed.data_len);
        let rest = bytes.len() - parsed.header_len;
        // ndarray-npy allocates the whole array before reading, so a header that lies about
        // the shape must be caught here.
        if expected > rest as u128 {
            return Err(Error::NpyTruncated {
                path: path.to_owned(),
                shape: parsed.header.shape,
                expected,
                actual: rest,
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
        let array = match kind.as_str() {
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
        };
        Ok((array, order))
    }
}

/// numpy's limit on the number of dimensions of an array (`NPY_MAXDIMS` in numpy 2).
pub const MAX_DIMS: usize = 64;

/// The longest `.npy` header accepted, in bytes (the dictionary after the magic string,
/// version and length fields): 1 MiB. A header of [`MAX_DIMS`] dimensions needs under 1.5 KiB,
/// so a longer one is refused as [`Error::NpyTooManyDims`] up to about 300,000 dimensions.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// How deeply brackets may nest in a header (numpy writes 2 levels for the types read here);
/// deeper nesting would only exhaust the header parser's stack.
const MAX_HEADER_NESTING: usize = 16;

/// numpy's magic string, `\x93NUMPY`.
const MAGIC: &[u8] = b"\x93NUMPY";

/// A parsed `.npy` header.
struct Parsed {
    header: Header,
    /// The element kind with its byte order stripped: `"f8"`, `"b1"`, ...
    kind: String,
    /// The byte order the descriptor names (`=`, `|` or none: native).
    order: ByteOrder,
    /// Bytes before the data: magic string, version, length field and header.
    header_len: usize,
    /// The data size the header implies (saturated at `u128::MAX`).
    data_len: u128,
}

/// The length of the magic string, version and length field, and the header's length, read
/// from the first bytes of a file; `None` when `prefix` is too short or not a `.npy` start
/// (the header parser then says what is wrong).
fn preamble(prefix: &[u8]) -> Option<(usize, u64)> {
    if prefix.len() < 10 || !prefix.starts_with(MAGIC) {
        return None;
    }
    match prefix[6] {
        1 => Some((10, u64::from(u16::from_le_bytes([prefix[8], prefix[9]])))),
        2 | 3 if prefix.len() >= 12 => Some((
            12,
            u64::from(u32::from_le_bytes([
                prefix[8], prefix[9], prefix[10], prefix[11],
            ])),
        )),
        _ => None,
    }
}

/// Parses the header at the start of `bytes`, with every limit checked before the parser
/// (which allocates the length the file claims) sees it.
fn parse_header(bytes: &[u8], path: &Path) -> Result<Parsed, Error> {
    let header_error = |error| Error::NpyHeader {
        path: path.to_owned(),
        error,
    };
    let header_len = match preamble(bytes) {
        Some((_, len)) if len > MAX_HEADER_LEN as u64 => {
            return Err(Error::NpyHeaderTooLarge {
                path: path.to_owned(),
                len,
                max: MAX_HEADER_LEN,
            });
        }
        Some((pre, len)) => pre + len as usize,
        // Too short or malformed: small enough for the parser to say why.
        None => bytes.len().min(12),
    };
    let header_bytes = &bytes[..header_len.min(bytes.len())];
    let mut depth = 0_usize;
    for &b in header_bytes {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_HEADER_NESTING {
            return Err(Error::NpyHeaderNesting {
                path: path.to_owned(),
                max: MAX_HEADER_NESTING,
            });
        }
    }
    let mut reader = header_bytes;
    let header = Header::from_reader(&mut reader).map_err(header_error)?;
    if header.shape.len() > MAX_DIMS {
        return Err(Error::NpyTooManyDims {
            path: path.to_owned(),
            ndim: header.shape.len(),
            max: MAX_DIMS,
        });
    }
    // The descriptor is a Python literal: '<f8' for the types read here.
    let descr = header
        .type_descriptor
        .to_string()
        .trim_matches(['\'', '"'])
        .to_owned();
    let kind = descr.trim_start_matches(['<', '>', '|', '=']).to_owned();
    let order = match descr.chars().next() {
        Some('<') => ByteOrder::Little,
        Some('>') => ByteOrder::Big,
        _ => ByteOrder::NATIVE,
    };
    let item_size: u128 = match kind.as_str() {
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
    let data_len = header
        .shape
        .iter()
        .try_fold(item_size, |acc, &s| acc.checked_mul(s as u128))
        .unwrap_or(u128::MAX);
    Ok(Parsed {
        header,
        kind,
        order,
        header_len: header_bytes.len(),
        data_len,
    })
}

/// Reads at most `limit` bytes from `reader` onto `buf` (growing it only as bytes arrive).
fn read_at_most(
    reader: &mut impl Read,
    limit: u64,
    buf: &mut Vec<u8>,
    path: &Path,
) -> Result<(), Error> {
    reader
        .take(limit)
        .read_to_end(buf)
        .map(drop)
        .map_err(|source| Error::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })
}

/// Reads a `.npy` file of any supported element type.
///
/// Reads the header first and then only the data it announces, so an endless input
/// (`/dev/zero`, a pipe) or a header that lies about its shape is refused without reading
/// or allocating more than the file holds: the limits of [`AnyArray::from_npy_bytes`] apply,
/// a regular file shorter than its header says is refused before its data is read, and data
/// that could never be allocated is [`Error::NpyTooLarge`].
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; see [`AnyArray::from_npy_bytes`] for bad contents.
#[tracing::instrument(level = "debug", skip_all)]
pub fn read_npy(path: &Path) -> Result<AnyArray, Error> {
    read_npy_with_order(path).map(|(array, _)| array)
}

/// As [`read_npy`], with the byte order the file's dtype names (see
/// [`AnyArray::from_npy_bytes_with_order`]), for [`AnyArray::repr_in`].
///
/// # Errors
/// As [`read_npy`].
#[tracing::instrument(level = "debug", skip_all)]
pub fn read_npy_with_order(path: &Path) -> Result<(AnyArray, ByteOrder), Error> {
    let (mut file, len) = open_sized(path)?;
    read_npy_from(&mut file, len, path)
}

/// Opens `path` for reading, with its length when it is a regular file (a pipe or a device
/// does not say how much it holds): what the readers check their limits against.
pub(crate) fn open_sized(path: &Path) -> Result<(fs::File, Option<u64>), Error> {
    let file = fs::File::open(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    let len = file
        .metadata()
        .ok()
        .filter(fs::Metadata::is_file)
        .map(|m| m.len());
    Ok((file, len))
}

/// Reads one `.npy` from `reader`, which holds `len` bytes when that is known: the header
/// first, then only the data it announces (see [`read_npy`]).
pub(crate) fn read_npy_from(
    reader: &mut impl Read,
    len: Option<u64>,
    path: &Path,
) -> Result<(AnyArray, ByteOrder), Error> {
    let mut bytes = Vec::new();
    read_at_most(reader, 12, &mut bytes, path)?;
    let Some((pre, header)) =
        preamble(&bytes).filter(|&(_, header)| header <= MAX_HEADER_LEN as u64)
    else {
        // Not a .npy start, or a header too long: the parser names the problem.
        return AnyArray::from_npy_bytes_with_order(&bytes, path);
    };
    let header_len = pre as u64 + header;
    read_at_most(reader, header_len - bytes.len() as u64, &mut bytes, path)?;
    let parsed = parse_header(&bytes, path)?;
    let data_len = parsed.data_len;
    let header_len = parsed.header_len as u64;
    // Compare with the known size before reading any of the data.
    if let Some(held) = len.map(|len| len.saturating_sub(header_len)) {
        if u128::from(held) < data_len {
            return Err(Error::NpyTruncated {
                path: path.to_owned(),
                shape: parsed.header.shape,
                expected: data_len,
                actual: usize::try_from(held).unwrap_or(usize::MAX),
            });
        }
        if u128::from(held) > data_len {
            return Err(Error::ReadNpy {
                path: path.to_owned(),
                error: ndarray_npy::ReadNpyError::ExtraBytes(
                    usize::try_from(u128::from(held) - data_len).unwrap_or(usize::MAX),
                ),
            });
        }
    }
    let too_large = || Error::NpyTooLarge {
        path: path.to_owned(),
        shape: parsed.header.shape.clone(),
        bytes: data_len,
    };
    let data_len = u64::try_from(data_len).map_err(|_| too_large())?;
    // Ask for the memory up front, as numpy does: a shape whose data could never fit is a clear
    // error now rather than an out-of-memory kill after reading gigabytes from a stream.
    let want = usize::try_from(data_len.saturating_add(1)).map_err(|_| too_large())?;
    bytes.try_reserve_exact(want).map_err(|_| too_large())?;
    // One byte more than announced, to notice extra data on a stream.
    read_at_most(reader, data_len.saturating_add(1), &mut bytes, path)?;
    AnyArray::from_npy_bytes_with_order(&bytes, path)
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

    /// A version-2 `.npy` file with `dict` as its header and `data` after it.
    fn forge(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.as_bytes().to_vec();
        while !(12 + header.len() + 1).is_multiple_of(64) {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&u32::try_from(header.len()).unwrap().to_le_bytes());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(data);
        bytes
    }

    fn shape_dict(shape: &str) -> String {
        format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}")
    }

    #[test]
    fn more_than_64_dimensions_are_refused_like_numpy() {
        // 30,000 dimensions of length 1 once overflowed the stack (exit 134).
        let bytes = forge(&shape_dict(&format!("({})", "1, ".repeat(30_000))), &[0; 8]);
        let err = AnyArray::from_npy_bytes(&bytes, Path::new("deep.npy")).unwrap_err();
        assert!(
            matches!(err, Error::NpyTooManyDims { ndim: 30_000, .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "deep.npy has 30000 dimensions, but numpy allows at most 64"
        );
        let bytes = forge(&shape_dict(&format!("({})", "1, ".repeat(65))), &[0; 8]);
        let err = AnyArray::from_npy_bytes(&bytes, Path::new("a.npy")).unwrap_err();
        assert!(
            matches!(err, Error::NpyTooManyDims { ndim: 65, .. }),
            "{err}"
        );
        let bytes = forge(&shape_dict(&format!("({})", "1, ".repeat(64))), &[0; 8]);
        let a = AnyArray::from_npy_bytes(&bytes, Path::new("a.npy")).unwrap();
        assert_eq!(a.shape(), &[1; 64]);
        assert_eq!(
            a.format(&PrintOptions::default()),
            format!("{}0.{}", "[".repeat(64), "]".repeat(64))
        );
    }

    #[test]
    fn a_forged_header_length_is_refused_before_allocating() {
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&0xffff_fff0_u32.to_le_bytes());
        bytes.push(b'{');
        let err = AnyArray::from_npy_bytes(&bytes, Path::new("h.npy")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NpyHeaderTooLarge {
                    len: 0xffff_fff0,
                    ..
                }
            ),
            "{err}"
        );
        // A length within the limit but past the end of the input is a short header.
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&60_000_u16.to_le_bytes());
        bytes.extend_from_slice(b"{'descr'");
        let err = AnyArray::from_npy_bytes(&bytes, Path::new("h.npy")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "h.npy is not a .npy file: the file ends before its header does"
        );
    }

    #[test]
    fn deeply_nested_headers_are_refused_not_parsed() {
        let shape = format!("{}1{}", "(".repeat(20_000), ",)".repeat(20_000));
        let bytes = forge(&shape_dict(&shape), &[]);
        let err = AnyArray::from_npy_bytes(&bytes, Path::new("n.npy")).unwrap_err();
        assert!(matches!(err, Error::NpyHeaderNesting { .. }), "{err}");
    }

    #[test]
    fn errors_elide_long_shapes() {
        let shape = format!("({})", "2, ".repeat(60));
        let bytes = forge(&shape_dict(&shape), &[0; 16]);
        let err = AnyArray::from_npy_bytes(&bytes, Path::new("t.npy")).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::NpyTruncated { .. }), "{text}");
        assert!(
            text.contains("[2, 2, 2, 2, ..., 2, 2, 2, 2] (60 dimensions)"),
            "{text}"
        );
        assert!(text.len() < 200, "{text}");
    }

    #[test]
    fn reading_a_file_reads_only_what_the_header_announces() {
        let dir = tempfile::tempdir().unwrap();
        // A header promising 8 TB in a short file is refused before its data is read.
        let lie = dir.path().join("lie.npy");
        fs::write(&lie, forge(&shape_dict("(1000000000000,)"), &[0; 64])).unwrap();
        let err = read_npy(&lie).unwrap_err();
        assert!(
            matches!(err, Error::NpyTruncated { actual: 64, .. }),
            "{err}"
        );
        // Extra bytes after the data are counted from the file's size.
        let extra = dir.path().join("extra.npy");
        fs::write(&extra, forge(&shape_dict("(1,)"), &[0; 8 + 1000])).unwrap();
        let err = read_npy(&extra).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ReadNpy {
                    error: ndarray_npy::ReadNpyError::ExtraBytes(1000),
                    ..
                }
            ),
            "{err}"
        );
        // An endless input is refused after its first bytes.
        let err = read_npy(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(err, Error::NpyHeader { .. }), "{err}");
        let ok = dir.path().join("ok.npy");
        fs::write(
            &ok,
            forge(&shape_dict("(2,)"), &1.5_f64.to_le_bytes().repeat(2)),
        )
        .unwrap();
        assert_eq!(
            read_npy(&ok).unwrap(),
            AnyArray::F64(ndarray::arr1(&[1.5, 1.5]).into_dyn())
        );
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
