//! JSON text as nested lists: a scanner that treats arrays structurally and any other value
//! as a leaf, so nesting costs a counter rather than a stack.

use serde_json::Value;

use super::{List, Nested};
use crate::Error;

/// The leaves of a JSON value, treating arrays as lists and everything else (numbers,
/// strings, objects, ...) as a leaf, in order.
///
/// ```
/// let v: serde_json::Value = serde_json::from_str("[[0, 1, [2, [3, 4]], 5], 6]")?;
/// let flat: Vec<i64> = notes_algo::flatten_json(&v).iter().filter_map(|v| v.as_i64()).collect();
/// assert_eq!(flat, [0, 1, 2, 3, 4, 5, 6]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn flatten_json(value: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut stack = vec![std::slice::from_ref(value).iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some(Value::Array(items)) => stack.push(items.iter()),
            Some(leaf) => out.push(leaf),
        }
    }
    out
}

/// Parses JSON text into a [`Nested`], arrays becoming lists and any other value a leaf.
///
/// Arrays are parsed without recursion, so nesting depth is limited only by memory
/// (`serde_json` alone stops at 128 levels). Leaves are parsed by `serde_json`. Errors
/// give the line and column (1-based) of the problem.
///
/// The tree costs about 80 bytes per list (a `Vec` and its allocation), so deeply nested
/// text takes some 80 times its size; [`json_leaves`] flattens in memory independent of
/// the nesting.
///
/// ```
/// let deep = format!("{}7{}", "[".repeat(100_000), "]".repeat(100_000));
/// let nested = notes_algo::parse_json(&deep)?;
/// assert_eq!(nested.depth(), 100_000);
/// assert_eq!(nested.flatten(), [serde_json::json!(7)]);
/// # Ok::<(), notes_algo::Error>(())
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn parse_json(text: &str) -> Result<Nested<Value>, Error> {
    let mut scanner = Scanner::new(text);
    let mut open: Vec<Vec<Nested<Value>>> = Vec::new();
    let mut done = None;
    while let Some(event) = scanner.next_event()? {
        let node = match event {
            Event::Open => {
                open.push(Vec::new());
                continue;
            }
            Event::Close => Nested::List(List(open.pop().unwrap_or_default())),
            Event::Leaf(value, _) => Nested::Leaf(value),
        };
        match open.last_mut() {
            Some(list) => list.push(node),
            None => done = Some(node),
        }
    }
    // The scanner ends only after one complete value.
    done.ok_or_else(|| json_error(text, text.len(), "expected a value".into()))
}

/// The leaves of JSON text in order (arrays are lists, any other value a leaf), checked
/// first and then parsed lazily: memory is one leaf at a time, whatever the nesting (a
/// nesting depth is a counter, not a stack), so 20 MB of `[` costs nothing beyond the
/// text. The text is read twice: once to check it all, once as the iterator runs.
///
/// # Errors
/// [`Error::Json`] with the line and column of the first problem; no leaf is yielded
/// for malformed text.
///
/// ```
/// let deep = format!("[1, {}2{}, 3]", "[".repeat(1_000_000), "]".repeat(1_000_000));
/// let leaves: Vec<serde_json::Value> = notes_algo::json_leaves(&deep)?.collect();
/// assert_eq!(leaves, [1, 2, 3]);
/// assert!(notes_algo::json_leaves("[1, [2]").is_err());
/// # Ok::<(), notes_algo::Error>(())
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn json_leaves(text: &str) -> Result<JsonLeaves<'_>, Error> {
    let mut check = Scanner::new(text);
    while check.next_event()?.is_some() {}
    Ok(JsonLeaves {
        scanner: Scanner::new(text),
    })
}

/// The leaves of checked JSON text, returned by [`json_leaves`].
#[derive(Debug)]
pub struct JsonLeaves<'a> {
    scanner: Scanner<'a>,
}

impl<'a> JsonLeaves<'a> {
    /// The remaining leaves with their source text, so nothing is lost: `serde_json` (without
    /// its `arbitrary_precision` feature) turns an integer beyond 64 bits, such as
    /// 123456789012345678901234567890, into the nearest `f64`, and [`JsonLeaf`]'s `Display`
    /// and `Serialize` keep its digits.
    ///
    /// ```
    /// let leaves: Vec<String> = notes_algo::json_leaves("[1, [123456789012345678901234567890]]")?
    ///     .exact()
    ///     .map(|leaf| leaf.to_string())
    ///     .collect();
    /// assert_eq!(leaves, ["1", "123456789012345678901234567890"]);
    /// # Ok::<(), notes_algo::Error>(())
    /// ```
    pub fn exact(self) -> ExactJsonLeaves<'a> {
        ExactJsonLeaves {
            scanner: self.scanner,
        }
    }
}

impl Iterator for JsonLeaves<'_> {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        // The text was checked by the same scanner, so an error cannot occur here; if it
        // ever did, the iterator would end rather than yield a wrong leaf.
        loop {
            match self.scanner.next_event() {
                Ok(Some(Event::Leaf(value, _))) => return Some(value),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

impl std::iter::FusedIterator for JsonLeaves<'_> {}

/// The leaves of checked JSON text with their source text, from [`JsonLeaves::exact`].
#[derive(Debug)]
pub struct ExactJsonLeaves<'a> {
    scanner: Scanner<'a>,
}

impl<'a> Iterator for ExactJsonLeaves<'a> {
    type Item = JsonLeaf<'a>;

    fn next(&mut self) -> Option<JsonLeaf<'a>> {
        // As for `JsonLeaves`: the text was checked by the same scanner.
        loop {
            match self.scanner.next_event() {
                Ok(Some(Event::Leaf(value, range))) => {
                    return Some(JsonLeaf {
                        text: &self.scanner.text[range],
                        value,
                    });
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

impl std::iter::FusedIterator for ExactJsonLeaves<'_> {}

/// One leaf of JSON text: its source text and its value as `serde_json` parses it.
///
/// `Display` writes compact JSON that keeps every integer's digits: `serde_json`'s own form
/// when the value is exact, else the source text without the whitespace between tokens.
/// `Serialize` writes the same JSON through `serde_json`'s raw values (so it is exact only
/// with `serde_json`'s serializer).
#[derive(Debug, Clone)]
pub struct JsonLeaf<'a> {
    text: &'a str,
    value: Value,
}

impl JsonLeaf<'_> {
    /// The leaf's text as it appears in the input.
    pub fn text(&self) -> &str {
        self.text
    }

    /// The leaf as `serde_json` parses it (an integer beyond 64 bits becomes an `f64`).
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The parsed value, by value.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// Whether [`JsonLeaf::value`] holds every integer of the text exactly (no integer needs
    /// more than 64 bits).
    pub fn is_exact(&self) -> bool {
        !has_wide_integer(self.text)
    }
}

impl std::fmt::Display for JsonLeaf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_exact() {
            self.value.fmt(f)
        } else {
            f.write_str(&without_whitespace(self.text))
        }
    }
}

impl serde::Serialize for JsonLeaf<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_exact() {
            return self.value.serialize(serializer);
        }
        serde_json::value::RawValue::from_string(without_whitespace(self.text))
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

/// Calls `token` with each number of checked JSON text (strings skipped) and returns whether
/// any call returned true.
fn any_number(text: &str, mut token: impl FnMut(&str) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                if token(&text[start..i]) {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

/// The index just past the string of checked JSON text that opens at `open`.
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < bytes.len() && bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// Whether checked JSON text holds an integer that neither `i64` nor `u64` holds.
fn has_wide_integer(text: &str) -> bool {
    any_number(text, |number| {
        number.bytes().all(|b| b == b'-' || b.is_ascii_digit())
            && number.parse::<i64>().is_err()
            && number.parse::<u64>().is_err()
    })
}

/// Checked JSON text without the whitespace between its tokens.
fn without_whitespace(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.push_str(&text[copied..i]);
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

/// What the scanner found next.
enum Event {
    /// `[`.
    Open,
    /// `]`.
    Close,
    /// Any value that is not an array, parsed by `serde_json`, and the byte range of its text.
    Leaf(Value, std::ops::Range<usize>),
}

/// A JSON tokenizer that treats arrays structurally and everything else as a leaf; its
/// state is a position, a depth counter and two flags.
#[derive(Debug)]
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
    /// Whether a value may come next (after `[` or `,`) rather than `,` or `]`.
    want_value: bool,
    /// Whether the last token was a comma (then `]` would be a trailing comma).
    after_comma: bool,
    /// The top-level value is complete; only whitespace may follow.
    finished: bool,
    /// The end was reached (and checked) once.
    ended: bool,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            depth: 0,
            want_value: true,
            after_comma: false,
            finished: false,
            ended: false,
        }
    }

    /// The next `[`, `]` or leaf; `None` after the complete value and its trailing
    /// whitespace.
    fn next_event(&mut self) -> Result<Option<Event>, Error> {
        let text = self.text;
        let bytes = text.as_bytes();
        loop {
            if self.ended {
                return Ok(None);
            }
            self.pos = skip_ws(bytes, self.pos);
            if self.finished {
                return match bytes.get(self.pos) {
                    None => {
                        self.ended = true;
                        Ok(None)
                    }
                    Some(&other) => Err(json_error(
                        text,
                        self.pos,
                        format!(
                            "trailing characters after the value, starting with {:?}",
                            char::from(other)
                        ),
                    )),
                };
            }
            let Some(&byte) = bytes.get(self.pos) else {
                let what = if self.depth == 0 {
                    "a value"
                } else {
                    "`,` or `]`"
                };
                return Err(json_error(
                    text,
                    self.pos,
                    format!("unexpected end of input, expected {what}"),
                ));
            };
            match (byte, self.want_value) {
                (b'[', true) => {
                    self.depth += 1;
                    self.pos += 1;
                    self.after_comma = false;
                    return Ok(Some(Event::Open));
                }
                (b']', _) if self.depth > 0 && !self.after_comma => {
                    self.depth -= 1;
                    self.pos += 1;
                    self.want_value = false;
                    self.finished = self.depth == 0;
                    return Ok(Some(Event::Close));
                }
                (b',', false) if self.depth > 0 => {
                    self.pos += 1;
                    self.want_value = true;
                    self.after_comma = true;
                }
                (_, true) => {
                    let mut stream =
                        serde_json::Deserializer::from_str(&text[self.pos..]).into_iter::<Value>();
                    let value = match stream.next() {
                        Some(Ok(value)) => value,
                        Some(Err(err)) => return Err(leaf_error(text, self.pos, &err)),
                        None => {
                            return Err(json_error(text, self.pos, "expected a value".into()));
                        }
                    };
                    let start = self.pos;
                    self.pos += stream.byte_offset();
                    self.want_value = false;
                    self.after_comma = false;
                    self.finished = self.depth == 0;
                    return Ok(Some(Event::Leaf(value, start..self.pos)));
                }
                (other, false) => {
                    let expected = if self.depth == 0 {
                        "end of input"
                    } else {
                        "`,` or `]`"
                    };
                    return Err(json_error(
                        text,
                        self.pos,
                        format!("expected {expected}, found {:?}", char::from(other)),
                    ));
                }
            }
        }
    }
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while bytes
        .get(pos)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        pos += 1;
    }
    pos
}

/// 1-based line and column (in characters) of byte offset `pos`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn json_error(text: &str, pos: usize, message: String) -> Error {
    let (line, column) = line_col(text, pos);
    Error::Json {
        line,
        column,
        message,
    }
}

/// Re-bases an error that `serde_json` reported relative to the leaf starting at `start`.
fn leaf_error(text: &str, start: usize, err: &serde_json::Error) -> Error {
    let (line, column) = line_col(text, start);
    let (line, column) = if err.line() <= 1 {
        (line, column + err.column().saturating_sub(1))
    } else {
        (line + err.line() - 1, err.column())
    };
    // serde_json appends " at line L column C" for its own positions; drop it.
    let message = err.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    Error::Json {
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_lists_and_reports_positions() {
        let text = "[[0, 1, [2, [3, 4]], 5], 6, [[7]], 8, [[9, 10, 11]], 12, [[13], [14]], 15]";
        let got: Vec<i64> = parse_json(text)
            .unwrap()
            .flatten()
            .iter()
            .filter_map(|v| v.as_i64())
            .collect();
        assert_eq!(got, (0..16).collect::<Vec<_>>());
        let leaves = parse_json(r#"[{"a": [1]}, "s", null, [true]]"#)
            .unwrap()
            .flatten();
        assert_eq!(leaves.len(), 4);
        assert_eq!(parse_json(" 5 ").unwrap().flatten(), [serde_json::json!(5)]);
        for (bad, line, column) in [
            ("[1, 2", 1, 6),
            ("[1,, 2]", 1, 4),
            ("[1, 2,]", 1, 7),
            ("[1 2]", 1, 4),
            ("[1]]", 1, 4),
            ("[\n  1,\n  tru]", 3, 6),
            ("", 1, 1),
            ("]", 1, 1),
        ] {
            match json_leaves(bad) {
                Err(crate::Error::Json {
                    line: l, column: c, ..
                }) => assert_eq!((l, c), (line, column), "json_leaves {bad:?}"),
                other => panic!("json_leaves {bad:?} gave {other:?}"),
            }
            match parse_json(bad) {
                Err(crate::Error::Json {
                    line: l, column: c, ..
                }) => {
                    assert_eq!((l, c), (line, column), "{bad:?}");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn json_leaves_agree_with_the_tree() {
        for text in [
            "[[0, 1, [2, [3, 4]], 5], 6, [[7]], 8, [[9, 10, 11]], 12, [[13], [14]], 15]",
            r#"[{"a": [1]}, "s", null, [true], [[]], []]"#,
            " 5 ",
            "[]",
            "[[[[]]]]",
            "\"x\"",
        ] {
            let tree = parse_json(text).unwrap().flatten();
            let lazy: Vec<_> = json_leaves(text).unwrap().collect();
            assert_eq!(lazy, tree, "{text:?}");
        }
    }

    #[test]
    fn json_leaves_need_no_memory_per_level() {
        // Ten million levels: the tree would take about 800 MB; the scanner keeps a counter.
        let n = 10_000_000;
        let mut text = String::with_capacity(2 * n + 1);
        text.extend(std::iter::repeat_n('[', n));
        text.push('7');
        text.extend(std::iter::repeat_n(']', n));
        let leaves: Vec<_> = json_leaves(&text).unwrap().collect();
        assert_eq!(leaves, [serde_json::json!(7)]);
        text.pop();
        assert!(json_leaves(&text).is_err());
    }

    #[test]
    fn exact_leaves_keep_integers_beyond_64_bits() {
        let text = "[1, [123456789012345678901234567890, [-18446744073709551617]], \
                    18446744073709551615, -9223372036854775808, 1.5e3, \"12345678901234567890123 \\\" x\", \
                    {\"a\" : [1, 123456789012345678901234567890], \"b c\": \"d  e\"}]";
        let leaves: Vec<_> = json_leaves(text).unwrap().exact().collect();
        let shown: Vec<String> = leaves.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "1",
                "123456789012345678901234567890",
                "-18446744073709551617",
                "18446744073709551615",
                "-9223372036854775808",
                "1500.0",
                r#""12345678901234567890123 \" x""#,
                r#"{"a":[1,123456789012345678901234567890],"b c":"d  e"}"#,
            ]
        );
        let exact: Vec<bool> = leaves.iter().map(JsonLeaf::is_exact).collect();
        assert_eq!(exact, [true, false, false, true, true, true, true, false]);
        let json = serde_json::to_string(&leaves).unwrap();
        assert_eq!(json, format!("[{}]", shown.join(",")));
        // The lossy values agree with `json_leaves`.
        let lossy: Vec<_> = json_leaves(text).unwrap().collect();
        let values: Vec<_> = leaves.into_iter().map(JsonLeaf::into_value).collect();
        assert_eq!(values, lossy);
    }
}
