//! Showing paths to people without hiding any byte of them.

use std::fmt::{self, Write as _};
use std::path::Path;

/// A path as it can be shown on a terminal: as is when it is UTF-8 without control
/// characters, otherwise in the shell's `$'…'` quoting (`$'ctl\x01 name.txt'`,
/// `$'bad\xff name.txt'`), which a terminal cannot swallow and bash or zsh can read back.
///
/// `Path::display` would replace bytes that are not UTF-8 with `�` and pass control
/// characters through to the terminal (or to a colour filter that strips them), so two
/// different names could look the same or a name could look shorter than it is.
/// The alternate form (`{:#}`) always quotes: `'A B.txt'` or `$'…'`.
///
/// ```
/// use std::path::Path;
/// use notes_fs::Escaped;
///
/// assert_eq!(Escaped(Path::new("A B.txt")).to_string(), "A B.txt");
/// assert_eq!(format!("{:#}", Escaped(Path::new("A B.txt"))), "'A B.txt'");
/// assert_eq!(Escaped(Path::new("ctl\u{1} it's.txt")).to_string(), r"$'ctl\x01 it\'s.txt'");
/// assert_eq!(Escaped(Path::new("two\nlines")).to_string(), r"$'two\nlines'");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a Path);

impl Escaped<'_> {
    /// Whether the path needs the `$'…'` form.
    pub fn needs_escaping(&self) -> bool {
        let bytes = self.0.as_os_str().as_encoded_bytes();
        match std::str::from_utf8(bytes) {
            Ok(text) => text.chars().any(char::is_control),
            Err(_) => true,
        }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0.as_os_str().as_encoded_bytes();
        if !self.needs_escaping() {
            // Checked above: the bytes are UTF-8.
            let text = std::str::from_utf8(bytes).map_err(|_| fmt::Error)?;
            return if f.alternate() {
                write!(f, "'{text}'")
            } else {
                f.write_str(text)
            };
        }
        f.write_str("$'")?;
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '\\' => f.write_str(r"\\")?,
                    '\'' => f.write_str(r"\'")?,
                    '\n' => f.write_str(r"\n")?,
                    '\t' => f.write_str(r"\t")?,
                    '\r' => f.write_str(r"\r")?,
                    c if (c as u32) < 0x80 && c.is_control() => write!(f, r"\x{:02x}", c as u32)?,
                    c if c.is_control() => write!(f, r"\u{:04x}", c as u32)?,
                    c => f.write_char(c)?,
                }
            }
            for b in chunk.invalid() {
                write!(f, r"\x{b:02x}")?;
            }
        }
        f.write_char('\'')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(name: &[u8]) -> String {
        #[cfg(unix)]
        let path = {
            use std::os::unix::ffi::OsStrExt;
            Path::new(std::ffi::OsStr::from_bytes(name)).to_path_buf()
        };
        #[cfg(not(unix))]
        let path = Path::new(std::str::from_utf8(name).unwrap()).to_path_buf();
        Escaped(&path).to_string()
    }

    #[test]
    fn plain_names_are_kept_and_the_rest_is_escaped() {
        assert_eq!(shown(b"dir/A B.txt"), "dir/A B.txt");
        assert_eq!(shown(b"back\\slash 'q'"), "back\\slash 'q'");
        assert_eq!(shown("ünï".as_bytes()), "ünï");
        assert_eq!(shown(b"ctl\x01 name.txt"), r"$'ctl\x01 name.txt'");
        assert_eq!(shown(b"esc\x1b[31mred"), r"$'esc\x1b[31mred'");
        assert_eq!(shown(b"a\tb\rc\\d'e"), r"$'a\tb\rc\\d\'e'");
        assert_eq!(shown("c1\u{85}".as_bytes()), r"$'c1\u0085'");
        #[cfg(unix)]
        assert_eq!(shown(b"bad\xff name.txt"), r"$'bad\xff name.txt'");
    }
}
