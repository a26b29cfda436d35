//! The `Extract` trait: everything instructor needs to know about an output type.

use crate::partial::HasPartial;
use crate::schema::{Dialect, DialectError, ExtractSchema, RootSchema};
use crate::validate::{Context, Validate, ValidationErrors};
use serde::de::DeserializeOwned;
use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
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
        let mut path = Vec::new();
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

/// A model answer that is not a valid `T`: where serde stopped and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
pub struct DeserializeError {
    /// Path of the offending value in wire names (`items[2].price`).
    pub path: String,
    /// serde's message.
    pub message: String,
}

/// Deserializes `T` from JSON text with a path-aware error.
pub fn from_json_str<T: DeserializeOwned>(text: &str) -> Result<T, DeserializeError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| DeserializeError {
            path: error.path().to_string(),
            message: error.inner().to_string(),
        })?;
    deserializer.end().map_err(|error| DeserializeError {
        path: String::new(),
        message: error.to_string(),
    })?;
    Ok(value)
}

/// Deserializes `T` from JSON bytes with a path-aware error.
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DeserializeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| DeserializeError {
            path: error.path().to_string(),
            message: error.inner().to_string(),
        })?;
    deserializer.end().map_err(|error| DeserializeError {
        path: String::new(),
        message: error.to_string(),
    })?;
    Ok(value)
}

/// Deserializes `T` from a JSON value with a path-aware error.
pub fn from_json_value<T: DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, DeserializeError> {
    serde_path_to_error::deserialize(value).map_err(|error| DeserializeError {
        path: error.path().to_string(),
        message: error.inner().to_string(),
    })
}
