//! Extensions as [`Path::extension`] has them, matched against a set without parsing paths.

use std::ffi::OsStr;
use std::path::Path;

/// A set of extensions, without their dots, compared exactly or ASCII case-insensitively.
#[derive(Debug)]
pub(crate) struct ExtensionSet {
    extensions: Vec<Vec<u8>>,
    case_sensitive: bool,
}

impl ExtensionSet {
    pub(crate) fn new<S: AsRef<OsStr>>(extensions: &[S], case_sensitive: bool) -> Self {
        let extensions = extensions
            .iter()
            .map(|e| {
                let bytes = e.as_ref().as_encoded_bytes();
                bytes.strip_prefix(b".").unwrap_or(bytes).to_vec()
            })
            .collect();
        Self {
            extensions,
            case_sensitive,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.extensions.is_empty()
    }

    /// True if `path` has an extension in the set; an empty set matches everything.
    pub(crate) fn matches(&self, path: &Path) -> bool {
        if self.extensions.is_empty() {
            return true;
        }
        self.contains(extension(path))
    }

    /// True if `extension` (as from [`Path::extension`]) is in the set.
    pub(crate) fn contains(&self, extension: Option<&OsStr>) -> bool {
        let Some(ext) = extension.map(OsStr::as_encoded_bytes) else {
            return false;
        };
        self.extensions.iter().any(|e| {
            if self.case_sensitive {
                e == ext
            } else {
                e.eq_ignore_ascii_case(ext)
            }
        })
    }
}

/// [`Path::extension`] of a path from a walk on Unix, without parsing its components: the
/// bytes after the last `.` of the last name, unless that `.` starts the name (a name is never
/// `.` or `..` in a walk, and never ends with `/`). Profiles showed the component parsing.
#[cfg(unix)]
fn extension(path: &Path) -> Option<&OsStr> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let name = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    if name.is_empty() || name == b"." || name == b".." {
        // Not a walk's entry: ask the standard library.
        return path.extension();
    }
    match name.iter().rposition(|&b| b == b'.') {
        None | Some(0) => None,
        Some(dot) => Some(OsStr::from_bytes(&name[dot + 1..])),
    }
}

#[cfg(not(unix))]
fn extension(path: &Path) -> Option<&OsStr> {
    path.extension()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_compared_as_extensions() {
        let set = ExtensionSet::new(&["pdf", ".wav"], false);
        for (path, want) in [
            ("A File.PDF", true),
            ("report.pdf.bak", false),
            ("x.wav", true),
            (".pdf", false),
            ("pdf", false),
            ("a.pdf", true),
        ] {
            assert_eq!(set.matches(Path::new(path)), want, "{path}");
        }
        let exact = ExtensionSet::new(&["pdf"], true);
        assert!(!exact.matches(Path::new("A.PDF")));
        assert!(ExtensionSet::new::<&str>(&[], false).matches(Path::new("any")));
    }

    #[test]
    fn extensions_are_the_standard_librarys() {
        for path in [
            "a.wav",
            "dir/a.wav",
            "dir.d/a",
            "dir/.a",
            "dir/.a.b",
            "a.",
            "dir/a..b",
            ".",
            "..",
            "a/.",
            "a/..",
            "a/b/",
            "a.b/",
            "/",
            "",
            "a",
            "x/y.tar.gz",
            "./.wav",
            "dir//f.x",
        ] {
            let path = Path::new(path);
            assert_eq!(extension(path), path.extension(), "{path:?}");
        }
    }
}
