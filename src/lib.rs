//! # instructor
//!
//! Structured extraction from LLMs, the Rust way: derive [`Extract`] on a plain domain
//! type and get back a validated value of that type, whole or streamed.
//!
//! ```
//! use instructor::prelude::*;
//!
//! /// A person mentioned in the text.
//! #[derive(Debug, Deserialize, Extract)]
//! struct User {
//!     /// Full name as written.
//!     name: String,
//!     #[garde(range(min = 0, max = 150))]
//!     age: u8,
//! }
//!
//! let schema = User::json_schema(Dialect::OpenAiStrict).unwrap();
//! assert_eq!(schema["properties"]["age"]["maximum"], 150);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use instructor_core::chat::{Mode, Provider};
pub use instructor_core::client::{Client, Completion, Error};
pub use instructor_core::{
    Context, DeserializeError, Dialect, DialectError, Event, Extract, ExtractSchema, FieldState,
    HasPartial, Partial, PartialError, PartialSink, PathSegment, RootSchema, Schema,
    SchemaGenerator, Scratch, Validate, ValidationError, ValidationErrors, chat, client,
    from_json_slice, from_json_str, from_json_value, partial, schema, stream, validate,
};
pub use instructor_macros::Extract;

#[doc(hidden)]
pub use instructor_core::__private;

/// HTTP clients: OpenAI and OpenAI-compatible servers.
pub use instructor_providers as providers;

#[cfg(feature = "blocking")]
pub mod blocking;

/// The names most programs need: `use instructor::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Client, Context, Dialect, Extract, Mode, Partial, ValidationError, ValidationErrors,
    };
    pub use serde::Deserialize;
}
