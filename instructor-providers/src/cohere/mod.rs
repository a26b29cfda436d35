//! Cohere's v2 Chat API, natively.
//!
//! Modes: `JsonSchema` (`response_format` `json_object` with the schema), `Json`
//! (`json_object` without one, the schema in the prompt), `Tools` (the schema as one
//! function, `tool_choice: REQUIRED`), `ParallelTools`, `MdJson`. Streams as Cohere's
//! typed events; the tool plan (Cohere's reasoning before a call) is kept beside the
//! answer, never parsed as it. The key goes in `Authorization: Bearer`, from
//! `COHERE_API_KEY` (or `CO_API_KEY`).
//!
//! ```
//! use instructor_core::chat::{ChatRequest, Message, Provider};
//! use instructor_providers::cohere::{Cohere, CohereConfig};
//! use instructor_providers::testing::{FakeProvider, cohere::Chat};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), instructor_core::chat::ProviderError> {
//! let server = FakeProvider::start().await;
//! server.push(Chat::text("Riga.").reply());
//! let cohere = Cohere::new(CohereConfig::new(server.base_url()).with_api_key("co-test-key"));
//! let request = ChatRequest {
//!     model: "command-a-03-2025".into(),
//!     messages: vec![Message::user("The capital of Latvia?")],
//!     output: None,
//!     params: Default::default(),
//!     extra: Default::default(),
//! };
//! assert_eq!(cohere.complete(&request).await?.text.as_deref(), Some("Riga."));
//! assert_eq!(server.last_request().expect("sent").path(), "/v2/chat");
//! # Ok(()) }
//! ```

mod stream;
mod wire;

use crate::http::events::map_sse;
use crate::http::redact::Redactor;
use crate::http::{Endpoint, Opened, Transport, TransportConfig, header_map};
use crate::openai::{ApiKey, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use instructor_core::chat::{
    BoxFuture, Capabilities, ChatRequest, ChatResponse, EventStream, Provider, ProviderError,
    StreamEvent,
};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// Cohere's API.
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// What Cohere's models can do: a required tool, JSON Schema output, JSON output,
/// several calls, usage in streams; no strict tools.
pub const CAPABILITIES: Capabilities = Capabilities {
    forced_tool_choice: true,
    strict_tools: false,
    native_json_schema: true,
    json_mode: true,
    parallel_tools: true,
    streaming_usage: true,
};

/// How to reach Cohere.
#[derive(Clone)]
pub struct CohereConfig {
    /// The base URL (default [`DEFAULT_BASE_URL`]; a trailing `/v2` is accepted).
    pub base_url: String,
    /// The key.
    pub api_key: Option<ApiKey>,
    /// More headers for every request.
    pub headers: Vec<(String, String)>,
    /// What the models can do.
    pub capabilities: Capabilities,
    /// The time one exchange may take.
    pub timeout: Option<Duration>,
    /// The size limit of one answer.
    pub max_response_bytes: usize,
}

impl fmt::Debug for CohereConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CohereConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl CohereConfig {
    /// The API at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        CohereConfig {
            base_url: base_url.into(),
            api_key: None,
            headers: Vec::new(),
            capabilities: CAPABILITIES,
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Cohere with `COHERE_API_KEY` (or `CO_API_KEY`) and `COHERE_BASE_URL`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = CohereConfig::new(
            var("COHERE_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        );
        config.api_key = var("COHERE_API_KEY")
            .or_else(|| var("CO_API_KEY"))
            .map(ApiKey::new);
        config
    }

    /// Sets the key.
    pub fn with_api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Adds a header to every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the time one exchange may take.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The chat endpoint.
    pub fn endpoint(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let base = base
            .strip_suffix("/v2")
            .or_else(|| base.strip_suffix("/v1"))
            .unwrap_or(base);
        format!("{base}/v2/chat")
    }

    fn header_pairs(&self) -> Result<reqwest::header::HeaderMap, ProviderError> {
        let bearer = self
            .api_key
            .as_ref()
            .map(|key| format!("Bearer {}", key.expose()));
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(bearer) = &bearer {
            pairs.push(("authorization", bearer));
        }
        pairs.extend(
            self.headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        header_map(pairs)
    }
}

/// The Cohere client.
pub struct Cohere {
    config: CohereConfig,
    transport: Transport,
    endpoint: Endpoint,
}

impl fmt::Debug for Cohere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cohere")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Cohere {
    /// A client for `config`.
    pub fn new(config: CohereConfig) -> Self {
        let transport = Transport::new(TransportConfig {
            headers: config.header_pairs(),
            key: config.api_key.as_ref(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        });
        let endpoint = Endpoint::new(config.endpoint());
        Cohere {
            config,
            transport,
            endpoint,
        }
    }

    /// Cohere from the environment ([`CohereConfig::from_env`]).
    pub fn from_env() -> Self {
        Cohere::new(CohereConfig::from_env())
    }

    /// The body of a request.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unsupported`] for a mode or part Cohere cannot take.
    pub fn request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        serde_json::from_slice(&self.body_bytes(request, false)?).map_err(cannot_serialize)
    }

    fn body_bytes(&self, request: &ChatRequest, streaming: bool) -> Result<Vec<u8>, ProviderError> {
        if let Some(output) = &request.output {
            self.config
                .capabilities
                .check(output.mode)
                .map_err(ProviderError::Unsupported)?;
        }
        let wire = wire::chat_request(request, streaming)?;
        if request.extra.is_empty() {
            return serde_json::to_vec(&wire).map_err(cannot_serialize);
        }
        let mut body = serde_json::to_value(&wire).map_err(cannot_serialize)?;
        if let Value::Object(body) = &mut body {
            for (key, value) in &request.extra {
                if key != "stream" {
                    body.insert(key.clone(), value.clone());
                }
            }
        }
        serde_json::to_vec(&body).map_err(cannot_serialize)
    }

    fn redactor(&self) -> &Redactor {
        self.transport.redactor()
    }

    async fn complete_inner(
        &self,
        request: &ChatRequest,
        keep_raw: bool,
    ) -> Result<ChatResponse, ProviderError> {
        let body = self.body_bytes(request, false)?;
        let (bytes, header_id) = self.transport.whole(&self.endpoint, body, None).await?;
        let mut response = wire::read_response(&bytes, self.redactor(), keep_raw)?;
        if response.request_id.is_none() {
            response.request_id = self.transport.header_id(header_id);
        }
        Ok(response)
    }

    async fn stream_inner(&self, request: &ChatRequest) -> Result<EventStream, ProviderError> {
        let body = self.body_bytes(request, true)?;
        match self
            .transport
            .open_stream(&self.endpoint, body, None)
            .await?
        {
            Opened::Events(bytes) => Ok(map_sse(
                bytes,
                stream::ChatMapper::default(),
                self.redactor().clone(),
            )),
            Opened::Whole { body, request_id } => {
                let mut whole = wire::read_response(&body, self.redactor(), false)?;
                if whole.request_id.is_none() {
                    whole.request_id = self.transport.header_id(request_id);
                }
                let mut events = Vec::new();
                if let Some(id) = whole.request_id {
                    events.push(StreamEvent::ResponseId(id));
                }
                if let Some(text) = whole.text {
                    events.push(StreamEvent::TextDelta(text));
                }
                for (index, call) in whole.tool_calls.into_iter().enumerate() {
                    events.push(StreamEvent::ToolArgumentsDelta {
                        index,
                        id: Some(call.id),
                        name: Some(call.name),
                        delta: call.arguments.to_string(),
                    });
                }
                events.extend(whole.reasoning.into_iter().map(StreamEvent::Reasoning));
                events.extend(whole.usage.map(StreamEvent::Usage));
                events.extend(whole.finish_reason.map(StreamEvent::Finish));
                Ok(Box::pin(futures_util::stream::iter(
                    events.into_iter().map(Ok),
                )))
            }
        }
    }
}

fn cannot_serialize(error: serde_json::Error) -> ProviderError {
    ProviderError::Unsupported(format!("the request cannot be serialized: {error}"))
}

impl Provider for Cohere {
    fn name(&self) -> &str {
        "cohere"
    }

    fn capabilities(&self, _model: &str) -> Capabilities {
        self.config.capabilities
    }

    fn wire_body(&self, request: &ChatRequest) -> Option<Value> {
        self.request_body(request).ok()
    }

    fn redact(&self, text: &str) -> String {
        self.redactor().text(text.to_owned())
    }

    fn redacted<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.redactor().borrowed(text)
    }

    fn redact_in_place(&self, text: &mut String) {
        self.redactor().in_place(text);
    }

    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.complete_inner(request, true))
    }

    fn complete_without_raw<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.complete_inner(request, false))
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, ProviderError>> {
        Box::pin(self.stream_inner(request))
    }
}
