//! The OpenAI Chat Completions client, for OpenAI itself, Azure OpenAI and every
//! OpenAI-compatible server (see [`crate::presets`]).
//!
//! It speaks HTTP directly (reqwest, rustls) and translates the neutral request of
//! `instructor-core` into a `POST {base}/chat/completions` body:
//!
//! | mode | what is sent |
//! |---|---|
//! | `Tools` | one function tool, `parameters` = the schema in JSON Schema without `$schema`, a non-object root wrapped as `{"value": ...}` (OpenAI requires `type: object`), and `tool_choice` forced to it |
//! | `ToolsStrict` | the same with `strict: true` and the strict dialect (also wrapped) |
//! | `Json` | `response_format: {type: json_object}` (the schema goes in the prompt, which the caller writes) |
//! | `JsonSchema` | `response_format: {type: json_schema, json_schema: {name, schema, strict: true}}` in the strict dialect |
//! | `MdJson` | nothing extra |
//! | `ParallelTools` | the schema as one tool, `tool_choice: "auto"`, `parallel_tool_calls: true` |
//!
//! Where a root is wrapped, the answer is `{"value": <the value>}`: see [`wraps_root`].
//! Tool and schema names are [`wire_name`]s of `OutputSpec::name`.
//!
//! # What the server sends is not trusted
//!
//! - Redirects are never followed: a 3xx is [`ProviderError::Redirect`].
//! - Bodies are read up to [`OpenAiConfig::max_response_bytes`]; error bodies are kept
//!   by their first [`MAX_BODY_BYTES`], ids and model names by their first
//!   [`MAX_ID_BYTES`]; `retry-after` waits are at most [`MAX_RETRY_AFTER`]; a streamed
//!   tool call index at or past [`MAX_TOOL_CALLS`] is an error.
//! - The key is removed from everything read (answers, stream events, errors, the raw
//!   body), and [`Provider::redact`](instructor_core::chat::Provider::redact) removes it from what the caller joins together.
//! - A streamed request answered with a whole JSON completion (a server that ignores
//!   `stream: true`) is read as that answer; an answer that is neither JSON nor an event
//!   stream (a captive portal's page, an empty body) is a [`ProviderError::Decode`].
//! - A mid-stream error object is a [`ProviderError::Stream`], classified like the HTTP
//!   status of the same error.
//!
//! ```no_run
//! use instructor_core::chat::{ChatRequest, Message, Provider};
//! use instructor_providers::openai::OpenAi;
//!
//! # async fn run() -> Result<(), instructor_core::chat::ProviderError> {
//! let openai = OpenAi::from_env();
//! let request = ChatRequest {
//!     model: "gpt-4o-mini".into(),
//!     messages: vec![Message::user("Say hi")],
//!     output: None,
//!     params: Default::default(),
//!     extra: Default::default(),
//! };
//! let response = openai.complete(&request).await?;
//! println!("{:?}", response.text);
//! # Ok(()) }
//! ```

pub mod batch;
mod stream;
pub(crate) mod types;

pub use crate::http::errors::MAX_RETRY_AFTER;
use crate::http::native::{Wire, native_provider};
use crate::http::redact::Redactor;
pub use crate::http::redact::{MAX_BODY_BYTES, MAX_ID_BYTES, MIN_REDACTED_KEY_BYTES};
use crate::http::{Endpoint, Transport, TransportConfig};
use crate::values::decimal_f64;

pub use batch::OpenAiBatch;
pub use stream::stream_events;

use instructor_core::chat::{
    Capabilities, ChatRequest, ChatResponse, ContentPart, FinishReason, MAX_TOOL_CALLS, Message,
    Mode, OutputSpec, ProviderError, Role,
};
use instructor_core::schema::{Dialect, RootSchema, rendered};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use types::{
    ChatCompletion, ChatCompletionRequest, FileData, FunctionDefinition, ImageUrl,
    JsonSchemaFormat, Loose, NamedFunction, RequestContent, RequestFunctionCall, RequestMessage,
    RequestPart, RequestToolCall, ResponseFormat, StreamOptions, Text, Tool, ToolChoice,
    merge_extra,
};

/// The default time one HTTP exchange may take (see [`OpenAiConfig::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The default size limit of one answer (see [`OpenAiConfig::max_response_bytes`]):
/// 32 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// An API key. It never prints: `Debug` and `Display` show `[redacted]`, and the client
/// removes it from everything the server sends back (a key shorter than
/// [`MIN_REDACTED_KEY_BYTES`] is a placeholder such as `EMPTY`, and is left alone so that
/// answers are not mangled).
///
/// ```
/// use instructor_providers::openai::ApiKey;
///
/// let key = ApiKey::new("sk-secret");
/// assert_eq!(format!("{key:?} {key}"), "[redacted] [redacted]");
/// assert_eq!(key.expose(), "sk-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey(key.to_owned())
    }
}

/// Which header carries the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>` (OpenAI and the compatible servers).
    #[default]
    Bearer,
    /// `api-key: <key>` (Azure OpenAI with a resource key).
    AzureApiKey,
}

/// Where the endpoint is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PathStyle {
    /// `{base_url}/chat/completions`.
    #[default]
    Standard,
    /// `{base_url}/openai/deployments/{deployment}/chat/completions?api-version=...`
    /// (Azure OpenAI). Without a deployment, the request's model names it.
    AzureDeployment {
        /// The deployment, or `None` to use the request's model.
        deployment: Option<String>,
        /// The `api-version` query value, like `2024-10-21`.
        api_version: String,
    },
}

/// Which field carries `GenerationParams::max_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TokenLimitField {
    /// `max_completion_tokens`: OpenAI's current field (required by reasoning models).
    #[default]
    MaxCompletionTokens,
    /// `max_tokens`: the deprecated field that most compatible servers read.
    MaxTokens,
}

/// Everything the client needs to know about one server.
///
/// Required values are in the constructor; everything else has a `with_` method. Use a
/// [`crate::presets::Preset`] for known servers.
///
/// ```
/// use instructor_providers::openai::{OpenAiConfig, TokenLimitField};
/// use std::time::Duration;
///
/// let config = OpenAiConfig::new("http://localhost:8000/v1")
///     .with_api_key("token-abc123")
///     .with_token_limit_field(TokenLimitField::MaxTokens)
///     .with_timeout(Some(Duration::from_secs(60)));
/// assert!(!format!("{config:?}").contains("token-abc123"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct OpenAiConfig {
    /// A short name for logs and spans (`openai`, `groq`).
    pub name: String,
    /// The API root, like `https://api.openai.com/v1`.
    pub base_url: String,
    /// The key, if the server needs one.
    pub api_key: Option<ApiKey>,
    /// `OpenAI-Organization`.
    pub organization: Option<String>,
    /// `OpenAI-Project`.
    pub project: Option<String>,
    /// More headers sent with every request (their values never print).
    pub headers: Vec<(String, String)>,
    /// Which header carries the key.
    pub auth: AuthStyle,
    /// Where the endpoint is.
    pub path: PathStyle,
    /// Which field carries the token limit.
    pub token_limit_field: TokenLimitField,
    /// What the server can do, for models without an override.
    pub capabilities: Capabilities,
    /// Per-model overrides: an exact model name, or a prefix ending in `*`
    /// (`gpt-3.5-turbo*`). An exact name wins, then the longest prefix.
    pub model_capabilities: Vec<(String, Capabilities)>,
    /// The longest one HTTP exchange may take: for `complete`, from connecting to the
    /// last byte of the body; for `stream`, connecting, then each wait for more bytes
    /// (the stream as a whole may last longer). `None` waits for ever.
    pub timeout: Option<Duration>,
    /// The most bytes one answer may carry, so that memory stays bounded whatever the
    /// server sends: for `complete`, the body (an error body too), read chunk by chunk
    /// and refused as soon as it passes the limit (at once when its `Content-Length`
    /// announces more), never buffered beyond it; for `stream`, the bytes received over
    /// the whole stream, past which the stream yields one [`ProviderError::Decode`] and
    /// ends. Default [`DEFAULT_MAX_RESPONSE_BYTES`]. (Each server-sent event is also
    /// bounded by [`crate::sse::MAX_EVENT_BYTES`].)
    pub max_response_bytes: usize,
}

impl OpenAiConfig {
    /// A config for the server at `base_url`, with Bearer auth, the standard path, every
    /// capability, `max_completion_tokens`, [`DEFAULT_TIMEOUT`] and
    /// [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn new(base_url: impl Into<String>) -> Self {
        OpenAiConfig {
            name: "openai".to_owned(),
            base_url: base_url.into(),
            api_key: None,
            organization: None,
            project: None,
            headers: Vec::new(),
            auth: AuthStyle::Bearer,
            path: PathStyle::Standard,
            token_limit_field: TokenLimitField::MaxCompletionTokens,
            capabilities: Capabilities::ALL,
            model_capabilities: Vec::new(),
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Sets the name for logs.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the base URL.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the key.
    pub fn with_api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets `OpenAI-Organization`.
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sets `OpenAI-Project`.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Adds a header to every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the auth header style.
    pub fn with_auth(mut self, auth: AuthStyle) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the path style.
    pub fn with_path(mut self, path: PathStyle) -> Self {
        self.path = path;
        self
    }

    /// Sets the token limit field.
    pub fn with_token_limit_field(mut self, field: TokenLimitField) -> Self {
        self.token_limit_field = field;
        self
    }

    /// Sets the server's capabilities.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Overrides the capabilities of a model (exact name) or of models (a prefix ending
    /// in `*`).
    pub fn with_model_capabilities(
        mut self,
        model: impl Into<String>,
        capabilities: Capabilities,
    ) -> Self {
        self.model_capabilities.push((model.into(), capabilities));
        self
    }

    /// Sets the timeout of one HTTP exchange.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the most bytes one answer may carry (see
    /// [`OpenAiConfig::max_response_bytes`]).
    ///
    /// ```
    /// use instructor_providers::openai::{DEFAULT_MAX_RESPONSE_BYTES, OpenAiConfig};
    ///
    /// let config = OpenAiConfig::new("http://localhost:8000/v1");
    /// assert_eq!(config.max_response_bytes, DEFAULT_MAX_RESPONSE_BYTES);
    /// let config = config.with_max_response_bytes(1024 * 1024);
    /// assert_eq!(config.max_response_bytes, 1024 * 1024);
    /// ```
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// What `model` can do here.
    pub fn capabilities_for(&self, model: &str) -> Capabilities {
        let mut best: Option<(usize, Capabilities)> = None;
        for (pattern, capabilities) in &self.model_capabilities {
            let rank = match pattern.strip_suffix('*') {
                None if pattern == model => usize::MAX,
                Some(prefix) if model.starts_with(prefix) => prefix.len(),
                _ => continue,
            };
            if best.is_none_or(|(best_rank, _)| rank > best_rank) {
                best = Some((rank, *capabilities));
            }
        }
        best.map_or(self.capabilities, |(_, capabilities)| capabilities)
    }

    /// The endpoint URL for `model`.
    pub fn endpoint(&self, model: &str) -> String {
        let base = self.base_url.trim_end_matches('/');
        match &self.path {
            PathStyle::Standard => format!("{base}/chat/completions"),
            PathStyle::AzureDeployment {
                deployment,
                api_version,
            } => format!(
                "{base}/openai/deployments/{}/chat/completions?api-version={}",
                percent_encode(deployment.as_deref().unwrap_or(model)),
                percent_encode(api_version)
            ),
        }
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, _)| format!("{name}: [redacted]"))
            .collect();
        f.debug_struct("OpenAiConfig")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("headers", &headers)
            .field("auth", &self.auth)
            .field("path", &self.path)
            .field("token_limit_field", &self.token_limit_field)
            .field("capabilities", &self.capabilities)
            .field("model_capabilities", &self.model_capabilities)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// Escapes what cannot stand in a URL path segment or query value.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The headers of every request of `config`: the key (marked sensitive), the
/// organization, the project and the configured headers. Built once per client.
fn config_headers(config: &OpenAiConfig) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = &config.api_key {
        let (name, value) = match config.auth {
            AuthStyle::Bearer => ("authorization", format!("Bearer {}", key.expose())),
            AuthStyle::AzureApiKey => ("api-key", key.expose().to_owned()),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            ProviderError::Unsupported(
                "the API key contains characters a header cannot carry".to_owned(),
            )
        })?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static(name), value);
    }
    let named = [
        ("openai-organization", config.organization.as_ref()),
        ("openai-project", config.project.as_ref()),
    ];
    let fixed = named
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value.as_str())));
    let extra = config
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    for (name, value) in fixed.chain(extra) {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ProviderError::Unsupported(format!("`{name}` is not a valid header name"))
        })?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            ProviderError::Unsupported(format!("the value of header `{name}` is not valid"))
        })?;
        value.set_sensitive(true);
        headers.insert(header, value);
    }
    Ok(headers)
}

/// About the size of `wire` serialized, so that the body is written without growing.
fn body_capacity(wire: &ChatCompletionRequest<'_>) -> usize {
    let schemas: usize = wire
        .tools
        .iter()
        .map(|tool| tool.function.parameters.as_str().len())
        .sum();
    let texts: usize = wire
        .messages
        .iter()
        .map(|message| match &message.content {
            Some(RequestContent::Text(text)) => text.len() + 64,
            _ => 256,
        })
        .sum();
    512 + schemas + texts
}

fn cannot_serialize(error: serde_json::Error) -> ProviderError {
    ProviderError::Unsupported(format!("cannot serialize the request: {error}"))
}

/// Merges `extra` into `body`; the method owns `stream`, whatever `extra` says.
fn finish_body(body: &mut Value, extra: &serde_json::Map<String, Value>, streaming: bool) {
    merge_extra(body, extra);
    if let Value::Object(map) = body {
        if streaming {
            map.insert("stream".to_owned(), Value::Bool(true));
        } else {
            map.remove("stream");
            map.remove("stream_options");
        }
    }
}

/// The OpenAI Chat Completions client, for OpenAI and every server that speaks its API
/// (configured by an [`OpenAiConfig`], or a [`crate::presets::Preset`]).
///
/// It implements core's `Provider`: hand it to `instructor::Client::new`.
///
/// # Example
///
/// An extraction through real HTTP against the local fake provider (feature `testing`),
/// which stands in for `https://api.openai.com/v1` and records what the client sent:
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use instructor_core::client::Client;
/// use instructor_providers::openai::{OpenAi, OpenAiConfig};
/// use instructor_providers::testing::{FakeProvider, openai::ChatCompletion};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = FakeProvider::start().await;
/// server.push(ChatCompletion::tool_call("text_list", r#"{"value": ["Paris", "Lyon"]}"#).reply());
///
/// let openai = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-test"));
/// assert!(!format!("{openai:?}").contains("sk-test")); // the key never prints
/// let client = Client::new(openai).with_model("gpt-4o-mini");
/// let cities: Vec<String> = client
///     .extract::<Vec<String>>()
///     .user("Paris and Lyon are in France.")
///     .await
///     .unwrap();
/// assert_eq!(cities, ["Paris", "Lyon"]);
///
/// let request = server.last_request().unwrap();
/// assert_eq!(request.path(), "/v1/chat/completions");
/// assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
/// assert_eq!(request.json().unwrap()["tool_choice"]["function"]["name"], "text_list");
/// # });
/// # }
/// ```
pub struct OpenAi {
    config: OpenAiConfig,
    /// The HTTP plumbing every provider shares (no redirects, bounded bodies,
    /// redaction, one timer per exchange).
    transport: Transport,
    /// The endpoint, parsed once, when it does not depend on the model.
    endpoint: Option<Endpoint>,
}

impl fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAi")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OpenAi {
    /// A client for `config`.
    pub fn new(config: OpenAiConfig) -> Self {
        let transport = Transport::new(TransportConfig {
            headers: config_headers(&config),
            key: config.api_key.as_ref(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        });
        let model_free = match &config.path {
            PathStyle::Standard => true,
            PathStyle::AzureDeployment { deployment, .. } => deployment.is_some(),
        };
        let endpoint = model_free.then(|| Endpoint::new(config.endpoint("")));
        OpenAi {
            config,
            transport,
            endpoint,
        }
    }

    /// OpenAI with `OPENAI_API_KEY`, `OPENAI_BASE_URL` (default
    /// `https://api.openai.com/v1`), `OPENAI_ORG_ID` and `OPENAI_PROJECT_ID`.
    pub fn from_env() -> Self {
        OpenAi::new(crate::presets::Preset::OpenAi.config_from_env())
    }

    /// The config.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The body of a non-streamed request.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unsupported`] when the mode is beyond the model's capabilities,
    /// the schema cannot be expressed in the mode's dialect, or a message cannot be sent
    /// (an image outside a user message, a tool answer without its call id).
    pub fn request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        self.body_value(request, false)
    }

    /// The body of a streamed request: `stream: true`, and `stream_options.include_usage`
    /// where the capabilities say the server reports usage in streams.
    ///
    /// # Errors
    ///
    /// As [`OpenAi::request_body`].
    pub fn stream_request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        self.body_value(request, true)
    }

    fn body_value(&self, request: &ChatRequest, streaming: bool) -> Result<Value, ProviderError> {
        let wire = self.wire(request, streaming)?;
        let mut body = serde_json::to_value(&wire).map_err(cannot_serialize)?;
        finish_body(&mut body, &request.extra, streaming);
        Ok(body)
    }

    /// The wire request for `request`, borrowing from it.
    fn wire<'a>(
        &self,
        request: &'a ChatRequest,
        streaming: bool,
    ) -> Result<ChatCompletionRequest<'a>, ProviderError> {
        let capabilities = self.config.capabilities_for(&request.model);
        let params = &request.params;
        let (max_completion_tokens, max_tokens) = match self.config.token_limit_field {
            TokenLimitField::MaxCompletionTokens => (params.max_tokens, None),
            TokenLimitField::MaxTokens => (None, params.max_tokens),
        };
        let mut wire = ChatCompletionRequest {
            model: &request.model,
            messages: request
                .messages
                .iter()
                .map(request_message)
                .collect::<Result<_, _>>()?,
            temperature: params.temperature.map(decimal_f64),
            top_p: params.top_p.map(decimal_f64),
            max_completion_tokens,
            max_tokens,
            seed: params.seed,
            stop: &params.stop,
            prompt_cache_key: params.prompt_cache_key.as_deref(),
            tools: Vec::new(),
            tool_choice: None,
            parallel_tool_calls: None,
            response_format: None,
            stream: None,
            stream_options: None,
        };
        if let Some(output) = &request.output {
            capabilities
                .check(output.mode)
                .map_err(ProviderError::Unsupported)?;
            apply_output(&mut wire, output)?;
        }
        if streaming {
            wire.stream = Some(true);
            if capabilities.streaming_usage {
                wire.stream_options = Some(StreamOptions {
                    include_usage: true,
                });
            }
        }
        Ok(wire)
    }
}

impl Wire for OpenAi {
    fn transport(&self) -> &Transport {
        &self.transport
    }

    fn provider_name(&self) -> &str {
        &self.config.name
    }

    fn provider_capabilities(&self, model: &str) -> Capabilities {
        self.config.capabilities_for(model)
    }

    /// The body as sent: the wire request serialized straight to bytes (each schema
    /// embedded as rendered once), through a `Value` only when `extra` fields are
    /// merged in. The same JSON as [`OpenAi::request_body`].
    fn body(&self, request: &ChatRequest, streaming: bool) -> Result<Vec<u8>, ProviderError> {
        let wire = self.wire(request, streaming)?;
        if request.extra.is_empty() {
            let mut body = Vec::with_capacity(body_capacity(&wire));
            serde_json::to_writer(&mut body, &wire).map_err(cannot_serialize)?;
            return Ok(body);
        }
        let mut body = serde_json::to_value(&wire).map_err(cannot_serialize)?;
        finish_body(&mut body, &request.extra, streaming);
        serde_json::to_vec(&body).map_err(cannot_serialize)
    }

    /// The endpoint for the model (made once when it does not depend on the model).
    fn endpoint(
        &self,
        request: &ChatRequest,
        _streaming: bool,
    ) -> Result<Cow<'_, Endpoint>, ProviderError> {
        Ok(match &self.endpoint {
            Some(endpoint) => Cow::Borrowed(endpoint),
            None => Cow::Owned(Endpoint::new(self.config.endpoint(&request.model))),
        })
    }

    const READ: fn(&[u8], &Redactor, bool) -> Result<ChatResponse, ProviderError> = read_response;

    type Mapper = stream::ChunkMapper;
}

native_provider!(OpenAi);

/// A name OpenAI accepts for a tool or a response format: core's
/// [`tool_name`](instructor_core::chat::tool_name) rule, which every provider shares.
///
/// ```
/// use instructor_providers::openai::wire_name;
///
/// assert_eq!(wire_name("Vec<Ticket>"), "Vec_Ticket_");
/// assert_eq!(wire_name("extract_user"), "extract_user");
/// ```
pub fn wire_name(name: &str) -> String {
    instructor_core::chat::tool_name(name)
}

/// Whether the answer to `output` comes wrapped as `{"value": ...}`: core's
/// [`OutputSpec::wraps_root`] rule, which every provider shares.
pub fn wraps_root(output: &OutputSpec) -> bool {
    output.wraps_root()
}

fn apply_output<'a>(
    wire: &mut ChatCompletionRequest<'a>,
    output: &'a OutputSpec,
) -> Result<(), ProviderError> {
    // Each schema is rendered once per dialect and embedded as serialized JSON.
    let render = |schema: &Arc<RootSchema>, dialect: Dialect| {
        rendered(schema, dialect).map_err(|error| ProviderError::Unsupported(error.to_string()))
    };
    let tool = |dialect: Dialect, strict: Option<bool>| -> Result<Tool<'a>, ProviderError> {
        Ok(Tool {
            kind: "function",
            function: FunctionDefinition {
                name: wire_name_of(&output.name),
                description: output.description.as_deref(),
                parameters: render(&output.schema, dialect)?,
                strict,
            },
        })
    };
    match output.mode {
        // Non-strict tools take plain JSON Schema without `$schema`, with a non-object
        // root wrapped: exactly the policy of the `AnthropicTool` dialect, whose name
        // says where it was first needed.
        Mode::Tools => {
            let tool = tool(Dialect::AnthropicTool, None)?;
            wire.tool_choice = Some(named_choice(&tool));
            wire.tools.push(tool);
        }
        Mode::ToolsStrict => {
            let tool = tool(Dialect::OpenAiStrict, Some(true))?;
            wire.tool_choice = Some(named_choice(&tool));
            wire.tools.push(tool);
        }
        // One tool per variant of the item enum (or the schema as one tool); the model
        // calls as many as the answer needs.
        Mode::ParallelTools => {
            if output.tools.is_empty() {
                wire.tools.push(tool(Dialect::AnthropicTool, None)?);
            }
            for spec in &output.tools {
                wire.tools.push(Tool {
                    kind: "function",
                    function: FunctionDefinition {
                        name: wire_name_of(&spec.name),
                        description: spec.description.as_deref(),
                        parameters: render(&spec.schema, Dialect::AnthropicTool)?,
                        strict: None,
                    },
                });
            }
            wire.tool_choice = Some(ToolChoice::Mode("auto"));
            wire.parallel_tool_calls = Some(true);
        }
        Mode::Json => wire.response_format = Some(ResponseFormat::JsonObject),
        Mode::JsonSchema => {
            wire.response_format = Some(ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: wire_name_of(&output.name),
                    description: output.description.as_deref(),
                    schema: render(&output.schema, Dialect::OpenAiStrict)?,
                    strict: true,
                },
            });
        }
        Mode::MdJson => {}
        other => {
            return Err(ProviderError::Unsupported(format!(
                "{other:?} is not implemented by the OpenAI client"
            )));
        }
    }
    Ok(())
}

/// [`wire_name`], borrowed when `name` already is one (as core's names are).
fn wire_name_of(name: &str) -> Cow<'_, str> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'));
    if valid {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(wire_name(name))
    }
}

fn named_choice<'a>(tool: &Tool<'a>) -> ToolChoice<'a> {
    ToolChoice::Named {
        kind: "function",
        function: NamedFunction {
            name: tool.function.name.clone(),
        },
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

fn request_message(message: &Message) -> Result<RequestMessage<'_>, ProviderError> {
    let role = role_name(message.role);
    // One text part is sent as a plain string: every compatible server reads that.
    let content = match message.content.as_slice() {
        [] if message.role == Role::Assistant && !message.tool_calls.is_empty() => None,
        [] => Some(RequestContent::Text("")),
        [ContentPart::Text { text }] => Some(RequestContent::Text(text)),
        content => {
            let mut parts = Vec::with_capacity(content.len());
            for part in content {
                parts.push(match part {
                    ContentPart::Text { text } => RequestPart::Text { text },
                    ContentPart::Image(image) if message.role == Role::User => {
                        RequestPart::ImageUrl {
                            image_url: ImageUrl {
                                url: image.source.to_url(),
                            },
                        }
                    }
                    ContentPart::Document(document) if message.role == Role::User => {
                        let Some((media_type, data)) = document.source.as_base64() else {
                            return Err(ProviderError::Unsupported(
                                "a document by URL cannot be sent to an OpenAI-compatible chat API: give its bytes (Document::from_file or from_bytes)".into(),
                            ));
                        };
                        RequestPart::File {
                            file: FileData {
                                filename: document
                                    .title
                                    .clone()
                                    .unwrap_or_else(|| "document.pdf".to_owned()),
                                file_data: format!("data:{media_type};base64,{data}"),
                            },
                        }
                    }
                    ContentPart::Image(_) | ContentPart::Document(_) => {
                        return Err(ProviderError::Unsupported(format!(
                            "images and documents can only be sent in user messages, not in a {role} message"
                        )));
                    }
                    // OpenAI caches prompt prefixes on its own, and reasoning from
                    // another provider cannot be sent back here: both are left out.
                    ContentPart::CacheBreakpoint { .. }
                    | ContentPart::Thinking { .. }
                    | ContentPart::RedactedThinking { .. } => continue,
                    other => {
                        return Err(ProviderError::Unsupported(format!(
                            "this content part cannot be sent to an OpenAI-compatible API: {}",
                            other.kind()
                        )));
                    }
                });
            }
            match parts.as_slice() {
                [] if message.role == Role::Assistant && !message.tool_calls.is_empty() => None,
                [] => Some(RequestContent::Text("")),
                [RequestPart::Text { text }] => Some(RequestContent::Text(text)),
                _ => Some(RequestContent::Parts(parts)),
            }
        }
    };
    let tool_call_id = match message.role {
        Role::Tool => Some(message.tool_call_id.as_deref().ok_or_else(|| {
            ProviderError::Unsupported("a tool message needs the id of the call it answers".into())
        })?),
        _ => None,
    };
    Ok(RequestMessage {
        role,
        content,
        tool_calls: message
            .tool_calls
            .iter()
            .map(|call| RequestToolCall {
                id: &call.id,
                kind: "function",
                function: RequestFunctionCall {
                    name: &call.name,
                    arguments: &call.arguments,
                },
            })
            .collect(),
        tool_call_id,
    })
}

/// Reads a non-streamed Chat Completions body.
///
/// Lenient: fields may be missing or `null` and unknown fields are ignored. Choice 0 is
/// read (or the first choice when none has index 0). A 200 answer that carries only an
/// `error` object becomes [`ProviderError::Status`] when its `code` is an HTTP status,
/// and [`ProviderError::Decode`] otherwise. Ids, model names and finish reasons longer
/// than [`MAX_ID_BYTES`] are cut.
///
/// ```
/// let body = br#"{"id":"chatcmpl-1","choices":[{"index":0,"message":{"content":"Hi"},"finish_reason":"stop"}]}"#;
/// let response = instructor_providers::openai::parse_response(body).unwrap();
/// assert_eq!(response.text.as_deref(), Some("Hi"));
/// assert_eq!(response.request_id.as_deref(), Some("chatcmpl-1"));
/// ```
///
/// # Errors
///
/// [`ProviderError::Decode`] with the body's beginning when it is not a JSON object of
/// the expected shape, holds no choice (an answer with nothing to read, which asking
/// again would pay for), or more than [`MAX_TOOL_CALLS`] tool calls.
pub fn parse_response(body: &[u8]) -> Result<ChatResponse, ProviderError> {
    read_response(body, &Redactor::default(), true)
}

/// [`parse_response`], with `redactor` applied to everything read.
/// `keep_raw: false` leaves `raw` as `Null` and reads no tree.
fn read_response(
    body: &[u8],
    redactor: &Redactor,
    keep_raw: bool,
) -> Result<ChatResponse, ProviderError> {
    // serde's messages quote the strings they could not read: redacted as the body is.
    let decode_error = |message: String| {
        redactor.error(ProviderError::Decode {
            message,
            body: redactor.preview(body, MAX_BODY_BYTES),
        })
    };
    let tree = || -> Result<Value, ProviderError> {
        serde_json::from_slice(body)
            .map_err(|error| decode_error(format!("the body is not JSON: {error}")))
    };
    let not_a_completion = |error: serde_json::Error| {
        decode_error(format!("the body is not a chat completion: {error}"))
    };
    let response = |completion: ChatCompletion<'_>| {
        completion_response(completion, body, redactor, &decode_error)
    };
    let response = if keep_raw {
        // A body the typed reading accepts but a tree cannot hold: a lone surrogate
        // escape (`\ud800`, no text in any encoding) in a field nobody reads. The
        // answer is the same with or without the raw body (and streamed); the raw body
        // keeps such an escape as U+FFFD.
        let without_tree = |error: ProviderError| match serde_json::from_slice(body) {
            Ok(completion) => {
                let mut read = response(completion)?;
                read.raw =
                    serde_json::from_slice(&without_lone_surrogates(body)).unwrap_or(Value::Null);
                Ok(read)
            }
            Err(_) => Err(error),
        };
        // The tree, kept as the raw body, is read without being cloned: the completion
        // borrows from it until it is made a response.
        match tree() {
            Ok(raw) => match ChatCompletion::deserialize(&raw) {
                Ok(completion) => {
                    let mut read = response(completion)?;
                    read.raw = raw;
                    read
                }
                Err(error) => without_tree(not_a_completion(error))?,
            },
            Err(error) => without_tree(error)?,
        }
    } else {
        // Straight from the bytes, without a tree. A body this cannot read is read
        // again through the tree, so that it is refused (or, for a duplicate key,
        // accepted) with the same words either way.
        match serde_json::from_slice(body) {
            Ok(completion) => response(completion)?,
            Err(_) => {
                let raw = tree()?;
                response(ChatCompletion::deserialize(&raw).map_err(not_a_completion)?)?
            }
        }
    };
    Ok(redactor.response(response))
}

/// The response a read completion stands for (its `raw` left `Null`), or the error it
/// is: an error object in place of the answer, an answer with no choice or with more
/// than [`MAX_TOOL_CALLS`] tool calls.
fn completion_response(
    completion: ChatCompletion<'_>,
    body: &[u8],
    redactor: &Redactor,
    decode_error: &dyn Fn(String) -> ProviderError,
) -> Result<ChatResponse, ProviderError> {
    let ChatCompletion {
        id,
        model,
        choices,
        usage,
        error,
    } = completion;
    let Some(choice) = choices.0 else {
        let Some(error) = error else {
            return Err(decode_error(
                "the answer holds no choice: there is no message to read".to_owned(),
            ));
        };
        let status = error
            .get("code")
            .and_then(Value::as_u64)
            .filter(|code| (400..600).contains(code))
            .and_then(|code| u16::try_from(code).ok());
        return Err(match status {
            Some(status) => redactor.error(ProviderError::Status {
                status,
                body: redactor.preview(body, MAX_BODY_BYTES),
                retry_after: None,
                request_id: id.map(Text::into_owned),
            }),
            None => decode_error("the provider answered with an error object".to_owned()),
        });
    };
    let message = choice.message;
    if message.tool_calls.count > MAX_TOOL_CALLS {
        return Err(decode_error(format!(
            "the answer holds {} tool calls, more than the {MAX_TOOL_CALLS} one answer may hold",
            message.tool_calls.count
        )));
    }
    Ok(ChatResponse {
        text: message.content.and_then(Loose::into_content_text),
        tool_calls: message.tool_calls.calls,
        usage: usage.map(Into::into),
        finish_reason: choice
            .finish_reason
            .filter(|reason| !reason.as_str().is_empty())
            .map(|reason| FinishReason::from_wire(reason.as_str())),
        refusal: message.refusal.map(Text::into_owned),
        request_id: id
            .filter(|id| !id.as_str().is_empty())
            .map(Text::into_owned),
        model: model.map(Text::into_owned),
        raw: Value::Null,
        ..ChatResponse::default()
    })
}

/// `body` with every lone surrogate escape (`\ud800` not followed by a low surrogate's
/// escape, or a low one alone) written as `\ufffd`, the same length; everything else as
/// is.
fn without_lone_surrogates(body: &[u8]) -> Vec<u8> {
    fn unit(escape: &[u8]) -> Option<u16> {
        let hex = escape.strip_prefix(b"\\u")?.get(..4)?;
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }
    let mut out = body.to_vec();
    let mut at = 0;
    while at < out.len() {
        if out[at] != b'\\' {
            at += 1;
            continue;
        }
        match unit(&out[at..]) {
            Some(0xD800..=0xDBFF)
                if unit(&out[at + 6..]).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) =>
            {
                at += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out[at..at + 6].copy_from_slice(b"\\ufffd");
                at += 6;
            }
            // Any other escape: its backslash and the character after it.
            _ => at += 2,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use instructor_core::chat::ToolCall;

    #[test]
    fn lone_surrogate_escapes_become_replacement_characters_and_nothing_else_changes() {
        let cases: &[(&str, &str)] = &[
            (r#"{"a":"\ud800"}"#, r#"{"a":"\ufffd"}"#),
            (r#"{"a":"\udc00x"}"#, r#"{"a":"\ufffdx"}"#),
            (r#"{"a":"\ud800\u0041"}"#, r#"{"a":"\ufffd\u0041"}"#),
            (r#"{"a":"\ud83d\ude00"}"#, r#"{"a":"\ud83d\ude00"}"#),
            (r#"{"a":"\\ud800"}"#, r#"{"a":"\\ud800"}"#),
            (r#"{"a":"\ud8"}"#, r#"{"a":"\ud8"}"#),
            (r#"{"a":"x\"}"#, r#"{"a":"x\"}"#),
        ];
        for (body, expected) in cases {
            let repaired = without_lone_surrogates(body.as_bytes());
            assert_eq!(
                std::str::from_utf8(&repaired).expect("UTF-8"),
                *expected,
                "{body}"
            );
        }
        let value: Value = serde_json::from_slice(&without_lone_surrogates(
            br#"{"a":"\ud800","b":"\ud83d\ude00"}"#,
        ))
        .expect("JSON once repaired");
        assert_eq!(value["a"], "\u{fffd}");
        assert_eq!(value["b"], "\u{1f600}");
    }

    #[test]
    fn exact_model_capabilities_beat_prefixes() {
        let none = Capabilities {
            forced_tool_choice: false,
            strict_tools: false,
            native_json_schema: false,
            json_mode: false,
            parallel_tools: false,
            streaming_usage: false,
        };
        let config = OpenAiConfig::new("http://x")
            .with_model_capabilities("gpt-*", none)
            .with_model_capabilities("gpt-4o*", Capabilities::ALL)
            .with_model_capabilities("gpt-4o-old", none);
        assert_eq!(config.capabilities_for("gpt-4o-mini"), Capabilities::ALL);
        assert_eq!(config.capabilities_for("gpt-4o-old"), none);
        assert_eq!(config.capabilities_for("gpt-3.5"), none);
        assert_eq!(config.capabilities_for("llama"), Capabilities::ALL);
    }

    fn request(mode: Option<Mode>, extra: serde_json::Map<String, Value>) -> ChatRequest {
        let root = instructor_core::schema::RootSchema {
            schema: instructor_core::schema::Schema::array(
                instructor_core::schema::Schema::string(),
            ),
            defs: Default::default(),
            root_name: None,
        };
        ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![
                Message::system("Be brief."),
                Message::user("Say \"hi\" \u{e9}"),
                Message::assistant_tool_calls(vec![ToolCall {
                    id: "call_1".into(),
                    name: "names".into(),
                    arguments: "{}".into(),
                }]),
                Message::tool("call_1", "ok"),
            ],
            output: mode.map(|mode| OutputSpec {
                mode,
                schema: Arc::new(root),
                name: "Vec<String>".into(),
                description: Some("The names.".into()),
                tools: Vec::new(),
            }),
            params: instructor_core::chat::GenerationParams {
                temperature: Some(0.7),
                max_tokens: Some(99),
                stop: vec!["END".into()],
                ..Default::default()
            },
            extra,
        }
    }

    #[test]
    fn the_bytes_sent_are_the_request_body() {
        let openai = OpenAi::new(OpenAiConfig::new("http://x").with_api_key("sk-0123456789"));
        let mut extra = serde_json::Map::new();
        extra.insert("stream".into(), Value::Bool(true));
        extra.insert("user".into(), Value::String("u-1".into()));
        let modes = [
            None,
            Some(Mode::Tools),
            Some(Mode::ToolsStrict),
            Some(Mode::Json),
            Some(Mode::JsonSchema),
            Some(Mode::MdJson),
            Some(Mode::ParallelTools),
        ];
        for mode in modes {
            for extra in [serde_json::Map::new(), extra.clone()] {
                let request = request(mode, extra);
                for streaming in [false, true] {
                    let bytes =
                        Wire::body(&openai, &request, streaming).unwrap_or_else(|e| panic!("{e}"));
                    let sent: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                    let body = openai
                        .body_value(&request, streaming)
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(sent, body, "{mode:?} streaming {streaming}");
                    // Same keys in the same order, too.
                    assert_eq!(
                        String::from_utf8_lossy(&bytes),
                        body.to_string(),
                        "{mode:?} streaming {streaming}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_response_read_without_its_tree_is_the_same_response() {
        let redactor = Redactor::new(Some(&ApiKey::new("sk-0123456789")));
        let bodies: [&[u8]; 9] = [
            br#"{"id":"c1","model":"m","choices":[{"index":0,"message":{"content":"Hi sk-0123456789","tool_calls":[{"id":"t","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
            br#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"thinking","text":"b"}],"tool_calls":[{"function":{"arguments":{"a":1}}}]}}]}"#,
            br#"{"id":"c1","id":"c2","choices":[{"message":{"content":"dup"}}]}"#,
            br#"{"error":{"code":429,"message":"slow down"}}"#,
            br#"{"error":{"message":"no"}}"#,
            br#"{"choices":[]}"#,
            br#"{"choices":"none"}"#,
            b"not json",
            br#"{"choices":[{"message":{"content":"a"}}]} trailing"#,
        ];
        for body in bodies {
            let kept = read_response(body, &redactor, true);
            let lean = read_response(body, &redactor, false);
            let text = String::from_utf8_lossy(body);
            match (kept, lean) {
                (Ok(kept), Ok(lean)) => {
                    assert!(kept.raw.is_object(), "{text}");
                    assert_eq!(lean.raw, Value::Null, "{text}");
                    assert_eq!(
                        ChatResponse {
                            raw: Value::Null,
                            ..kept
                        },
                        lean,
                        "{text}"
                    );
                }
                (Err(kept), Err(lean)) => assert_eq!(kept, lean, "{text}"),
                (kept, lean) => panic!("{text}: {kept:?} / {lean:?}"),
            }
        }
    }

    #[test]
    fn azure_endpoint_names_the_deployment() {
        let config = OpenAiConfig::new("https://res.openai.azure.com/").with_path(
            PathStyle::AzureDeployment {
                deployment: None,
                api_version: "2024-10-21".into(),
            },
        );
        assert_eq!(
            config.endpoint("my gpt"),
            "https://res.openai.azure.com/openai/deployments/my%20gpt/chat/completions?api-version=2024-10-21"
        );
    }
}
