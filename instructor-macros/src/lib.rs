//! `#[derive(Extract)]`: schema, typed partial, validation and dialect checks from one
//! type definition. See the `instructor` crate for the user guide, and [`Extract`] for
//! every attribute key with an example each: on the type `rename`, `description`,
//! `title`, `example`/`examples`, `partial`, `strict`, `validate`, `llm_validate`,
//! `stream(done)` and `crate`; on a field `description`, `title`, `example`/`examples`,
//! `schema_with`, `schemars`, `validate`, `llm_validate`, `stream(done)` and
//! `stream(required)`; on a variant
//! `description` and `title`.
//!
//! # Deeply nested types
//!
//! `Extract` needs the type and its partial to be `Send + Sync`. The compiler proves
//! such traits by walking every nested field, a few steps of its recursion limit per
//! level, so on its own it would stop at about 26 derived structs nested through `Vec`
//! fields. The derive therefore states `Send` and `Sync` for a non-generic type and its
//! partial itself, after asking the compiler to prove both for every field (skipped
//! ones included), which is the rule the compiler's own impls follow; a field that is
//! not `Send + Sync` is a compile error naming that field. `Unpin` is stated and
//! checked the same way: release builds prove it structurally too (and stopped at
//! about 32 levels once `Send` and `Sync` no longer did). A crate that implements
//! `Send`, `Sync` or `Unpin` by hand for a derived type gets a conflicting-impl error
//! instead. Chains of 60 levels through `Vec` compile under the default limits, in
//! debug and release builds, moved into a spawned task; serde's derive alone reaches
//! about 64 with `serde_json::from_str` (the compiler's instantiation limit), and only
//! about 32 in a release build once the value crosses into a spawned task.
//! `#![recursion_limit = "256"]` goes further.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attr;
mod check;
mod emit;
mod garde;
mod model;
mod types;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `Extract` (and its schema, partial and validation traits) for a struct or
/// enum that also derives `serde::Deserialize`.
///
/// `#[serde(...)]` attributes are read as serde reads them, and `#[garde(...)]` rules
/// (feature `garde`, on by default) become schema keywords and validation. Everything
/// else is said with `#[extract(...)]`; every key it accepts is below. A misspelled or
/// misplaced key is a compile error that names the keys that fit.
///
/// ```
/// use instructor::prelude::*;
///
/// /// A support ticket.
/// #[derive(Debug, Deserialize, Extract)]
/// struct Ticket {
///     /// One-line summary.
///     title: String,
///     #[garde(range(min = 1, max = 5))]
///     priority: u8,
/// }
///
/// let schema = Ticket::json_schema(Dialect::OpenAiStrict).unwrap();
/// assert_eq!(schema["description"], "A support ticket.");
/// assert_eq!(schema["properties"]["priority"]["maximum"], 5);
/// ```
///
/// # On the type
///
/// | key | what it does |
/// |---|---|
/// | `rename = "name"` | the tool / function name the model sees (default: the type's name) |
/// | `description = "..."` | what the type is, for the model (default: its doc comment) |
/// | `title = "..."` | the schema's `title` |
/// | `example = lit`, `examples(lit, ...)` | examples in the schema |
/// | `partial = "Name"` | the name of the generated partial type (default `PartialX`) |
/// | `strict` | a compile error when a strict dialect could not express the type |
/// | `validate = path` or `validate = \|value, ctx\| ...` | a check of the whole value, `fn(&Self, &Context) -> Result<(), E>` (repeatable) |
/// | `llm_validate = "statement"`, `llm_validate(statement = "...", model = "...", allow_fix)` | the extraction's model (or `model`) judges the whole value against the statement once the rules pass; the type must be `Serialize` (repeatable; see below) |
/// | `stream(done)` | the type's partial appears only once the value is whole |
/// | `crate = "path"` | where the runtime is (default `::instructor`) |
///
/// ```
/// use instructor::prelude::*;
///
/// fn ends_after_start(trip: &Trip, _: &Context) -> Result<(), ValidationError> {
///     match trip.end_day >= trip.start_day {
///         true => Ok(()),
///         false => Err(ValidationError::new("the trip ends before it starts")),
///     }
/// }
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(
///     rename = "save_trip",
///     description = "A trip found in the text.",
///     title = "Trip",
///     example = r#"{"city": "Lyon", "start_day": 1, "end_day": 3}"#,
///     partial = "TripDraft",
///     strict,
///     validate = ends_after_start,
/// )]
/// struct Trip {
///     city: String,
///     start_day: u32,
///     end_day: u32,
/// }
///
/// assert_eq!(Trip::name(), "save_trip");
/// let schema = Trip::json_schema(Dialect::JsonSchema).unwrap();
/// assert_eq!(schema["description"], "A trip found in the text.");
/// assert_eq!(schema["title"], "Trip");
/// let _draft: TripDraft = TripDraft::default();
///
/// let trip = Trip { city: "Lyon".into(), start_day: 3, end_day: 1 };
/// let errors = trip.validate(&Context::new()).unwrap_err();
/// assert!(errors.to_string().contains("ends before it starts"));
/// ```
///
/// `crate = "path"` is for code that reaches the runtime another way than through the
/// `instructor` crate, e.g. `#[extract(crate = "instructor_core")]` with only
/// `instructor-core` and `instructor-macros` as dependencies, or
/// `#[extract(crate = "::my_sdk::instructor")]` for a crate that re-exports it:
///
/// ```
/// use instructor::prelude::*;
///
/// mod sdk {
///     pub use instructor;
/// }
///
/// #[derive(Deserialize, Extract)]
/// #[extract(crate = "sdk::instructor")]
/// struct Note {
///     text: String,
/// }
///
/// assert_eq!(Note::name(), "Note");
/// ```
///
/// # On a field
///
/// | key | what it does |
/// |---|---|
/// | `description = "..."` | what the field is, for the model (default: its doc comment) |
/// | `title = "..."` | the field schema's `title` |
/// | `example = lit`, `examples(lit, ...)` | examples in the field's schema |
/// | `schema_with = path` | the field's schema from `fn(&mut SchemaGenerator) -> Schema`, for a field serde reads another way (`deserialize_with`, `with`) |
/// | `schemars` | the field's schema from its `schemars::JsonSchema` impl (feature `schemars`) |
/// | `validate = path` or `validate = \|value, ctx\| ...` | a check of the field, `fn(&Field, &Context) -> Result<(), E>` (repeatable) |
/// | `llm_validate = "statement"`, `llm_validate(statement = "...", model = "...", allow_fix)` | a model judges the field against the statement (repeatable; see below) |
/// | `stream(done)` | the field appears in the partial only once complete (no growing text) |
/// | `stream(required)` | the parent object appears in the partial only once this field is complete |
///
/// `E` in `validate` is anything that converts into `ValidationErrors`
/// (`ValidationError`, `ValidationErrors`); errors are reported at the field's wire
/// path.
///
/// `llm_validate` checks are made by an extraction, after the rules pass, with its own
/// provider and model (or `model = "..."`, a cheaper one), all at once and beside the
/// async validators, within its deadline and token budget. A failed check is re-asked
/// at the value's path (`items[1].name` for a field of a list item); each call is in the
/// ledger as a validation call; with `allow_fix`, the model's corrected value replaces
/// the original when it passes the rules. The model is shown the value as JSON, so its
/// type must be `Serialize`. Validating a value by hand (`value.validate(&ctx)`) makes no
/// check: there is no model to ask.
///
/// ```
/// use instructor::prelude::*;
/// use instructor::{Schema, SchemaGenerator};
///
/// fn no_shouting(name: &String, _: &Context) -> Result<(), ValidationError> {
///     match name.chars().any(char::is_lowercase) {
///         true => Ok(()),
///         false => Err(ValidationError::new("write the name as written, not in capitals")),
///     }
/// }
///
/// // `tags` arrives as one comma-separated string; its schema says so.
/// fn comma_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
///     let text = String::deserialize(d)?;
///     Ok(text.split(',').map(|tag| tag.trim().to_owned()).collect())
/// }
/// fn comma_separated_schema(generator: &mut SchemaGenerator) -> Schema {
///     generator.subschema_for::<String>()
/// }
///
/// #[derive(Debug, Deserialize, Extract)]
/// struct Contact {
///     #[extract(description = "Full name", title = "Name", example = "Ada Lovelace", validate = no_shouting)]
///     name: String,
///     #[extract(examples("+33 4 72 00 00 00", "+1 555 0100"))]
///     phone: String,
///     #[serde(deserialize_with = "comma_separated")]
///     #[extract(schema_with = comma_separated_schema)]
///     tags: Vec<String>,
/// }
///
/// let schema = Contact::json_schema(Dialect::JsonSchema).unwrap();
/// assert_eq!(schema["properties"]["name"]["description"], "Full name");
/// assert_eq!(schema["properties"]["tags"]["type"], "string");
///
/// let contact: Contact =
///     serde_json::from_str(r#"{"name": "ADA", "phone": "+1 555 0100", "tags": "math, poetry"}"#).unwrap();
/// assert_eq!(contact.tags, ["math", "poetry"]);
/// let errors = contact.validate(&Context::new()).unwrap_err();
/// assert!(errors.to_string().starts_with("name: "));
/// ```
///
/// The two streaming policies change only what the partial shows while the answer
/// streams; the final value is the same. `stream(done)` keeps a field (or, on a struct,
/// the whole value) out of the partial until it is complete, so a reader never sees
/// `"appro"` on the way to `"approved"`; `stream(required)` keeps the object that holds
/// the field out of the partial until that field is complete, so a list item appears
/// with its `id`. A field takes one of the two, not both.
///
/// ```
/// use instructor::prelude::*;
/// use instructor::stream::PartialStream;
///
/// #[derive(Debug, Deserialize, Extract)]
/// struct Step {
///     #[extract(stream(required))]
///     id: u32,
///     text: String,
/// }
///
/// #[derive(Debug, Deserialize, Extract)]
/// struct Review {
///     #[extract(stream(done))]
///     verdict: String,
///     steps: Vec<Step>,
/// }
///
/// let answer = r#"{"verdict": "approved", "steps": [{"text": "merge it", "id": 7}]}"#;
/// let mut stream = PartialStream::<Review>::new();
/// for chunk in answer.as_bytes().chunks(3) {
///     if let Some(partial) = stream.feed(chunk).unwrap() {
///         // The verdict is whole or absent, and a step is never shown without its id.
///         assert!(partial.verdict.as_deref().is_none_or(|v| v == "approved"));
///         for step in partial.steps.iter().flatten() {
///             assert_eq!(step.id, Some(7));
///         }
///     }
/// }
/// let review = stream.finish(&Context::new()).unwrap();
/// assert_eq!(review.steps[0].text, "merge it");
/// ```
///
/// # On an enum variant
///
/// | key | what it does |
/// |---|---|
/// | `description = "..."` | what the variant means, for the model (default: its doc comment) |
/// | `title = "..."` | the variant schema's `title` (variants with fields) |
///
/// ```
/// use instructor::prelude::*;
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[serde(tag = "kind", rename_all = "snake_case")]
/// enum Action {
///     #[extract(description = "Search the web.", title = "Web search")]
///     Search { query: String },
///     /// Ask the user a question.
///     Ask { question: String },
/// }
///
/// let schema = Action::json_schema(Dialect::JsonSchema).unwrap();
/// assert!(schema.to_string().contains("Search the web."));
/// assert!(schema.to_string().contains("Ask the user a question."));
/// ```
#[proc_macro_derive(Extract, attributes(extract, garde))]
pub fn derive_extract(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    emit::expand(&input).into()
}
