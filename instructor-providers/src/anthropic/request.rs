//! The Messages request: the neutral request translated, borrowing from it.
//!
//! - System messages (wherever they are, core's schema prompt included) are hoisted, in
//!   order, into the top-level `system` blocks.
//! - Tool answers become `tool_result` blocks in a user turn (`is_error` for a
//!   re-ask); consecutive turns of one role are merged, as the API wants them
//!   alternating.
//! - A [`ContentPart::CacheBreakpoint`] puts `cache_control` on the block before it.
//! - The mode shapes `tools`, `tool_choice` and `output_config`; with extended thinking
//!   on, a tool cannot be forced, so the tool modes use `tool_choice: auto` and an
//!   instruction to call the tool.

use super::{AnthropicConfig, Thinking};
use crate::openai::wire_name;
use crate::values::{decimal_f64, object_arguments};
use instructor_core::chat::{ChatRequest, ContentPart, Mode, OutputSpec, ProviderError, Role};
use instructor_core::media::{CacheTtl, MediaSource};
use instructor_core::schema::{Dialect, RenderedSchema, RootSchema, rendered};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// The most cache breakpoints one request may carry (Anthropic's limit).
pub const MAX_CACHE_BREAKPOINTS: usize = 4;

#[derive(Debug, Serialize)]
pub(crate) struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<Block<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<OutputConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<ThinkingConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Turn<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Image {
        source: Source<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Document {
        source: Source<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: Vec<Block<'a>>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
}

impl Block<'_> {
    /// The block's `cache_control`, where it can carry one.
    fn cache_control(&mut self) -> Option<&mut Option<CacheControl>> {
        match self {
            Block::Text { cache_control, .. }
            | Block::Image { cache_control, .. }
            | Block::Document { cache_control, .. }
            | Block::ToolUse { cache_control, .. }
            | Block::ToolResult { cache_control, .. } => Some(cache_control),
            Block::Thinking { .. } | Block::RedactedThinking { .. } => None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Source<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
}

#[derive(Debug, Clone, Copy, Serialize)]
struct CacheControl {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<&'static str>,
}

impl CacheControl {
    fn new(ttl: CacheTtl) -> Self {
        CacheControl {
            kind: "ephemeral",
            ttl: match ttl {
                CacheTtl::OneHour => Some("1h"),
                _ => None,
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct Tool<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    input_schema: Arc<RenderedSchema>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToolChoice<'a> {
    Auto,
    Any,
    Tool {
        name: Cow<'a, str>,
        disable_parallel_tool_use: bool,
    },
}

#[derive(Debug, Serialize)]
struct OutputConfig {
    format: JsonOutputFormat,
}

#[derive(Debug, Serialize)]
struct JsonOutputFormat {
    #[serde(rename = "type")]
    kind: &'static str,
    schema: Arc<RenderedSchema>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ThinkingConfig {
    Enabled { budget_tokens: u32 },
    Adaptive,
}

/// What the request needs from the configuration.
pub(crate) struct Settings<'a> {
    pub config: &'a AnthropicConfig,
    pub streaming: bool,
}

/// Whether extended thinking is on for `request`: configured, or asked for in its
/// `extra` fields (`"thinking": {"type": "enabled" | "adaptive", ...}`).
pub(crate) fn thinking_on(config: &AnthropicConfig, extra: &Map<String, Value>) -> bool {
    match extra.get("thinking") {
        Some(thinking) => matches!(
            thinking.get("type").and_then(Value::as_str),
            Some("enabled" | "adaptive")
        ),
        None => config.thinking.is_some(),
    }
}

/// The wire request for `request`.
pub(crate) fn messages_request<'a>(
    request: &'a ChatRequest,
    settings: &Settings<'_>,
) -> Result<MessagesRequest<'a>, ProviderError> {
    let config = settings.config;
    let thinking = thinking_on(config, &request.extra);
    let mut builder = Builder::default();
    for message in &request.messages {
        builder.message(message)?;
    }
    let Builder {
        mut system,
        turns,
        breakpoints,
        ..
    } = builder;
    if breakpoints > MAX_CACHE_BREAKPOINTS {
        return Err(ProviderError::Unsupported(format!(
            "{breakpoints} cache breakpoints; Anthropic takes at most {MAX_CACHE_BREAKPOINTS} per request"
        )));
    }
    let params = &request.params;
    let configured_thinking = match config.thinking {
        Some(Thinking::Budget(budget_tokens)) => Some(ThinkingConfig::Enabled { budget_tokens }),
        Some(Thinking::Adaptive) => Some(ThinkingConfig::Adaptive),
        None => None,
    };
    // With a thinking budget, the answer needs room past it.
    let max_tokens = params.max_tokens.unwrap_or(match config.thinking {
        Some(Thinking::Budget(budget)) => budget.saturating_add(config.max_tokens),
        _ => config.max_tokens,
    });
    let mut wire = MessagesRequest {
        model: &request.model,
        max_tokens,
        messages: turns,
        system: Vec::new(),
        tools: Vec::new(),
        tool_choice: None,
        output_config: None,
        thinking: configured_thinking,
        temperature: params.temperature.map(decimal_f64),
        top_p: params.top_p.map(decimal_f64),
        stop_sequences: &params.stop,
        stream: settings.streaming.then_some(true),
    };
    if let Some(output) = &request.output {
        config
            .capabilities
            .check(output.mode)
            .map_err(ProviderError::Unsupported)?;
        if let Some(instruction) = apply_output(&mut wire, output, thinking)? {
            system.push(Block::Text {
                text: Cow::Owned(instruction),
                cache_control: None,
            });
        }
    }
    wire.system = system;
    Ok(wire)
}

/// Shapes the request for the mode; gives an instruction for the system prompt when a
/// tool is asked for rather than forced.
fn apply_output<'a>(
    wire: &mut MessagesRequest<'a>,
    output: &'a OutputSpec,
    thinking: bool,
) -> Result<Option<String>, ProviderError> {
    let render = |schema: &Arc<RootSchema>, dialect: Dialect| {
        rendered(schema, dialect).map_err(|error| ProviderError::Unsupported(error.to_string()))
    };
    let name = || Cow::Owned(wire_name(&output.name));
    let mut instruction = None;
    match output.mode {
        Mode::Tools | Mode::ToolsStrict => {
            let strict = output.mode == Mode::ToolsStrict;
            let dialect = if strict {
                Dialect::AnthropicStrict
            } else {
                Dialect::AnthropicTool
            };
            wire.tools.push(Tool {
                name: name(),
                description: output.description.as_deref(),
                input_schema: render(&output.schema, dialect)?,
                strict: strict.then_some(true),
            });
            if thinking {
                // The API refuses a forced tool while thinking: ask for it instead.
                wire.tool_choice = Some(ToolChoice::Auto);
                instruction = Some(format!(
                    "Answer by calling the `{}` tool exactly once, with the complete answer as its input.",
                    wire_name(&output.name)
                ));
            } else {
                wire.tool_choice = Some(ToolChoice::Tool {
                    name: name(),
                    disable_parallel_tool_use: true,
                });
            }
        }
        Mode::ParallelTools => {
            if output.tools.is_empty() {
                wire.tools.push(Tool {
                    name: name(),
                    description: output.description.as_deref(),
                    input_schema: render(&output.schema, Dialect::AnthropicTool)?,
                    strict: None,
                });
            }
            for spec in &output.tools {
                wire.tools.push(Tool {
                    name: Cow::Owned(wire_name(&spec.name)),
                    description: spec.description.as_deref(),
                    input_schema: render(&spec.schema, Dialect::AnthropicTool)?,
                    strict: None,
                });
            }
            wire.tool_choice = Some(if thinking {
                ToolChoice::Auto
            } else {
                ToolChoice::Any
            });
            if thinking {
                instruction =
                    Some("Answer by calling the tools, once for each item of the answer.".into());
            }
        }
        Mode::JsonSchema => {
            wire.output_config = Some(OutputConfig {
                format: JsonOutputFormat {
                    kind: "json_schema",
                    schema: render(&output.schema, Dialect::AnthropicStrict)?,
                },
            });
        }
        // The schema is in the system prompt (core put it there); the answer is read
        // leniently from the text.
        Mode::Json | Mode::MdJson => {}
        other => {
            return Err(ProviderError::Unsupported(format!(
                "{other:?} is not implemented by the Anthropic client"
            )));
        }
    }
    Ok(instruction)
}

/// Builds the system blocks and the alternating turns.
#[derive(Default)]
struct Builder<'a> {
    system: Vec<Block<'a>>,
    turns: Vec<Turn<'a>>,
    breakpoints: usize,
    /// Whether the last block pushed went to `system` (where a breakpoint at the start
    /// of the next message lands).
    last_in_system: bool,
}

impl<'a> Builder<'a> {
    fn message(
        &mut self,
        message: &'a instructor_core::chat::Message,
    ) -> Result<(), ProviderError> {
        match message.role {
            Role::System => {
                for part in &message.content {
                    match part {
                        ContentPart::Text { text } if text.is_empty() => {}
                        ContentPart::Text { text } => {
                            self.system.push(Block::Text {
                                text: Cow::Borrowed(text),
                                cache_control: None,
                            });
                            self.last_in_system = true;
                        }
                        ContentPart::CacheBreakpoint { ttl } => self.breakpoint(*ttl)?,
                        other => {
                            return Err(ProviderError::Unsupported(format!(
                                "a system message can only hold text for Anthropic, not {}",
                                other.kind()
                            )));
                        }
                    }
                }
                Ok(())
            }
            Role::User => {
                for part in &message.content {
                    self.part(Role::User, part)?;
                }
                Ok(())
            }
            Role::Assistant => {
                for part in &message.content {
                    self.part(Role::Assistant, part)?;
                }
                for call in &message.tool_calls {
                    let input = object_arguments(&call.arguments);
                    self.push(
                        "assistant",
                        Block::ToolUse {
                            id: &call.id,
                            name: &call.name,
                            input,
                            cache_control: None,
                        },
                    );
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
                        ContentPart::Text { text } => content.push(Block::Text {
                            text: Cow::Borrowed(text),
                            cache_control: None,
                        }),
                        ContentPart::Image(image) => content.push(Block::Image {
                            source: source(&image.source)?,
                            cache_control: None,
                        }),
                        ContentPart::CacheBreakpoint { .. } => {}
                        other => {
                            return Err(ProviderError::Unsupported(format!(
                                "a tool result cannot hold {} for Anthropic",
                                other.kind()
                            )));
                        }
                    }
                }
                self.push(
                    "user",
                    Block::ToolResult {
                        tool_use_id: id,
                        content,
                        is_error: message.is_error,
                        cache_control: None,
                    },
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
            ContentPart::Text { text } => Block::Text {
                text: Cow::Borrowed(text),
                cache_control: None,
            },
            ContentPart::Image(image) if role == Role::User => Block::Image {
                source: source(&image.source)?,
                cache_control: None,
            },
            ContentPart::Document(document) if role == Role::User => {
                if document
                    .source
                    .media_type()
                    .is_some_and(|t| t != "application/pdf")
                {
                    return Err(ProviderError::Unsupported(
                        "Anthropic takes PDF documents only".into(),
                    ));
                }
                Block::Document {
                    source: source(&document.source)?,
                    title: document.title.as_deref(),
                    cache_control: None,
                }
            }
            ContentPart::Image(_) | ContentPart::Document(_) => {
                return Err(ProviderError::Unsupported(
                    "images and documents can only be sent in user messages".into(),
                ));
            }
            ContentPart::Thinking {
                thinking,
                signature,
            } if role == Role::Assistant => Block::Thinking {
                thinking,
                signature: signature.as_deref().unwrap_or_default(),
            },
            ContentPart::RedactedThinking { data } if role == Role::Assistant => {
                Block::RedactedThinking { data }
            }
            ContentPart::Thinking { .. } | ContentPart::RedactedThinking { .. } => return Ok(()),
            ContentPart::CacheBreakpoint { ttl } => return self.breakpoint(*ttl),
            other => {
                return Err(ProviderError::Unsupported(format!(
                    "this content part cannot be sent to Anthropic: {}",
                    other.kind()
                )));
            }
        };
        self.push(wire_role, block);
        Ok(())
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

    /// Marks the block before as the end of a cached prefix.
    fn breakpoint(&mut self, ttl: CacheTtl) -> Result<(), ProviderError> {
        let last = if self.last_in_system {
            self.system.last_mut()
        } else {
            self.turns.last_mut().and_then(|turn| {
                turn.content.iter_mut().rev().find(|block| {
                    !matches!(
                        block,
                        Block::Thinking { .. } | Block::RedactedThinking { .. }
                    )
                })
            })
        };
        let Some(slot) = last.and_then(Block::cache_control) else {
            return Err(ProviderError::Unsupported(
                "a cache breakpoint must follow the text, image or document it closes".into(),
            ));
        };
        if slot.is_none() {
            self.breakpoints += 1;
        }
        *slot = Some(CacheControl::new(ttl));
        Ok(())
    }
}

fn source(source: &MediaSource) -> Result<Source<'_>, ProviderError> {
    match (source.as_base64(), source) {
        (Some((media_type, data)), _) => Ok(Source::Base64 { media_type, data }),
        (None, MediaSource::Url { url }) => Ok(Source::Url { url }),
        (None, other) => Err(ProviderError::Unsupported(format!(
            "this media source cannot be sent to Anthropic: {other:?}"
        ))),
    }
}
