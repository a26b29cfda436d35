//! Every dialect over representative shapes: snapshots of the rendered schemas, JSON
//! Schema validity against sample instances, independent checkers of the provider
//! rules, and the errors for what a dialect cannot express.

mod strict_checker;

use indexmap::IndexMap;
use instructor_core::schema::dialect::{Dialect, DialectError, WRAPPED_ROOT_PROPERTY, render};
use instructor_core::schema::{
    AdditionalProperties, ArraySchema, Bound, NumberRules, ObjectSchema, Property, RootSchema,
    Schema, SchemaKind, StringRules,
};
use serde_json::{Value, json};
use strict_checker::{check_anthropic_strict, check_gemini_response_schema, check_openai_strict};

const DIALECTS: [Dialect; 6] = [
    Dialect::JsonSchema,
    Dialect::OpenAiStrict,
    Dialect::AnthropicTool,
    Dialect::AnthropicStrict,
    Dialect::GeminiResponseSchema,
    Dialect::GeminiJsonSchema,
];

/// Dialects whose output is JSON Schema a validator can run.
const JSON_SCHEMA_DIALECTS: [Dialect; 3] = [
    Dialect::JsonSchema,
    Dialect::AnthropicTool,
    Dialect::GeminiJsonSchema,
];

// ---------------------------------------------------------------------------------
// Building the IR by hand
// ---------------------------------------------------------------------------------

fn object(properties: Vec<(&str, Schema, bool)>) -> Schema {
    Schema::new(SchemaKind::Object(ObjectSchema {
        properties: properties
            .into_iter()
            .map(|(name, schema, required)| (name.to_owned(), Property { schema, required }))
            .collect(),
        ..ObjectSchema::default()
    }))
}

fn required(name: &str, schema: Schema) -> (&str, Schema, bool) {
    (name, schema, true)
}

fn optional(name: &str, schema: Schema) -> (&str, Schema, bool) {
    (name, schema, false)
}

fn string(min_length: Option<u64>, max_length: Option<u64>, pattern: Option<&str>) -> Schema {
    Schema::new(SchemaKind::String(StringRules {
        min_length,
        max_length,
        pattern: pattern.map(str::to_owned),
        ..StringRules::default()
    }))
}

fn array(
    items: Schema,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
) -> Schema {
    Schema::new(SchemaKind::Array(ArraySchema {
        items: Box::new(items),
        min_items,
        max_items,
        unique_items,
    }))
}

fn number(minimum: f64, maximum: f64) -> Schema {
    Schema::new(SchemaKind::Number(NumberRules {
        minimum: Some(Bound::Float(minimum)),
        maximum: Some(Bound::Float(maximum)),
    }))
}

fn u32_schema() -> Schema {
    Schema::integer(Some(Bound::Int(0)), Some(Bound::UInt(u32::MAX.into())))
}

fn tag(value: &str) -> Schema {
    Schema::new(SchemaKind::Const(json!(value)))
}

fn titled(mut schema: Schema, title: &str) -> Schema {
    schema.title = Some(title.to_owned());
    schema
}

fn root(schema: Schema) -> RootSchema {
    RootSchema {
        schema,
        defs: IndexMap::new(),
        root_name: None,
    }
}

fn with_defs(schema: Schema, defs: Vec<(&str, Schema)>) -> RootSchema {
    RootSchema {
        schema,
        defs: defs
            .into_iter()
            .map(|(name, def)| (name.to_owned(), def))
            .collect(),
        root_name: None,
    }
}

// ---------------------------------------------------------------------------------
// The shapes
// ---------------------------------------------------------------------------------

/// One representative type with instances that every JSON-Schema dialect accepts,
/// instances every one rejects (wrong shape), and instances only rejected where the
/// constraints stay keywords (plain JSON Schema).
struct Shape {
    name: &'static str,
    root: RootSchema,
    valid: Vec<Value>,
    invalid: Vec<Value>,
    invalid_by_constraints: Vec<Value>,
}

fn flat_struct() -> Shape {
    let mut active =
        Schema::new(SchemaKind::Boolean).with_description("Whether the account is active");
    active.default = Some(json!(true));
    let mut name = string(Some(1), Some(50), None).with_description("Display name");
    name.examples = vec![json!("Ada")];
    let schema = object(vec![
        required("name", name),
        optional("nickname", Schema::nullable(string(None, Some(20), None))),
        required(
            "age",
            Schema::integer(Some(Bound::Int(0)), Some(Bound::Int(150))),
        ),
        optional(
            "score",
            Schema::nullable(number(0.0, 1.0)).with_description("Confidence"),
        ),
        required("tags", array(Schema::string(), Some(1), Some(10), true)),
        optional("active", active),
    ]);
    Shape {
        name: "flat_struct",
        root: root(titled(
            schema.with_description("A user profile."),
            "Profile",
        )),
        valid: vec![
            json!({ "name": "Ada", "age": 36, "tags": ["math"] }),
            json!({ "name": "Ada", "nickname": null, "age": 36, "score": 0.5, "tags": ["a", "b"], "active": false }),
        ],
        invalid: vec![
            json!({ "age": 36, "tags": ["math"] }),
            json!({ "name": "Ada", "age": "36", "tags": ["math"] }),
            json!({ "name": "Ada", "age": 36, "tags": "math" }),
        ],
        invalid_by_constraints: vec![
            json!({ "name": "", "age": 36, "tags": ["math"] }),
            json!({ "name": "Ada", "age": 200, "tags": ["math"] }),
            json!({ "name": "Ada", "age": 36, "tags": [] }),
            json!({ "name": "Ada", "age": 36, "tags": ["a", "a"] }),
        ],
    }
}

fn nested_struct() -> Shape {
    let address = object(vec![
        required("street", Schema::string()),
        required("city", Schema::string()),
        required("postcode", string(None, None, Some("^[0-9]{5}$"))),
    ])
    .with_description("A postal address");
    let schema = object(vec![
        required("id", Schema::string_format("uuid")),
        required(
            "shipping",
            Schema::reference("Address").with_description("Where to ship"),
        ),
        optional("billing", Schema::nullable(Schema::reference("Address"))),
    ]);
    let address_value =
        json!({ "street": "1 Main St", "city": "Springfield", "postcode": "12345" });
    Shape {
        name: "nested_struct",
        root: with_defs(schema, vec![("Address", address)]),
        valid: vec![
            json!({ "id": "0f8fad5b-d9cb-469f-a165-70867728950e", "shipping": address_value }),
            json!({ "id": "x", "shipping": address_value, "billing": null }),
            json!({ "id": "x", "shipping": address_value, "billing": address_value }),
        ],
        invalid: vec![
            json!({ "id": "x" }),
            json!({ "id": "x", "shipping": { "street": "1 Main St" } }),
            json!({ "id": "x", "shipping": address_value, "billing": 5 }),
        ],
        invalid_by_constraints: vec![json!({
            "id": "x",
            "shipping": { "street": "1 Main St", "city": "Springfield", "postcode": "ABCDE" }
        })],
    }
}

fn recursive_node() -> Shape {
    let schema = object(vec![
        required("name", Schema::string()),
        required(
            "children",
            array(Schema::reference("Node"), None, None, false).with_description("Sub-nodes"),
        ),
    ])
    .with_description("A tree node");
    Shape {
        name: "recursive_node",
        root: RootSchema {
            schema,
            defs: IndexMap::new(),
            root_name: Some("Node".to_owned()),
        },
        valid: vec![json!({ "name": "a", "children": [{ "name": "b", "children": [] }] })],
        invalid: vec![
            json!({ "name": "a", "children": [{ "children": [] }] }),
            json!({ "name": "a", "children": [{ "name": "b", "children": [{ "name": 3, "children": [] }] }] }),
        ],
        invalid_by_constraints: vec![],
    }
}

fn unit_enum() -> Shape {
    let priority = Schema::new(SchemaKind::Enum(vec![
        json!("low"),
        json!("medium"),
        json!("high"),
    ]))
    .with_description("How urgent");
    let schema = object(vec![
        required("title", Schema::string()),
        required(
            "priority",
            Schema::reference("Priority").with_description("Triage priority"),
        ),
        optional("fallback", Schema::nullable(Schema::reference("Priority"))),
    ]);
    Shape {
        name: "unit_enum",
        root: with_defs(schema, vec![("Priority", priority)]),
        valid: vec![
            json!({ "title": "t", "priority": "low" }),
            json!({ "title": "t", "priority": "high", "fallback": null }),
        ],
        invalid: vec![
            json!({ "title": "t", "priority": "urgent" }),
            json!({ "title": "t", "priority": "low", "fallback": "never" }),
        ],
        invalid_by_constraints: vec![],
    }
}

fn tagged_union() -> Shape {
    let circle = object(vec![
        required("type", tag("circle")),
        required("radius", number(0.0, 1000.0)),
    ]);
    let rectangle = object(vec![
        required("type", tag("rectangle")),
        required("width", Schema::number()),
        required("height", Schema::number()),
        optional("label", Schema::nullable(Schema::string())),
    ]);
    let schema =
        Schema::new(SchemaKind::OneOf(vec![circle, rectangle])).with_description("A shape");
    Shape {
        name: "tagged_union",
        root: root(schema),
        valid: vec![
            json!({ "type": "circle", "radius": 2.0 }),
            json!({ "type": "rectangle", "width": 1, "height": 2 }),
        ],
        invalid: vec![
            json!({ "type": "circle" }),
            json!({ "type": "triangle", "radius": 1 }),
            json!({ "type": "rectangle", "width": 1 }),
        ],
        invalid_by_constraints: vec![json!({ "type": "circle", "radius": -1 })],
    }
}

fn map_field() -> Shape {
    let schema = object(vec![
        required("name", Schema::string()),
        required(
            "counts",
            Schema::map(Schema::integer(None, None)).with_description("Occurrences per word"),
        ),
    ]);
    Shape {
        name: "map_field",
        root: root(schema),
        valid: vec![
            json!({ "name": "n", "counts": {} }),
            json!({ "name": "n", "counts": { "a": 1, "b": 2 } }),
        ],
        invalid: vec![
            json!({ "name": "n", "counts": { "a": "x" } }),
            json!({ "name": "n" }),
        ],
        invalid_by_constraints: vec![],
    }
}

fn any_field() -> Shape {
    let schema = object(vec![
        required("kind", Schema::string()),
        required(
            "payload",
            Schema::default().with_description("Whatever the event carries"),
        ),
    ]);
    Shape {
        name: "any_field",
        root: root(schema),
        valid: vec![
            json!({ "kind": "k", "payload": null }),
            json!({ "kind": "k", "payload": { "nested": [1, "two"] } }),
        ],
        invalid: vec![json!({ "payload": 1 }), json!({ "kind": 1, "payload": 1 })],
        invalid_by_constraints: vec![],
    }
}

fn array_root() -> Shape {
    let item = object(vec![
        required("sku", Schema::string()),
        required(
            "quantity",
            Schema::integer(Some(Bound::Int(1)), Some(Bound::UInt(u32::MAX.into()))),
        ),
    ]);
    let schema =
        array(Schema::reference("LineItem"), None, None, false).with_description("Order lines");
    Shape {
        name: "array_root",
        root: with_defs(schema, vec![("LineItem", item)]),
        valid: vec![json!([]), json!([{ "sku": "a", "quantity": 1 }])],
        invalid: vec![
            json!([{ "sku": "a" }]),
            json!({ "sku": "a", "quantity": 1 }),
        ],
        invalid_by_constraints: vec![json!([{ "sku": "a", "quantity": 0 }])],
    }
}

fn formats() -> Shape {
    let schema = object(vec![
        required(
            "url",
            Schema::string_format("uri").with_description("Page address"),
        ),
        required("seen_at", Schema::string_format("date-time")),
        required("day", Schema::string_format("date")),
        required("id", Schema::string_format("uuid")),
        optional("contact", Schema::nullable(Schema::string_format("email"))),
        required("visits", u32_schema()),
    ]);
    Shape {
        name: "formats",
        root: root(schema),
        valid: vec![json!({
            "url": "https://example.com",
            "seen_at": "2024-05-01T12:00:00Z",
            "day": "2024-05-01",
            "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "visits": 3
        })],
        invalid: vec![json!({
            "url": 5,
            "seen_at": "2024-05-01T12:00:00Z",
            "day": "2024-05-01",
            "id": "x",
            "visits": 3
        })],
        invalid_by_constraints: vec![],
    }
}

fn recursive_union_root() -> Shape {
    let number = object(vec![
        required("op", tag("num")),
        required("value", Schema::number()),
    ]);
    let add = object(vec![
        required("op", tag("add")),
        required("left", Schema::reference("Expr")),
        required(
            "right",
            Schema::reference("Expr").with_description("Right operand"),
        ),
    ]);
    let schema =
        Schema::new(SchemaKind::OneOf(vec![number, add])).with_description("An expression");
    Shape {
        name: "recursive_union_root",
        root: RootSchema {
            schema,
            defs: IndexMap::new(),
            root_name: Some("Expr".to_owned()),
        },
        valid: vec![json!({
            "op": "add",
            "left": { "op": "num", "value": 1 },
            "right": { "op": "num", "value": 2 }
        })],
        invalid: vec![
            json!({ "op": "add", "left": { "op": "num" }, "right": { "op": "num", "value": 2 } }),
        ],
        invalid_by_constraints: vec![],
    }
}

fn shapes() -> Vec<Shape> {
    vec![
        flat_struct(),
        nested_struct(),
        recursive_node(),
        unit_enum(),
        tagged_union(),
        map_field(),
        any_field(),
        array_root(),
        formats(),
        recursive_union_root(),
    ]
}

fn dialect_name(dialect: Dialect) -> String {
    format!("{dialect:?}")
}

/// The rendering, or the error as `{"error": {"path", "reason"}}`.
fn rendered_or_error(root: &RootSchema, dialect: Dialect) -> Value {
    match render(root, dialect) {
        Ok(schema) => schema,
        Err(DialectError { path, reason, .. }) => {
            json!({ "error": { "path": path, "reason": reason } })
        }
    }
}

/// An instance as it travels in `dialect`: non-object roots sit under `value`.
fn as_sent(shape: &Shape, dialect: Dialect, instance: &Value) -> Value {
    let wraps = matches!(
        dialect,
        Dialect::OpenAiStrict | Dialect::AnthropicTool | Dialect::AnthropicStrict
    );
    if wraps && !matches!(shape.root.schema.kind, SchemaKind::Object(_)) {
        json!({ WRAPPED_ROOT_PROPERTY: instance })
    } else {
        instance.clone()
    }
}

// ---------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------

#[test]
fn snapshots_of_every_shape_in_every_dialect() {
    for shape in shapes() {
        let all: serde_json::Map<String, Value> = DIALECTS
            .iter()
            .map(|dialect| {
                (
                    dialect_name(*dialect),
                    rendered_or_error(&shape.root, *dialect),
                )
            })
            .collect();
        insta::assert_json_snapshot!(shape.name, all);
    }
}

// ---------------------------------------------------------------------------------
// JSON Schema validity
// ---------------------------------------------------------------------------------

#[test]
fn json_schema_outputs_compile_and_judge_instances() {
    for shape in shapes() {
        for dialect in JSON_SCHEMA_DIALECTS {
            let schema = match render(&shape.root, dialect) {
                // Gemini unrolls cycles only through optional properties.
                Err(e)
                    if dialect == Dialect::GeminiJsonSchema
                        && e.reason.contains("contains itself") =>
                {
                    continue;
                }
                rendered => {
                    rendered.unwrap_or_else(|e| panic!("{} in {dialect:?}: {e}", shape.name))
                }
            };
            assert!(
                jsonschema::meta::is_valid(&schema),
                "{} in {dialect:?} breaks the metaschema",
                shape.name
            );
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{} in {dialect:?} does not compile: {e}", shape.name));
            for instance in &shape.valid {
                let sent = as_sent(&shape, dialect, instance);
                let errors: Vec<String> = validator
                    .iter_errors(&sent)
                    .map(|e| e.to_string())
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{} in {dialect:?} rejects {sent}: {errors:?}",
                    shape.name
                );
            }
            for instance in &shape.invalid {
                let sent = as_sent(&shape, dialect, instance);
                assert!(
                    !validator.is_valid(&sent),
                    "{} in {dialect:?} accepts {sent}",
                    shape.name
                );
            }
        }
    }
}

#[test]
fn plain_json_schema_enforces_every_constraint() {
    for shape in shapes() {
        let schema = render(&shape.root, Dialect::JsonSchema)
            .unwrap_or_else(|e| panic!("{}: {e}", shape.name));
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", shape.name));
        for instance in &shape.invalid_by_constraints {
            assert!(
                !validator.is_valid(instance),
                "{} accepts {instance}",
                shape.name
            );
        }
    }
}

#[test]
fn the_validator_is_not_trivially_permissive() {
    // A validator that failed to compile the schema would accept everything.
    let schema = render(&flat_struct().root, Dialect::JsonSchema).expect("renders");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    assert!(!validator.is_valid(&json!(42)));
}

#[test]
fn strict_outputs_are_valid_json_schema_too() {
    for shape in shapes() {
        for dialect in [Dialect::OpenAiStrict, Dialect::AnthropicStrict] {
            if let Ok(schema) = render(&shape.root, dialect) {
                let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| {
                    panic!("{} in {dialect:?} does not compile: {e}", shape.name)
                });
                // The strict forms accept what the model writes: optional fields as null.
                if dialect == Dialect::AnthropicStrict {
                    for instance in &shape.valid {
                        let sent = as_sent(&shape, dialect, instance);
                        assert!(
                            validator.is_valid(&sent),
                            "{} in {dialect:?} rejects {sent}",
                            shape.name
                        );
                    }
                }
                for instance in &shape.invalid {
                    let sent = as_sent(&shape, dialect, instance);
                    assert!(
                        !validator.is_valid(&sent),
                        "{} in {dialect:?} accepts {sent}",
                        shape.name
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Provider rules, checked independently
// ---------------------------------------------------------------------------------

#[test]
fn every_openai_strict_rendering_follows_the_strict_rules() {
    let mut rendered = 0;
    for shape in shapes() {
        if let Ok(schema) = render(&shape.root, Dialect::OpenAiStrict) {
            check_openai_strict(&schema)
                .unwrap_or_else(|e| panic!("{}: {e}\n{schema:#}", shape.name));
            rendered += 1;
        }
    }
    assert!(rendered >= 7, "only {rendered} shapes rendered");
}

#[test]
fn every_anthropic_strict_rendering_follows_the_structured_output_rules() {
    let mut rendered = 0;
    for shape in shapes() {
        if let Ok(schema) = render(&shape.root, Dialect::AnthropicStrict) {
            check_anthropic_strict(&schema)
                .unwrap_or_else(|e| panic!("{}: {e}\n{schema:#}", shape.name));
            rendered += 1;
        }
    }
    assert!(rendered >= 6, "only {rendered} shapes rendered");
}

#[test]
fn every_gemini_response_schema_follows_the_schema_object() {
    let mut rendered = 0;
    for shape in shapes() {
        if let Ok(schema) = render(&shape.root, Dialect::GeminiResponseSchema) {
            check_gemini_response_schema(&schema)
                .unwrap_or_else(|e| panic!("{}: {e}\n{schema:#}", shape.name));
            rendered += 1;
        }
    }
    assert!(rendered >= 5, "only {rendered} shapes rendered");
}

#[test]
fn the_checkers_reject_known_bad_schemas() {
    let open_object =
        json!({ "type": "object", "properties": { "a": { "type": "string" } }, "required": ["a"] });
    assert!(check_openai_strict(&open_object).is_err());
    let missing_required = json!({
        "type": "object", "properties": { "a": { "type": "string" } }, "required": [], "additionalProperties": false
    });
    assert!(check_openai_strict(&missing_required).is_err());
    let ref_with_sibling = json!({
        "type": "object",
        "properties": { "a": { "$ref": "#/$defs/A", "description": "x" } },
        "required": ["a"],
        "additionalProperties": false,
        "$defs": { "A": { "type": "string" } }
    });
    assert!(check_openai_strict(&ref_with_sibling).is_err());
    let uri = json!({
        "type": "object", "properties": { "a": { "type": "string", "format": "uri" } },
        "required": ["a"], "additionalProperties": false
    });
    assert!(check_openai_strict(&uri).is_err());
    assert!(check_anthropic_strict(&uri).is_ok());

    let recursive = json!({
        "type": "object",
        "properties": { "next": { "$ref": "#" } },
        "additionalProperties": false
    });
    assert!(check_anthropic_strict(&recursive).is_err());
    let bounded = json!({
        "type": "object", "properties": { "n": { "type": "integer", "minimum": 0 } }, "additionalProperties": false
    });
    assert!(check_anthropic_strict(&bounded).is_err());

    assert!(check_gemini_response_schema(&json!({ "type": "STRING", "nullable": true })).is_ok());
    assert!(check_gemini_response_schema(&json!({ "type": "string" })).is_err());
    assert!(check_gemini_response_schema(&json!({ "type": "STRING", "minLength": 3 })).is_err());
    assert!(check_gemini_response_schema(&json!({ "type": "OBJECT", "properties": {} })).is_err());
    assert!(check_gemini_response_schema(&json!({ "type": ["STRING", "NULL"] })).is_err());
    assert!(check_gemini_response_schema(&json!({ "$ref": "#/$defs/A" })).is_err());
    let map = json!({ "type": "OBJECT", "additionalProperties": { "type": "STRING" } });
    assert!(check_gemini_response_schema(&map).is_err());
}

#[test]
fn the_gemini_checker_matches_the_discovery_document() {
    // The checker's field lists are copied from the discovery document; when the
    // document is at hand (it lives beside the repository), compare them.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/specs/gemini-v1beta.discovery.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let document: Value = serde_json::from_str(&text).expect("the discovery document is JSON");
    let schema = &document["schemas"]["Schema"]["properties"];
    let fields: Vec<&str> = schema
        .as_object()
        .expect("Schema has properties")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = strict_checker::GEMINI_SCHEMA_FIELDS.to_vec();
    let mut actual = fields.clone();
    expected.sort_unstable();
    actual.sort_unstable();
    assert_eq!(actual, expected);
    for field in strict_checker::GEMINI_INT64_FIELDS {
        assert_eq!(schema[field]["format"], "int64", "{field}");
        assert_eq!(schema[field]["type"], "string", "{field}");
    }
    let types: Vec<&str> = schema["type"]["enum"]
        .as_array()
        .expect("Type is an enum")
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| *t != "TYPE_UNSPECIFIED")
        .collect();
    assert_eq!(types, strict_checker::GEMINI_TYPES);
}

// ---------------------------------------------------------------------------------
// What each dialect does with specific constructs
// ---------------------------------------------------------------------------------

#[test]
fn json_schema_is_exactly_the_ir() {
    let schema = render(&nested_struct().root, Dialect::JsonSchema).expect("renders");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["properties"]["shipping"],
        json!({ "description": "Where to ship", "$ref": "#/$defs/Address" })
    );
    assert_eq!(
        schema["properties"]["billing"],
        json!({ "anyOf": [{ "$ref": "#/$defs/Address" }, { "type": "null" }] })
    );
    assert_eq!(schema["required"], json!(["id", "shipping"]));
    assert!(schema.get("additionalProperties").is_none());
    let recursive = render(&recursive_node().root, Dialect::JsonSchema).expect("renders");
    assert_eq!(
        recursive["properties"]["children"]["items"],
        json!({ "$ref": "#" })
    );
    assert!(recursive.get("$defs").is_none());
}

#[test]
fn openai_strict_requires_every_property_and_only_options_are_nullable() {
    let schema = render(&flat_struct().root, Dialect::OpenAiStrict).expect("renders");
    assert_eq!(
        schema["required"],
        json!(["name", "nickname", "age", "score", "tags", "active"])
    );
    // A serde `default` field rejects null, so strict mode asks for a value instead of
    // allowing a null that deserialization would refuse.
    assert_eq!(schema["properties"]["active"]["type"], json!("boolean"));
    // Already nullable: not wrapped twice.
    assert_eq!(
        schema["properties"]["nickname"]["type"],
        json!(["string", "null"])
    );
    assert!(schema.get("title").is_none());
}

#[test]
fn openai_strict_moves_unsupported_keywords_into_the_description() {
    let schema = render(&flat_struct().root, Dialect::OpenAiStrict).expect("renders");
    let name = &schema["properties"]["name"];
    assert_eq!(
        name["description"],
        "Display name (between 1 and 50 characters; example: \"Ada\")"
    );
    assert!(name.get("minLength").is_none());
    let tags = &schema["properties"]["tags"];
    assert_eq!(tags["minItems"], 1);
    assert_eq!(tags["description"], "no duplicate items");
    let active = &schema["properties"]["active"];
    assert_eq!(
        active["description"],
        "Whether the account is active (default: true)"
    );
    let formats = render(&formats().root, Dialect::OpenAiStrict).expect("renders");
    assert_eq!(
        formats["properties"]["url"]["description"],
        "Page address (format: uri)"
    );
    assert!(formats["properties"]["url"].get("format").is_none());
    assert_eq!(formats["properties"]["seen_at"]["format"], "date-time");
}

#[test]
fn openai_strict_inlines_a_described_reference_and_merges_descriptions() {
    let schema = render(&nested_struct().root, Dialect::OpenAiStrict).expect("renders");
    let shipping = &schema["properties"]["shipping"];
    assert!(shipping.get("$ref").is_none());
    assert_eq!(shipping["description"], "Where to ship\n\nA postal address");
    assert_eq!(shipping["additionalProperties"], false);
    // The undescribed reference stays a reference, inside the nullable union.
    assert_eq!(
        schema["properties"]["billing"]["anyOf"][0],
        json!({ "$ref": "#/$defs/Address" })
    );
    assert!(schema["$defs"].get("Address").is_some());
}

#[test]
fn openai_strict_keeps_a_bare_reference_to_a_recursive_type() {
    let schema = render(&recursive_union_root().root, Dialect::OpenAiStrict).expect("renders");
    // The root is a union, so it is wrapped and moves to `$defs` where `$ref` can reach it.
    assert_eq!(
        schema["properties"]["value"],
        json!({ "$ref": "#/$defs/Expr" })
    );
    let add = &schema["$defs"]["Expr"]["anyOf"][1]["properties"];
    assert_eq!(add["right"], json!({ "$ref": "#/$defs/Expr" }));
    check_openai_strict(&schema).expect("strict rules hold");
}

#[test]
fn non_object_roots_are_wrapped_where_the_root_must_be_an_object() {
    for dialect in [
        Dialect::OpenAiStrict,
        Dialect::AnthropicTool,
        Dialect::AnthropicStrict,
    ] {
        let schema = render(&array_root().root, dialect).expect("renders");
        assert_eq!(schema["type"], "object", "{dialect:?}");
        assert_eq!(schema["required"], json!(["value"]), "{dialect:?}");
        assert_eq!(schema["additionalProperties"], false, "{dialect:?}");
        assert_eq!(
            schema["properties"]["value"]["type"], "array",
            "{dialect:?}"
        );
    }
    for dialect in [
        Dialect::JsonSchema,
        Dialect::GeminiResponseSchema,
        Dialect::GeminiJsonSchema,
    ] {
        let schema = render(&array_root().root, dialect).expect("renders");
        assert!(
            schema["type"] == "array" || schema["type"] == "ARRAY",
            "{dialect:?}"
        );
    }
}

#[test]
fn anthropic_strict_keeps_optional_properties_optional() {
    let schema = render(&flat_struct().root, Dialect::AnthropicStrict).expect("renders");
    assert_eq!(schema["required"], json!(["name", "age", "tags"]));
    assert_eq!(schema["properties"]["active"]["type"], "boolean");
    assert_eq!(schema["additionalProperties"], false);
    let age = &schema["properties"]["age"];
    assert!(age.get("minimum").is_none());
    assert_eq!(age["description"], "between 0 and 150");
    assert_eq!(schema["properties"]["tags"]["minItems"], 1);
    assert_eq!(
        schema["properties"]["tags"]["description"],
        "at most 10 items; no duplicate items"
    );
}

#[test]
fn anthropic_strict_keeps_simple_patterns_and_describes_the_rest() {
    let lookahead = string(None, None, Some("^(?=.*[0-9]).+$"));
    let root = root(object(vec![
        required("zip", string(None, None, Some("^[0-9]{5}$"))),
        required("password", lookahead),
        required("codes", array(Schema::string(), Some(2), None, false)),
    ]));
    let schema = render(&root, Dialect::AnthropicStrict).expect("renders");
    assert_eq!(schema["properties"]["zip"]["pattern"], "^[0-9]{5}$");
    assert_eq!(
        schema["properties"]["password"]["description"],
        "pattern: ^(?=.*[0-9]).+$"
    );
    assert!(schema["properties"]["codes"].get("minItems").is_none());
    assert_eq!(
        schema["properties"]["codes"]["description"],
        "at least 2 items"
    );
}

#[test]
fn gemini_response_schema_uses_the_openapi_subset() {
    let schema = render(&flat_struct().root, Dialect::GeminiResponseSchema).expect("renders");
    assert_eq!(schema["type"], "OBJECT");
    assert_eq!(
        schema["propertyOrdering"],
        json!(["name", "nickname", "age", "score", "tags", "active"])
    );
    assert_eq!(schema["required"], json!(["name", "age", "tags"]));
    let name = &schema["properties"]["name"];
    assert_eq!(
        (&name["minLength"], &name["maxLength"]),
        (&json!("1"), &json!("50"))
    );
    let nickname = &schema["properties"]["nickname"];
    assert_eq!(
        (&nickname["type"], &nickname["nullable"]),
        (&json!("STRING"), &json!(true))
    );
    assert_eq!(schema["properties"]["age"]["minimum"], 0);
    assert_eq!(schema["properties"]["tags"]["minItems"], "1");

    let shapes = render(&tagged_union().root, Dialect::GeminiResponseSchema).expect("renders");
    let circle_tag = &shapes["anyOf"][0]["properties"]["type"];
    assert_eq!(
        circle_tag,
        &json!({ "type": "STRING", "format": "enum", "enum": ["circle"] })
    );

    let nested = render(&nested_struct().root, Dialect::GeminiResponseSchema).expect("renders");
    assert!(nested.get("$defs").is_none());
    assert_eq!(nested["properties"]["billing"]["nullable"], true);
    assert_eq!(nested["properties"]["billing"]["type"], "OBJECT");
    let formats = render(&formats().root, Dialect::GeminiResponseSchema).expect("renders");
    assert_eq!(formats["properties"]["seen_at"]["format"], "date-time");
    assert_eq!(formats["properties"]["id"]["description"], "format: uuid");
}

#[test]
fn gemini_json_schema_keeps_refs_and_maps_and_lists_property_order() {
    let schema = render(&map_field().root, Dialect::GeminiJsonSchema).expect("renders");
    assert_eq!(
        schema["properties"]["counts"]["additionalProperties"],
        json!({ "type": "integer" })
    );
    assert_eq!(schema["propertyOrdering"], json!(["name", "counts"]));
    assert!(schema.get("$schema").is_none());
    let nested = render(&nested_struct().root, Dialect::GeminiJsonSchema).expect("renders");
    assert_eq!(
        nested["properties"]["shipping"]["description"],
        "Where to ship\n\nA postal address"
    );
    assert_eq!(
        nested["properties"]["billing"]["anyOf"][0],
        json!({ "$ref": "#/$defs/Address" })
    );
    let postcode = &nested["$defs"]["Address"]["properties"]["postcode"];
    assert_eq!(postcode["description"], "pattern: ^[0-9]{5}$");
}

#[test]
fn gemini_json_schema_accepts_recursion_through_an_optional_property() {
    let node = object(vec![
        required("name", Schema::string()),
        optional(
            "children",
            Schema::nullable(array(Schema::reference("Node"), None, None, false)),
        ),
    ]);
    let root = with_defs(
        object(vec![required("tree", Schema::reference("Node"))]),
        vec![("Node", node)],
    );
    let schema = render(&root, Dialect::GeminiJsonSchema).expect("renders");
    assert_eq!(
        schema["properties"]["tree"],
        json!({ "$ref": "#/$defs/Node" })
    );
}

#[test]
fn definitions_appear_once_in_declaration_order() {
    let root = with_defs(
        object(vec![
            required("b", Schema::reference("B")),
            required("a", Schema::reference("A")),
            required("a_again", Schema::reference("A")),
        ]),
        vec![
            ("A", Schema::string()),
            ("B", Schema::number()),
            ("Unused", Schema::new(SchemaKind::Boolean)),
        ],
    );
    let schema = render(&root, Dialect::JsonSchema).expect("renders");
    let names: Vec<&String> = schema["$defs"]
        .as_object()
        .expect("has $defs")
        .keys()
        .collect();
    assert_eq!(names, ["A", "B"]);
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

fn error(root: &RootSchema, dialect: Dialect) -> DialectError {
    match render(root, dialect) {
        Ok(schema) => panic!("{dialect:?} rendered {schema:#}"),
        Err(error) => error,
    }
}

/// A reason a person can act on: a sentence that says what to do instead.
fn assert_readable(error: &DialectError, mentions: &[&str]) {
    let reason = &error.reason;
    assert!(reason.len() > 40, "too terse: {reason}");
    assert!(
        !reason.contains("SchemaKind") && !reason.contains("Some("),
        "Debug output: {reason}"
    );
    for word in mentions {
        assert!(
            reason.contains(word),
            "`{reason}` does not mention `{word}`"
        );
    }
    let shown = error.to_string();
    assert!(shown.contains(&format!("`{}`", error.path)), "{shown}");
}

#[test]
fn strict_dialects_refuse_maps_naming_the_field() {
    for dialect in [
        Dialect::OpenAiStrict,
        Dialect::AnthropicStrict,
        Dialect::GeminiResponseSchema,
    ] {
        let error = error(&map_field().root, dialect);
        assert_eq!(error.dialect, dialect);
        assert_eq!(error.path, "counts");
        assert_readable(&error, &["map", "Vec of key/value structs"]);
    }
}

#[test]
fn strict_dialects_refuse_free_form_values_naming_the_field() {
    for dialect in [
        Dialect::OpenAiStrict,
        Dialect::AnthropicStrict,
        Dialect::GeminiResponseSchema,
    ] {
        let error = error(&any_field().root, dialect);
        assert_eq!(error.path, "payload");
        assert_readable(&error, &["free-form", "concrete type"]);
    }
}

#[test]
fn a_map_inside_a_wrapped_list_is_named_by_its_wire_path() {
    let item = object(vec![required("meta", Schema::map(Schema::string()))]);
    let root = root(array(item, None, None, false));
    assert_eq!(error(&root, Dialect::OpenAiStrict).path, "value[].meta");
    assert_eq!(error(&root, Dialect::GeminiResponseSchema).path, "[].meta");
}

#[test]
fn an_error_inside_a_definition_is_named_where_it_is_first_used() {
    let payload = object(vec![required("extra", Schema::default())]);
    let root = with_defs(
        object(vec![required(
            "items",
            array(Schema::reference("Payload"), None, None, false),
        )]),
        vec![("Payload", payload)],
    );
    assert_eq!(error(&root, Dialect::OpenAiStrict).path, "items[].extra");
    assert_eq!(error(&root, Dialect::AnthropicStrict).path, "items[].extra");
}

#[test]
fn gemini_response_schema_and_anthropic_strict_refuse_recursion() {
    for dialect in [Dialect::GeminiResponseSchema, Dialect::AnthropicStrict] {
        let error = error(&recursive_node().root, dialect);
        assert_eq!(error.path, "children[]", "{dialect:?}");
        assert_readable(&error, &["`Node` contains itself"]);
    }
    let wrapped = error(&recursive_union_root().root, Dialect::AnthropicStrict);
    assert_eq!(wrapped.path, "value.left");
    let inlined = error(&recursive_union_root().root, Dialect::GeminiResponseSchema);
    assert_eq!(inlined.path, "left");
}

#[test]
fn recursion_through_a_definition_is_named_at_the_reference_that_closes_the_cycle() {
    let node = object(vec![required(
        "children",
        array(Schema::reference("Node"), None, None, false),
    )]);
    let root = with_defs(
        object(vec![required("tree", Schema::reference("Node"))]),
        vec![("Node", node)],
    );
    for dialect in [
        Dialect::GeminiResponseSchema,
        Dialect::AnthropicStrict,
        Dialect::GeminiJsonSchema,
    ] {
        let error = error(&root, dialect);
        assert_eq!(error.path, "tree.children[]", "{dialect:?}");
    }
    assert_readable(
        &error(&root, Dialect::GeminiJsonSchema),
        &["not required", "Option"],
    );
}

#[test]
fn strict_dialects_refuse_all_of() {
    let flattened = Schema::new(SchemaKind::AllOf(vec![
        object(vec![required("id", Schema::string())]),
        Schema::new(SchemaKind::OneOf(vec![object(vec![required(
            "a",
            Schema::string(),
        )])])),
    ]));
    for dialect in [
        Dialect::OpenAiStrict,
        Dialect::AnthropicStrict,
        Dialect::GeminiResponseSchema,
        Dialect::GeminiJsonSchema,
    ] {
        let error = error(
            &root(object(vec![required("x", flattened.clone())])),
            dialect,
        );
        assert_eq!(error.path, "x");
        assert_readable(&error, &["allOf", "flatten"]);
    }
    assert!(render(&root(flattened), Dialect::JsonSchema).is_ok());
}

#[test]
fn gemini_refuses_objects_without_properties_and_non_string_enums() {
    let empty = root(object(vec![required("nothing", object(vec![]))]));
    let error_empty = error(&empty, Dialect::GeminiResponseSchema);
    assert_eq!(error_empty.path, "nothing");
    assert_readable(&error_empty, &["without properties"]);
    let numbers = root(object(vec![required(
        "level",
        Schema::new(SchemaKind::Enum(vec![json!(1), json!(2)])),
    )]));
    let error_enum = error(&numbers, Dialect::GeminiResponseSchema);
    assert_eq!(error_enum.path, "level");
    assert_readable(&error_enum, &["strings"]);
    assert!(render(&numbers, Dialect::GeminiJsonSchema).is_ok());
}

#[test]
fn openai_strict_refuses_objects_nested_more_than_ten_deep() {
    let mut schema = object(vec![required("leaf", Schema::string())]);
    for level in (1..=10).rev() {
        schema = object(vec![required(&format!("level{level}"), schema)]);
    }
    // Eleven objects: the root and ten below it.
    let error = error(&root(schema.clone()), Dialect::OpenAiStrict);
    let expected: Vec<String> = (1..=10).map(|l| format!("level{l}")).collect();
    assert_eq!(error.path, expected.join("."));
    assert_readable(&error, &["10 levels"]);
    let SchemaKind::Object(object) = &schema.kind else {
        unreachable!("built as an object")
    };
    let ten_deep = object.properties["level1"].schema.clone();
    assert!(render(&root(ten_deep), Dialect::OpenAiStrict).is_ok());
}

#[test]
fn openai_strict_refuses_more_than_5000_properties() {
    let wide = |n: usize| {
        let properties: Vec<(String, Schema)> = (0..n)
            .map(|i| (format!("p{i}"), Schema::new(SchemaKind::Boolean)))
            .collect();
        let properties = properties
            .iter()
            .map(|(name, schema)| required(name, schema.clone()))
            .collect();
        root(object(properties))
    };
    assert!(render(&wide(5000), Dialect::OpenAiStrict).is_ok());
    let error = error(&wide(5001), Dialect::OpenAiStrict);
    assert_eq!(error.path, "<root>");
    assert_readable(&error, &["5001 properties", "5000"]);
}

#[test]
fn a_reference_without_definition_is_an_error_in_every_dialect() {
    let root = root(object(vec![required("x", Schema::reference("Missing"))]));
    for dialect in DIALECTS {
        let error = error(&root, dialect);
        assert_eq!(error.path, "x");
        assert!(error.reason.contains("Missing"));
    }
}

#[test]
fn additional_properties_follow_the_ir_in_plain_json_schema() {
    let mut denied = ObjectSchema::default();
    denied.properties.insert(
        "a".into(),
        Property {
            schema: Schema::string(),
            required: true,
        },
    );
    denied.additional = AdditionalProperties::Denied;
    let schema = render(
        &root(Schema::new(SchemaKind::Object(denied))),
        Dialect::JsonSchema,
    )
    .expect("renders");
    assert_eq!(schema["additionalProperties"], false);
    let map = render(&map_field().root, Dialect::JsonSchema).expect("renders");
    assert_eq!(
        map["properties"]["counts"]["additionalProperties"],
        json!({ "type": "integer" })
    );
}
