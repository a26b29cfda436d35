//! Google Gemini, natively: the Generative Language API (`GEMINI_API_KEY`) and Vertex AI
//! (a project and a location, with a bearer token from application-default
//! credentials), one wire for both.
//!
//! Modes: `JsonSchema` (`responseMimeType: application/json` with `responseJsonSchema`,
//! or `responseSchema` with [`SchemaField::ResponseSchema`]): the answer streams as
//! text, the best mode for `.partial()`; `Tools` (one function declaration, calling
//! forced with mode `ANY` and the allowed name: the call arrives whole, or on Vertex AI
//! with streamed arguments piece by piece); `Json` (JSON output, the schema in the
//! prompt); `MdJson`; `ParallelTools`. `MAX_TOKENS` is the token limit, the safety
//! family and a blocked prompt the content filter, and a `429` waits as long as its
//! `RetryInfo` asks.
//!
//! ```
//! use instructor_core::chat::{ChatRequest, Message, Provider};
//! use instructor_providers::gemini::{Gemini, GeminiConfig};
//! use instructor_providers::testing::{FakeProvider, gemini::GenerateContent};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), instructor_core::chat::ProviderError> {
//! let server = FakeProvider::start().await;
//! server.push(GenerateContent::text("Riga.").reply());
//! let gemini = Gemini::new(GeminiConfig::new(server.base_url()).with_api_key("AIza-test-key"));
//! let request = ChatRequest {
//!     model: "gemini-2.5-flash".into(),
//!     messages: vec![Message::system("Be brief."), Message::user("The capital of Latvia?")],
//!     output: None,
//!     params: Default::default(),
//!     extra: Default::default(),
//! };
//! let response = gemini.complete(&request).await?;
//! assert_eq!(response.text.as_deref(), Some("Riga."));
//!
//! let sent = server.last_request().expect("one request");
//! assert_eq!(sent.path(), "/v1beta/models/gemini-2.5-flash:generateContent");
//! assert_eq!(sent.header("x-goog-api-key"), Some("AIza-test-key"));
//! let body = sent.json().expect("JSON");
//! assert_eq!(body["systemInstruction"]["parts"][0]["text"], "Be brief.");
//! # Ok(()) }
//! ```

pub mod batch;
mod request;
mod response;
mod stream;
pub mod vertex;

use crate::http::native::{self, Wire, native_provider};
use crate::http::redact::Redactor;
use crate::http::{Endpoint, Transport, TransportConfig, header_map};
use crate::openai::{ApiKey, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
pub use batch::GeminiBatch;
use instructor_core::chat::{Capabilities, ChatRequest, ChatResponse, Mode, ProviderError};
use reqwest::header::HeaderValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;
pub use vertex::VertexAuth;

/// The Generative Language API.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// What Gemini models can do: a forced function call, native JSON Schema output, JSON
/// output, several calls per answer, usage in streams; no strict tools.
pub const CAPABILITIES: Capabilities = Capabilities {
    forced_tool_choice: true,
    strict_tools: false,
    native_json_schema: true,
    json_mode: true,
    parallel_tools: true,
    streaming_usage: true,
};

/// The mode a Gemini client starts in: JSON Schema output, which streams as text (a
/// function call arrives whole on the Gemini API).
pub const PREFERRED_MODE: Mode = Mode::JsonSchema;

/// Which field carries the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SchemaField {
    /// `responseJsonSchema` / `parametersJsonSchema`: JSON Schema (`$ref`, maps).
    #[default]
    ResponseJsonSchema,
    /// `responseSchema` / `parameters`: the OpenAPI subset every model takes.
    ResponseSchema,
}

/// Where the requests go.
#[derive(Clone)]
enum Target {
    /// The Generative Language API, with the key in `x-goog-api-key`.
    Gemini { api_version: String },
    /// Vertex AI: a project and a location, a bearer token.
    Vertex {
        project: String,
        location: String,
        auth: VertexAuth,
    },
}

/// How to reach Gemini.
#[derive(Clone)]
pub struct GeminiConfig {
    /// The base URL (Gemini: [`DEFAULT_BASE_URL`]; Vertex AI: the regional endpoint); a
    /// trailing `/v1beta` or `/v1` is accepted.
    pub base_url: String,
    /// The Gemini API key.
    pub api_key: Option<ApiKey>,
    /// More headers for every request.
    pub headers: Vec<(String, String)>,
    /// Which field carries the schema.
    pub schema_field: SchemaField,
    /// What the models can do.
    pub capabilities: Capabilities,
    /// The time one exchange may take.
    pub timeout: Option<Duration>,
    /// The size limit of one answer.
    pub max_response_bytes: usize,
    target: Target,
}

impl fmt::Debug for GeminiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            Target::Gemini { api_version } => format!("gemini {api_version}"),
            Target::Vertex {
                project, location, ..
            } => format!("vertex {project}/{location}"),
        };
        f.debug_struct("GeminiConfig")
            .field("target", &target)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("schema_field", &self.schema_field)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl GeminiConfig {
    /// The Gemini API at `base_url` ([`DEFAULT_BASE_URL`] for Google's).
    pub fn new(base_url: impl Into<String>) -> Self {
        GeminiConfig {
            base_url: base_url.into(),
            api_key: None,
            headers: Vec::new(),
            schema_field: SchemaField::default(),
            capabilities: CAPABILITIES,
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            target: Target::Gemini {
                api_version: "v1beta".to_owned(),
            },
        }
    }

    /// The Gemini API with `GEMINI_API_KEY` (or `GOOGLE_API_KEY`) and
    /// `GEMINI_BASE_URL` (or `GOOGLE_GEMINI_BASE_URL`, default [`DEFAULT_BASE_URL`]).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let base_url = var("GEMINI_BASE_URL")
            .or_else(|| var("GOOGLE_GEMINI_BASE_URL"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let mut config = GeminiConfig::new(base_url);
        config.api_key = var("GEMINI_API_KEY")
            .or_else(|| var("GOOGLE_API_KEY"))
            .map(ApiKey::new);
        config
    }

    /// Vertex AI in `project` at `location` (`us-central1`, or `global`), authenticated
    /// by `auth`; the endpoint is the location's (`https://{location}-aiplatform.googleapis.com`).
    pub fn vertex(
        project: impl Into<String>,
        location: impl Into<String>,
        auth: VertexAuth,
    ) -> Self {
        let location = location.into();
        let base_url = if location == "global" {
            "https://aiplatform.googleapis.com".to_owned()
        } else {
            format!("https://{location}-aiplatform.googleapis.com")
        };
        GeminiConfig {
            base_url,
            target: Target::Vertex {
                project: project.into(),
                location,
                auth,
            },
            ..GeminiConfig::new(DEFAULT_BASE_URL)
        }
    }

    /// Vertex AI from the environment: `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION`
    /// (default `us-central1`), and application-default credentials
    /// ([`VertexAuth::from_env`]).
    ///
    /// # Errors
    ///
    /// When the project is not set or the credentials cannot be read.
    pub fn vertex_from_env() -> Result<Self, ProviderError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let project = var("GOOGLE_CLOUD_PROJECT").ok_or_else(|| {
            ProviderError::Unsupported("GOOGLE_CLOUD_PROJECT is not set".to_owned())
        })?;
        let location = var("GOOGLE_CLOUD_LOCATION").unwrap_or_else(|| "us-central1".to_owned());
        Ok(GeminiConfig::vertex(
            project,
            location,
            VertexAuth::from_env()?,
        ))
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the base URL (a proxy, or the fake provider in tests).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Adds a header to every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets which field carries the schema.
    pub fn with_schema_field(mut self, field: SchemaField) -> Self {
        self.schema_field = field;
        self
    }

    /// Sets the time one exchange may take.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the size limit of one answer.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The endpoint of `method` (`generateContent`, `streamGenerateContent`) for
    /// `model`.
    ///
    /// # Errors
    ///
    /// A model name that is not a plain name (it goes into the URL's path).
    pub fn endpoint(&self, model: &str, method: &str) -> Result<String, ProviderError> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        let plain = |text: &str| {
            !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        };
        if !plain(model) {
            return Err(ProviderError::Unsupported(format!(
                "`{model}` is not a model name Gemini takes (letters, digits, `-`, `_`, `.`, `@`)"
            )));
        }
        // A base URL given with its version (`.../v1beta`, `.../v1`) is taken as well.
        let base = self.base_url.trim_end_matches('/');
        let base = base
            .strip_suffix("/v1beta")
            .or_else(|| base.strip_suffix("/v1"))
            .unwrap_or(base);
        Ok(match &self.target {
            Target::Gemini { api_version } => {
                format!("{base}/{api_version}/models/{model}:{method}")
            }
            Target::Vertex {
                project, location, ..
            } => {
                if !plain(project) || !plain(location) {
                    return Err(ProviderError::Unsupported(
                        "the Vertex AI project and location must be plain names".to_owned(),
                    ));
                }
                format!(
                    "{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}"
                )
            }
        })
    }

    fn header_pairs(&self) -> Result<reqwest::header::HeaderMap, ProviderError> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let (Some(key), Target::Gemini { .. }) = (&self.api_key, &self.target) {
            pairs.push(("x-goog-api-key", key.expose()));
        }
        pairs.extend(
            self.headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        header_map(pairs)
    }
}

/// The Gemini (and Vertex AI) client.
pub struct Gemini {
    config: GeminiConfig,
    transport: Transport,
    tokens: Option<vertex::TokenSource>,
}

impl fmt::Debug for Gemini {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gemini")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Gemini {
    /// A client for `config`.
    pub fn new(config: GeminiConfig) -> Self {
        let transport = Transport::new(TransportConfig {
            headers: config.header_pairs(),
            key: config.api_key.as_ref(),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        });
        let tokens = match &config.target {
            Target::Vertex { auth, .. } => {
                Some(vertex::TokenSource::new(auth.clone(), config.timeout))
            }
            Target::Gemini { .. } => None,
        };
        Gemini {
            config,
            transport,
            tokens,
        }
    }

    /// The Gemini API from the environment ([`GeminiConfig::from_env`]).
    pub fn from_env() -> Self {
        Gemini::new(GeminiConfig::from_env())
    }

    /// The config.
    pub fn config(&self) -> &GeminiConfig {
        &self.config
    }

    /// The body of a request.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unsupported`] for a mode or part Gemini cannot take, or a schema
    /// its dialect cannot express.
    pub fn request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        native::request_body(self, request, false)
    }
}

impl Wire for Gemini {
    fn transport(&self) -> &Transport {
        &self.transport
    }

    fn provider_name(&self) -> &str {
        match self.config.target {
            Target::Gemini { .. } => "gemini",
            Target::Vertex { .. } => "vertex_ai",
        }
    }

    fn provider_capabilities(&self, _model: &str) -> Capabilities {
        self.config.capabilities
    }

    fn body(&self, request: &ChatRequest, _streaming: bool) -> Result<Vec<u8>, ProviderError> {
        if let Some(output) = &request.output {
            self.config
                .capabilities
                .check(output.mode)
                .map_err(ProviderError::Unsupported)?;
        }
        let wire = request::generate_content_request(request, self.config.schema_field)?;
        native::body_with_extra(&wire, &request.extra)
    }

    /// The model's method: `generateContent`, or `streamGenerateContent?alt=sse`.
    fn endpoint(
        &self,
        request: &ChatRequest,
        streaming: bool,
    ) -> Result<Cow<'_, Endpoint>, ProviderError> {
        let url = if streaming {
            self.config
                .endpoint(&request.model, "streamGenerateContent")?
                + "?alt=sse"
        } else {
            self.config.endpoint(&request.model, "generateContent")?
        };
        Ok(Cow::Owned(Endpoint::new(url)))
    }

    /// The bearer token of a Vertex AI request (none on the Gemini API).
    async fn authorization(&self) -> Result<Option<HeaderValue>, ProviderError> {
        match &self.tokens {
            Some(tokens) => tokens.authorization().await.map(Some),
            None => Ok(None),
        }
    }

    fn classify(&self, error: ProviderError) -> ProviderError {
        with_retry_info(error)
    }

    const READ: fn(&[u8], &Redactor, bool) -> Result<ChatResponse, ProviderError> =
        response::read_response;

    type Mapper = stream::GenerateMapper;
}

native_provider!(Gemini);

/// A `429` (or `503`) whose body's `RetryInfo` asks for a wait the headers did not.
fn with_retry_info(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::Status {
            status,
            body,
            retry_after: None,
            request_id,
        } => ProviderError::Status {
            retry_after: response::retry_delay(&body),
            status,
            body,
            request_id,
        },
        other => other,
    }
}
