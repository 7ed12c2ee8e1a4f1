//! The Burrows–Wheeler transform in the notes' rotation form (no sentinel).
//!
//! `bwt(s)` sorts the `n` cyclic rotations of `s` and returns the last symbol of each, in
//! order, with the index of `s` among the sorted rotations; `inverse_bwt(last, index)` gives
//! `s` back. The notes' Python does this in O(n² log n) time and O(n²) memory; here the
//! forward transform goes through a suffix array (O(n), see [`forward`]) and the inverse
//! walks the LF mapping (O(n), see [`inverse`]).
//!
//! Corner cases the notes leave open: the empty input gives `("", 0)` (the Python raises
//! `ValueError`), and when rotations repeat (`"abab"`, `"aaaa"`) the index is the first sorted
//! row holding `s`, as Python's `list.index` gives.

mod container;
mod forward;
mod inverse;
mod sais32;

pub use container::{
    BlockOptions, CONTAINER_MAGIC, CONTAINER_VERSION, ContainerHeader, DEFAULT_BLOCK_SIZE,
    decode_container, encode_container, read_container, read_container_header, write_container,
    write_container_from,
};

use crate::Error;

/// The BWT of a string, by characters: the last column and the index of `s` among the sorted
/// rotations.
///
/// ```
/// assert_eq!(notes_algo::bwt("^BANANA|"), ("BNN^AA|A".to_owned(), 6));
/// assert_eq!(notes_algo::bwt("abab"), ("bbaa".to_owned(), 0));
/// assert_eq!(notes_algo::bwt(""), (String::new(), 0));
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn bwt(s: &str) -> (String, usize) {
    if s.is_ascii() {
        let (last, index) = forward::bwt_bytes(s.as_bytes());
        // ASCII bytes are characters, so the last column is ASCII too.
        return (last.into_iter().map(char::from).collect(), index);
    }
    let chars: Vec<char> = s.chars().collect();
    let (last, index) = forward::bwt_generic(&chars);
    (last.into_iter().collect(), index)
}

/// The BWT of bytes (the fast path: libsais' BWT mode on the least rotation, 6 bytes of
/// memory per input byte below 2^31 bytes; from 2^31 to 2^32 - 1 bytes the crate's own
/// SA-IS with unsigned 32-bit indices, about 6.25; 10 above; [`bwt_bytes_in_place`] needs one
/// less).
///
/// ```
/// assert_eq!(notes_algo::bwt_bytes(b"^BANANA|"), (b"BNN^AA|A".to_vec(), 6));
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn bwt_bytes(s: &[u8]) -> (Vec<u8>, usize) {
    forward::bwt_bytes(s)
}

/// [`bwt_bytes`] in place: `buf` is replaced by its last column and the index is returned.
///
/// This saves the copy of the input: 5 bytes of memory per input byte below 2^31 bytes
/// (libsais' 4-byte work array besides `buf`), about 5.25 from 2^31 to 2^32 - 1 bytes (a
/// 4-byte suffix array and its type bits), 9 above.
///
/// ```
/// let mut buf = b"^BANANA|".to_vec();
/// assert_eq!(notes_algo::bwt_bytes_in_place(&mut buf), 6);
/// assert_eq!(buf, b"BNN^AA|A");
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn bwt_bytes_in_place(buf: &mut [u8]) -> usize {
    forward::bwt_bytes_in_place(buf)
}

/// The BWT of any ordered symbols.
///
/// Up to 256 distinct symbols run on the bytes path after replacing each by its rank; more
/// need a 4-byte (8-byte above 2^31 symbols) rank per symbol besides the suffix array.
///
/// ```
/// let (last, index) = notes_algo::bwt_of(&[3, 1, 2, 1000]);
/// assert_eq!((last, index), (vec![3, 1, 1000, 2], 2));
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn bwt_of<T: Ord + Copy>(s: &[T]) -> (Vec<T>, usize) {
    forward::bwt_generic(s)
}

/// Restores a string from its BWT by characters.
///
/// ```
/// assert_eq!(notes_algo::inverse_bwt("BNN^AA|A", 6)?, "^BANANA|");
/// assert!(notes_algo::inverse_bwt("BNN^AA|A", 8).is_err());
/// # Ok::<(), notes_algo::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::BwtIndex`] if `index` is not below the number of characters (or not 0 for an
/// empty `last`), [`Error::NotBwt`] if no string has this BWT and index.
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn inverse_bwt(last: &str, index: usize) -> Result<String, Error> {
    if last.is_ascii() {
        let text = inverse::inverse_bytes(last.as_bytes(), index)?;
        return Ok(text.into_iter().map(char::from).collect());
    }
    let chars: Vec<char> = last.chars().collect();
    Ok(inverse_bwt_of(&chars, index)?.into_iter().collect())
}

/// Restores bytes from their BWT.
///
/// # Errors
///
/// As [`inverse_bwt`].
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn inverse_bwt_bytes(last: &[u8], index: usize) -> Result<Vec<u8>, Error> {
    inverse::inverse_bytes(last, index)
}

/// [`inverse_bwt_bytes`] in place: `buf`, the last column, becomes the restored bytes.
///
/// This saves the output vector: 5 bytes of memory per byte below 2^32 bytes (`buf` and a
/// 4-byte row table), 9 above.
///
/// ```
/// let mut buf = b"BNN^AA|A".to_vec();
/// notes_algo::inverse_bwt_bytes_in_place(&mut buf, 6)?;
/// assert_eq!(buf, b"^BANANA|");
/// # Ok::<(), notes_algo::Error>(())
/// ```
///
/// # Errors
///
/// As [`inverse_bwt`]; the message names the rows that break a repetition less precisely.
/// After an error `buf` holds unspecified bytes.
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn inverse_bwt_bytes_in_place(buf: &mut [u8], index: usize) -> Result<(), Error> {
    inverse::inverse_bytes_in_place(buf, index)
}

/// Restores any ordered symbols from their BWT.
///
/// # Errors
///
/// As [`inverse_bwt`].
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn inverse_bwt_of<T: Ord + Copy>(last: &[T], index: usize) -> Result<Vec<T>, Error> {
    let mut alphabet = last.to_vec();
    alphabet.sort_unstable();
    alphabet.dedup();
    let rank = |c: &T| alphabet.binary_search(c).unwrap_or_default();
    if alphabet.len() <= 256 {
        let ranks: Vec<u8> = last.iter().map(|c| rank(c) as u8).collect();
        let text = inverse::inverse_bytes(&ranks, index)?;
        return Ok(text.into_iter().map(|c| alphabet[c as usize]).collect());
    }
    if u32::try_from(alphabet.len()).is_ok() {
        let ranks: Vec<u32> = last.iter().map(|c| rank(c) as u32).collect();
        let text = inverse::inverse(&ranks, alphabet.len(), index)?;
        return Ok(text.into_iter().map(|c| alphabet[c as usize]).collect());
    }
    // More than 2^32 distinct symbols: rank them by position in the alphabet on the fly.
    let ranks: Vec<usize> = last.iter().map(rank).collect();
    let text = inverse::inverse(&ranks, alphabet.len(), index)?;
    Ok(text.into_iter().map(|c| alphabet[c]).collect())
}

#[cfg(test)]
mod tests;
