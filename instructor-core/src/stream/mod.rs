//! The streaming engine: an O(n) incremental JSON parser and the typed streams built
//! on it.

mod items;
mod parser;
mod typed;

pub use items::{ItemError, ItemStream};
pub use parser::{EventSink, FeedError, Limits, ParseError, ParseErrorKind, Parser};
pub use typed::{Coalesce, FieldEvent, PartialStream, StreamError};
