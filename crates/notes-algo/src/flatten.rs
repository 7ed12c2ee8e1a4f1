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
pub use json::{ExactJsonLeaves, JsonLeaf, JsonLeaves, flatten_json, json_leaves, parse_json};

#[cfg(feature = "json")]
mod json;

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
}
