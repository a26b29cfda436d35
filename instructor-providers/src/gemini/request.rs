//! The `generateContent` request: the neutral request translated.
//!
//! - System messages (core's schema prompt included) become `systemInstruction`.
//! - Assistant turns are `model` contents; tool calls are `functionCall` parts (the
//!   thought signature the model gave goes back on the first one), tool answers are
//!   `functionResponse` parts in a `user` turn, named after the call they answer.
//! - Images and PDFs are `inlineData` (bytes) or `fileData` (a URL).
//! - `JsonSchema`: `responseMimeType: application/json` with `responseJsonSchema` (or
//!   `responseSchema`, [`SchemaField`]); `Tools`: one function declaration, calling
//!   forced with `functionCallingConfig` mode `ANY` and the allowed name; `Json`: JSON
//!   output without a schema; `MdJson`: the schema in the prompt only.
//!
//! Tools and JSON Schema output wrap a non-object root as `{"value": ...}` (core's one
//! rule, [`OutputSpec::wraps_root`]); Gemini's dialects render the root as is, so the
//! wrapper is added here.

use super::SchemaField;
use crate::openai::wire_name;
use crate::values::{decimal_f64, object_arguments};
use instructor_core::chat::{
    ChatRequest, ContentPart, Message, Mode, OutputSpec, ProviderError, Role,
};
use instructor_core::media::MediaSource;
use instructor_core::schema::{Dialect, RootSchema, rendered};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateContentRequest<'a> {
    contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<Value>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    generation_config: GenerationConfig<'a>,
}

#[derive(Debug, Serialize)]
struct Content<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    parts: Vec<Part<'a>>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inline_data: Option<Blob<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_data: Option<FileData<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_call: Option<FunctionCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_response: Option<FunctionResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought_signature: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Blob<'a> {
    mime_type: &'a str,
    data: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FileData<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    mime_type: Option<&'a str>,
    file_uri: &'a str,
}

#[derive(Debug, Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    args: &'a RawValue,
}

#[derive(Debug, Serialize)]
struct FunctionResponse<'a> {
    name: &'a str,
    response: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolGroup {
    function_declarations: Vec<FunctionDeclaration>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionDeclaration {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters_json_schema: Option<Value>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_schema: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_json_schema: Option<Value>,
}

impl GenerationConfig<'_> {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.max_output_tokens.is_none()
            && self.seed.is_none()
            && self.stop_sequences.is_empty()
            && self.response_mime_type.is_none()
    }
}

/// The wire request for `request`.
pub(crate) fn generate_content_request<'a>(
    request: &'a ChatRequest,
    schema_field: SchemaField,
) -> Result<GenerateContentRequest<'a>, ProviderError> {
    let mut system = Vec::new();
    let mut contents: Vec<Content<'a>> = Vec::new();
    // Tool answers name the function they answer; the calls say which.
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    for message in &request.messages {
        match message.role {
            Role::System => {
                for part in &message.content {
                    match part {
                        ContentPart::Text { text } if !text.is_empty() => system.push(Part {
                            text: Some(text),
                            ..Part::default()
                        }),
                        ContentPart::Text { .. } | ContentPart::CacheBreakpoint { .. } => {}
                        other => {
                            return Err(ProviderError::Unsupported(format!(
                                "a system message can only hold text for Gemini, not {}",
                                other.kind()
                            )));
                        }
                    }
                }
            }
            Role::User => push(&mut contents, "user", user_parts(message)?),
            Role::Assistant => {
                for call in &message.tool_calls {
                    call_names.insert(&call.id, &call.name);
                }
                push(&mut contents, "model", model_parts(message)?);
            }
            Role::Tool => {
                let id = message.tool_call_id.as_deref().ok_or_else(|| {
                    ProviderError::Unsupported(
                        "a tool message needs the id of the call it answers".into(),
                    )
                })?;
                let name = call_names.get(id).copied().ok_or_else(|| {
                    ProviderError::Unsupported(format!(
                        "the tool answer to `{id}` follows no call with that id (Gemini names the function answered)"
                    ))
                })?;
                let text = message.text_content();
                let key = if message.is_error { "error" } else { "result" };
                push(
                    &mut contents,
                    "user",
                    vec![Part {
                        function_response: Some(FunctionResponse {
                            name,
                            response: json!({ key: text }),
                        }),
                        ..Part::default()
                    }],
                );
            }
        }
    }
    let params = &request.params;
    let mut wire = GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(Content {
            role: None,
            parts: system,
        }),
        tools: Vec::new(),
        tool_config: None,
        generation_config: GenerationConfig {
            temperature: params.temperature.map(decimal_f64),
            top_p: params.top_p.map(decimal_f64),
            max_output_tokens: params.max_tokens,
            seed: params.seed,
            stop_sequences: &params.stop,
            ..GenerationConfig::default()
        },
    };
    if let Some(output) = &request.output {
        apply_output(&mut wire, output, schema_field)?;
    }
    Ok(wire)
}

fn push<'a>(contents: &mut Vec<Content<'a>>, role: &'static str, parts: Vec<Part<'a>>) {
    if parts.is_empty() {
        return;
    }
    match contents.last_mut() {
        Some(last) if last.role == Some(role) => last.parts.extend(parts),
        _ => contents.push(Content {
            role: Some(role),
            parts,
        }),
    }
}

fn media_part(source: &MediaSource) -> Result<Part<'_>, ProviderError> {
    match (source.as_base64(), source) {
        (Some((mime_type, data)), _) => Ok(Part {
            inline_data: Some(Blob { mime_type, data }),
            ..Part::default()
        }),
        (None, MediaSource::Url { url }) => Ok(Part {
            file_data: Some(FileData {
                mime_type: guess_type(url),
                file_uri: url,
            }),
            ..Part::default()
        }),
        (None, other) => Err(ProviderError::Unsupported(format!(
            "this media source cannot be sent to Gemini: {other:?}"
        ))),
    }
}

/// The MIME type Gemini wants with a file URI, from the URL's extension.
fn guess_type(url: &str) -> Option<&'static str> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    [
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".gif", "image/gif"),
        (".webp", "image/webp"),
        (".pdf", "application/pdf"),
    ]
    .iter()
    .find(|(extension, _)| path.ends_with(extension))
    .map(|(_, media_type)| *media_type)
}

fn user_parts(message: &Message) -> Result<Vec<Part<'_>>, ProviderError> {
    let mut parts = Vec::new();
    for part in &message.content {
        match part {
            ContentPart::Text { text } if !text.is_empty() => parts.push(Part {
                text: Some(text),
                ..Part::default()
            }),
            ContentPart::Image(image) => parts.push(media_part(&image.source)?),
            ContentPart::Document(document) => parts.push(media_part(&document.source)?),
            ContentPart::Text { .. }
            | ContentPart::CacheBreakpoint { .. }
            | ContentPart::Thinking { .. }
            | ContentPart::RedactedThinking { .. } => {}
            other => {
                return Err(ProviderError::Unsupported(format!(
                    "this content part cannot be sent to Gemini: {}",
                    other.kind()
                )));
            }
        }
    }
    Ok(parts)
}

fn model_parts(message: &Message) -> Result<Vec<Part<'_>>, ProviderError> {
    // The model's thought signature goes back on its first call (or first text).
    let mut signature = message.content.iter().find_map(|part| match part {
        ContentPart::Thinking {
            signature: Some(signature),
            ..
        } => Some(signature.as_str()),
        _ => None,
    });
    let mut parts = Vec::new();
    for part in &message.content {
        match part {
            ContentPart::Text { text } if !text.is_empty() => parts.push(Part {
                text: Some(text),
                ..Part::default()
            }),
            ContentPart::Image(_) | ContentPart::Document(_) => {
                return Err(ProviderError::Unsupported(
                    "images and documents can only be sent in user messages".into(),
                ));
            }
            _ => {}
        }
    }
    let mut calls = Vec::new();
    for call in &message.tool_calls {
        calls.push(Part {
            function_call: Some(FunctionCall {
                name: &call.name,
                args: object_arguments(&call.arguments),
            }),
            thought_signature: signature.take(),
            ..Part::default()
        });
    }
    if let (Some(signature), Some(first)) = (signature, parts.first_mut()) {
        first.thought_signature = Some(signature);
    }
    parts.extend(calls);
    Ok(parts)
}

/// `schema` rendered in `dialect`, wrapped as `{"value": ...}` when the spec says the
/// answer comes wrapped (the definitions move up to the wrapper).
fn schema_value(
    schema: &Arc<RootSchema>,
    dialect: Dialect,
    wrap: bool,
) -> Result<Value, ProviderError> {
    let rendered =
        rendered(schema, dialect).map_err(|error| ProviderError::Unsupported(error.to_string()))?;
    let mut value: Value = serde_json::from_str(rendered.as_str())
        .map_err(|error| ProviderError::Unsupported(format!("the schema: {error}")))?;
    if !wrap {
        return Ok(value);
    }
    let defs = value
        .as_object_mut()
        .and_then(|object| object.remove("$defs"));
    let property = instructor_core::schema::dialect::WRAPPED_ROOT_PROPERTY;
    let mut wrapper = Map::new();
    let object_type = if dialect == Dialect::GeminiResponseSchema {
        "OBJECT"
    } else {
        "object"
    };
    wrapper.insert("type".into(), json!(object_type));
    wrapper.insert("properties".into(), json!({ property: value }));
    wrapper.insert("required".into(), json!([property]));
    if dialect == Dialect::GeminiResponseSchema {
        wrapper.insert("propertyOrdering".into(), json!([property]));
    }
    if let Some(defs) = defs {
        wrapper.insert("$defs".into(), defs);
    }
    Ok(Value::Object(wrapper))
}

fn apply_output(
    wire: &mut GenerateContentRequest<'_>,
    output: &OutputSpec,
    schema_field: SchemaField,
) -> Result<(), ProviderError> {
    let wrap = output.wraps_root();
    let dialect = match schema_field {
        SchemaField::ResponseJsonSchema => Dialect::GeminiJsonSchema,
        SchemaField::ResponseSchema => Dialect::GeminiResponseSchema,
    };
    let declaration = |name: &str, description: Option<&str>, schema: &Arc<RootSchema>, wrap| {
        let schema = schema_value(schema, dialect, wrap)?;
        let (parameters, parameters_json_schema) = match schema_field {
            SchemaField::ResponseJsonSchema => (None, Some(schema)),
            SchemaField::ResponseSchema => (Some(schema), None),
        };
        Ok::<_, ProviderError>(FunctionDeclaration {
            name: wire_name(name),
            description: description.map(str::to_owned),
            parameters,
            parameters_json_schema,
        })
    };
    match output.mode {
        Mode::Tools => {
            let tool = declaration(
                &output.name,
                output.description.as_deref(),
                &output.schema,
                wrap,
            )?;
            wire.tool_config = Some(json!({"functionCallingConfig": {
                "mode": "ANY",
                "allowedFunctionNames": [tool.name],
            }}));
            wire.tools.push(ToolGroup {
                function_declarations: vec![tool],
            });
        }
        Mode::ParallelTools => {
            let mut declarations = Vec::new();
            if output.tools.is_empty() {
                declarations.push(declaration(
                    &output.name,
                    output.description.as_deref(),
                    &output.schema,
                    wrap,
                )?);
            }
            for spec in &output.tools {
                declarations.push(declaration(
                    &spec.name,
                    spec.description.as_deref(),
                    &spec.schema,
                    false,
                )?);
            }
            wire.tool_config = Some(json!({"functionCallingConfig": {"mode": "ANY"}}));
            wire.tools.push(ToolGroup {
                function_declarations: declarations,
            });
        }
        Mode::JsonSchema => {
            let schema = schema_value(&output.schema, dialect, wrap)?;
            let config = &mut wire.generation_config;
            config.response_mime_type = Some("application/json");
            match schema_field {
                SchemaField::ResponseJsonSchema => config.response_json_schema = Some(schema),
                SchemaField::ResponseSchema => config.response_schema = Some(schema),
            }
        }
        Mode::Json => wire.generation_config.response_mime_type = Some("application/json"),
        Mode::MdJson => {}
        other => {
            return Err(ProviderError::Unsupported(format!(
                "{other:?} is not offered by Gemini (no strict tools)"
            )));
        }
    }
    Ok(())
}
