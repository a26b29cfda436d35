//! Where a value sits in an answer: [`WirePath`], the one path type of every error.
//!
//! Partials, validation, the stream and deserialization all name places in the
//! model's JSON by the same keys and indices, and a re-ask shows them to the model, so
//! they share one type with one way of printing (`items[0].title`). This module is a
//! leaf: it depends on nothing else in the crate, so `partial` and `validate` can both
//! use it without depending on each other.
//!
//! The path is a `Vec` of segments with `push`/`pop`: the streaming engine and the
//! validators walk a document by extending and shrinking one path in place, so no
//! event or rule allocates a path of its own.

use std::fmt;
use std::ops::Deref;

/// One step of a path from the root of a document to a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSegment {
    /// An object key, as written on the wire.
    Key(String),
    /// An array index.
    Index(usize),
}

impl PathSegment {
    /// Writes this segment as it follows other segments (`.key`, `["odd key"]`, `[3]`),
    /// or as the first segment (`key`) when `first`.
    fn write(&self, f: &mut fmt::Formatter<'_>, first: bool) -> fmt::Result {
        match self {
            PathSegment::Key(key) => write_key(f, key, first),
            PathSegment::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Writes an object key as a path shows it after other steps (`.key`, `["odd key"]`),
/// or first (`key`): for other kinds of path (the schema renderer's `items[].meta`)
/// that name keys the same way.
pub(crate) fn write_key(f: &mut fmt::Formatter<'_>, key: &str, first: bool) -> fmt::Result {
    if is_identifier(key) {
        if !first {
            f.write_str(".")?;
        }
        f.write_str(key)
    } else {
        // JSON string syntax, so that any key (quotes, brackets, dots, empty) reads
        // back unambiguously.
        write!(f, "[{}]", QuotedKey(key))
    }
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

impl From<&str> for PathSegment {
    fn from(key: &str) -> Self {
        PathSegment::Key(key.to_owned())
    }
}

impl From<String> for PathSegment {
    fn from(key: String) -> Self {
        PathSegment::Key(key)
    }
}

impl From<usize> for PathSegment {
    fn from(index: usize) -> Self {
        PathSegment::Index(index)
    }
}

/// A key that prints bare after a dot: an ASCII identifier that cannot be mistaken for
/// an index.
fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A key in JSON string syntax.
struct QuotedKey<'a>(&'a str);

impl fmt::Display for QuotedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// A path from the root of a document to a value, in wire names (the keys the model
/// writes, after `rename`), printed as `items[0].title`.
///
/// The root is the empty path and prints as nothing; errors about the whole value
/// print their message alone. Keys that are not plain identifiers print in JSON string
/// syntax: `contact["first name"]`.
///
/// ```
/// use instructor_core::{PathSegment, WirePath};
///
/// let mut path = WirePath::root();
/// path.push_key("items");
/// path.push_index(0);
/// path.push_key("first name");
/// assert_eq!(path.to_string(), r#"items[0]["first name"]"#);
/// path.pop();
/// path.push(PathSegment::Key("n".into()));
/// assert_eq!(path, "items[0].n");
/// assert_eq!(WirePath::root().to_string(), "");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WirePath(Vec<PathSegment>);

impl WirePath {
    /// The empty path: the whole document.
    pub const fn root() -> Self {
        WirePath(Vec::new())
    }

    /// Whether this is the root (no segment).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The segments, root first.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// Extends the path by one segment.
    pub fn push(&mut self, segment: PathSegment) {
        self.0.push(segment);
    }

    /// Extends the path by an object key.
    pub fn push_key(&mut self, key: impl Into<String>) {
        self.0.push(PathSegment::Key(key.into()));
    }

    /// Extends the path by an array index.
    pub fn push_index(&mut self, index: usize) {
        self.0.push(PathSegment::Index(index));
    }

    /// Removes and returns the last segment.
    pub fn pop(&mut self) -> Option<PathSegment> {
        self.0.pop()
    }

    /// This path followed by `rest` (a path relative to the value here).
    pub fn join(&self, rest: &[PathSegment]) -> WirePath {
        let mut segments = Vec::with_capacity(self.0.len() + rest.len());
        segments.extend_from_slice(&self.0);
        segments.extend_from_slice(rest);
        WirePath(segments)
    }

    /// This path with `key` appended.
    pub fn key(mut self, key: impl Into<String>) -> WirePath {
        self.push_key(key);
        self
    }

    /// This path with `index` appended.
    pub fn index(mut self, index: usize) -> WirePath {
        self.push_index(index);
        self
    }

    /// The segments, by value.
    pub fn into_segments(self) -> Vec<PathSegment> {
        self.0
    }

    /// Formats a borrowed path (`&[PathSegment]`, as the streaming protocol passes
    /// them) exactly as a [`WirePath`] prints, without copying it.
    pub fn display(segments: &[PathSegment]) -> impl fmt::Display + '_ {
        Segments(segments)
    }
}

/// Prints segments the way [`WirePath`] does.
struct Segments<'a>(&'a [PathSegment]);

impl fmt::Display for Segments<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            segment.write(f, position == 0)?;
        }
        Ok(())
    }
}

impl fmt::Display for WirePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Segments(&self.0).fmt(f)
    }
}

impl Deref for WirePath {
    type Target = [PathSegment];

    fn deref(&self) -> &[PathSegment] {
        &self.0
    }
}

impl AsRef<[PathSegment]> for WirePath {
    fn as_ref(&self) -> &[PathSegment] {
        &self.0
    }
}

impl From<Vec<PathSegment>> for WirePath {
    fn from(segments: Vec<PathSegment>) -> Self {
        WirePath(segments)
    }
}

impl From<&[PathSegment]> for WirePath {
    fn from(segments: &[PathSegment]) -> Self {
        WirePath(segments.to_vec())
    }
}

impl From<WirePath> for Vec<PathSegment> {
    fn from(path: WirePath) -> Self {
        path.0
    }
}

impl FromIterator<PathSegment> for WirePath {
    fn from_iter<I: IntoIterator<Item = PathSegment>>(iter: I) -> Self {
        WirePath(iter.into_iter().collect())
    }
}

impl Extend<PathSegment> for WirePath {
    fn extend<I: IntoIterator<Item = PathSegment>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<'a> IntoIterator for &'a WirePath {
    type Item = &'a PathSegment;
    type IntoIter = std::slice::Iter<'a, PathSegment>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Compares with the printed form: `assert_eq!(error.path, "items[0].n")`.
impl PartialEq<str> for WirePath {
    fn eq(&self, other: &str) -> bool {
        // Printed piece by piece against `other`, without building the string.
        let mut rest = Matching { rest: other };
        fmt::Write::write_fmt(&mut rest, format_args!("{self}")).is_ok() && rest.rest.is_empty()
    }
}

/// A `fmt::Write` that consumes `rest` as long as what is written matches it.
struct Matching<'a> {
    rest: &'a str,
}

impl fmt::Write for Matching<'_> {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        match self.rest.strip_prefix(piece) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(fmt::Error),
        }
    }
}

impl PartialEq<&str> for WirePath {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<String> for WirePath {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}

impl serde::Serialize for WirePath {
    /// As its printed form, for logs and hooks.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{PathSegment, WirePath};

    fn path(segments: &[PathSegment]) -> String {
        WirePath::from(segments).to_string()
    }

    #[test]
    fn root_prints_as_nothing() {
        assert_eq!(WirePath::root().to_string(), "");
        assert!(WirePath::root().is_root());
    }

    #[test]
    fn keys_join_with_dots_and_indices_with_brackets() {
        let p = WirePath::root().key("items").index(0).key("n");
        assert_eq!(p.to_string(), "items[0].n");
        assert_eq!(WirePath::root().index(2).key("a").to_string(), "[2].a");
        assert_eq!(
            WirePath::root().key("m").index(1).index(2).to_string(),
            "m[1][2]"
        );
    }

    #[test]
    fn keys_that_are_not_identifiers_print_quoted() {
        assert_eq!(
            path(&["first name".into(), "x".into()]),
            r#"["first name"].x"#
        );
        assert_eq!(path(&["a".into(), "b.c".into()]), r#"a["b.c"]"#);
        assert_eq!(path(&["0".into()]), r#"["0"]"#);
        assert_eq!(path(&["".into()]), r#"[""]"#);
        assert_eq!(path(&[r#"say "hi"\"#.into()]), r#"["say \"hi\"\\"]"#);
        assert_eq!(path(&["line\nbreak".into()]), r#"["line\nbreak"]"#);
        assert_eq!(path(&["é".into()]), r#"["é"]"#);
        assert_eq!(path(&["$ref".into(), "_x1".into()]), "$ref._x1");
    }

    #[test]
    fn borrowed_segments_print_like_the_owned_path() {
        let p = WirePath::root().key("a b").index(3).key("c");
        assert_eq!(WirePath::display(&p).to_string(), p.to_string());
    }

    #[test]
    fn push_and_pop_walk_a_path_in_place() {
        let mut p = WirePath::root();
        p.push_key("a");
        p.push_index(1);
        assert_eq!(p.pop(), Some(PathSegment::Index(1)));
        assert_eq!(p, "a");
        assert_eq!(p.join(&[PathSegment::Index(4)]), "a[4]");
        assert_ne!(p, "a[4]");
        assert_ne!(p, "");
        assert_ne!(WirePath::root().key("ab"), "a");
    }

    #[test]
    fn serializes_as_its_printed_form() {
        let p = WirePath::root().key("items").index(0);
        assert_eq!(
            serde_json::to_value(&p).ok(),
            Some(serde_json::json!("items[0]"))
        );
    }
}
