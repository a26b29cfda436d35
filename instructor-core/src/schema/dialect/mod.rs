//! Rendering the schema IR into each provider's dialect.
//!
//! One renderer walks the IR for every dialect; the dialects differ only by policy
//! (which keywords they accept, how they write `null`, references and maps). What a
//! dialect cannot express either becomes readable text in the description (a
//! `maxLength` becomes "at most 50 characters") or, when the model could produce values
//! that the Rust type rejects, a [`DialectError`] naming the field.
//!
//! ```
//! use instructor_core::schema::{ObjectSchema, Property, RootSchema, Schema, SchemaKind};
//! use instructor_core::schema::dialect::{render, Dialect};
//!
//! let mut object = ObjectSchema::default();
//! object.properties.insert("name".into(), Property { schema: Schema::string(), required: true });
//! let root = RootSchema {
//!     schema: Schema::new(SchemaKind::Object(object)),
//!     defs: Default::default(),
//!     root_name: None,
//! };
//! let strict = render(&root, Dialect::OpenAiStrict).unwrap();
//! assert_eq!(strict["additionalProperties"], false);
//! assert_eq!(strict["required"], serde_json::json!(["name"]));
//! ```

mod limits;
mod node;
mod notes;
mod path;
mod policy;
mod refs;
mod render;

use super::RootSchema;
use serde_json::Value;

/// The property that holds a non-object root in dialects whose root must be an
/// object ([`Dialect::OpenAiStrict`], [`Dialect::AnthropicTool`],
/// [`Dialect::AnthropicStrict`]): callers unwrap it from the answer.
pub const WRAPPED_ROOT_PROPERTY: &str = render::WRAPPER_PROPERTY;

/// A schema dialect: the flavour of JSON Schema one provider endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// JSON Schema 2020-12, exactly what serde accepts: `$schema`, `$defs` and `$ref`
    /// (`#` for the root), `type: [t, "null"]` for nullable scalars and
    /// `anyOf: [x, {"type": "null"}]` for other nullable values. An `enum` or `const`
    /// also carries `type` when all its values share one (`"type": "string"`).
    JsonSchema,
    /// OpenAI strict structured outputs (`strict: true` tools and `json_schema` response
    /// format).
    ///
    /// - The root is an object: any other root is wrapped as
    ///   `{"type": "object", "properties": {"value": <root>}, "required": ["value"],
    ///   "additionalProperties": false}` and callers unwrap
    ///   [`WRAPPED_ROOT_PROPERTY`] from the answer.
    /// - Every object has `additionalProperties: false` and lists every property in
    ///   `required`; a property that was optional becomes nullable, so the model writes
    ///   `null` for it. Callers should drop those `null`s before deserializing when the
    ///   Rust field does not accept `null` (for example `#[serde(default)] n: u32`).
    /// - Maps and `serde_json::Value` are errors; `oneOf` becomes `anyOf`; `allOf` is
    ///   an error.
    /// - A described `$ref` is inlined with the descriptions merged (the field's first,
    ///   the type's after it), since `$ref` may have no siblings; a reference to a
    ///   recursive type keeps `$ref` and loses the field's annotations.
    /// - Unsupported keywords (`minLength`, `maxLength`, `uniqueItems`,
    ///   `minProperties`, `maxProperties`, `examples`, `default`, formats outside
    ///   date-time, time, date, duration, email, hostname, ipv4, ipv6, uuid) become
    ///   description text; `title` and `$schema` are left out.
    /// - At most 10 levels of nested objects and 5000 properties in total.
    OpenAiStrict,
    /// Anthropic tool `input_schema` (non-strict): [`Dialect::JsonSchema`] without
    /// `$schema`, with a non-object root wrapped as for [`Dialect::OpenAiStrict`].
    AnthropicTool,
    /// Anthropic structured outputs (`output_config.format` json_schema, and tools with
    /// `strict: true`).
    ///
    /// Like [`Dialect::OpenAiStrict`] for `additionalProperties: false`, maps, free-form
    /// values, `allOf` and the root wrapper, but optional properties stay optional,
    /// recursive types are errors, `minimum`/`maximum`, `minLength`/`maxLength`,
    /// `minItems` above 1, `maxItems`, `uniqueItems`, `examples` and `default` become
    /// description text, `pattern` is kept unless it uses lookaround, backreferences or
    /// `\b`, and the formats are those of OpenAI plus `uri`.
    AnthropicStrict,
    /// Gemini `responseSchema` (OpenAPI 3.0 subset, the `Schema` object of the v1beta
    /// API): upper-case type names, every definition inlined (recursion is an error),
    /// `"nullable": true`, no maps, no free-form values, `const` as a one-string enum,
    /// `propertyOrdering` in declaration order, and counts (`minItems`, `maxLength`,
    /// ...) as int64 strings, the way the API describes them.
    GeminiResponseSchema,
    /// Gemini `responseJsonSchema` (JSON Schema subset): `$defs`/`$ref` (a described
    /// `$ref` is inlined as for [`Dialect::OpenAiStrict`]), maps, type arrays, no
    /// `$schema`, `propertyOrdering` in declaration order, and the keywords Gemini does
    /// not list (`pattern`, `minLength`, `maxLength`, `uniqueItems`, `minProperties`,
    /// `maxProperties`, `examples`, `default`) as description text. A recursive type must
    /// pass through a property that is not required.
    GeminiJsonSchema,
}

/// A schema that a dialect cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{dialect:?} cannot express `{path}`: {reason}")]
pub struct DialectError {
    /// The dialect that refused.
    pub dialect: Dialect,
    /// Path of the offending field in wire names (`items[].meta`), `<root>` for the root.
    /// Inside a wrapped root the path starts with `value`; inside a definition it is the
    /// path where the definition is first used.
    pub path: String,
    /// Why it cannot be expressed, and what to do instead.
    pub reason: String,
}

/// Renders `root` in `dialect`.
///
/// # Errors
///
/// A [`DialectError`] naming the first field the dialect cannot express (a map or a
/// free-form value in a strict dialect, a recursive type where recursion is not
/// supported, a schema beyond the dialect's size limits, ...).
pub fn render(root: &RootSchema, dialect: Dialect) -> Result<Value, DialectError> {
    render::render(root, policy::Policy::of(dialect))
}
