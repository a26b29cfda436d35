//! Anthropic's Messages API, natively.
//!
//! Modes: `Tools` (one tool, forced with `tool_choice` and `disable_parallel_tool_use`),
//! `ToolsStrict` (the same with `strict: true`), `JsonSchema` (native structured
//! outputs, `output_config.format`), `Json` and `MdJson` (the schema in the system
//! prompt, the answer read leniently), `ParallelTools` (several `tool_use` blocks, one
//! item each). System messages are hoisted to the top-level `system`; `max_tokens`, which
//! the API requires, defaults to [`DEFAULT_MAX_TOKENS`]. Extended thinking cannot force
//! a tool, so with thinking on the tool modes ask for the tool instead
//! (`tool_choice: auto` and an instruction); thinking blocks stay out of the answer and
//! go back with it in a re-ask. Prompt caching: [`ContentPart::CacheBreakpoint`](instructor_core::chat::ContentPart::CacheBreakpoint)
//! (`cached(text)`, `Image::cached`, `Message::cached`) puts `cache_control` on the block
//! before it; cache reads and writes are in the usage.
//!
//! ```
//! use instructor_core::chat::{ChatRequest, Message, Provider};
//! use instructor_providers::anthropic::{Anthropic, AnthropicConfig};
//! use instructor_providers::testing::{FakeProvider, anthropic};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), instructor_core::chat::ProviderError> {
//! let server = FakeProvider::start().await;
//! server.push(anthropic::Message::text("Riga.").reply());
//! let claude = Anthropic::new(AnthropicConfig::new(server.base_url()).with_api_key("sk-ant-test"));
//! let request = ChatRequest {
//!     model: "claude-sonnet-4-5".into(),
//!     messages: vec![Message::system("Be brief."), Message::user("The capital of Latvia?")],
//!     output: None,
//!     params: Default::default(),
//!     extra: Default::default(),
//! };
//! let response = claude.complete(&request).await?;
//! assert_eq!(response.text.as_deref(), Some("Riga."));
//!
//! let sent = server.last_request().expect("one request");
//! assert_eq!(sent.path(), "/v1/messages");
//! assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
//! let body = sent.json().expect("JSON");
//! assert_eq!(body["system"][0]["text"], "Be brief.", "the system message is hoisted");
//! assert_eq!(body["max_tokens"], 4096, "the API requires max_tokens");
//! # Ok(()) }
//! ```

pub mod batch;
mod request;
mod response;
mod stream;

pub use batch::AnthropicBatch;
pub use request::MAX_CACHE_BREAKPOINTS;

use crate::http::native::{self, Wire, native_provider};
use crate::http::redact::Redactor;
use crate::http::{Endpoint, Transport, TransportConfig, header_map};
use crate::openai::{ApiKey, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use instructor_core::chat::{Capabilities, ChatRequest, ChatResponse, ProviderError};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// Anthropic's API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The API version sent as `anthropic-version`.
pub const API_VERSION: &str = "2023-06-01";

/// The `max_tokens` of a request that sets none (the API requires one). With a
/// thinking budget, the budget is added to it.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// What Anthropic's models can do: a forced tool, strict tools, native JSON Schema
/// output, several tool calls per answer, usage in streams. (`json_mode` stands for
/// the schema-in-the-prompt `Json` mode, which every model serves.)
pub const CAPABILITIES: Capabilities = Capabilities {
    forced_tool_choice: true,
    strict_tools: true,
    native_json_schema: true,
    json_mode: true,
    parallel_tools: true,
    streaming_usage: true,
};

/// Extended thinking, for every request of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Thinking {
    /// `thinking: {"type": "enabled", "budget_tokens": n}` (at least 1024).
    Budget(u32),
    /// `thinking: {"type": "adaptive"}` (the model decides).
    Adaptive,
}

/// How to reach Anthropic.
#[derive(Clone)]
pub struct AnthropicConfig {
    /// The base URL, without `/v1` (default [`DEFAULT_BASE_URL`]).
    pub base_url: String,
    /// The key, sent as `x-api-key`.
    pub api_key: Option<ApiKey>,
    /// `anthropic-version` (default [`API_VERSION`]).
    pub version: String,
    /// `anthropic-beta` flags (joined with commas).
    pub betas: Vec<String>,
    /// More headers for every request.
    pub headers: Vec<(String, String)>,
    /// `max_tokens` when a request sets none.
    pub max_tokens: u32,
    /// Extended thinking for every request (a request's own `extra("thinking", ...)`
    /// wins).
    pub thinking: Option<Thinking>,
    /// What the models can do.
    pub capabilities: Capabilities,
    /// The time one exchange may take (default [`DEFAULT_TIMEOUT`]).
    pub timeout: Option<Duration>,
    /// The size limit of one answer.
    pub max_response_bytes: usize,
}

impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("version", &self.version)
            .field("betas", &self.betas)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| (name.as_str(), "[redacted]"))
                    .collect::<Vec<_>>(),
            )
            .field("max_tokens", &self.max_tokens)
            .field("thinking", &self.thinking)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl AnthropicConfig {
    /// A config for the API at `base_url` (Anthropic's is [`DEFAULT_BASE_URL`]; a
    /// trailing `/v1` is accepted).
    pub fn new(base_url: impl Into<String>) -> Self {
        AnthropicConfig {
            base_url: base_url.into(),
            api_key: None,
            version: API_VERSION.to_owned(),
            betas: Vec::new(),
            headers: Vec::new(),
            max_tokens: DEFAULT_MAX_TOKENS,
            thinking: None,
            capabilities: CAPABILITIES,
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Anthropic with `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` (default
    /// [`DEFAULT_BASE_URL`]).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = AnthropicConfig::new(
            var("ANTHROPIC_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into()),
        );
        config.api_key = var("ANTHROPIC_API_KEY").map(ApiKey::new);
        config
    }

    /// Sets the key.
    pub fn with_api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Adds an `anthropic-beta` flag.
    pub fn with_beta(mut self, beta: impl Into<String>) -> Self {
        self.betas.push(beta.into());
        self
    }

    /// Adds a header to every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the default `max_tokens`.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Turns extended thinking on for every request.
    pub fn with_thinking(mut self, thinking: Thinking) -> Self {
        self.thinking = Some(thinking);
        self
    }

    /// Sets what the models can do.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Sets the time one exchange may take (`None`: no limit).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the size limit of one answer.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The Messages endpoint.
    pub fn endpoint(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        format!("{base}/v1/messages")
    }

    fn header_pairs(&self) -> Result<reqwest::header::HeaderMap, ProviderError> {
        let betas = self.betas.join(",");
        let mut pairs: Vec<(&str, &str)> = vec![("anthropic-version", &self.version)];
        if let Some(key) = &self.api_key {
            pairs.push(("x-api-key", key.expose()));
        }
        if !betas.is_empty() {
            pairs.push(("anthropic-beta", &betas));
        }
        pairs.extend(
            self.headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        header_map(pairs)
    }
}

/// The Anthropic Messages client.
pub struct Anthropic {
    config: AnthropicConfig,
    transport: Transport,
    endpoint: Endpoint,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Anthropic {
    /// A client for `config`.
    pub fn new(config: AnthropicConfig) -> Self {
        let transport = Transport::new(TransportConfig {
            headers: config.header_pairs(),
            key: config.api_key.as_ref(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        });
        let endpoint = Endpoint::new(config.endpoint());
        Anthropic {
            config,
            transport,
            endpoint,
        }
    }

    /// Anthropic with the key and base URL from the environment
    /// ([`AnthropicConfig::from_env`]).
    pub fn from_env() -> Self {
        Anthropic::new(AnthropicConfig::from_env())
    }

    /// The config.
    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    /// The body of a request.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unsupported`] when the mode is beyond the model, the schema
    /// cannot be expressed, or a part cannot be sent (an image outside a user message,
    /// more than [`MAX_CACHE_BREAKPOINTS`] cache breakpoints, a breakpoint with nothing
    /// before it).
    pub fn request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        native::request_body(self, request, false)
    }

    /// The body of a streamed request (`stream: true`).
    ///
    /// # Errors
    ///
    /// As [`Anthropic::request_body`].
    pub fn stream_request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        native::request_body(self, request, true)
    }
}

impl Wire for Anthropic {
    fn transport(&self) -> &Transport {
        &self.transport
    }

    fn provider_name(&self) -> &str {
        "anthropic"
    }

    fn provider_capabilities(&self, _model: &str) -> Capabilities {
        self.config.capabilities
    }

    fn body(&self, request: &ChatRequest, streaming: bool) -> Result<Vec<u8>, ProviderError> {
        let settings = request::Settings {
            config: &self.config,
            streaming,
        };
        let wire = request::messages_request(request, &settings)?;
        native::body_with_extra(&wire, &request.extra)
    }

    fn endpoint(&self, _: &ChatRequest, _: bool) -> Result<Cow<'_, Endpoint>, ProviderError> {
        Ok(Cow::Borrowed(&self.endpoint))
    }

    const READ: fn(&[u8], &Redactor, bool) -> Result<ChatResponse, ProviderError> =
        response::read_message;

    type Mapper = stream::MessagesMapper;
}

native_provider!(Anthropic);
