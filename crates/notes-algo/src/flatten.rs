//! Flattening of irregularly nested lists, iteratively: depth is bounded by memory, not by the
//! call stack, so 100,000 levels of nesting are fine.

use std::ops::{Deref, DerefMut};

/// A value that is either a leaf or a list of nested values: the Rust shape of the notes'
/// `[[0, 1, [2, [3, 4]], 5], 6, [[7]], ...]`.
///
/// [`Nested::flatten`], [`Nested::leaves`], [`Nested::depth`] and dropping are iterative.
/// The derived `Clone`, `PartialEq` and `Debug` recurse, so avoid them on very deep values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nested<T> {
    /// A single value.
    Leaf(T),
    /// A list of nested values.
    List(List<T>),
}

/// The children of a [`Nested::List`]: a `Vec` (through `Deref`) that drops iteratively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct List<T>(pub Vec<Nested<T>>);

impl<T> Deref for List<T> {
    type Target = Vec<Nested<T>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T> DerefMut for List<T> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // Move grandchildren up into one flat stack so no drop recurses more than one level.
        let mut stack = std::mem::take(&mut self.0);
        while let Some(node) = stack.pop() {
            if let Nested::List(mut children) = node {
                stack.append(&mut children.0);
            }
        }
    }
}

impl<T> From<Vec<Nested<T>>> for Nested<T> {
    fn from(items: Vec<Nested<T>>) -> Self {
        Nested::List(List(items))
    }
}

impl<T> Nested<T> {
    /// A leaf.
    pub fn leaf(value: T) -> Self {
        Nested::Leaf(value)
    }

    /// A list of nested values.
    pub fn list(items: impl IntoIterator<Item = Nested<T>>) -> Self {
        Nested::List(List(items.into_iter().collect()))
    }

    /// The leaves in order, consuming `self`: `[[1, [2]], 3]` gives `[1, 2, 3]`.
    ///
    /// ```
    /// use notes_algo::Nested;
    /// let x = Nested::list([Nested::list([Nested::leaf(1), Nested::list([Nested::leaf(2)])]), Nested::leaf(3)]);
    /// assert_eq!(x.flatten(), [1, 2, 3]);
    /// ```
    #[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
    pub fn flatten(self) -> Vec<T> {
        let mut out = Vec::new();
        // A stack of reversed child lists: popping yields the next node in order.
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            match node {
                Nested::Leaf(value) => out.push(value),
                Nested::List(mut children) => stack.extend(children.0.drain(..).rev()),
            }
        }
        out
    }

    /// An iterator over references to the leaves, in order, without allocating per leaf.
    pub fn leaves(&self) -> Leaves<'_, T> {
        Leaves {
            stack: vec![std::slice::from_ref(self).iter()],
        }
    }

    /// The nesting depth: 0 for a leaf, 1 for a flat list (including the empty list), ...
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            if let Nested::List(children) = node {
                deepest = deepest.max(depth + 1);
                stack.extend(children.iter().map(|child| (child, depth + 1)));
            }
        }
        deepest
    }
}

/// Iterator over the leaves of a [`Nested`], returned by [`Nested::leaves`].
#[derive(Debug)]
pub struct Leaves<'a, T> {
    stack: Vec<std::slice::Iter<'a, Nested<T>>>,
}

impl<'a, T> Iterator for Leaves<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                None => {
                    self.stack.pop();
                }
                Some(Nested::Leaf(value)) => return Some(value),
                Some(Nested::List(children)) => self.stack.push(children.iter()),
            }
        }
    }
}

#[cfg(feature = "json")]
pub use json::{JsonLeaves, flatten_json, json_leaves, parse_json};

#[cfg(feature = "json")]
mod json {
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
                Event::Leaf(value) => Nested::Leaf(value),
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

    impl Iterator for JsonLeaves<'_> {
        type Item = Value;

        fn next(&mut self) -> Option<Value> {
            // The text was checked by the same scanner, so an error cannot occur here; if it
            // ever did, the iterator would end rather than yield a wrong leaf.
            loop {
                match self.scanner.next_event() {
                    Ok(Some(Event::Leaf(value))) => return Some(value),
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => return None,
                }
            }
        }
    }

    impl std::iter::FusedIterator for JsonLeaves<'_> {}

    /// What the scanner found next.
    enum Event {
        /// `[`.
        Open,
        /// `]`.
        Close,
        /// Any value that is not an array, parsed by `serde_json`.
        Leaf(Value),
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
                        let mut stream = serde_json::Deserializer::from_str(&text[self.pos..])
                            .into_iter::<Value>();
                        let value = match stream.next() {
                            Some(Ok(value)) => value,
                            Some(Err(err)) => return Err(leaf_error(text, self.pos, &err)),
                            None => {
                                return Err(json_error(text, self.pos, "expected a value".into()));
                            }
                        };
                        self.pos += stream.byte_offset();
                        self.want_value = false;
                        self.after_comma = false;
                        self.finished = self.depth == 0;
                        return Ok(Some(Event::Leaf(value)));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(v: i32) -> Nested<i32> {
        Nested::leaf(v)
    }

    /// The notes' example, built by hand.
    fn notes_example() -> Nested<i32> {
        let l = |items: Vec<Nested<i32>>| Nested::from(items);
        l(vec![
            l(vec![
                leaf(0),
                leaf(1),
                l(vec![leaf(2), l(vec![leaf(3), leaf(4)])]),
                leaf(5),
            ]),
            leaf(6),
            l(vec![l(vec![leaf(7)])]),
            leaf(8),
            l(vec![l(vec![leaf(9), leaf(10), leaf(11)])]),
            leaf(12),
            l(vec![l(vec![leaf(13)]), l(vec![leaf(14)])]),
            leaf(15),
        ])
    }

    #[test]
    fn flattens_the_notes_example() {
        let x = notes_example();
        assert_eq!(
            x.leaves().copied().collect::<Vec<_>>(),
            (0..16).collect::<Vec<_>>()
        );
        assert_eq!(x.depth(), 4);
        assert_eq!(x.flatten(), (0..16).collect::<Vec<_>>());
        assert_eq!(
            Nested::list((0..16).map(leaf)).flatten(),
            (0..16).collect::<Vec<_>>()
        );
    }

    #[test]
    fn edge_shapes() {
        assert_eq!(leaf(1).depth(), 0);
        assert_eq!(leaf(1).flatten(), [1]);
        assert_eq!(Nested::<i32>::list([]).flatten(), Vec::<i32>::new());
        assert_eq!(Nested::<i32>::list([]).depth(), 1);
        let empties = Nested::list([Nested::list([]), Nested::list([Nested::list([])]), leaf(3)]);
        assert_eq!(empties.flatten(), [3]);
    }

    #[test]
    fn deep_nesting_neither_overflows_nor_recurses_on_drop() {
        let mut x = leaf(42);
        for _ in 0..200_000 {
            x = Nested::list([x]);
        }
        assert_eq!(x.leaves().count(), 1);
        assert_eq!(x.depth(), 200_000);
        drop(x);
        let mut y = leaf(1);
        for _ in 0..200_000 {
            y = Nested::list([y, leaf(2)]);
        }
        assert_eq!(y.flatten().len(), 200_001);
    }

    #[cfg(feature = "json")]
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

    #[cfg(feature = "json")]
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

    #[cfg(feature = "json")]
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
}
