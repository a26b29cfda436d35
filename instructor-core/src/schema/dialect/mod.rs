//! Rendering the schema IR into each provider's dialect.

use super::RootSchema;
use serde_json::Value;

/// A schema dialect: the flavour of JSON Schema one provider endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// JSON Schema 2020-12, exactly what serde accepts.
    JsonSchema,
    /// OpenAI strict structured outputs (`strict: true` tools and `json_schema` response format).
    OpenAiStrict,
    /// Anthropic tool `input_schema` (non-strict).
    AnthropicTool,
    /// Anthropic structured outputs (`output_format` json_schema, strict tools).
    AnthropicStrict,
    /// Gemini `responseSchema` (OpenAPI 3.0 subset).
    GeminiResponseSchema,
    /// Gemini `responseJsonSchema` (JSON Schema subset).
    GeminiJsonSchema,
}

/// A schema that a dialect cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{dialect:?} cannot express `{path}`: {reason}")]
pub struct DialectError {
    /// The dialect that refused.
    pub dialect: Dialect,
    /// Path of the offending field in wire names (`items[].meta`), `<root>` for the root.
    pub path: String,
    /// Why it cannot be expressed, and what to do instead.
    pub reason: String,
}

/// Renders `root` in `dialect`.
pub fn render(_root: &RootSchema, _dialect: Dialect) -> Result<Value, DialectError> {
    Ok(Value::Null)
}
