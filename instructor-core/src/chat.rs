//! The neutral conversation every provider translates from and to: requests with
//! messages and an output spec, responses, stream events, usage, and the `Provider`
//! trait that HTTP clients implement.

use crate::media::{CacheTtl, Document, Image, Parts};
use crate::schema::RootSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Who speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
    /// The answer to a tool call.
    Tool,
}

/// A piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image ([`Image`]: a URL, a file, bytes or base64).
    Image(Image),
    /// A document ([`Document`]: a PDF), where the provider takes one.
    Document(Document),
    /// The model's reasoning before its answer (Anthropic extended thinking), kept in
    /// an assistant message so that a re-ask conversation stays valid; never part of
    /// the answer that is parsed.
    Thinking {
        /// The reasoning text.
        thinking: String,
        /// The provider's signature of the block, sent back as received.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// Reasoning the provider returned encrypted; sent back as received.
    RedactedThinking {
        /// The opaque data.
        data: String,
    },
    /// The end of a cached prefix: the prompt up to and including the part before this
    /// marker is cached where the provider caches explicitly (Anthropic's
    /// `cache_control`); providers that cache on their own (OpenAI, Gemini) ignore it.
    CacheBreakpoint {
        /// How long the prefix lives.
        #[serde(default)]
        ttl: CacheTtl,
    },
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }

    /// A short name of the kind of part, for errors (`text`, `image`, `document`).
    pub fn kind(&self) -> &'static str {
        match self {
            ContentPart::Text { .. } => "text",
            ContentPart::Image(_) => "image",
            ContentPart::Document(_) => "document",
            ContentPart::Thinking { .. } => "thinking",
            ContentPart::RedactedThinking { .. } => "redacted thinking",
            ContentPart::CacheBreakpoint { .. } => "cache breakpoint",
        }
    }
}

/// A call of a tool (function) by the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id of the call (answers refer to it).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as the model wrote them (JSON text, possibly invalid). Shared:
    /// the ledger's `raw_output` of the answer is this same text, not a copy.
    pub arguments: Arc<str>,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: Vec<ContentPart>,
    /// Tool calls the assistant made in this message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a tool message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For a tool message: the call failed (a re-ask answering arguments that were not
    /// valid). Anthropic sends it as `is_error: true`; other APIs have no such flag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl Message {
    /// A message of `role` with `content`.
    pub fn new(role: Role, content: impl Into<Parts>) -> Self {
        Message {
            role,
            content: content.into().0,
            tool_calls: Vec::new(),
            tool_call_id: None,
            is_error: false,
        }
    }

    /// A system message: text, or parts (`(cached(long_text), "Be brief.")`).
    pub fn system(content: impl Into<Parts>) -> Self {
        Message::new(Role::System, content)
    }

    /// A user message: text, an [`Image`], a [`Document`], or a tuple or list of those
    /// (`("What is in this image?", Image::url(url))`).
    pub fn user(content: impl Into<Parts>) -> Self {
        Message::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<Parts>) -> Self {
        Message::new(Role::Assistant, content)
    }

    /// This message with a cache breakpoint after its last part.
    pub fn cached(mut self) -> Self {
        self.content.push(ContentPart::CacheBreakpoint {
            ttl: CacheTtl::Default,
        });
        self
    }

    /// An assistant message that called tools.
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        Message {
            role: Role::Assistant,
            content: Vec::new(),
            tool_calls: calls,
            tool_call_id: None,
            is_error: false,
        }
    }

    /// The answer to tool call `id`.
    pub fn tool(id: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            tool_call_id: Some(id.into()),
            ..Message::new(Role::Tool, text.into())
        }
    }

    /// The answer to tool call `id` saying the call failed (`is_error`): what a re-ask
    /// sends for arguments that were not valid.
    pub fn tool_error(id: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            is_error: true,
            ..Message::tool(id, text)
        }
    }

    /// The message's text parts, joined.
    pub fn text_content(&self) -> String {
        self.content
            .iter()
            .filter_map(|part| match part {
                ContentPart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// How the schema is sent and how the answer is read.
///
/// Chosen per client (`Client::with_mode`) or per extraction (`Extraction::mode`). A
/// mode the provider (or model) cannot serve is `Error::UnsupportedMode` before any
/// request is sent. The `instructor` crate's docs of `Mode` run an extraction in
/// `MdJson` mode against the local fake provider (which this crate cannot depend on).
///
/// ```
/// use instructor_core::chat::Mode;
///
/// assert_eq!(Mode::default(), Mode::Tools);
/// // Constrained modes: the answer is a tool call or a schema-bound JSON document.
/// assert!(Mode::ToolsStrict.uses_tools() && !Mode::ToolsStrict.is_prompted());
/// assert!(!Mode::JsonSchema.uses_tools() && !Mode::JsonSchema.is_prompted());
/// // Prompted modes: the schema goes into the prompt and the answer is read leniently.
/// assert!(Mode::MdJson.is_prompted() && !Mode::MdJson.uses_tools());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// The schema as one function tool, with `tool_choice` forced to it; the answer is
    /// the call's arguments.
    #[default]
    Tools,
    /// Like `Tools`, with `strict: true` and the strict dialect (grammar-constrained).
    ToolsStrict,
    /// JSON mode (`json_object`) with the schema in the system prompt.
    Json,
    /// Native structured outputs (`response_format` json_schema, strict).
    JsonSchema,
    /// The schema in the prompt, the answer in a ```json fence; read leniently.
    MdJson,
    /// Several tools, several calls: one object per call.
    ParallelTools,
}

impl Mode {
    /// Whether the answer is prompted (read leniently) rather than constrained.
    pub fn is_prompted(self) -> bool {
        matches!(self, Mode::Json | Mode::MdJson)
    }

    /// Whether the answer arrives as tool calls.
    pub fn uses_tools(self) -> bool {
        matches!(self, Mode::Tools | Mode::ToolsStrict | Mode::ParallelTools)
    }
}

/// One tool offered in [`Mode::ParallelTools`].
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// The tool's name (a variant of the item enum).
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Its arguments' schema.
    pub schema: Arc<RootSchema>,
}

/// What the answer must be.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    /// How it is asked for.
    pub mode: Mode,
    /// The schema, rendered by the provider in its dialect.
    pub schema: Arc<RootSchema>,
    /// The tool / schema name.
    pub name: String,
    /// What it is, for the model.
    pub description: Option<String>,
    /// [`Mode::ParallelTools`]: one tool per variant of the item enum, each call one
    /// item. Empty otherwise (the schema itself is the one tool).
    pub tools: Vec<ToolSpec>,
}

impl OutputSpec {
    /// Whether the answer comes wrapped as `{"value": ...}`
    /// ([`WRAPPED_ROOT_PROPERTY`](crate::schema::dialect::WRAPPED_ROOT_PROPERTY)): in
    /// the tool modes and `JsonSchema` when the root is not an object (tools and strict
    /// dialects want an object at the root). Providers wrap by this rule and core
    /// unwraps by it: the one place it is decided.
    pub fn wraps_root(&self) -> bool {
        let wrapping_mode = matches!(
            self.mode,
            Mode::Tools | Mode::ToolsStrict | Mode::JsonSchema
        ) || (self.mode == Mode::ParallelTools && self.tools.is_empty());
        wrapping_mode
            && !matches!(
                self.schema.schema.kind,
                crate::schema::SchemaKind::Object(_)
            )
    }
}

/// A name the APIs accept for a tool or a response format (`^[a-zA-Z0-9_-]{1,64}$`):
/// other characters become `_`, the name is cut to 64 characters, and an empty name is
/// `output`. Every provider names tools by this rule, and core reads answers by it.
///
/// ```
/// use instructor_core::chat::tool_name;
///
/// assert_eq!(tool_name("Vec<Ticket>"), "Vec_Ticket_");
/// assert_eq!(tool_name("extract_user"), "extract_user");
/// assert_eq!(tool_name(""), "output");
/// ```
pub fn tool_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "output".to_owned()
    } else {
        cleaned
    }
}

/// Sampling and length settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationParams {
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Maximum tokens of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Nucleus sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Seed for reproducible sampling, where supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stop: Vec<String>,
    /// A key grouping requests that share a prompt prefix, so that the provider routes
    /// them to the same cache (OpenAI's `prompt_cache_key`, Chat Completions and
    /// Responses). Providers without one ignore it: Anthropic and Bedrock cache at the
    /// breakpoints of the messages ([`Message::cached`]), Gemini and Cohere on their own.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prompt_cache_key: Option<String>,
}

/// A neutral request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The model name as the provider knows it.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// What the answer must be (none for plain text).
    pub output: Option<OutputSpec>,
    /// Sampling and length.
    pub params: GenerationParams,
    /// Extra top-level JSON fields merged into the provider's request body.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinishReason {
    /// It finished its answer.
    Stop,
    /// It hit the token limit: the answer is cut.
    Length,
    /// It called tools.
    ToolCalls,
    /// The provider's content filter stopped it.
    ContentFilter,
    /// Something else, as the provider said it.
    Other(String),
}

impl FinishReason {
    /// Reads a provider's finish reason string.
    pub fn from_wire(reason: &str) -> Self {
        match reason {
            "stop" | "end_turn" | "STOP" | "stop_sequence" => FinishReason::Stop,
            "length" | "max_tokens" | "MAX_TOKENS" => FinishReason::Length,
            "tool_calls" | "function_call" | "tool_use" => FinishReason::ToolCalls,
            "content_filter" | "SAFETY" | "refusal" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

/// Tokens used, as the provider reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Answer tokens.
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: u64,
    /// Tokens spent reasoning (included in `output_tokens` where the provider does so).
    pub reasoning_tokens: u64,
    /// Prompt tokens written to the provider's cache (Anthropic's
    /// `cache_creation_input_tokens`, billed above the normal rate).
    #[serde(default)]
    pub cache_creation_tokens: u64,
}

impl Usage {
    /// All tokens.
    pub fn total(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// Adds another usage to this one.
    pub fn add(&mut self, other: &Usage) {
        // Saturating: the numbers come from the server, and a wrapped total would
        // also defeat the token budget.
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cached_tokens = self.cached_tokens.saturating_add(other.cached_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(other.reasoning_tokens);
        self.cache_creation_tokens = self
            .cache_creation_tokens
            .saturating_add(other.cache_creation_tokens);
    }
}

/// A neutral response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatResponse {
    /// The answer's text (content), if any.
    pub text: Option<String>,
    /// The answer's tool calls.
    pub tool_calls: Vec<ToolCall>,
    /// Tokens used.
    pub usage: Option<Usage>,
    /// Why the model stopped.
    pub finish_reason: Option<FinishReason>,
    /// A refusal, with the model's text.
    pub refusal: Option<String>,
    /// The provider's id of the request or response.
    pub request_id: Option<String>,
    /// The model that answered.
    pub model: Option<String>,
    /// The raw response body (`Null` from [`Provider::complete_without_raw`], which an
    /// extraction uses when nothing will see it: `.await` or `send` without hooks).
    pub raw: serde_json::Value,
    /// The model's reasoning before its answer ([`ContentPart::Thinking`] and
    /// [`ContentPart::RedactedThinking`] blocks, Anthropic extended thinking): never
    /// parsed as the answer, and sent back with it in a re-ask (as the API requires).
    pub reasoning: Vec<ContentPart>,
    /// The provider that answered, when a fallback chain chose it.
    pub provider: Option<String>,
    /// The providers of a fallback chain that failed before this one answered.
    pub failed_over: Vec<FailedOver>,
    /// What the provider's rate-limit headers said about the caller's remaining
    /// quota when this answer arrived (`None` when it sent none). Boxed: every
    /// response is moved through a few layers, and most carry none.
    pub rate_limits: Option<Box<RateLimits>>,
}

/// A provider's rate-limit headers, neutral: how many requests and tokens are left in
/// the current window and when each window starts over (OpenAI's
/// `x-ratelimit-remaining-requests` and `x-ratelimit-reset-requests: 6m0s`, Anthropic's
/// `anthropic-ratelimit-requests-remaining` and `...-requests-reset` as an RFC 3339
/// time). Each field is `None` when its header is missing or unreadable. The values
/// come from the server, so they are bounded when read: counts at
/// [`RateLimits::MAX_COUNT`], waits at [`RateLimits::MAX_RESET`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests left in the current window.
    pub requests_remaining: Option<u64>,
    /// Tokens left in the current window.
    pub tokens_remaining: Option<u64>,
    /// Time from the answer until the request window starts over.
    pub requests_reset: Option<Duration>,
    /// Time from the answer until the token window starts over.
    pub tokens_reset: Option<Duration>,
}

impl RateLimits {
    /// The largest count read (larger ones are read as this).
    pub const MAX_COUNT: u64 = 1_000_000_000_000;
    /// The longest wait read (longer ones are read as this): one day.
    pub const MAX_RESET: Duration = Duration::from_secs(24 * 60 * 60);

    /// Whether no header said anything.
    pub fn is_empty(&self) -> bool {
        *self == RateLimits::default()
    }
}

/// A provider of a fallback chain that failed before another answered.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedOver {
    /// The provider's name (`openai`, `anthropic`).
    pub provider: String,
    /// Why it failed (redacted by that provider).
    pub error: ProviderError,
}

/// The most tool calls one answer may hold. A streamed call's `index` comes from the
/// server and sizes what is kept per call, so anything past this is a typed error, not
/// an allocation.
pub const MAX_TOOL_CALLS: usize = 128;

/// One event of a streamed response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// More answer text.
    TextDelta(String),
    /// More refusal text.
    RefusalDelta(String),
    /// More arguments of tool call `index` (`id` and `name` arrive with the first).
    ToolArgumentsDelta {
        /// Which call.
        index: usize,
        /// The call's id, once known.
        id: Option<String>,
        /// The tool's name, once known.
        name: Option<String>,
        /// The next fragment of the arguments' JSON text.
        delta: String,
    },
    /// Tokens used.
    Usage(Usage),
    /// Why the model stopped.
    Finish(FinishReason),
    /// The provider's id of the response.
    ResponseId(String),
    /// A finished block of reasoning ([`ContentPart::Thinking`] with its signature, or
    /// [`ContentPart::RedactedThinking`]), sent once its block is complete.
    Reasoning(ContentPart),
    /// Who answers, first in the stream of a fallback chain, with the providers that
    /// failed before it.
    Provider {
        /// The provider's name.
        name: String,
        /// The providers that failed before it.
        failed_over: Vec<FailedOver>,
    },
    /// The provider's rate-limit headers, first in the stream (see [`RateLimits`]).
    /// Boxed, so that the one event of a stream that carries them does not make
    /// every event larger.
    RateLimits(Box<RateLimits>),
}

/// What a provider (and model) can do; modes it cannot serve are refused before any
/// request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// `tool_choice` can force one tool.
    pub forced_tool_choice: bool,
    /// `strict: true` tools.
    pub strict_tools: bool,
    /// Native JSON Schema structured output.
    pub native_json_schema: bool,
    /// `json_object` mode.
    pub json_mode: bool,
    /// Several tool calls in one answer.
    pub parallel_tools: bool,
    /// Usage in streamed answers.
    pub streaming_usage: bool,
}

impl Capabilities {
    /// Everything (OpenAI's own models).
    pub const ALL: Capabilities = Capabilities {
        forced_tool_choice: true,
        strict_tools: true,
        native_json_schema: true,
        json_mode: true,
        parallel_tools: true,
        streaming_usage: true,
    };

    /// The best mode this provider can serve: a forced tool where it can force one,
    /// else native JSON Schema output, else JSON mode, else the schema in the prompt
    /// with the answer in a fence (`MdJson`, which every chat model can do).
    pub fn preferred_mode(&self) -> Mode {
        if self.forced_tool_choice {
            Mode::Tools
        } else if self.native_json_schema {
            Mode::JsonSchema
        } else if self.json_mode {
            Mode::Json
        } else {
            Mode::MdJson
        }
    }

    /// Whether `mode` can be served; `Err` says why not.
    pub fn check(&self, mode: Mode) -> Result<(), String> {
        let missing = match mode {
            Mode::Tools if !self.forced_tool_choice => "forced tool choice",
            Mode::ToolsStrict if !(self.forced_tool_choice && self.strict_tools) => "strict tools",
            Mode::JsonSchema if !self.native_json_schema => "native JSON Schema output",
            Mode::Json if !self.json_mode => "JSON mode",
            Mode::ParallelTools if !self.parallel_tools => "parallel tool calls",
            _ => return Ok(()),
        };
        Err(format!(
            "{mode:?} needs {missing}, which this provider does not offer"
        ))
    }
}

/// A failure of one HTTP exchange, classified for retrying.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The connection failed or broke (retried).
    #[error("transport error: {message}")]
    Transport {
        /// What happened.
        message: String,
    },
    /// The provider answered with an error status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The error body as received (never contains our key).
        body: String,
        /// How long the provider asks us to wait (`retry-after`, `retry-after-ms`).
        retry_after: Option<Duration>,
        /// The provider's request id.
        request_id: Option<String>,
    },
    /// The provider's answer could not be read.
    #[error("unreadable response: {message}")]
    Decode {
        /// What was wrong.
        message: String,
        /// The body (or its beginning).
        body: String,
    },
    /// The request cannot be made for this provider (mode, content, a schema its
    /// dialect cannot express). Nothing was sent.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The server answered with a redirect. API calls never follow redirects (as the
    /// official SDKs): a redirect would carry the key, the headers and the prompt to
    /// another host, and a 302/303 would turn the POST into a GET.
    #[error(
        "HTTP {status}: the server redirected the API call to {location:?}, which is not followed"
    )]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// The `location` header, if any (redacted, bounded).
        location: Option<String>,
    },
    /// An error event in the middle of a streamed answer (`{"error": ...}` on OpenAI,
    /// `event: error` on Anthropic), classified by the provider like an HTTP status.
    #[error("error in the stream ({kind}): {message}")]
    Stream {
        /// The provider's error type (`server_error`, `overloaded_error`,
        /// `invalid_request_error`, ...).
        kind: String,
        /// The provider's message (redacted, bounded).
        message: String,
        /// The HTTP status the same error would have had, where known (500, 529, 400).
        status: Option<u16>,
    },
    /// Every provider of a fallback chain failed, each with its error, in order.
    /// Retryable when the last failure is (the chain is tried again from its first).
    #[error("every provider of the fallback chain failed: {}", failed_over_summary(.failed))]
    FallbackExhausted {
        /// Each provider and its error.
        failed: Vec<FailedOver>,
    },
}

/// `openai: HTTP 500: ...; anthropic: ...`
fn failed_over_summary(failed: &[FailedOver]) -> String {
    failed
        .iter()
        .map(|link| format!("{}: {}", link.provider, link.error))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ProviderError {
    /// Whether trying again may succeed (connect errors, timeouts, 408, 409, 429, 5xx,
    /// 529): such failures are retried with backoff and never enter the conversation.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Transport { .. } => true,
            ProviderError::Status { status, .. } => status_is_retryable(*status),
            ProviderError::Stream { kind, status, .. } => match status {
                Some(status) => status_is_retryable(*status),
                None => stream_kind_is_retryable(kind),
            },
            ProviderError::FallbackExhausted { failed } => {
                failed.last().is_some_and(|link| link.error.is_retryable())
            }
            _ => false,
        }
    }

    /// The provider's id of the failed request, where it gave one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ProviderError::Status { request_id, .. } => request_id.as_deref(),
            ProviderError::FallbackExhausted { failed } => {
                failed.last().and_then(|link| link.error.request_id())
            }
            _ => None,
        }
    }

    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Status { retry_after, .. } => *retry_after,
            ProviderError::FallbackExhausted { failed } => {
                failed.last().and_then(|link| link.error.retry_after())
            }
            _ => None,
        }
    }
}

/// Statuses worth another try: 408, 409, 429, 5xx (529 "overloaded" included).
fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..600).contains(&status)
}

/// Mid-stream error types worth another try when the provider gave no status: server
/// trouble, overload, rate limits, timeouts. Anything else (an invalid request, an
/// authentication or permission error) would fail again the same way.
fn stream_kind_is_retryable(kind: &str) -> bool {
    let kind = kind.to_ascii_lowercase();
    [
        "server",
        "overloaded",
        "rate_limit",
        "timeout",
        "unavailable",
        "internal",
    ]
    .iter()
    .any(|word| kind.contains(word))
}

/// A boxed future, for object-safe async traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed stream of events, fallible per item. It owns what it needs (the HTTP
/// response), so it outlives the request it answers.
pub type EventStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<StreamEvent, ProviderError>> + Send + 'static>>;

/// An LLM API: translates the neutral request into its wire format and its answers
/// back. Object safe; implemented by the HTTP clients of `instructor-providers`.
pub trait Provider: Send + Sync + fmt::Debug {
    /// A short name for logs and spans (`openai`, `anthropic`).
    fn name(&self) -> &str;

    /// What this provider can do with `model`.
    fn capabilities(&self, model: &str) -> Capabilities;

    /// The wire body this provider would send for `request` (for hooks and logs; it
    /// never holds the key, which travels in a header). `None` when not available.
    fn wire_body(&self, request: &ChatRequest) -> Option<serde_json::Value> {
        let _ = request;
        None
    }

    /// `text` with this provider's secrets (its API key) removed. Core passes
    /// everything it keeps or shows from the server through here (raw output in the
    /// ledger and hooks, refusal text, request ids), so that a key echoed by the server,
    /// even one cut across stream deltas, never shows. The default removes nothing.
    fn redact(&self, text: &str) -> String {
        text.to_owned()
    }

    /// [`Provider::redact`], borrowing `text` when there is nothing to remove (the
    /// usual case). The default calls `redact` and compares; providers override it to
    /// spare the copy.
    fn redacted<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let redacted = self.redact(text);
        if redacted == text {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(redacted)
        }
    }

    /// [`Provider::redact`] in place: `text` is replaced only when something is
    /// removed. The default calls `redact`; providers override it to spare the copy.
    fn redact_in_place(&self, text: &mut String) {
        let redacted = self.redact(text);
        if redacted != *text {
            *text = redacted;
        }
    }

    /// One request, one whole response.
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>>;

    /// Like [`Provider::complete`], for a caller that does not keep the raw body:
    /// the response's `raw` may be `Value::Null` (everything else is the same), which
    /// spares building a JSON tree per response. The default is `complete`.
    fn complete_without_raw<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        self.complete(request)
    }

    /// One request, a stream of events (opening can fail; each event can fail). The
    /// stream ends after the last event; one that breaks off early yields an error.
    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, ProviderError>>;
}
