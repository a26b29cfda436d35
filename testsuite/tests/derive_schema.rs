//! Schemas of derived types: annotations, field order, leaf types, overrides, and a
//! snapshot of every dialect for a set of representative types.

#[path = "../../instructor-core/tests/strict_checker/mod.rs"]
#[allow(dead_code)]
mod strict_checker;

use instructor::prelude::*;
use instructor::{Schema, SchemaGenerator};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

const DIALECTS: [Dialect; 6] = [
    Dialect::JsonSchema,
    Dialect::OpenAiStrict,
    Dialect::AnthropicTool,
    Dialect::AnthropicStrict,
    Dialect::GeminiResponseSchema,
    Dialect::GeminiJsonSchema,
];

/// Renders `T` in every dialect; a dialect that refuses shows its error.
fn all_dialects<T: Extract>() -> Value {
    let mut out = serde_json::Map::new();
    for dialect in DIALECTS {
        let rendered = match T::json_schema(dialect) {
            Ok(schema) => schema,
            Err(error) => json!({ "error": error.to_string() }),
        };
        out.insert(format!("{dialect:?}"), rendered);
    }
    Value::Object(out)
}

fn json_schema<T: Extract>() -> Value {
    T::json_schema(Dialect::JsonSchema).expect("JSON Schema renders every type")
}

/// A support ticket raised by a customer.
///
/// Second paragraph of the description.
#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
#[extract(title = "Support ticket", rename = "create_ticket")]
struct Ticket {
    /// Think step by step before filling in the rest.
    chain_of_thought: String,
    /// One-line summary.
    #[garde(length(min = 5, max = 120))]
    #[extract(example = "Login page crashes on submit")]
    title: String,
    /// How bad it is.
    #[extract(description = "Urgency from 1 (low) to 5 (critical)")]
    #[garde(range(min = 1, max = 5))]
    urgency: u8,
    kind: Kind,
    #[extract(examples("login", "ui"))]
    tags: Vec<String>,
    reporter: Option<Person>,
    #[serde(default)]
    watchers: Vec<Person>,
}

/// Someone involved.
#[derive(Debug, Deserialize, Extract)]
struct Person {
    name: String,
    #[garde(email)]
    email: Option<String>,
}

/// What kind of ticket.
#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// Something is broken.
    Bug,
    /// Something new is wanted.
    FeatureRequest,
    Question,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Shape {
    /// A round shape.
    Circle {
        radius: f64,
    },
    Rectangle {
        width: f64,
        height: f64,
    },
    Empty,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "t", content = "c")]
enum Message {
    Text(String),
    Image { url: String },
    Ping,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(untagged)]
enum Amount {
    Exact(f64),
    Range { low: f64, high: f64 },
}

#[derive(Debug, Deserialize, Extract)]
enum Command {
    Stop,
    Move { x: i32, y: i32 },
    Say(String),
}

/// A page of results.
#[derive(Debug, Deserialize, Extract)]
struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// A node in a tree.
#[derive(Debug, Deserialize, Extract)]
struct TreeNode {
    label: String,
    children: Vec<TreeNode>,
}

/// An e-mail address.
#[derive(Debug, Deserialize, Extract)]
struct Email(#[garde(email)] String);

#[derive(Debug, Deserialize, Extract)]
#[serde(transparent)]
struct Score {
    value: f32,
}

#[derive(Debug, Deserialize, Extract)]
struct Contact {
    primary: Email,
    score: Score,
}

#[derive(Debug, Deserialize, Extract)]
struct Loose {
    labels: HashMap<String, String>,
    payload: Value,
}

fn assert_snapshot_of<T: Extract>(name: &str) {
    insta::with_settings!({ snapshot_path => "snapshots/dialects", prepend_module_to_snapshot => false }, {
        insta::assert_json_snapshot!(name, all_dialects::<T>());
    });
}

#[test]
fn snapshot_struct_with_docs_rules_and_nesting() {
    assert_snapshot_of::<Ticket>("ticket");
}

#[test]
fn snapshot_unit_enum() {
    assert_snapshot_of::<Kind>("unit_enum");
}

#[test]
fn snapshot_internally_tagged_enum() {
    assert_snapshot_of::<Shape>("internally_tagged");
}

#[test]
fn snapshot_adjacently_tagged_enum() {
    assert_snapshot_of::<Message>("adjacently_tagged");
}

#[test]
fn snapshot_untagged_enum() {
    assert_snapshot_of::<Amount>("untagged");
}

#[test]
fn snapshot_externally_tagged_enum() {
    assert_snapshot_of::<Command>("externally_tagged");
}

#[test]
fn snapshot_generic_struct() {
    assert_snapshot_of::<Page<Person>>("generic");
}

#[test]
fn snapshot_recursive_struct() {
    assert_snapshot_of::<TreeNode>("recursive");
}

#[test]
fn snapshot_newtypes() {
    assert_snapshot_of::<Contact>("newtypes");
}

#[test]
fn snapshot_maps_and_free_form_values() {
    assert_snapshot_of::<Loose>("maps_and_values");
}

/// Every JSON-Schema-flavoured rendering (all dialects but Gemini's OpenAPI
/// `responseSchema`, which the Gemini checker covers) is a valid 2020-12 document.
#[test]
fn every_json_schema_flavoured_rendering_is_a_valid_2020_12_schema() {
    fn check<T: Extract>() {
        for dialect in DIALECTS {
            if dialect == Dialect::GeminiResponseSchema {
                continue;
            }
            let Ok(schema) = T::json_schema(dialect) else {
                continue;
            };
            jsonschema::meta::validate(&schema)
                .unwrap_or_else(|e| panic!("{} {dialect:?}: {e}: {schema:#}", T::name()));
            jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{} {dialect:?}: {e}: {schema:#}", T::name()));
        }
    }
    check::<Ticket>();
    check::<Kind>();
    check::<Shape>();
    check::<Message>();
    check::<Amount>();
    check::<Command>();
    check::<Page<Person>>();
    check::<TreeNode>();
    check::<Contact>();
    check::<Loose>();
    check::<Everything>();
    check::<Overrides>();
}

#[test]
fn doc_comments_become_descriptions_and_the_attribute_wins() {
    let schema = json_schema::<Ticket>();
    assert_eq!(
        schema["description"],
        "A support ticket raised by a customer.\n\nSecond paragraph of the description."
    );
    assert_eq!(schema["title"], "Support ticket");
    let props = &schema["properties"];
    assert_eq!(
        props["chainOfThought"]["description"],
        "Think step by step before filling in the rest."
    );
    assert_eq!(
        props["urgency"]["description"],
        "Urgency from 1 (low) to 5 (critical)"
    );
    assert_eq!(
        props["title"]["examples"],
        json!(["Login page crashes on submit"])
    );
    assert_eq!(props["tags"]["examples"], json!(["login", "ui"]));
    assert_eq!(
        Ticket::description().as_deref(),
        Some("A support ticket raised by a customer.\n\nSecond paragraph of the description.")
    );
}

#[test]
fn variant_docs_describe_the_enum() {
    let schema = json_schema::<Kind>();
    assert_eq!(
        schema["enum"],
        json!(["bug", "feature_request", "question"])
    );
    let description = schema["description"].as_str().expect("description");
    assert!(
        description.contains("bug: Something is broken."),
        "{description}"
    );
    assert!(
        description.contains("feature_request: Something new is wanted."),
        "{description}"
    );
}

#[test]
fn the_tool_name_is_the_rename_or_the_type_name() {
    assert_eq!(Ticket::name(), "create_ticket");
    assert_eq!(Person::name(), "Person");
    assert_eq!(Page::<Person>::name(), "Page_Person");
}

#[test]
fn fields_are_in_declaration_order() {
    let schema = json_schema::<Ticket>();
    let keys: Vec<&String> = schema["properties"]
        .as_object()
        .expect("object")
        .keys()
        .collect();
    assert_eq!(
        keys,
        [
            "chainOfThought",
            "title",
            "urgency",
            "kind",
            "tags",
            "reporter",
            "watchers"
        ]
    );
    assert_eq!(
        schema["required"],
        json!(["chainOfThought", "title", "urgency", "kind", "tags"])
    );
}

#[test]
fn nested_types_are_shared_definitions() {
    let schema = json_schema::<Ticket>();
    assert_eq!(
        schema["$defs"]["Person"]["description"],
        "Someone involved."
    );
    assert!(schema["properties"]["watchers"]["items"]["$ref"] == "#/$defs/Person");
}

#[test]
fn recursion_refers_back_to_the_root() {
    let schema = json_schema::<TreeNode>();
    assert_eq!(schema["properties"]["children"]["items"]["$ref"], "#");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    assert!(
        validator.is_valid(&json!({"label": "a", "children": [{"label": "b", "children": []}]}))
    );
    assert!(
        !validator.is_valid(&json!({"label": "a", "children": [{"label": 1, "children": []}]}))
    );
}

#[test]
fn generic_definitions_are_named_after_their_arguments() {
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Both {
        people: Page<Person>,
        names: Page<String>,
    }
    let schema = json_schema::<Both>();
    let defs: Vec<&String> = schema["$defs"].as_object().expect("defs").keys().collect();
    assert!(defs.contains(&&"Page_Person".to_owned()), "{defs:?}");
    assert!(defs.contains(&&"Page_String".to_owned()), "{defs:?}");
}

#[test]
fn newtypes_are_their_inner_value() {
    let schema = json_schema::<Contact>();
    assert_eq!(schema["properties"]["primary"]["type"], "string");
    assert_eq!(schema["properties"]["primary"]["format"], "email");
    assert_eq!(
        schema["properties"]["primary"]["description"],
        "An e-mail address."
    );
    assert_eq!(schema["properties"]["score"]["type"], "number");
}

/// Every leaf type the derive covers out of the box.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct Everything {
    s: String,
    c: char,
    b: bool,
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    i128: i128,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    u128: u128,
    isize: isize,
    usize: usize,
    f32: f32,
    f64: f64,
    opt: Option<u8>,
    vec: Vec<u8>,
    deque: VecDeque<u8>,
    hash_set: HashSet<String>,
    btree_set: BTreeSet<String>,
    array: [u8; 3],
    boxed: Box<Person>,
    arc: Arc<String>,
    hash_map: HashMap<String, u8>,
    btree_map: BTreeMap<String, Person>,
    index_map: indexmap::IndexMap<String, bool>,
    value: Value,
}

/// The types of the optional crates (cargo features of the same names).
#[cfg(all(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "url",
    feature = "rust_decimal"
))]
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct FeatureTypes {
    date_time: chrono::DateTime<chrono::Utc>,
    date: chrono::NaiveDate,
    uuid: uuid::Uuid,
    url: url::Url,
    decimal: rust_decimal::Decimal,
    time_date: time::Date,
}

#[test]
fn integer_widths_carry_their_bounds() {
    let props = &json_schema::<Everything>()["properties"];
    assert_eq!(
        props["i8"],
        json!({"type": "integer", "minimum": -128, "maximum": 127})
    );
    assert_eq!(
        props["u8"],
        json!({"type": "integer", "minimum": 0, "maximum": 255})
    );
    assert_eq!(props["i16"]["minimum"], -32768);
    assert_eq!(props["u32"]["maximum"], 4294967295u64);
}

#[test]
fn bounds_that_are_a_wide_types_whole_range_are_not_sent() {
    // `-2^63..2^63` tells a model nothing and costs tokens in every request; an
    // unsigned type still says it takes no negative number.
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Wide {
        i64: i64,
        i128: i128,
        isize: isize,
        u64: u64,
        u128: u128,
        usize: usize,
        non_zero: std::num::NonZeroU64,
    }
    let props = &json_schema::<Wide>()["properties"];
    for signed in ["i64", "i128", "isize"] {
        assert_eq!(props[signed], json!({"type": "integer"}), "{signed}");
    }
    for unsigned in ["u64", "u128", "usize"] {
        assert_eq!(
            props[unsigned],
            json!({"type": "integer", "minimum": 0}),
            "{unsigned}"
        );
    }
    assert_eq!(props["non_zero"], json!({"type": "integer", "minimum": 1}));
    for dialect in [
        Dialect::JsonSchema,
        Dialect::OpenAiStrict,
        Dialect::AnthropicTool,
        Dialect::AnthropicStrict,
        Dialect::GeminiResponseSchema,
        Dialect::GeminiJsonSchema,
    ] {
        let rendered = Wide::json_schema(dialect).expect("renders").to_string();
        assert!(
            !rendered.contains(&i64::MAX.to_string()),
            "{dialect:?}: {rendered}"
        );
        assert!(
            !rendered.contains(&u64::MAX.to_string()),
            "{dialect:?}: {rendered}"
        );
        assert!(
            !rendered.contains("9.223372036854776e18"),
            "{dialect:?}: {rendered}"
        );
    }
}

#[test]
fn bool_and_char_have_their_shapes() {
    let props = &json_schema::<Everything>()["properties"];
    assert_eq!(props["f64"], json!({"type": "number"}));
    assert_eq!(props["b"], json!({"type": "boolean"}));
    assert_eq!(props["c"]["minLength"], 1);
    assert_eq!(props["c"]["maxLength"], 1);
}

#[test]
fn containers_map_to_arrays_sets_and_maps() {
    let props = &json_schema::<Everything>()["properties"];
    assert_eq!(props["vec"]["type"], "array");
    assert_eq!(props["deque"]["type"], "array");
    assert_eq!(props["hash_set"]["uniqueItems"], true);
    assert_eq!(props["btree_set"]["uniqueItems"], true);
    assert_eq!(props["array"]["minItems"], 3);
    assert_eq!(props["array"]["maxItems"], 3);
    assert_eq!(props["boxed"]["$ref"], "#/$defs/Person");
    assert_eq!(props["arc"]["type"], "string");
    assert_eq!(props["hash_map"]["additionalProperties"]["type"], "integer");
    assert_eq!(
        props["btree_map"]["additionalProperties"]["$ref"],
        "#/$defs/Person"
    );
    assert_eq!(
        props["index_map"]["additionalProperties"]["type"],
        "boolean"
    );
    assert_eq!(props["value"], json!({}));
    assert!(
        !json_schema::<Everything>()["required"]
            .as_array()
            .expect("required")
            .contains(&json!("opt"))
    );
}

#[cfg(all(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "url",
    feature = "rust_decimal"
))]
#[test]
fn feature_types_have_formats() {
    let props = &json_schema::<FeatureTypes>()["properties"];
    assert_eq!(props["date_time"]["format"], "date-time");
    assert_eq!(props["date"]["format"], "date");
    assert_eq!(props["uuid"]["format"], "uuid");
    assert_eq!(props["url"]["format"], "uri");
    assert!(props["decimal"]["anyOf"].is_array());
    assert_eq!(props["time_date"]["format"], "date");
}

#[cfg(all(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "url",
    feature = "rust_decimal"
))]
#[test]
fn feature_types_deserialize_what_their_schema_describes() {
    let doc = json!({
        "date_time": "2024-05-01T12:30:00Z",
        "date": "2024-05-01",
        "uuid": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "url": "https://example.com/a",
        "decimal": "12.50",
        "time_date": "2024-05-01"
    });
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Dated {
        date_time: chrono::DateTime<chrono::Utc>,
        date: chrono::NaiveDate,
        uuid: uuid::Uuid,
        url: url::Url,
        decimal: rust_decimal::Decimal,
        time_date: time::Date,
    }
    let schema = json_schema::<Dated>();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("compiles");
    assert!(
        validator.is_valid(&doc),
        "{:?}",
        validator
            .iter_errors(&doc)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let _: Dated = serde_json::from_value(doc).expect("deserializes");
}

fn secret_schema(_: &mut SchemaGenerator) -> Schema {
    Schema::string_format("password").with_description("Never shown to users")
}

fn as_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct Overrides {
    #[extract(schema_with = secret_schema)]
    secret: String,
    #[serde(deserialize_with = "as_string")]
    #[extract(schema_with = numeric_string)]
    count: u32,
}

#[cfg(feature = "schemars")]
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct Bridge {
    #[extract(schemars)]
    bridged: Bridged,
}

fn numeric_string(_: &mut SchemaGenerator) -> Schema {
    let mut schema = Schema::string();
    instructor::validate::rules::schema_pattern(&mut schema, "^[0-9]+$");
    schema
}

/// A type only schemars knows.
#[cfg(feature = "schemars")]
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Bridged {
    /// Inner docs.
    level: u8,
    note: Option<String>,
}

#[test]
fn schema_with_replaces_a_field_schema() {
    let props = &json_schema::<Overrides>()["properties"];
    assert_eq!(props["secret"]["format"], "password");
    assert_eq!(props["secret"]["description"], "Never shown to users");
    assert_eq!(props["count"]["pattern"], "^[0-9]+$");
    let value: Overrides =
        serde_json::from_value(json!({"secret": "x", "count": "12"})).expect("deserializes");
    assert_eq!(value.count, 12);
}

#[cfg(feature = "schemars")]
#[test]
fn the_schemars_bridge_takes_a_field_schema_from_json_schema() {
    let bridged = &json_schema::<Bridge>()["properties"]["bridged"];
    assert_eq!(bridged["type"], "object");
    assert_eq!(bridged["properties"]["level"]["description"], "Inner docs.");
    assert_eq!(bridged["properties"]["level"]["maximum"], 255);
    assert_eq!(bridged["required"], json!(["level"]));
}

/// Every derived type's strict renderings pass the independent rule checkers (or the
/// dialect refuses the type with an error, never renders something the API rejects).
#[test]
fn strict_renderings_pass_the_provider_rule_checkers() {
    fn check<T: Extract>(refusals: &mut Vec<String>) {
        type Checker = fn(&Value) -> Result<(), String>;
        let checks: [(Dialect, Checker); 3] = [
            (Dialect::OpenAiStrict, strict_checker::check_openai_strict),
            (
                Dialect::AnthropicStrict,
                strict_checker::check_anthropic_strict,
            ),
            (
                Dialect::GeminiResponseSchema,
                strict_checker::check_gemini_response_schema,
            ),
        ];
        for (dialect, checker) in checks {
            match T::json_schema(dialect) {
                Ok(schema) => checker(&schema)
                    .unwrap_or_else(|e| panic!("{} in {dialect:?}: {e}\n{schema:#}", T::name())),
                Err(error) => refusals.push(format!("{} {dialect:?}: {error}", T::name())),
            }
        }
    }
    let mut refusals = Vec::new();
    check::<Ticket>(&mut refusals);
    check::<Kind>(&mut refusals);
    check::<Shape>(&mut refusals);
    check::<Message>(&mut refusals);
    check::<Amount>(&mut refusals);
    check::<Command>(&mut refusals);
    check::<Page<Person>>(&mut refusals);
    check::<TreeNode>(&mut refusals);
    check::<Contact>(&mut refusals);
    check::<Loose>(&mut refusals);
    check::<Everything>(&mut refusals);
    // Exactly the types a strict dialect cannot express are refused.
    let refused: Vec<&str> = refusals
        .iter()
        .map(|r| r.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        refused,
        [
            "TreeNode AnthropicStrict",
            "TreeNode GeminiResponseSchema",
            "Loose OpenAiStrict",
            "Loose AnthropicStrict",
            "Loose GeminiResponseSchema",
            "Everything OpenAiStrict",
            "Everything AnthropicStrict",
            "Everything GeminiResponseSchema",
        ],
        "{refusals:#?}"
    );
}

#[test]
fn a_dialect_error_names_the_field_and_the_reason() {
    let error = Loose::json_schema(Dialect::OpenAiStrict).expect_err("maps are refused");
    assert_eq!(error.path, "labels");
    assert!(error.reason.contains("key"), "{error}");
    let error = TreeNode::json_schema(Dialect::GeminiResponseSchema).expect_err("recursion");
    assert!(error.path.contains("children"), "{error}");
}
