//! The client and the extraction loop: build the request for the mode, send it
//! (retrying transport failures with backoff), read and validate the answer, and
//! re-ask with the errors addressed by field path until the value is valid or the
//! retries, the deadline or the token budget run out.

mod answer;
mod attempt;
mod batch;
mod dynamic;
mod error;
mod extraction;
mod fallback;
mod hooks;
pub mod llm_validator;
mod many;
mod reask;
mod request;
mod retry;
mod streaming;
mod text;
mod transport;
mod validation_calls;
mod whole;

pub use batch::{
    Batch, BatchCounts, BatchError, BatchFailure, BatchItem, BatchJob, BatchLine, BatchLines,
    BatchOutcome, BatchProvider, BatchRequest, BatchResults, BatchState, BatchStatus,
    MAX_CUSTOM_ID_BYTES,
};
pub use dynamic::DynamicValue;
#[cfg(feature = "dynamic-schema")]
pub use dynamic::{DynamicSchema, DynamicSchemaError};
pub use error::{Attempt, AttemptKind, Error, Ledger, StopReason, StoppedBy};
pub use extraction::{Extraction, ExtractionFuture, StrictMode};
pub use fallback::Fallback;
pub use hooks::{HookEvent, Hooks};
pub use llm_validator::{LlmValidator, PartialVerdict, Verdict};
pub use many::{ItemResult, Many, Progress, ResumeError};
pub use reask::{ReaskText, default_reask};
pub use retry::RetryPolicy;
pub use streaming::{Items, PartialUpdate, PartialUpdates};
pub use text::{TextRequest, TextStream};
pub use validation_calls::ValidationCalls;

use crate::chat::{ChatResponse, Mode, Provider};
use crate::extract::Extract;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A client: a provider plus the defaults every extraction starts from. Cheap to
/// clone (the provider is shared); every extraction keeps its own handle, so
/// extractions and their streams outlive the `Client` value they came from.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use instructor_core::client::Client;
/// use instructor_macros::Extract;
/// use instructor_providers::openai::{OpenAi, OpenAiConfig};
/// use instructor_providers::testing::{FakeProvider, openai::ChatCompletion};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct User {
///     name: String,
///     age: u8,
/// }
///
/// // A local server that answers like OpenAI; use `OpenAi::from_env()` for the real one.
/// let server = FakeProvider::start().await;
/// let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-test"));
/// let client = Client::new(provider).with_model("gpt-4o-mini");
/// server.push(ChatCompletion::tool_call("User", r#"{"name": "Jason", "age": 25}"#).reply());
///
/// let user: User = client.extract::<User>().user("Jason is 25").await?;
/// assert_eq!((user.name.as_str(), user.age), ("Jason", 25));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    provider: Arc<dyn Provider>,
    model: Option<String>,
    mode: Mode,
    max_retries: u32,
    retry: RetryPolicy,
    timeout: Option<Duration>,
    hooks: Hooks,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("mode", &self.mode)
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Client {
    /// A client over `provider`, in `Tools` mode, with one re-ask and two transport
    /// retries ([`RetryPolicy::default`]).
    pub fn new(provider: impl Provider + 'static) -> Self {
        Client::from_shared(Arc::new(provider))
    }

    /// A client over a shared provider.
    pub fn from_shared(provider: Arc<dyn Provider>) -> Self {
        Client {
            provider,
            model: None,
            mode: Mode::Tools,
            max_retries: 1,
            retry: RetryPolicy::default(),
            timeout: None,
            hooks: Hooks::default(),
        }
    }

    /// The default model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The default mode.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The default number of re-asks after a parse or validation failure.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// How transport failures are retried.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A hard deadline for each extraction, across all attempts.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Hooks called for every extraction of this client.
    pub fn with_hooks(mut self, hooks: Hooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    /// Starts an extraction of a `T`. The extraction holds its own handle to the
    /// client (a few reference counts), so it and its streams are `'static`.
    pub fn extract<T: Extract>(&self) -> Extraction<T> {
        Extraction::new(self)
    }
}

/// A value together with what it took to get it.
#[derive(Debug, Clone)]
pub struct Completion<T> {
    /// The validated value.
    pub value: T,
    /// The provider's last response, raw body included.
    pub response: ChatResponse,
    /// Every attempt and the total usage.
    pub ledger: Ledger,
}
