//! Python-style text for what `notes` prints (lists, strings, shapes), shared by the handlers
//! and the tour: one implementation of each.

use serde_json::Value;

/// Formats values the way Python prints a list: `[0, 1, 'a']` is written `[0, 1, "a"]`
/// (JSON scalars, `", "` separators), so the output is also valid JSON.
pub(crate) fn python_list(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// Formats strings the way Python prints a list of them: `['12', '21']`, each item as
/// Python's `repr` of a `str` ([`python_str`]).
pub(crate) fn python_str_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| python_str(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Python's `repr` of a `str`: single quotes unless the text has a `'` and no `"`; backslash,
/// the quote, `\n`, `\r`, `\t` escaped, and other non-printable characters as `\xNN`,
/// `\uNNNN` or `\UNNNNNNNN` (so a name cannot forge a line of output).
pub(crate) fn python_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !is_printable(c) => {
                let code = c as u32;
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable` for the characters a terminal would act on:
/// C1 controls, the line and paragraph separators and the bidirectional controls are not.
fn is_printable(c: char) -> bool {
    !matches!(c as u32, 0x80..=0x9f | 0xad | 0x2028 | 0x2029 | 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff)
}

/// Python's `str(a.shape)`: `(3, 4)`, `(5,)`, `()`.
pub(crate) fn python_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_print_as_python_repr_prints_them() {
        for (text, repr) in [
            ("ab", "'ab'"),
            ("it's", "\"it's\""),
            ("'\"", "'\\'\"'"),
            ("a\nb", "'a\\nb'"),
            ("\u{1b}[31m", "'\\x1b[31m'"),
            ("\u{85}", "'\\x85'"),
            ("\u{2028}", "'\\u2028'"),
            ("é", "'é'"),
            ("\\", "'\\\\'"),
        ] {
            assert_eq!(python_str(text), repr, "{text:?}");
        }
        assert_eq!(python_str_list(&["12".into(), "21".into()]), "['12', '21']");
    }

    #[test]
    fn shapes_print_as_python_tuples() {
        assert_eq!(python_shape(&[]), "()");
        assert_eq!(python_shape(&[5]), "(5,)");
        assert_eq!(python_shape(&[3, 4]), "(3, 4)");
    }
}
