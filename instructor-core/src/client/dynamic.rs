//! Extraction with a JSON Schema known only at run time (a schema file given to the
//! command-line tool, a schema from a database): the same engine as a derived type —
//! the schema rendered and checked in the mode's dialect, the answer read leniently
//! where the mode calls for it, validated by the schema itself (compiled once, with
//! `jsonschema`), re-asked with the errors' wire paths, and streamed as a growing
//! `serde_json::Value`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use instructor_core::client::{Client, DynamicSchema};
//! use instructor_providers::openai::{OpenAi, OpenAiConfig};
//! use instructor_providers::testing::{FakeProvider, openai::ChatCompletion};
//! use serde_json::json;
//!
//! let schema = DynamicSchema::from_json(
//!     "Person",
//!     json!({
//!         "type": "object",
//!         "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
//!         "required": ["name", "age"],
//!     }),
//! )?;
//!
//! let server = FakeProvider::start().await;
//! let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-test"));
//! let client = Client::new(provider).with_model("gpt-4o-mini");
//! server.push(ChatCompletion::tool_call("Person", r#"{"name": "Ada", "age": 36}"#).reply());
//!
//! let person = client.extract_with_schema(&schema).user("Ada is 36").await?;
//! assert_eq!(person.into_inner(), json!({"name": "Ada", "age": 36}));
//! # Ok(())
//! # }
//! ```

use super::{Client, Extraction};
use crate::extract::Extract;
use crate::partial::{Changed, Event, HasPartial, PartialError, PathSegment, Scratch, WirePath};
use crate::schema::{ExtractSchema, RootSchema, Schema, SchemaGenerator, SchemaKind};
use crate::validate::{
    AsyncValidator, Context, Validate, ValidationErrors, ValidationFuture,
};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Why a JSON Schema cannot be used for an extraction. Raised by
/// [`DynamicSchema::from_json`], before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DynamicSchemaError {
    /// The document is not a JSON object (`true`, a string, a list).
    #[error("a JSON Schema must be an object, found {found}")]
    NotAnObject {
        /// What the document is.
        found: &'static str,
    },
    /// The document is not a valid JSON Schema (an unknown type, a malformed keyword,
    /// a `$ref` that does not resolve).
    #[error("invalid JSON Schema: {reason}")]
    Invalid {
        /// What the schema compiler said.
        reason: String,
    },
}

/// A JSON Schema known at run time, ready for [`Client::extract_with_schema`]: read
/// into the schema IR (for the dialects) and compiled into a validator, both once.
/// Cheap to clone.
#[derive(Clone)]
pub struct DynamicSchema {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    description: Option<String>,
    root: Arc<RootSchema>,
    validator: Arc<jsonschema::Validator>,
    document: Value,
}

impl fmt::Debug for DynamicSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSchema")
            .field("name", &self.inner.name)
            .field("document", &self.inner.document)
            .finish_non_exhaustive()
    }
}

impl DynamicSchema {
    /// Reads `document` (draft 2020-12 or draft-07; local `$ref`s are inlined) and
    /// compiles its validator. `name` is the tool or schema name the model sees (made
    /// a valid tool name where it is not one). The document's `description` is what
    /// the model reads about the output.
    ///
    /// # Errors
    ///
    /// [`DynamicSchemaError`] when the document is not an object or not a valid JSON
    /// Schema.
    pub fn from_json(
        name: impl Into<String>,
        document: Value,
    ) -> Result<DynamicSchema, DynamicSchemaError> {
        let found = match &document {
            Value::Object(_) => None,
            Value::Null => Some("null"),
            Value::Bool(_) => Some("a boolean"),
            Value::Number(_) => Some("a number"),
            Value::String(_) => Some("a string"),
            Value::Array(_) => Some("an array"),
        };
        if let Some(found) = found {
            return Err(DynamicSchemaError::NotAnObject { found });
        }
        let validator =
            jsonschema::validator_for(&document).map_err(|error| DynamicSchemaError::Invalid {
                reason: error.to_string(),
            })?;
        let schema = crate::schema::from_json::schema_from_json(&document);
        let description = schema.description.clone();
        let mut name = name.into();
        if name.trim().is_empty() {
            name = "output".to_owned();
        }
        Ok(DynamicSchema {
            inner: Arc::new(Inner {
                name,
                description,
                root: Arc::new(RootSchema {
                    schema,
                    defs: IndexMap::new(),
                    root_name: None,
                }),
                validator: Arc::new(validator),
                document,
            }),
        })
    }

    /// The name the model sees.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The schema as given.
    pub fn document(&self) -> &Value {
        &self.inner.document
    }

    /// The schema in the IR (what the dialects render).
    pub fn root_schema(&self) -> &Arc<RootSchema> {
        &self.inner.root
    }

    /// Checks `value` against the schema: every error, at its wire path.
    ///
    /// # Errors
    ///
    /// The schema's errors, each at the path of the value it concerns.
    pub fn validate(&self, value: &Value) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        for error in self.inner.validator.iter_errors(value) {
            let path = wire_path(value, error.instance_path());
            errors.push(path.segments(), schema_message(&error));
        }
        errors.into_result()
    }

    /// What an extraction needs of the schema: the IR, the name, the description.
    pub(super) fn source(&self) -> SchemaSource {
        SchemaSource {
            root: Arc::clone(&self.inner.root),
            name: Cow::Owned(self.inner.name.clone()),
            description: self.inner.description.clone(),
        }
    }
}

/// The message of a schema error, without the path (the re-ask prints the path).
fn schema_message(error: &jsonschema::ValidationError<'_>) -> String {
    error.to_string()
}

/// A JSON pointer of `jsonschema` as the wire path of the value it points to: a
/// segment is an index where the value there is a list, a key otherwise.
fn wire_path(root: &Value, location: &jsonschema::paths::Location) -> WirePath {
    let mut segments = Vec::new();
    let mut at = Some(root);
    for segment in location {
        let text = segment.to_string();
        let next = match at {
            Some(Value::Array(items)) => match text.parse::<usize>() {
                Ok(index) => {
                    segments.push(PathSegment::Index(index));
                    items.get(index)
                }
                Err(_) => {
                    segments.push(PathSegment::Key(text));
                    None
                }
            },
            Some(Value::Object(members)) => {
                let next = members.get(text.as_str());
                segments.push(PathSegment::Key(text));
                next
            }
            _ => {
                segments.push(PathSegment::Key(text));
                None
            }
        };
        at = next;
    }
    WirePath::from(segments.as_slice())
}

/// The schema an extraction takes from a value rather than from its type.
#[derive(Clone)]
pub(super) struct SchemaSource {
    pub root: Arc<RootSchema>,
    pub name: Cow<'static, str>,
    pub description: Option<String>,
}

impl SchemaSource {
    /// The source of a list of these (for `.iter()`).
    pub(super) fn list(&self) -> SchemaSource {
        SchemaSource {
            root: Arc::new(RootSchema {
                schema: Schema::array(self.root.schema.clone()),
                defs: self.root.defs.clone(),
                root_name: None,
            }),
            name: Cow::Owned(format!("{}_list", self.name)),
            description: Some(match &self.description {
                Some(item) => format!("A list; each item: {item}"),
                None => "A list.".to_owned(),
            }),
        }
    }
}

/// The schema's validator, run on each answer (and on each item of `.iter()`).
struct BySchema(DynamicSchema);

impl AsyncValidator<DynamicValue> for BySchema {
    fn validate<'a>(&'a self, value: &'a DynamicValue, _: &'a Context) -> ValidationFuture<'a> {
        Box::pin(std::future::ready(self.0.validate(&value.0)))
    }
}

impl Client {
    /// Extracts a value described by a JSON Schema known at run time: the same
    /// builder as [`Client::extract`], with the schema's IR rendered for the mode and
    /// its validator run on every answer (errors re-asked at their paths).
    /// `.partial()` streams the value as a growing [`serde_json::Value`].
    pub fn extract_with_schema(&self, schema: &DynamicSchema) -> Extraction<DynamicValue> {
        Extraction::new(self.clone())
            .with_schema_source(schema.source())
            .validator(BySchema(schema.clone()))
    }
}

/// A value extracted with a [`DynamicSchema`]: any JSON value, checked by the schema.
/// Its partial is a `serde_json::Value` that grows while the answer streams (strings
/// fragment by fragment, numbers once complete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DynamicValue(pub Value);

impl DynamicValue {
    /// The JSON value.
    pub fn into_inner(self) -> Value {
        self.0
    }
}

impl std::ops::Deref for DynamicValue {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

impl From<DynamicValue> for Value {
    fn from(value: DynamicValue) -> Value {
        value.0
    }
}

impl ExtractSchema for DynamicValue {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::new(SchemaKind::Any)
    }
}

impl Validate for DynamicValue {
    fn validate_into(&self, _: &Context, _: &mut WirePath, _: &mut ValidationErrors) {}
}

impl Extract for DynamicValue {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("value")
    }
}

impl HasPartial for DynamicValue {
    type Partial = Value;

    fn apply_new(
        path: &[PathSegment],
        event: &Event<'_>,
        _: &mut Scratch,
    ) -> Result<Option<Value>, PartialError> {
        if !path.is_empty() {
            return Err(PartialError::mismatch(path, "a JSON value", event));
        }
        started(path, event).map(Some)
    }

    fn apply_existing(
        partial: &mut Value,
        path: &[PathSegment],
        event: &Event<'_>,
        _: &mut Scratch,
    ) -> Result<Changed, PartialError> {
        let Some((last, parents)) = path.split_last() else {
            return continued(partial, path, event);
        };
        let mut parent = partial;
        for (depth, segment) in parents.iter().enumerate() {
            let child = match (parent, segment) {
                (Value::Object(members), PathSegment::Key(key)) => members.get_mut(key.as_str()),
                (Value::Array(items), PathSegment::Index(index)) => items.get_mut(*index),
                _ => None,
            };
            parent = child.ok_or_else(|| {
                PartialError::mismatch(&path[..=depth], "a value that has begun", event)
            })?;
        }
        let begins = begins_value(event);
        match (parent, last) {
            (Value::Object(members), PathSegment::Key(key)) => match members.get_mut(key.as_str()) {
                // A repeated key: the last one wins, as when reading it whole.
                Some(existing) if begins => {
                    *existing = started(path, event)?;
                    Ok(true)
                }
                Some(existing) => continued(existing, path, event),
                None => {
                    members.insert(key.clone(), started(path, event)?);
                    Ok(true)
                }
            },
            (Value::Array(items), PathSegment::Index(index)) => {
                if let Some(existing) = items.get_mut(*index) {
                    continued(existing, path, event)
                } else if *index == items.len() {
                    items.push(started(path, event)?);
                    Ok(true)
                } else {
                    Err(PartialError::mismatch(path, "the next list item", event))
                }
            }
            _ => Err(PartialError::mismatch(path, "a member of an object or a list", event)),
        }
    }
}

/// Whether `event` is the first of a value.
fn begins_value(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::BeginObject
            | Event::BeginArray
            | Event::BeginString
            | Event::Number(_)
            | Event::Bool(_)
            | Event::Null
    )
}

/// The partial of a value whose first event is `event`.
fn started(path: &[PathSegment], event: &Event<'_>) -> Result<Value, PartialError> {
    Ok(match event {
        Event::BeginObject => Value::Object(Map::new()),
        Event::BeginArray => Value::Array(Vec::new()),
        Event::BeginString | Event::EndString => Value::String(String::new()),
        Event::StringFragment(fragment) => Value::String((*fragment).to_owned()),
        Event::Number(raw) => {
            serde_json::from_str::<serde_json::Number>(raw)
                .map(Value::Number)
                .map_err(|error| PartialError::Invalid {
                    path: WirePath::from(path),
                    message: error.to_string(),
                })?
        }
        Event::Bool(value) => Value::Bool(*value),
        Event::Null => Value::Null,
        Event::EndObject | Event::EndArray | Event::Key(_) => {
            return Err(PartialError::mismatch(path, "the start of a value", event));
        }
    })
}

/// Applies a later event of a value to its partial.
fn continued(partial: &mut Value, path: &[PathSegment], event: &Event<'_>) -> Result<Changed, PartialError> {
    match (partial, event) {
        (Value::String(text), Event::StringFragment(fragment)) => {
            text.push_str(fragment);
            Ok(!fragment.is_empty())
        }
        (Value::String(_), Event::EndString | Event::BeginString)
        | (Value::Object(_), Event::EndObject | Event::Key(_) | Event::BeginObject)
        | (Value::Array(_), Event::EndArray | Event::BeginArray) => Ok(false),
        _ => Err(PartialError::mismatch(path, "nothing more for a finished value", event)),
    }
}
