//! Wire structs of the Chat Completions API: the request we build and the responses and
//! chunks we read.
//!
//! Requests are checked strictly (tests validate them against the OpenAPI document);
//! responses are read leniently: every field may be absent or `null`, unknown fields are
//! ignored, and `content` may be a string or an array of parts (Mistral and some local
//! servers send parts), of which only text parts are read.

use instructor_core::schema::RenderedSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// `POST /chat/completions` body.
#[derive(Debug, Serialize)]
pub(crate) struct ChatCompletionRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<RequestMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<i64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) stop: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
}

/// One message; `content` is a string, an array of parts, or absent (an assistant
/// message with tool calls only).
#[derive(Debug, Serialize)]
pub(crate) struct RequestMessage<'a> {
    pub(crate) role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<RequestContent<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tool_calls: Vec<RequestToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_call_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum RequestContent<'a> {
    Text(&'a str),
    Parts(Vec<RequestPart<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum RequestPart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl },
    File { file: FileData },
}

#[derive(Debug, Serialize)]
pub(crate) struct ImageUrl {
    pub(crate) url: String,
}

/// A file sent inline (`file_data` is a `data:` URL, as OpenAI reads it).
#[derive(Debug, Serialize)]
pub(crate) struct FileData {
    pub(crate) filename: String,
    pub(crate) file_data: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RequestToolCall<'a> {
    pub(crate) id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: RequestFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RequestFunctionCall<'a> {
    pub(crate) name: &'a str,
    pub(crate) arguments: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: FunctionDefinition<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FunctionDefinition<'a> {
    pub(crate) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    /// Rendered once per schema and dialect, embedded as is.
    pub(crate) parameters: Arc<RenderedSchema>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ToolChoice<'a> {
    /// `"auto"`, `"none"`, `"required"`.
    Mode(&'static str),
    /// `{"type": "function", "function": {"name": ...}}`.
    Named {
        #[serde(rename = "type")]
        kind: &'static str,
        function: NamedFunction<'a>,
    },
}

#[derive(Debug, Serialize)]
pub(crate) struct NamedFunction<'a> {
    pub(crate) name: Cow<'a, str>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ResponseFormat<'a> {
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat<'a> },
}

#[derive(Debug, Serialize)]
pub(crate) struct JsonSchemaFormat<'a> {
    pub(crate) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    pub(crate) schema: Arc<RenderedSchema>,
    pub(crate) strict: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
}

/// Deserializes `null` (and absence, with `#[serde(default)]`) as the default value.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A non-streamed answer.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChatCompletion {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) choices: Vec<Choice>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
    /// Some servers answer 200 with an error object instead of a completion.
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Choice {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) index: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) message: ResponseMessage,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseMessage {
    #[serde(default)]
    pub(crate) content: Option<Value>,
    #[serde(default)]
    pub(crate) refusal: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) tool_calls: Vec<ResponseToolCall>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseToolCall {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) function: ResponseFunction,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseFunction {
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// A JSON string per the spec; some servers send the arguments as an object.
    #[serde(default)]
    pub(crate) arguments: Option<Value>,
}

/// A token count read leniently: a count past `u64::MAX` (or a float) saturates, and a
/// negative or non-numeric one counts as absent (0), rather than making the whole answer
/// unreadable for the sake of its bookkeeping.
fn count<'de, D>(deserializer: D) -> Result<u64, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::Number(number)) => number.as_u64().unwrap_or_else(|| {
            // `as` saturates: 1e30 is u64::MAX, a negative or NaN is 0.
            number.as_f64().map_or(0, |float| float as u64)
        }),
        _ => 0,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "count")]
    pub(crate) prompt_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub(crate) completion_tokens: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) prompt_tokens_details: TokenDetails,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) completion_tokens_details: TokenDetails,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenDetails {
    #[serde(default, deserialize_with = "count")]
    pub(crate) cached_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub(crate) reasoning_tokens: u64,
}

/// The text of a `content` value: a string, or the `text` of the text parts of an array
/// (other part types, such as `thinking`, are skipped).
pub(crate) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            let mut any = false;
            for part in parts {
                let is_text = part
                    .get("type")
                    .and_then(Value::as_str)
                    .is_none_or(|kind| kind == "text");
                if let (true, Some(piece)) = (is_text, part.get("text").and_then(Value::as_str)) {
                    text.push_str(piece);
                    any = true;
                }
            }
            any.then_some(text)
        }
        _ => None,
    }
}

/// [`content_text`] of an owned value: a string is moved, not copied.
pub(crate) fn into_content_text(content: Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text),
        other => content_text(&other),
    }
}

/// [`arguments_text`] of an owned value: a string is moved, not copied.
pub(crate) fn into_arguments_text(arguments: Option<Value>) -> String {
    match arguments {
        Some(Value::String(text)) => text,
        other => arguments_text(other.as_ref()),
    }
}

/// The arguments as JSON text: a string as is, an object or array serialized.
pub(crate) fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Merges `extra` into the top level of `body` (extra wins).
pub(crate) fn merge_extra(body: &mut Value, extra: &Map<String, Value>) {
    if let Value::Object(map) = body {
        for (key, value) in extra {
            map.insert(key.clone(), value.clone());
        }
    }
}
