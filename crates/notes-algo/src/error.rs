//! The one error type of `notes-algo`: every variant names the input it concerns.

/// What can go wrong in `notes-algo`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// JSON text given to [`parse_json`](crate::parse_json) is malformed.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (in characters) of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// [`nth_prime`](crate::nth_prime) was asked for the 0th prime, or for one beyond the
    /// primes below 2^64.
    #[error(
        "there is no prime number {k}: k must be between 1 and 425656284035217743 (the primes below 2^64)"
    )]
    NthPrime {
        /// The requested (1-based) index.
        k: u64,
    },
    /// A thread count of zero was requested.
    #[error("invalid thread count {threads}: at least 1 thread is needed")]
    Threads {
        /// The requested count.
        threads: usize,
    },
    /// Text given to [`parse_u64`](crate::parse_u64) is not a number in range.
    #[error("invalid number {input:?}: {reason}")]
    InvalidNumber {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A count of permutations does not fit in a `u128`.
    #[error("the number of permutations of {len} items does not fit in 128 bits")]
    CountOverflow {
        /// How many items were permuted.
        len: usize,
    },
    /// The index given to an inverse BWT is not a row of the last column.
    #[error(
        "BWT index {index} is out of range: {}",
        if *len == 0 {
            "an empty last column takes index 0 only".to_owned()
        } else {
            format!("a last column of {len} symbols has rows 0 to {}", len - 1)
        }
    )]
    BwtIndex {
        /// The index as given.
        index: usize,
        /// Length of the last column.
        len: usize,
    },
    /// The last column and index given to an inverse BWT are not the BWT of any string.
    #[error("the last column ({len} symbols) with index {index} is not a BWT: {reason}")]
    NotBwt {
        /// Length of the last column.
        len: usize,
        /// The index as given.
        index: usize,
        /// What is inconsistent.
        reason: String,
    },
    /// Input given to the container reader does not start with the container's magic bytes.
    #[error(
        "not a BWT container: expected the magic bytes \"NBWT\" (4e 42 57 54), found {}",
        hex_or_nothing(found)
    )]
    NotContainer {
        /// The first (up to 4) bytes found.
        found: Vec<u8>,
    },
    /// A BWT container of a format version this crate does not read.
    #[error(
        "unsupported BWT container version {}: this version of notes-algo reads versions 1 and 2",
        version.map_or_else(|| "(missing)".to_owned(), |v| v.to_string())
    )]
    ContainerVersion {
        /// The version byte found, if there was one.
        version: Option<u8>,
    },
    /// A BWT container is truncated or malformed.
    #[error("corrupt BWT container at byte {offset}: {reason}")]
    Container {
        /// Byte offset in the container where the problem is.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A block of a BWT container does not invert.
    #[error("corrupt BWT container: block {block} (at byte {offset})")]
    Block {
        /// 0-based number of the block.
        block: u64,
        /// Byte offset of the block in the container.
        offset: u64,
        /// Why it does not invert ([`Error::BwtIndex`], [`Error::NotBwt`] or
        /// [`Error::Checksum`]).
        #[source]
        source: Box<Error>,
    },
    /// A block of a BWT container inverted to bytes whose CRC-32 is not the one stored with
    /// it: the container was damaged after it was written.
    #[error("the restored bytes have CRC-32 {found:08x}, but the container stored {expected:08x}")]
    Checksum {
        /// The CRC-32 stored in the container.
        expected: u32,
        /// The CRC-32 of the bytes the block inverted to.
        found: u32,
    },
    /// The reader given to [`write_container_from`](crate::write_container_from) ended
    /// before, or went on after, the length it was announced with.
    #[error(
        "the input has {} bytes, not the {expected} bytes announced (did it change while being read?)",
        if found > expected { format!("more than {expected}") } else { found.to_string() }
    )]
    InputLength {
        /// The announced length.
        expected: u64,
        /// How many bytes were read (at least `expected + 1` when it went on).
        found: u64,
    },
    /// A block size of zero was requested.
    #[error("invalid block size {size}: a block holds at least 1 byte")]
    BlockSize {
        /// The requested size.
        size: usize,
    },
    /// Reading or writing a container failed.
    #[error("cannot {action}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// `4e 42 57 54`, or `nothing (empty input)`.
fn hex_or_nothing(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (the input is empty)".to_owned();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
