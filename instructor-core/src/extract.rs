//! The `Extract` trait: everything instructor needs to know about an output type.

use crate::partial::HasPartial;
use crate::path::WirePath;
use crate::schema::{Dialect, DialectError, ExtractSchema, RootSchema};
use crate::validate::{Context, Validate, ValidationErrors};
use serde::de::DeserializeOwned;
use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

/// A type that can be extracted from a model's answer: it has a schema, a partial
/// mirror for streaming, validation rules, and serde deserialization.
///
/// Implemented by `#[derive(Extract)]` (users of this crate without the `instructor`
/// facade point the derive at it with `crate = "..."`):
///
/// ```
/// use instructor_core::{Dialect, Extract};
/// use instructor_macros::Extract;
/// use serde::Deserialize;
///
/// /// A support ticket.
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct Ticket {
///     /// One-line summary.
///     title: String,
///     priority: u8,
/// }
///
/// let schema = Ticket::json_schema(Dialect::OpenAiStrict).unwrap();
/// assert_eq!(schema["required"], serde_json::json!(["title", "priority"]));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted: derive `Extract` on it",
    label = "`{Self}` does not implement `Extract`",
    note = "add `#[derive(Deserialize, Extract)]` to `{Self}` (from `instructor::prelude`); lists (`Vec<T>`), `Option<T>`, strings, numbers and booleans are `Extract` when their items are"
)]
pub trait Extract:
    ExtractSchema + HasPartial + Validate + DeserializeOwned + Send + Sync + 'static
{
    /// The tool / function / schema name the model sees.
    fn name() -> Cow<'static, str>;

    /// What the type is, for the model (the type's doc comment by default).
    fn description() -> Option<Cow<'static, str>> {
        None
    }

    /// The schema of this type, built once per type and shared.
    fn root_schema() -> Arc<RootSchema> {
        cached_root_schema::<Self>()
    }

    /// The schema rendered in `dialect`, or why the dialect cannot express it.
    fn json_schema(dialect: Dialect) -> Result<serde_json::Value, DialectError> {
        Self::root_schema().render(dialect)
    }

    /// Runs every synchronous validation rule; errors carry wire-name paths.
    fn validate(&self, context: &Context) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut path = WirePath::root();
        self.validate_into(context, &mut path, &mut errors);
        errors.into_result()
    }
}

/// A list of values: the model answers with several (wrapped in an object on the wire
/// where the dialect needs an object root, unwrapped for the caller).
impl<T: Extract> Extract for Vec<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("{}_list", T::name()))
    }

    fn description() -> Option<Cow<'static, str>> {
        Some(Cow::Owned(match T::description() {
            Some(item) => format!("A list; each item: {item}"),
            None => "A list.".to_owned(),
        }))
    }
}

/// A value or nothing (`null` when the text holds none).
impl<T: Extract> Extract for Option<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Maybe_{}", T::name()))
    }

    fn description() -> Option<Cow<'static, str>> {
        Some(Cow::Owned(match T::description() {
            Some(item) => format!("null when there is none; otherwise: {item}"),
            None => "null when there is none.".to_owned(),
        }))
    }
}

macro_rules! primitive {
    ($($t:ty => $name:literal),* $(,)?) => {$(
        /// A single primitive answer (wrapped in an object on the wire).
        impl Extract for $t {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    )*};
}
primitive!(
    String => "text",
    bool => "boolean",
    char => "character",
    i8 => "integer", i16 => "integer", i32 => "integer", i64 => "integer", i128 => "integer",
    isize => "integer", u8 => "integer", u16 => "integer", u32 => "integer", u64 => "integer",
    u128 => "integer", usize => "integer",
    f32 => "number", f64 => "number",
);

/// What a type parameter of a derived type must be: anything that can be a field
/// (`String` as well as another derived type). Implemented for every such type.
pub trait ExtractField:
    ExtractSchema + HasPartial + Validate + DeserializeOwned + Send + Sync + 'static
{
}

impl<T> ExtractField for T where
    T: ExtractSchema + HasPartial + Validate + DeserializeOwned + Send + Sync + 'static
{
}

type SchemaCache = RwLock<HashMap<TypeId, Arc<RootSchema>>>;

fn cached_root_schema<T: ExtractSchema + 'static>() -> Arc<RootSchema> {
    static CACHE: OnceLock<SchemaCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = TypeId::of::<T>();
    if let Some(found) = cache.read().ok().and_then(|map| map.get(&key).cloned()) {
        return found;
    }
    // Built outside the lock: building may need other types' schemas.
    let built = Arc::new(RootSchema::of::<T>());
    match cache.write() {
        Ok(mut map) => map.entry(key).or_insert(built).clone(),
        Err(_) => built,
    }
}

/// One thing wrong with a model's answer: where (in wire names) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending value (`items[2].price`); the root for the whole answer
    /// (a JSON syntax error, whose message says the line and column).
    pub path: WirePath,
    /// What is wrong, phrased for the model.
    pub message: String,
}

impl FieldError {
    /// An error at `path`.
    pub fn new(path: impl Into<WirePath>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A model answer that is not a valid `T`: every error found, each with its path.
///
/// [`read_json`] reports every wrong field of the answer at once (so that one re-ask
/// can name them all); the serde-only readers ([`from_json_str`], ...) report serde's
/// first error. Prints one error per line as `path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeserializeError {
    /// Never empty.
    errors: Vec<FieldError>,
}

impl DeserializeError {
    /// One error at `path`.
    pub fn new(path: impl Into<WirePath>, message: impl Into<String>) -> Self {
        DeserializeError {
            errors: vec![FieldError::new(path, message)],
        }
    }

    /// The errors, in document order where it is known; `None` for an empty list.
    pub fn from_errors(errors: Vec<FieldError>) -> Option<Self> {
        (!errors.is_empty()).then_some(DeserializeError { errors })
    }

    /// Every error (at least one).
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The path of the first error.
    pub fn path(&self) -> &WirePath {
        static ROOT: WirePath = WirePath::root();
        self.errors.first().map_or(&ROOT, |error| &error.path)
    }

    /// The message of the first error.
    pub fn message(&self) -> &str {
        self.errors.first().map_or("", |error| &error.message)
    }

    /// The same errors, seen from a value that holds this one under `key` (paths
    /// gain `key` in front).
    pub fn under(mut self, key: &str) -> Self {
        for error in &mut self.errors {
            error.path = WirePath::root().key(key).join(&error.path);
        }
        self
    }
}

impl fmt::Display for DeserializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::validate::write_lines(f, &self.errors)
    }
}

impl std::error::Error for DeserializeError {}

impl IntoIterator for DeserializeError {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

/// serde's error with its path in wire names. A JSON syntax error is about the text,
/// not a value: it sits at the root, and its message says the line and column.
fn serde_error(error: serde_path_to_error::Error<serde_json::Error>) -> DeserializeError {
    let inner = error.inner();
    if inner.is_syntax() || inner.is_eof() {
        return DeserializeError::new(WirePath::root(), format!("invalid JSON: {inner}"));
    }
    let mut path = WirePath::root();
    for segment in error.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => path.push_index(*index),
            serde_path_to_error::Segment::Map { key } => path.push_key(key.as_str()),
            serde_path_to_error::Segment::Enum { variant } => path.push_key(variant.as_str()),
            // serde lost track below here (inside a buffered enum or flatten): the
            // path so far is where the error is.
            serde_path_to_error::Segment::Unknown => break,
        }
    }
    DeserializeError::new(path, inner.to_string())
}

/// A syntax error of the text after the value (`{} x`), which serde reports at the end.
fn trailing_error(error: serde_json::Error) -> DeserializeError {
    DeserializeError::new(WirePath::root(), format!("invalid JSON: {error}"))
}

/// Deserializes `T` from JSON text with serde, reporting serde's first error with its
/// path. [`read_json`] reports every error of an extracted type.
pub fn from_json_str<T: DeserializeOwned>(text: &str) -> Result<T, DeserializeError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(serde_error)?;
    deserializer.end().map_err(trailing_error)?;
    Ok(value)
}

/// Deserializes `T` from JSON bytes with serde, reporting serde's first error with its
/// path.
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DeserializeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(serde_error)?;
    deserializer.end().map_err(trailing_error)?;
    Ok(value)
}

/// Deserializes `T` from a JSON value with serde, reporting serde's first error with
/// its path.
pub fn from_json_value<T: DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, DeserializeError> {
    serde_path_to_error::deserialize(value).map_err(serde_error)
}

/// Reads an extracted type from a model's JSON answer, reporting every error at once.
///
/// serde reads the answer; when it fails, the answer is checked against `T`'s schema
/// (JSON types, required fields, enum values, unknown fields where the type denies
/// them, integer ranges of the Rust types, nested objects, lists and enums) and every
/// error found is reported, each at its path, so that one re-ask can name them all.
/// serde's own error is added when the check missed its place. The check only
/// explains a failure: an answer serde reads is never rejected.
///
/// ```
/// use instructor_core::{Extract, read_json};
/// use instructor_macros::Extract;
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct Item { n: u8 }
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct Order { id: u32, name: String, items: Vec<Item> }
///
/// let answer = r#"{"id": "7", "items": [{"n": 300}, {"n": "two"}]}"#;
/// let error = read_json::<Order>(answer).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "id: expected an integer, found \"7\"\n\
///      name: missing required field\n\
///      items[0].n: expected an integer from 0 to 255, found 300\n\
///      items[1].n: expected an integer, found \"two\""
/// );
/// ```
pub fn read_json<T: Extract>(text: &str) -> Result<T, DeserializeError> {
    let serde_error = match from_json_str::<T>(text) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => Err(explain::<T>(&value, serde_error)),
        Err(syntax) => Err(not_json(&syntax, serde_error)),
    }
}

/// Like [`read_json`], from bytes.
pub fn read_json_slice<T: Extract>(bytes: &[u8]) -> Result<T, DeserializeError> {
    let serde_error = match from_json_slice::<T>(bytes) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => Err(explain::<T>(&value, serde_error)),
        Err(syntax) => Err(not_json(&syntax, serde_error)),
    }
}

/// Like [`read_json`], from a parsed JSON value.
pub fn read_json_value<T: Extract>(value: &serde_json::Value) -> Result<T, DeserializeError> {
    match serde_path_to_error::deserialize(value) {
        Ok(read) => Ok(read),
        Err(error) => Err(explain::<T>(value, serde_error(error))),
    }
}

/// Like [`read_json`], for an answer that holds the value under `key` of a wrapper
/// object (`{"value": [...]}`, how strict dialects carry a list, an option or a
/// primitive). Paths start at the wrapper, as the model wrote them (`value[0].name`).
pub fn read_json_under<T: Extract>(bytes: &[u8], key: &str) -> Result<T, DeserializeError> {
    // serde straight from the text first, as `read_json` does: what serde accepts
    // (a lone surrogate in an ignored field, say) is accepted here too, and a valid
    // answer is parsed once.
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = serde::de::DeserializeSeed::deserialize(
        Under::<T> {
            key,
            _value: std::marker::PhantomData,
        },
        &mut deserializer,
    ) && deserializer.end().is_ok()
    {
        return Ok(value);
    }
    let wrapper: serde_json::Value = from_json_slice(bytes)?;
    let serde_json::Value::Object(mut wrapper) = wrapper else {
        return Err(DeserializeError::new(
            WirePath::root(),
            format!("expected an object with the field `{key}`"),
        ));
    };
    let Some(inner) = wrapper.remove(key) else {
        return Err(DeserializeError::new(
            WirePath::root().key(key),
            "missing required field",
        ));
    };
    read_json_value::<T>(&inner).map_err(|error| error.under(key))
}

/// An answer that is not JSON: where in the text (line and column), and serde's error
/// too when serde stopped earlier, at a value of the wrong type.
fn not_json(syntax: &serde_json::Error, serde_error: DeserializeError) -> DeserializeError {
    let mut errors = vec![FieldError::new(
        WirePath::root(),
        format!("invalid JSON: {syntax}"),
    )];
    errors.extend(
        serde_error
            .errors
            .into_iter()
            .filter(|error| !error.message.starts_with("invalid JSON: ")),
    );
    DeserializeError { errors }
}

/// The errors the schema check finds in an answer serde rejected, with serde's error
/// added when no error of the check is at or around its place.
fn explain<T: Extract>(
    value: &serde_json::Value,
    serde_error: DeserializeError,
) -> DeserializeError {
    let mut errors = crate::schema::check::check(&T::root_schema(), value);
    if errors.is_empty() {
        return serde_error;
    }
    for error in serde_error.errors {
        let covered = errors.iter().any(|found| {
            found.path.starts_with(&error.path) || error.path.starts_with(&found.path)
        });
        if !covered {
            errors.push(error);
        }
    }
    DeserializeError { errors }
}

/// The value under one key of a wrapper object, the other keys ignored (a seed: the
/// key is only known at run time).
struct Under<'k, T> {
    key: &'k str,
    _value: std::marker::PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned> serde::de::DeserializeSeed<'de> for Under<'_, T> {
    type Value = T;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> serde::de::Visitor<'de> for Under<'_, T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an object with the field `{}`", self.key)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.key {
                if found.is_some() {
                    return Err(serde::de::Error::duplicate_field("value"));
                }
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        found.ok_or_else(|| serde::de::Error::missing_field("value"))
    }
}
