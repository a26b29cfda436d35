//! The streaming engine: an O(n) incremental JSON parser and the typed streams built
//! on it.

mod parser;

pub use parser::{EventSink, FeedError, Limits, ParseError, ParseErrorKind, Parser};
