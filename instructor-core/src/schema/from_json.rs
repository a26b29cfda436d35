//! Reading a JSON Schema document (draft 2020-12 as schemars 1.x writes it, or
//! draft-07) into the IR, for fields whose schema comes from `schemars`.
//!
//! References inside the document (`#/$defs/X`, `#/definitions/X`, any local JSON
//! pointer) are inlined; a reference that would expand into itself becomes
//! [`SchemaKind::Any`] with a note in its description, so the result is always a
//! finite tree. Keywords the IR has no room for are ignored.

use super::{
    AdditionalProperties, ArraySchema, Bound, NumberRules, ObjectSchema, Property, Schema,
    SchemaKind, StringRules,
};
use indexmap::IndexMap;
use serde_json::{Map, Value};

/// Converts a JSON Schema document into a [`Schema`].
///
/// - `type` (or a type array) gives the kind; `"null"` among the types, a `null` enum
///   value, a `{"type": "null"}` branch of `anyOf`/`oneOf`, or OpenAPI's
///   `nullable: true` make it [`SchemaKind::Nullable`].
/// - `properties`, `required`, `additionalProperties` (a schema is a map; `true` on
///   an object without properties is a map of any values; `unevaluatedProperties:
///   false` without a composition beside it denies unknown keys), `items` (tuples become a
///   list of any of their element schemas), `enum`, `const`, `oneOf`, `anyOf`, `allOf`
///   (a node with both its own shape and a composition becomes `allOf` of both),
///   `minimum`/`maximum` (an exclusive bound on an integer moves by one; on a number it
///   is kept as inclusive), `minLength`, `maxLength`, `pattern`, `format`, `minItems`,
///   `maxItems`, `uniqueItems`, `minProperties`, `maxProperties`, and the annotations
///   `title`, `description`, `examples`, `default`.
/// - Local `$ref`s are inlined, with the annotations beside the `$ref` laid over the
///   target's. A recursive reference, a reference that does not resolve and an
///   external one become [`SchemaKind::Any`] with a description saying so.
///
/// ```
/// use instructor_core::schema::{SchemaKind, from_json::schema_from_json};
///
/// let schema = schema_from_json(&serde_json::json!({
///     "type": ["string", "null"],
///     "description": "A nickname",
/// }));
/// assert!(matches!(schema.kind, SchemaKind::Nullable(_)));
/// assert_eq!(schema.description.as_deref(), Some("A nickname"));
/// ```
pub fn schema_from_json(value: &Value) -> Schema {
    Converter {
        document: value,
        expanding: Vec::new(),
    }
    .convert(value)
}

struct Converter<'a> {
    document: &'a Value,
    /// References being expanded, outermost first: meeting one again is recursion.
    expanding: Vec<String>,
}

impl Converter<'_> {
    fn convert(&mut self, value: &Value) -> Schema {
        let object = match value {
            Value::Object(object) => object,
            // `false` accepts nothing: an enum without values says the same.
            Value::Bool(false) => return Schema::new(SchemaKind::Enum(Vec::new())),
            _ => return Schema::default(),
        };
        let Some(reference) = object.get("$ref").and_then(Value::as_str) else {
            let mut schema = self.shape(object);
            annotate(&mut schema, object);
            return schema;
        };
        match self.reference(reference) {
            Ok(mut schema) => {
                annotate(&mut schema, object);
                schema
            }
            Err(note) => {
                let mut schema = Schema::default();
                annotate(&mut schema, object);
                // The note stays visible beside the reference's own description.
                schema.description = Some(match schema.description {
                    Some(description) => format!("{description} ({note})"),
                    None => note,
                });
                schema
            }
        }
    }

    /// The schema a local reference points to, or why it cannot be expanded.
    fn reference(&mut self, reference: &str) -> Result<Schema, String> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(format!("external reference `{reference}` (not resolved)"));
        };
        if pointer.is_empty() || self.expanding.iter().any(|r| r == reference) {
            return Err(format!(
                "recursive reference to `{reference}` (not expanded)"
            ));
        }
        let Some(target) = self.document.pointer(&percent_decode(pointer)) else {
            return Err(format!("reference `{reference}` does not resolve"));
        };
        self.expanding.push(reference.to_owned());
        let schema = self.convert(target);
        self.expanding.pop();
        Ok(schema)
    }

    /// The node without its annotations.
    fn shape(&mut self, object: &Map<String, Value>) -> Schema {
        let mut nullable = object.get("nullable") == Some(&Value::Bool(true));
        let mut parts = Vec::new();

        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            let (nulls, values): (Vec<Value>, Vec<Value>) =
                values.iter().cloned().partition(Value::is_null);
            nullable |= !nulls.is_empty();
            parts.push(if values.is_empty() && nullable {
                Schema::new(SchemaKind::Null)
            } else {
                Schema::new(SchemaKind::Enum(values))
            });
        } else if let Some(value) = object.get("const") {
            parts.push(Schema::new(match value {
                Value::Null => SchemaKind::Null,
                value => SchemaKind::Const(value.clone()),
            }));
        } else {
            let types = type_names(object);
            nullable |= types.contains(&"null") && types.len() > 1;
            let types: Vec<&str> = match types.as_slice() {
                [] => inferred_type(object).into_iter().collect(),
                [single] => vec![*single],
                several => several.iter().copied().filter(|t| *t != "null").collect(),
            };
            let mut typed: Vec<Schema> = types.iter().map(|t| self.typed(t, object)).collect();
            match typed.len() {
                0 => {}
                1 => parts.extend(typed.pop()),
                _ => parts.push(Schema::new(SchemaKind::AnyOf(typed))),
            }
        }

        let has_composition = ["oneOf", "anyOf", "allOf"]
            .iter()
            .any(|k| object.contains_key(*k));
        if has_composition {
            // `{"type": "object", "oneOf": [...]}`: the bare type adds nothing.
            parts.retain(|part| !is_bare_object(part));
        }
        for keyword in ["oneOf", "anyOf", "allOf"] {
            let Some(branches) = object.get(keyword).and_then(Value::as_array) else {
                continue;
            };
            let mut branches: Vec<Schema> = branches.iter().map(|b| self.convert(b)).collect();
            if keyword != "allOf" {
                let before = branches.len();
                branches.retain(|b| !is_plain_null(b));
                nullable |= branches.len() < before;
            }
            parts.push(match (keyword, branches.len()) {
                (_, 1) => branches.remove(0),
                ("oneOf", _) => Schema::new(SchemaKind::OneOf(branches)),
                ("anyOf", _) => Schema::new(SchemaKind::AnyOf(branches)),
                _ => Schema::new(SchemaKind::AllOf(branches)),
            });
        }

        let schema = match parts.len() {
            0 => Schema::default(),
            1 => parts.remove(0),
            _ => Schema::new(SchemaKind::AllOf(parts)),
        };
        if nullable {
            Schema::nullable(schema)
        } else {
            schema
        }
    }

    fn typed(&mut self, type_name: &str, object: &Map<String, Value>) -> Schema {
        Schema::new(match type_name {
            "null" => SchemaKind::Null,
            "boolean" => SchemaKind::Boolean,
            "integer" => SchemaKind::Integer(number_rules(object, true)),
            "number" => SchemaKind::Number(number_rules(object, false)),
            "string" => SchemaKind::String(StringRules {
                min_length: count(object, "minLength"),
                max_length: count(object, "maxLength"),
                pattern: text(object, "pattern"),
                format: text(object, "format"),
                excluded: Vec::new(),
            }),
            "array" => SchemaKind::Array(self.array(object)),
            "object" => SchemaKind::Object(self.object(object)),
            _ => SchemaKind::Any,
        })
    }

    fn array(&mut self, object: &Map<String, Value>) -> ArraySchema {
        let tuple = object
            .get("prefixItems")
            .or_else(|| object.get("items").filter(|items| items.is_array()))
            .and_then(Value::as_array);
        let items = match (tuple, object.get("items")) {
            (Some(elements), _) => {
                let mut distinct: Vec<Schema> = Vec::new();
                for element in elements {
                    let element = self.convert(element);
                    if !distinct.contains(&element) {
                        distinct.push(element);
                    }
                }
                match distinct.len() {
                    0 => Schema::default(),
                    1 => distinct.remove(0),
                    _ => Schema::new(SchemaKind::AnyOf(distinct)),
                }
            }
            (None, Some(items)) => self.convert(items),
            (None, None) => Schema::default(),
        };
        ArraySchema {
            items: Box::new(items),
            min_items: count(object, "minItems"),
            max_items: count(object, "maxItems"),
            unique_items: object.get("uniqueItems") == Some(&Value::Bool(true)),
        }
    }

    fn object(&mut self, object: &Map<String, Value>) -> ObjectSchema {
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut properties = indexmap::IndexMap::new();
        if let Some(declared) = object.get("properties").and_then(Value::as_object) {
            for (name, schema) in declared {
                let property = Property {
                    schema: self.convert(schema),
                    required: required.contains(&name.as_str()),
                };
                properties.insert(name.clone(), property);
            }
        }
        // schemars writes `unevaluatedProperties: false` for `deny_unknown_fields`
        // with `flatten`; without a composition beside it, it means the same as
        // `additionalProperties: false`.
        let unevaluated_denied = object.get("unevaluatedProperties") == Some(&Value::Bool(false))
            && !["oneOf", "anyOf", "allOf"]
                .iter()
                .any(|k| object.contains_key(*k));
        let additional = match object.get("additionalProperties") {
            None if unevaluated_denied => AdditionalProperties::Denied,
            None => AdditionalProperties::Allowed,
            Some(Value::Bool(false)) => AdditionalProperties::Denied,
            // Without declared properties, "anything else" is all there is: a map.
            Some(Value::Bool(true)) if properties.is_empty() => {
                AdditionalProperties::Schema(Box::default())
            }
            Some(Value::Bool(true)) => AdditionalProperties::Allowed,
            Some(values) => AdditionalProperties::Schema(Box::new(self.convert(values))),
        };
        ObjectSchema {
            properties,
            additional,
            min_properties: count(object, "minProperties"),
            max_properties: count(object, "maxProperties"),
            aliases: IndexMap::new(),
        }
    }
}

/// Lays `title`, `description`, `examples` and `default` of `object` over `schema`.
fn annotate(schema: &mut Schema, object: &Map<String, Value>) {
    if let Some(title) = text(object, "title") {
        schema.title = Some(title);
    }
    if let Some(description) = text(object, "description") {
        schema.description = Some(description);
    }
    if let Some(examples) = object.get("examples").and_then(Value::as_array) {
        schema.examples.clone_from(examples);
    }
    if let Some(default) = object.get("default") {
        schema.default = Some(default.clone());
    }
}

/// The `type` keyword as a list.
fn type_names(object: &Map<String, Value>) -> Vec<&str> {
    match object.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The type implied by type-specific keywords when `type` is absent.
fn inferred_type(object: &Map<String, Value>) -> Option<&'static str> {
    let has = |keys: &[&str]| keys.iter().any(|k| object.contains_key(*k));
    if has(&[
        "properties",
        "additionalProperties",
        "minProperties",
        "maxProperties",
    ]) {
        Some("object")
    } else if has(&[
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "uniqueItems",
    ]) {
        Some("array")
    } else if has(&["minLength", "maxLength", "pattern"]) {
        Some("string")
    } else {
        None
    }
}

fn is_bare_object(schema: &Schema) -> bool {
    matches!(&schema.kind, SchemaKind::Object(object)
        if object.properties.is_empty() && object.additional == AdditionalProperties::Allowed)
}

fn is_plain_null(schema: &Schema) -> bool {
    schema.kind == SchemaKind::Null && schema.description.is_none() && schema.title.is_none()
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn count(object: &Map<String, Value>, key: &str) -> Option<u64> {
    let value = object.get(key)?;
    value.as_u64().or_else(|| {
        // `2.0` is a count too; a negative or fractional one is not.
        value
            .as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0)
            .map(|f| f as u64)
    })
}

fn number_rules(object: &Map<String, Value>, integer: bool) -> NumberRules {
    let bound = |key: &str| object.get(key).and_then(to_bound);
    // An exclusive bound on an integer is the inclusive one next to it; on a number
    // the IR has no exclusive bound and keeps it inclusive.
    let step = |b: Bound, up: bool| match (b, integer) {
        (Bound::Int(v), true) => Bound::Int(if up {
            v.saturating_add(1)
        } else {
            v.saturating_sub(1)
        }),
        (b, _) => b,
    };
    NumberRules {
        minimum: bound("minimum").or_else(|| bound("exclusiveMinimum").map(|b| step(b, true))),
        maximum: bound("maximum").or_else(|| bound("exclusiveMaximum").map(|b| step(b, false))),
    }
}

fn to_bound(value: &Value) -> Option<Bound> {
    if let Some(v) = value.as_i64() {
        Some(Bound::Int(v.into()))
    } else if let Some(v) = value.as_u64() {
        Some(Bound::Int(v.into()))
    } else {
        value.as_f64().map(Bound::Float)
    }
}

/// Undoes the percent-encoding of a URI fragment (`%3C` is `<`); a malformed escape
/// stays as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object_of(schema: &Schema) -> &ObjectSchema {
        match &schema.kind {
            SchemaKind::Object(object) => object,
            other => panic!("expected an object, got {other:?}"),
        }
    }

    fn string(min: Option<u64>, max: Option<u64>, format: Option<&str>) -> SchemaKind {
        SchemaKind::String(StringRules {
            min_length: min,
            max_length: max,
            pattern: None,
            format: format.map(str::to_owned),
            excluded: Vec::new(),
        })
    }

    #[test]
    fn reads_a_struct_with_required_and_optional_properties() {
        let schema = schema_from_json(&json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "User",
            "description": "A user.",
            "type": "object",
            "properties": {
                "name": { "type": "string", "minLength": 1, "maxLength": 50 },
                "age": { "type": ["integer", "null"], "format": "uint8", "minimum": 0, "maximum": 255 }
            },
            "required": ["name"]
        }));
        assert_eq!(schema.title.as_deref(), Some("User"));
        assert_eq!(schema.description.as_deref(), Some("A user."));
        let object = object_of(&schema);
        assert_eq!(
            object.properties.keys().collect::<Vec<_>>(),
            ["name", "age"]
        );
        assert!(object.properties["name"].required);
        assert_eq!(
            object.properties["name"].schema.kind,
            string(Some(1), Some(50), None)
        );
        let age = &object.properties["age"];
        assert!(!age.required);
        let expected = Schema::integer(Some(Bound::Int(0)), Some(Bound::Int(255)));
        assert_eq!(age.schema.kind, SchemaKind::Nullable(Box::new(expected)));
        assert_eq!(object.additional, AdditionalProperties::Allowed);
    }

    #[test]
    fn inlines_defs_and_draft7_definitions_with_the_reference_annotations_on_top() {
        for (defs, prefix) in [("$defs", "#/$defs/"), ("definitions", "#/definitions/")] {
            let schema = schema_from_json(&json!({
                "type": "object",
                "properties": {
                    "home": { "$ref": format!("{prefix}Address"), "description": "Where they live" }
                },
                "required": ["home"],
                defs: {
                    "Address": {
                        "type": "object",
                        "description": "A postal address",
                        "properties": { "city": { "type": "string" } },
                        "required": ["city"]
                    }
                }
            }));
            let home = &object_of(&schema).properties["home"].schema;
            assert_eq!(home.description.as_deref(), Some("Where they live"));
            assert!(object_of(home).properties["city"].required);
        }
    }

    #[test]
    fn a_recursive_reference_becomes_any_with_a_note() {
        let schema = schema_from_json(&json!({
            "$ref": "#/$defs/Node",
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "children": { "type": "array", "items": { "$ref": "#/$defs/Node" } }
                    },
                    "required": ["children"]
                }
            }
        }));
        let children = &object_of(&schema).properties["children"].schema;
        let SchemaKind::Array(array) = &children.kind else {
            panic!("expected an array, got {children:?}");
        };
        assert_eq!(array.items.kind, SchemaKind::Any);
        let note = array.items.description.as_deref().unwrap_or_default();
        assert!(
            note.contains("recursive reference to `#/$defs/Node`"),
            "{note}"
        );
    }

    #[test]
    fn a_reference_to_the_root_is_recursive() {
        let schema = schema_from_json(&json!({
            "type": "object",
            "properties": { "next": { "anyOf": [{ "$ref": "#" }, { "type": "null" }] } }
        }));
        let next = &object_of(&schema).properties["next"].schema;
        // Nullable of Any is Any: the note is what remains.
        assert_eq!(next.kind, SchemaKind::Any);
        assert!(
            next.description
                .as_deref()
                .unwrap_or_default()
                .contains("recursive")
        );
    }

    #[test]
    fn unresolved_and_external_references_become_any_with_a_note() {
        let missing = schema_from_json(&json!({ "$ref": "#/$defs/Missing" }));
        assert_eq!(missing.kind, SchemaKind::Any);
        assert!(
            missing
                .description
                .as_deref()
                .unwrap_or_default()
                .contains("does not resolve")
        );
        let external = schema_from_json(&json!({ "$ref": "https://example.com/s.json" }));
        assert!(
            external
                .description
                .as_deref()
                .unwrap_or_default()
                .contains("external")
        );
    }

    #[test]
    fn percent_encoded_definition_names_resolve() {
        let schema = schema_from_json(&json!({
            "$ref": "#/$defs/Wrapper%3CT%3E",
            "$defs": { "Wrapper<T>": { "type": "boolean" } }
        }));
        assert_eq!(schema.kind, SchemaKind::Boolean);
    }

    #[test]
    fn any_of_with_null_is_nullable() {
        let schema = schema_from_json(&json!({
            "anyOf": [{ "type": "string", "format": "date-time" }, { "type": "null" }],
            "description": "When"
        }));
        let expected = Schema::new(string(None, None, Some("date-time")));
        assert_eq!(schema.kind, SchemaKind::Nullable(Box::new(expected)));
        assert_eq!(schema.description.as_deref(), Some("When"));
    }

    #[test]
    fn enums_and_consts() {
        let unit = schema_from_json(&json!({ "type": "string", "enum": ["red", "green"] }));
        assert_eq!(
            unit.kind,
            SchemaKind::Enum(vec![json!("red"), json!("green")])
        );
        let optional =
            schema_from_json(&json!({ "type": ["string", "null"], "enum": ["a", null] }));
        let inner = Schema::new(SchemaKind::Enum(vec![json!("a")]));
        assert_eq!(optional.kind, SchemaKind::Nullable(Box::new(inner)));
        let tag = schema_from_json(&json!({ "type": "string", "const": "circle" }));
        assert_eq!(tag.kind, SchemaKind::Const(json!("circle")));
    }

    #[test]
    fn internally_tagged_enum_is_one_of_objects() {
        let schema = schema_from_json(&json!({
            "description": "A shape",
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "kind": { "type": "string", "const": "circle" },
                        "radius": { "type": "number" }
                    },
                    "required": ["kind", "radius"]
                },
                {
                    "type": "object",
                    "properties": { "kind": { "type": "string", "const": "point" } },
                    "required": ["kind"]
                }
            ]
        }));
        let SchemaKind::OneOf(branches) = &schema.kind else {
            panic!("expected oneOf, got {schema:?}");
        };
        assert_eq!(branches.len(), 2);
        assert_eq!(
            object_of(&branches[0]).properties["kind"].schema.kind,
            SchemaKind::Const(json!("circle"))
        );
        assert_eq!(schema.description.as_deref(), Some("A shape"));
    }

    #[test]
    fn properties_beside_a_composition_become_all_of() {
        let schema = schema_from_json(&json!({
            "type": "object",
            "properties": { "id": { "type": "string" } },
            "required": ["id"],
            "oneOf": [
                { "type": "object", "properties": { "a": { "type": "integer" } }, "required": ["a"] },
                { "type": "object", "properties": { "b": { "type": "integer" } }, "required": ["b"] }
            ]
        }));
        let SchemaKind::AllOf(parts) = &schema.kind else {
            panic!("expected allOf, got {schema:?}");
        };
        assert!(object_of(&parts[0]).properties.contains_key("id"));
        assert!(matches!(parts[1].kind, SchemaKind::OneOf(_)));
    }

    #[test]
    fn maps_arrays_and_free_form_values() {
        let schema = schema_from_json(&json!({
            "type": "object",
            "properties": {
                "scores": { "type": "object", "additionalProperties": { "type": "integer", "format": "int64" } },
                "extra": { "type": "object", "additionalProperties": true },
                "tags": { "type": "array", "items": { "type": "string" }, "uniqueItems": true, "minItems": 1, "maxItems": 5 },
                "anything": true,
                "pair": { "type": "array", "prefixItems": [{ "type": "string" }, { "type": "integer" }], "minItems": 2, "maxItems": 2 }
            },
            "additionalProperties": false
        }));
        let object = object_of(&schema);
        assert_eq!(object.additional, AdditionalProperties::Denied);
        let scores = object_of(&object.properties["scores"].schema);
        let AdditionalProperties::Schema(values) = &scores.additional else {
            panic!("expected a map, got {scores:?}");
        };
        assert!(matches!(values.kind, SchemaKind::Integer(_)));
        let extra = object_of(&object.properties["extra"].schema);
        assert_eq!(
            extra.additional,
            AdditionalProperties::Schema(Box::default())
        );
        let SchemaKind::Array(tags) = &object.properties["tags"].schema.kind else {
            panic!("expected an array");
        };
        assert!(tags.unique_items);
        assert_eq!((tags.min_items, tags.max_items), (Some(1), Some(5)));
        assert_eq!(object.properties["anything"].schema.kind, SchemaKind::Any);
        let SchemaKind::Array(pair) = &object.properties["pair"].schema.kind else {
            panic!("expected an array");
        };
        assert!(matches!(pair.items.kind, SchemaKind::AnyOf(ref b) if b.len() == 2));
    }

    #[test]
    fn unevaluated_properties_false_denies_unknown_keys() {
        let schema = schema_from_json(&json!({
            "type": "object",
            "properties": { "a": { "type": "string" } },
            "unevaluatedProperties": false
        }));
        assert_eq!(object_of(&schema).additional, AdditionalProperties::Denied);
    }

    #[test]
    fn a_described_unresolved_reference_keeps_both_texts() {
        let schema =
            schema_from_json(&json!({ "$ref": "#/$defs/Gone", "description": "The thing" }));
        assert_eq!(
            schema.description.as_deref(),
            Some("The thing (reference `#/$defs/Gone` does not resolve)")
        );
    }

    #[test]
    fn exclusive_integer_bounds_become_inclusive() {
        let schema = schema_from_json(
            &json!({ "type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10 }),
        );
        assert_eq!(
            schema,
            Schema::integer(Some(Bound::Int(1)), Some(Bound::Int(9)))
        );
    }

    #[test]
    fn several_types_become_any_of() {
        let schema = schema_from_json(&json!({ "type": ["string", "integer", "null"] }));
        let SchemaKind::Nullable(inner) = &schema.kind else {
            panic!("expected nullable, got {schema:?}");
        };
        assert!(matches!(&inner.kind, SchemaKind::AnyOf(b) if b.len() == 2));
    }

    #[test]
    fn annotations_and_unknown_keywords() {
        let schema = schema_from_json(&json!({
            "type": "number",
            "examples": [1.5],
            "default": 2.0,
            "multipleOf": 0.5,
            "x-custom": true
        }));
        assert_eq!(schema.kind, SchemaKind::Number(NumberRules::default()));
        assert_eq!(schema.examples, vec![json!(1.5)]);
        assert_eq!(schema.default, Some(json!(2.0)));
    }

    #[test]
    fn boolean_schemas() {
        assert_eq!(schema_from_json(&json!(true)).kind, SchemaKind::Any);
        assert_eq!(
            schema_from_json(&json!(false)).kind,
            SchemaKind::Enum(Vec::new())
        );
        assert_eq!(schema_from_json(&json!({})).kind, SchemaKind::Any);
    }

    #[cfg(feature = "schemars")]
    mod from_schemars {
        use super::*;
        use std::collections::HashMap;

        fn convert<T: schemars::JsonSchema + ?Sized>() -> Schema {
            let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
            schema_from_json(generator.into_root_schema_for::<T>().as_value())
        }

        #[test]
        fn optional_small_integers_keep_their_range() {
            let SchemaKind::Nullable(inner) = convert::<Option<u8>>().kind else {
                panic!("expected nullable");
            };
            assert_eq!(
                *inner,
                Schema::integer(Some(Bound::Int(0)), Some(Bound::Int(255)))
            );
        }

        #[test]
        fn maps_of_optional_values() {
            let schema = convert::<HashMap<String, Option<bool>>>();
            let AdditionalProperties::Schema(values) = &object_of(&schema).additional else {
                panic!("expected a map, got {schema:?}");
            };
            let boolean = Schema::new(SchemaKind::Boolean);
            assert_eq!(values.kind, SchemaKind::Nullable(Box::new(boolean)));
        }

        #[test]
        fn fixed_arrays_and_tuples() {
            let SchemaKind::Array(bytes) = convert::<[u8; 3]>().kind else {
                panic!("expected an array");
            };
            assert_eq!((bytes.min_items, bytes.max_items), (Some(3), Some(3)));
            let SchemaKind::Array(pair) = convert::<(String, bool)>().kind else {
                panic!("expected an array");
            };
            assert!(matches!(&pair.items.kind, SchemaKind::AnyOf(b) if b.len() == 2));
        }

        #[test]
        fn free_form_json_is_any() {
            assert_eq!(convert::<serde_json::Value>().kind, SchemaKind::Any);
        }
    }
}
