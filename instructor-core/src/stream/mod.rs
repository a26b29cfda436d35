//! The streaming engine: an O(n) incremental JSON parser and the typed streams built
//! on it, and the one lenient reading of prompted answers (`lenient`), which
//! `read_lenient` and the end of `PartialStream::lenient` share.

mod gate;
mod items;
mod lenient;
mod parser;
mod typed;

pub use items::{ItemError, ItemStream};
pub use lenient::{Lenient, coerce_to, parse_lenient, read_lenient};
pub use parser::{
    EventSink, FeedError, Limits, Mode, ParseError, ParseErrorKind, Parser, Repair, RepairKind,
};
pub use typed::{Coalesce, FieldEvent, PartialStream, StreamError};
