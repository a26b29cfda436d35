//! What each dialect accepts. The renderer is shared; dialects differ only by the
//! [`Policy`] values chosen here, so every provider rule lives in this one file.

use super::Dialect;

/// Everything the renderer needs to know about one dialect.
#[derive(Debug, Clone, Copy)]
pub(super) struct Policy {
    pub dialect: Dialect,
    /// Emit `"$schema"` at the root.
    pub schema_keyword: bool,
    /// Whether the root must be an object.
    pub root: RootRule,
    /// How `$ref` is written.
    pub refs: RefRule,
    /// Whether a type may contain itself.
    pub recursion: Recursion,
    /// How `Option<T>` is written.
    pub nulls: NullStyle,
    /// `"string"` or `"STRING"`.
    pub type_case: TypeCase,
    /// How `additionalProperties` is written for objects with known properties.
    pub additional: AdditionalRule,
    /// Why maps (free-form keys) are refused, or `None` when they are written.
    pub maps_refused: Option<&'static str>,
    /// Every property listed in `required` (`Option` fields are nullable already).
    pub all_required: bool,
    /// Write `propertyOrdering` (Gemini reorders properties otherwise).
    pub property_ordering: bool,
    /// Why an object without properties is refused, or `None` when it is written.
    pub empty_objects_refused: Option<&'static str>,
    /// Why `serde_json::Value` (any value) is refused, or `None` when it is `{}`.
    pub any_refused: Option<&'static str>,
    /// `oneOf` is written as `anyOf`.
    pub one_of_as_any_of: bool,
    /// Why `allOf` is refused, or `None` when it is written as is.
    pub all_of_refused: Option<&'static str>,
    /// Which values an `enum` may hold.
    pub enum_values: EnumValues,
    /// `const` is written as a one-value `enum`.
    pub const_as_enum: bool,
    /// Enums carry `"format": "enum"` (the Gemini `Schema` object's convention).
    pub enum_format: bool,
    /// Keywords written as keywords; the others become description text.
    pub keywords: &'static [Keyword],
    /// `minItems` is only kept up to this value (Anthropic: 0 or 1).
    pub min_items_at_most: Option<u64>,
    /// `pattern` is only kept when it avoids lookaround, backreferences and `\b`.
    pub simple_patterns_only: bool,
    /// Which `format` values are kept.
    pub formats: Formats,
    /// Counts (`minItems`, `maxLength`, ...) are written as JSON strings (proto3 int64).
    pub counts_as_strings: bool,
    /// Size limits checked after rendering.
    pub limits: Option<Limits>,
}

/// Whether the root must be an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RootRule {
    AsIs,
    /// Non-object roots become `{"value": <root>}`.
    WrapNonObject,
}

/// How references are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefRule {
    /// `$ref` with annotations beside it (JSON Schema 2020-12 allows siblings).
    Keep,
    /// `$ref` alone: a described reference to a non-recursive definition is inlined
    /// with the description merged; a recursive one loses its annotations.
    KeepWithoutSiblings,
    /// No `$ref` at all: every definition is inlined.
    Inline,
}

/// Whether recursive types are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Recursion {
    Allowed,
    Refused(&'static str),
    /// Every cycle must pass through a property that is not required (Gemini
    /// `responseJsonSchema` unrolls cycles only there).
    ThroughOptionalOnly(&'static str),
}

/// How a nullable value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NullStyle {
    /// `"type": [t, "null"]` for scalars, `anyOf: [x, {"type": "null"}]` otherwise.
    TypeArrayOrAnyOf,
    /// `"nullable": true` (OpenAPI 3.0).
    NullableKeyword,
}

/// Spelling of type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeCase {
    Lower,
    Upper,
}

/// How `additionalProperties` is written (maps aside, see `Policy::maps_refused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AdditionalRule {
    /// As the IR says: omitted when allowed, `false` when denied.
    AsDeclared,
    /// Always `false`.
    AlwaysFalse,
    /// Never written: the dialect has no such keyword.
    Absent,
}

/// Which values an `enum` (or a `const` written as one) may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EnumValues {
    Any,
    /// Strings, numbers, booleans and null.
    Primitives,
    StringsAndNumbers,
    Strings,
}

/// Which `format` values are kept as keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Formats {
    All,
    Only(&'static [&'static str]),
}

/// Keywords that some dialects do not accept. The structural ones (`type`,
/// `properties`, `items`, ...) are handled by the other policy fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    Title,
    Examples,
    DefaultValue,
    MinLength,
    MaxLength,
    Pattern,
    Minimum,
    Maximum,
    MinItems,
    MaxItems,
    UniqueItems,
    MinProperties,
    MaxProperties,
    /// `not: {enum: [...]}` for excluded string values.
    Not,
    /// serde's `alias` names as extra, mutually exclusive properties. Only JSON Schema
    /// describes them: the model is shown one name per field.
    Aliases,
}

/// Size limits of a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    /// Objects nested inside each other, the root object counting as one.
    pub object_depth: usize,
    /// Properties over the whole schema, `$defs` included.
    pub total_properties: usize,
}

use Keyword::*;

const JSON_SCHEMA: Policy = Policy {
    dialect: Dialect::JsonSchema,
    schema_keyword: true,
    root: RootRule::AsIs,
    refs: RefRule::Keep,
    recursion: Recursion::Allowed,
    nulls: NullStyle::TypeArrayOrAnyOf,
    type_case: TypeCase::Lower,
    additional: AdditionalRule::AsDeclared,
    maps_refused: None,
    all_required: false,
    property_ordering: false,
    empty_objects_refused: None,
    any_refused: None,
    one_of_as_any_of: false,
    all_of_refused: None,
    enum_values: EnumValues::Any,
    const_as_enum: false,
    enum_format: false,
    keywords: &[
        Title,
        Examples,
        DefaultValue,
        MinLength,
        MaxLength,
        Pattern,
        Minimum,
        Maximum,
        MinItems,
        MaxItems,
        UniqueItems,
        MinProperties,
        MaxProperties,
        Not,
        Aliases,
    ],
    min_items_at_most: None,
    simple_patterns_only: false,
    formats: Formats::All,
    counts_as_strings: false,
    limits: None,
};

const MAP_STRICT: &str = "a map has free-form keys, but strict mode requires a fixed set of \
    keys (`additionalProperties: false` on every object); use a Vec of key/value structs \
    instead, e.g. `Vec<Entry>` with `struct Entry { key: String, value: V }`";

const ANY_STRICT: &str = "strict mode cannot express a free-form value (`serde_json::Value`): \
    every value needs a declared shape; give the field a concrete type, or use a Vec of \
    key/value structs for open-ended data";

/// Strict mode refuses `allOf`; with `additionalProperties: false` on every branch
/// an `allOf` of objects could not be satisfied anyway.
const ALL_OF_STRICT: &str = "strict mode does not support `allOf` (it comes from \
    `#[serde(flatten)]` of an enum): with `additionalProperties: false` on each part no \
    value could match; flatten a struct instead, or make the enum a named field";

// OpenAI strict structured outputs, from the "Supported schemas" section of
// https://platform.openai.com/docs/guides/structured-outputs and openai-python's
// `to_strict_json_schema` (see ../shared/reference/crates.md section 1).
const OPENAI_STRICT: Policy = Policy {
    dialect: Dialect::OpenAiStrict,
    schema_keyword: false,
    root: RootRule::WrapNonObject,
    refs: RefRule::KeepWithoutSiblings,
    recursion: Recursion::Allowed,
    nulls: NullStyle::TypeArrayOrAnyOf,
    type_case: TypeCase::Lower,
    additional: AdditionalRule::AlwaysFalse,
    maps_refused: Some(MAP_STRICT),
    all_required: true,
    property_ordering: false,
    empty_objects_refused: None,
    any_refused: Some(ANY_STRICT),
    one_of_as_any_of: true,
    all_of_refused: Some(ALL_OF_STRICT),
    enum_values: EnumValues::Primitives,
    const_as_enum: false,
    enum_format: false,
    keywords: &[Pattern, Minimum, Maximum, MinItems, MaxItems],
    min_items_at_most: None,
    simple_patterns_only: false,
    formats: Formats::Only(&[
        "date-time",
        "time",
        "date",
        "duration",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "uuid",
    ]),
    counts_as_strings: false,
    limits: Some(Limits {
        object_depth: 10,
        total_properties: 5000,
    }),
};

const ANTHROPIC_TOOL: Policy = Policy {
    dialect: Dialect::AnthropicTool,
    schema_keyword: false,
    root: RootRule::WrapNonObject,
    ..JSON_SCHEMA
};

// Anthropic structured outputs ("JSON Schema limitations" in
// https://platform.claude.com/docs/en/build-with-claude/structured-outputs) and the
// official SDK's `transform_schema` (anthropics/anthropic-sdk-python,
// src/anthropic/lib/_parse/_transform.py), which moves unsupported keywords into the
// description exactly as this policy does:
// - every object needs `additionalProperties: false`; recursive schemas are refused;
// - not supported: minimum/maximum/multipleOf, minLength/maxLength, minItems other
//   than 0 or 1, maxItems (also uniqueItems, min/maxProperties, examples, default:
//   the SDK moves every keyword it does not know into the description);
// - formats: date-time, time, date, duration, email, hostname, uri, ipv4, ipv6, uuid;
// - enum values must be primitives; `pattern` is supported without backreferences,
//   lookaround or `\b`;
// - `$ref` is kept alone (the SDK drops its siblings).
// Optional properties stay optional: all-required is not demanded, and the docs count
// optional parameters and unions against a per-request budget, so turning optional
// properties into nullable unions would only spend it.
const ANTHROPIC_STRICT: Policy = Policy {
    dialect: Dialect::AnthropicStrict,
    schema_keyword: false,
    root: RootRule::WrapNonObject,
    refs: RefRule::KeepWithoutSiblings,
    recursion: Recursion::Refused(
        "Anthropic structured outputs do not support recursive schemas; bound the depth \
         with distinct types, or use the non-strict AnthropicTool dialect",
    ),
    nulls: NullStyle::TypeArrayOrAnyOf,
    type_case: TypeCase::Lower,
    additional: AdditionalRule::AlwaysFalse,
    maps_refused: Some(MAP_STRICT),
    all_required: false,
    property_ordering: false,
    empty_objects_refused: None,
    any_refused: Some(ANY_STRICT),
    one_of_as_any_of: true,
    all_of_refused: Some(ALL_OF_STRICT),
    enum_values: EnumValues::Primitives,
    const_as_enum: false,
    enum_format: false,
    keywords: &[Title, Pattern, MinItems],
    min_items_at_most: Some(1),
    simple_patterns_only: true,
    formats: Formats::Only(&[
        "date-time",
        "time",
        "date",
        "duration",
        "email",
        "hostname",
        "uri",
        "ipv4",
        "ipv6",
        "uuid",
    ]),
    counts_as_strings: false,
    limits: None,
};

// Gemini `responseSchema`: the `Schema` object of the v1beta discovery document
// (../shared/data/specs/gemini-v1beta.discovery.json). Its `type` enum is upper-case
// (`STRING`, `OBJECT`, ...); the counts (`minItems`, `maxLength`, ...) are `int64`,
// which the discovery document types as `"type": "string"`: proto3 JSON writes int64
// as a decimal string and reads either form, so the string is both what the document
// describes and what Google's own encoders send. There is no `$ref`,
// `additionalProperties`, `allOf` or `const`; bounds (`minimum`, `maximum`) are doubles.
// Objects without properties are refused by the API ("properties: should be
// non-empty for OBJECT type", browser-use/browser-use#3786).
const GEMINI_RESPONSE_SCHEMA: Policy = Policy {
    dialect: Dialect::GeminiResponseSchema,
    schema_keyword: false,
    root: RootRule::AsIs,
    refs: RefRule::Inline,
    recursion: Recursion::Refused(
        "Gemini responseSchema has no `$ref`, so a type that contains itself cannot be \
         inlined; use the GeminiJsonSchema dialect (responseJsonSchema) or bound the depth",
    ),
    nulls: NullStyle::NullableKeyword,
    type_case: TypeCase::Upper,
    additional: AdditionalRule::Absent,
    maps_refused: Some(
        "a map has free-form keys, but Gemini responseSchema has no `additionalProperties`; \
         use a Vec of key/value structs (e.g. `Vec<Entry>` with `struct Entry { key: String, \
         value: V }`), or the GeminiJsonSchema dialect",
    ),
    all_required: false,
    property_ordering: true,
    empty_objects_refused: Some(
        "Gemini responseSchema rejects an object without properties (\"properties: should \
         be non-empty for OBJECT type\"); add a field, or use a unit or bool instead",
    ),
    any_refused: Some(
        "a free-form value (`serde_json::Value`) has no type, but Gemini responseSchema \
         needs one for every value; give the field a concrete type, or use the \
         GeminiJsonSchema dialect",
    ),
    one_of_as_any_of: true,
    all_of_refused: Some(
        "Gemini responseSchema has no `allOf` (it comes from `#[serde(flatten)]` of an \
         enum); flatten a struct instead, or make the enum a named field",
    ),
    enum_values: EnumValues::Strings,
    const_as_enum: true,
    enum_format: true,
    keywords: &[
        Title,
        MinLength,
        MaxLength,
        Pattern,
        Minimum,
        Maximum,
        MinItems,
        MaxItems,
        MinProperties,
        MaxProperties,
    ],
    min_items_at_most: None,
    simple_patterns_only: false,
    formats: Formats::Only(&["date-time"]),
    counts_as_strings: true,
    limits: None,
};

// Gemini `responseJsonSchema`: the keyword list in the description of
// `GenerationConfig._responseJsonSchema` in the v1beta discovery document: `$id`,
// `$defs`, `$ref`, `$anchor`, `type`, `format`, `title`, `description`, `enum` (for
// strings and numbers), `items`, `prefixItems`, `minItems`, `maxItems`, `minimum`,
// `maximum`, `anyOf`, `oneOf` (read as `anyOf`), `properties`, `additionalProperties`,
// `required`, plus `propertyOrdering`. A `$ref` may have no sibling except `$`-keywords,
// and cycles are unrolled only through properties that are not required.
const GEMINI_JSON_SCHEMA: Policy = Policy {
    dialect: Dialect::GeminiJsonSchema,
    schema_keyword: false,
    root: RootRule::AsIs,
    refs: RefRule::KeepWithoutSiblings,
    recursion: Recursion::ThroughOptionalOnly(
        "Gemini responseJsonSchema unrolls a recursive reference only below a property that \
         is not required (a nullable one is not enough); make a field on the cycle optional \
         (`Option<T>` with `#[serde(default)]`)",
    ),
    nulls: NullStyle::TypeArrayOrAnyOf,
    type_case: TypeCase::Lower,
    additional: AdditionalRule::AsDeclared,
    maps_refused: None,
    all_required: false,
    property_ordering: true,
    empty_objects_refused: None,
    any_refused: None,
    one_of_as_any_of: true,
    all_of_refused: Some(
        "Gemini responseJsonSchema does not support `allOf` (it comes from \
         `#[serde(flatten)]` of an enum); flatten a struct instead, or make the enum a \
         named field",
    ),
    enum_values: EnumValues::StringsAndNumbers,
    const_as_enum: true,
    enum_format: false,
    keywords: &[Title, Minimum, Maximum, MinItems, MaxItems],
    min_items_at_most: None,
    simple_patterns_only: false,
    formats: Formats::All,
    counts_as_strings: false,
    limits: None,
};

impl Policy {
    /// The policy of `dialect`.
    pub(super) fn of(dialect: Dialect) -> &'static Policy {
        match dialect {
            Dialect::JsonSchema => &JSON_SCHEMA,
            Dialect::OpenAiStrict => &OPENAI_STRICT,
            Dialect::AnthropicTool => &ANTHROPIC_TOOL,
            Dialect::AnthropicStrict => &ANTHROPIC_STRICT,
            Dialect::GeminiResponseSchema => &GEMINI_RESPONSE_SCHEMA,
            Dialect::GeminiJsonSchema => &GEMINI_JSON_SCHEMA,
        }
    }

    /// Whether `keyword` is written as a keyword (otherwise it becomes text).
    pub(super) fn keeps(&self, keyword: Keyword) -> bool {
        self.keywords.contains(&keyword)
    }

    /// Whether `format` is written as a keyword.
    pub(super) fn keeps_format(&self, format: &str) -> bool {
        match self.formats {
            Formats::All => true,
            Formats::Only(allowed) => allowed.contains(&format),
        }
    }

    /// Whether `pattern` is written as a keyword (otherwise it becomes text).
    pub(super) fn keeps_pattern(&self, pattern: &str) -> bool {
        self.keeps(Keyword::Pattern) && (!self.simple_patterns_only || is_simple_pattern(pattern))
    }

    /// A type name in this dialect's spelling.
    pub(super) fn type_name(&self, name: &'static str) -> &'static str {
        match (self.type_case, name) {
            (TypeCase::Lower, _) => name,
            (TypeCase::Upper, "string") => "STRING",
            (TypeCase::Upper, "number") => "NUMBER",
            (TypeCase::Upper, "integer") => "INTEGER",
            (TypeCase::Upper, "boolean") => "BOOLEAN",
            (TypeCase::Upper, "array") => "ARRAY",
            (TypeCase::Upper, "object") => "OBJECT",
            (TypeCase::Upper, "null") => "NULL",
            (TypeCase::Upper, other) => other,
        }
    }
}

/// Whether a regular expression avoids what Anthropic's constrained decoding cannot
/// compile: lookaround, backreferences and word boundaries.
fn is_simple_pattern(pattern: &str) -> bool {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some('1'..='9' | 'b' | 'B' | 'k') = chars.next() {
                    return false;
                }
            }
            '(' if chars.peek() == Some(&'?') => {
                chars.next();
                match chars.next() {
                    Some('=' | '!') => return false,
                    Some('<') if matches!(chars.peek(), Some('=' | '!')) => return false,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_simple_pattern;

    #[test]
    fn simple_patterns_have_no_lookaround_backreference_or_boundary() {
        assert!(is_simple_pattern("^[a-z]{2,3}-\\d+$"));
        assert!(is_simple_pattern("^(?:ab)+$"));
        assert!(is_simple_pattern("\\\\b"));
        assert!(!is_simple_pattern("^(?=a)"));
        assert!(!is_simple_pattern("(?<!x)y"));
        assert!(!is_simple_pattern("(a)\\1"));
        assert!(!is_simple_pattern("\\bword\\b"));
    }
}
