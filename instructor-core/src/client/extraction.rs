//! The extraction builder: messages, parameters, limits, validators and hooks, then
//! `.await` (or [`Extraction::send`]) for the value, [`Extraction::with_completion`]
//! for the value with its ledger, [`Extraction::partial`] for typed partials and
//! [`Extraction::iter`] for list items as they complete.

use super::attempt::{Engine, Settings, Validation, Validators};
use super::dynamic::SchemaSource;
use super::reask::{ReaskText, default_reask};
use super::request::{build_request, output_spec};
use super::retry::RetryPolicy;
use super::streaming::{self, Items, PartialUpdates};
use super::{Client, Completion, Error, Hooks, whole};
use crate::chat::{GenerationParams, Message, Mode, Provider};
use crate::extract::Extract;
use crate::media::Parts;
use crate::schema::StrictSchema;
use crate::validate::{AsyncValidator, Context, IntoContext};
use futures_util::FutureExt;
use futures_util::future::Either;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The modes whose schema is sent in a strict dialect (grammar-constrained output),
/// for [`Extraction::strict`]: only types every strict dialect can express may be
/// extracted in them, which the compiler checks there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StrictMode {
    /// [`Mode::ToolsStrict`]: a forced tool with `strict: true`.
    Tools,
    /// [`Mode::JsonSchema`]: native structured outputs.
    JsonSchema,
}

impl From<StrictMode> for Mode {
    fn from(mode: StrictMode) -> Mode {
        match mode {
            StrictMode::Tools => Mode::ToolsStrict,
            StrictMode::JsonSchema => Mode::JsonSchema,
        }
    }
}

/// One extraction being built; `.await` it for the value, or call
/// [`Extraction::with_completion`] for the value with its ledger,
/// [`Extraction::partial`] for typed partials, [`Extraction::iter`] for list items.
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
/// let user = client
///     .extract::<User>()
///     .system("Extract the person.")
///     .user("Jason is 25")
///     .temperature(0.0)
///     .max_retries(2)
///     .timeout(std::time::Duration::from_secs(30))
///     .await?;
/// assert_eq!(user.age, 25);
/// # Ok(())
/// # }
/// ```
#[must_use = "an extraction does nothing until awaited"]
pub struct Extraction<T: Extract> {
    /// The client's provider and transport retries (the rest of the client is copied
    /// into the fields below, where this extraction may change it).
    provider: Arc<dyn Provider>,
    retry: RetryPolicy,
    model: Option<String>,
    mode: Mode,
    messages: Vec<Message>,
    params: GenerationParams,
    extra: serde_json::Map<String, serde_json::Value>,
    max_retries: u32,
    timeout: Option<Duration>,
    max_total_tokens: Option<u64>,
    context: Context,
    /// Why the value given to `.context()` is not a context (raised before sending).
    context_error: Option<String>,
    validators: Validators<T>,
    hooks: Hooks,
    reask: ReaskText,
    retry_truncated_with: Option<u32>,
    /// The schema, when it comes from a value rather than from `T`
    /// ([`Client::extract_with_schema`]).
    schema_source: Option<SchemaSource>,
}

impl<T: Extract> std::fmt::Debug for Extraction<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extraction")
            .field("type", &T::name())
            .field("model", &self.model)
            .field("mode", &self.mode)
            .field("messages", &self.messages.len())
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<T: Extract> Extraction<T> {
    pub(super) fn new(client: &Client) -> Self {
        Extraction {
            provider: client.provider.clone(),
            retry: client.retry,
            model: client.model.clone(),
            mode: client.mode,
            messages: Vec::new(),
            params: GenerationParams::default(),
            extra: serde_json::Map::new(),
            max_retries: client.max_retries,
            timeout: client.timeout,
            max_total_tokens: None,
            context: empty_context(),
            context_error: None,
            validators: Vec::new(),
            hooks: client.hooks.clone(),
            reask: shared_default_reask(),
            retry_truncated_with: None,
            schema_source: None,
        }
    }

    /// The schema from a value instead of from `T` (a runtime JSON Schema).
    #[cfg_attr(not(feature = "dynamic-schema"), allow(dead_code))]
    pub(super) fn with_schema_source(mut self, source: SchemaSource) -> Self {
        self.schema_source = Some(source);
        self
    }

    /// The model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The mode, chosen at run time: a strict-schema mode for a type its dialect
    /// cannot express is refused before anything is sent. To have the compiler check
    /// it instead, use [`Extraction::strict`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// A strict-schema mode, checked at compile time: `T` must be `StrictSchema`
    /// (`#[extract(strict)]`), so a map, a `serde_json::Value` or recursion in `T` is
    /// a compile error here rather than an error at run time.
    pub fn strict(mut self, mode: StrictMode) -> Self
    where
        T: StrictSchema,
    {
        self.mode = mode.into();
        self
    }

    /// Adds a system message: text, or parts with cache breakpoints
    /// (`(cached(long_text), "Be brief.")`, see [`crate::media`]).
    pub fn system(mut self, content: impl Into<Parts>) -> Self {
        self.messages.push(Message::system(content));
        self
    }

    /// Adds a user message: text, an image, a document, or a tuple or list of those
    /// (`.user(("What is in this image?", Image::from_file(path)?))`).
    pub fn user(mut self, content: impl Into<Parts>) -> Self {
        self.messages.push(Message::user(content));
        self
    }

    /// Adds an assistant message.
    pub fn assistant(mut self, content: impl Into<Parts>) -> Self {
        self.messages.push(Message::assistant(content));
        self
    }

    /// Adds a whole history.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Self {
        self.messages.extend(messages);
        self
    }

    /// Sampling temperature.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.params.temperature = Some(temperature);
        self
    }

    /// Maximum tokens of each answer.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.params.max_tokens = Some(max_tokens);
        self
    }

    /// Nucleus sampling.
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.params.top_p = Some(top_p);
        self
    }

    /// Seed, where supported.
    pub fn seed(mut self, seed: i64) -> Self {
        self.params.seed = Some(seed);
        self
    }

    /// A key for requests that share a prompt prefix (a long system prompt, a document
    /// asked about many times), so that the provider serves the prefix from one cache:
    /// OpenAI's `prompt_cache_key`. Ignored by providers without one.
    pub fn prompt_cache_key(mut self, key: impl Into<String>) -> Self {
        self.params.prompt_cache_key = Some(key.into());
        self
    }

    /// A stop sequence.
    pub fn stop(mut self, stop: impl Into<String>) -> Self {
        self.params.stop.push(stop.into());
        self
    }

    /// An extra top-level field of the provider's request body.
    pub fn extra(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    /// Re-asks after a parse or validation failure (default: the client's, 1).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// A hard deadline across all attempts (any length: one past what the clock can
    /// represent is no deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Stops before an attempt once this many tokens are used.
    pub fn max_total_tokens(mut self, budget: u64) -> Self {
        self.max_total_tokens = Some(budget);
        self
    }

    /// The context validators and templates see: a [`Context`] (typed values and named
    /// variables) or any `Serialize` value that serializes to a map
    /// (`json!({"data": ...})`, a struct), whose entries are the variables.
    ///
    /// With variables, every message text is a minijinja (Jinja2) template rendered
    /// with them before sending (see [`crate::template`]): an undefined variable or a
    /// syntax error is [`Error::InvalidRequest`] and nothing is sent. Without a
    /// context, message text is sent exactly as written, braces included. A value
    /// that does not serialize to a map is also `Error::InvalidRequest`.
    ///
    /// ```
    /// # use instructor_core::client::Client;
    /// # use instructor_core::Extract;
    /// # async fn run<T: Extract>(client: Client) -> Result<(), instructor_core::client::Error> {
    /// use serde_json::json;
    ///
    /// let value = client
    ///     .extract::<T>()
    ///     .system("Extract the people named in the {{ kind }}.")
    ///     .user("{{ data }}")
    ///     .context(json!({"kind": "minutes", "data": "Ada (36) met Bo (41)."}))
    ///     .await?;
    /// # let _ = value;
    /// # Ok(())
    /// # }
    /// ```
    pub fn context(mut self, context: impl IntoContext) -> Self {
        match context.into_context() {
            Ok(context) => {
                self.context = context;
                self.context_error = None;
            }
            Err(reason) => self.context_error = Some(reason),
        }
        self
    }

    /// An async validator, run after the synchronous rules pass.
    pub fn validator(mut self, validator: impl AsyncValidator<T> + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    /// Hooks for this extraction, in addition to the client's.
    pub fn hooks(mut self, hooks: Hooks) -> Self {
        self.hooks = self.hooks.merged(hooks);
        self
    }

    /// The re-ask text, given the errors.
    pub fn reask_with(mut self, reask: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.reask = Arc::new(reask);
        self
    }

    /// On truncation, try again with this larger `max_tokens` instead of failing at once.
    pub fn retry_truncated_with(mut self, max_tokens: u32) -> Self {
        self.retry_truncated_with = Some(max_tokens);
        self
    }

    /// The value with the provider's response and the attempt ledger.
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
    /// let done = client.extract::<User>().user("Jason is 25").with_completion().await?;
    /// assert_eq!(done.value.age, 25);
    /// assert_eq!(done.ledger.attempts.len(), 1);
    /// assert_eq!(done.ledger.total_usage.total(), done.response.usage.map_or(0, |u| u.total()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn with_completion(self) -> Result<Completion<T>, Error> {
        self.whole(true).await
    }

    /// The whole answer; `keep_raw: false` when the response is not returned. The
    /// request is built at once (an invalid one fails when awaited, nothing sent); the
    /// future holds only the engine, not this builder beside it.
    fn whole(
        self,
        keep_raw: bool,
    ) -> impl Future<Output = Result<Completion<T>, Error>> + Send + 'static {
        match self.engine(false) {
            Ok(engine) => Either::Left(whole::run(engine, keep_raw)),
            Err(error) => Either::Right(std::future::ready(Err(error))),
        }
    }

    /// The value, as a boxed `Send + 'static` future: what `.await` on the builder
    /// does, for where a `Future` is expected
    /// (`try_join_all(texts.iter().map(|t| client.extract::<User>().user(t).send()))`).
    pub fn send(self) -> ExtractionFuture<T> {
        Box::pin(
            self.whole(false)
                .map(|result: Result<Completion<T>, Error>| result.map(|done| done.value)),
        )
    }

    /// Streams the answer: a `T::Partial` whenever something visible changed, then
    /// the validated value ([`PartialUpdate::Done`](super::PartialUpdate::Done)). A
    /// failed answer is re-asked like a whole one and a broken stream is sent again;
    /// either way a [`PartialUpdate::Restarted`](super::PartialUpdate::Restarted) comes
    /// before the partials of the new answer. The value (or the error) at the end is
    /// the one `.await` gives for the same answer.
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
    /// use futures::StreamExt;
    /// use instructor_core::client::PartialUpdate;
    ///
    /// server.push(
    ///     ChatCompletion::tool_call_fragments("User", [r#"{"name": "Ja"#, r#"son", "age": 2"#, "5}"])
    ///         .sse_reply(),
    /// );
    /// let mut updates = client.extract::<User>().user("Jason is 25").partial();
    /// while let Some(update) = updates.next().await {
    ///     match update? {
    ///         // Strings grow; numbers appear only once complete (never `2` on the way to 25).
    ///         PartialUpdate::Partial(user) => assert!(user.age.is_none() || user.age == Some(25)),
    ///         PartialUpdate::Restarted { attempt, reason } => println!("attempt {attempt}: {reason}"),
    ///         PartialUpdate::Done(done) => assert_eq!(done.value.name, "Jason"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn partial(self) -> PartialUpdates<T> {
        streaming::partial_stream(self.engine(true), None)
    }

    /// [`Extraction::partial`] for a UI that renders at a human rate: at most one
    /// [`PartialUpdate::Partial`](super::PartialUpdate::Partial) per `interval`. The
    /// first change is shown at once; the changes that follow inside the window are
    /// shown together as one partial when the window ends, by a timer, even if no more
    /// text arrives by then (a pause of the model never hides what has arrived for
    /// longer than `interval`). [`PartialUpdate::Restarted`](super::PartialUpdate::Restarted),
    /// [`PartialUpdate::Done`](super::PartialUpdate::Done) and errors are never held:
    /// what was held is void after a restart and superseded by the value. The stream
    /// holds no snapshot while it waits (a change held is a flag), so it copies the
    /// partial no more than `.partial()` does, and the value or the error at the end is
    /// the same.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use instructor_core::client::Client;
    /// # use instructor_macros::Extract;
    /// # use instructor_providers::openai::{OpenAi, OpenAiConfig};
    /// # use instructor_providers::testing::{FakeProvider, openai::ChatCompletion};
    /// # use serde::Deserialize;
    /// # #[derive(Debug, Deserialize, Extract)]
    /// # #[extract(crate = "instructor_core")]
    /// # struct User { name: String, age: u8 }
    /// # let server = FakeProvider::start().await;
    /// # let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-test"));
    /// # let client = Client::new(provider).with_model("gpt-4o-mini");
    /// # server.push(
    /// #     ChatCompletion::tool_call_fragments("User", [r#"{"name": "Ja"#, r#"son", "age": 2"#, "5}"])
    /// #         .sse_reply(),
    /// # );
    /// use futures::StreamExt;
    /// use instructor_core::client::PartialUpdate;
    /// use std::time::Duration;
    ///
    /// // At most 20 redraws a second, however fast the model writes.
    /// let mut updates = client
    ///     .extract::<User>()
    ///     .user("Jason is 25")
    ///     .partial_throttled(Duration::from_millis(50));
    /// while let Some(update) = updates.next().await {
    ///     if let PartialUpdate::Done(done) = update? {
    ///         assert_eq!(done.value.age, 25);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn partial_throttled(self, interval: Duration) -> PartialUpdates<T> {
        streaming::partial_stream(self.engine(true), Some(interval))
    }

    /// Asks for a list of `T` and streams each item, deserialized and validated, the
    /// moment it is complete. An invalid item is an [`Error::Item`] with its index and
    /// does not stop the others. An answer that showed no item yet (prose, an empty
    /// answer) is re-asked like `.await` of a `Vec<T>`; once items were shown, the
    /// answer is not asked again (the items would repeat).
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
    /// use futures::StreamExt;
    ///
    /// server.push(
    ///     ChatCompletion::tool_call_fragments(
    ///         "User_list",
    ///         [r#"{"value": [{"name": "Ann", "age": 30},"#, r#" {"name": "Bo", "age": 40}]}"#],
    ///     )
    ///     .sse_reply(),
    /// );
    /// let mut users = client.extract::<User>().user("Ann is 30, Bo is 40").iter();
    /// let mut names = Vec::new();
    /// while let Some(user) = users.next().await {
    ///     names.push(user?.name); // each one the moment its closing brace arrives
    /// }
    /// assert_eq!(names, ["Ann", "Bo"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn iter(self) -> Items<T> {
        let context = self.context.clone();
        let validators = self.validators.clone();
        let Extraction {
            provider,
            retry,
            model,
            mode,
            messages,
            params,
            extra,
            max_retries,
            timeout,
            max_total_tokens,
            context: list_context,
            context_error,
            validators: _,
            hooks,
            reask,
            retry_truncated_with,
            schema_source,
        } = self;
        let list = Extraction::<Vec<T>> {
            provider,
            retry,
            model,
            mode,
            messages,
            params,
            extra,
            max_retries,
            timeout,
            max_total_tokens,
            context: list_context,
            context_error,
            // Item validators run on each item as it is shown.
            validators: Vec::new(),
            hooks,
            reask,
            retry_truncated_with,
            schema_source: schema_source.as_ref().map(SchemaSource::list),
        };
        streaming::item_stream(list.engine(true), context, validators)
    }

    /// The engine of this extraction: the request built and checked (nothing is sent
    /// for an invalid one).
    pub(super) fn engine(mut self, streaming: bool) -> Result<Engine<T>, Error> {
        if let Some(reason) = self.context_error.take() {
            return Err(Error::InvalidRequest { reason });
        }
        // Templates are rendered only when there are variables to render them with.
        if !self.context.vars().is_empty() {
            crate::template::render_messages(&mut self.messages, self.context.vars()).map_err(
                |error| Error::InvalidRequest {
                    reason: error.to_string(),
                },
            )?;
        }
        let (schema, name, description) = match self.schema_source {
            Some(source) => (source.root, source.name, source.description),
            None => (
                T::root_schema(),
                T::name(),
                T::description().map(|d| d.into_owned()),
            ),
        };
        let spec = output_spec(self.mode, schema, &name, description)?;
        let request = build_request(
            self.provider.as_ref(),
            self.model,
            self.messages,
            spec.clone(),
            self.params,
            self.extra,
        )?;
        let validation = Validation {
            context: self.context,
            validators: self.validators,
            rules: T::validate,
            reread: |json| serde_json::from_value::<T>(json).map_err(|e| e.to_string()),
        };
        let settings = Settings {
            provider: self.provider,
            request,
            spec,
            policy: self.retry,
            hooks: self.hooks,
            timeout: self.timeout,
            attempts: self.max_retries.saturating_add(1),
            max_total_tokens: self.max_total_tokens,
            retry_truncated_with: self.retry_truncated_with,
            reask: self.reask,
            streaming,
            output_type: name,
        };
        Ok(Engine::new(settings, validation))
    }
}

/// The context of an extraction that was given none: one shared empty context, so
/// that starting an extraction allocates none.
fn empty_context() -> Context {
    static EMPTY: LazyLock<Context> = LazyLock::new(Context::new);
    EMPTY.clone()
}

/// [`default_reask`], shared by every extraction that keeps it.
fn shared_default_reask() -> ReaskText {
    static DEFAULT: LazyLock<ReaskText> = LazyLock::new(|| Arc::new(default_reask));
    DEFAULT.clone()
}

/// The future of an extraction ([`Extraction::send`], `.await`).
pub type ExtractionFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'static>>;

impl<T: Extract> IntoFuture for Extraction<T> {
    type Output = Result<T, Error>;
    type IntoFuture = ExtractionFuture<T>;

    fn into_future(self) -> Self::IntoFuture {
        self.send()
    }
}
