//! Inputs `notes` reads whole: a file, or `-` for standard input, never more than a limit
//! (checked against a regular file's size before reading a byte, and enforced by reading at
//! most one byte past the limit, so an endless input such as `/dev/zero` stops there).

use std::io::Read;
use std::path::Path;

use anyhow::Context;

/// Whether `path` is `-`, standard input.
pub(crate) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The name errors give `path`: `stdin` for `-`.
pub(crate) fn name(path: &Path) -> String {
    if is_stdin(path) {
        "stdin".to_owned()
    } else {
        notes_fs::Escaped(path).to_string()
    }
}

/// Reads all of `path` (standard input for `-`), refusing more than `limit` bytes with an
/// error that names the input and `flag`, the option that raises the limit.
pub(crate) fn read_bytes(path: &Path, limit: u64, flag: &str) -> anyhow::Result<Vec<u8>> {
    let name = name(path);
    if is_stdin(path) {
        return read_from(std::io::stdin().lock(), limit, None, &name, flag);
    }
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {name}"))?;
    // A regular file's size is known: refuse it before reading a byte.
    let size = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    read_from(file, limit, size, &name, flag)
}

/// [`read_bytes`], as UTF-8 text.
pub(crate) fn read_text(path: &Path, limit: u64, flag: &str) -> anyhow::Result<String> {
    utf8(read_bytes(path, limit, flag)?, &name(path))
}

/// Checks that `bytes`, read from the input called `name`, are UTF-8 text.
pub(crate) fn utf8(bytes: Vec<u8>, name: &str) -> anyhow::Result<String> {
    String::from_utf8(bytes).map_err(|err| {
        anyhow::anyhow!(
            "{name} is not UTF-8 text: invalid byte at offset {}",
            err.utf8_error().valid_up_to()
        )
    })
}

/// Reads all of `reader` (the input called `name`), refusing more than `limit` bytes
/// (checked against `size` before reading when it is known, and by reading at most
/// `limit + 1` bytes always).
pub(crate) fn read_from(
    reader: impl Read,
    limit: u64,
    size: Option<u64>,
    name: &str,
    flag: &str,
) -> anyhow::Result<Vec<u8>> {
    let too_large = |what: String| {
        anyhow::anyhow!(
            "{name} holds {what} than the input limit of {limit} bytes ({flag} raises it)"
        )
    };
    if let Some(size) = size.filter(|&size| size > limit) {
        return Err(too_large(format!("{size} bytes, more")));
    }
    let capacity = size.unwrap_or(0).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large("more bytes".to_owned()));
    }
    Ok(bytes)
}
