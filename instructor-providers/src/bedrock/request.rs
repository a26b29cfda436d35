//! The Converse request: the neutral request translated, borrowing from it.
//!
//! - System messages are hoisted, in order, into the top-level `system` blocks.
//! - Tool answers become `toolResult` blocks in a user turn (`status: "error"` for a
//!   re-ask, where the family takes a status); consecutive turns of one role are merged,
//!   as the API wants them alternating.
//! - Images and documents go as bytes (base64 in the JSON): Converse fetches no URL.
//! - A [`ContentPart::CacheBreakpoint`] becomes a `cachePoint` block after the block it
//!   closes, for the families that cache (Anthropic, Nova); the others ignore it.
//! - The mode shapes `toolConfig`; see [`ModelFamily`] for how each family is made to
//!   call the tool.

use super::ModelFamily;
use crate::openai::wire_name;
use crate::values::{decimal_f64, object_arguments};
use instructor_core::chat::{
    ChatRequest, ContentPart, Message, Mode, OutputSpec, ProviderError, Role,
};
use instructor_core::media::MediaSource;
use instructor_core::schema::{Dialect, RenderedSchema, RootSchema, rendered};
use serde::Serialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::Arc;

/// The most cache points one request may carry (Bedrock's limit for Claude).
pub const MAX_CACHE_POINTS: usize = 4;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConverseRequest<'a> {
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<SystemBlock<'a>>,
    inference_config: InferenceConfig<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceConfig<'a> {
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
}

#[derive(Debug, Serialize)]
struct Turn<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

/// A content block: a union, one member set.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum Block<'a> {
    Text(Cow<'a, str>),
    Image(ImageBlock<'a>),
    Document(DocumentBlock<'a>),
    ToolUse(ToolUseBlock<'a>),
    ToolResult(ToolResultBlock<'a>),
    ReasoningContent(ReasoningBlock<'a>),
    CachePoint(CachePoint),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum SystemBlock<'a> {
    Text(Cow<'a, str>),
    CachePoint(CachePoint),
}

#[derive(Debug, Serialize)]
struct ImageBlock<'a> {
    format: &'static str,
    source: BytesSource<'a>,
}

#[derive(Debug, Serialize)]
struct DocumentBlock<'a> {
    format: &'static str,
    name: String,
    source: BytesSource<'a>,
}

/// `{"bytes": "<base64>"}`: a blob is base64 in Converse's JSON.
#[derive(Debug, Serialize)]
struct BytesSource<'a> {
    bytes: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseBlock<'a> {
    tool_use_id: &'a str,
    name: &'a str,
    input: &'a RawValue,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolResultBlock<'a> {
    tool_use_id: &'a str,
    content: Vec<ToolResultContent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum ToolResultContent<'a> {
    Text(Cow<'a, str>),
    Image(ImageBlock<'a>),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum ReasoningBlock<'a> {
    ReasoningText {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        signature: Option<&'a str>,
    },
    RedactedContent(&'a str),
}

#[derive(Debug, Clone, Copy, Serialize)]
struct CachePoint {
    #[serde(rename = "type")]
    kind: &'static str,
}

const CACHE_POINT: CachePoint = CachePoint { kind: "default" };

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig<'a> {
    tools: Vec<ToolEntry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolEntry<'a> {
    tool_spec: ToolSpecWire<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolSpecWire<'a> {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    input_schema: InputSchema,
}

#[derive(Debug, Serialize)]
struct InputSchema {
    json: Arc<RenderedSchema>,
}

#[derive(Debug, Serialize)]
struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum ToolChoice<'a> {
    Auto(Empty),
    Any(Empty),
    Tool { name: Cow<'a, str> },
}

/// The wire request for `request` to a model of `family`.
pub(crate) fn converse_request<'a>(
    request: &'a ChatRequest,
    family: ModelFamily,
    default_max_tokens: u32,
) -> Result<ConverseRequest<'a>, ProviderError> {
    let mut builder = Builder {
        family,
        system: Vec::new(),
        turns: Vec::new(),
        cache_points: 0,
        last_in_system: false,
    };
    for message in &request.messages {
        builder.message(message)?;
    }
    if builder.cache_points > MAX_CACHE_POINTS {
        return Err(ProviderError::Unsupported(format!(
            "{} cache breakpoints; Bedrock takes at most {MAX_CACHE_POINTS} per request",
            builder.cache_points
        )));
    }
    let Builder {
        mut system, turns, ..
    } = builder;
    let params = &request.params;
    let mut tool_config = None;
    if let Some(output) = &request.output {
        family
            .capabilities()
            .check(output.mode)
            .map_err(ProviderError::Unsupported)?;
        let (config, instruction) = tool_config_for(output, family)?;
        tool_config = config;
        if let Some(instruction) = instruction {
            system.push(SystemBlock::Text(Cow::Owned(instruction)));
        }
    }
    if tool_config.is_none() && turns.iter().any(Turn::has_tool_blocks) {
        // Bedrock refuses tool blocks in a conversation without a tool config.
        return Err(ProviderError::Unsupported(
            "tool calls and results in the conversation need a tool mode on Bedrock".into(),
        ));
    }
    Ok(ConverseRequest {
        messages: turns,
        system,
        inference_config: InferenceConfig {
            max_tokens: params.max_tokens.unwrap_or(default_max_tokens),
            temperature: params.temperature.map(decimal_f64),
            top_p: params.top_p.map(decimal_f64),
            stop_sequences: &params.stop,
        },
        tool_config,
    })
}

/// The tool config of a mode, and an instruction for the system blocks where the
/// family cannot be forced to call the tool.
fn tool_config_for<'a>(
    output: &'a OutputSpec,
    family: ModelFamily,
) -> Result<(Option<ToolConfig<'a>>, Option<String>), ProviderError> {
    let render = |schema: &Arc<RootSchema>| {
        rendered(schema, Dialect::AnthropicTool)
            .map_err(|error| ProviderError::Unsupported(error.to_string()))
    };
    let tool = |name: String, description: Option<&'a str>, schema| ToolEntry {
        tool_spec: ToolSpecWire {
            name,
            description,
            input_schema: InputSchema { json: schema },
        },
    };
    match output.mode {
        Mode::Tools => {
            let name = wire_name(&output.name);
            let tools = vec![tool(
                name.clone(),
                output.description.as_deref(),
                render(&output.schema)?,
            )];
            let (choice, instruction) = match family {
                ModelFamily::Anthropic | ModelFamily::Nova => (
                    ToolChoice::Tool {
                        name: Cow::Owned(name),
                    },
                    None,
                ),
                // One tool offered: `any` forces that one.
                ModelFamily::Mistral => (ToolChoice::Any(Empty {}), None),
                ModelFamily::Llama | ModelFamily::Other => (
                    ToolChoice::Auto(Empty {}),
                    Some(format!(
                        "Answer by calling the `{name}` tool exactly once, with the complete answer as its input."
                    )),
                ),
            };
            Ok((
                Some(ToolConfig {
                    tools,
                    tool_choice: Some(choice),
                }),
                instruction,
            ))
        }
        Mode::ParallelTools => {
            let mut tools = Vec::new();
            if output.tools.is_empty() {
                tools.push(tool(
                    wire_name(&output.name),
                    output.description.as_deref(),
                    render(&output.schema)?,
                ));
            }
            for spec in &output.tools {
                tools.push(tool(
                    wire_name(&spec.name),
                    spec.description.as_deref(),
                    render(&spec.schema)?,
                ));
            }
            Ok((
                Some(ToolConfig {
                    tools,
                    tool_choice: Some(ToolChoice::Any(Empty {})),
                }),
                None,
            ))
        }
        // The schema is in the system blocks (core put it there); the answer is read
        // leniently from the text.
        Mode::Json | Mode::MdJson => Ok((None, None)),
        other => Err(ProviderError::Unsupported(format!(
            "{other:?} is not implemented by the Bedrock client"
        ))),
    }
}

impl Turn<'_> {
    fn has_tool_blocks(&self) -> bool {
        self.content
            .iter()
            .any(|block| matches!(block, Block::ToolUse(_) | Block::ToolResult(_)))
    }
}

/// Builds the system blocks and the alternating turns.
struct Builder<'a> {
    family: ModelFamily,
    system: Vec<SystemBlock<'a>>,
    turns: Vec<Turn<'a>>,
    cache_points: usize,
    /// Whether the last block pushed went to `system`.
    last_in_system: bool,
}

impl<'a> Builder<'a> {
    fn message(&mut self, message: &'a Message) -> Result<(), ProviderError> {
        match message.role {
            Role::System => {
                for part in &message.content {
                    match part {
                        ContentPart::Text { text } if text.is_empty() => {}
                        ContentPart::Text { text } => {
                            self.system.push(SystemBlock::Text(Cow::Borrowed(text)));
                            self.last_in_system = true;
                        }
                        ContentPart::CacheBreakpoint { .. } => self.cache_point()?,
                        other => {
                            return Err(ProviderError::Unsupported(format!(
                                "a system message can only hold text for Bedrock, not {}",
                                other.kind()
                            )));
                        }
                    }
                }
                Ok(())
            }
            Role::User | Role::Assistant => {
                for part in &message.content {
                    self.part(message.role, part)?;
                }
                if message.role == Role::Assistant {
                    for call in &message.tool_calls {
                        self.push(
                            "assistant",
                            Block::ToolUse(ToolUseBlock {
                                tool_use_id: &call.id,
                                name: &call.name,
                                input: object_arguments(&call.arguments),
                            }),
                        );
                    }
                }
                Ok(())
            }
            Role::Tool => {
                let id = message.tool_call_id.as_deref().ok_or_else(|| {
                    ProviderError::Unsupported(
                        "a tool message needs the id of the call it answers".into(),
                    )
                })?;
                let mut content = Vec::new();
                for part in &message.content {
                    match part {
                        ContentPart::Text { text } if text.is_empty() => {}
                        ContentPart::Text { text } => {
                            content.push(ToolResultContent::Text(Cow::Borrowed(text)));
                        }
                        ContentPart::Image(image) => {
                            content.push(ToolResultContent::Image(image_block(&image.source)?));
                        }
                        ContentPart::CacheBreakpoint { .. } => {}
                        other => {
                            return Err(ProviderError::Unsupported(format!(
                                "a tool result cannot hold {} for Bedrock",
                                other.kind()
                            )));
                        }
                    }
                }
                if content.is_empty() {
                    content.push(ToolResultContent::Text(Cow::Borrowed("(empty)")));
                }
                // `status` is taken by Claude and Nova; the others read the error text.
                let status =
                    (message.is_error && self.family.takes_tool_status()).then_some("error");
                self.push(
                    "user",
                    Block::ToolResult(ToolResultBlock {
                        tool_use_id: id,
                        content,
                        status,
                    }),
                );
                Ok(())
            }
        }
    }

    fn part(&mut self, role: Role, part: &'a ContentPart) -> Result<(), ProviderError> {
        let wire_role = if role == Role::User {
            "user"
        } else {
            "assistant"
        };
        let block = match part {
            // The API refuses empty text blocks.
            ContentPart::Text { text } if text.is_empty() => return Ok(()),
            ContentPart::Text { text } => Block::Text(Cow::Borrowed(text)),
            ContentPart::Image(image) if role == Role::User => {
                Block::Image(image_block(&image.source)?)
            }
            ContentPart::Document(document) if role == Role::User => {
                let (media_type, data) = bytes_of(&document.source, "a document")?;
                let format = document_format(media_type).ok_or_else(|| {
                    ProviderError::Unsupported(format!(
                        "Bedrock takes no `{media_type}` document (pdf, csv, doc, docx, xls, xlsx, html, txt, md)"
                    ))
                })?;
                let index = self.documents() + 1;
                Block::Document(DocumentBlock {
                    format,
                    name: document_name(document.title.as_deref(), index),
                    source: BytesSource { bytes: data },
                })
            }
            ContentPart::Image(_) | ContentPart::Document(_) => {
                return Err(ProviderError::Unsupported(
                    "images and documents can only be sent in user messages".into(),
                ));
            }
            ContentPart::Thinking {
                thinking,
                signature,
            } if role == Role::Assistant && self.family == ModelFamily::Anthropic => {
                Block::ReasoningContent(ReasoningBlock::ReasoningText {
                    text: thinking,
                    signature: signature.as_deref(),
                })
            }
            ContentPart::RedactedThinking { data }
                if role == Role::Assistant && self.family == ModelFamily::Anthropic =>
            {
                Block::ReasoningContent(ReasoningBlock::RedactedContent(data))
            }
            ContentPart::Thinking { .. } | ContentPart::RedactedThinking { .. } => return Ok(()),
            ContentPart::CacheBreakpoint { .. } => return self.cache_point(),
            other => {
                return Err(ProviderError::Unsupported(format!(
                    "this content part cannot be sent to Bedrock: {}",
                    other.kind()
                )));
            }
        };
        self.push(wire_role, block);
        Ok(())
    }

    fn documents(&self) -> usize {
        self.turns
            .iter()
            .flat_map(|turn| &turn.content)
            .filter(|block| matches!(block, Block::Document(_)))
            .count()
    }

    /// Adds `block` to the last turn when it is `role`'s, else starts a turn.
    fn push(&mut self, role: &'static str, block: Block<'a>) {
        self.last_in_system = false;
        match self.turns.last_mut() {
            Some(turn) if turn.role == role => turn.content.push(block),
            _ => self.turns.push(Turn {
                role,
                content: vec![block],
            }),
        }
    }

    /// A `cachePoint` after the block before (families without prompt caching: none).
    fn cache_point(&mut self) -> Result<(), ProviderError> {
        if !self.family.caches() {
            return Ok(());
        }
        if self.last_in_system {
            if matches!(self.system.last(), Some(SystemBlock::CachePoint(_))) {
                return Ok(());
            }
            self.system.push(SystemBlock::CachePoint(CACHE_POINT));
        } else {
            let Some(turn) = self.turns.last_mut() else {
                return Err(ProviderError::Unsupported(
                    "a cache breakpoint must follow the text, image or document it closes".into(),
                ));
            };
            if matches!(turn.content.last(), Some(Block::CachePoint(_))) {
                return Ok(());
            }
            turn.content.push(Block::CachePoint(CACHE_POINT));
        }
        self.cache_points += 1;
        Ok(())
    }
}

/// The bytes of a source as base64, with their MIME type: Converse fetches no URL.
fn bytes_of<'s>(source: &'s MediaSource, what: &str) -> Result<(&'s str, &'s str), ProviderError> {
    source.as_base64().ok_or_else(|| {
        ProviderError::Unsupported(format!(
            "Bedrock takes {what} as bytes, not as a URL to fetch (load it with `from_file` or `from_bytes`)"
        ))
    })
}

fn image_block(source: &MediaSource) -> Result<ImageBlock<'_>, ProviderError> {
    let (media_type, data) = bytes_of(source, "an image")?;
    let format = match media_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => {
            return Err(ProviderError::Unsupported(format!(
                "Bedrock takes png, jpeg, gif and webp images, not `{other}`"
            )));
        }
    };
    Ok(ImageBlock {
        format,
        source: BytesSource { bytes: data },
    })
}

fn document_format(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "text/html" => "html",
        "text/plain" => "txt",
        "text/markdown" => "md",
        _ => return None,
    })
}

/// A document's name as Converse takes it: letters, digits, single spaces, hyphens,
/// parentheses and square brackets, at most 200 characters.
fn document_name(title: Option<&str>, index: usize) -> String {
    let mut name = String::new();
    for c in title.unwrap_or_default().chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']') {
            c
        } else {
            ' '
        };
        if c == ' ' && (name.is_empty() || name.ends_with(' ')) {
            continue;
        }
        name.push(c);
        if name.len() >= 200 {
            break;
        }
    }
    let name = name.trim_end().to_owned();
    if name.is_empty() {
        format!("document-{index}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_keep_only_what_converse_takes() {
        assert_eq!(
            document_name(Some("Q3 report: final.pdf"), 1),
            "Q3 report final pdf"
        );
        assert_eq!(document_name(Some("  ***  "), 2), "document-2");
        assert_eq!(document_name(None, 3), "document-3");
    }
}
