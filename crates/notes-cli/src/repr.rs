//! Python-style text for what `notes` prints (lists, strings, shapes), shared by the handlers
//! and the tour: one implementation of each.

use notes_ipc::pickle::str_repr as python_str;
use serde_json::Value;

/// Formats values the way Python prints a list: `[0, 1, 'a']` is written `[0, 1, "a"]`
/// (JSON scalars, `", "` separators), so the output is also valid JSON.
pub(crate) fn python_list(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// Formats strings the way Python prints a list of them: `['12', '21']`, each item as
/// Python's `repr` of a `str` (notes-ipc's, which its pickle display uses too).
pub(crate) fn python_str_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| python_str(s)).collect();
    format!("[{}]", quoted.join(", "))
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
