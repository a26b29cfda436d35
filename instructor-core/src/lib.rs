//! Runtime of instructor: the [`Extract`] trait, the schema IR and its provider
//! dialects, typed partials for streaming, and validation.
//!
//! Most users depend on the `instructor` facade crate instead of this one.
// Denied, not forbidden: one measured hot path (a string run's text, in
// `stream/parser.rs`) allows it, with its proof. Nothing else may.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod chat;
pub mod client;
mod extract;
pub mod media;
pub mod partial;
mod path;
pub mod schema;
pub mod stream;
pub mod template;
pub mod validate;

#[doc(hidden)]
pub mod __private;

pub use extract::{
    DeserializeError, Extract, ExtractField, FieldError, from_json_slice, from_json_str,
    from_json_value, read_json, read_json_slice, read_json_under, read_json_value,
};
pub use partial::{Event, FieldState, HasPartial, Partial, PartialError, PartialSink, Scratch};
pub use path::{PathSegment, WirePath};
pub use schema::{Dialect, DialectError, ExtractSchema, RootSchema, Schema, SchemaGenerator};
pub use validate::{
    AsyncValidator, AttemptInfo, Context, IntoContext, Stop, Validate, ValidationError,
    ValidationErrors,
};
