//! [`DynamicSchema`]: a JSON Schema read into the IR and compiled into a validator.

use super::super::{Client, Extraction};
use super::{DynamicValue, SchemaSource};
use crate::partial::{PathSegment, WirePath};
use crate::schema::RootSchema;
use crate::validate::{AsyncValidator, Context, ValidationErrors, ValidationFuture};
use indexmap::IndexMap;
use serde_json::Value;
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
        Extraction::new(self).schema(schema)
    }
}

impl Extraction<DynamicValue> {
    /// This extraction with `schema` (what [`Client::extract_with_schema`] starts with),
    /// for an extraction made elsewhere: each item of
    /// [`Client::extract_many`] over [`DynamicValue`]s, say. Give it once.
    pub fn schema(self, schema: &DynamicSchema) -> Self {
        self.with_schema_source(schema.source())
            .validator(BySchema(schema.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_are_at_wire_paths_with_keys_that_look_like_indices_or_pointers() {
        let schema = DynamicSchema::from_json(
            "odd",
            json!({
                "type": "object",
                "properties": {
                    "0": {"type": "string"},
                    "a/b": {"type": "array", "items": {"type": "integer"}},
                    "~t": {"type": "boolean"}
                }
            }),
        )
        .expect("a schema");
        let value = json!({"0": 1, "a/b": [1, "x"], "~t": "no"});
        let errors = schema.validate(&value).expect_err("three errors");
        let mut paths: Vec<Vec<PathSegment>> = errors
            .errors()
            .iter()
            .map(|error| error.path.segments().to_vec())
            .collect();
        paths.sort_by_key(|path| format!("{path:?}"));
        assert_eq!(
            paths,
            [
                vec![PathSegment::Key("0".into())],
                vec![PathSegment::Key("a/b".into()), PathSegment::Index(1)],
                vec![PathSegment::Key("~t".into())],
            ]
        );
        assert!(schema.validate(&json!({"0": "s", "a/b": [2]})).is_ok());
    }
}
