//! A Rust source file reduced to its code: comments, strings and character literals blanked
//! out, so that the other tidy checks can look for tokens without being fooled by prose.

/// The code of a source file with every comment, string and character literal replaced by
/// spaces (newlines kept, so byte offsets and line numbers still match the original).
pub(crate) fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(bytes.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in Rust.
                let mut depth = 0usize;
                let mut j = i;
                while j < bytes.len() {
                    if bytes[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if bytes[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'r' | b'b' if raw_string_start(bytes, i).is_some() => {
                let (hashes, open) = raw_string_start(bytes, i).unwrap_or((0, i));
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                let body = open + 1;
                let end =
                    find(&bytes[body..], &close).map_or(bytes.len(), |n| body + n + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            }
            b'\'' => {
                // A character literal ('a', '\n', '\u{1F600}', '"') or a lifetime ('a).
                if bytes.get(i + 1) == Some(&b'\\') {
                    let end = memchr(b'\'', &bytes[i + 2..]).map_or(bytes.len(), |n| i + 3 + n);
                    blank(&mut out, i, end);
                    i = end;
                } else if let Some(c) = text[i + 1..].chars().next()
                    && text[i + 1 + c.len_utf8()..].starts_with('\'')
                {
                    let end = i + 2 + c.len_utf8();
                    blank(&mut out, i, end);
                    i = end;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    // Every blanked byte became an ASCII space and whole literals were blanked at a time, so the
    // result is valid UTF-8 of the same length.
    String::from_utf8(out).unwrap_or_default()
}

/// `r"`, `r#"`, `br"`, `br#"` at `i` (not inside an identifier): the number of `#` and the
/// offset of the opening quote.
fn raw_string_start(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if bytes[j] == b'b' {
        j += 1;
    }
    if bytes.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
    j += hashes;
    (bytes.get(j) == Some(&b'"')).then_some((hashes, j))
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The 1-based line of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_strings_and_chars_are_blanked() {
        let text = "use a; // use b;\nlet s = \"use c;\"; /* use /* d */ e; */ let c = '\"';\nlet r = r#\"x\"y\"#; fn f<'a>(x: &'a str) {}\n";
        let code = code_only(text);
        assert_eq!(code.len(), text.len());
        assert!(code.contains("use a;"));
        for hidden in ["use b", "use c", "use /*", "e;", "x\"y"] {
            assert!(!code.contains(hidden), "{hidden} survived in {code}");
        }
        assert!(code.contains("fn f<'a>(x: &'a str)"), "{code}");
        assert_eq!(line_of(text, text.find("let r").unwrap()), 3);
    }
}
