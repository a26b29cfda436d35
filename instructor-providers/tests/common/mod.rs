//! What the wire tests share: the test data (recorded answers, the providers' published
//! descriptions), an OpenAPI component as a JSON Schema validator, and the request every
//! wire test starts from (extract a `Person` from one sentence).

// Each test file uses part of this.
#![allow(dead_code)]

use instructor_core::chat::{ChatRequest, Message, Mode, OutputSpec};
use instructor_core::schema::{ObjectSchema, Property, RootSchema, Schema, SchemaKind};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The repository's `testdata/`.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// A recorded answer or stream of `provider` (`testdata/recorded/<provider>/<name>`).
pub fn recorded(provider: &str, name: &str) -> Vec<u8> {
    let path = testdata().join("recorded").join(provider).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A published description (`testdata/specs/<file>`), parsed.
pub fn load_spec(file: &str) -> Value {
    let path = testdata().join("specs").join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The schema at `pointer` of an OpenAPI document (`#/components/schemas/X`, or a
/// request body's schema) as a JSON Schema (draft 2020-12) validator, `required` lists
/// kept. With `one_of_as_any_of`, unions are read as `anyOf`: OpenAPI tells their
/// branches apart by a `discriminator`, which JSON Schema does not know, so a body may
/// match two branches that differ only in their `type` value.
pub fn openapi_validator(
    document: &Value,
    pointer: &str,
    one_of_as_any_of: bool,
) -> jsonschema::Validator {
    let mut schema = document.clone();
    if one_of_as_any_of {
        unions_as_any_of(&mut schema);
    }
    schema["$ref"] = json!(pointer);
    jsonschema::draft202012::options()
        .build(&schema)
        .expect("the schema compiles")
}

fn unions_as_any_of(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(branches) = object.remove("oneOf") {
                object.insert("anyOf".into(), branches);
            }
            object.values_mut().for_each(unions_as_any_of);
        }
        Value::Array(items) => items.iter_mut().for_each(unions_as_any_of),
        _ => {}
    }
}

/// What `validator` finds wrong with `body`, each with where.
pub fn schema_errors(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect()
}

/// `{"name": string}`, required.
pub fn person() -> Arc<RootSchema> {
    let mut object = ObjectSchema::default();
    object.properties.insert(
        "name".into(),
        Property {
            schema: Schema::string(),
            required: true,
        },
    );
    Arc::new(RootSchema {
        schema: Schema {
            kind: SchemaKind::Object(object),
            ..Schema::default()
        },
        defs: Default::default(),
        root_name: None,
    })
}

/// Extract a `Person` ("A person", with `schema`) from one sentence, in `mode`, with
/// `model`.
pub fn person_request_with(model: &str, mode: Mode, schema: Arc<RootSchema>) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![
            Message::system("You extract people."),
            Message::user("Ada Lovelace wrote the first program."),
        ],
        output: Some(OutputSpec {
            mode,
            schema,
            name: "Person".into(),
            description: Some("A person".into()),
            tools: Vec::new(),
        }),
        params: Default::default(),
        extra: Default::default(),
    }
}

/// [`person_request_with`] the [`person`] schema.
pub fn person_request(model: &str, mode: Mode) -> ChatRequest {
    person_request_with(model, mode, person())
}
