//! Block mode: the input cut into fixed-size blocks, each transformed on its own, in a
//! self-describing container so that the inverse needs nothing but the container's bytes.
//!
//! Layout (all integers little-endian):
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `NBWT` (`4e 42 57 54`) |
//! | 4 | 1 | format version, 2 (version 1 is still read: the same without the CRC-32s) |
//! | 5 | 8 | block size `B` (at least 1) |
//! | 13 | 8 | length `N` of the original |
//! | 21 | | `ceil(N / B)` blocks: the block's index (8 bytes), the CRC-32 (ISO-HDLC, as zlib and bzip2's) of the block's original bytes (4 bytes), then its last column (`min(B, rest)` bytes) |
//!
//! Nothing may follow the last block.
//! The CRC-32 catches damage that still inverts (any in-range change of an index, and some
//! changes to a last column, give another valid BWT, which would decode silently to wrong
//! bytes); it is one sequential pass over each block, small beside the suffix sort (not
//! measured separately).

use std::io::{Read, Write};

use super::{bwt_bytes_in_place, inverse_bwt_bytes_in_place};
use crate::Error;

/// The four bytes every container starts with.
pub const CONTAINER_MAGIC: [u8; 4] = *b"NBWT";
/// The container format version this crate writes (it also reads version 1, which has no
/// CRC-32s).
pub const CONTAINER_VERSION: u8 = 2;
/// The default block size, bzip2's largest (900 kB).
pub const DEFAULT_BLOCK_SIZE: usize = 900_000;
const HEADER_LEN: usize = 21;

/// How [`write_container`] cuts and transforms its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockOptions {
    block_size: usize,
    parallel: bool,
}

impl Default for BlockOptions {
    /// Blocks of [`DEFAULT_BLOCK_SIZE`] bytes, transformed in parallel when the `parallel`
    /// feature is on.
    fn default() -> Self {
        Self {
            block_size: DEFAULT_BLOCK_SIZE,
            parallel: true,
        }
    }
}

impl BlockOptions {
    /// Sets the block size in bytes; `usize::MAX` (or anything at least the input's length)
    /// makes the whole input one block. Zero is refused by [`write_container`].
    #[must_use]
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes;
        self
    }

    /// Transforms blocks on all of rayon's threads (one block per thread) when the
    /// `parallel` feature is on; without it, or with `false`, blocks go one after another.
    #[must_use]
    pub fn parallel(mut self, on: bool) -> Self {
        self.parallel = on;
        self
    }

    /// The block size in bytes.
    pub fn get_block_size(&self) -> usize {
        self.block_size
    }

    /// How many blocks are transformed at once, so memory stays bounded by the batch.
    fn batch(&self) -> usize {
        #[cfg(feature = "parallel")]
        if self.parallel {
            return 2 * rayon::current_num_threads();
        }
        1
    }
}

/// Maps `f` over `items`, on rayon's threads when allowed; results keep their order.
fn map_blocks<I: Send, O: Send>(
    items: Vec<I>,
    parallel: bool,
    f: impl Fn(I) -> O + Sync + Send,
) -> Vec<O> {
    #[cfg(feature = "parallel")]
    if parallel && items.len() > 1 {
        use rayon::prelude::*;
        return items.into_par_iter().map(f).collect();
    }
    let _ = parallel;
    items.into_iter().map(f).collect()
}

fn write_err(source: std::io::Error) -> Error {
    Error::Io {
        action: "write the container",
        source,
    }
}

/// Transforms `input` block by block and writes the container to `out`.
///
/// `progress` is called with the number of input bytes done after each batch of blocks.
///
/// # Errors
///
/// [`Error::BlockSize`] for a zero block size, [`Error::Io`] if `out` fails.
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn write_container<W: Write>(
    input: &[u8],
    options: &BlockOptions,
    out: W,
    progress: &mut dyn FnMut(u64),
) -> Result<(), Error> {
    write_container_from(input, input.len() as u64, options, out, progress)
}

/// [`write_container`] reading its input from `input`, which must yield exactly `len`
/// bytes (a file's length, say), so that memory stays at one batch of blocks (twice the
/// thread count) rather than the whole input.
///
/// # Errors
///
/// [`Error::BlockSize`] for a zero block size, [`Error::InputLength`] if `input` does not
/// yield exactly `len` bytes, [`Error::Io`] if reading or writing fails.
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn write_container_from<R: Read, W: Write>(
    mut input: R,
    len: u64,
    options: &BlockOptions,
    mut out: W,
    progress: &mut dyn FnMut(u64),
) -> Result<(), Error> {
    if options.block_size == 0 {
        return Err(Error::BlockSize { size: 0 });
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(&CONTAINER_MAGIC);
    header.push(CONTAINER_VERSION);
    header.extend_from_slice(&(options.block_size as u64).to_le_bytes());
    header.extend_from_slice(&len.to_le_bytes());
    out.write_all(&header).map_err(write_err)?;
    let read_err = |source| Error::Io {
        action: "read the input",
        source,
    };
    let mut done = 0u64;
    while done < len {
        // Read a batch; a block's buffer grows only as bytes arrive, so a wrong `len`
        // cannot make this allocate more than the input holds.
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut planned = done;
        while batch.len() < options.batch() && planned < len {
            let want = (options.block_size as u64).min(len - planned);
            let mut block = Vec::new();
            let got = (&mut input)
                .take(want)
                .read_to_end(&mut block)
                .map_err(read_err)? as u64;
            if got < want {
                return Err(Error::InputLength {
                    expected: len,
                    found: planned + got,
                });
            }
            planned += got;
            batch.push(block);
        }
        // Each block becomes its last column in place (5 bytes of memory per block byte).
        let transformed = map_blocks(batch, options.parallel, |mut block| {
            let crc = crc32fast::hash(&block);
            let index = bwt_bytes_in_place(&mut block);
            (block, index, crc)
        });
        for (last, index, crc) in transformed {
            out.write_all(&(index as u64).to_le_bytes())
                .and_then(|()| out.write_all(&crc.to_le_bytes()))
                .and_then(|()| out.write_all(&last))
                .map_err(write_err)?;
            done += last.len() as u64;
        }
        progress(done);
    }
    let mut extra = [0u8; 1];
    let more = loop {
        match input.read(&mut extra) {
            Ok(k) => break k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(e)),
        }
    };
    if more > 0 {
        return Err(Error::InputLength {
            expected: len,
            found: len + 1,
        });
    }
    out.flush().map_err(write_err)
}

/// [`write_container`] into memory.
///
/// # Errors
///
/// [`Error::BlockSize`] for a zero block size.
pub fn encode_container(input: &[u8], options: &BlockOptions) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(input.len() + HEADER_LEN + 8 * input.len().div_ceil(64));
    write_container(input, options, &mut out, &mut |_| {})?;
    Ok(out)
}

/// The header of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerHeader {
    /// Format version (1: no CRC-32s, 2: a CRC-32 per block).
    pub version: u8,
    /// Block size in bytes.
    pub block_size: u64,
    /// Length of the original in bytes.
    pub len: u64,
}

/// Reads `buf.len()` bytes, or fewer at the end of the input; returns how many were read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, Error> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Io {
                    action: "read the container",
                    source,
                });
            }
        }
    }
    Ok(got)
}

fn corrupt(offset: u64, reason: impl Into<String>) -> Error {
    Error::Container {
        offset,
        reason: reason.into(),
    }
}

/// Reads and checks a container's header.
///
/// # Errors
///
/// [`Error::NotContainer`] if the input does not start with [`CONTAINER_MAGIC`],
/// [`Error::ContainerVersion`] for another version, [`Error::Container`] for a truncated
/// header or a zero block size, [`Error::Io`] if reading fails.
pub fn read_container_header<R: Read>(input: &mut R) -> Result<ContainerHeader, Error> {
    let mut header = [0u8; HEADER_LEN];
    let got = read_full(input, &mut header)?;
    if got < 4 || header[..4] != CONTAINER_MAGIC {
        return Err(Error::NotContainer {
            found: header[..got.min(4)].to_vec(),
        });
    }
    if got < 5 {
        return Err(corrupt(got as u64, "the header is truncated"));
    }
    if !(1..=CONTAINER_VERSION).contains(&header[4]) {
        return Err(Error::ContainerVersion {
            version: Some(header[4]),
        });
    }
    if got < HEADER_LEN {
        return Err(corrupt(got as u64, "the header is truncated"));
    }
    let block_size = u64::from_le_bytes(header[5..13].try_into().unwrap_or_default());
    let len = u64::from_le_bytes(header[13..21].try_into().unwrap_or_default());
    if block_size == 0 {
        return Err(corrupt(5, "the block size is 0"));
    }
    Ok(ContainerHeader {
        version: header[4],
        block_size,
        len,
    })
}

/// A block as read from a container: its number, byte offset, index, CRC-32 (version 2)
/// and last column.
type StoredBlock = (u64, u64, usize, Option<u32>, Vec<u8>);

/// Reads a container from `input` and writes the restored original to `out`, block by block
/// (memory stays at a batch of blocks); returns the number of bytes written.
///
/// `progress` is called with the number of bytes restored after each batch of blocks.
/// Blocks are inverted in parallel with the `parallel` feature.
///
/// # Errors
///
/// Those of [`read_container_header`]; [`Error::Block`] (wrapping [`Error::BwtIndex`] or
/// [`Error::NotBwt`]) for a block that is not a valid BWT, or wrapping [`Error::Checksum`]
/// for one that inverts to bytes other than those written, [`Error::Container`] for a
/// truncated container or bytes after its last block, [`Error::Io`] if reading or writing
/// fails.
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn read_container<R: Read, W: Write>(
    mut input: R,
    mut out: W,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, Error> {
    let header = read_container_header(&mut input)?;
    let options = BlockOptions::default();
    let mut offset = HEADER_LEN as u64;
    let mut done = 0u64;
    let mut number = 0u64;
    while done < header.len {
        // Read a batch of blocks; a block's buffer grows only as its bytes arrive, so a
        // forged block size cannot make this allocate more than the input holds.
        let mut batch: Vec<StoredBlock> = Vec::new();
        let mut planned = done;
        while batch.len() < options.batch() && planned < header.len {
            let len = header.block_size.min(header.len - planned);
            let mut index = [0u8; 8];
            if read_full(&mut input, &mut index)? < 8 {
                return Err(corrupt(offset, format!("block {number} is missing")));
            }
            let index = u64::from_le_bytes(index);
            let crc = if header.version >= 2 {
                let mut crc = [0u8; 4];
                if read_full(&mut input, &mut crc)? < 4 {
                    return Err(corrupt(offset + 8, format!("block {number} is truncated")));
                }
                Some(u32::from_le_bytes(crc))
            } else {
                None
            };
            let head = if crc.is_some() { 12 } else { 8 };
            let mut last = Vec::new();
            let got = (&mut input)
                .take(len)
                .read_to_end(&mut last)
                .map_err(|source| Error::Io {
                    action: "read the container",
                    source,
                })?;
            if (got as u64) < len {
                return Err(corrupt(
                    offset + head,
                    format!("block {number} is truncated: {got} of its {len} bytes are there"),
                ));
            }
            let index = usize::try_from(index).unwrap_or(usize::MAX);
            batch.push((number, offset, index, crc, last));
            offset += head + len;
            planned += len;
            number += 1;
        }
        // Each block is restored in place (5 bytes of memory per block byte).
        let restored = map_blocks(
            batch,
            options.parallel,
            |(number, offset, index, crc, mut text)| {
                let checked =
                    inverse_bwt_bytes_in_place(&mut text, index).and_then(|()| match crc {
                        Some(expected) => {
                            let found = crc32fast::hash(&text);
                            if found == expected {
                                Ok(())
                            } else {
                                Err(Error::Checksum { expected, found })
                            }
                        }
                        None => Ok(()),
                    });
                (number, offset, checked.map(|()| text))
            },
        );
        for (number, offset, text) in restored {
            let text = text.map_err(|source| Error::Block {
                block: number,
                offset,
                source: Box::new(source),
            })?;
            out.write_all(&text).map_err(|source| Error::Io {
                action: "write the restored data",
                source,
            })?;
            done += text.len() as u64;
        }
        progress(done);
    }
    let mut extra = [0u8; 1];
    if read_full(&mut input, &mut extra)? > 0 {
        return Err(corrupt(
            offset,
            "there are bytes after the last block (the header says the original has ".to_owned()
                + &header.len.to_string()
                + " bytes)",
        ));
    }
    out.flush().map_err(|source| Error::Io {
        action: "write the restored data",
        source,
    })?;
    Ok(done)
}

/// [`read_container`] from and into memory.
///
/// # Errors
///
/// Those of [`read_container`] except [`Error::Io`].
pub fn decode_container(container: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    read_container(container, &mut out, &mut |_| {})?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_over_block_sizes() {
        let text: Vec<u8> = b"^BANANA|".repeat(37).into_iter().chain(0..=255).collect();
        for block in [1, 2, 7, 8, 100, 4096, usize::MAX] {
            for parallel in [false, true] {
                let options = BlockOptions::default().block_size(block).parallel(parallel);
                let c = encode_container(&text, &options).unwrap();
                assert_eq!(&c[..4], b"NBWT");
                assert_eq!(decode_container(&c).unwrap(), text, "block size {block}");
            }
        }
        let empty = encode_container(b"", &BlockOptions::default()).unwrap();
        assert_eq!(empty.len(), HEADER_LEN);
        assert_eq!(decode_container(&empty).unwrap(), b"");
    }

    #[test]
    fn layout_of_the_notes_example() {
        let c = encode_container(b"^BANANA|", &BlockOptions::default()).unwrap();
        let mut expected = b"NBWT\x02".to_vec();
        expected.extend_from_slice(&900_000u64.to_le_bytes());
        expected.extend_from_slice(&8u64.to_le_bytes());
        expected.extend_from_slice(&6u64.to_le_bytes());
        // CRC-32 of "^BANANA|" (zlib.crc32(b"^BANANA|") in Python).
        expected.extend_from_slice(&0x3ca0_b9edu32.to_le_bytes());
        expected.extend_from_slice(b"BNN^AA|A");
        assert_eq!(c, expected);
        // Version 1, the same without the CRC-32, still reads.
        let mut v1 = expected[..29].to_vec();
        v1[4] = 1;
        v1.extend_from_slice(b"BNN^AA|A");
        assert_eq!(decode_container(&v1).unwrap(), b"^BANANA|");
    }

    #[test]
    fn damage_that_still_inverts_is_caught_by_the_crc() {
        // "BNN^AA|A" with index 5 instead of 6 is a valid BWT (of a rotation of the
        // original), so only the CRC-32 can tell.
        let mut c = encode_container(b"^BANANA|", &BlockOptions::default()).unwrap();
        c[HEADER_LEN] = 5;
        let e = decode_container(&c).unwrap_err();
        assert!(
            matches!(&e, Error::Block { block: 0, source, .. } if matches!(**source, Error::Checksum { expected: 0x3ca0_b9ed, .. })),
            "{e:?}"
        );
        let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(
            chain.contains("block 0") && chain.contains("CRC-32"),
            "{chain}"
        );
    }

    #[test]
    fn streamed_input_must_have_the_announced_length() {
        let text = b"^BANANA|".repeat(100);
        let options = BlockOptions::default().block_size(64);
        let mut streamed = Vec::new();
        write_container_from(
            &text[..],
            text.len() as u64,
            &options,
            &mut streamed,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(streamed, encode_container(&text, &options).unwrap());
        let short = write_container_from(&text[..], 801, &options, Vec::new(), &mut |_| {});
        assert!(
            matches!(
                short,
                Err(Error::InputLength {
                    expected: 801,
                    found: 800
                })
            ),
            "{short:?}"
        );
        let long = write_container_from(&text[..], 799, &options, Vec::new(), &mut |_| {});
        assert!(
            matches!(
                long,
                Err(Error::InputLength {
                    expected: 799,
                    found: 800
                })
            ),
            "{long:?}"
        );
        let message = long.unwrap_err().to_string();
        assert!(message.contains("has more than 799 bytes"), "{message}");
    }

    #[test]
    fn bad_containers_are_errors() {
        let good = encode_container(b"^BANANA|", &BlockOptions::default().block_size(3)).unwrap();
        let check = |bytes: &[u8], expected: &str| {
            let e = decode_container(bytes).unwrap_err().to_string();
            assert!(e.contains(expected), "{e:?} lacks {expected:?}");
        };
        check(b"", "expected the magic bytes");
        check(b"PK\x03\x04rest", "found 50 4b 03 04");
        check(b"NBWT\x03", "version 3");
        check(b"NBWT\x00", "version 0");
        check(&good[..10], "header is truncated");
        check(&good[..good.len() - 1], "block 2 is truncated");
        check(&good[..HEADER_LEN + 4], "block 0 is missing");
        check(&[&good[..], b"x"].concat(), "bytes after the last block");
        let mut bad_index = good.clone();
        bad_index[HEADER_LEN] = 3;
        check(&bad_index, "block 0");
        let mut zero = good.clone();
        zero[5..13].fill(0);
        check(&zero, "block size is 0");
        assert!(matches!(
            write_container(
                b"x",
                &BlockOptions::default().block_size(0),
                Vec::new(),
                &mut |_| {}
            ),
            Err(Error::BlockSize { size: 0 })
        ));
    }

    proptest::proptest! {
        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = decode_container(&bytes);
        }

        #[test]
        fn reader_never_panics_on_mutated_headers(
            text in proptest::collection::vec(0u8..4, 0..60),
            block in 1usize..20,
            at in 0usize..100,
            byte in proptest::num::u8::ANY,
        ) {
            let mut c = encode_container(&text, &BlockOptions::default().block_size(block)).unwrap();
            let at = at % c.len();
            c[at] = byte;
            if let Ok(back) = decode_container(&c) {
                // The CRC-32s let no change through that alters the restored bytes.
                proptest::prop_assert_eq!(back, text);
            }
        }
    }
}
