//! The native codec: bincode 2 through its serde support, kept in this one module.
//!
//! bincode is flagged unmaintained (RUSTSEC-2025-0141) and its 3.0.0 release is an empty
//! tombstone, so the workspace pins `=2.0.1`. Everything that touches bincode lives here;
//! replacing it (with postcard, for example) changes this file and the format byte of
//! [`store`](crate::store) files, nothing else.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::depth::{Depth, TOO_DEEP};
use crate::{Error, Limits, Result};

/// Encodes `value` with bincode's standard configuration (little-endian, varint integers).
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|err| Error::Encode(err.to_string()))
}

/// Decodes one `T` that must fill `bytes` exactly, within `limits`.
///
/// Three bounds apply: the input is at most `limits.max_len` bytes (checked by the caller
/// for frames, here for everything else); bincode's own size limit caps what a length
/// prefix inside the message may make it allocate; the [`Depth`] adapter caps nesting.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], limits: &Limits) -> Result<T> {
    if bytes.len() > limits.max_len {
        return Err(Error::FrameTooLarge {
            len: bytes.len() as u64,
            max: limits.max_len,
        });
    }
    // bincode's limit is a const generic, so pick the smallest rung that still lets every
    // valid message of `max_len` bytes decode: one input byte can claim at most 16 bytes of
    // decoded data (a one-byte varint decoded as a u128), and a length prefix must be backed
    // by input bytes, so a hostile 2^32 length fails the claim before allocating.
    let budget = limits.max_len.saturating_mul(16);
    const MIB: usize = 1 << 20;
    let (value, used) = if budget <= 16 * MIB {
        decode_with(
            bytes,
            bincode::config::standard().with_limit::<{ 16 * MIB }>(),
            limits,
        )?
    } else if budget <= 256 * MIB {
        decode_with(
            bytes,
            bincode::config::standard().with_limit::<{ 256 * MIB }>(),
            limits,
        )?
    } else {
        decode_with(
            bytes,
            bincode::config::standard().with_limit::<{ 4096 * MIB }>(),
            limits,
        )?
    };
    if used != bytes.len() {
        return Err(Error::Decode(format!(
            "{} bytes left over after the value ({} of {} bytes used)",
            bytes.len() - used,
            used,
            bytes.len()
        )));
    }
    Ok(value)
}

fn decode_with<T: DeserializeOwned, C: bincode::config::Config>(
    bytes: &[u8],
    config: C,
    limits: &Limits,
) -> Result<(T, usize)> {
    let mut reader = Rest(bytes);
    let mut decoder = bincode::serde::OwnedSerdeDecoder::from_reader(&mut reader, config);
    let value = T::deserialize(Depth {
        de: decoder.as_deserializer(),
        left: limits.max_depth,
    })
    .map_err(|err| {
        let text = err.to_string();
        if text.contains(TOO_DEEP) {
            Error::TooDeep {
                max: limits.max_depth,
            }
        } else {
            Error::Decode(text)
        }
    })?;
    Ok((value, bytes.len() - reader.0.len()))
}

/// A slice reader that, unlike bincode's, tells how much input is left.
struct Rest<'a>(&'a [u8]);

impl bincode::de::read::Reader for Rest<'_> {
    fn read(&mut self, out: &mut [u8]) -> Result<(), bincode::error::DecodeError> {
        let Some((head, tail)) = self.0.split_at_checked(out.len()) else {
            return Err(bincode::error::DecodeError::UnexpectedEnd {
                additional: out.len() - self.0.len(),
            });
        };
        out.copy_from_slice(head);
        self.0 = tail;
        Ok(())
    }

    fn peek_read(&mut self, n: usize) -> Option<&[u8]> {
        self.0.get(..n)
    }

    fn consume(&mut self, n: usize) {
        self.0 = self.0.get(n..).unwrap_or_default();
    }
}
