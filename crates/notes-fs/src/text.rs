//! Small file-text helpers from the notes' snippets, made safe: atomic writes, errors that name
//! the path and the bad token, no silent loss.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// The characters besides letters and digits that [`clean_filename`] keeps by default,
/// as in the notes' `allowed_non_alnum_chars="-_.,"`.
pub const DEFAULT_ALLOWED: &str = "-_.,";

/// Replaces every character that is neither alphanumeric (Unicode, like Python's
/// `str.isalnum`) nor in `allowed` with `_`, one `_` per character.
///
/// ```
/// use notes_fs::{clean_filename, DEFAULT_ALLOWED};
/// assert_eq!(clean_filename("hello/world:!\\.txt", DEFAULT_ALLOWED), "hello_world___.txt");
/// assert_eq!(clean_filename("Grüße 2024.txt", DEFAULT_ALLOWED), "Grüße_2024.txt");
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn clean_filename(name: &str, allowed: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || allowed.contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Creates `dir` and its missing parents; returns `true` if it had to create it.
///
/// An existing directory is fine; an existing file at that path is an error
/// ([`Error::NotADirectory`]), not silently ignored.
#[tracing::instrument(level = "debug", skip_all)]
pub fn ensure_dir(dir: &Path) -> Result<bool> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(false),
        Ok(_) => Err(Error::NotADirectory {
            path: dir.to_path_buf(),
        }),
        Err(_) => {
            fs::create_dir_all(dir).map_err(Error::io("create directory", dir))?;
            Ok(true)
        }
    }
}

/// Writes `contents` to `path` atomically (see [`AtomicFile`](crate::AtomicFile)): a crash or
/// a kill leaves either the old file or the new one, never half of one, and a new file gets
/// mode `0666` less the umask.
///
/// Like Python's `open(path, "w")`, an existing file at `path` is replaced (keeping its
/// mode); use [`write_file`](crate::write_file) with [`Replace::Never`](crate::Replace::Never)
/// to refuse instead.
#[tracing::instrument(level = "debug", skip_all)]
pub fn write_text(path: &Path, contents: &str) -> Result<()> {
    write_bytes(path, contents.as_bytes())
}

/// Writes `contents` to `path` atomically, like [`write_text`] but for bytes (a list of paths
/// that are not all UTF-8, for instance).
pub fn write_bytes(path: &Path, contents: &[u8]) -> Result<()> {
    crate::write_file(path, crate::Replace::Allowed, |w| w.write_all(contents)).map_err(|source| {
        Error::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        }
    })
}

/// The most bytes [`extract_between`] reads: 64 MiB.
pub const DEFAULT_MAX_TEXT: u64 = 64 << 20;

/// Reads the whole of `path` as UTF-8 text.
#[tracing::instrument(level = "debug", skip_all)]
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(Error::io("read", path))?;
    utf8(path, bytes)
}

/// Reads `path` as UTF-8 text, but at most `max` bytes: a longer (or endless) input, such as
/// `/dev/zero` or a pipe that never closes, stops there with [`Error::TooBig`], having
/// allocated no more than the limit.
#[tracing::instrument(level = "debug", skip_all)]
pub fn read_text_with_limit(path: &Path, max: u64) -> Result<String> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(Error::io("read", path))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Error::io("read", path))?;
    if bytes.len() as u64 > max {
        return Err(Error::TooBig {
            path: path.to_path_buf(),
            limit: max,
        });
    }
    utf8(path, bytes)
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|err| Error::NotUtf8 {
        path: path.to_path_buf(),
        offset: err.utf8_error().valid_up_to(),
    })
}

/// Writes integers in the notes' format, `1, 2, 3, 4, 5`, atomically (see [`write_text`]).
#[tracing::instrument(level = "debug", skip_all)]
pub fn write_ints(path: &Path, values: &[i64]) -> Result<()> {
    let text = values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    write_text(path, &text)
}

/// Reads integers written by [`write_ints`] (or by the notes' Python): items separated by
/// commas, whitespace around items ignored, an empty file being the empty list.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join(".temp.txt");
/// notes_fs::write_ints(&path, &[1, 2, 3, 4, 5])?;
/// assert_eq!(notes_fs::read_text(&path)?, "1, 2, 3, 4, 5");
/// assert_eq!(notes_fs::read_ints(&path)?, [1, 2, 3, 4, 5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn read_ints(path: &Path) -> Result<Vec<i64>> {
    let text = read_text(path)?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .enumerate()
        .map(|(index, token)| {
            token.trim().parse().map_err(|source| Error::BadInteger {
                path: path.to_path_buf(),
                index,
                token: token.trim().to_owned(),
                source,
            })
        })
        .collect()
}

/// The part of `text` after the first `prefix` and before the first `suffix` that follows it.
///
/// `None` for a marker means the start (prefix) or end (suffix) of the text, as in the notes.
/// Returns `Err("prefix")` or `Err("suffix")` naming the marker that is missing.
///
/// ```
/// assert_eq!(notes_fs::between("a <b> c", Some("<"), Some(">")), Ok("b"));
/// assert_eq!(notes_fs::between("a <b> c", None, Some("<")), Ok("a "));
/// assert_eq!(notes_fs::between("a <b> c", Some("["), None), Err("prefix"));
/// ```
pub fn between<'a>(
    text: &'a str,
    prefix: Option<&str>,
    suffix: Option<&str>,
) -> std::result::Result<&'a str, &'static str> {
    let start = match prefix {
        None => 0,
        Some(prefix) => text.find(prefix).ok_or("prefix")? + prefix.len(),
    };
    let end = match suffix {
        None => text.len(),
        Some(suffix) => start + text[start..].find(suffix).ok_or("suffix")?,
    };
    Ok(&text[start..end])
}

/// Reads the text file at `path` and returns the substring between `prefix` and `suffix`
/// (see [`between`]); the error names the file and the marker that was not found. At most
/// [`DEFAULT_MAX_TEXT`] bytes are read (see [`extract_between_with_limit`]).
#[tracing::instrument(level = "debug", skip_all)]
pub fn extract_between(path: &Path, prefix: Option<&str>, suffix: Option<&str>) -> Result<String> {
    extract_between_with_limit(path, prefix, suffix, DEFAULT_MAX_TEXT)
}

/// [`extract_between`] reading at most `max` bytes of `path` ([`Error::TooBig`] beyond).
pub fn extract_between_with_limit(
    path: &Path,
    prefix: Option<&str>,
    suffix: Option<&str>,
    max: u64,
) -> Result<String> {
    let text = read_text_with_limit(path, max)?;
    extract_between_text(&text, path, prefix, suffix)
}

/// [`extract_between`] on text already read (standard input, say); `source` names it in
/// [`Error::MarkerNotFound`].
pub fn extract_between_text(
    text: &str,
    source: &Path,
    prefix: Option<&str>,
    suffix: Option<&str>,
) -> Result<String> {
    between(text, prefix, suffix)
        .map(str::to_owned)
        .map_err(|which| Error::MarkerNotFound {
            path: source.to_path_buf(),
            which,
            marker: if which == "prefix" { prefix } else { suffix }
                .unwrap_or_default()
                .to_owned(),
        })
}

/// Resolves `file!()` against `CARGO_MANIFEST_DIR`. Inside a workspace, `file!()` is relative to
/// the workspace root (`crates/x/src/lib.rs`) while the manifest directory ends in `crates/x`,
/// so the overlap between the two is removed lexically before joining.
pub(crate) fn source_dir(manifest_dir: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() {
        return file.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    let dir: Vec<Component<'_>> = manifest_dir.components().collect();
    let rel: Vec<Component<'_>> = file.components().collect();
    let mut candidates = (0..=dir.len().min(rel.len().saturating_sub(1)))
        .rev()
        .filter(|&k| dir[dir.len() - k..] == rel[..k])
        .map(|k| manifest_dir.join(rel[k..].iter().collect::<PathBuf>()));
    let first = candidates.next().unwrap_or_else(|| manifest_dir.join(file));
    // Prefer a candidate that exists on this machine; otherwise the longest overlap.
    let best = std::iter::once(first.clone())
        .chain(candidates)
        .find(|p| p.exists())
        .unwrap_or(first);
    best.parent().map(Path::to_path_buf).unwrap_or(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_filename_matches_the_notes() {
        assert_eq!(
            clean_filename("hello/world:!\\.txt", DEFAULT_ALLOWED),
            "hello_world___.txt"
        );
        assert_eq!(clean_filename("a b", " "), "a b");
        assert_eq!(clean_filename("", DEFAULT_ALLOWED), "");
    }

    #[test]
    fn between_follows_the_notes_semantics() {
        // The suffix is searched only after the prefix, as `s.index(suffix, start_ind)` does.
        assert_eq!(between("x]a[b]c", Some("["), Some("]")), Ok("b"));
        assert_eq!(between("abc", None, None), Ok("abc"));
        assert_eq!(between("a[b", Some("["), Some("]")), Err("suffix"));
        assert_eq!(between("", Some(""), Some("")), Ok(""));
    }

    #[test]
    fn text_round_trips_and_ints_report_the_bad_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".temp.txt");
        write_text(&path, "12345").unwrap();
        assert_eq!(read_text(&path).unwrap().parse::<i64>().unwrap(), 12345);
        write_text(&path, "1, 2,x, 4").unwrap();
        let err = read_ints(&path).unwrap_err().to_string();
        assert!(err.ends_with("item 2 (\"x\") is not an integer"), "{err}");
        write_text(&path, "").unwrap();
        assert!(read_ints(&path).unwrap().is_empty());
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn extract_names_the_missing_marker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        write_text(&path, "key = value;").unwrap();
        assert_eq!(
            extract_between(&path, Some("= "), Some(";")).unwrap(),
            "value"
        );
        let err = extract_between(&path, Some("= "), Some("#"))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("suffix \"#\" not found after the prefix"),
            "{err}"
        );
    }

    #[test]
    fn reads_stop_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        write_text(&path, "0123456789").unwrap();
        assert_eq!(read_text_with_limit(&path, 10).unwrap(), "0123456789");
        let err = read_text_with_limit(&path, 9).unwrap_err();
        assert!(matches!(err, Error::TooBig { limit: 9, .. }), "{err}");
        // An endless input stops at the limit.
        #[cfg(unix)]
        {
            let err = extract_between_with_limit(Path::new("/dev/zero"), None, None, 1 << 20)
                .unwrap_err();
            assert!(err.to_string().contains("/dev/zero"), "{err}");
        }
    }

    #[test]
    fn ensure_dir_refuses_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        assert!(ensure_dir(&sub).unwrap());
        assert!(!ensure_dir(&sub).unwrap());
        let file = dir.path().join("f");
        fs::write(&file, "").unwrap();
        assert!(matches!(
            ensure_dir(&file),
            Err(Error::NotADirectory { .. })
        ));
    }

    #[test]
    fn source_dir_removes_the_workspace_overlap() {
        let got = source_dir(Path::new("/w/crates/x"), Path::new("crates/x/src/main.rs"));
        assert_eq!(got, Path::new("/w/crates/x/src"));
        let got = source_dir(Path::new("/reg/x-1.0"), Path::new("src/lib.rs"));
        assert_eq!(got, Path::new("/reg/x-1.0/src"));
        assert_eq!(
            source_dir(Path::new("/a"), Path::new("/b/c.rs")),
            Path::new("/b")
        );
    }
}
