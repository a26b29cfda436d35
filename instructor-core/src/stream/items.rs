//! Finished items: each element of a list, deserialized and validated the moment it
//! closes.

use super::parser::{FeedError, Limits, ParseError, ParseErrorKind, Parser};
use super::typed::StreamError;
use crate::extract::{DeserializeError, Extract};
use crate::partial::{Event, PartialError, PathSegment, ValueBuilder};
use crate::validate::Context;
use std::marker::PhantomData;

/// An element that is not a valid `T`. The other elements are not affected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("item {index}: {error}")]
pub struct ItemError {
    /// The element's position in the list.
    pub index: usize,
    /// Why it is not a valid `T`.
    pub error: StreamError,
}

/// Where the list is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// The root, or the first array-valued key of a root object.
    Auto,
    /// The array under this key of the root object.
    Key(String),
}

/// A stream of finished `T` items from a JSON list arriving in chunks: the model may
/// answer with a bare array or with an object holding one (`{"items": [...]}`).
///
/// ```
/// use instructor_core::{Context, stream::ItemStream};
/// use instructor_macros::Extract;
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct User { name: String, #[garde(range(max = 150))] age: u8 }
///
/// let mut stream = ItemStream::<User>::new(Context::new());
/// let mut done = Vec::new();
/// for chunk in [r#"{"items": [{"name": "Ann", "age": 3"#, r#"0}, {"name": "Bo", "age": 200}"#, "]}"] {
///     done.extend(stream.feed(chunk.as_bytes()).unwrap());
/// }
/// done.extend(stream.finish().unwrap());
/// assert_eq!(done[0].as_ref().unwrap().name, "Ann");
/// assert_eq!(done[1].as_ref().unwrap_err().index, 1);
/// ```
#[derive(Debug)]
pub struct ItemStream<T: Extract> {
    parser: Parser,
    context: Context,
    location: Location,
    /// The path of the list, once found.
    list: Option<Vec<PathSegment>>,
    builder: ValueBuilder,
    /// The element being built failed: ignore the rest of its events.
    skipping: Option<usize>,
    _item: PhantomData<fn() -> T>,
}

impl<T: Extract> ItemStream<T> {
    /// Items from the root array, or from the first array-valued key of the root
    /// object; each validated with `context`.
    pub fn new(context: Context) -> Self {
        ItemStream::with_limits(context, Limits::default())
    }

    /// Like [`ItemStream::new`], with parser limits.
    pub fn with_limits(context: Context, limits: Limits) -> Self {
        ItemStream {
            parser: Parser::with_limits(limits),
            context,
            location: Location::Auto,
            list: None,
            builder: ValueBuilder::default(),
            skipping: None,
            _item: PhantomData,
        }
    }

    /// Takes the items from the array under `key` of the root object only.
    pub fn at_key(mut self, key: impl Into<String>) -> Self {
        self.location = Location::Key(key.into());
        self
    }

    /// Feeds a chunk; returns the items it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Result<T, ItemError>>, StreamError> {
        self.drive(Some(chunk))
    }

    /// Ends the input; returns any item completed by the end (a number at the very
    /// end of a bare array cannot be, so this is usually empty).
    pub fn finish(mut self) -> Result<Vec<Result<T, ItemError>>, StreamError> {
        let done = self.drive(None)?;
        if self.list.is_none() {
            return Err(StreamError::Deserialize(DeserializeError::new(
                crate::WirePath::root(),
                "the answer holds no list of items",
            )));
        }
        Ok(done)
    }

    /// Feeds a chunk (or, with `None`, ends the input), routing every event to its item.
    fn drive(&mut self, chunk: Option<&[u8]>) -> Result<Vec<Result<T, ItemError>>, StreamError> {
        let mut done = Vec::new();
        let Self {
            parser,
            context,
            location,
            list,
            builder,
            skipping,
            ..
        } = self;
        let mut sink = |path: &[PathSegment], event: Event<'_>| {
            route::<T>(
                path, event, location, list, builder, skipping, context, &mut done,
            );
            Ok::<(), (crate::WirePath, PartialError)>(())
        };
        let lone_surrogates = parser.lone_surrogates();
        let result = match chunk {
            Some(chunk) => parser.feed(chunk, &mut sink),
            None => parser.finish(&mut sink),
        };
        result.map_err(|e| match e {
            FeedError::Parse(e) => StreamError::Parse(e),
            FeedError::Sink((path, error)) => StreamError::Partial { path, error },
        })?;
        // The parser reads a lone surrogate as U+FFFD (serde_json accepts one in a
        // field it ignores), but items are built as values, where it would silently
        // change the text: refused, as before.
        if parser.lone_surrogates() > lone_surrogates {
            return Err(StreamError::Parse(ParseError {
                kind: ParseErrorKind::LoneSurrogate,
                offset: parser.bytes_consumed(),
                path: String::new(),
            }));
        }
        Ok(done)
    }
}

/// Sends one event to the element it belongs to; completes an item when its last
/// event arrives.
#[allow(clippy::too_many_arguments)]
fn route<T: Extract>(
    path: &[PathSegment],
    event: Event<'_>,
    location: &Location,
    list: &mut Option<Vec<PathSegment>>,
    builder: &mut ValueBuilder,
    skipping: &mut Option<usize>,
    context: &Context,
    done: &mut Vec<Result<T, ItemError>>,
) {
    let Some(prefix) = list.as_deref() else {
        if event == Event::BeginArray {
            let found = match (location, path) {
                (Location::Auto, []) => true,
                (Location::Auto, [PathSegment::Key(_)]) => true,
                (Location::Key(wanted), [PathSegment::Key(key)]) => key == wanted,
                _ => false,
            };
            if found {
                *list = Some(path.to_vec());
            }
        }
        return;
    };
    let Some(rest) = path.strip_prefix(prefix) else {
        return;
    };
    let Some((PathSegment::Index(index), inner)) = rest.split_first() else {
        return;
    };
    if *skipping == Some(*index) {
        return;
    }
    *skipping = None;
    let fail = |error: StreamError| ItemError {
        index: *index,
        error,
    };
    match builder.push(inner, &event) {
        Ok(None) => {}
        Ok(Some(value)) => {
            let item = crate::extract::read_json_value::<T>(&value)
                .map_err(StreamError::from)
                .and_then(|item| {
                    item.validate(context)?;
                    Ok(item)
                })
                .map_err(fail);
            done.push(item);
        }
        Err(error) => {
            builder.reset();
            *skipping = Some(*index);
            done.push(Err(fail(StreamError::Partial {
                path: crate::WirePath::from(path),
                error,
            })));
        }
    }
}
