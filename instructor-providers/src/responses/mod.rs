//! OpenAI's Responses API (`POST /v1/responses`), natively.
//!
//! Modes: `JsonSchema` (`text.format` json_schema, strict), `Json` (`text.format`
//! json_object), `Tools` and `ToolsStrict` (one function tool, `tool_choice` naming
//! it), `ParallelTools` (`tool_choice: required`), `MdJson`. Requests are sent with
//! `store: false`. Streams as the API's typed events; reasoning summaries are kept
//! beside the answer, and usage carries the reasoning tokens.
//!
//! ```
//! use instructor_core::chat::{ChatRequest, Message, Provider};
//! use instructor_providers::responses::{OpenAiResponses, ResponsesConfig};
//! use instructor_providers::testing::{FakeProvider, responses::Response};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), instructor_core::chat::ProviderError> {
//! let server = FakeProvider::start().await;
//! server.push(Response::text("Riga.").reply());
//! let openai = OpenAiResponses::new(ResponsesConfig::new(server.base_url()).with_api_key("sk-test"));
//! let request = ChatRequest {
//!     model: "gpt-4.1-mini".into(),
//!     messages: vec![Message::user("The capital of Latvia?")],
//!     output: None,
//!     params: Default::default(),
//!     extra: Default::default(),
//! };
//! assert_eq!(openai.complete(&request).await?.text.as_deref(), Some("Riga."));
//! assert_eq!(server.last_request().expect("sent").path(), "/v1/responses");
//! # Ok(()) }
//! ```

mod stream;
mod wire;

use crate::http::native::{self, Wire, native_provider};
use crate::http::redact::Redactor;
use crate::http::{Endpoint, Transport, TransportConfig, header_map};
use crate::openai::{ApiKey, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use instructor_core::chat::{Capabilities, ChatRequest, ChatResponse, ProviderError};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// OpenAI's API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// How to reach the Responses API.
#[derive(Clone)]
pub struct ResponsesConfig {
    /// The base URL, with `/v1` (default [`DEFAULT_BASE_URL`]).
    pub base_url: String,
    /// The key, sent as `Authorization: Bearer`.
    pub api_key: Option<ApiKey>,
    /// More headers for every request (`OpenAI-Organization`, `OpenAI-Project`, ...).
    pub headers: Vec<(String, String)>,
    /// What the models can do.
    pub capabilities: Capabilities,
    /// The time one exchange may take.
    pub timeout: Option<Duration>,
    /// The size limit of one answer.
    pub max_response_bytes: usize,
}

impl fmt::Debug for ResponsesConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponsesConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ResponsesConfig {
    /// The API at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        ResponsesConfig {
            base_url: base_url.into(),
            api_key: None,
            headers: Vec::new(),
            capabilities: Capabilities::ALL,
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// OpenAI with `OPENAI_API_KEY` and `OPENAI_BASE_URL`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = ResponsesConfig::new(
            var("OPENAI_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        );
        config.api_key = var("OPENAI_API_KEY").map(ApiKey::new);
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

    /// The Responses endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/responses", self.base_url.trim_end_matches('/'))
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

/// The Responses API client.
pub struct OpenAiResponses {
    config: ResponsesConfig,
    transport: Transport,
    endpoint: Endpoint,
}

impl fmt::Debug for OpenAiResponses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiResponses")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OpenAiResponses {
    /// A client for `config`.
    pub fn new(config: ResponsesConfig) -> Self {
        let transport = Transport::new(TransportConfig {
            headers: config.header_pairs(),
            key: config.api_key.as_ref(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        });
        let endpoint = Endpoint::new(config.endpoint());
        OpenAiResponses {
            config,
            transport,
            endpoint,
        }
    }

    /// OpenAI from the environment ([`ResponsesConfig::from_env`]).
    pub fn from_env() -> Self {
        OpenAiResponses::new(ResponsesConfig::from_env())
    }

    /// The body of a request.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unsupported`] for a mode, part or parameter the API cannot
    /// take (stop sequences and seeds are not offered).
    pub fn request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        native::request_body(self, request, false)
    }
}

impl Wire for OpenAiResponses {
    fn transport(&self) -> &Transport {
        &self.transport
    }

    fn provider_name(&self) -> &str {
        "openai_responses"
    }

    fn provider_capabilities(&self, _model: &str) -> Capabilities {
        self.config.capabilities
    }

    fn body(&self, request: &ChatRequest, streaming: bool) -> Result<Vec<u8>, ProviderError> {
        if let Some(output) = &request.output {
            self.config
                .capabilities
                .check(output.mode)
                .map_err(ProviderError::Unsupported)?;
        }
        let wire = wire::responses_request(request, streaming)?;
        native::body_with_extra(&wire, &request.extra)
    }

    fn endpoint(&self, _: &ChatRequest, _: bool) -> Result<Cow<'_, Endpoint>, ProviderError> {
        Ok(Cow::Borrowed(&self.endpoint))
    }

    const READ: fn(&[u8], &Redactor, bool) -> Result<ChatResponse, ProviderError> =
        wire::read_response;

    type Mapper = stream::ResponsesMapper;
}

native_provider!(OpenAiResponses);
