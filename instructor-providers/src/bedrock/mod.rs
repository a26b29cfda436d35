//! AWS Bedrock's Converse API (`/model/{modelId}/converse`) and its streamed form
//! (`/converse-stream`, binary AWS event-stream frames), natively, for Anthropic,
//! Meta Llama, Mistral and Amazon Nova models.
//!
//! Requests are signed with AWS Signature Version 4 (`aws-sigv4`, without the SDK),
//! with credentials from the standard environment variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`; `AWS_REGION` or
//! `AWS_DEFAULT_REGION`). The secret never leaves the process (only signatures do); the
//! secret and the session token never appear in `Debug`, errors or logs.
//!
//! Modes, per [`ModelFamily`]:
//!
//! | mode | Anthropic, Nova | Mistral | Llama (and others) |
//! | --- | --- | --- | --- |
//! | `Tools` | `toolChoice: {tool: {name}}` | `toolChoice: {any: {}}` (one tool: that one) | `toolChoice: {auto: {}}` and an instruction to call the tool |
//! | `ParallelTools` | `toolChoice: {any: {}}` | `toolChoice: {any: {}}` | refused before sending |
//! | `Json`, `MdJson` | schema in `system`, answer read leniently | same | same |
//! | `JsonSchema`, `ToolsStrict` | refused before sending | refused | refused |
//!
//! Bedrock documents `{tool: {name}}` for Claude and Nova only; Llama models are not
//! reliably forced by `any` either, hence the instruction. A re-ask is a `toolResult`
//! block answering the failed `toolUse` (`status: "error"` for Claude and Nova, which
//! take it). Images (png, jpeg, gif, webp) and documents (pdf, csv, doc, docx, xls,
//! xlsx, html, txt, md) go as bytes; a URL is refused before sending, as Converse
//! fetches none. [`ContentPart::CacheBreakpoint`](instructor_core::chat::ContentPart)
//! becomes a `cachePoint` block for Claude and Nova and is ignored for the others.
//! `stopReason: max_tokens` is a cut answer (`Error::Truncated` in the facade);
//! `guardrail_intervened` and `content_filtered` are refusals.
//!
//! ```
//! use instructor_core::chat::{ChatRequest, Message, Provider};
//! use instructor_providers::bedrock::{AwsCredentials, Bedrock, BedrockConfig};
//! use instructor_providers::testing::{FakeProvider, bedrock};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), instructor_core::chat::ProviderError> {
//! let server = FakeProvider::start().await;
//! let credentials = AwsCredentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! bedrock::require_signature(&server, &credentials, "us-east-1");
//! server.push(bedrock::Converse::text("Riga.").reply());
//! let client = Bedrock::new(
//!     BedrockConfig::new("us-east-1", credentials).with_base_url(server.origin()),
//! );
//! let request = ChatRequest {
//!     model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
//!     messages: vec![Message::system("Be brief."), Message::user("The capital of Latvia?")],
//!     output: None,
//!     params: Default::default(),
//!     extra: Default::default(),
//! };
//! let response = client.complete(&request).await?;
//! assert_eq!(response.text.as_deref(), Some("Riga."));
//!
//! let sent = server.last_request().expect("one request");
//! assert_eq!(sent.path(), "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
//! assert!(sent.header("authorization").unwrap().starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
//! let body = sent.json().expect("JSON");
//! assert_eq!(body["system"][0]["text"], "Be brief.", "the system message is hoisted");
//! # Ok(()) }
//! ```

mod request;
mod response;
mod sign;
mod stream;

pub use request::MAX_CACHE_POINTS;
pub use sign::SERVICE;
pub use stream::MAX_FRAME_BYTES;

use crate::http::native;
use crate::http::redact::Redactor;
use crate::http::{Endpoint, Opened, Transport, TransportConfig, header_map};
use crate::openai::{ApiKey, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use instructor_core::chat::{
    BoxFuture, Capabilities, ChatRequest, ChatResponse, EventStream, Provider, ProviderError,
};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

/// The `maxTokens` of a request that sets none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The media type of ConverseStream's answer.
pub const EVENT_STREAM_MEDIA_TYPE: &str = "application/vnd.amazon.eventstream";

/// Who made a model, which decides how it is asked for a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelFamily {
    /// Anthropic Claude (`anthropic.claude-...`): forced tool, cache points, reasoning.
    Anthropic,
    /// Amazon Nova (`amazon.nova-...`): forced tool, cache points.
    Nova,
    /// Mistral (`mistral.mistral-large-...`): `any` tool choice.
    Mistral,
    /// Meta Llama (`meta.llama3-...`): the tool is asked for, not forced.
    Llama,
    /// Any other model: as Llama.
    Other,
}

impl ModelFamily {
    /// The family of a model id, an inference profile id (`us.anthropic...`) or an
    /// ARN ending in one.
    pub fn of(model: &str) -> ModelFamily {
        let model = model.to_ascii_lowercase();
        let model = model.rsplit('/').next().unwrap_or_default();
        if model.contains("anthropic.") || model.contains("claude") {
            ModelFamily::Anthropic
        } else if model.contains("amazon.nova") {
            ModelFamily::Nova
        } else if model.contains("mistral.")
            || model.contains("mistral")
            || model.contains("pixtral")
        {
            ModelFamily::Mistral
        } else if model.contains("meta.") || model.contains("llama") {
            ModelFamily::Llama
        } else {
            ModelFamily::Other
        }
    }

    /// What the family's models can do through Converse. `forced_tool_choice` stands
    /// for the `Tools` mode, which every family serves (see the module's table).
    pub fn capabilities(self) -> Capabilities {
        Capabilities {
            forced_tool_choice: true,
            strict_tools: false,
            native_json_schema: false,
            json_mode: true,
            parallel_tools: matches!(
                self,
                ModelFamily::Anthropic | ModelFamily::Nova | ModelFamily::Mistral
            ),
            streaming_usage: true,
        }
    }

    /// Whether `cachePoint` blocks are taken.
    pub fn caches(self) -> bool {
        matches!(self, ModelFamily::Anthropic | ModelFamily::Nova)
    }

    /// Whether a `toolResult` takes `status`.
    pub fn takes_tool_status(self) -> bool {
        matches!(self, ModelFamily::Anthropic | ModelFamily::Nova)
    }
}

/// AWS credentials: the access key id, the secret (never shown) and, for temporary
/// credentials, the session token (never shown).
#[derive(Clone)]
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID` (not a secret: it names the key).
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: ApiKey,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<ApiKey>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

impl AwsCredentials {
    /// Long-term credentials.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        AwsCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: ApiKey::new(secret_access_key.into()),
            session_token: None,
        }
    }

    /// Adds a session token (temporary credentials).
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(ApiKey::new(token.into()));
        self
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; `None`
    /// without the first two.
    pub fn from_env() -> Option<Self> {
        let id = env_var("AWS_ACCESS_KEY_ID")?;
        let secret = env_var("AWS_SECRET_ACCESS_KEY")?;
        let mut credentials = AwsCredentials::new(id, secret);
        credentials.session_token = env_var("AWS_SESSION_TOKEN").map(ApiKey::new);
        Some(credentials)
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// The region of `AWS_REGION`, else `AWS_DEFAULT_REGION`.
pub fn region_from_env() -> Option<String> {
    env_var("AWS_REGION").or_else(|| env_var("AWS_DEFAULT_REGION"))
}

/// How to reach Bedrock.
#[derive(Clone)]
pub struct BedrockConfig {
    /// The region (`us-east-1`), signed into every request.
    pub region: String,
    /// The credentials; `None` fails each request with an error saying so.
    pub credentials: Option<AwsCredentials>,
    /// The endpoint, when not the region's own
    /// (`https://bedrock-runtime.{region}.amazonaws.com`): a VPC endpoint, a proxy, the
    /// fake provider in tests.
    pub base_url: Option<String>,
    /// `maxTokens` when a request sets none.
    pub max_tokens: u32,
    /// The time one exchange may take (default [`DEFAULT_TIMEOUT`]).
    pub timeout: Option<Duration>,
    /// The size limit of one answer.
    pub max_response_bytes: usize,
}

impl fmt::Debug for BedrockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockConfig")
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("base_url", &self.base_url)
            .field("max_tokens", &self.max_tokens)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl BedrockConfig {
    /// A config for `region` with `credentials`.
    pub fn new(region: impl Into<String>, credentials: AwsCredentials) -> Self {
        BedrockConfig {
            region: region.into(),
            credentials: Some(credentials),
            base_url: None,
            max_tokens: DEFAULT_MAX_TOKENS,
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The credentials and region of the standard AWS environment variables, and
    /// `BEDROCK_BASE_URL` when set. Without a region, `us-east-1`.
    pub fn from_env() -> Self {
        BedrockConfig {
            region: region_from_env().unwrap_or_else(|| "us-east-1".to_owned()),
            credentials: AwsCredentials::from_env(),
            base_url: env_var("BEDROCK_BASE_URL"),
            max_tokens: DEFAULT_MAX_TOKENS,
            timeout: Some(DEFAULT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Sends to `base_url` instead of the region's endpoint.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Sets the default `maxTokens`.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
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

    /// The base URL requests go to.
    pub fn base(&self) -> String {
        match &self.base_url {
            Some(base) => base.trim_end_matches('/').to_owned(),
            None => format!("https://bedrock-runtime.{}.amazonaws.com", self.region),
        }
    }

    /// The URL of `model`'s Converse (or, `streaming`, ConverseStream) endpoint, the
    /// model id percent-encoded as one path segment.
    pub fn endpoint(&self, model: &str, streaming: bool) -> String {
        let operation = if streaming {
            "converse-stream"
        } else {
            "converse"
        };
        format!(
            "{}/model/{}/{operation}",
            self.base(),
            encode_segment(model)
        )
    }
}

/// `text` with everything but the unreserved characters percent-encoded.
fn encode_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The Bedrock Converse client.
pub struct Bedrock {
    config: BedrockConfig,
    transport: Transport,
}

impl fmt::Debug for Bedrock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bedrock")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Bedrock {
    /// A client for `config`.
    pub fn new(config: BedrockConfig) -> Self {
        // The session token travels in a header and could be echoed back: it is what
        // the redactor removes (the secret itself is never sent).
        let redacted = config.credentials.as_ref().map(|credentials| {
            credentials
                .session_token
                .as_ref()
                .unwrap_or(&credentials.secret_access_key)
        });
        let transport = Transport::new(TransportConfig {
            headers: header_map([]),
            key: redacted,
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        });
        Bedrock { config, transport }
    }

    /// Bedrock configured from the environment ([`BedrockConfig::from_env`]).
    pub fn from_env() -> Self {
        Bedrock::new(BedrockConfig::from_env())
    }

    /// The config.
    pub fn config(&self) -> &BedrockConfig {
        &self.config
    }

    /// The body of a request (the same for Converse and ConverseStream).
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unsupported`] when the mode is beyond the model's family, the
    /// schema cannot be expressed, or a part cannot be sent (an image by URL, a format
    /// Converse does not take, more than [`MAX_CACHE_POINTS`] cache points).
    pub fn request_body(&self, request: &ChatRequest) -> Result<Value, ProviderError> {
        let body = self.body_bytes(request)?;
        serde_json::from_slice(&body).map_err(native::cannot_serialize)
    }

    fn body_bytes(&self, request: &ChatRequest) -> Result<Vec<u8>, ProviderError> {
        let family = ModelFamily::of(&request.model);
        let wire = request::converse_request(request, family, self.config.max_tokens)?;
        native::body_with_extra(&wire, &request.extra)
    }

    fn redactor(&self) -> &Redactor {
        self.transport.redactor()
    }

    /// The endpoint and the signed headers of one request.
    fn prepare(
        &self,
        request: &ChatRequest,
        streaming: bool,
    ) -> Result<(Endpoint, Vec<u8>, reqwest::header::HeaderMap), ProviderError> {
        let credentials = self.config.credentials.as_ref().ok_or_else(|| {
            ProviderError::Unsupported(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            )
        })?;
        let body = self.body_bytes(request)?;
        let url = self.config.endpoint(&request.model, streaming);
        let headers = sign::signed_headers(
            credentials,
            &self.config.region,
            &url,
            &body,
            SystemTime::now(),
        )?;
        Ok((Endpoint::new(url), body, headers))
    }

    async fn complete_inner(
        &self,
        request: &ChatRequest,
        keep_raw: bool,
    ) -> Result<ChatResponse, ProviderError> {
        let (endpoint, body, headers) = self.prepare(request, false)?;
        let (bytes, header_id) = self
            .transport
            .whole_signed(&endpoint, body, &headers)
            .await?;
        let mut response = response::read_converse(&bytes, self.redactor(), keep_raw)?;
        response.request_id = self.transport.header_id(header_id);
        response.model = Some(self.redactor().id(request.model.clone()));
        Ok(response)
    }

    async fn stream_inner(&self, request: &ChatRequest) -> Result<EventStream, ProviderError> {
        let (endpoint, body, headers) = self.prepare(request, true)?;
        match self
            .transport
            .open_binary_stream(&endpoint, body, &headers, EVENT_STREAM_MEDIA_TYPE)
            .await?
        {
            Opened::Events(bytes) => Ok(stream::map_eventstream(bytes, self.redactor().clone())),
            Opened::Whole { body, request_id } => {
                let mut whole = response::read_converse(&body, self.redactor(), false)?;
                whole.request_id = self.transport.header_id(request_id);
                let events = native::whole_response_events(whole).into_iter().map(Ok);
                Ok(Box::pin(futures_util::stream::iter(events)))
            }
        }
    }
}

impl Provider for Bedrock {
    fn name(&self) -> &str {
        "bedrock"
    }

    fn capabilities(&self, model: &str) -> Capabilities {
        ModelFamily::of(model).capabilities()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_read_from_ids_profiles_and_arns() {
        assert_eq!(
            ModelFamily::of("anthropic.claude-3-5-sonnet-20240620-v1:0"),
            ModelFamily::Anthropic
        );
        assert_eq!(
            ModelFamily::of("us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ModelFamily::Anthropic
        );
        assert_eq!(
            ModelFamily::of("meta.llama3-1-70b-instruct-v1:0"),
            ModelFamily::Llama
        );
        assert_eq!(
            ModelFamily::of("mistral.mistral-large-2407-v1:0"),
            ModelFamily::Mistral
        );
        assert_eq!(
            ModelFamily::of("us.amazon.nova-pro-v1:0"),
            ModelFamily::Nova
        );
        assert_eq!(
            ModelFamily::of(
                "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-2-90b-instruct-v1:0"
            ),
            ModelFamily::Llama
        );
        assert_eq!(ModelFamily::of("cohere.command-r-v1:0"), ModelFamily::Other);
    }

    #[test]
    fn the_model_id_is_one_encoded_path_segment() {
        let config = BedrockConfig::new("eu-west-1", AwsCredentials::new("AKID", "secret"));
        assert_eq!(
            config.endpoint("anthropic.claude-3-haiku-20240307-v1:0", true),
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
        );
        assert_eq!(
            config.endpoint("arn:aws:bedrock:x/y", false),
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Ax%2Fy/converse"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let config = BedrockConfig::new(
            "us-east-1",
            AwsCredentials::new("AKIDEXAMPLE", "the-secret-key-0123456789")
                .with_session_token("the-session-token-0123456789"),
        );
        let shown = format!("{:?}", Bedrock::new(config));
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(!shown.contains("the-secret-key"), "{shown}");
        assert!(!shown.contains("the-session-token"), "{shown}");
    }
}
