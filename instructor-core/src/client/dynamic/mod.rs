//! Extraction with a JSON Schema known only at run time (a schema file given to the
//! command-line tool, a schema from a database): the same engine as a derived type —
//! the schema rendered and checked in the mode's dialect, the answer read leniently
//! where the mode calls for it, validated by the schema itself (compiled once, with
//! `jsonschema`), re-asked with the errors' wire paths, and streamed as a growing
//! `serde_json::Value`.
//!
//! (The schema half, [`DynamicSchema`] and `Client::extract_with_schema`, is behind
//! the `dynamic-schema` feature, which brings in the `jsonschema` crate.)
//!
//! ```
//! # #[cfg(feature = "dynamic-schema")]
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
//! # #[cfg(not(feature = "dynamic-schema"))]
//! # fn main() {}
//! ```

#[cfg(feature = "dynamic-schema")]
mod schema;

#[cfg(feature = "dynamic-schema")]
pub use schema::{DynamicSchema, DynamicSchemaError};

use crate::extract::Extract;
use crate::partial::{Changed, Event, HasPartial, PartialError, PathSegment, Scratch, WirePath};
use crate::schema::{ExtractSchema, RootSchema, Schema, SchemaGenerator, SchemaKind};
use crate::validate::{Context, Validate, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

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

/// A value extracted with a runtime JSON Schema (`DynamicSchema`): any JSON value, checked by the schema.
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
            (Value::Object(members), PathSegment::Key(key)) => {
                match members.get_mut(key.as_str()) {
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
                }
            }
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
            _ => Err(PartialError::mismatch(
                path,
                "a member of an object or a list",
                event,
            )),
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
        Event::Number(raw) => serde_json::from_str::<serde_json::Number>(raw)
            .map(Value::Number)
            .map_err(|error| PartialError::Invalid {
                path: WirePath::from(path),
                message: error.to_string(),
            })?,
        Event::Bool(value) => Value::Bool(*value),
        Event::Null => Value::Null,
        Event::EndObject | Event::EndArray | Event::Key(_) => {
            return Err(PartialError::mismatch(path, "the start of a value", event));
        }
    })
}

/// Applies a later event of a value to its partial.
fn continued(
    partial: &mut Value,
    path: &[PathSegment],
    event: &Event<'_>,
) -> Result<Changed, PartialError> {
    match (partial, event) {
        (Value::String(text), Event::StringFragment(fragment)) => {
            text.push_str(fragment);
            Ok(!fragment.is_empty())
        }
        (Value::String(_), Event::EndString | Event::BeginString)
        | (Value::Object(_), Event::EndObject | Event::Key(_) | Event::BeginObject)
        | (Value::Array(_), Event::EndArray | Event::BeginArray) => Ok(false),
        _ => Err(PartialError::mismatch(
            path,
            "nothing more for a finished value",
            event,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::PartialStream;
    use serde_json::json;

    /// The partials a document gives when fed in `chunks`, and the final value.
    fn partials(chunks: &[&str]) -> (Vec<Value>, Value) {
        let mut stream = PartialStream::<DynamicValue>::new();
        let mut seen = Vec::new();
        for chunk in chunks {
            if let Some(partial) = stream.feed(chunk.as_bytes()).expect("valid events") {
                seen.push(partial.clone());
            }
        }
        let done = stream
            .finish(&Context::new())
            .expect("a value")
            .into_inner();
        (seen, done)
    }

    #[test]
    fn the_partial_grows_with_strings_lists_and_nested_objects() {
        let (seen, done) = partials(&[
            r#"{"a": "x"#,
            r#"y", "n": 1"#,
            r#"2, "l": [{"k": "v"#,
            r#""}, 3], "o": {"p": nu"#,
            r#"ll}}"#,
        ]);
        assert_eq!(
            seen,
            [
                json!({"a": "x"}),
                json!({"a": "xy"}),
                json!({"a": "xy", "n": 12, "l": [{"k": "v"}]}),
                // `null` shows only once its last byte has arrived.
                json!({"a": "xy", "n": 12, "l": [{"k": "v"}, 3], "o": {}}),
                json!({"a": "xy", "n": 12, "l": [{"k": "v"}, 3], "o": {"p": null}}),
            ]
        );
        assert_eq!(done, *seen.last().expect("a partial"));
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value_as_when_read_whole() {
        let (seen, done) = partials(&[r#"{"a": 1, "a": "two"}"#]);
        assert_eq!(seen.last(), Some(&json!({"a": "two"})));
        assert_eq!(done, json!({"a": "two"}));
    }

    #[test]
    fn a_root_that_is_not_an_object_is_a_value_too() {
        let (seen, done) = partials(&["[1, ", "\"b\"]"]);
        assert_eq!(seen.last(), Some(&json!([1, "b"])));
        assert_eq!(done, json!([1, "b"]));
    }

    #[test]
    fn an_event_past_a_finished_scalar_is_an_error_not_a_panic() {
        let mut partial = json!({"n": 1});
        let error = DynamicValue::apply_existing(
            &mut partial,
            &[PathSegment::Key("n".into())],
            &Event::StringFragment("x"),
            &mut Scratch::default(),
        )
        .expect_err("a number does not grow");
        assert_eq!(error.path().to_string(), "n");
        let error = DynamicValue::apply_existing(
            &mut partial,
            &[PathSegment::Key("missing".into()), PathSegment::Index(0)],
            &Event::Null,
            &mut Scratch::default(),
        )
        .expect_err("no such parent");
        assert_eq!(error.path().to_string(), "missing");
    }
}
