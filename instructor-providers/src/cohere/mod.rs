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

use crate::http::native::{self, Wire, native_provider};
use crate::http::redact::Redactor;
use crate::http::{Endpoint, Transport, TransportConfig, header_map};
use crate::openai::{ApiKey, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use instructor_core::chat::{Capabilities, ChatRequest, ChatResponse, ProviderError};
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
        native::request_body(self, request, false)
    }
}

impl Wire for Cohere {
    fn transport(&self) -> &Transport {
        &self.transport
    }

    fn provider_name(&self) -> &str {
        "cohere"
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
        let wire = wire::chat_request(request, streaming)?;
        native::body_with_extra(&wire, &request.extra)
    }

    fn endpoint(&self, _: &ChatRequest, _: bool) -> Result<Cow<'_, Endpoint>, ProviderError> {
        Ok(Cow::Borrowed(&self.endpoint))
    }

    const READ: fn(&[u8], &Redactor, bool) -> Result<ChatResponse, ProviderError> =
        wire::read_response;

    type Mapper = stream::ChatMapper;
}

native_provider!(Cohere);
